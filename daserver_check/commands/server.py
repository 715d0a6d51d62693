"""`daserver-check server PATH...`: inspect a DirectAccess server from what it can export.

PATH is a bundle folder written by `daserver-check collect-script`, or single files: .reg
exports, SYSTEM/SOFTWARE hive files, netsh output, Get-NetIPHttps* JSON — each recognised by
content. `--live` reads the same facts on the server itself (Windows only).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from daserver_check.errors import InputError
from daserver_check.model import Report, TargetReport
from daserver_check.server.facts import Facts

if TYPE_CHECKING:
    from daserver_check.server.checks import Options

HELP = "check a DirectAccess server's HTTP.sys, IPv6 and IP-HTTPS policy setup from its exports"
DESCRIPTION = """\
Read a bundle folder made by `daserver-check collect-script` (or single files: .reg exports,
offline SYSTEM/SOFTWARE hives, `netsh http show urlacl|sslcert`, `netsh interface httpstunnel
show interfaces`, Get-NetIPHttpsState/Configuration JSON; recognised by content, not by name)
and check what makes IP-HTTPS fail on the server: conflicting or corrupt URL reservations
(0x643/0x34), the SSL binding of the IP-HTTPS port (0x103), DisabledComponents, stale policy
keys, cached client proxies. Every failure names the key or value to back up and remove, and
the service to restart.

examples:
  daserver-check server ./collected-da1/
  daserver-check server system.hive software.hive --cert iphttps.cer
  daserver-check server --live                       (on the DirectAccess server; Windows only)"""


def configure(parser: argparse.ArgumentParser) -> None:
    from daserver_check.output import add_output_options

    parser.add_argument("paths", nargs="*", metavar="PATH",
                        help="bundle folder or artifact files")
    parser.add_argument("--cert", metavar="FILE",
                        help="the intended IP-HTTPS certificate (PEM or DER): the 0.0.0.0:443 "
                        "binding must serve it (compared by SHA-1 thumbprint)")
    parser.add_argument("--url", metavar="URL",
                        help="the IP-HTTPS URL, when the bundle has no interface output (sets "
                        "the port and name the binding checks use); without --cert, the "
                        "certificate served there is what the binding must hold")
    parser.add_argument("--connect", metavar="HOST[:PORT]",
                        help="with --url: fetch the served certificate from this address "
                        "(one node of a cluster) instead of the URL's resolved addresses")
    parser.add_argument("--resolver", action="append", metavar="IP[:PORT]",
                        help="with --url: resolve the URL's host with this DNS server")
    parser.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                        help="deadline for fetching the served certificate (default 10)")
    parser.add_argument("--live", action="store_true",
                        help="read the running system (Windows only, run as administrator)")
    add_output_options(parser)


def _thumbprint(path: str) -> str:
    """SHA-1 thumbprint of a PEM or DER certificate, as HTTP.sys stores SslCertHash."""
    from daserver_check.files import FileReadError, read_bounded

    try:
        data = read_bounded(path, limit=1024 * 1024)
    except FileReadError as exc:
        raise InputError(f"--cert {path}: {exc}") from None
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes

    try:
        cert = (x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data
                else x509.load_der_x509_certificate(data))
    except (ValueError, x509.InvalidVersion):
        raise InputError(f"--cert {path}: not a PEM or DER certificate (for a PFX, export the "
                         "certificate: openssl pkcs12 -in f.pfx -nokeys -clcerts)") from None
    return cert.fingerprint(hashes.SHA1()).hex()


def run(args: argparse.Namespace) -> Report | int:
    from daserver_check.server.checks import Options, run_checks

    if args.live:
        if args.paths:
            raise InputError("give PATH... or --live, not both")
        facts = _live()
        target = "live"
    else:
        if not args.paths:
            raise InputError("give a bundle folder or artifact files (or --live on the server)")
        from daserver_check.server.artifacts import load

        facts = load(list(args.paths))
        target = " ".join(args.paths)
    if args.url:
        if not args.url.lower().startswith("https://"):
            raise InputError(f"--url {args.url}: an IP-HTTPS URL starts with https://")
        facts.server_urls.append(args.url)
    opts = Options()
    if args.connect and not args.url:
        raise InputError("--connect applies to --url only")
    if args.cert:
        opts = Options(cert_thumbprint=_thumbprint(args.cert), cert_label=f"--cert {args.cert}")
    elif args.url:
        opts = _served_options(args.url, args.connect, args.resolver or [], args.timeout)
    return Report("server", (TargetReport(target, tuple(run_checks(facts, opts))),))


def _served_options(
    url: str, connect_spec: str | None, resolvers: list[str], timeout: float
) -> Options:
    """The certificate served at --url now: the 0.0.0.0:443 binding should hold exactly it."""
    from cryptography.hazmat.primitives import hashes

    from daserver_check.commands.probe import parse_connect
    from daserver_check.commands.served import ServedChainError, fetch_served_chain
    from daserver_check.server.checks import Options
    from daserver_check.target import TargetError, parse_iphttps_url

    if not 0 < timeout <= 300:
        raise InputError(f"--timeout {timeout:g}: must be more than 0 and at most 300 seconds")
    try:
        target = parse_iphttps_url(url)
    except TargetError as exc:
        raise InputError(f"--url {url}: {exc}") from None
    connect = parse_connect(connect_spec) if connect_spec else None
    from daserver_check.probe.dns import ResolverSpecError, parse_resolver

    for spec in resolvers:
        try:
            parse_resolver(spec)
        except ResolverSpecError as exc:
            raise InputError(f"--resolver {spec}: {exc}") from None
    try:
        served = fetch_served_chain(target, connect=connect, resolvers=resolvers, timeout=timeout)
    except ServedChainError as exc:
        raise InputError(f"--url {url}: cannot fetch the served certificate: {exc} "
                         "(give the certificate with --cert instead)") from None
    thumbprint = served.chain[0].fingerprint(hashes.SHA1()).hex()
    return Options(cert_thumbprint=thumbprint,
                   cert_label=f"the certificate served at {url} ({served.served_from})")


def _live() -> Facts:  # pragma: no cover - Windows only
    if sys.platform != "win32":
        raise InputError(
            "--live reads the registry and netsh of the DirectAccess server itself and runs only "
            "on Windows; elsewhere run `daserver-check collect-script` on the server and pass "
            "the bundle folder it writes"
        )
    import subprocess

    from daserver_check.protocol.netsh import parse_httpstunnel, parse_sslcert
    from daserver_check.server.extract import (
        add_netsh_httpstunnel,
        add_netsh_sslcert,
        add_registry,
    )
    from daserver_check.server.registry import LiveView

    facts = Facts()
    # The registry holds the URL reservations with their raw descriptors, and the bindings.
    add_registry(facts, LiveView())
    facts.sources.append(("live registry", "registry"))

    def netsh(*argv: str) -> bytes | None:
        try:
            result = subprocess.run(["netsh", *argv], capture_output=True, timeout=30, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            facts.problems.append(("netsh " + " ".join(argv), str(exc)))
            return None
        facts.sources.append(("netsh " + " ".join(argv), "netsh"))
        return result.stdout

    if facts.bindings is None and (out := netsh("http", "show", "sslcert")) is not None:
        add_netsh_sslcert(facts, parse_sslcert(out), "netsh http show sslcert")
    if (out := netsh("interface", "httpstunnel", "show", "interfaces")) is not None:
        add_netsh_httpstunnel(facts, parse_httpstunnel(out), "netsh interface httpstunnel")
    return facts
