"""cert.trust and cert.chain: does the served chain lead to a root the clients trust?

Untrusted root or intermediate → 0x800B0109 CERT_E_UNTRUSTEDROOT on the client (KB 2980667,
docs/windows-facts.md §3, §4). The path comes from `chain.build_path`.
"""

from __future__ import annotations

from daserver_check.certs.chain import ChainPath, PathEnd
from daserver_check.certs.context import (
    CERT_UNTRUSTED,
    MAX_EVIDENCE_CERTS,
    Context,
    capitalised,
)
from daserver_check.certs.x509util import is_self_signed, issuer_text, subject_text
from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status

_TRUST_FIX = (
    "Make the clients trust the issuing root (Group Policy: Computer Configuration › Windows"
    " Settings › Security Settings › Public Key Policies › Trusted Root Certification"
    " Authorities) or use a certificate from a CA they already trust, and serve the"
    " intermediates. If the clients trust roots this machine does not, re-run with"
    " --ca-file <the clients' root bundle>."
)
_INTERMEDIATE_FIX = (
    "Import the intermediate CA certificate(s) into the DA server's Local Computer ›"
    " Intermediate Certification Authorities store so that HTTP.sys sends them with the"
    " IP-HTTPS certificate, then re-check."
)


def _path_evidence(ctx: Context, path: ChainPath) -> dict[str, object]:
    return {
        "path": [subject_text(step.cert) for step in path.steps],
        "path_sources": ["trust store" if step.from_store else "served" for step in path.steps],
        "trusted": path.trusted,
        "end": path.end.value,
        "reason": path.reason,
        "trust_source": ctx.trust.source,
        "trust_store_size": len(ctx.trust.roots),
    }


def _arrow(path: ChainPath) -> str:
    return " → ".join(subject_text(step.cert) for step in path.steps)


def check_trust(ctx: Context, path: ChainPath) -> Finding:
    leaf = ctx.leaf
    evidence = _path_evidence(ctx, path)
    source = ctx.trust.source
    if is_self_signed(leaf):
        in_store = path.trusted and len(path.steps) == 1
        evidence["self_signed"] = True
        evidence["leaf_in_trust_store"] = in_store
        where = "is in" if in_store else "is not in"
        return ctx.finding(
            FindingId.CERT_TRUST,
            Status.WARN,
            "Certificate is self-signed",
            f"{subject_text(leaf)} is self-signed and {where} the trust store ({source})."
            " Clients trust it only if the certificate was distributed to them (e.g. by Group"
            " Policy), and Windows disables the null-encryption suites with a self-signed"
            " IP-HTTPS certificate (docs/windows-facts.md §2), so Windows 8+ clients double-encrypt.",
            predicts=(CERT_UNTRUSTED,),
            remediation=(
                "Use a certificate from a public CA or from the enterprise PKI whose root the"
                " clients trust; if the self-signed certificate is intended, make sure every"
                " client receives it by Group Policy."
            ),
            evidence=evidence,
        )
    evidence["self_signed"] = False
    if path.trusted:
        return ctx.finding(
            FindingId.CERT_TRUST,
            Status.PASS,
            "Certificate chains to a trusted root",
            f"{_arrow(path)} (trust store: {source})",
            evidence=evidence,
        )
    if not ctx.trust.roots:
        return ctx.finding(
            FindingId.CERT_TRUST,
            Status.ERROR,
            "No trusted roots to check the chain against",
            f"The trust store ({source}) holds no certificates, so trust cannot be decided.",
            remediation="Pass --ca-file with the root certificates the clients trust.",
            evidence=evidence,
        )
    return ctx.finding(
        FindingId.CERT_TRUST,
        Status.FAIL,
        "No chain to a trusted root",
        f"Path: {_arrow(path)}. {capitalised(path.reason)} (trust store: {source},"
        f" {len(ctx.trust.roots)} certificate{'s' if len(ctx.trust.roots) != 1 else ''}).",
        predicts=(CERT_UNTRUSTED,),
        remediation=_TRUST_FIX,
        evidence=evidence,
    )


def _served_in_order(ctx: Context) -> bool:
    """RFC 5246 §7.4.2: each certificate must certify the one before it (TLS 1.3, RFC 8446
    §4.4.2, relaxes this; clients usually reorder, so it is only reported)."""
    try:
        return all(
            ctx.chain[i].subject == ctx.chain[i - 1].issuer for i in range(1, len(ctx.chain))
        )
    except Exception:
        return False


def check_chain(ctx: Context, path: ChainPath) -> Finding:
    evidence = _path_evidence(ctx, path)
    served = [subject_text(cert) for cert in ctx.chain[:MAX_EVIDENCE_CERTS]]
    unused = [subject_text(ctx.chain[i]) for i in path.unused_served[:MAX_EVIDENCE_CERTS]]
    in_order = _served_in_order(ctx)
    evidence.update(
        served=served, served_count=len(ctx.chain), unused=unused, in_order=in_order
    )
    notes = ""
    if not in_order:
        notes += " The server sends them out of order (RFC 5246 §7.4.2)."
    if unused:
        notes += f" {len(path.unused_served)} served certificate(s) not on the path: "
        notes += ", ".join(unused[:5]) + ("…" if len(unused) > 5 else "") + "."

    if is_self_signed(ctx.leaf):
        return ctx.finding(
            FindingId.CERT_CHAIN,
            Status.PASS,
            "Self-signed certificate: no intermediates needed",
            f"Served: {', '.join(served[:5])}{'…' if len(served) > 5 else ''}.{notes}",
            evidence=evidence,
        )
    if path.trusted:
        missing = path.not_served()
        evidence["not_served"] = [subject_text(cert) for cert in missing]
        if missing:
            names = ", ".join(subject_text(cert) for cert in missing)
            return ctx.finding(
                FindingId.CERT_CHAIN,
                Status.WARN,
                "Server does not send its intermediate certificate(s)",
                f"The path needs {names}, which the server did not send; this tool found it in"
                f" the trust store ({ctx.trust.source}). Clients that lack it must fetch it"
                f" (AIA) or fail.{notes}",
                predicts=(CERT_UNTRUSTED,),
                remediation=_INTERMEDIATE_FIX,
                evidence=evidence,
            )
        return ctx.finding(
            FindingId.CERT_CHAIN,
            Status.PASS,
            "Server sends the complete chain",
            f"Served: {', '.join(served[:5])}{'…' if len(served) > 5 else ''}.{notes}",
            evidence=evidence,
        )
    return _broken_chain(ctx, path, evidence, notes)


def _broken_chain(
    ctx: Context, path: ChainPath, evidence: dict[str, object], notes: str
) -> Finding:
    last = path.steps[-1].cert
    if path.end is PathEnd.UNTRUSTED_ROOT:
        return ctx.finding(
            FindingId.CERT_CHAIN,
            Status.PASS,
            "Served chain is complete up to its root",
            f"{_arrow(path)}; the root is not trusted (see cert.trust).{notes}",
            evidence=evidence,
        )
    if path.end is PathEnd.MISSING_ISSUER:
        if not ctx.trust.roots:
            return ctx.finding(
                FindingId.CERT_CHAIN,
                Status.ERROR,
                "Cannot tell whether an intermediate is missing",
                f"The issuer of {subject_text(last)} ({issuer_text(last)}) was not sent, and the"
                f" trust store ({ctx.trust.source}) is empty.",
                remediation="Pass --ca-file with the root certificates the clients trust.",
                evidence=evidence,
            )
        return ctx.finding(
            FindingId.CERT_CHAIN,
            Status.WARN,
            "Server does not send the issuer certificate",
            f"{capitalised(path.reason)}.{notes}",
            predicts=(CERT_UNTRUSTED,),
            remediation=_INTERMEDIATE_FIX,
            evidence=evidence,
        )
    if path.end is PathEnd.BAD_SIGNATURE:
        return ctx.finding(
            FindingId.CERT_CHAIN,
            Status.WARN,
            "Server sends the wrong issuer certificate",
            f"{capitalised(path.reason)}.{notes}",
            predicts=(CERT_UNTRUSTED,),
            remediation=(
                "Replace the served intermediate with the CA certificate that really issued"
                " the IP-HTTPS certificate (a renewed CA has a new key)."
            ),
            evidence=evidence,
        )
    status = Status.WARN if path.end is PathEnd.TOO_LONG else Status.ERROR
    return ctx.finding(
        FindingId.CERT_CHAIN,
        status,
        "Chain could not be followed to the end",
        f"{capitalised(path.reason)}.{notes}",
        predicts=(CERT_UNTRUSTED,) if status is Status.WARN else (),
        remediation="Serve only the leaf and the intermediates that issue it, in order.",
        evidence=evidence,
    )
