"""`--format nagios`: a status line naming the failing targets, perfdata, then long output.

Monitoring Plugins development guidelines: `SERVICE STATE - text | perfdata` on the first line,
long output on the lines after it; the exit code carries the state.
"""

from __future__ import annotations

from datetime import UTC, datetime

from daserver_check.findings import FindingId
from daserver_check.model import ExitCode, Report, Status
from daserver_check.report.escape import inert_report

_STATE = {ExitCode.OK: "OK", ExitCode.WARNING: "WARNING", ExitCode.CRITICAL: "CRITICAL",
          ExitCode.UNKNOWN: "UNKNOWN"}
_RANK = {Status.FAIL: 0, Status.ERROR: 1, Status.WARN: 2}


def _days_left(report: Report) -> tuple[float, int | None, int | None] | None:
    """The fewest days any served certificate has left, with the profile's warn/crit days."""
    best: tuple[float, int | None, int | None] | None = None
    for f in report.all_findings():
        if f.id == FindingId.CERT_VALIDITY and isinstance(f.evidence.get("not_after"), str):
            try:
                end = datetime.fromisoformat(str(f.evidence["not_after"]).replace("Z", "+00:00"))
            except ValueError:
                continue
            days = (end - datetime.now(UTC)).total_seconds() / 86400
            warn, crit = f.evidence.get("warn_days"), f.evidence.get("crit_days")
            if best is None or days < best[0]:
                best = (days, warn if isinstance(warn, int) else None,
                        crit if isinstance(crit, int) else None)
    return best


def _threshold(value: int | None) -> str:
    # Monitoring Plugins range syntax: "N:" alerts below N (days left must stay above it).
    return f"{value}:" if value is not None else ""


def _one_line(text: str) -> str:
    return text.replace("|", "/").replace("\n", " ")


def render(report: Report, *, color: bool = False) -> str:
    """Monitoring Plugins guidelines: the first line is `SERVICE STATE - summary | perfdata`,
    naming the failing targets; the lines after it (long output) list each failing or warning
    finding per target. Several targets stay one service: one first line for all."""
    report = inert_report(report)  # untrusted text shown as escapes, not acted on
    state = _STATE[report.exit_code]
    bad_targets = [t for t in report.targets if any(f.status in _RANK for f in t.findings)]
    if not bad_targets:
        n = len(report.targets)
        summary = (f"{report.targets[0].target}: all checks passed" if n == 1
                   else f"{n} targets: all checks passed")
    else:
        parts = []
        for t in bad_targets:
            worst = min((f for f in t.findings if f.status in _RANK), key=lambda f: _RANK[f.status])
            codes = f" [{', '.join(worst.predicted_codes)}]" if worst.predicts else ""
            others = sum(1 for f in t.findings if f.status in _RANK) - 1
            more = f" +{others} more" if others > 0 else ""
            parts.append(f"{t.target} ({worst.id}: {worst.title}{codes}{more})")
        lead = (f"{len(bad_targets)} of {len(report.targets)} targets: "
                if len(report.targets) > 1 else "")
        summary = lead + ", ".join(parts)
    perf = [f"time={report.duration_ms / 1000:.3f}s;;;0"]
    days = _days_left(report)
    if days is not None:
        left, warn, crit = days
        perf.append(f"cert_days_left={left:.1f};{_threshold(warn)};{_threshold(crit)};;")
    failing = sum(1 for f in report.all_findings() if f.status is Status.FAIL)
    perf.append(f"failing={failing};;1;0")
    lines = [f"DASERVER {state} - {_one_line(summary)} | {' '.join(perf)}"]
    for t in bad_targets:
        lines.append(f"{_one_line(t.target)}:")
        for f in sorted((f for f in t.findings if f.status in _RANK), key=lambda f: _RANK[f.status]):
            where = f" [{f.address}]" if f.address else ""
            codes = f" [{', '.join(f.predicted_codes)}]" if f.predicts else ""
            lines.append(_one_line(f"  {f.status.value.upper()} {f.id}{where}: {f.title}{codes}"))
    return "\n".join(lines) + "\n"
