"""Where a report goes: standard output, or a file written safely (`--format` / `--output`).

A report file is replaced atomically (a temporary file in the same folder, then rename) so a
reader such as the node_exporter textfile collector never sees half a file. What is at the
target decides what happens:
- nothing: a new file, with the mode the umask gives (0644 under umask 022), so a collector
  running as another user can read it;
- a regular file: replaced, keeping its mode (and its owner where this process may set it);
- a symbolic link, a device, a named pipe, a socket or a directory: refused, and left as it is.
  Renaming over a device node as root would replace `/dev/null` with a regular file; writing
  through a link would let whoever controls the link choose the file that gets overwritten.
`-` means standard output. A closed standard output (`>&-`) is an input error, not a crash.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import stat
import sys
from pathlib import Path

from daserver_check.errors import InputError
from daserver_check.report import OutputFormat

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(
    os, "O_BINARY", 0
)


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
        help="write the report to FILE (a new or regular file, replaced atomically) instead of "
        "standard output; - is standard output",
    )


def write_output(text: str, output: str | None, *, force: bool = True) -> None:
    """Write `text` to standard output (`output` None, "" or "-") or to the file `output`.

    `force=False` refuses to replace an existing file (collect-script, like `profile init`).
    Raises InputError with one line for the user; never leaves a temporary file behind.
    """
    if not output or output == "-":
        write_stdout(text)
        return
    replaced = _existing_regular_file(output)
    if replaced is not None and not force:
        raise InputError(f"--output {output}: exists already (not overwritten; add --force)")
    path = Path(output)
    directory = path.parent
    tmp = directory / f".{path.name}.{secrets.token_hex(6)}.tmp"
    try:
        # O_EXCL with mode 0666: the kernel applies the umask, as for any file a tool creates.
        fd = os.open(tmp, _FLAGS, 0o666)
    except OSError as exc:
        raise InputError(f"--output {output}: cannot write: {exc.strerror or exc}") from None
    try:
        try:
            if replaced is not None:
                _keep_mode_and_owner(fd, replaced)
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
                fh.flush()
                os.fsync(fh.fileno())
            # Checked again just before the rename: the window in which something else can
            # appear at the target is as short as this process can make it.
            _existing_regular_file(output)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise InputError(f"--output {output}: cannot write: {exc.strerror or exc}") from None


# What a Windows console code page (cp1252, cp437, cp932, ...) may lack, written the way a
# reader still understands it; anything else it cannot show becomes a `\\uXXXX` escape.
_FALLBACK = str.maketrans({
    "\u2014": "-", "\u2013": "-", "\u2026": "...", "\u2192": "->", "\u2190": "<-",
    "\u203a": ">", "\u2039": "<", "\u00d7": "x", "\u2265": ">=", "\u2264": "<=",
    "\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'", "\u2022": "*",
    "\u2705": "[ok]", "\u26a0": "[!]", "\u274c": "[x]", "\u2753": "[?]", "\u23ed": "[-]",
    "\ufe0f": "",
})


def for_stream(text: str, encoding: str | None) -> str:
    """`text` as the stream's encoding can show it: unchanged when it can, else with typographic
    characters spelled in ASCII and the rest as visible escapes. Never raises."""
    encoding = encoding or "utf-8"
    try:
        text.encode(encoding)
        return text
    except (UnicodeEncodeError, LookupError):
        pass
    text = text.translate(_FALLBACK)
    try:
        return text.encode(encoding, "backslashreplace").decode(encoding, "replace")
    except LookupError:
        return text.encode("ascii", "backslashreplace").decode("ascii")


def write_stdout(text: str) -> None:
    """The report on standard output; a closed one is one line on stderr (exit 3)."""
    stream = sys.stdout
    if stream is None:  # started with `>&-`: Python leaves sys.stdout as None
        raise InputError("standard output is closed; give --output FILE")
    try:
        text = for_stream(text, getattr(stream, "encoding", None))
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        raise  # the reader went away (`| head`): the CLI ends quietly
    except OSError as exc:  # EBADF when the descriptor was closed after start-up
        raise InputError(f"cannot write to standard output: {exc.strerror or exc}") from None
    except (AttributeError, ValueError):  # a stream replaced by None-like or closed object
        raise InputError("standard output is closed; give --output FILE") from None


def write_stdout_bytes(data: bytes) -> None:
    """Bytes on standard output (no newline translation); a closed one is an input error."""
    stream = sys.stdout
    try:
        buffer = stream.buffer
    except AttributeError:  # None (`>&-`), or a text-only replacement
        raise InputError("standard output is closed; give --output FILE") from None
    try:
        buffer.write(data)
        buffer.flush()
    except BrokenPipeError:
        raise
    except OSError as exc:
        raise InputError(f"cannot write to standard output: {exc.strerror or exc}") from None
    except ValueError:  # closed
        raise InputError("standard output is closed; give --output FILE") from None


def _existing_regular_file(output: str) -> os.stat_result | None:
    """The stat of a regular file at `output`, None when nothing is there; InputError for
    anything else (looked at without following a link)."""
    try:
        info = os.lstat(output)
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"--output {output}: cannot write: {exc.strerror or exc}") from None
    mode = info.st_mode
    if stat.S_ISREG(mode):
        return info
    what = _kind(mode)
    raise InputError(
        f"--output {output}: is {what}, not a regular file; refused and left untouched "
        "(give a new path or a regular file)"
    )


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def _keep_mode_and_owner(fd: int, old: os.stat_result) -> None:
    """The replacement keeps the replaced file's permissions: a report an admin made readable
    to a collector stays readable after the next run."""
    if hasattr(os, "fchown"):
        # Only root may give a file away; anyone else keeps their own ownership.
        with contextlib.suppress(OSError):
            os.fchown(fd, old.st_uid, old.st_gid)
    if hasattr(os, "fchmod"):
        os.fchmod(fd, stat.S_IMODE(old.st_mode))
