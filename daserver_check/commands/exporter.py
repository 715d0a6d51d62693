"""`daserver-check exporter`: serve probes to Prometheus (multi-target pattern)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from daserver_check.errors import InputError
from daserver_check.hostport import join_host_port

HELP = "serve probes to Prometheus: GET /probe?target=URL (multi-target exporter)"
DESCRIPTION = """\
A Prometheus exporter in the multi-target pattern. Prometheus scrapes
  http://127.0.0.1:9798/probe?target=https://da.contoso.com/IPHTTPS
and gets the probe's metrics (daserver_probe_success, daserver_finding_status,
daserver_cert_not_after_timestamp_seconds, daserver_predicted_error ...). /metrics has the
exporter's own metrics. Only URLs listed in a profile's deployment.urls are probed, unless
--allow-any-target is given (an open probe endpoint would let anyone use this host to connect
anywhere). See examples/prometheus.yml for the scrape configuration.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--listen", default="127.0.0.1:9798", metavar="HOST:PORT",
                        help="address to serve on (default 127.0.0.1:9798; port 0 = any free)")
    parser.add_argument("--profile", action="append", required=True, metavar="NAME|FILE",
                        help="profile(s) whose deployment.urls may be probed; with several, "
                        "scrapes choose one with &profile=NAME (the deployment.name)")
    parser.add_argument("--allow-any-target", action="store_true",
                        help="probe any https URL asked for (unsafe on a shared network)")
    parser.add_argument("--max-concurrent", type=int, default=None, metavar="N",
                        help="probes running at once (default: the first profile's "
                        "probe.concurrency)")
    parser.add_argument("--max-connections", type=int, default=None, metavar="N",
                        help="HTTP connections open at once; at the limit a new one replaces "
                        "the longest-idle one, or is answered 503 (default: sized from the "
                        "open-file limit, ulimit -n)")


def parse_listen(text: str) -> tuple[str, int]:
    from daserver_check.hostport import HostPortError
    from daserver_check.hostport import parse_listen as parse

    try:
        return parse(text)
    except HostPortError as exc:
        raise InputError(f"--listen {text}: {exc}") from None


def run(args: argparse.Namespace) -> int:
    from daserver_check.exporter.server import ExporterConfig, ExporterServer
    from daserver_check.pipeline.settings import settings_for_profile
    from daserver_check.profile import ProfileError, load_profile

    host, port = parse_listen(args.listen)
    settings = {}
    for spec in args.profile:
        try:
            profile = load_profile(spec)
        except ProfileError as exc:
            raise InputError(str(exc)) from None
        name = profile.deployment.name or spec
        if name in settings:
            raise InputError(f"--profile {spec}: two profiles are named {name!r}")
        settings[name] = settings_for_profile(profile)
    first = next(iter(settings.values()))
    limit = args.max_concurrent or first.profile.probe.concurrency
    if not 1 <= limit <= 1024:
        raise InputError("--max-concurrent: must be between 1 and 1024")
    connections = args.max_connections
    if connections is not None and not 1 <= connections <= 65536:
        raise InputError("--max-connections: must be between 1 and 65536")
    config = ExporterConfig(settings, allow_any_target=args.allow_any_target,
                            max_concurrent=limit, max_connections=connections)
    try:
        server = ExporterServer((host, port), config)
    except OSError as exc:
        raise InputError(f"--listen {args.listen}: cannot listen: {exc.strerror or exc}") from None
    bound_host, bound_port = str(server.server_address[0]), int(server.server_address[1])
    print(f"daserver-check exporter listening on http://{join_host_port(bound_host, bound_port)}/ "
          f"(profiles: {', '.join(settings)}; "
          f"{'ANY target' if args.allow_any_target else 'profile targets only'})", flush=True)
    if host not in ("127.0.0.1", "::1", "localhost"):
        print("note: listening beyond loopback; restrict access to the Prometheus server",
              file=sys.stderr)
    def on_signal(signum: int, frame: object) -> None:
        # shutdown() waits for serve_forever to return, so it cannot run in this thread.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0
