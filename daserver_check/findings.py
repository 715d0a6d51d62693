"""The finding registry: every finding id the tool can report, and what it means.

This is the one place a finding is declared. Each entry says its stage, a title (what the check
looks at, shown when it is skipped), which commands report it, how to make a skipped check run,
the client codes it can predict, and the module that makes it. The module is named, not
imported, so this file stays on the ground floor: `tests/test_findings.py` imports every named
module and checks that it really makes its ids, that every code is in the catalogue
(`codes.py`), and that the README's findings table matches this registry.

To add a finding: add a member to `FindingId`, an entry to `_SPECS`, make it in the named module
(`Finding(id=FindingId.X, ...)`), and run `python -m daserver_check.findings` (and `... makers`) to
refresh the README table and the map in `docs/architecture.md`.
"""

from __future__ import annotations

import enum
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType


class FindingId(enum.StrEnum):
    """Every id a finding can carry. The values are the stable contract names."""

    TARGET_URL = "target.url"
    TARGET_IP_LITERAL = "target.ip-literal"
    DNS_RESOLVE = "dns.resolve"
    DNS_NODATA = "dns.nodata"
    DNS_PRIVATE_ADDRESS = "dns.private-address"
    DNS_CONSISTENCY = "dns.consistency"
    DNS_ENTRY_POINTS = "dns.entry-points"
    PROBE_ENTRY_POINTS = "probe.entry-points"
    TCP_CONNECT = "tcp.connect"
    TLS_HANDSHAKE = "tls.handshake"
    TLS_NULL_CIPHER = "tls.null-cipher"
    TLS_CLIENT_CERT = "tls.client-cert"
    TLS_PROTOCOL = "tls.protocol"
    TLS_CLIENT_WINDOWS7 = "tls.client.windows7"
    TLS_CLIENT_WINDOWS7_TLS12 = "tls.client.windows7-tls12"
    TLS_CLIENT_WINDOWS8 = "tls.client.windows8"
    TLS_CLIENT_WINDOWS10 = "tls.client.windows10"
    TLS_CLIENT_WINDOWS11 = "tls.client.windows11"
    TLS_CIPHERS = "tls.ciphers"
    CERT_SUBJECT_NAME = "cert.subject-name"
    CERT_SUBJECT_EXTRA = "cert.subject-extra"
    CERT_SAN = "cert.san"
    CERT_EKU = "cert.eku"
    CERT_VALIDITY = "cert.validity"
    CERT_TRUST = "cert.trust"
    CERT_CHAIN = "cert.chain"
    CERT_KEY = "cert.key"
    CERT_SIGNATURE = "cert.signature"
    CERT_PRIVATE_KEY = "cert.private-key"
    CERT_CRL = "cert.crl"
    CERT_REPLACEMENT = "cert.replacement"
    CERT_ROLLOUT = "cert.rollout"
    CERT_INPUT = "cert.input"
    IPHTTPS_POST = "iphttps.post"
    IPHTTPS_SERVER = "iphttps.server"
    IPHTTPS_PREFIX = "iphttps.prefix"
    PROXY_CONNECT = "proxy.connect"
    TRACE_PATH = "trace.path"
    SERVER_ARTIFACTS = "server.artifacts"
    SERVER_URLACL_CONFLICT = "server.urlacl.conflict"
    SERVER_URLACL_DUPLICATE = "server.urlacl.duplicate"
    SERVER_URLACL_ACL = "server.urlacl.acl"
    SERVER_SSLCERT_BINDING = "server.sslcert.binding"
    SERVER_IPV6_COMPONENTS = "server.ipv6.components"
    SERVER_IPHTTPS_POLICY = "server.iphttps.policy"
    SERVER_IPHTTPS_STATE = "server.iphttps.state"
    SERVER_HEALTH = "server.health"
    SERVER_NRPT = "server.nrpt"
    SERVER_TLS_SCHANNEL = "server.tls.schannel"
    SERVER_INPUT = "server.input"
    CLIENT_PROXY = "client.proxy"
    CLIENT_SYSTEM_PROXY = "client.system-proxy"
    CLIENT_ADAPTERS = "client.adapters"
    EXPLAIN_CODE = "explain.code"
    BASELINE_WORSE = "baseline.worse"
    BASELINE_FIXED = "baseline.fixed"
    BASELINE_UNCHANGED = "baseline.unchanged"
    BASELINE_NEW = "baseline.new"
    BASELINE_UNREADABLE = "baseline.unreadable"
    CHECKLIST_JOB = "checklist.job"

    @property
    def stage(self) -> str:
        return self.value.split(".", 1)[0]


class Command(enum.StrEnum):
    """The subcommands that report findings."""

    PROBE = "probe"
    CERT = "cert"
    SERVER = "server"
    EXPLAIN = "explain"
    CHECKLIST = "checklist"
    EXPORTER = "exporter"
    TRACE = "trace"


@dataclass(frozen=True, slots=True)
class FindingSpec:
    id: FindingId
    title: str  # what the check looks at; the title of its skip finding
    commands: tuple[Command, ...]
    maker: str  # the module that makes it (dotted name, imported only by the tests)
    fails_when: str  # the verdict rule, as the README's findings table states it
    predicts: tuple[int, ...] = ()  # client codes a failing finding can name (all in codes.py)
    runs_with: str = ""  # how to make a skipped check run ("" when it always runs)

    @property
    def stage(self) -> str:
        return self.id.stage


_P = (Command.PROBE, Command.CHECKLIST, Command.EXPORTER)
_PC = (*_P, Command.CERT)
_S = (Command.SERVER, Command.CHECKLIST)
_CONNECT = (0x2AFC, 0x2AF9)
_INTERFACE = (0x643, 0x34)


def _spec(
    fid: FindingId,
    title: str,
    commands: tuple[Command, ...],
    maker: str,
    predicts: tuple[int, ...] = (),
    runs_with: str = "",
) -> FindingSpec:
    return FindingSpec(fid, title, commands, f"daserver_check.{maker}", _WHEN[fid], predicts,
                       runs_with)


# What makes each finding warn or fail (the README's findings table).
_WHEN: Mapping[FindingId, str] = {
    FindingId.TARGET_URL: 'URL not https, no host, bad port (`error`: an input problem, exit 3)',
    FindingId.TARGET_IP_LITERAL: 'the URL uses an IP address instead of a name',
    FindingId.DNS_RESOLVE:
        'NXDOMAIN / SERVFAIL (fail); every configured resolver silent or unreachable (`error`)',
    FindingId.DNS_NODATA: 'the name exists but has no A/AAAA',
    FindingId.DNS_PRIVATE_ADDRESS:
        'the public name resolves to private/loopback/link-local space (a profile may allow it)',
    FindingId.DNS_CONSISTENCY: 'resolvers disagree (warn)',
    FindingId.DNS_ENTRY_POINTS: 'DNS returns an address that is not a listed entry point',
    FindingId.PROBE_ENTRY_POINTS: 'some (warn) or all (fail) of the probed addresses fail',
    FindingId.TCP_CONNECT: 'refused (0x274D), timed out / dropped (0x274C), unreachable',
    FindingId.TLS_HANDSHAKE:
        'no handshake at all, or none with encrypted suites when the profile has Windows 7 clients',
    FindingId.TLS_NULL_CIPHER:
        'null-encryption suites not offered (warn: Windows 8+ clients encrypt twice)',
    FindingId.TLS_CLIENT_CERT: 'the server requests a client certificate',
    FindingId.TLS_PROTOCOL: 'only TLS 1.1 or older (warn)',
    FindingId.TLS_CLIENT_WINDOWS7:
        'a Windows 7 client (TLS 1.0, its own suites) cannot complete a handshake',
    FindingId.TLS_CLIENT_WINDOWS7_TLS12:
        'a Windows 7 client with KB 3140245 (TLS 1.0-1.2) cannot complete a handshake',
    FindingId.TLS_CLIENT_WINDOWS8:
        'a Windows 8/8.1 client (its suites plus the null suites) cannot complete a handshake',
    FindingId.TLS_CLIENT_WINDOWS10:
        'a Windows 10 client (its suites plus the null suites) cannot complete a handshake',
    FindingId.TLS_CLIENT_WINDOWS11:
        'a Windows 11 client (its suites plus the null suites) cannot complete a handshake',
    FindingId.TLS_CIPHERS:
        'opt-in `--ciphers`: the version x suite map; warn when only null or weak suites are accepted',
    FindingId.CERT_SUBJECT_NAME: 'Subject CN missing or not the URL host',
    FindingId.CERT_SUBJECT_EXTRA: 'several CNs, or a CN with scheme/path/port/space',
    FindingId.CERT_SAN: 'SAN without the host (fail); no SAN (warn)',
    FindingId.CERT_EKU: 'EKU without Server Authentication (fail); no EKU (warn)',
    FindingId.CERT_VALIDITY: 'expired / not yet valid (fail); within the warn/crit days (warn/fail)',
    FindingId.CERT_TRUST: 'no chain to a trusted root, or the chosen path breaks a CA name '
                          'constraint (fail); self-signed (warn)',
    FindingId.CERT_CHAIN: 'intermediates not served; an unneeded expired certificate served (warn)',
    FindingId.CERT_KEY: 'RSA < 2048 (fail); ECDSA (warn: no null suites)',
    FindingId.CERT_SIGNATURE: 'MD5 (fail) / SHA-1 (warn) signature',
    FindingId.CERT_PRIVATE_KEY: 'no private key, or one that does not match',
    FindingId.CERT_CRL:
        'whole chain, base + delta CRLs: unreachable/expired/bad (0x80092013), revoked '
        '(0x80092010); fail when the clients enforce revocation (Windows 7), warn otherwise',
    FindingId.CERT_REPLACEMENT: 'the new certificate is not a drop-in replacement for the one served',
    FindingId.CERT_ROLLOUT:
        'never fails: the thumbprints and the commands that install the certificate',
    FindingId.CERT_INPUT: 'a listed certificate file cannot be read (`error`)',
    FindingId.IPHTTPS_POST: 'the POST is not answered 200 (404, closed, reset …)',
    FindingId.IPHTTPS_SERVER: 'the answer is not from HTTP.sys (warn)',
    FindingId.IPHTTPS_PREFIX: 'opt-in: no Router Advertisement, or no /64 prefix in it',
    FindingId.PROXY_CONNECT: 'CONNECT refused, proxy authentication required, or TLS intercepted',
    FindingId.TRACE_PATH: 'TCP SYNs die at a hop before the server',
    FindingId.SERVER_ARTIFACTS: 'collected files could not be read or were ignored',
    FindingId.SERVER_URLACL_CONFLICT:
        'a BranchCache `C574AC30…` or SSTP `sra_{BA195980…}` reservation on the IP-HTTPS port',
    FindingId.SERVER_URLACL_DUPLICATE: 'the same path reserved twice (`+` and `*`)',
    FindingId.SERVER_URLACL_ACL: "a reservation's security descriptor is corrupt or unreadable",
    FindingId.SERVER_SSLCERT_BINDING:
        'the binding HTTP.sys uses for the IP-HTTPS port carries another certificate, or there is none',
    FindingId.SERVER_IPV6_COMPONENTS:
        'DisabledComponents disables tunnels/IP-HTTPS/IPv6 (fail) or is not 0/0x20 (warn)',
    FindingId.SERVER_IPHTTPS_POLICY: 'stale IPHTTPS / IPHTTPSProfiles policy keys',
    FindingId.SERVER_IPHTTPS_STATE: "the interface's Last Error Code is not 0x0",
    FindingId.SERVER_HEALTH:
        "`Get-RemoteAccessHealth` components not OK (Microsoft's own error text; Error fails, "
        'Warning/Unknown warns)',
    FindingId.SERVER_NRPT:
        'the IP-HTTPS host falls under an NRPT namespace without an exemption',
    FindingId.SERVER_TLS_SCHANNEL:
        'Schannel/FIPS/suite-order policy leaves a profile client without a shared protocol or '
        'suite (fail), or removes the null suites (warn)',
    FindingId.SERVER_INPUT: 'a listed server bundle cannot be read (`error`)',
    FindingId.CLIENT_PROXY: 'the client caches proxy entries (ProxyMgr)',
    FindingId.CLIENT_SYSTEM_PROXY:
        'a WinHTTP or LocalSystem proxy is set on the client (warn)',
    FindingId.CLIENT_ADAPTERS:
        'duplicate, not-present or disabled IP-HTTPS adapters (fail); disabled transition '
        'adapters (warn)',
    FindingId.EXPLAIN_CODE:
        'the code is a failure: its meaning, causes and the checks that find them',
    FindingId.BASELINE_WORSE: 'findings worse than in the baseline report',
    FindingId.BASELINE_FIXED: 'never fails: findings fixed since the baseline',
    FindingId.BASELINE_UNCHANGED: 'never fails: findings unchanged since the baseline',
    FindingId.BASELINE_NEW: 'findings not in the baseline',
    FindingId.BASELINE_UNREADABLE: 'the --baseline file cannot be read or compared (`error`)',
    FindingId.CHECKLIST_JOB: 'a checklist job stopped on an internal error (`error`)',
}

F = FindingId
_SPECS: tuple[FindingSpec, ...] = (
    _spec(F.TARGET_URL, "IP-HTTPS URL is usable", _P, "checks.target"),
    _spec(F.TARGET_IP_LITERAL, "URL host is a name, not an IP address", _P, "checks.target", (0x4BE,)),
    _spec(F.DNS_RESOLVE, "Public name resolves", _P, "checks.dns", (0x2AF9,),
          "give --resolver, or leave out --connect"),
    _spec(F.DNS_NODATA, "Public name has A/AAAA records", _P, "checks.dns", (0x2AFC,)),
    _spec(F.DNS_PRIVATE_ADDRESS, "Public name resolves to public addresses", _P, "checks.dns",
          (0x2AFC,)),
    _spec(F.DNS_CONSISTENCY, "Resolvers agree", _P, "checks.dns", (),
          "give two or more resolvers"),
    _spec(F.DNS_ENTRY_POINTS, "Resolved addresses match the profile's entry points", _P,
          "checks.addresses", _CONNECT, "list deployment.entry_points in the profile"),
    _spec(F.PROBE_ENTRY_POINTS, "Every probed address passes", _P, "checks.addresses", (),
          "a name with several addresses, or several entry points"),
    _spec(F.TCP_CONNECT, "TCP connection to the IP-HTTPS port", _P, "checks.tcp", (0x274C, 0x274D)),
    _spec(F.TLS_HANDSHAKE, "TLS handshake", _P, "checks.tls", _CONNECT),
    _spec(F.TLS_NULL_CIPHER, "Null-encryption cipher suites (Windows 8+ clients)", _P, "checks.tls"),
    _spec(F.TLS_CLIENT_CERT, "Client certificate request", _P, "checks.tls", (0x90320,)),
    _spec(F.TLS_PROTOCOL, "TLS protocol version", _P, "checks.tls"),
    _spec(F.TLS_CLIENT_WINDOWS7, "Windows 7 client handshake", _P, "checks.tls_clients",
          (0x80090326,), "list windows7 in deployment.client_os"),
    _spec(F.TLS_CLIENT_WINDOWS7_TLS12, "Windows 7 (KB 3140245) client handshake", _P,
          "checks.tls_clients", (0x80090326,), "list windows7-tls12 in deployment.client_os"),
    _spec(F.TLS_CLIENT_WINDOWS8, "Windows 8.1 client handshake", _P, "checks.tls_clients",
          (0x80090326,), "list windows8 or windows8.1 in deployment.client_os"),
    _spec(F.TLS_CLIENT_WINDOWS10, "Windows 10 client handshake", _P, "checks.tls_clients",
          (0x80090326,), "list windows10 in deployment.client_os"),
    _spec(F.TLS_CLIENT_WINDOWS11, "Windows 11 client handshake", _P, "checks.tls_clients",
          (0x80090326,), "list windows11 in deployment.client_os"),
    _spec(F.TLS_CIPHERS, "Protocol versions and suites the server accepts", _P,
          "checks.tls_ciphers", (), "give --ciphers"),
    _spec(F.CERT_SUBJECT_NAME, "Certificate Subject CN matches the host", _PC,
          "certs.name_checks", (0x103,), "give --url"),
    _spec(F.CERT_SUBJECT_EXTRA, "Certificate Subject carries nothing extra", _PC,
          "certs.name_checks", (0x103,), "give --url"),
    _spec(F.CERT_SAN, "Certificate SAN contains the host", _PC, "certs.name_checks", (0x103,),
          "give --url"),
    _spec(F.CERT_EKU, "Server Authentication EKU", _PC, "certs.name_checks", (0x103,)),
    _spec(F.CERT_VALIDITY, "Certificate validity period", _PC, "certs.cert_checks", (0x800B0101,)),
    _spec(F.CERT_TRUST, "Certificate chain trust", _PC, "certs.chain_checks",
          (0x800B0109, 0x800B0114)),
    _spec(F.CERT_CHAIN, "Intermediate certificates served", _PC, "certs.chain_checks",
          (0x800B0109,)),
    _spec(F.CERT_KEY, "Certificate key type and size", _PC, "certs.cert_checks"),
    _spec(F.CERT_SIGNATURE, "Certificate signature algorithm", _PC, "certs.cert_checks"),
    _spec(F.CERT_PRIVATE_KEY, "Private key present and matching", (Command.CERT, Command.CHECKLIST),
          "certs.private_key", (0x103,), "give a PFX, or a PEM with its key"),
    _spec(F.CERT_CRL, "Certificate revocation (CRL)", (*_P, Command.CERT),
          "certs.crl", (0x80092013, 0x80092010, 0x80092012), "leave out --offline"),
    _spec(F.CERT_REPLACEMENT, "New certificate is a drop-in replacement", (Command.CERT,),
          "certs.replacement", (0x103,), "give --against URL"),
    _spec(F.CERT_ROLLOUT, "Rollout steps", (Command.CERT,), "pipeline.cert_file"),
    _spec(F.CERT_INPUT, "Certificate file could be checked", (Command.CHECKLIST,),
          "commands.checklist"),
    _spec(F.IPHTTPS_POST, "IP-HTTPS POST answered 200", _P, "checks.iphttps", _CONNECT),
    _spec(F.IPHTTPS_SERVER, "Answer comes from HTTP.sys", _P, "checks.iphttps", _CONNECT),
    _spec(F.IPHTTPS_PREFIX, "Router Advertisement with a /64 prefix", _P, "checks.router_discovery",
          _CONNECT, "give --router-discovery"),
    _spec(F.PROXY_CONNECT, "CONNECT through the proxy", _P, "checks.proxy", _CONNECT,
          "give --proxy"),
    _spec(F.TRACE_PATH, "TCP SYNs reach the server", (Command.TRACE,), "checks.trace",
          (0x274C,)),
    _spec(F.SERVER_ARTIFACTS, "Collected files were read", _S, "server.checks"),
    _spec(F.SERVER_URLACL_CONFLICT, "URL reservations conflicting with IP-HTTPS", _S,
          "server.urlacl", _INTERFACE, "collect urlacl.txt or the HTTP registry key"),
    _spec(F.SERVER_URLACL_DUPLICATE, "Duplicate URL reservations", _S, "server.urlacl",
          _INTERFACE, "collect urlacl.txt or the HTTP registry key"),
    _spec(F.SERVER_URLACL_ACL, "URL reservation security descriptors", _S, "server.urlacl",
          _INTERFACE, "collect urlacl.txt or the HTTP registry key"),
    _spec(F.SERVER_SSLCERT_BINDING, "HTTP.sys SSL binding of the IP-HTTPS port", _S,
          "server.binding", (0x103,), "collect sslcert.txt or the HTTP registry key"),
    _spec(F.SERVER_IPV6_COMPONENTS, "IPv6 DisabledComponents", _S, "server.checks", _INTERFACE,
          "collect the Tcpip6 registry key"),
    _spec(F.SERVER_IPHTTPS_POLICY, "IP-HTTPS policy keys", _S, "server.checks", _INTERFACE,
          "collect the Tcpip\\v6Transition policy key"),
    _spec(F.SERVER_IPHTTPS_STATE, "IP-HTTPS interface state", _S, "server.state",
          (0x643, 0x34, 0x103, 0x2AF9, 0x2AFC), "collect `netsh interface httpstunnel show interfaces`"),
    _spec(F.SERVER_HEALTH, "Remote Access component health", _S, "server.health", (),
          "collect `Get-RemoteAccessHealth` (collect-script, ra-health.json)"),
    _spec(F.SERVER_NRPT, "IP-HTTPS name and the NRPT", _S, "server.nrpt",
          (0x2AF9, 0x2AFC, 0x274D),
          "collect `Get-DAClientDnsConfiguration` (server) or `Get-DnsClientNrptPolicy` (client)"),
    _spec(F.SERVER_TLS_SCHANNEL, "Schannel protocols, suites and FIPS policy", _S,
          "server.schannel", (0x80090326,),
          "collect the SCHANNEL, cipher-suite order and FIPS policy keys or Get-TlsCipherSuite"),
    _spec(F.SERVER_INPUT, "Server bundle could be read", (Command.CHECKLIST,),
          "commands.checklist"),
    _spec(F.CLIENT_PROXY, "Cached proxy entries (ProxyMgr)", _S, "server.checks", _CONNECT,
          "collect the iphlpsvc ProxyMgr key"),
    _spec(F.CLIENT_SYSTEM_PROXY, "WinHTTP and LocalSystem proxy (client)", _S, "server.client",
          _CONNECT, "collect `netsh winhttp show proxy` or LocalSystem's Internet settings "
          "(collect-script --client)"),
    _spec(F.CLIENT_ADAPTERS, "IP-HTTPS and transition adapters (client)", _S, "server.client",
          _INTERFACE, "collect `Get-NetAdapter -IncludeHidden` (collect-script --client)"),
    _spec(F.EXPLAIN_CODE, "What a client error code means", (Command.EXPLAIN,), "commands.explain"),
    _spec(F.BASELINE_WORSE, "Findings worse than the baseline", (Command.CHECKLIST,), "baseline",
          (), "give --baseline"),
    _spec(F.BASELINE_FIXED, "Findings fixed since the baseline", (Command.CHECKLIST,), "baseline",
          (), "give --baseline"),
    _spec(F.BASELINE_UNCHANGED, "Findings unchanged since the baseline", (Command.CHECKLIST,),
          "baseline", (), "give --baseline"),
    _spec(F.BASELINE_NEW, "Findings new since the baseline", (Command.CHECKLIST,), "baseline",
          (), "give --baseline"),
    _spec(F.BASELINE_UNREADABLE, "The baseline could be compared", (Command.CHECKLIST,),
          "commands.checklist", (), "give --baseline"),
    _spec(F.CHECKLIST_JOB, "A checklist job ran to the end", (Command.CHECKLIST,),
          "commands.checklist"),
)
del F

REGISTRY: Mapping[FindingId, FindingSpec] = MappingProxyType({s.id: s for s in _SPECS})

# The findings each probe stage reports, in report order (used to skip a whole stage).
STAGE_IDS: Mapping[str, tuple[FindingId, ...]] = MappingProxyType({
    "dns": (FindingId.DNS_RESOLVE, FindingId.DNS_NODATA, FindingId.DNS_PRIVATE_ADDRESS,
            FindingId.DNS_CONSISTENCY),
    "tcp": (FindingId.TCP_CONNECT,),
    "tls": (FindingId.TLS_HANDSHAKE, FindingId.TLS_NULL_CIPHER, FindingId.TLS_CLIENT_CERT,
            FindingId.TLS_PROTOCOL),
    "cert": (FindingId.CERT_SUBJECT_NAME, FindingId.CERT_SUBJECT_EXTRA, FindingId.CERT_SAN,
             FindingId.CERT_EKU, FindingId.CERT_VALIDITY, FindingId.CERT_TRUST,
             FindingId.CERT_CHAIN, FindingId.CERT_KEY, FindingId.CERT_SIGNATURE),
    "iphttps": (FindingId.IPHTTPS_POST, FindingId.IPHTTPS_SERVER),
})

# The certificate name checks: skipped together when no URL is known.
NAME_IDS: tuple[FindingId, ...] = (
    FindingId.CERT_SUBJECT_NAME, FindingId.CERT_SUBJECT_EXTRA, FindingId.CERT_SAN,
)


def spec(finding_id: FindingId) -> FindingSpec:
    return REGISTRY[finding_id]


def title(finding_id: FindingId) -> str:
    return REGISTRY[finding_id].title


def markdown_table() -> str:
    """The README's findings table, generated from the registry."""
    lines = [
        "| id | fails/warns when | client error | reported by | made in |",
        "|---|---|---|---|---|",
    ]
    for s in _SPECS:
        predicts = ", ".join(f"0x{c:X}" for c in s.predicts) or "—"
        commands = ", ".join(c.value for c in s.commands if c is not Command.EXPORTER)
        maker = s.maker.removeprefix("daserver_check.").replace(".", "/") + ".py"
        lines.append(f"| `{s.id.value}` | {s.fails_when} | {predicts} | {commands} | `{maker}` |")
    return "\n".join(lines) + "\n"


def makers_table() -> str:
    """docs/architecture.md's map: each module and the findings it makes."""
    by_module: dict[str, list[str]] = {}
    for s in _SPECS:
        by_module.setdefault(s.maker, []).append(f"`{s.id.value}`")
    lines = ["| module | findings it makes |", "|---|---|"]
    for module in sorted(by_module):
        path = module.removeprefix("daserver_check.").replace(".", "/") + ".py"
        lines.append(f"| `{path}` | {', '.join(by_module[module])} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":  # pragma: no cover - a maintainer's helper
    # `python -m daserver_check.findings` prints the README table; `... makers` the map of
    # docs/architecture.md. Tests fail until both files hold what this prints.
    sys.stdout.write(makers_table() if sys.argv[1:] == ["makers"] else markdown_table())
