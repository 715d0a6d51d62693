"""Hostile IP-HTTPS endpoints on loopback: small threaded servers that misbehave on purpose.

Each `HostileServer` listens on 127.0.0.1:0 (or on a socket the caller made, e.g. inside a
network namespace) and runs one *behaviour* per connection in a thread. Behaviours before the
TLS handshake work on raw bytes: the ServerHello and the Certificate message are crafted by hand
(TLS 1.2, RFC 5246 §7.4), so a server can stop, reset, drip or overflow at the exact byte it
wants. Behaviours after the handshake use a real pyOpenSSL server with the lab PKI.

The servers sleep and drip as their *behaviour*; nothing in the tests waits on them with a
sleep. Every wait here watches a stop event, so `HostileServer.__exit__` returns promptly.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import struct
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from cryptography.hazmat.primitives import serialization
from OpenSSL import SSL, crypto

from daserver_check.lab.pki import LabPki, build_pki
from daserver_check.lab.server import HEALTHY_CIPHERS

NAME = "da.lab.test"
IO_SLICE = 0.2  # seconds: how often a blocked server thread looks at the stop event
MAX_READ = 64 * 1024
STREAM_CAP = 64 * 1024 * 1024  # a hostile server still stops somewhere
STREAM_SECONDS = 60.0


class Stopped(Exception):
    """The server is stopping or the peer went away: the behaviour ends."""


@dataclass
class Conn:
    """One accepted connection, with the server's stop event."""

    sock: socket.socket
    stop: threading.Event
    received: bytearray = field(default_factory=bytearray)

    def wait_readable(self, seconds: float | None = None) -> bool:
        """Wait until readable; False when `seconds` passed. Raises Stopped on stop."""
        waited = 0.0
        while not self.stop.is_set():
            step = IO_SLICE if seconds is None else min(IO_SLICE, seconds - waited)
            if step <= 0:
                return False
            with selectors.DefaultSelector() as sel:
                sel.register(self.sock, selectors.EVENT_READ)
                if sel.select(step):
                    return True
            waited += step
        raise Stopped

    def recv(self, limit: int = MAX_READ) -> bytes:
        """Some bytes, or b"" when the peer closed."""
        while True:
            self.wait_readable()
            try:
                data = self.sock.recv(limit)
            except BlockingIOError:
                continue
            except OSError as exc:
                raise Stopped from exc
            self.received += data
            return data

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            if self.stop.is_set():
                raise Stopped
            with selectors.DefaultSelector() as sel:
                sel.register(self.sock, selectors.EVENT_WRITE)
                if not sel.select(IO_SLICE):
                    continue
            try:
                sent = self.sock.send(view)
            except BlockingIOError:
                continue
            except OSError as exc:
                raise Stopped from exc
            view = view[sent:]

    def pause(self, seconds: float) -> None:
        """Behaviour, not synchronisation: a server that takes its time."""
        if self.stop.wait(seconds):
            raise Stopped

    def drain_until_closed(self) -> None:
        """Read and discard until the peer closes (or the server stops)."""
        while True:
            data = self.recv()
            if not data:
                return

    def reset(self) -> None:
        """Close with a TCP reset (SO_LINGER 0) instead of a FIN."""
        with contextlib.suppress(OSError):
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.sock.close()


Behaviour = Callable[[Conn], None]


class HostileServer:
    """`with HostileServer(silent) as srv: probe https://da.lab.test:{srv.port}/IPHTTPS`."""

    def __init__(self, behaviour: Behaviour, listener: socket.socket | None = None) -> None:
        self.behaviour = behaviour
        if listener is None:
            listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            listener.bind(("127.0.0.1", 0))
        listener.listen(32)
        listener.setblocking(False)
        self._listener = listener
        self.port: int = listener.getsockname()[1]
        self.stop = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []
        self._socks: list[socket.socket] = []
        self.connections = 0
        self.errors: list[str] = []  # unexpected exceptions in behaviours (a test bug)
        self._accept = threading.Thread(target=self._accept_loop, daemon=True,
                                        name=f"hostile-{self.port}")

    def __enter__(self) -> HostileServer:
        self._accept.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self.stop.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        self._accept.join(3)
        with self._lock:
            threads, socks = list(self._threads), list(self._socks)
        for sock in socks:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        for thread in threads:
            thread.join(3)
        for sock in (*socks, self._listener, self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                sock.close()

    def _accept_loop(self) -> None:
        with selectors.DefaultSelector() as sel:
            sel.register(self._listener, selectors.EVENT_READ)
            sel.register(self._wake_r, selectors.EVENT_READ)
            while not self.stop.is_set():
                events = sel.select()
                if any(key.fileobj is self._wake_r for key, _ in events):
                    return
                try:
                    sock, _ = self._listener.accept()
                except OSError:
                    continue
                sock.setblocking(False)
                thread = threading.Thread(target=self._run, args=(sock,), daemon=True)
                with self._lock:
                    self.connections += 1
                    self._threads.append(thread)
                    self._socks.append(sock)
                thread.start()

    def _run(self, sock: socket.socket) -> None:
        try:
            self.behaviour(Conn(sock, self.stop))
        except (Stopped, SSL.Error, OSError):
            pass
        except Exception as exc:  # recorded so a test can show a broken behaviour
            self.errors.append(f"{type(exc).__name__}: {exc}")
        finally:
            with contextlib.suppress(OSError):
                sock.close()


# -- TLS 1.2 records, crafted by hand (RFC 5246) -----------------------------------------------

HANDSHAKE = 0x16
ALERT = 0x15
TLS12 = b"\x03\x03"
MAX_FRAGMENT = 16384
# RSA key exchange suites first: after their ServerHello comes the Certificate message.
PREFERRED_SUITES = (0x009C, 0x002F, 0x0035, 0x003B, 0x0002)


def record(content_type: int, payload: bytes) -> bytes:
    return bytes([content_type]) + TLS12 + struct.pack("!H", len(payload)) + payload


def handshake_message(kind: int, body: bytes) -> bytes:
    return bytes([kind]) + len(body).to_bytes(3, "big") + body


def read_client_hello(conn: Conn) -> bytes:
    """Read one whole TLS record (the ClientHello) and return it; Stopped on EOF."""
    buf = b""
    while True:
        if len(buf) >= 5:
            need = 5 + struct.unpack("!H", buf[3:5])[0]
            if len(buf) >= need or len(buf) >= MAX_READ:
                return buf
        data = conn.recv()
        if not data:
            raise Stopped
        buf += data


def offered_suites(client_hello: bytes) -> list[int]:
    """The cipher suites of a ClientHello record (empty when it cannot be read)."""
    try:
        body = client_hello[5 + 4 :]
        pos = 2 + 32
        pos += 1 + body[pos]
        (length,) = struct.unpack("!H", body[pos : pos + 2])
        raw = body[pos + 2 : pos + 2 + length]
        return [struct.unpack("!H", raw[i : i + 2])[0] for i in range(0, len(raw) - 1, 2)]
    except (IndexError, struct.error):
        return []


def server_hello(client_hello: bytes, *, secure_renegotiation: bool = True) -> bytes:
    """A TLS 1.2 ServerHello record choosing a suite the client offered.

    With `secure_renegotiation` it carries the empty renegotiation_info extension (RFC 5746)
    that servers since 2010 send; without it, it looks like an older server's.
    """
    offered = offered_suites(client_hello)
    suite = next((s for s in PREFERRED_SUITES if s in offered), 0x002F)
    extensions = b"\xff\x01\x00\x01\x00" if secure_renegotiation else b""
    body = (
        TLS12
        + os.urandom(32)
        + b"\x00"  # no session id
        + struct.pack("!H", suite)
        + b"\x00"  # no compression
        + (struct.pack("!H", len(extensions)) + extensions if extensions else b"")
    )
    return record(HANDSHAKE, handshake_message(2, body))


def certificate_records(cert_der: bytes, total: int) -> Iterator[bytes]:
    """A Certificate message of about `total` bytes (copies of one certificate), streamed as
    records of at most 16 KiB: the header announces the whole size first."""
    entry = len(cert_der).to_bytes(3, "big") + cert_der
    copies = max(1, total // len(entry))
    list_len = copies * len(entry)
    head = handshake_message(11, b"")[:1] + (list_len + 3).to_bytes(3, "big")
    head += list_len.to_bytes(3, "big")
    pending = bytearray(head)
    for _ in range(copies):
        pending += entry
        while len(pending) >= MAX_FRAGMENT:
            yield record(HANDSHAKE, bytes(pending[:MAX_FRAGMENT]))
            del pending[:MAX_FRAGMENT]
    if pending:
        yield record(HANDSHAKE, bytes(pending))


# -- behaviours before TLS -----------------------------------------------------------------------


def silent(conn: Conn) -> None:
    """Accept, read whatever comes, never answer."""
    conn.drain_until_closed()


def garbage(payload: bytes) -> Behaviour:
    def behaviour(conn: Conn) -> None:
        read_client_hello(conn)
        conn.send(payload)
        conn.drain_until_closed()

    return behaviour


def plain_http(conn: Conn) -> None:
    """A plain HTTP server (what a wrong NAT rule may reach): answers 400 to a ClientHello."""
    conn.recv()
    body = b"<h1>Bad Request</h1>\r\n"
    conn.send(b"HTTP/1.1 400 Bad Request\r\nServer: nginx\r\nContent-Type: text/html\r\n"
              b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
    with contextlib.suppress(OSError):
        conn.sock.shutdown(socket.SHUT_WR)
    conn.drain_until_closed()


def drip(interval: float = 1.0) -> Behaviour:
    """A valid ServerHello, one byte per `interval` seconds."""

    def behaviour(conn: Conn) -> None:
        hello = server_hello(read_client_hello(conn))
        for i in range(len(hello)):
            conn.send(hello[i : i + 1])
            conn.pause(interval)
        conn.drain_until_closed()

    return behaviour


def reset_mid_handshake(conn: Conn) -> None:
    """Half a ServerHello, then a TCP reset."""
    hello = server_hello(read_client_hello(conn))
    conn.send(hello[: len(hello) // 2])
    conn.reset()


def close_after_server_hello(secure_renegotiation: bool = True) -> Behaviour:
    """A complete ServerHello, then a clean close (FIN) instead of the Certificate."""

    def behaviour(conn: Conn) -> None:
        hello = read_client_hello(conn)
        conn.send(server_hello(hello, secure_renegotiation=secure_renegotiation))
        conn.sock.shutdown(socket.SHUT_WR)
        conn.drain_until_closed()

    return behaviour


def endless_hello_requests(conn: Conn) -> None:
    """ServerHello, then HelloRequest messages (which a client ignores) without end."""
    conn.send(server_hello(read_client_hello(conn)))
    rec = record(HANDSHAKE, handshake_message(0, b"") * 1024)
    # A client may swallow these at a gigabyte a second: bound the server by time, not bytes.
    until = time.monotonic() + STREAM_SECONDS
    while time.monotonic() < until:
        conn.send(rec)


def huge_chain(total: int = 10 * 1024 * 1024, cert_der: bytes | None = None) -> Behaviour:
    """ServerHello, then a Certificate message of `total` bytes streamed record by record."""
    der = cert_der or lab_pki().leaf_cert.public_bytes(serialization.Encoding.DER)

    def behaviour(conn: Conn) -> None:
        conn.send(server_hello(read_client_hello(conn)))
        for rec in certificate_records(der, total):
            conn.send(rec)
        conn.drain_until_closed()

    return behaviour


def alert(conn: Conn) -> None:
    """A fatal handshake_failure alert to every ClientHello."""
    read_client_hello(conn)
    conn.send(record(ALERT, b"\x02\x28"))
    conn.drain_until_closed()


# -- behaviours after a real TLS handshake -------------------------------------------------------

_PKI: LabPki | None = None
_PKI_LOCK = threading.Lock()


def lab_pki() -> LabPki:
    global _PKI
    with _PKI_LOCK:
        if _PKI is None:
            _PKI = build_pki(NAME)
        return _PKI


def ca_file() -> Path:
    """The lab CA as a PEM file, for --ca-file (one per process)."""
    path = Path(tempfile.gettempdir()) / f"daserver-check-hostile-ca-{os.getpid()}.pem"
    if not path.exists():
        path.write_bytes(lab_pki().ca_cert.public_bytes(serialization.Encoding.PEM))
    return path


def _server_context(certificate: crypto.X509 | None = None) -> SSL.Context:
    pki = lab_pki()
    ctx = SSL.Context(SSL.TLS_SERVER_METHOD)
    ctx.set_max_proto_version(SSL.TLS1_2_VERSION)
    ctx.set_cipher_list(HEALTHY_CIPHERS.encode("ascii"))
    if certificate is not None:
        with warnings.catch_warnings():  # pyOpenSSL deprecates X509 objects; cryptography
            warnings.simplefilter("ignore", DeprecationWarning)  # cannot hold this one
            ctx.use_certificate(certificate)
    else:
        ctx.use_certificate(pki.leaf_cert)
    ctx.use_privatekey(pki.leaf_key)
    return ctx


def with_x509_version(der: bytes, version: int) -> bytes:
    """The certificate with its version field (v3 = 2) replaced; the signature no longer
    matches, which a probe that does not verify never sees."""
    field = bytes.fromhex("a003020102")
    at = der.index(field)
    return der[: at + 4] + bytes([version]) + der[at + 5 :]


def invalid_version_leaf() -> crypto.X509:
    """The lab leaf claiming X.509 version 4 (integer 3): OpenSSL loads it, RFC 5280 knows
    no such version, and cryptography refuses it."""
    der = lab_pki().leaf_cert.public_bytes(serialization.Encoding.DER)
    return crypto.load_certificate(crypto.FILETYPE_ASN1, with_x509_version(der, 3))


class TlsConn:
    """A server-side pyOpenSSL connection over a Conn's non-blocking socket."""

    def __init__(self, conn: Conn, certificate: crypto.X509 | None = None) -> None:
        self.conn = conn
        self.ssl = SSL.Connection(_server_context(certificate), conn.sock)
        self.ssl.set_accept_state()
        self._call(self.ssl.do_handshake)

    def _call(self, fn: Callable[[], object]) -> object:
        while True:
            try:
                return fn()
            except SSL.WantReadError:
                self.conn.wait_readable()
            except SSL.WantWriteError:
                with selectors.DefaultSelector() as sel:
                    sel.register(self.conn.sock, selectors.EVENT_WRITE)
                    sel.select(IO_SLICE)
                if self.conn.stop.is_set():
                    raise Stopped from None
            except (SSL.ZeroReturnError, SSL.SysCallError) as exc:
                raise Stopped from exc

    def read_head(self) -> bytes:
        buf = b""
        while b"\r\n\r\n" not in buf and len(buf) < MAX_READ:
            data = self._call(lambda: self.ssl.recv(16384))
            assert isinstance(data, bytes)
            buf += data
        return buf

    def send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            sent = self._call(lambda v=view: self.ssl.send(v))  # type: ignore[misc]
            assert isinstance(sent, int)
            view = view[sent:]


def after_post(
    answer: Callable[[TlsConn], None], certificate: crypto.X509 | None = None
) -> Behaviour:
    """Complete the handshake (serving `certificate` if given), read the POST head, then
    `answer`."""

    def behaviour(conn: Conn) -> None:
        tls = TlsConn(conn, certificate)
        tls.read_head()
        answer(tls)

    return behaviour




def endless_headers(tls: TlsConn) -> None:
    tls.send(b"HTTP/1.1 200 OK\r\nServer: Microsoft-HTTPAPI/2.0\r\n")
    sent, i = 0, 0
    while sent < STREAM_CAP:
        chunk = b"".join(b"X-Hostile-%d: %s\r\n" % (i + j, b"y" * 40) for j in range(64))
        tls.send(chunk)
        sent += len(chunk)
        i += 64


def endless_status_line(tls: TlsConn) -> None:
    tls.send(b"HTTP/1.1 200 ")
    sent = 0
    while sent < STREAM_CAP:
        tls.send(b"O" * 4096)
        sent += 4096


def drip_answer(interval: float = 1.0) -> Callable[[TlsConn], None]:
    def answer(tls: TlsConn) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nServer: Microsoft-HTTPAPI/2.0\r\n\r\n":
            tls.send(bytes([byte]))
            tls.conn.pause(interval)

    return answer


def half_answer(tls: TlsConn) -> None:
    """Half an HTTP.sys answer, then a clean close."""
    tls.send(b"HTTP/1.1 200 OK\r\nServer: Microsoft-HTTPAPI/2.0\r\nDa")
    close_after_post(tls)


def reset_after_post(tls: TlsConn) -> None:
    tls.conn.reset()


def close_after_post(tls: TlsConn) -> None:
    with contextlib.suppress(SSL.Error):
        tls.ssl.shutdown()
    tls.conn.sock.shutdown(socket.SHUT_WR)
    tls.conn.drain_until_closed()


def not_http(tls: TlsConn) -> None:
    tls.send(b"SSH-2.0-OpenSSH_9.2p1\r\n\r\n")
    tls.conn.drain_until_closed()


def reset_on_accept(conn: Conn) -> None:
    """A TCP reset right after the connection is accepted, before any byte."""
    conn.reset()


def close_on_accept(conn: Conn) -> None:
    """A clean close (FIN) right after the connection is accepted."""
    conn.sock.shutdown(socket.SHUT_WR)
    conn.drain_until_closed()


def cleartext_answer(tls: TlsConn) -> None:
    """Answers the POST in cleartext inside the TLS connection (a broken TLS offloader)."""
    tls.conn.send(b"HTTP/1.1 200 OK\r\nServer: Microsoft-HTTPAPI/2.0\r\n\r\n")
    tls.conn.drain_until_closed()
