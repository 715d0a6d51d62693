"""Real DNS servers on loopback for the dns stage: dnsmasq, plus two tiny UDP servers that
misbehave on purpose (one answers SERVFAIL to everything, one never answers).

Nothing here talks to the system resolver or leaves 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import dns.exception
import dns.message
import dns.query
import dns.rcode
import pytest

from tests.conftest import stop_process

LOOPBACK = "127.0.0.1"
READY_WITHIN = 5.0  # seconds for dnsmasq to answer its first query


@dataclass(frozen=True)
class DnsServer:
    address: str
    port: int

    @property
    def spec(self) -> str:
        """As a `--resolver` value, and as the `resolver` label of its query results."""
        return f"{self.address}:{self.port}"


def _dnsmasq_path() -> str:
    # Debian installs it in /usr/sbin, which is not on an unprivileged user's PATH.
    path = shutil.which("dnsmasq") or next(
        (p for p in ("/usr/sbin/dnsmasq", "/usr/local/sbin/dnsmasq") if os.access(p, os.X_OK)),
        None,
    )
    if path is None:
        message = "dnsmasq is not installed (Debian/Ubuntu: apt-get install dnsmasq-base)"
        # CI must run these tests: a missing dnsmasq there is a broken image, not a skip.
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def free_udp_port() -> int:
    """A port that was free a moment ago. dnsmasq binds it next; the race is retried."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(port: int, probe_name: str) -> bool:
    query = dns.message.make_query(probe_name, "A")
    try:
        dns.query.udp(query, LOOPBACK, port=port, timeout=0.05)
    except (dns.exception.DNSException, OSError):
        return False
    return True


@contextmanager
def run_dnsmasq(records: Sequence[str], probe_name: str = "da.lab.test") -> Iterator[DnsServer]:
    """dnsmasq on 127.0.0.1 with only the given records: no /etc/hosts, no resolv.conf, no
    upstream unless `records` names one, so it can never ask the real network."""
    binary = _dnsmasq_path()
    last_error = ""
    for _attempt in range(3):
        port = free_udp_port()
        command = [
            binary,
            "--keep-in-foreground",
            "--no-resolv",
            "--no-hosts",
            "--no-poll",
            "--conf-file=/dev/null",
            "--pid-file=",
            "--log-facility=-",
            f"--listen-address={LOOPBACK}",
            "--bind-interfaces",
            f"--port={port}",
            *records,
        ]
        with tempfile.TemporaryFile() as log:
            process = subprocess.Popen(command, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
            try:
                ready_by = time.monotonic() + READY_WITHIN
                # Bounded readiness loop of real queries instead of a sleep: it returns as soon
                # as dnsmasq answers, and each try is limited by the query timeout.
                while process.poll() is None and time.monotonic() < ready_by:
                    if _answers(port, probe_name):
                        yield DnsServer(LOOPBACK, port)
                        return
                log.seek(0)
                last_error = log.read().decode(errors="replace").strip()
            finally:
                stop_process(process)
        # Exited (most likely the port was taken in between) or never answered: new port.
    pytest.fail(f"dnsmasq did not start: {last_error or 'no output'}")


class UdpServer:
    """A UDP socket on loopback served by a thread: `rcode` answers every query with that
    rcode, `rcode=None` reads and ignores (a resolver that never answers)."""

    def __init__(self, rcode: dns.rcode.Rcode | None) -> None:
        self._rcode = rcode
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind((LOOPBACK, 0))
        # Short timeout so close() is noticed quickly; it bounds nothing else.
        self._sock.settimeout(0.05)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.server = DnsServer(LOOPBACK, self._sock.getsockname()[1])
        self.received = 0

    def __enter__(self) -> UdpServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=2)
        self._sock.close()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self._sock.recvfrom(65535)
            except TimeoutError:
                continue
            except OSError:
                return
            self.received += 1
            if self._rcode is None:
                continue
            try:
                request = dns.message.from_wire(data)
            except dns.exception.DNSException:
                continue
            response = dns.message.make_response(request)
            response.set_rcode(self._rcode)
            self._sock.sendto(response.to_wire(), peer)


LAB_RECORDS = (
    "--local=/lab.test/",  # unknown names in lab.test: NXDOMAIN, never forwarded
    "--host-record=da.lab.test,127.0.0.1",
    "--host-record=v6.lab.test,::1",
    "--host-record=dual.lab.test,10.1.2.3,fd00::5",
    # Documentation range as the stand-in public address: only resolved, never connected to.
    "--host-record=pub.lab.test,203.0.113.10",
    "--cname=alias.lab.test,alias2.lab.test",
    "--cname=alias2.lab.test,da.lab.test",
    '--txt-record=txtonly.lab.test,"x"',
)


@pytest.fixture(scope="module")
def servfail_upstream() -> Iterator[DnsServer]:
    with UdpServer(dns.rcode.SERVFAIL) as upstream:
        yield upstream.server


@pytest.fixture(scope="module")
def dnsmasq(servfail_upstream: DnsServer) -> Iterator[DnsServer]:
    """The lab zone. sf.lab.test is forwarded to an upstream answering SERVFAIL (dnsmasq relays
    it); dead.lab.test to a closed port (dnsmasq 2.90 then stays silent: a timeout); names
    outside lab.test have no upstream at all (dnsmasq answers REFUSED)."""
    records = (
        *LAB_RECORDS,
        f"--server=/sf.lab.test/{servfail_upstream.address}#{servfail_upstream.port}",
        f"--server=/dead.lab.test/{LOOPBACK}#{free_udp_port()}",
    )
    with run_dnsmasq(records) as server:
        yield server


@pytest.fixture(scope="module")
def dnsmasq_other() -> Iterator[DnsServer]:
    """A second resolver that disagrees about da.lab.test and agrees about pub.lab.test."""
    records = (
        "--local=/lab.test/",
        "--host-record=da.lab.test,127.0.0.3",
        "--host-record=pub.lab.test,203.0.113.10",
    )
    with run_dnsmasq(records) as server:
        yield server


@pytest.fixture
def silent_resolver() -> Iterator[UdpServer]:
    with UdpServer(None) as server:
        yield server
