from __future__ import annotations

import pytest

from daserver_check.model import (
    ExitCode,
    Finding,
    Report,
    Status,
    TargetReport,
    exit_code_for,
    format_code,
    worst,
)


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], Status.SKIP),
        ([Status.SKIP, Status.SKIP], Status.SKIP),
        ([Status.PASS, Status.SKIP], Status.PASS),
        ([Status.PASS, Status.WARN], Status.WARN),
        ([Status.WARN, Status.ERROR], Status.ERROR),
        ([Status.ERROR, Status.FAIL, Status.WARN], Status.FAIL),
    ],
)
def test_worst(statuses: list[Status], expected: Status) -> None:
    assert worst(statuses) is expected


@pytest.mark.parametrize(
    ("status", "code"),
    [
        (Status.PASS, ExitCode.OK),
        (Status.SKIP, ExitCode.OK),
        (Status.WARN, ExitCode.WARNING),
        (Status.FAIL, ExitCode.CRITICAL),
        (Status.ERROR, ExitCode.UNKNOWN),
    ],
)
def test_exit_code_rule(status: Status, code: ExitCode) -> None:
    assert exit_code_for(status) == code


def test_report_status_is_worst_over_targets() -> None:
    ok = TargetReport("a", (Finding("dns.resolve", Status.PASS, "t"),))
    bad = TargetReport("b", (Finding("tcp.connect", Status.FAIL, "t", predicts=(0x274C,)),))
    report = Report("probe", (ok, bad))
    assert report.status is Status.FAIL
    assert report.exit_code == 2


@pytest.mark.parametrize(
    ("code", "text"),
    [(0x0, "0x0"), (0x2AFC, "0x2AFC"), (0x103, "0x103"), (0x800B0109, "0x800B0109")],
)
def test_format_code(code: int, text: str) -> None:
    assert format_code(code) == text


def test_finding_is_frozen_and_evidence_read_only() -> None:
    f = Finding("cert.san", Status.WARN, "t", evidence={"a": 1})
    with pytest.raises(AttributeError):
        f.status = Status.PASS  # type: ignore[misc]
    with pytest.raises(TypeError):
        f.evidence["b"] = 2  # type: ignore[index]
    assert f.stage == "cert"
