"""Which certificate of a bundle is the one to roll out (the leaf), and why.

A PFX exported by Windows holds the leaf and often its chain; a PEM may hold them in any order.
The leaf is the certificate whose key the file also holds, else the one no other certificate
in the bundle was issued by, preferring Server Authentication; the reason is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from daserver_check.certs.load import CertBundle
from daserver_check.certs.x509util import ExtensionError, read_extension, unique_certificates


@dataclass(frozen=True)
class LeafChoice:
    leaf: x509.Certificate
    chain: tuple[x509.Certificate, ...]  # the leaf first, then every other certificate once
    reason: str
    end_entities: int  # how many non-CA certificates the file holds

# ---------------------------------------------------------------- choosing the leaf


def spki(public_key: PublicKeyTypes) -> bytes:
    """DER SubjectPublicKeyInfo of a public key (b"" when it cannot be encoded)."""
    try:
        return public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    except Exception:
        return b""


def certificate_spki(cert: x509.Certificate) -> bytes:
    try:
        return spki(cert.public_key())
    except Exception:  # an unknown key algorithm
        return b""


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        constraints = read_extension(cert, x509.BasicConstraints)
    except ExtensionError:
        return False
    return constraints is not None and constraints.ca


def _issues_another(cert: x509.Certificate, certs: Sequence[x509.Certificate]) -> bool:
    try:
        subject = cert.subject
        return any(other is not cert and other.issuer == subject and other.subject != subject
                   for other in certs)
    except Exception:
        return False


def _server_auth(cert: x509.Certificate) -> bool:
    try:
        eku = read_extension(cert, x509.ExtendedKeyUsage)
    except ExtensionError:
        return False
    return eku is None or x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in eku


def choose_leaf(bundle: CertBundle, extra: Sequence[x509.Certificate] = ()) -> LeafChoice:
    """The certificate to roll out, and the chain to analyse (leaf first, then the file's other
    certificates, then `extra` from --chain).

    In order: the certificate a PFX pairs with its key; the certificate whose public key matches
    a private key in the file; the end-entity certificate (not a CA, issuer of no other
    certificate in the file), preferring one valid for Server Authentication; the first.
    """
    certs = unique_certificates(bundle.certificates)
    end_entities = [c for c in certs if not _is_ca(c)]
    leaf: x509.Certificate | None = None
    reason = ""
    if bundle.key_certificate is not None:
        leaf, reason = bundle.key_certificate, "the certificate the PFX pairs with its key"
    if leaf is None and bundle.keys:
        key_spkis = {spki(key.public_key()) for key in bundle.keys} - {b""}
        leaf = next((c for c in certs if certificate_spki(c) in key_spkis), None)
        reason = "the certificate that matches the private key in the file"
    if leaf is None:
        bottom = [c for c in end_entities if not _issues_another(c, certs)]
        candidates = bottom or end_entities or [
            c for c in certs if not _issues_another(c, certs)
        ] or certs
        preferred = [c for c in candidates if _server_auth(c)] or candidates
        leaf = preferred[0]
        if len(certs) == 1:
            reason = "the only certificate in the file"
        elif len(candidates) == 1:
            reason = "the end-entity certificate (the others issue it)"
        else:
            reason = (
                f"the first of {len(candidates)} end-entity certificates in the file"
                " (give the others separately to check them)"
            )
    chain = unique_certificates([leaf, *certs, *extra])
    return LeafChoice(leaf, tuple(chain), reason, len(end_entities))
