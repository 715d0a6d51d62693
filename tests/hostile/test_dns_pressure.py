"""Deadlines hold against hostile DNS (issue 14 item 4).

- A name with 4000 A records (one 64 KiB answer, over TCP after the truncated UDP one): the
  probe connects to 16 of them, the ones a client tries first, reports the rest as not probed,
  and ends within --timeout + 1 s with its peak RSS under 100 MB.
- A silent resolver beside a good one: the good answer lets the probe go on, and the TLS stage
  keeps its own time (no "no handshake within 0.0 s").

Every address is on loopback: 127.0.0.0/8 for the A records, ::1 for the one AAAA record, and a
closed port, so nothing leaves the host; dnsmasq serves the zone on 127.0.0.1.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daserver_check.lab.server import LabConfig, LabEndpoint
from daserver_check.probe.deadline import Deadline
from daserver_check.probe.dns import (
    MAX_PROBED_ADDRESSES,
    STRAGGLER_GRACE,
    DnsOutcome,
    resolve_host,
)
from tests.probe.conftest import DnsServer, UdpServer, run_dnsmasq

REPO = Path(__file__).resolve().parents[2]
RECORDS = 4000
RSS_LIMIT_KB = 100 * 1024
ACCEPTED_OVERRUN = 1.0  # the acceptance line: within --timeout + 1 s
START_UP = 5.0  # interpreter start-up and imports on a loaded machine, outside the probe

# Runs the CLI and appends its own peak RSS (KiB) to stderr: VmHWM of /proc/self/status, the
# high-water mark of this program's memory. getrusage's ru_maxrss would not do: Linux carries
# the parent's peak over exec, and the parent here is a pytest process that may be larger.
RUNNER = """\
import sys
from daserver_check.cli import main
code = main(sys.argv[1:])
with open("/proc/self/status") as status:
    peak = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
sys.stderr.write("\\nPEAK_RSS_KB %s\\n" % peak)
sys.exit(code)
"""


def _address(index: int) -> str:
    return f"127.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}"


@pytest.fixture(scope="module")
def many_records() -> Iterator[DnsServer]:
    # One option per record (dnsmasq drops root before it would read a hosts file in a
    # private temporary folder); ::1 is the one AAAA record, last in the probing order.
    records = [f"--host-record=many.lab.test,{_address(i)}" for i in range(1, RECORDS + 1)]
    with run_dnsmasq(("--local=/lab.test/", "--host-record=many.lab.test,::1", *records,
                      "--host-record=da.lab.test,127.0.0.1")) as server:
        yield server


def _run(args: list[str]) -> tuple[int, dict[str, Any], str, float, int]:
    started = time.monotonic()
    out = subprocess.run([sys.executable, "-c", RUNNER, *args], capture_output=True, text=True,
                         cwd=REPO, timeout=120, stdin=subprocess.DEVNULL)
    wall = time.monotonic() - started
    assert "Traceback" not in out.stderr, out.stderr
    assert "internal error" not in out.stderr, out.stderr
    rss = int(out.stderr.rsplit("PEAK_RSS_KB", 1)[1].split()[0])
    return out.returncode, json.loads(out.stdout), out.stderr, wall, rss


def test_4000_a_records_probe_16_addresses_within_the_deadline(
    many_records: DnsServer, unused_tcp_port: int
) -> None:
    timeout = 4.0
    code, report, err, wall, rss = _run([
        "probe", f"https://many.lab.test:{unused_tcp_port}/IPHTTPS",
        "--resolver", many_records.spec, "--timeout", str(timeout), "--format", "json"])
    assert code == 2, err  # every probed address refuses the connection
    target = report["targets"][0]
    assert report["duration_ms"] / 1000 < timeout + ACCEPTED_OVERRUN
    assert wall < timeout + ACCEPTED_OVERRUN + START_UP
    assert rss < RSS_LIMIT_KB, f"peak RSS {rss} KiB"
    findings = target["findings"]
    resolve = next(f for f in findings if f["id"] == "dns.resolve")
    assert resolve["status"] == "pass"
    assert len(resolve["evidence"]["addresses"]) == RECORDS + 1  # all were read
    probed = [f["address"] for f in findings if f["id"] == "tcp.connect"]
    assert len(probed) == MAX_PROBED_ADDRESSES
    assert all(":" not in a for a in probed)  # IPv4 first: ::1 is not among the first 16
    summary = next(f for f in findings if f["id"] == "probe.entry-points")
    evidence = summary["evidence"]
    assert evidence["not_probed_count"] == RECORDS + 1 - MAX_PROBED_ADDRESSES
    assert len(evidence["not_probed"]) <= 32  # the list is bounded, the count is whole
    assert not set(evidence["not_probed"]) & set(probed)
    assert "not probed" in summary["detail"]
    assert len(json.dumps(report)) < 4 * 1024 * 1024


def test_probe_order_is_ipv4_first_in_the_resolvers_order(many_records: DnsServer) -> None:
    result = resolve_host("many.lab.test", [many_records.spec], Deadline(20))
    addresses = result.addresses
    assert addresses, result
    assert addresses[-1] == "::1"
    a_query = next(q for q in result.queries if q.rrtype == "A")
    assert addresses[:RECORDS] == a_query.addresses


def test_silent_resolver_beside_a_good_one_does_not_hold_the_probe(
    many_records: DnsServer,
) -> None:
    with UdpServer(None) as silent:
        started = time.monotonic()
        result = resolve_host("da.lab.test", [silent.server.spec, many_records.spec],
                              Deadline(30))
        elapsed = time.monotonic() - started
    # The good answer ends the wait after the grace, long before the 30 s deadline.
    assert elapsed < STRAGGLER_GRACE + 10
    silent_outcomes = {q.outcome for q in result.queries if q.resolver == silent.server.spec}
    assert silent_outcomes == {DnsOutcome.TIMEOUT}
    assert all("went on with the answer of " + many_records.spec in q.detail
               for q in result.queries if q.resolver == silent.server.spec)
    assert result.addresses == ("127.0.0.1",)


def test_silent_and_good_resolver_against_the_healthy_lab() -> None:
    """The acceptance line: exit 0 or 1, and no tls.handshake failure."""
    with UdpServer(None) as silent, LabEndpoint(LabConfig()) as lab:
        code, report, _err, _wall, _rss = _run([
            "probe", lab.url, "--resolver", silent.server.spec, "--resolver", lab.resolver,
            "--ca-file", str(lab.ca_file), "--profile", "lab", "--timeout", "4",
            "--format", "json"])
    findings = {f["id"]: f for f in report["targets"][0]["findings"]}
    assert code in (0, 1), json.dumps(findings, indent=1)
    assert findings["tls.handshake"]["status"] == "pass", findings["tls.handshake"]
    assert findings["dns.consistency"]["status"] == "warn"  # the silent one is named
