"""cert.trust and cert.chain: does the served chain lead to a root the clients trust?

Untrusted root or intermediate → 0x800B0109 CERT_E_UNTRUSTEDROOT on the client (KB 2980667,
docs/windows-facts.md §3, §4). A trusted path whose CAs' name constraints exclude (or do not
permit) the certificate's names → 0x800B0114 CERT_E_INVALID_NAME ("Either the name is not
included in the permitted list, or it is explicitly excluded", Microsoft Learn,
"CERT_CHAIN_POLICY_STATUS structure (wincrypt.h)", base policy errors). The path, chosen among
all paths as CryptoAPI would, comes from `chain.build_path`.
"""

from __future__ import annotations

from daserver_check.certs.chain import ChainPath, PathEnd
from daserver_check.certs.context import (
    BIND_HINT,
    CERT_UNTRUSTED,
    MAX_EVIDENCE_CERTS,
    Context,
    capitalised,
)
from daserver_check.certs.x509util import (
    is_self_signed,
    iso_utc,
    issuer_text,
    sha1_thumbprint,
    subject_text,
)
from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status

CERT_INVALID_NAME = 0x800B0114  # CERT_E_INVALID_NAME

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

_STALE_FIX = (
    "Delete the expired certificate from the DA server's Local Computer › Intermediate"
    " Certification Authorities store (certlm.msc, or Remove-Item"
    " Cert:\\LocalMachine\\CA\\<thumbprint>) so that HTTP.sys stops sending it; clients"
    " do not need it."
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
        "trusted_paths": path.trusted_paths,
        "why_chosen": path.why_chosen,
        "name_constraints": {
            "constraining_cas": list(path.constraints.constraining_cas),
            "violations": [v.as_evidence() for v in path.constraints.violations[:MAX_EVIDENCE_CERTS]],
            "not_evaluated": list(path.constraints.not_evaluated[:MAX_EVIDENCE_CERTS]),
        },
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
    if path.trusted and path.constraints.violations:
        return _constraint_failure(ctx, path, evidence)
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
        f" {len(ctx.trust.roots)} certificate{'s' if len(ctx.trust.roots) != 1 else ''})."
        + (f" {ctx.trust.note}" if ctx.trust.note else ""),
        predicts=(CERT_UNTRUSTED,),
        remediation=_TRUST_FIX,
        evidence=evidence,
    )


def _constraint_failure(ctx: Context, path: ChainPath, evidence: dict[str, object]) -> Finding:
    """A trusted path whose CA name constraints the certificate breaks (name_constraints.py)."""
    violations = path.constraints.violations
    first = violations[0]
    shown = "; ".join(v.text() for v in violations[:3])
    if len(violations) > 3:
        shown += f"; and {len(violations) - 3} more"
    if all(v.kind == "limit" for v in violations):
        return ctx.finding(
            FindingId.CERT_TRUST,
            Status.ERROR,
            "Name constraints could not be checked in full",
            f"Path: {_arrow(path)}. {capitalised(shown)}.",
            evidence=evidence,
        )
    if first.kind == "invalid-constraint":
        title = f"Malformed name constraint in {first.ca}"
    elif first.kind == "excluded":
        title = f"Name constraints of {first.ca} exclude {first.name}"
    else:
        title = f"Name constraints of {first.ca} do not permit {first.name}"
    return ctx.finding(
        FindingId.CERT_TRUST,
        Status.FAIL,
        title,
        f"Path: {_arrow(path)} (trust store: {ctx.trust.source}). {capitalised(shown)}"
        " (RFC 5280 §4.2.1.10). Windows rejects such a chain with CERT_E_INVALID_NAME"
        " (0x800B0114): the name is not in the permitted list or is explicitly excluded.",
        predicts=(CERT_INVALID_NAME,),
        remediation=(
            f"Issue the IP-HTTPS certificate from a CA whose name constraints permit {ctx.host}"
            " (or have the constraining CA re-issued with a namespace that includes it), then"
            f" {BIND_HINT}."
        ),
        evidence=evidence,
    )


def _unneeded_outdated(ctx: Context, path: ChainPath) -> list[dict[str, str]]:
    """Served certificates the chosen path does not use that are outside their validity
    period: evidence for cert.chain, never a cert.validity failure (chain.py)."""
    rows: list[dict[str, str]] = []
    for index in path.unused_served:
        cert = ctx.chain[index]
        try:
            not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
        except Exception:
            continue
        if not_before <= ctx.now <= not_after:
            continue
        rows.append(
            {
                "subject": subject_text(cert),
                "issuer": issuer_text(cert),
                "not_before": iso_utc(not_before),
                "not_after": iso_utc(not_after),
                "sha1": sha1_thumbprint(cert),
            }
        )
        if len(rows) >= MAX_EVIDENCE_CERTS:
            break
    return rows


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
        stale = _unneeded_outdated(ctx, path)
        evidence["unneeded_outdated"] = stale
        if stale:
            notes += (
                " The chosen path does not use "
                + ", ".join(f"{row['subject']} issued by {row['issuer']} (valid"
                            f" {row['not_before']} to {row['not_after']})" for row in stale[:3])
                + ("…" if len(stale) > 3 else "")
                + "; clients that build the path the way CryptoAPI does ignore it."
            )
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
        if stale:
            return ctx.finding(
                FindingId.CERT_CHAIN,
                Status.WARN,
                "The server sends an unneeded expired certificate",
                f"Served: {', '.join(served[:5])}{'…' if len(served) > 5 else ''}.{notes}"
                " Clients that stop at the first path they find may still fail on it (OpenSSL"
                " 1.0.2 did when Let's Encrypt's DST Root CA X3 cross-signature expired in"
                " 2021).",
                remediation=_STALE_FIX.replace("<thumbprint>", stale[0]["sha1"]),
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
