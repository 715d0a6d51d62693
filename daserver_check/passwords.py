"""PFX passwords from where an unattended run can take them: an environment variable or a file.

Never from argv. The bytes are passed on as they are (a password in a legacy code page is not
UTF-8), and no part of a password ever appears in a message. `option` names where the source
was given (`--password-env`, `profile cert.password_file`) for the one-line errors.
"""

from __future__ import annotations

import os

from daserver_check.errors import InputError
from daserver_check.files import FileReadError, read_bounded

MAX_PASSWORD_FILE = 64 * 1024


def password_from_env(name: str, option: str = "--password-env") -> bytes:
    """The variable's bytes as the environment holds them."""
    environb = getattr(os, "environb", None)  # POSIX; Windows keeps the environment as text
    if environb is not None:
        raw: bytes | None = environb.get(os.fsencode(name))
        if raw is None:
            raise InputError(f"{option} {name}: the variable is not set")
        return raw
    value = os.environ.get(name)
    if value is None:
        raise InputError(f"{option} {name}: the variable is not set")
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError:
        raise InputError(f"{option} {name}: the value is not valid Unicode") from None


def password_from_file(path: str, option: str = "--password-file") -> bytes:
    """The first line of a password file (bounded, regular files only)."""
    try:
        data = read_bounded(path, limit=MAX_PASSWORD_FILE)
    except FileReadError as exc:
        suffix = ", not a password file" if str(exc).startswith("larger") else ""
        raise InputError(f"{option} {path}: {exc}{suffix}") from None
    return decode_secret_file(data, option)


def decode_secret_file(data: bytes, option: str = "--password-file") -> bytes:
    """The first line of a password file. Windows PowerShell 5.1's Out-File writes UTF-16LE
    with a BOM, so UTF-16 is decoded to UTF-8; a UTF-8 BOM is dropped."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            data = data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            raise InputError(f"{option}: not readable UTF-16 text") from None
    data = data.removeprefix(b"\xef\xbb\xbf")
    return data.split(b"\n", 1)[0].removesuffix(b"\r")
