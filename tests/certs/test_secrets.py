"""No secret leaves the process: run `cert` in every output format (and --output, and the error
paths) with a known PFX password and a known key, then search stdout, stderr, the output file
and the log records for the password and for the key in every encoding it could take."""

from __future__ import annotations

import base64
import functools
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    pkcs12,
)

from daserver_check.cli import main
from daserver_check.report import OutputFormat

from .pki import Issued, cdp, intermediate, make_leaf, root, with_extensions

PASSWORD = "Pa55-w0rd-n0t-t0-be-seen"
URL = "https://da.contoso.com/IPHTTPS"


@functools.cache
def issued() -> Issued:
    now = datetime.now(UTC)
    leaf = make_leaf(not_before=now - timedelta(days=1), not_after=now + timedelta(days=90))
    return with_extensions(leaf, intermediate().key, [cdp("http://crl.contoso.test/ca.crl")])


def secret_strings() -> list[str]:
    """The password and the key as text could carry them: PEM (PKCS#8 and traditional) lines,
    base64 and hex of the DER, the private numbers in decimal and hex."""
    key = issued().key
    assert isinstance(key, rsa.RSAPrivateKey)
    out = [PASSWORD, PASSWORD.encode().hex(), base64.b64encode(PASSWORD.encode()).decode()]
    for fmt in (PrivateFormat.PKCS8, PrivateFormat.TraditionalOpenSSL):
        pem = key.private_bytes(Encoding.PEM, fmt, NoEncryption()).decode()
        out.extend(line for line in pem.splitlines() if line and not line.startswith("-----"))
        der = key.private_bytes(Encoding.DER, fmt, NoEncryption())
        out.append(der[40:80].hex())
        out.append(base64.b64encode(der[30:90]).decode()[4:60])
    numbers = key.private_numbers()
    for secret in (numbers.d, numbers.p, numbers.q, numbers.dmp1):
        out.extend([str(secret)[:40], f"{secret:x}"[:40], f"{secret:X}"[:40]])
    return out


def assert_clean(text: str, where: str) -> None:
    folded = text.lower()
    for secret in secret_strings():
        assert secret.lower() not in folded, f"secret material in {where}"


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PFX_PASSWORD", PASSWORD)
    (tmp_path / "root.pem").write_bytes(root().cert.public_bytes(Encoding.PEM))
    key, cert = issued().key, issued().cert
    (tmp_path / "new.pfx").write_bytes(pkcs12.serialize_key_and_certificates(
        b"da", key, cert, [intermediate().cert], BestAvailableEncryption(PASSWORD.encode())))
    (tmp_path / "bundle.pem").write_bytes(
        cert.public_bytes(Encoding.PEM)
        + key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
        + intermediate().cert.public_bytes(Encoding.PEM))
    (tmp_path / "encrypted.pem").write_bytes(
        cert.public_bytes(Encoding.PEM)
        + key.private_bytes(Encoding.PEM, PrivateFormat.TraditionalOpenSSL,
                            BestAvailableEncryption(PASSWORD.encode()))
        + intermediate().cert.public_bytes(Encoding.PEM))
    (tmp_path / "password.txt").write_text(PASSWORD + "\n")
    (tmp_path / "wrong.txt").write_text("wrong-" + PASSWORD + "\n")
    return tmp_path


@pytest.mark.parametrize("fmt", [f.value for f in OutputFormat])
@pytest.mark.parametrize("name", ["new.pfx", "bundle.pem", "encrypted.pem"])
def test_no_secret_in_any_format(folder: Path, fmt: str, name: str,
                                 capsys: pytest.CaptureFixture[str],
                                 caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    output = folder / f"report.{fmt}"
    base = ["cert", str(folder / name), "--url", URL, "--url", "https://da2.contoso.com/IPHTTPS",
            "--ca-file", str(folder / "root.pem"), "--offline", "--format", fmt]
    code = main([*base, "--password-env", "PFX_PASSWORD"])
    out, err = capsys.readouterr()
    assert code in (0, 1, 2), err
    assert out.strip(), "the report is empty"
    assert_clean(out, f"stdout ({fmt})")
    assert_clean(err, f"stderr ({fmt})")
    code = main([*base, "--password-file", str(folder / "password.txt"), "--output", str(output),
                 "--debug"])
    out, err = capsys.readouterr()
    assert code in (0, 1, 2), err
    assert_clean(output.read_text(encoding="utf-8"), f"--output ({fmt})")
    assert_clean(out + err, f"console with --output ({fmt})")
    assert_clean("\n".join(r.getMessage() for r in caplog.records), "log records")


@pytest.mark.parametrize("name", ["new.pfx", "encrypted.pem"])
def test_no_secret_on_the_error_paths(folder: Path, name: str,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    for extra in (["--password-file", str(folder / "wrong.txt")], []):
        code = main(["cert", str(folder / name), "--debug", *extra])
        out, err = capsys.readouterr()
        assert code == 3
        assert_clean(out + err, "error output")
        assert "password" in err  # the line says what is wrong, without the password


def test_the_search_finds_planted_secrets() -> None:
    for secret in (PASSWORD, secret_strings()[3], secret_strings()[-1]):
        with pytest.raises(AssertionError):
            assert_clean(f"report text {secret.upper()} more text", "planted")
