"""Shared test policy: tests needing a system tool or root skip where it is absent,
but under CI=true a skip of that kind fails the run (CI must prove everything)."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest
from hypothesis import HealthCheck, settings

# Hypothesis' per-example deadline measures wall time, which a loaded 2-core CI machine makes
# flaky; example counts stay the same, so the property tests lose nothing.
settings.register_profile(
    "daserver", deadline=None, suppress_health_check=[HealthCheck.too_slow], print_blob=True
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "daserver"))

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tool(name: str) -> str:
    """Path of a system tool, or skip (fail under CI=true)."""
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin")
    if path is None:
        message = f"{name} is not installed (make sysdeps installs it)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def require_root() -> None:
    if os.geteuid() != 0:
        if IN_CI:
            pytest.fail("needs root (network namespaces)")
        pytest.skip("needs root (network namespaces)")


@pytest.fixture
def unused_tcp_port() -> int:
    """A loopback port with nothing listening (closed right after the kernel picked it)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def stop_process(process: subprocess.Popen[bytes]) -> None:
    """Terminate a server the test started; kill it if it ignores SIGTERM for 5 s."""
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
