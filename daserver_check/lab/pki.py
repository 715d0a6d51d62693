"""A throwaway PKI for the lab: one root CA and one server certificate shaped by the faults."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from daserver_check.lab.faults import parse_faults

CA_COMMON_NAME = "daserver-check lab CA"
WRONG_NAME = "www.wrong.test"
OTHER_SAN = "other.lab.test"

# RSA key generation costs tens of milliseconds per key and the tests start many labs: every
# lab of a process shares the same two keys. Certificates are cheap (one signature) and are
# made fresh for each lab, since their shape depends on the faults and on the time.
_KEYS: dict[str, rsa.RSAPrivateKey] = {}
_KEYS_LOCK = threading.Lock()

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)\Z")


def cached_key(role: str) -> rsa.RSAPrivateKey:
    """The process-wide RSA 2048 key for `role` ("ca" or "server"), generated on first use."""
    with _KEYS_LOCK:
        key = _KEYS.get(role)
        if key is None:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            _KEYS[role] = key
        return key


def check_lab_name(name: str) -> str:
    """The lowercased DNS name, or ValueError: the lab serves names, never IP literals."""
    lowered = name.rstrip(".").lower()
    try:
        ipaddress.ip_address(lowered)
    except ValueError:
        pass
    else:
        raise ValueError(f"lab name {name!r} is an IP address; give a DNS name like da.lab.test")
    labels = lowered.split(".")
    # 64 characters is the upper bound of a Subject CN (RFC 5280 ub-common-name).
    if not 0 < len(lowered) <= 64 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(
            f"lab name {name!r} is not a DNS name of at most 64 characters (letters, digits, "
            "hyphens, dot-separated labels)"
        )
    return lowered


@dataclass(frozen=True, slots=True)
class LabFiles:
    ca_file: Path
    cert_file: Path
    key_file: Path


@dataclass(frozen=True, slots=True)
class LabPki:
    ca_cert: x509.Certificate
    leaf_cert: x509.Certificate
    leaf_key: rsa.RSAPrivateKey
    crl: bytes = b""  # DER CRL of the lab CA (empty without a distribution point)

    @property
    def self_signed(self) -> bool:
        return self.leaf_cert.issuer == self.leaf_cert.subject

    def write(self, directory: Path) -> LabFiles:
        """Write ca.pem, server.pem and server.key (owner-only) into `directory`.

        ca.pem is always the lab CA, even when the leaf is self-signed: the fault emulates a
        server whose certificate the client cannot chain to the root it trusts.
        """
        directory.mkdir(parents=True, exist_ok=True)
        files = LabFiles(
            ca_file=directory / "ca.pem",
            cert_file=directory / "server.pem",
            key_file=directory / "server.key",
        )
        files.ca_file.write_bytes(self.ca_cert.public_bytes(serialization.Encoding.PEM))
        files.cert_file.write_bytes(self.leaf_cert.public_bytes(serialization.Encoding.PEM))
        key_pem = self.leaf_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        # Created 0600 from the start: the key never exists with wider permissions.
        fd = os.open(files.key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(key_pem)
        return files


def _ca_certificate(now: dt.datetime) -> x509.Certificate:
    key = cached_key("ca")
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_COMMON_NAME)])
    ski = x509.SubjectKeyIdentifier.from_public_key(key.public_key())
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=2))
        .not_valid_after(now + dt.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
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
        .add_extension(ski, critical=False)
        .sign(key, hashes.SHA256())
    )


def _leaf_subject(name: str, faults: frozenset[str]) -> x509.Name:
    cn = WRONG_NAME if "wrong-name" in faults else name
    attributes = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if "subject-extra" in faults:
        # The classic mistake of KB 2980635: the whole URL typed into the Subject. _validate is
        # off because a URL of a long name exceeds the 64-character CN bound, and a real bad
        # certificate would carry it anyway.
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, f"https://{name}/IPHTTPS", _validate=False))
    return x509.Name(attributes)


def build_pki(name: str, faults: Iterable[str] = (), now: dt.datetime | None = None,
              crl_url: str | None = None) -> LabPki:
    """The lab CA and a server certificate for `name`, healthy unless `faults` say otherwise.
    With `crl_url` the certificate names it as its CRL distribution point, and the CA's CRL
    (listing the certificate under the `revoked` fault) comes with the PKI."""
    name = check_lab_name(name)
    fault_set = parse_faults(faults)
    now = now or dt.datetime.now(dt.UTC)
    ca_cert = _ca_certificate(now)
    ca_key = cached_key("ca")
    leaf_key = cached_key("server")

    subject = _leaf_subject(name, fault_set)
    if "wrong-name" in fault_set:
        san = WRONG_NAME
    elif "san-mismatch" in fault_set:
        san = OTHER_SAN
    else:
        san = name
    if "expired" in fault_set:
        not_before, not_after = now - dt.timedelta(days=400), now - dt.timedelta(days=35)
    else:
        not_before, not_after = now - dt.timedelta(days=1), now + dt.timedelta(days=365)
    eku = [ExtendedKeyUsageOID.CLIENT_AUTH] if "no-eku" in fault_set else [ExtendedKeyUsageOID.SERVER_AUTH]
    self_signed = "self-signed" in fault_set

    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject if self_signed else ca_cert.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.ExtendedKeyUsage(eku), critical=False)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(san)]), critical=False)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
    )
    if not self_signed:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        if crl_url:
            builder = builder.add_extension(x509.CRLDistributionPoints([
                x509.DistributionPoint([x509.UniformResourceIdentifier(crl_url)], None, None, None)
            ]), critical=False)
    leaf_cert = builder.sign(leaf_key if self_signed else ca_key, hashes.SHA256())
    crl = b""
    if crl_url and not self_signed:
        crl = _crl(ca_cert, ca_key, now, revoked=(leaf_cert.serial_number,)
                   if "revoked" in fault_set else ())
    return LabPki(ca_cert=ca_cert, leaf_cert=leaf_cert, leaf_key=leaf_key, crl=crl)


def _crl(ca_cert: x509.Certificate, ca_key: rsa.RSAPrivateKey, now: dt.datetime,
         revoked: Iterable[int]) -> bytes:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(ca_cert.subject)
        .last_update(now - dt.timedelta(hours=1))
        .next_update(now + dt.timedelta(days=7))
    )
    for serial in revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder().serial_number(serial)
            .revocation_date(now - dt.timedelta(hours=1)).build())
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.DER)
