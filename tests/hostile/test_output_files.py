"""`--output` cannot be turned against the machine: no writing through links, onto devices,
pipes, sockets or folders; new files get the umask's mode; a closed stdout is an input error."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from daserver_check.cli import main

EXPLAIN = ["explain", "--code", "0x103"]  # a known code: exit 0 (issue 11: --code is a lookup)


@pytest.fixture
def umask_022() -> Iterator[None]:
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def _snapshot(path: Path) -> tuple[int, int, int, str | None]:
    info = os.lstat(path)
    link = os.readlink(path) if stat.S_ISLNK(info.st_mode) else None
    return info.st_mode, info.st_ino, info.st_rdev, link


def _char_device(path: Path) -> None:
    try:
        os.mknod(path, 0o600 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is on Linux
    except (PermissionError, AttributeError):
        pytest.skip("mknod needs CAP_MKNOD")


def _targets(tmp_path: Path) -> dict[str, Path]:
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me\n")
    link = tmp_path / "link"
    link.symlink_to(victim)
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    folder = tmp_path / "folder"
    folder.mkdir()
    return {"symlink": link, "dangling symlink": dangling, "fifo": fifo, "folder": folder}


@pytest.mark.parametrize("kind", ["symlink", "dangling symlink", "fifo", "folder", "device",
                                  "socket"])
def test_output_refuses_what_is_not_a_regular_file(
    tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    if kind == "device":
        target = tmp_path / "null"
        _char_device(target)
    elif kind == "socket":
        target = tmp_path / "s"
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(target))
    else:
        target = _targets(tmp_path)[kind]
    before = _snapshot(target)
    try:
        code = main([*EXPLAIN, "--output", str(target)])
    finally:
        if kind == "socket":
            server.close()
    err = capsys.readouterr().err
    assert code == 3
    assert "refused" in err and "internal error" not in err
    assert len(err.strip().splitlines()) == 1
    assert _snapshot(target) == before
    if kind == "symlink":
        assert (tmp_path / "victim.txt").read_text() == "keep me\n"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_acceptance_symlink_and_device_in_a_subprocess(tmp_path: Path) -> None:
    """The issue's acceptance, as an admin runs it."""
    victim = tmp_path / "victim"
    victim.write_text("x")
    link = tmp_path / "link"
    link.symlink_to(victim)
    device = tmp_path / "null"
    _char_device(device)
    for target in (link, device):
        before = _snapshot(target)
        out = subprocess.run([sys.executable, "-m", "daserver_check", *EXPLAIN, "--output",
                              str(target)], capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL)
        assert out.returncode == 3, out.stderr
        assert _snapshot(target) == before
    assert victim.read_text() == "x"


@pytest.mark.usefixtures("umask_022")
def test_new_output_file_honours_the_umask(tmp_path: Path) -> None:
    out = tmp_path / "report.txt"
    assert main([*EXPLAIN, "--output", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o644
    assert "0x103" in out.read_text()


def test_new_output_file_under_a_strict_umask(tmp_path: Path) -> None:
    old = os.umask(0o077)
    try:
        out = tmp_path / "report.json"
        main([*EXPLAIN, "--format", "json", "--output", str(out)])
    finally:
        os.umask(old)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


@pytest.mark.usefixtures("umask_022")
def test_existing_regular_file_is_replaced_keeping_its_mode(tmp_path: Path) -> None:
    out = tmp_path / "report.prom"
    out.write_text("old\n")
    out.chmod(0o640)
    old_inode = out.stat().st_ino
    assert main([*EXPLAIN, "--format", "json", "--output", str(out)]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert out.stat().st_ino != old_inode  # a rename, not a rewrite in place
    assert out.read_text().startswith("{")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.prom"]


def test_dash_is_standard_output(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert main([*EXPLAIN, "--format", "json", "--output", "-"]) == 0
    assert capsys.readouterr().out.startswith("{")
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("args", [EXPLAIN, [*EXPLAIN, "--format", "json"], ["collect-script"],
                                  [*EXPLAIN, "--output", "-"]])
def test_closed_stdout_is_an_input_error(args: list[str]) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "daserver_check", *args],
        capture_output=False, stdout=None, stderr=subprocess.PIPE, text=True, timeout=60,
        stdin=subprocess.DEVNULL, pass_fds=(), preexec_fn=lambda: os.close(1),
    )
    assert out.returncode == 3
    assert "internal error" not in out.stderr
    assert "standard output" in out.stderr


def test_collect_script_keeps_an_existing_file_unless_forced(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str],
                                                             ) -> None:
    out = tmp_path / "collect.cmd"
    out.write_text("mine\n")
    assert main(["collect-script", "--output", str(out)]) == 3
    assert "exists already" in capsys.readouterr().err
    assert out.read_text() == "mine\n"
    assert main(["collect-script", "--output", str(out), "--force"]) == 0
    assert out.read_bytes().startswith(b"@echo off\r\n")
