"""The TLS stage against TLS servers nobody here wrote: `openssl s_server`.

null-only server   -> tls.null-cipher pass, tls.handshake warn (fail with Windows 7 clients)
encrypted-only     -> tls.handshake pass, tls.null-cipher warn
"""

from __future__ import annotations

import json
import select
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from daserver_check.cli import main
from tests.conftest import require_tool
from tests.probe.openssl_server import free_port, make_cert

NAME = "da.lab.test"


@dataclass
class SServer:
    port: int
    ca_file: Path


@pytest.fixture(scope="module")
def cert_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_cert(tmp_path_factory.mktemp("sserver"))


def _start(cert_files: tuple[Path, Path], *tls_args: str) -> Iterator[SServer]:
    openssl = require_tool("openssl")
    key, cert = cert_files
    port = free_port()
    proc = subprocess.Popen(
        [openssl, "s_server", "-accept", f"127.0.0.1:{port}", "-cert", str(cert), "-key",
         str(key), "-www", *tls_args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    try:
        # s_server prints ACCEPT once it listens; wait for that line (bounded), not a sleep.
        assert proc.stdout is not None
        seen = b""
        while b"ACCEPT" not in seen:
            ready, _, _ = select.select([proc.stdout], [], [], 10)
            chunk = proc.stdout.read1(4096) if ready else b""  # type: ignore[attr-defined]
            if not chunk:
                pytest.fail(f"openssl s_server did not start: {seen!r}")
            seen += chunk
        yield SServer(port, cert)
    finally:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def null_only_server(cert_files: tuple[Path, Path]) -> Iterator[SServer]:
    yield from _start(cert_files, "-tls1_2", "-cipher", "NULL-SHA256:NULL-SHA:@SECLEVEL=0")


@pytest.fixture
def encrypted_only_server(cert_files: tuple[Path, Path]) -> Iterator[SServer]:
    yield from _start(cert_files, "-cipher", "ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA")


def probe(server: SServer, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    code = main(["probe", f"https://{NAME}:{server.port}/IPHTTPS", "--connect", "127.0.0.1",
                 "--ca-file", str(server.ca_file), "--timeout", "5", "--format", "json", *extra])
    out = capsys.readouterr().out
    report: dict[str, Any] = json.loads(out)
    report["exit"] = code
    return report


def finding(report: dict[str, Any], fid: str) -> dict[str, Any]:
    (f,) = [f for f in report["targets"][0]["findings"] if f["id"] == fid]
    return f


def test_null_only_server(null_only_server: SServer, capsys: pytest.CaptureFixture[str]) -> None:
    report = probe(null_only_server, capsys)
    assert finding(report, "tls.null-cipher")["status"] == "pass"
    assert "NULL" in finding(report, "tls.null-cipher")["evidence"]["cipher"]
    handshake = finding(report, "tls.handshake")
    assert handshake["status"] == "warn"
    assert handshake["evidence"]["encrypted"]["outcome"] == "rejected"


def test_null_only_server_fails_windows7(
    null_only_server: SServer, capsys: pytest.CaptureFixture[str]
) -> None:
    report = probe(null_only_server, capsys, "--profile", "windows7")
    handshake = finding(report, "tls.handshake")
    assert handshake["status"] == "fail"
    assert handshake["predicts"] == ["0x2AFC", "0x2AF9"]
    assert report["exit"] == 2


def test_encrypted_only_server(
    encrypted_only_server: SServer, capsys: pytest.CaptureFixture[str]
) -> None:
    report = probe(encrypted_only_server, capsys)
    assert finding(report, "tls.handshake")["status"] == "pass"
    null = finding(report, "tls.null-cipher")
    assert null["status"] == "warn"
    assert null["evidence"]["offered"] is False
    # The certificate facts come from the served chain even though s_server is not IP-HTTPS.
    assert finding(report, "cert.subject-name")["status"] == "pass"
    assert finding(report, "iphttps.server")["status"] in ("warn", "skip")
