"""Checks of what the leaf certificate says it is for: Subject, SAN and EKU (docs/windows-facts.md §3)."""

from __future__ import annotations

from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID

from daserver_check.certs.context import BIND_HINT, NO_USABLE_CERT, Context
from daserver_check.certs.names import (
    common_names,
    directaccess_name_verdict,
    escape_name,
    flagged_characters,
    hostname_matches,
    name_problem,
    parse_ip,
    rfc6125_name_verdict,
    san_names,
)
from daserver_check.certs.x509util import (
    ExtensionError,
    is_self_issued,
    oid_name,
    read_extension,
    subject_text,
)
from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status


def _reissue_hint(host: str) -> str:
    ip_note = ""
    if parse_ip(host) is not None:
        # KB 2980627: an IP address as the IP-HTTPS public name gives 0x4BE on the clients.
        ip_note = " Better: publish IP-HTTPS under a DNS name (an IP address gives 0x4BE)."
    return (
        f"Issue a certificate whose Subject is CN={host}, add {host} to the SAN, "
        f"and {BIND_HINT}.{ip_note}"
    )


def _extension_problem(
    ctx: Context,
    finding_id: FindingId,
    what: str,
    exc: ExtensionError,
    extra: dict[str, object] | None = None,
) -> Finding:
    """Duplicate extensions break RFC 5280 §4.2 for sure (fail); a parse failure of ours is
    "could not decide" (error)."""
    status = Status.FAIL if exc.duplicate else Status.ERROR
    evidence: dict[str, object] = {"subject": subject_text(ctx.leaf), "error": str(exc)}
    evidence.update(extra or {})
    return ctx.finding(
        finding_id,
        status,
        f"The certificate's extensions cannot be read (needed for the {what})",
        f"{subject_text(ctx.leaf)}: {exc}",
        predicts=(NO_USABLE_CERT,) if exc.duplicate else (),
        remediation=_reissue_hint(ctx.host) if exc.duplicate else "",
        evidence=evidence,
    )


def _name_notes(names: list[str] | tuple[str, ...], host: str) -> tuple[str, dict[str, object]]:
    """Sentences on certificate names that cannot name `host` for reasons a reader cannot see
    (escaped code points, a trailing dot), and the evidence for them."""
    notes = [n for n in (name_problem(name, host, windows=True) for name in names) if n]
    flagged = {escape_name(name): flagged_characters(name) for name in names
               if flagged_characters(name)}
    evidence: dict[str, object] = {"unusable_characters": flagged} if flagged else {}
    text = "".join(f" {note[0].upper()}{note[1:]}." for note in notes)
    return text, evidence


def _undecodable_subject(ctx: Context, finding_id: FindingId, exc: Exception) -> Finding:
    return ctx.finding(
        finding_id,
        Status.ERROR,
        "The Subject cannot be decoded",
        f"{type(exc).__name__}: {exc}",
        evidence={"host": ctx.host, "error": str(exc)},
    )


def check_subject_name(ctx: Context) -> Finding:
    """cert.subject-name: DirectAccess finds its certificate by the Subject CN; a name only in
    the SAN does not work (docs/windows-facts.md §3, KB 2980635 → 0x103)."""
    host, leaf = ctx.host, ctx.leaf
    subject = subject_text(leaf)
    try:
        cns = common_names(leaf)
    except ValueError as exc:
        return _undecodable_subject(ctx, FindingId.CERT_SUBJECT_NAME, exc)
    evidence: dict[str, object] = {"subject": subject, "host": host, "common_names": cns}
    if not cns:
        detail = f"Subject: {subject}; URL host {host}. DirectAccess matches the host against the"
        detail += " Subject CN; a name present only in the SAN does not work."
        if len(leaf.subject) == 0:
            detail += (
                " Set-RemoteAccess refuses a certificate with an empty Subject"
                " (\"The parameter is incorrect\")."
            )
        return ctx.finding(
            FindingId.CERT_SUBJECT_NAME,
            Status.FAIL,
            "Subject has no CN",
            detail,
            predicts=(NO_USABLE_CERT,),
            remediation=_reissue_hint(host),
            evidence=evidence,
        )
    # The Windows rule: DirectAccess clients match the CN through CryptoAPI (names.py).
    matched = next((cn for cn in cns if hostname_matches(cn, host, windows=True)), None)
    if matched is None:
        listed = ", ".join(f"CN={escape_name(cn)}" for cn in cns)
        notes, extra = _name_notes(cns, host)
        evidence.update(extra)
        return ctx.finding(
            FindingId.CERT_SUBJECT_NAME,
            Status.FAIL,
            "Subject CN does not match the IP-HTTPS host",
            f"{listed}; URL host {host}.{notes}",
            predicts=(NO_USABLE_CERT,),
            remediation=_reissue_hint(host),
            evidence=evidence,
        )
    evidence["matched"] = matched
    how = " (wildcard)" if matched.startswith("*") else ""
    return ctx.finding(
        FindingId.CERT_SUBJECT_NAME,
        Status.PASS,
        f"Subject CN {matched} matches the IP-HTTPS host",
        f"CN={matched} names {host}{how}",
        evidence=evidence,
    )


def _cn_problems(cn: str) -> list[str]:
    problems: list[str] = []
    if not cn:
        return [f"CN {cn!r} is empty"]
    rest = cn
    if "://" in cn:
        problems.append(f"CN {cn!r} contains a URL scheme")
        rest = cn.split("://", 1)[1]
    if "/" in rest:
        problems.append(f"CN {cn!r} contains a path")
    if ":" in rest and parse_ip(rest) is None:  # an IPv6 literal has colons but no port
        problems.append(f"CN {cn!r} contains a port")
    if any(char.isspace() for char in cn):
        problems.append(f"CN '{escape_name(cn)}' contains whitespace")
    flagged = flagged_characters(cn)
    if flagged:
        problems.append(f"CN '{escape_name(cn)}' contains {', '.join(flagged)} (non-ASCII,"
                        " invisible or control characters)")
    return problems


def check_subject_extra(ctx: Context) -> Finding:
    """cert.subject-extra: KB 2980635 lists "the Subject has additional unwanted information" as
    a cause of 0x103; several CNs, or a CN written as a URL, are the usual forms of it."""
    try:
        cns = common_names(ctx.leaf)
    except ValueError as exc:
        return _undecodable_subject(ctx, FindingId.CERT_SUBJECT_EXTRA, exc)
    subject = subject_text(ctx.leaf)
    evidence: dict[str, object] = {"subject": subject, "common_names": cns}
    if not cns:
        return ctx.finding(
            FindingId.CERT_SUBJECT_EXTRA,
            Status.SKIP,
            "skipped: the Subject has no CN (cert.subject-name reports it)",
            evidence=evidence,
        )
    problems: list[str] = []
    if len(cns) > 1:
        problems.append(f"{len(cns)} CNs: " + ", ".join(repr(cn) for cn in cns))
    for cn in cns:
        problems.extend(_cn_problems(cn))
    evidence["problems"] = problems
    if problems:
        return ctx.finding(
            FindingId.CERT_SUBJECT_EXTRA,
            Status.FAIL,
            "Subject carries unwanted data",
            f"{escape_name(subject)}: " + "; ".join(problems),
            predicts=(NO_USABLE_CERT,),
            remediation=(
                f"Re-issue the certificate with exactly one CN, the bare host name {ctx.host}"
                f" (no https://, path, port or spaces), and {BIND_HINT}."
            ),
            evidence=evidence,
        )
    return ctx.finding(
        FindingId.CERT_SUBJECT_EXTRA,
        Status.PASS,
        "Subject CN is a bare host name",
        subject,
        evidence=evidence,
    )


def check_san(ctx: Context) -> Finding:
    """cert.san: DirectAccess needs the host in the SAN when the extension exists (KB 2980635:
    "the Subject is right but the SAN values are wrong"); both name verdicts go in evidence."""
    host, leaf = ctx.host, ctx.leaf
    evidence: dict[str, object] = {
        "host": host,
        "directaccess_verdict": directaccess_name_verdict(leaf, host).as_evidence(),
        "rfc6125_verdict": rfc6125_name_verdict(leaf, host).as_evidence(),
    }
    try:
        san = san_names(leaf)
    except ExtensionError as exc:
        return _extension_problem(ctx, FindingId.CERT_SAN, "SAN check", exc, evidence)
    evidence["present"] = san is not None
    if san is None:
        return ctx.finding(
            FindingId.CERT_SAN,
            Status.WARN,
            "Certificate has no SAN extension",
            "DirectAccess accepts it (it uses the Subject), but RFC 6125 clients/tools will not:"
            " browsers, curl and monitoring probes report a name mismatch.",
            remediation=f"At the next renewal add {host} to the SAN (and keep it as the CN).",
            evidence=evidence,
        )
    evidence["dns_names"] = list(san.dns_names)
    evidence["ip_addresses"] = [str(ip) for ip in san.ip_addresses]
    evidence["other_entries"] = san.other_count
    matched = san.match(host, windows=True)
    if matched is None:
        names = ", ".join([*(escape_name(d) for d in san.dns_names),
                           *(str(ip) for ip in san.ip_addresses)]) or "(none)"
        kind = "iPAddress" if parse_ip(host) is not None else "DNS name"
        notes, extra = _name_notes(san.dns_names, host)
        evidence.update(extra)
        return ctx.finding(
            FindingId.CERT_SAN,
            Status.FAIL,
            "SAN does not contain the IP-HTTPS host",
            f"SAN: {names}; URL host {host} (no {kind} entry names it). With a SAN extension"
            f" present DirectAccess requires the host in it.{notes}",
            predicts=(NO_USABLE_CERT,),
            remediation=_reissue_hint(host),
            evidence=evidence,
        )
    evidence["matched"] = matched
    return ctx.finding(
        FindingId.CERT_SAN,
        Status.PASS,
        "SAN contains the IP-HTTPS host",
        f"SAN entry {matched} names {host}",
        evidence=evidence,
    )


def _eku_restrictions(ctx: Context) -> list[str]:
    """Served intermediates whose own EKU leaves out Server Authentication. Windows intersects
    the usages along the chain (inference from CryptoAPI's chain EKU behaviour), so such an
    issuer would make the leaf's Server Authentication EKU ineffective."""
    notes: list[str] = []
    for cert in ctx.chain[1:]:
        if is_self_issued(cert):  # a served root (name test only: cheap on hostile chains)
            continue
        try:
            eku = read_extension(cert, x509.ExtendedKeyUsage)
        except ExtensionError:
            continue
        if eku is None:
            continue
        allowed = {ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE}
        if not allowed.intersection(eku):
            notes.append(subject_text(cert))
    return notes


def check_eku(ctx: Context) -> Finding:
    """cert.eku: Server Authentication (1.3.6.1.5.5.7.3.1) is required (docs/windows-facts.md §3)."""
    leaf = ctx.leaf
    try:
        eku = read_extension(leaf, x509.ExtendedKeyUsage)
    except ExtensionError as exc:
        return _extension_problem(ctx, FindingId.CERT_EKU, "EKU check", exc)
    remediation = (
        "Issue the certificate from a template with the Server Authentication EKU"
        f" (e.g. the Web Server template), and {BIND_HINT}."
    )
    if eku is None:
        return ctx.finding(
            FindingId.CERT_EKU,
            Status.WARN,
            "Certificate has no Extended Key Usage extension",
            "Without the extension the key is valid for any purpose (RFC 5280 §4.2.1.12), so"
            " clients accept it; Microsoft's IP-HTTPS requirements ask for Server"
            " Authentication (1.3.6.1.5.5.7.3.1) explicitly.",
            remediation=remediation,
            evidence={"present": False},
        )
    usages = [oid_name(oid) for oid in eku]
    restricted = _eku_restrictions(ctx)
    evidence: dict[str, object] = {
        "present": True,
        "usages": usages,
        "restricting_issuers": restricted,
    }
    if ExtendedKeyUsageOID.SERVER_AUTH not in eku and (
        ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE not in eku
    ):
        return ctx.finding(
            FindingId.CERT_EKU,
            Status.FAIL,
            "EKU lacks Server Authentication",
            "EKU: " + (", ".join(usages) or "(empty)"),
            predicts=(NO_USABLE_CERT,),
            remediation=remediation,
            evidence=evidence,
        )
    if restricted:
        return ctx.finding(
            FindingId.CERT_EKU,
            Status.WARN,
            "An issuing CA's EKU leaves out Server Authentication",
            "The leaf allows Server Authentication, but the EKU of "
            + ", ".join(restricted)
            + " does not; Windows restricts a certificate to the usages its issuers allow"
            " (inference from CryptoAPI's chain EKU rules).",
            predicts=(NO_USABLE_CERT,),
            remediation="Use an issuing CA whose certificate allows Server Authentication.",
            evidence=evidence,
        )
    if ExtendedKeyUsageOID.SERVER_AUTH in eku:
        return ctx.finding(
            FindingId.CERT_EKU,
            Status.PASS,
            "Certificate is valid for Server Authentication",
            "EKU: " + ", ".join(usages),
            evidence=evidence,
        )
    return ctx.finding(
        FindingId.CERT_EKU,
        Status.PASS,
        "Certificate allows any usage (anyExtendedKeyUsage)",
        "anyExtendedKeyUsage (2.5.29.37.0) covers Server Authentication (RFC 5280 §4.2.1.12);"
        " an explicit Server Authentication EKU is the usual, clearer form.",
        evidence=evidence,
    )
