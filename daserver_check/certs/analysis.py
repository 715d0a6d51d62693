"""The certificate analysis: a served chain (or a file's chain) in, cert.* findings out.

Used by `probe` on the chain the server sent and by `cert` on a file. Pure: no I/O (the trust
store is loaded by the caller with `trust.load_trust_store`). Never raises: a certificate that
cannot be read, or a bug in one check, becomes a finding with status error or fail
(DESIGN.md: "Checks never let an exception escape: a failure is a finding").
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
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
from daserver_check.model import Finding, Status

__all__ = ["CERT_FINDING_IDS", "CertPolicy", "analyse_chain"]

# The ids analyse_chain returns, in this order (DESIGN.md finding-id table).
CERT_FINDING_IDS: tuple[str, ...] = (
    "cert.subject-name",
    "cert.subject-extra",
    "cert.san",
    "cert.eku",
    "cert.validity",
    "cert.trust",
    "cert.chain",
    "cert.key",
    "cert.signature",
)

_DEFAULT_POLICY = CertPolicy()


def _normalise_host(host: str) -> str:
    """URL hosts arrive lower-case A-labels; be lenient anyway (brackets, case, final dot)."""
    host = host.strip()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    host = host.lower()
    return host[:-1] if host.endswith(".") else host


def _error(ctx: Context, finding_id: str, exc: BaseException) -> Finding:
    return ctx.finding(
        finding_id,
        Status.ERROR,
        "The certificate could not be checked",
        f"{type(exc).__name__}: {exc}",
        evidence={"error": f"{type(exc).__name__}: {exc}"},
    )


def _guarded(ctx: Context, finding_id: str, check: Callable[[], Finding]) -> Finding:
    try:
        return check()
    except Exception as exc:  # a certificate nobody anticipated must not end the report
        return _error(ctx, finding_id, exc)


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

    findings = [
        _guarded(ctx, "cert.subject-name", lambda: check_subject_name(ctx)),
        _guarded(ctx, "cert.subject-extra", lambda: check_subject_extra(ctx)),
        _guarded(ctx, "cert.san", lambda: check_san(ctx)),
        _guarded(ctx, "cert.eku", lambda: check_eku(ctx)),
        _guarded(ctx, "cert.validity", lambda: check_validity(ctx)),
    ]
    path: ChainPath | None = None
    path_error: Exception | None = None
    try:
        path = build_path(ctx.chain, trust.roots)
    except Exception as exc:
        path_error = exc
    for finding_id, check in (("cert.trust", check_trust), ("cert.chain", check_chain)):
        if path is None:
            findings.append(_error(ctx, finding_id, path_error or RuntimeError("no path")))
        else:
            findings.append(_guarded(ctx, finding_id, functools.partial(check, ctx, path)))
    findings.append(_guarded(ctx, "cert.key", lambda: check_key(ctx)))
    findings.append(_guarded(ctx, "cert.signature", lambda: check_signature(ctx)))
    return findings
