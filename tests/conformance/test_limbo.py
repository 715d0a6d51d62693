"""The x509-limbo-modelled conformance set: names, name constraints and multiple paths.

Each case is built by tests/conformance/limbo_pki.py and judged by the real analysis
(`certs.analysis.analyse_chain`) against its own trust store. The DirectAccess verdict is
"accepted" when no name, EKU, validity or trust finding fails and cert.trust passes. Every case
asserts this project's verdict; where it differs from limbo's, the case says why, and the
agreement count is the one docs/conformance.md prints.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest

from daserver_check.certs.analysis import analyse_chain
from daserver_check.certs.trust import TrustStore
from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status
from tests.conformance.cases import CASES
from tests.conformance.limbo_pki import NOW, Case

DOC = Path(__file__).resolve().parents[2] / "docs" / "conformance.md"

# The findings a DirectAccess client's verdict depends on (names, usage, dates, path).
VERDICT_IDS = (
    FindingId.CERT_SUBJECT_NAME,
    FindingId.CERT_SUBJECT_EXTRA,
    FindingId.CERT_SAN,
    FindingId.CERT_EKU,
    FindingId.CERT_VALIDITY,
    FindingId.CERT_TRUST,
)


@functools.cache
def built() -> tuple[Case, ...]:
    return tuple(make() for make in CASES)


def judge(case: Case) -> tuple[bool, dict[FindingId, Finding]]:
    trust = TrustStore(tuple(case.roots), "limbo case roots")
    found = analyse_chain([case.leaf, *case.served], case.host, trust=trust, now=NOW)
    by_id = {f.id: f for f in found}
    accepted = by_id[FindingId.CERT_TRUST].status is Status.PASS and all(
        by_id[fid].status not in (Status.FAIL, Status.ERROR) for fid in VERDICT_IDS
    )
    return accepted, by_id


def _ids() -> list[str]:
    return [case.limbo_id for case in built()]


@pytest.mark.parametrize("case", built(), ids=_ids())
def test_limbo_case(case: Case) -> None:
    accepted, by_id = judge(case)
    shown = {str(fid): (f.status.value, f.title) for fid, f in by_id.items() if fid in VERDICT_IDS}
    assert accepted is case.ours_accepts, shown
    if case.trust is not None:
        assert by_id[FindingId.CERT_TRUST].status.value == case.trust, shown
    # A documented reason exactly where DirectAccess and limbo part ways.
    assert bool(case.why) is (case.ours_accepts is not case.limbo_accepts)


def test_ids_are_unique_and_limbo_shaped() -> None:
    ids = _ids()
    assert len(ids) == len(set(ids))
    assert all(re.fullmatch(r"[a-z0-9-]+(::[a-z0-9-]+)+", i) for i in ids)


def test_documented_agreement_count_matches() -> None:
    cases = built()
    agree = sum(case.ours_accepts is case.limbo_accepts for case in cases)
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"agrees with x509-limbo on \*\*(\d+) of (\d+)\*\* cases", text)
    assert match, "docs/conformance.md must state the agreement count"
    assert (int(match.group(1)), int(match.group(2))) == (agree, len(cases))
    for case in cases:  # every differing case is listed in the document with its id
        if case.ours_accepts is not case.limbo_accepts:
            assert f"`{case.limbo_id}`" in text, case.limbo_id


def test_name_constraint_failure_names_the_constraint_and_the_ca() -> None:
    case = next(c for c in built() if c.limbo_id == "rfc5280::nc::excluded-dns-match")
    _, by_id = judge(case)
    trust = by_id[FindingId.CERT_TRUST]
    assert trust.predicts == (0x800B0114,)
    assert "CN=x509-limbo-nc-ica" in trust.title
    assert "excluded dNSName 'example.com'" in trust.detail
