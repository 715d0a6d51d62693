"""A coarse linear-time check: parsing 8× the input must not take much more than 8× as long."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable


def _best(fn: Callable[[], object], runs: int = 3) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def assert_linear(parse: Callable[[bytes], object], make: Callable[[int], bytes],
                  small: int = 20_000, factor: int = 8) -> None:
    """A quadratic parser gives a ratio near factor², a linear one near factor."""

    def run(data: bytes) -> None:
        with contextlib.suppress(ValueError):
            parse(data)

    a = make(small)
    b = make(small * factor)
    t_small = _best(lambda: run(a))
    t_big = _best(lambda: run(b))
    assert t_big <= max(t_small, 0.002) * factor * 3, (t_small, t_big)
