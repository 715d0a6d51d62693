"""`daserver-check probe URL...`: the external probe, end to end.

URL -> target -> dns -> per address: tcp -> tls (encrypted + null-only, concurrently)
-> cert analysis of the served chain -> iphttps POST. Each URL runs under one deadline.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from daserver_check.errors import InputError
from daserver_check.model import Report, TargetReport

if TYPE_CHECKING:
    from daserver_check.certs.trust import TrustStore
    from daserver_check.pipeline.settings import ProbeSettings

HELP = "probe an IP-HTTPS URL the way a DirectAccess client would"
DESCRIPTION = """\
Resolve the URL's host, connect to every address, do the TLS handshakes of a Windows 7 client
(encrypted suites) and of a Windows 8+ client (null-encryption suites), check the served
certificate against the URL, and send the IP-HTTPS POST. Every failing check names the client
error code it explains (0x103, 0x2AFC, 0x2AF9, 0x274C ...) and the fix.

examples:
  daserver-check probe https://da.contoso.com/IPHTTPS
  daserver-check probe https://da.contoso.com/IPHTTPS --connect 203.0.113.10   (one entry point)
  daserver-check probe https://da.contoso.com/IPHTTPS --resolver 1.1.1.1 --format json
  daserver-check probe https://da.contoso.com/IPHTTPS --router-discovery   (RS -> RA, /64?)
  daserver-check probe https://da.contoso.com/IPHTTPS --proxy http://proxy.corp:8080
"""


def configure(parser: argparse.ArgumentParser) -> None:
    from daserver_check.output import add_output_options

    parser.add_argument("urls", nargs="*", metavar="URL",
                        help="IP-HTTPS URL(s), e.g. https://da.contoso.com/IPHTTPS "
                        "(default: the profile's deployment.urls)")
    parser.add_argument("--profile", metavar="NAME|FILE",
                        help="built-in profile name (default, lab, windows7) or a TOML file")
    parser.add_argument("--resolver", action="append", metavar="IP[:PORT]",
                        help="ask this DNS server instead of the system resolver (repeatable; "
                        "several resolvers are compared)")
    parser.add_argument("--connect", metavar="HOST[:PORT]",
                        help="connect to this IP address (and port) instead of the resolved "
                        "ones; SNI, Host and name checks keep the URL's host (like curl "
                        "--connect-to). Without --resolver, DNS is not queried")
    parser.add_argument("--ca-file", metavar="PEM",
                        help="trust these CA certificates instead of the system store")
    parser.add_argument("--timeout", type=float, metavar="SECONDS",
                        help="deadline for the whole probe of one URL (default: profile, 10)")
    parser.add_argument("--offline", action="store_true",
                        help="do not fetch the served chain's CRLs (cert.crl is skipped); "
                        "the profile's cert.check_crl = false does the same")
    parser.add_argument("--ciphers", action="store_true",
                        help="also map every protocol version x cipher suite the server accepts "
                        "(tls.ciphers; about 160 short handshakes per address, within --timeout)")
    parser.add_argument("--router-discovery", action="store_true",
                        help="after the 200, send one ICMPv6 Router Solicitation on the tunnel "
                        "and check the Router Advertisement for a /64 prefix (iphttps.prefix); "
                        "forwards nothing, closes after the RA (default: profile "
                        "iphttps.router_discovery)")
    parser.add_argument("--proxy", metavar="http://HOST:PORT",
                        help="reach the server through this HTTP proxy with CONNECT, as a "
                        "Windows client behind it would (proxy.connect: refused, 407, TLS "
                        "interception); without --connect the proxy resolves the URL's host")
    add_output_options(parser)


def run(args: argparse.Namespace) -> Report:
    settings = settings_from_args(args)
    urls = list(args.urls) or list(settings.profile.deployment.urls)
    if not urls:
        raise InputError("no URL given (and the profile lists none in deployment.urls)")
    _reject_if_all_invalid(urls)
    return Report(command="probe", targets=tuple(probe_all(urls, settings)))


def probe_all(urls: list[str], settings: ProbeSettings) -> list[TargetReport]:
    """Probe URLs concurrently (bounded by probe.concurrency), reports in the given order.

    Even one URL runs in a worker: this thread only waits, so Ctrl-C reaches it at once. On
    an interrupt the probes not yet started are cancelled and the running ones are not joined
    (each waits on its own network deadline, up to --timeout); the CLI then ends the process.
    A `with ThreadPoolExecutor` block would join them on the way out.
    """
    from concurrent.futures import ThreadPoolExecutor

    from daserver_check.pipeline.engine import probe_url

    workers = max(1, min(len(urls), settings.profile.probe.concurrency))
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="probe",
                              initializer=signals_to_main_thread)
    try:
        futures = [pool.submit(probe_url, url, settings) for url in urls]
        return [future.result() for future in futures]
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=False)


def signals_to_main_thread() -> None:
    """Block SIGINT in a worker thread (and so in every thread it starts: they inherit it).

    The kernel hands a process-directed signal to any thread that does not block it. Python
    runs the handler in the main thread only, but a main thread asleep in a lock wait (waiting
    for a future) is woken only if the signal is delivered to that thread itself; delivered to
    a worker, Ctrl-C would go unnoticed until the next result arrived (up to --timeout).
    """
    import signal

    if hasattr(signal, "pthread_sigmask"):  # POSIX; on Windows Ctrl-C reaches the main thread
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def _reject_if_all_invalid(urls: list[str]) -> None:
    """A single bad URL is a usage error (one line, exit 3); among good ones it is a finding."""
    from daserver_check.target import TargetError, parse_iphttps_url

    errors: list[str] = []
    for url in urls:
        try:
            parse_iphttps_url(url)
        except TargetError as exc:
            errors.append(f"{url!r}: {exc}")
    if len(errors) == len(urls):
        raise InputError("bad URL " + "; ".join(errors))


def settings_from_args(args: argparse.Namespace) -> ProbeSettings:
    from daserver_check.certs.trust import TrustStoreError, load_trust_store
    from daserver_check.pipeline.settings import ProbeSettings
    from daserver_check.profile import ProfileError, load_profile

    try:
        profile = load_profile(args.profile)
    except ProfileError as exc:
        raise InputError(str(exc)) from None
    proxy = None
    proxy_url = args.proxy or profile.proxy.url
    if proxy_url:
        from daserver_check.probe.proxy import ProxySpecError, parse_proxy_url

        try:
            proxy = parse_proxy_url(proxy_url)
        except ProxySpecError as exc:
            # The value is not echoed: it may carry a password.
            where = "--proxy" if args.proxy else "profile proxy.url"
            raise InputError(f"{where}: {exc}") from None
    timeout = args.timeout if args.timeout is not None else profile.probe.timeout
    if not 0 < timeout <= 300:
        raise InputError(f"--timeout {timeout:g}: must be more than 0 and at most 300 seconds")
    resolvers = checked_resolvers(list(args.resolver or profile.dns.resolvers))
    connect = parse_connect(args.connect) if args.connect else None
    ca_file = args.ca_file or profile.cert.ca_file or None
    try:
        trust: TrustStore = load_trust_store(ca_file)
    except TrustStoreError as exc:
        raise InputError(str(exc)) from None
    return ProbeSettings(
        profile=profile,
        timeout=timeout,
        resolvers=resolvers,
        connect=connect,
        trust=trust,
        router_discovery=bool(args.router_discovery),
        ciphers=bool(getattr(args, "ciphers", False)),
        offline=bool(getattr(args, "offline", False)),
        proxy=proxy,
    )


def checked_resolvers(specs: list[str]) -> tuple[str, ...]:
    """`--resolver` values (or the profile's dns.resolvers), each an IP[:PORT]; InputError
    names the first bad one. The DNS stage's module is imported only when there is one."""
    if not specs:
        return ()
    from daserver_check.probe.dns import ResolverSpecError, parse_resolver

    for spec in specs:
        try:
            parse_resolver(spec)
        except ResolverSpecError as exc:
            raise InputError(f"--resolver {spec}: {exc}") from None
    return tuple(specs)


def parse_connect(spec: str) -> tuple[str, int | None]:
    """`IP`, `IP:PORT`, `[v6]`, `[v6]:PORT` or a bare IPv6 address."""
    from daserver_check.hostport import HostPortError, parse_ip_port

    try:
        return parse_ip_port(spec)
    except HostPortError as exc:
        raise InputError(f"--connect {spec}: {exc} (give the entry point's IP address)") from None
