"""The two TLS handshakes a DirectAccess client makes, over a socket we already connected.

- ENCRYPTED: normal suites, TLS 1.0 to 1.3 — what a Windows 7 client needs (REFERENCE.md §2).
- NULL_ONLY: only TLS_RSA_WITH_NULL_SHA256 / TLS_RSA_WITH_NULL_SHA, TLS 1.2 at most — what
  Windows 8+ clients prefer. OpenSSL needs `@SECLEVEL=0` for null suites, and the TLS 1.2 cap,
  or it would still offer TLS 1.3 suites (REFERENCE.md §2, verified with OpenSSL 3).

pyOpenSSL ignores socket timeouts, so the handshake runs on a non-blocking socket in a loop
that waits with select() until the deadline. Certificates are never verified here: the served
chain is returned as data and analysed by `daserver_check.certs` — a probe must report the
facts of an expired or untrusted certificate, not stop at it (blackbox_exporter #1119).
"""

from __future__ import annotations

import enum
import errno
import socket
import time
from dataclasses import dataclass

from cryptography import x509
from OpenSSL import SSL

from daserver_check.probe.deadline import Deadline
from daserver_check.probe.tcp import wait_ready


class TlsMode(enum.StrEnum):
    ENCRYPTED = "encrypted"
    NULL_ONLY = "null-only"


class TlsOutcome(enum.StrEnum):
    OK = "ok"
    REJECTED = "rejected"  # the server sent an alert: no suite or version in common, or more
    CLOSED = "closed"  # the server closed the connection during the handshake
    RESET = "reset"
    TIMED_OUT = "timed-out"
    NOT_TLS = "not-tls"  # the peer answered with something that is not TLS
    # The peer speaks TLS, but sends what no client accepts: malformed or oversized messages,
    # a suite or version the client did not offer, a certificate that cannot be parsed.
    PROTOCOL_ERROR = "protocol-error"
    ERROR = "error"  # our side could not try (socket errors other than reset/close)


ENCRYPTED_CIPHERS = b"ALL:!aNULL:!eNULL:@SECLEVEL=0"
NULL_CIPHERS = b"NULL-SHA256:NULL-SHA:@SECLEVEL=0"
_CERT_REQUEST_STATE = b"read server certificate request"
_NOT_TLS_MARKERS = (
    "wrong version number",
    "packet length too long",
    "record layer failure",
    "unknown protocol",
    "http request",
    "record_layer_failure",
)
# OpenSSL reasons of a server that speaks TLS wrongly -> what to tell the admin. First match wins.
_PROTOCOL_REASONS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("excessive message size",),
     "the server sent a handshake message larger than TLS clients accept (a certificate chain "
     "of more than 100 KB?)"),
    (("unsupported protocol", "wrong ssl version", "version too low", "version too high"),
     "the server chose a protocol version the client did not offer"),
    (("cipher returned", "wrong cipher"),
     "the server chose a cipher suite the client did not offer"),
    (("asn1", "bad object header", "cert length mismatch", "certificate", "public key",
      "x509"),
     "the server's Certificate message cannot be parsed"),
    (("signature", "wrong curve", "bad dh value", "bad ecpoint"),
     "the server's key exchange is not signed or encoded correctly"),
)


@dataclass(frozen=True, slots=True)
class TlsResult:
    mode: TlsMode
    outcome: TlsOutcome
    detail: str
    protocol: str | None = None
    cipher: str | None = None
    client_cert_requested: bool = False
    peer_chain: tuple[x509.Certificate, ...] = ()
    elapsed_ms: int = 0

    @property
    def ok(self) -> bool:
        return self.outcome is TlsOutcome.OK


def _context(mode: TlsMode) -> SSL.Context:
    ctx = SSL.Context(SSL.TLS_METHOD)
    ctx.set_verify(SSL.VERIFY_NONE)
    # OpenSSL 3 refuses servers without RFC 5746 secure renegotiation; Schannel clients accept
    # them by default ("compatible mode", KB 980436 — inference from the advisory's defaults),
    # so refusing them here would predict a failure Windows clients do not have.
    ctx.set_options(SSL.OP_LEGACY_SERVER_CONNECT)
    if mode is TlsMode.NULL_ONLY:
        ctx.set_cipher_list(NULL_CIPHERS)
        ctx.set_max_proto_version(SSL.TLS1_2_VERSION)
    else:
        ctx.set_cipher_list(ENCRYPTED_CIPHERS)
        # Windows 7 speaks TLS 1.0 by default; accept it so `tls.protocol` can report it.
        ctx.set_min_proto_version(SSL.TLS1_VERSION)
    return ctx


def wait_io(sock: socket.socket, *, write: bool, deadline: Deadline) -> bool:
    """Wait until the socket is readable (or writable); False when the deadline passed."""
    remaining = deadline.remaining()
    if remaining <= 0:
        return False
    return wait_ready(sock, write=write, timeout=remaining)


def handshake(
    sock: socket.socket, server_name: str | None, mode: TlsMode, deadline: Deadline
) -> tuple[TlsResult, SSL.Connection | None]:
    """Run one client handshake; on success the caller owns the returned connection."""
    started = time.monotonic()
    requested = False

    def on_info(conn: SSL.Connection, where: int, ret: int) -> None:
        nonlocal requested
        # The CertificateRequest is the only way to learn that the server asks for a client
        # certificate when it lets the handshake go on without one (Windows clients then fail
        # with SEC_I_INCOMPLETE_CREDENTIALS 0x90320).
        if _CERT_REQUEST_STATE in conn.get_state_string():
            requested = True

    def result(outcome: TlsOutcome, detail: str, **kw: object) -> TlsResult:
        elapsed = int((time.monotonic() - started) * 1000)
        return TlsResult(mode, outcome, detail, client_cert_requested=requested,
                         elapsed_ms=elapsed, **kw)  # type: ignore[arg-type]

    ctx = _context(mode)
    ctx.set_info_callback(on_info)
    conn = SSL.Connection(ctx, sock)
    if server_name:
        conn.set_tlsext_host_name(server_name.encode("ascii"))
    conn.set_connect_state()
    try:
        while True:
            try:
                conn.do_handshake()
                break
            except SSL.WantReadError:
                if not wait_io(sock, write=False, deadline=deadline):
                    return result(TlsOutcome.TIMED_OUT, _timeout_detail(conn, started)), None
            except SSL.WantWriteError:
                if not wait_io(sock, write=True, deadline=deadline):
                    return result(TlsOutcome.TIMED_OUT, _timeout_detail(conn, started)), None
    except SSL.ZeroReturnError:
        return result(TlsOutcome.CLOSED, "the server closed the connection during the handshake"), None
    except SSL.SysCallError as exc:
        return result(*_syscall(exc)), None
    except SSL.Error as exc:
        return result(*_ssl_error(exc, mode)), None
    except OSError as exc:
        return result(TlsOutcome.ERROR, f"socket error: {exc}"), None
    chain = tuple(conn.get_peer_cert_chain(as_cryptography=True) or ())
    if not chain:
        leaf = conn.get_peer_certificate(as_cryptography=True)
        chain = (leaf,) if leaf is not None else ()
    cipher = conn.get_cipher_name()
    protocol = conn.get_protocol_version_name()
    return (
        result(
            TlsOutcome.OK,
            f"{protocol} with {cipher}",
            protocol=protocol,
            cipher=cipher,
            peer_chain=chain,
        ),
        conn,
    )


def _timeout_detail(conn: SSL.Connection, started: float) -> str:
    waited = time.monotonic() - started
    state = conn.get_state_string().decode("ascii", "replace")
    return f"no complete handshake within {waited:.1f} s (stopped at: {state})"


def _syscall(exc: SSL.SysCallError) -> tuple[TlsOutcome, str]:
    code = exc.args[0] if exc.args else None
    if code in (errno.ECONNRESET, 10054):  # 10054 = WSAECONNRESET
        return TlsOutcome.RESET, "the server reset the connection during the handshake"
    if code == -1 or not exc.args:
        return TlsOutcome.CLOSED, "the server closed the connection during the handshake"
    return TlsOutcome.ERROR, f"socket error during the handshake: {exc}"


def _ssl_error(exc: SSL.Error, mode: TlsMode) -> tuple[TlsOutcome, str]:
    reasons = _reasons(exc)
    text = "; ".join(dict.fromkeys(reasons)) or str(exc)  # OpenSSL repeats "nested asn1 error"
    lowered = text.lower()
    if any(marker in lowered for marker in _NOT_TLS_MARKERS):
        return TlsOutcome.NOT_TLS, f"the server did not answer with TLS ({text})"
    if "unexpected eof" in lowered:
        return TlsOutcome.CLOSED, "the server closed the connection during the handshake"
    if "alert" in lowered or "no shared cipher" in lowered or "no cipher" in lowered:
        what = "null-encryption suites" if mode is TlsMode.NULL_ONLY else "encrypted suites"
        return TlsOutcome.REJECTED, f"the server refused a handshake offering {what} ({text})"
    for markers, meaning in _PROTOCOL_REASONS:
        if any(marker in lowered for marker in markers):
            return TlsOutcome.PROTOCOL_ERROR, f"{meaning} ({text})"
    return TlsOutcome.PROTOCOL_ERROR, f"the server's handshake messages are malformed ({text})"


def error_reasons(exc: SSL.Error) -> list[str]:
    """OpenSSL's reasons for `exc`, e.g. ["wrong version number", "record layer failure"]."""
    # pyOpenSSL packs OpenSSL's error queue as [(lib, func, reason), ...].
    out: list[str] = []
    for item in exc.args[0] if exc.args and isinstance(exc.args[0], list) else []:
        if isinstance(item, tuple) and item:
            out.append(str(item[-1]))
    return out


_reasons = error_reasons


def receive(
    conn: SSL.Connection, sock: socket.socket, limit: int, deadline: Deadline
) -> bytes | None:
    """Read up to `limit` bytes; b"" on a clean close; None when the deadline passed.

    Raises SSL.Error / OSError for a reset or a broken stream; callers turn them into data.
    """
    while True:
        try:
            data: bytes = conn.recv(limit)
            return data
        except SSL.WantReadError:
            if not wait_io(sock, write=False, deadline=deadline):
                return None
        except SSL.WantWriteError:
            if not wait_io(sock, write=True, deadline=deadline):
                return None
        except SSL.ZeroReturnError:
            return b""


def send_all(conn: SSL.Connection, sock: socket.socket, data: bytes, deadline: Deadline) -> bool:
    """Send everything; False when the deadline passed. Raises like `receive`."""
    view = memoryview(data)
    while view:
        try:
            sent = conn.send(view)
            view = view[sent:]
        except SSL.WantWriteError:
            if not wait_io(sock, write=True, deadline=deadline):
                return False
        except SSL.WantReadError:
            if not wait_io(sock, write=False, deadline=deadline):
                return False
    return True
