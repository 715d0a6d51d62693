"""`openssl s_server` on 127.0.0.1 for the client-handshake and cipher-map tests.

`SServer.run(...)` serves until the test ends; with `one_hello=True` it serves one connection
with `-msg` and `hello()` returns the ClientHello it printed, parsed by the project's parser.
"""

from __future__ import annotations

import re
import select
import socket
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from daserver_check.protocol.client_hello import ClientHello, parse_client_hello
from tests.conftest import require_tool, stop_process

NAME = "da.lab.test"
START_WITHIN = 10.0


def make_cert(directory: Path) -> tuple[Path, Path]:
    openssl = require_tool("openssl")
    key, cert = directory / "key.pem", directory / "cert.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "30",
         "-keyout", str(key), "-out", str(cert), "-subj", f"/CN={NAME}",
         "-addext", f"subjectAltName=DNS:{NAME}", "-addext", "extendedKeyUsage=serverAuth"],
        check=True, capture_output=True, timeout=60,
    )
    return key, cert


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@dataclass
class SServer:
    port: int
    process: subprocess.Popen[bytes]
    seen: bytearray = field(default_factory=bytearray)

    def output(self) -> str:
        """Everything s_server printed; it must have exited (one connection served)."""
        assert self.process.stdout is not None
        rest, _ = self.process.communicate(timeout=START_WITHIN)
        self.seen += rest or b""
        return self.seen.decode("ascii", "replace")

    def hello(self) -> ClientHello:
        """The ClientHello `-msg` printed: its hex lines under the '<<< ..., ClientHello' line."""
        match = re.search(r"^<<< [^\n]*ClientHello\n((?:[ \t]+[0-9a-f ]+\n)+)", self.output(), re.M)
        assert match, f"no ClientHello in s_server output:\n{self.output()[:2000]}"
        return parse_client_hello(bytes.fromhex(match.group(1).replace("\n", " ")))


@contextmanager
def s_server(cert: tuple[Path, Path], *args: str, one_hello: bool = False) -> Iterator[SServer]:
    openssl = require_tool("openssl")
    key, crt = cert
    port = free_port()
    extra = ["-msg", "-naccept", "1"] if one_hello else []
    process = subprocess.Popen(
        [openssl, "s_server", "-accept", f"127.0.0.1:{port}", "-cert", str(crt), "-key", str(key),
         "-www", *extra, *args],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    server = SServer(port, process)
    try:
        assert process.stdout is not None
        # s_server prints ACCEPT once it listens: wait for that line (bounded), not a sleep.
        while b"ACCEPT" not in server.seen:
            ready, _, _ = select.select([process.stdout], [], [], START_WITHIN)
            chunk = process.stdout.read1(4096) if ready else b""  # type: ignore[attr-defined]
            if not chunk:
                pytest.fail(f"openssl s_server did not start: {bytes(server.seen)!r}")
            server.seen += chunk
        yield server
    finally:
        if process.poll() is None:
            stop_process(process)
