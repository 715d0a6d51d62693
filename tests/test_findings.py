"""The finding registry is complete and true: every id has one entry, its named module makes it,
its codes are catalogued, and the README's table is the registry's.

`makers_missing` is the rule; `test_a_spec_without_a_maker_is_caught` shows it can fail.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
from collections.abc import Iterable
from pathlib import Path

import pytest

from daserver_check.codes import CATALOGUE
from daserver_check.findings import REGISTRY, STAGE_IDS, FindingId, FindingSpec, markdown_table
from daserver_check.model import Finding, Status

README = Path(__file__).resolve().parent.parent / "README.md"


def ids_named_in(module_name: str) -> set[str]:
    """The `FindingId.X` members a module names (attribute access in its source)."""
    module = importlib.import_module(module_name)
    tree = ast.parse(inspect.getsource(module))
    return {
        node.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in ("FindingId", "F")
    }


def makers_missing(specs: Iterable[FindingSpec]) -> list[str]:
    problems = []
    for spec in specs:
        try:
            named = ids_named_in(spec.maker)
        except ImportError as exc:
            problems.append(f"{spec.id}: maker {spec.maker} does not import: {exc}")
            continue
        if spec.id.name not in named:
            problems.append(f"{spec.id}: {spec.maker} does not make it")
    return problems


def test_every_id_has_exactly_one_spec() -> None:
    assert set(REGISTRY) == set(FindingId)
    for fid, spec in REGISTRY.items():
        assert spec.id is fid
        assert spec.title and spec.fails_when and spec.commands


def test_every_named_module_makes_its_ids() -> None:
    assert makers_missing(REGISTRY.values()) == []


def test_a_spec_without_a_maker_is_caught() -> None:
    # The check must be able to fail: a module that exists but never makes the id, and one
    # that does not exist.
    spec = REGISTRY[FindingId.CERT_SAN]
    wrong_module = dataclasses.replace(spec, maker="daserver_check.checks.tcp")
    no_module = dataclasses.replace(spec, maker="daserver_check.no_such_module")
    assert len(makers_missing([wrong_module, no_module])) == 2


def test_predicted_codes_are_catalogued() -> None:
    for spec in REGISTRY.values():
        for code in spec.predicts:
            assert code in CATALOGUE, f"{spec.id} predicts {code:#x}, not in codes.py"


def test_catalogued_causes_name_registered_findings() -> None:
    for entry in CATALOGUE.values():
        for cause in entry.causes:
            assert cause.checks, f"{entry.hex}: {cause.text} names no check"
            for check in cause.checks:
                assert isinstance(check, FindingId) and check in REGISTRY


def test_stage_lists_hold_ids_of_that_stage() -> None:
    for stage, ids in STAGE_IDS.items():
        assert all(REGISTRY[i].stage == stage for i in ids)


def test_a_finding_with_an_unregistered_id_is_refused() -> None:
    with pytest.raises(ValueError):
        Finding("cert.subject-nmae", Status.PASS, "typo")  # type: ignore[arg-type]
    assert Finding("cert.san", Status.PASS, "t").id is FindingId.CERT_SAN  # type: ignore[arg-type]


def test_readme_table_is_the_registry() -> None:
    text = README.read_text(encoding="utf-8")
    assert markdown_table() in text, "run `make tables`"


def test_architecture_map_is_the_registry() -> None:
    from daserver_check.findings import makers_table

    text = (README.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    assert makers_table() in text, "run `make tables`"


def test_every_catalogued_cause_names_its_basis() -> None:
    import re

    named = re.compile(r"KB \d{6,7}|Learn|winerror\.h|Hicks|Shinder|nmap|\[MS-")
    for entry in CATALOGUE.values():
        for cause in entry.causes:
            assert cause.source.strip(), f"{entry.hex}: {cause.text} has no source"
            assert named.search(cause.source) or cause.inferred, (
                f"{entry.hex}: {cause.text}: source {cause.source!r} is neither a KB number, a "
                "Learn title nor a named author: mark it inferred")
            if "infer" in cause.source.lower():
                assert cause.inferred, f"{entry.hex}: {cause.text}: says inferred, flag it"


def test_a_cause_without_basis_is_caught() -> None:
    from daserver_check.codes import Cause

    bad = Cause("x", (FindingId.CERT_SAN,), "")
    assert not bad.source.strip()  # the rule above rejects it
    assert Cause("x", (FindingId.CERT_SAN,), "somebody", inferred=True).basis.endswith("(inferred)")
