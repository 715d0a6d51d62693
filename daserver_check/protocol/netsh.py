"""The text of `netsh http show urlacl`, `netsh http show sslcert` and
`netsh interface httpstunnel show interfaces` (docs/windows-facts.md §4, §5).

netsh is localized: labels change with the display language ("Reserved URL" is "Reservierte
URL" in German), and so does the code page of redirected output. The parsers therefore key on
structure and on values that never get translated — URLs, SDDL strings, `IP:port`, 40-digit
certificate hashes, `{GUID}`s and `0x…` error codes — and read English labels only for the
details that have no such shape (DS mapper usage, negotiate client certificate).

Admins paste the output rather than redirect it: into e-mail and issue trackers (`> `
quoting), into markdown (code fences, `**bold**` labels, backticks), from KB pages (blocks
without their title lines), and from a console window whose buffer width hard-wraps long lines
(80 columns by default, 120 or 150 when widened) — with the continuation at column 0 or, after
re-indenting, anywhere. Quote markers and fences are removed line by line before any parser
looks at the text, so a line that is blank once they are gone separates blocks.

Sans-IO: bytes in, typed values out. Anything that cannot be text raises `NetshParseError`
with the byte offset; text without the expected structure yields empty lists, and
`detect_kind` tells which of the three outputs (if any) a text is.

Over 400 lines because the three netsh outputs share the paste clean-up (quotes, fences, console
wrapping) that precedes every parser.
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


# "> ", ">>", "> > ": mail and issue-tracker quoting, any depth. Each repetition consumes one
# ">", so the match is linear.
_QUOTE = re.compile(r"^(?:[ \t]*>)+[ \t]?")
# A markdown code fence ("```", "```text", "~~~") carries no output: it counts as a blank line.
_FENCE = re.compile(r"^\s*(?:`{3,}|~{3,})")
# Markdown list markers and emphasis around a label ("- **Last Error Code**:").
_LABEL_MARKUP = "*`_-\u2022 \t"


def _split_lines(text: str) -> Iterator[tuple[int, str]]:
    """(line number, line) with quote markers and fences removed and the end stripped."""
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw[:MAX_LINE]
        quote = _QUOTE.match(line)
        if quote is not None:
            line = line[quote.end() :]
        if _FENCE.match(line):
            line = ""
        yield number, line.rstrip()


def _value(text: str) -> str:
    """A value without markdown wrapping: `code` spans and **bold** (never a lone "*", which
    starts a wildcard host name)."""
    value = text.strip()
    if len(value) >= 4 and value.startswith("**") and value.endswith("**"):
        value = value[2:-2].strip()
    return value.strip("`").strip()


def _pair(number: int, line: str) -> Pair | None:
    m = _SEPARATOR.search(line)
    if m is None:
        return None
    label = line[: m.start()]
    stripped = label.strip().strip(_LABEL_MARKUP)
    if not stripped:
        return None
    indent = len(label.expandtabs()) - len(label.expandtabs().lstrip())
    return Pair(indent, stripped, _value(line[m.end() :]), number)


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
    # Why the paste holds no whole SDDL for this entry (it was cut off), or None. netsh prints
    # an SDDL line for every reservation, so a missing or unbalanced one is a paste problem,
    # not evidence of a corrupt ACL (that shows in the registry bytes).
    incomplete: str | None = None


# A console-wrapped URL or SDDL continues on the next line as one token of the characters the
# value can hold. The character sets keep a following prompt ("C:\Windows\system32>") or
# prose from being glued onto the value.
_URL_PART = re.compile(r"^[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%{}]+$")
_SDDL_PART = re.compile(r"^[A-Za-z0-9;:()\-_{}.*\"]+$")


def _continuation(line: str, part: re.Pattern[str]) -> str | None:
    token = line.strip()
    if not token or _DASHES.match(token) or not part.match(token):
        return None
    return token


def _incomplete(sddl: str | None, last: bool) -> str | None:
    if sddl is None:
        where = "the paste ends" if last else "the paste is cut"
        return f"incomplete paste: {where} before the entry's SDDL line"
    if sddl.count("(") != sddl.count(")"):
        return "incomplete paste: the SDDL line is cut off (unbalanced parentheses)"
    return None


@dataclass
class _Reservation:
    """One entry while it is read; wrapped values grow as lists (joined once, so a hostile
    paste of a million continuation lines stays linear)."""

    url: list[str]
    line: int
    sddl: list[str] | None = None
    users: list[str] = field(default_factory=list)

    def entry(self, last: bool) -> UrlAclEntry:
        sddl = "".join(self.sddl) if self.sddl is not None else None
        return UrlAclEntry("".join(self.url), sddl, tuple(self.users), self.line,
                           _incomplete(sddl, last))


def parse_urlacl(data: bytes | str) -> list[UrlAclEntry]:
    """Every `Reserved URL` block, values joined across console line wrapping."""
    text = decode_output(data) if isinstance(data, bytes) else data
    found: list[_Reservation] = []
    current: _Reservation | None = None
    growing: list[str] | None = None  # the URL or SDDL a wrapped line may continue
    part = _URL_PART
    waiting: Pair | None = None  # a label whose value was wrapped onto the next line

    for number, line in _split_lines(text):
        if growing is not None:
            token = _continuation(line, part)
            if token is not None:
                growing.append(token)
                continue
            growing = None
        pair = _pair(number, line)
        if pair is None and waiting is not None:
            token = _continuation(line, _URL_PART)
            pair = Pair(waiting.indent, waiting.label, token, number) if token else None
        waiting = None
        if pair is None:
            continue
        if not pair.value:
            waiting = pair
        elif _URL.match(pair.value):
            current = _Reservation([pair.value], number)
            found.append(current)
            growing, part = current.url, _URL_PART
        elif current is not None and _SDDL.match(pair.value) and current.sddl is None:
            current.sddl = [pair.value]
            growing, part = current.sddl, _SDDL_PART
        elif current is not None and "\\" in pair.value:
            # "User: \Everyone", "Benutzer: NT SERVICE\SstpSvc" — account names carry a backslash.
            current.users.append(pair.value)
    return [r.entry(last=index == len(found) - 1) for index, r in enumerate(found)]


# --- netsh http show sslcert -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SslCertBinding:
    endpoint: str  # "0.0.0.0:443", "da.contoso.com:443", "443" (central store)
    kind: str  # "ip", "hostname", "ccs"
    # Lower-case hex; None when unknown: redacted by the poster ("<redacted>", "xxxx…"), missing,
    # or "(null)" for the central certificate store.
    cert_hash: str | None
    app_id: str | None  # "{…}" lower-case
    store: str | None
    ds_mapper: bool | None = None
    negotiate_client_cert: bool | None = None
    fields: tuple[tuple[str, str], ...] = field(default=())
    line: int = 0


_ENABLED = {"enabled": True, "disabled": False}


def _endpoint_shaped(value: str) -> bool:
    return bool(_IP_PORT.match(value) or _HOST_PORT.match(value))


def parse_sslcert(data: bytes | str) -> list[SslCertBinding]:
    """Every binding block. Blocks end at a line that is blank once quote markers, fences and
    indentation are gone, or where the first label comes again with a new endpoint (a paste
    that lost its blank lines)."""
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
        if pair is None or not pair.value:
            continue
        if (current and pair.label.lower() == current[0].label.lower()
                and _endpoint_shaped(pair.value)):
            blocks.append(current)
            current = []
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
    if cert_hash is None and kind != "ccs" and app_id is None and (
        "certificate hash" not in by_label
    ):
        # Not a binding block (a header, or a time such as "Started : 10:30"): without a hash
        # a binding still shows its application id, or at least the hash label (redacted).
        return None
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


# A title line whose dashes were lost (a KB page renders them as a heading rule): it still
# names the interface and starts a new one.
_TITLE_NAME = re.compile(r"\b(IPHTTPSInterface\w*)\b", re.IGNORECASE)


def parse_httpstunnel(data: bytes | str) -> list[TunnelInterface]:
    """Every interface block.

    netsh prints a title line and a dashes line above each interface; KB articles, markdown
    and quoted mail often keep neither. So the text is cut at titles first, and then each part
    again wherever a label comes back (a second "Role", "URL" or "Last Error Code" — in any
    language — is a second interface), and at a title line without its dashes. Every block
    with an error code or a URL is an interface.
    """
    text = decode_output(data) if isinstance(data, bytes) else data
    lines = list(_split_lines(text))
    starts = [
        i - 1 for i in range(1, len(lines)) if _DASHES.match(lines[i][1]) and lines[i - 1][1].strip()
    ]
    regions: list[tuple[str, int, list[tuple[int, str]]]] = []
    if not starts:
        regions.append(("", 1, lines))
    else:
        if any(_pair(n, ln) for n, ln in lines[: starts[0]]):
            regions.append(("", 1, lines[: starts[0]]))
        for k, start in enumerate(starts):
            end = starts[k + 1] if k + 1 < len(starts) else len(lines)
            regions.append((lines[start][1].strip(), lines[start][0], lines[start + 2 : end]))
    result = []
    for title, line_no, body in regions:
        for block_title, block_line, pairs in _blocks(title, line_no, body):
            iface = _interface(block_title, block_line, pairs)
            if iface is not None:
                result.append(iface)
    return result


def _blocks(title: str, line_no: int, body: list[tuple[int, str]]
            ) -> list[tuple[str, int, list[Pair]]]:
    """A region's pairs cut wherever a label repeats or a dash-less title line appears."""
    blocks: list[tuple[str, int, list[Pair]]] = []
    pairs: list[Pair] = []
    seen: set[str] = set()
    for number, line in body:
        pair = _pair(number, line)
        if pair is None:
            found = _TITLE_NAME.search(line) if line.strip() else None
            if found is not None and not _URL.match(line.strip()):
                if pairs:
                    blocks.append((title, line_no, pairs))
                title, line_no, pairs, seen = line.strip(), number, [], set()
            continue
        key = pair.label.lower()
        if key in seen and pairs:
            blocks.append((title, line_no, pairs))
            # The next interface of a title-less paste (KB pages print several in a row).
            title, line_no, pairs, seen = "", pair.line, [], set()
        seen.add(key)
        pairs.append(pair)
    if pairs:
        blocks.append((title, line_no, pairs))
    return blocks


def _interface(title: str, line_no: int, pairs: list[Pair]) -> TunnelInterface | None:
    url = next((p.value for p in pairs if _URL.match(p.value)), None)
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
    status = status_pair.value if status_pair and status_pair.value else None
    if status is not None and status.endswith(".") and not status.endswith(".."):
        # A KB page ends the status with a full stop; netsh does not, and reports quote the
        # status inside a sentence of their own.
        status = status[:-1].rstrip() or None
    name_match = _NAME.search(title)
    name = name_match.group(1) if name_match else (title or "IPHTTPSInterface")
    return TunnelInterface(
        title=title,
        name=name,
        role=role,
        url=url,
        last_error=code,
        status=status,
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
