"""PowerShell `ConvertTo-Json` output, read once and bounded, for the cmdlet parsers.

Windows PowerShell 5.1 writes `Out-File -Encoding utf8` with a BOM and `>` as UTF-16LE with a
BOM; ConvertTo-Json writes one object for one result and an array for several, and
CIM instances carry `CimClass`, `CimInstanceProperties` and `CimSystemProperties` beside their
own properties (Microsoft Learn, "ConvertTo-Json"). The helpers here read the properties the
checks need, case-insensitively, and ignore everything else.

Sans-IO; errors raise `PsJsonError` with the offset.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from daserver_check.errors import DaserverCheckError
from daserver_check.protocol.iphttps_state import (
    MAX_DEPTH,
    MAX_INPUT,
    IpHttpsJsonError,
    decode_json_text,
    too_deep_at,
)

MAX_OBJECTS = 10_000  # objects visited in one document: a real one has a few hundred at most
MAX_TEXT = 4096  # characters kept of one string property (error texts are a few hundred)
MAX_LIST = 1000  # items kept of one list property

__all__ = ["MAX_INPUT", "PsJsonError", "load_json", "objects", "props"]


class PsJsonError(DaserverCheckError, ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (offset {offset})")
        self.offset = offset


def _check_depth(text: str) -> None:
    """Refuse nesting deeper than MAX_DEPTH before json.loads recurses into it."""
    offset = too_deep_at(text, MAX_DEPTH)
    if offset is not None:
        raise PsJsonError(f"JSON nested deeper than {MAX_DEPTH}", offset)


def load_json(data: bytes) -> Any:
    """The decoded document (dicts, lists, scalars)."""
    try:
        text = decode_json_text(data)
    except IpHttpsJsonError as exc:
        raise PsJsonError(str(exc).rsplit(" (offset", 1)[0], exc.offset) from None
    _check_depth(text)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise PsJsonError(f"not JSON: {exc.msg}", exc.pos) from None
    except (RecursionError, ValueError) as exc:
        # int() refuses more than 4300 digits (CPython's int_max_str_digits).
        raise PsJsonError(f"not JSON: {exc}", 0) from None


def props(node: Any) -> dict[str, Any] | None:
    """A JSON object's properties with lower-case names; None for anything else."""
    if not isinstance(node, dict):
        return None
    return {k.lower(): v for k, v in node.items() if isinstance(k, str)}


def objects(doc: Any) -> Iterator[dict[str, Any]]:
    """Every JSON object in the document, parents before children, bounded (MAX_OBJECTS)."""
    stack = [doc]
    seen = 0
    while stack and seen < MAX_OBJECTS:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(reversed(node[:MAX_LIST]))
            continue
        found = props(node)
        if found is None:
            continue
        seen += 1
        yield found
        stack.extend(reversed([v for v in found.values() if isinstance(v, (list, dict))]))


def text(value: Any) -> str | None:
    """A scalar as text (bounded); None for null, lists and objects."""
    if value is None or isinstance(value, (list, dict)):
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value)[:MAX_TEXT]


def texts(value: Any) -> tuple[str, ...]:
    """A string array (or one string, as ConvertTo-Json writes a one-item array) as a tuple."""
    if value is None:
        return ()
    items = value[:MAX_LIST] if isinstance(value, list) else [value]
    found = []
    for item in items:
        t = text(item)
        if t is not None and t.strip():
            found.append(t.strip())
    return tuple(found)


def integer(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**64 else None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, str):
        s = value.strip()
        try:
            return int(s, 16) if s.lower().startswith("0x") else int(s)
        except ValueError:
            return None
    return None


def boolean(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    return None
