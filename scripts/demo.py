#!/usr/bin/env python3
"""`make demo`: start the built-in lab twice (healthy, and with a certificate issued to the
wrong name), probe both with the real CLI, and show what an admin would see."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CLI = [sys.executable, "-m", "daserver_check"]


def start_lab(workdir: Path, label: str, faults: list[str]) -> tuple[subprocess.Popen[bytes], dict]:
    state = workdir / f"{label}.json"
    args = [*CLI, "lab", "--state-file", str(state), "--duration", "120"]
    for fault in faults:
        args += ["--fault", fault]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    give_up = time.monotonic() + 30
    while not state.exists():
        if proc.poll() is not None or time.monotonic() > give_up:
            err = proc.stderr.read().decode() if proc.stderr else ""
            proc.kill()
            sys.exit(f"demo: the lab did not start: {err.strip()}")
        time.sleep(0.05)
    return proc, json.loads(state.read_text())


def show_probe(title: str, lab: dict) -> int:
    command = ["daserver-check", *lab["probe_command"][1:]]
    print(f"\n=== {title} ===")
    print("$ " + shlex.join(command), flush=True)
    started = time.monotonic()
    code = subprocess.call([*CLI, *lab["probe_command"][1:]])
    print(f"(exit code {code}, {time.monotonic() - started:.2f} s)")
    return code


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="daserver-demo-") as tmp:
        workdir = Path(tmp)
        healthy, healthy_state = start_lab(workdir, "healthy", [])
        faulty, faulty_state = start_lab(workdir, "wrong-name", ["wrong-name"])
        try:
            ok = show_probe("A healthy IP-HTTPS endpoint (daserver-check lab)", healthy_state)
            bad = show_probe(
                "The same endpoint with a certificate issued to another name "
                "(daserver-check lab --fault wrong-name)",
                faulty_state,
            )
        finally:
            for proc in (healthy, faulty):
                proc.terminate()
                proc.wait(10)
    print()
    if ok == 0 and bad == 2:
        print("demo: as expected — the healthy lab passes (0), the faulty one is CRITICAL (2).")
        return 0
    print(f"demo: unexpected exit codes (healthy {ok}, faulty {bad})")
    return 1


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
