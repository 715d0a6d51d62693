"""A server bundle judged: `inspect_bundle` (files) and `inspect_facts` (already read).

Used by the `server` command and by `checklist`. The bundle's files are read by
`server.artifacts`, checked by `server.checks`; the certificate the SSL binding must hold comes
from `cert_file` (a PEM/DER file) or from what `url` serves now (fetched with the probe's TLS
stage). Unreadable input raises `InputError`; everything learned is a finding.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from daserver_check.errors import DaserverCheckError, InputError
from daserver_check.model import TargetReport
from daserver_check.server.facts import Facts

if TYPE_CHECKING:
    from daserver_check.server.checks import Options

MAX_CERT_FILE = 1024 * 1024


@dataclass(frozen=True)
class BundleOptions:
    url: str | None = None  # the IP-HTTPS URL, when the bundle has no interface output
    cert_file: str | None = None  # the certificate the binding must hold (PEM or DER)
    connect: tuple[str, int | None] | None = None  # fetch the served certificate from here
    resolvers: tuple[str, ...] = ()
    timeout: float = 10.0
    # The profile's deployment.client_os: which clients server.tls.schannel judges for.
    client_os: tuple[str, ...] = ("windows10", "windows11")


def strong_crl_required(paths: Sequence[str]) -> bool:
    """Whether a bundle's Get-NetIPHttpsConfiguration sets StrongCRLRequired (unreadable
    bundles say no: their own job reports why)."""
    from daserver_check.server.artifacts import load

    for path in paths:
        try:
            if load([path]).strong_crl_required:
                return True
        except DaserverCheckError:
            continue
    return False


def inspect_bundle(paths: Sequence[str], options: BundleOptions) -> TargetReport:
    from daserver_check.server.artifacts import load

    return inspect_facts(load(list(paths)), " ".join(paths), options)


def inspect_facts(facts: Facts, target: str, options: BundleOptions) -> TargetReport:
    from daserver_check.server.checks import Options, run_checks

    if options.url:
        if not options.url.lower().startswith("https://"):
            raise InputError(f"--url {options.url}: an IP-HTTPS URL starts with https://")
        facts.server_urls.append(options.url)
    opts = Options()
    if options.cert_file:
        opts = Options(cert_thumbprint=_thumbprint(options.cert_file),
                       cert_label=f"--cert {options.cert_file}")
    elif options.url:
        opts = _served_options(options.url, options)
    opts = dataclasses.replace(opts, client_os=options.client_os)
    return TargetReport(target, tuple(run_checks(facts, opts)))


def _thumbprint(path: str) -> str:
    """SHA-1 thumbprint of a PEM or DER certificate, as HTTP.sys stores SslCertHash."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    from daserver_check.files import FileReadError, read_bounded

    try:
        data = read_bounded(path, limit=MAX_CERT_FILE)
    except FileReadError as exc:
        raise InputError(f"--cert {path}: {exc}") from None
    try:
        cert = (x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data
                else x509.load_der_x509_certificate(data))
    except (ValueError, x509.InvalidVersion):
        raise InputError(f"--cert {path}: not a PEM or DER certificate (for a PFX, export the "
                         "certificate: openssl pkcs12 -in f.pfx -nokeys -clcerts)") from None
    return cert.fingerprint(hashes.SHA1()).hex()


def _served_options(url: str, options: BundleOptions) -> Options:
    """The certificate served at `url` now: the 0.0.0.0:443 binding should hold exactly it."""
    from cryptography.hazmat.primitives import hashes

    from daserver_check.pipeline.served import ServedChainError, fetch_served_chain
    from daserver_check.server.checks import Options
    from daserver_check.target import TargetError, parse_iphttps_url

    try:
        target = parse_iphttps_url(url)
    except TargetError as exc:
        raise InputError(f"--url {url}: {exc}") from None
    try:
        served = fetch_served_chain(target, connect=options.connect,
                                    resolvers=list(options.resolvers), timeout=options.timeout)
    except ServedChainError as exc:
        raise InputError(f"--url {url}: cannot fetch the served certificate: {exc} "
                         "(give the certificate with --cert instead)") from None
    thumbprint = served.chain[0].fingerprint(hashes.SHA1()).hex()
    return Options(cert_thumbprint=thumbprint,
                   cert_label=f"the certificate served at {url} ({served.served_from})")
