"""Client-side findings from a `collect-script --client` bundle (KB 2980660's client causes).

- `client.adapters`: KB 2980660 lists a duplicate or corrupted IP-HTTPS interface and disabled
  IPv6 transition adapters as causes of 0x643/0x34 ("interface creation failure"). Read from
  `Get-NetAdapter -IncludeHidden`: more than one IP-HTTPS adapter, an IP-HTTPS adapter that is
  "Not Present" (a ghost left in Device Manager) or Disabled fails; a disabled Teredo, 6to4 or
  ISATAP adapter warns (DirectAccess falls back to IP-HTTPS, so it is not fatal by itself;
  inferred).
- `client.system-proxy`: the IP Helper service runs as LocalSystem; a WinHTTP proxy or one in
  LocalSystem's Internet settings is a proxy IP-HTTPS may be sent through, and a proxy that
  blocks the connection is a cause of 0x2AF9/0x2AFC (KB 2980635; Hicks, "Troubleshooting
  DirectAccess IP-HTTPS Error 0x2af9"). Set: warn, with the proxy named.
"""

from __future__ import annotations

from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status
from daserver_check.protocol.remote_access import NetAdapter
from daserver_check.server.common import CONNECT_CODES, INTERFACE_CODES, Options, not_collected
from daserver_check.server.facts import Facts
from daserver_check.server.paths import LOCALSYSTEM_CONNECTIONS

# InterfaceDescription spellings (English driver names; the descriptions are not localized).
_IPHTTPS = ("ip-https",)
_TRANSITION = ("teredo", "6to4", "isatap")


def _is_iphttps(a: NetAdapter) -> bool:
    text = f"{a.description} {a.name}".casefold()
    return any(m in text for m in _IPHTTPS) or a.name.casefold() == "iphttpsinterface"


def _is_transition(a: NetAdapter) -> bool:
    text = f"{a.description} {a.name}".casefold()
    return any(m in text for m in _TRANSITION)


def _state(a: NetAdapter) -> str:
    return (a.status or "").casefold()


def _label(a: NetAdapter) -> str:
    return f"{a.name or '?'} ({a.description or 'no description'}, {a.status or 'no status'})"


def check_adapters(facts: Facts, opts: Options) -> Finding:
    fid = FindingId.CLIENT_ADAPTERS
    if facts.adapters is None:
        return not_collected(fid, "IP-HTTPS and transition adapters (client)", facts, "adapters",
                             "Get-NetAdapter -IncludeHidden output: netadapters.json from "
                             "`collect-script --client`")
    iphttps = [a for a in facts.adapters if _is_iphttps(a)]
    transition = [a for a in facts.adapters if _is_transition(a)]
    evidence = {"source": facts.adapters_source,
                "iphttps_adapters": [_label(a) for a in iphttps],
                "transition_adapters": [_label(a) for a in transition]}
    problems = []
    if len(iphttps) > 1:
        problems.append(f"{len(iphttps)} IP-HTTPS adapters: " + ", ".join(map(_label, iphttps)))
    ghosts = [a for a in iphttps if _state(a) in ("not present", "notpresent")]
    disabled = [a for a in iphttps if _state(a) == "disabled"]
    if ghosts:
        problems.append("IP-HTTPS adapter(s) not present (ghost devices): "
                        + ", ".join(map(_label, ghosts)))
    if disabled:
        problems.append("IP-HTTPS adapter(s) disabled: " + ", ".join(map(_label, disabled)))
    steps = [
        "in Device Manager (devmgmt.msc) choose View > Show hidden devices and uninstall every "
        "stale or duplicate IP-HTTPS adapter (KB 2980660; never remove the transition adapter "
        "on a DirectAccess server)",
        "then `Restart-Service iphlpsvc` and `gpupdate /force` while connected to the "
        "corporate network (KB 2980660)",
    ]
    if problems:
        return Finding(fid, Status.FAIL, "Duplicate, ghost or disabled IP-HTTPS adapter",
                       detail="; ".join(problems) + " (KB 2980660: interface creation failure)",
                       predicts=INTERFACE_CODES, remediation="; ".join(steps), evidence=evidence)
    off = [a for a in transition if _state(a) in ("disabled", "not present", "notpresent")]
    if off:
        return Finding(fid, Status.WARN, "IPv6 transition adapter(s) disabled",
                       detail=", ".join(map(_label, off)) + ". KB 2980660 lists disabled "
                       "transition adapters as a cause of 0x643/0x34; with IP-HTTPS itself "
                       "present this is inferred to matter only when the client falls back.",
                       predicts=INTERFACE_CODES,
                       remediation="enable the adapter again (`Enable-NetAdapter -Name "
                       "'<name>' -IncludeHidden`), or check DisabledComponents (KB 929852)",
                       evidence=evidence)
    if not iphttps:
        return Finding(fid, Status.PASS, "No IP-HTTPS adapter yet, none stale",
                       detail=f"{len(facts.adapters)} adapter(s) listed; Windows creates the "
                       "IP-HTTPS adapter when the interface comes up", evidence=evidence)
    return Finding(fid, Status.PASS, "One IP-HTTPS adapter, present and enabled",
                   detail=_label(iphttps[0]), evidence=evidence)


def check_system_proxy(facts: Facts, opts: Options) -> Finding:
    fid = FindingId.CLIENT_SYSTEM_PROXY
    if facts.winhttp_proxy is None and not facts.localsystem_proxy_collected:
        for need in ("winhttp", "localsystem"):
            if facts.unusable.get(need):
                return not_collected(fid, "WinHTTP and LocalSystem proxy (client)", facts, need,
                                     "winhttp-proxy.txt or localsystem-proxy.reg")
        return not_collected(fid, "WinHTTP and LocalSystem proxy (client)", facts, "winhttp",
                             "`netsh winhttp show proxy` (winhttp-proxy.txt) or LocalSystem's "
                             "Internet settings (localsystem-proxy.reg), from "
                             "`collect-script --client`")
    found = []
    steps = []
    evidence: dict[str, object] = {}
    win = facts.winhttp_proxy
    if win is not None:
        evidence["winhttp"] = {"proxy": win.proxy, "bypass": win.bypass,
                               "source": facts.winhttp_source}
        if win.uses_proxy:
            found.append(f"WinHTTP proxy {win.proxy}" + (f" (bypass: {win.bypass})"
                                                         if win.bypass else ""))
            steps.append("if IP-HTTPS must not use it, clear it: `netsh winhttp reset proxy` "
                         "(Hicks, 0x2af9 post)")
    local = facts.localsystem_proxy
    if facts.localsystem_proxy_collected:
        evidence["localsystem"] = (
            {"flags": local.flags, "proxy": local.proxy, "bypass": local.bypass,
             "autoconfig_url": local.autoconfig_url, "source": facts.localsystem_source}
            if local else {"set": False, "source": facts.localsystem_source})
        if local is not None and (local.uses_proxy or local.uses_autoconfig):
            what = (f"proxy {local.proxy}" if local.uses_proxy
                    else f"auto-configuration script {local.autoconfig_url}")
            found.append(f"LocalSystem's Internet settings use a {what}")
            steps.append("check LocalSystem's proxy (DefaultConnectionSettings under "
                         f"`{LOCALSYSTEM_CONNECTIONS}`): the IP Helper service runs as "
                         "LocalSystem")
    if found:
        steps.append("then `Restart-Service iphlpsvc` so IP-HTTPS tries again at once")
        return Finding(fid, Status.WARN, "A system proxy is set on the client",
                       detail="; ".join(found) + ". A proxy that blocks or intercepts CONNECT to "
                       "the IP-HTTPS server gives 0x2AF9/0x2AFC (KB 2980635); probe through it "
                       "with `daserver-check probe URL --proxy http://PROXY:PORT`.",
                       predicts=CONNECT_CODES, remediation="; ".join(steps), evidence=evidence)
    return Finding(fid, Status.PASS, "No WinHTTP or LocalSystem proxy", evidence=evidence)
