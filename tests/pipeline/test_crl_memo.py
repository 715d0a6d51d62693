"""A probe checks the CRLs of a served chain once, however many addresses serve it."""

from __future__ import annotations

import threading

from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status
from daserver_check.pipeline.engine import CrlMemo
from tests.certs.pki import intermediate, make_leaf, root


def test_one_check_per_chain_each_address_labelled() -> None:
    memo = CrlMemo()
    calls: list[int] = []
    chain = [make_leaf(intermediate()).cert, intermediate().cert]

    def compute() -> Finding:
        calls.append(1)
        return Finding(FindingId.CERT_CRL, Status.PASS, "ok")

    results: list[Finding] = []
    threads = [threading.Thread(target=lambda a=a: results.append(memo.get(chain, a, compute)))
               for a in ("192.0.2.1", "192.0.2.2", "2001:db8::1")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(calls) == 1
    assert sorted(f.address or "" for f in results) == ["192.0.2.1", "192.0.2.2", "2001:db8::1"]
    other = memo.get([root().cert], "192.0.2.1", compute)  # another chain: its own check
    assert len(calls) == 2 and other.address == "192.0.2.1"
