"""The certificate analysis: a served chain (or a file's chain) in, cert.* findings out.

Used by `probe` on the chain the server sent and by `cert` on a file. Pure: no I/O (the trust
store is loaded by the caller with `trust.load_trust_store`). Never raises: a certificate that
cannot be read, or a bug in one check, becomes a finding with status error or fail
(docs/architecture.md: "Checks never let an exception escape: a failure is a finding").
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Sequence
from datetime import UTC, datetime

from cryptography import x509

from daserver_check.certs.cert_checks import check_key, check_signature, check_validity
from daserver_check.certs.chain import ChainPath, build_path
from daserver_check.certs.chain_checks import check_chain, check_trust
from daserver_check.certs.context import CertPolicy, Context
from daserver_check.certs.name_checks import (
    check_eku,
    check_san,
    check_subject_extra,
    check_subject_name,
)
from daserver_check.certs.trust import TrustStore
from daserver_check.findings import STAGE_IDS, FindingId
from daserver_check.model import Finding, Status, crashed, guarded

__all__ = ["CERT_FINDING_IDS", "CertPolicy", "analyse_chain"]

# The ids analyse_chain returns, in this order (the registry's cert stage).
CERT_FINDING_IDS: tuple[FindingId, ...] = STAGE_IDS["cert"]

_DEFAULT_POLICY = CertPolicy()


def _normalise_host(host: str) -> str:
    """URL hosts arrive lower-case A-labels; be lenient anyway (brackets, case, final dot)."""
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    host = host.lower()
    return host[:-1] if host.endswith(".") else host


def analyse_chain(
    chain: Sequence[x509.Certificate],
    host: str,
    *,
    trust: TrustStore,
    policy: CertPolicy = _DEFAULT_POLICY,
    now: datetime | None = None,
    address: str | None = None,
) -> list[Finding]:
    """All cert.* findings for `chain` (chain[0] = the leaf as served, then what the server sent,
    in any order) against the URL `host`. Every finding carries `address`."""
    moment = now or datetime.now(UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    ctx = Context(list(chain), _normalise_host(host), trust, policy, moment, address)
    if not ctx.chain:
        return [
            ctx.finding(
                finding_id,
                Status.ERROR,
                "server sent no certificate",
                "No certificate to analyse: the TLS handshake delivered an empty chain.",
                evidence={"host": ctx.host},
            )
            for finding_id in CERT_FINDING_IDS
        ]

    path: ChainPath | None = None
    path_error: Exception | None = None
    try:
        path = build_path(ctx.chain, trust.roots, now=ctx.now)
    except Exception as exc:
        path_error = exc
    # Validity, signature and the chain's EKU are judged on the certificates the chosen path uses (chain.py:
    # CryptoAPI judges the chain it chose, not every certificate the server sends); a served
    # certificate off the path is cert.chain's evidence. Without a trusted path there is no
    # chosen chain, so every served certificate is judged.
    judged = _on_path(ctx, path)
    findings = [
        guarded(FindingId.CERT_SUBJECT_NAME, lambda: check_subject_name(ctx), address=ctx.address),
        guarded(FindingId.CERT_SUBJECT_EXTRA, lambda: check_subject_extra(ctx), address=ctx.address),
        guarded(FindingId.CERT_SAN, lambda: check_san(ctx), address=ctx.address),
        guarded(FindingId.CERT_EKU, lambda: check_eku(judged), address=ctx.address),
        guarded(FindingId.CERT_VALIDITY, lambda: check_validity(judged), address=ctx.address),
    ]
    for finding_id, check in ((FindingId.CERT_TRUST, check_trust), (FindingId.CERT_CHAIN, check_chain)):
        if path is None:
            findings.append(crashed(finding_id, path_error or RuntimeError("no path"), ctx.address))
        else:
            findings.append(guarded(finding_id, functools.partial(check, ctx, path), address=ctx.address))
    findings.append(guarded(FindingId.CERT_KEY, lambda: check_key(ctx), address=ctx.address))
    findings.append(guarded(FindingId.CERT_SIGNATURE, lambda: check_signature(judged), address=ctx.address))
    return findings


def _on_path(ctx: Context, path: ChainPath | None) -> Context:
    """`ctx` restricted to the served certificates on the chosen trusted path, leaf first."""
    if path is None or not path.trusted or not path.unused_served:
        return ctx
    return dataclasses.replace(ctx, chain=[ctx.chain[i] for i in path.served_on_path()])
