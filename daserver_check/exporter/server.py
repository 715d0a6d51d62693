"""A Prometheus exporter in the multi-target pattern (like blackbox_exporter).

    GET /probe?target=https://da.contoso.com/IPHTTPS[&profile=NAME]   one probe, its metrics
    GET /metrics                                                      the exporter's own metrics

Safety: it probes only the URLs its profiles list unless started with --allow-any-target (an
open probe endpoint lets anyone make this host connect anywhere: SSRF), and it binds loopback by
default. Each scrape gets the deadline Prometheus announces in
X-Prometheus-Scrape-Timeout-Seconds (less a margin), and at most --max-concurrent probes run at
once; a scrape that cannot start before its deadline gets 503.
"""

from __future__ import annotations

import dataclasses
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


@dataclass(frozen=True)
class ExporterConfig:
    settings: Mapping[str, ProbeSettings]  # by profile name
    allow_any_target: bool = False
    max_concurrent: int = 16


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

    def exposition(self) -> bytes:
        from prometheus_client import generate_latest

        data: bytes = generate_latest(self.registry)
        return data


class ExporterServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], config: ExporterConfig) -> None:
        self.config = config
        self.slots = threading.BoundedSemaphore(max(1, config.max_concurrent))
        self.metrics = _Metrics()
        super().__init__(address, _Handler)


class _Handler(BaseHTTPRequestHandler):
    server: ExporterServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # quiet: Prometheus scrapes a lot
        return

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
        self.wfile.write(data)
