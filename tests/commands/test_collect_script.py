from __future__ import annotations

from pathlib import Path

import pytest

from daserver_check.cli import main
from daserver_check.commands.collect_script import script
from daserver_check.model import Status
from daserver_check.server.artifacts import load
from daserver_check.server.checks import run_checks
from daserver_check.server.paths import EXPORTED_KEYS

BUILT_IN = {"@echo", "rem", "setlocal", "set", "if", "echo", "call", "netsh", "powershell",
            "reg", "exit", ")", ":export", "", ">", ">>"}


def test_script_is_crlf_and_uses_built_in_commands_only() -> None:
    text = script()
    assert text.count("\n") == text.count("\r\n")
    for line in text.split("\r\n"):
        first = line.strip().split(" ", 1)[0]
        assert first in BUILT_IN, line
    for needle in ("netsh http show urlacl", "netsh http show sslcert",
                   "netsh interface httpstunnel show interfaces", "Get-NetIPHttpsConfiguration",
                   "Get-NetIPHttpsState", "ConvertTo-Json"):
        assert needle in text


def test_script_exports_every_key_the_server_reads() -> None:
    text = script()
    for name, key in EXPORTED_KEYS:
        assert f'"{key}" "%OUT%\\{name}"' in text


def test_stdout_and_output_file(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
                                ) -> None:
    assert main(["collect-script"]) == 0
    assert capsysbinary.readouterr().out == script().encode("ascii")
    out = tmp_path / "collect.cmd"
    assert main(["collect-script", "--output", str(out)]) == 0
    assert out.read_bytes() == script().encode("ascii")


def test_absent_key_file_is_read_as_absent(tmp_path: Path) -> None:
    text = script()
    assert '> "%~3" echo REGEDIT4\r\n  >> "%~3" echo.\r\n  >> "%~3" echo [-%~2]' in text
    # What those three echo lines write for a key that does not exist (echo ends with CRLF).
    key = dict(EXPORTED_KEYS)["v6transition.reg"]
    (tmp_path / "v6transition.reg").write_bytes(f"REGEDIT4\r\n\r\n[-{key}]\r\n".encode("ascii"))
    findings = {f.id: f for f in run_checks(load([str(tmp_path)]))}
    assert findings["server.iphttps.policy"].status is Status.PASS
    assert findings["server.ipv6.components"].status is Status.SKIP
