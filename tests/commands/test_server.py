from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from daserver_check.cli import main

FIXTURES = Path(__file__).parents[1] / "fixtures" / "server"
KB_BUNDLE = FIXTURES / "kb2980660"


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict]:  # type: ignore[type-arg]
    rc = main(["server", *argv, "--format", "json"])
    return rc, json.loads(capsys.readouterr().out)


def test_seed_bundle_is_critical_and_follows_the_contract(capsys: pytest.CaptureFixture[str]
                                                          ) -> None:
    rc, doc = run_json([str(KB_BUNDLE)], capsys)
    assert rc == 2
    assert doc["schema"] == "daserver-check/1" and doc["command"] == "server"
    (target,) = doc["targets"]
    assert target["target"] == str(KB_BUNDLE)
    ids = [f["id"] for f in target["findings"]]
    for fid in ("server.urlacl.conflict", "server.urlacl.duplicate", "server.urlacl.acl",
                "server.sslcert.binding", "server.ipv6.components", "server.iphttps.policy",
                "server.iphttps.state", "client.proxy"):
        assert fid in ids
    conflict = next(f for f in target["findings"] if f["id"] == "server.urlacl.conflict")
    assert conflict["predicts"] == ["0x643", "0x34"]
    assert conflict["stage"] == "server" and conflict["address"] is None


def test_healthy_bundle_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["server", str(FIXTURES / "healthy")]) == 0


def test_single_files(capsys: pytest.CaptureFixture[str]) -> None:
    rc, doc = run_json([str(KB_BUNDLE / "tcpip6.reg"), str(FIXTURES / "netsh" / "urlacl-de.txt")],
                       capsys)
    statuses = {f["id"]: f["status"] for f in doc["targets"][0]["findings"]}
    assert statuses["server.ipv6.components"] == "fail"
    # No interface output: the SSTP reservation alone is a warning (contract change 2026-11-30).
    assert statuses["server.urlacl.conflict"] == "warn"
    assert statuses["server.sslcert.binding"] == "skip"
    assert rc == 2


def test_cert_option_compares_thumbprint(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                         ) -> None:
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "da.contoso.com")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(1).not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=1)).sign(key, hashes.SHA256()))
    pem = tmp_path / "c.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    der = tmp_path / "c.cer"
    der.write_bytes(cert.public_bytes(serialization.Encoding.DER))
    thumb = cert.fingerprint(hashes.SHA1()).hex()
    for path in (pem, der):
        _rc, doc = run_json([str(FIXTURES / "healthy"), "--cert", str(path)], capsys)
        f = next(f for f in doc["targets"][0]["findings"] if f["id"] == "server.sslcert.binding")
        assert f["status"] == "fail" and thumb in f["remediation"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        ([], "bundle folder"),
        (["/nonexistent"], "no such file"),
        (["--cert", "/nonexistent", str(KB_BUNDLE)], "--cert"),
        (["--url", "http://x/", str(KB_BUNDLE)], "https://"),
    ],
)
def test_usage_errors_exit_3(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
                             ) -> None:
    assert main(["server", *argv]) == 3
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_nothing_recognisable_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "a.txt").write_text("hello\n")
    assert main(["server", str(tmp_path)]) == 3
    assert "no recognisable artifact" in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="the message is for other platforms")
def test_live_elsewhere_says_why(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["server", "--live"]) == 3
    assert "only on Windows" in capsys.readouterr().err


def test_binding_compared_with_the_certificate_served_at_url(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """--url without --cert: the 0.0.0.0:443 binding must hold what the server serves now.
    The kb2980660 bundle's binding holds another certificate than the lab serves."""
    from daserver_check.lab.server import LabConfig, LabEndpoint

    with LabEndpoint(LabConfig()) as lab:
        code = main(["server", str(KB_BUNDLE), "--url", lab.url, "--connect", "127.0.0.1",
                     "--format", "json"])
    report = json.loads(capsys.readouterr().out)
    binding = [f for f in report["targets"][0]["findings"] if f["id"] == "server.sslcert.binding"]
    assert binding and binding[0]["status"] == "fail"
    assert "served at" in json.dumps(binding[0])
    assert code == 2


def test_url_that_serves_nothing_is_input_error(
    capsys: pytest.CaptureFixture[str], unused_tcp_port: int
) -> None:
    code = main(["server", str(KB_BUNDLE), "--url", f"https://da.lab.test:{unused_tcp_port}/IPHTTPS",
                 "--connect", "127.0.0.1", "--timeout", "2"])
    assert code == 3
    assert "cannot fetch the served certificate" in capsys.readouterr().err


# ---------------------------------------------------------------- pasted netsh output


def test_wrapped_winrm_reservations_are_not_corrupt(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """The standard WinRM reservations copied from a 150-column console: the SDDL continues on
    the next line; it is joined, not reported as a corrupt ACL with a `reg delete` fix."""
    from tests.protocol.pasted import WINRM_URLS, console_wrap, urlacl_winrm

    path = tmp_path / "urlacl.txt"
    path.write_text(console_wrap(urlacl_winrm(), 150), encoding="utf-8")
    rc, doc = run_json([str(path)], capsys)
    statuses = {f["id"]: f for f in doc["targets"][0]["findings"]}
    acl = statuses["server.urlacl.acl"]
    assert acl["status"] == "pass", acl["detail"]
    assert sorted(acl["evidence"]["reservations"]) == sorted(WINRM_URLS)
    assert rc == 0


def test_cut_off_paste_is_skipped_with_the_reason(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    from tests.protocol.pasted import console_wrap, urlacl_winrm

    text = console_wrap(urlacl_winrm(), 80)
    path = tmp_path / "urlacl.txt"
    path.write_text(text[: text.rindex("SDDL")], encoding="utf-8")
    rc, doc = run_json([str(path)], capsys)
    findings = {f["id"]: f for f in doc["targets"][0]["findings"]}
    assert findings["server.urlacl.acl"]["status"] == "pass"
    artifacts = findings["server.artifacts"]
    assert "incomplete paste" in artifacts["detail"]
    assert "http://+:47001/wsman/" in artifacts["detail"]
    assert rc == 1  # an incomplete paste is a warning (server.artifacts never passes over it)


def test_redacted_sslcert_paste_is_recognised(tmp_path: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    from tests.protocol.pasted import quote, sslcert, sslcert_block

    path = tmp_path / "sslcert.txt"
    path.write_text(quote(sslcert([sslcert_block("0.0.0.0:443", "<redacted>")])),
                    encoding="utf-8")
    _rc, doc = run_json([str(path)], capsys)
    findings = {f["id"]: f for f in doc["targets"][0]["findings"]}
    assert findings["server.artifacts"]["evidence"]["sources"] == [
        {"path": str(path), "kind": "netsh sslcert"}]
    binding = findings["server.sslcert.binding"]
    assert binding["status"] != "skip"
    assert binding["evidence"]["bindings"][0]["cert_hash"] is None


def test_profile_decides_which_clients_schannel_judges(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # Issue 12's acceptance: TLS 1.0 disabled for the server and a profile with windows7.
    from daserver_check.protocol.reg import RegKey, RegType, RegValue, format_reg_export
    from daserver_check.server.paths import SCHANNEL_KEY

    key = RegKey(f"{SCHANNEL_KEY}\\Protocols\\TLS 1.0\\Server",
                 (RegValue("Enabled", RegType.DWORD, (0).to_bytes(4, "little")),))
    (tmp_path / "schannel.reg").write_bytes(format_reg_export([key]))
    rc, doc = run_json([str(tmp_path), "--profile", "windows7"], capsys)
    found = {f["id"]: f for f in doc["targets"][0]["findings"]}
    assert found["server.tls.schannel"]["status"] == "fail"
    assert found["server.tls.schannel"]["predicts"] == ["0x80090326"]
    assert rc == 2
    # No --profile: the default profile (Windows 10 and 11) has TLS 1.1/1.2 left.
    rc, doc = run_json([str(tmp_path)], capsys)
    found = {f["id"]: f for f in doc["targets"][0]["findings"]}
    assert found["server.tls.schannel"]["status"] == "pass"
    assert rc == 0
    assert main(["server", str(tmp_path), "--profile", "no-such-profile"]) == 3


def test_new_cmdlet_samples_through_the_cli(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    ra = FIXTURES / "remoteaccess"
    for src, name in (("ra-health-error.json", "ra-health.json"),
                      ("nrpt-caught.json", "nrpt.json"), ("remoteaccess.json", "remoteaccess.json")):
        shutil.copy(ra / src, tmp_path / name)
    rc, doc = run_json([str(tmp_path)], capsys)
    found = {f["id"]: f for f in doc["targets"][0]["findings"]}
    assert found["server.health"]["status"] == "fail"
    assert "has expired" in found["server.health"]["detail"]
    assert found["server.nrpt"]["status"] == "fail"
    assert found["server.nrpt"]["predicts"] == ["0x2AF9", "0x2AFC", "0x274D"]
    assert rc == 2
