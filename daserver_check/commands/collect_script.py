"""`daserver-check collect-script`: print a Windows cmd script that writes a bundle folder.

Admins rarely install Python on a production DirectAccess server, so the script uses only
built-in commands (reg, netsh, powershell) and changes nothing. `daserver-check server FOLDER`
reads what it writes, recognising each file by content. A key that does not exist is written
as a one-line REGEDIT4 file with a `[-KEY]` section, so the checks can tell "absent" (a verdict)
from "not collected" (a skip); a key the script may not read is recorded as `denied` in
`collect-status.txt`, which `server` reads too (undecided: error, not a verdict).

How the script behaves, and why:
- it checks for administrator rights first (`net session`, then `fltmc`: both need them) and
  stops with a message, instead of writing a bundle of "requires elevation" texts;
- the bundle folder is absolute, beside the script unless an absolute FOLDER is given: an
  elevated prompt starts in C:\\Windows\\System32, where a relative folder would land;
- `reg query` fails with exit code 1 for an absent key and for a denied one alike, and its
  message is localized; the script then asks .NET (`RegistryKey.OpenSubKey` returns null for an
  absent key and throws SecurityException when access is denied), whose answer does not depend
  on the display language;
- every step's exit code is checked; a failed step is named on the console and in
  `collect-status.txt`, and the script exits 1 instead of saying "Done.";
- PowerShell runs as `powershell -NoProfile -Command "…"`: the execution policy governs script
  files, not a -Command string (Microsoft Learn, "about_Execution_Policies"), so no
  `-ExecutionPolicy Bypass` is needed; the folder reaches PowerShell in an environment
  variable, so paths with spaces or apostrophes need no quoting;
- cmdlets that do not exist on that Windows (`Get-Command X -ErrorAction SilentlyContinue`)
  are recorded as `missing`, not as failures.
"""

from __future__ import annotations

import argparse

from daserver_check import __version__
from daserver_check.server.paths import CLIENT_EXPORTED_KEYS, EXPORTED_KEYS

HELP = "print a Windows cmd script that collects a bundle for `daserver-check server`"
DESCRIPTION = """\
Print a cmd script that uses only built-in Windows commands (reg export, netsh http show
urlacl/sslcert, netsh interface httpstunnel show interfaces, PowerShell cmdlets | ConvertTo-Json)
to write a bundle folder. The script reads, never changes, the system, and must run elevated.

  daserver-check collect-script --output collect-da.cmd
  (on the server, elevated)   collect-da.cmd [FOLDER] [/hives]
  (back on your machine)      daserver-check server FOLDER

The server script also gathers Get-RemoteAccessHealth, Get-RemoteAccess, the NRPT
(Get-DAClientDnsConfiguration), Get-NetIPHttpsConfiguration/State, the Schannel protocol and
cipher-suite policy (SCHANNEL key, SSL cipher-suite order policy, Get-TlsCipherSuite) and the
FIPS policy. `--client` prints the client-side variant (KB 2980660): IP-HTTPS state, hidden and
ghost adapters (Get-NetAdapter -IncludeHidden), DisabledComponents, WinHTTP and LocalSystem
proxy, the NRPT (Get-DnsClientNrptPolicy), cached proxies.

/hives also saves the SYSTEM and SOFTWARE hives with `reg save`. They can hold secrets (the
SYSTEM hive holds the boot key, SOFTWARE saved passwords): handle such a bundle as sensitive."""

_KEY_PREFIXES = (("HKEY_LOCAL_MACHINE\\", "HKLM\\"), ("HKEY_USERS\\", "HKU\\"))

# `Select-Object * -ExcludeProperty Cim*` keeps a CIM instance's own properties; embedded
# instances (Heuristics, NrptEntry) keep theirs at -Depth 5.
_SERVER_CMDLETS = (
    ("ra-health.json", "Get-RemoteAccessHealth", "RemoteAccessHealth",
     "@(Get-RemoteAccessHealth | Select-Object * -ExcludeProperty Cim*)"),
    ("remoteaccess.json", "Get-RemoteAccess", "RemoteAccess",
     "(Get-RemoteAccess | Select-Object * -ExcludeProperty Cim*)"),
    ("nrpt.json", "Get-DAClientDnsConfiguration", "DAClientDnsConfiguration",
     "(Get-DAClientDnsConfiguration | Select-Object * -ExcludeProperty Cim*)"),
    ("tls-ciphersuites.json", "Get-TlsCipherSuite", "TlsCipherSuite",
     "@(Get-TlsCipherSuite | Select-Object Name,CipherSuite,Cipher,Exchange,Hash,Certificate,"
     "Protocols)"),
)
_CLIENT_CMDLETS = (
    ("netadapters.json", "Get-NetAdapter", "NetAdapter",
     "@(Get-NetAdapter -IncludeHidden | Select-Object Name,InterfaceDescription,InterfaceIndex,"
     "Status,Hidden,Virtual,ComponentID,PnPDeviceID,MediaConnectionState)"),
    ("nrpt.json", "Get-DnsClientNrptPolicy", "DnsClientNrptPolicy",
     "@(Get-DnsClientNrptPolicy | Select-Object * -ExcludeProperty Cim*)"),
)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--output", metavar="FILE",
                        help="write the script to FILE instead of standard output")
    parser.add_argument("--force", action="store_true",
                        help="replace FILE when it exists (otherwise an existing file is kept)")
    parser.add_argument("--client", action="store_true",
                        help="the client-side variant: IP-HTTPS state, adapters, proxies, NRPT "
                        "of a DirectAccess client (KB 2980660)")


def _short(key: str) -> str:
    for long, short in _KEY_PREFIXES:
        if key.startswith(long):
            return short + key[len(long):]
    return key


def _powershell(body: str) -> str:
    """One `powershell -NoProfile -Command "…"` line. The body must hold no double quote and no
    percent sign (cmd would end the argument or expand a variable): checked here."""
    if '"' in body or "%" in body:
        raise ValueError("a PowerShell body for cmd may hold neither \" nor %")
    return f'powershell -NoProfile -Command "{body}"'


def _cmdlet_lines(file: str, cmdlet: str, wrapper: str, expression: str) -> list[str]:
    # Exit 3: the cmdlet does not exist here (recorded as missing); 1: it failed.
    body = (
        "$ErrorActionPreference = 'Stop'; "
        f"if (-not (Get-Command {cmdlet} -ErrorAction SilentlyContinue)) {{ exit 3 }}; "
        f"try {{ $r = {expression}; "
        f"[pscustomobject]@{{{wrapper} = $r}} | ConvertTo-Json -Depth 5 | "
        f"Out-File -Encoding utf8 -LiteralPath (Join-Path $env:DASC_OUT '{file}'); exit 0 }} "
        "catch { [Console]::Error.WriteLine($_.Exception.Message); exit 1 }"
    )
    return [_powershell(body), f"call :check %errorlevel% cmdlet {file} {cmdlet}"]


_IPHTTPS_JSON = _powershell(
    "$ErrorActionPreference = 'Stop'; "
    "if (-not (Get-Command Get-NetIPHttpsConfiguration -ErrorAction SilentlyContinue)) { exit 3 }; "
    "try { $c = @(Get-NetIPHttpsConfiguration | Select-Object Profile,Type,State,AuthMode,"
    "StrongCRLRequired,ServerURL,ProfileActivated); $s = @(Get-NetIPHttpsState | Select-Object "
    "InterfaceStatus,LastErrorCode); [pscustomobject]@{IPHttpsConfiguration = $c; IPHttpsState = "
    "$s} | ConvertTo-Json -Depth 4 | Out-File -Encoding utf8 -LiteralPath (Join-Path "
    "$env:DASC_OUT 'iphttps.json'); exit 0 } "
    "catch { [Console]::Error.WriteLine($_.Exception.Message); exit 1 }"
)

# .NET's answer for a key reg.exe could not read: 2 absent, 5 access denied, 1 other error.
_PROBE_KEY = _powershell(
    "try { $b = [Microsoft.Win32.RegistryKey]::OpenBaseKey([Microsoft.Win32.RegistryHive]"
    "$env:DASC_HIVE, 'Default'); $k = $b.OpenSubKey($env:DASC_KEY); "
    "if ($k) { exit 0 } else { exit 2 } } "
    "catch [System.Security.SecurityException] { exit 5 } "
    "catch [System.UnauthorizedAccessException] { exit 5 } "
    "catch { exit 1 }"
)


def _header(client: bool) -> list[str]:
    what = "client" if client else "server"
    default = "%COMPUTERNAME%-daserver-check" + ("-client" if client else "")
    usage = "collect.cmd [FOLDER]" + ("" if client else " [/hives]")
    return [
        "@echo off",
        f"rem daserver-check {__version__} collect script ({what}): writes a bundle folder for",
        "rem   daserver-check server FOLDER",
        "rem Built-in commands only; reads the system, changes nothing. Run it elevated on the",
        "rem DirectAccess " + ("client." if client else "server."),
        f"rem Usage: {usage}",
        "rem   FOLDER: where to write; a relative name is taken beside this script.",
        "setlocal EnableExtensions DisableDelayedExpansion",
        'set "HERE=%~dp0"',
        'set "OUT="',
        'set "HIVES="',
        'set "FAILED="',
        "set /a NFAILED=0",
        ":args",
        'if "%~1"=="" goto argsdone',
        *([] if client else ['if /i "%~1"=="/hives" (set "HIVES=1" & shift & goto args)']),
        'set "OUT=%~1"',
        "shift",
        "goto args",
        ":argsdone",
        "",
        "rem 1. Administrator rights first: without them netsh and reg answer with errors.",
        "net session >nul 2>&1",
        "if not errorlevel 1 goto elevated",
        "fltmc >nul 2>&1",
        "if not errorlevel 1 goto elevated",
        "echo ERROR: this script needs administrator rights. 1>&2",
        "echo Open Command Prompt with Run as administrator and start it again. Nothing was "
        "collected. 1>&2",
        "exit /b 2",
        ":elevated",
        "",
        "rem 2. An absolute bundle folder: an elevated prompt starts in C:\\Windows\\System32.",
        f'if not defined OUT set "OUT={default}"',
        'set "ABS="',
        'if "%OUT:~1,1%"==":" set "ABS=1"',
        'if "%OUT:~0,2%"=="\\\\" set "ABS=1"',
        'if not defined ABS set "OUT=%HERE%%OUT%"',
        'for %%I in ("%OUT%") do set "OUT=%%~fI"',
        'if not exist "%OUT%\\" mkdir "%OUT%"',
        'if not exist "%OUT%\\" goto nofolder',
        'set "STATUS=%OUT%\\collect-status.txt"',
        '> "%STATUS%" echo daserver-check collect status 1',
        'if errorlevel 1 goto nofolder',
        'set "DASC_OUT=%OUT%"',
        'echo Collecting into "%OUT%" ...',
        "",
    ]


def _exports(keys: tuple[tuple[str, str], ...], comment: str) -> list[str]:
    lines = [comment]
    for name, key in keys:
        lines.append(f'call :export "{_short(key)}" "{key}" "{name}"')
    return [*lines, ""]


def _server_body() -> list[str]:
    lines = _exports(
        EXPORTED_KEYS,
        "rem Registry keys (docs/windows-facts.md 2, 5-7): HTTP.sys reservations and SSL "
        "bindings, DisabledComponents (KB 929852), IP-HTTPS policy keys (KB 2980660), ProxyMgr "
        "(KB 2980635), Schannel protocols and ciphers, the cipher-suite order policy, FIPS",
    )
    lines += [
        "rem netsh output (any display language: daserver-check keys on URLs, hashes and codes)",
        'netsh http show urlacl > "%OUT%\\urlacl.txt" 2>&1',
        'call :check %errorlevel% netsh urlacl.txt "netsh http show urlacl"',
        'netsh http show sslcert > "%OUT%\\sslcert.txt" 2>&1',
        'call :check %errorlevel% netsh sslcert.txt "netsh http show sslcert"',
        'netsh interface httpstunnel show interfaces > "%OUT%\\httpstunnel.txt" 2>&1',
        'call :check %errorlevel% netsh httpstunnel.txt "netsh interface httpstunnel show '
        'interfaces"',
        "",
        "rem PowerShell cmdlets as JSON, where they exist (Windows Server 2012 and later)",
        _IPHTTPS_JSON,
        "call :check %errorlevel% cmdlet iphttps.json Get-NetIPHttpsConfiguration",
    ]
    for item in _SERVER_CMDLETS:
        lines += _cmdlet_lines(*item)
    lines += [
        "",
        "rem /hives: whole SYSTEM and SOFTWARE hives. They can hold secrets.",
        "if not defined HIVES goto hivesdone",
        "echo WARNING: /hives copies the SYSTEM and SOFTWARE hives. They can hold secrets: the "
        "SYSTEM hive holds the boot key, SOFTWARE saved passwords. Handle the bundle as sensitive.",
        'reg save HKLM\\SYSTEM "%OUT%\\SYSTEM.hiv" /y >nul 2>&1',
        'call :check %errorlevel% hive SYSTEM.hiv "reg save HKLM\\SYSTEM"',
        'reg save HKLM\\SOFTWARE "%OUT%\\SOFTWARE.hiv" /y >nul 2>&1',
        'call :check %errorlevel% hive SOFTWARE.hiv "reg save HKLM\\SOFTWARE"',
        ":hivesdone",
        "",
    ]
    return lines


def _client_body() -> list[str]:
    lines = _exports(
        CLIENT_EXPORTED_KEYS,
        "rem Registry keys: DisabledComponents (KB 929852), IP-HTTPS policy keys (KB 2980660), "
        "ProxyMgr (KB 2980635), LocalSystem's proxy settings (the IP Helper service runs as "
        "LocalSystem)",
    )
    lines += [
        "rem IP-HTTPS state and the WinHTTP proxy (netsh; any display language)",
        'netsh interface httpstunnel show interfaces > "%OUT%\\httpstunnel.txt" 2>&1',
        'call :check %errorlevel% netsh httpstunnel.txt "netsh interface httpstunnel show '
        'interfaces"',
        'netsh winhttp show proxy > "%OUT%\\winhttp-proxy.txt" 2>&1',
        'call :check %errorlevel% netsh winhttp-proxy.txt "netsh winhttp show proxy"',
        "",
        "rem PowerShell cmdlets as JSON, where they exist (Windows 8 and later)",
        _IPHTTPS_JSON,
        "call :check %errorlevel% cmdlet iphttps.json Get-NetIPHttpsConfiguration",
    ]
    for item in _CLIENT_CMDLETS:
        lines += _cmdlet_lines(*item)
    return [*lines, ""]


_FOOTER = [
    "if defined FAILED goto incomplete",
    'echo Done. Bundle folder: "%OUT%"',
    'echo Copy it and run:  daserver-check server "%OUT%"',
    'if defined HIVES echo It holds copies of the SYSTEM and SOFTWARE hives: handle it as '
    "sensitive and delete it when done.",
    "exit /b 0",
    "",
    ":incomplete",
    "echo. 1>&2",
    'echo Collection INCOMPLETE: %NFAILED% step(s) failed, named above and in "%STATUS%". 1>&2',
    'echo What was collected is in "%OUT%"; daserver-check server reads it and says what is '
    "missing. 1>&2",
    "exit /b 1",
    "",
    ":nofolder",
    'echo ERROR: cannot create or write the folder "%OUT%". Nothing was collected. 1>&2',
    "exit /b 1",
    "",
    ":check",
    "rem %1 exit code, %2 kind of step, %3 file, %4 what ran. 3 from a cmdlet step: the cmdlet",
    "rem does not exist on this Windows (recorded, not a failure).",
    'if "%~1"=="0" goto check_ok',
    'if "%~2"=="cmdlet" if "%~1"=="3" goto check_missing',
    'set "FAILED=1"',
    "set /a NFAILED+=1",
    "echo FAILED: %~4, exit code %~1 1>&2",
    '>> "%STATUS%" echo failed %~2 %~3 %~4, exit code %~1',
    "exit /b 1",
    ":check_ok",
    '>> "%STATUS%" echo ok %~2 %~3 %~4',
    "exit /b 0",
    ":check_missing",
    "echo note: %~4 does not exist on this Windows; skipped.",
    '>> "%STATUS%" echo missing %~2 %~3 %~4',
    "exit /b 0",
    "",
    ":export",
    "rem %1 key as reg.exe takes it, %2 key as .reg files spell it, %3 file name.",
    "rem An absent key becomes a [-KEY] section: a fact. Access denied is recorded as denied.",
    'reg query "%~1" >nul 2>&1',
    "if errorlevel 1 goto export_probe",
    'reg export "%~1" "%OUT%\\%~3" /y >nul 2>&1',
    "if errorlevel 1 goto export_probe",
    '>> "%STATUS%" echo ok export %~3 %~1',
    "exit /b 0",
    ":export_probe",
    "rem reg.exe exits 1 both for an absent key and for access denied, with a localized text:",
    "rem ask .NET, whose answer does not depend on the display language.",
    'set "DASC_KEY=%~1"',
    'set "DASC_HIVE=LocalMachine"',
    'if /i "%DASC_KEY:~0,4%"=="HKU\\" (set "DASC_HIVE=Users" & set "DASC_KEY=%DASC_KEY:~4%")',
    'if /i "%DASC_KEY:~0,5%"=="HKLM\\" set "DASC_KEY=%DASC_KEY:~5%"',
    _PROBE_KEY,
    'set "RC=%errorlevel%"',
    'if "%RC%"=="2" goto export_absent',
    'if "%RC%"=="5" goto export_denied',
    'set "FAILED=1"',
    "set /a NFAILED+=1",
    "echo FAILED: reg export %~1, error code %RC% 1>&2",
    '>> "%STATUS%" echo failed export %~3 %~1',
    "exit /b 1",
    ":export_absent",
    '> "%OUT%\\%~3" echo REGEDIT4',
    '>> "%OUT%\\%~3" echo.',
    '>> "%OUT%\\%~3" echo [-%~2]',
    '>> "%STATUS%" echo absent export %~3 %~1',
    "exit /b 0",
    ":export_denied",
    'set "FAILED=1"',
    "set /a NFAILED+=1",
    "echo FAILED: reg export %~1: access denied 1>&2",
    '>> "%STATUS%" echo denied export %~3 %~1',
    "exit /b 1",
]


def script(client: bool = False) -> str:
    lines = [*_header(client), *(_client_body() if client else _server_body()), *_FOOTER]
    # cmd.exe mis-reads labels and `call :label` in files with bare LF line ends: write CRLF.
    return "\r\n".join(lines) + "\r\n"


def run(args: argparse.Namespace) -> int:
    text = script(client=args.client)
    if args.output:
        from daserver_check.output import write_output

        write_output(text, args.output, force=args.force)
    else:
        from daserver_check.output import write_stdout_bytes

        # Bytes, so Windows' text mode does not turn CRLF into CR CR LF.
        write_stdout_bytes(text.encode("ascii"))
    return 0
