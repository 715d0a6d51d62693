"""The dns stage against real servers on loopback (see conftest.py), and resolver specs."""

from __future__ import annotations

import json
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daserver_check.checks.dns import dns_findings
from daserver_check.model import Finding, Status
from daserver_check.probe.deadline import Deadline
from daserver_check.probe.dns import (
    DnsOutcome,
    DnsResult,
    ResolverSpecError,
    format_resolver,
    parse_resolver,
    resolve_host,
)

from .conftest import DnsServer, UdpServer

DEADLINE = 3.0  # generous: answers on loopback take milliseconds
SHORT = 1.0  # for the cases that must wait for the whole deadline
SLACK = 2.0  # "returned" means well within deadline + this, not a timing benchmark


def by_id(findings: list[Finding]) -> dict[str, Finding]:
    return {f.id: f for f in findings}


def outcomes(result: DnsResult) -> dict[tuple[str, str], DnsOutcome]:
    return {(q.resolver, q.rrtype): q.outcome for q in result.queries}


# --------------------------------------------------------------------------- parse_resolver


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("192.0.2.53", ("192.0.2.53", 53)),
        ("192.0.2.53:5353", ("192.0.2.53", 5353)),
        (" 127.0.0.1:53 ", ("127.0.0.1", 53)),
        ("::1", ("::1", 53)),
        ("2001:DB8::0:53", ("2001:db8::53", 53)),
        ("[::1]", ("::1", 53)),
        ("[2001:db8::53]:5353", ("2001:db8::53", 5353)),
        ("[::ffff:192.0.2.1]:53", ("::ffff:c000:201", 53)),
        ("127.0.0.1:65535", ("127.0.0.1", 65535)),
        ("127.0.0.1:1", ("127.0.0.1", 1)),
    ],
)
def test_parse_resolver_accepts(spec: str, expected: tuple[str, int]) -> None:
    assert parse_resolver(spec) == expected


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("dns.google", "not an IP address"),
        ("localhost:53", "not an IP address"),
        ("127.0.0.1:0", "port"),
        ("127.0.0.1:65536", "port"),
        ("127.0.0.1:", "port"),
        ("127.0.0.1:+53", "port"),
        ("127.0.0.1:٥٣", "port"),  # Arabic-Indic digits: int() would accept them
        ("127.1", "not an IP address"),
        ("[127.0.0.1]:53", "brackets are for IPv6"),
        ("[::1", "missing ']'"),
        ("[::1]53", "unexpected"),
        ("[::1]:x", "port"),
        ("fe80::1%eth0", "zone index"),
        ("0.0.0.0", "not a unicast"),
        ("ff02::1", "not a unicast"),
        ("1.2.3.4:53:53", "not an IP address"),
        ("1" * 200, "longer than"),
    ],
)
def test_parse_resolver_rejects_with_reason(spec: str, reason: str) -> None:
    with pytest.raises(ResolverSpecError, match=reason) as info:
        parse_resolver(spec)
    assert "\n" not in str(info.value)


@given(st.text(max_size=120))
def test_parse_resolver_never_raises_anything_else(spec: str) -> None:
    try:
        address, port = parse_resolver(spec)
    except ResolverSpecError as exc:
        assert "\n" not in str(exc)
    else:
        assert 1 <= port <= 65535
        # Whatever parses, formats to a label that parses back to the same server.
        assert parse_resolver(format_resolver(address, port)) == (address, port)


@given(st.ip_addresses(), st.integers(min_value=1, max_value=65535))
def test_format_resolver_round_trips(address: object, port: int) -> None:
    text = str(address)
    if getattr(address, "is_multicast", False) or getattr(address, "is_unspecified", False):
        with pytest.raises(ResolverSpecError):
            parse_resolver(format_resolver(text, port))
        return
    assert parse_resolver(format_resolver(text, port)) == (text, port)


# --------------------------------------------------------------------------- answers


def test_answer_and_nodata_per_rrtype(dnsmasq: DnsServer) -> None:
    result = resolve_host("da.lab.test", [dnsmasq.spec], Deadline(DEADLINE))
    assert [(q.resolver, q.rrtype) for q in result.queries] == [
        (dnsmasq.spec, "A"),
        (dnsmasq.spec, "AAAA"),
    ]
    a, aaaa = result.queries
    assert (a.outcome, a.addresses, a.cname_chain) == (DnsOutcome.ANSWER, ("127.0.0.1",), ())
    assert (aaaa.outcome, aaaa.addresses) == (DnsOutcome.NODATA, ())
    assert a.elapsed_ms >= 0
    assert result.addresses == ("127.0.0.1",)


def test_ipv6_only_name(dnsmasq: DnsServer) -> None:
    result = resolve_host("v6.lab.test", [dnsmasq.spec], Deadline(DEADLINE))
    assert outcomes(result) == {
        (dnsmasq.spec, "A"): DnsOutcome.NODATA,
        (dnsmasq.spec, "AAAA"): DnsOutcome.ANSWER,
    }
    assert result.addresses == ("::1",)


def test_trailing_dot_and_case_are_the_same_name(dnsmasq: DnsServer) -> None:
    result = resolve_host("DA.Lab.Test.", [dnsmasq.spec], Deadline(DEADLINE))
    assert result.addresses == ("127.0.0.1",)


def test_cname_chain_in_order(dnsmasq: DnsServer) -> None:
    result = resolve_host("alias.lab.test", [dnsmasq.spec], Deadline(DEADLINE))
    a, aaaa = result.queries
    chain = ("alias.lab.test", "alias2.lab.test", "da.lab.test")
    assert (a.outcome, a.addresses, a.cname_chain) == (DnsOutcome.ANSWER, ("127.0.0.1",), chain)
    # The chain is reported for the empty answer too: it shows where the addresses are missing.
    assert (aaaa.outcome, aaaa.cname_chain) == (DnsOutcome.NODATA, chain)
    resolve = by_id(dns_findings(result, allow_private=True))["dns.resolve"]
    assert resolve.status is Status.PASS
    assert resolve.evidence["cname_chain"] == list(chain)
    assert "alias.lab.test → alias2.lab.test → da.lab.test" in resolve.detail


def test_union_puts_ipv4_first_and_deduplicates(dnsmasq: DnsServer, dnsmasq_other: DnsServer) -> None:
    result = resolve_host("dual.lab.test", [dnsmasq.spec], Deadline(DEADLINE))
    assert result.addresses == ("10.1.2.3", "fd00::5")
    both = resolve_host("da.lab.test", [dnsmasq.spec, dnsmasq_other.spec], Deadline(DEADLINE))
    assert both.addresses == ("127.0.0.1", "127.0.0.3")
    same = resolve_host("pub.lab.test", [dnsmasq.spec, dnsmasq_other.spec], Deadline(DEADLINE))
    assert same.addresses == ("203.0.113.10",)


def test_same_resolver_twice_is_asked_once(dnsmasq: DnsServer) -> None:
    specs = [dnsmasq.spec, f" {dnsmasq.spec} "]
    result = resolve_host("da.lab.test", specs, Deadline(DEADLINE))
    assert {q.resolver for q in result.queries} == {dnsmasq.spec}
    assert len(result.queries) == 2


# --------------------------------------------------------------------------- failure taxonomy


def test_nxdomain_fails_resolve_with_0x2af9(dnsmasq: DnsServer) -> None:
    result = resolve_host("nope.lab.test", [dnsmasq.spec], Deadline(DEADLINE))
    assert set(outcomes(result).values()) == {DnsOutcome.NXDOMAIN}
    findings = by_id(dns_findings(result, allow_private=False))
    resolve = findings["dns.resolve"]
    assert resolve.status is Status.FAIL
    assert resolve.predicts == (0x2AF9,)
    assert "NXDOMAIN" in resolve.detail and dnsmasq.spec in resolve.detail
    assert resolve.evidence["failures"] == ["NXDOMAIN"]
    assert "Publish an A record for nope.lab.test" in resolve.remediation
    assert findings["dns.nodata"].status is Status.SKIP
    assert findings["dns.private-address"].status is Status.SKIP
    json.dumps([dict(f.evidence) for f in findings.values()])


def test_nodata_fails_nodata_with_0x2afc(dnsmasq: DnsServer) -> None:
    result = resolve_host("txtonly.lab.test", [dnsmasq.spec], Deadline(DEADLINE))
    assert set(outcomes(result).values()) == {DnsOutcome.NODATA}
    findings = by_id(dns_findings(result, allow_private=False))
    assert findings["dns.resolve"].status is Status.PASS
    nodata = findings["dns.nodata"]
    assert nodata.status is Status.FAIL
    assert nodata.predicts == (0x2AFC,)
    assert nodata.evidence["nodata_resolvers"] == [dnsmasq.spec]
    assert "Publish an A record for txtonly.lab.test" in nodata.remediation


def test_servfail_relayed_by_dnsmasq(dnsmasq: DnsServer) -> None:
    # dnsmasq forwards sf.lab.test to an upstream that answers SERVFAIL and relays the rcode.
    result = resolve_host("x.sf.lab.test", [dnsmasq.spec], Deadline(DEADLINE))
    assert set(outcomes(result).values()) == {DnsOutcome.SERVFAIL}
    assert result.queries[0].detail == f"{dnsmasq.spec} answered SERVFAIL"
    resolve = by_id(dns_findings(result, allow_private=False))["dns.resolve"]
    assert resolve.status is Status.FAIL
    assert resolve.predicts == (0x2AF9,)
    assert "SERVFAIL" in resolve.detail
    assert "dig +trace x.sf.lab.test" in resolve.remediation


def test_servfail_from_the_server_itself(servfail_upstream: DnsServer) -> None:
    result = resolve_host("da.lab.test", [servfail_upstream.spec], Deadline(DEADLINE))
    assert set(outcomes(result).values()) == {DnsOutcome.SERVFAIL}


def test_refused_for_a_name_dnsmasq_has_no_server_for(dnsmasq: DnsServer) -> None:
    result = resolve_host("da.example.org", [dnsmasq.spec], Deadline(DEADLINE))
    assert set(outcomes(result).values()) == {DnsOutcome.REFUSED}
    resolve = by_id(dns_findings(result, allow_private=False))["dns.resolve"]
    assert (resolve.status, resolve.predicts) == (Status.FAIL, (0x2AF9,))
    assert resolve.evidence["failures"] == ["REFUSED"]


def test_dead_upstream_behind_dnsmasq_is_a_timeout(dnsmasq: DnsServer) -> None:
    # Observed with dnsmasq 2.90: an upstream that never answers makes dnsmasq silent too,
    # rather than answering SERVFAIL.
    started = time.monotonic()
    result = resolve_host("x.dead.lab.test", [dnsmasq.spec], Deadline(SHORT))
    assert time.monotonic() - started < SHORT + SLACK
    assert set(outcomes(result).values()) == {DnsOutcome.TIMEOUT}


def test_silent_resolver_times_out_within_the_deadline(silent_resolver: UdpServer) -> None:
    started = time.monotonic()
    result = resolve_host("da.lab.test", [silent_resolver.server.spec], Deadline(SHORT))
    assert time.monotonic() - started < SHORT + SLACK
    assert set(outcomes(result).values()) == {DnsOutcome.TIMEOUT}
    assert silent_resolver.received >= 2  # both A and AAAA were really sent
    findings = by_id(dns_findings(result, allow_private=False))
    resolve = findings["dns.resolve"]
    # Contract change of 2026-11-30: a silent resolver means this host cannot decide (error,
    # exit 3, no client code); before, this was a fail predicting 0x2AF9.
    assert (resolve.status, resolve.predicts) == (Status.ERROR, ())
    assert "TIMEOUT" in resolve.detail and silent_resolver.server.spec in resolve.detail
    assert findings["dns.nodata"].status is Status.SKIP


def test_silent_resolver_costs_one_deadline_beside_a_working_one(
    dnsmasq: DnsServer, silent_resolver: UdpServer
) -> None:
    specs = [silent_resolver.server.spec, dnsmasq.spec]
    started = time.monotonic()
    result = resolve_host("da.lab.test", specs, Deadline(SHORT))
    # Sequential queries would take two deadlines for the silent resolver alone.
    assert time.monotonic() - started < SHORT + SLACK
    assert outcomes(result) == {
        (silent_resolver.server.spec, "A"): DnsOutcome.TIMEOUT,
        (silent_resolver.server.spec, "AAAA"): DnsOutcome.TIMEOUT,
        (dnsmasq.spec, "A"): DnsOutcome.ANSWER,
        (dnsmasq.spec, "AAAA"): DnsOutcome.NODATA,
    }
    findings = by_id(dns_findings(result, allow_private=True))
    resolve = findings["dns.resolve"]
    assert resolve.status is Status.PASS  # one resolver gave an address
    assert "TIMEOUT" in resolve.detail
    consistency = findings["dns.consistency"]
    assert (consistency.status, consistency.predicts) == (Status.WARN, ())


def test_expired_deadline_sends_nothing(silent_resolver: UdpServer) -> None:
    result = resolve_host("da.lab.test", [silent_resolver.server.spec], Deadline(0))
    assert set(outcomes(result).values()) == {DnsOutcome.TIMEOUT}
    assert silent_resolver.received == 0


def test_bad_spec_becomes_an_error_outcome(dnsmasq: DnsServer) -> None:
    result = resolve_host("da.lab.test", ["dns.google", dnsmasq.spec], Deadline(DEADLINE))
    assert outcomes(result) == {
        ("dns.google", "A"): DnsOutcome.ERROR,
        ("dns.google", "AAAA"): DnsOutcome.ERROR,
        (dnsmasq.spec, "A"): DnsOutcome.ANSWER,
        (dnsmasq.spec, "AAAA"): DnsOutcome.NODATA,
    }
    assert "not an IP address" in result.queries[0].detail


@pytest.mark.parametrize("host", ["", ".", "a" * 64 + ".lab.test", "x." * 130 + "test"])
def test_bad_host_name_becomes_an_error_outcome(host: str, silent_resolver: UdpServer) -> None:
    result = resolve_host(host, [silent_resolver.server.spec], Deadline(DEADLINE))
    assert set(outcomes(result).values()) == {DnsOutcome.ERROR}
    assert silent_resolver.received == 0
    resolve = by_id(dns_findings(result, allow_private=False))["dns.resolve"]
    assert resolve.status is Status.FAIL


# --------------------------------------------------------------------------- address checks


def test_private_address_fails_unless_allowed(dnsmasq: DnsServer) -> None:
    result = resolve_host("dual.lab.test", [dnsmasq.spec], Deadline(DEADLINE))
    denied = by_id(dns_findings(result, allow_private=False))["dns.private-address"]
    assert (denied.status, denied.predicts) == (Status.FAIL, (0x2AFC,))
    assert denied.evidence["non_public"] == [
        {"address": "10.1.2.3", "range": "private (RFC 1918)"},
        {"address": "fd00::5", "range": "unique local (fc00::/7)"},
    ]
    assert "KB 3056560" in denied.remediation
    allowed = by_id(dns_findings(result, allow_private=True))["dns.private-address"]
    assert (allowed.status, allowed.predicts) == (Status.PASS, ())
    assert "allow_private" in allowed.detail


def test_loopback_answer_is_not_public(dnsmasq: DnsServer) -> None:
    result = resolve_host("da.lab.test", [dnsmasq.spec], Deadline(DEADLINE))
    finding = by_id(dns_findings(result, allow_private=False))["dns.private-address"]
    assert finding.status is Status.FAIL
    assert "127.0.0.1 (loopback)" in finding.detail


def test_public_address_passes(dnsmasq: DnsServer) -> None:
    result = resolve_host("pub.lab.test", [dnsmasq.spec], Deadline(DEADLINE))
    finding = by_id(dns_findings(result, allow_private=False))["dns.private-address"]
    assert finding.status is Status.PASS


# --------------------------------------------------------------------------- consistency


def test_resolvers_that_disagree_warn(dnsmasq: DnsServer, dnsmasq_other: DnsServer) -> None:
    specs = [dnsmasq.spec, dnsmasq_other.spec]
    result = resolve_host("da.lab.test", specs, Deadline(DEADLINE))
    finding = by_id(dns_findings(result, allow_private=True))["dns.consistency"]
    assert (finding.status, finding.predicts) == (Status.WARN, ())
    assert "127.0.0.1" in finding.detail and "127.0.0.3" in finding.detail
    assert finding.evidence["agree"] is False
    assert finding.remediation


def test_resolvers_that_agree_pass(dnsmasq: DnsServer, dnsmasq_other: DnsServer) -> None:
    specs = [dnsmasq.spec, dnsmasq_other.spec]
    result = resolve_host("pub.lab.test", specs, Deadline(DEADLINE))
    finding = by_id(dns_findings(result, allow_private=False))["dns.consistency"]
    assert finding.status is Status.PASS
    assert finding.evidence["agree"] is True


def test_one_resolver_skips_consistency(dnsmasq: DnsServer) -> None:
    result = resolve_host("pub.lab.test", [dnsmasq.spec], Deadline(DEADLINE))
    finding = by_id(dns_findings(result, allow_private=False))["dns.consistency"]
    assert finding.status is Status.SKIP
    assert "one resolver" in finding.title


def test_system_resolver_label_without_sending_anything() -> None:
    # An expired deadline stops before any query, so this reads the OS configuration (or fails
    # to, which is an ERROR outcome, not an exception) and never talks to the system resolver.
    result = resolve_host("da.lab.test", [], Deadline(0))
    assert [(q.resolver, q.rrtype) for q in result.queries] == [("system", "A"), ("system", "AAAA")]
    assert {q.outcome for q in result.queries} <= {DnsOutcome.TIMEOUT, DnsOutcome.ERROR}


def test_probe_with_only_a_silent_resolver_is_unknown(silent_resolver: UdpServer,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from daserver_check.cli import main

    code = main(["probe", "https://da.lab.test/IPHTTPS", "--resolver", silent_resolver.server.spec,
                 "--timeout", "3", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 3
    findings = {f["id"]: f for f in report["targets"][0]["findings"]}
    assert findings["dns.resolve"]["status"] == "error"
    assert all(not f["predicts"] for f in findings.values())
    assert report["duration_ms"] < 4000  # the deadline holds: --timeout 3 plus closing up


def test_unreachable_outcome_is_silent_not_a_verdict() -> None:
    from daserver_check.checks.dns import silent_resolvers
    from daserver_check.probe.dns import DnsQueryResult, DnsResult

    def query(resolver: str, rrtype: str, outcome: DnsOutcome) -> DnsQueryResult:
        return DnsQueryResult(resolver=resolver, rrtype=rrtype, outcome=outcome, addresses=(),
                              cname_chain=(), detail="", elapsed_ms=0)

    result = DnsResult("da.lab.test", (query("192.0.2.53:53", "A", DnsOutcome.UNREACHABLE),
                                       query("192.0.2.53:53", "AAAA", DnsOutcome.TIMEOUT),
                                       query("192.0.2.54:53", "A", DnsOutcome.NXDOMAIN)))
    assert silent_resolvers(result) == ["192.0.2.53:53"]
    resolve = by_id(dns_findings(result, allow_private=False))["dns.resolve"]
    assert resolve.status is Status.FAIL  # the answering resolver decides: NXDOMAIN


# --------------------------------------------------------------------------- many addresses


@given(st.lists(st.ip_addresses().map(str), unique=True, max_size=200),
       st.integers(min_value=0, max_value=40))
def test_addresses_to_probe_keeps_the_first_in_order(addresses: list[str], limit: int) -> None:
    from daserver_check.probe.dns import addresses_to_probe

    probed, rest = addresses_to_probe(addresses, limit)
    assert len(probed) == min(limit, len(addresses))
    assert list(probed) + list(rest) == addresses


def test_default_probe_limit_is_16() -> None:
    from daserver_check.probe.dns import MAX_PROBED_ADDRESSES, addresses_to_probe

    addresses = [f"127.0.0.{i}" for i in range(1, 100)]
    probed, rest = addresses_to_probe(addresses)
    assert MAX_PROBED_ADDRESSES == 16
    assert probed == tuple(addresses[:16]) and rest == tuple(addresses[16:])
