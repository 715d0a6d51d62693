"""The command line as a user meets it: exit codes, one-line errors, no tracebacks, fast --help."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from daserver_check.cli import main

HEAVY = ("scapy", "rich", "prometheus_client")


def run_cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "daserver_check", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def test_help_imports_no_heavy_modules() -> None:
    code = (
        "import sys\n"
        "from daserver_check.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print([m for m in sys.modules if m.split('.')[0] in {HEAVY!r}])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert "probe" in out.stdout


def test_version() -> None:
    out = run_cli("--version")
    assert out.returncode == 0
    assert out.stdout.startswith("daserver-check ")


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["probe", "da.contoso.com/IPHTTPS"], "no scheme"),
        (["probe", "http://da.contoso.com/IPHTTPS"], "not https"),
        (["probe", "https://da.contoso.com:70000/IPHTTPS"], "bad port"),
        (["probe", "https:///IPHTTPS"], "empty host"),
        (["probe", "https://da.lab.test/IPHTTPS", "--ca-file", "/nonexistent/ca.pem"], "ca.pem"),
        (["probe", "https://da.lab.test/IPHTTPS", "--profile", "nosuchprofile"], "nosuchprofile"),
        (["probe", "https://da.lab.test/IPHTTPS", "--resolver", "dns.example"], "--resolver"),
        (["probe", "https://da.lab.test/IPHTTPS", "--connect", "da.example"], "--connect"),
        (["probe", "https://da.lab.test/IPHTTPS", "--timeout", "0"], "--timeout"),
        (["probe", "https://da.lab.test/IPHTTPS", "--bogus-flag"], "unrecognized"),
        (["probe", "https://da.lab.test/IPHTTPS", "--format", "xml"], "invalid"),
        (["nosuchcommand"], "invalid choice"),
    ],
)
def test_bad_input_is_one_line_exit_3(args: list[str], words: str) -> None:
    out = run_cli(*args)
    assert out.returncode == 3, out.stderr
    assert "Traceback" not in out.stderr
    error_lines = [line for line in out.stderr.splitlines() if "error" in line]
    assert len(error_lines) == 1, out.stderr
    assert words in error_lines[0]
    assert out.stdout == ""


def test_unreadable_ca_file_is_input_error(tmp_path: Path) -> None:
    bad = tmp_path / "ca.pem"
    bad.write_text("not a certificate\n")
    out = run_cli("probe", "https://da.lab.test/IPHTTPS", "--ca-file", str(bad),
                  "--connect", "127.0.0.1:9")
    assert out.returncode == 3
    assert "Traceback" not in out.stderr


def test_no_command_prints_help_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 3
    assert "COMMAND" in capsys.readouterr().err


def test_refused_port_reports_0x274d(unused_tcp_port: int) -> None:
    out = run_cli("probe", f"https://da.lab.test:{unused_tcp_port}/IPHTTPS",
                  "--connect", "127.0.0.1", "--format", "json", "--timeout", "3")
    assert out.returncode == 2, out.stderr
    report = json.loads(out.stdout)
    tcp = [f for f in report["targets"][0]["findings"] if f["id"] == "tcp.connect"]
    assert tcp[0]["status"] == "fail"
    assert tcp[0]["predicts"] == ["0x274D"]
    assert tcp[0]["address"] == "127.0.0.1"
    dns = [f for f in report["targets"][0]["findings"] if f["stage"] == "dns"]
    assert dns and all(f["status"] == "skip" for f in dns)


def test_output_file_written(tmp_path: Path, unused_tcp_port: int) -> None:
    target = tmp_path / "report.json"
    out = run_cli("probe", f"https://da.lab.test:{unused_tcp_port}/IPHTTPS", "--connect",
                  "127.0.0.1", "--format", "json", "--output", str(target))
    assert out.returncode == 2
    assert out.stdout == ""
    data = json.loads(target.read_text())
    assert data["schema"] == "daserver-check/1"
    assert data["command"] == "probe"
