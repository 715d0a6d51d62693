"""The HTTP response head an IP-HTTPS server sends after the client's POST (sans-IO).

[MS-IPHTTPS] §3.2.5.1 and §4.1: the server answers `HTTP/1.1 200 OK` with
`Server: Microsoft-HTTPAPI/2.0` and a `Date` header and no Content-Length; after the blank line
the stream carries IPv6 packets. So only the head is parsed here; whatever follows it is the
tunnel, never HTTP body.

Feed bytes with `ResponseHeadParser.feed()`; it returns `NeedMore` until the head is complete,
then a `ResponseHead`. Hostile peers (endless headers, a never-ending status line) hit the size
bounds and get an `HttpResponseError` with the offset where parsing stopped.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from daserver_check.errors import DaserverCheckError

MAX_HEAD_BYTES = 16 * 1024  # HTTP.sys heads are a few hundred bytes
MAX_HEADERS = 100
MAX_INTERIM = 8  # 1xx responses before the final one; all of them count against the head limit
_TERMINATOR = b"\r\n\r\n"


class HttpResponseError(DaserverCheckError, ValueError):
    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(f"{reason} (at byte {offset})")
        self.reason = reason
        self.offset = offset


@dataclass(frozen=True, slots=True)
class NeedMore:
    buffered: int


@dataclass(frozen=True, slots=True)
class ResponseHead:
    version: str
    status: int
    reason: str
    headers: tuple[tuple[str, str], ...]  # in order, names as sent
    trailing: bytes  # bytes after the head (tunnel data), not interpreted here
    interim: tuple[int, ...] = ()  # 1xx statuses that came before this (final) head

    def header(self, name: str) -> str | None:
        wanted = name.lower()
        for key, value in self.headers:
            if key.lower() == wanted:
                return value
        return None


class ResponseHeadParser:
    """Incremental: feed chunks as they arrive; linear in the total bytes fed."""

    def __init__(self, max_head_bytes: int = MAX_HEAD_BYTES) -> None:
        self._buf = bytearray()
        self._max = max_head_bytes
        self._scan_from = 0
        self._consumed = 0  # bytes of interim (1xx) heads already parsed and dropped
        self._interim: list[int] = []

    @property
    def buffered(self) -> bytes:
        """What was fed and not yet returned as a head (at most the head limit plus a chunk)."""
        return bytes(self._buf)

    def feed(self, data: bytes) -> NeedMore | ResponseHead:
        self._buf += data
        while True:
            end = self._buf.find(_TERMINATOR, self._scan_from)
            if end < 0:
                # Resume the search just before the new data so a terminator split across
                # chunks is found without rescanning everything (keeps parsing linear).
                self._scan_from = max(0, len(self._buf) - len(_TERMINATOR) + 1)
                if self._consumed + len(self._buf) > self._max:
                    first_line_end = self._buf.find(b"\r\n")
                    if first_line_end < 0:
                        raise HttpResponseError("status line longer than the head limit",
                                                self._max)
                    raise HttpResponseError(
                        f"response head larger than {self._max} bytes", self._max
                    )
                return NeedMore(len(self._buf))
            if self._consumed + end > self._max:
                raise HttpResponseError(f"response head larger than {self._max} bytes",
                                        self._max)
            head = bytes(self._buf[:end])
            trailing = bytes(self._buf[end + len(_TERMINATOR) :])
            parsed = parse_response_head(head, trailing, tuple(self._interim))
            if not _interim(parsed.status):
                return parsed
            # RFC 9110 §15.2: a client must accept one or more 1xx (interim) responses before
            # the final one, and ignore those it does not expect. A proxy or front end may send
            # "100 Continue" to a POST that announces a body, as the IP-HTTPS POST does.
            if len(self._interim) >= MAX_INTERIM:
                raise HttpResponseError(f"more than {MAX_INTERIM} interim (1xx) responses",
                                        self._consumed + end)
            self._interim.append(parsed.status)
            self._consumed += end + len(_TERMINATOR)
            del self._buf[: end + len(_TERMINATOR)]
            self._scan_from = 0


def _interim(status: int) -> bool:
    # 101 Switching Protocols ends HTTP on the connection: it is final, not interim.
    return 100 <= status < 200 and status != 101


def parse_response_head(
    head: bytes, trailing: bytes = b"", interim: tuple[int, ...] = ()
) -> ResponseHead:
    """Parse a complete head (without its terminating blank line)."""
    lines = head.split(b"\r\n")
    status_line = lines[0]
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/"):
        raise HttpResponseError(f"not an HTTP status line: {_show(status_line)}", 0)
    version = parts[0].decode("ascii", "replace")
    if not (len(parts[1]) == 3 and parts[1].isdigit()):
        raise HttpResponseError(f"bad status code {_show(parts[1])}", len(parts[0]) + 1)
    status = int(parts[1])
    reason = parts[2].decode("latin-1") if len(parts) == 3 else ""
    headers: list[tuple[str, str]] = []
    offset = len(status_line) + 2
    for line in lines[1:]:
        if len(headers) >= MAX_HEADERS:
            raise HttpResponseError(f"more than {MAX_HEADERS} header lines", offset)
        name, sep, value = line.partition(b":")
        if not sep or not name or name != name.strip() or b" " in name:
            raise HttpResponseError(f"malformed header line {_show(line)}", offset)
        headers.append((name.decode("latin-1"), value.strip().decode("latin-1")))
        offset += len(line) + 2
    return ResponseHead(version, status, reason, tuple(headers), trailing, interim)


def _show(raw: bytes, limit: int = 60) -> str:
    text = raw[:limit].decode("latin-1")
    return repr(text + ("…" if len(raw) > limit else ""))


def build_iphttps_post(path: str, host_header: str) -> bytes:
    """The client's request: [MS-IPHTTPS] §3.1.5.2 and the example in §4.1.

    Content-Length is 2^64-1 because the body is the endless tunnel; a Host header is required.
    """
    # A path with non-ASCII characters goes out percent-encoded, as a browser would send it.
    path = quote(path, safe="/:@!$&'()*+,;=-._~%?")
    return (
        f"POST {path} HTTP/1.1\r\n"
        f"Host: {host_header}\r\n"
        "Content-Length: 18446744073709551615\r\n"
        "\r\n"
    ).encode("ascii")
