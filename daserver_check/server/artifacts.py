"""Load a bundle folder or single files into `Facts`, recognising each file by its content.

Names are not trusted (admins rename, zip tools mangle, collect-script names may change): a file
starting with `regf` is a hive, one whose text starts with a .reg header is an export, JSON is
PowerShell output, and netsh text is recognised by its structure (`netsh.detect_kind`).
"""

from __future__ import annotations

import os
from pathlib import Path

from daserver_check.errors import InputError
from daserver_check.files import FileReadError, read_bounded, read_head
from daserver_check.protocol.collect_status import (
    CollectStatusError,
    StepStatus,
    looks_like_status,
    parse_collect_status,
)
from daserver_check.protocol.iphttps_state import IpHttpsJsonError, parse_iphttps_json
from daserver_check.protocol.netsh import (
    NetshParseError,
    decode_output,
    detect_kind,
    parse_httpstunnel,
    parse_sslcert,
    parse_urlacl,
)
from daserver_check.protocol.proxy_settings import (
    ProxySettingsError,
    looks_like_winhttp,
    parse_winhttp_text,
)
from daserver_check.protocol.ps_json import PsJsonError
from daserver_check.protocol.reg import RegParseError, decode_text, parse_reg_text
from daserver_check.protocol.remote_access import parse_powershell
from daserver_check.server.extract import (
    add_netsh_httpstunnel,
    add_netsh_sslcert,
    add_netsh_urlacl,
    add_powershell,
    add_ps_document,
    add_registry,
)
from daserver_check.server.facts import Facts
from daserver_check.server.registry import HiveError, HiveView, RegExportView

MAX_FILE = 256 * 1024 * 1024  # a SYSTEM hive is tens of MiB; a text export far less
MAX_TEXT = 64 * 1024 * 1024
MAX_FILES = 500  # a bundle holds a dozen files

# What each file `collect-script` writes was meant to hold: when such a file is unusable, the
# checks that needed it are undecided (error), not skipped. Other names carry no promise.
INPUTS_BY_NAME: dict[str, tuple[str, ...]] = {
    "http.reg": ("reservations", "bindings"),
    "tcpip6.reg": ("ipv6",),
    "v6transition.reg": ("policy",),
    "proxymgr.reg": ("proxymgr",),
    "urlacl.txt": ("reservations",),
    "sslcert.txt": ("bindings",),
    "httpstunnel.txt": ("interfaces",),
    "iphttps.json": ("interfaces",),
    "system.hiv": ("reservations", "bindings", "ipv6", "proxymgr", "schannel", "fips"),
    "software.hiv": ("policy", "cipherorder"),
    "schannel.reg": ("schannel",),
    "cipherorder.reg": ("cipherorder",),
    "fips.reg": ("fips",),
    "ra-health.json": ("health",),
    "remoteaccess.json": ("remoteaccess",),
    "nrpt.json": ("nrpt",),
    "tls-ciphersuites.json": ("tlssuites",),
    "netadapters.json": ("adapters",),
    "winhttp-proxy.txt": ("winhttp",),
    "localsystem-proxy.reg": ("localsystem",),
}

# netsh run without administrator rights prints this instead of the data (English; localized
# builds print their own text, which then reads as "not recognisable").
_ELEVATION = ("requires elevation", "run as administrator")


def sniff(head: bytes) -> str | None:
    """"hive", "reg", "json", "netsh" or None from the first bytes of a file."""
    if head.startswith(b"regf"):
        return "hive"
    try:
        text = decode_output(head[: 4096 - (len(head[:4096]) % 2)])
    except NetshParseError:
        return None
    stripped = text.lstrip("\ufeff \t\r\n")
    if stripped.startswith(("Windows Registry Editor Version 5.00", "REGEDIT4")):
        return "reg"
    if stripped.startswith(("{", "[")):
        return "json"
    if looks_like_status(stripped):
        return "status"
    return "netsh"


def _files(paths: list[str]) -> list[tuple[Path, bool]]:
    """(file, explicit) for each path; folders are walked (sorted, bounded)."""
    found: list[tuple[Path, bool]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs.sort()
                for name in sorted(names):
                    found.append((Path(root) / name, False))
                    if len(found) > MAX_FILES:
                        raise InputError(f"{raw}: more than {MAX_FILES} files; is this a bundle?")
        elif path.exists():
            found.append((path, True))
        else:
            raise InputError(f"{raw}: no such file or folder")
    return found


def load(paths: list[str]) -> Facts:
    facts = Facts()
    for path, explicit in _files(paths):
        load_file(facts, path, explicit=explicit)
    if not facts.sources and not facts.problems and not facts.unusable:
        raise InputError(
            "no recognisable artifact in " + ", ".join(paths) + " (expected .reg exports, hive "
            "files, netsh output or Get-NetIPHttps* JSON, as `daserver-check collect-script` "
            "writes them)"
        )
    return facts


def _unusable(facts: Facts, path: Path, why: str, *, explicit: bool) -> None:
    """A file that holds no data: undecided for the inputs its name promises, else ignored."""
    name = str(path)
    inputs = INPUTS_BY_NAME.get(path.name.casefold(), ())
    if inputs:
        facts.mark_unusable(name, why, inputs)
        facts.problems.append((name, why))
    elif explicit:
        facts.problems.append((name, why))
    else:
        facts.ignored.append(name)


def _why_unrecognised(data: bytes) -> str:
    try:
        text = decode_output(data[:8192]).strip()
    except NetshParseError:
        return "not text, and not a registry hive"
    lowered = text.casefold()
    if any(marker in lowered for marker in _ELEVATION):
        return ("netsh's \"requires elevation\" message: the collect script ran without "
                "administrator rights (run it from an elevated prompt)")
    if lowered.startswith("error:"):
        first = text.splitlines()[0][:200]
        return f"an error message instead of data: {first!r}"
    return "no netsh, .reg or JSON output recognised in it"


def load_file(facts: Facts, path: Path, *, explicit: bool = True) -> None:
    name = str(path)
    try:
        # Only regular files, looked at through the opened descriptor: a FIFO, /dev/zero or a
        # link to either in a bundle is refused here, before anything reads it.
        head, info = read_head(name, 4096)
    except FileReadError as exc:
        raise InputError(f"{name}: {exc}") from None
    size = info.st_size
    if not head.strip(b"\x00\r\n\t \xef\xbb\xbf\xff\xfe"):
        _unusable(facts, path, "empty file", explicit=explicit)
        return
    kind = sniff(head)
    if kind == "hive":
        if size > MAX_FILE:
            _unusable(facts, path, f"hive larger than {MAX_FILE} bytes", explicit=True)
            return
        try:
            add_registry(facts, HiveView(name, name))
        except HiveError as exc:
            _unusable(facts, path, str(exc), explicit=True)
            return
        facts.sources.append((name, "hive"))
        return
    if size > MAX_TEXT:
        if explicit:
            facts.problems.append((name, f"larger than {MAX_TEXT} bytes"))
        else:
            facts.ignored.append(name)
        return
    try:
        data = read_bounded(name, limit=MAX_TEXT)
    except FileReadError as exc:
        raise InputError(f"{name}: {exc}") from None
    if kind == "reg":
        try:
            export = parse_reg_text(decode_text(data))
        except RegParseError as exc:
            _unusable(facts, path, f".reg export: {exc}", explicit=True)
            return
        add_registry(facts, RegExportView(export, name))
        facts.sources.append((name, "reg"))
        return
    if kind == "json":
        _load_json(facts, path, data, explicit=explicit)
        return
    if kind == "status":
        try:
            steps = parse_collect_status(decode_output(data))
        except (CollectStatusError, NetshParseError) as exc:
            facts.problems.append((name, f"collect status: {exc}"))
            return
        add_collect_status(facts, steps, path.parent)
        facts.sources.append((name, "collect status"))
        return
    try:
        text = decode_output(data)
    except NetshParseError as exc:
        facts.problems.append((name, str(exc)))
        return
    if looks_like_winhttp(text):
        try:
            facts.winhttp_proxy = parse_winhttp_text(text)
        except ProxySettingsError as exc:
            _unusable(facts, path, f"netsh winhttp: {exc}", explicit=explicit)
            return
        facts.winhttp_source = name
        facts.sources.append((name, "netsh winhttp"))
        return
    netsh_kind = detect_kind(text) if kind == "netsh" else None
    if netsh_kind == "urlacl":
        add_netsh_urlacl(facts, parse_urlacl(text), name)
    elif netsh_kind == "sslcert":
        add_netsh_sslcert(facts, parse_sslcert(text), name)
    elif netsh_kind == "httpstunnel":
        add_netsh_httpstunnel(facts, parse_httpstunnel(text), name)
    else:
        _unusable(facts, path, _why_unrecognised(data), explicit=False)
        return
    facts.sources.append((name, f"netsh {netsh_kind}"))


def _load_json(facts: Facts, path: Path, data: bytes, *, explicit: bool) -> None:
    """One JSON file: Get-NetIPHttps* objects, the other cmdlets' objects, or both."""
    name = str(path)
    try:
        iphttps = parse_iphttps_json(data)
    except IpHttpsJsonError:
        iphttps = None
    try:
        other = parse_powershell(data)
    except PsJsonError as exc:
        other = None
        error = str(exc)
    if iphttps is None and other is None:
        if error.startswith("JSON without"):
            error = ("no objects of a known cmdlet (Get-NetIPHttps*, Get-RemoteAccessHealth, "
                     "Get-RemoteAccess, Get-DAClientDnsConfiguration, Get-DnsClientNrptPolicy, "
                     "Get-TlsCipherSuite, Get-NetAdapter)")
        _unusable(facts, path, f"JSON: {error}", explicit=explicit)
        return
    if iphttps is not None:
        add_powershell(facts, iphttps, name)
    if other is not None:
        add_ps_document(facts, other, name)
    facts.sources.append((name, "powershell"))


def add_collect_status(facts: Facts, steps: tuple[StepStatus, ...], folder: Path) -> None:
    """Denied or failed steps make their inputs undecided (error); a missing cmdlet makes them
    "not available" (skip, with the reason)."""
    facts.collect_status.extend(steps)
    for step in steps:
        where = str(folder / step.file)
        inputs = INPUTS_BY_NAME.get(step.file.casefold(), ())
        if step.result == "denied":
            why = f"access denied while collecting ({step.detail or step.step})"
            facts.mark_unusable(where, why, inputs)
            facts.problems.append((where, why))
        elif step.result == "failed":
            why = f"the collect step failed ({step.detail or step.step})"
            facts.mark_unusable(where, why, inputs)
            facts.problems.append((where, why))
        elif step.result == "missing":
            for need in inputs:
                facts.not_available[need] = (f"{step.detail or step.step} does not exist on the "
                                             "collected system")
