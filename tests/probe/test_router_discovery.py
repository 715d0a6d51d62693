"""Router discovery over the IP-HTTPS tunnel (iphttps.prefix).

- against the lab, end to end through the CLI: healthy, no-ra, no-prefix, bad-prefix;
- `solicit` against a scripted TLS connection (hostile servers: garbage, RAs a host would
  discard, chatter, close, an RA split across records or sent with the 200);
- the lab's own tunnel side, with a real client (stdlib ssl), not the probe.
"""

from __future__ import annotations

import contextlib
import json
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from OpenSSL import SSL

from daserver_check.checks.router_discovery import prefix_finding
from daserver_check.cli import main
from daserver_check.lab.server import LabConfig, LabEndpoint, router_advertisement
from daserver_check.model import Status
from daserver_check.probe.deadline import Deadline
from daserver_check.probe.router_discovery import (
    PrefixInfo,
    RdOutcome,
    RouterAdvertisement,
    RouterDiscoveryResult,
    build_router_solicitation,
    check_router_advertisement,
    solicit,
)
from daserver_check.protocol.ipv6_stream import (
    Ipv6StreamSplitter,
    build_packet,
    icmpv6_checksum,
    parse_header,
)

POST = b"POST /IPHTTPS HTTP/1.1\r\nHost: da.lab.test\r\nContent-Length: 18446744073709551615\r\n\r\n"


# -- end to end against the lab ---------------------------------------------------------------


@pytest.fixture
def lab(request: pytest.FixtureRequest) -> Iterator[LabEndpoint]:
    with LabEndpoint(LabConfig(faults=frozenset(getattr(request, "param", ())))) as endpoint:
        yield endpoint


def probe(lab: LabEndpoint, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    code = main(["probe", lab.url, "--resolver", lab.resolver, "--ca-file", str(lab.ca_file),
                 "--profile", "lab", "--format", "json", *extra])
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    report["exit"] = code
    return report


def prefix(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [f for f in report["targets"][0]["findings"] if f["id"] == "iphttps.prefix"]


def test_healthy_lab_advertises_a_64(lab: LabEndpoint, capsys: pytest.CaptureFixture[str]) -> None:
    report = probe(lab, capsys, "--router-discovery")
    (f,) = prefix(report)
    assert f["status"] == "pass", f
    assert f["address"] == "127.0.0.1"
    ra = f["evidence"]["advertisement"]
    assert ra["source"] == "fe80::1"
    assert ra["mtu"] == 1280
    (p,) = ra["prefixes"]
    assert p == {"prefix": "2001:db8:4a11:1::/64", "on_link": True, "autonomous": True,
                 "valid_lifetime": 30 * 86400, "preferred_lifetime": 7 * 86400}
    assert report["exit"] == 0


def test_router_discovery_is_opt_in(lab: LabEndpoint, capsys: pytest.CaptureFixture[str]) -> None:
    assert prefix(probe(lab, capsys)) == []


def test_profile_turns_router_discovery_on(
    lab: LabEndpoint, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    profile = tmp_path / "rd.toml"
    profile.write_text("schema = 1\n[dns]\nallow_private = true\n[cert]\ncheck_crl = false\n"
                       "[iphttps]\nrouter_discovery = true\n")
    report = probe(lab, capsys, "--profile", str(profile))
    (f,) = prefix(report)
    assert f["status"] == "pass"


@pytest.mark.parametrize(
    ("lab", "words", "outcome"),
    [
        pytest.param(("no-ra",), "No Router Advertisement", "no-answer", id="no-ra"),
        pytest.param(("no-prefix",), "no prefix", "advertised", id="no-prefix"),
        pytest.param(("bad-prefix",), "/59", "advertised", id="bad-prefix"),
    ],
    indirect=["lab"],
)
def test_lab_prefix_faults(
    lab: LabEndpoint, capsys: pytest.CaptureFixture[str], words: str, outcome: str
) -> None:
    report = probe(lab, capsys, "--router-discovery", "--timeout", "1.5")
    (f,) = prefix(report)
    assert f["status"] == "fail", f
    assert f["predicts"] == ["0x2AFC", "0x2AF9"]
    assert words in f["title"] + f["detail"]
    assert f["evidence"]["outcome"] == outcome
    assert f["remediation"]
    assert report["exit"] == 2
    # The rest of the probe is healthy: only the prefix fails.
    assert [x["id"] for x in report["targets"][0]["findings"] if x["status"] == "fail"] == [
        "iphttps.prefix"]
    assert report["duration_ms"] < 6000


@pytest.mark.parametrize("lab", [("not-iphttps",)], indirect=True)
def test_no_200_skips_the_prefix(lab: LabEndpoint, capsys: pytest.CaptureFixture[str]) -> None:
    (f,) = prefix(probe(lab, capsys, "--router-discovery"))
    assert f["status"] == "skip"
    assert "200" in f["detail"]


# -- solicit against a scripted connection --------------------------------------------------


class Scripted:
    """Stands in for a pyOpenSSL connection: recv() plays the script, then wants to read.
    None in the script is a clean close; an exception instance is raised."""

    def __init__(self, script: list[bytes | Exception | None]) -> None:
        self.script = list(script)
        self.sent = b""

    def send(self, data: Any) -> int:
        self.sent += bytes(data)
        return len(data)

    def recv(self, limit: int) -> bytes:
        if not self.script:
            raise SSL.WantReadError()
        item = self.script.pop(0)
        if item is None:
            raise SSL.ZeroReturnError()
        if isinstance(item, Exception):
            raise item
        return item


@pytest.fixture
def quiet_socket() -> Iterator[socket.socket]:
    """A socket that never becomes readable, for the waits between scripted chunks."""
    a, b = socket.socketpair()
    with a, b:
        yield a


def run(script: list[bytes | Exception | None], sock: socket.socket, pending: bytes = b"",
        seconds: float = 0.3, **kw: Any) -> tuple[RouterDiscoveryResult, Scripted]:
    conn = Scripted(script)
    return solicit(conn, sock, Deadline(seconds), pending=pending, **kw), conn  # type: ignore[arg-type]


def with_hop_limit(packet: bytes, hop_limit: int) -> bytes:
    return packet[:7] + bytes([hop_limit]) + packet[8:]


RA = router_advertisement(())


def test_sends_exactly_one_router_solicitation(quiet_socket: socket.socket) -> None:
    result, conn = run([RA], quiet_socket)
    assert result.outcome is RdOutcome.ADVERTISED
    (packet,) = Ipv6StreamSplitter().feed(conn.sent)
    header = parse_header(packet)
    assert (header.source, header.destination, header.hop_limit, header.next_header) == (
        "::", "ff02::2", 255, 58)
    assert packet[40] == 133
    assert packet == build_router_solicitation()


def test_ra_split_across_records(quiet_socket: socket.socket) -> None:
    result, _ = run([RA[:3], RA[3:50], RA[50:]], quiet_socket)
    assert result.outcome is RdOutcome.ADVERTISED
    assert result.advertisement is not None
    assert [p.length for p in result.advertisement.prefixes] == [64]


def test_ra_that_came_with_the_200(quiet_socket: socket.socket) -> None:
    result, conn = run([], quiet_socket, pending=RA)
    assert result.outcome is RdOutcome.ADVERTISED
    assert conn.sent == b""  # the answer was already there: nothing sent at all


def test_other_packets_are_skipped(quiet_socket: socket.socket) -> None:
    ns = build_packet("fe80::1", "ff02::1:ff00:1", 58, bytes([135, 0]) + bytes(22))
    result, _ = run([ns + ns, RA], quiet_socket)
    assert result.outcome is RdOutcome.ADVERTISED
    assert result.ignored == ("ICMPv6 type 135 from fe80::1",) * 2


@pytest.mark.parametrize(
    ("packet", "why"),
    [
        (with_hop_limit(RA, 64), "hop limit 64"),
        (RA[:42] + b"\x00\x00" + RA[44:], "checksum"),
        (router_advertisement((), destination="ff02::1")[:8]
         + bytes.fromhex("20010db8000000000000000000000001") + RA[24:], "not link-local"),
    ],
    ids=["hop-limit", "checksum", "source"],
)
def test_ras_a_host_discards_do_not_count(
    quiet_socket: socket.socket, packet: bytes, why: str
) -> None:
    result, _ = run([packet], quiet_socket)
    assert result.outcome is RdOutcome.NO_ANSWER
    assert any(why in text for text in result.ignored), result.ignored
    finding = prefix_finding(result, address="192.0.2.1")
    assert finding.status is Status.FAIL
    assert why in finding.detail


def test_option_of_length_zero_is_rejected_before_dissection() -> None:
    bad = bytearray(RA)
    bad[40 + 16 + 1] = 0  # the MTU option's length
    bad[42:44] = b"\x00\x00"
    bad[42:44] = icmpv6_checksum("fe80::1", "ff02::1", bytes(bad[40:])).to_bytes(2, "big")
    assert "length 0" in (check_router_advertisement(bytes(bad)) or "")
    assert check_router_advertisement(RA) is None


@pytest.mark.parametrize(
    ("script", "outcome"),
    [
        ([b"HTTP/1.1 400 Bad Request\r\n\r\n"], RdOutcome.GARBAGE),
        ([RA[:30], None], RdOutcome.GARBAGE),  # closed inside a packet: truncated
        ([None], RdOutcome.CLOSED),
        ([SSL.SysCallError(104, "ECONNRESET")], RdOutcome.RESET),
        ([], RdOutcome.NO_ANSWER),
    ],
    ids=["http", "truncated", "closed", "reset", "silent"],
)
def test_failures_are_outcomes(
    quiet_socket: socket.socket, script: list[bytes | Exception | None], outcome: RdOutcome
) -> None:
    result, _ = run(script, quiet_socket)
    assert result.outcome is outcome, result
    finding = prefix_finding(result, address="192.0.2.1")
    assert finding.status is Status.FAIL
    assert finding.predicts == (0x2AFC, 0x2AF9)


def test_chatter_is_bounded(quiet_socket: socket.socket) -> None:
    noise = build_packet("fe80::1", "ff02::1", 59, b"x" * 100)
    result, _ = run([noise] * 100, quiet_socket, seconds=5.0, max_packets=8)
    assert result.outcome is RdOutcome.TOO_MUCH
    assert result.packets == 8


def test_garbage_after_the_ra_still_finds_the_ra(quiet_socket: socket.socket) -> None:
    result, _ = run([RA + b"garbage"], quiet_socket)
    assert result.outcome is RdOutcome.ADVERTISED


def _result(*prefixes: PrefixInfo) -> RouterDiscoveryResult:
    ra = RouterAdvertisement("fe80::1", "ff02::1", 1800, 64, False, False, 1280, prefixes, ())
    return RouterDiscoveryResult(RdOutcome.ADVERTISED, "RA", ra, 1)


def test_prefix_verdicts() -> None:
    good = PrefixInfo("2001:db8::", 64, True, True, 86400, 3600)
    assert prefix_finding(_result(good), address="a").status is Status.PASS
    no_slaac = PrefixInfo("2001:db8::", 64, True, False, 86400, 3600)
    assert prefix_finding(_result(no_slaac), address="a").status is Status.WARN
    withdrawn = PrefixInfo("2001:db8::", 64, True, True, 0, 0)
    f = prefix_finding(_result(withdrawn), address="a")
    assert f.status is Status.FAIL
    assert "withdrawing" in f.detail
    # A /59 next to a /64: the /64 is what a client uses.
    cluster = PrefixInfo("2001:db8::", 59, True, True, 86400, 3600)
    assert prefix_finding(_result(cluster, good), address="a").status is Status.PASS
    error = RouterDiscoveryResult(RdOutcome.ERROR, "no scapy")
    assert prefix_finding(error, address="a").status is Status.ERROR


# -- the lab's tunnel, with a client that is not the probe ----------------------------------


def tunnel(lab: LabEndpoint) -> ssl.SSLSocket:
    ctx = ssl.create_default_context(cafile=str(lab.ca_file))
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    sock = socket.create_connection((lab.config.host, lab.port), timeout=3)
    tls = ctx.wrap_socket(sock, server_hostname=lab.config.name)
    tls.sendall(POST)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = tls.recv(4096)
        assert chunk
        head += chunk
    assert head.startswith(b"HTTP/1.1 200 OK")
    return tls


def test_lab_answers_each_solicitation(lab: LabEndpoint) -> None:
    rs = build_router_solicitation()
    with tunnel(lab) as tls:
        tls.sendall(rs + rs[:10])
        splitter = Ipv6StreamSplitter()
        packets: list[bytes] = []
        while not packets:
            packets += splitter.feed(tls.recv(4096))
        assert packets == [RA]
        tls.sendall(rs[10:])
        while len(packets) < 2:
            packets += splitter.feed(tls.recv(4096))
        assert packets == [RA, RA]


def test_lab_drops_the_session_on_non_ipv6_data(lab: LabEndpoint) -> None:
    with tunnel(lab) as tls:
        tls.sendall(b"GET / HTTP/1.1\r\n\r\n")
        with contextlib.suppress(ConnectionResetError, ssl.SSLError):
            assert tls.recv(4096) == b""
