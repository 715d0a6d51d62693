"""cert.crl for a whole chain, and graded for the clients a deployment has.

CryptoAPI checks revocation down the chain (KB 2980672): every certificate but the root against
its issuer's CRL. `check_chain_crls` runs `crl.check_crl` for each and reports the worst, naming
the CA when it is one. `graded_for_clients` turns a CRL that cannot be checked into a warning
when no client of the profile enforces the check.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509

from daserver_check.certs.crl import (
    NO_REVOCATION_CHECK,
    REVOCATION_OFFLINE,
    check_crl,
    crl_finding,
)
from daserver_check.certs.crl_fetch import Resolve
from daserver_check.certs.x509util import subject_text
from daserver_check.model import Finding, Status


def check_chain_crls(
    pairs: Sequence[tuple[x509.Certificate, x509.Certificate | None]],
    *,
    offline: bool,
    now: datetime,
    timeout: float,
    resolve: Resolve,
) -> Finding:
    """cert.crl for a whole chain, as CryptoAPI checks it: every certificate but the root
    against its issuer's CRL (KB 2980672: revocation is checked down the chain). `pairs` holds
    (certificate, its issuer) from the leaf up. The verdict is the worst certificate's; a
    revoked or unreachable CA names that CA."""
    if not pairs:
        return crl_finding(Status.SKIP, "skipped: no certificate to check", "skipped: no chain",
                        {})
    results: list[Finding | None] = [None] * len(pairs)

    def run(index: int, cert: x509.Certificate, issuer: x509.Certificate | None) -> None:
        try:
            results[index] = check_crl(cert, issuer, offline=offline, now=now, timeout=timeout,
                                       resolve=resolve)
        except Exception as exc:  # one certificate's bug must not hide the others
            results[index] = crl_finding(Status.ERROR, "The CRL check could not run",
                                      f"{type(exc).__name__}: {exc}", {})

    threads = [threading.Thread(target=run, args=(i, c, iss), name="crl-chain", daemon=True)
               for i, (c, iss) in enumerate(pairs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout + 3.0)
    findings = [r or crl_finding(Status.ERROR, "The CRL check did not finish", "no result", {})
                for r in results]
    for i in range(1, len(findings)):
        if findings[i].predicts == (NO_REVOCATION_CHECK,):
            # A CA certificate without a CRL distribution point gives the client nothing to
            # fetch; test-lab PKIs leave it out so that clients do not fail (inferred from the
            # UAG/DirectAccess test lab guides), so it is noted, not judged.
            findings[i] = dataclasses.replace(
                findings[i], status=Status.SKIP, predicts=(), remediation_steps=(),
                remediation="", detail="not checked: this CA certificate names no CRL "
                "distribution point (inferred: clients then skip it)")
    leaf = findings[0]
    if len(findings) == 1:
        return leaf
    rank = {Status.FAIL: 0, Status.ERROR: 1, Status.WARN: 2, Status.PASS: 3, Status.SKIP: 4}
    worst_index = min(range(len(findings)), key=lambda i: (rank[findings[i].status], i))
    worst = findings[worst_index]
    evidence = {"certificates": [
        {"subject": subject_text(cert), "status": f.status.value, **dict(f.evidence)}
        for (cert, _issuer), f in zip(pairs, findings, strict=True)]}
    if worst_index == 0 or worst.status in (Status.PASS, Status.SKIP):
        return dataclasses.replace(leaf, evidence={**leaf.evidence, **evidence},
                                   detail=leaf.detail + f" (chain: {len(pairs)} certificates "
                                   "checked)")
    who = subject_text(pairs[worst_index][0])
    return dataclasses.replace(worst, title=f"{worst.title}: {who}",
                               detail=f"{who} (a CA in the served chain): {worst.detail}",
                               evidence={**worst.evidence, **evidence})


def graded_for_clients(finding: Finding, *, enforced: bool, why: str) -> Finding:
    """cert.crl as the profile's clients feel it. Windows 7 enforces the IP-HTTPS CRL check;
    KB 2980672 says Windows 8 and 8.1 skip it unless the server sets StrongCRLRequired (10 and
    11 inferred alike). So when no listed client enforces it, a CRL that cannot be checked is a
    warning; a revoked certificate stays a failure either way."""
    unchecked = {REVOCATION_OFFLINE, NO_REVOCATION_CHECK}
    if enforced or finding.status is not Status.FAIL:
        return finding
    if not finding.predicts or not set(finding.predicts) <= unchecked:
        return finding
    return dataclasses.replace(finding, status=Status.WARN,
                               detail=f"{finding.detail} (warning only: {why})")
