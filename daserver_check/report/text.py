"""`--format text`: readable at a glance.

A verdict line first, then the client error codes the failures explain, then each failing or
warning finding with its cause and fix, and finally one line listing what passed or was skipped.
"""

from __future__ import annotations

from collections.abc import Sequence

from daserver_check.codes import CLIENT_REPORTED, inferred_for, lookup
from daserver_check.findings import FindingId
from daserver_check.model import ExitCode, Finding, Report, Status, TargetReport, format_code
from daserver_check.report.escape import inert_report
from daserver_check.report.tables import cipher_text_lines, trace_text_lines

_VERDICT = {
    ExitCode.OK: "OK",
    ExitCode.WARNING: "WARNING",
    ExitCode.CRITICAL: "CRITICAL",
    ExitCode.UNKNOWN: "UNKNOWN",
}
_COLOURS = {
    Status.PASS: "32",
    Status.WARN: "33",
    Status.FAIL: "31",
    Status.ERROR: "35",
    Status.SKIP: "2",
}
_ORDER = {Status.FAIL: 0, Status.ERROR: 1, Status.WARN: 2}


def _paint(text: str, status: Status, color: bool) -> str:
    return f"\x1b[{_COLOURS[status]}m{text}\x1b[0m" if color else text


def render(report: Report, *, color: bool = False) -> str:
    report = inert_report(report)  # untrusted text shown as escapes, not acted on
    lines: list[str] = []
    for index, target in enumerate(report.targets):
        if index:
            lines.append("")
        lines.extend(_target_lines(target, report, color))
    if len(report.targets) > 1:
        lines.append("")
        overall = _VERDICT[report.exit_code]
        lines.append(f"{overall}: {len(report.targets)} targets, {report.duration_ms} ms")
    return "\n".join(lines) + "\n"


def _target_lines(target: TargetReport, report: Report, color: bool) -> list[str]:
    problems = sorted(
        (f for f in target.findings if f.status in _ORDER),
        key=lambda f: _ORDER[f.status],
    )
    verdict = _VERDICT[_exit_for(target)]
    counts = _counts(target.findings)
    head = f"{verdict}  {target.target}  ({counts}"
    head += f", {report.duration_ms} ms)" if len(report.targets) == 1 else ")"
    lines = [_paint(head, target.status, color)]
    coverage = _coverage(target.findings)
    if coverage:
        lines.append(f"  {coverage}")
    # Words match severity: "would" only for codes a failing finding predicts; a warning's
    # codes are what a client "could" report.
    # 0x643/0x34 are what the IP-HTTPS interface of the failing machine reports (KB 2980660),
    # the server's as much as a client's: they are not labelled as client codes.
    would = _predicted(target.findings, (Status.FAIL,))
    could = [c for c in _predicted(target.findings, (Status.WARN,)) if c not in would]
    for verb, codes in (("would", would), ("could", could)):
        client = [text for text, interface in codes if not interface]
        machine = [text for text, interface in codes if interface]
        if client:
            lines.append(f"  A DirectAccess client {verb} report: " + ", ".join(client))
        if machine:
            lines.append(f"  The IP-HTTPS interface (server or client) {verb} report: "
                         + ", ".join(machine))
    for f in problems:
        lines.extend(_finding_lines(f, color))
    lines.extend(_rollout_lines(target))
    lines.extend(cipher_text_lines(target.findings))
    lines.extend(trace_text_lines(target.findings))
    passed = _ids(target.findings, Status.PASS)
    skipped = [f for f in target.findings if f.status is Status.SKIP]
    if passed:
        lines.append("")
        lines.append(_paint(f"  passed: {', '.join(passed)}", Status.SKIP, color))
    if skipped:
        reasons = sorted({f.detail.removeprefix("skipped: ") for f in skipped})
        ids = _ids(target.findings, Status.SKIP)
        lines.append(
            _paint(f"  skipped: {', '.join(ids)} ({'; '.join(reasons)})", Status.SKIP, color)
        )
    return lines


def _coverage(findings: Sequence[Finding]) -> str:
    """For a server bundle: how many checks actually had their input."""
    for f in findings:
        if f.id == FindingId.SERVER_ARTIFACTS and f.evidence.get("checks"):
            return f"{f.evidence['checks_with_input']} of {f.evidence['checks']} checks had their input"
    return ""


def _exit_for(target: TargetReport) -> ExitCode:
    from daserver_check.model import exit_code_for

    return exit_code_for(target.status)


def _counts(findings: Sequence[Finding]) -> str:
    parts = []
    for status, word in ((Status.FAIL, "failing"), (Status.ERROR, "undecided"),
                         (Status.WARN, "warning"), (Status.PASS, "passed")):
        n = sum(1 for f in findings if f.status is status)
        if n:
            parts.append(f"{n} {word}")
    return ", ".join(parts) or "no checks ran"


def _predicted(findings: Sequence[Finding],
               statuses: tuple[Status, ...]) -> list[tuple[str, bool]]:
    """(code text, is an interface-creation code) for each code the findings predict."""
    seen: list[int] = []
    for f in findings:
        if f.status in statuses:
            for code in f.predicts:
                if code not in seen:
                    seen.append(code)
    out = []
    for code in seen:
        entry = lookup(code)
        text = f"{format_code(code)} ({entry.symbol})" if entry else format_code(code)
        interface = entry is not None and entry.reported_by != CLIENT_REPORTED
        out.append((text, interface))
    return out


def _ids(findings: Sequence[Finding], status: Status) -> list[str]:
    """Ids with that status, once each; `[n addresses]` when an id repeats per address."""
    counts: dict[str, int] = {}
    for f in findings:
        if f.status is status:
            counts[f.id] = counts.get(f.id, 0) + 1
    return [i if n == 1 else f"{i} ×{n}" for i, n in counts.items()]


def _finding_lines(f: Finding, color: bool) -> list[str]:
    label = f.status.value.upper()
    where = f" [{f.address}]" if f.address else ""
    lines = ["", _paint(f"  {label:<5} {f.id}{where}: {f.title}", f.status, color)]
    if f.detail:
        lines.append(f"        {f.detail}")
    if f.predicts:
        names = []
        for code in f.predicts:
            entry = lookup(code)
            name = f"{format_code(code)} {entry.symbol}" if entry else format_code(code)
            names.append(name + (" (inferred)" if inferred_for(code, f.id) else ""))
        lines.append(f"        client error: {', '.join(names)}")
    if len(f.remediation_steps) > 1:
        lines.append("        fix:")
        lines.extend(f"          {i}. {step}" for i, step in enumerate(f.remediation_steps, 1))
    elif f.remediation:
        lines.append(f"        fix: {f.remediation}")
    return lines


def _rollout_lines(target: TargetReport) -> list[str]:
    """`cert`: the thumbprints and install commands of the `cert.rollout` finding, shown only
    when nothing failed (a failing certificate must not come with instructions to install it)."""
    rollout = next((f for f in target.findings if f.id == FindingId.CERT_ROLLOUT), None)
    if rollout is None or target.status is Status.FAIL:
        return []
    evidence = rollout.evidence
    lines = [
        "",
        "  Rollout",
        f"    SHA-1 thumbprint: {evidence.get('sha1', '')}  (as netsh http show sslcert shows it)",
        f"    SHA-256:          {evidence.get('sha256', '')}",
    ]
    steps = evidence.get("steps", [])
    for step in steps if isinstance(steps, list) else []:
        if isinstance(step, dict):
            lines.append(f"    # {step.get('purpose', '')}")
            lines.append(f"    {step.get('command', '')}")
    return lines
