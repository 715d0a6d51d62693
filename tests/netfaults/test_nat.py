"""The behind-edge NAT mistake (KB 2980635: "NAT device is configured incorrectly"), for real:
nftables DNAT in a network namespace the test creates sends TCP 443 of the server's public
address to the wrong port or the wrong host.

Inside the namespace, on its loopback: 192.0.2.10 is the DirectAccess server's public address
(what the client dials, port 443), 192.0.2.20 an internal web server. Servers are started in
the namespace by a thread that joined it (setns), the probe runs there with `ip netns exec`, so
no packet leaves the namespace.

| NAT rule: 192.0.2.10:443 -> ...     | what answers              | verdict                        |
|-------------------------------------|---------------------------|--------------------------------|
| 192.0.2.20:8443 (control)           | the healthy lab           | exit 0                         |
| 192.0.2.10:8080 (wrong port)        | a plain HTTP server       | tls.handshake not-tls          |
| 192.0.2.10:8081 (wrong port)        | nothing                   | tcp.connect refused 0x274D     |
| 192.0.2.99:443 (wrong host, gone)   | nobody (no route)         | tcp.connect timed out 0x274C   |
| 192.0.2.20:9443 (wrong host)        | another HTTPS site        | cert.subject-name 0x103, 404   |
"""

from __future__ import annotations

import ctypes
import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from daserver_check.lab.server import LabConfig, LabEndpoint
from tests.hostile import servers as hs
from tests.netfaults.netns import namespace

PUBLIC = "192.0.2.10"
INTERNAL = "192.0.2.20"
GONE = "192.0.2.99"
URL = "https://da.lab.test/IPHTTPS"  # port 443
CLONE_NEWNET = 0x40000000
REPO = Path(__file__).resolve().parents[2]

T = TypeVar("T")


@pytest.fixture(scope="module")
def netns() -> Iterator[str]:
    with namespace("nat", ["addr", "add", f"{PUBLIC}/32", "dev", "lo"],
                   ["addr", "add", f"{INTERNAL}/32", "dev", "lo"]) as name:
        yield name


def in_netns(ns: str, fn: Callable[[], T]) -> T:
    """Run `fn` in a new thread that joined the namespace (setns is per thread); sockets it
    creates stay in the namespace whichever thread uses them later."""
    box: list[T] = []
    errors: list[BaseException] = []

    def body() -> None:
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(f"/run/netns/{ns}", os.O_RDONLY)
            try:
                if libc.setns(fd, CLONE_NEWNET) != 0:
                    err = ctypes.get_errno()
                    raise OSError(err, f"setns: {os.strerror(err)}")
            finally:
                os.close(fd)
            box.append(fn())
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    thread.join(30)
    if errors:
        raise errors[0]
    assert box, "the namespace thread did not finish"
    return box[0]


def listener(address: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((address, port))
    return sock


def nat_to(ns: str, destination: str) -> None:
    """Replace the namespace's NAT rules: PUBLIC:443 goes to `destination` (ADDR:PORT)."""
    script = (
        "flush ruleset\n"
        "table ip dacheck_nat {\n"
        "  chain output { type nat hook output priority -100; policy accept;\n"
        f"    ip daddr {PUBLIC} tcp dport 443 dnat to {destination}\n"
        "  }\n"
        "}\n"
    )
    subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=script, text=True,
                   check=True)


def probe_in(ns: str, *extra: str, timeout: str = "2") -> tuple[int, dict[str, Any]]:
    out = subprocess.run(
        ["ip", "netns", "exec", ns, sys.executable, "-m", "daserver_check", "probe", URL,
         "--connect", PUBLIC, "--timeout", timeout, "--format", "json", *extra],
        capture_output=True, text=True, timeout=60, cwd=REPO,
    )
    assert "Traceback" not in out.stderr, out.stderr
    return out.returncode, json.loads(out.stdout)


def failing(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    findings = report["targets"][0]["findings"]
    return {f["id"]: f for f in findings if f["status"] not in ("pass", "skip")}


@pytest.fixture(scope="module")
def lab_in_ns(netns: str) -> Iterator[LabEndpoint]:
    """The healthy lab, listening on the internal address inside the namespace."""
    lab = in_netns(netns, lambda: LabEndpoint(LabConfig(host=INTERNAL, port=8443)).start())
    try:
        yield lab
    finally:
        lab.stop()


def test_control_correct_port_forward_passes(netns: str, lab_in_ns: LabEndpoint) -> None:
    """The rule done right: the same setup reaches the DirectAccess server and passes, so the
    failures below come from the rule, not from the namespace."""
    nat_to(netns, f"{INTERNAL}:{lab_in_ns.port}")
    code, report = probe_in(netns, "--ca-file", str(lab_in_ns.ca_file), "--profile", "lab")
    assert failing(report) == {}
    assert code == 0


def test_forward_to_a_plain_http_port_is_not_tls(netns: str, lab_in_ns: LabEndpoint) -> None:
    nat_to(netns, f"{PUBLIC}:8080")
    http = in_netns(netns, lambda: listener(PUBLIC, 8080))
    with hs.HostileServer(hs.plain_http, listener=http) as server:
        code, report = probe_in(netns, "--ca-file", str(lab_in_ns.ca_file))
    assert server.connections >= 1
    found = failing(report)
    assert found.keys() == {"tls.handshake"}
    evidence = found["tls.handshake"]["evidence"]
    assert evidence["encrypted"]["outcome"] == evidence["null-only"]["outcome"] == "not-tls"
    assert found["tls.handshake"]["predicts"] == ["0x2AFC", "0x2AF9"]
    assert "NAT" in found["tls.handshake"]["remediation"]
    assert code == 2


def test_forward_to_a_closed_port_is_refused_0x274d(netns: str) -> None:
    nat_to(netns, f"{PUBLIC}:8081")
    code, report = probe_in(netns)
    found = failing(report)
    assert found.keys() == {"tcp.connect"}
    assert found["tcp.connect"]["predicts"] == ["0x274D"]
    assert found["tcp.connect"]["evidence"]["outcome"] == "refused"
    assert code == 2


def test_forward_to_a_host_that_is_gone_times_out_0x274c(netns: str) -> None:
    nat_to(netns, f"{GONE}:443")
    code, report = probe_in(netns, timeout="1.5")
    found = failing(report)
    assert found.keys() == {"tcp.connect"}
    assert found["tcp.connect"]["predicts"] == ["0x274C"]
    assert found["tcp.connect"]["evidence"]["outcome"] == "timed-out"
    assert code == 2
    assert report["duration_ms"] < 1500 + 1000


def test_forward_to_another_https_site_fails_on_name_and_post(netns: str) -> None:
    """The NAT rule sends 443 to the company's web server: TLS works, but its certificate
    names another host (0x103) and it does not know the IP-HTTPS path (404)."""
    other = in_netns(netns, lambda: LabEndpoint(
        LabConfig(host=INTERNAL, port=9443, faults=frozenset({"wrong-name", "not-iphttps"}))
    ).start())
    try:
        nat_to(netns, f"{INTERNAL}:{other.port}")
        code, report = probe_in(netns, "--ca-file", str(other.ca_file))
    finally:
        other.stop()
    found = failing(report)
    assert found["cert.subject-name"]["predicts"] == ["0x103"]
    assert found["iphttps.post"]["evidence"]["status"] == 404
    assert "tcp.connect" not in found and "tls.handshake" not in found
    assert code == 2
