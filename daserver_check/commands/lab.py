"""`daserver-check lab`: run an emulated DirectAccess IP-HTTPS endpoint (and its DNS) on loopback.

Only the light `lab.faults` module is imported at module level: the CLI imports every command
to build `--help`, and OpenSSL, cryptography and dnspython load only when the lab really runs.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Any

from daserver_check.errors import InputError
from daserver_check.lab.faults import FAULTS

HELP = "run an emulated IP-HTTPS endpoint on loopback (demo and tests)"
DESCRIPTION = """\
Start an emulated DirectAccess IP-HTTPS endpoint on loopback: a TLS server that answers like
HTTP.sys on a DirectAccess server (null cipher suites, 200 with Server: Microsoft-HTTPAPI/2.0 to
a POST on /IPHTTPS), a throwaway CA and certificate, and a DNS responder for the lab name. It
prints the probe command to run against it. --fault bends it into a known failure.

faults (--fault NAME, repeatable; --list-faults shows them):
""" + "\n".join(f"  {name:<14} {text}" for name, text in FAULTS.items())

DEFAULT_NAME = "da.lab.test"


class _Stop(Exception):
    """Raised in the main thread by the SIGINT/SIGTERM handler to end the wait."""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen",
        metavar="HOST:PORT",
        default="127.0.0.1:0",
        help="loopback address and port of the HTTPS endpoint (default 127.0.0.1:0 = a free "
        "port; [::1]:PORT for IPv6)",
    )
    parser.add_argument(
        "--dns-listen",
        metavar="PORT",
        type=int,
        default=0,
        help="UDP port of the DNS responder on 127.0.0.1 (default 0 = a free port)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        choices=[*FAULTS, "list"],
        metavar="NAME",
        help="emulate a fault (repeatable); 'list' shows them",
    )
    parser.add_argument(
        "--list-faults", action="store_true", help="list the faults with descriptions and exit"
    )
    parser.add_argument(
        "--name",
        default=DEFAULT_NAME,
        help=f"the endpoint's DNS name, in the URL and the certificate (default {DEFAULT_NAME})",
    )
    parser.add_argument(
        "--state-file",
        metavar="FILE",
        help="once ready, write JSON {url, port, dns, ca_file, faults, probe_command} to FILE (atomically)",
    )
    parser.add_argument(
        "--duration",
        metavar="SECONDS",
        type=float,
        help="stop after SECONDS (default: run until Ctrl-C / SIGTERM)",
    )


def parse_listen(text: str) -> tuple[str, int]:
    """IP[:PORT] or [V6][:PORT] -> (ip, port); only loopback addresses are accepted."""
    from daserver_check.hostport import HostPortError
    from daserver_check.hostport import parse_listen as parse

    try:
        # The lab is a test endpoint with a throwaway CA and faults on purpose: never expose it.
        return parse(text, loopback_only=True, default_port=0)
    except HostPortError as exc:
        raise InputError(f"--listen {text}: {exc}") from None


def _list_faults() -> int:
    width = max(len(name) for name in FAULTS)
    for name, text in FAULTS.items():
        print(f"{name:<{width}}  {text}")
    sys.stdout.flush()
    return 0


def _write_state(path: str, state: dict[str, Any]) -> None:
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(state, fh, indent=2)
                fh.write("\n")
            # Readers poll for the file: they must never see it half written.
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise InputError(f"--state-file {path}: cannot write: {exc.strerror or exc}") from None


def run(args: argparse.Namespace) -> int:
    if args.list_faults or "list" in args.fault:
        return _list_faults()
    host, port = parse_listen(args.listen)
    if not 0 <= args.dns_listen <= 65535:
        raise InputError(f"--dns-listen {args.dns_listen}: port must be 0-65535")
    if args.duration is not None and not args.duration > 0:
        raise InputError(f"--duration {args.duration}: must be a positive number of seconds")

    from daserver_check.lab.server import LabConfig, LabEndpoint

    try:
        config = LabConfig(
            name=args.name,
            host=host,
            port=port,
            dns_port=args.dns_listen,
            faults=frozenset(args.fault),
        )
    except ValueError as exc:
        raise InputError(str(exc)) from None

    stopping = False

    def on_signal(signum: int, frame: FrameType | None) -> None:
        # Raise once, in the main thread, to leave the wait; a second Ctrl-C during the
        # shutdown is ignored so stop() can finish and the exit stays clean.
        nonlocal stopping
        if not stopping:
            stopping = True
            raise _Stop

    lab = LabEndpoint(config)
    previous: dict[int, Any] = {}
    try:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                previous[sig] = signal.signal(sig, on_signal)
        try:
            lab.start()
        except OSError as exc:
            raise InputError(f"cannot start the lab on {args.listen}: {exc.strerror or exc}") from None
        state = {
            "url": lab.url,
            "port": lab.port,
            "dns": lab.resolver,
            "ca_file": str(lab.ca_file),
            "faults": sorted(config.faults),
            "probe_command": lab.probe_command(),
            "name": config.name,
            "pid": os.getpid(),
        }
        if args.state_file:
            _write_state(args.state_file, state)
        _print_banner(lab, host)
        end = None if args.duration is None else time.monotonic() + args.duration
        while end is None or time.monotonic() < end:
            # A signal handler raising _Stop interrupts the sleep at once.
            time.sleep(3600.0 if end is None else max(0.0, min(3600.0, end - time.monotonic())))
    except _Stop:
        pass
    finally:
        stopping = True
        lab.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0


def _print_banner(lab: Any, host: str) -> None:
    config = lab.config
    faults = ", ".join(sorted(config.faults)) or "none"
    shown_host = f"[{host}]" if ":" in host else host
    command = shlex.join(lab.probe_command())
    print(
        f"daserver-check lab: emulated DirectAccess IP-HTTPS endpoint for {config.name}\n"
        f"  https  {shown_host}:{lab.port}   faults: {faults}\n"
        f"  dns    {lab.resolver}   ({config.name} {'AAAA' if ':' in host else 'A'} {host}; "
        "other names NXDOMAIN)\n"
        f"  CA     {lab.ca_file}\n"
        "Probe it with:\n"
        f"  {command}\n"
        "Stop with Ctrl-C.",
        flush=True,
    )
