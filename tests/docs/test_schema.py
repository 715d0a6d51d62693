"""docs/schema/daserver-check-1.json describes the real `--format json` output of every command.

Each command runs for real: `probe` against the in-process lab on loopback (with `--connect`, so
no DNS query leaves the machine), `cert` on a certificate of the lab's PKI, `server` on a
collected bundle, `explain` on a code and on netsh output, `checklist` on a profile with a URL, a
certificate file and a server bundle, and `trace` to the lab when raw sockets are available. The
schema must accept every report and reject documents that break the contract.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from daserver_check.cli import main
from daserver_check.findings import Command, FindingId
from daserver_check.lab.pki import build_pki
from daserver_check.lab.server import LabConfig, LabEndpoint
from tests.conftest import require_root

ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = ROOT / "docs" / "schema" / "daserver-check-1.json"
FIXTURES = ROOT / "tests" / "fixtures" / "server"
BUNDLE = FIXTURES / "kb2980660"
NETSH_2AFC = FIXTURES / "netsh" / "httpstunnel-client-2afc.txt"


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)  # the schema itself is valid draft 2020-12
    return Draft202012Validator(schema)


@pytest.fixture(scope="module")
def healthy_lab() -> Iterator[LabEndpoint]:
    with LabEndpoint(LabConfig()) as lab:
        yield lab


@pytest.fixture(scope="module")
def broken_lab() -> Iterator[LabEndpoint]:
    # A wrong name and no null suites: fail and warn findings with predicted codes and addresses.
    with LabEndpoint(LabConfig(faults=frozenset({"wrong-name", "no-null"}))) as lab:
        yield lab


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main([*args, "--format", "json"])
    out = capsys.readouterr().out
    document: dict[str, Any] = json.loads(out)
    return code, document


def probe_args(lab: LabEndpoint) -> list[str]:
    return ["probe", lab.url, "--connect", f"127.0.0.1:{lab.port}", "--ca-file", str(lab.ca_file),
            "--profile", "lab"]


def assert_valid(validator: Draft202012Validator, document: dict[str, Any], command: str) -> None:
    errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    assert errors == [], "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)
    assert document["command"] == command
    assert document["targets"], "a report without targets proves nothing about findings"
    for target in document["targets"]:
        assert target["findings"]
        for finding in target["findings"]:
            # What the schema cannot say: the stage is the id's prefix, and the id is registered.
            assert finding["stage"] == finding["id"].split(".", 1)[0]
            assert FindingId(finding["id"])


# -- one real run per command -------------------------------------------------------------------


def test_probe_healthy_and_broken(validator: Draft202012Validator, healthy_lab: LabEndpoint,
                                  broken_lab: LabEndpoint,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run_json(capsys, *probe_args(healthy_lab))
    assert code == 0
    assert_valid(validator, report, "probe")
    code, report = run_json(capsys, *probe_args(broken_lab))
    assert code == 2
    assert_valid(validator, report, "probe")
    findings = report["targets"][0]["findings"]
    # The broken lab exercises the parts of the schema a healthy run leaves empty.
    assert any(f["predicts"] == ["0x103"] and f["status"] == "fail" for f in findings)
    assert {f["address"] for f in findings if f["stage"] in ("tcp", "tls", "cert")} == {"127.0.0.1"}
    assert any(f["address"] is None for f in findings)  # dns findings skipped by --connect


def test_probe_closed_port(validator: Draft202012Validator, unused_tcp_port: int,
                           capsys: pytest.CaptureFixture[str]) -> None:
    # Nothing listens: tcp.connect fails and every later stage is skipped with its reason.
    url = f"https://da.lab.test:{unused_tcp_port}/IPHTTPS"
    code, report = run_json(capsys, "probe", url, "--connect", f"127.0.0.1:{unused_tcp_port}",
                            "--profile", "lab", "--timeout", "3")
    assert code == 2
    assert_valid(validator, report, "probe")
    statuses = {f["id"]: f["status"] for f in report["targets"][0]["findings"]}
    assert statuses["tcp.connect"] == "fail"
    assert statuses["iphttps.post"] == "skip"


def test_cert_from_the_lab_pki(validator: Draft202012Validator, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    files = build_pki("da.lab.test").write(tmp_path / "pki")
    code, report = run_json(capsys, "cert", str(files.cert_file), "--url",
                            "https://da.lab.test/IPHTTPS", "--ca-file", str(files.ca_file),
                            "--offline")
    assert code in (0, 1, 2)
    assert_valid(validator, report, "cert")
    assert report["targets"][0]["target"] == str(files.cert_file)

    wrong = build_pki("da.lab.test", faults=("wrong-name",)).write(tmp_path / "wrong")
    code, report = run_json(capsys, "cert", str(wrong.cert_file), "--url",
                            "https://da.lab.test/IPHTTPS", "--ca-file", str(wrong.ca_file),
                            "--offline")
    assert code == 2
    assert_valid(validator, report, "cert")


def test_server_bundle(validator: Draft202012Validator, capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run_json(capsys, "server", str(BUNDLE))
    assert code == 2
    assert_valid(validator, report, "server")
    predicted = {c for f in report["targets"][0]["findings"] for c in f["predicts"]}
    assert {"0x643", "0x34"} <= predicted


@pytest.mark.parametrize("code", ["0x2AFC", "0x0", "0x80092013", "0x1234"])
def test_explain_code(validator: Draft202012Validator, capsys: pytest.CaptureFixture[str],
                      code: str) -> None:
    exit_code, report = run_json(capsys, "explain", "--code", code)
    assert exit_code in (0, 2, 3)
    assert_valid(validator, report, "explain")


def test_explain_netsh_file(validator: Draft202012Validator,
                            capsys: pytest.CaptureFixture[str]) -> None:
    code, report = run_json(capsys, "explain", str(NETSH_2AFC))
    assert code == 2
    assert_valid(validator, report, "explain")
    assert any("0x2AFC" in f["predicts"] for t in report["targets"] for f in t["findings"])


def write_profile(path: Path, lab: LabEndpoint, cert_file: Path) -> Path:
    path.write_text(
        "schema = 1\n[deployment]\n"
        f"urls = [{json.dumps(lab.url)}]\nentry_points = [\"127.0.0.1\"]\n"
        "[dns]\nallow_private = true\n"
        f"[cert]\nca_file = {json.dumps(str(lab.ca_file))}\ncheck_crl = false\n"
        f"files = [{json.dumps(str(cert_file))}]\n"
        f"[server]\nbundles = [{json.dumps(str(BUNDLE))}]\n"
        "[probe]\ntimeout = 5.0\n",
        encoding="utf-8",
    )
    return path


def test_checklist_with_url_cert_and_bundle(validator: Draft202012Validator,
                                            healthy_lab: LabEndpoint, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    profile = write_profile(tmp_path / "all.toml", healthy_lab, healthy_lab.files.cert_file)
    code, report = run_json(capsys, "checklist", "--profile", str(profile))
    assert code == 2  # the bundle's reservations fail
    assert_valid(validator, report, "checklist")
    targets = {t["target"] for t in report["targets"]}
    assert {f"{healthy_lab.url} @ 127.0.0.1", str(healthy_lab.files.cert_file), str(BUNDLE)} <= targets

    # With --baseline the report gains a target of baseline.* findings: the same format.
    before = tmp_path / "before.json"
    before.write_text(json.dumps(report), encoding="utf-8")
    code, again = run_json(capsys, "checklist", "--profile", str(profile), "--baseline", str(before))
    assert code == 2
    assert_valid(validator, again, "checklist")
    assert any(f["id"].startswith("baseline.") for t in again["targets"] for f in t["findings"])


def test_checklist_unreadable_inputs(validator: Draft202012Validator, healthy_lab: LabEndpoint,
                                     tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # A certificate file that is missing: cert.input `error` inside the same format.
    profile = write_profile(tmp_path / "missing.toml", healthy_lab, tmp_path / "missing.pem")
    code, report = run_json(capsys, "checklist", "--profile", str(profile))
    assert code == 2  # the bundle's failures outrank the undecided file
    assert_valid(validator, report, "checklist")
    assert any(f["id"] == "cert.input" and f["status"] == "error"
               for t in report["targets"] for f in t["findings"])


def test_trace_to_the_lab(validator: Draft202012Validator, healthy_lab: LabEndpoint,
                          capsys: pytest.CaptureFixture[str]) -> None:
    require_root()
    from daserver_check.probe.trace import raw_socket_problem

    problem = raw_socket_problem()
    if problem is not None:
        pytest.skip(problem)
    code, report = run_json(capsys, "trace", healthy_lab.url, "--connect",
                            f"127.0.0.1:{healthy_lab.port}", "--max-hops", "2", "--timeout", "2")
    assert code == 0
    assert_valid(validator, report, "trace")


def test_every_reporting_command_is_covered() -> None:
    # The exporter speaks Prometheus only; every other command that reports has a test above.
    tested = {"probe", "cert", "server", "explain", "checklist", "trace"}
    assert {c.value for c in Command if c is not Command.EXPORTER} == tested


# -- the schema can fail --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def good_report(healthy_lab: LabEndpoint) -> dict[str, Any]:
    """A real probe report, read once; each negative case mutates a copy."""
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main([*probe_args(healthy_lab), "--format", "json"]) == 0
    document: dict[str, Any] = json.loads(out.getvalue())
    return document


def _finding(doc: dict[str, Any]) -> dict[str, Any]:
    finding: dict[str, Any] = doc["targets"][0]["findings"][0]
    return finding


Mutation = Callable[[dict[str, Any]], None]

BROKEN: dict[str, Mutation] = {
    "status ok": lambda d: d.update(status="ok"),
    "finding status ok": lambda d: _finding(d).update(status="ok"),
    "predicts without 0x": lambda d: _finding(d).update(predicts=["2afc"]),
    "predicts lower case": lambda d: _finding(d).update(predicts=["0x2afc"]),
    "predicts leading zero": lambda d: _finding(d).update(predicts=["0x02AFC"]),
    "predicts a number": lambda d: _finding(d).update(predicts=[11004]),
    "predicts a string": lambda d: _finding(d).update(predicts="0x2AFC"),
    "id without a dot": lambda d: _finding(d).update(id="tcpconnect"),
    "id upper case": lambda d: _finding(d).update(id="TCP.connect"),
    "address missing": lambda d: _finding(d).pop("address"),
    "address a number": lambda d: _finding(d).update(address=127),
    "evidence a list": lambda d: _finding(d).update(evidence=[]),
    "remediation a list": lambda d: _finding(d).update(remediation=["step"]),
    "remediation_steps a string": lambda d: _finding(d).update(remediation_steps="step"),
    "other schema": lambda d: d.update(schema="daserver-check/2"),
    "no targets key": lambda d: d.pop("targets"),
    "target without findings": lambda d: d["targets"][0].pop("findings"),
    "negative duration": lambda d: d.update(duration_ms=-1),
    "duration as float": lambda d: d.update(duration_ms=1.5),
    "tool name": lambda d: d["tool"].update(name="sslyze"),
}


def test_good_report_is_valid(validator: Draft202012Validator, good_report: dict[str, Any]) -> None:
    assert list(validator.iter_errors(good_report)) == []


@pytest.mark.parametrize("mutation", list(BROKEN.values()), ids=list(BROKEN))
def test_schema_rejects(validator: Draft202012Validator, good_report: dict[str, Any],
                        mutation: Mutation) -> None:
    document = copy.deepcopy(good_report)
    mutation(document)
    assert not validator.is_valid(document)


def test_schema_allows_added_keys(validator: Draft202012Validator,
                                  good_report: dict[str, Any]) -> None:
    # The contract only ever adds keys: a consumer validating with this schema must not break.
    document = copy.deepcopy(good_report)
    document["host"] = "runner-1"
    document["targets"][0]["labels"] = {"site": "a"}
    _finding(document)["remediation_steps"] = ["Restart-Service iphlpsvc"]
    _finding(document)["severity"] = 3
    assert validator.is_valid(document)
