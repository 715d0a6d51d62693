"""Real firewall behaviour, in a network namespace the test creates: nftables drop vs reject.

The probe runs inside the namespace (its own loopback), with --connect, so no packet leaves it.
- drop                      -> tcp.connect fail, timed out   -> 0x274C
- reject with tcp reset     -> tcp.connect fail, refused     -> 0x274D
- reject admin-prohibited   -> tcp.connect fail, unreachable
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.netfaults.netns import namespace

PORT = 443
URL = f"https://da.lab.test:{PORT}/IPHTTPS"


@pytest.fixture
def netns() -> Iterator[str]:
    with namespace("fw") as name:
        yield name


def nft(ns: str, rule: str) -> None:
    script = (
        "table inet dacheck {\n"
        "  chain output { type filter hook output priority 0; policy accept;\n"
        f"    tcp dport {PORT} {rule}\n"
        "  }\n"
        "}\n"
    )
    subprocess.run(["ip", "netns", "exec", ns, "nft", "-f", "-"], input=script, text=True,
                   check=True)


def probe_in(ns: str, timeout: str = "2") -> tuple[int, dict[str, object]]:
    out = subprocess.run(
        ["ip", "netns", "exec", ns, sys.executable, "-m", "daserver_check", "probe", URL,
         "--connect", "127.0.0.1", "--timeout", timeout, "--format", "json"],
        capture_output=True, text=True, timeout=60,
    )
    assert "Traceback" not in out.stderr
    return out.returncode, json.loads(out.stdout)


def tcp_finding(report: dict[str, object]) -> dict[str, object]:
    targets = report["targets"]
    assert isinstance(targets, list)
    (f,) = [f for f in targets[0]["findings"] if f["id"] == "tcp.connect"]
    return f  # type: ignore[no-any-return]


def test_drop_times_out_0x274c(netns: str) -> None:
    nft(netns, "drop")
    code, report = probe_in(netns, timeout="1.5")
    f = tcp_finding(report)
    assert (f["status"], f["predicts"]) == ("fail", ["0x274C"])
    assert f["evidence"]["outcome"] == "timed-out"  # type: ignore[index]
    assert code == 2
    assert isinstance(report["duration_ms"], int) and report["duration_ms"] < 6000


def test_reject_with_reset_is_refused_0x274d(netns: str) -> None:
    nft(netns, "reject with tcp reset")
    code, report = probe_in(netns)
    f = tcp_finding(report)
    assert (f["status"], f["predicts"]) == ("fail", ["0x274D"])
    assert f["evidence"]["outcome"] == "refused"  # type: ignore[index]
    assert code == 2


def test_reject_admin_prohibited_is_unreachable(netns: str) -> None:
    nft(netns, "reject with icmpx type admin-prohibited")
    code, report = probe_in(netns)
    f = tcp_finding(report)
    assert f["status"] == "fail"
    assert f["evidence"]["outcome"] == "unreachable"  # type: ignore[index]
    assert code == 2
