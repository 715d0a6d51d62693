"""Bounds of the probe's own I/O that a hostile peer (or a busy process) could break."""

from __future__ import annotations

import contextlib
import json
import os
import resource
import socket
import threading
from collections.abc import Iterator

import pytest

from daserver_check.cli import main
from daserver_check.lab.server import LabConfig, LabEndpoint
from daserver_check.probe import tls
from daserver_check.probe.deadline import Deadline
from tests.hostile import servers as hs


@contextlib.contextmanager
def descriptors_above(count: int) -> Iterator[None]:
    """Hold open descriptors so that every new socket gets a number above `count`."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = count + 256
    if soft < wanted:
        if hard != resource.RLIM_INFINITY and hard < wanted:
            pytest.skip(f"RLIMIT_NOFILE hard limit {hard} < {wanted}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(count)]
    try:
        yield
    finally:
        for fd in held:
            os.close(fd)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def test_probe_works_with_descriptors_numbered_above_1024(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """select() cannot watch a descriptor >= 1024 (ValueError: an 'internal error', exit 3);
    an exporter that has run for a while, or a wide multi-target run, gets there."""
    with LabEndpoint(LabConfig()) as lab, descriptors_above(1100):
        probe = socket.socket()
        assert probe.fileno() >= 1024
        probe.close()
        code = main(["probe", lab.url, "--resolver", lab.resolver, "--ca-file",
                     str(lab.ca_file), "--profile", "lab", "--timeout", "5", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 0, [f for f in report["targets"][0]["findings"] if f["status"] != "pass"]


class CountingDeadline(Deadline):
    """A deadline that lasts for `waits` looks at it, however fast they come."""

    def __init__(self, waits: int) -> None:
        super().__init__(60)
        self.left = waits

    def remaining(self) -> float:
        self.left -= 1
        return 60.0 if self.left >= 0 else 0.0


def test_handshake_looks_at_the_deadline_between_records() -> None:
    """A server that streams handshake records without end: OpenSSL bound to the socket kept
    reading inside one do_handshake() call for as long as data came, past any deadline. On
    memory BIOs the probe reads one chunk per step and stops when the deadline says so."""
    client, server = socket.socketpair()
    client.setblocking(False)
    stop = threading.Event()
    total = 4 * 1024 * 1024

    def stream() -> None:
        conn = hs.Conn(server, stop)
        with contextlib.suppress(hs.Stopped):
            conn.send(hs.server_hello(hs.read_client_hello(conn)))
            rec = hs.record(hs.HANDSHAKE, hs.handshake_message(0, b"") * 4096)
            for _ in range(total // len(rec)):
                conn.send(rec)
            server.shutdown(socket.SHUT_WR)

    server.setblocking(False)
    thread = threading.Thread(target=stream, daemon=True)
    thread.start()
    try:
        result, conn = tls.handshake(client, "da.lab.test", tls.TlsMode.ENCRYPTED,
                                     CountingDeadline(8))
    finally:
        stop.set()
        client.close()
        thread.join(10)
        server.close()
    assert conn is None
    # Not "closed": that would mean all 4 MiB and the EOF were read before the deadline.
    assert result.outcome is tls.TlsOutcome.TIMED_OUT, result
    received = int(result.detail.split("sent only ")[1].split(" byte")[0])
    assert received <= 8 * tls._Transport.CHUNK
