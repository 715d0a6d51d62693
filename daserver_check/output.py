"""Where a report goes: the shared --format/--output options and the one writer.

Used by `cli` and by the commands that write something besides a report (explain's text,
collect-script's script).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from daserver_check.errors import InputError
from daserver_check.report import OutputFormat


def add_output_options(parser: argparse.ArgumentParser) -> None:
    """--format/--output, shared by every command that reports."""
    parser.add_argument(
        "--format",
        type=OutputFormat,
        choices=list(OutputFormat),
        default=OutputFormat.TEXT,
        metavar="FMT",
        help="output format: " + ", ".join(f.value for f in OutputFormat) + " (default: text)",
    )
    parser.add_argument(
        "--output",
        metavar="FILE",
        help="write the report to FILE (atomically) instead of standard output",
    )


def write_output(text: str, output: str | None) -> None:
    if not output:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    path = Path(output)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise InputError(f"--output {output}: cannot write: {exc.strerror or exc}") from None
