"""`daserver-check cert FILE`: validate a new IP-HTTPS certificate before it goes live.

Argument glue only: the options are read here (profile, trust store, password source) and the
work is `pipeline.cert_file.check_certificate_file`, which `checklist` calls too.

Secrets: the PFX password comes from --password-env, --password-file or a prompt on a
terminal, never from argv; neither it nor the key reaches a finding.
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from daserver_check.commands.probe import checked_resolvers, parse_connect
from daserver_check.errors import InputError
from daserver_check.model import Report

if TYPE_CHECKING:


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

DEFAULT_TIMEOUT = 10.0  # the same as pipeline.cert_file.DEFAULT_TIMEOUT (a light import here)


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
                        help="the deployment's profile (default: the built-in `default`, as for "
                        "probe): expiry thresholds, trust store, client "
                        "OS (without Windows 7 clients an unreachable CRL is a warning: "
                        "Windows 8/8.1 skip the IP-HTTPS CRL check unless StrongCRLRequired is set, KB "
                        "2980672; 10 and 11 inferred alike), check_crl")
    parser.add_argument("--offline", action="store_true",
                        help="do not fetch CRLs (only check that distribution points exist)")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help=f"deadline for the CRL fetches and for --against, each"
                        f" (default {DEFAULT_TIMEOUT:g})")
    add_output_options(parser)


def run(args: argparse.Namespace) -> Report:
    from daserver_check.certs.analysis import CertPolicy
    from daserver_check.pipeline.cert_file import CertFileOptions, check_certificate_file

    timeout = DEFAULT_TIMEOUT if args.timeout is None else args.timeout
    if not 0 < timeout <= 300:
        raise InputError(f"--timeout {timeout:g}: must be more than 0 and at most 300 seconds")
    if args.connect and not args.against:
        raise InputError("--connect applies to --against only")
    urls = tuple(_parse_url(url, "--url") for url in (args.url or []))
    against = _parse_url(args.against, "--against") if args.against else None
    profile = _profile(args.profile)
    options = CertFileOptions(
        trust=_trust(args.ca_file or _profile_ca_file(profile)),
        urls=urls,
        chain_file=args.chain,
        profile=profile,
        policy=CertPolicy(profile.cert.warn_days, profile.cert.crit_days) if profile
        else CertPolicy(),
        offline=args.offline or (profile is not None and not profile.cert.check_crl),
        timeout=timeout,
        resolvers=checked_resolvers(args.resolver or list(profile.dns.resolvers if profile else ())),
        against=against,
        connect=parse_connect(args.connect) if args.connect else None,
        password=_password(args),
        prompt=_prompt if _stdin_is_tty() else None,
    )
    return Report(command="cert", targets=(check_certificate_file(args.file, options),))


# ---------------------------------------------------------------- inputs


def _parse_url(url: str, option: str) -> IphttpsUrl:
    from daserver_check.target import TargetError, parse_iphttps_url

    try:
        return parse_iphttps_url(url)
    except TargetError as exc:
        raise InputError(f"{option} {url!r}: {exc}") from None



def _profile(spec: str | None) -> Profile:
    """No --profile means the `default` profile, as for `probe`: the same file gives the same
    verdicts with and without `--profile default`."""
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


def _trust(ca_file: str | None) -> TrustStore:
    from daserver_check.certs.trust import TrustStoreError, load_trust_store

    try:
        return load_trust_store(ca_file)
    except TrustStoreError as exc:
        raise InputError(str(exc)) from None


def _password(args: argparse.Namespace) -> bytes | None:
    from daserver_check.passwords import password_from_env, password_from_file

    if args.password_env:
        return password_from_env(args.password_env)
    if args.password_file:
        return password_from_file(args.password_file)
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


# ---------------------------------------------------------------- checks


