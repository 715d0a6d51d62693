"""The collect script, read as text: built-in commands only, elevation first, an absolute
folder, access denied told apart from absent, every step checked and a non-zero exit when one
fails, the hives warning, the new cmdlets, and the `--client` variant. What it writes is read
back by `server` (the status file, an absent key)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from daserver_check.cli import main
from daserver_check.commands.collect_script import script
from daserver_check.model import Status
from daserver_check.protocol.collect_status import RESULTS, parse_collect_status
from daserver_check.server.artifacts import load
from daserver_check.server.checks import run_checks
from daserver_check.server.paths import CLIENT_EXPORTED_KEYS, EXPORTED_KEYS

BUILT_IN = {"@echo", "rem", "setlocal", "set", "if", "echo", "call", "netsh", "powershell",
            "reg", "exit", "goto", "shift", "for", "net", "fltmc", ">", ">>", "", "echo."}
FIXTURES = Path(__file__).parents[1] / "fixtures" / "server"


def lines(client: bool = False) -> list[str]:
    return script(client=client).split("\r\n")


def index_of(all_lines: list[str], prefix: str) -> int:
    return next(i for i, line in enumerate(all_lines) if line.startswith(prefix))


@pytest.mark.parametrize("client", [False, True])
def test_script_is_crlf_and_uses_built_in_commands_only(client: bool) -> None:
    text = script(client=client)
    assert text.count("\n") == text.count("\r\n")
    text.encode("ascii")
    for line in lines(client):
        first = line.strip().split(" ", 1)[0]
        assert first in BUILT_IN or first.startswith(":"), line


@pytest.mark.parametrize("client", [False, True])
def test_elevation_is_checked_before_anything_runs(client: bool) -> None:
    all_lines = lines(client)
    check = index_of(all_lines, "net session")
    first_work = min(index_of(all_lines, p) for p in ("if not exist", "call :export",
                                                     "netsh", "powershell", "> "))
    assert check < first_work
    block = all_lines[check:index_of(all_lines, ":elevated")]
    assert "fltmc >nul 2>&1" in block
    assert any("needs administrator rights" in line for line in block)
    assert "exit /b 2" in block


@pytest.mark.parametrize("client", [False, True])
def test_bundle_folder_is_absolute_beside_the_script(client: bool) -> None:
    all_lines = lines(client)
    # %~dp0 is read before `shift` moves %0 away.
    assert index_of(all_lines, 'set "HERE=%~dp0"') < index_of(all_lines, "shift")
    assert 'if "%OUT:~1,1%"==":" set "ABS=1"' in all_lines  # C:\...
    assert 'if "%OUT:~0,2%"=="\\\\" set "ABS=1"' in all_lines  # \\server\share
    assert 'if not defined ABS set "OUT=%HERE%%OUT%"' in all_lines
    assert 'for %%I in ("%OUT%") do set "OUT=%%~fI"' in all_lines
    assert 'echo Done. Bundle folder: "%OUT%"' in all_lines


@pytest.mark.parametrize("client", [False, True])
def test_paths_with_spaces_and_quotes(client: bool) -> None:
    for line in lines(client):
        if line.startswith("powershell "):
            # The folder reaches PowerShell in an environment variable: an apostrophe or a
            # space in it needs no quoting, and cmd expands nothing inside the command.
            assert ("%" not in line and "$env:DASC_OUT" in line) or "DASC_KEY" in line, line
            assert line.count('"') == 2 and line.endswith('"'), line
            continue
        # In cmd, every use of the folder is inside double quotes (spaces, &, parentheses).
        unquoted = re.sub(r'"[^"]*"', "", line)
        assert "%OUT%" not in unquoted and "%STATUS%" not in unquoted, line


@pytest.mark.parametrize("client", [False, True])
def test_no_execution_policy_bypass(client: bool) -> None:
    text = script(client=client)
    assert "ExecutionPolicy" not in text and "Bypass" not in text
    ps = [line for line in lines(client) if line.startswith("powershell")]
    assert ps and all(line.startswith('powershell -NoProfile -Command "') for line in ps)


@pytest.mark.parametrize("client", [False, True])
def test_every_step_is_checked_and_a_failure_exits_non_zero(client: bool) -> None:
    all_lines = lines(client)
    main_part = all_lines[:index_of(all_lines, "if defined FAILED goto incomplete")]
    for i, line in enumerate(main_part):
        if line.startswith(("netsh ", "reg save")) or (
                line.startswith("powershell") and "Get-Command" in line):
            assert all_lines[i + 1].startswith("call :check %errorlevel% "), line
    # "Done." only when nothing failed; otherwise the failed steps and exit code 1.
    done = index_of(all_lines, "echo Done.")
    assert all_lines[done - 1] == "if defined FAILED goto incomplete"
    incomplete = all_lines[index_of(all_lines, ":incomplete"):]
    assert any("INCOMPLETE" in line for line in incomplete[:4])
    assert "exit /b 1" in incomplete[:5]
    check = all_lines[index_of(all_lines, ":check"):index_of(all_lines, ":check_ok")]
    assert 'set "FAILED=1"' in check and "echo FAILED: %~4, exit code %~1 1>&2" in check


@pytest.mark.parametrize("client", [False, True])
def test_access_denied_is_told_apart_from_absent(client: bool) -> None:
    all_lines = lines(client)
    export = all_lines[index_of(all_lines, ":export"):]
    text = "\n".join(export)
    # reg.exe's exit code 1 means either; .NET tells them apart, whatever the display language.
    assert "OpenSubKey($env:DASC_KEY)" in text
    assert "catch [System.Security.SecurityException] { exit 5 }" in text
    assert "if ($k) { exit 0 } else { exit 2 }" in text
    assert 'if "%RC%"=="2" goto export_absent' in export
    assert 'if "%RC%"=="5" goto export_denied' in export
    absent = export[export.index(":export_absent"):]
    assert absent[1:4] == ['> "%OUT%\\%~3" echo REGEDIT4', '>> "%OUT%\\%~3" echo.',
                           '>> "%OUT%\\%~3" echo [-%~2]']
    assert '>> "%STATUS%" echo absent export %~3 %~1' in absent
    denied = export[export.index(":export_denied"):]
    assert '>> "%STATUS%" echo denied export %~3 %~1' in denied and "exit /b 1" in denied


def test_status_lines_the_script_writes_are_what_server_reads() -> None:
    templates = [line.split(" echo ", 1)[1] for line in lines()
                 if line.startswith(('> "%STATUS%" echo', '>> "%STATUS%" echo'))]
    header, *steps = templates
    # What cmd writes for them, with a key, a file and an exit code filled in.
    filled = [t.replace("%~2", "netsh").replace("%~3", "urlacl.txt").replace(
        "%~4", "netsh http show urlacl").replace("%~1", "1") for t in steps]
    parsed = parse_collect_status("\r\n".join([header, *filled]) + "\r\n")
    assert {s.result for s in parsed} == set(RESULTS)


def test_server_script_gathers_the_new_cmdlets_and_keys() -> None:
    text = script()
    for cmdlet in ("Get-RemoteAccessHealth", "Get-RemoteAccess ", "Get-DAClientDnsConfiguration",
                   "Get-NetIPHttpsConfiguration", "Get-TlsCipherSuite"):
        name = cmdlet.strip()
        assert f"Get-Command {name} -ErrorAction SilentlyContinue" in text, name
    for name, key in EXPORTED_KEYS:
        assert f'"{key}" "{name}"' in text
    assert "Get-NetIPHttpsState" in text
    assert "SecurityProviders\\SCHANNEL" in text
    assert "Cryptography\\Configuration\\SSL\\00010002" in text
    assert "Lsa\\FipsAlgorithmPolicy" in text
    for needle in ("netsh http show urlacl", "netsh http show sslcert",
                   "netsh interface httpstunnel show interfaces", "ConvertTo-Json"):
        assert needle in text


def test_hives_warn_about_secrets() -> None:
    all_lines = lines()
    start = index_of(all_lines, "if not defined HIVES goto hivesdone")
    assert "secrets" in all_lines[start + 1] and "sensitive" in all_lines[start + 1]
    assert all_lines[start + 2].startswith("reg save HKLM\\SYSTEM")
    assert any(line.startswith("if defined HIVES echo") and "sensitive" in line
               for line in all_lines)


def test_client_variant_gathers_kb2980660_client_side() -> None:
    text = script(client=True)
    for needle in ("Get-NetAdapter -IncludeHidden", "Get-DnsClientNrptPolicy",
                   "netsh winhttp show proxy", "netsh interface httpstunnel show interfaces",
                   "Get-NetIPHttpsState", "HKU\\S-1-5-18\\Software\\Microsoft\\Windows\\"
                   "CurrentVersion\\Internet Settings\\Connections"):
        assert needle in text, needle
    for name, key in CLIENT_EXPORTED_KEYS:
        assert f'"{key}" "{name}"' in text
    assert "/hives" not in text and "reg save" not in text
    assert "Get-RemoteAccessHealth" not in text


def test_stdout_and_output_file(tmp_path: Path, capsysbinary: pytest.CaptureFixture[bytes]
                                ) -> None:
    assert main(["collect-script"]) == 0
    assert capsysbinary.readouterr().out == script().encode("ascii")
    out = tmp_path / "collect.cmd"
    assert main(["collect-script", "--output", str(out)]) == 0
    assert out.read_bytes() == script().encode("ascii")
    client = tmp_path / "client.cmd"
    assert main(["collect-script", "--client", "--output", str(client)]) == 0
    assert client.read_bytes() == script(client=True).encode("ascii")


def test_absent_key_file_is_read_as_absent(tmp_path: Path) -> None:
    # What the three echo lines write for a key that does not exist (echo ends with CRLF).
    key = dict(EXPORTED_KEYS)["v6transition.reg"]
    (tmp_path / "v6transition.reg").write_bytes(f"REGEDIT4\r\n\r\n[-{key}]\r\n".encode("ascii"))
    findings = {f.id: f for f in run_checks(load([str(tmp_path)]))}
    assert findings["server.iphttps.policy"].status is Status.PASS
    assert findings["server.ipv6.components"].status is Status.SKIP


def test_client_bundle_is_read_by_server(tmp_path: Path) -> None:
    """A bundle named as `collect-script --client` names its files."""
    ra = FIXTURES / "remoteaccess"
    shutil.copy(ra / "netadapters-ghost.json", tmp_path / "netadapters.json")
    shutil.copy(ra / "nrpt-client.json", tmp_path / "nrpt.json")
    shutil.copy(FIXTURES / "powershell" / "iphttps-bundle.json", tmp_path / "iphttps.json")
    (tmp_path / "winhttp-proxy.txt").write_bytes(
        b"\r\nCurrent WinHTTP proxy settings:\r\n\r\n    Direct access (no proxy server).\r\n")
    (tmp_path / "collect-status.txt").write_bytes(
        b"daserver-check collect status 1\r\nok cmdlet netadapters.json Get-NetAdapter\r\n"
        b"denied export localsystem-proxy.reg HKU\\S-1-5-18\\Software\\Microsoft\\Windows\\"
        b"CurrentVersion\\Internet Settings\\Connections\r\n")
    found = {str(f.id): f for f in run_checks(load([str(tmp_path)]))}
    assert found["client.adapters"].status is Status.FAIL
    assert found["server.nrpt"].status is Status.FAIL
    assert found["server.iphttps.state"].status is Status.FAIL
    # WinHTTP was read; the LocalSystem export was denied: recorded, and not a clean pass.
    assert found["client.system-proxy"].status is Status.PASS
    assert found["server.artifacts"].status is Status.ERROR
    assert "access denied" in found["server.artifacts"].detail
