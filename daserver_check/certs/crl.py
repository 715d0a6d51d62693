"""cert.crl: can a client on the Internet check that the IP-HTTPS certificate is not revoked?

A DirectAccess client checks the IP-HTTPS certificate against the CRL named in its CRL
Distribution Points (CDP) extension. When no CRL can be fetched, or the one fetched is expired
or does not verify, the client reports 0x80092013 CRYPT_E_REVOCATION_OFFLINE (KB 2980672); a
certificate listed in the CRL gives 0x80092010 CRYPT_E_REVOKED (winerror.h). Windows 7 enforces
the check; Windows 8/8.1 turn it off for IP-HTTPS (KB 2980672, docs/windows-facts.md §3) — the finding
judges the certificate for the strictest client.

Each CDP URL is fetched concurrently under one deadline (`crl_fetch.http_get`), parsed (DER or
PEM), its signature verified with the issuer's key (RFC 5280 §6.3.3 (f)), its issuer name and
thisUpdate/nextUpdate checked (§6.3.3 (a), (g)), and the certificate's serial looked up. CryptoAPI
tries the URLs in order and one good CRL suffices, so the verdict is the best URL's, with a
warning when others fail (each failing URL costs clients a retrieval timeout, 15 s by default:
Group Policy "Certificate Path Validation Settings", Network Retrieval).

One certificate against its issuer's CRLs (base and delta); the whole chain is `crl_chain`.
Over 400 lines because fetching, judging and the verdict of one CRL check read as one story.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cryptography import x509

from daserver_check.certs.crl_fetch import MAX_CRL_BYTES, HttpResult, Resolve, http_get
from daserver_check.certs.x509util import (
    ExtensionError,
    is_self_signed,
    iso_utc,
    name_text,
    read_extension,
    subject_text,
)
from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status

REVOCATION_OFFLINE = 0x80092013  # CRYPT_E_REVOCATION_OFFLINE (KB 2980672)
REVOKED = 0x80092010  # CRYPT_E_REVOKED
NO_REVOCATION_CHECK = 0x80092012  # CRYPT_E_NO_REVOCATION_CHECK (winerror.h); inferred for no CDP
MAX_URLS = 8  # a CDP names one to three URLs in practice; more is not fetched

_FIX_REACH = (
    "Publish the CRL at an http:// URL that resolves and answers from the Internet (not only"
    " ldap:// or an internal name), make sure the CA publishes a fresh CRL before nextUpdate,"
    " and issue the IP-HTTPS certificate with that URL in its CRL Distribution Points."
)


class CrlState(enum.StrEnum):
    OK = "ok"
    REVOKED = "revoked"
    UNREACHABLE = "unreachable"  # no HTTP 200 with a body before the deadline
    UNPARSABLE = "unparsable"
    WRONG_ISSUER = "wrong-issuer"
    BAD_SIGNATURE = "bad-signature"
    EXPIRED = "expired"  # nextUpdate passed
    NOT_YET_VALID = "not-yet-valid"  # thisUpdate in the future
    UNVERIFIED = "unverified"  # current and not listing the serial, but no issuer key to verify
    NOT_FETCHED = "not-fetched"  # ldap://, https://, file:// …: not what an Internet client uses
    OFFLINE = "offline"  # --offline


_BAD = {
    CrlState.UNREACHABLE,
    CrlState.UNPARSABLE,
    CrlState.WRONG_ISSUER,
    CrlState.BAD_SIGNATURE,
    CrlState.EXPIRED,
    CrlState.NOT_YET_VALID,
}


@dataclass(frozen=True)
class CrlOutcome:
    url: str
    state: CrlState
    detail: str
    facts: dict[str, object]

    def as_evidence(self) -> dict[str, object]:
        return {"url": self.url, "state": self.state.value, "detail": self.detail, **self.facts}


def distribution_urls(cert: x509.Certificate) -> list[str] | None:
    """Every URI of the CDP extension in order, None when the extension is absent.
    Raises ExtensionError when it cannot be read."""
    cdp = read_extension(cert, x509.CRLDistributionPoints)
    if cdp is None:
        return None
    urls: list[str] = []
    for point in cdp:
        for name in point.full_name or ():
            if isinstance(name, x509.UniformResourceIdentifier) and name.value not in urls:
                urls.append(name.value)
    return urls


def _delta_urls(crl: x509.CertificateRevocationList) -> list[str]:
    """The Freshest CRL (delta CRL) locations a base CRL names (RFC 5280 §5.2.6)."""
    try:
        freshest = crl.extensions.get_extension_for_class(x509.FreshestCRL).value
    except x509.ExtensionNotFound:
        return []
    urls: list[str] = []
    for point in freshest:
        for name in point.full_name or ():
            if isinstance(name, x509.UniformResourceIdentifier) and name.value not in urls:
                urls.append(name.value)
    return urls[:MAX_URLS]


def _is_http(url: str) -> bool:
    return url[:7].lower() == "http://"


def load_crl(body: bytes) -> x509.CertificateRevocationList:
    """DER (RFC 5280 §4.2.1.13: what CDPs serve) or PEM. Raises ValueError."""
    if b"-----BEGIN X509 CRL-----" in body[:4096]:
        return x509.load_pem_x509_crl(body)
    return x509.load_der_x509_crl(body)


def judge_crl(
    url: str,
    body: bytes,
    *,
    cert: x509.Certificate,
    issuer: x509.Certificate | None,
    now: datetime,
) -> CrlOutcome:
    """What a fetched CRL says about `cert`. Never raises."""
    facts: dict[str, object] = {"bytes": len(body)}
    try:
        crl = load_crl(body)
    except Exception as exc:
        return CrlOutcome(url, CrlState.UNPARSABLE,
                          f"not a CRL (neither DER nor PEM): {type(exc).__name__}", facts)
    try:
        facts["issuer"] = name_text(crl.issuer)
        this_update = crl.last_update_utc
        next_update = crl.next_update_utc
        facts["this_update"] = iso_utc(this_update)
        if next_update is not None:
            facts["next_update"] = iso_utc(next_update)
        facts["entries"] = len(crl)
        deltas = _delta_urls(crl)
        if deltas:
            facts["delta_urls"] = deltas
        if crl.issuer != cert.issuer:
            return CrlOutcome(
                url, CrlState.WRONG_ISSUER,
                f"the CRL is issued by {name_text(crl.issuer)}, not by the certificate's"
                f" issuer {name_text(cert.issuer)}", facts,
            )
        if issuer is not None:
            if not crl.is_signature_valid(issuer.public_key()):  # type: ignore[arg-type]
                return CrlOutcome(
                    url, CrlState.BAD_SIGNATURE,
                    f"the CRL's signature does not verify with the key of"
                    f" {subject_text(issuer)}", facts,
                )
            facts["signature"] = "verified"
        else:
            facts["signature"] = "not verified (issuer certificate not available)"
        revoked = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
        if revoked is not None:
            facts["revocation_date"] = iso_utc(revoked.revocation_date_utc)
            return CrlOutcome(
                url, CrlState.REVOKED,
                f"serial {cert.serial_number:X} is listed as revoked since"
                f" {iso_utc(revoked.revocation_date_utc)}", facts,
            )
        if this_update > now:
            return CrlOutcome(url, CrlState.NOT_YET_VALID,
                              f"the CRL is not valid before {iso_utc(this_update)}", facts)
        if next_update is not None and next_update < now:
            return CrlOutcome(url, CrlState.EXPIRED,
                              f"the CRL expired at {iso_utc(next_update)} (nextUpdate)", facts)
        until = f"valid until {iso_utc(next_update)}" if next_update else "no nextUpdate"
        if issuer is None:
            return CrlOutcome(
                url, CrlState.UNVERIFIED,
                f"current CRL ({until}) without the serial, but its signature could not be"
                " verified: the issuing CA certificate is not in the file, --chain or the"
                " trust store", facts,
            )
        return CrlOutcome(url, CrlState.OK,
                          f"current CRL ({until}), {len(crl)} entries, serial not listed", facts)
    except Exception as exc:  # odd algorithms or encodings: a CRL the client cannot use either
        return CrlOutcome(url, CrlState.UNPARSABLE,
                          f"the CRL cannot be checked: {type(exc).__name__}: {exc}", facts)


def _outcome_for_fetch(
    fetched: HttpResult, cert: x509.Certificate, issuer: x509.Certificate | None, now: datetime
) -> CrlOutcome:
    if not fetched.ok:
        facts: dict[str, object] = {"elapsed_ms": fetched.elapsed_ms}
        if fetched.status:
            facts["http_status"] = fetched.status
        if fetched.redirects:
            facts["redirects"] = list(fetched.redirects)
        return CrlOutcome(fetched.url, CrlState.UNREACHABLE, fetched.detail, facts)
    outcome = judge_crl(fetched.url, fetched.body, cert=cert, issuer=issuer, now=now)
    outcome.facts["elapsed_ms"] = fetched.elapsed_ms
    if fetched.redirects:
        outcome.facts["redirects"] = list(fetched.redirects)
    return outcome


def fetch_and_judge(
    urls: Sequence[str],
    *,
    cert: x509.Certificate,
    issuer: x509.Certificate | None,
    now: datetime,
    timeout: float,
    resolve: Resolve,
) -> list[CrlOutcome]:
    """Fetch every http:// URL concurrently under one `timeout`; other schemes are noted."""
    results: list[CrlOutcome | None] = [None] * len(urls)

    def run(index: int, url: str) -> None:
        try:
            fetched = http_get(url, timeout=timeout, resolve=resolve, max_bytes=MAX_CRL_BYTES)
            results[index] = _outcome_for_fetch(fetched, cert, issuer, now)
        except Exception as exc:  # a bug must read as "could not fetch", not end the report
            results[index] = CrlOutcome(url, CrlState.UNREACHABLE,
                                        f"fetch failed: {type(exc).__name__}: {exc}", {})

    threads: list[threading.Thread] = []
    for index, url in enumerate(urls):
        if not _is_http(url):
            scheme = url.split(":", 1)[0] if ":" in url else "no"
            results[index] = CrlOutcome(
                url, CrlState.NOT_FETCHED,
                f"{scheme} URL: clients on the Internet fetch CRLs over http://", {},
            )
            continue
        thread = threading.Thread(target=run, args=(index, url), name="crl-fetch", daemon=True)
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(timeout + 2.0)  # http_get keeps its own deadline; this is a safety net
    return [
        result or CrlOutcome(urls[i], CrlState.UNREACHABLE, "no result before the deadline", {})
        for i, result in enumerate(results)
    ]


def crl_finding(status: Status, title: str, detail: str, evidence: dict[str, object], *,
             predicts: tuple[int, ...] = (), remediation: str = "") -> Finding:
    return Finding(id=FindingId.CERT_CRL, status=status, title=title, detail=detail, predicts=predicts,
                   remediation=remediation, evidence=evidence)


def check_crl(
    cert: x509.Certificate,
    issuer: x509.Certificate | None,
    *,
    offline: bool,
    now: datetime,
    timeout: float,
    resolve: Resolve,
) -> Finding:
    """cert.crl for `cert`, whose issuing CA certificate is `issuer` (None when unknown)."""
    evidence: dict[str, object] = {"serial": f"{cert.serial_number:X}", "offline": offline}
    try:
        urls = distribution_urls(cert)
    except ExtensionError as exc:
        evidence["error"] = str(exc)
        return crl_finding(Status.FAIL if exc.duplicate else Status.ERROR,
                        "The CRL Distribution Points extension cannot be read", str(exc),
                        evidence, predicts=(REVOCATION_OFFLINE,) if exc.duplicate else ())
    evidence["distribution_points"] = list(urls or [])
    if not urls:
        if is_self_signed(cert):
            return crl_finding(
                Status.SKIP,
                "skipped: a self-signed certificate has no CRL",
                "skipped: a self-signed certificate has no issuer to revoke it. Windows 7"
                " clients enforce CRL checking for IP-HTTPS (KB 2980672) and need a"
                " CA-issued certificate with a reachable CDP.",
                evidence,
            )
        what = (
            "no CRL Distribution Points extension"
            if urls is None
            else "a CRL Distribution Points extension without a URL"
        )
        return crl_finding(
            Status.FAIL,
            "The certificate names no CRL distribution point",
            f"{subject_text(cert)} has {what}: clients that check revocation (Windows 7)"
            " cannot. Which code they report is not documented for IP-HTTPS; CryptoAPI's"
            " \"no revocation check\" code is 0x80092012 CRYPT_E_NO_REVOCATION_CHECK (inferred).",
            evidence,
            predicts=(NO_REVOCATION_CHECK,),
            remediation=_FIX_REACH,
        )
    http_urls = [u for u in urls if _is_http(u)]
    if not http_urls:
        return crl_finding(
            Status.FAIL,
            "No CRL distribution point is reachable over http://",
            "CDP URLs: " + ", ".join(urls) + ". Clients on the Internet cannot use ldap://"
            " (or other non-HTTP) locations.",
            evidence,
            predicts=(REVOCATION_OFFLINE,),
            remediation=_FIX_REACH,
        )
    if offline:
        evidence["crls"] = [
            {"url": u, "state": CrlState.OFFLINE.value if _is_http(u) else "not-fetched"}
            for u in urls[:MAX_URLS]
        ]
        return crl_finding(
            Status.PASS,
            "CRL distribution point present (not fetched: --offline)",
            "http:// CDP: " + ", ".join(http_urls) + ". Run without --offline to fetch and"
            " check the CRL.",
            evidence,
        )
    started = time.monotonic()
    outcomes = fetch_and_judge(urls[:MAX_URLS], cert=cert, issuer=issuer, now=now,
                               timeout=timeout, resolve=resolve)
    evidence["crls"] = [o.as_evidence() for o in outcomes]
    evidence["timeout_seconds"] = timeout
    # A base CRL that names a delta CRL is current only with it (RFC 5280 §5.2.6; KB 2980672
    # describes delta CRLs in the IP-HTTPS check): the client fetches the delta too, and an
    # unpublished delta fails the check like an unreachable base.
    delta_urls: list[str] = []
    for o in outcomes:
        named = o.facts.get("delta_urls")
        if o.state is CrlState.OK and isinstance(named, list):
            delta_urls += [u for u in named if isinstance(u, str) and u not in delta_urls]
    if delta_urls:
        left = max(0.1, timeout - (time.monotonic() - started))
        deltas = fetch_and_judge(delta_urls, cert=cert, issuer=issuer, now=now, timeout=left,
                                 resolve=resolve)
        evidence["delta_crls"] = [d.as_evidence() for d in deltas]
        revoked = [d for d in deltas if d.state is CrlState.REVOKED]
        if revoked:
            outcomes = [*outcomes, *revoked]
        elif not any(d.state is CrlState.OK for d in deltas):
            outcomes = [_as_delta_failure(o, deltas) if o.state is CrlState.OK else o
                        for o in outcomes]
    return _verdict(cert, outcomes, evidence)


def _as_delta_failure(base: CrlOutcome, deltas: Sequence[CrlOutcome]) -> CrlOutcome:
    why = "; ".join(f"{d.url}: {d.detail}" for d in deltas)
    return CrlOutcome(base.url, CrlState.UNREACHABLE,
                      f"the base CRL is current but its delta CRL is not usable ({why})",
                      base.facts)


def _verdict(
    cert: x509.Certificate, outcomes: Sequence[CrlOutcome], evidence: dict[str, object]
) -> Finding:
    lines = "; ".join(f"{o.url}: {o.detail}" for o in outcomes)
    revoked = [o for o in outcomes if o.state is CrlState.REVOKED]
    if revoked:
        return crl_finding(
            Status.FAIL,
            "The certificate is revoked",
            f"{subject_text(cert)}: {revoked[0].detail} ({revoked[0].url}).",
            evidence,
            predicts=(REVOKED,),
            remediation="Do not roll out a revoked certificate: request a new one from the CA.",
        )
    fetched = [o for o in outcomes if o.state is not CrlState.NOT_FETCHED]
    good = [o for o in fetched if o.state is CrlState.OK]
    unverified = [o for o in fetched if o.state is CrlState.UNVERIFIED]
    bad = [o for o in fetched if o.state in _BAD]
    if good and not bad and not unverified:
        return crl_finding(Status.PASS, "CRL reachable, current, and the certificate is not revoked",
                        lines, evidence)
    if good:
        return crl_finding(
            Status.WARN,
            "A CRL distribution point fails, another one works",
            f"{lines}. Clients try the URLs in order; each failing one costs them a retrieval"
            " timeout.",
            evidence,
            remediation="Fix or remove the failing CDP URL in the certificates the CA issues.",
        )
    if unverified:
        return crl_finding(
            Status.WARN,
            "CRL fetched, but its signature could not be verified",
            lines,
            evidence,
            remediation="Give the issuing CA certificate with --chain (or --ca-file) so the"
            " CRL's signature can be checked.",
        )
    return crl_finding(
        Status.FAIL,
        "No usable CRL: clients cannot check revocation",
        lines,
        evidence,
        predicts=(REVOCATION_OFFLINE,),
        remediation=_FIX_REACH,
    )

