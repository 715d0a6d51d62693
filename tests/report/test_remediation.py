"""Fix texts an admin can paste: steps, one command each, valid in Windows PowerShell 5.1."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from daserver_check.cli import main
from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status

FIXTURES = Path(__file__).parents[1] / "fixtures" / "server"
COMMAND = re.compile(r"`([^`]+)`")


def step_problems(step: str) -> list[str]:
    problems = []
    commands = COMMAND.findall(step)
    if len(commands) > 1:
        problems.append(f"{len(commands)} commands in one step: {step!r}")
    for command in commands:
        # cmd.exe's chaining is a parse error in Windows PowerShell 5.1; an unquoted {...}
        # argument is a script block there.
        if "&&" in command or "||" in command:
            problems.append(f"chained with && or ||: {command!r}")
        if re.search(r"\bnet (stop|start)\b", command):
            problems.append(f"cmd-style service restart: {command!r}")
        if re.search(r"=\{", command):
            problems.append(f"unquoted braces: {command!r}")
    return problems


def test_the_rule_can_fail() -> None:
    assert step_problems("`net stop iphlpsvc && net start iphlpsvc`")
    assert step_problems("`a` then `b`")
    assert step_problems("`netsh http add sslcert appid={5d8e}`")
    assert not step_problems("restart it: `Restart-Service iphlpsvc`")


@pytest.mark.parametrize("bundle", ["kb2980660", "healthy"])
def test_every_server_fix_step_pastes_into_powershell(bundle: str,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    main(["server", str(FIXTURES / bundle), "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    findings = doc["targets"][0]["findings"]
    multi = [f for f in findings if len(f["remediation_steps"]) > 1]
    if bundle == "kb2980660":
        assert multi, "the failing bundle has multi-step fixes"
    for f in findings:
        assert isinstance(f["remediation"], str)
        assert f["remediation_steps"] == ([] if not f["remediation"] else f["remediation_steps"])
        for step in f["remediation_steps"]:
            assert not step_problems(step), (f["id"], step_problems(step))


def test_text_numbers_the_steps(capsys: pytest.CaptureFixture[str]) -> None:
    main(["server", str(FIXTURES / "kb2980660")])
    text = capsys.readouterr().out
    assert "        fix:\n          1. back up the key: `reg export" in text
    assert "Restart-Service iphlpsvc" in text and "&&" not in text


def test_steps_and_string_are_one_fix() -> None:
    f = Finding(FindingId.CERT_SAN, Status.FAIL, "t", remediation_steps=("a: `x`", "b: `y`"))
    assert f.remediation == "a: `x`; b: `y`"
    g = Finding(FindingId.CERT_SAN, Status.FAIL, "t", remediation="one step")
    assert g.remediation_steps == ("one step",)
    assert Finding(FindingId.CERT_SAN, Status.PASS, "t").remediation_steps == ()
