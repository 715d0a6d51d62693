"""Server verdicts that mean what they say (issue 11): unusable input is unknown, and the
SSTP/BranchCache reservations of a supported deployment only warn until the interface fails."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from daserver_check.cli import main

FIXTURES = Path(__file__).parents[1] / "fixtures" / "server"
ELEVATION = "The requested operation requires elevation (Run as administrator).\r\n\r\n"


def run(argv: list[str], capsys: pytest.CaptureFixture[str], fmt: str = "json") -> tuple[int, str]:
    rc = main(["server", *argv, "--format", fmt])
    return rc, capsys.readouterr().out


def findings_of(out: str) -> dict[str, dict[str, object]]:
    return {f["id"]: f for f in json.loads(out)["targets"][0]["findings"]}


def test_elevation_message_bundle_is_unknown_and_names_both_files(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for name in ("urlacl.txt", "sslcert.txt"):
        (tmp_path / name).write_text(ELEVATION, encoding="utf-8")
    rc, out = run([str(tmp_path)], capsys)
    assert rc == 3
    found = findings_of(out)
    assert found["server.urlacl.conflict"]["status"] == "error"
    assert found["server.sslcert.binding"]["status"] == "error"
    assert found["server.ipv6.components"]["status"] == "skip"  # not collected: not unknown
    assert "not collected" in str(found["server.ipv6.components"]["detail"])
    assert found["server.artifacts"]["status"] == "error"
    rc, text = run([str(tmp_path)], capsys, "text")
    assert rc == 3
    for name in ("urlacl.txt", "sslcert.txt"):
        assert str(tmp_path / name) in text
    assert "requires elevation" in text
    assert "0 of 13 checks had their input" in text


def test_empty_file_makes_its_check_undecided(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(FIXTURES / "healthy" / "tcpip6.reg", tmp_path / "tcpip6.reg")
    (tmp_path / "httpstunnel.txt").write_bytes(b"")
    rc, out = run([str(tmp_path)], capsys)
    found = findings_of(out)
    assert found["server.iphttps.state"]["status"] == "error"
    assert "empty file" in str(found["server.iphttps.state"]["detail"])
    assert found["server.ipv6.components"]["status"] == "pass"
    assert rc == 3


def test_one_kind_of_file_reports_the_rest_as_not_collected(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(FIXTURES / "healthy" / "tcpip6.reg", tmp_path / "tcpip6.reg")
    rc, text = run([str(tmp_path)], capsys, "text")
    assert rc == 0
    assert "1 of 13 checks had their input" in text
    assert "not collected" in text


def test_ignored_file_is_never_a_pass(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    shutil.copy(FIXTURES / "healthy" / "tcpip6.reg", tmp_path / "tcpip6.reg")
    (tmp_path / "notes.txt").write_text("remember to check the NLS\n", encoding="utf-8")
    rc, out = run([str(tmp_path)], capsys)
    assert findings_of(out)["server.artifacts"]["status"] == "warn"
    assert rc == 1


def _sstp_bundle(tmp_path: Path, interfaces: Path) -> Path:
    shutil.copy(FIXTURES / "netsh" / "urlacl-de.txt", tmp_path / "urlacl.txt")
    shutil.copy(interfaces, tmp_path / "httpstunnel.txt")
    return tmp_path


def test_sstp_reservation_with_a_healthy_interface_warns(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = _sstp_bundle(tmp_path, FIXTURES / "healthy" / "httpstunnel.txt")
    rc, out = run([str(bundle)], capsys)
    conflict = findings_of(out)["server.urlacl.conflict"]
    assert (conflict["status"], conflict["predicts"]) == ("warn", [])
    assert rc == 1
    fix = str(conflict["remediation"]).lower()
    assert "remove the sstp" not in fix and "remove-windowsfeature" not in fix
    assert "netsh http add urlacl" in fix  # re-create, as KB 2980660's back-up/delete/re-create


def test_sstp_reservation_with_a_failing_interface_fails(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = _sstp_bundle(tmp_path, FIXTURES / "netsh" / "httpstunnel-server-643.txt")
    rc, out = run([str(bundle)], capsys)
    conflict = findings_of(out)["server.urlacl.conflict"]
    assert (conflict["status"], conflict["predicts"]) == ("fail", ["0x643", "0x34"])
    assert "0x643" in str(conflict["detail"])
    assert rc == 2
    fix = str(conflict["remediation"]).lower()
    assert "remove the sstp" not in fix and "role" in fix and "netsh http add urlacl" in fix
