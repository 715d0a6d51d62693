"""checklist: many lab endpoints at once, baseline comparison, profile errors."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from daserver_check.cli import main
from daserver_check.lab.server import LabConfig, LabEndpoint

FAULT_MIX: list[tuple[str, ...]] = [(), ("no-null",), ("wrong-name",), ("not-iphttps",), ("expired",)]
EXPECTED = {(): "pass", ("no-null",): "warn", ("wrong-name",): "fail", ("not-iphttps",): "fail",
            ("expired",): "fail"}


@pytest.fixture(scope="module")
def labs() -> Iterator[list[tuple[LabEndpoint, tuple[str, ...]]]]:
    with ExitStack() as stack:
        out = []
        for i in range(50):
            faults = FAULT_MIX[i % len(FAULT_MIX)]
            lab = stack.enter_context(LabEndpoint(LabConfig(faults=frozenset(faults))))
            out.append((lab, faults))
        yield out


def write_profile(path: Path, urls: list[str], ca_file: Path, extra: str = "") -> Path:
    url_list = ", ".join(json.dumps(u) for u in urls)
    path.write_text(
        "schema = 1\n[deployment]\n"
        f"urls = [{url_list}]\nentry_points = [\"127.0.0.1\"]\n"
        "[dns]\nallow_private = true\n"
        f"[cert]\nca_file = {json.dumps(str(ca_file))}\ncheck_crl = false\n"
        "[probe]\ntimeout = 5.0\nconcurrency = 64\n" + extra
    )
    return path


def run_json(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["checklist", *args, "--format", "json"])
    return code, json.loads(capsys.readouterr().out)


def test_fifty_endpoints_concurrently(
    labs: list[tuple[LabEndpoint, tuple[str, ...]]], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    profile = write_profile(tmp_path / "fifty.toml", [lab.url for lab, _ in labs], labs[0][0].ca_file)
    code, report = run_json(capsys, "--profile", str(profile))
    assert code == 2
    assert len(report["targets"]) == 50
    for (lab, faults), target in zip(labs, report["targets"], strict=True):
        assert target["target"] == f"{lab.url} @ 127.0.0.1"
        assert target["status"] == EXPECTED[faults], (faults, target["status"])


def test_baseline_reports_worse_and_fixed(
    labs: list[tuple[LabEndpoint, tuple[str, ...]]], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    healthy = labs[0][0]
    broken = labs[2][0]  # wrong-name
    profile = write_profile(tmp_path / "two.toml", [healthy.url, broken.url], healthy.ca_file)
    code, before = run_json(capsys, "--profile", str(profile))
    assert code == 2
    # Simulate the change window: the healthy endpoint's result turned bad, the broken one good.
    for target in before["targets"]:
        for f in target["findings"]:
            if target["target"].startswith(healthy.url) and f["id"] == "cert.san":
                f["status"] = "pass"
            if target["target"].startswith(broken.url) and f["id"] == "cert.subject-name":
                f["status"] = "pass"
            if target["target"].startswith(healthy.url) and f["id"] == "tls.null-cipher":
                f["status"] = "fail"
    baseline = tmp_path / "before.json"
    baseline.write_text(json.dumps(before))
    code, after = run_json(capsys, "--profile", str(profile), "--baseline", str(baseline))
    comparison = {f["id"]: f for f in after["targets"][-1]["findings"]}
    assert after["targets"][-1]["target"] == f"baseline {baseline}"
    worse = comparison["baseline.worse"]
    assert worse["status"] == "warn"
    assert any("cert.subject-name" in line and "pass -> fail" in line
               for line in worse["evidence"]["changes"])
    fixed = comparison["baseline.fixed"]["evidence"]["changes"]
    assert any("tls.null-cipher" in line and "fail -> pass" in line for line in fixed)
    assert comparison["baseline.unchanged"]["evidence"]["count"] > 10


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("schema = 1\n[deployment]\nurlz = []\n", "deployment.urlz: unknown key"),
        ("schema = 1\n[probe]\nconcurrency = 'many'\n", "probe.concurrency: expected an integer"),
        ("schema = 1\n[deployment]\nurls = ['da.contoso.com']\n", "deployment.urls[0]: bad URL"),
        ("schema = 1\n[deployment]\nentry_points = ['nowhere']\n", "deployment.entry_points[0]"),
        ("schema = 1\n[proxy]\nurl = 'socks://x'\n", "proxy.url"),
        ("schema = 1\n", "lists nothing to check"),
    ],
)
def test_profile_errors_are_one_line_exit_3(tmp_path: Path, body: str, words: str) -> None:
    path = tmp_path / "bad.toml"
    path.write_text(body)
    out = subprocess.run([sys.executable, "-m", "daserver_check", "checklist", "--profile",
                          str(path)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 3
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1
    assert words in lines[0]


def test_missing_profile_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["checklist", "--profile", str(tmp_path / "nope.toml")]) == 3
    assert "no such file" in capsys.readouterr().err


def test_bad_baseline(labs: list[tuple[LabEndpoint, tuple[str, ...]]], tmp_path: Path,
                      capsys: pytest.CaptureFixture[str]) -> None:
    profile = write_profile(tmp_path / "p.toml", [labs[0][0].url], labs[0][0].ca_file)
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert main(["checklist", "--profile", str(profile), "--baseline", str(bad)]) == 3
    assert "not a daserver-check JSON report" in capsys.readouterr().err


def test_certificate_files_and_server_bundles(
    labs: list[tuple[LabEndpoint, tuple[str, ...]]], tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    lab = labs[0][0]
    bundle = Path(__file__).resolve().parents[1] / "fixtures" / "server" / "kb2980660"
    profile = write_profile(
        tmp_path / "all.toml", [lab.url], lab.ca_file,
        f"[server]\nbundles = [{json.dumps(str(bundle))}]\n",
    ).read_text().replace(
        "check_crl = false\n",
        f"check_crl = false\nfiles = [{json.dumps(str(lab.files.cert_file))}]\n",
    )
    path = tmp_path / "all2.toml"
    path.write_text(profile)
    code, report = run_json(capsys, "--profile", str(path))
    assert code == 2
    targets = {t["target"]: t for t in report["targets"]}
    cert = targets[str(lab.files.cert_file)]
    assert {f["id"] for f in cert["findings"]} >= {"cert.subject-name", "cert.private-key"}
    server = targets[str(bundle)]
    conflict = [f for f in server["findings"] if f["id"] == "server.urlacl.conflict"]
    assert conflict and conflict[0]["status"] == "fail"
    assert conflict[0]["predicts"] == ["0x643", "0x34"]
