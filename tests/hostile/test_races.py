"""Races a hostile server can win, made deterministic with events (no sleeps)."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from daserver_check.checks.tcp import tcp_finding
from daserver_check.model import Status
from daserver_check.probe import tcp, tls
from daserver_check.probe.deadline import Deadline


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(4)
        yield sock


def test_reset_before_the_connect_is_checked_is_a_tls_reset(
    listener: socket.socket, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server accepts and resets before the client looks at its connect: SO_ERROR then
    holds ECONNRESET. That is a server resetting connections (the TLS stage says so), not a
    TCP stage that "could not be tried" (status error, exit 3) as it used to be."""
    real_wait = tcp.wait_ready
    reset_done = threading.Event()

    def server() -> None:
        conn, _ = listener.accept()
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        conn.close()
        reset_done.set()

    def wait_after_reset(sock: socket.socket, *, write: bool, timeout: float) -> bool:
        assert reset_done.wait(10)
        return real_wait(sock, write=write, timeout=timeout)

    thread = threading.Thread(target=server, daemon=True)
    thread.start()
    monkeypatch.setattr(tcp, "wait_ready", wait_after_reset)
    deadline = Deadline(5)
    result, sock = tcp.connect("127.0.0.1", listener.getsockname()[1], deadline)
    monkeypatch.undo()
    thread.join(5)
    assert result.outcome is tcp.TcpOutcome.CONNECTED, result
    assert "reset" in result.detail
    assert tcp_finding(result).status is Status.PASS
    assert sock is not None
    with sock:
        handshake, conn = tls.handshake(sock, "da.lab.test", tls.TlsMode.ENCRYPTED, deadline)
    assert conn is None
    assert handshake.outcome is tls.TlsOutcome.RESET, handshake
