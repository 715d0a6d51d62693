"""`--format nagios`: one status line with the worst finding, then performance data.

Monitoring-plugin guidelines: `SERVICE STATUS: text | perfdata`; the exit code carries the state.
"""

from __future__ import annotations

from datetime import UTC, datetime

from daserver_check.findings import FindingId
from daserver_check.model import ExitCode, Finding, Report, Status
from daserver_check.report.escape import inert_report

_STATE = {ExitCode.OK: "OK", ExitCode.WARNING: "WARNING", ExitCode.CRITICAL: "CRITICAL",
          ExitCode.UNKNOWN: "UNKNOWN"}
_RANK = {Status.FAIL: 0, Status.ERROR: 1, Status.WARN: 2}


def _worst_finding(report: Report) -> Finding | None:
    bad = [f for f in report.all_findings() if f.status in _RANK]
    return min(bad, key=lambda f: _RANK[f.status]) if bad else None


def _days_left(report: Report) -> float | None:
    values = []
    for f in report.all_findings():
        if f.id == FindingId.CERT_VALIDITY and isinstance(f.evidence.get("not_after"), str):
            try:
                end = datetime.fromisoformat(str(f.evidence["not_after"]).replace("Z", "+00:00"))
            except ValueError:
                continue
            values.append((end - datetime.now(UTC)).total_seconds() / 86400)
    return min(values) if values else None


def render(report: Report, *, color: bool = False) -> str:
    report = inert_report(report)  # untrusted text shown as escapes, not acted on
    state = _STATE[report.exit_code]
    worst = _worst_finding(report)
    targets = ", ".join(t.target for t in report.targets)
    if worst is None:
        text = f"IP-HTTPS {targets}: all checks passed"
    else:
        codes = f" [{', '.join(worst.predicted_codes)}]" if worst.predicts else ""
        where = f" {worst.address}" if worst.address else ""
        others = sum(1 for f in report.all_findings() if f.status in _RANK) - 1
        more = f" (+{others} more)" if others > 0 else ""
        text = f"{worst.id}{where}: {worst.title}{codes}{more}"
    perf = [f"time={report.duration_ms / 1000:.3f}s;;;0"]
    days = _days_left(report)
    if days is not None:
        perf.append(f"cert_days_left={days:.1f};;;")
    failing = sum(1 for f in report.all_findings() if f.status is Status.FAIL)
    perf.append(f"failing={failing};;1;0")
    return f"DASERVER {state}: {text.replace('|', '/')} | {' '.join(perf)}\n"
