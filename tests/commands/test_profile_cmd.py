from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from daserver_check.cli import main
from daserver_check.profile import builtin_names, load_profile


@pytest.mark.parametrize("name", ["default", "lab", "windows7", "strict"])
def test_show_round_trips(name: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["profile", "show", name]) == 0
    text = capsys.readouterr().out
    path = tmp_path / "shown.toml"
    path.write_text(text)
    shown = load_profile(str(path))
    original = load_profile(name)
    assert shown == original  # source is not compared


def test_init_writes_a_loadable_starter(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "contoso.toml"
    assert main(["profile", "init", "--output", str(target)]) == 0
    profile = load_profile(str(target))
    assert profile.deployment.urls == ("https://da.contoso.com/IPHTTPS",)
    # every key of the schema appears in the starter, so it documents all knobs
    data = tomllib.loads(target.read_text())
    for section in ("deployment", "dns", "tls", "cert", "iphttps", "proxy", "probe", "server"):
        assert section in data
    assert main(["profile", "init", "--output", str(target)]) == 3
    assert "exists" in capsys.readouterr().err


def test_strict_is_stricter_than_default() -> None:
    assert "strict" in builtin_names()
    strict, default = load_profile("strict"), load_profile("default")
    assert strict.cert.warn_days > default.cert.warn_days
    assert strict.iphttps.router_discovery
    assert strict.deployment.has_windows7
