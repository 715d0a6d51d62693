"""cert.replacement: is the new certificate a drop-in replacement for the one served now?

`cert --against URL` fetches the certificate the IP-HTTPS endpoint serves today and compares it
with the new one, aspect by aspect, so that the yearly swap changes only the dates:
- names: every name the current certificate carries (Subject CNs, SAN DNS names and IPs) must
  still be covered, and the URL host must pass the DirectAccess name rule — otherwise clients
  that connect to a name served today report 0x103 "No usable certificate found" (KB 2980635);
- issuer chain: a new CA means the clients must trust another root/intermediate (0x800B0109
  when they do not: cert.trust judges that against the trust store given);
- key type and size: RSA → ECDSA loses the null-encryption suites (docs/windows-facts.md §2), a smaller
  key is a downgrade;
- EKU: a usage dropped may be one something else relies on;
- expiry: the new certificate must outlive the current one, or the swap buys nothing.
Names fail (0x103); every other difference warns. Pure: the served chain comes from the caller.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime

from cryptography import x509

from daserver_check.certs.chain import build_path
from daserver_check.certs.names import (
    common_names,
    directaccess_name_verdict,
    hostname_matches,
    san_names,
)
from daserver_check.certs.trust import TrustStore
from daserver_check.certs.x509util import (
    ExtensionError,
    iso_utc,
    issuer_text,
    oid_name,
    public_key_description,
    read_extension,
    sha1_thumbprint,
    subject_text,
)
from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status, worst

NO_USABLE_CERT = 0x103
_TITLE = "New certificate compared with the one served now"


def _normal(name: str) -> str:
    name = name.strip().lower()
    return name[:-1] if name.endswith(".") else name


def certificate_names(cert: x509.Certificate) -> list[str]:
    """Subject CNs, then SAN DNS names and IP addresses, each once, as written."""
    names: list[str] = []
    with contextlib.suppress(ValueError):
        names.extend(common_names(cert))
    try:
        san = san_names(cert)
    except ExtensionError:
        san = None
    if san is not None:
        names.extend(san.dns_names)
        names.extend(str(ip) for ip in san.ip_addresses)
    seen: set[str] = set()
    unique: list[str] = []
    for name in names:
        if _normal(name) not in seen:
            seen.add(_normal(name))
            unique.append(name)
    return unique


def _covered(name: str, patterns: Sequence[str]) -> bool:
    """A name of the current certificate is covered when the new one carries the same entry
    (a wildcard stays covered only by the same wildcard) or an entry that names it."""
    target = _normal(name)
    for pattern in patterns:
        if _normal(pattern) == target:
            return True
        if "*" not in target and hostname_matches(pattern, target):
            return True
    return False


def public_key_text(cert: x509.Certificate) -> tuple[str, int]:
    """("RSA", 2048)-style key type and size of a certificate."""
    try:
        key = cert.public_key()
    except Exception:
        return "unknown", 0
    return public_key_description(key)


def _usages(cert: x509.Certificate) -> list[str] | None:
    """EKU names, None when the extension is absent (any usage)."""
    try:
        eku = read_extension(cert, x509.ExtendedKeyUsage)
    except ExtensionError:
        return ["(unreadable)"]
    return None if eku is None else [oid_name(oid) for oid in eku]


def _issuer_chain(chain: Sequence[x509.Certificate], trust: TrustStore) -> list[str]:
    """Subjects above the leaf on its certification path (served, then trust store)."""
    try:
        path = build_path(chain, trust.roots)
    except Exception:
        return [issuer_text(chain[0])]
    above = [subject_text(step.cert) for step in path.steps[1:]]
    return above or [issuer_text(chain[0])]


def _summary(cert: x509.Certificate) -> dict[str, object]:
    key_type, key_size = public_key_text(cert)
    return {
        "subject": subject_text(cert),
        "issuer": issuer_text(cert),
        "sha1": sha1_thumbprint(cert),
        "not_after": iso_utc(cert.not_valid_after_utc),
        "key_type": key_type,
        "key_size": key_size,
    }


def _row(aspect: str, status: Status, current: object, new: object, note: str) -> dict[str, object]:
    return {"aspect": aspect, "status": status.value, "current": current, "new": new,
            "note": note}


def compare(
    new_chain: Sequence[x509.Certificate],
    served_chain: Sequence[x509.Certificate],
    *,
    url: str,
    host: str,
    served_from: str,
    trust: TrustStore,
) -> Finding:
    """cert.replacement for the new chain (leaf first) against the chain served at `url`."""
    new, old = new_chain[0], served_chain[0]
    rows: list[dict[str, object]] = []

    if sha1_thumbprint(new) == sha1_thumbprint(old):
        rows.append(_row("identity", Status.WARN, sha1_thumbprint(old), sha1_thumbprint(new),
                         "the file holds the certificate that is served already"))

    old_names, new_names = certificate_names(old), certificate_names(new)
    missing = [name for name in old_names if not _covered(name, new_names)]
    rows.append(_row(
        "names", Status.FAIL if missing else Status.PASS, old_names, new_names,
        "not covered by the new certificate: " + ", ".join(missing) if missing
        else "every name served now is covered",
    ))
    verdict = directaccess_name_verdict(new, host)
    rows.append(_row("url host", Status.PASS if verdict.ok else Status.FAIL,
                     directaccess_name_verdict(old, host).ok, verdict.ok,
                     f"{host}: {verdict.reason}"))

    old_issuers, new_issuers = _issuer_chain(served_chain, trust), _issuer_chain(new_chain, trust)
    same_issuer = issuer_text(old) == issuer_text(new)
    same_chain = old_issuers == new_issuers
    if same_issuer and same_chain:
        note = "same issuer and issuer chain"
    elif same_issuer:
        note = "same issuer name, but the chain above it differs (a renewed or re-keyed CA?)"
    else:
        note = "another issuer: clients must trust the new chain (see cert.trust)"
    rows.append(_row("issuer chain", Status.PASS if same_issuer and same_chain else Status.WARN,
                     old_issuers, new_issuers, note))

    (old_type, old_size), (new_type, new_size) = public_key_text(old), public_key_text(new)
    if old_type != new_type:
        key_status, key_note = Status.WARN, "another key type"
        if new_type.startswith("ECDSA"):
            key_note += ": an ECDSA key disables the null-encryption suites"
    elif new_size < old_size:
        key_status, key_note = Status.WARN, "a smaller key than today's"
    else:
        key_status = Status.PASS
        key_note = "same key type and size" if new_size == old_size else "same type, larger key"
    rows.append(_row("key", key_status, f"{old_type} {old_size}", f"{new_type} {new_size}",
                     key_note))

    old_eku, new_eku = _usages(old), _usages(new)
    if new_eku is None or old_eku == new_eku:
        eku_status, eku_note = Status.PASS, "same usages" if old_eku == new_eku else "any usage"
    else:
        dropped = [u for u in (old_eku or ["(any usage)"]) if u not in new_eku]
        eku_status = Status.WARN if dropped else Status.PASS
        eku_note = ("usages dropped: " + ", ".join(dropped)) if dropped else "usages added"
    rows.append(_row("eku", eku_status, old_eku if old_eku is not None else "(no extension)",
                     new_eku if new_eku is not None else "(no extension)", eku_note))

    old_end, new_end = old.not_valid_after_utc, new.not_valid_after_utc
    later = new_end > old_end
    rows.append(_row(
        "expiry", Status.PASS if later else Status.WARN, iso_utc(old_end), iso_utc(new_end),
        f"{_days(new_end, old_end)} days later" if later
        else "the new certificate does not expire later than the current one",
    ))

    status = worst(Status(str(row["status"])) for row in rows)
    evidence: dict[str, object] = {
        "url": url,
        "served_from": served_from,
        "current": _summary(old),
        "new": _summary(new),
        "comparisons": rows,
    }
    problems = [f"{row['aspect']}: {row['note']}" for row in rows if row["status"] != "pass"]
    if status is Status.FAIL:
        return Finding(
            id=FindingId.CERT_REPLACEMENT,
            status=status,
            title="The new certificate does not cover what is served now",
            detail=f"Against {url} ({served_from}): " + "; ".join(problems) + ".",
            predicts=(NO_USABLE_CERT,),
            remediation="Request the new certificate with the same Subject CN and every SAN"
            " name of the current one (or confirm the dropped names are no longer used).",
            evidence=evidence,
        )
    if status is Status.WARN:
        return Finding(
            id=FindingId.CERT_REPLACEMENT,
            status=status,
            title="The new certificate differs from the one served now",
            detail=f"Against {url} ({served_from}): " + "; ".join(problems) + ".",
            remediation="Check that each difference is intended before the swap.",
            evidence=evidence,
        )
    return Finding(
        id=FindingId.CERT_REPLACEMENT,
        status=Status.PASS,
        title="The new certificate is a drop-in replacement",
        detail=f"Against {url} ({served_from}): same names, issuer chain, key and usages;"
        f" expires {iso_utc(new_end)} instead of {iso_utc(old_end)}.",
        evidence=evidence,
    )


def _days(later: datetime, earlier: datetime) -> int:
    return int((later - earlier).total_seconds() // 86400)


def comparison_error(url: str, detail: str, served_from: str = "") -> Finding:
    """cert.replacement when the served certificate could not be fetched (status error: the
    comparison asked for could not be made)."""
    evidence: dict[str, object] = {"url": url, "error": detail}
    if served_from:
        evidence["served_from"] = served_from
    return Finding(
        id=FindingId.CERT_REPLACEMENT,
        status=Status.ERROR,
        title="The certificate served now could not be fetched",
        detail=f"{url}: {detail}",
        remediation="Check the URL and that this machine reaches it (or use --connect"
        " HOST[:PORT] to reach one entry point directly).",
        evidence=evidence,
    )
