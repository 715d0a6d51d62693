"""`tls.client.<windows>`: could each Windows client in the profile connect?

One handshake per client, offering exactly that client's versions and suites (`clients.py`,
from Microsoft Learn's "TLS Cipher Suites in Windows" pages and SSL Labs' recorded
ClientHellos). The verdict names what the server refused and the code the client would show.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from daserver_check.clients import PROFILES, ClientProfile
from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status
from daserver_check.probe.client_handshake import ClientFailure, ClientHandshake

# Profile client_os name -> the client profile that handshakes for it (8.1 shares 8's defaults).
_CLIENT_FOR_OS = {"windows8.1": "windows8"}

# How the findings name each client (the profiles' titles carry their sources' detail).
LABELS = {
    "windows7": "Windows 7",
    "windows7-tls12": "Windows 7 (KB 3140245)",
    "windows8": "Windows 8.1",
    "windows10": "Windows 10",
    "windows11": "Windows 11",
}

CLIENT_IDS: dict[str, FindingId] = {
    "windows7": FindingId.TLS_CLIENT_WINDOWS7,
    "windows7-tls12": FindingId.TLS_CLIENT_WINDOWS7_TLS12,
    "windows8": FindingId.TLS_CLIENT_WINDOWS8,
    "windows10": FindingId.TLS_CLIENT_WINDOWS10,
    "windows11": FindingId.TLS_CLIENT_WINDOWS11,
}


def clients_for(client_os: Iterable[str]) -> list[ClientProfile]:
    """The client profiles a deployment's `client_os` asks for, once each, in its order."""
    names = dict.fromkeys(_CLIENT_FOR_OS.get(name, name) for name in client_os)
    return [PROFILES[name] for name in names if name in PROFILES]


def client_ids(client_os: Iterable[str]) -> list[FindingId]:
    return [CLIENT_IDS[p.name] for p in clients_for(client_os)]


def client_finding(result: ClientHandshake, *, address: str | None) -> Finding:
    fid = CLIENT_IDS[result.client]
    profile = PROFILES[result.client]
    label = LABELS.get(profile.name, profile.name)
    evidence: dict[str, object] = {
        "client": result.client,
        "offered_versions": [v.label for v in profile.versions],
        "unsent_suites": list(result.unsent),
        "elapsed_ms": result.elapsed_ms,
        "profile": profile.title,
        "source": profile.source,
    }
    if result.ok and result.version is not None and result.suite is not None:
        null = " (null encryption)" if result.null_suite else ""
        evidence.update(version=result.version.label, suite=result.suite.iana,
                        suite_code=result.suite.hex, null_suite=result.null_suite)
        return Finding(fid, Status.PASS, f"{label} connects: {result.version.label} "
                       f"with {result.suite.iana}{null}", detail=result.detail,
                       evidence=evidence, address=address)
    evidence.update(failure=str(result.failure) if result.failure else None, alert=result.alert,
                    detail=result.detail)
    if result.failure is ClientFailure.ERROR:
        return Finding(fid, Status.SKIP, f"{label} handshake",
                       detail=f"skipped: could not try ({result.detail})", evidence=evidence,
                       address=address)
    predicts: tuple[int, ...] = ()
    basis = ""
    if result.predicted is not None:
        predicts = (int(result.predicted.code, 16),)
        evidence["predicted"] = {"code": result.predicted.code, "symbol": result.predicted.symbol,
                                 "source": result.predicted.source,
                                 "inferred": result.predicted.inferred}
        basis = " (inferred)" if result.predicted.inferred else ""
    refused = _refusal(result, profile)
    status = Status.FAIL
    if result.failure is ClientFailure.NO_SHARED_SUITE and result.unsent:
        # Suites this OpenSSL cannot send (3DES, RC4) were not tried: the real client might
        # still find one in common, so this is a warning, not a verdict.
        status = Status.WARN
        refused += (f"; not tried because this OpenSSL cannot offer them: "
                    f"{', '.join(result.unsent)}")
    return Finding(
        fid, status, f"{label} cannot connect: {refused.split(';')[0]}",
        detail=f"{refused}. {label} offers {', '.join(v.label for v in profile.versions)}"
        f" with its own suites{basis}.",
        predicts=predicts,
        remediation=_fix(result, profile),
        evidence=evidence,
        address=address,
    )


def _refusal(result: ClientHandshake, profile: ClientProfile) -> str:
    alert = f" (alert: {result.alert})" if result.alert else ""
    if result.failure is ClientFailure.PROTOCOL_VERSION:
        return f"the server refused every protocol version offered{alert}"
    if result.failure is ClientFailure.NO_SHARED_SUITE:
        return f"no cipher suite in common{alert}"
    if result.failure is ClientFailure.TIMEOUT:
        return "no handshake before the deadline"
    return f"{result.detail}{alert}"


def _fix(result: ClientHandshake, profile: ClientProfile) -> str:
    if profile.name.startswith("windows7") and result.failure in (
            ClientFailure.PROTOCOL_VERSION, ClientFailure.NO_SHARED_SUITE):
        return ("Windows 7 clients offer TLS 1.0 (TLS 1.2 only with KB 3140245 and its registry "
                "switch) and CBC suites: re-enable TLS 1.0 and an AES-CBC suite on the server "
                "(and on any load balancer in front), or update the clients.")
    if profile.iphttps_null and result.failure in (
            ClientFailure.NO_SHARED_SUITE, ClientFailure.ALERT, ClientFailure.PROTOCOL_VERSION):
        return ("A front end that refuses the null-encryption suites, or a suite policy without "
                "any suite this client offers, stops it right after its ClientHello: let the "
                "load balancer pass TLS through to the DirectAccess server, or allow the "
                "client's suites (Get-TlsCipherSuite on the server lists the order in force).")
    return "See tls.handshake and tcp.connect for the same address."


def with_null_clients(tls: list[Finding], clients: list[Finding]) -> list[Finding]:
    """`tls.null-cipher` also says which of the profile's clients got null encryption."""
    if not clients:
        return tls
    null = [LABELS.get(str(f.evidence.get("client")), "") for f in clients
            if f.status is Status.PASS and f.evidence.get("null_suite")]
    encrypted = [LABELS.get(str(f.evidence.get("client")), "") for f in clients
                 if f.status is Status.PASS and not f.evidence.get("null_suite")]
    out = []
    for finding in tls:
        if finding.id is FindingId.TLS_NULL_CIPHER and finding.status is not Status.SKIP:
            negotiated = ", ".join(null) or "none of the profile's clients"
            said = f" Null encryption negotiated by: {negotiated}"
            if encrypted:
                said += f"; encrypted: {', '.join(encrypted)}"
            said += "."
            finding = dataclasses.replace(
                finding, detail=finding.detail + said,
                evidence={**finding.evidence, "clients_null": null, "clients_encrypted": encrypted})
        out.append(finding)
    return out
