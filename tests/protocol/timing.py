"""A linear-work check without clocks: count the function calls (Python and C) a parse makes.

Parsing 8x the input must make about 8x the calls; a parser that rescans what it has already
read shows a ratio near 64. Counting calls is deterministic, so the check does not depend on
the machine's load (the project's tests make no timing assertions; `make bench` measures time).
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any


def count_calls(fn: Callable[[], object]) -> int:
    calls = 0

    def profiler(frame: FrameType, event: str, arg: Any) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(profiler)
    try:
        fn()
    finally:
        sys.setprofile(None)
    return calls


def assert_linear(parse: Callable[[bytes], object], make: Callable[[int], bytes],
                  small: int = 20_000, factor: int = 8) -> None:
    """A quadratic parser gives a ratio near factor², a linear one near factor."""

    def run(data: bytes) -> None:
        with contextlib.suppress(ValueError):
            parse(data)

    a = make(small)
    b = make(small * factor)
    calls_small = count_calls(lambda: run(a))
    calls_big = count_calls(lambda: run(b))
    assert calls_big <= max(calls_small, 100) * factor * 2, (calls_small, calls_big)
