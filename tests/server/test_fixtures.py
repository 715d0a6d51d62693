"""The committed bundles are what scenario.py writes, and look the way regedit writes .reg."""

from __future__ import annotations

import pytest

from .scenario import FIXTURES, bundles


@pytest.mark.parametrize(("bundle", "name", "data"),
                         [(b, n, d) for b, files in bundles().items() for n, d in files.items()])
def test_committed_fixture_is_current(bundle: str, name: str, data: bytes) -> None:
    assert (FIXTURES / bundle / name).read_bytes() == data, (
        "regenerate with: python -m tests.server.scenario")


@pytest.mark.parametrize("name", ["http.reg", "tcpip6.reg", "proxymgr.reg", "v6transition.reg"])
def test_reg_fixture_is_regedit_shaped(name: str) -> None:
    data = (FIXTURES / "kb2980660" / name).read_bytes()
    assert data[:2] == b"\xff\xfe"
    text = data[2:].decode("utf-16-le")
    assert text.startswith("Windows Registry Editor Version 5.00\r\n\r\n[HKEY_LOCAL_MACHINE\\")
    assert text.count("\n") == text.count("\r\n")
    assert text.endswith("\r\n\r\n")
    lines = text.split("\r\n")
    for i, line in enumerate(lines):
        if line.endswith(",\\"):
            assert len(line) <= 80
            assert lines[i + 1].startswith("  ") and not lines[i + 1].startswith("   ")


def test_http_reg_has_wrapped_hex() -> None:
    text = (FIXTURES / "kb2980660" / "http.reg").read_bytes()[2:].decode("utf-16-le")
    assert ",\\\r\n  " in text
