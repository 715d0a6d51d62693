"""Windows consoles and redirected PowerShell pipes: cp1252, cp437, cp932 never crash a command.

Every command x format runs with standard output encoded as the console would encode it; the
output decodes in that code page, and no "internal error" or encoding error appears. Markdown
keeps Windows paths readable in a CommonMark renderer (markdown-it-py).
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from daserver_check.cli import main
from daserver_check.lab.pki import build_pki
from daserver_check.lab.server import LabConfig, LabEndpoint

ENCODINGS = ("cp1252", "cp437", "cp932")
FORMATS = ("text", "json", "junit", "prometheus", "nagios", "markdown")
BUNDLE = Path(__file__).parents[1] / "fixtures" / "server" / "kb2980660"


@pytest.fixture(scope="module")
def lab() -> Iterator[LabEndpoint]:
    with LabEndpoint(LabConfig(faults=frozenset({"wrong-name"}))) as endpoint:
        yield endpoint


@pytest.fixture(scope="module")
def cert_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = build_pki("da.lab.test", faults=("wrong-name",)).write(tmp_path_factory.mktemp("pki"))
    return files.cert_file


def commands(lab: LabEndpoint, cert_file: Path, tmp: Path) -> dict[str, list[str]]:
    profile = tmp / "p.toml"
    profile.write_text(
        "schema = 1\n[deployment]\n"
        f"urls = [{json.dumps(lab.url)}]\nentry_points = [\"127.0.0.1:{lab.port}\"]\n"
        "[dns]\nallow_private = true\n"
        f"[cert]\nca_file = {json.dumps(str(lab.ca_file))}\ncheck_crl = false\n"
        f"files = [{json.dumps(str(cert_file))}]\n"
        f"[server]\nbundles = [{json.dumps(str(BUNDLE))}]\n[probe]\ntimeout = 5.0\n",
        encoding="utf-8")
    return {
        "probe": ["probe", lab.url, "--connect", f"127.0.0.1:{lab.port}", "--ca-file",
                  str(lab.ca_file), "--profile", "lab"],
        "cert": ["cert", str(cert_file), "--url", "https://da.lab.test/IPHTTPS", "--offline"],
        "server": ["server", str(BUNDLE)],
        "explain-code": ["explain", "--code", "0x2AFC"],
        "explain-file": ["explain", str(BUNDLE / "httpstunnel.txt")],
        "checklist": ["checklist", "--profile", str(profile)],
    }


def run_encoded(argv: list[str], encoding: str, monkeypatch: pytest.MonkeyPatch) -> tuple[int, str]:
    raw = io.BytesIO()
    stream = io.TextIOWrapper(raw, encoding=encoding, errors="strict", newline="\n")
    monkeypatch.setattr(sys, "stdout", stream)
    err = io.StringIO()
    monkeypatch.setattr(sys, "stderr", err)
    code = main(argv)
    stream.flush()
    text = raw.getvalue().decode(encoding)  # what a console in that code page shows
    assert "internal error" not in err.getvalue() and "Encode" not in err.getvalue(), err.getvalue()
    return code, text


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_every_command_and_format(encoding: str, lab: LabEndpoint, cert_file: Path,
                                  tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, argv in commands(lab, cert_file, tmp_path).items():
        for fmt in FORMATS:
            code, text = run_encoded([*argv, "--format", fmt], encoding, monkeypatch)
            assert code in (0, 1, 2), (name, fmt, code)
            assert text.strip(), (name, fmt)
    for argv in (["profile", "show", "default"], ["collect-script"], ["--help"]):
        try:
            code, text = run_encoded(argv, encoding, monkeypatch)
        except SystemExit as exc:  # --help
            code = int(exc.code or 0)
        assert code == 0, argv


@pytest.mark.parametrize("encoding", ENCODINGS)
def test_real_process_with_pythonioencoding(encoding: str) -> None:
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    for argv in (["server", str(BUNDLE), "--format", "markdown"], ["server", str(BUNDLE)],
                 ["explain", "--code", "0x643"]):
        out = subprocess.run([sys.executable, "-m", "daserver_check", *argv], env=env,
                             capture_output=True, timeout=60, check=False)
        assert out.returncode in (0, 1, 2), out.stderr
        assert b"Error" not in out.stderr and b"internal" not in out.stderr, out.stderr
        out.stdout.decode(encoding)


def test_markdown_keeps_windows_paths() -> None:
    from markdown_it import MarkdownIt

    from daserver_check.findings import FindingId
    from daserver_check.model import Finding, Report, Status, TargetReport
    from daserver_check.report import OutputFormat, render

    path = "Cert:\\LocalMachine\\My\\*"  # `\*` is an escape in CommonMark
    finding = Finding(FindingId.CERT_SAN, Status.FAIL, "t", detail=f"look in {path}",
                      remediation_steps=(f"outside {path}", f"inside `Get-ChildItem {path}`"))
    text = render(Report("cert", (TargetReport("f.pem", (finding,)),)), OutputFormat.MARKDOWN)
    html = MarkdownIt("commonmark").enable("table").render(text)
    assert f"look in {path}" in html
    assert f"outside {path}" in html
    assert f"<code>Get-ChildItem {path}</code>" in html
