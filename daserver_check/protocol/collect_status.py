"""`collect-status.txt`: what each step of the collect script did.

The script writes one line per step, `RESULT STEP FILE DETAIL…`, under a header line:

    daserver-check collect status 1
    ok export http.reg HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters
    absent export v6transition.reg HKLM\\SOFTWARE\\Policies\\Microsoft\\Windows\\Tcpip\\v6Transition
    denied export schannel.reg HKLM\\SYSTEM\\…\\SCHANNEL
    missing cmdlet ra-health.json Get-RemoteAccessHealth
    failed netsh urlacl.txt netsh http show urlacl

RESULT is `ok`, `absent` (the key does not exist: a fact), `denied` (access denied: nothing
is known), `missing` (the cmdlet does not exist on that Windows), or `failed`.

Sans-IO; errors raise `CollectStatusError` with the offset.
"""

from __future__ import annotations

from dataclasses import dataclass

from daserver_check.errors import DaserverCheckError

HEADER = "daserver-check collect status"
RESULTS = ("ok", "absent", "denied", "missing", "failed")
MAX_TEXT = 256 * 1024
MAX_LINES = 1000
MAX_FIELD = 1024


class CollectStatusError(DaserverCheckError, ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (offset {offset})")
        self.offset = offset


@dataclass(frozen=True, slots=True)
class StepStatus:
    result: str
    step: str
    file: str
    detail: str


def looks_like_status(text: str) -> bool:
    return text.lstrip("\ufeff \t\r\n").startswith(HEADER)


def parse_collect_status(text: str) -> tuple[StepStatus, ...]:
    if len(text) > MAX_TEXT:
        raise CollectStatusError(f"longer than {MAX_TEXT} characters", MAX_TEXT)
    if not looks_like_status(text):
        raise CollectStatusError(f"does not start with {HEADER!r}", 0)
    steps: list[StepStatus] = []
    offset = 0
    header_seen = False
    for line in text.splitlines(keepends=True):
        start = offset
        offset += len(line)
        stripped = line.strip().lstrip("\ufeff")
        if not stripped:
            continue
        if not header_seen:
            header_seen = True
            continue
        if len(steps) >= MAX_LINES:
            raise CollectStatusError(f"more than {MAX_LINES} steps", start)
        parts = stripped.split(None, 3)
        if len(parts) < 3 or parts[0].lower() not in RESULTS:
            raise CollectStatusError(f"not `RESULT STEP FILE DETAIL`: {stripped[:80]!r}", start)
        detail = parts[3] if len(parts) > 3 else ""
        steps.append(StepStatus(parts[0].lower(), parts[1][:MAX_FIELD], parts[2][:MAX_FIELD],
                                detail[:MAX_FIELD]))
    return tuple(steps)
