"""`server.nrpt`: is the IP-HTTPS public name caught by the Name Resolution Policy Table?

When the IP-HTTPS name falls inside an NRPT namespace that sends lookups to the DirectAccess
DNS servers, with no exemption for the name itself, a client outside asks the internal DNS
server (reachable only through the tunnel it is trying to build) and IP-HTTPS fails: KB 3056560
(0x2AFC, 0x274D); Hicks, "DirectAccess NRPT Configuration with Split DNS" (0x2AF9). Public DNS
still answers, so no probe from outside sees it; the NRPT itself shows it.

NRPT matching (Learn, "Add-DnsClientNrptRule" -Namespace): a namespace with a leading dot is a
suffix (every name under it), one without is a single FQDN; the most specific matching rule
applies (inferred from the NRPT's documented behaviour of exemptions overriding their suffix).
An entry with no DNS servers is an exemption (Learn, "Add-DAClientDnsConfiguration").
"""

from __future__ import annotations

from urllib.parse import urlsplit

from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status
from daserver_check.protocol.remote_access import NrptRule
from daserver_check.server.common import Options, not_collected
from daserver_check.server.facts import Facts

NRPT_CODES = (0x2AF9, 0x2AFC, 0x274D)


def _host(value: str) -> str | None:
    value = value.strip()
    if not value:
        return None
    if "://" not in value:
        value = "https://" + value
    try:
        host = urlsplit(value).hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


def iphttps_hosts(facts: Facts) -> list[str]:
    """The IP-HTTPS public name: Get-RemoteAccess ConnectToAddress, else the interface URLs."""
    found: list[str] = []
    if facts.remote_access and facts.remote_access.connect_to:
        found.append(facts.remote_access.connect_to)
    found.extend(facts.iphttps_urls())
    hosts = [h for h in (_host(v) for v in found) if h]
    return list(dict.fromkeys(hosts))


def matches(namespace: str, host: str) -> bool:
    ns = namespace.strip().lower().rstrip(".") if namespace.strip() != "." else "."
    if ns in (".", ""):
        return ns == "."  # "." is every name (inferred); an empty namespace matches nothing
    if ns.startswith("."):
        return host.endswith(ns) or host == ns[1:]
    return host == ns


def _specificity(namespace: str) -> int:
    ns = namespace.strip(".")
    return ns.count(".") + 1 + (1 if not namespace.startswith(".") else 0) if ns else 0


def governing_rule(rules: list[NrptRule], host: str) -> tuple[NrptRule, str] | None:
    """The most specific rule whose namespace matches `host`, with that namespace."""
    best: tuple[NrptRule, str] | None = None
    for rule in rules:
        for ns in rule.namespaces:
            if matches(ns, host) and (best is None or _specificity(ns) > _specificity(best[1])):
                best = (rule, ns)
    return best


def check_nrpt(facts: Facts, opts: Options) -> Finding:
    fid = FindingId.SERVER_NRPT
    if facts.nrpt is None:
        return not_collected(fid, "IP-HTTPS name and the NRPT", facts, "nrpt",
                             "Get-DAClientDnsConfiguration (server) or Get-DnsClientNrptPolicy "
                             "(client) output: nrpt.json")
    hosts = iphttps_hosts(facts)
    rules = facts.nrpt
    evidence: dict[str, object] = {
        "source": facts.nrpt_source, "iphttps_hosts": hosts,
        "rules": [{"namespaces": list(r.namespaces), "directaccess_dns_servers": list(r.da_servers),
                   "directaccess_enabled": r.da_enabled} for r in rules],
    }
    if not hosts:
        return Finding(fid, Status.SKIP, "IP-HTTPS name and the NRPT",
                       detail="skipped: the IP-HTTPS name is not known (collect Get-RemoteAccess "
                       "or the IP-HTTPS interface output, or give --url)", evidence=evidence)
    caught = []
    for host in hosts:
        found = governing_rule(rules, host)
        if found is None:
            continue
        rule, ns = found
        if rule.exemption or rule.da_enabled is False:
            continue
        caught.append((host, ns, rule))
    if caught:
        detail = "; ".join(
            f"{host} falls under the NRPT namespace {ns} (DNS servers "
            f"{', '.join(rule.da_servers or rule.name_servers)}) and no exemption covers it"
            for host, ns, rule in caught)
        evidence["caught"] = [{"host": h, "namespace": ns} for h, ns, _r in caught]
        steps = [
            f"add an NRPT exemption for the IP-HTTPS name on the DirectAccess server: "
            f"`Add-DAClientDnsConfiguration -DnsSuffix '{host}'` (a suffix without DNS servers "
            "is an exemption; KB 3056560)" for host in dict.fromkeys(h for h, _n, _r in caught)
        ]
        steps.append("then update Group Policy on the clients (`gpupdate /force` while they "
                     "are on the corporate network)")
        return Finding(fid, Status.FAIL, "The IP-HTTPS name is inside an NRPT namespace without "
                       "an exemption",
                       detail=detail + ". Clients then ask the internal DNS server for the "
                       "IP-HTTPS name before the tunnel exists (KB 3056560: 0x2AFC/0x274D; Hicks, "
                       "\"DirectAccess NRPT Configuration with Split DNS\": 0x2AF9).",
                       predicts=NRPT_CODES, remediation="; ".join(steps), evidence=evidence)
    exempt = [h for h in hosts if governing_rule(rules, h) is not None]
    if exempt:
        return Finding(fid, Status.PASS, "The IP-HTTPS name is exempt from the NRPT",
                       detail=", ".join(exempt) + ": the most specific NRPT entry has no DNS "
                       "servers (an exemption)", evidence=evidence)
    return Finding(fid, Status.PASS, "The IP-HTTPS name is outside every NRPT namespace",
                   detail=", ".join(hosts) + f": no match among {len(rules)} NRPT entr"
                   + ("y" if len(rules) == 1 else "ies"), evidence=evidence)
