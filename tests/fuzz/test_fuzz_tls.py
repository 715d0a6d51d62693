"""Fuzzing the TLS client and the POST: whatever a server sends, `tls.handshake` and
`iphttps.post` return a result (never raise), and the outcome names what happened."""

from __future__ import annotations

import contextlib
import socket
import threading

from hypothesis import event, example, given
from hypothesis import strategies as st
from OpenSSL import SSL

from daserver_check.probe import iphttps, tls
from daserver_check.probe.deadline import Deadline
from daserver_check.protocol.http_response import (
    MAX_HEAD_BYTES,
    HttpResponseError,
    parse_response_head,
)
from tests.hostile import servers as hs

from .strategies import fuzz_settings, inputs, mutated

# Outcomes that mean "our side could not try": never the answer to bytes a server sent.
OUR_SIDE = {tls.TlsOutcome.ERROR}


def handshake_against(flight: bytes, mode: tls.TlsMode) -> tls.TlsResult:
    """Our client against a peer that answers the ClientHello with `flight`, then closes."""
    client, server = socket.socketpair()
    with client, server:
        client.setblocking(False)
        server.setblocking(False)
        # The flight fits the socket buffer or is cut; the close follows right behind it.
        with contextlib.suppress(BlockingIOError):
            server.send(flight[:100_000])
        server.shutdown(socket.SHUT_WR)
        result, _conn = tls.handshake(client, "da.lab.test", mode, Deadline(5))
    return result


@fuzz_settings(ci=300)
@example(flight=b"", mode=tls.TlsMode.ENCRYPTED)
@given(flight=inputs("tls_server", max_random=256), mode=st.sampled_from(list(tls.TlsMode)))
def test_any_server_flight_gives_a_specific_outcome(flight: bytes, mode: tls.TlsMode) -> None:
    result = handshake_against(flight, mode)
    event(result.outcome.value)
    assert result.outcome not in OUR_SIDE, result
    assert result.outcome is not tls.TlsOutcome.TIMED_OUT, result  # the close came
    assert result.detail


class AnswerServer:
    """A real TLS server (lab certificate) on one end of a socketpair: handshake, read the
    POST head, write `answer`, close."""

    def __init__(self, sock: socket.socket, answer: bytes) -> None:
        self.sock = sock
        self.answer = answer
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        conn = SSL.Connection(hs._server_context(), self.sock)
        conn.set_accept_state()
        with contextlib.suppress(SSL.Error, OSError):
            conn.do_handshake()
            head = b""
            while b"\r\n\r\n" not in head:
                head += conn.recv(4096)
            if self.answer:
                conn.sendall(self.answer)
            conn.shutdown()
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)


def expected_status(answer: bytes) -> int | None:
    """The status the parser gives the answer on its own, or None when it has none."""
    end = answer.find(b"\r\n\r\n")
    if end < 0 or end > MAX_HEAD_BYTES:
        return None
    try:
        return parse_response_head(answer[:end]).status
    except HttpResponseError:
        return None


@fuzz_settings(ci=150)
@example(answer=b"HTTP/1.1 200 OK\r\nServer: Microsoft-HTTPAPI/2.0\r\n\r\n")
@example(answer=b"")
@given(answer=inputs("http_response", max_random=256))
def test_any_answer_to_the_post_gives_a_result(answer: bytes) -> None:
    client, server = socket.socketpair()
    with client, server:
        client.setblocking(False)
        peer = AnswerServer(server, answer)
        deadline = Deadline(5)
        hello, conn = tls.handshake(client, "da.lab.test", tls.TlsMode.ENCRYPTED, deadline)
        assert conn is not None, hello
        result = iphttps.post(conn, client, "/IPHTTPS", "da.lab.test", deadline)
        peer.thread.join(5)
    event(result.outcome.value)
    assert result.outcome is not iphttps.PostOutcome.TIMED_OUT, result
    status = expected_status(answer)
    if status is not None:
        # The same bytes over TLS give the same verdict as the parser on its own.
        assert result.outcome is iphttps.PostOutcome.ANSWERED, result
        assert result.head is not None and result.head.status == status
    elif answer:
        # Bytes that are no complete, valid head: malformed, whether the server then closed
        # or not (a close without a word is the only "closed").
        assert result.outcome is iphttps.PostOutcome.MALFORMED, result
    else:
        assert result.outcome is iphttps.PostOutcome.CLOSED, result


@fuzz_settings(ci=30)
@given(flight=mutated("tls_server", max_ops=3))
def test_null_only_mode_against_mutated_flights(flight: bytes) -> None:
    result = handshake_against(flight, tls.TlsMode.NULL_ONLY)
    assert result.outcome not in OUR_SIDE, result
