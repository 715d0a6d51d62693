"""Command line: parse arguments, call one command, render its report, exit with its code.

Each subcommand lives in `daserver_check.commands.<module>` and exposes:
    HELP: str                                   one line for `daserver-check --help`
    DESCRIPTION: str                            the subcommand's own --help text
    configure(parser: ArgumentParser) -> None   its arguments (light imports only!)
    run(args: Namespace) -> Report | int        a Report is rendered here; an int is an exit code
Command modules import heavy libraries inside `run`, so `--help` stays fast and never pulls in
scapy or prometheus_client.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import time
import traceback
import warnings
from collections.abc import Sequence
from types import ModuleType
from typing import NoReturn

from daserver_check import __version__
from daserver_check.errors import DaserverCheckError
from daserver_check.model import ExitCode, Report
from daserver_check.output import write_output
from daserver_check.report import OutputFormat, render

PROG = "daserver-check"

# (subcommand, module) in the order `--help` lists them.
COMMANDS: tuple[tuple[str, str], ...] = (
    ("probe", "probe"),
    ("cert", "cert"),
    ("server", "server"),
    ("explain", "explain"),
    ("checklist", "checklist"),
    ("exporter", "exporter"),
    ("lab", "lab"),
    ("collect-script", "collect_script"),
    ("trace", "trace"),
    ("profile", "profile_cmd"),
)

EPILOG = """\
exit codes: 0 OK, 1 WARNING (worst finding warn), 2 CRITICAL (a finding failed),
            3 UNKNOWN (bad usage, unreadable input, or a check could not decide)
try it:     daserver-check lab           (starts an emulated IP-HTTPS endpoint and prints
                                          the probe command to run against it)
"""


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors; the monitoring-plugin convention wants 3."""

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(ExitCode.UNKNOWN, f"{self.prog}: error: {message}\n")


def _load_commands() -> list[tuple[str, ModuleType]]:
    loaded = []
    for name, module in COMMANDS:
        try:
            loaded.append((name, importlib.import_module(f"daserver_check.commands.{module}")))
        except ModuleNotFoundError as exc:
            if exc.name != f"daserver_check.commands.{module}":
                raise
    return loaded


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Finds why a DirectAccess client cannot connect over IP-HTTPS, and which "
        "client error (0x103, 0x2AFC, 0x2AF9, 0x643, 0x34 ...) it would show.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--debug", action="store_true", help="show tracebacks of internal errors on stderr"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for name, module in _load_commands():
        p = sub.add_parser(
            name,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help=argparse.SUPPRESS)
        module.configure(p)
        p.set_defaults(_module=module)
    return parser


def _survive_console_encodings() -> None:
    """A Windows console or a redirected PowerShell pipe (cp1252, cp437, cp932) cannot show
    every character a report or a message holds: show an escape instead of crashing."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):
                pass


def main(argv: Sequence[str] | None = None) -> int:
    _survive_console_encodings()
    parser = build_parser()
    args = parser.parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    if not debug:
        # Library warnings (cryptography on odd certificate names, deprecations) are noise to
        # an admin: what matters about a certificate is reported as a finding.
        warnings.simplefilter("ignore")
    if args.command is None:
        parser.print_help(sys.stderr)
        return ExitCode.UNKNOWN
    started = time.monotonic()
    try:
        result = args._module.run(args)
        if isinstance(result, int):
            return result
        report: Report = result
        if not report.duration_ms:
            import dataclasses

            report = dataclasses.replace(
                report, duration_ms=int((time.monotonic() - started) * 1000)
            )
        fmt: OutputFormat = getattr(args, "format", OutputFormat.TEXT)
        color = fmt is OutputFormat.TEXT and not getattr(args, "output", None) and _tty()
        write_output(render(report, fmt, color=color), getattr(args, "output", None))
        return report.exit_code
    except DaserverCheckError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return ExitCode.UNKNOWN
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); nothing left to tell anyone.
        _silence_stdout()
        return ExitCode.UNKNOWN
    except Exception as exc:  # the last line of defence: no traceback reaches a user
        if debug:
            traceback.print_exc()
        print(
            f"{PROG}: internal error: {type(exc).__name__}: {exc} "
            "(run with --debug for the traceback, and please report it)",
            file=sys.stderr,
        )
        return ExitCode.UNKNOWN


def _tty() -> bool:
    try:
        return sys.stdout.isatty() and os.environ.get("NO_COLOR") is None
    except (AttributeError, ValueError):
        return False


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
