"""Compare a report with an earlier one (`checklist --baseline previous.json`).

The before/after view of a change window: which findings became worse, which were fixed, which
are unchanged, which are new or gone. Findings are matched by (target, id, address).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from daserver_check.errors import DaserverCheckError
from daserver_check.findings import FindingId
from daserver_check.model import Finding, Report, Status, TargetReport

MAX_BASELINE_BYTES = 64 << 20
_RANK = {"skip": 0, "pass": 0, "warn": 1, "error": 2, "fail": 3}

Key = tuple[str, str, str]  # target, id, address


class BaselineError(DaserverCheckError, ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Change:
    target: str
    id: str
    address: str
    before: str
    after: str

    def line(self) -> str:
        where = f" [{self.address}]" if self.address else ""
        return f"{self.target}: {self.id}{where} {self.before} -> {self.after}"


@dataclass(frozen=True, slots=True)
class Comparison:
    worse: tuple[Change, ...]
    fixed: tuple[Change, ...]
    unchanged: int
    new: tuple[Change, ...]
    gone: tuple[Change, ...]


def load_baseline(path: str) -> dict[Key, str]:
    p = Path(path)
    try:
        if p.is_dir():
            raise BaselineError(f"--baseline {path}: is a directory")
        raw = p.read_bytes()[: MAX_BASELINE_BYTES + 1]
    except OSError as exc:
        raise BaselineError(f"--baseline {path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > MAX_BASELINE_BYTES:
        raise BaselineError(f"--baseline {path}: larger than {MAX_BASELINE_BYTES >> 20} MB")
    try:
        data = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BaselineError(f"--baseline {path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != "daserver-check/1":
        raise BaselineError(f"--baseline {path}: not a daserver-check JSON report "
                            "(write one with --format json)")
    return _statuses(data, path)


def _statuses(data: dict[str, Any], path: str) -> dict[Key, str]:
    out: dict[Key, str] = {}
    targets = data.get("targets")
    if not isinstance(targets, list):
        raise BaselineError(f"--baseline {path}: targets: expected a list")
    for t in targets:
        findings = t.get("findings") if isinstance(t, dict) else None
        if not isinstance(findings, list):
            raise BaselineError(f"--baseline {path}: a target without a findings list")
        for f in findings:
            if not isinstance(f, dict):
                continue
            status = f.get("status")
            if status not in _RANK:
                continue
            out[(str(t.get("target")), str(f.get("id")), str(f.get("address") or ""))] = status
    return out


def compare(before: dict[Key, str], report: Report) -> Comparison:
    after: dict[Key, str] = {}
    for t in report.targets:
        for f in t.findings:
            after[(t.target, f.id, f.address or "")] = f.status.value
    worse, fixed, new, gone = [], [], [], []
    unchanged = 0
    for key, now in after.items():
        change = Change(*key, before=before.get(key, "absent"), after=now)
        if key not in before:
            new.append(change)
        elif _RANK[now] > _RANK[before[key]]:
            worse.append(change)
        elif _RANK[now] < _RANK[before[key]]:
            fixed.append(change)
        else:
            unchanged += 1
    for key, was in before.items():
        if key not in after:
            gone.append(Change(*key, before=was, after="absent"))
    return Comparison(tuple(worse), tuple(fixed), unchanged, tuple(new), tuple(gone))


def comparison_target(comparison: Comparison, baseline: str) -> TargetReport:
    """The comparison as findings, so every output format carries it."""
    c = comparison

    def lines(changes: tuple[Change, ...]) -> list[str]:
        return [x.line() for x in changes[:200]]

    findings = (
        Finding(
            id=FindingId.BASELINE_WORSE,
            status=Status.WARN if c.worse else Status.PASS,
            title=f"{len(c.worse)} finding(s) became worse since the baseline",
            detail="; ".join(lines(c.worse)[:10]),
            evidence={"changes": lines(c.worse)},
        ),
        Finding(
            id=FindingId.BASELINE_FIXED,
            status=Status.PASS,
            title=f"{len(c.fixed)} finding(s) fixed since the baseline",
            detail="; ".join(lines(c.fixed)[:10]),
            evidence={"changes": lines(c.fixed)},
        ),
        Finding(
            id=FindingId.BASELINE_UNCHANGED,
            status=Status.PASS,
            title=f"{c.unchanged} finding(s) unchanged",
            evidence={"count": c.unchanged},
        ),
        Finding(
            id=FindingId.BASELINE_NEW,
            status=Status.PASS,
            title=f"{len(c.new)} finding(s) new, {len(c.gone)} gone",
            evidence={"new": lines(c.new), "gone": lines(c.gone)},
        ),
    )
    return TargetReport(f"baseline {baseline}", findings)
