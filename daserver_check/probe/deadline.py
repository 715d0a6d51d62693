"""A monotonic deadline shared by the steps of one probe."""

from __future__ import annotations

import time


class Deadline:
    """`Deadline(5.0)` ends five seconds from now; `remaining()` never goes below zero."""

    __slots__ = ("_end",)

    def __init__(self, seconds: float) -> None:
        self._end = time.monotonic() + max(0.0, seconds)

    def remaining(self) -> float:
        return max(0.0, self._end - time.monotonic())

    @property
    def expired(self) -> bool:
        return self.remaining() <= 0.0

    def sub(self, seconds: float) -> Deadline:
        """A deadline that ends after `seconds` or at this one, whichever comes first."""
        return Deadline(min(seconds, self.remaining()))
