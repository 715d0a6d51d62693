from __future__ import annotations

import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from daserver_check.cli import main
from daserver_check.codes import CATALOGUE
from daserver_check.commands.explain import findings_from_bytes

FIXTURES = Path(__file__).parents[1] / "fixtures" / "server"

# The output shape of docs/windows-facts.md §4, with the status strings it lists.
SAMPLES = {
    0x0: "IPHTTPS interface active",
    0x103: "No usable certificate found",
    0x2AFC: "Failed to connect to IPHTTPS server; waiting to reconnect",
    0x2AF9: "Failed to connect to IPHTTPS server; waiting to reconnect",
    0x643: "Interface creation failure",
    0x34: "Interface creation failure",
    0x274C: "Failed to connect to IPHTTPS server; waiting to reconnect",
    0x4BE: "Invalid IPHTTPS URL specified",
    0x80092013: "Failed to connect to IPHTTPS server; waiting to reconnect",
}

# For each code, check ids that must appear among its causes (KB 2980635, KB 2980660,
# docs/windows-facts.md §4).
EXPECTED_CHECKS = {
    0x0: set(),
    0x103: {"cert.subject-name", "cert.subject-extra", "cert.san", "server.sslcert.binding"},
    0x2AFC: {"proxy.connect", "client.proxy", "dns.resolve", "tcp.connect", "iphttps.prefix"},
    0x2AF9: {"proxy.connect", "client.proxy", "dns.resolve", "tcp.connect", "iphttps.prefix"},
    0x643: {"server.urlacl.conflict", "server.urlacl.acl", "server.ipv6.components",
            "server.iphttps.policy"},
    0x34: {"server.urlacl.conflict", "server.urlacl.acl", "server.ipv6.components",
           "server.iphttps.policy"},
    0x274C: {"tcp.connect", "trace.path"},
    0x4BE: {"target.ip-literal"},
    0x80092013: {"cert.crl"},
}


def sample(code: int, url: str = "https://da.contoso.com:443/IPHTTPS") -> bytes:
    text = (
        "\r\nInterface IPHTTPSInterface (Group Policy) Parameters\r\n"
        + "-" * 60 + "\r\n"
        + "Role                       : client\r\n"
        + f"URL                        : {url}\r\n"
        + f"Last Error Code            : 0x{code:x}\r\n"
        + f"Interface Status           : {SAMPLES[code]}\r\n\r\n"
    )
    return text.encode("ascii")


def run_json(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    rc = main(["explain", *argv, "--format", "json"])
    return rc, json.loads(capsys.readouterr().out)


@pytest.mark.parametrize("code", sorted(SAMPLES))
def test_reference_samples_give_the_documented_causes(
    code: int, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "netsh.txt"
    path.write_bytes(sample(code))
    rc, doc = run_json([str(path)], capsys)
    (target,) = doc["targets"]
    assert target["target"] == str(path)
    (finding,) = target["findings"]
    assert finding["id"] == "server.iphttps.state"
    ev = finding["evidence"]
    assert ev["symbol"] == CATALOGUE[code].symbol
    checks = {c for cause in ev["causes"] for c in cause["checks"]}
    assert EXPECTED_CHECKS[code] <= checks
    assert all(cause["commands"] for cause in ev["causes"])
    if code == 0:
        assert (rc, finding["status"], finding["predicts"]) == (0, "pass", [])
    else:
        assert (rc, finding["status"]) == (2, "fail")
        assert finding["predicts"] == [f"0x{code:X}"]
        assert ev["url"] == "https://da.contoso.com:443/IPHTTPS"


def test_commands_carry_the_interface_url() -> None:
    (finding,) = findings_from_bytes(sample(0x2AF9, "https://da.example.org/IPHTTPS"), "x")
    commands = [c for cause in finding.evidence["causes"] for c in cause["commands"]]
    assert "daserver-check probe https://da.example.org/IPHTTPS" in commands
    assert any("server CLIENT-BUNDLE/" in c for c in commands)


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("netsh/httpstunnel-de-103.txt", 0x103),
        ("netsh/httpstunnel-fr-80092013.txt", 0x80092013),
        ("netsh/httpstunnel-server-643.txt", 0x643),
        ("powershell/state-2afc.json", 0x2AFC),
        ("powershell/state-80092013.json", 0x80092013),
        ("powershell/iphttps-bundle.json", 0x643),
    ],
)
def test_localized_and_powershell_inputs(name: str, code: int) -> None:
    (finding,) = findings_from_bytes((FIXTURES / name).read_bytes(), name)
    assert finding.predicts == (code,)
    assert finding.evidence["symbol"] == CATALOGUE[code].symbol


def test_powershell_bundle_uses_server_url() -> None:
    (finding,) = findings_from_bytes((FIXTURES / "powershell/iphttps-bundle.json").read_bytes(), "j")
    assert finding.evidence["url"] == "https://da.contoso.com:443/IPHTTPS"


def test_loose_text_of_seed_000_gives_both_codes() -> None:
    text = b"Error: 0x643\nTranslates to: Fatal error during installation.\nError: 0x34\n"
    findings = findings_from_bytes(text, "ticket")
    assert [f.predicts for f in findings] == [(0x643,), (0x34,)]


def test_stdin(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(sample(0x103))))
    rc = main(["explain", "-"])
    out = capsys.readouterr().out
    assert rc == 2
    assert "0x103  ERROR_NO_MORE_ITEMS" in out
    assert "cert.subject-name" in out


def test_code_text(capsys: pytest.CaptureFixture[str]) -> None:
    # Issue 11: --code is a lookup: exit 0 for a known code (was 2, the code's own verdict).
    assert main(["explain", "--code", "0x2AFC"]) == 0
    out = capsys.readouterr().out
    assert "WSANO_DATA" in out
    assert "daserver-check probe https://PUBLIC-NAME/IPHTTPS --proxy" in out


def test_code_decimal_and_success(capsys: pytest.CaptureFixture[str]) -> None:
    rc, doc = run_json(["--code", "0"], capsys)
    assert rc == 0 and doc["status"] == "pass"
    rc, doc = run_json(["--code", "11001"], capsys)
    assert doc["targets"][0]["target"] == "0x2AF9"


def test_hresult_from_win32_is_unwrapped(capsys: pytest.CaptureFixture[str]) -> None:
    _rc, doc = run_json(["--code", "0x80070643"], capsys)
    ev = doc["targets"][0]["findings"][0]["evidence"]
    assert ev["symbol"] == "ERROR_INSTALL_FAILURE"
    assert ev["via"] == "HRESULT_FROM_WIN32(0x643)"


def test_generic_and_unknown_codes_say_so(capsys: pytest.CaptureFixture[str]) -> None:
    _rc, doc = run_json(["--code", "0x57"], capsys)
    ev = doc["targets"][0]["findings"][0]["evidence"]
    assert ev["symbol"] == "ERROR_INVALID_PARAMETER" and ev["generic_only"] is True
    assert "generic Windows meaning" in ev["meaning"]
    _rc, doc = run_json(["--code", "0x1234"], capsys)
    ev = doc["targets"][0]["findings"][0]["evidence"]
    assert ev["known"] is False and ev["symbol"] is None
    assert "Unknown code" in ev["meaning"]


@pytest.mark.parametrize(
    "argv",
    [[], ["--code", "zz"], ["x", "--code", "1"], ["/nonexistent/file"]],
)
def test_bad_usage_exits_3(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", *argv]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "error" in err


def test_input_without_code_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "x.txt").write_text("nothing to see\n")
    assert main(["explain", str(tmp_path / "x.txt")]) == 3
    assert "no IP-HTTPS error code" in capsys.readouterr().err
    (tmp_path / "y.json").write_text('{"a": 1}')
    assert main(["explain", str(tmp_path / "y.json")]) == 3


# ---------------------------------------------------------------- pasted text


def test_kb_style_page_reports_every_block(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    from tests.protocol.pasted import kb_page

    path = tmp_path / "kb.txt"
    path.write_text(kb_page([0x103, 0x2AFC, 0x2AF9]), encoding="utf-8")
    rc, doc = run_json([str(path)], capsys)
    findings = doc["targets"][0]["findings"]
    assert [f["predicts"] for f in findings] == [["0x103"], ["0x2AFC"], ["0x2AF9"]]
    assert all(f["evidence"]["url"] == "https://da.contoso.com/IPHTTPS" for f in findings)
    assert not any(".." in f["detail"] for f in findings)  # the KB's full stop is not doubled
    assert rc == 2


@pytest.mark.parametrize("marker", ["> ", ">"])
def test_quoted_and_fenced_output(marker: str) -> None:
    from tests.protocol.pasted import fence, quote, tunnel_block

    text = quote(fence(tunnel_block(0x2AF9) + "\n" + tunnel_block(0x103, title=False)), marker)
    findings = findings_from_bytes(text.encode(), "mail")
    assert [f.predicts for f in findings] == [(0x2AF9,), (0x103,)]


@pytest.mark.parametrize("kind", ["urlacl", "sslcert"])
def test_other_netsh_output_says_what_it_is(kind: str, tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from tests.protocol.pasted import sslcert, sslcert_block, urlacl_winrm

    text = urlacl_winrm() if kind == "urlacl" else sslcert([sslcert_block("0.0.0.0:443", None)])
    path = tmp_path / f"{kind}.txt"
    path.write_text(text, encoding="utf-8")
    assert main(["explain", str(path)]) == 3
    captured = capsys.readouterr()
    assert captured.out == ""  # no phantom interfaces
    assert f"netsh http show {kind}" in captured.err
    assert "daserver-check server" in captured.err
    assert "netsh interface httpstunnel show interfaces" in captured.err
    assert captured.err.count("\n") == 1


def test_no_doubled_full_stop_from_powershell_status() -> None:
    doc = b'{"LastErrorCode": 259, "InterfaceStatus": "No usable certificate found."}'
    (finding,) = findings_from_bytes(doc, "ps")
    assert ".." not in finding.detail
    assert "No usable certificate found." in finding.detail
