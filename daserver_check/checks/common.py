"""Helpers shared by the stage checks."""

from __future__ import annotations

from collections.abc import Iterable

from daserver_check.certs.analysis import CERT_FINDING_IDS
from daserver_check.model import Finding, Status

# Titles for skip findings, so a skipped check still says what it would have looked at.
TITLES: dict[str, str] = {
    "tcp.connect": "TCP connection to the IP-HTTPS port",
    "tls.handshake": "TLS handshake",
    "tls.null-cipher": "Null-encryption cipher suites (Windows 8+ clients)",
    "tls.client-cert": "Client certificate request",
    "tls.protocol": "TLS protocol version",
    "cert.subject-name": "Certificate Subject CN matches the host",
    "cert.subject-extra": "Certificate Subject carries nothing extra",
    "cert.san": "Certificate SAN contains the host",
    "cert.eku": "Server Authentication EKU",
    "cert.validity": "Certificate validity period",
    "cert.trust": "Certificate chain trust",
    "cert.chain": "Intermediate certificates served",
    "cert.key": "Certificate key type and size",
    "cert.signature": "Certificate signature algorithm",
    "iphttps.post": "IP-HTTPS POST answered 200",
    "iphttps.server": "Answer comes from HTTP.sys",
    "iphttps.prefix": "Router Advertisement with a /64 prefix",
    "proxy.connect": "CONNECT through the proxy",
}

STAGE_IDS: dict[str, tuple[str, ...]] = {
    "tcp": ("tcp.connect",),
    "tls": ("tls.handshake", "tls.null-cipher", "tls.client-cert", "tls.protocol"),
    "cert": CERT_FINDING_IDS,
    "iphttps": ("iphttps.post", "iphttps.server"),
}


def skipped(ids: Iterable[str], reason: str, address: str | None) -> list[Finding]:
    return [
        Finding(
            id=i,
            status=Status.SKIP,
            title=TITLES.get(i, i),
            detail=f"skipped: {reason}",
            address=address,
        )
        for i in ids
    ]


def skipped_stages(stages: Iterable[str], reason: str, address: str | None) -> list[Finding]:
    return [f for s in stages for f in skipped(STAGE_IDS[s], reason, address)]


def command_error(command: str, message: str) -> Finding:
    """A sub-command of a checklist could not run: undecided, with the reason."""
    return Finding(
        id=f"{command}.input",
        status=Status.ERROR,
        title=f"`{command}` could not run",
        detail=message,
    )
