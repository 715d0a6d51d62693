"""`daserver-check cert FILE`: validate a new IP-HTTPS certificate before it goes live.

Orchestration only: the file is read by `certs.load`, judged by the probe's own analysis
(`certs.analysis.analyse_chain`, once per --url for the name checks), then by
`certs.private_key`, `certs.crl` and, with --against, compared with the certificate served now
(fetched with the probe's TLS stage: `probe.tcp.connect` + `probe.tls.handshake`) by
`certs.replacement`. A `cert.rollout` pass finding carries the thumbprints and the install
commands, which the text report shows when nothing failed.

Secrets: the PFX password comes from --password-env, --password-file or a prompt on a
terminal, never from argv (DESIGN.md CLI contract); neither it nor the key reaches a finding.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from typing import TYPE_CHECKING

from daserver_check.errors import InputError
from daserver_check.model import Finding, Report, Status, TargetReport

if TYPE_CHECKING:
    from collections.abc import Callable
    from datetime import datetime

    from cryptography import x509

    from daserver_check.certs.analysis import CertPolicy
    from daserver_check.certs.load import CertBundle
    from daserver_check.certs.trust import TrustStore
    from daserver_check.profile import Profile
    from daserver_check.target import IphttpsUrl

HELP = "validate a new IP-HTTPS certificate file (PFX, PEM, DER, P7B) before rollout"
DESCRIPTION = """\
Check a certificate file before it becomes the IP-HTTPS certificate: the same certificate checks
as the probe (Subject, SAN and both name verdicts for every --url, EKU, validity, chain and
trust, key, signature), plus the private key (present and matching), the CRL (fetched over HTTP
unless --offline: reachable, current, signed by the issuer, certificate not revoked) and, with
--against, a comparison with the certificate served now. When nothing fails, the text report
ends with the SHA-1 thumbprint and the commands that install the certificate.

The PFX password is read from --password-env VAR, --password-file FILE, or asked for when
standard input is a terminal; never give it on the command line.

examples:
  daserver-check cert new.pfx --url https://da.contoso.com/IPHTTPS --password-env PFX_PASSWORD
  daserver-check cert new.pfx --url https://da1.contoso.com/IPHTTPS --url https://da2.contoso.com/IPHTTPS
  daserver-check cert new.cer --chain issuing-ca.cer --against https://da.contoso.com/IPHTTPS
"""

NAME_IDS = ("cert.subject-name", "cert.subject-extra", "cert.san")
IPHTTPS_APPID = "{5d8e2743-ef20-4d38-8751-7e400f200e65}"
MAX_PASSWORD_FILE = 64 * 1024
DEFAULT_TIMEOUT = 10.0


def configure(parser: argparse.ArgumentParser) -> None:
    from daserver_check.output import add_output_options

    parser.add_argument("file", metavar="FILE",
                        help="the new certificate: .pfx/.p12, PEM (.pem/.crt/.cer), DER (.cer)"
                        " or PKCS#7 (.p7b)")
    parser.add_argument("--url", action="append", metavar="URL",
                        help="IP-HTTPS URL the certificate must serve, e.g. "
                        "https://da.contoso.com/IPHTTPS (repeat for each entry point)")
    parser.add_argument("--chain", metavar="FILE",
                        help="intermediate CA certificate(s) to add to the chain")
    parser.add_argument("--ca-file", metavar="PEM",
                        help="trust these CA certificates instead of the system store")
    password = parser.add_mutually_exclusive_group()
    password.add_argument("--password-env", metavar="VAR",
                          help="read the PFX password from environment variable VAR")
    password.add_argument("--password-file", metavar="FILE",
                          help="read the PFX password from FILE (first line)")
    parser.add_argument("--against", metavar="URL",
                        help="compare with the certificate this IP-HTTPS URL serves now")
    parser.add_argument("--connect", metavar="HOST[:PORT]",
                        help="with --against: connect to this address instead of resolving"
                        " the URL's host (SNI and names keep the URL's host)")
    parser.add_argument("--resolver", action="append", metavar="IP[:PORT]",
                        help="DNS server for --against and CRL host names (default: system)")
    parser.add_argument("--profile", metavar="NAME|FILE",
                        help="the deployment's profile: expiry thresholds, trust store, client "
                        "OS (without Windows 7 clients an unreachable CRL is a warning: "
                        "Windows 8+ skip the IP-HTTPS CRL check, KB 2980672), check_crl")
    parser.add_argument("--offline", action="store_true",
                        help="do not fetch CRLs (only check that distribution points exist)")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help=f"deadline for the CRL fetches and for --against, each"
                        f" (default {DEFAULT_TIMEOUT:g})")
    add_output_options(parser)


def run(args: argparse.Namespace) -> Report:
    from datetime import UTC, datetime

    from daserver_check.certs.analysis import CertPolicy
    from daserver_check.certs.load import choose_leaf
    from daserver_check.certs.private_key import check_private_key

    timeout = DEFAULT_TIMEOUT if args.timeout is None else args.timeout
    if not 0 < timeout <= 300:
        raise InputError(f"--timeout {timeout:g}: must be more than 0 and at most 300 seconds")
    if args.connect and not args.against:
        raise InputError("--connect applies to --against only")
    urls = [_parse_url(url, "--url") for url in (args.url or [])]
    against = _parse_url(args.against, "--against") if args.against else None
    if not urls and against is not None:
        urls = [against]  # the URL compared against is the one the certificate must serve
    profile = _profile(args.profile)
    resolvers = _resolvers(args.resolver or list(profile.dns.resolvers if profile else ()))
    trust = _trust(args.ca_file or _profile_ca_file(profile))
    policy = CertPolicy(profile.cert.warn_days, profile.cert.crit_days) if profile else CertPolicy()
    offline = args.offline or (profile is not None and not profile.cert.check_crl)

    password = _password(args)
    bundle, password = _load(args.file, password, args.file)
    extra: tuple[x509.Certificate, ...] = ()
    if args.chain:
        extra = _load(args.chain, password, f"--chain {args.chain}")[0].certificates
    choice = choose_leaf(bundle, extra)
    now = datetime.now(UTC)

    findings = _analysis(choice.chain, urls, trust, now, policy)
    findings.append(check_private_key(choice.leaf, bundle.keys, kind=bundle.kind))
    crl = _crl(choice.chain, trust, now, offline, timeout, resolvers)
    findings.append(crl if profile is None else _crl_for_clients(crl, profile))
    if against is not None:
        findings.append(_replacement(choice.chain, against, args.connect, resolvers, timeout,
                                     trust))
    findings.append(rollout_finding(choice.leaf, bundle, args.file, choice.reason))
    return Report(command="cert", targets=(TargetReport(args.file, tuple(findings)),))


# ---------------------------------------------------------------- inputs


def _parse_url(url: str, option: str) -> IphttpsUrl:
    from daserver_check.target import TargetError, parse_iphttps_url

    try:
        return parse_iphttps_url(url)
    except TargetError as exc:
        raise InputError(f"{option} {url!r}: {exc}") from None


def _resolvers(specs: list[str]) -> tuple[str, ...]:
    from daserver_check.probe.dns import ResolverSpecError, parse_resolver

    for spec in specs:
        try:
            parse_resolver(spec)
        except ResolverSpecError as exc:
            raise InputError(f"--resolver {spec}: {exc}") from None
    return tuple(specs)


def _profile(spec: str | None) -> Profile | None:
    """Only an explicit --profile changes verdicts: without one, the strictest reading holds."""
    if spec is None:
        return None
    from daserver_check.profile import ProfileError, load_profile

    try:
        return load_profile(spec)
    except ProfileError as exc:
        raise InputError(str(exc)) from None


def _profile_ca_file(profile: Profile | None) -> str | None:
    if profile is None or not profile.cert.ca_file:
        return None
    from daserver_check.profile import resolve_relative

    return resolve_relative(profile, profile.cert.ca_file)


def _crl_for_clients(finding: Finding, profile: Profile) -> Finding:
    """Windows 7 clients enforce CRL checking for IP-HTTPS; Windows 8 and later turn it off
    (KB 2980672). Without Windows 7 clients in the profile, an unreachable CRL is a warning:
    still worth fixing, but no client fails on it. A revoked certificate stays a failure."""
    offline_code = 0x80092013
    if profile.deployment.has_windows7 or finding.status is not Status.FAIL:
        return finding
    if finding.predicts != (offline_code,):
        return finding
    return dataclasses.replace(
        finding,
        status=Status.WARN,
        detail=f"{finding.detail} (warning only: the profile {profile.source} has no Windows 7 "
        "clients, and Windows 8 and later do not check the IP-HTTPS CRL, KB 2980672)",
    )


def _trust(ca_file: str | None) -> TrustStore:
    from daserver_check.certs.trust import TrustStoreError, load_trust_store

    try:
        return load_trust_store(ca_file)
    except TrustStoreError as exc:
        raise InputError(str(exc)) from None


def _decode_secret_file(data: bytes) -> bytes:
    """The first line of a password file. Windows PowerShell 5.1's Out-File writes UTF-16LE
    with a BOM, so UTF-16 is decoded to UTF-8; a UTF-8 BOM is dropped."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise InputError("--password-file: not readable UTF-16 text") from None
    data = data.removeprefix(b"\xef\xbb\xbf")
    return data.split(b"\n", 1)[0].removesuffix(b"\r")


def _password_from_env(name: str) -> bytes:
    """The variable's bytes as the environment holds them: a password in a legacy code page
    (not UTF-8) is passed on unchanged, and no part of it is ever shown."""
    environb = getattr(os, "environb", None)  # POSIX; Windows keeps the environment as text
    if environb is not None:
        raw: bytes | None = environb.get(os.fsencode(name))
        if raw is None:
            raise InputError(f"--password-env {name}: the variable is not set")
        return raw
    value = os.environ.get(name)
    if value is None:
        raise InputError(f"--password-env {name}: the variable is not set")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"--password-env {name}: the value is not valid Unicode") from None


def _password(args: argparse.Namespace) -> bytes | None:
    if args.password_env:
        return _password_from_env(args.password_env)
    if args.password_file:
        from daserver_check.files import FileReadError, read_bounded

        path = args.password_file
        try:
            data = read_bounded(path, limit=MAX_PASSWORD_FILE)
        except FileReadError as exc:
            suffix = ", not a password file" if str(exc).startswith("larger") else ""
            raise InputError(f"--password-file {path}: {exc}{suffix}") from None
        return _decode_secret_file(data)
    return None


def _stdin_is_tty() -> bool:
    try:
        return sys.stdin is not None and sys.stdin.isatty()
    except (AttributeError, ValueError):
        return False


def _prompt(label: str) -> bytes:
    import getpass

    try:
        return getpass.getpass(f"Password for {label}: ").encode("utf-8")
    except EOFError:
        raise InputError(f"{label}: no password entered") from None


def _load(path: str, password: bytes | None, label: str) -> tuple[CertBundle, bytes | None]:
    """The bundle in `path`, and the password that opened it (reused for --chain)."""
    from daserver_check.certs.load import CertLoadError, PasswordRequired, load_file

    try:
        return load_file(path, password=password, label=label), password
    except PasswordRequired as exc:
        if password is not None or not _stdin_is_tty():
            raise InputError(
                f"{exc}: give it with --password-env VAR or --password-file FILE"
                " (no prompt: standard input is not a terminal)"
            ) from None
    except CertLoadError as exc:
        raise InputError(str(exc)) from None
    password = _prompt(label)  # only on a terminal, and only when the file needs it
    try:
        return load_file(path, password=password, label=label), password
    except CertLoadError as exc:
        raise InputError(str(exc)) from None


# ---------------------------------------------------------------- checks


def _with_url(finding: Finding, url: str) -> Finding:
    import dataclasses

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
    from daserver_check.checks.common import skipped

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


def _issuer(chain: tuple[x509.Certificate, ...], trust: TrustStore) -> x509.Certificate | None:
    """The certificate whose key signed the leaf: from the path the analysis builds (file,
    --chain, then the trust store); the leaf itself when it is self-signed."""
    from daserver_check.certs.chain import build_path
    from daserver_check.certs.x509util import is_self_signed

    if is_self_signed(chain[0]):
        return chain[0]
    try:
        path = build_path(chain, trust.roots)
    except Exception:
        return None
    return path.steps[1].cert if len(path.steps) > 1 else None


def _resolve_function(resolvers: tuple[str, ...]) -> Callable[[str, float], tuple[str, ...]]:
    from daserver_check.probe.deadline import Deadline
    from daserver_check.probe.dns import resolve_host

    def resolve(host: str, seconds: float) -> tuple[str, ...]:
        return resolve_host(host, resolvers, Deadline(seconds)).addresses

    return resolve


def _crl(
    chain: tuple[x509.Certificate, ...],
    trust: TrustStore,
    now: datetime,
    offline: bool,
    timeout: float,
    resolvers: tuple[str, ...],
) -> Finding:
    from daserver_check.certs.crl import check_crl

    return check_crl(chain[0], _issuer(chain, trust), offline=offline, now=now,
                     timeout=timeout, resolve=_resolve_function(resolvers))


def _replacement(
    chain: tuple[x509.Certificate, ...],
    against: IphttpsUrl,
    connect_spec: str | None,
    resolvers: tuple[str, ...],
    timeout: float,
    trust: TrustStore,
) -> Finding:
    """Fetch the chain served at `against` with the probe's TLS stage, then compare."""
    from daserver_check.certs.replacement import compare, comparison_error
    from daserver_check.commands.probe import parse_connect
    from daserver_check.commands.served import ServedChainError, fetch_served_chain

    connect = parse_connect(connect_spec) if connect_spec else None
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
            f" appid={IPHTTPS_APPID} dsmapperusage=enable",
        },
        {
            "purpose": "check that the binding shows the new thumbprint",
            "command": "netsh http show sslcert ipport=0.0.0.0:443",
        },
    ])
    return Finding(
        id="cert.rollout",
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
