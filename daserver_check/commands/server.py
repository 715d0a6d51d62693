"""`daserver-check server PATH...`: inspect a DirectAccess server from what it can export.

PATH is a bundle folder written by `daserver-check collect-script`, or single files: .reg
exports, SYSTEM/SOFTWARE hive files, netsh output, Get-NetIPHttps* JSON — each recognised by
content. `--live` reads the same facts on the server itself (Windows only).
"""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from daserver_check.commands.probe import checked_resolvers, parse_connect
from daserver_check.errors import InputError
from daserver_check.model import Report
from daserver_check.server.facts import Facts

if TYPE_CHECKING:
    pass

HELP = "check a DirectAccess server's HTTP.sys, IPv6 and IP-HTTPS policy setup from its exports"
DESCRIPTION = """\
Read a bundle folder made by `daserver-check collect-script` (or single files: .reg exports,
offline SYSTEM/SOFTWARE hives, `netsh http show urlacl|sslcert`, `netsh interface httpstunnel
show interfaces`, Get-NetIPHttpsState/Configuration JSON, Get-RemoteAccessHealth,
Get-RemoteAccess, NRPT, Get-TlsCipherSuite and Get-NetAdapter JSON; recognised by content, not
by name) and check what makes IP-HTTPS fail on the server: conflicting or corrupt URL
reservations (0x643/0x34), the SSL binding of the IP-HTTPS port (0x103), DisabledComponents,
stale policy keys, Remote Access health, the IP-HTTPS name inside the NRPT, Schannel/FIPS
policy against the profile's clients (--profile), and on a `collect-script --client` bundle
ghost adapters and system proxies. Every failure names the key or value to back up and remove,
and the service to restart.

examples:
  daserver-check server ./collected-da1/
  daserver-check server system.hive software.hive --cert iphttps.cer
  daserver-check server ./collected-da1/ --profile windows7
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
    parser.add_argument("--profile", metavar="NAME|FILE",
                        help="built-in profile name (default, lab, windows7) or a TOML file; "
                        "its deployment.client_os decides which clients server.tls.schannel "
                        "judges (default: the default profile)")
    parser.add_argument("--live", action="store_true",
                        help="read the running system (Windows only, run as administrator)")
    add_output_options(parser)


def run(args: argparse.Namespace) -> Report | int:
    from daserver_check.pipeline.bundle import BundleOptions, inspect_bundle, inspect_facts

    if args.connect and not args.url:
        raise InputError("--connect applies to --url only")
    if args.url and not 0 < args.timeout <= 300:
        raise InputError(f"--timeout {args.timeout:g}: must be more than 0 and at most 300 seconds")
    from daserver_check.profile import ProfileError, load_profile

    try:
        profile = load_profile(args.profile)
    except ProfileError as exc:
        raise InputError(str(exc)) from None
    options = BundleOptions(
        client_os=profile.deployment.client_os,
        url=args.url,
        cert_file=args.cert,
        connect=parse_connect(args.connect) if args.connect else None,
        resolvers=checked_resolvers(args.resolver or []),
        timeout=args.timeout,
    )
    if args.live:
        if args.paths:
            raise InputError("give PATH... or --live, not both")
        target = inspect_facts(_live(), "live", options)
    else:
        if not args.paths:
            raise InputError("give a bundle folder or artifact files (or --live on the server)")
        target = inspect_bundle(list(args.paths), options)
    return Report("server", (target,))



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
