"""A tiny authoritative UDP DNS responder for the lab name, on loopback.

The probe resolves the lab name through it (`--resolver 127.0.0.1:PORT`), so tests and demos
never query the system resolver. Answers: the lab's address for its own family, NODATA for the
other family, NXDOMAIN for every other name.
"""

from __future__ import annotations

import contextlib
import ipaddress
import selectors
import socket
import threading

import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdataclass
import dns.rdatatype
import dns.rrset

_TTL = 60
_MAX_DATAGRAM = 65535


class LabDns:
    """`LabDns("da.lab.test", "127.0.0.1").start()`; `port` is known once started."""

    def __init__(self, name: str, address: str, host: str = "127.0.0.1", port: int = 0) -> None:
        self._name = dns.name.from_text(name)
        ip = ipaddress.ip_address(address)
        self._address = str(ip)
        self._answer_type = dns.rdatatype.A if ip.version == 4 else dns.rdatatype.AAAA
        self._host = host
        self._requested_port = port
        self._sock: socket.socket | None = None
        # A socketpair as wake-up signal: stop() writes one byte and the loop's select returns
        # at once, without polling and without closing a socket another thread selects on.
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread: threading.Thread | None = None
        self._stopped = False

    @property
    def port(self) -> int:
        if self._sock is None:
            raise RuntimeError("the lab DNS responder is not started")
        port: int = self._sock.getsockname()[1]
        return port

    def start(self) -> LabDns:
        family = socket.AF_INET6 if ":" in self._host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.bind((self._host, self._requested_port))
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self._thread = threading.Thread(target=self._serve, name=f"lab-dns-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        if self._stopped:
            return
        self._stopped = True
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        if self._thread is not None:
            self._thread.join(timeout)
        for sock in (self._sock, self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()

    def answer(self, wire: bytes) -> bytes | None:
        """The response to one datagram, or None for anything that is not a sane query."""
        try:
            query = dns.message.from_wire(wire)
        except Exception:  # any garbage: dnspython raises many types, none may escape
            return None
        if query.flags & dns.flags.QR or query.opcode() != dns.opcode.QUERY:
            return None
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if len(query.question) != 1:
            response.set_rcode(dns.rcode.FORMERR)
            return response.to_wire()
        question = query.question[0]
        if question.name != self._name or question.rdclass != dns.rdataclass.IN:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif question.rdtype in (self._answer_type, dns.rdatatype.ANY):
            response.answer.append(
                dns.rrset.from_text(self._name, _TTL, dns.rdataclass.IN, self._answer_type, self._address)
            )
        # Any other type of the lab name: NOERROR with an empty answer (NODATA).
        return response.to_wire()

    def _serve(self) -> None:
        sock = self._sock
        assert sock is not None
        with selectors.DefaultSelector() as selector:
            selector.register(sock, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while True:
                ready = {key.fileobj for key, _ in selector.select()}
                if self._wake_r in ready:
                    return
                try:
                    wire, peer = sock.recvfrom(_MAX_DATAGRAM)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError:
                    # e.g. ICMP port-unreachable of an earlier answer reported on Windows.
                    continue
                try:
                    reply = self.answer(wire)
                    if reply is not None:
                        sock.sendto(reply, peer)
                except Exception:  # one bad datagram must not end the responder
                    continue
