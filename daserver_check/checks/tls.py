"""`tls.*`: the two handshakes a DirectAccess client makes (docs/windows-facts.md §2)."""

from __future__ import annotations

from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status
from daserver_check.probe.tls import TlsOutcome, TlsResult

WSANO_DATA = 0x2AFC
WSAHOST_NOT_FOUND = 0x2AF9
SEC_I_INCOMPLETE_CREDENTIALS = 0x90320
_CONNECT_FAILURE = (WSANO_DATA, WSAHOST_NOT_FOUND)
_OLD_PROTOCOLS = ("SSLv3", "TLSv1", "TLSv1.1")


def tls_findings(
    encrypted: TlsResult,
    null_only: TlsResult,
    *,
    address: str,
    windows7_clients: bool,
    require_null_cipher: bool,
    certificate_auth: bool,
) -> list[Finding]:
    return [
        handshake_finding(encrypted, null_only, address=address, windows7_clients=windows7_clients),
        null_cipher_finding(encrypted, null_only, address=address, required=require_null_cipher),
        client_cert_finding(encrypted, null_only, address=address, expected=certificate_auth),
        protocol_finding(encrypted, null_only, address=address),
    ]


def _evidence(encrypted: TlsResult, null_only: TlsResult) -> dict[str, object]:
    return {
        r.mode.value: {
            "outcome": r.outcome.value,
            "protocol": r.protocol,
            "cipher": r.cipher,
            "detail": r.detail,
            "elapsed_ms": r.elapsed_ms,
        }
        for r in (encrypted, null_only)
    }


def handshake_finding(
    encrypted: TlsResult, null_only: TlsResult, *, address: str, windows7_clients: bool
) -> Finding:
    evidence = _evidence(encrypted, null_only)
    if not encrypted.ok and not null_only.ok:
        cause = encrypted.detail
        remediation = "Make sure TCP 443 reaches the DirectAccess server itself (not another " \
            "device or a load balancer without the IP-HTTPS certificate), and that the " \
            "IP-HTTPS certificate is bound: netsh http show sslcert ipport=0.0.0.0:443."
        if encrypted.outcome is TlsOutcome.TIMED_OUT:
            remediation = "The port accepts TCP but never completes TLS: another service or " \
                "a stuck device holds the port. " + remediation
        elif encrypted.outcome is TlsOutcome.NOT_TLS:
            remediation = "Something other than a TLS server answers on the port (a plain " \
                "HTTP service or a wrong NAT rule). " + remediation
        elif encrypted.outcome is TlsOutcome.PROTOCOL_ERROR:
            remediation = "A TLS server answers, but with handshake messages clients reject " \
                "(see the detail): a TLS-inspecting firewall, a broken load balancer or a " \
                "corrupt or oversized certificate chain on the binding. " + remediation
        elif encrypted.outcome in (TlsOutcome.RESET, TlsOutcome.CLOSED):
            remediation = "The port accepts TCP and then drops the TLS handshake: a firewall " \
                "or IPS that inspects TLS, or a service that is not the DirectAccess server. " \
                + remediation
        return Finding(
            id=FindingId.TLS_HANDSHAKE,
            status=Status.FAIL,
            title="No TLS handshake is possible",
            detail=f"encrypted suites: {cause}; null suites: {null_only.detail}",
            predicts=_CONNECT_FAILURE,
            remediation=remediation,
            evidence=evidence,
            address=address,
        )
    if not encrypted.ok:
        if windows7_clients:
            return Finding(
                id=FindingId.TLS_HANDSHAKE,
                status=Status.FAIL,
                title="Only null-encryption suites: Windows 7 clients cannot connect",
                detail=f"encrypted suites: {encrypted.detail}",
                predicts=_CONNECT_FAILURE,
                remediation="Windows 7 clients need real encryption on IP-HTTPS. Let the "
                "server (or the load balancer in front of it) offer encrypted suites too.",
                evidence=evidence,
                address=address,
            )
        return Finding(
            id=FindingId.TLS_HANDSHAKE,
            status=Status.WARN,
            title="Only null-encryption suites are offered",
            detail=f"encrypted suites: {encrypted.detail}. Windows 8+ clients connect; Windows "
            "7 clients could not (the profile lists none).",
            remediation="Windows servers offer both; a null-only answer usually means a load "
            "balancer or TLS offload in front of the server. Offer encrypted suites as well.",
            evidence=evidence,
            address=address,
        )
    return Finding(
        id=FindingId.TLS_HANDSHAKE,
        status=Status.PASS,
        title="TLS handshake succeeds",
        detail=f"encrypted: {encrypted.detail}"
        + (f"; null: {null_only.detail}" if null_only.ok else ""),
        evidence=evidence,
        address=address,
    )


def null_cipher_offered(null_only: TlsResult) -> bool:
    return null_only.ok and (null_only.cipher or "").upper().startswith("NULL")


def null_cipher_finding(
    encrypted: TlsResult, null_only: TlsResult, *, address: str, required: bool
) -> Finding:
    evidence = {"offered": null_cipher_offered(null_only), "detail": null_only.detail,
                "cipher": null_only.cipher}
    if null_cipher_offered(null_only):
        return Finding(
            id=FindingId.TLS_NULL_CIPHER,
            status=Status.PASS,
            title="Null-encryption suites offered",
            detail=f"{null_only.protocol} with {null_only.cipher}: Windows 8+ clients avoid "
            "double encryption",
            evidence=evidence,
            address=address,
        )
    if not encrypted.ok:
        return Finding(
            id=FindingId.TLS_NULL_CIPHER,
            status=Status.SKIP,
            title="Null-encryption suites offered",
            detail="skipped: no TLS handshake at all",
            evidence=evidence,
            address=address,
        )
    status = Status.WARN if required else Status.PASS
    return Finding(
        id=FindingId.TLS_NULL_CIPHER,
        status=status,
        title="Null-encryption suites are not offered",
        detail=f"{null_only.detail}. Windows 8+ clients still connect, but encrypt twice "
        "(IPsec inside TLS), which costs server CPU and throughput.",
        remediation="Windows drops the null suites when SSTP VPN runs on the same server, when "
        "the IP-HTTPS certificate is self-signed or ECDSA, or when client certificates are "
        "required; a TLS-offloading load balancer also drops them. Use an RSA certificate "
        "from a CA and Add-NetIPHttpsCertBinding -NullEncryption $true where applicable.",
        evidence=evidence,
        address=address,
    )


def client_cert_finding(
    encrypted: TlsResult, null_only: TlsResult, *, address: str, expected: bool
) -> Finding:
    requested = encrypted.client_cert_requested or null_only.client_cert_requested
    if not requested and not (encrypted.ok or null_only.ok):
        return Finding(
            id=FindingId.TLS_CLIENT_CERT,
            status=Status.SKIP,
            title="Client certificate request",
            detail="skipped: no TLS handshake got far enough",
            address=address,
        )
    if not requested:
        return Finding(
            id=FindingId.TLS_CLIENT_CERT,
            status=Status.PASS,
            title="No client certificate requested",
            detail="the server did not send a CertificateRequest",
            address=address,
        )
    if expected:
        return Finding(
            id=FindingId.TLS_CLIENT_CERT,
            status=Status.PASS,
            title="Client certificate requested (the profile expects it)",
            detail="auth_mode = \"certificates\": clients need a machine certificate; the null "
            "suites are not available in this mode",
            evidence={"requested": True},
            address=address,
        )
    return Finding(
        id=FindingId.TLS_CLIENT_CERT,
        status=Status.FAIL,
        title="The server requests a client certificate",
        detail="the handshake carries a CertificateRequest; clients without a suitable "
        "certificate fail with SEC_I_INCOMPLETE_CREDENTIALS",
        predicts=(SEC_I_INCOMPLETE_CREDENTIALS,),
        remediation="Turn off client-certificate negotiation on the server's SSL binding "
        "(netsh http show sslcert: 'Negotiate Client Certificate' must be Disabled) or on the "
        "load balancer in front of it; if IP-HTTPS client authentication is intended, set "
        "auth_mode = \"certificates\" in the profile.",
        evidence={"requested": True},
        address=address,
    )


def protocol_finding(encrypted: TlsResult, null_only: TlsResult, *, address: str) -> Finding:
    ok = [r for r in (encrypted, null_only) if r.ok and r.protocol]
    if not ok:
        return Finding(
            id=FindingId.TLS_PROTOCOL,
            status=Status.SKIP,
            title="TLS protocol version",
            detail="skipped: no TLS handshake",
            address=address,
        )
    best = encrypted.protocol if encrypted.ok and encrypted.protocol else ok[0].protocol
    evidence = {"negotiated": best}
    if best in _OLD_PROTOCOLS:
        return Finding(
            id=FindingId.TLS_PROTOCOL,
            status=Status.WARN,
            title=f"Only {best} is negotiated",
            detail=f"the server offers nothing newer than {best}",
            remediation="Enable TLS 1.2 on the server (SCHANNEL protocol registry keys); "
            "clients that disable old protocols will fail.",
            evidence=evidence,
            address=address,
        )
    return Finding(
        id=FindingId.TLS_PROTOCOL,
        status=Status.PASS,
        title=f"{best} negotiated",
        detail=f"highest protocol offered to our client: {best}",
        evidence=evidence,
        address=address,
    )
