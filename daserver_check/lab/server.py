"""An emulated DirectAccess IP-HTTPS endpoint on loopback: HTTP.sys-like TLS + POST, and DNS.

It imitates a Windows Server 2012 R2–2019 DirectAccess server as a client meets it: TLS 1.2 at
most, the NULL suites first, `200 OK` with `Server: Microsoft-HTTPAPI/2.0` and no Content-Length
to a POST on the IP-HTTPS path (MS-IPHTTPS §4.1), HTTP.sys's 404 elsewhere. `FAULTS` bends it
into the failures the probe must recognise. It forwards nothing: after the 200 it splits what
the client sends into IPv6 packets, answers a Router Solicitation with a Router Advertisement
(a /64 of 2001:db8::/32, built by hand, RFC 4861 §4.2), discards every other packet, and drops
the session on non-IPv6 data (MS-IPHTTPS §3.2.5.2.2).

This module is the endpoint's lifecycle (start, accept, serve, stop) and its TLS settings; the
wait loop of one connection is `lab.channel`, the HTTP answers are `lab.http`, and the Router
Advertisement bytes come from `protocol.ndp`. It is over 400 lines because a connection's whole
story (handshake, request, tunnel) reads best in one place.
"""

from __future__ import annotations

import contextlib
import ipaddress
import os
import selectors
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from OpenSSL import SSL

from daserver_check.lab import front_end
from daserver_check.lab.channel import Channel, close_after_answer, close_quietly
from daserver_check.lab.crl_http import LabCrlServer
from daserver_check.lab.dns import LabDns
from daserver_check.lab.faults import FAULTS, NULL_REMOVING, fault_ciphers, parse_faults, protocol_range
from daserver_check.lab.http import error_response, ok_response, parse_request_line
from daserver_check.lab.pki import LabFiles, LabPki, build_pki, check_lab_name
from daserver_check.protocol.ipv6_stream import Ipv6FramingError, Ipv6StreamSplitter
from daserver_check.protocol.ndp import (
    ALL_NODES,
    build_router_advertisement,
    is_router_solicitation,
)

_T = TypeVar("_T")

__all__ = [
    "ENCRYPTED_CIPHERS",
    "FAULTS",
    "HEALTHY_CIPHERS",
    "NULL_CIPHERS",
    "LabConfig",
    "LabEndpoint",
    "cipher_list",
]

# @SECLEVEL=0: OpenSSL 3+ refuses the NULL suites at any higher security level.
HEALTHY_CIPHERS = (
    "NULL-SHA256:NULL-SHA:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:"
    "AES256-SHA256:AES128-SHA:@SECLEVEL=0"
)
ENCRYPTED_CIPHERS = (
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA256:AES128-SHA:@SECLEVEL=0"
)
NULL_CIPHERS = "NULL-SHA256:NULL-SHA:@SECLEVEL=0"

MAX_HEAD = 16 * 1024
HANDSHAKE_SECONDS = 10.0
HEAD_SECONDS = 10.0
# After the 200 a real server would carry IPv6 packets; the lab only drains, for a while.
DRAIN_SECONDS = 5.0
MAX_CONNECTIONS = 256

def cipher_list(faults: Iterable[str]) -> str:
    """The OpenSSL cipher string the lab's server offers under `faults`."""
    fault_set = frozenset(faults)
    imposed = fault_ciphers(fault_set)
    if imposed is not None:
        return imposed
    if "null-only" in fault_set:
        return NULL_CIPHERS
    if fault_set & NULL_REMOVING:
        return ENCRYPTED_CIPHERS
    return HEALTHY_CIPHERS


# The lab's router: its link-local address and the prefixes it advertises.
ROUTER_ADDRESS = "fe80::1"
LAB_PREFIX = "2001:db8:4a11:1::"
CLUSTER_PREFIX = "2001:db8:4a11::"  # bad-prefix: the cluster's whole /59 instead of a node's /64


def router_advertisement(faults: Iterable[str], destination: str = ALL_NODES) -> bytes:
    """The lab's RA: hop limit 255 from fe80::1, router lifetime 1800 s, an MTU option of 1280,
    and a /64 Prefix Information option (none under no-prefix, the /59 under bad-prefix)."""
    fault_set = frozenset(faults)
    prefixes: list[tuple[str, int]] = []
    if "bad-prefix" in fault_set:
        prefixes.append((CLUSTER_PREFIX, 59))
    elif "no-prefix" not in fault_set:
        prefixes.append((LAB_PREFIX, 64))
    return build_router_advertisement(ROUTER_ADDRESS, destination, prefixes)


@dataclass(frozen=True, slots=True)
class LabConfig:
    """What to emulate. port/dns_port 0 pick free ports; workdir None makes a temp dir."""

    name: str = "da.lab.test"
    host: str = "127.0.0.1"
    port: int = 0
    dns_port: int = 0
    faults: frozenset[str] = field(default_factory=frozenset)
    path: str = "/IPHTTPS"
    workdir: Path | None = None

    def __post_init__(self) -> None:
        # Validate here so a bad config fails at construction, not in a server thread.
        object.__setattr__(self, "name", check_lab_name(self.name))
        object.__setattr__(self, "faults", parse_faults(self.faults))
        try:
            ipaddress.ip_address(self.host)
        except ValueError:
            raise ValueError(f"lab host {self.host!r} is not an IP address") from None
        for label, port in (("port", self.port), ("dns_port", self.dns_port)):
            if not 0 <= port <= 65535:
                raise ValueError(f"lab {label} {port} is out of range 0-65535")
        if not self.path.startswith("/"):
            raise ValueError(f"lab path {self.path!r} must start with /")


class LabEndpoint:
    """The lab: `with LabEndpoint(LabConfig(faults=frozenset({"expired"}))) as lab: ...`."""

    def __init__(self, config: LabConfig | None = None) -> None:
        self.config = config or LabConfig()
        self._pki: LabPki | None = None
        self._files: LabFiles | None = None
        self._workdir: Path | None = None
        self._own_workdir = False
        self._listener: socket.socket | None = None
        self._dns: LabDns | None = None
        self._crl_server: LabCrlServer | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._accept_thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._connections: dict[threading.Thread, socket.socket] = {}
        self._ctx: Any = None
        # Kept after stop(), so a stopped lab can still say where it was.
        self._port: int | None = None
        self._dns_port: int | None = None
        self._started = False
        self._stopped = False

    # -- lifecycle -----------------------------------------------------------------------

    def __enter__(self) -> LabEndpoint:
        # `with LabEndpoint(cfg).start() as lab:` works too.
        return self if self._started else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> LabEndpoint:
        if self._started:
            raise RuntimeError("a LabEndpoint starts only once")
        self._started = True
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        cfg = self.config
        # The CRL distribution point first: the certificate names its URL.
        self._crl_server = LabCrlServer().start()
        self._pki = build_pki(cfg.name, cfg.faults, crl_url=self._crl_server.url)
        self._crl_server.crl = self._pki.crl
        self._crl_server.unreachable = "crl-unreachable" in cfg.faults
        if cfg.workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="daserver-check-lab-"))
            self._own_workdir = True
        else:
            self._workdir = cfg.workdir
        self._files = self._pki.write(self._workdir)
        self._ctx = self._make_context(self._pki, cfg.faults)
        # A socketpair as wake-up signal: stop() writes one byte and never drains it, so every
        # select() of every thread returns at once from then on.
        self._wake_r, self._wake_w = socket.socketpair()

        family = socket.AF_INET6 if ipaddress.ip_address(cfg.host).version == 6 else socket.AF_INET
        listener = socket.socket(family, socket.SOCK_STREAM)
        self._listener = listener
        if os.name == "posix":  # on Windows SO_REUSEADDR would allow port stealing
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((cfg.host, cfg.port))
        listener.listen(64)
        listener.setblocking(False)
        self._port = listener.getsockname()[1]

        self._dns = LabDns(cfg.name, cfg.host, host="127.0.0.1", port=cfg.dns_port).start()
        self._dns_port = self._dns.port
        self._accept_thread = threading.Thread(
            target=self._accept_loop, name=f"lab-accept-{self.port}", daemon=True
        )
        self._accept_thread.start()

    def stop(self, timeout: float = 3.0) -> None:
        """Close the listener and every connection; returns within about `timeout` seconds."""
        if self._stopped:
            return
        self._stopped = True
        deadline = time.monotonic() + timeout
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                self._wake_w.send(b"x")
        if self._accept_thread is not None:
            self._accept_thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            connections = list(self._connections.items())
        for thread, _ in connections:
            thread.join(max(0.0, deadline - time.monotonic()))
        with self._lock:
            leftovers = list(self._connections.values())
        for sock in leftovers:  # only threads that missed the deadline leave sockets behind
            close_quietly(sock)
        if self._dns is not None:
            self._dns.stop(max(0.1, deadline - time.monotonic()))
        if self._crl_server is not None:
            self._crl_server.stop()
        for own in (self._listener, self._wake_r, self._wake_w):
            if own is not None:
                close_quietly(own)
        if self._own_workdir and self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)

    # -- what callers need ---------------------------------------------------------------

    @staticmethod
    def _require(value: _T | None) -> _T:
        if value is None:
            raise RuntimeError("the lab is not started")
        return value

    @property
    def pki(self) -> LabPki:
        return self._require(self._pki)

    @property
    def files(self) -> LabFiles:
        return self._require(self._files)

    @property
    def port(self) -> int:
        return self._require(self._port)

    @property
    def dns_port(self) -> int:
        return self._require(self._dns_port)

    @property
    def ca_file(self) -> Path:
        return self.files.ca_file

    @property
    def url(self) -> str:
        host = self.config.name
        return f"https://{host}:{self.port}{self.config.path}"

    @property
    def resolver(self) -> str:
        return f"127.0.0.1:{self.dns_port}"

    def probe_command(self) -> list[str]:
        return [
            "daserver-check", "probe", self.url,
            "--resolver", self.resolver,
            "--ca-file", str(self.ca_file),
            "--profile", "lab",
        ]  # fmt: skip

    # -- server --------------------------------------------------------------------------

    @staticmethod
    def _make_context(pki: LabPki, faults: frozenset[str]) -> Any:
        ctx = SSL.Context(SSL.TLS_SERVER_METHOD)
        # HTTP.sys on Server 2012 R2–2019: TLS 1.0–1.2, never 1.3 (unless a fault says otherwise).
        lowest, highest = protocol_range(faults)
        ctx.set_min_proto_version(lowest)
        ctx.set_max_proto_version(highest)
        ctx.set_cipher_list(cipher_list(faults).encode("ascii"))
        # Schannel picks by the server's order, NULL first: a Windows 8+ client that offers
        # both gets a null suite.
        ctx.set_options(SSL.OP_CIPHER_SERVER_PREFERENCE)
        ctx.use_certificate(pki.leaf_cert)
        ctx.use_privatekey(pki.leaf_key)
        ctx.check_privatekey()
        if "client-cert" in faults:
            # Request, do not require (as IP-HTTPS with authentication mode Certificates is
            # seen from a probe without one): the handshake completes and the probe can tell.
            ctx.set_verify(SSL.VERIFY_PEER, lambda *_: True)
            ctx.add_client_ca(pki.ca_cert)
            # Needed by OpenSSL for session resumption once peers are verified.
            ctx.set_session_id(b"daserver-check-lab")
        return ctx

    def _accept_loop(self) -> None:
        listener, wake = self._listener, self._wake_r
        assert listener is not None and wake is not None
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(listener, selectors.EVENT_READ)
                selector.register(wake, selectors.EVENT_READ)
                while True:
                    ready = selector.select()
                    if any(key.fileobj is wake for key, _ in ready):
                        return
                    try:
                        sock, _ = listener.accept()
                    except (BlockingIOError, InterruptedError, ConnectionError):
                        continue
                    self._spawn(sock)
        except Exception:  # the listener was closed under us; nothing to report to anyone
            return

    def _spawn(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self._lock:
            if len(self._connections) >= MAX_CONNECTIONS:
                close_quietly(sock)
                return
            thread = threading.Thread(target=self._connection, args=(sock,), name="lab-conn", daemon=True)
            self._connections[thread] = sock
        thread.start()

    def _connection(self, sock: socket.socket) -> None:
        wake = self._wake_r
        assert wake is not None
        channel = Channel(sock, wake)
        try:
            if "hang" in self.config.faults:
                self._hang(sock, channel)
            else:
                self._serve(sock, channel)
        except Exception:
            # Clients do odd things (scanners, aborted handshakes, resets): the lab swallows
            # them all; a traceback on the demo's terminal would help nobody.
            pass
        finally:
            channel.close()
            close_quietly(sock)
            with self._lock:
                self._connections.pop(threading.current_thread(), None)

    @staticmethod
    def _hang(sock: socket.socket, channel: Channel) -> None:
        """Accept, read and discard, never answer: until the client leaves or the lab stops."""
        while True:
            channel.wait(False, None)
            try:
                if not sock.recv(65536):
                    return
            except BlockingIOError:
                continue

    def _serve(self, sock: socket.socket, channel: Channel) -> None:
        faults = self.config.faults
        if "null-dropped" in faults:
            handshake_by = time.monotonic() + HANDSHAKE_SECONDS
            if front_end.refuses(sock, lambda: channel.wait(False, handshake_by)):
                return
        conn = SSL.Connection(self._ctx, sock)
        conn.set_accept_state()
        try:
            channel.tls(conn.do_handshake, time.monotonic() + HANDSHAKE_SECONDS)
        except SSL.Error:
            return

        head = self._read_head(conn, channel)
        if head is None:
            return
        deadline = time.monotonic() + HEAD_SECONDS
        request = parse_request_line(head)
        if request is None:
            bad = error_response(400, "Bad Request", "The request is badly formed.")
            channel.sendall(conn, bad, deadline)
            close_after_answer(conn, sock, channel)
            return
        method, path = request
        registered = path.lower() == self.config.path.lower() and "not-iphttps" not in faults
        if method == "POST" and registered:
            if "disabled" in faults:
                return  # §3.2.4.2: a disabled server disconnects the client
            channel.sendall(conn, ok_response("not-httpsys" not in faults), deadline)
            self._tunnel(conn, channel)
            return
        channel.sendall(
            conn,
            error_response(404, "Not Found", "The requested resource is not found."),
            deadline,
        )
        close_after_answer(conn, sock, channel)

    @staticmethod
    def _read_head(conn: Any, channel: Channel) -> bytes | None:
        """The request head up to the blank line; None on EOF, overflow or timeout."""
        deadline = time.monotonic() + HEAD_SECONDS
        buffer = b""
        while True:
            end = buffer.find(b"\r\n\r\n")
            if end >= 0:
                return buffer[:end]
            if len(buffer) > MAX_HEAD:
                return None
            data = channel.recv(conn, deadline)
            if not data:
                return None
            buffer += data

    def _tunnel(self, conn: Any, channel: Channel) -> None:
        """The IPv6 link after the 200, for DRAIN_SECONDS: RS -> RA (one per RS, unless no-ra),
        every other packet discarded, the session dropped on data that is not IPv6."""
        faults = self.config.faults
        deadline = time.monotonic() + DRAIN_SECONDS
        splitter = Ipv6StreamSplitter()
        while True:
            data = channel.recv(conn, deadline)
            if not data:
                return
            try:
                packets = splitter.feed(data)
            except Ipv6FramingError:
                return  # §3.2.5.2.2: non-IPv6 data, the server drops the session
            for packet in packets:
                if is_router_solicitation(packet) and "no-ra" not in faults:
                    channel.sendall(conn, router_advertisement(faults), deadline)
            if splitter.error is not None:
                return
