"""`Get-NetIPHttpsState | ConvertTo-Json` and `Get-NetIPHttpsConfiguration | ConvertTo-Json`
(docs/windows-facts.md §4).

ConvertTo-Json writes one object for one result and an array for several; the collect script
wraps both commands in one object (`{"IPHttpsConfiguration": …, "IPHttpsState": …}`). Objects
are told apart by their properties, not by file name: `LastErrorCode` → state, `ServerURL` →
configuration. PowerShell writes an HRESULT such as 0x80092013 as a signed Int32
(-2146885613); it is read back as the unsigned 32-bit code.

Sans-IO; errors raise `IpHttpsJsonError` with the offset.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from daserver_check.errors import DaserverCheckError

MAX_INPUT = 16 * 1024 * 1024
MAX_DEPTH = 32  # ConvertTo-Json's own default depth is 2; anything deeper is not ours


class IpHttpsJsonError(DaserverCheckError, ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (offset {offset})")
        self.offset = offset


@dataclass(frozen=True, slots=True)
class IpHttpsState:
    last_error: int | None
    status: str | None
    profile: str | None = None


@dataclass(frozen=True, slots=True)
class IpHttpsConfiguration:
    server_url: str | None
    auth_mode: str | None
    state: str | None
    type: str | None
    profile: str | None = None
    strong_crl_required: bool | None = None


@dataclass(frozen=True, slots=True)
class IpHttpsJson:
    states: tuple[IpHttpsState, ...]
    configurations: tuple[IpHttpsConfiguration, ...]


def decode_json_text(data: bytes) -> str:
    if len(data) > MAX_INPUT:
        raise IpHttpsJsonError(f"input larger than {MAX_INPUT} bytes", MAX_INPUT)
    if data.startswith(b"\xff\xfe"):  # PowerShell 5 `>` writes UTF-16LE with a BOM
        if len(data) % 2:
            raise IpHttpsJsonError("UTF-16 text with an odd number of bytes", len(data) - 1)
        try:
            return data[2:].decode("utf-16-le")
        except UnicodeDecodeError as exc:
            raise IpHttpsJsonError(f"invalid UTF-16: {exc.reason}", exc.start + 2) from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise IpHttpsJsonError(f"invalid UTF-8: {exc.reason}", exc.start) from None


def too_deep_at(text: str, max_depth: int) -> int | None:
    """The offset where JSON text nests deeper than `max_depth`, or None: checked before
    json.loads recurses into it (one linear scan, strings skipped)."""
    depth = 0
    in_string = False
    escaped = False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > max_depth:
                return i
        elif ch in "]}":
            depth -= 1
    return None


def _check_depth(text: str) -> None:
    offset = too_deep_at(text, MAX_DEPTH)
    if offset is not None:
        raise IpHttpsJsonError(f"JSON nested deeper than {MAX_DEPTH}", offset)


def parse_iphttps_json(data: bytes) -> IpHttpsJson:
    text = decode_json_text(data)
    _check_depth(text)
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise IpHttpsJsonError(f"not JSON: {exc.msg}", exc.pos) from None
    except (RecursionError, ValueError) as exc:
        raise IpHttpsJsonError(f"not JSON: {exc}", 0) from None
    states: list[IpHttpsState] = []
    configs: list[IpHttpsConfiguration] = []
    _collect(doc, states, configs, 0)
    if not states and not configs:
        raise IpHttpsJsonError(
            "JSON without Get-NetIPHttpsState (LastErrorCode) or Get-NetIPHttpsConfiguration "
            "(ServerURL) objects",
            0,
        )
    return IpHttpsJson(tuple(states), tuple(configs))


def _collect(node: Any, states: list[IpHttpsState], configs: list[IpHttpsConfiguration],
             depth: int) -> None:
    if depth > MAX_DEPTH:
        return
    if isinstance(node, list):
        for item in node:
            _collect(item, states, configs, depth + 1)
        return
    if not isinstance(node, dict):
        return
    keys = {k.lower(): v for k, v in node.items() if isinstance(k, str)}
    if "lasterrorcode" in keys:
        states.append(
            IpHttpsState(
                last_error=_code(keys.get("lasterrorcode")),
                status=_status(keys.get("interfacestatus")),
                profile=_text(keys.get("profile")),
            )
        )
        return
    if "serverurl" in keys:
        configs.append(
            IpHttpsConfiguration(
                server_url=_text(keys.get("serverurl")),
                auth_mode=_text(keys.get("authmode")),
                state=_text(keys.get("state")),
                type=_text(keys.get("type")),
                profile=_text(keys.get("profile")),
                strong_crl_required=(
                    keys["strongcrlrequired"]
                    if isinstance(keys.get("strongcrlrequired"), bool)
                    else None
                ),
            )
        )
        return
    for value in node.values():
        if isinstance(value, (list, dict)):
            _collect(value, states, configs, depth + 1)


def _code(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value & 0xFFFFFFFF if -(2**31) <= value < 2**32 else None
    if isinstance(value, float) and value.is_integer():
        return _code(int(value))
    if isinstance(value, str):
        s = value.strip()
        try:
            number = int(s, 16) if s.lower().startswith("0x") else int(s)
        except ValueError:
            return None
        return _code(number)
    return None


def _status(value: Any) -> str | None:
    """InterfaceStatus without a closing full stop (some builds and pasted KB text end it with
    one; reports quote the status inside a sentence of their own)."""
    text = _text(value)
    if text is None:
        return None
    text = text.strip()
    if text.endswith(".") and not text.endswith(".."):
        text = text[:-1].rstrip()
    return text or None


def _text(value: Any) -> str | None:
    if value is None or isinstance(value, (list, dict)):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)
