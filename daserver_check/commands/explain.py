"""`daserver-check explain [FILE|-]` and `explain --code 0x2AFC`: what a client's error means.

A helpdesk holds the client's `netsh interface httpstunnel show interfaces` output (any display
language: it keys on the hex code and the URL) or `Get-NetIPHttpsState | ConvertTo-Json`. For
each interface the report gives the code's symbol and meaning, the causes KB 2980635, KB 2980660 and
docs/windows-facts.md list, and for each cause the daserver-check command that verifies it.

With `--format text` the explanation is written as prose here (a finding list would bury it);
every other format goes through report/ and follows the JSON contract.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from typing import Any

from daserver_check.errors import InputError
from daserver_check.findings import FindingId
from daserver_check.model import Finding, Report, Status, TargetReport

HELP = "explain a client's IP-HTTPS error code (netsh or PowerShell output, or --code)"
DESCRIPTION = """\
Read the output of `netsh interface httpstunnel show interfaces` (English or localized) or of
`Get-NetIPHttpsState | ConvertTo-Json` from FILE (or - for standard input), or take one code
with --code, and print the code's symbol, its meaning, the documented causes and, for each
cause, the daserver-check command that verifies it.

examples:
  daserver-check explain netsh.txt
  netsh interface httpstunnel show interfaces | daserver-check explain -
  daserver-check explain --code 0x2AFC      (also 2AFC, 11004, or -2146885613 as PowerShell prints it)
exit status: for FILE, 0 when every interface reports 0x0 and 2 when one reports an error;
for --code, 0 when the code is known and 3 when it is not (a lookup, not a verdict)."""

MAX_INPUT = 16 * 1024 * 1024


def configure(parser: argparse.ArgumentParser) -> None:
    from daserver_check.output import add_output_options

    parser.add_argument("file", nargs="?", metavar="FILE|-",
                        help="netsh or PowerShell JSON output; - reads standard input")
    parser.add_argument("--code", metavar="CODE",
                        help="explain one code: 0x2AFC or 2AFC (hex), 11004 (decimal), "
                        "-2146885613 (a signed HRESULT)")
    add_output_options(parser)


def run(args: argparse.Namespace) -> Report | int:
    if (args.file is None) == (args.code is None):
        raise InputError("give either FILE (or - for standard input) or --code CODE")
    report = explain_code(args.code) if args.code is not None else explain_file(args.file)
    from daserver_check.report import OutputFormat

    if getattr(args, "format", OutputFormat.TEXT) is OutputFormat.TEXT:
        from daserver_check.output import write_output

        write_output(render_text(report), getattr(args, "output", None))
        return int(report.exit_code)
    return report


def explain_code(text: str) -> Report:
    from daserver_check.codes import parse_code
    from daserver_check.model import format_code
    from daserver_check.server.state import state_finding

    try:
        code = parse_code(text)
    except ValueError as exc:
        raise InputError(f"--code: {exc}") from None
    finding = state_finding(code=code, interface="", source="--code", finding_id=FindingId.EXPLAIN_CODE)
    # `--code` is a lookup, not a verdict on a machine: a known code is answered (exit 0), an
    # unknown one is "cannot tell" (exit 3). Nothing is predicted: no interface was read.
    known = bool(finding.evidence.get("known"))
    finding = dataclasses.replace(
        finding, status=Status.PASS if known else Status.ERROR, predicts=(),
        title=f"{format_code(code)} {finding.evidence.get('symbol') or ''}".rstrip()
        + ("" if known else ": not a known IP-HTTPS or Windows code"))
    return Report("explain", (TargetReport(format_code(code), (finding,)),))


def _read(path: str) -> tuple[str, bytes]:
    if path == "-":
        data = sys.stdin.buffer.read(MAX_INPUT + 1)
        name = "-"
    else:
        from daserver_check.files import FileReadError, read_bounded

        try:
            data = read_bounded(path, limit=MAX_INPUT)
        except FileReadError as exc:
            raise InputError(f"{path}: {exc}") from None
        name = path
    if len(data) > MAX_INPUT:
        raise InputError(f"{name}: larger than {MAX_INPUT // (1024 * 1024)} MiB")
    return name, data


def explain_file(path: str) -> Report:
    name, data = _read(path)
    return Report("explain", (TargetReport(name, tuple(findings_from_bytes(data, name))),))


_RUN_INSTEAD = (
    "; explain reads a client's `netsh interface httpstunnel show interfaces` or"
    " `Get-NetIPHttpsState | ConvertTo-Json` (run on the DirectAccess client)"
)
_OTHER_KINDS = {
    "urlacl": "this is the output of `netsh http show urlacl` (the server's URL reservations):"
    " check it with `daserver-check server FILE`" + _RUN_INSTEAD,
    "sslcert": "this is the output of `netsh http show sslcert` (the server's SSL bindings):"
    " check it with `daserver-check server FILE`" + _RUN_INSTEAD,
}


def findings_from_bytes(data: bytes, source: str) -> list[Finding]:
    """Findings for every interface (or, in loose pasted text, every code) in the input."""
    from daserver_check.protocol.iphttps_state import IpHttpsJsonError, parse_iphttps_json
    from daserver_check.protocol.netsh import (
        NetshParseError,
        codes_in_text,
        decode_output,
        detect_kind,
        parse_httpstunnel,
    )
    from daserver_check.server.state import state_finding

    try:
        text = decode_output(data)
    except NetshParseError as exc:
        raise InputError(f"{source}: unreadable text: {exc}") from None
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        try:
            doc = parse_iphttps_json(data)
        except IpHttpsJsonError as exc:
            raise InputError(f"{source}: not Get-NetIPHttpsState JSON: {exc}") from None
        url = next((c.server_url for c in doc.configurations if c.server_url), None)
        findings = [
            state_finding(code=s.last_error, interface=s.profile or "IPHTTPSInterface", url=url,
                          status_text=s.status, source=source)
            for s in doc.states
        ]
        if not findings:
            raise InputError(f"{source}: JSON has no LastErrorCode (Get-NetIPHttpsState)")
        return findings
    other = _OTHER_KINDS.get(detect_kind(text) or "")
    if other is not None:
        # Its URLs would otherwise read as interfaces without a code (phantom interfaces).
        raise InputError(f"{source}: {other}")
    interfaces = parse_httpstunnel(text)
    structured = [i for i in interfaces if i.url is not None or i.role is not None]
    if structured:
        return [
            state_finding(code=i.last_error, interface=i.name, role=i.role, url=i.url,
                          status_text=i.status, source=source)
            for i in structured
        ]
    codes = codes_in_text(text)
    if not codes:
        raise InputError(
            f"{source}: no IP-HTTPS error code found (expected the output of `netsh interface "
            "httpstunnel show interfaces` or `Get-NetIPHttpsState | ConvertTo-Json`)"
        )
    # Loose text (a ticket, the KB articles' "Error: 0x643 … Error: 0x34"): every code in it.
    return [state_finding(code=c, interface="", source=source) for c in codes]


# --- text rendering --------------------------------------------------------------------------


def render_text(report: Report) -> str:
    from daserver_check.report.escape import inert_report

    report = inert_report(report)  # interface names and status text come from the input file
    out: list[str] = []
    for target in report.targets:
        for f in target.findings:
            out.extend(_finding_text(f))
            out.append("")
    verdict = {Status.PASS: "OK", Status.FAIL: "CRITICAL", Status.ERROR: "UNKNOWN"}.get(
        report.status, report.status.value.upper()
    )
    out.append(f"{verdict}: {len(report.all_findings())} interface(s)/code(s) explained")
    return "\n".join(out) + "\n"


def _finding_text(f: Finding) -> list[str]:
    ev: dict[str, Any] = dict(f.evidence)
    label = f.status.value.upper()
    if f.id is FindingId.EXPLAIN_CODE:
        label = "KNOWN" if f.status is Status.PASS else "UNKNOWN"
    lines = [f"[{label}] {f.title}"]
    if ev.get("url"):
        lines.append(f"  URL:     {ev['url']}")
    if ev.get("interface_status"):
        lines.append(f"  Status:  {ev['interface_status']}")
    if ev.get("code"):
        symbol = ev.get("symbol") or "(no symbol known)"
        lines.append(f"  Code:    {ev['code']}  {symbol}" + (f"  via {ev['via']}" if ev.get("via")
                                                                 else ""))
        lines.append(f"  Meaning: {ev.get('meaning', '')}")
        if ev.get("reported_by"):
            lines.append(f"  Shown by: {ev['reported_by']}")
    causes = ev.get("causes") or []
    if causes:
        lines.append("  Possible causes, and the command that verifies each:")
        for i, cause in enumerate(causes, 1):
            lines.append(f"    {i}. {cause['cause']}  [{cause['source']}]")
            lines.append(f"       checks: {', '.join(cause['checks'])}")
            for command in cause["commands"]:
                lines.append(f"       run:    {command}")
    elif f.status is Status.FAIL:
        lines.append("  " + f.remediation)
    return lines
