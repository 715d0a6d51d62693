"""The probe against hostile endpoints (tests/hostile/servers.py).

Each probe must end within --timeout plus a small margin, give a specific failing finding (the
stage that broke, with an outcome that names what happened), exit 2, print no traceback, and
keep its memory bounded. The probe runs in a subprocess, which reports its own peak RSS.
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.hostile import servers as hs

TIMEOUT = 2.0
MARGIN = 3.0  # generous: interpreter start-up plus a loaded CI machine
RSS_LIMIT_KB = 300 * 1024
RSS_OVER_BASELINE_KB = 16 * 1024  # a 10 MB chain held in memory would exceed this
REPO = Path(__file__).resolve().parents[2]

# Runs the CLI and appends the process's own peak RSS (KiB on Linux) to stderr.
RUNNER = """\
import resource, sys
from daserver_check.cli import main
code = main(sys.argv[1:])
sys.stderr.write("\\nPEAK_RSS_KB %d\\n" % resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
sys.exit(code)
"""


@dataclass(frozen=True)
class Run:
    code: int
    report: dict[str, Any]
    stderr: str
    wall: float
    rss_kb: int

    def findings(self, target: int = 0) -> list[dict[str, Any]]:
        return self.report["targets"][target]["findings"]  # type: ignore[no-any-return]

    def failing(self, target: int = 0) -> dict[str, dict[str, Any]]:
        return {f["id"]: f for f in self.findings(target) if f["status"] not in ("pass", "skip")}


def url(port: int) -> str:
    return f"https://{hs.NAME}:{port}/IPHTTPS"


def run_probe(*urls: str, timeout: float = TIMEOUT) -> Run:
    # --offline: the hostile servers' certificates name no CRL distribution point, and
    # revocation is not what these cases attack (tests/probe/test_served_crl.py covers it).
    args = ["probe", *urls, "--connect", "127.0.0.1", "--timeout", str(timeout),
            "--format", "json", "--ca-file", str(hs.ca_file()), "--offline"]
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-c", RUNNER, *args], capture_output=True, text=True,
                         cwd=REPO, timeout=60)
    wall = time.monotonic() - started
    assert "Traceback" not in out.stderr, out.stderr
    assert "internal error" not in out.stderr, out.stderr
    rss = int(out.stderr.rsplit("PEAK_RSS_KB", 1)[1].split()[0])
    return Run(out.returncode, json.loads(out.stdout), out.stderr, wall, rss)


@pytest.fixture(scope="module")
def baseline_rss_kb(unused_tcp_port_module: int) -> int:
    """Peak RSS of a probe that stops at once (connection refused): the interpreter, the
    libraries and one report, nothing a server sent."""
    run = run_probe(url(unused_tcp_port_module))
    assert run.failing().keys() == {"tcp.connect"}
    return run.rss_kb


@pytest.fixture(scope="module")
def unused_tcp_port_module() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@dataclass(frozen=True)
class Case:
    name: str
    behaviour: Callable[[], hs.Behaviour]
    finding: str  # the one failing finding
    outcome: str  # its evidence outcome (both handshakes for tls.handshake)
    says: str  # a piece of its detail

    def __str__(self) -> str:
        return self.name


CASES = [
    # -- before and during the TLS handshake
    Case("silent", lambda: hs.silent, "tls.handshake", "timed-out", "the server sent nothing"),
    Case("garbage instead of a ServerHello", lambda: hs.garbage(bytes(range(256)) * 4),
         "tls.handshake", "not-tls", "did not answer with TLS"),
    Case("plain HTTP on the port", lambda: hs.plain_http, "tls.handshake", "not-tls",
         "did not answer with TLS"),
    Case("drip one byte a second", lambda: hs.drip(1.0), "tls.handshake", "timed-out",
         "the server sent only"),
    Case("reset on accept", lambda: hs.reset_on_accept, "tls.handshake", "reset", "reset"),
    Case("close on accept", lambda: hs.close_on_accept, "tls.handshake", "closed", "closed"),
    Case("reset mid-handshake", lambda: hs.reset_mid_handshake, "tls.handshake", "reset",
         "reset the connection during the handshake"),
    Case("close after the ServerHello", hs.close_after_server_hello, "tls.handshake", "closed",
         "closed the connection during the handshake"),
    # An old server without RFC 5746 renegotiation_info is not refused by our client (Windows
    # clients accept it): the handshake goes on and meets the close, not a protocol error.
    Case("no secure renegotiation, then close", lambda: hs.close_after_server_hello(False),
         "tls.handshake", "closed", "closed the connection during the handshake"),
    Case("10 MB certificate chain", hs.huge_chain, "tls.handshake", "protocol-error",
         "larger than TLS clients accept"),
    Case("endless HelloRequests", lambda: hs.endless_hello_requests, "tls.handshake",
         "timed-out", "the server sent only"),
    Case("certificate with X.509 version 4", lambda: hs.after_post(
        hs.close_after_post, hs.invalid_version_leaf()), "tls.handshake", "protocol-error",
        "leaf certificate cannot be parsed"),
    Case("fatal alert", lambda: hs.alert, "tls.handshake", "rejected", "refused a handshake"),
    # -- after the handshake, in answer to the POST
    Case("endless headers", lambda: hs.after_post(hs.endless_headers), "iphttps.post",
         "malformed", "response head larger than"),
    Case("never-ending status line", lambda: hs.after_post(hs.endless_status_line),
         "iphttps.post", "malformed", "status line longer than"),
    Case("drip the answer", lambda: hs.after_post(hs.drip_answer(1.0)), "iphttps.post",
         "timed-out", "no complete answer"),
    Case("reset after the POST", lambda: hs.after_post(hs.reset_after_post), "iphttps.post",
         "reset", "reset the connection during the POST"),
    Case("close after the POST", lambda: hs.after_post(hs.close_after_post), "iphttps.post",
         "closed", "closed the connection without answering"),
    Case("half an answer, then close", lambda: hs.after_post(hs.half_answer), "iphttps.post",
         "malformed", "in the middle of its answer"),
    Case("not HTTP after TLS", lambda: hs.after_post(hs.not_http), "iphttps.post", "malformed",
         "not an HTTP status line"),
    Case("cleartext answer inside TLS", lambda: hs.after_post(hs.cleartext_answer),
         "iphttps.post", "tls-error", "not valid TLS"),
]


def outcomes(finding: dict[str, Any]) -> set[str]:
    evidence = finding["evidence"]
    if finding["id"] == "tls.handshake":
        return {evidence["encrypted"]["outcome"], evidence["null-only"]["outcome"]}
    return {evidence["outcome"]}


@pytest.mark.parametrize("case", CASES, ids=str)
def test_hostile_endpoint(case: Case, baseline_rss_kb: int) -> None:
    with hs.HostileServer(case.behaviour()) as server:
        run = run_probe(url(server.port))
    assert not server.errors, server.errors  # the hostile server itself worked as meant
    assert server.connections >= 1
    assert run.code == 2, run.stderr
    assert run.wall < TIMEOUT + MARGIN
    # The report's own clock (no interpreter start-up): the deadline plus closing up. The code
    # keeps 0.25 s of grace for its helper threads; the test allows 1 s so that a loaded CI
    # machine's scheduling is not taken for a deadline bug, while a step that ignored the
    # deadline (one more --timeout) still fails.
    assert run.report["duration_ms"] < (TIMEOUT + 1.0) * 1000
    failing = run.failing()
    assert failing.keys() == {case.finding}, failing
    finding = failing[case.finding]
    assert finding["status"] == "fail"
    assert finding["predicts"] == ["0x2AFC", "0x2AF9"]
    assert outcomes(finding) == {case.outcome}, finding["evidence"]
    assert case.says in finding["detail"], finding["detail"]
    assert run.rss_kb < RSS_LIMIT_KB
    assert run.rss_kb < baseline_rss_kb + RSS_OVER_BASELINE_KB, (run.rss_kb, baseline_rss_kb)


def test_all_hostile_endpoints_in_one_run() -> None:
    """Sixteen hostile targets probed concurrently by one command: each URL gets its own
    verdict, and the whole run still ends within one --timeout (16 = profile concurrency)."""
    chosen = CASES[:16]
    with contextlib.ExitStack() as stack:
        servers = [stack.enter_context(hs.HostileServer(case.behaviour())) for case in chosen]
        run = run_probe(*(url(s.port) for s in servers))
    assert run.code == 2
    assert run.wall < TIMEOUT + MARGIN
    for index, case in enumerate(chosen):
        failing = run.failing(index)
        assert failing.keys() == {case.finding}, (case.name, failing)
        assert outcomes(failing[case.finding]) == {case.outcome}, case.name
