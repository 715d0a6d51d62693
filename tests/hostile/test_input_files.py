"""Every input file is read only when it is a regular file, and bounded: a FIFO with no writer,
/dev/zero, or a link to either is refused at once. Each run is a subprocess with a timeout, so
a regression shows as a failure, not as a hung suite."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

CORPUS = Path(__file__).resolve().parents[1] / "fuzz" / "corpus"
LEAF = CORPUS / "certs" / "leaf.der"
BUNDLE = Path(__file__).resolve().parents[1] / "fixtures" / "server" / "healthy"
HANG_GUARD = float(os.environ.get("HANG_GUARD", "30"))  # seconds; a refused input answers in well under one


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "daserver_check", *args], capture_output=True,
                          text=True, timeout=HANG_GUARD, stdin=subprocess.DEVNULL)


def _fifo(tmp: Path) -> Path:
    path = tmp / "pipe.toml"
    os.mkfifo(path)
    return path


def _zero_link(tmp: Path) -> Path:
    path = tmp / "zero.toml"
    path.symlink_to("/dev/zero")
    return path


def _fifo_link(tmp: Path) -> Path:
    target = tmp / "real-pipe"
    os.mkfifo(target)
    path = tmp / "linked.toml"
    path.symlink_to(target)
    return path


def _zero(tmp: Path) -> Path:
    return Path("/dev/zero")


BAD: dict[str, Callable[[Path], Path]] = {
    "fifo": _fifo, "/dev/zero": _zero, "link to /dev/zero": _zero_link,
    "link to a fifo": _fifo_link,
}


def _profile(tmp: Path) -> Path:
    path = tmp / "p.toml"
    path.write_text(f"schema = 1\n[cert]\nfiles = [{json.dumps(str(LEAF))}]\ncheck_crl = false\n")
    return path


# Each: argv with {bad} where the hostile path goes.
COMMANDS: dict[str, list[str]] = {
    "server PATH": ["server", "{bad}"],
    "server --cert": ["server", str(BUNDLE), "--cert", "{bad}"],
    "cert FILE": ["cert", "{bad}", "--offline"],
    "cert --ca-file": ["cert", str(LEAF), "--ca-file", "{bad}", "--offline"],
    "cert --chain": ["cert", str(LEAF), "--chain", "{bad}", "--offline"],
    "cert --password-file": ["cert", str(LEAF), "--password-file", "{bad}", "--offline"],
    "probe --ca-file": ["probe", "https://da.lab.test/IPHTTPS", "--connect", "127.0.0.1:9",
                        "--ca-file", "{bad}", "--timeout", "1"],
    "probe --profile": ["probe", "https://da.lab.test/IPHTTPS", "--profile", "{bad}"],
    "explain FILE": ["explain", "{bad}"],
    "profile show": ["profile", "show", "{bad}"],
    "checklist --profile": ["checklist", "--profile", "{bad}"],
}


# Every command x special file, but `profile show /dev/zero`: a profile is named by path or by
# built-in name, and /dev/zero is neither a .toml path nor a name.
PAIRS = [(c, k) for c in COMMANDS for k in BAD if (c, k) != ("profile show", "/dev/zero")]


@pytest.mark.parametrize(("command", "kind"), PAIRS)
def test_special_files_are_refused_at_once(tmp_path: Path, command: str, kind: str) -> None:
    bad = BAD[kind](tmp_path)
    argv = [a.replace("{bad}", str(bad)) for a in COMMANDS[command]]
    out = run_cli(*argv)
    assert out.returncode == 3, out.stderr
    assert "internal error" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert str(bad) in lines[0] or bad.name in lines[0], lines[0]


def test_bundle_folder_with_a_fifo_member(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    for item in BUNDLE.iterdir():
        (bundle / item.name).write_bytes(item.read_bytes())
    os.mkfifo(bundle / "zz-pipe.txt")
    (bundle / "zz-zero.txt").symlink_to("/dev/zero")
    out = run_cli("server", str(bundle))
    assert out.returncode == 3, out.stderr
    assert "not a regular file" in out.stderr


@pytest.mark.parametrize("kind", list(BAD))
def test_checklist_baseline_special_file_still_writes_the_report(tmp_path: Path,
                                                                 kind: str) -> None:
    bad = BAD[kind](tmp_path)
    out = run_cli("checklist", "--profile", str(_profile(tmp_path)), "--baseline", str(bad),
                  "--offline", "--format", "json")
    assert out.returncode == 3, out.stderr
    report = json.loads(out.stdout)
    last = report["targets"][-1]
    assert last["target"] == f"baseline {bad}"
    assert last["findings"][0]["status"] == "error"
    assert "not a regular file" in out.stderr


def test_reader_refuses_without_reading(tmp_path: Path) -> None:
    from daserver_check.files import FileReadError, open_regular, read_bounded

    fifo = tmp_path / "p"
    os.mkfifo(fifo)
    for path in (fifo, Path("/dev/zero")):
        with pytest.raises(FileReadError, match="not a regular file"):
            open_regular(str(path))
    (tmp_path / "d").mkdir()
    with pytest.raises(FileReadError, match="is a directory"):
        read_bounded(str(tmp_path / "d"))
    with pytest.raises(FileReadError, match="no such file"):
        read_bounded(str(tmp_path / "missing"))
    exact = tmp_path / "exact"
    exact.write_bytes(b"x" * 2048)
    assert read_bounded(str(exact), limit=2048) == b"x" * 2048
    with pytest.raises(FileReadError, match="larger than 2047 bytes"):
        read_bounded(str(exact), limit=2047)
    link = tmp_path / "link"
    link.symlink_to(exact)  # a link to a regular file is an ordinary input
    assert len(read_bounded(str(link))) == 2048
