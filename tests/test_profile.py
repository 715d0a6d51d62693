from __future__ import annotations

from pathlib import Path

import pytest

from daserver_check.profile import ProfileError, builtin_names, load_profile


def test_builtins_load() -> None:
    assert {"default", "lab", "windows7"} <= set(builtin_names())
    for name in builtin_names():
        assert load_profile(name).source == name
    assert load_profile(None).source == "default"
    assert load_profile("windows7").deployment.has_windows7
    assert load_profile("lab").dns.allow_private


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("schema = 1\n[probe]\ntimeot = 3\n", "probe.timeot: unknown key"),
        ("schema = 1\n[probe]\ntimeout = 'x'\n", "probe.timeout: expected a number"),
        ("schema = 1\n[probe]\ntimeout = -1\n", "probe.timeout: must be more than 0"),
        ("schema = 1\n[dns]\nallow_private = 1\n", "dns.allow_private: expected true or false"),
        ("schema = 1\n[deployment]\nurls = ['http://x/']\n", "deployment.urls[0]: bad URL"),
        ("schema = 1\n[deployment]\nclient_os = ['vista']\n", "deployment.client_os[0]"),
        ("schema = 1\n[cert]\nwarn_days = 3\ncrit_days = 9\n", "cert.crit_days"),
        ("schema = 2\n", "schema: unsupported"),
        ("[probe]\n", "schema: missing"),
        ("schema = 1\nprobe = 3\n", "probe: expected a table"),
        ("schema = = 1\n", "not valid TOML"),
    ],
)
def test_strict_errors_name_the_dotted_path(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(ProfileError, match=message.replace("[", r"\[").replace("]", r"\]")):
        load_profile(str(path))


def test_unknown_and_missing_profiles(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="unknown"):
        load_profile("nosuchprofile")
    with pytest.raises(ProfileError, match="no such file"):
        load_profile(str(tmp_path / "missing.toml"))
    with pytest.raises(ProfileError, match="directory"):
        load_profile(str(tmp_path) + "/")
    binary = tmp_path / "bin.toml"
    binary.write_bytes(b"\xff\xfe\x00")
    with pytest.raises(ProfileError, match="UTF-8"):
        load_profile(str(binary))
