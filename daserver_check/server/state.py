"""IP-HTTPS interface state → `server.iphttps.state` findings, and what a client code means.

Shared by `server` (a bundle's netsh/PowerShell output) and `explain` (a helpdesk's paste): the
code's symbol and meaning come from the catalogue (codes.py, docs/windows-facts.md §4), each documented
cause is listed with the finding ids that detect it and the daserver-check command that runs
those checks.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any

from daserver_check.codes import ClientErrorCode, lookup
from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status, format_code

STATE_ID = FindingId.SERVER_IPHTTPS_STATE

# Which command runs a check (the finding-id prefix decides). URL is replaced by the interface's
# URL when the output names it.
_COMMANDS: tuple[tuple[str, str], ...] = (
    (FindingId.IPHTTPS_PREFIX, "daserver-check probe URL --router-discovery"),
    ("proxy.", "daserver-check probe URL --proxy http://PROXY:PORT"),
    ("trace.", "daserver-check trace URL"),
    (FindingId.CERT_REPLACEMENT, "daserver-check cert NEW.pfx --against URL"),
    (FindingId.CERT_PRIVATE_KEY, "daserver-check cert CERT.pfx --url URL"),
    ("client.", "daserver-check server CLIENT-BUNDLE/  (bundle from daserver-check collect-script"
                " --client run on the client)"),
    ("server.", "daserver-check server BUNDLE/  (bundle from daserver-check collect-script run "
                "on the DirectAccess server)"),
    ("target.", "daserver-check probe URL"),
    ("dns.", "daserver-check probe URL"),
    ("tcp.", "daserver-check probe URL"),
    ("tls.", "daserver-check probe URL"),
    ("iphttps.", "daserver-check probe URL"),
    ("cert.", "daserver-check probe URL  (or offline: daserver-check cert CERT.pem --url URL)"),
)


def verify_command(check_id: str, url: str | None = None) -> str:
    for prefix, command in _COMMANDS:
        if check_id == prefix or check_id.startswith(prefix):
            return command.replace("URL", url or "https://PUBLIC-NAME/IPHTTPS")
    return f"daserver-check (check {check_id})"


@dataclass(frozen=True, slots=True)
class CodeInfo:
    code: int
    entry: ClientErrorCode | None  # the catalogue entry (directly or through an HRESULT)
    via: str  # "" or how the entry was found, e.g. "HRESULT_FROM_WIN32(0x643)"
    system_text: str | None  # FormatMessage text on Windows, else None

    @property
    def known(self) -> bool:
        return self.entry is not None or bool(self.system_text)


def describe(code: int) -> CodeInfo:
    entry = lookup(code)
    via = ""
    if entry is None and (code & 0xFFFF0000) == 0x80070000:
        # HRESULT_FROM_WIN32 (winerror.h): facility 7 wraps a Win32 error in the low 16 bits.
        entry = lookup(code & 0xFFFF)
        via = f"HRESULT_FROM_WIN32({format_code(code & 0xFFFF)})" if entry else ""
    return CodeInfo(code, entry, via, _system_text(code) if entry is None else None)


def _system_text(code: int) -> str | None:
    """Windows' own message for the code, when running on Windows (FormatMessage)."""
    if sys.platform != "win32":
        return None
    import ctypes

    try:
        text = ctypes.FormatError(code).strip()  # type: ignore[attr-defined,unused-ignore]
    except (OSError, ValueError, OverflowError):
        return None
    return text if text and not text.startswith("<no description") else None


def explanation(code: int, url: str | None = None) -> dict[str, Any]:
    """Symbol, meaning and causes (with verifying commands) as plain data for evidence/JSON."""
    info = describe(code)
    entry = info.entry
    causes = []
    if entry is not None:
        for cause in entry.causes:
            causes.append(
                {
                    "cause": cause.text,
                    "checks": list(cause.checks),
                    "commands": sorted({verify_command(c, url) for c in cause.checks}),
                    "source": cause.basis,
                    "inferred": cause.inferred,
                }
            )
    if entry is not None:
        meaning = entry.meaning
        if entry.generic_only:
            meaning += " (generic Windows meaning; no IP-HTTPS-specific cause is documented)"
    elif info.system_text:
        meaning = info.system_text + " (Windows system message; not in the IP-HTTPS catalogue)"
    else:
        meaning = (
            "Unknown code: not in daserver-check's catalogue of IP-HTTPS client errors, and no "
            "generic Windows meaning is known here. Look it up with `certutil -error "
            f"{format_code(code)}` or `net helpmsg {code}` on Windows."
        )
    return {
        "code": format_code(code),
        "symbol": entry.symbol if entry else None,
        "meaning": meaning,
        "via": info.via or None,
        "known": info.known,
        "generic_only": bool(entry and entry.generic_only),
        "reported_by": entry.reported_by if entry else None,
        "causes": causes,
    }


def remediation_steps(expl: dict[str, Any]) -> tuple[str, ...]:
    """One step per documented cause: what to rule out, and the command that checks it."""
    steps = []
    for cause in expl["causes"]:
        for command in cause["commands"]:
            run, _, note = command.partition("  (")
            note = f" ({note}" if note else ""
            steps.append(f"rule out: {cause['cause']} (checks: {', '.join(cause['checks'])}): "
                         f"`{run.strip()}`{note}")
    return tuple(steps)


def state_finding(
    *,
    code: int | None,
    interface: str = "IPHTTPSInterface",
    role: str | None = None,
    url: str | None = None,
    status_text: str | None = None,
    source: str = "",
    finding_id: FindingId = STATE_ID,
) -> Finding:
    """One finding for one interface (or one bare code): pass for 0x0, fail otherwise."""
    evidence: dict[str, Any] = {
        "interface": interface,
        "role": role,
        "url": url,
        "interface_status": status_text,
        "source": source,
    }
    if code is None:
        return Finding(
            finding_id,
            Status.ERROR,
            f"{interface}: no Last Error Code in the output",
            detail="The interface block has no 0x… error code; cannot tell its state.",
            evidence=evidence,
        )
    expl = explanation(code, url)
    evidence.update(expl)
    symbol = f" {expl['symbol']}" if expl["symbol"] else ""
    label = (f"{interface}" + (f" ({role})" if role else "")) if interface else "client code"
    if code == 0:
        return Finding(
            finding_id,
            Status.PASS,
            f"{label}: last error 0x0{symbol} — interface active",
            detail=status_text or expl["meaning"],
            evidence=evidence,
        )
    detail = expl["meaning"]
    if status_text:
        detail = f"Interface status: {status_text}. {detail}"
    if expl["via"]:
        detail += f" (read as {expl['via']})"
    steps = remediation_steps(expl) or (
        "No documented IP-HTTPS cause for this code: collect the server bundle "
        "(daserver-check collect-script) and run daserver-check server on it, and probe the URL.",
    )
    return Finding(
        finding_id,
        Status.FAIL,
        f"{label}: last error {format_code(code)}{symbol}",
        detail=detail,
        predicts=(code,),
        remediation_steps=steps,
        evidence=evidence,
    )
