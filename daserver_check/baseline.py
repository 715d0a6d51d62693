"""Compare a report with an earlier one (`checklist --baseline previous.json`).

The before/after view of a change window: which findings became worse, which were fixed, which
are unchanged, which are new or gone. Findings are matched by (target, id, address).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from daserver_check.errors import DaserverCheckError
from daserver_check.findings import FindingId
from daserver_check.model import Finding, Report, Status, TargetReport

MAX_BASELINE_BYTES = 64 << 20
MAX_INT_DIGITS = 20  # 64-bit values and then some
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
    """The (target, id, address) → status map of an earlier JSON report. BaselineError (one
    line) for anything that is not one: unreadable, too big, too deep, wrong types."""
    from daserver_check.files import FileReadError, read_bounded

    try:
        raw = read_bounded(path, limit=MAX_BASELINE_BYTES)
    except FileReadError as exc:
        raise BaselineError(f"--baseline {path}: {exc}") from None
    try:
        data = json.loads(raw, parse_int=_bounded_int, parse_constant=_no_constant)
    except RecursionError:
        raise BaselineError(f"--baseline {path}: nested too deeply, not a report") from None
    except (UnicodeDecodeError, ValueError) as exc:  # JSONDecodeError is a ValueError
        raise BaselineError(f"--baseline {path}: not JSON ({exc})") from None
    if not isinstance(data, dict) or data.get("schema") != "daserver-check/1":
        raise BaselineError(f"--baseline {path}: not a daserver-check JSON report "
                            "(write one with --format json)")
    return _statuses(data, path)


def _bounded_int(text: str) -> int:
    # A report's integers are counts and milliseconds; a 4000-digit one is not a report (and
    # converting huge ones costs quadratic time before Python's own digit limit applies).
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of more than {MAX_INT_DIGITS} digits")
    return int(text)


def _no_constant(text: str) -> float:
    raise ValueError(f"{text} is not JSON")


def _text(value: Any, what: str, path: str) -> str:
    """A string field of the baseline; lone surrogates (which no report writes) refused."""
    if not isinstance(value, str):
        raise BaselineError(f"--baseline {path}: a finding's {what} is not a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BaselineError(
            f"--baseline {path}: a finding's {what} is not valid Unicode (a lone surrogate)"
        ) from None
    return value


def _statuses(data: dict[str, Any], path: str) -> dict[Key, str]:
    out: dict[Key, str] = {}
    targets = data.get("targets")
    if not isinstance(targets, list):
        raise BaselineError(f"--baseline {path}: targets: expected a list")
    for t in targets:
        findings = t.get("findings") if isinstance(t, dict) else None
        if not isinstance(t, dict) or not isinstance(findings, list):
            raise BaselineError(f"--baseline {path}: a target without a findings list")
        target = _text(t.get("target"), "target", path)
        for f in findings:
            if not isinstance(f, dict):
                continue
            status = _text(f.get("status"), "status", path)
            if status not in _RANK:
                continue
            address = f.get("address")
            key = (target, _text(f.get("id"), "id", path),
                   "" if address is None else _text(address, "address", path))
            out[key] = status
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
