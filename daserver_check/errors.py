"""Errors that end a command before it can report: bad usage or unreadable input (exit 3)."""

from __future__ import annotations


class InputError(Exception):
    """One line for the user, e.g. `--ca-file /x.pem: no such file`. The CLI exits 3."""
