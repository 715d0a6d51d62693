"""tcp.connect without root: a refused port, and a silent peer (a listener whose accept queue
is full, so the kernel drops further SYNs: the client waits, as behind a dropping firewall)."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest

from daserver_check.checks.tcp import tcp_finding
from daserver_check.model import Status
from daserver_check.probe.deadline import Deadline
from daserver_check.probe.tcp import TcpOutcome, connect


def test_refused(unused_tcp_port: int) -> None:
    result, sock = connect("127.0.0.1", unused_tcp_port, Deadline(2))
    assert sock is None
    assert result.outcome is TcpOutcome.REFUSED
    finding = tcp_finding(result)
    assert (finding.status, finding.predicts) == (Status.FAIL, (0x274D,))


@pytest.fixture
def silent_listener() -> Iterator[int]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    try:
        # Fill the accept queue (backlog 0 still queues one) so the next SYN gets no answer.
        for _ in range(4):
            s = socket.socket()
            s.setblocking(False)
            s.connect_ex(("127.0.0.1", port))
            fillers.append(s)
        yield port
    finally:
        for s in fillers:
            s.close()
        listener.close()


def test_silent_peer_times_out_0x274c(silent_listener: int) -> None:
    result, sock = connect("127.0.0.1", silent_listener, Deadline(0.5))
    if sock is not None:
        sock.close()
        pytest.skip("this kernel answered a SYN beyond the full accept queue")
    assert result.outcome is TcpOutcome.TIMED_OUT
    finding = tcp_finding(result)
    assert (finding.status, finding.predicts) == (Status.FAIL, (0x274C,))


def test_not_an_address() -> None:
    result, sock = connect("da.lab.test", 443, Deadline(1))
    assert sock is None
    assert result.outcome is TcpOutcome.ERROR
    assert tcp_finding(result).status is Status.ERROR
