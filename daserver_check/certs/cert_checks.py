"""cert.validity, cert.key and cert.signature: facts of each certificate on its own."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa

from daserver_check.certs.context import BIND_HINT, CERT_EXPIRED, MAX_EVIDENCE_CERTS, Context
from daserver_check.certs.x509util import (
    ExtensionError,
    is_self_issued,
    iso_utc,
    issuer_text,
    oid_name,
    read_extension,
    sha1_thumbprint,
    subject_text,
)
from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status, worst

_DAY = 86400.0


# ---------------------------------------------------------------- cert.validity


def _days_left(not_after: datetime, now: datetime) -> int:
    return math.floor((not_after - now).total_seconds() / _DAY)


def _chain_entry(cert: x509.Certificate, position: str, now: datetime) -> dict[str, object]:
    """One served certificate's dates, kept even when it is expired or untrusted: monitoring
    reads leaf and chain expiry separately (blackbox_exporter #1119, #340; docs/windows-facts.md §8)."""
    not_after = cert.not_valid_after_utc
    return {
        "position": position,
        "subject": subject_text(cert),
        "issuer": issuer_text(cert),
        "not_before": iso_utc(cert.not_valid_before_utc),
        "not_after": iso_utc(not_after),
        "not_after_timestamp": int(not_after.timestamp()),
        "days_left": _days_left(not_after, now),
        "sha1": sha1_thumbprint(cert),
    }


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


@dataclass(frozen=True)
class _DateVerdict:
    status: Status
    title: str  # "<who> expired 3 days ago"
    detail: str  # the title with the date and the threshold


def _judge_dates(ctx: Context, cert: x509.Certificate, who: str) -> _DateVerdict:
    now, policy = ctx.now, ctx.policy
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    if now < not_before:
        title = f"{who} is not yet valid"
        return _DateVerdict(Status.FAIL, title, f"{title} (valid from {iso_utc(not_before)})")
    if now > not_after:
        ago = math.floor((now - not_after).total_seconds() / _DAY)
        title = f"{who} expired {_days(ago) + ' ago' if ago >= 1 else 'less than a day ago'}"
        return _DateVerdict(Status.FAIL, title, f"{title} ({iso_utc(not_after)})")
    days = _days_left(not_after, now)
    title = f"{who} expires in {_days(days)}"
    detail = f"{title} ({iso_utc(not_after)})"
    if days < policy.crit_days:
        threshold = f", under the critical threshold of {_days(policy.crit_days)}"
        return _DateVerdict(Status.FAIL, title, detail + threshold)
    if days < policy.warn_days:
        threshold = f", under the warning threshold of {_days(policy.warn_days)}"
        return _DateVerdict(Status.WARN, title, detail + threshold)
    return _DateVerdict(Status.PASS, title, detail)


def check_validity(ctx: Context) -> Finding:
    """cert.validity: expired → 0x800B0101 CERT_E_EXPIRED (docs/windows-facts.md §4). The leaf and every
    served intermediate are judged; a served self-signed root only warns when expired, since
    clients use their own copy of a root (RFC 5246 §7.4.2 lets the server omit it)."""
    leaf, now = ctx.leaf, ctx.now
    entries = [
        _chain_entry(cert, "leaf" if i == 0 else "chain", now)
        for i, cert in enumerate(ctx.chain[:MAX_EVIDENCE_CERTS])
    ]
    leaf_verdict = _judge_dates(ctx, leaf, "The certificate")
    verdicts: list[_DateVerdict] = []
    for cert in ctx.chain[1:]:
        verdict = _judge_dates(ctx, cert, f"Served CA certificate {subject_text(cert)}")
        if is_self_issued(cert):  # a served root (name test only: cheap on hostile chains)
            if now <= cert.not_valid_after_utc:
                continue
            verdict = _DateVerdict(
                Status.WARN,
                verdict.title,
                verdict.detail + "; clients use their own copy of a root: drop it from the"
                " served chain and check the clients' copy",
            )
        if verdict.status is not Status.PASS:
            verdicts.append(verdict)
    overall = worst([leaf_verdict.status, *(v.status for v in verdicts)])
    evidence: dict[str, object] = {
        "not_before": iso_utc(leaf.not_valid_before_utc),
        "not_after": iso_utc(leaf.not_valid_after_utc),
        "days_left": _days_left(leaf.not_valid_after_utc, now),
        "now": iso_utc(now),
        "warn_days": ctx.policy.warn_days,
        "crit_days": ctx.policy.crit_days,
        "chain": entries,
        "chain_truncated": len(ctx.chain) > MAX_EVIDENCE_CERTS,
    }
    texts = [v.detail + "." for v in [leaf_verdict, *verdicts[:5]]]
    if len(verdicts) > 5:
        texts.append(f"And {len(verdicts) - 5} more served CA certificates.")
    if overall is Status.PASS:
        title = f"Certificate valid until {iso_utc(leaf.not_valid_after_utc)}"
        return ctx.finding(FindingId.CERT_VALIDITY, Status.PASS, title, " ".join(texts), evidence=evidence)
    shown = next(v for v in [leaf_verdict, *verdicts] if v.status is overall)
    return ctx.finding(
        FindingId.CERT_VALIDITY,
        overall,
        shown.title,
        " ".join(texts),
        predicts=(CERT_EXPIRED,),
        remediation=(
            f"Renew the certificate with the same Subject and SAN and {BIND_HINT}; for a CA"
            " certificate, install the renewed intermediate on the server so it is served."
        ),
        evidence=evidence,
    )


# ---------------------------------------------------------------- cert.key


def _key_usage_problems(cert: x509.Certificate) -> tuple[list[str], list[str]]:
    """(key usages, problems) for an RSA key. With a KeyUsage extension present, RSA key
    exchange (the null suites TLS_RSA_WITH_NULL_*) needs keyEncipherment and ECDHE_RSA needs
    digitalSignature (RFC 5246 §7.4.2)."""
    try:
        usage = read_extension(cert, x509.KeyUsage)
    except ExtensionError:
        return [], []  # cert.san / cert.eku already report unreadable extensions
    if usage is None:
        return [], []
    names = [
        name
        for name in ("digital_signature", "key_encipherment", "key_agreement", "key_cert_sign")
        if getattr(usage, name)
    ]
    problems: list[str] = []
    if not usage.key_encipherment:
        problems.append("Key Usage lacks keyEncipherment: no RSA key exchange, so no null suites")
    if not usage.digital_signature:
        problems.append("Key Usage lacks digitalSignature: no ECDHE_RSA suites")
    return names, problems


def check_key(ctx: Context) -> Finding:
    """cert.key: RSA 2048 recommended; ECDSA disables the null-encryption suites, which Windows
    offers only with RSA keys (docs/windows-facts.md §2, §3)."""
    leaf = ctx.leaf
    reissue = f"Re-issue the certificate with an RSA 2048-bit (or larger) key and {BIND_HINT}."
    try:
        key = leaf.public_key()
    except Exception as exc:  # UnsupportedAlgorithm, ValueError for unknown/malformed keys
        try:
            algorithm = oid_name(leaf.public_key_algorithm_oid)
        except Exception:
            algorithm = "unknown"
        return ctx.finding(
            FindingId.CERT_KEY,
            Status.FAIL,
            "Unsupported public key type",
            f"Key algorithm {algorithm}: {type(exc).__name__}: {exc}",
            remediation=reissue,
            evidence={"key_type": "unknown", "algorithm": algorithm},
        )
    if isinstance(key, rsa.RSAPublicKey):
        bits = key.key_size
        usages, problems = _key_usage_problems(leaf)
        evidence: dict[str, object] = {"key_type": "RSA", "key_size": bits, "key_usage": usages}
        if bits < 2048:
            return ctx.finding(
                FindingId.CERT_KEY,
                Status.FAIL,
                f"RSA key too small ({bits} bits)",
                f"RSA {bits} bits; at least 2048 are needed (docs/windows-facts.md §3).",
                remediation=reissue,
                evidence=evidence,
            )
        if problems:
            evidence["problems"] = problems
            # A warning only: RFC 5246 §7.4.2 states the rule, but whether Schannel enforces
            # Key Usage on the server side is not documented.
            return ctx.finding(
                FindingId.CERT_KEY,
                Status.WARN,
                "Key Usage restricts the TLS cipher suites",
                f"RSA {bits} bits; " + "; ".join(problems) + " (RFC 5246 §7.4.2).",
                remediation=(
                    "Re-issue with Key Usage digitalSignature and keyEncipherment (the Web"
                    f" Server template has both) and {BIND_HINT}."
                ),
                evidence=evidence,
            )
        return ctx.finding(
            FindingId.CERT_KEY, Status.PASS, f"RSA {bits}-bit key", f"RSA {bits} bits", evidence=evidence
        )
    if isinstance(key, ec.EllipticCurvePublicKey):
        curve = key.curve.name
        return ctx.finding(
            FindingId.CERT_KEY,
            Status.WARN,
            "ECDSA key: no null-encryption suites",
            f"ECDSA on {curve}. Windows offers the null-encryption suites only with RSA keys, so"
            " Windows 8+ clients double-encrypt IP-HTTPS traffic (IPsec inside TLS), which costs"
            " server CPU (docs/windows-facts.md §2).",
            remediation=(
                "Use an RSA 2048 certificate if Windows 8+ clients should get the"
                " null-encryption suites."
            ),
            evidence={"key_type": "ECDSA", "curve": curve, "key_size": key.key_size},
        )
    kind = type(key).__name__.removeprefix("_").replace("PublicKey", "") or "unknown"
    known: tuple[tuple[type, str], ...] = (
        (ed25519.Ed25519PublicKey, "Ed25519"),
        (ed448.Ed448PublicKey, "Ed448"),
        (dsa.DSAPublicKey, "DSA"),
    )
    for base, label in known:
        if isinstance(key, base):
            kind = label
    return ctx.finding(
        FindingId.CERT_KEY,
        Status.FAIL,
        f"{kind} key is not usable for IP-HTTPS",
        f"Key type {kind}; IP-HTTPS servers use RSA (recommended) or ECDSA keys"
        " (docs/windows-facts.md §3).",
        remediation=reissue,
        evidence={"key_type": kind},
    )


# ---------------------------------------------------------------- cert.signature

# md2/md4/md5WithRSAEncryption (RFC 3279 §2.2.1): cryptography cannot even name MD2/MD4.
_BROKEN_SIGNATURE_OIDS = {
    "1.2.840.113549.1.1.2": "MD2",
    "1.2.840.113549.1.1.3": "MD4",
    "1.2.840.113549.1.1.4": "MD5",
}


def _judge_signature(cert: x509.Certificate) -> tuple[Status, str, str]:
    """(status, algorithm text, hash name) for one certificate's signature."""
    oid = cert.signature_algorithm_oid
    algorithm = oid_name(oid)
    if oid.dotted_string in _BROKEN_SIGNATURE_OIDS:
        return Status.FAIL, algorithm, _BROKEN_SIGNATURE_OIDS[oid.dotted_string]
    try:
        digest = cert.signature_hash_algorithm
    except Exception:  # UnsupportedAlgorithm: an OID cryptography does not know
        return Status.ERROR, algorithm, "unknown"
    if digest is None:
        # Ed25519/Ed448 carry no separate hash; strong, but Windows CryptoAPI support for them
        # in certificate chains is not documented (inference: treat as a risk, not a pass).
        return Status.WARN, algorithm, "EdDSA"
    name = digest.name.upper()
    if digest.name == "md5":
        return Status.FAIL, algorithm, name
    if digest.name == "sha1" or digest.digest_size < 32:
        return Status.WARN, algorithm, name
    return Status.PASS, algorithm, name


def check_signature(ctx: Context) -> Finding:
    """cert.signature: MD5 is broken (fail), SHA-1 deprecated (warn); SHA-256 recommended
    (docs/windows-facts.md §3). The leaf and the served intermediates are checked; a root's
    self-signature carries no trust (RFC 5280 §6.1: the anchor is trusted as such)."""
    rows: list[dict[str, object]] = []
    verdicts: list[tuple[Status, str]] = []
    for position, cert in enumerate(ctx.chain):
        if position > 0 and is_self_issued(cert):  # a root: its self-signature is not checked
            continue
        status, algorithm, hash_name = _judge_signature(cert)
        subject = subject_text(cert)
        rows.append(
            {
                "position": "leaf" if position == 0 else "chain",
                "subject": subject,
                "algorithm": algorithm,
                "hash": hash_name,
                "status": status.value,
            }
        )
        verdicts.append((status, f"{subject}: {algorithm}"))
    overall = worst(status for status, _ in verdicts)
    evidence: dict[str, object] = {"certificates": rows[:MAX_EVIDENCE_CERTS]}
    # The leaf, then the worst few: a hostile chain must not make the detail unbounded.
    shown = sorted(verdicts[1:], key=lambda v: v[0] is Status.PASS)[:4]
    detail = "; ".join(text for _, text in [verdicts[0], *shown])
    if len(verdicts) > 5:
        detail += f"; and {len(verdicts) - 5} more"
    if overall is Status.PASS:
        return ctx.finding(
            FindingId.CERT_SIGNATURE, Status.PASS, "Signatures use SHA-256 or stronger", detail,
            evidence=evidence,
        )
    worst_row = next(row for row in rows if row["status"] == overall.value)
    titles = {
        Status.FAIL: f"Broken {worst_row['hash']} signature",
        Status.WARN: f"Weak or unusual signature ({worst_row['hash']})",
        Status.ERROR: "Unknown signature algorithm",
    }
    return ctx.finding(
        FindingId.CERT_SIGNATURE,
        overall,
        f"{titles.get(overall, 'Signature problem')} on {worst_row['subject']}",
        detail,
        remediation=(
            "Re-issue the certificate (or use an issuing CA) with an RSA SHA-256 signature"
            f" and {BIND_HINT}."
        ),
        evidence=evidence,
    )
