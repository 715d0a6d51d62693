"""The two TLS handshakes a DirectAccess client makes, over a socket we already connected.

- ENCRYPTED: normal suites, TLS 1.0 to 1.3 — what a Windows 7 client needs (docs/windows-facts.md §2).
- NULL_ONLY: only TLS_RSA_WITH_NULL_SHA256 / TLS_RSA_WITH_NULL_SHA, TLS 1.2 at most — what
  Windows 8+ clients prefer. OpenSSL needs `@SECLEVEL=0` for null suites, and the TLS 1.2 cap,
  or it would still offer TLS 1.3 suites (docs/windows-facts.md §2, verified with OpenSSL 3).

pyOpenSSL ignores socket timeouts, and an OpenSSL bound to a socket keeps reading inside one
call for as long as the peer keeps sending (a server streaming endless handshake records would
hold `do_handshake()` past any deadline). So OpenSSL works on memory BIOs, and this module moves
the bytes: at most one chunk from the non-blocking socket per step, the deadline checked
between steps. Socket errors are raised as `SSL.SysCallError`, as a socket-bound connection
would raise them, so callers see one kind of error.

Certificates are never verified here: the served chain is returned as data and analysed by
`daserver_check.certs` — a probe must report the facts of an expired or untrusted certificate,
not stop at it (blackbox_exporter #1119).

Over 400 lines because the memory-BIO transport, the handshake loop and the reading of a
failed handshake are one mechanism, shared by the probe, the client handshakes and the cipher map.
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


class _Transport:
    """Moves bytes between a non-blocking socket and a memory-BIO `SSL.Connection`."""

    # One read per step: about one TLS record, so the deadline is looked at between records.
    CHUNK = 16 * 1024 + 512

    def __init__(self, conn: SSL.Connection, sock: socket.socket) -> None:
        self.conn = conn
        self.sock = sock
        self.received = 0

    def flush(self, deadline: Deadline) -> bool:
        """Send what OpenSSL wrote; False when the deadline passed first."""
        while True:
            try:
                data: bytes = self.conn.bio_read(65536)
            except SSL.WantReadError:
                return True
            view = memoryview(data)
            while view:
                try:
                    view = view[self.sock.send(view) :]
                except (BlockingIOError, InterruptedError):
                    pass
                except OSError as exc:
                    raise _syscall_error(exc) from exc
                if view and not wait_io(self.sock, write=True, deadline=deadline):
                    return False

    def fill(self, deadline: Deadline) -> bool:
        """Give OpenSSL the next chunk from the socket; False when the deadline passed first.

        The peer's close without close_notify raises SysCallError(-1, "Unexpected EOF").
        """
        if not wait_io(self.sock, write=False, deadline=deadline):
            return False
        try:
            data = self.sock.recv(self.CHUNK)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError as exc:
            raise _syscall_error(exc) from exc
        if not data:
            raise SSL.SysCallError(-1, "Unexpected EOF")
        self.received += len(data)
        self.conn.bio_write(data)
        return True

    def step(self, deadline: Deadline) -> bool:
        """OpenSSL wants to read: send its output, then feed it input."""
        return self.flush(deadline) and self.fill(deadline)

    def flush_quietly(self) -> None:
        """Best effort, no waiting: e.g. the alert OpenSSL wrote before giving up."""
        try:
            data = self.conn.bio_read(65536)
            self.sock.send(data)
        except (SSL.Error, OSError):
            pass


def _syscall_error(exc: OSError) -> SSL.SysCallError:
    code = exc.errno if exc.errno is not None else -1
    return SSL.SysCallError(code, errno.errorcode.get(code, str(exc)))


class TlsConnection(SSL.Connection):
    """A client connection on memory BIOs; use `receive`/`send_all` with its socket."""

    transport: _Transport


def client_connection(
    ctx: SSL.Context, sock: socket.socket, sni: bytes | None
) -> tuple[TlsConnection, _Transport]:
    """A client connection on memory BIOs over the non-blocking `sock`, not yet started."""
    conn = TlsConnection(ctx, None)
    transport = conn.transport = _Transport(conn, sock)
    if sni:
        conn.set_tlsext_host_name(sni)
    conn.set_connect_state()
    return conn, transport


def drive_handshake(conn: SSL.Connection, transport: _Transport, deadline: Deadline) -> bool:
    """Run the client handshake to its end, our last flight (Finished) sent; False when the
    deadline passed first. OpenSSL's and the socket's errors propagate to the caller, which
    tells them apart (alert, reset, close)."""
    while True:
        try:
            conn.do_handshake()
        except (SSL.WantReadError, SSL.WantWriteError):
            if not transport.step(deadline):
                return False
            continue
        return transport.flush(deadline)


def handshake(
    sock: socket.socket, server_name: str | None, mode: TlsMode, deadline: Deadline
) -> tuple[TlsResult, TlsConnection | None]:
    """Run one client handshake; on success the caller owns the returned connection (and
    still the socket, which it closes)."""
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
    conn, transport = client_connection(
        ctx, sock, server_name.encode("ascii") if server_name else None)
    try:
        if not drive_handshake(conn, transport, deadline):
            return result(TlsOutcome.TIMED_OUT,
                          _timeout_detail(conn, started, transport.received)), None
    except SSL.ZeroReturnError:
        return result(TlsOutcome.CLOSED, "the server closed the connection during the handshake"), None
    except SSL.SysCallError as exc:
        return result(*_syscall(exc)), None
    except SSL.Error as exc:
        transport.flush_quietly()  # the alert, as a real client sends it
        return result(*_ssl_error(exc, mode)), None
    except OSError as exc:
        return result(TlsOutcome.ERROR, f"socket error: {exc}"), None
    try:
        chain = _peer_chain(conn)
    except _UnreadableCertificate as exc:
        transport.flush_quietly()
        return result(TlsOutcome.PROTOCOL_ERROR, str(exc)), None
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


class _UnreadableCertificate(Exception):
    pass


def _peer_chain(conn: SSL.Connection) -> tuple[x509.Certificate, ...]:
    """The served chain as `cryptography` certificates.

    OpenSSL hands over certificates that cryptography refuses (an X.509 version other than
    v1-v3, for one): such a certificate is a server fault a client meets too, not a bug of
    ours, so it ends the handshake with a protocol error naming it.
    """
    served = conn.get_peer_cert_chain() or []
    if not served:
        leaf = conn.get_peer_certificate()
        served = [leaf] if leaf is not None else []
    chain: list[x509.Certificate] = []
    for position, cert in enumerate(served):
        try:
            chain.append(cert.to_cryptography())
        except Exception as exc:
            what = "leaf certificate" if position == 0 else f"certificate #{position + 1}"
            raise _UnreadableCertificate(
                f"the server's {what} cannot be parsed ({type(exc).__name__}: {exc}): clients "
                "reject it too"
            ) from exc
    return tuple(chain)


def _timeout_detail(conn: SSL.Connection, started: float, received: int) -> str:
    waited = time.monotonic() - started
    state = conn.get_state_string().decode("ascii", "replace")
    if received == 0:
        heard = "the server sent nothing"
    else:
        heard = f"the server sent only {received} byte{'s' if received != 1 else ''}"
    return f"no complete handshake within {waited:.1f} s ({heard}; stopped at: {state})"


# EPIPE/ECONNABORTED: our write met a connection the server had already reset.
_RESET_ERRNOS = {errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED, 10053, 10054}  # WSA codes


def _syscall(exc: SSL.SysCallError) -> tuple[TlsOutcome, str]:
    code = exc.args[0] if exc.args else None
    if code in _RESET_ERRNOS:
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


def _wait(conn: SSL.Connection, sock: socket.socket, deadline: Deadline, *, write: bool) -> bool:
    """One step of waiting for OpenSSL: pump the BIOs of a `handshake` connection; for a
    socket-bound connection (or a stand-in in tests), wait on the socket."""
    transport: _Transport | None = getattr(conn, "transport", None)
    if transport is None:
        return wait_io(sock, write=write, deadline=deadline)
    return transport.step(deadline)


def receive(
    conn: SSL.Connection, sock: socket.socket, limit: int, deadline: Deadline
) -> bytes | None:
    """Read up to `limit` bytes; b"" on a clean close; None when the deadline passed.

    Raises SSL.Error for a reset or a broken stream (SysCallError(-1, ...) for a close without
    close_notify); callers turn them into data.
    """
    while True:
        try:
            data: bytes = conn.recv(limit)
            return data
        except SSL.WantReadError:
            if not _wait(conn, sock, deadline, write=False):
                return None
        except SSL.WantWriteError:
            if not _wait(conn, sock, deadline, write=True):
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
            if not _wait(conn, sock, deadline, write=True):
                return False
        except SSL.WantReadError:
            if not _wait(conn, sock, deadline, write=False):
                return False
    transport: _Transport | None = getattr(conn, "transport", None)
    return transport is None or transport.flush(deadline)
