"""`--format prometheus`: the text exposition format with the contract's metric names.

Produced through prometheus_client (a custom collector and its exposition function), so the
escaping and number formatting are the reference implementation's; it is imported only when
this format is asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from daserver_check.findings import FindingId
from daserver_check.model import Finding, Report, Status, TargetReport

_STATUS_VALUE = {Status.PASS: 0, Status.SKIP: 0, Status.WARN: 1, Status.FAIL: 2, Status.ERROR: 3}

_HELP = {
    "daserver_probe_success": ("gauge", "1 when no finding of the target failed or errored"),
    "daserver_probe_duration_seconds": ("gauge", "Wall time of the probe of the target"),
    "daserver_finding_status": ("gauge", "Finding status: 0 pass/skip, 1 warn, 2 fail, 3 error"),
    "daserver_cert_not_after_timestamp_seconds": (
        "gauge", "notAfter of the served certificate (leaf) and the earliest of its chain"),
    "daserver_tls_null_cipher_offered": ("gauge", "1 when the null-encryption suites are offered"),
    "daserver_predicted_error": ("gauge", "1 for each client error code a failing finding predicts"),
    "daserver_tls_client_ok": ("gauge", "1 when that Windows client's own handshake completes"),
}


Labels = tuple[tuple[str, str], ...]


def _labels(**labels: str) -> Labels:
    return tuple(labels.items())


def _timestamp(text: object) -> float | None:
    if not isinstance(text, str):
        return None
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def _samples(target: TargetReport) -> Iterator[tuple[str, Labels, float]]:
    t = target.target
    ok = target.status not in (Status.FAIL, Status.ERROR)
    yield "daserver_probe_success", _labels(target=t), 1.0 if ok else 0.0
    yield "daserver_probe_duration_seconds", _labels(target=t), target.duration_ms / 1000
    seen: set[tuple[str, str]] = set()
    for f in target.findings:
        key = (f.address or "", f.id)
        if key in seen:
            continue
        seen.add(key)
        yield ("daserver_finding_status", _labels(target=t, address=f.address or "", id=f.id),
               float(_STATUS_VALUE[f.status]))
    for f in target.findings:
        yield from _finding_samples(t, f)
    codes: list[str] = []
    for f in target.findings:
        if f.status is Status.FAIL:  # the contract: codes a *failing* finding predicts
            codes.extend(c for c in f.predicted_codes if c not in codes)
    for code in codes:
        yield "daserver_predicted_error", _labels(target=t, code=code), 1.0


def _finding_samples(t: str, f: Finding) -> Iterator[tuple[str, Labels, float]]:
    address = f.address or ""
    if f.id == FindingId.CERT_VALIDITY:
        chain = f.evidence.get("chain")
        leaf: float | None = None
        others: list[float] = []
        if isinstance(chain, list):
            for entry in chain:
                if not isinstance(entry, dict):
                    continue
                ts = _timestamp(entry.get("not_after"))
                if ts is None:
                    continue
                if entry.get("position") == "leaf" and leaf is None:
                    leaf = ts
                elif entry.get("position") != "leaf":
                    others.append(ts)
        if leaf is None:
            leaf = _timestamp(f.evidence.get("not_after"))
        if leaf is not None:
            yield ("daserver_cert_not_after_timestamp_seconds",
                   _labels(target=t, address=address, position="leaf"), leaf)
        if others:
            yield ("daserver_cert_not_after_timestamp_seconds",
                   _labels(target=t, address=address, position="chain"), min(others))
    elif f.id.startswith("tls.client.") and f.status is not Status.SKIP:
        client = f.id.removeprefix("tls.client.")
        yield ("daserver_tls_client_ok", _labels(target=t, address=address, client=client),
               1.0 if f.status is Status.PASS else 0.0)
    elif f.id == FindingId.TLS_NULL_CIPHER and f.status is not Status.SKIP:
        offered = bool(f.evidence.get("offered"))
        yield ("daserver_tls_null_cipher_offered", _labels(target=t, address=address),
               1.0 if offered else 0.0)


class _ReportCollector:
    """A prometheus_client custom collector over one report's samples (no global registry)."""

    def __init__(self, report: Report) -> None:
        self._report = report

    def collect(self) -> Iterator[Any]:
        from prometheus_client.core import GaugeMetricFamily

        families: dict[str, Any] = {}
        for target in self._report.targets:
            for name, labels, value in _samples(target):
                pairs = labels
                family = families.get(name)
                if family is None:
                    family = GaugeMetricFamily(name, _HELP[name][1],
                                               labels=[k for k, _v in pairs])
                    families[name] = family
                family.add_metric([v for _k, v in pairs], value)
        for name in _HELP:
            yield families.get(name) or GaugeMetricFamily(name, _HELP[name][1])


def render(report: Report, *, color: bool = False) -> str:
    """The text exposition format, written by prometheus_client's own exposition function
    (imported here only: `--help` and the other formats never load it)."""
    from prometheus_client import CollectorRegistry
    from prometheus_client.exposition import generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_ReportCollector(report))
    return generate_latest(registry).decode("utf-8")
