"""HTTP.sys URL reservations: conflicting (SSTP, BranchCache), duplicated, corrupt (KB 2980660).

DirectAccess with SSTP VPN on one server is supported; what decides a failure is evidence that
the IP-HTTPS interface fails (its state 0x643/0x34). Every fix backs up the key, deletes, and
re-creates what a role still needs: it never removes a role.
"""

from __future__ import annotations

from collections.abc import Sequence

from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status
from daserver_check.server.common import (
    INTERFACE_CODES,
    RESTART_IPHLPSVC,
    Options,
    backup_step,
    iphttps_port,
    not_collected,
    short_key,
    url_port,
)
from daserver_check.server.facts import Facts, Reservation
from daserver_check.server.paths import URLACL_KEY

# The two reservations KB 2980660 removes (docs/windows-facts.md §5).
CONFLICTING = (
    ("C574AC30-5794-4AEE-B1BB-6651C5315029", "BranchCache hosted cache ([MS-PCHC])"),
    ("sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}", "SSTP VPN (NT SERVICE\\SstpSvc)"),
)


def _unique(reservations: list[Reservation]) -> list[Reservation]:
    """One entry per URL; a corrupt reading of a URL wins over a clean one (it is the news)."""
    by_url: dict[str, Reservation] = {}
    for r in reservations:
        key = r.url.casefold()
        if key not in by_url or (r.error and not by_url[key].error):
            by_url[key] = r
    return list(by_url.values())


def _skip_reservations(fid: FindingId, title: str, facts: Facts) -> Finding:
    return not_collected(fid, title, facts, "reservations",
                         "`netsh http show urlacl` output or a UrlAclInfo export/hive")


def check_urlacl_conflict(facts: Facts, opts: Options) -> Finding:
    fid = FindingId.SERVER_URLACL_CONFLICT
    if facts.reservations is None:
        return _skip_reservations(fid, "URL reservations conflicting with IP-HTTPS", facts)
    port = iphttps_port(facts)
    hits: list[tuple[Reservation, str]] = []
    for r in _unique(facts.reservations):
        for marker, owner in CONFLICTING:
            if marker.casefold() in r.url.casefold() and url_port(r.url) == port:
                hits.append((r, owner))
    if not hits:
        return Finding(
            fid, Status.PASS, f"No BranchCache or SSTP URL reservation on port {port}",
            evidence={"checked": len(_unique(facts.reservations)), "port": port},
        )
    failing = _interface_failure(facts)
    duplicated = {u for g in _duplicate_groups(facts) for u in (r.url for r in g)}
    evidence_of_failure = [
        *([failing] if failing else []),
        *(f"{r.url} is also reserved under another host form" for r, _o in hits
          if r.url in duplicated),
        *(f"{r.url} has a corrupt security descriptor ({r.error})" for r, _o in hits if r.error),
    ]
    steps = _recreate_steps([r for r, _o in hits])
    owners = ", ".join(sorted({o for _r, o in hits}))
    found = "; ".join(f"{r.url} ({o}, from {r.source})" for r, o in hits)
    evidence = {
        "key": URLACL_KEY,
        "values": [r.url for r, _o in hits],
        "owners": [o for _r, o in hits],
        "port": port,
        "evidence_of_failure": evidence_of_failure,
    }
    if not evidence_of_failure:
        # DirectAccess and SSTP VPN on one server is a supported deployment; what SSTP costs is
        # the null-encryption suites (R. Hicks, "IP-HTTPS Null Encryption and SSTP VPN",
        # 2014-06-24). KB 2980660 deletes these reservations only to cure an interface that
        # already fails to start. So the reservation alone is a warning, with no client code.
        return Finding(
            fid,
            Status.WARN,
            f"{owners} reservation on the IP-HTTPS port (supported, but it costs the "
            "null-encryption suites)",
            detail=f"{found}. Nothing collected shows the IP-HTTPS interface failing; if it "
            "does fail with 0x643 or 0x34, KB 2980660 backs up, deletes and re-creates these "
            "reservations.",
            remediation_steps=("Nothing to do while IP-HTTPS works. If the IP-HTTPS interface "
                               "fails to start (0x643/0x34), follow KB 2980660:", *steps),
            evidence=evidence,
        )
    return Finding(
        fid,
        Status.FAIL,
        f"{owners} reservation on the IP-HTTPS port, and the interface fails",
        detail=f"{found}. Evidence of failure: {'; '.join(evidence_of_failure)}. KB 2980660: "
        "these reservations cause the server-side IP-HTTPS interface creation failure "
        "(0x643/0x34).",
        predicts=INTERFACE_CODES,
        remediation_steps=tuple(steps),
        evidence=evidence,
    )


def _interface_failure(facts: Facts) -> str:
    """Evidence from the bundle that the server's IP-HTTPS interface fails: a state of 0x643 or
    0x34 (KB 2980660), or interface output that shows no IP-HTTPS interface at all."""
    if facts.interfaces is None:
        return ""
    failing = [i for i in facts.interfaces if i.last_error in INTERFACE_CODES]
    if failing:
        return "; ".join(dict.fromkeys(f"interface {i.name} reports 0x{i.last_error:X}"
                                       for i in failing if i.last_error is not None))
    if not facts.interfaces:
        return "the interface output shows no IP-HTTPS interface"
    return ""


def _recreate_steps(reservations: Sequence[Reservation]) -> list[str]:
    """KB 2980660's fix as a back-up, delete, re-create sequence. It never removes a role: the
    reservation is re-created with its own descriptor, for SSTP or BranchCache to keep working."""
    steps = [backup_step(URLACL_KEY, "urlaclinfo-backup.reg")]
    for r in reservations:
        steps.append(f'delete the reservation: `netsh http delete urlacl url="{r.url}"`')
    steps.append(RESTART_IPHLPSVC)
    for r in reservations:
        if r.sddl:
            steps.append(
                f"if its role is in use (SSTP VPN, BranchCache), re-create it as it was: "
                f'`netsh http add urlacl url="{r.url}" sddl="{r.sddl}"`'
            )
        else:
            steps.append(f"if its role is in use (SSTP VPN, BranchCache), re-create {r.url} from "
                         "urlaclinfo-backup.reg (`reg import`)")
    return steps


def _path_key(url: str) -> tuple[str, int | None, str] | None:
    scheme, sep, rest = url.partition("://")
    if not sep:
        return None
    _host, slash, path = rest.partition("/")
    path = ("/" + path if slash else "/").rstrip("/").casefold() + "/"
    return scheme.casefold(), url_port(url), path


def _path_groups(facts: Facts) -> dict[tuple[str, int | None, str], list[Reservation]]:
    groups: dict[tuple[str, int | None, str], list[Reservation]] = {}
    for r in _unique(facts.reservations or []):
        key = _path_key(r.url)
        if key is not None:
            groups.setdefault(key, []).append(r)
    return groups


def _host_form(url: str) -> str:
    return url.partition("://")[2].split("/", 1)[0].rsplit(":", 1)[0]


def _duplicate_groups(facts: Facts) -> list[list[Reservation]]:
    """Paths reserved under both wildcards, `+` (strong) and `*` (weak): two claims of the same
    kind on one path, the conflicting setting KB 2980660 names (inferred: it does not spell out
    the pair)."""
    return [g for g in _path_groups(facts).values()
            if {"+", "*"} <= {_host_form(r.url) for r in g}]


def check_urlacl_duplicate(facts: Facts, opts: Options) -> Finding:
    fid = FindingId.SERVER_URLACL_DUPLICATE
    if facts.reservations is None:
        return _skip_reservations(fid, "Duplicate URL reservations", facts)
    groups = _path_groups(facts)
    dups = _duplicate_groups(facts)
    pairs = [[r.url for r in g] for g in groups.values() if len(g) > 1 and g not in dups]
    if not dups:
        # `+` (strong wildcard) beside a host name for the same path is a pair Microsoft's own
        # guidance creates (Learn: "Configure Reporting Services to use a SAN"); HTTP.sys
        # matches the host name first. Not a conflict.
        return Finding(fid, Status.PASS, "No path is reserved under both + and *",
                       detail=("host-name and + reservations of the same path (normal): "
                               + "; ".join(" and ".join(p) for p in pairs)) if pairs else "",
                       evidence={"checked": sum(len(g) for g in groups.values()),
                                 "host_name_pairs": pairs})
    extra = [r.url for g in dups for r in g if _host_form(r.url) == "*"]
    steps = [backup_step(URLACL_KEY, "urlaclinfo-backup.reg")]
    steps += [
        f'remove the extra reservation "{u}" (a value under {short_key(URLACL_KEY)}): '
        f'`netsh http delete urlacl url="{u}"`'
        for u in extra or [g[-1].url for g in dups]
    ]
    steps.append(RESTART_IPHLPSVC)
    return Finding(
        fid,
        Status.FAIL,
        "The same path is reserved under both + and *",
        detail="; ".join(" and ".join(r.url for r in g) for g in dups)
        + ". HTTP.sys then has two wildcard claims on the path (KB 2980660: a conflicting "
        "setting; inferred for this pair).",
        predicts=INTERFACE_CODES,
        remediation_steps=tuple(steps),
        evidence={"key": URLACL_KEY, "duplicates": [[r.url for r in g] for g in dups]},
    )


def check_urlacl_acl(facts: Facts, opts: Options) -> Finding:
    fid = FindingId.SERVER_URLACL_ACL
    if facts.reservations is None:
        return _skip_reservations(fid, "URL reservation security descriptors", facts)
    unique = _unique(facts.reservations)
    bad = [r for r in unique if r.error]
    if not bad:
        return Finding(
            fid, Status.PASS, f"All {len(unique)} URL reservation descriptors are readable",
            evidence={"reservations": {r.url: r.sddl for r in unique}},
        )
    steps = [backup_step(URLACL_KEY, "urlaclinfo-backup.reg")]
    steps += [
        f'delete the value "{r.url}": `reg delete "{short_key(URLACL_KEY)}" /v "{r.url}" /f` '
        "(re-add it with netsh http add urlacl if its owner needs it)"
        for r in bad
    ]
    steps.append(RESTART_IPHLPSVC)
    return Finding(
        fid,
        Status.FAIL,
        f"{len(bad)} URL reservation(s) with a corrupt or unreadable security descriptor",
        detail="; ".join(f"{r.url}: {r.error} (from {r.source})" for r in bad)
        + ". KB 2980660: a corrupt URL ACL causes the server-side IP-HTTPS creation failure.",
        predicts=INTERFACE_CODES,
        remediation_steps=tuple(steps),
        evidence={"key": URLACL_KEY, "values": [r.url for r in bad],
                  "errors": {r.url: r.error for r in bad}},
    )
