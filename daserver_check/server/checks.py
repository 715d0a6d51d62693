"""Facts → findings for the server-side finding ids (server.*, client.proxy).

Every failing finding names the exact key or value to back up and remove and the service to
restart, as the KB articles do (KB 2980660 for the URL reservations, the policy keys and
DisabledComponents; KB 2980635 for ProxyMgr). A check whose facts were not collected is a
`skip` that says which export would provide them. No check raises.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status, guarded, guarded_stage
from daserver_check.server.facts import Binding, Facts, Reservation
from daserver_check.server.paths import (
    DISABLED_COMPONENTS,
    IPHTTPS_APP_ID,
    IPHTTPS_POLICY_KEYS,
    PROXYMGR_KEY,
    SSL_BINDING_KEY,
    TCPIP6_PARAMETERS,
    URLACL_KEY,
    V6TRANSITION,
)
from daserver_check.server.state import state_finding

INTERFACE_CODES = (0x643, 0x34)  # KB 2980660: both mean "interface creation failure"
CONNECT_CODES = (0x2AFC, 0x2AF9)
CERT_CODES = (0x103,)

# The two reservations KB 2980660 removes (docs/windows-facts.md §5).
CONFLICTING = (
    ("C574AC30-5794-4AEE-B1BB-6651C5315029", "BranchCache hosted cache ([MS-PCHC])"),
    ("sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}", "SSTP VPN (NT SERVICE\\SstpSvc)"),
)

RESTART_IPHLPSVC = (
    "then restart the IP Helper service, which hosts IP-HTTPS (KB 2980660): "
    "`Restart-Service iphlpsvc`"
)


@dataclass(frozen=True, slots=True)
class Options:
    cert_thumbprint: str | None = None  # lower-case hex SHA-1 of --cert
    cert_label: str = ""


def _short(key: str) -> str:
    return key.replace("HKEY_LOCAL_MACHINE", "HKLM", 1)


def _backup(key: str, file: str) -> str:
    return f'back up the key: `reg export "{_short(key)}" {file} /y`'


def _port(url: str) -> int | None:
    try:
        parts = urlsplit(url.replace("+", "plus").replace("*", "star"))
        return parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        return None


def iphttps_port(facts: Facts) -> int:
    for url in facts.iphttps_urls():
        port = _port(url)
        if port:
            return port
    return 443


def _unique(reservations: list[Reservation]) -> list[Reservation]:
    """One entry per URL; a corrupt reading of a URL wins over a clean one (it is the news)."""
    by_url: dict[str, Reservation] = {}
    for r in reservations:
        key = r.url.casefold()
        if key not in by_url or (r.error and not by_url[key].error):
            by_url[key] = r
    return list(by_url.values())


def not_collected(fid: FindingId, title: str, facts: Facts, need: str, what: str) -> Finding:
    """The finding for a check whose input is missing: `error` when a file meant to hold it was
    collected but unusable (this tool cannot decide), `skip` "not collected" otherwise."""
    unusable = facts.unusable.get(need, [])
    if unusable:
        reasons = "; ".join(f"{path}: {why}" for path, why in unusable)
        return Finding(fid, Status.ERROR, f"{title}: the collected file could not be used",
                       detail=f"{what} was collected but is unusable ({reasons}).",
                       remediation="Run `daserver-check collect-script` again on the server from "
                       "an elevated prompt, and check the files it writes.",
                       evidence={"unusable": [{"path": p, "why": w} for p, w in unusable]})
    return Finding(fid, Status.SKIP, title, detail=f"skipped: not collected ({what})")


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
            if marker.casefold() in r.url.casefold() and _port(r.url) == port:
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
            remediation="Nothing to do while IP-HTTPS works. If the IP-HTTPS interface fails to "
            "start (0x643/0x34), follow KB 2980660: " + "; ".join(steps),
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
        remediation="; ".join(steps),
        evidence=evidence,
    )


def _interface_failure(facts: Facts) -> str:
    """Evidence from the bundle that the server's IP-HTTPS interface fails: a state of 0x643 or
    0x34 (KB 2980660), or interface output that shows no IP-HTTPS interface at all."""
    if facts.interfaces is None:
        return ""
    failing = [i for i in facts.interfaces if i.last_error in INTERFACE_CODES]
    if failing:
        return "; ".join(f"interface {i.name} reports 0x{i.last_error:X}" for i in failing
                         if i.last_error is not None)
    if not facts.interfaces:
        return "the interface output shows no IP-HTTPS interface"
    return ""


def _recreate_steps(reservations: Sequence[Reservation]) -> list[str]:
    """KB 2980660's fix as a back-up, delete, re-create sequence. It never removes a role: the
    reservation is re-created with its own descriptor, for SSTP or BranchCache to keep working."""
    steps = [_backup(URLACL_KEY, "urlaclinfo-backup.reg")]
    for r in reservations:
        steps.append(f"delete the reservation: `netsh http delete urlacl url={r.url}`")
    steps.append(RESTART_IPHLPSVC)
    for r in reservations:
        if r.sddl:
            steps.append(
                f"if its role is in use (SSTP VPN, BranchCache), re-create it as it was: "
                f'`netsh http add urlacl url={r.url} sddl="{r.sddl}"`'
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
    return scheme.casefold(), _port(url), path


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
    steps = [_backup(URLACL_KEY, "urlaclinfo-backup.reg")]
    steps += [
        f"remove the extra value `{u}` under `{_short(URLACL_KEY)}`: "
        f"`netsh http delete urlacl url={u}`"
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
        remediation="; ".join(steps),
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
    steps = [_backup(URLACL_KEY, "urlaclinfo-backup.reg")]
    steps += [
        f'delete the value `{r.url}`: `reg delete "{_short(URLACL_KEY)}" /v "{r.url}" /f` '
        "(re-add it with `netsh http add urlacl` if its owner needs it)"
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
        remediation="; ".join(steps),
        evidence={"key": URLACL_KEY, "values": [r.url for r in bad],
                  "errors": {r.url: r.error for r in bad}},
    )


def _unique_bindings(bindings: list[Binding]) -> list[Binding]:
    seen: dict[tuple[str, str], Binding] = {}
    for b in bindings:
        seen.setdefault((b.kind, b.endpoint.casefold()), b)
    return list(seen.values())


def check_sslcert_binding(facts: Facts, opts: Options) -> Finding:
    """Which certificate HTTP.sys serves on the IP-HTTPS port.

    HTTP.sys uses an `IP:port` binding for its own address and `0.0.0.0:port` for the others
    (inferred from HTTP.sys's binding order). `Add-NetIPHttpsCertBinding` (Learn) binds IP-HTTPS
    at a specific `IP:443` with an app id of the admin's choice, and KB 973982 describes the
    `0.0.0.0:443` binding with app id {5d8e2743-...}: either is a valid IP-HTTPS binding, so
    the app id is evidence, and what matters is the certificate each binding carries.
    """
    fid = FindingId.SERVER_SSLCERT_BINDING
    if facts.bindings is None:
        return not_collected(fid, "HTTP.sys SSL binding of the IP-HTTPS port", facts, "bindings",
                             "`netsh http show sslcert` output or an SslBindingInfo export/hive")
    port = iphttps_port(facts)
    bindings = _unique_bindings(facts.bindings)
    on_port = [b for b in bindings if b.kind == "ip" and b.port == port]
    wildcard = [b for b in on_port if b.host in ("0.0.0.0", "::")]
    specific = [b for b in on_port if b not in wildcard]
    evidence: dict[str, object] = {
        "key": SSL_BINDING_KEY,
        "bindings": [
            {"endpoint": b.endpoint, "cert_hash": b.cert_hash, "app_id": b.app_id,
             "store": b.store, "source": b.source}
            for b in on_port
        ],
        "port": port,
    }
    want = opts.cert_thumbprint
    other_apps = [f"{b.endpoint} has app id {b.app_id}" for b in on_port
                  if b.app_id and b.app_id != IPHTTPS_APP_ID]
    app_note = (" App ids (evidence only: Add-NetIPHttpsCertBinding lets the admin choose one): "
                + "; ".join(other_apps) + ".") if other_apps else ""
    rebind = (f"bind the IP-HTTPS certificate: `netsh http add sslcert ipport=0.0.0.0:{port} "
              f"certhash={want or 'THUMBPRINT'} appid={IPHTTPS_APP_ID} dsmapperusage=enable` "
              "(or `Set-RemoteAccess -SslCertificate`)")
    if not on_port:
        return Finding(fid, Status.FAIL, f"No SSL binding on port {port}: HTTP.sys has no "
                       "certificate for IP-HTTPS",
                       detail=f"no 0.0.0.0:{port} binding and no IP:{port} binding was found.",
                       predicts=CERT_CODES,
                       remediation="; ".join([rebind, RESTART_IPHLPSVC]), evidence=evidence)
    certs = {b.cert_hash for b in on_port}
    if want:
        right = [b for b in on_port if b.cert_hash == want]
        wrong = [b for b in on_port if b.cert_hash != want]
        listed = "; ".join(f"{b.endpoint} serves {b.cert_hash or 'no readable certificate'}"
                           for b in wrong)
        if not right:
            steps = [_backup(SSL_BINDING_KEY, "sslbindinginfo-backup.reg")]
            steps += [f"re-create {b.endpoint}: `netsh http delete sslcert ipport={b.endpoint}`, "
                      f"then `netsh http add sslcert ipport={b.endpoint} certhash={want} "
                      f"appid={b.app_id or IPHTTPS_APP_ID} dsmapperusage=enable`" for b in wrong]
            steps.append(RESTART_IPHLPSVC)
            return Finding(fid, Status.FAIL, f"No binding on port {port} carries "
                           f"{opts.cert_label}",
                           detail=f"{listed}; expected {want} ({opts.cert_label}).{app_note}",
                           predicts=CERT_CODES, remediation="; ".join(steps), evidence=evidence)
        if wrong:
            return Finding(fid, Status.WARN, "Some addresses are bound to another certificate",
                           detail=f"{listed}. Clients reaching those addresses get that "
                           f"certificate; {', '.join(b.endpoint for b in right)} carries "
                           f"{opts.cert_label}.{app_note}",
                           predicts=CERT_CODES,
                           remediation="If a listed address is the public (or NAT target) "
                           "address, re-create its binding with the IP-HTTPS certificate: "
                           f"`netsh http delete sslcert ipport=ENDPOINT`, then `netsh http add "
                           f"sslcert ipport=ENDPOINT certhash={want} appid={IPHTTPS_APP_ID} "
                           "dsmapperusage=enable`.",
                           evidence=evidence)
        return Finding(fid, Status.PASS, f"Port {port} is bound to {opts.cert_label}",
                       detail=", ".join(b.endpoint for b in right) + f" -> {want}.{app_note}",
                       evidence=evidence)
    if len(certs) > 1:
        return Finding(fid, Status.WARN, f"Bindings on port {port} carry different certificates",
                       detail="; ".join(f"{b.endpoint} -> {b.cert_hash}" for b in on_port)
                       + ". Which one a client gets depends on the address it reaches (give "
                       "--cert FILE or --url to say which is the IP-HTTPS certificate)."
                       + app_note,
                       predicts=CERT_CODES, evidence=evidence)
    hosts = {(urlsplit(u).hostname or "").casefold() for u in facts.iphttps_urls()}
    reference = next(iter(certs))
    sni = [b for b in bindings if b.kind == "hostname" and b.port == port
           and b.host.casefold() in hosts and b.cert_hash != reference]
    if sni:
        return Finding(fid, Status.WARN, "An SNI binding may serve another certificate",
                       detail="; ".join(f"SNI binding {b.endpoint} serves certificate "
                                        f"{b.cert_hash} (inferred: clients sending that name "
                                        "get it)" for b in sni),
                       predicts=CERT_CODES, evidence=evidence)
    shown = ", ".join(b.endpoint for b in (wildcard or specific))
    return Finding(fid, Status.PASS, f"{shown} bound for IP-HTTPS",
                   detail=f"{shown} -> {reference} (give --cert FILE to compare it with the "
                   f"intended certificate).{app_note}",
                   evidence=evidence)


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
    evidence = {"key": key, "value": f"0x{value:x}", "disables": bits,
                "source": facts.disabled_components_source}
    steps = [
        _backup(key, "tcpip6-backup.reg"),
        f'delete the value `{DISABLED_COMPONENTS}`: `reg delete "{_short(key)}" /v '
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
                       detail=f"DisabledComponents = 0x{value:x}: disables " + ", ".join(bits),
                       predicts=INTERFACE_CODES, remediation="; ".join(steps), evidence=evidence)
    if value == 0x20:
        return Finding(fid, Status.PASS, "DisabledComponents = 0x20 (prefer IPv4): supported",
                       evidence=evidence)
    return Finding(fid, Status.WARN, f"DisabledComponents = 0x{value:x} is not 0 or 0x20",
                   detail="disables " + ", ".join(bits) + "; Microsoft supports only 0 and 0x20 "
                   "on a Remote Access server (KB 929852)",
                   predicts=INTERFACE_CODES, remediation="; ".join(steps), evidence=evidence)


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
    steps = [_backup(V6TRANSITION, "v6transition-backup.reg")]
    steps += [f'delete the key `{_short(k)}`: `reg delete "{_short(k)}" /f`' for k in roots]
    steps.append("restart the IP Helper service (`net stop iphlpsvc && net start iphlpsvc`), "
                 "then `gpupdate /force` (or restart while connected to the corporate network) "
                 "so Group Policy writes the keys again (KB 2980660)")
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
                       predicts=INTERFACE_CODES, remediation="; ".join(steps), evidence=evidence)
    profiles = [k for k in keys if k.path.casefold().startswith(IPHTTPS_POLICY_KEYS[1].casefold())]
    if len(profiles) > 1:
        return Finding(fid, Status.WARN, "IPHTTPSProfiles policy entries present",
                       detail=f"{len(profiles) - 1} profile subkey(s); stale or duplicate entries "
                       "here conflict with the applied IP-HTTPS configuration (KB 2980660)",
                       predicts=INTERFACE_CODES, remediation="; ".join(steps), evidence=evidence)
    return Finding(fid, Status.PASS, "IP-HTTPS policy keys are consistent with the interface",
                   detail=", ".join(_short(k.path) for k in keys), evidence=evidence)


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
            _short(k.path) + (" (" + ", ".join(f"{n}={v}" for n, v in k.values) + ")"
                              if k.values else "")
            for k in entries
        ) + ". IP-HTTPS uses the last proxies it saw; a proxy that is gone or blocks CONNECT "
        "gives 0x2AFC/0x2AF9 (KB 2980635).",
        predicts=CONNECT_CODES,
        remediation="; ".join([
            _backup(PROXYMGR_KEY, "proxymgr-backup.reg"),
            "if the proxy is no longer used, delete every subkey of "
            f"`{_short(PROXYMGR_KEY)}`",
            "then restart the DirectAccess client computer (KB 2980635)",
        ]),
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
    artifacts = guarded(FindingId.SERVER_ARTIFACTS, lambda: check_artifacts(facts, findings))
    return [artifacts, *findings]
