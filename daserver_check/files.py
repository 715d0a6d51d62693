"""Reading a user's input file: bounded, and every failure one short reason.

Certificates, CA bundles and CRL files are small; a 10 MB cap keeps a wrong path (a disk image,
/dev/zero, a named pipe) from exhausting memory.
"""

from __future__ import annotations

import os
import stat

from daserver_check.errors import DaserverCheckError

MAX_INPUT_BYTES = 10 * 1024 * 1024


class FileReadError(DaserverCheckError, ValueError):
    """`reason` is the end of a one-line message: "no such file", "is a directory", …"""


def read_bounded(path: str, *, limit: int = MAX_INPUT_BYTES) -> bytes:
    try:
        info = os.stat(path)
    except FileNotFoundError:
        raise FileReadError("no such file") from None
    except OSError as exc:
        raise FileReadError(f"cannot be read: {exc.strerror or exc}") from None
    too_big = f"larger than {limit // (1024 * 1024)} MB"
    if stat.S_ISDIR(info.st_mode):
        raise FileReadError("is a directory")
    if stat.S_ISREG(info.st_mode) and info.st_size > limit:
        raise FileReadError(too_big)
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)  # bounded even for pipes and devices
    except OSError as exc:
        raise FileReadError(f"cannot be read: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise FileReadError(too_big)
    return data
