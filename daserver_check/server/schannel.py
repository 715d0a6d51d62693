"""`server.tls.schannel`: does the server's Schannel policy leave each listed client a way in?

Read from the bundle: the SCHANNEL key (protocol switches `Protocols\\<version>\\Server`
`Enabled`/`DisabledByDefault`, cipher switches `Ciphers\\<cipher>` and key-exchange switches
`KeyExchangeAlgorithms\\<kx>` `Enabled`; Microsoft Learn, "TLS, DTLS, and SSL protocol version
settings" and "TLS registry settings"), the cipher-suite order Group Policy writes (Learn,
"Prioritizing Schannel Cipher Suites": value `Functions` under
`Policies\\Microsoft\\Cryptography\\Configuration\\SSL\\00010002`), `Get-TlsCipherSuite` (the
effective list, Windows Server 2016 and later), and the FIPS policy (`Lsa\\FipsAlgorithmPolicy`
`Enabled`).

Verdicts, per client the profile lists (clients.PROFILES, its `offer`):
- no protocol version both sides enable (TLS 1.0 disabled while Windows 7 clients remain):
  fail. Windows 7 enables TLS 1.0 only by default (KB 3140245); what the client reports is
  inferred to be 0x80090326 (the server answers with a fatal alert);
- no suite both sides enable at such a version: fail;
- the null suites removed (FIPS mode, `Ciphers\\NULL` `Enabled=0`, or a suite list without
  them): warn, Windows 8+ clients then encrypt twice (Hicks, "DirectAccess and FIPS Compliant
  Algorithms for Encryption"; Hicks, 2013-02-15 on null encryption).

A suite list is matched by name: Windows Server 2012 R2's policy list spells ECDHE suites with a
curve (`…_SHA384_P256`); the curve is dropped before comparing (Learn, "TLS Cipher Suites in
Windows 8.1"). The certificate's key type, which also decides which suites can run, is checked
by `cert.key`, not here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from daserver_check.clients import NULL_SUITES, PROFILES, CipherSuite, ClientProfile, TlsVersion
from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status
from daserver_check.server.common import Options, not_collected, short_key
from daserver_check.server.facts import Facts
from daserver_check.server.paths import CIPHER_ORDER_POLICY, FIPS_POLICY, SCHANNEL_PROTOCOLS

SCHANNEL_CODES = (0x80090326,)
_CLIENT_FOR_OS = {"windows8.1": "windows8"}
_CURVE = re.compile(r"_P(256|384|521)$")

# Schannel's protocol key names (Learn, "TLS, DTLS, and SSL protocol version settings").
_PROTOCOL_KEYS = {
    TlsVersion.TLS1_0: "tls 1.0",
    TlsVersion.TLS1_1: "tls 1.1",
    TlsVersion.TLS1_2: "tls 1.2",
}

# `Ciphers\<name>` and `KeyExchangeAlgorithms\<name>` keys, and the IANA-name pieces they
# switch off (Learn, "TLS registry settings"; KB 245030).
_CIPHER_KEYS = {
    "null": "_WITH_NULL_",
    "aes 128/128": "_AES_128_",
    "aes 256/256": "_AES_256_",
    "triple des 168": "_3DES_EDE_",
    "rc4 128/128": "_RC4_128_",
}
_KX_KEYS = {
    "pkcs": "TLS_RSA_",
    "diffie-hellman": "TLS_DHE_",
    "ecdh": "TLS_ECDHE_",
}


def normalize_suite(name: str) -> str:
    return _CURVE.sub("", name.strip().upper())


def _disabled(values: dict[str, int | None] | None) -> str | None:
    """Why a protocol/cipher key switches its item off, or None."""
    if not values:
        return None
    if values.get("enabled") == 0:
        return "Enabled=0"
    if values.get("disabledbydefault") not in (None, 0):
        # HTTP.sys asks Schannel for its defaults, so DisabledByDefault=1 keeps the version off
        # for IP-HTTPS (inferred).
        return "DisabledByDefault=1 (inferred to keep HTTP.sys from using it)"
    return None


@dataclass(frozen=True, slots=True)
class ServerPolicy:
    versions: dict[TlsVersion, str | None]  # version -> why disabled (None: enabled)
    suites: list[str] | None  # the server's suite names in order; None = Windows' default list
    suites_from: str
    removed: dict[str, str]  # IANA-name piece -> why (SCHANNEL Ciphers / KeyExchangeAlgorithms)
    fips: bool | None

    def suite_enabled(self, name: str) -> str | None:
        """Why the server will not use the suite `name`, or None when it may."""
        norm = normalize_suite(name)
        if self.suites is not None and norm not in self.suites:
            return f"not in {self.suites_from}"
        for piece, why in self.removed.items():
            if piece in norm:
                return why
        if self.fips and "_WITH_NULL_" in norm:
            return "FIPS mode"
        return None


def server_policy(facts: Facts) -> ServerPolicy:
    versions: dict[TlsVersion, str | None] = {}
    for version, key in _PROTOCOL_KEYS.items():
        why = _disabled(facts.schannel.get(f"protocols\\{key}\\server"))
        versions[version] = f"{short_key(SCHANNEL_PROTOCOLS)}\\{key.upper()}\\Server {why}" if why else None
    removed: dict[str, str] = {}
    for table, kind in ((_CIPHER_KEYS, "Ciphers"), (_KX_KEYS, "KeyExchangeAlgorithms")):
        for key, piece in table.items():
            why = _disabled(facts.schannel.get(f"{kind.casefold()}\\{key}"))
            if why:
                removed[piece] = f"SCHANNEL\\{kind}\\{key} {why}"
    suites: list[str] | None = None
    suites_from = ""
    if facts.tls_suites is not None:
        suites = [normalize_suite(s.name) for s in facts.tls_suites]
        suites_from = "Get-TlsCipherSuite"
    elif facts.cipher_order is not None:
        suites = [normalize_suite(s) for s in facts.cipher_order]
        suites_from = f"the suite order policy ({short_key(CIPHER_ORDER_POLICY)} Functions)"
    return ServerPolicy(versions, list(dict.fromkeys(suites)) if suites is not None else None,
                        suites_from, removed, facts.fips_enabled)


def _clients(client_os: tuple[str, ...]) -> list[ClientProfile]:
    names = dict.fromkeys(_CLIENT_FOR_OS.get(n, n) for n in client_os)
    return [PROFILES[n] for n in names if n in PROFILES]


@dataclass(frozen=True, slots=True)
class ClientVerdict:
    client: ClientProfile
    versions: tuple[TlsVersion, ...]  # shared
    suites: tuple[CipherSuite, ...]  # shared, client order
    problem: str | None


def judge_client(client: ClientProfile, policy: ServerPolicy) -> ClientVerdict:
    shared_versions = tuple(v for v in client.versions if policy.versions.get(v) is None)
    if not shared_versions:
        refused = "; ".join(filter(None, (policy.versions.get(v) for v in client.versions)))
        return ClientVerdict(client, (), (), f"no shared protocol version: the client offers "
                             f"{', '.join(v.label for v in client.versions)}; the server has "
                             f"{refused}")
    shared = tuple(
        s for s in client.offer
        if any(s.usable_with(v) for v in shared_versions) and policy.suite_enabled(s.iana) is None
    )
    if not shared:
        where = policy.suites_from or "the SCHANNEL switches"
        return ClientVerdict(client, shared_versions, (), f"no shared cipher suite at "
                             f"{', '.join(v.label for v in shared_versions)}: none of the "
                             f"{len(client.offer)} suites it offers is enabled by {where}")
    return ClientVerdict(client, shared_versions, shared, None)


def _null_removed(policy: ServerPolicy) -> list[str]:
    reasons = []
    if policy.fips:
        reasons.append(f"FIPS mode is on ({short_key(FIPS_POLICY)} Enabled=1)")
    if "_WITH_NULL_" in policy.removed:
        reasons.append(policy.removed["_WITH_NULL_"])
    if policy.suites is not None and not any(s.iana in policy.suites for s in NULL_SUITES):
        reasons.append(f"{policy.suites_from} lists no null suite "
                       "(TLS_RSA_WITH_NULL_SHA256, TLS_RSA_WITH_NULL_SHA)")
    return reasons


def check_schannel(facts: Facts, opts: Options) -> Finding:
    fid = FindingId.SERVER_TLS_SCHANNEL
    collected = (facts.schannel_collected or facts.cipher_order_collected
                 or facts.fips_collected or facts.tls_suites is not None)
    if not collected:
        for need in ("schannel", "cipherorder", "fips", "tlssuites"):
            if facts.unusable.get(need):
                return not_collected(fid, "Schannel protocols, suites and FIPS policy", facts, need,
                                     "the SCHANNEL, suite-order or FIPS policy keys")
        return not_collected(fid, "Schannel protocols, suites and FIPS policy", facts, "schannel",
                             "schannel.reg, cipherorder.reg, fips.reg or tls-ciphersuites.json")
    policy = server_policy(facts)
    verdicts = [judge_client(c, policy) for c in _clients(opts.client_os)]
    failing = [v for v in verdicts if v.problem]
    null_reasons = _null_removed(policy)
    null_clients = [v.client.name for v in verdicts if v.client.iphttps_null and not v.problem]
    evidence = {
        "client_os": list(opts.client_os),
        "server_versions": {v.label: ("enabled" if why is None else why)
                            for v, why in policy.versions.items()},
        "suite_list_from": policy.suites_from or "Windows' default list (not collected or not set)",
        "suites": policy.suites,
        "removed_by_schannel": policy.removed,
        "fips": policy.fips,
        "clients": {v.client.name: {"versions": [x.label for x in v.versions],
                                    "shared_suites": [s.iana for s in v.suites[:10]],
                                    "problem": v.problem} for v in verdicts},
        "sources": [s for s in (facts.schannel_source, facts.cipher_order_source,
                                facts.fips_source, facts.tls_suites_source) if s],
    }
    if failing:
        detail = "; ".join(f"{v.client.title}: {v.problem}" for v in failing)
        steps = []
        for v in failing:
            if not v.versions and v.client.name.startswith("windows7"):
                steps.append(
                    "enable TLS 1.0 for the server again: `Remove-ItemProperty -Path "
                    "'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders\\SCHANNEL\\"
                    "Protocols\\TLS 1.0\\Server' -Name Enabled` (or set it to 1), or move the "
                    "Windows 7 clients to TLS 1.2 with KB 3140245 and its registry switches")
            elif not v.versions:
                steps.append(f"enable a protocol version {v.client.title} offers under "
                             f"{short_key(SCHANNEL_PROTOCOLS)}")
            else:
                steps.append(f"add a suite {v.client.title} offers to the server's list, e.g. "
                             f"{v.client.offer[0].iana} (Enable-TlsCipherSuite, or the SSL "
                             "Cipher Suite Order policy)")
        steps.append("restart the server: Schannel reads these settings at boot")
        return Finding(fid, Status.FAIL,
                       "Schannel policy locks out " + ", ".join(v.client.name for v in failing),
                       detail=detail + ". The client's handshake ends in a fatal alert; that it "
                       "reports 0x80090326 is inferred.",
                       predicts=SCHANNEL_CODES, remediation="; ".join(dict.fromkeys(steps)),
                       evidence=evidence)
    if null_reasons:
        affected = ", ".join(null_clients) or "Windows 8 and later clients"
        return Finding(fid, Status.WARN, "The server's policy removes the null cipher suites",
                       detail="; ".join(null_reasons) + f". {affected} then encrypt IP-HTTPS twice "
                       "(TLS over IPsec): more CPU on both ends (Hicks, \"DirectAccess and FIPS "
                       "Compliant Algorithms for Encryption\").",
                       remediation="if FIPS mode is not required, turn the policy \"System "
                       "cryptography: Use FIPS compliant algorithms\" off; keep "
                       "TLS_RSA_WITH_NULL_SHA256 and TLS_RSA_WITH_NULL_SHA in the suite list",
                       evidence=evidence)
    names = ", ".join(f"{v.client.name} ({'/'.join(x.label for x in v.versions)})"
                      for v in verdicts) or "no client listed"
    return Finding(fid, Status.PASS, "Schannel policy leaves every listed client a protocol and "
                   "suite", detail=names + (f"; suites from {policy.suites_from}"
                                             if policy.suites_from else
                                             "; suite list: Windows' default (not set)"),
                   evidence=evidence)
