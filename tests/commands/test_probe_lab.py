"""The probe against the built-in lab: one test per lab fault, proving the contract's finding id,
status and predicted client error code. The lab runs in-process on loopback; DNS goes to the
lab's own responder via --resolver, never to the system resolver."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from daserver_check.cli import main
from daserver_check.lab.server import LabConfig, LabEndpoint


@pytest.fixture
def lab(request: pytest.FixtureRequest) -> Iterator[LabEndpoint]:
    faults = frozenset(getattr(request, "param", ()))
    with LabEndpoint(LabConfig(faults=faults)) as endpoint:
        yield endpoint


def probe(lab: LabEndpoint, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, Any]:
    args = ["probe", lab.url, "--resolver", lab.resolver, "--ca-file", str(lab.ca_file),
            "--profile", "lab", "--format", "json", *extra]
    code = main(args)
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    report["exit"] = code
    return report


def findings(report: dict[str, Any], fid: str) -> list[dict[str, Any]]:
    return [f for f in report["targets"][0]["findings"] if f["id"] == fid]


def one(report: dict[str, Any], fid: str) -> dict[str, Any]:
    (f,) = findings(report, fid)
    return f


def test_healthy_lab_passes(lab: LabEndpoint, capsys: pytest.CaptureFixture[str]) -> None:
    report = probe(lab, capsys)
    bad = [f"{f['id']}={f['status']}: {f['detail']}" for f in report["targets"][0]["findings"]
           if f["status"] not in ("pass", "skip")]
    assert bad == []
    assert report["exit"] == 0
    assert report["status"] == "pass"
    assert one(report, "dns.resolve")["evidence"]["addresses"] == ["127.0.0.1"]
    assert one(report, "tls.null-cipher")["status"] == "pass"
    assert one(report, "iphttps.post")["status"] == "pass"
    assert one(report, "iphttps.server")["evidence"]["server"] == "Microsoft-HTTPAPI/2.0"
    # Findings of the tcp, tls, cert and iphttps stages carry the probed address.
    for f in report["targets"][0]["findings"]:
        if f["stage"] in ("tcp", "tls", "cert", "iphttps"):
            assert f["address"] == "127.0.0.1"


FAULT_CASES = [
    ("wrong-name", "cert.subject-name", "fail", ["0x103"]),
    ("san-mismatch", "cert.san", "fail", ["0x103"]),
    ("subject-extra", "cert.subject-extra", "fail", ["0x103"]),
    ("no-eku", "cert.eku", "fail", ["0x103"]),
    ("expired", "cert.validity", "fail", ["0x800B0101"]),
    ("self-signed", "cert.trust", "warn", ["0x800B0109"]),
    ("no-null", "tls.null-cipher", "warn", []),
    ("null-only", "tls.handshake", "warn", []),
    ("not-iphttps", "iphttps.post", "fail", ["0x2AFC", "0x2AF9"]),
    ("not-httpsys", "iphttps.server", "warn", ["0x2AFC", "0x2AF9"]),
    ("disabled", "iphttps.post", "fail", ["0x2AFC", "0x2AF9"]),
    ("client-cert", "tls.client-cert", "fail", ["0x90320"]),
]


@pytest.mark.parametrize(
    ("lab", "fid", "status", "predicts"),
    [pytest.param((fault,), fid, status, predicts, id=fault)
     for fault, fid, status, predicts in FAULT_CASES],
    indirect=["lab"],
)
def test_lab_fault(
    lab: LabEndpoint, capsys: pytest.CaptureFixture[str], fid: str, status: str,
    predicts: list[str],
) -> None:
    report = probe(lab, capsys)
    finding = one(report, fid)
    assert finding["status"] == status, finding
    assert finding["predicts"] == predicts
    assert finding["remediation"]
    expected_exit = {"fail": 2, "warn": 1}[status]
    assert report["exit"] >= expected_exit


@pytest.mark.parametrize("lab", [("null-only",)], indirect=True)
def test_null_only_fails_for_windows7(lab: LabEndpoint, capsys: pytest.CaptureFixture[str]) -> None:
    report = probe(lab, capsys, "--profile", "windows7")
    # The windows7 profile does not allow loopback, so DNS also fails; the TLS verdict matters.
    finding = one(report, "tls.handshake")
    assert finding["status"] == "fail"
    assert finding["predicts"] == ["0x2AFC", "0x2AF9"]


@pytest.mark.parametrize("lab", [("hang",)], indirect=True)
def test_hanging_server_fails_within_timeout(
    lab: LabEndpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    report = probe(lab, capsys, "--timeout", "1")
    handshake = one(report, "tls.handshake")
    assert handshake["status"] == "fail"
    assert handshake["evidence"]["encrypted"]["outcome"] == "timed-out"
    assert report["exit"] == 2
    # Generous bound: the deadline is 1 s for the whole probe.
    assert report["duration_ms"] < 5000


@pytest.mark.parametrize("lab", [("wrong-name",)], indirect=True)
def test_text_report_names_code_and_fix(
    lab: LabEndpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["probe", lab.url, "--resolver", lab.resolver, "--ca-file", str(lab.ca_file),
                 "--profile", "lab"])
    out = capsys.readouterr().out
    assert code == 2
    first = out.splitlines()[0]
    assert first.startswith("CRITICAL")
    assert "0x103" in out
    assert "fix:" in out


def test_unknown_name_is_nxdomain(lab: LabEndpoint, capsys: pytest.CaptureFixture[str]) -> None:
    url = lab.url.replace("da.lab.test", "nosuch.lab.test")
    code = main(["probe", url, "--resolver", lab.resolver, "--profile", "lab", "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    resolve = one(report, "dns.resolve")
    assert resolve["status"] == "fail"
    assert resolve["predicts"] == ["0x2AF9"]
    assert code == 2
    assert all(f["status"] == "skip" for f in report["targets"][0]["findings"]
               if f["stage"] in ("tcp", "tls", "cert", "iphttps"))


@pytest.mark.parametrize("fmt", ["text", "json", "junit", "prometheus", "nagios", "markdown"])
def test_every_format_renders(lab: LabEndpoint, capsys: pytest.CaptureFixture[str], fmt: str) -> None:
    code = main(["probe", lab.url, "--resolver", lab.resolver, "--ca-file", str(lab.ca_file),
                 "--profile", "lab", "--format", fmt])
    assert code == 0
    assert capsys.readouterr().out.strip()
