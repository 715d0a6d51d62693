"""The text of `netsh http show urlacl`, `netsh http show sslcert` and
`netsh interface httpstunnel show interfaces` (REFERENCE.md §4, §5).

netsh is localized: labels change with the display language ("Reserved URL" is "Reservierte
URL" in German), and so does the code page of redirected output. The parsers therefore key on
structure and on values that never get translated — URLs, SDDL strings, `IP:port`, 40-digit
certificate hashes, `{GUID}`s and `0x…` error codes — and read English labels only for the
details that have no such shape (DS mapper usage, negotiate client certificate).

Sans-IO: bytes in, typed values out. Anything that cannot be text raises `NetshParseError`
with the byte offset; text without the expected structure yields empty lists, and
`detect_kind` tells which of the three outputs (if any) a text is.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from daserver_check.errors import DaserverCheckError

MAX_INPUT = 16 * 1024 * 1024
MAX_LINE = 64 * 1024


class NetshParseError(DaserverCheckError, ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (offset {offset})")
        self.offset = offset


def decode_output(data: bytes) -> str:
    """Decode redirected console output.

    `cmd > file` writes the OEM code page (cp437/cp850…), PowerShell 5 `>` writes UTF-16LE with a
    BOM, `Out-File -Encoding utf8` UTF-8 with a BOM. Labels may come out garbled in the wrong
    code page; the values we key on are ASCII, so cp850 as the last resort is safe.
    """
    if len(data) > MAX_INPUT:
        raise NetshParseError(f"input larger than {MAX_INPUT} bytes", MAX_INPUT)
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        codec = "utf-16-le" if data[0] == 0xFF else "utf-16-be"
        body = data[2:]
        if len(body) % 2:
            raise NetshParseError("UTF-16 text with an odd number of bytes", len(data) - 1)
        try:
            return body.decode(codec)
        except UnicodeDecodeError as exc:
            raise NetshParseError(f"invalid UTF-16: {exc.reason}", exc.start + 2) from None
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if len(data) >= 4 and len(data) % 2 == 0 and data[1::2].count(0) > len(data) // 4:
        # UTF-16LE without a BOM (every other byte NUL for ASCII text).
        try:
            return data.decode("utf-16-le")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp850")


# --- line level ------------------------------------------------------------------------------

# "Label   : value" or "Label: value": the separator is the first colon followed by whitespace
# or the end of the line, so labels that contain a colon themselves ("IP:port", "Hostname:port")
# stay whole and values may contain colons ("0.0.0.0:443", "D:(A;;GX;;;WD)"). A plain search,
# no backtracking regular expression: linear in the line length.
_SEPARATOR = re.compile(r":(?:\s|$)")
_DASHES = re.compile(r"^\s*-{3,}\s*$")


@dataclass(frozen=True, slots=True)
class Pair:
    indent: int
    label: str
    value: str
    line: int


def _split_lines(text: str) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(text.splitlines(), 1):
        yield number, line[:MAX_LINE].rstrip()


def _pair(number: int, line: str) -> Pair | None:
    m = _SEPARATOR.search(line)
    if m is None:
        return None
    label = line[: m.start()]
    stripped = label.strip()
    if not stripped:
        return None
    indent = len(label.expandtabs()) - len(label.expandtabs().lstrip())
    return Pair(indent, stripped, line[m.end() :].strip(), number)


# --- shapes of values that no translation changes --------------------------------------------

_URL = re.compile(r"^https?://\S+$", re.IGNORECASE)
_SDDL = re.compile(r"^(?:[OGDS]:)\S*$")
_IP_PORT = re.compile(r"^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.%\w]*\]):\d{1,5}$")
_HOST_PORT = re.compile(r"^[A-Za-z0-9*_.-]+:\d{1,5}$")
_HASH = re.compile(r"^[0-9A-Fa-f]{40}$")
_GUID = re.compile(r"^\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?$")
_HEX_CODE = re.compile(r"^0x[0-9A-Fa-f]{1,8}$")
_CODE_IN_TEXT = re.compile(r"\b0x[0-9A-Fa-f]{1,8}\b")


def normalize_guid(text: str) -> str:
    return "{" + text.strip("{}").lower() + "}"


# --- netsh http show urlacl ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class UrlAclEntry:
    url: str
    sddl: str | None
    users: tuple[str, ...] = ()
    line: int = 0


def parse_urlacl(data: bytes | str) -> list[UrlAclEntry]:
    text = decode_output(data) if isinstance(data, bytes) else data
    entries: list[UrlAclEntry] = []
    url: str | None = None
    url_line = 0
    sddl: str | None = None
    users: list[str] = []

    def flush() -> None:
        if url is not None:
            entries.append(UrlAclEntry(url, sddl, tuple(users), url_line))

    for number, line in _split_lines(text):
        pair = _pair(number, line)
        if pair is None:
            continue
        if _URL.match(pair.value):
            flush()
            url, url_line, sddl, users = pair.value, number, None, []
        elif url is not None and _SDDL.match(pair.value) and sddl is None:
            sddl = pair.value
        elif url is not None and "\\" in pair.value:
            # "User: \Everyone", "Benutzer: NT SERVICE\SstpSvc" — account names carry a backslash.
            users.append(pair.value)
    flush()
    return entries


# --- netsh http show sslcert -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SslCertBinding:
    endpoint: str  # "0.0.0.0:443", "da.contoso.com:443", "443" (central store)
    kind: str  # "ip", "hostname", "ccs"
    cert_hash: str | None  # lower-case hex
    app_id: str | None  # "{…}" lower-case
    store: str | None
    ds_mapper: bool | None = None
    negotiate_client_cert: bool | None = None
    fields: tuple[tuple[str, str], ...] = field(default=())
    line: int = 0


_ENABLED = {"enabled": True, "disabled": False}


def parse_sslcert(data: bytes | str) -> list[SslCertBinding]:
    text = decode_output(data) if isinstance(data, bytes) else data
    blocks: list[list[Pair]] = []
    current: list[Pair] = []
    for number, line in _split_lines(text):
        if not line.strip():
            if current:
                blocks.append(current)
                current = []
            continue
        pair = _pair(number, line)
        if pair is not None and pair.value:
            current.append(pair)
    if current:
        blocks.append(current)
    return [b for b in (_binding(block) for block in blocks) if b is not None]


def _binding(block: list[Pair]) -> SslCertBinding | None:
    first = block[0]
    label = first.label.lower()
    value = first.value
    if _IP_PORT.match(value):
        kind = "ip"
    elif value.isdigit() and ("central" in label or len(block) > 1):
        kind = "ccs"
    elif _HOST_PORT.match(value):
        kind = "hostname"
    else:
        return None
    cert_hash = next((p.value.lower() for p in block if _HASH.match(p.value)), None)
    app_index = next((i for i, p in enumerate(block) if _GUID.match(p.value)), None)
    app_id = normalize_guid(block[app_index].value) if app_index is not None else None
    store = None
    by_label = {p.label.lower(): p.value for p in block}
    if "certificate store name" in by_label:
        store = by_label["certificate store name"] or None
    elif app_index is not None and app_index + 1 < len(block):
        # Localized: the store name line follows the application id line in every build.
        store = block[app_index + 1].value or None
    if cert_hash is None and kind != "ccs":
        return None  # not a binding block (a header or something else)
    return SslCertBinding(
        endpoint=value,
        kind=kind,
        cert_hash=cert_hash,
        app_id=app_id,
        store=store,
        ds_mapper=_ENABLED.get(by_label.get("ds mapper usage", "").lower()),
        negotiate_client_cert=_ENABLED.get(by_label.get("negotiate client certificate", "").lower()),
        fields=tuple((p.label, p.value) for p in block),
        line=first.line,
    )


# --- netsh interface httpstunnel show interfaces ---------------------------------------------


@dataclass(frozen=True, slots=True)
class TunnelInterface:
    title: str  # the header line, e.g. "Interface IPHTTPSInterface (Group Policy) Parameters"
    name: str
    role: str | None  # "client" / "server" when the output says so in English
    url: str | None
    last_error: int | None
    status: str | None  # the Interface Status text (English or localized)
    line: int = 0


_NAME = re.compile(r"\b(IPHTTPS\w*)\b", re.IGNORECASE)


def parse_httpstunnel(data: bytes | str) -> list[TunnelInterface]:
    text = decode_output(data) if isinstance(data, bytes) else data
    lines = list(_split_lines(text))
    # A block starts at a title line directly above a dashes line; a pasted sample without
    # the title (as in the KB articles) is one block.
    starts = [
        i - 1 for i in range(1, len(lines)) if _DASHES.match(lines[i][1]) and lines[i - 1][1].strip()
    ]
    blocks: list[tuple[str, int, list[tuple[int, str]]]] = []
    if not starts:
        blocks.append(("", 1, lines))
    else:
        if any(_pair(n, ln) for n, ln in lines[: starts[0]]):
            blocks.append(("", 1, lines[: starts[0]]))
        for k, start in enumerate(starts):
            end = starts[k + 1] if k + 1 < len(starts) else len(lines)
            blocks.append((lines[start][1].strip(), lines[start][0], lines[start + 2 : end]))
    result = []
    for title, line_no, body in blocks:
        iface = _interface(title, line_no, body)
        if iface is not None:
            result.append(iface)
    return result


def _interface(title: str, line_no: int, body: list[tuple[int, str]]) -> TunnelInterface | None:
    pairs = [p for p in (_pair(n, ln) for n, ln in body) if p is not None]
    url = next((p.value.strip("`") for p in pairs if _URL.match(p.value.strip("`"))), None)
    by_label = {p.label.lower(): p for p in pairs}
    code_pair = by_label.get("last error code") or by_label.get("error")
    if code_pair is None or not _HEX_CODE.match(code_pair.value):
        code_pair = next((p for p in pairs if _HEX_CODE.match(p.value)), None)
    code = int(code_pair.value, 16) if code_pair is not None else None
    if url is None and code is None:
        return None
    role_pair = by_label.get("role")
    role = role_pair.value.lower() if role_pair and role_pair.value else None
    status_pair = by_label.get("interface status")
    if status_pair is None and code_pair is not None:
        # Localized: the status line follows the error code line.
        index = pairs.index(code_pair)
        if index + 1 < len(pairs) and not _HEX_CODE.match(pairs[index + 1].value):
            status_pair = pairs[index + 1]
    name_match = _NAME.search(title)
    name = name_match.group(1) if name_match else (title or "IPHTTPSInterface")
    return TunnelInterface(
        title=title,
        name=name,
        role=role,
        url=url,
        last_error=code,
        status=status_pair.value if status_pair else None,
        line=line_no,
    )


def codes_in_text(text: str) -> list[int]:
    """Every `0x…` number in free text (a pasted ticket), in order, without repeats."""
    seen: dict[int, None] = {}
    for m in _CODE_IN_TEXT.finditer(text[:MAX_INPUT]):
        seen.setdefault(int(m.group(), 16), None)
    return list(seen)


# --- which output is it? ---------------------------------------------------------------------


def detect_kind(text: str) -> str | None:
    """"urlacl", "sslcert", "httpstunnel" or None, from structure alone (any language)."""
    head = text[:MAX_INPUT]
    if parse_sslcert(head):
        return "sslcert"
    entries = parse_urlacl(head)
    if entries and any(e.sddl for e in entries):
        return "urlacl"
    ifaces = parse_httpstunnel(head)
    if ifaces and any(i.last_error is not None for i in ifaces):
        return "httpstunnel"
    return None
