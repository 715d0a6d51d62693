"""Ctrl-C ends a long run within a second (issue 14 item 8).

Three silent servers on loopback accept TCP and never answer, so every probe waits on its
20-second deadline. Once each server holds a connection (the probes are in flight, seen by
the test, not guessed with a sleep), SIGINT goes to the process, which must end within a
second: pending work cancelled, threads waiting on network deadlines not joined.
"""

from __future__ import annotations

import json
import select
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
EXIT_WITHIN = 1.0  # seconds from SIGINT to the process's end (the acceptance line)
START_WITHIN = 30.0  # interpreter start-up and the first connections on a loaded machine


@pytest.fixture
def silent_servers() -> Iterator[list[socket.socket]]:
    with ExitStack() as stack:
        listeners = []
        for _ in range(3):
            sock = stack.enter_context(socket.socket())
            sock.bind(("127.0.0.1", 0))
            sock.listen(16)
            listeners.append(sock)
        yield listeners


def _wait_for_connections(listeners: list[socket.socket], process: subprocess.Popen[str],
                          held: list[socket.socket]) -> None:
    """Accept until every listener has a connection from the probe (a deadline check only)."""
    waiting = list(listeners)
    end = time.monotonic() + START_WITHIN
    while waiting:
        left = end - time.monotonic()
        assert left > 0 and process.poll() is None, "the probe never connected"
        readable, _, _ = select.select(waiting, [], [], left)
        for sock in readable:
            conn, _ = sock.accept()
            held.append(conn)  # kept open and silent: the probe waits on its deadline
            waiting.remove(sock)


def _interrupt_and_time(process: subprocess.Popen[str]) -> tuple[float, str]:
    process.send_signal(signal.SIGINT)
    started = time.monotonic()
    try:
        _out, err = process.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        _out, err = process.communicate()
        pytest.fail("still running 15 s after SIGINT")
    return time.monotonic() - started, err


def _run_until_interrupted(args: list[str], listeners: list[socket.socket]) -> None:
    process = subprocess.Popen([sys.executable, "-m", "daserver_check", *args], cwd=REPO,
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    held: list[socket.socket] = []
    try:
        _wait_for_connections(listeners, process, held)
        elapsed, err = _interrupt_and_time(process)
    finally:
        for conn in held:
            conn.close()
        if process.poll() is None:
            process.kill()
            process.wait()
    assert elapsed < EXIT_WITHIN, f"took {elapsed:.2f} s after SIGINT"
    assert process.returncode == 130, err
    assert "interrupted" in err
    assert "Traceback" not in err


def test_sigint_ends_a_three_url_probe_within_a_second(
    silent_servers: list[socket.socket],
) -> None:
    urls = [f"https://da.lab.test:{s.getsockname()[1]}/IPHTTPS" for s in silent_servers]
    _run_until_interrupted(["probe", *urls, "--connect", "127.0.0.1", "--timeout", "20"],
                           silent_servers)


def test_sigint_ends_a_single_url_probe_within_a_second(
    silent_servers: list[socket.socket],
) -> None:
    url = f"https://da.lab.test:{silent_servers[0].getsockname()[1]}/IPHTTPS"
    _run_until_interrupted(["probe", url, "--connect", "127.0.0.1", "--timeout", "20"],
                           silent_servers[:1])


def test_sigint_ends_a_checklist_within_a_second(
    silent_servers: list[socket.socket], tmp_path: Path
) -> None:
    urls = ", ".join(json.dumps(f"https://da.lab.test:{s.getsockname()[1]}/IPHTTPS")
                     for s in silent_servers)
    profile = tmp_path / "silent.toml"
    profile.write_text(
        "schema = 1\n[deployment]\n"
        f"urls = [{urls}]\nentry_points = [\"127.0.0.1\"]\n"
        "[dns]\nallow_private = true\n"
        "[cert]\ncheck_crl = false\n"
        "[probe]\ntimeout = 20.0\nconcurrency = 8\n"
    )
    _run_until_interrupted(["checklist", "--profile", str(profile)], silent_servers)
