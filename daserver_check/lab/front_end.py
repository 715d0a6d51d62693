"""The lab's `null-dropped` front end: a device before the server that refuses null suites.

R. Hicks ("Troubleshooting DirectAccess IP-HTTPS Error 0x80090326") reports Windows 8.x/10
IP-HTTPS clients failing right after their ClientHello when an application delivery controller
in front of the server lacks the null suites. How such a device refuses is not documented; the
lab imitates the reported symptom: it reads (without consuming) the ClientHello and, when it
offers a null suite, answers with a fatal handshake_failure alert (RFC 5246 §7.2.2) and closes.
A hello without null suites (Windows 7) passes through to the lab's TLS server unchanged.
"""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable

from daserver_check.lab.faults import REFUSED_BY_NULL_DROPPED
from daserver_check.protocol.client_hello import (
    MAX_HELLO,
    ClientHelloError,
    handshake_from_records,
    parse_client_hello,
)

# TLS 1.0 record: Alert, fatal(2), handshake_failure(40).
HANDSHAKE_FAILURE_ALERT = bytes([21, 3, 1, 0, 2, 2, 40])


def _peek(sock: socket.socket, wait_readable: Callable[[], None]) -> bytes | None:
    """The ClientHello's handshake message, left in the socket; None if the peer closed or
    sent something else. `wait_readable` raises when the deadline passes or the lab stops."""
    want = 1
    try:
        while True:
            # SO_RCVLOWAT: select() reports the socket readable only once `want` bytes are
            # there, so waiting for the rest of a split hello is not a busy loop (Linux >= 2.6.28).
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, want)
            wait_readable()
            try:
                data = sock.recv(MAX_HELLO + 64, socket.MSG_PEEK)
            except BlockingIOError:
                continue
            if not data:
                return None
            try:
                message = handshake_from_records(data)
            except ClientHelloError:
                return None
            if message is not None:
                return message
            if len(data) >= MAX_HELLO + 64:
                return None
            want = len(data) + 1
    finally:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVLOWAT, 1)


def refuses(sock: socket.socket, wait_readable: Callable[[], None]) -> bool:
    """True when the front end refused the connection (alert sent): the caller closes it."""
    message = _peek(sock, wait_readable)
    if message is None:
        return False
    try:
        hello = parse_client_hello(message)
    except ClientHelloError:
        return False  # let the TLS server answer a malformed hello as it does
    if not REFUSED_BY_NULL_DROPPED & set(hello.cipher_suites):
        return False
    with contextlib.suppress(OSError):
        sock.send(HANDSHAKE_FAILURE_ALERT)
    return True
