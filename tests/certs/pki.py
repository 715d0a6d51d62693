"""A small test PKI: root CA → intermediate CA → IP-HTTPS leaves with knobs.

RSA keys are generated once per process (key generation is the slow part of these tests).
Certificates that cryptography's builder refuses to produce (SHA-1/MD5 signatures, duplicate
extensions, unknown key algorithms) are made by editing the DER of a built certificate and
signing it again: a minimal DER walker is enough because X.509 uses single-byte tags.
"""

from __future__ import annotations

import functools
import ipaddress
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey

# A fixed "now" keeps every date in the tests deterministic.
NOW = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
HOST = "da.contoso.com"
SERVER_AUTH = ExtendedKeyUsageOID.SERVER_AUTH
CLIENT_AUTH = ExtendedKeyUsageOID.CLIENT_AUTH


@functools.cache
def rsa_key(slot: str, bits: int = 2048) -> rsa.RSAPrivateKey:
    """One RSA key per (slot, size) per process."""
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


@functools.cache
def ec_key(slot: str) -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@functools.cache
def ed_key(slot: str) -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.generate()


@dataclass(frozen=True)
class Issued:
    cert: x509.Certificate
    key: PrivateKey


def _name(*cns: str, org: str | None = None) -> x509.Name:
    attrs = []
    if org is not None:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    attrs.extend(x509.NameAttribute(NameOID.COMMON_NAME, cn) for cn in cns)
    return x509.Name(attrs)


def _san_entries(names: Sequence[str]) -> list[x509.GeneralName]:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            # cryptography refuses a non-ASCII dNSName; a CA that does not check writes it as
            # UTF-8 in the IA5String, which is what the name tests need to reproduce.
            entries.append(x509.DNSName(name) if name.isascii()
                           else x509.DNSName._init_without_validation(name))
    return entries


def _aki(issuer: Issued) -> x509.AuthorityKeyIdentifier:
    return x509.AuthorityKeyIdentifier.from_issuer_public_key(
        issuer.key.public_key()
    )


def _sign_hash(key: PrivateKey) -> hashes.HashAlgorithm | None:
    return None if isinstance(key, ed25519.Ed25519PrivateKey) else hashes.SHA256()


def make_ca(
    cn: str = "Contoso Test Root CA",
    *,
    issuer: Issued | None = None,
    key: PrivateKey | None = None,
    not_before: datetime = NOW - timedelta(days=3650),
    not_after: datetime = NOW + timedelta(days=3650),
    eku: Sequence[x509.ObjectIdentifier] | None = None,
) -> Issued:
    """A CA certificate: self-signed root when `issuer` is None, else an intermediate."""
    key = key or rsa_key(f"ca:{cn}")
    subject = _name(cn, org="Contoso Test")
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
    )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if issuer is not None:
        builder = builder.add_extension(_aki(issuer), critical=False)
    signer = issuer.key if issuer else key
    return Issued(builder.sign(signer, _sign_hash(signer)), key)  # type: ignore[arg-type]


@functools.cache
def root() -> Issued:
    return make_ca()


@functools.cache
def intermediate() -> Issued:
    return make_ca("Contoso Test Issuing CA", issuer=root())


def make_leaf(
    issuer: Issued | None = None,
    *,
    cns: Sequence[str] = (HOST,),
    san: Sequence[str] | None = (HOST,),
    eku: Sequence[x509.ObjectIdentifier] | None = (SERVER_AUTH,),
    not_before: datetime = NOW - timedelta(days=30),
    not_after: datetime = NOW + timedelta(days=365),
    key_type: str = "rsa",
    key_bits: int = 2048,
    key_usage: tuple[bool, bool] | None = (True, True),
    org: str | None = None,
    self_signed: bool = False,
) -> Issued:
    """An IP-HTTPS leaf. `issuer` defaults to the test intermediate; `self_signed` signs it with
    its own key. `san=None` leaves the SAN extension out, `eku=None` the EKU extension;
    `key_usage` is (digitalSignature, keyEncipherment) or None for no extension."""
    key: PrivateKey
    if key_type == "rsa":
        key = rsa_key("leaf", key_bits)
    elif key_type == "ec":
        key = ec_key("leaf")
    elif key_type == "ed25519":
        key = ed_key("leaf")
    else:
        raise ValueError(key_type)
    subject = _name(*cns, org=org)
    if self_signed:
        issuer_name, signer = subject, key
    else:
        ca = issuer or intermediate()
        issuer_name, signer = ca.cert.subject, ca.key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    builder = builder.add_extension(
        x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
    )
    if not self_signed:
        builder = builder.add_extension(_aki(issuer or intermediate()), critical=False)
    if san is not None:
        builder = builder.add_extension(
            x509.SubjectAlternativeName(_san_entries(san)), critical=False
        )
    if eku is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if key_usage is not None:
        digital_signature, key_encipherment = key_usage
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=digital_signature,
                content_commitment=False,
                key_encipherment=key_encipherment,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    return Issued(builder.sign(signer, _sign_hash(signer)), key)  # type: ignore[arg-type]


def chain_of(leaf: Issued, *cas: Issued) -> list[x509.Certificate]:
    return [leaf.cert, *(ca.cert for ca in cas)]


# ---------------------------------------------------------------- DER surgery


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of element) of the DER element at `pos`."""
    tag = data[pos]
    first = data[pos + 1]
    if first < 0x80:
        return tag, pos + 2, pos + 2 + first
    count = first & 0x7F
    length = int.from_bytes(data[pos + 2 : pos + 2 + count], "big")
    start = pos + 2 + count
    return tag, start, start + length


def _children(data: bytes) -> list[bytes]:
    """The encoded child elements of a constructed element `data`."""
    _, start, end = _tlv(data, 0)
    out: list[bytes] = []
    pos = start
    while pos < end:
        _, _, child_end = _tlv(data, pos)
        out.append(data[pos:child_end])
        pos = child_end
    return out


def _encode(tag: int, content: bytes) -> bytes:
    length = len(content)
    if length < 0x80:
        return bytes([tag, length]) + content
    raw = length.to_bytes((length.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + content


def _oid_der(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    body = bytearray([parts[0] * 40 + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.append(0x80 | (part & 0x7F))
            part >>= 7
        body.extend(reversed(chunk))
    return _encode(0x06, bytes(body))


_RSA_SIG_OIDS = {
    "md5": "1.2.840.113549.1.1.4",
    "sha1": "1.2.840.113549.1.1.5",
    "sha256": "1.2.840.113549.1.1.11",
}
_HASHES: dict[str, hashes.HashAlgorithm] = {
    "md5": hashes.MD5(),
    "sha1": hashes.SHA1(),
    "sha256": hashes.SHA256(),
}


def resign(
    cert: x509.Certificate,
    signer: rsa.RSAPrivateKey,
    *,
    hash_name: str = "sha256",
    edit_tbs: Callable[[list[bytes]], list[bytes]] | None = None,
) -> x509.Certificate:
    """`cert` re-signed by `signer` with an RSA signature over `hash_name`, after `edit_tbs`
    (given the TBSCertificate's child elements) changed what it wants."""
    outer = _children(cert.public_bytes(Encoding.DER))
    fields = _children(outer[0])
    algorithm = _encode(0x30, _oid_der(_RSA_SIG_OIDS[hash_name]) + b"\x05\x00")
    fields[2] = algorithm  # TBSCertificate.signature (after [0] version, serialNumber)
    if edit_tbs is not None:
        fields = edit_tbs(fields)
    tbs = _encode(0x30, b"".join(fields))
    signature = signer.sign(tbs, padding.PKCS1v15(), _HASHES[hash_name])
    body = tbs + algorithm + _encode(0x03, b"\x00" + signature)
    return x509.load_der_x509_certificate(_encode(0x30, body))


def with_duplicate_extension(cert: x509.Certificate, signer: rsa.RSAPrivateKey) -> x509.Certificate:
    """`cert` with its first extension repeated (RFC 5280 §4.2 forbids this)."""

    def edit(fields: list[bytes]) -> list[bytes]:
        wrapper = fields[-1]  # [3] EXPLICIT Extensions
        assert wrapper[0] == 0xA3
        sequence = _children(wrapper)[0]
        extensions = _children(sequence)
        doubled = _encode(0x30, b"".join([*extensions, extensions[0]]))
        return [*fields[:-1], _encode(0xA3, doubled)]

    return resign(cert, signer, edit_tbs=edit)


def with_unknown_key_algorithm(
    cert: x509.Certificate, signer: rsa.RSAPrivateKey
) -> x509.Certificate:
    """`cert` whose SubjectPublicKeyInfo names an algorithm OID nobody knows."""

    def edit(fields: list[bytes]) -> list[bytes]:
        spki_index = 6  # version, serial, signature, issuer, validity, subject, spki
        spki = _children(fields[spki_index])
        algorithm = _children(spki[0])
        algorithm[0] = _oid_der("1.3.6.1.4.1.55555.1.1")
        new_alg = _encode(0x30, b"".join(algorithm))
        fields[spki_index] = _encode(0x30, new_alg + spki[1])
        return fields

    return resign(cert, signer, edit_tbs=edit)


# ---------------------------------------------------------------- files for `cert` (issue 3)


def with_extensions(
    issued: Issued, signer: PrivateKey, extra: Sequence[x509.ExtensionType]
) -> Issued:
    """`issued` rebuilt with `extra` extensions added (e.g. CRL distribution points), signed
    by `signer` (the issuer's key)."""
    cert = issued.cert
    builder = (
        x509.CertificateBuilder()
        .subject_name(cert.subject)
        .issuer_name(cert.issuer)
        .public_key(cert.public_key())  # type: ignore[arg-type]
        .serial_number(cert.serial_number)
        .not_valid_before(cert.not_valid_before_utc)
        .not_valid_after(cert.not_valid_after_utc)
    )
    for extension in cert.extensions:
        builder = builder.add_extension(extension.value, extension.critical)
    for value in extra:
        builder = builder.add_extension(value, critical=False)
    return Issued(builder.sign(signer, _sign_hash(signer)), issued.key)  # type: ignore[arg-type]


def cdp(*urls: str) -> x509.CRLDistributionPoints:
    """A CRL Distribution Points extension with one point per URL."""
    return x509.CRLDistributionPoints(
        [
            x509.DistributionPoint([x509.UniformResourceIdentifier(url)], None, None, None)
            for url in urls
        ]
    )


def make_crl(
    issuer: Issued,
    *,
    revoked: Sequence[int] = (),
    this_update: datetime | None = None,
    next_update: datetime | None = None,
    signer: PrivateKey | None = None,
) -> x509.CertificateRevocationList:
    """A CRL of `issuer` (dates default to yesterday / in a week from the real clock) listing
    `revoked` serials; `signer` other than the issuer's key makes a bad signature."""
    now = datetime.now(UTC)
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(this_update or now - timedelta(days=1))
        .next_update(next_update or now + timedelta(days=7))
    )
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(now - timedelta(hours=1))
            .build()
        )
    key = signer or issuer.key
    return builder.sign(key, _sign_hash(key))  # type: ignore[arg-type]
