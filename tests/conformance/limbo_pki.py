"""The certificates of the x509-limbo cases, made by this project's own generator.

Modelled on C2SP x509-limbo's builder (limbo/testcases/_core.py): a root, intermediates and a
leaf whose defaults match limbo's (leaf Subject CN=example.com, SAN dNSName example.com, EC
P-256 keys, CA certificates with BasicConstraints and keyCertSign), with knobs for the
extensions the name, name-constraint and path cases turn. Written with cryptography's builders
in the style of tests/certs/pki.py; no limbo code or data is used.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

NOW = datetime(2025, 6, 1, tzinfo=UTC)
FROM = datetime(2000, 1, 1, tzinfo=UTC)
UNTIL = datetime(2999, 12, 31, tzinfo=UTC)


@functools.cache
def key(slot: str) -> ec.EllipticCurvePrivateKey:
    """One key per slot per process (a slot shared by two certificates shares the key)."""
    return ec.generate_private_key(ec.SECP256R1())


@dataclass(frozen=True)
class Pair:
    cert: x509.Certificate
    key: ec.EllipticCurvePrivateKey


@dataclass
class Case:
    """One limbo case as this project builds it, and the two expected verdicts."""

    limbo_id: str
    limbo_accepts: bool  # limbo's expected result (succeeds / fails)
    ours_accepts: bool  # the DirectAccess verdict this project gives
    host: str
    leaf: x509.Certificate
    served: list[x509.Certificate] = field(default_factory=list)  # intermediates, any order
    roots: list[x509.Certificate] = field(default_factory=list)
    trust: str | None = None  # the expected cert.trust status, when the case is about the path
    why: str = ""  # why DirectAccess differs from limbo (empty when they agree)


def cn(value: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, value)])


def nc(permitted: Sequence[x509.GeneralName] | None = None,
       excluded: Sequence[x509.GeneralName] | None = None) -> x509.NameConstraints:
    return x509.NameConstraints(
        permitted_subtrees=list(permitted) if permitted is not None else None,
        excluded_subtrees=list(excluded) if excluded is not None else None,
    )


def raw_nc(permitted: list[x509.GeneralName] | None,
           excluded: list[x509.GeneralName] | None) -> x509.NameConstraints:
    """NameConstraints with subtrees cryptography's constructor refuses (malformed on purpose,
    as limbo's invalid-constraint cases set them)."""
    value = x509.NameConstraints(permitted_subtrees=[x509.DNSName("placeholder.invalid")],
                                 excluded_subtrees=None)
    value._permitted_subtrees = permitted
    value._excluded_subtrees = excluded
    return value


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(digital_signature=False, content_commitment=False,
                         key_encipherment=False, data_encipherment=False, key_agreement=False,
                         key_cert_sign=True, crl_sign=True, encipher_only=False,
                         decipher_only=False)


def ca(
    slot: str,
    *,
    parent: Pair | None = None,
    subject: x509.Name | None = None,
    issuer: x509.Name | None = None,
    constraints: x509.NameConstraints | None = None,
    constraints_critical: bool = True,
    san: Sequence[x509.GeneralName] | None = None,
    key_slot: str | None = None,
    not_after: datetime = UNTIL,
) -> Pair:
    """A CA certificate: self-signed when `parent` is None (a root), else issued by `parent`."""
    own = key(key_slot or slot)
    name = subject or cn(f"x509-limbo-{slot}")
    signer = parent.key if parent else own
    issuer_name = issuer or (parent.cert.subject if parent else name)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(own.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(FROM)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(own.public_key()), False)
    )
    if parent is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(parent.key.public_key()), False)
    if constraints is not None:
        builder = builder.add_extension(constraints, critical=constraints_critical)
    if san is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(san)), critical=False)
    return Pair(builder.sign(signer, hashes.SHA256()), own)


def leaf(
    parent: Pair,
    *,
    subject: x509.Name | None = None,
    issuer: x509.Name | None = None,
    san: Sequence[x509.GeneralName] | None = (x509.DNSName("example.com"),),
    san_critical: bool = False,
    extra: x509.ExtensionType | None = None,
) -> x509.Certificate:
    """An end-entity certificate with limbo's defaults (CN=example.com, SAN example.com)."""
    own = key("leaf")
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject if subject is not None else cn("example.com"))
        .issuer_name(issuer or parent.cert.subject)
        .public_key(own.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(FROM)
        .not_valid_after(UNTIL)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(own.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(parent.key.public_key()), False)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), False)
    )
    if san is not None:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(san)),
                                        critical=san_critical)
    if extra is not None:
        builder = builder.add_extension(extra, critical=False)
    return builder.sign(parent.key, hashes.SHA256())
