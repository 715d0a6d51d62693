"""`iphttps.*`: does the server answer the client's POST like an IP-HTTPS server?"""

from __future__ import annotations

from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status
from daserver_check.probe.iphttps import PostOutcome, PostResult

WSANO_DATA = 0x2AFC
WSAHOST_NOT_FOUND = 0x2AF9
_CONNECT_FAILURE = (WSANO_DATA, WSAHOST_NOT_FOUND)
HTTPSYS_SERVER = "Microsoft-HTTPAPI/2.0"


def iphttps_findings(result: PostResult, *, path: str, address: str) -> list[Finding]:
    return [post_finding(result, path=path, address=address),
            server_finding(result, address=address)]


def post_finding(result: PostResult, *, path: str, address: str) -> Finding:
    evidence: dict[str, object] = {"outcome": result.outcome.value, "path": path,
                                   "elapsed_ms": result.elapsed_ms}
    head = result.head
    if head is not None:
        evidence.update(status=head.status, reason=head.reason,
                        headers=[f"{k}: {v}" for k, v in head.headers[:20]])
    if result.outcome is PostOutcome.ANSWERED and head is not None and head.status == 200:
        return Finding(
            id=FindingId.IPHTTPS_POST,
            status=Status.PASS,
            title="IP-HTTPS POST answered 200",
            detail=f"POST {path}: {head.status} {head.reason}".rstrip(),
            evidence=evidence,
            address=address,
        )
    if head is not None and head.status == 404:
        detail = (f"POST {path}: 404 — no IP-HTTPS listener is registered for this path "
                  "(wrong path in the URL, or IP-HTTPS not configured on this server)")
        remediation = ("Check the URL path against the server's IP-HTTPS configuration "
                       "(Get-NetIPHttpsConfiguration: ServerURL) and that the Remote Access "
                       "service is running; the usual path is /IPHTTPS.")
    elif head is not None:
        detail = f"POST {path}: {head.status} {head.reason}".rstrip()
        remediation = ("Another web service or device answers on this port. Make sure TCP "
                       "443 reaches the DirectAccess server (NAT rules, load balancer pools).")
    elif result.outcome is PostOutcome.CLOSED:
        detail = (f"POST {path}: {result.detail}. A disabled or stopped IP-HTTPS server "
                  "disconnects clients ([MS-IPHTTPS] §3.2.4.2)")
        remediation = ("Check that IP-HTTPS is enabled on the server (Get-NetIPHttpsConfiguration"
                       " -> State), that the Remote Access service runs, and that the server "
                       "publishes its IPv6 prefix.")
    elif result.outcome is PostOutcome.TLS_ERROR:
        detail = f"POST {path}: {result.detail}"
        remediation = ("The TLS connection works for the handshake and breaks for the answer: "
                       "a TLS-offloading load balancer, reverse proxy or inspecting firewall "
                       "in front of the server mishandles the connection. Let TCP 443 reach "
                       "the DirectAccess server directly, or fix the device's TLS settings.")
    else:
        detail = f"POST {path}: {result.detail}"
        remediation = ("The server does not answer like an IP-HTTPS server: check what "
                       "answers on this port (load balancer, reverse proxy, NAT rule).")
    return Finding(
        id=FindingId.IPHTTPS_POST,
        status=Status.FAIL,
        title="The IP-HTTPS POST is not answered with 200",
        detail=detail,
        predicts=_CONNECT_FAILURE,
        remediation=remediation,
        evidence=evidence,
        address=address,
    )


def server_finding(result: PostResult, *, address: str) -> Finding:
    head = result.head
    if head is None:
        return Finding(
            id=FindingId.IPHTTPS_SERVER,
            status=Status.SKIP,
            title="Answer comes from HTTP.sys",
            detail="skipped: no HTTP answer to the POST",
            address=address,
        )
    server = head.header("Server")
    evidence = {"server": server}
    if server is not None and HTTPSYS_SERVER.lower() in server.lower():
        return Finding(
            id=FindingId.IPHTTPS_SERVER,
            status=Status.PASS,
            title="Answer comes from HTTP.sys",
            detail=f"Server: {server}",
            evidence=evidence,
            address=address,
        )
    return Finding(
        id=FindingId.IPHTTPS_SERVER,
        status=Status.WARN,
        title="The answer does not come from HTTP.sys",
        detail=(f"Server: {server}" if server is not None else "no Server header")
        + f"; a Windows IP-HTTPS server answers with Server: {HTTPSYS_SERVER}"
        " ([MS-IPHTTPS] §4.1)",
        predicts=_CONNECT_FAILURE,
        remediation="Another device (reverse proxy, load balancer, web server) answers on "
        "443 instead of the DirectAccess server: check NAT rules and load-balancer pools.",
        evidence=evidence,
        address=address,
    )
