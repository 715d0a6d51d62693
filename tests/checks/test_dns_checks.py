"""dns findings from stage results built by hand: the cases a live server does not produce
easily (mixed failures, several resolvers, every kind of address range). The live cases are in
tests/probe/test_dns.py."""

from __future__ import annotations

import json

import pytest

from daserver_check.checks.common import dns_skipped
from daserver_check.checks.dns import FINDING_IDS, address_range, dns_findings
from daserver_check.model import Finding, Status
from daserver_check.probe.dns import DnsOutcome, DnsQueryResult, DnsResult

R1 = "192.0.2.53:53"
R2 = "[2001:db8::53]:53"
HOST = "da.contoso.com"


def q(
    resolver: str,
    rrtype: str,
    outcome: DnsOutcome,
    *addresses: str,
    chain: tuple[str, ...] = (),
    detail: str = "",
) -> DnsQueryResult:
    return DnsQueryResult(
        resolver=resolver,
        rrtype=rrtype,
        outcome=outcome,
        addresses=addresses,
        cname_chain=chain,
        detail=detail,
        elapsed_ms=3,
    )


def findings(*queries: DnsQueryResult, allow_private: bool = False) -> dict[str, Finding]:
    result = DnsResult(host=HOST, queries=queries)
    found = dns_findings(result, allow_private=allow_private)
    assert [f.id for f in found] == list(FINDING_IDS)
    for finding in found:
        assert finding.address is None
        json.dumps(dict(finding.evidence))  # the JSON report must be able to carry it
        if finding.status in (Status.FAIL, Status.WARN):
            assert finding.remediation and finding.title and finding.detail
    return {f.id: f for f in found}


ANSWER_A = q(R1, "A", DnsOutcome.ANSWER, "198.51.100.7")
NODATA_AAAA = q(R1, "AAAA", DnsOutcome.NODATA)


def test_public_answer_passes_everything_but_single_resolver_consistency() -> None:
    got = findings(ANSWER_A, NODATA_AAAA)
    assert got["dns.resolve"].status is Status.PASS
    assert got["dns.resolve"].evidence["addresses"] == ["198.51.100.7"]
    assert got["dns.nodata"].status is Status.PASS
    assert got["dns.private-address"].status is Status.PASS
    assert got["dns.consistency"].status is Status.SKIP


@pytest.mark.parametrize(
    "outcome",
    [
        DnsOutcome.NXDOMAIN,
        DnsOutcome.SERVFAIL,
        DnsOutcome.REFUSED,
        DnsOutcome.ERROR,
    ],
)
def test_each_failure_kind_fails_resolve(outcome: DnsOutcome) -> None:
    got = findings(q(R1, "A", outcome, detail="why"), q(R1, "AAAA", outcome, detail="why"))
    resolve = got["dns.resolve"]
    assert (resolve.status, resolve.predicts) == (Status.FAIL, (0x2AF9,))
    why = "" if outcome is DnsOutcome.NXDOMAIN else " (why)"
    assert f"{R1}: A {outcome}{why}, AAAA {outcome}{why}" in resolve.detail
    assert resolve.evidence["failures"] == [str(outcome)]
    per = resolve.evidence["per_resolver"]
    assert [(p["resolver"], p["rrtype"], p["outcome"]) for p in per] == [
        (R1, "A", str(outcome)),
        (R1, "AAAA", str(outcome)),
    ]


@pytest.mark.parametrize("outcome", [DnsOutcome.TIMEOUT, DnsOutcome.UNREACHABLE])
def test_every_resolver_silent_is_undecided(outcome: DnsOutcome) -> None:
    # Contract change of 2026-11-30 (TIMEOUT moved here from the failure kinds above): no
    # resolver answered, so this host cannot decide: error, exit 3, and no client code.
    got = findings(q(R1, "A", outcome, detail="why"), q(R1, "AAAA", outcome, detail="why"))
    resolve = got["dns.resolve"]
    assert (resolve.status, resolve.predicts) == (Status.ERROR, ())
    assert f"resolver {R1} did not answer" in resolve.detail
    assert all(f.status is not Status.FAIL for f in got.values())
    assert got["dns.nodata"].status is Status.SKIP
    assert got["dns.private-address"].status is Status.SKIP


def test_mixed_failures_name_each_and_combine_remediations() -> None:
    got = findings(q(R1, "A", DnsOutcome.NXDOMAIN), q(R1, "AAAA", DnsOutcome.TIMEOUT))
    resolve = got["dns.resolve"]
    assert resolve.evidence["failures"] == ["NXDOMAIN", "TIMEOUT"]
    assert "Publish an A record" in resolve.remediation
    assert "UDP and TCP port 53" in resolve.remediation


def test_nodata_everywhere_fails_nodata_not_resolve() -> None:
    got = findings(q(R1, "A", DnsOutcome.NODATA), NODATA_AAAA)
    assert got["dns.resolve"].status is Status.PASS
    nodata = got["dns.nodata"]
    assert (nodata.status, nodata.predicts) == (Status.FAIL, (0x2AFC,))
    assert "Publish an A record for da.contoso.com" in nodata.remediation


def test_nodata_through_a_cname_points_at_the_chain_end() -> None:
    chain = (HOST, "da-lb.contoso.net")
    got = findings(
        q(R1, "A", DnsOutcome.NODATA, chain=chain),
        q(R1, "AAAA", DnsOutcome.NODATA, chain=chain),
    )
    nodata = got["dns.nodata"]
    assert nodata.evidence["cname_chain"] == list(chain)
    assert "Publish an A record for da-lb.contoso.net" in nodata.remediation


def test_nodata_at_one_resolver_and_timeout_at_another_fail_both() -> None:
    # Which code the client meets depends on its resolver, so both findings fail.
    got = findings(
        q(R1, "A", DnsOutcome.NODATA),
        NODATA_AAAA,
        q(R2, "A", DnsOutcome.TIMEOUT),
        q(R2, "AAAA", DnsOutcome.TIMEOUT),
    )
    assert got["dns.resolve"].predicts == (0x2AF9,)
    assert got["dns.nodata"].predicts == (0x2AFC,)
    assert got["dns.nodata"].evidence["nodata_resolvers"] == [R1]
    assert got["dns.consistency"].status is Status.WARN


def test_partial_failure_with_addresses_passes_and_says_so() -> None:
    got = findings(ANSWER_A, q(R1, "AAAA", DnsOutcome.TIMEOUT, detail="no answer within 2.0 s"))
    resolve = got["dns.resolve"]
    assert resolve.status is Status.PASS
    assert "AAAA TIMEOUT (no answer within 2.0 s)" in resolve.detail


@pytest.mark.parametrize(
    ("address", "public", "label"),
    [
        ("10.0.0.5", False, "private (RFC 1918)"),
        ("172.16.1.1", False, "private (RFC 1918)"),
        ("192.168.1.10", False, "private (RFC 1918)"),
        ("100.64.0.1", False, "shared address space / CGNAT (RFC 6598)"),
        ("127.0.0.1", False, "loopback"),
        ("169.254.1.1", False, "link-local"),
        ("0.0.0.0", False, "unspecified"),
        ("0.1.2.3", False, "'this network' (0.0.0.0/8)"),
        ("224.0.0.1", False, "multicast"),
        ("255.255.255.255", False, "reserved (240.0.0.0/4)"),
        ("198.18.0.1", False, "special-purpose, not globally routable (IANA registry)"),
        ("::", False, "unspecified"),
        ("::1", False, "loopback"),
        ("fe80::1", False, "link-local"),
        ("fd12:3456::1", False, "unique local (fc00::/7)"),
        ("::ffff:10.0.0.1", False, "IPv4-mapped (::ffff:0:0/96)"),
        ("ff02::1", False, "multicast"),
        ("2001::1", False, "special-purpose, not globally routable (IANA registry)"),
        ("20.1.2.3", True, ""),
        ("2a01:111:f400::1", True, ""),
        ("203.0.113.10", True, "documentation range (examples and labs only)"),
        ("2001:db8::10", True, "documentation range (examples and labs only)"),
    ],
)
def test_address_ranges(address: str, public: bool, label: str) -> None:
    assert address_range(address) == (public, label)


def test_any_private_address_among_public_ones_fails() -> None:
    got = findings(
        q(R1, "A", DnsOutcome.ANSWER, "20.1.2.3", "192.168.1.10"),
        q(R1, "AAAA", DnsOutcome.ANSWER, "2a01:111:f400::1"),
    )
    private = got["dns.private-address"]
    assert (private.status, private.predicts) == (Status.FAIL, (0x2AFC,))
    assert private.evidence["non_public"] == [{"address": "192.168.1.10", "range": "private (RFC 1918)"}]
    assert got["dns.resolve"].evidence["addresses"] == [
        "20.1.2.3",
        "192.168.1.10",
        "2a01:111:f400::1",
    ]


def test_allow_private_passes_with_a_note() -> None:
    got = findings(q(R1, "A", DnsOutcome.ANSWER, "10.0.0.5"), NODATA_AAAA, allow_private=True)
    private = got["dns.private-address"]
    assert (private.status, private.predicts) == (Status.PASS, ())
    assert "10.0.0.5 (private (RFC 1918))" in private.detail
    assert private.evidence["allow_private"] is True


def test_documentation_address_passes_with_a_note() -> None:
    got = findings(q(R1, "A", DnsOutcome.ANSWER, "203.0.113.10"), NODATA_AAAA)
    private = got["dns.private-address"]
    assert private.status is Status.PASS
    assert "documentation range" in private.detail


def test_consistency_ignores_order() -> None:
    got = findings(
        q(R1, "A", DnsOutcome.ANSWER, "20.1.2.3", "20.1.2.4"),
        NODATA_AAAA,
        q(R2, "A", DnsOutcome.ANSWER, "20.1.2.4", "20.1.2.3"),
        q(R2, "AAAA", DnsOutcome.NODATA),
    )
    consistency = got["dns.consistency"]
    assert consistency.status is Status.PASS
    assert consistency.title == "2 resolvers agree"


def test_consistency_warns_on_different_sets() -> None:
    got = findings(
        ANSWER_A,
        NODATA_AAAA,
        q(R2, "A", DnsOutcome.ANSWER, "10.0.0.5"),
        q(R2, "AAAA", DnsOutcome.NODATA),
    )
    consistency = got["dns.consistency"]
    assert (consistency.status, consistency.predicts) == (Status.WARN, ())
    assert consistency.evidence["resolvers"] == [
        {"resolver": R1, "A": ["198.51.100.7"], "AAAA": "NODATA"},
        {"resolver": R2, "A": ["10.0.0.5"], "AAAA": "NODATA"},
    ]
    assert "split-brain" in consistency.remediation


def test_consistency_warns_when_one_answers_and_another_does_not() -> None:
    got = findings(
        ANSWER_A,
        NODATA_AAAA,
        q(R2, "A", DnsOutcome.NXDOMAIN),
        q(R2, "AAAA", DnsOutcome.NXDOMAIN),
    )
    assert got["dns.consistency"].status is Status.WARN
    assert got["dns.resolve"].status is Status.PASS


def test_a_bug_in_one_check_is_an_error_finding_not_an_exception() -> None:
    # Not an IP address: the range classification raises, the guard reports it.
    got = findings(q(R1, "A", DnsOutcome.ANSWER, "not-an-ip"), NODATA_AAAA)
    assert got["dns.private-address"].status is Status.ERROR
    assert got["dns.resolve"].status is Status.PASS


def test_skipped_gives_all_four_ids_with_the_reason() -> None:
    skipped = dns_skipped("address given by --connect")
    assert [f.id for f in skipped] == list(FINDING_IDS)
    for finding in skipped:
        assert finding.status is Status.SKIP
        assert finding.predicts == ()
        assert "address given by --connect" in finding.title
        assert finding.address is None
