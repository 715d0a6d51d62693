"""Findings, statuses, reports and the exit-code rule (the contract: docs/contract.md).

A check never raises to its caller: whatever it learns, good or bad, becomes a `Finding`.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from daserver_check.findings import FindingId


class Status(enum.StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"
    ERROR = "error"


class ExitCode(enum.IntEnum):
    """Monitoring-plugin convention (Nagios/Icinga)."""

    OK = 0
    WARNING = 1
    CRITICAL = 2
    UNKNOWN = 3


# Which status wins when findings are combined. A fail beats an error: one proven server fault
# is a verdict (CRITICAL) even if another check could not decide. Skips never make things worse.
_SEVERITY: Mapping[Status, int] = {
    Status.SKIP: 0,
    Status.PASS: 1,
    Status.WARN: 2,
    Status.ERROR: 3,
    Status.FAIL: 4,
}

_EXIT: Mapping[Status, ExitCode] = {
    Status.SKIP: ExitCode.OK,
    Status.PASS: ExitCode.OK,
    Status.WARN: ExitCode.WARNING,
    Status.ERROR: ExitCode.UNKNOWN,
    Status.FAIL: ExitCode.CRITICAL,
}


def worst(statuses: Iterable[Status]) -> Status:
    """The combined status: skip only when everything was skipped (or nothing ran)."""
    result = Status.SKIP
    for status in statuses:
        if _SEVERITY[status] > _SEVERITY[result]:
            result = status
    return result


def exit_code_for(status: Status) -> ExitCode:
    return _EXIT[status]


def format_code(code: int) -> str:
    """`0x` + upper-case hex without leading zeros, as the JSON contract writes client codes."""
    return f"0x{code:X}"


def _frozen_mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True, slots=True)
class Finding:
    """One verdict of one check, for one address when the check talks to one."""

    id: FindingId
    status: Status
    title: str
    detail: str = ""
    predicts: tuple[int, ...] = ()
    remediation: str = ""
    evidence: Mapping[str, Any] = field(default_factory=dict)
    address: str | None = None
    # The fix as steps, one command each, in order (JSON `remediation_steps`; the text report
    # numbers them). Give either; the other is derived: `remediation` joins the steps with "; ".
    remediation_steps: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # A plain string id (a baseline, a test) must still name a registered finding.
        object.__setattr__(self, "id", FindingId(self.id))
        object.__setattr__(self, "evidence", _frozen_mapping(self.evidence))
        steps = tuple(s for s in self.remediation_steps if s)
        if steps and not self.remediation:
            object.__setattr__(self, "remediation", "; ".join(steps))
        elif self.remediation and not steps:
            steps = (self.remediation,)
        object.__setattr__(self, "remediation_steps", steps)

    @property
    def stage(self) -> str:
        return self.id.stage

    @property
    def predicted_codes(self) -> list[str]:
        return [format_code(c) for c in self.predicts]


@dataclass(frozen=True, slots=True)
class TargetReport:
    """All findings for one target (a URL, a file path, or an error code)."""

    target: str
    findings: tuple[Finding, ...]
    duration_ms: int = 0

    @property
    def status(self) -> Status:
        return worst(f.status for f in self.findings)


@dataclass(frozen=True, slots=True)
class Report:
    command: str
    targets: tuple[TargetReport, ...]
    duration_ms: int = 0

    @property
    def status(self) -> Status:
        return worst(t.status for t in self.targets)

    @property
    def exit_code(self) -> ExitCode:
        return exit_code_for(self.status)

    def all_findings(self) -> Sequence[Finding]:
        return [f for t in self.targets for f in t.findings]


def crashed(finding_id: FindingId, exc: BaseException, address: str | None = None) -> Finding:
    """The finding for a check that raised: `error` (exit 3, "could not decide"), never a verdict."""
    return Finding(
        id=finding_id,
        status=Status.ERROR,
        title="The check could not run",
        detail=f"internal error: {type(exc).__name__}: {exc}",
        evidence={"error": f"{type(exc).__name__}: {exc}"},
        address=address,
    )


def guarded(
    finding_id: FindingId, check: Callable[[], Finding], *, address: str | None = None
) -> Finding:
    """Run one check; an exception becomes an `error` finding with the check's id.

    Every stage and check runs behind this (DESIGN: "Checks never let an exception escape"), so a
    certificate or a server nobody anticipated costs one finding, not the report.
    """
    try:
        return check()
    except Exception as exc:
        return crashed(finding_id, exc, address)


def guarded_stage(
    finding_ids: Sequence[FindingId],
    check: Callable[[], Sequence[Finding]],
    *,
    address: str | None = None,
) -> list[Finding]:
    """`guarded` for a check that reports several findings: a crash errors each of them."""
    try:
        return list(check())
    except Exception as exc:
        return [crashed(fid, exc, address) for fid in finding_ids]
