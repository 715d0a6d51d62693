r"""The `.reg` export format written by `reg export` and regedit (docs/windows-facts.md §6).

Sans-IO: `parse_reg_export(data: bytes) -> RegExport`. Accepts what regedit writes (UTF-16LE
with BOM, "Windows Registry Editor Version 5.00", CRLF, hex lines wrapped with `,\` and two
spaces) and the older ANSI "REGEDIT4" files, plus what people do to them (LF line ends, UTF-8,
`;` comments, key and value deletions). Anything else raises `RegParseError` with the offset
(in characters of the decoded text) of the first thing that is wrong.

Values keep the bytes Windows stores (`data`), so a value read from a `.reg` file and the same
value read from a hive file compare equal: REG_SZ is UTF-16LE with its terminating NUL, as
regedit's `hex(1):` would spell it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass

from daserver_check.errors import DaserverCheckError

MAX_INPUT = 64 * 1024 * 1024  # exports of a whole SYSTEM hive stay far below this


class RegType(enum.IntEnum):
    """Registry value types (winnt.h REG_*)."""

    NONE = 0
    SZ = 1
    EXPAND_SZ = 2
    BINARY = 3
    DWORD = 4
    DWORD_BIG_ENDIAN = 5
    LINK = 6
    MULTI_SZ = 7
    RESOURCE_LIST = 8
    FULL_RESOURCE_DESCRIPTOR = 9
    RESOURCE_REQUIREMENTS_LIST = 10
    QWORD = 11


class RegParseError(DaserverCheckError, ValueError):
    """The input is not a .reg export. `offset` counts characters of the decoded text."""

    def __init__(self, message: str, offset: int, line: int = 0) -> None:
        where = f"line {line}, offset {offset}" if line else f"offset {offset}"
        super().__init__(f"{message} ({where})")
        self.offset = offset
        self.line = line


@dataclass(frozen=True, slots=True)
class RegValue:
    name: str  # "" for the default value (`@=`)
    type: int  # a RegType, or any other number hex(N) names
    data: bytes  # as stored by Windows; empty for a deletion
    deleted: bool = False

    def as_str(self) -> str | None:
        """REG_SZ/EXPAND_SZ text without the terminating NUL; None for other types."""
        if self.type not in (RegType.SZ, RegType.EXPAND_SZ, RegType.LINK):
            return None
        return decode_utf16z(self.data)

    def as_int(self) -> int | None:
        if self.type == RegType.DWORD and len(self.data) == 4:
            return int.from_bytes(self.data, "little")
        if self.type == RegType.DWORD_BIG_ENDIAN and len(self.data) == 4:
            return int.from_bytes(self.data, "big")
        if self.type == RegType.QWORD and len(self.data) == 8:
            return int.from_bytes(self.data, "little")
        return None

    def as_multi_sz(self) -> list[str] | None:
        if self.type != RegType.MULTI_SZ:
            return None
        text = self.data.decode("utf-16-le", errors="replace")
        return [s for s in text.split("\0") if s]


@dataclass(frozen=True, slots=True)
class RegKey:
    path: str  # as written between the brackets, e.g. HKEY_LOCAL_MACHINE\SYSTEM\...
    values: tuple[RegValue, ...]
    deleted: bool = False  # `[-HKEY...]`


@dataclass(frozen=True, slots=True)
class RegExport:
    version: str  # "5.00" or "REGEDIT4"
    keys: tuple[RegKey, ...]

    def key(self, path: str) -> RegKey | None:
        """The last section for `path` (case-insensitive, like the registry)."""
        want = path.casefold()
        found = None
        for key in self.keys:
            if key.path.casefold() == want:
                found = key
        return found


def decode_utf16z(data: bytes) -> str:
    text = data[: len(data) - len(data) % 2].decode("utf-16-le", errors="replace")
    end = text.find("\0")
    return text if end < 0 else text[:end]


def encode_sz(text: str) -> bytes:
    return (text + "\0").encode("utf-16-le", errors="surrogatepass")


_HEADER_V5 = "Windows Registry Editor Version 5.00"
_HEADER_V4 = "REGEDIT4"
_LINE_END = re.compile(r"\r\n|\n")
_HEX_TYPE = re.compile(r"hex(?:\(([0-9a-fA-F]{1,8})\))?:", re.ASCII)
_DWORD = re.compile(r"dword:([0-9a-fA-F]{1,8})\s*", re.ASCII)


def decode_text(data: bytes) -> str:
    """Decode an export: UTF-16LE with BOM (regedit 5), UTF-8 with or without BOM, else ANSI."""
    if len(data) > MAX_INPUT:
        raise RegParseError(f"input larger than {MAX_INPUT} bytes", MAX_INPUT)
    if data.startswith(b"\xff\xfe"):
        body = data[2:]
        if len(body) % 2:
            raise RegParseError("UTF-16 text with an odd number of bytes", len(data) - 1)
        try:
            return body.decode("utf-16-le")
        except UnicodeDecodeError as exc:
            raise RegParseError(f"invalid UTF-16LE: {exc.reason}", exc.start // 2) from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        # REGEDIT4 files are in the ANSI code page; cp1252 leaves 5 bytes undefined, latin-1
        # keeps them rather than failing on an otherwise readable file.
        return data.decode("latin-1")


def parse_reg_export(data: bytes) -> RegExport:
    return parse_reg_text(decode_text(data))


def _lines(text: str) -> Iterator[tuple[int, int, str]]:
    """(line number, offset, line) without the line end."""
    pos = 0
    number = 0
    for match in _LINE_END.finditer(text):
        number += 1
        yield number, pos, text[pos : match.start()]
        pos = match.end()
    if pos < len(text):
        yield number + 1, pos, text[pos:]


def parse_reg_text(text: str) -> RegExport:
    lines = _lines(text)
    version = ""
    for number, offset, line in lines:
        stripped = line.strip()
        if not stripped:
            continue
        if stripped == _HEADER_V5:
            version = "5.00"
        elif stripped == _HEADER_V4:
            version = "REGEDIT4"
        else:
            raise RegParseError(
                "not a .reg export: the first line must be "
                f"{_HEADER_V5!r} or {_HEADER_V4!r}",
                offset,
                number,
            )
        break
    if not version:
        raise RegParseError("empty input: no .reg header", len(text))

    keys: list[RegKey] = []
    current: tuple[str, bool] | None = None
    values: list[RegValue] = []
    for number, offset, line in lines:
        stripped = line.strip()
        if not stripped or stripped.startswith(";"):
            continue
        if stripped.startswith("["):
            if current is not None:
                keys.append(RegKey(current[0], tuple(values), current[1]))
            current = _parse_section(stripped, offset, number)
            values = []
            continue
        if current is None:
            raise RegParseError("value outside of a [key] section", offset, number)
        logical = line.lstrip()
        start = offset + (len(line) - len(logical))
        value_text, name_end = _split_name(logical, start, number)
        name, rest = value_text
        data_text = rest.lstrip()
        if data_text.startswith("hex") and data_text.rstrip().endswith("\\"):
            # Wrapped hex: regedit ends a line with `,\` and indents the next one by two
            # spaces. Collect the pieces in a list (linear, whatever the number of lines).
            parts = [data_text.rstrip()[:-1]]
            for _n, _o, more in lines:
                piece = more.strip()
                if piece.endswith("\\"):
                    parts.append(piece[:-1])
                    continue
                parts.append(piece)
                break
            data_text = "".join(parts)
        values.append(_parse_value(name, data_text, name_end, number))
    if current is not None:
        keys.append(RegKey(current[0], tuple(values), current[1]))
    return RegExport(version, tuple(keys))


def _parse_section(stripped: str, offset: int, number: int) -> tuple[str, bool]:
    end = stripped.rfind("]")
    if end < 0:
        raise RegParseError("key section without a closing ']'", offset, number)
    inner = stripped[1:end]
    deleted = inner.startswith("-")
    if deleted:
        inner = inner[1:]
    if not inner or not inner.upper().startswith("HKEY_"):
        raise RegParseError(f"key path must start with HKEY_: {inner[:60]!r}", offset, number)
    return inner, deleted


def _split_name(logical: str, start: int, number: int) -> tuple[tuple[str, str], int]:
    """Split `"name"=data` or `@=data`; return ((name, data), offset of data)."""
    if logical.startswith("@"):
        rest = logical[1:].lstrip()
        if not rest.startswith("="):
            raise RegParseError("expected '=' after '@'", start + 1, number)
        return ("", rest[1:]), start + len(logical) - len(rest) + 1
    if not logical.startswith('"'):
        raise RegParseError('expected a value line ("name"=... or @=...)', start, number)
    name, end = _read_quoted(logical, 0, start, number)
    rest = logical[end:].lstrip()
    if not rest.startswith("="):
        raise RegParseError("expected '=' after the value name", start + end, number)
    return (name, rest[1:]), start + len(logical) - len(rest) + 1


_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_UNESCAPE = re.compile(r"\\(.)", re.DOTALL)


def _read_quoted(text: str, begin: int, base: int, number: int) -> tuple[str, int]:
    """Read a "…" string with \\ and \" escapes starting at text[begin] == '"'.

    One regular expression with disjoint alternatives: linear, no backtracking blow-up.
    """
    match = _QUOTED.match(text, begin)
    if match is None:
        raise RegParseError("unterminated string", base + begin, number)
    return _UNESCAPE.sub(r"\1", match.group(1)), match.end()


def _parse_value(name: str, data_text: str, offset: int, number: int) -> RegValue:
    stripped = data_text.strip()
    if stripped == "-":
        return RegValue(name, RegType.NONE, b"", deleted=True)
    if stripped.startswith('"'):
        text, end = _read_quoted(stripped, 0, offset, number)
        if stripped[end:].strip():
            raise RegParseError("unexpected text after a string value", offset + end, number)
        return RegValue(name, RegType.SZ, encode_sz(text))
    match = _DWORD.fullmatch(stripped)
    if match:
        return RegValue(name, RegType.DWORD, int(match.group(1), 16).to_bytes(4, "little"))
    match = _HEX_TYPE.match(stripped)
    if match:
        kind = int(match.group(1), 16) if match.group(1) is not None else RegType.BINARY
        return RegValue(name, kind, _hex_bytes(stripped[match.end() :], offset + match.end(), number))
    raise RegParseError(f"unknown value data: {stripped[:40]!r}", offset, number)


_HEX_BYTE = re.compile(r"[0-9a-fA-F]{2}", re.ASCII)


def _hex_bytes(text: str, offset: int, number: int) -> bytes:
    body = text.strip().rstrip(",")
    if not body:
        return b""
    tokens = body.split(",")
    out = bytearray()
    for token in tokens:
        t = token.strip()
        if not _HEX_BYTE.fullmatch(t):
            raise RegParseError(f"bad hex byte {t[:8]!r}", offset, number)
        out.append(int(t, 16))
    return bytes(out)


# --- writing (used to build fixtures and in round-trip tests) -------------------------------


def format_value(value: RegValue) -> str:
    """One value the way regedit 5 writes it, wrapped at 80 columns with `,\\` + two spaces."""
    head = "@=" if value.name == "" else '"' + _escape(value.name) + '"='
    if value.deleted:
        return head + "-"
    if value.type == RegType.SZ and value.data.endswith(b"\0\0") and len(value.data) % 2 == 0:
        text = value.data[:-2].decode("utf-16-le", errors="surrogatepass")
        if "\0" not in text and "\r" not in text and "\n" not in text:
            return head + '"' + _escape(text) + '"'
    if value.type == RegType.DWORD and len(value.data) == 4:
        return head + f"dword:{int.from_bytes(value.data, 'little'):08x}"
    prefix = "hex:" if value.type == RegType.BINARY else f"hex({value.type:x}):"
    out = head + prefix
    hexes = [f"{b:02x}" for b in value.data]
    line = out
    lines: list[str] = []
    for i, h in enumerate(hexes):
        piece = h + ("," if i < len(hexes) - 1 else "")
        # regedit wraps so that no line exceeds 80 characters including the trailing `\`.
        if len(line) + len(piece) > 77 and i < len(hexes):
            lines.append(line + "\\")
            line = "  "
        line += piece
    lines.append(line)
    return "\r\n".join(lines)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')


def format_reg_export(keys: list[RegKey] | tuple[RegKey, ...]) -> bytes:
    """A regedit-5 export: UTF-16LE with BOM, CRLF, a blank line after each key."""
    parts = [_HEADER_V5, ""]
    for key in keys:
        parts.append(("[-" if key.deleted else "[") + key.path + "]")
        parts.extend(format_value(v) for v in key.values)
        parts.append("")
    text = "\r\n".join(parts) + "\r\n"
    return b"\xff\xfe" + text.encode("utf-16-le", errors="surrogatepass")
