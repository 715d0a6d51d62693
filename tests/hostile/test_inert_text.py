"""Text a certificate, a server or a file controls is inert in every output format: no raw
control character reaches a terminal, junit stays well-formed XML, JSON keeps exact strings."""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from daserver_check.model import Finding, Report, Status, TargetReport
from daserver_check.report import OutputFormat, render

HOSTILE_CN = "\x1b]0;X\x07\x1b[2J\x1b[31mOK\x9b1m\u202eda.contoso.com"
HOSTILE_SAN = "da.contoso.com\x00.evil.example"
# What a terminal or an XML parser acts on; LF is the line structure of the formats themselves.
RAW_CONTROLS = [chr(c) for c in (*range(0x00, 0x0A), *range(0x0B, 0x20), 0x7F,
                                 *range(0x80, 0xA0))] + ["\u202e"]


@pytest.fixture(scope="module")
def hostile_cert(tmp_path_factory: pytest.TempPathFactory) -> Path:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOSTILE_CN)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(7).not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=90))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOSTILE_SAN)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    path = tmp_path_factory.mktemp("hostile") / "hostile.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return path


def _cert_cli(path: Path, fmt: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "daserver_check", "cert", str(path), "--offline",
         "--url", "https://da.contoso.com/IPHTTPS", "--format", fmt],
        capture_output=True, timeout=60, stdin=subprocess.DEVNULL,
    )


@pytest.mark.parametrize("fmt", ["text", "markdown", "nagios", "junit"])
def test_hostile_certificate_names_are_escaped(hostile_cert: Path, fmt: str) -> None:
    out = _cert_cli(hostile_cert, fmt)
    assert out.returncode in (1, 2), out.stderr
    text = out.stdout.decode("utf-8")
    for raw in RAW_CONTROLS:
        assert raw not in text, (fmt, repr(raw))
    if fmt != "nagios":  # the one status line names the finding, not the certificate
        # Shown, visibly, rather than dropped: the reports write `\x1b`; the name checks write a
        # certificate name's code points as `\u001b` (both are inert, neither is the raw byte).
        # (Markdown doubles a backslash outside code spans, so that it renders as one.)
        shown = text.replace("\\\\", "\\") if fmt == "markdown" else text
        assert ("\\x1b]0;X\\x07\\x1b[2J" in shown or "\\u001b]0;X\\u0007\\u001b[2J" in shown)
    if fmt == "junit":
        root = ET.fromstring(out.stdout)
        assert root.tag == "testsuites"
        assert "\\x00" in text or "\\u0000" in text  # the SAN's NUL, visible
    if fmt == "nagios":
        # One status line, then long output: every line is its own (no raw CR/LF from the
        # certificate splits a line), and the first is the status line.
        assert text.splitlines()[0].startswith("DASERVER CRITICAL - ")
        assert all(line.startswith("  ") or line.endswith(":") for line in text.splitlines()[1:])


def test_json_keeps_the_exact_strings(hostile_cert: Path) -> None:
    out = _cert_cli(hostile_cert, "json")
    assert out.returncode in (1, 2), out.stderr
    assert b"\x1b" not in out.stdout and b"\x00" not in out.stdout  # JSON escapes them itself
    strings: list[str] = []

    def walk(value: object) -> None:
        if isinstance(value, str):
            strings.append(value)
        elif isinstance(value, dict):
            for k, v in value.items():
                walk(k)
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(json.loads(out.stdout))
    assert HOSTILE_CN in strings
    assert any(HOSTILE_SAN in s for s in strings)


def _report(text: str) -> Report:
    finding = Finding(id="iphttps.server", status=Status.FAIL, title=f"Server: {text}",
                      detail=f"said {text}\nsecond line", remediation=text,
                      evidence={"server": text, text: [text]}, address=text)
    return Report("probe", (TargetReport(f"https://{text}/IPHTTPS", (finding,)),))


HUMAN = [OutputFormat.TEXT, OutputFormat.MARKDOWN, OutputFormat.NAGIOS, OutputFormat.JUNIT]


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, categories=None), max_size=40))
def test_any_text_is_inert_in_every_human_format(text: str) -> None:
    report = _report(text)
    for fmt in HUMAN:
        out = render(report, fmt)
        out.encode("utf-8")  # no lone surrogate left: the output can always be written
        for raw in RAW_CONTROLS:
            assert raw not in out, (fmt, repr(raw))
        if fmt is OutputFormat.JUNIT:
            ET.fromstring(out.encode("utf-8"))
    doc = json.loads(render(report, OutputFormat.JSON))
    assert doc["targets"][0]["findings"][0]["evidence"]["server"] == text
    assert doc["targets"][0]["findings"][0]["title"] == f"Server: {text}"


def test_lone_surrogates_escape_everywhere_and_json_round_trips() -> None:
    report = _report("\ud800x\udfff")
    for fmt in HUMAN:
        assert "\\ud800x\\udfff" in render(report, fmt)
    rendered = render(report, OutputFormat.JSON)
    rendered.encode("utf-8")
    assert json.loads(rendered)["targets"][0]["target"] == "https://\ud800x\udfff/IPHTTPS"


def test_inert_keeps_ordinary_text() -> None:
    from daserver_check.report.escape import inert

    assert inert("Cert:\\LocalMachine\\My — ✅ é 証明書") == "Cert:\\LocalMachine\\My — ✅ é 証明書"
    assert inert("a\nb") == "a\\x0ab"
    assert inert("a\nb", multiline=True) == "a\nb"
    assert inert("\x1b[2J\x00\x85\u2066") == "\\x1b[2J\\x00\\x85\\u2066"
