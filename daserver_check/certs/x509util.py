"""Small, exception-safe readers over `cryptography.x509.Certificate`.

cryptography parses extensions lazily: the first access to `cert.extensions` raises on a
malformed known extension (ValueError), on a GeneralName type it does not support, or on a
repeated extension (`DuplicateExtension`, which RFC 5280 §4.2 forbids: "A certificate MUST NOT
include more than one instance of a particular extension"). The analysis turns these into
findings, so they are funnelled into one exception type here.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PublicKeyTypes
from cryptography.hazmat.primitives.serialization import Encoding

_E = TypeVar("_E", bound=x509.ExtensionType)


class ExtensionError(Exception):
    """The extensions of a certificate cannot be read. `duplicate` marks an RFC 5280 violation
    that is certain (status fail); otherwise our parser could not decode it (status error)."""

    def __init__(self, message: str, *, duplicate: bool) -> None:
        super().__init__(message)
        self.duplicate = duplicate


def read_extension(cert: x509.Certificate, kind: type[_E]) -> _E | None:
    """The value of one extension, None when absent; raises `ExtensionError`."""
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None
    except x509.DuplicateExtension as exc:
        raise ExtensionError(
            f"duplicate extension {oid_name(exc.oid)} (RFC 5280 §4.2 allows one of each)",
            duplicate=True,
        ) from exc
    except Exception as exc:  # ValueError, UnsupportedGeneralNameType, … from the lazy parser
        raise ExtensionError(
            f"malformed extension: {type(exc).__name__}: {exc}", duplicate=False
        ) from exc


def oid_name(oid: x509.ObjectIdentifier) -> str:
    """`serverAuth (1.3.6.1.5.5.7.3.1)` style, or the dotted string for unknown OIDs."""
    name = getattr(oid, "_name", "Unknown OID")
    if not name or name == "Unknown OID":
        return oid.dotted_string
    return f"{name} ({oid.dotted_string})"


def name_text(name: x509.Name) -> str:
    """RFC 4514 text of a Name; never raises (a Name with odd values still gets a label)."""
    try:
        return name.rfc4514_string() or "(empty)"
    except Exception as exc:  # defensive: odd attribute values
        return f"(unreadable name: {type(exc).__name__})"


def subject_text(cert: x509.Certificate) -> str:
    try:
        return name_text(cert.subject)
    except Exception as exc:  # the Subject is decoded lazily too
        return f"(unreadable subject: {type(exc).__name__}: {exc})"


def issuer_text(cert: x509.Certificate) -> str:
    try:
        return name_text(cert.issuer)
    except Exception as exc:
        return f"(unreadable issuer: {type(exc).__name__}: {exc})"


def iso_utc(moment: datetime) -> str:
    """ISO 8601 UTC with a `Z`, second precision (the form monitoring systems parse)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sha1_thumbprint(cert: x509.Certificate) -> str:
    """Upper-case hex SHA-1 of the DER: the "Thumbprint" Windows shows and that
    `netsh http show sslcert` and `Cert:\\LocalMachine\\My\\<thumbprint>` use (not a security
    use of SHA-1)."""
    return cert.fingerprint(hashes.SHA1()).hex().upper()


def der(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(Encoding.DER)


def unique_certificates(certs: Iterable[x509.Certificate]) -> list[x509.Certificate]:
    """The certificates in order, each DER encoding once."""
    seen: set[bytes] = set()
    out: list[x509.Certificate] = []
    for cert in certs:
        key = der(cert)
        if key not in seen:
            seen.add(key)
            out.append(cert)
    return out


def public_key_description(key: PublicKeyTypes) -> tuple[str, int]:
    """("RSA", 2048)-style type and size of a public key."""
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"ECDSA {key.curve.name}", key.key_size
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    return type(key).__name__, 0


def is_self_issued(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.subject == cert.issuer)
    except Exception:
        return False


def is_self_signed(cert: x509.Certificate) -> bool:
    """Subject equals issuer and the certificate's own key verifies its signature."""
    return is_self_issued(cert) and signature_verifies(cert, cert) is None


def signature_verifies(cert: x509.Certificate, issuer: x509.Certificate) -> str | None:
    """None when `issuer` issued `cert` (names chain and the signature verifies), else why not.

    `verify_directly_issued_by` refuses SHA-1 and MD5 signatures outright (cryptography ≥ 4x),
    yet old enterprise PKIs still sign with SHA-1: the path must still be found, and
    cert.signature judges the algorithm. So those are verified by hand with the parameters the
    certificate names (the pattern of cryptography's X.509 documentation).
    """
    try:
        if cert.issuer != issuer.subject:
            return "the issuer name differs from the candidate's subject"
    except Exception as exc:  # names decoded lazily
        return f"{type(exc).__name__}: {exc}"
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, UnsupportedAlgorithm) as exc:
        return _verify_by_hand(cert, issuer, exc)
    except Exception as exc:  # InvalidSignature, TypeError (issuer key type)
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return None


def _verify_by_hand(
    cert: x509.Certificate, issuer: x509.Certificate, first: Exception
) -> str | None:
    try:
        key = issuer.public_key()
        digest = cert.signature_hash_algorithm
        parameters = cert.signature_algorithm_parameters
        if digest is None:
            return f"{type(first).__name__}: {first}"
        if isinstance(key, rsa.RSAPublicKey) and parameters is None:
            # md5WithRSAEncryption: cryptography names no parameters for it; the only RSA
            # scheme of that era is PKCS #1 v1.5 (RFC 3279 §2.2.1).
            parameters = padding.PKCS1v15()
        if isinstance(key, rsa.RSAPublicKey) and isinstance(
            parameters, padding.PKCS1v15 | padding.PSS
        ):
            key.verify(cert.signature, cert.tbs_certificate_bytes, parameters, digest)
        elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(parameters, ec.ECDSA):
            key.verify(cert.signature, cert.tbs_certificate_bytes, parameters)
        else:
            return f"{type(first).__name__}: {first}"
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return None
