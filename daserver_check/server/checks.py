"""Facts → findings for the server-side finding ids (server.*, client.proxy).

Every failing finding names the exact key or value to back up and remove and the service to
restart, as the KB articles do (KB 2980660 for the URL reservations, the policy keys and
DisabledComponents; KB 2980635 for ProxyMgr). A check whose facts were not collected is a
`skip` that says which export would provide them. No check raises.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence

from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status, guarded, guarded_stage
from daserver_check.server.binding import check_sslcert_binding
from daserver_check.server.client import check_adapters, check_system_proxy
from daserver_check.server.common import (
    CONNECT_CODES,
    INTERFACE_CODES,
    RESTART_IPHLPSVC,
    Options,
    backup_step,
    not_collected,
    short_key,
)
from daserver_check.server.facts import Facts
from daserver_check.server.health import check_health
from daserver_check.server.nrpt import check_nrpt
from daserver_check.server.paths import (
    DISABLED_COMPONENTS,
    IPHTTPS_POLICY_KEYS,
    PROXYMGR_KEY,
    TCPIP6_PARAMETERS,
    V6TRANSITION,
)
from daserver_check.server.schannel import check_schannel
from daserver_check.server.state import state_finding
from daserver_check.server.urlacl import (
    check_urlacl_acl,
    check_urlacl_conflict,
    check_urlacl_duplicate,
)

__all__ = ["Options", "run_checks"]


_DC_BITS = (
    (0x01, "all tunnel interfaces (IP-HTTPS, Teredo, 6to4, ISATAP)"),
    (0x02, "6to4"),
    (0x04, "ISATAP"),
    (0x08, "Teredo"),
    (0x10, "non-tunnel interfaces"),
    (0x20, "prefer IPv4 over IPv6"),
    (0x40, "TunnelCp"),
    (0x80, "IP-TLS (IP-HTTPS)"),
)


def check_ipv6_components(facts: Facts, opts: Options) -> Finding:
    fid = FindingId.SERVER_IPV6_COMPONENTS
    key = TCPIP6_PARAMETERS
    if not facts.ipv6_collected:
        return not_collected(fid, "IPv6 DisabledComponents", facts, "ipv6",
                             "Tcpip6\\Parameters: tcpip6.reg or a SYSTEM hive")
    value = facts.disabled_components
    if value is None or value == 0:
        return Finding(fid, Status.PASS, "DisabledComponents is not set: all IPv6 components "
                       "are enabled", evidence={"key": key, "value": value})
    bits = [text for bit, text in _DC_BITS if value & bit]
    machine = _machine(facts)
    evidence = {"key": key, "value": f"0x{value:x}", "disables": bits,
                "source": facts.disabled_components_source, "machine": machine}
    steps = [
        backup_step(key, "tcpip6-backup.reg"),
        f'delete the value {DISABLED_COMPONENTS}: `reg delete "{short_key(key)}" /v '
        f"{DISABLED_COMPONENTS} /f` (or set it to 0x20 to prefer IPv4 without disabling "
        "anything)",
        "then restart the server: DisabledComponents is read at boot (KB 929852)",
    ]
    # 0x01 (tunnels, IP-HTTPS among them), 0x80 (IP-TLS) and 0xFF (all IPv6) break DirectAccess
    # (KB 2980660); any other value than 0 or 0x20 makes RRAS fail on a server (KB 929852).
    if value & 0x81 or value & 0xFF == 0xFF:
        title = ("IPv6 is disabled" if value & 0xFF == 0xFF else
                 "DisabledComponents disables the IP-HTTPS tunnel")
        return Finding(fid, Status.FAIL, title,
                       detail=f"DisabledComponents = 0x{value:x} on {machine}: disables "
                       + ", ".join(bits) + ". KB 2980660 names this cause for the server and for "
                       "clients alike (0x643/0x34 on the machine whose interface fails)",
                       predicts=INTERFACE_CODES, remediation_steps=tuple(steps), evidence=evidence)
    if value == 0x20:
        return Finding(fid, Status.PASS, "DisabledComponents = 0x20 (prefer IPv4): supported",
                       evidence=evidence)
    return Finding(fid, Status.WARN, f"DisabledComponents = 0x{value:x} is not 0 or 0x20",
                   detail="disables " + ", ".join(bits) + "; Microsoft supports only 0 and 0x20 "
                   "on a Remote Access server (KB 929852)",
                   predicts=INTERFACE_CODES, remediation_steps=tuple(steps), evidence=evidence)


def _machine(facts: Facts) -> str:
    """Which machine the bundle was read from, as its IP-HTTPS interface says (role)."""
    roles = {(i.role or "").casefold() for i in facts.interfaces or ()}
    where = facts.disabled_components_source or "the collected files"
    if "server" in roles:
        return f"the DirectAccess server ({where})"
    if "client" in roles:
        return f"a DirectAccess client ({where})"
    return f"the machine the bundle comes from ({where}; its IP-HTTPS role was not collected)"


def check_iphttps_policy(facts: Facts, opts: Options) -> Finding:
    fid = FindingId.SERVER_IPHTTPS_POLICY
    if not facts.policy_collected:
        return not_collected(fid, "IP-HTTPS policy keys", facts, "policy",
                             "the v6Transition policy key: v6transition.reg or a SOFTWARE hive")
    keys = facts.policy_keys
    if not keys:
        return Finding(fid, Status.PASS, "No IPHTTPS/IPHTTPSProfiles policy keys")
    urls = facts.iphttps_urls()
    known = {u.casefold().rstrip("/") for u in urls}
    policy_urls = sorted({v for k in keys for _n, v in k.values if v.lower().startswith("https://")})
    stale_urls = [u for u in policy_urls if known and u.casefold().rstrip("/") not in known]
    failing = [i for i in facts.interfaces or () if i.last_error in INTERFACE_CODES]
    roots = [k for k in IPHTTPS_POLICY_KEYS if any(p.path.casefold() == k.casefold() for p in keys)]
    evidence = {"keys": [k.path for k in keys],
                "values": {k.path: dict(k.values) for k in keys if k.values},
                "policy_urls": policy_urls, "interface_urls": urls}
    steps = [backup_step(V6TRANSITION, "v6transition-backup.reg")]
    steps += [f'delete the key {short_key(k)}: `reg delete "{short_key(k)}" /f`' for k in roots]
    steps.append(RESTART_IPHLPSVC)
    steps.append("then let Group Policy write the keys again (KB 2980660), while connected to the "
                 "corporate network: `gpupdate /force`")
    reasons = []
    if stale_urls:
        reasons.append("policy names IP-HTTPS URL(s) " + ", ".join(stale_urls) + " but the "
                       "interface uses " + ", ".join(urls))
    if failing:
        codes = dict.fromkeys(f"0x{i.last_error:X}" for i in failing if i.last_error is not None)
        reasons.append("the interface reports " + ", ".join(codes)
                       + " (interface creation failure) while these policy keys exist")
    if reasons:
        return Finding(fid, Status.FAIL, "Stale IP-HTTPS policy keys", detail="; ".join(reasons),
                       predicts=INTERFACE_CODES, remediation_steps=tuple(steps), evidence=evidence)
    profiles = [k for k in keys if k.path.casefold().startswith(IPHTTPS_POLICY_KEYS[1].casefold())]
    if len(profiles) > 1:
        return Finding(fid, Status.WARN, "IPHTTPSProfiles policy entries present",
                       detail=f"{len(profiles) - 1} profile subkey(s); stale or duplicate entries "
                       "here conflict with the applied IP-HTTPS configuration (KB 2980660)",
                       predicts=INTERFACE_CODES, remediation_steps=tuple(steps), evidence=evidence)
    return Finding(fid, Status.PASS, "IP-HTTPS policy keys are consistent with the interface",
                   detail=", ".join(short_key(k.path) for k in keys), evidence=evidence)


def check_iphttps_state(facts: Facts, opts: Options) -> list[Finding]:
    if facts.interfaces is None:
        return [not_collected(FindingId.SERVER_IPHTTPS_STATE, "IP-HTTPS interface state", facts,
                              "interfaces", "`netsh interface httpstunnel show interfaces` or "
                              "Get-NetIPHttpsState output")]
    seen: set[tuple[str, int | None, str | None]] = set()
    findings = []
    for i in facts.interfaces:
        key = (i.name.casefold(), i.last_error, i.url)
        if key in seen:
            continue
        seen.add(key)
        findings.append(state_finding(code=i.last_error, interface=i.name, role=i.role, url=i.url,
                                      status_text=i.status, source=i.source))
    return findings


def check_client_proxy(facts: Facts, opts: Options) -> Finding:
    fid = FindingId.CLIENT_PROXY
    if not facts.proxymgr_collected:
        return not_collected(fid, "Cached proxy entries (ProxyMgr)", facts, "proxymgr",
                             "proxymgr.reg or a client's SYSTEM hive")
    entries = [k for k in facts.proxymgr
               if k.path.casefold() != PROXYMGR_KEY.casefold() or k.values]
    if not entries:
        return Finding(fid, Status.PASS, "No cached proxy entries under ProxyMgr")
    return Finding(
        fid,
        Status.WARN,
        f"{len(entries)} cached proxy entr{'y' if len(entries) == 1 else 'ies'} under ProxyMgr",
        detail="; ".join(
            short_key(k.path) + (" (" + ", ".join(f"{n}={v}" for n, v in k.values) + ")"
                              if k.values else "")
            for k in entries
        ) + ". IP-HTTPS uses the last proxies it saw; a proxy that is gone or blocks CONNECT "
        "gives 0x2AFC/0x2AF9 (KB 2980635).",
        predicts=CONNECT_CODES,
        remediation_steps=(
            backup_step(PROXYMGR_KEY, "proxymgr-backup.reg"),
            "if the proxy is no longer used, delete every subkey of "
            f"{short_key(PROXYMGR_KEY)}: `Remove-Item -Path "
            f"'Registry::{PROXYMGR_KEY}\\*' -Recurse`",
            "then restart the DirectAccess client computer (KB 2980635): `Restart-Computer`",
        ),
        evidence={"key": PROXYMGR_KEY, "entries": [k.path for k in entries]},
    )


def check_artifacts(facts: Facts, checks: Sequence[Finding] = ()) -> Finding:
    """What was read, what was not, and how many checks had their input (`checks`: the other
    findings of the bundle). Never `pass` when a file was ignored or unusable."""
    ran = [f for f in checks if f.status in (Status.PASS, Status.WARN, Status.FAIL)]
    coverage = f"{len(ran)} of {len(checks)} checks had their input" if checks else ""
    evidence = {"sources": [{"path": p, "kind": k} for p, k in facts.sources],
                "ignored": facts.ignored,
                "problems": [{"path": p, "error": e} for p, e in facts.problems],
                "checks_with_input": len(ran), "checks": len(checks)}
    read = ", ".join(f"{p} ({k})" for p, k in facts.sources) or "nothing"
    if facts.problems:
        return Finding(FindingId.SERVER_ARTIFACTS, Status.ERROR,
                       f"{len(facts.problems)} collected file(s) could not be used"
                       + (f"; {coverage}" if coverage else ""),
                       detail="; ".join(f"{p}: {e}" for p, e in facts.problems)
                       + f". Read: {read}.",
                       remediation="Collect the bundle again from an elevated prompt "
                       "(`daserver-check collect-script`), then run this again.",
                       evidence=evidence)
    if facts.ignored:
        return Finding(FindingId.SERVER_ARTIFACTS, Status.WARN,
                       f"{len(facts.ignored)} file(s) ignored"
                       + (f"; {coverage}" if coverage else ""),
                       detail=f"Read: {read}; ignored (no artifact recognised): "
                       + ", ".join(facts.ignored),
                       evidence=evidence)
    return Finding(FindingId.SERVER_ARTIFACTS, Status.PASS,
                   f"{len(facts.sources)} artifact(s) read" + (f"; {coverage}" if coverage else ""),
                   detail=read, evidence=evidence)


_SINGLE: tuple[tuple[FindingId, Callable[[Facts, Options], Finding]], ...] = (
    (FindingId.SERVER_URLACL_CONFLICT, check_urlacl_conflict),
    (FindingId.SERVER_URLACL_DUPLICATE, check_urlacl_duplicate),
    (FindingId.SERVER_URLACL_ACL, check_urlacl_acl),
    (FindingId.SERVER_SSLCERT_BINDING, check_sslcert_binding),
    (FindingId.SERVER_IPV6_COMPONENTS, check_ipv6_components),
    (FindingId.SERVER_IPHTTPS_POLICY, check_iphttps_policy),
    (FindingId.SERVER_HEALTH, check_health),
    (FindingId.SERVER_NRPT, check_nrpt),
    (FindingId.SERVER_TLS_SCHANNEL, check_schannel),
)

# Client-side checks (a `collect-script --client` bundle), after client.proxy.
_CLIENT: tuple[tuple[FindingId, Callable[[Facts, Options], Finding]], ...] = (
    (FindingId.CLIENT_SYSTEM_PROXY, check_system_proxy),
    (FindingId.CLIENT_ADAPTERS, check_adapters),
)


def run_checks(facts: Facts, opts: Options | None = None) -> list[Finding]:
    """Every check, in contract order; a bug in one check becomes an `error` finding."""
    options = opts or Options()
    findings: list[Finding] = []
    for fid, check in _SINGLE:
        findings.append(guarded(fid, functools.partial(check, facts, options)))
    findings.extend(guarded_stage((FindingId.SERVER_IPHTTPS_STATE,),
                                  lambda: check_iphttps_state(facts, options)))
    findings.append(guarded(FindingId.CLIENT_PROXY,
                            functools.partial(check_client_proxy, facts, options)))
    for fid, check in _CLIENT:
        findings.append(guarded(fid, functools.partial(check, facts, options)))
    artifacts = guarded(FindingId.SERVER_ARTIFACTS, lambda: check_artifacts(facts, findings))
    return [artifacts, *findings]
