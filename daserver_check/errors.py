"""The tool's exception root and the errors that end a command before it can report.

Every error a user may see derives from `DaserverCheckError`; `cli.main` catches it once and
prints one line (exit 3). Parser errors of untrusted input derive from it too (and from
`ValueError`, which callers of the parsers have always caught). Anything else that escapes is a
bug: one "internal error" line, the traceback only with --debug.
"""

from __future__ import annotations


class DaserverCheckError(Exception):
    """Root of the errors the tool reports as one line."""


class InputError(DaserverCheckError):
    """Bad usage or unreadable input, e.g. `--ca-file /x.pem: no such file`. The CLI exits 3."""
