"""Untrusted text made inert before a human-facing format shows it.

Much of a report quotes what a peer or a file said: a certificate's names, a `Server:` header,
an interface name from netsh output, a baseline's ids. A terminal acts on control characters
(ESC starts an ANSI sequence that can retitle the window, clear the screen or hide text), XML 1.0
forbids most of them (section 2.2, "Char"), and a lone surrogate cannot be encoded at all. So
the text, markdown, nagios and junit formats render a copy of the report in which each such
character is written out as a visible escape: `\\x1b`, `\\x00`, `\\x85`, `\\u202e`, `\\ud800`.
JSON needs none of this: its encoder escapes control characters itself and keeps exact strings.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from daserver_check.model import Finding, Report

# C0 controls but LF (kept only where a field may span lines), DEL, C1 controls, the Unicode
# bidirectional overrides and isolates (which reorder what a reader sees, CVE-2021-42574), line
# and paragraph separators, and surrogates (only ever lone in a Python str).
_UNSAFE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
                     "\ud800-\udfff]")
_UNSAFE_LINE = re.compile("[\n]|" + _UNSAFE.pattern)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: str, *, multiline: bool = False) -> str:
    """`text` with every unsafe character written as a visible escape (LF kept if multiline)."""
    return (_UNSAFE if multiline else _UNSAFE_LINE).sub(_escape, text)


def _value(value: Any) -> Any:
    if isinstance(value, str):
        return inert(value, multiline=True)
    if isinstance(value, Mapping):
        return {_value(k): _value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_value(v) for v in value]
    return value


def _finding(f: Finding) -> Finding:
    return dataclasses.replace(
        f,
        title=inert(f.title),
        detail=inert(f.detail, multiline=True),
        remediation=inert(f.remediation, multiline=True),
        remediation_steps=tuple(inert(s, multiline=True) for s in f.remediation_steps),
        address=inert(f.address) if f.address else f.address,
        evidence=_value(f.evidence),
    )


def inert_report(report: Report) -> Report:
    """A copy of `report` whose every string is inert (see the module text)."""
    return dataclasses.replace(
        report,
        command=inert(report.command),
        targets=tuple(
            dataclasses.replace(t, target=inert(t.target),
                                findings=tuple(_finding(f) for f in t.findings))
            for t in report.targets
        ),
    )


_SURROGATE = re.compile("[\ud800-\udfff]")


def json_surrogates(text: str) -> str:
    """JSON text with lone surrogates written as `\\uXXXX` escapes, which JSON allows and which
    read back to the same string; raw, they cannot be encoded as UTF-8 at all."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
