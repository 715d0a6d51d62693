"""A certificate file judged as the IP-HTTPS certificate: `check_certificate_file`.

The file is read by `certs.load`, judged by the probe's own analysis (`certs.analysis`, the name
checks once per URL), then by `certs.private_key`, `certs.crl` and, with `against`, compared with
the certificate served now (fetched with the probe's TLS stage) by `certs.replacement`. A
`cert.rollout` pass finding carries the thumbprints and the install commands.

Used by the `cert` command and by `checklist`. Unreadable input raises `InputError`; everything
learned about the certificate is a finding.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from daserver_check.certs.analysis import CertPolicy
from daserver_check.checks.common import skipped
from daserver_check.errors import InputError
from daserver_check.findings import NAME_IDS, FindingId
from daserver_check.model import Finding, Status, TargetReport
from daserver_check.pipeline.crl_check import chain_crl_finding
from daserver_check.server.paths import IPHTTPS_APP_ID

if TYPE_CHECKING:
    from cryptography import x509

    from daserver_check.certs.load import CertBundle
    from daserver_check.certs.trust import TrustStore
    from daserver_check.profile import Profile
    from daserver_check.target import IphttpsUrl

DEFAULT_TIMEOUT = 10.0
NO_PASSWORD_HINT = (
    "give it with --password-env VAR or --password-file FILE"
    " (no prompt: standard input is not a terminal)"
)

# Asks for the password of a file (the label names it); only where a person can answer.
Prompt = Callable[[str], bytes]


@dataclass(frozen=True)
class CertFileOptions:
    trust: TrustStore
    urls: tuple[IphttpsUrl, ...] = ()
    chain_file: str | None = None
    profile: Profile | None = None
    policy: CertPolicy = field(default_factory=CertPolicy)
    offline: bool = False
    timeout: float = DEFAULT_TIMEOUT
    resolvers: tuple[str, ...] = ()
    against: IphttpsUrl | None = None
    connect: tuple[str, int | None] | None = None
    password: bytes | None = field(default=None, repr=False)
    prompt: Prompt | None = None  # None: never prompt (checklist workers, no terminal)
    no_password_hint: str = NO_PASSWORD_HINT  # what to set when a PFX needs a password
    password_error: str = ""  # the password source failed: every file reports it (checklist)
    strong_crl_required: bool = False  # a collected server setting: every client checks CRLs


def check_certificate_file(path: str, options: CertFileOptions) -> TargetReport:
    """Every cert.* finding for the file at `path`; raises InputError when it cannot be read."""
    from daserver_check.certs.leaf import choose_leaf
    from daserver_check.certs.private_key import check_private_key

    if options.password_error:
        raise InputError(options.password_error)
    urls = list(options.urls)
    if not urls and options.against is not None:
        urls = [options.against]  # the URL compared against is the one the certificate must serve
    bundle, password = _load(path, options.password, path, options.prompt,
                             options.no_password_hint)
    extra: tuple[x509.Certificate, ...] = ()
    if options.chain_file:
        extra = _load(options.chain_file, password, f"--chain {options.chain_file}",
                      options.prompt, options.no_password_hint)[0].certificates
    choice = choose_leaf(bundle, extra)
    now = datetime.now(UTC)

    findings = _analysis(choice.chain, urls, options.trust, now, options.policy)
    findings.append(check_private_key(choice.leaf, bundle.keys, kind=bundle.kind))
    findings.append(chain_crl_finding(choice.chain, options.trust, offline=options.offline,
                                      now=now, timeout=options.timeout,
                                      resolvers=options.resolvers, profile=options.profile,
                                      strong_crl_required=options.strong_crl_required))
    if options.against is not None:
        findings.append(_replacement(choice.chain, options.against, options.connect,
                                     options.resolvers, options.timeout, options.trust))
    findings.append(rollout_finding(choice.leaf, bundle, path, choice.reason))
    return TargetReport(path, tuple(findings))


def _load(
    path: str, password: bytes | None, label: str, prompt: Prompt | None,
    hint: str = NO_PASSWORD_HINT,
) -> tuple[CertBundle, bytes | None]:
    """The bundle in `path`, and the password that opened it (reused for --chain)."""
    from daserver_check.certs.load import CertLoadError, PasswordRequired, load_file

    try:
        return load_file(path, password=password, label=label), password
    except PasswordRequired as exc:
        if password is not None or prompt is None:
            raise InputError(f"{exc}: {hint}") from None
    except CertLoadError as exc:
        raise InputError(str(exc)) from None
    password = prompt(label)  # only when the caller can ask, and only when the file needs it
    try:
        return load_file(path, password=password, label=label), password
    except CertLoadError as exc:
        raise InputError(str(exc)) from None


def _with_url(finding: Finding, url: str) -> Finding:
    return dataclasses.replace(
        finding,
        detail=f"{url}: {finding.detail}" if finding.detail else url,
        evidence={**finding.evidence, "url": url},
    )


def _analysis(
    chain: tuple[x509.Certificate, ...],
    urls: list[IphttpsUrl],
    trust: TrustStore,
    now: datetime,
    policy: CertPolicy,
) -> list[Finding]:
    """The probe's cert.* findings: the name checks once per URL (multisite deployments have
    one URL per entry point), the others once."""
    from daserver_check.certs.analysis import analyse_chain

    if not urls:
        rest = [f for f in analyse_chain(chain, "", trust=trust, now=now, policy=policy)
                if f.id not in NAME_IDS]
        return [*skipped(NAME_IDS, "no --url given (the name checks need the IP-HTTPS URL)",
                         None), *rest]
    names: list[Finding] = []
    others: list[Finding] = []
    for index, target in enumerate(urls):
        for finding in analyse_chain(chain, target.host, trust=trust, now=now, policy=policy):
            if finding.id in NAME_IDS:
                names.append(_with_url(finding, target.url))
            elif index == 0:
                others.append(finding)
    return [*names, *others]


def _replacement(
    chain: tuple[x509.Certificate, ...],
    against: IphttpsUrl,
    connect: tuple[str, int | None] | None,
    resolvers: tuple[str, ...],
    timeout: float,
    trust: TrustStore,
) -> Finding:
    """Fetch the chain served at `against` with the probe's TLS stage, then compare."""
    from daserver_check.certs.replacement import compare, comparison_error
    from daserver_check.pipeline.served import ServedChainError, fetch_served_chain

    try:
        served = fetch_served_chain(against, connect=connect, resolvers=resolvers, timeout=timeout)
    except ServedChainError as exc:
        return comparison_error(against.url, str(exc))
    return compare(chain, served.chain, url=against.url, host=against.host,
                   served_from=served.served_from, trust=trust)


def rollout_finding(
    leaf: x509.Certificate, bundle: CertBundle, path: str, leaf_reason: str
) -> Finding:
    """cert.rollout: thumbprints and the install commands (text shows them unless failed)."""
    from cryptography.hazmat.primitives import hashes

    from daserver_check.certs.x509util import iso_utc, sha1_thumbprint, subject_text

    sha1 = sha1_thumbprint(leaf)
    sha256 = leaf.fingerprint(hashes.SHA256()).hex().upper()
    name = os.path.basename(path) or path
    steps: list[dict[str, str]] = []
    if bundle.is_pkcs12:
        steps.append({
            "purpose": "import the PFX into the computer's Personal store (prompts for the"
            " password)",
            "command": f"Import-PfxCertificate -FilePath .\\{name} -CertStoreLocation"
            " Cert:\\LocalMachine\\My -Password (Read-Host -AsSecureString -Prompt 'PFX"
            " password')",
        })
    elif bundle.keys:
        steps.append({
            "purpose": "Windows imports a certificate with its key from a PFX: convert the"
            " PEM first, then import new.pfx with Import-PfxCertificate",
            "command": f"openssl pkcs12 -export -in {name} -out new.pfx",
        })
    else:
        steps.append({
            "purpose": "on the DirectAccess server where the request was made: pair the"
            " certificate with its private key",
            "command": f"certreq -accept {name}",
        })
    steps.extend([
        {
            "purpose": "make it the IP-HTTPS certificate (on one DirectAccess server; the"
            " others of a cluster follow)",
            "command": f"Set-RemoteAccess -SslCertificate (Get-ChildItem"
            f" Cert:\\LocalMachine\\My\\{sha1})",
        },
        {
            "purpose": "only if the HTTP.sys binding must be set by hand (remove the old"
            " one first: netsh http delete sslcert ipport=0.0.0.0:443)",
            "command": f"netsh http add sslcert ipport=0.0.0.0:443 certhash={sha1}"
            f" appid=\"{IPHTTPS_APP_ID}\" dsmapperusage=enable",
        },
        {
            "purpose": "check that the binding shows the new thumbprint",
            "command": "netsh http show sslcert ipport=0.0.0.0:443",
        },
    ])
    return Finding(
        id=FindingId.CERT_ROLLOUT,
        status=Status.PASS,
        title=f"Rollout: thumbprint {sha1}",
        detail=f"{subject_text(leaf)}: SHA-1 {sha1}, SHA-256 {sha256} ({leaf_reason}).",
        evidence={
            "sha1": sha1,
            "sha256": sha256,
            "subject": subject_text(leaf),
            "not_after": iso_utc(leaf.not_valid_after_utc),
            "file_format": bundle.kind,
            "leaf_choice": leaf_reason,
            "steps": steps,
        },
    )
