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


# -- start-up: only what the chosen command needs (issue 14 item 10) ---------------------------

_LOADED = (
    "import sys\n"
    "from daserver_check.cli import main\n"
    "try:\n    code = main({argv!r})\nexcept SystemExit as exc:\n    code = exc.code\n"
    "print([m for m in sys.modules if m.startswith('daserver_check.')])\n"
)


def _modules_after(*argv: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", _LOADED.format(argv=list(argv))],
                         capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    loaded: list[str] = eval(out.stdout.strip().splitlines()[-1])  # a list literal we printed
    return loaded


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["--debug", "--help"]])
def test_version_and_help_import_no_command_module(argv: list[str]) -> None:
    loaded = _modules_after(*argv)
    assert not [m for m in loaded if m.startswith("daserver_check.commands.")], loaded


def test_subcommand_help_imports_only_its_own_command() -> None:
    loaded = _modules_after("explain", "--help")
    commands = {m for m in loaded if m.startswith("daserver_check.commands.")}
    assert commands == {"daserver_check.commands.explain"}


def test_probe_imports_nothing_the_server_exporter_or_cert_file_paths_need(
    unused_tcp_port: int, tmp_path: Path
) -> None:
    loaded = _modules_after("probe", f"https://da.lab.test:{unused_tcp_port}/IPHTTPS",
                            "--connect", "127.0.0.1", "--timeout", "2", "--format", "json",
                            "--output", str(tmp_path / "r.json"))
    assert "daserver_check.pipeline.engine" in loaded  # it did probe
    other_paths = ("daserver_check.server", "daserver_check.exporter", "daserver_check.lab",
                   "daserver_check.pipeline.cert_file", "daserver_check.pipeline.bundle",
                   "daserver_check.certs.load", "daserver_check.certs.pkcs12_der",
                   "daserver_check.certs.private_key", "daserver_check.certs.replacement",
                   "daserver_check.baseline")
    unwanted = [m for m in loaded if m.startswith(other_paths)]
    assert unwanted == [], unwanted
    commands = {m for m in loaded if m.startswith("daserver_check.commands.")}
    assert commands == {"daserver_check.commands.probe"}


def test_help_lists_every_command_from_the_table() -> None:
    from daserver_check.cli import COMMANDS

    out = run_cli("--help")
    assert out.returncode == 0
    flat = " ".join(out.stdout.split())
    for name, _module, help_text in COMMANDS:
        assert name in out.stdout
        # argparse wraps the line (and may break a hyphenated word): its first words suffice
        assert " ".join(help_text.split()[:4]) in flat


@pytest.mark.parametrize("entry", __import__("daserver_check.cli").cli.COMMANDS,
                         ids=lambda e: e[0])
def test_command_help_matches_the_table(entry: tuple[str, str, str]) -> None:
    """The one-line help lives in cli.COMMANDS (so --help imports nothing) and in the module:
    they must not drift apart."""
    import importlib

    name, module_name, help_text = entry
    module = importlib.import_module(f"daserver_check.commands.{module_name}")
    assert help_text == module.HELP, name


def test_subcommand_still_parses_with_global_debug_first() -> None:
    out = run_cli("--debug", "explain", "--code", "0x103", "--format", "json")
    assert out.returncode in (0, 1, 2), out.stderr
    assert json.loads(out.stdout)["command"] == "explain"


# -- nagios: every exit prints one status line on stdout (issue 13 item 4) ---------------------


@pytest.mark.parametrize(
    "args",
    [
        ["probe", "not-a-url", "--format", "nagios"],  # InputError
        ["probe", "not-a-url", "--format=nagios"],
        ["probe", "https://da.lab.test/IPHTTPS", "--format", "nagios", "--bogus"],  # argparse
        ["probe", "https://da.lab.test/IPHTTPS", "--format", "nagios", "--timeout", "x"],
        ["probe", "https://da.lab.test/IPHTTPS", "--format", "nagios", "--profile", "nope"],
    ],
)
def test_unknown_exit_prints_a_nagios_status_line(args: list[str]) -> None:
    out = run_cli(*args)
    assert out.returncode == 3, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 1, out.stdout
    assert lines[0].startswith("DASERVER UNKNOWN - "), out.stdout
    assert len(lines[0]) > len("DASERVER UNKNOWN - ")
    assert "|" not in lines[0]  # would start performance data
    error_lines = [line for line in out.stderr.splitlines() if "error" in line]
    assert len(error_lines) == 1, out.stderr  # the error line stays on stderr too
    assert "Traceback" not in out.stderr


def test_nagios_unknown_line_is_inert() -> None:
    out = run_cli("probe", "https://da.lab.test/IPHTTPS\x1b[2J|x", "--format", "nagios",
                  "--connect", "bogus")
    assert out.returncode == 3
    assert "\x1b" not in out.stdout
    assert out.stdout.startswith("DASERVER UNKNOWN - ")
