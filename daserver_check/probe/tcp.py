"""TCP connect to one address, with a deadline, telling refused, timed out and unreachable apart.

The distinction is what a client would see: a firewall that drops SYNs leaves the client waiting
(WSAETIMEDOUT 0x274C); a closed port or a firewall that rejects with a reset gives
WSAECONNREFUSED 0x274D; an ICMP unreachable gives a routing error.
"""

from __future__ import annotations

import enum
import errno
import ipaddress
import os
import selectors
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from daserver_check.hostport import join_host_port
from daserver_check.probe.deadline import Deadline


class TcpOutcome(enum.StrEnum):
    CONNECTED = "connected"
    REFUSED = "refused"
    TIMED_OUT = "timed-out"
    UNREACHABLE = "unreachable"
    ERROR = "error"


_UNREACHABLE_ERRNOS = {
    errno.ENETUNREACH,
    errno.EHOSTUNREACH,
    getattr(errno, "EHOSTDOWN", -1),
    getattr(errno, "ENONET", -1),
    errno.EACCES,  # ICMP "administratively prohibited" is reported as EACCES on some kernels
    errno.EPERM,  # a local firewall (nftables/iptables reject on OUTPUT)
    errno.EADDRNOTAVAIL,
}


# Pending on a connected socket when the server reset it right after accepting (WSA codes too).
_RESET_AFTER_CONNECT = {errno.ECONNRESET, errno.ECONNABORTED, 10053, 10054}

# connect_ex on a non-blocking socket: EINPROGRESS on POSIX, WSAEWOULDBLOCK (10035) on Windows.
_IN_PROGRESS = {0, errno.EINPROGRESS, errno.EWOULDBLOCK, 10035}


@dataclass(frozen=True, slots=True)
class TcpResult:
    address: str
    port: int
    outcome: TcpOutcome
    detail: str
    elapsed_ms: int


def connect(address: str, port: int, deadline: Deadline) -> tuple[TcpResult, socket.socket | None]:
    """Open a non-blocking TCP connection; the caller owns (and must close) the socket."""
    started = time.monotonic()

    def done(outcome: TcpOutcome, detail: str) -> TcpResult:
        return TcpResult(address, port, outcome, detail, int((time.monotonic() - started) * 1000))

    try:
        family = socket.AF_INET6 if ipaddress.ip_address(address).version == 6 else socket.AF_INET
    except ValueError:
        return done(TcpOutcome.ERROR, f"not an IP address: {address!r}"), None
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setblocking(False)
    try:
        err = sock.connect_ex((address, port))
        if err not in _IN_PROGRESS:
            sock.close()
            return _classify(err, done), None
        if err != 0:
            remaining = deadline.remaining()
            if not wait_ready(sock, write=True, timeout=remaining):
                sock.close()
                return done(
                    TcpOutcome.TIMED_OUT,
                    f"no answer to the connection attempt within {remaining:.1f} s "
                    "(SYNs dropped somewhere on the path)",
                ), None
            err = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err in _RESET_AFTER_CONNECT:
                # The SYN was answered (a refused SYN gives ECONNREFUSED), then the server
                # reset the connection before we looked: TCP works, the next stage sees the
                # reset (a client's TLS handshake fails the same way).
                return done(TcpOutcome.CONNECTED, f"connected to {_join(address, port)}; the "
                            "server reset the connection at once"), sock
            if err != 0:
                sock.close()
                return _classify(err, done), None
    except OSError as exc:
        sock.close()
        return _classify(exc.errno or 0, done, str(exc)), None
    return done(TcpOutcome.CONNECTED, f"connected to {_join(address, port)}"), sock


def wait_ready(sock: socket.socket, *, write: bool, timeout: float) -> bool:
    """Wait until `sock` is writable (or readable); False when `timeout` seconds passed.

    A selector, not select.select(): select() cannot watch a descriptor numbered 1024 or more
    and raises ValueError, which a long-running exporter or a wide multi-target run reaches.
    On Windows the selector also reports a failed connect (select's "exceptional" set) as
    writable, so refused connections are seen at once there too.
    """
    with selectors.DefaultSelector() as selector:
        selector.register(sock, selectors.EVENT_WRITE if write else selectors.EVENT_READ)
        return bool(selector.select(max(0.0, timeout)))


def _classify(err: int, done: Callable[[TcpOutcome, str], TcpResult], text: str = "") -> TcpResult:
    name = errno.errorcode.get(err, str(err))
    message = text or f"{name}: {_strerror(err)}"
    if err == errno.ECONNREFUSED:
        return done(TcpOutcome.REFUSED, f"connection refused ({message}): nothing listens, or a "
                    "firewall answers with a TCP reset")
    if err == errno.ETIMEDOUT:
        return done(TcpOutcome.TIMED_OUT, f"connection timed out ({message})")
    if err in _UNREACHABLE_ERRNOS:
        return done(TcpOutcome.UNREACHABLE, f"unreachable ({message})")
    return done(TcpOutcome.ERROR, message)


def _strerror(err: int) -> str:
    try:
        return os.strerror(err)
    except ValueError:
        return "unknown error"


def _join(address: str, port: int) -> str:
    return join_host_port(address, port)
