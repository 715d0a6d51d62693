"""Every import points down a floor (docs/architecture.md), and the checker itself can fail.

Floors, lowest first. A module may import from a lower floor, from its own package, and on the
ground floor from its neighbours; never from a higher floor, and above the ground floor never
sideways into another package (so probe/ and certs/ stay apart and meet only in pipeline/).
Lazy imports inside functions count too: they are imports all the same.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Iterator
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "daserver_check"

FLOORS: dict[str, int] = {
    # 0: the ground floor: pure values, the registry, parsers of untrusted bytes
    "__init__": 0, "errors": 0, "findings": 0, "model": 0, "codes": 0, "hostport": 0,
    "files": 0, "protocol": 0, "target": 0, "profile": 0, "clients": 0, "passwords": 0,
    # 1: I/O stages, analysis, server artifacts, report formats, the lab
    "probe": 1, "certs": 1, "server": 1, "report": 1, "lab": 1, "baseline": 1,
    # 2: checks turn stage results into findings
    "checks": 2,
    # 3: orchestration shared by commands, checklist and exporter
    "pipeline": 3,
    # 4: the exporter server and the output writer
    "exporter": 4, "output": 4,
    # 5: one module per subcommand
    "commands": 5,
    # 6: argument parsing; 7: the process entry point
    "cli": 6, "__main__": 7,
}


def unit_of(module: str) -> str:
    """`daserver_check.probe.tls` -> `probe`; `daserver_check.model` -> `model`."""
    parts = module.split(".")
    if len(parts) == 1 or parts[1] == "__version__":
        return "__init__"
    return parts[1]


def imports_of(path: Path) -> Iterator[str]:
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "daserver_check":
                yield from (f"daserver_check.{alias.name}" for alias in node.names)
            elif node.module.startswith("daserver_check."):
                yield node.module
        elif isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith("daserver_check."))


def violations(edges: Iterable[tuple[str, str]]) -> list[str]:
    """(importing module, imported module) pairs that break the floor rule, as messages."""
    found = []
    for source, target in edges:
        src, tgt = unit_of(source), unit_of(target)
        if src == tgt:
            continue
        if src not in FLOORS or tgt not in FLOORS:
            found.append(f"{source} -> {target}: {src if src not in FLOORS else tgt} has no floor")
            continue
        up = FLOORS[tgt] > FLOORS[src]
        sideways = FLOORS[tgt] == FLOORS[src] and FLOORS[src] > 0
        if up or sideways:
            found.append(f"{source} (floor {FLOORS[src]}) imports {target} "
                         f"(floor {FLOORS[tgt]}): {'up' if up else 'sideways'}")
    return found


def package_edges() -> list[tuple[str, str]]:
    edges = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        edges.extend((module, target) for target in imports_of(path))
    return edges


def test_every_import_points_down() -> None:
    assert violations(package_edges()) == []


@pytest.mark.parametrize(("edge", "why"), [
    (("daserver_check.probe.tls", "daserver_check.certs.analysis"), "sideways"),
    (("daserver_check.model", "daserver_check.report"), "up"),
    (("daserver_check.pipeline.engine", "daserver_check.commands.probe"), "up"),
    (("daserver_check.exporter.server", "daserver_check.cli"), "up"),
    (("daserver_check.newthing", "daserver_check.model"), "has no floor"),
])
def test_the_checker_catches_a_bad_import(edge: tuple[str, str], why: str) -> None:
    # The rule must be able to fail: each of these would be a layering bug.
    found = violations([edge])
    assert len(found) == 1 and why in found[0]


def test_every_unit_has_a_floor() -> None:
    units = {unit_of(".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts))
             for p in PACKAGE.rglob("*.py")}
    assert units <= set(FLOORS), units - set(FLOORS)


def long_modules_without_reason(limit: int = 400) -> list[str]:
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if text.count("\n") > limit:
            doc = ast.get_docstring(ast.parse(text)) or ""
            if "400 lines" not in doc:
                found.append(f"{path.relative_to(PACKAGE)}: {text.count(chr(10))} lines")
    return found


def test_long_modules_say_why_at_their_top() -> None:
    # A module over ~400 lines says at its top why it stays one module ("Over 400 lines because").
    assert long_modules_without_reason() == []
    assert long_modules_without_reason(limit=50), "the rule can fail: short limit finds some"
