"""`target.url` and `target.ip-literal`: is the IP-HTTPS URL itself usable?"""

from __future__ import annotations

from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status
from daserver_check.target import IphttpsUrl


def url_error(url: str, reason: str) -> Finding:
    return Finding(
        id=FindingId.TARGET_URL,
        status=Status.ERROR,
        title="The URL cannot be probed",
        detail=f"{url!r}: {reason}",
        remediation="Give the IP-HTTPS URL as the clients have it, e.g. "
        "https://da.contoso.com/IPHTTPS (Get-RemoteAccess | fl ConnectToAddress).",
        evidence={"url": url, "reason": reason},
    )


def target_findings(target: IphttpsUrl) -> list[Finding]:
    findings = [
        Finding(
            id=FindingId.TARGET_URL,
            status=Status.PASS,
            title="IP-HTTPS URL is well-formed",
            detail=f"host {target.host}, port {target.port}, path {target.path}",
            evidence={"host": target.host, "port": target.port, "path": target.path},
        )
    ]
    if target.ip_literal:
        findings.append(
            Finding(
                id=FindingId.TARGET_IP_LITERAL,
                status=Status.FAIL,
                title="The IP-HTTPS URL uses an IP address instead of a name",
                detail=f"host {target.host} is an IP address; clients report "
                "\"Invalid IPHTTPS URL specified\" (KB 2980627)",
                predicts=(0x4BE,),
                remediation="Use a public DNS name as the ConnectTo address "
                "(Set-DAServer -ConnectToAddress da.contoso.com) with a certificate issued "
                "to that name.",
                evidence={"host": target.host},
            )
        )
    else:
        findings.append(
            Finding(
                id=FindingId.TARGET_IP_LITERAL,
                status=Status.PASS,
                title="The IP-HTTPS URL uses a DNS name",
                detail=f"host {target.host}",
            )
        )
    return findings
