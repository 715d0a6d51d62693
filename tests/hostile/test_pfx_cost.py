"""A PFX (or an encrypted PKCS#8 key) that asks for an absurd number of key-derivation
iterations is refused before any key is derived, on every path that opens one; a password from
the environment is taken as bytes and never echoed.

The hostile PFX files are assembled here byte by byte (RFC 7292 §4 structures), since no
library would spend the time to write a file with 2^31-1 iterations honestly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.certs.pki import make_leaf as leaf

HUGE = 2**31 - 1
NORMAL = 2048
# Seconds; before the fix OpenSSL spent hours on one of these.
HANG_GUARD = float(os.environ.get("HANG_GUARD", "20"))


def tlv(tag: int, content: bytes, *, long_form: bool = False) -> bytes:
    n = len(content)
    if n < 0x80 and not long_form:
        return bytes([tag, n]) + content
    body = n.to_bytes(max(1, (n.bit_length() + 7) // 8), "big")
    return bytes([tag, 0x80 | len(body)]) + body + content


def ber(tag: int, *parts: bytes) -> bytes:
    """A constructed element with an indefinite length (X.690 §8.1.3.6), as some PFX are."""
    return bytes([tag, 0x80]) + b"".join(parts) + b"\x00\x00"


def seq(*parts: bytes, long_form: bool = False) -> bytes:
    return tlv(0x30, b"".join(parts), long_form=long_form)


def integer(n: int) -> bytes:
    return tlv(0x02, n.to_bytes(n.bit_length() // 8 + 1, "big"))


def octets(data: bytes) -> bytes:
    return tlv(0x04, data)


def oid(dotted: str) -> bytes:
    arcs = [int(a) for a in dotted.split(".")]
    out = bytearray([40 * arcs[0] + arcs[1]])
    for arc in arcs[2:]:
        chunk = [arc & 0x7F]
        arc >>= 7
        while arc:
            chunk.append(0x80 | (arc & 0x7F))
            arc >>= 7
        out += bytes(reversed(chunk))
    return tlv(0x06, bytes(out))


NULL = b"\x05\x00"
DATA, ENCRYPTED_DATA = "1.2.840.113549.1.7.1", "1.2.840.113549.1.7.6"


def pbes2(iterations: int) -> bytes:
    kdf = seq(oid("1.2.840.113549.1.5.12"),
              seq(octets(b"s" * 8), integer(iterations), seq(oid("1.2.840.113549.2.9"), NULL)))
    return seq(oid("1.2.840.113549.1.5.13"),
               seq(kdf, seq(oid("2.16.840.1.101.3.4.1.42"), octets(b"i" * 16))))


def pkcs12_pbe(iterations: int) -> bytes:  # pbeWithSHAAnd3-KeyTripleDES-CBC
    return seq(oid("1.2.840.113549.1.12.1.3"), seq(octets(b"s" * 8), integer(iterations)))


def pfx(*, mac: int = NORMAL, certs: int = NORMAL, key: int = NORMAL, ber_outer: bool = False,
        long_mac: bool = False) -> bytes:
    encrypted = seq(oid(ENCRYPTED_DATA), tlv(0xA0, seq(
        integer(0), seq(oid(DATA), pbes2(certs), tlv(0x80, b"\x00" * 48)))))
    key_bag = seq(oid("1.2.840.113549.1.12.10.1.2"),
                  tlv(0xA0, seq(pkcs12_pbe(key), octets(b"\x00" * 48))))
    plain = seq(oid(DATA), tlv(0xA0, octets(seq(key_bag))))
    auth_safe = seq(oid(DATA), tlv(0xA0, octets(seq(encrypted, plain))))
    digest_info = seq(seq(oid("2.16.840.1.101.3.4.2.1"), NULL), octets(b"\x00" * 32),
                      long_form=long_mac)
    mac_data = seq(digest_info, octets(b"m" * 8), integer(mac), long_form=long_mac)
    if ber_outer:
        return ber(0x30, integer(3), auth_safe, mac_data)
    return seq(integer(3), auth_safe, mac_data)


CASES: dict[str, Callable[[], bytes]] = {
    "MAC iterations": lambda: pfx(mac=HUGE),
    "MAC iterations, BER outer": lambda: pfx(mac=HUGE, ber_outer=True),
    "MAC iterations, long-form lengths": lambda: pfx(mac=HUGE, long_mac=True),
    "MAC iterations of 2^64": lambda: pfx(mac=2**64),
    "PBES2 of the certificates": lambda: pfx(certs=HUGE),
    "PKCS#12 PBE of the key bag": lambda: pfx(key=HUGE),
}


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "daserver_check", *args], capture_output=True,
                          text=True, timeout=HANG_GUARD, stdin=subprocess.DEVNULL,
                          env={**os.environ, "PFXPW": "da", **(env or {})})


@pytest.mark.parametrize("case", list(CASES))
def test_cert_refuses_the_costly_pfx(tmp_path: Path, case: str) -> None:
    path = tmp_path / "hostile.pfx"
    path.write_bytes(CASES[case]())
    out = run_cli("cert", str(path), "--password-env", "PFXPW", "--offline")
    assert out.returncode == 3, out.stderr
    assert "key-derivation iterations" in out.stderr, out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("case", ["MAC iterations", "PKCS#12 PBE of the key bag"])
def test_checklist_refuses_the_costly_pfx(tmp_path: Path, case: str) -> None:
    path = tmp_path / "hostile.pfx"
    path.write_bytes(CASES[case]())
    profile = tmp_path / "p.toml"
    profile.write_text(f"schema = 1\n[cert]\nfiles = [{json.dumps(str(path))}]\n"
                       "check_crl = false\n")
    out = run_cli("checklist", "--profile", str(profile), "--offline", "--format", "json")
    assert out.returncode == 3, out.stderr
    findings = json.loads(out.stdout)["targets"][0]["findings"]
    assert any("key-derivation iterations" in f["detail"] for f in findings), findings


def test_encrypted_pkcs8_key_with_costly_pbkdf2_is_refused(tmp_path: Path) -> None:
    body = seq(pbes2(HUGE), octets(b"\x00" * 48))
    import base64

    pem = (b"-----BEGIN CERTIFICATE-----\n"
           + base64.encodebytes(leaf().cert.public_bytes(serialization.Encoding.DER))
           + b"-----END CERTIFICATE-----\n-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
           + base64.encodebytes(body) + b"-----END ENCRYPTED PRIVATE KEY-----\n")
    path = tmp_path / "leaf-and-key.pem"
    path.write_bytes(pem)
    out = run_cli("cert", str(path), "--password-env", "PFXPW", "--offline")
    assert out.returncode == 3, out.stderr
    assert "key-derivation iterations" in out.stderr


def test_real_pfx_files_still_load_and_report_their_counts(tmp_path: Path) -> None:
    from daserver_check.certs.load import parse_bundle
    from daserver_check.certs.pkcs12_der import kdf_iterations

    encryption = (serialization.PrivateFormat.PKCS12.encryption_builder()
                  .kdf_rounds(50_000).key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
                  .hmac_hash(hashes.SHA256()).build(b"da"))
    data = pkcs12.serialize_key_and_certificates(b"da", leaf().key, leaf().cert, None,
                                                 encryption)
    assert max(kdf_iterations(data)) == 50_000  # the MAC keeps its own (smaller) count
    bundle = parse_bundle(data, password=b"da")
    assert bundle.is_pkcs12 and bundle.keys
    assert set(kdf_iterations(pfx())) == {NORMAL}
    assert set(kdf_iterations(pfx(ber_outer=True, long_mac=True, mac=7))) == {NORMAL, 7}


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_iteration_scan_is_total_on_any_bytes(data: bytes) -> None:
    from daserver_check.certs.pkcs12_der import kdf_iterations

    prefix = pfx()[:40]
    for blob in (data, prefix + data, bytes.fromhex("060a2a864886f70d010c0103") + data):
        assert isinstance(kdf_iterations(blob), list)


def test_non_utf8_password_from_the_environment_is_bytes_and_never_echoed(
    tmp_path: Path,
) -> None:
    """A password typed in a legacy code page (here not valid UTF-8) reaches the PFX code as
    the environment's bytes: the integrity check verifies with exactly those bytes."""
    issued = leaf()
    key_file, cert_file = tmp_path / "k.pem", tmp_path / "c.pem"
    key_file.write_bytes(issued.key.private_bytes(serialization.Encoding.PEM,
                                                  serialization.PrivateFormat.PKCS8,
                                                  serialization.NoEncryption()))
    cert_file.write_bytes(issued.cert.public_bytes(serialization.Encoding.PEM))
    secret = b"\xff\xfe\xe9da\x9b"
    env = {**os.environb, b"PFXPW": secret}
    path = tmp_path / "legacy-codepage.pfx"
    subprocess.run(["openssl", "pkcs12", "-export", "-in", str(cert_file), "-inkey",
                    str(key_file), "-out", str(path), "-passout", "env:PFXPW"],
                   check=True, env=env, timeout=60, capture_output=True)

    def cert(password: bytes) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "daserver_check", "cert", str(path),
                               "--password-env", "PFXPW", "--offline"],
                              capture_output=True, timeout=HANG_GUARD,
                              stdin=subprocess.DEVNULL, env={**env, b"PFXPW": password})

    for password in (secret, b"\xff\xfeXq7\x9b"):
        out = cert(password)
        assert b"internal error" not in out.stderr, out.stderr
        for shown in (b"\xff", b"\xfe", b"\x9b", b"\xe9", b"Xq7", b"xff", b"udcff", b"\\x"):
            assert shown not in out.stderr + out.stdout, out.stderr
        if password == secret:
            # Either it opened, or (this OpenSSL cannot take a non-UTF-8 password) the MAC
            # check with the same bytes says the password is right.
            assert out.returncode != 3 or b"the password is right" in out.stderr, out.stderr
        else:
            assert out.returncode == 3
            assert b"wrong password" in out.stderr, out.stderr
