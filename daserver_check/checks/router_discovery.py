"""`iphttps.prefix`: does the server advertise a /64 prefix to a client that solicits one?

Opt-in (`--router-discovery`). KB 2980635 lists "the server does not have the IPv6 prefix
published" among the causes of 0x2AFC / 0x2AF9: the tunnel comes up (POST 200) but the client
never gets an address. A DirectAccess client autoconfigures from a /64; a load-balanced cluster
has a /59 client prefix of which each node advertises one /64 (docs/windows-facts.md §1), so an
advertised /59 is the cluster prefix published whole — a configuration mistake, not a variant.

Verdicts:
- pass: a valid RA with a Prefix Information option of length 64 and a non-zero valid lifetime.
- fail: no RA (deadline, close, reset, too many other packets), non-IPv6 data on the tunnel,
  an RA without a Prefix Information option, or only prefixes of another length / lifetime 0.
- warn: the /64 is there but without the autonomous (A) flag (the client cannot form its
  address from it by SLAAC) or with a preferred lifetime of 0 (deprecated).
- error: the probe could not build or dissect packets.
"""

from __future__ import annotations

from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status
from daserver_check.probe.router_discovery import (
    PrefixInfo,
    RdOutcome,
    RouterAdvertisement,
    RouterDiscoveryResult,
)

FINDING_ID = FindingId.IPHTTPS_PREFIX
TITLE = "Router Advertisement with a /64 prefix"
WSANO_DATA = 0x2AFC
WSAHOST_NOT_FOUND = 0x2AF9
_PREDICTS = (WSANO_DATA, WSAHOST_NOT_FOUND)

_PUBLISH_FIX = (
    "Publish the IP-HTTPS client prefix on the DirectAccess server: the route of the IP-HTTPS "
    "interface must have Publish enabled and the interface must advertise "
    "(Get-NetIPInterface -InterfaceAlias IPHTTPSInterface | fl Advertising*; "
    "Get-NetRoute -InterfaceAlias IPHTTPSInterface | fl DestinationPrefix,Publish). "
    "Check that IP-HTTPS is enabled (Get-RemoteAccess) and the Remote Access service runs."
)


def prefix_finding(result: RouterDiscoveryResult, *, address: str) -> Finding:
    try:
        return _prefix_finding(result, address)
    except Exception as exc:  # a check never raises
        return Finding(FINDING_ID, Status.ERROR, TITLE, f"internal error in the check: {exc}",
                       address=address)


def prefix_skipped(reason: str, address: str | None) -> Finding:
    return Finding(FINDING_ID, Status.SKIP, TITLE, f"skipped: {reason}", address=address)


def _evidence(result: RouterDiscoveryResult) -> dict[str, object]:
    evidence: dict[str, object] = {
        "outcome": result.outcome.value,
        "packets": result.packets,
        "elapsed_ms": result.elapsed_ms,
    }
    if result.ignored:
        evidence["ignored"] = list(result.ignored)
    if result.advertisement is not None:
        evidence["advertisement"] = result.advertisement.as_dict()
    return evidence


def _fail(title: str, detail: str, result: RouterDiscoveryResult, address: str,
          remediation: str = _PUBLISH_FIX) -> Finding:
    return Finding(FINDING_ID, Status.FAIL, title, detail, predicts=_PREDICTS,
                   remediation=remediation, evidence=_evidence(result), address=address)


def _prefix_finding(result: RouterDiscoveryResult, address: str) -> Finding:
    ra = result.advertisement
    if result.outcome is RdOutcome.ERROR:
        return Finding(FINDING_ID, Status.ERROR, TITLE, result.detail,
                       evidence=_evidence(result), address=address)
    if result.outcome is RdOutcome.GARBAGE:
        return _fail(
            "The IP-HTTPS tunnel does not carry IPv6 packets",
            result.detail + ". A client drops such a session",
            result,
            address,
            "Something other than the DirectAccess server terminates the tunnel (a reverse "
            "proxy or load balancer that answers the POST itself): send TCP 443 straight to "
            "the DirectAccess server.",
        )
    if result.outcome is not RdOutcome.ADVERTISED or ra is None:
        detail = result.detail
        if result.ignored:
            detail += "; ignored: " + "; ".join(result.ignored[:3])
        return _fail("No Router Advertisement after a Router Solicitation",
                     detail + ". The client gets no IPv6 prefix", result, address)
    return _judge_prefixes(ra, result, address)


def _judge_prefixes(ra: RouterAdvertisement, result: RouterDiscoveryResult, address: str) -> Finding:
    if not ra.prefixes:
        return _fail("The Router Advertisement carries no prefix",
                     f"RA from {ra.source} without a Prefix Information option: the client "
                     "cannot form an address", result, address)
    shown = ", ".join(f"{p.prefix}/{p.length}" for p in ra.prefixes)
    usable = [p for p in ra.prefixes if p.length == 64 and p.valid_lifetime > 0]
    if not usable:
        return _fail("The Router Advertisement carries no usable /64 prefix",
                     f"RA from {ra.source} advertises {shown}; a client needs a /64"
                     + _length_hint(ra.prefixes), result, address)
    best = usable[0]
    problems: list[str] = []
    if not best.autonomous:
        problems.append("the autonomous (A) flag is off: the client cannot form its address")
    if best.preferred_lifetime == 0:
        problems.append("the preferred lifetime is 0: the prefix is deprecated")
    if problems:
        return Finding(
            FINDING_ID, Status.WARN, "The advertised /64 prefix is not fully usable",
            f"{best.prefix}/64: " + "; ".join(problems), predicts=_PREDICTS,
            remediation=_PUBLISH_FIX, evidence=_evidence(result), address=address,
        )
    return Finding(
        FINDING_ID, Status.PASS, "Router Advertisement with a /64 prefix",
        f"RA from {ra.source}: {shown} (valid {best.valid_lifetime} s, preferred "
        f"{best.preferred_lifetime} s)",
        evidence=_evidence(result), address=address,
    )


def _length_hint(prefixes: tuple[PrefixInfo, ...]) -> str:
    lengths = {p.length for p in prefixes}
    if 59 in lengths:
        return (". A /59 is the client prefix of a load-balanced cluster (Set-DAServer "
                "-ClientIPv6Prefix); each node must advertise one /64 of it, not the /59")
    if any(p.length == 64 and p.valid_lifetime == 0 for p in prefixes):
        return ". The /64 has a valid lifetime of 0: the server is withdrawing it"
    return ""
