"""`daserver-check collect-script`: print a Windows cmd script that writes a bundle folder.

Admins rarely install Python on a production DirectAccess server, so the script uses only
built-in commands (reg, netsh, powershell) and changes nothing. `daserver-check server FOLDER`
reads what it writes, recognising each file by content. A key that does not exist is written
as a one-line REGEDIT4 file with a `[-KEY]` section, so the checks can tell "absent" (a verdict)
from "not collected" (a skip).
"""

from __future__ import annotations

import argparse

from daserver_check import __version__
from daserver_check.server.paths import EXPORTED_KEYS

HELP = "print a Windows cmd script that collects a bundle for `daserver-check server`"
DESCRIPTION = """\
Print a cmd script that uses only built-in Windows commands (reg export, netsh http show
urlacl/sslcert, netsh interface httpstunnel show interfaces, PowerShell Get-NetIPHttps* |
ConvertTo-Json) to write a bundle folder. The script reads, never changes, the system.

  daserver-check collect-script --output collect-da.cmd
  (on the server, elevated)   collect-da.cmd [FOLDER] [/hives]
  (back on your machine)      daserver-check server FOLDER

/hives also saves the SYSTEM and SOFTWARE hives with `reg save` (large; optional)."""

_KEY_PREFIX = "HKEY_LOCAL_MACHINE\\"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", metavar="FILE",
                        help="write the script to FILE instead of standard output")
    parser.add_argument("--force", action="store_true",
                        help="replace FILE when it exists (otherwise an existing file is kept)")


def script() -> str:
    lines = [
        "@echo off",
        f"rem daserver-check {__version__} collect script: writes a bundle folder for",
        "rem   daserver-check server FOLDER",
        "rem Built-in commands only; reads the system, changes nothing. Run elevated on the",
        "rem DirectAccess server (or on a client, for its ProxyMgr and interface state).",
        "rem Usage: collect.cmd [FOLDER] [/hives]",
        "setlocal EnableExtensions",
        'set "OUT=%~1"',
        'if "%OUT%"=="" set "OUT=%COMPUTERNAME%-daserver-check"',
        'if /i "%OUT%"=="/hives" set "OUT=%COMPUTERNAME%-daserver-check"',
        'if not exist "%OUT%\\" mkdir "%OUT%" || (echo cannot create folder "%OUT%" & exit /b 1)',
        'echo Collecting into "%OUT%" ...',
        "",
        "rem Registry keys (docs/windows-facts.md 5-7): HTTP.sys reservations and SSL bindings,",
        "rem DisabledComponents (KB 929852), IP-HTTPS policy keys (KB 2980660), ProxyMgr (KB 2980635)",
    ]
    for name, key in EXPORTED_KEYS:
        short = "HKLM\\" + key[len(_KEY_PREFIX):] if key.startswith(_KEY_PREFIX) else key
        lines.append(f'call :export "{short}" "{key}" "%OUT%\\{name}"')
    lines += [
        "",
        "rem netsh output (any display language: daserver-check keys on URLs, hashes and codes)",
        'netsh http show urlacl > "%OUT%\\urlacl.txt" 2>&1',
        'netsh http show sslcert > "%OUT%\\sslcert.txt" 2>&1',
        'netsh interface httpstunnel show interfaces > "%OUT%\\httpstunnel.txt" 2>&1',
        "",
        "rem IP-HTTPS configuration and state as JSON (Windows 8 / Server 2012 and later)",
        "powershell -NoProfile -ExecutionPolicy Bypass -Command \"$c = @(Get-NetIPHttpsConfiguration"
        " -ErrorAction SilentlyContinue | Select-Object Profile,Type,State,AuthMode,"
        "StrongCRLRequired,ServerURL,ProfileActivated); $s = @(Get-NetIPHttpsState -ErrorAction "
        "SilentlyContinue | Select-Object InterfaceStatus,LastErrorCode); [pscustomobject]@{"
        "IPHttpsConfiguration = $c; IPHttpsState = $s} | ConvertTo-Json -Depth 4 | Out-File "
        "-Encoding utf8 -FilePath '%OUT%\\iphttps.json'\"",
        "",
        'set "HIVES="',
        'if /i "%~1"=="/hives" set "HIVES=1"',
        'if /i "%~2"=="/hives" set "HIVES=1"',
        'if defined HIVES (',
        '  reg save HKLM\\SYSTEM "%OUT%\\SYSTEM.hiv" /y >nul',
        '  reg save HKLM\\SOFTWARE "%OUT%\\SOFTWARE.hiv" /y >nul',
        ")",
        "",
        'echo Done. Copy "%OUT%" and run:  daserver-check server "%OUT%"',
        "exit /b 0",
        "",
        ":export",
        "rem %1 short key, %2 full key, %3 file. A missing key becomes a [-KEY] section: 'absent'.",
        'reg query "%~1" >nul 2>&1',
        "if errorlevel 1 (",
        '  > "%~3" echo REGEDIT4',
        '  >> "%~3" echo.',
        '  >> "%~3" echo [-%~2]',
        ") else (",
        '  reg export "%~1" "%~3" /y >nul',
        ")",
        "exit /b 0",
    ]
    # cmd.exe mis-reads labels and `call :label` in files with bare LF line ends: write CRLF.
    return "\r\n".join(lines) + "\r\n"


def run(args: argparse.Namespace) -> int:
    text = script()
    if args.output:
        from daserver_check.output import write_output

        write_output(text, args.output, force=args.force)
    else:
        from daserver_check.output import write_stdout_bytes

        # Bytes, so Windows' text mode does not turn CRLF into CR CR LF.
        write_stdout_bytes(text.encode("ascii"))
    return 0
