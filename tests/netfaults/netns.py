"""Network namespaces the tests build themselves (root only; skip elsewhere, fail under CI)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import pytest

from tests.conftest import IN_CI, require_root, require_tool


def skip_or_fail(message: str) -> None:
    if IN_CI:
        pytest.fail(message)
    pytest.skip(message)


@contextmanager
def namespace(label: str, *setup: Sequence[str]) -> Iterator[str]:
    """A fresh namespace with loopback up; `setup` are extra `ip -n NS ...` commands."""
    require_root()
    ip = require_tool("ip")
    require_tool("nft")
    name = f"dacheck-{label}-{os.getpid()}"
    created = subprocess.run([ip, "netns", "add", name], capture_output=True, text=True)
    if created.returncode != 0:
        skip_or_fail(f"cannot create a network namespace: {created.stderr.strip()}")
    try:
        for command in (["link", "set", "lo", "up"], *setup):
            subprocess.run([ip, "-n", name, *command], check=True)
        yield name
    finally:
        subprocess.run([ip, "netns", "del", name], check=False)
