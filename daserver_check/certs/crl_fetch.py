"""Fetch a CRL over plain HTTP the way a client on the Internet would, under one deadline.

Only http:// is fetched: CRLs are published over HTTP (and LDAP inside the enterprise), because
fetching them over TLS would need revocation checking of its own; LDAP is not reachable from the
Internet, where DirectAccess clients use IP-HTTPS (docs/windows-facts.md §3, KB 2980672).

Bounded for a hostile or broken server (docs/contract.md, reliability rules): one monotonic deadline for
resolving, connecting, redirects and reading (a server that drips one byte a second still ends at
the deadline); at most `max_bytes` of body (10 MB by default), 64 KB of header, 3 redirects,
which must stay on http://. Name resolution is the caller's (`resolve`), so that the command can
use the probe's DNS stage with its own deadline and `--resolver` settings; the certs package
itself never imports the probe package (docs/architecture.md: floors).

Never raises: every failure is an `HttpResult` with `ok` False and a one-line `detail`.
"""

from __future__ import annotations

import errno
import ipaddress
import select
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from daserver_check import __version__

MAX_CRL_BYTES = 10 * 1024 * 1024
MAX_HEAD_BYTES = 64 * 1024
MAX_REDIRECTS = 3
MAX_ADDRESSES = 4
_REDIRECTS = {301, 302, 303, 307, 308}

Resolve = Callable[[str, float], Sequence[str]]
"""`resolve(host, seconds)` → addresses (empty when the name does not resolve in time)."""


@dataclass(frozen=True)
class HttpResult:
    url: str  # the URL asked for
    ok: bool
    detail: str
    status: int = 0  # the final HTTP status; 0 when no HTTP answer came
    body: bytes = b""
    final_url: str = ""
    redirects: tuple[str, ...] = ()
    elapsed_ms: int = 0


class _Fail(Exception):
    pass


class _Clock:
    def __init__(self, seconds: float) -> None:
        self.started = time.monotonic()
        self.end = self.started + max(0.0, seconds)

    def remaining(self) -> float:
        return max(0.0, self.end - time.monotonic())

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self.started) * 1000)


def http_get(
    url: str,
    *,
    timeout: float,
    resolve: Resolve,
    max_bytes: int = MAX_CRL_BYTES,
    max_redirects: int = MAX_REDIRECTS,
) -> HttpResult:
    """GET `url`; `ok` only for a 200 answer read completely before the deadline."""
    clock = _Clock(timeout)
    redirects: list[str] = []
    current = url
    status = 0
    try:
        while True:
            status, location, body = _get_once(current, clock, resolve, max_bytes)
            if status in _REDIRECTS:
                if not location:
                    raise _Fail(f"HTTP {status} redirect without a Location header")
                if len(redirects) >= max_redirects:
                    raise _Fail(f"more than {max_redirects} redirects")
                current = urljoin(current, location)
                redirects.append(current)
                continue
            if status != 200:
                raise _Fail(f"HTTP {status} from {current}")
            return HttpResult(
                url, True, f"HTTP 200, {len(body)} bytes in {clock.elapsed_ms()} ms",
                status, body, current, tuple(redirects), clock.elapsed_ms(),
            )
    except _Fail as exc:
        return HttpResult(url, False, str(exc), status, b"", current, tuple(redirects),
                          clock.elapsed_ms())
    except Exception as exc:  # never let a fetch end the report
        return HttpResult(url, False, f"fetch failed: {type(exc).__name__}: {exc}", status,
                          b"", current, tuple(redirects), clock.elapsed_ms())


def _target(url: str) -> tuple[str, int, str, str]:
    """(host, port, request target, Host header) of an http:// URL; _Fail otherwise."""
    try:
        parts = urlsplit(url)
        port = parts.port or 80
    except ValueError as exc:
        raise _Fail(f"not a valid URL: {exc}") from None
    if parts.scheme.lower() != "http":
        raise _Fail(f"{parts.scheme or 'no'} scheme: only http:// is fetched")
    host = parts.hostname or ""
    if not host:
        raise _Fail("no host in the URL")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    if any(ch.isspace() or ord(ch) < 0x21 or ord(ch) > 0x7E for ch in path + host):
        raise _Fail("the URL contains spaces or non-ASCII characters")
    shown = f"[{host}]" if ":" in host else host
    return host, port, path, shown if port == 80 else f"{shown}:{port}"


def _addresses(host: str, clock: _Clock, resolve: Resolve) -> list[str]:
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    try:
        found = list(resolve(host, clock.remaining()))[:MAX_ADDRESSES]
    except Exception as exc:
        raise _Fail(f"{host} cannot be resolved ({type(exc).__name__})") from None
    if not found:
        raise _Fail(f"{host} does not resolve (no address in time)")
    return found


def _connect(address: str, port: int, clock: _Clock) -> socket.socket:
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        err = sock.connect_ex((address, port))
        if err not in (0, errno.EINPROGRESS, errno.EWOULDBLOCK, 10035):
            raise _Fail(_errno_text(err))
        if err != 0:
            _, writable, _ = select.select([], [sock], [sock], clock.remaining())
            if not writable:
                raise _Fail("no answer to the connection attempt before the deadline")
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err != 0:
                raise _Fail(_errno_text(err))
    except BaseException:
        sock.close()
        raise
    return sock


def _errno_text(err: int) -> str:
    if err == errno.ECONNREFUSED:
        return "connection refused"
    if err == errno.ETIMEDOUT:
        return "connection timed out"
    name = errno.errorcode.get(err, str(err))
    return f"connection failed ({name})"


def _get_once(
    url: str, clock: _Clock, resolve: Resolve, max_bytes: int
) -> tuple[int, str, bytes]:
    host, port, path, host_header = _target(url)
    errors: list[str] = []
    for address in _addresses(host, clock, resolve):
        label = "" if address == host else f"{address}: "
        try:
            sock = _connect(address, port, clock)
        except _Fail as exc:
            errors.append(f"{label}{exc}")
            continue
        except OSError as exc:
            errors.append(f"{label}{exc.strerror or exc}")
            continue
        try:
            return _exchange(sock, path, host_header, clock, max_bytes)
        finally:
            sock.close()
    raise _Fail(f"{host}:{port}: " + "; ".join(errors))


def _exchange(
    sock: socket.socket, path: str, host_header: str, clock: _Clock, max_bytes: int
) -> tuple[int, str, bytes]:
    # HTTP/1.0 so that the answer is never chunked and ends when the server closes.
    request = (
        f"GET {path} HTTP/1.0\r\nHost: {host_header}\r\n"
        f"User-Agent: daserver-check/{__version__} (CRL check)\r\n"
        "Accept: */*\r\nConnection: close\r\n\r\n"
    ).encode("ascii")
    _send_all(sock, request, clock)
    buffer = bytearray()
    head_end = -1
    content_length: int | None = None
    status, location = 0, ""
    while True:
        if head_end < 0:
            head_end = buffer.find(b"\r\n\r\n")
            if head_end >= 0:
                status, location, content_length = _parse_head(bytes(buffer[:head_end]))
                if content_length is not None and content_length > max_bytes:
                    raise _Fail(f"the answer is {content_length} bytes, over the"
                                f" {max_bytes // (1024 * 1024)} MB limit")
            elif len(buffer) > MAX_HEAD_BYTES:
                raise _Fail("no end of the HTTP header within 64 KB")
        if head_end >= 0:
            body_len = len(buffer) - head_end - 4
            if body_len > max_bytes:
                raise _Fail(f"the answer is larger than {max_bytes // (1024 * 1024)} MB")
            if content_length is not None and body_len >= content_length:
                return status, location, bytes(buffer[head_end + 4 : head_end + 4 + content_length])
            if status in _REDIRECTS:
                return status, location, b""
        chunk = _recv(sock, clock, len(buffer))
        if not chunk:
            break
        buffer.extend(chunk)
    if head_end < 0:
        raise _Fail("the server closed the connection without an HTTP answer")
    body = bytes(buffer[head_end + 4 :])
    if content_length is not None and len(body) < content_length:
        raise _Fail(f"the answer was cut off after {len(body)} of {content_length} bytes")
    return status, location, body


def _send_all(sock: socket.socket, data: bytes, clock: _Clock) -> None:
    view = memoryview(data)
    while view:
        _, writable, _ = select.select([], [sock], [], clock.remaining())
        if not writable:
            raise _Fail("the request could not be sent before the deadline")
        try:
            sent = sock.send(view)
        except BlockingIOError:
            continue
        except OSError as exc:
            raise _Fail(f"sending the request failed: {exc.strerror or exc}") from None
        view = view[sent:]


def _recv(sock: socket.socket, clock: _Clock, received: int) -> bytes:
    while True:
        remaining = clock.remaining()
        readable, _, _ = select.select([sock], [], [], remaining) if remaining > 0 else ([], [], [])
        if not readable:
            raise _Fail(
                f"no complete answer before the deadline ({received} bytes received in"
                f" {clock.elapsed_ms() / 1000:.1f} s)"
            )
        try:
            return sock.recv(65536)
        except BlockingIOError:
            continue
        except ConnectionResetError:
            raise _Fail(f"the server reset the connection after {received} bytes") from None
        except OSError as exc:
            raise _Fail(f"reading failed: {exc.strerror or exc}") from None


def _parse_head(head: bytes) -> tuple[int, str, int | None]:
    """(status, Location, Content-Length) of an HTTP/1.x response head."""
    lines = head.split(b"\r\n")
    parts = lines[0].split(None, 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or not parts[1].isdigit():
        raise _Fail("the answer is not HTTP")
    status = int(parts[1])
    location, length = "", None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        key = name.strip().lower()
        if key == b"location":
            location = value.strip().decode("latin-1")
        elif key == b"content-length":
            text = value.strip()
            if not text.isdigit() or len(text) > 12:
                raise _Fail("the answer has a bad Content-Length")
            length = int(text)
        elif key == b"transfer-encoding" and value.strip().lower() != b"identity":
            # Not allowed in an answer to HTTP/1.0 (RFC 9112 §6.1); refuse rather than guess.
            raise _Fail("the answer uses a transfer encoding on an HTTP/1.0 request")
    return status, location, length
