"""Reaching the IP-HTTPS server through an HTTP proxy with CONNECT, as a Windows client does.

Behind a proxy a DirectAccess client opens TCP to the proxy and asks `CONNECT host:port`; the
TLS handshake and the POST then run inside the tunnel (docs/windows-facts.md §1). What breaks it:
a proxy that refuses the CONNECT (policy, port not allowed), one that wants authentication
(407: Windows 7 does no proxy authentication, and the IP-HTTPS client runs as the machine), and
one that intercepts TLS (the client sees the proxy's certificate, not the server's).

This module opens the tunnel and reports what the proxy said; it never sends credentials.
All waits are selector waits on a non-blocking socket against the probe's deadline.
"""

from __future__ import annotations

import enum
import ipaddress
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

from daserver_check.errors import DaserverCheckError
from daserver_check.hostport import join_host_port
from daserver_check.probe import tcp
from daserver_check.probe.deadline import Deadline
from daserver_check.probe.tcp import wait_ready
from daserver_check.protocol.http_response import (
    HttpResponseError,
    NeedMore,
    ResponseHead,
    ResponseHeadParser,
)

DEFAULT_PROXY_PORT = 8080
# A CONNECT answer is a short head; a proxy's error page may follow, which we do not read.
MAX_HEAD_BYTES = 16 * 1024
_SHOWN_HEADERS = ("Proxy-Authenticate", "Server", "Via", "X-Squid-Error", "Proxy-Agent")


class ProxySpecError(DaserverCheckError, ValueError):
    """A --proxy value that is not http://HOST[:PORT]."""


@dataclass(frozen=True, slots=True)
class ProxySpec:
    host: str  # an IP address or a name
    port: int

    @property
    def label(self) -> str:
        return f"http://{authority(self.host, self.port)}"


def parse_proxy_url(text: str) -> ProxySpec:
    """`http://HOST[:PORT]` (port 8080 when omitted). No credentials: the IP-HTTPS client does
    not authenticate to proxies, and secrets never go on a command line."""
    if len(text) > 300:
        raise ProxySpecError("too long")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError as exc:
        raise ProxySpecError(f"not a proxy URL: {exc}") from None
    if parts.scheme.lower() != "http":
        raise ProxySpecError("expected http://HOST:PORT (the CONNECT proxies Windows uses)")
    if parts.username is not None or parts.password is not None:
        raise ProxySpecError(
            "credentials in the proxy URL are not supported: the IP-HTTPS client does not "
            "authenticate to proxies (a proxy that asks for it is a finding)"
        )
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ProxySpecError("expected http://HOST:PORT without a path")
    host = parts.hostname or ""
    if not host:
        raise ProxySpecError("no host")
    if port == 0:
        raise ProxySpecError("port 0")
    return ProxySpec(host, port or DEFAULT_PROXY_PORT)


def authority(host: str, port: int) -> str:
    return join_host_port(host, port)


class ConnectOutcome(enum.StrEnum):
    ESTABLISHED = "established"  # 2xx: the tunnel is open
    AUTH_REQUIRED = "auth-required"  # 407
    REFUSED = "refused"  # any other answer (403 policy, 502 cannot reach, ...)
    CLOSED = "closed"  # the proxy closed without answering
    RESET = "reset"
    TIMED_OUT = "timed-out"
    MALFORMED = "malformed"  # not HTTP, or over the size bounds
    UNREACHABLE = "unreachable"  # no TCP connection to the proxy (or its name did not resolve)


@dataclass(frozen=True, slots=True)
class ConnectResult:
    outcome: ConnectOutcome
    detail: str
    proxy: str  # label, http://HOST:PORT
    target: str  # the CONNECT authority
    status: int | None = None
    reason: str = ""
    headers: tuple[str, ...] = ()
    elapsed_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome is ConnectOutcome.ESTABLISHED


def build_connect(target: str) -> bytes:
    """The request a Windows client sends: CONNECT authority-form, Host, no credentials."""
    return (
        f"CONNECT {target} HTTP/1.1\r\n"
        f"Host: {target}\r\n"
        "Proxy-Connection: Keep-Alive\r\n"
        "\r\n"
    ).encode("ascii")


def resolve_proxy(host: str, deadline: Deadline) -> list[str]:
    """The proxy's addresses: the host itself when it is an IP, else getaddrinfo (system
    resolver: the one the client's proxy settings rely on), bounded by the deadline."""
    try:
        return [str(ipaddress.ip_address(host))]
    except ValueError:
        pass
    box: list[list[str]] = []

    def lookup() -> None:
        try:
            infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except OSError:
            box.append([])
            return
        seen: list[str] = []
        for info in infos:
            address = str(info[4][0])
            if address not in seen:
                seen.append(address)
        box.append(seen)

    worker = threading.Thread(target=lookup, name=f"proxy-dns-{host}", daemon=True)
    worker.start()
    worker.join(deadline.remaining())
    return box[0] if box else []


def open_tunnel(
    spec: ProxySpec, target: str, deadline: Deadline
) -> tuple[tcp.TcpResult | None, ConnectResult, socket.socket | None]:
    """TCP to the proxy, then CONNECT `target`; on success the caller owns the socket.

    The TcpResult is None when the proxy name did not resolve.
    """
    started = time.monotonic()
    addresses = resolve_proxy(spec.host, deadline)
    if not addresses:
        return None, ConnectResult(
            ConnectOutcome.UNREACHABLE, f"the proxy name {spec.host} does not resolve",
            spec.label, target, elapsed_ms=int((time.monotonic() - started) * 1000),
        ), None
    tcp_result, sock = tcp.connect(addresses[0], spec.port, deadline)
    if sock is None:
        return tcp_result, ConnectResult(
            ConnectOutcome.UNREACHABLE, f"no TCP connection to the proxy: {tcp_result.detail}",
            spec.label, target, elapsed_ms=int((time.monotonic() - started) * 1000),
        ), None
    result = connect_request(sock, spec.label, target, deadline)
    if not result.ok:
        sock.close()
        return tcp_result, result, None
    return tcp_result, result, sock


def connect_request(
    sock: socket.socket, proxy: str, target: str, deadline: Deadline
) -> ConnectResult:
    """Send CONNECT on a connected non-blocking socket and read the answer's head."""
    started = time.monotonic()

    def result(outcome: ConnectOutcome, detail: str, head: ResponseHead | None = None) -> ConnectResult:
        headers: tuple[str, ...] = ()
        status, reason = None, ""
        if head is not None:
            status, reason = head.status, head.reason
            headers = tuple(
                f"{name}: {value[:200]}" for name, value in head.headers
                if name.lower() in {h.lower() for h in _SHOWN_HEADERS}
            )[:10]
        return ConnectResult(outcome, detail, proxy, target, status, reason, headers,
                             int((time.monotonic() - started) * 1000))

    request = memoryview(build_connect(target))
    parser = ResponseHeadParser(MAX_HEAD_BYTES)
    try:
        while request:
            if not _wait(sock, write=True, deadline=deadline):
                return result(ConnectOutcome.TIMED_OUT, "the proxy did not take the CONNECT "
                              "request before the deadline")
            try:
                sent = sock.send(request)
            except BlockingIOError:
                continue
            request = request[sent:]
        while True:
            if not _wait(sock, write=False, deadline=deadline):
                return result(ConnectOutcome.TIMED_OUT,
                              f"no answer to CONNECT {target} within "
                              f"{time.monotonic() - started:.1f} s")
            try:
                chunk = sock.recv(4096)
            except BlockingIOError:
                continue
            if not chunk:
                return result(ConnectOutcome.CLOSED,
                              f"the proxy closed the connection without answering CONNECT {target}")
            state = parser.feed(chunk)
            if isinstance(state, NeedMore):
                continue
            return _judge(state, target, result)
    except HttpResponseError as exc:
        return result(ConnectOutcome.MALFORMED, f"the proxy's answer is not HTTP: {exc}")
    except ConnectionResetError:
        return result(ConnectOutcome.RESET, f"the proxy reset the connection on CONNECT {target}")
    except OSError as exc:
        return result(ConnectOutcome.RESET, f"the connection to the proxy broke: {exc}")


def _judge(
    head: ResponseHead, target: str, result: Callable[..., ConnectResult]
) -> ConnectResult:
    line = f"{head.status} {head.reason}".strip()
    if 200 <= head.status < 300:
        if head.trailing:
            # The server speaks only after our ClientHello: bytes here are the proxy's own.
            return result(ConnectOutcome.MALFORMED,
                          f"CONNECT answered {line} but the proxy sent {len(head.trailing)} "
                          "bytes of its own into the tunnel", head)
        return result(ConnectOutcome.ESTABLISHED, f"CONNECT {target}: {line}", head)
    if head.status == 407:
        return result(ConnectOutcome.AUTH_REQUIRED,
                      f"CONNECT {target}: {line} — the proxy requires authentication", head)
    return result(ConnectOutcome.REFUSED, f"CONNECT {target}: {line}", head)


def _wait(sock: socket.socket, *, write: bool, deadline: Deadline) -> bool:
    remaining = deadline.remaining()
    if remaining <= 0:
        return False
    return wait_ready(sock, write=write, timeout=remaining)
