"""`proxy.connect`: can a client behind this HTTP proxy reach the IP-HTTPS server untouched?

KB 2980635: "A proxy server is blocking the connection" causes 0x2AFC / 0x2AF9. Three ways, from
the probe's view through `--proxy`:
- the proxy refuses the CONNECT (403 by policy, a port not in its allowed list, 502 when it
  cannot reach the server) or closes/resets/does not answer;
- it answers 407: it wants authentication, which the IP-HTTPS client (running as the machine;
  Windows 7 none at all) does not do;
- it intercepts TLS: the certificate served through the tunnel has another issuer than the one
  a direct connection sees (the client then fails on the certificate, or the proxy breaks the
  endless POST).
When the direct connection is not possible (or no address is known), the issuer is not
compared and the finding says so; `cert.trust` still judges the served chain.
"""

from __future__ import annotations

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from daserver_check.findings import FindingId, title
from daserver_check.model import Finding, Status, guarded
from daserver_check.probe.proxy import ConnectOutcome, ConnectResult

FINDING_ID = FindingId.PROXY_CONNECT
TITLE = title(FINDING_ID)
WSANO_DATA = 0x2AFC
WSAHOST_NOT_FOUND = 0x2AF9
_PREDICTS = (WSANO_DATA, WSAHOST_NOT_FOUND)

_REFUSED_FIX = (
    "Allow CONNECT to the DirectAccess server's name on TCP 443 on the proxy (allowed ports, "
    "URL/category policy), or exempt it from the proxy (PAC/bypass list; clients cache proxies "
    "under HKLM\\SYSTEM\\CurrentControlSet\\Services\\iphlpsvc\\Parameters\\ProxyMgr)."
)
_AUTH_FIX = (
    "The IP-HTTPS client does not authenticate to proxies (it runs as the machine; Windows 7 "
    "not at all). Exempt the DirectAccess URL from proxy authentication, or let clients reach "
    "TCP 443 directly."
)
_INTERCEPT_FIX = (
    "Exclude the DirectAccess server's name from TLS inspection on the proxy: IP-HTTPS needs the "
    "server's own certificate and an untouched endless POST."
)


def proxy_finding(
    result: ConnectResult,
    *,
    address: str,
    proxied_chain: tuple[x509.Certificate, ...] = (),
    direct_chain: tuple[x509.Certificate, ...] | None = None,
    direct_detail: str = "",
) -> Finding:
    return guarded(
        FINDING_ID,
        lambda: _proxy_finding(result, address, proxied_chain, direct_chain, direct_detail),
        address=address,
    )


def _evidence(result: ConnectResult) -> dict[str, object]:
    evidence: dict[str, object] = {
        "proxy": result.proxy,
        "connect": result.target,
        "outcome": result.outcome.value,
        "elapsed_ms": result.elapsed_ms,
    }
    if result.status is not None:
        evidence["status"] = result.status
        evidence["reason"] = result.reason
    if result.headers:
        evidence["headers"] = list(result.headers)
    return evidence


def _proxy_finding(
    result: ConnectResult,
    address: str,
    proxied: tuple[x509.Certificate, ...],
    direct: tuple[x509.Certificate, ...] | None,
    direct_detail: str,
) -> Finding:
    evidence = _evidence(result)
    if result.outcome is ConnectOutcome.AUTH_REQUIRED:
        return Finding(FINDING_ID, Status.FAIL, "The proxy requires authentication",
                       f"{result.proxy}: {result.detail}", predicts=_PREDICTS,
                       remediation=_AUTH_FIX, evidence=evidence, address=address)
    if not result.ok:
        title = {
            ConnectOutcome.REFUSED: "The proxy refuses the CONNECT",
            ConnectOutcome.UNREACHABLE: "The proxy cannot be reached",
            ConnectOutcome.TIMED_OUT: "The proxy does not answer the CONNECT",
        }.get(result.outcome, "The CONNECT through the proxy fails")
        remediation = _REFUSED_FIX
        if result.outcome is ConnectOutcome.UNREACHABLE:
            remediation = ("Check the proxy's address and port, and that it runs. Clients keep "
                           "using a cached proxy: clear stale entries under HKLM\\SYSTEM\\"
                           "CurrentControlSet\\Services\\iphlpsvc\\Parameters\\ProxyMgr.")
        return Finding(FINDING_ID, Status.FAIL, title, f"{result.proxy}: {result.detail}",
                       predicts=_PREDICTS, remediation=remediation, evidence=evidence,
                       address=address)
    if not proxied:
        return Finding(FINDING_ID, Status.PASS, "CONNECT accepted by the proxy",
                       f"{result.proxy}: {result.detail}; no certificate came through the "
                       "tunnel to compare (see tls.handshake)", evidence=evidence, address=address)
    served = proxied[0]
    evidence["served_issuer"] = served.issuer.rfc4514_string()
    evidence["served_sha256"] = _fingerprint(served)
    if direct is None or not direct:
        evidence["direct"] = direct_detail or "not tried"
        return Finding(FINDING_ID, Status.PASS, "CONNECT accepted by the proxy",
                       f"{result.proxy}: {result.detail}; TLS interception not checked: no "
                       f"direct connection to compare with ({direct_detail or 'no address'})",
                       evidence=evidence, address=address)
    seen = direct[0]
    evidence["direct_issuer"] = seen.issuer.rfc4514_string()
    evidence["direct_sha256"] = _fingerprint(seen)
    served_key, seen_key = _issuer_key_id(served), _issuer_key_id(seen)
    if served_key:
        evidence["served_issuer_key_id"] = served_key
    if seen_key:
        evidence["direct_issuer_key_id"] = seen_key
    # Another issuer name, or the same name with another key (an inspection CA that copies
    # the real CA's name): both mean the chain was re-signed on the way.
    if seen.issuer != served.issuer or (served_key and seen_key and served_key != seen_key):
        same_name = seen.issuer == served.issuer
        return Finding(
            FINDING_ID, Status.FAIL, "The proxy intercepts TLS",
            f"{result.proxy}: the certificate served through the proxy is issued by "
            f"{served.issuer.rfc4514_string()}"
            + (f" (key id {served_key})" if same_name else "")
            + ", a direct connection gets one issued by "
            f"{seen.issuer.rfc4514_string()}" + (f" (key id {seen_key})" if same_name else ""),
            predicts=_PREDICTS, remediation=_INTERCEPT_FIX, evidence=evidence, address=address,
        )
    same = _fingerprint(seen) == _fingerprint(served)
    note = ("the same certificate as a direct connection" if same else
            "a certificate of the same issuer as a direct connection (another node's?)")
    return Finding(FINDING_ID, Status.PASS, "CONNECT accepted, TLS not intercepted",
                   f"{result.proxy}: {result.detail}; {note}", evidence=evidence, address=address)


def _issuer_key_id(cert: x509.Certificate) -> str | None:
    """The Authority Key Identifier of the certificate (its issuer's key), hex; None without."""
    try:
        aki = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value
    except (x509.ExtensionNotFound, ValueError):
        return None
    return aki.key_identifier.hex() if aki.key_identifier else None


def _fingerprint(cert: x509.Certificate) -> str:
    return cert.fingerprint(hashes.SHA256()).hex()
