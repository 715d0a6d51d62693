"""Skip findings for the stage checks: a check that could not run still says what it looks at."""

from __future__ import annotations

from collections.abc import Iterable

from daserver_check.findings import STAGE_IDS, FindingId, title
from daserver_check.model import Finding, Status


def skipped(ids: Iterable[FindingId], reason: str, address: str | None) -> list[Finding]:
    return [
        Finding(
            id=i,
            status=Status.SKIP,
            title=title(i),
            detail=f"skipped: {reason}",
            address=address,
        )
        for i in ids
    ]


def skipped_stages(stages: Iterable[str], reason: str, address: str | None) -> list[Finding]:
    return [f for s in stages for f in skipped(STAGE_IDS[s], reason, address)]


def job_error(finding_id: FindingId, message: str) -> Finding:
    """A job of a checklist could not run: undecided (exit 3), with the reason."""
    return Finding(
        id=finding_id,
        status=Status.ERROR,
        title=title(finding_id),
        detail=message,
    )


def dns_skipped(reason: str) -> list[Finding]:
    """The four dns findings as skips, e.g. `dns_skipped("address given by --connect")`."""
    return [
        Finding(id=finding_id, status=Status.SKIP, title=f"skipped: {reason}", detail=reason)
        for finding_id in STAGE_IDS["dns"]
    ]
