"""dns stage findings: `dns.resolve`, `dns.nodata`, `dns.private-address`, `dns.consistency`.

Choices worth knowing:

- The two negative answers predict different client codes, so they are different findings:
  a name that does not resolve (NXDOMAIN, SERVFAIL, REFUSED, timeout, error) is `dns.resolve`
  → 0x2AF9 WSAHOST_NOT_FOUND; a name that exists without A/AAAA is `dns.nodata` → 0x2AFC
  WSANO_DATA. When no address came back and both kinds were seen (one resolver NODATA, another
  a timeout), both fail: which one a client meets depends on the resolver it uses.
- `dns.private-address` flags every address that is not globally reachable (RFC 1918, loopback,
  link-local, ULA, CGNAT, unspecified, multicast, IANA special-purpose ranges), except the
  documentation ranges (RFC 5737, RFC 3849): no real zone publishes them, and examples and labs
  use them as stand-ins for public addresses, so they pass with a note.
- `dns.consistency` skips with a single resolver (nothing was compared, and a skip never makes
  the verdict worse); with several it compares, per record type, the address *set* (order is
  round-robin noise) or the failure kind.

Over 400 lines because the four dns findings share one vocabulary of outcomes and one evidence
shape; split, each would repeat it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import Any

from daserver_check.findings import STAGE_IDS, FindingId
from daserver_check.model import Finding, Status, guarded
from daserver_check.probe.dns import DnsOutcome, DnsQueryResult, DnsResult

WSAHOST_NOT_FOUND = 0x2AF9
WSANO_DATA = 0x2AFC

RESOLVE = FindingId.DNS_RESOLVE
NODATA = FindingId.DNS_NODATA
PRIVATE_ADDRESS = FindingId.DNS_PRIVATE_ADDRESS
CONSISTENCY = FindingId.DNS_CONSISTENCY
FINDING_IDS: tuple[FindingId, ...] = STAGE_IDS["dns"]

_FAILURES = frozenset(
    {
        DnsOutcome.NXDOMAIN,
        DnsOutcome.SERVFAIL,
        DnsOutcome.REFUSED,
        DnsOutcome.TIMEOUT,
        DnsOutcome.UNREACHABLE,
        DnsOutcome.ERROR,
    }
)


def dns_findings(result: DnsResult, *, allow_private: bool) -> list[Finding]:
    """The four dns findings, always all four and in FINDING_IDS order."""
    return [
        guarded(RESOLVE, lambda: _resolve(result)),
        guarded(NODATA, lambda: _nodata(result)),
        guarded(PRIVATE_ADDRESS, lambda: _private_address(result, allow_private)),
        guarded(CONSISTENCY, lambda: _consistency(result)),
    ]




# Outcomes that mean "this resolver said nothing": no packet came back (TIMEOUT), or the query
# could not reach it (UNREACHABLE: port or network unreachable). They say nothing about the
# name, only about the path from this host to the resolver.
_SILENT = frozenset({DnsOutcome.TIMEOUT, DnsOutcome.UNREACHABLE})


def silent_resolvers(result: DnsResult) -> list[str]:
    """Resolvers none of whose queries got an answer of any kind."""
    by_resolver: dict[str, list[DnsQueryResult]] = {}
    for query in result.queries:
        by_resolver.setdefault(query.resolver, []).append(query)
    return [label for label, queries in by_resolver.items()
            if all(q.outcome in _SILENT for q in queries)]


# --------------------------------------------------------------------------- dns.resolve


def _resolve(result: DnsResult) -> Finding:
    host = result.host
    addresses = result.addresses
    failures = [q for q in result.queries if q.outcome in _FAILURES]
    evidence: dict[str, Any] = {
        "host": host,
        "addresses": list(addresses),
        "cname_chain": list(_first_chain(result.queries)),
        "per_resolver": [_query_evidence(q) for q in result.queries],
    }
    silent = silent_resolvers(result)
    if not addresses and result.queries and len(silent) == len({q.resolver for q in
                                                               result.queries}):
        # Unknown is unknown: when no resolver answered, this host cannot tell whether clients
        # can resolve the name. An `error` (exit 3) with no client code, never a CRITICAL.
        return Finding(
            id=RESOLVE,
            status=Status.ERROR,
            title=f"No resolver answered for {host}: this host cannot decide",
            detail=f"The resolver{'s' if len(silent) > 1 else ''} {', '.join(silent)} did not "
            f"answer ({_describe(result.queries)}): this host cannot tell whether clients can "
            "resolve the name.",
            remediation="Check that this host reaches the resolver (UDP and TCP 53, firewall, "
            "the resolver's own state), or give another one with --resolver.",
            evidence={**evidence, "silent_resolvers": silent},
        )
    if not addresses and failures:
        kinds = sorted({q.outcome for q in failures}, key=list(DnsOutcome).index)
        return Finding(
            id=RESOLVE,
            status=Status.FAIL,
            title=f"{host} does not resolve",
            detail=f"No address for {host}: {_describe(result.queries)}.",
            predicts=(WSAHOST_NOT_FOUND,),
            remediation=" ".join(_resolve_remediation(kind, host) for kind in kinds),
            evidence={**evidence, "failures": [str(k) for k in kinds]},
        )
    if not addresses:
        return Finding(
            id=RESOLVE,
            status=Status.PASS,
            title=f"{host} exists, but has no address record (see dns.nodata)",
            detail=f"{_describe(result.queries)}.",
            evidence=evidence,
        )
    detail = f"{host} resolves to {', '.join(addresses)}"
    chain = _first_chain(result.queries)
    if chain:
        detail += f" via CNAME chain {' → '.join(chain)}"
    if failures:
        # Addresses came back, so a client can connect; still say what failed (an AAAA
        # timeout delays every client's connection attempt by the resolver timeout).
        detail += f"; some queries failed: {_describe(failures)}"
    return Finding(
        id=RESOLVE,
        status=Status.PASS,
        title=f"{host} resolves",
        detail=detail + ".",
        evidence=evidence,
    )


def _resolve_remediation(kind: DnsOutcome, host: str) -> str:
    if kind is DnsOutcome.NXDOMAIN:
        return (
            f"Publish an A record for {host} in the public zone pointing to the DirectAccess "
            "server's public address (or the edge address that forwards TCP 443 to it), and an "
            "AAAA record if it has a public IPv6 address; check the spelling of the IP-HTTPS URL "
            "in the DirectAccess configuration."
        )
    if kind is DnsOutcome.SERVFAIL:
        return (
            f"Check the delegation and the authoritative servers of the zone holding {host} "
            f"(e.g. `dig +trace {host}`): unreachable or lame authoritative servers, or a broken "
            "DNSSEC signature, make public resolvers answer SERVFAIL."
        )
    if kind is DnsOutcome.REFUSED:
        return (
            "The resolver refused the query: ask a resolver that serves this network (or allow "
            f"recursion for it), and check that the zone holding {host} is delegated to servers "
            "that answer for it."
        )
    if kind is DnsOutcome.TIMEOUT:
        return (
            "Make sure the resolver is reachable from here (UDP and TCP port 53) and that the "
            f"authoritative servers for {host} answer; on a slow path retry with a longer "
            "--timeout."
        )
    return (
        "Check the resolver address (--resolver) and this machine's resolver configuration; "
        "the detail names the error."
    )


# --------------------------------------------------------------------------- dns.nodata


def _nodata_resolvers(result: DnsResult) -> list[str]:
    """Resolvers that said NODATA for every record type: the name exists, without addresses."""
    by_resolver: dict[str, set[DnsOutcome]] = {}
    for query in result.queries:
        by_resolver.setdefault(query.resolver, set()).add(query.outcome)
    return [label for label, outcomes in by_resolver.items() if outcomes == {DnsOutcome.NODATA}]


def _nodata(result: DnsResult) -> Finding:
    host = result.host
    if result.addresses:
        return Finding(
            id=NODATA,
            status=Status.PASS,
            title=f"{host} has address records",
            detail=_describe(result.queries) + ".",
            evidence={"host": host, "addresses": list(result.addresses)},
        )
    nodata = _nodata_resolvers(result)
    if not nodata:
        failures = [q for q in result.queries if q.outcome in _FAILURES]
        return Finding(
            id=NODATA,
            status=Status.SKIP,
            title="skipped: the name did not resolve (see dns.resolve)",
            detail=_describe(failures) + ".",
        )
    chain = _first_chain(q for q in result.queries if q.resolver in nodata)
    end = chain[-1] if chain else host
    detail = (
        f"{host} exists but has neither an A nor an AAAA record "
        f"(NOERROR with an empty answer from {', '.join(nodata)})"
    )
    if chain:
        detail += f"; CNAME chain {' → '.join(chain)} ends at a name without address records"
    return Finding(
        id=NODATA,
        status=Status.FAIL,
        title=f"{host} has no A or AAAA record",
        detail=detail + ".",
        predicts=(WSANO_DATA,),
        remediation=(
            f"Publish an A record for {end} in the public zone pointing to the DirectAccess "
            "server's public IPv4 address (or the edge address that forwards TCP 443 to it), "
            "and an AAAA record if it has a public IPv6 address."
        ),
        evidence={
            "host": host,
            "nodata_resolvers": nodata,
            "cname_chain": list(chain),
            "per_resolver": [_query_evidence(q) for q in result.queries],
        },
    )


# --------------------------------------------------------------------------- dns.private-address

# Checked in order, so the most specific name wins (0.0.0.0 is "unspecified", not "this network").
_NON_PUBLIC: tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...] = tuple(
    (ipaddress.ip_network(net), label)
    for net, label in (
        ("0.0.0.0/32", "unspecified"),
        ("0.0.0.0/8", "'this network' (0.0.0.0/8)"),
        ("10.0.0.0/8", "private (RFC 1918)"),
        ("172.16.0.0/12", "private (RFC 1918)"),
        ("192.168.0.0/16", "private (RFC 1918)"),
        ("100.64.0.0/10", "shared address space / CGNAT (RFC 6598)"),
        ("127.0.0.0/8", "loopback"),
        ("169.254.0.0/16", "link-local"),
        ("224.0.0.0/4", "multicast"),
        ("240.0.0.0/4", "reserved (240.0.0.0/4)"),
        ("::/128", "unspecified"),
        ("::1/128", "loopback"),
        ("::ffff:0:0/96", "IPv4-mapped (::ffff:0:0/96)"),
        ("fe80::/10", "link-local"),
        ("fc00::/7", "unique local (fc00::/7)"),
        ("ff00::/8", "multicast"),
    )
)
_DOCUMENTATION = tuple(
    ipaddress.ip_network(net)
    for net in ("192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32")
)


def address_range(address: str) -> tuple[bool, str]:
    """(reachable from the Internet, range name) for one address; the name is "" for plain
    global unicast. Documentation ranges count as public (see the module docstring)."""
    ip = ipaddress.ip_address(address)
    for network, label in _NON_PUBLIC:
        if ip.version == network.version and ip in network:
            return False, label
    for network in _DOCUMENTATION:
        if ip.version == network.version and ip in network:
            return True, "documentation range (examples and labs only)"
    if not ip.is_global:
        return False, "special-purpose, not globally routable (IANA registry)"
    return True, ""


def _private_address(result: DnsResult, allow_private: bool) -> Finding:
    host = result.host
    addresses = result.addresses
    if not addresses:
        return Finding(
            id=PRIVATE_ADDRESS,
            status=Status.SKIP,
            title="skipped: no address resolved",
            detail=f"{host} gave no address to classify.",
        )
    ranges = {address: address_range(address) for address in addresses}
    flagged = [(a, label) for a, (public, label) in ranges.items() if not public]
    notes = [f"{a} is in a {label}" for a, (public, label) in ranges.items() if public and label]
    evidence: dict[str, Any] = {
        "host": host,
        "addresses": list(addresses),
        "non_public": [{"address": a, "range": label} for a, label in flagged],
        "allow_private": allow_private,
    }
    if not flagged:
        detail = f"All addresses of {host} are public: {', '.join(addresses)}."
        if notes:
            detail += " Note: " + "; ".join(notes) + "."
        return Finding(
            id=PRIVATE_ADDRESS,
            status=Status.PASS,
            title="addresses are public",
            detail=detail,
            evidence=evidence,
        )
    listed = ", ".join(f"{a} ({label})" for a, label in flagged)
    if allow_private:
        return Finding(
            id=PRIVATE_ADDRESS,
            status=Status.PASS,
            title="non-public addresses allowed by the profile",
            detail=(
                f"{host} resolves to {listed}; accepted because the profile sets "
                "dns.allow_private (a lab or an internal test). Internet clients could not "
                "reach these addresses."
            ),
            evidence=evidence,
        )
    return Finding(
        id=PRIVATE_ADDRESS,
        status=Status.FAIL,
        title=f"{host} resolves to non-public addresses",
        detail=(
            f"{host} resolves to {listed}. DirectAccess clients on the Internet cannot reach "
            "such an address, or the name is being answered from the corporate namespace."
        ),
        predicts=(WSANO_DATA,),
        remediation=(
            f"Publish only the DirectAccess server's public address (or the edge address that "
            f"forwards TCP 443 to it) for {host} in the public zone. If the name is answered by "
            "internal DNS, use a public name outside the NRPT namespace or add an NRPT exemption "
            "for it (KB 3056560). For a lab, set allow_private = true in the profile's [dns] "
            "section."
        ),
        evidence=evidence,
    )


# --------------------------------------------------------------------------- dns.consistency


def _signature(queries: Sequence[DnsQueryResult]) -> dict[str, list[str] | str]:
    """What one resolver said, per record type: the sorted address set, or the failure kind."""
    said: dict[str, list[str] | str] = {}
    for query in queries:
        if query.outcome is DnsOutcome.ANSWER:
            said[query.rrtype] = sorted(query.addresses)
        else:
            said[query.rrtype] = str(query.outcome)
    return said


def _consistency(result: DnsResult) -> Finding:
    host = result.host
    by_resolver: dict[str, list[DnsQueryResult]] = {}
    for query in result.queries:
        by_resolver.setdefault(query.resolver, []).append(query)
    if len(by_resolver) < 2:
        asked = ", ".join(by_resolver) or "none"
        return Finding(
            id=CONSISTENCY,
            status=Status.SKIP,
            title="skipped: one resolver asked",
            detail=f"Only one resolver was asked ({asked}); give --resolver twice or more "
            "to compare what different resolvers answer.",
        )
    silent = silent_resolvers(result)
    answering = {label: queries for label, queries in by_resolver.items() if label not in silent}
    if silent and answering:
        # The answering resolver decides dns.resolve; the silent one is a warning about the
        # path to it (a client configured with it would wait for its timeout first).
        return Finding(
            id=CONSISTENCY,
            status=Status.WARN,
            title=f"{len(silent)} of {len(by_resolver)} resolvers did not answer",
            detail=f"No answer from {', '.join(silent)}; {', '.join(answering)} answered and "
            "decided the other dns findings.",
            remediation="Check that this host reaches the silent resolver (UDP and TCP 53), or "
            "remove it from the profile's dns.resolvers.",
            evidence={"host": host, "silent_resolvers": silent,
                      "answering_resolvers": list(answering)},
        )
    said = {label: _signature(queries) for label, queries in by_resolver.items()}
    evidence: dict[str, Any] = {
        "host": host,
        "resolvers": [{"resolver": label, **answer} for label, answer in said.items()],
    }
    summary = "; ".join(
        f"{label}: "
        + ", ".join(
            f"{rrtype} {' '.join(value) if isinstance(value, list) else value}"
            for rrtype, value in answer.items()
        )
        for label, answer in said.items()
    )
    distinct = {repr(sorted(answer.items())) for answer in said.values()}
    if len(distinct) == 1:
        return Finding(
            id=CONSISTENCY,
            status=Status.PASS,
            title=f"{len(said)} resolvers agree",
            detail=summary + ".",
            evidence={**evidence, "agree": True},
        )
    return Finding(
        id=CONSISTENCY,
        status=Status.WARN,
        title=f"resolvers disagree about {host}",
        detail=summary + ".",
        remediation=(
            f"Find out why the answers differ: an internal (split-brain) zone or an NRPT rule "
            f"answering {host} differently, a secondary server with a stale copy of the zone, "
            "or a recent change still cached (wait for the old record's TTL). Internet clients "
            "must all get the public address; if several addresses are intended (load "
            "balancing), each must be a working IP-HTTPS entry point."
        ),
        evidence={**evidence, "agree": False},
    )


# --------------------------------------------------------------------------- shared text


def _query_evidence(query: DnsQueryResult) -> dict[str, Any]:
    return {
        "resolver": query.resolver,
        "rrtype": query.rrtype,
        "outcome": str(query.outcome),
        "addresses": list(query.addresses),
        "cname_chain": list(query.cname_chain),
        "detail": query.detail,
        "elapsed_ms": query.elapsed_ms,
    }


def _first_chain(queries: Iterable[DnsQueryResult]) -> tuple[str, ...]:
    for query in queries:
        if query.cname_chain:
            return query.cname_chain
    return ()


def _describe(queries: Sequence[DnsQueryResult]) -> str:
    """Per resolver, what each query gave, e.g.
    `127.0.0.1:53: A 127.0.0.1, AAAA NODATA; system: A TIMEOUT (no answer within 2.0 s)`."""
    by_resolver: dict[str, list[str]] = {}
    for query in queries:
        if query.outcome is DnsOutcome.ANSWER:
            text = f"{query.rrtype} {' '.join(query.addresses)}"
        else:
            text = f"{query.rrtype} {query.outcome}"
            # NXDOMAIN says it all; the others carry the server's words or the error.
            if query.outcome in _FAILURES - {DnsOutcome.NXDOMAIN} and query.detail:
                text += f" ({query.detail})"
        by_resolver.setdefault(query.resolver, []).append(text)
    return "; ".join(f"{label}: {', '.join(parts)}" for label, parts in by_resolver.items())
