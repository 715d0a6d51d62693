"""Every address of the name, side by side.

- `probe.entry-points` (only when more than one address was probed): which addresses a client
  can use and which it cannot. A client picks one of the name's addresses; when some fail, the
  same client fails now and then (the worst kind of ticket). pass: every address passes;
  warn: some pass and some fail (degraded: a partial outage); fail: none passes. The per-address
  findings carry the causes and the predicted codes; this one says where.
- `dns.entry-points` (only when the profile lists deployment.entry_points and DNS ran): does
  the public name resolve to exactly the entry points? A name that resolves to an internal
  address, or to an address without a NAT rule, is the behind-edge NAT mistake of KB 2980635
  (0x2AFC / 0x2AF9): fail. An entry point that DNS never returns gets no clients: warn.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status, worst

SUMMARY_ID = FindingId.PROBE_ENTRY_POINTS
ENTRY_POINTS_ID = FindingId.DNS_ENTRY_POINTS
WSANO_DATA = 0x2AFC
WSAHOST_NOT_FOUND = 0x2AF9
_BAD = (Status.FAIL, Status.ERROR)


def entry_point_summary(per_address: Sequence[tuple[str, Sequence[Finding]]]) -> Finding:
    """One verdict over the probed addresses; `per_address` in probing order."""
    verdicts = {address: worst(f.status for f in findings) for address, findings in per_address}
    passing = [a for a, s in verdicts.items() if s not in _BAD]
    failing = {a: sorted({f.id for f in findings if f.status in _BAD})
               for a, findings in per_address if verdicts[a] in _BAD}
    evidence = {
        "addresses": {a: s.value for a, s in verdicts.items()},
        "passing": passing,
        "failing": failing,
    }
    total = len(verdicts)
    if not failing:
        return Finding(SUMMARY_ID, Status.PASS, "Every entry point passes",
                       f"all {total} addresses pass: {', '.join(passing)}", evidence=evidence)
    shown = "; ".join(f"{a}: {', '.join(ids)}" for a, ids in failing.items())
    if passing:
        return Finding(
            SUMMARY_ID, Status.WARN, f"{len(failing)} of {total} entry points fail",
            f"passing: {', '.join(passing)}; failing: {shown}. A client uses whichever address "
            "it picks, so it fails now and then",
            remediation="Fix the failing addresses (see their findings), or remove them from "
            "DNS until they work.",
            evidence=evidence,
        )
    return Finding(SUMMARY_ID, Status.FAIL, "No entry point passes", f"failing: {shown}",
                   remediation="See the findings of each address.", evidence=evidence)


def entry_points_finding(resolved: Sequence[str], entry_points: Sequence[str]) -> Finding:
    """DNS answer vs the profile's deployment.entry_points (`IP` or `IP:PORT` / `[v6]:PORT`)."""
    expected = [_host_of(e) for e in entry_points]
    got = [str(ipaddress.ip_address(a)) for a in resolved]
    unexpected = [a for a in got if a not in expected]
    missing = [e for e in expected if e not in got]
    evidence = {"resolved": got, "entry_points": list(entry_points),
                "unexpected": unexpected, "missing": missing}
    if unexpected:
        return Finding(
            ENTRY_POINTS_ID, Status.FAIL, "DNS returns addresses that are not entry points",
            f"the name resolves to {', '.join(unexpected)}, which the profile does not list as "
            f"an entry point ({', '.join(expected)})",
            predicts=(WSANO_DATA, WSAHOST_NOT_FOUND),
            remediation="Publish only the entry points' public addresses in DNS. Behind an "
            "edge NAT, the name must resolve to the NAT's public address, and the NAT must "
            "forward TCP 443 to the DirectAccess server.",
            evidence=evidence,
        )
    if missing:
        return Finding(
            ENTRY_POINTS_ID, Status.WARN, "An entry point is missing from DNS",
            f"{', '.join(missing)} is an entry point but DNS does not return it: no client "
            "will use it",
            remediation="Add the entry point's address to the name's A/AAAA records, or remove "
            "it from deployment.entry_points.",
            evidence=evidence,
        )
    return Finding(ENTRY_POINTS_ID, Status.PASS, "DNS returns exactly the entry points",
                   f"{', '.join(got)}", evidence=evidence)


def entry_points_skipped(reason: str) -> Finding:
    return Finding(ENTRY_POINTS_ID, Status.SKIP, "DNS returns exactly the entry points",
                   f"skipped: {reason}")


def _host_of(entry: str) -> str:
    """The address of `IP`, `IP:PORT`, `[v6]`, `[v6]:PORT` or a bare IPv6 address."""
    text = entry.strip()
    if text.startswith("["):
        text = text[1 : text.index("]")] if "]" in text else text[1:]
    elif text.count(":") == 1:
        text = text.split(":")[0]
    try:
        return str(ipaddress.ip_address(text))
    except ValueError:
        return text  # not an address: never equal to a resolved one, so reported as missing
