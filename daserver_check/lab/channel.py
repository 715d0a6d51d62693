"""The lab's side of one client connection: a non-blocking socket, a deadline, a wake-up.

pyOpenSSL ignores socket timeouts, so every wait is a select() on the client socket and the
lab's wake-up socket with a deadline: `LabEndpoint.stop()` returns promptly whatever the client
does.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import time
from collections.abc import Callable
from typing import Any, TypeVar

from OpenSSL import SSL

LINGER_SECONDS = 1.0

_T = TypeVar("_T")


class Closed(Exception):
    """The connection ends: stop requested, deadline passed, or the peer went away."""


class Channel:
    """Waits on one non-blocking client socket, a deadline, and the lab's wake-up socket."""

    def __init__(self, sock: socket.socket, wake: socket.socket) -> None:
        self._sock = sock
        self._wake = wake
        self._selector = selectors.DefaultSelector()
        self._selector.register(sock, selectors.EVENT_READ)
        self._selector.register(wake, selectors.EVENT_READ)
        self._events = selectors.EVENT_READ

    def close(self) -> None:
        self._selector.close()

    def wait(self, write: bool, deadline: float | None) -> None:
        events = selectors.EVENT_WRITE if write else selectors.EVENT_READ
        if events != self._events:
            self._selector.modify(self._sock, events)
            self._events = events
        timeout = None if deadline is None else deadline - time.monotonic()
        if timeout is not None and timeout <= 0:
            raise Closed("deadline")
        ready = self._selector.select(timeout)
        if not ready:
            raise Closed("deadline")
        if any(key.fileobj is self._wake for key, _ in ready):
            raise Closed("stopping")

    def tls(self, call: Callable[[], _T], deadline: float) -> _T:
        """Run one pyOpenSSL call to completion, waiting whenever it wants the socket."""
        while True:
            try:
                return call()
            except SSL.WantReadError:
                self.wait(False, deadline)
            except SSL.WantWriteError:
                self.wait(True, deadline)

    def recv(self, conn: Any, deadline: float) -> bytes:
        """Up to 16 KiB of plaintext; b"" when the peer closed (cleanly or not)."""
        try:
            data: bytes = self.tls(lambda: conn.recv(16384), deadline)
        except (SSL.ZeroReturnError, SSL.SysCallError):
            return b""
        except SSL.Error as exc:
            raise Closed(str(exc)) from None
        return data

    def sendall(self, conn: Any, data: bytes, deadline: float) -> None:
        offset = 0
        while offset < len(data):
            chunk = data[offset:]
            try:
                sent: int = self.tls(lambda: conn.send(chunk), deadline)  # noqa: B023 (sync)
            except SSL.Error as exc:
                raise Closed(str(exc)) from None
            offset += sent


def close_after_answer(conn: Any, sock: socket.socket, channel: Channel) -> None:
    """close_notify, then a short lingering close, as HTTP servers do after `Connection: close`.

    Closing a socket with unread input sends a TCP reset, and a reset can destroy the answer
    still in flight to the client. So: say we are done, then read and discard until the client
    closes its side, for at most LINGER_SECONDS.
    """
    with contextlib.suppress(Exception):
        conn.shutdown()  # sends close_notify once, without waiting for the peer's
    with contextlib.suppress(Exception):
        sock.shutdown(socket.SHUT_WR)
        deadline = time.monotonic() + LINGER_SECONDS
        while True:
            channel.wait(False, deadline)
            try:
                if not sock.recv(65536):
                    return
            except BlockingIOError:
                continue


def close_quietly(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.close()
