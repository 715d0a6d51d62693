"""The IP-HTTPS POST over an established TLS connection ([MS-IPHTTPS] §3.1.5.2, §3.2.5.1).

Sends the client's POST, reads only the response head, then closes: after a 200 the server
treats us as a tunnel peer, and a probe must not linger on the corporate IPv6 link.
"""

from __future__ import annotations

import enum
import errno
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from OpenSSL import SSL

from daserver_check.probe.deadline import Deadline
from daserver_check.probe.tls import error_reasons, receive, send_all
from daserver_check.protocol.http_response import (
    HttpResponseError,
    NeedMore,
    ResponseHead,
    ResponseHeadParser,
    build_iphttps_post,
)


class PostOutcome(enum.StrEnum):
    ANSWERED = "answered"
    CLOSED = "closed"  # the server closed without answering (a disabled IP-HTTPS server)
    RESET = "reset"
    TIMED_OUT = "timed-out"
    MALFORMED = "malformed"  # not HTTP, or beyond the size bounds
    TLS_ERROR = "tls-error"  # the TLS stream itself broke (cleartext or corrupt records)


@dataclass(frozen=True, slots=True)
class PostResult:
    outcome: PostOutcome
    detail: str
    head: ResponseHead | None = None
    elapsed_ms: int = 0


def post(
    conn: SSL.Connection,
    sock: socket.socket,
    path: str,
    host_header: str,
    deadline: Deadline,
) -> PostResult:
    started = time.monotonic()

    def result(outcome: PostOutcome, detail: str, head: ResponseHead | None = None) -> PostResult:
        return PostResult(outcome, detail, head, int((time.monotonic() - started) * 1000))

    parser = ResponseHeadParser()
    try:
        if not send_all(conn, sock, build_iphttps_post(path, host_header), deadline):
            return result(PostOutcome.TIMED_OUT, "the server did not accept the request in time")
        while True:
            chunk = receive(conn, sock, 4096, deadline)
            if chunk is None:
                return result(
                    PostOutcome.TIMED_OUT,
                    f"no complete answer to the POST before the deadline "
                    f"({time.monotonic() - started:.1f} s)",
                )
            if not chunk:
                return _closed(parser, result)
            state = parser.feed(chunk)
            if not isinstance(state, NeedMore):
                return result(PostOutcome.ANSWERED, f"{state.status} {state.reason}".strip(), state)
    except HttpResponseError as exc:
        return result(PostOutcome.MALFORMED, f"the answer is not a valid HTTP response: {exc}")
    except SSL.SysCallError as exc:
        code = exc.args[0] if exc.args else -1
        if code == -1:
            return _closed(parser, result)
        if code in (errno.ECONNRESET, errno.EPIPE, 10054):  # 10054 = WSAECONNRESET
            return result(PostOutcome.RESET, "the server reset the connection during the POST")
        return result(PostOutcome.RESET, f"the connection broke during the POST: {_text(exc)}")
    except SSL.ZeroReturnError:
        return result(PostOutcome.CLOSED, "the server closed the connection without "
                      "answering the POST")
    except SSL.Error as exc:
        reasons = "; ".join(error_reasons(exc)) or str(exc)
        return result(
            PostOutcome.TLS_ERROR,
            f"the server's TLS stream broke after the handshake ({reasons}): what came back is "
            "not valid TLS (a device answering in cleartext, or corrupting records)",
        )
    except OSError as exc:
        return result(PostOutcome.RESET, f"the connection broke during the POST: {_text(exc)}")


def _closed(
    parser: ResponseHeadParser, result: Callable[[PostOutcome, str], PostResult]
) -> PostResult:
    """The server closed: without a word (a disabled server), or in the middle of its head."""
    partial = parser.buffered
    if not partial:
        return result(PostOutcome.CLOSED, "the server closed the connection without "
                      "answering the POST")
    first = partial.split(b"\r\n", 1)[0][:60].decode("latin-1")
    return result(PostOutcome.MALFORMED, f"the server closed the connection in the middle of "
                  f"its answer ({len(partial)} bytes without the blank line that ends an HTTP "
                  f"head; it began {first!r})")


def _text(exc: BaseException) -> str:
    if isinstance(exc, SSL.SysCallError) and len(exc.args) == 2:
        code, message = exc.args
        return f"{message} (errno {code})"
    return str(exc) or type(exc).__name__
