"""Reading a user's input file: only regular files, bounded, and every failure one short reason.

Every file the tool reads (certificates, CA bundles, password files, profiles, baselines,
server bundle members, explain input) goes through `open_regular` / `read_bounded`:
- the path is opened with O_NONBLOCK, so opening a named pipe never waits for a writer;
- the *opened descriptor* is checked with fstat, so a symbolic link to /dev/zero or to a FIFO
  is judged by what it points to, and nothing can be swapped in between check and read;
- anything but a regular file (a FIFO, a device, a socket, a folder) is refused at once;
- the read stops at the cap plus one byte, whatever the file claims its size is.
"""

from __future__ import annotations

import os
import stat

from daserver_check.errors import DaserverCheckError

MAX_INPUT_BYTES = 10 * 1024 * 1024

# O_NONBLOCK: a FIFO opens without a writer instead of blocking (POSIX open(), "O_NONBLOCK");
# O_NOCTTY: a terminal device never becomes the controlling terminal. Both are 0 on Windows.
_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


class FileReadError(DaserverCheckError, ValueError):
    """`reason` is the end of a one-line message: "no such file", "is a directory", …"""


def _size(limit: int) -> str:
    if limit >= 1024 * 1024 and limit % (1024 * 1024) == 0:
        return f"{limit // (1024 * 1024)} MB"
    if limit >= 1024 and limit % 1024 == 0:
        return f"{limit // 1024} KB"
    return f"{limit} bytes"


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a special file"


def open_regular(path: str) -> tuple[int, os.stat_result]:
    """An open descriptor on the regular file `path` (links followed) and its fstat.

    The caller closes the descriptor. Raises FileReadError for anything else, without reading.
    """
    try:
        fd = os.open(path, _FLAGS)
    except FileNotFoundError:
        raise FileReadError("no such file") from None
    except IsADirectoryError:
        raise FileReadError("is a directory") from None
    except OSError as exc:
        if os.path.isdir(path):  # Windows refuses to open a folder with "permission denied"
            raise FileReadError("is a directory") from None
        raise FileReadError(f"cannot be read: {exc.strerror or exc}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileReadError("is a directory")
        if not stat.S_ISREG(info.st_mode):
            raise FileReadError(f"is {_kind(info.st_mode)}, not a regular file; refused")
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def read_bounded(path: str, *, limit: int = MAX_INPUT_BYTES) -> bytes:
    """The whole of the regular file `path`, at most `limit` bytes (FileReadError beyond)."""
    too_big = f"larger than {_size(limit)}"
    fd, info = open_regular(path)
    try:
        if info.st_size > limit:
            raise FileReadError(too_big)
        chunks: list[bytes] = []
        left = limit + 1  # one byte more than allowed tells "too big" from "exactly the cap"
        while left > 0:
            chunk = os.read(fd, min(left, 1024 * 1024))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise FileReadError(f"cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > limit:
        raise FileReadError(too_big)
    return data


def read_head(path: str, size: int) -> tuple[bytes, os.stat_result]:
    """The first `size` bytes of the regular file `path`, and its fstat (to sniff a format
    before deciding how much of it to read)."""
    fd, info = open_regular(path)
    try:
        return os.read(fd, size), info
    except OSError as exc:
        raise FileReadError(f"cannot be read: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
