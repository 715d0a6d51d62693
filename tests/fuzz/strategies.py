"""Shared pieces of the fuzz tests: the seed corpus, a mutation strategy, and settings.

In CI every fuzz test runs a modest number of examples. `make fuzz` (scripts/fuzz.py) sets
DASERVER_FUZZ_EXAMPLES to run each of them far longer.
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

CORPUS = Path(__file__).resolve().parent / "corpus"


def examples(ci: int) -> int:
    raw = os.environ.get("DASERVER_FUZZ_EXAMPLES", "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else ci


def fuzz_settings(ci: int) -> settings:
    """`ci` examples in CI, DASERVER_FUZZ_EXAMPLES under `make fuzz`; no per-example deadline
    (a loaded CI machine is no bug); generated inputs may be large."""
    return settings(
        max_examples=examples(ci),
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.filter_too_much],
    )


@cache
def seeds(target: str, suffix: str = "") -> tuple[bytes, ...]:
    """The seeds of `target` (only the files named *`suffix` when given)."""
    folder = CORPUS / target
    found = tuple(p.read_bytes() for p in sorted(folder.iterdir())
                  if p.is_file() and p.name.endswith(suffix))
    assert found, f"no seeds in {folder}"
    return found


def seed(target: str, name: str) -> bytes:
    return (CORPUS / target / name).read_bytes()


@st.composite
def mutated(draw: st.DrawFn, target: str, max_ops: int = 6, suffix: str = "") -> bytes:
    """A seed of `target` with a few byte-level edits (shrinks towards the seed itself)."""
    pool = seeds(target, suffix)
    data = bytearray(draw(st.sampled_from(pool)))
    for _ in range(draw(st.integers(0, max_ops))):
        op = draw(st.integers(0, 6))
        at = draw(st.integers(0, len(data)))
        if op == 0 and data:  # overwrite one byte
            data[min(at, len(data) - 1)] = draw(st.integers(0, 255))
        elif op == 1:  # truncate
            del data[at:]
        elif op == 2:  # insert bytes
            data[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == 3:  # delete a run
            del data[at : at + draw(st.integers(1, 64))]
        elif op == 4:  # duplicate a run
            run = data[at : at + draw(st.integers(1, 256))]
            data[at:at] = run
        elif op == 5 and data:  # an interesting value: 0x00, 0x7f, 0x80, 0xff
            data[min(at, len(data) - 1)] = draw(st.sampled_from((0x00, 0x7F, 0x80, 0xFF)))
        elif op == 6:  # splice in part of another seed
            other = draw(st.sampled_from(pool))
            start = draw(st.integers(0, len(other)))
            data[at:at] = other[start : start + draw(st.integers(1, 512))]
    return bytes(data)


def inputs(target: str, max_random: int = 512) -> st.SearchStrategy[bytes]:
    """Mostly mutated seeds, some plain random bytes."""
    return st.one_of(mutated(target), st.binary(max_size=max_random))
