"""The lab, tested with real clients only (stdlib ssl, openssl s_client, dnspython, the CLI).

The probe is not used here: the lab is the probe's test bed, so it must be proven on its own.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from daserver_check.lab.faults import FAULTS, parse_faults
from daserver_check.lab.pki import build_pki
from daserver_check.lab.server import LabConfig, LabEndpoint
from tests.conftest import require_tool

NULL_ONLY = "NULL-SHA256:NULL-SHA:@SECLEVEL=0"
ENCRYPTED_ONLY = "ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA"
IPHTTPS_POST = b"POST /IPHTTPS HTTP/1.1\r\nHost: da.lab.test\r\nContent-Length: 18446744073709551615\r\n\r\n"
TIMEOUT = 3.0


@pytest.fixture(scope="module")
def healthy() -> Iterator[LabEndpoint]:
    with LabEndpoint() as lab:
        yield lab


def start(*faults: str) -> LabEndpoint:
    return LabEndpoint(LabConfig(faults=frozenset(faults))).start()


def client_context(lab: LabEndpoint, ciphers: str | None = None, verify: bool = True) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    if ciphers:
        ctx.set_ciphers(ciphers)
    if verify:
        ctx.load_verify_locations(lab.ca_file)
    else:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def connect(
    lab: LabEndpoint, ciphers: str | None = None, verify: bool = True, timeout: float = TIMEOUT
) -> ssl.SSLSocket:
    ctx = client_context(lab, ciphers, verify)
    sock = socket.create_connection((lab.config.host, lab.port), timeout=timeout)
    try:
        return ctx.wrap_socket(sock, server_hostname=lab.config.name)
    except BaseException:
        sock.close()
        raise


def exchange(lab: LabEndpoint, request: bytes, ciphers: str | None = None) -> bytes:
    """Send `request`; return what the server sends up to EOF, or up to the head for a 200."""
    with connect(lab, ciphers) as tls:
        tls.sendall(request)
        data = b""
        while True:
            try:
                chunk = tls.recv(65536)
            except (ssl.SSLEOFError, ConnectionResetError):
                break
            if not chunk:
                break
            data += chunk
            # A 200 has no Content-Length and no end: the head is all there is.
            if data.startswith(b"HTTP/1.1 200") and b"\r\n\r\n" in data:
                break
        return data


def served_certificate(lab: LabEndpoint) -> x509.Certificate:
    with connect(lab, verify=False) as tls:
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der)


def closed_by_peer(sock: socket.socket) -> bool:
    """True when the peer closed: EOF, or a reset (a close with unread data, or the backlog)."""
    try:
        return sock.recv(4096) == b""
    except ConnectionResetError:
        return True


def headers(response: bytes) -> dict[str, str]:
    head = response.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
    return {k.lower(): v.strip() for k, v in (line.split(":", 1) for line in head)}


# -- TLS -------------------------------------------------------------------------------------


def test_healthy_accepts_null_only_client(healthy: LabEndpoint) -> None:
    with connect(healthy, NULL_ONLY) as tls:
        name, version, _ = tls.cipher()  # type: ignore[misc]
    assert name == "NULL-SHA256"
    assert version == "TLSv1.2"


def test_healthy_accepts_encrypted_client_and_never_tls13(healthy: LabEndpoint) -> None:
    ctx = ssl.create_default_context(cafile=str(healthy.ca_file))  # TLS 1.3 offered too
    with (
        socket.create_connection(("127.0.0.1", healthy.port), timeout=TIMEOUT) as sock,
        ctx.wrap_socket(sock, server_hostname="da.lab.test") as tls,
    ):
        assert tls.version() == "TLSv1.2"
        assert "NULL" not in tls.cipher()[0]  # type: ignore[index]


def test_healthy_certificate_shape(healthy: LabEndpoint) -> None:
    cert = served_certificate(healthy)
    assert cert.subject.rfc4514_string() == "CN=da.lab.test"
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["da.lab.test"]
    eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert list(eku) == [ExtendedKeyUsageOID.SERVER_AUTH]
    assert cert.issuer.rfc4514_string() == "CN=daserver-check lab CA"
    assert cert.public_key().key_size == 2048  # type: ignore[union-attr]


def test_no_null_refuses_null_only_client() -> None:
    with start("no-null") as lab:
        with pytest.raises(ssl.SSLError):
            connect(lab, NULL_ONLY).close()
        with connect(lab, ENCRYPTED_ONLY) as tls:
            assert tls.cipher() is not None


def test_null_only_refuses_encrypted_client() -> None:
    with start("null-only") as lab:
        with pytest.raises(ssl.SSLError):
            connect(lab, ENCRYPTED_ONLY).close()
        with connect(lab, NULL_ONLY) as tls:
            assert tls.cipher()[0] == "NULL-SHA256"  # type: ignore[index]


def test_self_signed_is_untrusted_and_drops_null_suites() -> None:
    with start("self-signed") as lab:
        with pytest.raises(ssl.SSLCertVerificationError):
            connect(lab, ENCRYPTED_ONLY).close()
        with pytest.raises(ssl.SSLError):
            connect(lab, NULL_ONLY, verify=False).close()
        cert = served_certificate(lab)
        assert cert.issuer == cert.subject
        # ca.pem is the lab CA, not the self-signed leaf.
        ca = x509.load_pem_x509_certificate(lab.ca_file.read_bytes())
        assert ca.subject.rfc4514_string() == "CN=daserver-check lab CA"


def test_client_cert_is_requested_but_optional() -> None:
    openssl = require_tool("openssl")
    with start("client-cert") as lab:
        out = subprocess.run(
            [openssl, "s_client", "-connect", f"127.0.0.1:{lab.port}", "-tls1_2",
             "-servername", "da.lab.test", "-CAfile", str(lab.ca_file)],
            input=b"", capture_output=True, timeout=10, check=False,
        ).stdout.decode(errors="replace")  # fmt: skip
        assert "Acceptable client certificate CA names" in out
        assert "daserver-check lab CA" in out
        assert "Verify return code: 0 (ok)" in out  # the handshake completed without one
        with pytest.raises(ssl.SSLError):
            connect(lab, NULL_ONLY).close()


def test_healthy_requests_no_client_cert(healthy: LabEndpoint) -> None:
    openssl = require_tool("openssl")
    out = subprocess.run(
        [openssl, "s_client", "-connect", f"127.0.0.1:{healthy.port}", "-tls1_2",
         "-cipher", NULL_ONLY, "-servername", "da.lab.test", "-CAfile", str(healthy.ca_file)],
        input=b"", capture_output=True, timeout=10, check=False,
    ).stdout.decode(errors="replace")  # fmt: skip
    assert "No client certificate CA names sent" in out
    assert "NULL-SHA256" in out


@pytest.mark.parametrize(
    ("fault", "cn", "san", "eku"),
    [
        ("wrong-name", ["www.wrong.test"], ["www.wrong.test"], ExtendedKeyUsageOID.SERVER_AUTH),
        ("san-mismatch", ["da.lab.test"], ["other.lab.test"], ExtendedKeyUsageOID.SERVER_AUTH),
        (
            "subject-extra",
            ["da.lab.test", "https://da.lab.test/IPHTTPS"],
            ["da.lab.test"],
            ExtendedKeyUsageOID.SERVER_AUTH,
        ),
        ("no-eku", ["da.lab.test"], ["da.lab.test"], ExtendedKeyUsageOID.CLIENT_AUTH),
    ],
)
def test_certificate_faults(fault: str, cn: list[str], san: list[str], eku: object) -> None:
    with start(fault) as lab:
        cert = served_certificate(lab)
    assert [a.value for a in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)] == cn
    alt = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert alt.get_values_for_type(x509.DNSName) == san
    assert list(cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value) == [eku]


def test_expired_certificate() -> None:
    with start("expired") as lab:
        with pytest.raises(ssl.SSLCertVerificationError, match="expired"):
            connect(lab).close()
        cert = served_certificate(lab)
    assert cert.not_valid_after_utc.timestamp() < time.time() - 30 * 86400


def test_faults_combine() -> None:
    pki = build_pki("da.lab.test", ["wrong-name", "expired", "no-eku"])
    assert pki.leaf_cert.subject.rfc4514_string() == "CN=www.wrong.test"
    assert pki.leaf_cert.not_valid_after_utc.timestamp() < time.time()


def test_unknown_and_conflicting_faults_are_refused() -> None:
    with pytest.raises(ValueError, match=r"unknown fault nope; known faults: wrong-name, "):
        parse_faults(["wrong-name", "nope"])
    with pytest.raises(ValueError, match="null-only"):
        LabConfig(faults=frozenset({"null-only", "self-signed"}))
    assert set(FAULTS) >= {"hang", "disabled", "client-cert", "not-httpsys"}


# -- HTTP ------------------------------------------------------------------------------------


def test_post_iphttps_answers_200_like_httpsys(healthy: LabEndpoint) -> None:
    response = exchange(healthy, IPHTTPS_POST, NULL_ONLY)
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")
    h = headers(response)
    assert h["server"] == "Microsoft-HTTPAPI/2.0"
    assert h["date"].endswith("GMT")
    assert "content-length" not in h


def test_post_path_is_case_insensitive(healthy: LabEndpoint) -> None:
    response = exchange(healthy, IPHTTPS_POST.replace(b"/IPHTTPS", b"/iphttps"))
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")


@pytest.mark.parametrize(
    "request_line", [b"GET / HTTP/1.1", b"GET /IPHTTPS HTTP/1.1", b"POST /IPTLS HTTP/1.1"]
)
def test_other_requests_answer_404(healthy: LabEndpoint, request_line: bytes) -> None:
    response = exchange(healthy, request_line + b"\r\nHost: da.lab.test\r\n\r\n")
    assert response.startswith(b"HTTP/1.1 404 Not Found\r\n")
    h = headers(response)
    assert h["server"] == "Microsoft-HTTPAPI/2.0"
    body = response.split(b"\r\n\r\n", 1)[1]
    assert int(h["content-length"]) == len(body)
    assert b"HTTP Error 404" in body


def test_not_iphttps_answers_404() -> None:
    with start("not-iphttps") as lab:
        assert exchange(lab, IPHTTPS_POST).startswith(b"HTTP/1.1 404 Not Found\r\n")


def test_not_httpsys_answers_200_without_server_header() -> None:
    with start("not-httpsys") as lab:
        response = exchange(lab, IPHTTPS_POST)
    assert response.startswith(b"HTTP/1.1 200 OK\r\n")
    assert "server" not in headers(response)


def test_disabled_closes_without_answer() -> None:
    with start("disabled") as lab:
        assert exchange(lab, IPHTTPS_POST) == b""


def test_hang_times_out_client_side_and_stop_is_prompt() -> None:
    lab = start("hang")
    try:
        with pytest.raises(TimeoutError):
            connect(lab, timeout=0.3).close()
        idle = socket.create_connection(("127.0.0.1", lab.port), timeout=TIMEOUT)
    finally:
        begin = time.monotonic()
        lab.stop()
        elapsed = time.monotonic() - begin
    assert elapsed < 1.0
    # stop() closed the connection, whether it was held by a thread or still in the backlog.
    assert closed_by_peer(idle)
    idle.close()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", lab.port), timeout=TIMEOUT).close()


def test_stop_is_prompt_with_clients_mid_handshake_and_mid_tunnel() -> None:
    lab = start()
    silent = socket.create_connection(("127.0.0.1", lab.port), timeout=TIMEOUT)
    tunnel = connect(lab, NULL_ONLY)
    tunnel.sendall(IPHTTPS_POST)
    assert tunnel.recv(4096).startswith(b"HTTP/1.1 200 OK")  # the server now drains
    begin = time.monotonic()
    lab.stop()
    assert time.monotonic() - begin < 1.0
    silent.close()
    tunnel.close()
    assert not lab.ca_file.parent.exists()  # its own temp dir is removed


def test_garbage_and_early_close_do_not_break_the_server(healthy: LabEndpoint) -> None:
    with socket.create_connection(("127.0.0.1", healthy.port), timeout=TIMEOUT) as sock:
        sock.sendall(b"GET / HTTP/1.0\r\n\r\n")  # plain HTTP to the TLS port
        assert closed_by_peer(sock)
    with connect(healthy) as tls:
        tls.sendall(b"\x00garbage\r\n\r\n")
        assert tls.recv(4096).startswith(b"HTTP/1.1 400 Bad Request")
    assert exchange(healthy, IPHTTPS_POST).startswith(b"HTTP/1.1 200 OK")


def test_healthy_probe_sized_work_is_fast(healthy: LabEndpoint) -> None:
    begin = time.monotonic()
    connect(healthy, NULL_ONLY).close()
    connect(healthy, ENCRYPTED_ONLY).close()
    exchange(healthy, IPHTTPS_POST)
    assert time.monotonic() - begin < 0.5


def test_explicit_workdir_is_kept(tmp_path: Path) -> None:
    with LabEndpoint(LabConfig(workdir=tmp_path)) as lab:
        assert lab.ca_file == tmp_path / "ca.pem"
        assert lab.url == f"https://da.lab.test:{lab.port}/IPHTTPS"
        assert lab.probe_command() == [
            "daserver-check", "probe", lab.url, "--resolver", f"127.0.0.1:{lab.dns_port}",
            "--ca-file", str(tmp_path / "ca.pem"), "--profile", "lab",
        ]  # fmt: skip
    assert (tmp_path / "ca.pem").exists()
    assert (tmp_path / "server.key").stat().st_mode & 0o077 == 0 or os.name != "posix"


# -- DNS -------------------------------------------------------------------------------------


def query(lab: LabEndpoint, name: str, rdtype: str) -> dns.message.Message:
    q = dns.message.make_query(name, rdtype)
    return dns.query.udp(q, "127.0.0.1", port=lab.dns_port, timeout=TIMEOUT)


def test_dns_answers_a(healthy: LabEndpoint) -> None:
    answer = query(healthy, "DA.lab.test", "A")
    assert answer.rcode() == dns.rcode.NOERROR
    assert answer.flags & dns.flags.AA
    assert [r.address for rrset in answer.answer for r in rrset] == ["127.0.0.1"]


def test_dns_nodata_for_aaaa_and_nxdomain_for_others(healthy: LabEndpoint) -> None:
    aaaa = query(healthy, "da.lab.test", "AAAA")
    assert aaaa.rcode() == dns.rcode.NOERROR
    assert aaaa.answer == []
    assert query(healthy, "www.example.com", "A").rcode() == dns.rcode.NXDOMAIN


def test_dns_ignores_malformed_packets(healthy: LabEndpoint) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.2)
        for junk in (b"", b"\x00", b"\xff" * 12, os.urandom(300)):
            sock.sendto(junk, ("127.0.0.1", healthy.dns_port))
        with pytest.raises(TimeoutError):
            sock.recv(4096)
    assert query(healthy, "da.lab.test", "A").rcode() == dns.rcode.NOERROR


# -- CLI -------------------------------------------------------------------------------------


def lab_cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "daserver_check", "lab", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.skipif(os.name != "posix", reason="sends SIGTERM/SIGINT")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_cli_runs_until_signal_and_writes_state(tmp_path: Path, sig: signal.Signals) -> None:
    state_file = tmp_path / "lab.json"
    proc = lab_cli("--fault", "no-null", "--state-file", str(state_file), "--duration", "30")
    try:
        assert proc.stdout is not None
        # The banner is printed (and flushed) after the state file is written.
        banner = [proc.stdout.readline() for _ in range(7)]
        assert banner[0].startswith("daserver-check lab: emulated DirectAccess IP-HTTPS")
        assert "faults: no-null" in banner[1]
        state = json.loads(state_file.read_text())
        assert set(state) >= {"url", "port", "dns", "ca_file", "faults", "probe_command"}
        assert state["faults"] == ["no-null"]
        assert " ".join(state["probe_command"]) in banner[5]
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(state["ca_file"])
        with (
            socket.create_connection(("127.0.0.1", state["port"]), timeout=TIMEOUT) as sock,
            ctx.wrap_socket(sock, server_hostname="da.lab.test") as tls,
        ):
            tls.sendall(IPHTTPS_POST)
            assert tls.recv(4096).startswith(b"HTTP/1.1 200 OK")
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "Traceback" not in err


def test_cli_duration_ends_cleanly(tmp_path: Path) -> None:
    state_file = tmp_path / "lab.json"
    proc = lab_cli("--state-file", str(state_file), "--duration", "0.2", "--name", "da2.lab.test")
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 0, err
    assert "da2.lab.test" in out
    assert json.loads(state_file.read_text())["url"].startswith("https://da2.lab.test:")


def test_cli_refuses_non_loopback_listen() -> None:
    proc = lab_cli("--listen", "192.0.2.1:4443")
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 3
    assert "loopback" in err


def test_self_signed_lab_with_the_lab_profile_could_report(capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    # Issue 11: with only warnings the headline says "could", never "would", and exit is 1.
    from daserver_check.cli import main

    with LabEndpoint(LabConfig(faults=frozenset({"self-signed"}))) as lab:
        code = main(["probe", lab.url, "--connect", f"127.0.0.1:{lab.port}", "--ca-file",
                     str(lab.files.ca_file), "--profile", "lab"])
    text = capsys.readouterr().out
    assert code == 1
    assert "A DirectAccess client could report: 0x800B0109" in text
    assert "would report" not in text
