"""--proxy: the probe through a real HTTP proxy (Debian's tinyproxy) on loopback, and through a
TLS-intercepting stand-in written here (tinyproxy cannot intercept).

- pass-through: CONNECT allowed -> proxy.connect pass, the whole probe passes
- CONNECT denied (port not in ConnectPort) -> proxy.connect fail 0x2AFC/0x2AF9
- authentication required (BasicAuth) -> 407 -> proxy.connect fail
- interception: another certificate issuer through the proxy than directly -> fail
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daserver_check.cli import main
from daserver_check.lab.server import LabConfig, LabEndpoint
from daserver_check.probe.proxy import ProxySpec, ProxySpecError, parse_proxy_url
from tests.conftest import require_tool, stop_process

READY_WITHIN = 10.0


@pytest.fixture(scope="module")
def lab() -> Iterator[LabEndpoint]:
    with LabEndpoint() as endpoint:
        yield endpoint


@contextlib.contextmanager
def tinyproxy(extra: str) -> Iterator[int]:
    """tinyproxy in the foreground on 127.0.0.1, ready when it logs that it accepts."""
    binary = require_tool("tinyproxy")
    last = ""
    for _attempt in range(3):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with tempfile.TemporaryDirectory() as tmp:
            conf = Path(tmp) / "tinyproxy.conf"
            conf.write_text(f"Port {port}\nListen 127.0.0.1\nTimeout 10\nLogLevel Info\n"
                            f"MaxClients 20\n{extra}\n")
            process = subprocess.Popen([binary, "-d", "-c", str(conf)], stdout=subprocess.PIPE,
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
            assert process.stdout is not None
            try:
                if _wait_for_line(process, b"Accepting connections"):
                    yield port
                    return
                last = "tinyproxy exited or never accepted"
            finally:
                stop_process(process)
    pytest.fail(f"tinyproxy did not start: {last}")


def _wait_for_line(process: subprocess.Popen[bytes], marker: bytes) -> bool:
    """Read tinyproxy's log until `marker` (event-driven: select on its output, bounded)."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    seen = b""
    ready_by = time.monotonic() + READY_WITHIN
    while time.monotonic() < ready_by:
        readable, _, _ = select.select([fd], [], [], ready_by - time.monotonic())
        if not readable:
            return False
        chunk = process.stdout.read1(4096)  # type: ignore[attr-defined]
        if not chunk:
            return False
        seen += chunk
        if marker in seen:
            # Keep draining its log in the background so tinyproxy never blocks on a full pipe.
            threading.Thread(target=lambda: process.stdout.read(), daemon=True).start()  # type: ignore[union-attr]
            return True
    return False


def probe(lab: LabEndpoint, proxy: str, capsys: pytest.CaptureFixture[str], *extra: str,
          connect: str | None = None) -> dict[str, Any]:
    code = main(["probe", lab.url, "--connect", connect or f"127.0.0.1:{lab.port}",
                 "--proxy", proxy, "--ca-file", str(lab.ca_file), "--profile", "lab",
                 "--timeout", "4", "--format", "json", *extra])
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    report["exit"] = code
    return report


def one(report: dict[str, Any], fid: str) -> dict[str, Any]:
    (f,) = [f for f in report["targets"][0]["findings"] if f["id"] == fid]
    return f


def test_pass_through(lab: LabEndpoint, capsys: pytest.CaptureFixture[str]) -> None:
    with tinyproxy(f"ConnectPort {lab.port}") as port:
        report = probe(lab, f"http://127.0.0.1:{port}", capsys, "--router-discovery")
    bad = [f"{f['id']}={f['status']}: {f['detail']}" for f in report["targets"][0]["findings"]
           if f["status"] not in ("pass", "skip")]
    assert bad == []
    f = one(report, "proxy.connect")
    assert f["status"] == "pass"
    assert f["evidence"]["connect"] == f"127.0.0.1:{lab.port}"
    assert f["evidence"]["status"] == 200
    assert f["evidence"]["served_sha256"] == f["evidence"]["direct_sha256"]
    assert "not intercepted" in f["title"]
    # Through the proxy, the route is labelled with the CONNECT host, tcp.connect is the proxy.
    tcp = one(report, "tcp.connect")
    assert tcp["address"] == "127.0.0.1"
    assert "proxy" in tcp["detail"]
    assert one(report, "iphttps.post")["status"] == "pass"
    assert one(report, "iphttps.prefix")["status"] == "pass"  # RS/RA through the tunnel too
    assert report["exit"] == 0


def test_connect_denied(lab: LabEndpoint, capsys: pytest.CaptureFixture[str]) -> None:
    with tinyproxy("ConnectPort 443") as port:
        report = probe(lab, f"http://127.0.0.1:{port}", capsys)
    f = one(report, "proxy.connect")
    assert f["status"] == "fail"
    assert f["predicts"] == ["0x2AFC", "0x2AF9"]
    assert f["evidence"]["status"] == 403
    assert f["title"] == "The proxy refuses the CONNECT"
    assert f["remediation"]
    assert one(report, "tcp.connect")["status"] == "pass"  # the proxy itself is reachable
    assert one(report, "tls.handshake")["status"] == "skip"
    assert one(report, "iphttps.post")["status"] == "skip"
    assert report["exit"] == 2


def test_authentication_required(lab: LabEndpoint, capsys: pytest.CaptureFixture[str]) -> None:
    with tinyproxy(f"ConnectPort {lab.port}\nBasicAuth daprobe s3cret") as port:
        report = probe(lab, f"http://127.0.0.1:{port}", capsys)
    f = one(report, "proxy.connect")
    assert f["status"] == "fail"
    assert f["evidence"]["status"] == 407
    assert f["title"] == "The proxy requires authentication"
    assert f["predicts"] == ["0x2AFC", "0x2AF9"]
    assert any(h.lower().startswith("proxy-authenticate:") for h in f["evidence"]["headers"])
    assert report["exit"] == 2


def test_proxy_not_listening(lab: LabEndpoint, capsys: pytest.CaptureFixture[str],
                             unused_tcp_port: int) -> None:
    report = probe(lab, f"http://127.0.0.1:{unused_tcp_port}", capsys)
    f = one(report, "proxy.connect")
    assert (f["status"], f["evidence"]["outcome"]) == ("fail", "unreachable")
    assert "ProxyMgr" in f["remediation"]
    # Not reaching the proxy is not the server's TCP problem: no 0x274D for the server.
    assert one(report, "tcp.connect")["status"] == "skip"
    assert report["exit"] == 2


class InterceptingProxy:
    """Answers every CONNECT with 200 and splices the client to `upstream` instead: a TLS
    inspection box as the client sees it (another certificate, another issuer)."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)

    def __enter__(self) -> InterceptingProxy:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        with contextlib.suppress(OSError):
            self.listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept() on Linux
        self.listener.close()
        self.thread.join(5)

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client: socket.socket) -> None:
        with client, contextlib.suppress(OSError):
            client.settimeout(5)
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = client.recv(4096)
                if not chunk:
                    return
                head += chunk
            with socket.create_connection(self.upstream, timeout=5) as server:
                client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                pair = {client: server, server: client}
                while not self.stop.is_set():
                    readable, _, _ = select.select(list(pair), [], [], 0.5)
                    for sock in readable:
                        data = sock.recv(65536)
                        if not data:
                            return
                        pair[sock].sendall(data)


def test_tls_interception(lab: LabEndpoint, capsys: pytest.CaptureFixture[str]) -> None:
    # The "inspection" certificate: a second lab's, with another issuer (the lab's CA keys are
    # shared by every lab in the process, so the stand-in is its self-signed certificate).
    with LabEndpoint(LabConfig(faults=frozenset({"self-signed"}))) as other, \
            InterceptingProxy(("127.0.0.1", other.port)) as mitm:
        report = probe(lab, f"http://127.0.0.1:{mitm.port}", capsys)
    f = one(report, "proxy.connect")
    assert f["status"] == "fail", f
    assert f["title"] == "The proxy intercepts TLS"
    assert f["evidence"]["served_issuer"] != f["evidence"]["direct_issuer"]
    assert f["predicts"] == ["0x2AFC", "0x2AF9"]
    assert "TLS inspection" in f["remediation"]


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("http://127.0.0.1:3128", ProxySpec("127.0.0.1", 3128)),
        ("http://proxy.corp", ProxySpec("proxy.corp", 8080)),
        ("http://[::1]:8080/", ProxySpec("::1", 8080)),
    ],
)
def test_parse_proxy_url(text: str, spec: ProxySpec) -> None:
    assert parse_proxy_url(text) == spec


@pytest.mark.parametrize(
    "text",
    ["https://proxy:443", "proxy:8080", "http://user:pw@proxy:8080", "http://proxy:8080/x",
     "http://:8080", "http://proxy:99999", "http://proxy:0"],
)
def test_bad_proxy_url(text: str) -> None:
    with pytest.raises(ProxySpecError):
        parse_proxy_url(text)


def test_bad_proxy_is_one_line_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["probe", "https://da.lab.test/IPHTTPS", "--proxy", "http://u:secret@p:8080",
                 "--connect", "127.0.0.1"])
    err = capsys.readouterr().err
    assert code == 3
    assert "--proxy" in err
    assert "secret" not in err
