"""`daserver-check trace` on a real routed path the test builds: three network namespaces,

    client 10.X.1.2 --veth-- 10.X.1.1 router 10.X.2.1 --veth-- 10.X.2.2 server

with forwarding on the router and nftables rules in its forward chain. The trace runs inside the
client namespace, so no packet leaves the namespaces.
- no rule:                      the SYNs reach the server at hop 2       -> trace.path pass
- drop TCP 443 on the router:   the SYNs stop at hop 1 (the router)      -> fail, 0x274C
- reject admin-prohibited:      the router rejects at hop 2              -> fail, 0x274C
- without raw-socket rights:    a clear message and exit 3
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import require_root, require_tool

PORT = 443
URL = f"https://da.lab.test:{PORT}/IPHTTPS"


@dataclass(frozen=True)
class Path3:
    client: str
    router: str
    server: str
    router_near: str  # the router's address on the client side: what hop 1 answers from
    server_address: str


def _run(*args: str, input_text: str | None = None) -> None:
    done = subprocess.run(list(args), input=input_text, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)}: {done.stderr.strip()}")


@pytest.fixture(scope="module")
def path3() -> Iterator[Path3]:
    require_root()
    ip = require_tool("ip")
    require_tool("nft")
    tag = f"{os.getpid() % 100000}"
    net = 100 + os.getpid() % 100  # 10.<net>.1.0/24 and 10.<net>.2.0/24, inside the namespaces
    names = Path3(f"dac-c{tag}", f"dac-r{tag}", f"dac-s{tag}", f"10.{net}.1.1", f"10.{net}.2.2")
    created: list[str] = []
    try:
        for ns in (names.client, names.router, names.server):
            done = subprocess.run([ip, "netns", "add", ns], capture_output=True, text=True)
            if done.returncode != 0:
                message = f"cannot create a network namespace: {done.stderr.strip()}"
                if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
                    pytest.fail(message)
                pytest.skip(message)
            created.append(ns)
        # veth names: at most 15 characters.
        _run(ip, "link", "add", f"c{tag}", "netns", names.client, "type", "veth",
             "peer", "name", f"rc{tag}", "netns", names.router)
        _run(ip, "link", "add", f"s{tag}", "netns", names.server, "type", "veth",
             "peer", "name", f"rs{tag}", "netns", names.router)
        for ns, dev, cidr in (
            (names.client, f"c{tag}", f"10.{net}.1.2/24"),
            (names.router, f"rc{tag}", f"10.{net}.1.1/24"),
            (names.router, f"rs{tag}", f"10.{net}.2.1/24"),
            (names.server, f"s{tag}", f"10.{net}.2.2/24"),
        ):
            _run(ip, "-n", ns, "addr", "add", cidr, "dev", dev)
            _run(ip, "-n", ns, "link", "set", dev, "up")
        for ns in created:
            _run(ip, "-n", ns, "link", "set", "lo", "up")
        _run(ip, "-n", names.client, "route", "add", "default", "via", f"10.{net}.1.1")
        _run(ip, "-n", names.server, "route", "add", "default", "via", f"10.{net}.2.1")
        _run(ip, "netns", "exec", names.router, "sysctl", "-qw", "net.ipv4.ip_forward=1")
        # No ICMP rate limit on the router: every probe gets its answer.
        _run(ip, "netns", "exec", names.router, "sysctl", "-qw", "net.ipv4.icmp_ratelimit=0")
        yield names
    finally:
        for ns in created:
            subprocess.run([ip, "netns", "del", ns], check=False)


@pytest.fixture
def router_rule(path3: Path3) -> Iterator[Any]:
    """Set one rule for TCP 443 in the router's forward chain; removed after the test."""

    def apply(rule: str) -> None:
        script = (
            "table inet dacheck {\n"
            "  chain forward { type filter hook forward priority 0; policy accept;\n"
            f"    tcp dport {PORT} {rule}\n"
            "  }\n"
            "}\n"
        )
        _run("ip", "netns", "exec", path3.router, "nft", "-f", "-", input_text=script)

    yield apply
    subprocess.run(["ip", "netns", "exec", path3.router, "nft", "delete", "table", "inet",
                    "dacheck"], capture_output=True, check=False)


def trace_in(path3: Path3, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ip", "netns", "exec", path3.client, sys.executable, "-m",
         "daserver_check", "trace", URL, "--connect", path3.server_address, "--max-hops", "4",
         "--timeout", "1.5", "--format", "json", *extra],
        capture_output=True, text=True, timeout=60,
    )


def trace_finding(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert "Traceback" not in done.stderr, done.stderr
    report = json.loads(done.stdout)
    assert report["command"] == "trace"
    (f,) = [f for f in report["targets"][0]["findings"] if f["id"] == "trace.path"]
    return f  # type: ignore[no-any-return]


def test_without_a_rule_the_syns_reach_the_server(path3: Path3) -> None:
    done = trace_in(path3)
    f = trace_finding(done)
    assert f["status"] == "pass", f
    hops = f["evidence"]["hops"]
    assert [(h["ttl"], h["address"], h["kind"]) for h in hops] == [
        (1, path3.router_near, "time-exceeded"),
        (2, path3.server_address, "rst"),  # nothing listens: the server's kernel resets
    ]
    assert f["address"] == path3.server_address
    assert done.returncode == 0
    # A passing trace still shows its hop list in the text report.
    text = trace_in(path3, "--format", "text").stdout
    assert f"Path to {path3.server_address} port 443" in text
    assert path3.router_near in text and "time-exceeded" in text


def test_drop_on_the_router_names_the_router(path3: Path3, router_rule: Any) -> None:
    router_rule("drop")
    done = trace_in(path3)
    f = trace_finding(done)
    assert f["status"] == "fail", f
    assert f["predicts"] == ["0x274C"]
    assert f["evidence"]["stopped_at"] == {"hop": 1, "address": path3.router_near}
    assert f"hop 1 ({path3.router_near})" in f["detail"]
    assert path3.router_near in f["remediation"]
    assert [h["kind"] for h in f["evidence"]["hops"]] == ["time-exceeded", "silent"]
    assert done.returncode == 2


def test_reject_on_the_router_is_named_too(path3: Path3, router_rule: Any) -> None:
    router_rule("reject with icmpx type admin-prohibited")
    done = trace_in(path3)
    f = trace_finding(done)
    assert f["status"] == "fail", f
    assert f["evidence"]["outcome"] == "rejected"
    last = f["evidence"]["hops"][-1]
    assert (last["ttl"], last["address"], last["kind"]) == (2, path3.router_near, "unreachable")
    assert done.returncode == 2


def test_without_raw_socket_rights_exit_3(path3: Path3) -> None:
    setpriv = require_tool("setpriv")
    done = subprocess.run(
        [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups", "--inh-caps=-all",
         sys.executable, "-m", "daserver_check", "trace", URL, "--connect", "127.0.0.1"],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 3, done.stderr
    assert "Traceback" not in done.stderr
    assert "raw sockets" in done.stderr
    assert "CAP_NET_RAW" in done.stderr
    assert done.stdout == ""


# -- the verdict, without a network ----------------------------------------------------------


def test_interpret_verdicts() -> None:
    from daserver_check.checks.trace import trace_finding
    from daserver_check.probe.trace import Hop, HopKind, TraceOutcome, interpret

    nothing = interpret("192.0.2.10", 443, {}, 5)
    assert nothing.outcome is TraceOutcome.DROPPED
    assert "first router" in trace_finding(nothing).remediation

    # A middlebox that answers for the server from its own address (NAT / proxy in the way).
    nat = interpret("192.0.2.10", 443, {1: Hop(1, "198.51.100.1", HopKind.TIME_EXCEEDED),
                                        2: Hop(2, "198.51.100.2", HopKind.SYN_ACK)}, 5)
    assert nat.outcome is TraceOutcome.REACHED
    assert "middlebox" in nat.detail

    # Silence in the middle (a router that sends no ICMP) does not hide a later answer.
    gap = interpret("192.0.2.10", 443, {1: Hop(1, "198.51.100.1", HopKind.TIME_EXCEEDED),
                                        3: Hop(3, "192.0.2.10", HopKind.SYN_ACK)}, 5)
    assert gap.outcome is TraceOutcome.REACHED
    assert [h.kind for h in gap.hops] == [HopKind.TIME_EXCEEDED, HopKind.SILENT, HopKind.SYN_ACK]
    assert trace_finding(gap).status.value == "pass"
