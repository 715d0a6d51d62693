"""`--format markdown`: a report to paste into a change ticket."""

from __future__ import annotations

from daserver_check.model import Report, Status
from daserver_check.report.escape import inert_report
from daserver_check.report.tables import cipher_markdown_lines

_ICON = {Status.PASS: "✅ pass", Status.WARN: "⚠️ warn", Status.FAIL: "❌ fail",
         Status.ERROR: "❓ error", Status.SKIP: "⏭ skip"}


def _cell(text: str) -> str:
    """Text for a table cell: CommonMark reads `\\` before punctuation as an escape, so a
    backslash outside a code span is doubled (`Cert:\\LocalMachine\\My` stays a path); inside a
    code span backslashes are literal already. Pipes are escaped everywhere (GFM tables)."""
    parts = text.replace("\n", " ").split("`")
    for i in range(0, len(parts), 2):  # even parts are outside code spans
        parts[i] = parts[i].replace("\\", "\\\\")
    if len(parts) % 2 == 0:  # an unpaired backtick: no code span after it
        parts[-1] = parts[-1].replace("\\", "\\\\")
    return "`".join(parts).replace("|", "\\|")


def render(report: Report, *, color: bool = False) -> str:
    report = inert_report(report)  # untrusted text shown as escapes, not acted on
    lines = [f"# daserver-check {report.command}: {report.status.value.upper()}", ""]
    for target in report.targets:
        lines += [f"## `{target.target}` — {_ICON[target.status]}", ""]
        lines += ["| status | check | address | finding | client error | fix |",
                  "|---|---|---|---|---|---|"]
        ordered = sorted(target.findings, key=lambda f: [Status.FAIL, Status.ERROR, Status.WARN,
                                                         Status.PASS, Status.SKIP].index(f.status))
        for f in ordered:
            finding = f.title + (f": {f.detail}" if f.detail and f.status is not Status.PASS else "")
            fix = f.remediation if f.status in (Status.FAIL, Status.WARN, Status.ERROR) else ""
            lines.append(
                f"| {_ICON[f.status]} | `{f.id}` | {f.address or ''} | {_cell(finding)} | "
                f"{', '.join(f.predicted_codes)} | {_cell(fix)} |"
            )
        lines.append("")
        lines += cipher_markdown_lines(target.findings)
    lines.append(f"_{report.duration_ms} ms_")
    return "\n".join(lines) + "\n"
