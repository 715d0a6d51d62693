"""`daserver-check trace URL`: where do TCP SYNs to the IP-HTTPS port stop? (trace.path)

Needs raw sockets (root or CAP_NET_RAW; Npcap on Windows): without them it says so and exits 3.
scapy is imported only when the trace runs, never for --help.
"""

from __future__ import annotations

import argparse

from daserver_check.errors import InputError
from daserver_check.model import Finding, Report, TargetReport

HELP = "trace where TCP SYNs to the IP-HTTPS port stop (needs root / CAP_NET_RAW)"
DESCRIPTION = """\
Send TCP SYNs to the IP-HTTPS port with growing TTL (hop limit), like tcptraceroute, and list the
hops that answer: routers with ICMP time-exceeded, the server with SYN-ACK or RST, a firewall
with ICMP unreachable. When the SYNs never reach the server, the last hop that answered is where
they stop (trace.path, client error 0x274C). Every address of the name is traced, one by one.
Needs raw sockets: root or CAP_NET_RAW on Linux (tested, also inside network namespaces);
Npcap and Administrator on Windows, root on macOS (scapy's own layer-3 socket for the platform;
not tested here). Without them it says so and exits 3. The text report lists the hops whether
the SYNs arrive or not.

examples:
  sudo daserver-check trace https://da.contoso.com/IPHTTPS
  sudo daserver-check trace https://da.contoso.com/IPHTTPS --connect 203.0.113.10 --max-hops 20
"""

MAX_HOPS_LIMIT = 64


def configure(parser: argparse.ArgumentParser) -> None:
    from daserver_check.output import add_output_options

    parser.add_argument("url", metavar="URL", help="IP-HTTPS URL, e.g. https://da.contoso.com/IPHTTPS")
    parser.add_argument("--connect", metavar="HOST[:PORT]",
                        help="trace to this IP address (and port) instead of the resolved ones")
    parser.add_argument("--max-hops", type=int, default=30, metavar="N",
                        help=f"highest TTL / hop limit to try (1-{MAX_HOPS_LIMIT}, default 30)")
    parser.add_argument("--resolver", action="append", metavar="IP[:PORT]",
                        help="resolve the URL's host with this DNS server (repeatable)")
    parser.add_argument("--timeout", type=float, default=3.0, metavar="SECONDS",
                        help="how long to wait for answers, per address (default 3)")
    add_output_options(parser)


def run(args: argparse.Namespace) -> Report:
    from daserver_check.checks.trace import trace_finding, trace_skipped
    from daserver_check.commands.probe import parse_connect
    from daserver_check.probe.dns import ResolverSpecError, parse_resolver
    from daserver_check.probe.trace import raw_socket_problem, trace
    from daserver_check.target import TargetError, parse_iphttps_url

    try:
        target = parse_iphttps_url(args.url)
    except TargetError as exc:
        raise InputError(f"bad URL {args.url!r}: {exc}") from None
    if not 1 <= args.max_hops <= MAX_HOPS_LIMIT:
        raise InputError(f"--max-hops {args.max_hops}: must be between 1 and {MAX_HOPS_LIMIT}")
    if not 0 < args.timeout <= 60:
        raise InputError(f"--timeout {args.timeout:g}: must be more than 0 and at most 60 seconds")
    resolvers = list(args.resolver or ())
    for spec in resolvers:
        try:
            parse_resolver(spec)
        except ResolverSpecError as exc:
            raise InputError(f"--resolver {spec}: {exc}") from None
    connect = parse_connect(args.connect) if args.connect else None
    problem = raw_socket_problem()
    if problem is not None:
        raise InputError(problem)
    port = connect[1] if connect and connect[1] else target.port

    findings: list[Finding] = []
    if connect is not None:
        addresses = [connect[0]]
    elif target.ip_literal:
        addresses = [target.host]
    else:
        addresses, dns_part = _resolve(target.host, resolvers, args.timeout)
        findings.extend(dns_part)
    if not addresses:
        findings.append(trace_skipped("no address resolved", None))
    for address in addresses:
        findings.append(trace_finding(trace(address, port, max_hops=args.max_hops,
                                            timeout=args.timeout)))
    return Report(command="trace", targets=(TargetReport(args.url, tuple(findings)),))


def _resolve(host: str, resolvers: list[str], timeout: float) -> tuple[list[str], list[Finding]]:
    from daserver_check.checks.dns import NODATA, RESOLVE, dns_findings
    from daserver_check.probe.deadline import Deadline
    from daserver_check.probe.dns import resolve_host

    result = resolve_host(host, resolvers, Deadline(timeout))
    # Only the verdicts that explain a missing address; the probe judges the rest of DNS.
    found = [f for f in dns_findings(result, allow_private=True) if f.id in (RESOLVE, NODATA)]
    return list(result.addresses), found
