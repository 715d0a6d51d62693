"""A Prometheus exporter in the multi-target pattern (like blackbox_exporter).

    GET /probe?target=https://da.contoso.com/IPHTTPS[&profile=NAME]   one probe, its metrics
    GET /metrics                                                      the exporter's own metrics

Safety: it probes only the URLs its profiles list unless started with --allow-any-target (an
open probe endpoint lets anyone make this host connect anywhere: SSRF), and it binds loopback by
default. Each scrape gets the deadline Prometheus announces in
X-Prometheus-Scrape-Timeout-Seconds (less a margin), and at most --max-concurrent probes run at
once; a scrape that cannot start before its deadline gets 503.

Staying up (issue: idle or hostile clients must not starve Prometheus):
- every connection has a read timeout (READ_TIMEOUT): a client that sends nothing, or drips
  its request, is closed; a kept-alive connection idle that long is closed too;
- open connections are capped (`max_connections`, by default sized from the process's open
  file limit, RLIMIT_NOFILE, less what the probes need). At the cap a new connection takes the
  place of the longest-idle one (waiting for a request, not being answered); when every one is
  busy, the new one is answered 503 and closed. So 400 idle connections under `ulimit -n 256`
  still leave room for a scrape;
- a client that hangs up or resets costs no traceback: the server logs nothing for it, and
  one line (no traceback) for anything else that goes wrong in a connection.
HEAD is answered like GET, without the body (RFC 9110 section 9.3.2).
"""

from __future__ import annotations

import dataclasses
import socket
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from daserver_check.model import Report
from daserver_check.pipeline.engine import probe_url
from daserver_check.pipeline.settings import ProbeSettings
from daserver_check.report import OutputFormat, render
from daserver_check.target import TargetError, parse_iphttps_url

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
SCRAPE_MARGIN = 0.5  # seconds kept back for rendering and the network
MAX_QUERY = 4096
READ_TIMEOUT = 10.0  # seconds a connection may wait for (each part of) a request
# File descriptors a running probe may hold (DNS, client handshakes, two TLS connections,
# the cipher map's few at a time) and what the process itself keeps open, for sizing the cap.
FDS_PER_PROBE = 8
FDS_RESERVED = 32
MAX_CONNECTIONS = 1024
_IDLE, _BUSY, _CLOSING = "idle", "busy", "closing"


@dataclass(frozen=True)
class ExporterConfig:
    settings: Mapping[str, ProbeSettings]  # by profile name
    allow_any_target: bool = False
    max_concurrent: int = 16
    max_connections: int | None = None  # None: sized from RLIMIT_NOFILE (connection_limit)
    read_timeout: float = READ_TIMEOUT


def connection_limit(max_concurrent: int) -> int:
    """Open connections allowed: what the open-file limit leaves after the probes' share."""
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    except (ImportError, OSError, ValueError):  # no resource module (Windows): no fd limit
        return MAX_CONNECTIONS
    if soft == resource.RLIM_INFINITY:
        return MAX_CONNECTIONS
    spare = soft - FDS_RESERVED - FDS_PER_PROBE * max_concurrent
    return max(4, min(MAX_CONNECTIONS, spare))


class _Metrics:
    """The exporter's own counters, created lazily (prometheus_client is imported here only)."""

    def __init__(self) -> None:
        from prometheus_client import CollectorRegistry, Counter, Gauge
        from prometheus_client.process_collector import ProcessCollector

        self.registry = CollectorRegistry()
        ProcessCollector(registry=self.registry)
        self.probes = Counter("daserver_exporter_probes", "Probes run, by outcome",
                              ["outcome"], registry=self.registry)
        self.refused = Counter("daserver_exporter_refused_requests",
                               "Requests refused, by reason", ["reason"], registry=self.registry)
        self.in_flight = Gauge("daserver_exporter_probes_in_flight", "Probes running now",
                               registry=self.registry)
        self.connections = Gauge("daserver_exporter_connections_open",
                                 "HTTP connections open now", registry=self.registry)

    def exposition(self) -> bytes:
        from prometheus_client import generate_latest

        data: bytes = generate_latest(self.registry)
        return data


class ExporterServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # socketserver's 5 would drop SYNs of a burst of connections

    def __init__(self, address: tuple[str, int], config: ExporterConfig) -> None:
        self.config = config
        self.slots = threading.BoundedSemaphore(max(1, config.max_concurrent))
        self.metrics = _Metrics()
        self.max_connections = config.max_connections or connection_limit(config.max_concurrent)
        # Each open connection and its state, oldest first (dicts keep insertion order).
        self._connections: dict[socket.socket, str] = {}
        self._connections_lock = threading.Lock()
        self.metrics.connections.set_function(lambda: self.open_connections)
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            live = [c for c, state in self._connections.items() if state != _CLOSING]
            if len(live) >= self.max_connections:
                idle = next((c for c in live if self._connections[c] == _IDLE), None)
                if idle is None:
                    self.metrics.refused.labels("connection-limit").inc()
                    _refuse_busy(request)
                    return
                # The longest-idle connection makes room: its reader sees end-of-file and
                # closes it; a kept-alive client simply reconnects for its next request.
                self._connections[idle] = _CLOSING
                self.metrics.refused.labels("idle-closed").inc()
                _shutdown_quietly(idle)
            self._connections[request] = _IDLE
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        try:
            super().shutdown_request(request)
        finally:
            with self._connections_lock:
                self._connections.pop(request, None)

    def mark(self, request: Any, state: str) -> None:
        with self._connections_lock:
            if self._connections.get(request) not in (None, _CLOSING):
                self._connections[request] = state

    @property
    def open_connections(self) -> int:
        with self._connections_lock:
            return len(self._connections)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """No traceback: a client that hangs up or resets is routine; anything else is one
        line on stderr (socketserver would print the whole traceback)."""
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            return
        try:
            print(f"daserver-check exporter: error serving a request: {type(exc).__name__}: "
                  f"{exc}", file=sys.stderr, flush=True)
        except (OSError, ValueError):
            pass


_BUSY_TEXT = b"too many open connections; try again\n"
_BUSY_RESPONSE = (b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
                  b"Content-Length: %d\r\nConnection: close\r\n\r\n%s"
                  % (len(_BUSY_TEXT), _BUSY_TEXT))


def _refuse_busy(request: socket.socket) -> None:
    """503 without blocking the accept loop (a full send buffer just loses the text), then close."""
    try:
        request.setblocking(False)
        request.send(_BUSY_RESPONSE)
    except OSError:
        pass
    _shutdown_quietly(request)
    request.close()


def _shutdown_quietly(request: socket.socket) -> None:
    try:
        request.shutdown(socket.SHUT_RDWR)
    except OSError:  # already gone
        pass


class _Handler(BaseHTTPRequestHandler):
    server: ExporterServer
    protocol_version = "HTTP/1.1"
    head_only = False

    def log_message(self, format: str, *args: Any) -> None:  # quiet: Prometheus scrapes a lot
        return

    def setup(self) -> None:
        super().setup()
        # Every read (request line, each header, the next request on a kept-alive connection)
        # waits at most this long; then http.server closes the connection.
        self.connection.settimeout(self.server.config.read_timeout)

    def handle_one_request(self) -> None:
        self.server.mark(self.request, _IDLE)  # waiting for a request line: may make room
        self.head_only = False
        super().handle_one_request()

    def parse_request(self) -> bool:
        parsed = super().parse_request()
        if parsed:  # the request line and headers are in: this one is being answered
            self.server.mark(self.request, _BUSY)
        return parsed

    def do_HEAD(self) -> None:
        self.head_only = True
        self.do_GET()

    def do_GET(self) -> None:
        if len(self.path) > MAX_QUERY:
            self._send(414, "request line too long\n")
            return
        parts = urlsplit(self.path)
        if parts.path == "/metrics":
            self._send(200, self.server.metrics.exposition(), CONTENT_TYPE)
        elif parts.path == "/probe":
            self._probe(parse_qs(parts.query))
        elif parts.path == "/":
            self._send(200, "daserver-check exporter: GET /probe?target=URL[&profile=NAME], "
                       "GET /metrics\n")
        else:
            self._send(404, "not found: use /probe?target=URL or /metrics\n")

    def _probe(self, query: dict[str, list[str]]) -> None:
        config = self.server.config
        metrics = self.server.metrics
        target = (query.get("target") or [""])[0]
        if not target:
            metrics.refused.labels("no-target").inc()
            self._send(400, "missing ?target=URL\n")
            return
        names = list(config.settings)
        name = (query.get("profile") or [""])[0] or (names[0] if len(names) == 1 else "")
        if name not in config.settings:
            metrics.refused.labels("unknown-profile").inc()
            self._send(400, f"unknown or missing profile {name!r}; loaded: {', '.join(names)}\n")
            return
        settings = config.settings[name]
        try:
            parse_iphttps_url(target)
        except TargetError as exc:
            metrics.refused.labels("bad-target").inc()
            self._send(400, f"bad target: {exc}\n")
            return
        if not config.allow_any_target and target not in settings.profile.deployment.urls:
            metrics.refused.labels("target-not-in-profile").inc()
            self._send(403, f"target {target} is not in profile {name!r} (deployment.urls); "
                       "start the exporter with --allow-any-target to probe any URL\n")
            return
        budget = min(settings.timeout, self._scrape_timeout() - SCRAPE_MARGIN)
        budget = max(0.5, budget)
        started = time.monotonic()
        if not self.server.slots.acquire(timeout=budget):
            metrics.refused.labels("busy").inc()
            self._send(503, "too many probes running; try again\n")
            return
        try:
            metrics.in_flight.inc()
            remaining = max(0.2, budget - (time.monotonic() - started))
            report = probe_url(target, dataclasses.replace(settings, timeout=remaining))
        finally:
            metrics.in_flight.dec()
            self.server.slots.release()
        metrics.probes.labels(report.status.value).inc()
        body = render(Report("probe", (report,), report.duration_ms), OutputFormat.PROMETHEUS)
        self._send(200, body, CONTENT_TYPE)

    def _scrape_timeout(self) -> float:
        header = self.headers.get("X-Prometheus-Scrape-Timeout-Seconds", "")
        try:
            value = float(header)
        except ValueError:
            return 10.0
        return value if 0 < value <= 600 else 10.0

    def _send(self, code: int, body: str | bytes, content_type: str = "text/plain; charset=utf-8") -> None:
        data = body.encode("utf-8") if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not self.head_only:
            self.wfile.write(data)
