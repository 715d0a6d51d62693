#!/usr/bin/env python3
"""`make bench`: wall-time figures on the built-in lab endpoint. Prints numbers, not verdicts.

- CLI cold start (`daserver-check --version`)
- a full probe of the healthy lab through the CLI (new process each time: what cron pays)
- the same probe in-process (what the checklist/exporter pay per target)
- the floor: one `openssl s_client` handshake to the same endpoint
"""

from __future__ import annotations

import contextlib
import io
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from daserver_check.cli import main
from daserver_check.lab.server import LabConfig, LabEndpoint

RUNS = 10
CLI = [sys.executable, "-m", "daserver_check"]


def timed(fn: Callable[[], object], runs: int = RUNS) -> list[float]:
    out = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        out.append((time.perf_counter() - started) * 1000)
    return out


def row(name: str, samples: list[float]) -> str:
    return (f"| {name:<44} | {statistics.median(samples):8.1f} | {min(samples):8.1f} | "
            f"{max(samples):8.1f} | {len(samples):4d} |")


def main_bench() -> int:
    rows = []
    with LabEndpoint(LabConfig()) as lab:
        probe_args = ["probe", lab.url, "--resolver", lab.resolver, "--ca-file", str(lab.ca_file),
                      "--profile", "lab", "--format", "json"]
        rows.append(row("cold start: --version (new process)",
                        timed(lambda: subprocess.run([*CLI, "--version"], capture_output=True))))
        rows.append(row("probe healthy lab, CLI (new process)",
                        timed(lambda: subprocess.run([*CLI, *probe_args], capture_output=True))))

        def in_process() -> None:
            with contextlib.redirect_stdout(io.StringIO()):
                main(probe_args)

        in_process()  # warm imports once
        rows.append(row("probe healthy lab, in-process", timed(in_process)))
        openssl = shutil.which("openssl")
        if openssl:
            rows.append(row("floor: openssl s_client, one handshake", timed(lambda: subprocess.run(
                [openssl, "s_client", "-connect", f"127.0.0.1:{lab.port}", "-servername",
                 "da.lab.test"], input=b"", capture_output=True))))
    print(f"machine: {platform.machine()}, {platform.python_implementation()} "
          f"{platform.python_version()}, {platform.system()} {platform.release()}")
    print("| what                                         | median ms |   min ms |   max ms | runs |")
    print("|----------------------------------------------|----------:|---------:|---------:|-----:|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main_bench())
