"""What every certificate check receives, and the one way checks build findings."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography import x509

from daserver_check.certs.trust import TrustStore
from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status

# Client error codes (docs/windows-facts.md §4).
NO_USABLE_CERT = 0x103  # ERROR_NO_MORE_ITEMS, "No usable certificate found" (KB 2980635)
CERT_EXPIRED = 0x800B0101  # CERT_E_EXPIRED
CERT_UNTRUSTED = 0x800B0109  # CERT_E_UNTRUSTEDROOT (KB 2980667)

# How the IP-HTTPS certificate is (re)bound on the DA server; quoted in remediations.
BIND_HINT = (
    "bind it with Set-RemoteAccess -SslCertificate "
    "(Get-ChildItem Cert:\\LocalMachine\\My\\<thumbprint>)"
)


# Evidence lists at most this many served certificates: a hostile server may send thousands
# (docs/contract.md, reliability rules), a real chain has two to four.
MAX_EVIDENCE_CERTS = 32


def capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class CertPolicy:
    """Expiry thresholds in days (profile `[cert] warn_days`, `crit_days`)."""

    warn_days: int = 30
    crit_days: int = 7

    def __post_init__(self) -> None:
        if self.warn_days < 0 or self.crit_days < 0:
            raise ValueError("warn_days and crit_days must not be negative")


@dataclass(frozen=True)
class Context:
    chain: Sequence[x509.Certificate]
    host: str
    trust: TrustStore
    policy: CertPolicy
    now: datetime
    address: str | None

    @property
    def leaf(self) -> x509.Certificate:
        return self.chain[0]

    def finding(
        self,
        finding_id: FindingId,
        status: Status,
        title: str,
        detail: str = "",
        *,
        predicts: tuple[int, ...] = (),
        remediation: str = "",
        evidence: Mapping[str, Any] | None = None,
    ) -> Finding:
        return Finding(
            id=finding_id,
            status=status,
            title=title,
            detail=detail,
            predicts=predicts,
            remediation=remediation,
            evidence=dict(evidence or {}),
            address=self.address,
        )
