"""tls.client.* in a real probe: each Windows client of the profile handshakes as itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from daserver_check.cli import main
from tests.probe.openssl_server import NAME, make_cert, s_server


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_cert(tmp_path_factory.mktemp("client-findings"))


def probe(port: int, ca: Path, profile: str, capsys: pytest.CaptureFixture[str]
          ) -> tuple[int, dict[str, dict[str, object]]]:
    code = main(["probe", f"https://{NAME}/IPHTTPS", "--connect", f"127.0.0.1:{port}",
                 "--ca-file", str(ca), "--profile", profile, "--timeout", "4",
                 "--format", "json"])
    doc = json.loads(capsys.readouterr().out)
    return code, {f["id"]: f for f in doc["targets"][0]["findings"]}


def test_gcm_only_server_fails_windows7_and_passes_windows10(
        cert: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    with s_server(cert, "-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384") as server:
        code, found = probe(server.port, cert[1], "windows7", capsys)
        assert found["tls.client.windows7"]["status"] == "fail"
        assert found["tls.client.windows7"]["predicts"] == ["0x80090326"]
        assert "protocol version" in str(found["tls.client.windows7"]["title"])
        assert found["tls.handshake"]["status"] == "pass"  # another client still connects
        assert found["tls.client.windows10"]["status"] == "pass"
        assert "TLS 1.2" in str(found["tls.client.windows10"]["title"])
        assert code == 2
        code, found = probe(server.port, cert[1], "default", capsys)
        assert "tls.client.windows7" not in found
        assert found["tls.client.windows10"]["status"] == "pass"
        assert found["tls.client.windows11"]["status"] == "pass"
        # s_server is no IP-HTTPS server (its POST answer fails, and it serves one connection
        # at a time), but nothing in the TLS stage fails for the default profile's clients.
        assert not [i for i, f in found.items() if i.startswith("tls.") and f["status"] == "fail"]


def test_healthy_lab_every_client_passes_and_8plus_get_null(
        capsys: pytest.CaptureFixture[str]) -> None:
    from daserver_check.lab.server import LabConfig, LabEndpoint

    with LabEndpoint(LabConfig()) as lab:
        code, found = probe(lab.port, lab.files.ca_file, "windows7", capsys)
    for client in ("windows7", "windows10", "windows11"):
        assert found[f"tls.client.{client}"]["status"] == "pass", found[f"tls.client.{client}"]
    for client in ("windows10", "windows11"):
        assert found[f"tls.client.{client}"]["evidence"]["null_suite"] is True  # type: ignore[index]
    assert found["tls.client.windows7"]["evidence"]["null_suite"] is False  # type: ignore[index]
    assert code == 0


def test_cipher_map_of_the_healthy_lab(capsys: pytest.CaptureFixture[str]) -> None:
    from daserver_check.lab.server import LabConfig, LabEndpoint

    with LabEndpoint(LabConfig()) as lab:
        code = main(["probe", f"https://{NAME}/IPHTTPS", "--connect", f"127.0.0.1:{lab.port}",
                     "--ca-file", str(lab.files.ca_file), "--ciphers", "--timeout", "3",
                     "--format", "json"])
        doc = json.loads(capsys.readouterr().out)
        assert main(["probe", f"https://{NAME}/IPHTTPS", "--connect", f"127.0.0.1:{lab.port}",
                     "--ca-file", str(lab.files.ca_file), "--ciphers", "--timeout", "3"]) == 0
        text = capsys.readouterr().out
    found = {f["id"]: f for f in doc["targets"][0]["findings"]}
    ciphers = found["tls.ciphers"]
    assert ciphers["status"] == "pass" and ciphers["evidence"]["complete"] is True
    suites = {(a["version"], a["suite"]) for a in ciphers["evidence"]["accepted"]}
    assert ("TLS 1.2", "TLS_RSA_WITH_NULL_SHA256") in suites
    assert ("TLS 1.2", "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384") in suites
    assert ("TLS 1.0", "TLS_RSA_WITH_AES_128_CBC_SHA") in suites
    assert code == 0 and doc["duration_ms"] < 3000
    assert "TLS_RSA_WITH_NULL_SHA256 (null)" in text  # the table in the text report


@pytest.mark.parametrize(("profile", "exit_code"), [("default", 0), ("windows7", 2)])
def test_gcm_only_lab_exit_codes(profile: str, exit_code: int,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    # The same hardening as the s_server case above, on an endpoint that also answers the POST
    # as HTTP.sys does: only the profile's clients decide the verdict.
    from daserver_check.lab.server import LabConfig, LabEndpoint

    with LabEndpoint(LabConfig(faults=frozenset({"tls12-gcm-only"}))) as lab:
        code, found = probe(lab.port, lab.files.ca_file, profile, capsys)
    assert code == exit_code
    assert found["tls.client.windows10"]["status"] == "pass"
    if profile == "windows7":
        assert found["tls.client.windows7"]["status"] == "fail"
        assert found["tls.client.windows7"]["predicts"] == ["0x80090326"]
