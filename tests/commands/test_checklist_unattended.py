"""A checklist runs unattended: PFX passwords from the profile's sources, never a prompt, and a
dry run that lists everything and touches nothing (issue 13 item 5)."""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.commands.test_cert import PASSWORD, URL, files, write_pfx  # noqa: F401 (fixture)


def profile(folder: Path, body: str) -> Path:
    path = folder / "p.toml"
    path.write_text("schema = 1\n" + body, encoding="utf-8")
    return path


def run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[bytes]:
    # stdin closed, as under cron or a CI runner: nothing can prompt.
    return subprocess.run([sys.executable, "-m", "daserver_check", *argv], env=env,
                          stdin=subprocess.DEVNULL, capture_output=True, timeout=120, check=False)


def cert_section(folder: Path, extra: str) -> str:
    return (f"[deployment]\nurls = [{json.dumps(URL)}]\n"
            f"[cert]\nca_file = {json.dumps(str(folder / 'root.pem'))}\ncheck_crl = false\n"
            f"files = [{json.dumps(write_pfx(folder))}]\n{extra}")


def checklist_findings(out: bytes) -> dict[str, dict[str, object]]:
    doc = json.loads(out)
    return {f["id"]: f for t in doc["targets"] for f in t["findings"]}


def test_pfx_with_password_env_runs_with_stdin_closed(files: Path) -> None:  # noqa: F811
    env = {**os.environ, "MY_PFX_SECRET": PASSWORD}
    prof = profile(files, cert_section(files, 'password_env = "MY_PFX_SECRET"\n'))
    out = run(["checklist", "--profile", str(prof), "--format", "json", "--dry-run"], env)
    assert b"MY_PFX_SECRET" in out.stdout and PASSWORD.encode() not in out.stdout
    # Only the certificate file (no probe: the URL is only the name the certificate must carry).
    prof = profile(files, cert_section(files, 'password_env = "MY_PFX_SECRET"\n').replace(
        f"urls = [{json.dumps(URL)}]\n", ""))
    body = prof.read_text(encoding="utf-8").replace("[cert]\n", f"[cert]\n# {URL}\n")
    prof.write_text(body, encoding="utf-8")
    out = run(["checklist", "--profile", str(prof), "--format", "json"], env)
    found = checklist_findings(out.stdout)
    assert found["cert.private-key"]["status"] == "pass", out.stderr
    assert out.returncode in (0, 1), out.stderr
    assert PASSWORD.encode() not in out.stdout + out.stderr


def test_pfx_with_password_file(files: Path) -> None:  # noqa: F811
    secret = files / "pfx.pw"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    prof = profile(files, cert_section(files, f"password_file = {json.dumps(str(secret))}\n")
                   .replace(f"urls = [{json.dumps(URL)}]\n", ""))
    out = run(["checklist", "--profile", str(prof), "--format", "json"], dict(os.environ))
    assert checklist_findings(out.stdout)["cert.private-key"]["status"] == "pass", out.stderr


def test_pfx_without_a_password_source_is_an_error_naming_what_to_set(files: Path) -> None:  # noqa: F811
    prof = profile(files, cert_section(files, "").replace(f"urls = [{json.dumps(URL)}]\n", ""))
    out = run(["checklist", "--profile", str(prof), "--format", "json"], dict(os.environ))
    finding = checklist_findings(out.stdout)["cert.input"]
    assert finding["status"] == "error"
    assert "cert.password_env" in str(finding["detail"]) and "never prompts" in str(finding["detail"])
    assert out.returncode == 3
    assert b"Password for" not in out.stderr  # no prompt was even attempted


def test_missing_password_variable_is_an_error_per_file(files: Path) -> None:  # noqa: F811
    env = {k: v for k, v in os.environ.items() if k != "NO_SUCH_VAR"}
    prof = profile(files, cert_section(files, 'password_env = "NO_SUCH_VAR"\n')
                   .replace(f"urls = [{json.dumps(URL)}]\n", ""))
    out = run(["checklist", "--profile", str(prof), "--format", "json"], env)
    finding = checklist_findings(out.stdout)["cert.input"]
    assert "NO_SUCH_VAR: the variable is not set" in str(finding["detail"])


def test_dry_run_lists_everything_and_touches_nothing(tmp_path: Path) -> None:
    fifo = tmp_path / "new.pfx"
    os.mkfifo(fifo)  # reading it would block: a dry run must not open it
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        port = listener.getsockname()[1]
        prof = profile(tmp_path, (
            f"[deployment]\nurls = [{json.dumps(URL)}]\nentry_points = [\"127.0.0.1:{port}\"]\n"
            f"[cert]\nfiles = [{json.dumps(str(fifo))}]\nca_file = \"missing-ca.pem\"\n"
            f"[server]\nbundles = [{json.dumps(str(tmp_path / 'bundle'))}]\n"))
        out = run(["checklist", "--profile", str(prof), "--dry-run"], dict(os.environ))
        readable, _, _ = select.select([listener], [], [], 0)
        assert not readable, "the dry run connected to the entry point"
    text = out.stdout.decode()
    assert out.returncode == 0, out.stderr
    assert f"{URL}  at 127.0.0.1:{port}" in text
    assert str(fifo) in text and str(tmp_path / "bundle") in text and "missing-ca.pem" in text
    assert "3 job(s) planned" in text


@pytest.mark.parametrize("body", ['password_env = "A"\npassword_file = "b"\n'])
def test_both_password_sources_is_a_profile_error(tmp_path: Path, body: str) -> None:
    prof = profile(tmp_path, "[cert]\n" + body)
    out = run(["profile", "show", str(prof)], dict(os.environ))
    assert out.returncode == 3 and b"cert.password_env" in out.stderr


def test_a_bundle_with_strong_crl_required_makes_crl_failures_fail(files: Path) -> None:  # noqa: F811
    # KB 2980672: StrongCRLRequired on the server makes every client check revocation, so a
    # certificate whose CRL cannot be checked fails even without Windows 7 clients.
    bundle = files / "bundle"
    bundle.mkdir()
    source = Path(__file__).parents[1] / "fixtures" / "server" / "powershell" / "iphttps-bundle.json"
    text = source.read_bytes().decode("utf-16")
    (bundle / "iphttps.json").write_text(
        text.replace('"StrongCRLRequired": false', '"StrongCRLRequired": true'), encoding="utf-16")
    assert '"StrongCRLRequired": true' in (bundle / "iphttps.json").read_text(encoding="utf-16")
    from tests.commands.test_cert import fresh

    nocdp = write_pfx(files, fresh(crl=False), name="nocdp.pfx")
    body = (f"[cert]\nca_file = {json.dumps(str(files / 'root.pem'))}\n"
            f"files = [{json.dumps(nocdp)}]\npassword_env = \"PFX_PASSWORD\"\n")
    without = run(["checklist", "--profile", str(profile(files, body)), "--format", "json"],
                  dict(os.environ))
    assert checklist_findings(without.stdout)["cert.crl"]["status"] == "warn", without.stderr
    body += f"[server]\nbundles = [{json.dumps(str(bundle))}]\n"
    with_bundle = run(["checklist", "--profile", str(profile(files, body)), "--format", "json"],
                      dict(os.environ))
    assert checklist_findings(with_bundle.stdout)["cert.crl"]["status"] == "fail"
