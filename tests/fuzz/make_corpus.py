"""Write the fuzz seed corpus (tests/fuzz/corpus/<target>/...): `python -m tests.fuzz.make_corpus`.

The corpus is committed; this script says where every seed comes from and rebuilds it (the
certificates get fresh keys and dates, so a rebuild changes bytes, not meaning). Seeds are
valid or nearly valid inputs: the fuzzers mutate them, which reaches deep parser states that
random bytes never do.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12
from cryptography.x509.oid import NameOID
from OpenSSL import SSL

from daserver_check.lab.pki import build_pki, cached_key
from daserver_check.probe import tls
from daserver_check.protocol.ipv6_stream import build_packet, icmpv6_checksum
from tests.hostile import servers as hs

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
REPO = HERE.parents[1]


def _write(target: str, name: str, data: bytes) -> None:
    folder = CORPUS / target
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)


def http_response() -> None:
    date = b"Date: Sun, 22 Nov 2026 00:00:00 GMT\r\n"
    seeds = {
        "httpsys-200": b"HTTP/1.1 200 OK\r\nServer: Microsoft-HTTPAPI/2.0\r\n" + date + b"\r\n",
        "httpsys-200-tunnel": b"HTTP/1.1 200 OK\r\nServer: Microsoft-HTTPAPI/2.0\r\n" + date
        + b"\r\n" + bytes.fromhex("6000000000083aff") + bytes(32),
        "httpsys-404": b"HTTP/1.1 404 Not Found\r\nContent-Type: text/html; charset=us-ascii\r\n"
        b"Server: Microsoft-HTTPAPI/2.0\r\n" + date + b"Connection: close\r\n"
        b"Content-Length: 315\r\n\r\n<!DOCTYPE HTML>",
        "nginx-400": b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Length: 0\r\n\r\n",
        "no-server-200": b"HTTP/1.1 200 OK\r\n" + date + b"\r\n",
        "proxy-407": b"HTTP/1.1 407 Proxy Authentication Required\r\n"
        b"Proxy-Authenticate: Negotiate\r\nProxy-Authenticate: NTLM\r\n\r\n",
        "status-only": b"HTTP/1.0 503\r\n\r\n",
        "folded": b"HTTP/1.1 200 OK\r\nX-A: 1\r\n  folded\r\n\r\n",
    }
    for name, data in seeds.items():
        _write("http_response", name, data)


def certs() -> None:
    pem = serialization.Encoding.PEM
    der = serialization.Encoding.DER
    healthy = build_pki("da.lab.test")
    _write("certs", "leaf.der", healthy.leaf_cert.public_bytes(der))
    # Found by atheris (der_chain): X.509 "version 4", which OpenSSL serves and cryptography
    # refuses; it used to crash the probe (see tests/hostile).
    _write("certs", "version4.der", hs.with_x509_version(healthy.leaf_cert.public_bytes(der), 3))
    _write("certs", "leaf-and-ca.pem",
           healthy.leaf_cert.public_bytes(pem) + healthy.ca_cert.public_bytes(pem))
    _write("certs", "ca.der", healthy.ca_cert.public_bytes(der))
    for fault in ("wrong-name", "san-mismatch", "subject-extra", "no-eku", "expired",
                  "self-signed"):
        pki = build_pki("da.lab.test", [fault])
        _write("certs", f"{fault}.der", pki.leaf_cert.public_bytes(der))
    key_pem = healthy.leaf_key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    _write("certs", "leaf-with-key.pem", healthy.leaf_cert.public_bytes(pem) + key_pem)
    _write("certs", "bundle.p7b", pkcs7.serialize_certificates(
        [healthy.leaf_cert, healthy.ca_cert], der))
    _write("certs", "bundle-nopass.pfx", pkcs12.serialize_key_and_certificates(
        b"da", healthy.leaf_key, healthy.leaf_cert, [healthy.ca_cert],
        serialization.NoEncryption()))
    # An ECDSA certificate (cert.key warns: no null suites with it).
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "da.lab.test")])
    now = dt.datetime.now(dt.UTC)
    ecc = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
           .public_key(key.public_key()).serial_number(1)
           .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=90))
           .add_extension(x509.SubjectAlternativeName([x509.DNSName("da.lab.test")]), False)
           .sign(key, hashes.SHA256()))
    _write("certs", "ecdsa.der", ecc.public_bytes(der))
    crl = (x509.CertificateRevocationListBuilder().issuer_name(healthy.ca_cert.subject)
           .last_update(now).next_update(now + dt.timedelta(days=7))
           .add_revoked_certificate(x509.RevokedCertificateBuilder()
                                    .serial_number(healthy.leaf_cert.serial_number)
                                    .revocation_date(now).build())
           .sign(cached_key("ca"), hashes.SHA256()))
    _write("crl", "revoked.crl", crl.public_bytes(der))
    _write("crl", "revoked.pem", crl.public_bytes(pem))


def _flight(client: SSL.Context, server: SSL.Context) -> bytes:
    """The server's first flight in answer to our client's ClientHello (memory BIOs)."""
    c = SSL.Connection(client, None)
    c.set_connect_state()
    c.set_tlsext_host_name(b"da.lab.test")
    s = SSL.Connection(server, None)
    s.set_accept_state()
    for conn in (c, s):
        if conn is s:
            s.bio_write(c.bio_read(65536))
        try:
            conn.do_handshake()
        except SSL.WantReadError:
            pass
    data: bytes = s.bio_read(1 << 20)
    return data


def tls_server() -> None:
    lab = hs._server_context()
    for mode in tls.TlsMode:
        _write("tls_server", f"lab-{mode.value}.bin", _flight(tls._context(mode), lab))
    tls13 = SSL.Context(SSL.TLS_SERVER_METHOD)
    pki = hs.lab_pki()
    tls13.use_certificate(pki.leaf_cert)
    tls13.use_privatekey(pki.leaf_key)
    _write("tls_server", "tls13-encrypted.bin", _flight(tls._context(tls.TlsMode.ENCRYPTED), tls13))
    hello = hs.server_hello(b"")
    _write("tls_server", "server-hello-only.bin", hello)
    _write("tls_server", "alert.bin", hs.record(hs.ALERT, b"\x02\x28"))
    _write("tls_server", "hello-requests.bin",
           hello + hs.record(hs.HANDSHAKE, hs.handshake_message(0, b"") * 8))
    _write("tls_server", "http-400.bin", b"HTTP/1.1 400 Bad Request\r\n\r\n")


def profile() -> None:
    for path in sorted((REPO / "profiles").glob("*.toml")):
        _write("profile", path.name, path.read_bytes())
    example = REPO / "examples" / "contoso.toml"
    if example.is_file():
        _write("profile", "contoso.toml", example.read_bytes())


def server_artifacts() -> None:
    fixtures = REPO / "tests" / "fixtures" / "server"
    for path in sorted(fixtures.rglob("*")):
        if path.is_file() and path.stat().st_size <= 16 * 1024:
            _write("server", f"{path.parent.name}-{path.name}", path.read_bytes())


def ipv6_stream() -> None:
    """A Router Advertisement with prefix, MTU and source link-layer options: the ICMPv6
    message alone (the fuzz test mutates it and fixes up the checksum) and as packets."""
    prefix = (bytes([3, 4, 64, 0xC0]) + (86400).to_bytes(4, "big") + (14400).to_bytes(4, "big")
              + bytes(4) + bytes.fromhex("20010db8000100000000000000000000"))
    mtu = bytes([5, 1, 0, 0]) + (1280).to_bytes(4, "big")
    lladdr = bytes([1, 1]) + bytes.fromhex("00155d000001")
    message = bytes([134, 0, 0, 0, 64, 0x08]) + (1800).to_bytes(2, "big") + bytes(8)
    message += prefix + mtu + lladdr
    checksum = icmpv6_checksum("fe80::1", "fe80::2", message)
    message = message[:2] + checksum.to_bytes(2, "big") + message[4:]
    packet = build_packet("fe80::1", "fe80::2", 58, message, hop_limit=255)
    _write("ra_message", "ra.bin", message)
    _write("ipv6_stream", "ra.bin", packet)
    _write("ipv6_stream", "two-packets.bin", packet + build_packet("fe80::1", "ff02::1", 59, b""))


TARGETS: dict[str, Callable[[], None]] = {
    "http_response": http_response,
    "certs": certs,
    "tls_server": tls_server,
    "profile": profile,
    "server": server_artifacts,
    "ipv6_stream": ipv6_stream,
}


def main() -> None:
    for target in (*TARGETS, "crl", "ra_message"):
        shutil.rmtree(CORPUS / target, ignore_errors=True)
    for make in TARGETS.values():
        make()
    for folder in sorted(CORPUS.iterdir()):
        print(f"{folder.name}: {len(list(folder.iterdir()))} seeds")


if __name__ == "__main__":
    main()
