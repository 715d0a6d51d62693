#!/usr/bin/env python3
"""Start-up cost of the CLI, whole process, medians (issue 14 item 10).

    python scripts/bench_startup.py [--runs N]

Compares `daserver-check --version` and `--help` with a bare `python -c pass`, and a full
probe of the healthy lab (`LabEndpoint` on 127.0.0.1, `--connect`, no DNS) with a script that
imports pyOpenSSL and does one TLS handshake with the same endpoint: the least a Python TLS
check can do. Prints the medians and the ratios; nothing leaves loopback.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# As installed: bytecode cached. Without it every run compiles each module it imports (a third
# of a probe's start-up), which measures the compiler, not the tool.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
OURS = [sys.executable, "-m", "daserver_check"]

ONE_HANDSHAKE = """\
import socket, sys
from OpenSSL import SSL
ctx = SSL.Context(SSL.TLS_CLIENT_METHOD)
sock = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
conn = SSL.Connection(ctx, sock)
conn.set_tlsext_host_name(b"da.lab.test")
conn.set_connect_state()
conn.do_handshake()
conn.get_peer_cert_chain()
sock.close()
"""


def median_ms(cmd: Sequence[str], runs: int) -> float:
    subprocess.run(cmd, capture_output=True, cwd=REPO, check=False, env=ENV)  # warm the page cache
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(cmd, capture_output=True, cwd=REPO, check=False, env=ENV)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=21)
    runs = parser.parse_args().runs
    sys.path.insert(0, str(REPO))
    from daserver_check.lab.server import LabConfig, LabEndpoint

    bare = median_ms([sys.executable, "-c", "pass"], runs)
    version = median_ms([*OURS, "--version"], runs)
    help_ = median_ms([*OURS, "--help"], runs)
    with LabEndpoint(LabConfig()) as lab:
        port = str(lab.port)
        floor = median_ms([sys.executable, "-c", ONE_HANDSHAKE, port], runs)
        probe = median_ms([*OURS, "probe", f"https://da.lab.test:{port}/IPHTTPS", "--connect",
                           "127.0.0.1", "--ca-file", str(lab.ca_file), "--profile", "lab"], runs)
    print(f"python -c pass           {bare:7.1f} ms")
    print(f"daserver-check --version {version:7.1f} ms  {version / bare:.2f}x bare python")
    print(f"daserver-check --help    {help_:7.1f} ms  {help_ / bare:.2f}x bare python")
    print(f"one pyOpenSSL handshake  {floor:7.1f} ms")
    print(f"probe of the healthy lab {probe:7.1f} ms  {probe / floor:.2f}x one handshake")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
