"""Command line: parse arguments, call one command, render its report, exit with its code.

Each subcommand lives in `daserver_check.commands.<module>` and exposes:
    HELP: str                                   one line for `daserver-check --help` (the same
                                                text as its entry in COMMANDS below)
    DESCRIPTION: str                            the subcommand's own --help text
    configure(parser: ArgumentParser) -> None   its arguments (light imports only!)
    run(args: Namespace) -> Report | int        a Report is rendered here; an int is an exit code

Start-up cost is most of the run time of `--version`, `--help` and a quick probe, so only the
chosen subcommand's module is imported and only its parser is built: `--help` lists the
commands from the static table below, and `--version` imports no command at all. Command
modules import heavy libraries inside `run`, so `--help` never pulls in scapy or
prometheus_client.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from daserver_check import __version__
from daserver_check.errors import DaserverCheckError

# mypy reads any name TYPE_CHECKING as typing.TYPE_CHECKING; importing `typing` itself would
# cost about 2 ms of every start (it is imported only for the type checker here).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType
    from typing import NoReturn

PROG = "daserver-check"

# (subcommand, module, one-line help) in the order `--help` lists them. The help text is the
# module's HELP too (tests/test_cli.py keeps the two equal), so `--help` needs no import.
COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("probe", "probe", "probe an IP-HTTPS URL the way a DirectAccess client would"),
    ("cert", "cert",
     "validate a new IP-HTTPS certificate file (PFX, PEM, DER, P7B) before rollout"),
    ("server", "server",
     "check a DirectAccess server's HTTP.sys, IPv6 and IP-HTTPS policy setup from its exports"),
    ("explain", "explain",
     "explain a client's IP-HTTPS error code (netsh or PowerShell output, or --code)"),
    ("checklist", "checklist",
     "run every check a profile lists (URLs x entry points, certificates, server bundles)"),
    ("exporter", "exporter",
     "serve probes to Prometheus: GET /probe?target=URL (multi-target exporter)"),
    ("lab", "lab", "run an emulated IP-HTTPS endpoint on loopback (demo and tests)"),
    ("collect-script", "collect_script",
     "print a Windows cmd script that collects a bundle for `daserver-check server`"),
    ("trace", "trace", "trace where TCP SYNs to the IP-HTTPS port stop (needs root / CAP_NET_RAW)"),
    ("profile", "profile_cmd",
     "show the effective profile, or write a commented starter profile"),
)

EPILOG = """\
exit codes: 0 OK, 1 WARNING (worst finding warn), 2 CRITICAL (a finding failed),
            3 UNKNOWN (bad usage, unreadable input, or a check could not decide)
try it:     daserver-check lab           (starts an emulated IP-HTTPS endpoint and prints
                                          the probe command to run against it)
"""

UNKNOWN = 3  # model.ExitCode.UNKNOWN, without importing the model before it is needed
INTERRUPTED = 130  # 128 + SIGINT, what a shell reports for a command ended by Ctrl-C


class UsageError(Exception):
    """A usage error found by argparse; `main` reports it (exit 3, not argparse's 2)."""

    def __init__(self, parser: argparse.ArgumentParser, message: str) -> None:
        super().__init__(message)
        self.parser = parser


class _Parser(argparse.ArgumentParser):
    """argparse exits 2 on usage errors; the monitoring-plugin convention wants 3, and
    `--format nagios` wants a status line on stdout too, so `main` handles the error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(self, message)


def _command_word(argv: Sequence[str]) -> str | None:
    """The subcommand named in `argv`: the first word that is not a top-level option (the
    top-level options, --debug, --version and --help, take no value)."""
    for index, token in enumerate(argv):
        if token == "--":
            return argv[index + 1] if index + 1 < len(argv) else None
        if not token.startswith("-") or token == "-":
            return token
    return None


def _module_for(name: str | None) -> str | None:
    return next((module for command, module, _help in COMMANDS if command == name), None)


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The parser for `argv`: every subcommand is listed, only the one `argv` names is built."""
    import importlib

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
    chosen = _command_word(argv)
    for name, module_name, help_text in COMMANDS:
        if name != chosen:
            sub.add_parser(name, help=help_text)  # listed, never parsed
            continue
        module: ModuleType = importlib.import_module(f"daserver_check.commands.{module_name}")
        p = sub.add_parser(
            name,
            help=help_text,
            description=getattr(module, "DESCRIPTION", help_text),
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


def _asked_for_nagios(argv: Sequence[str]) -> bool:
    """Whether `--format nagios` is on the command line, even when the rest does not parse."""
    for index, token in enumerate(argv):
        if token == "--format=nagios":
            return True
        if token == "--format" and index + 1 < len(argv) and argv[index + 1] == "nagios":
            return True
    return False


def _unknown(reason: str, nagios: bool) -> int:
    """Exit UNKNOWN: the error line on stderr, and with --format nagios one status line on
    stdout too (Monitoring Plugins guidelines: every exit prints a status line)."""
    print(f"{PROG}: error: {reason}", file=sys.stderr)
    if nagios:
        _nagios_line(f"DASERVER UNKNOWN - {reason}")
    return UNKNOWN


def _nagios_line(line: str) -> None:
    from daserver_check.report.escape import inert

    # One line, nothing a terminal acts on, and no "|" (it starts the performance data).
    text = inert(line).replace("|", "/")
    try:
        print(text, flush=True)
    except (OSError, ValueError):  # stdout closed or gone: stderr already has the error
        _silence_stdout()


def main(argv: Sequence[str] | None = None) -> int:
    _survive_console_encodings()
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments == ["--version"]:
        # The one answer that needs no parser: argparse and its help formatter are half of
        # what a bare `--version` would otherwise import.
        print(f"{PROG} {__version__}")
        return 0
    nagios = _asked_for_nagios(arguments)
    try:
        parser = build_parser(arguments)
        args = parser.parse_args(arguments)
    except UsageError as exc:
        exc.parser.print_usage(sys.stderr)
        print(f"{exc.parser.prog}: error: {exc}", file=sys.stderr)
        if nagios:
            _nagios_line(f"DASERVER UNKNOWN - {exc}")
        # As argparse itself does (with 3 for 2): callers of main() see a usage error as
        # SystemExit, the console script's exit status is the same either way.
        raise SystemExit(UNKNOWN) from None
    except DaserverCheckError as exc:  # a command's configure() refused something
        return _unknown(str(exc), nagios)
    except KeyboardInterrupt:
        return _interrupted(nagios)
    nagios = getattr(args, "format", None) == "nagios"
    debug = bool(getattr(args, "debug", False))
    if not debug:
        import warnings

        # Library warnings (cryptography on odd certificate names, deprecations) are noise to
        # an admin: what matters about a certificate is reported as a finding.
        warnings.simplefilter("ignore")
    if args.command is None:
        parser.print_help(sys.stderr)
        return UNKNOWN
    try:
        return _run(args)
    except DaserverCheckError as exc:
        return _unknown(str(exc), nagios)
    except KeyboardInterrupt:
        return _interrupted(nagios)
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); nothing left to tell anyone.
        _silence_stdout()
        return UNKNOWN
    except Exception as exc:  # the last line of defence: no traceback reaches a user
        if debug:
            import traceback

            traceback.print_exc()
        print(
            f"{PROG}: internal error: {type(exc).__name__}: {exc} "
            "(run with --debug for the traceback, and please report it)",
            file=sys.stderr,
        )
        if nagios:
            _nagios_line(f"DASERVER UNKNOWN - internal error: {type(exc).__name__}: {exc}")
        return UNKNOWN


def _run(args: argparse.Namespace) -> int:
    import time

    from daserver_check.model import Report
    from daserver_check.output import write_output
    from daserver_check.report import OutputFormat, render

    started = time.monotonic()
    result = args._module.run(args)
    if isinstance(result, int):
        return result
    report: Report = result
    if not report.duration_ms:
        import dataclasses

        report = dataclasses.replace(report, duration_ms=int((time.monotonic() - started) * 1000))
    fmt: OutputFormat = getattr(args, "format", OutputFormat.TEXT)
    color = fmt is OutputFormat.TEXT and not getattr(args, "output", None) and _tty()
    write_output(render(report, fmt, color=color), getattr(args, "output", None))
    return int(report.exit_code)


def _interrupted(nagios: bool) -> int:
    """Ctrl-C: say so and end now.

    Probes still running in worker threads wait on network deadlines (up to --timeout), and
    the interpreter joins every concurrent.futures worker at exit (those threads are not
    daemons since Python 3.9), so returning would keep the user waiting for them. The commands
    have cancelled what had not started; what is left is only waiting, so the process ends
    here without joining it. Nothing is half-written: a report file is renamed into place
    whole or not at all (output.write_output).
    """
    print(f"{PROG}: interrupted", file=sys.stderr)
    if nagios:
        _nagios_line("DASERVER UNKNOWN - interrupted")
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(INTERRUPTED)


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
