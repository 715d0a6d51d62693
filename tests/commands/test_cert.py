"""`daserver-check cert FILE`: each certificate defect maps to the contract's finding id, status
and predicted client code; unusable input is one line and exit 3; names are judged per --url;
--against compares with what the lab serves; the rollout section appears only without a fail."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    pkcs12,
)

from daserver_check.certs.x509util import sha1_thumbprint
from daserver_check.cli import main
from daserver_check.lab.pki import cached_key
from daserver_check.lab.server import LabConfig, LabEndpoint
from tests.certs.pki import (
    CLIENT_AUTH,
    HOST,
    Issued,
    cdp,
    intermediate,
    make_ca,
    make_crl,
    make_leaf,
    root,
    rsa_key,
    with_extensions,
)
from tests.certs.test_crl import CrlServer

URL = f"https://{HOST}/IPHTTPS"
PASSWORD = "S3cret-for-tests"
NOW = datetime.now(UTC)


def fresh(*, crl: bool = True, **kw: Any) -> Issued:
    """A leaf valid around the real clock (the command judges dates against now), with an
    http:// CDP unless `crl` is False (the tests that are not about CRLs run --offline)."""
    kw.setdefault("not_before", NOW - timedelta(days=1))
    kw.setdefault("not_after", NOW + timedelta(days=365))
    issued = make_leaf(**kw)
    if not crl:
        return issued
    signer = issued.key if kw.get("self_signed") else (kw.get("issuer") or intermediate()).key
    return with_extensions(issued, signer, [cdp("http://crl.contoso.test/issuing.crl")])


@functools.cache
def good() -> Issued:
    return fresh()


def pfx_bytes(key: Any, cert: x509.Certificate | None, cas: list[x509.Certificate],
              password: str | None = PASSWORD) -> bytes:
    encryption = BestAvailableEncryption(password.encode()) if password else NoEncryption()
    return pkcs12.serialize_key_and_certificates(b"da", key, cert, cas, encryption)


@pytest.fixture
def files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PFX_PASSWORD", PASSWORD)
    (tmp_path / "root.pem").write_bytes(root().cert.public_bytes(Encoding.PEM))
    (tmp_path / "issuing.cer").write_bytes(intermediate().cert.public_bytes(Encoding.DER))
    return tmp_path


def write_pfx(folder: Path, issued: Issued | None = None, *, key: Any = "same",
              chain: bool = True, name: str = "new.pfx") -> str:
    issued = issued or good()
    the_key = issued.key if key == "same" else key
    cas = [intermediate().cert] if chain else []
    path = folder / name
    path.write_bytes(pfx_bytes(the_key, issued.cert, cas))
    return str(path)


def cert_json(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, Any]:
    code = main(["cert", *args, "--format", "json"])
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    report: dict[str, Any] = json.loads(out)
    report["exit"] = code
    return report


def standard(folder: Path, path: str, *extra: str) -> list[str]:
    return [path, "--url", URL, "--password-env", "PFX_PASSWORD",
            "--ca-file", str(folder / "root.pem"), *extra]


def findings(report: dict[str, Any], fid: str) -> list[dict[str, Any]]:
    return [f for f in report["targets"][0]["findings"] if f["id"] == fid]


def one(report: dict[str, Any], fid: str) -> dict[str, Any]:
    (f,) = findings(report, fid)
    return f


# ---------------------------------------------------------------- healthy


def test_healthy_pfx_passes(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = cert_json(capsys, *standard(files, write_pfx(files), "--offline"))
    bad = [f"{f['id']}={f['status']}: {f['detail']}" for f in report["targets"][0]["findings"]
           if f["status"] != "pass"]
    assert bad == []
    assert report["exit"] == 0 and report["command"] == "cert"
    target = report["targets"][0]
    assert target["target"] == str(files / "new.pfx")
    assert all(f["address"] is None for f in target["findings"])
    ids = [f["id"] for f in target["findings"]]
    assert ids == ["cert.subject-name", "cert.subject-extra", "cert.san", "cert.eku",
                   "cert.validity", "cert.trust", "cert.chain", "cert.key", "cert.signature",
                   "cert.private-key", "cert.crl", "cert.rollout"]
    rollout = one(report, "cert.rollout")["evidence"]
    assert rollout["sha1"] == sha1_thumbprint(good().cert)
    assert rollout["sha256"] == good().cert.fingerprint(hashes.SHA256()).hex().upper()


def test_rollout_section_only_without_fail(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sha1 = sha1_thumbprint(good().cert)
    assert main(["cert", *standard(files, write_pfx(files), "--offline")]) == 0
    text = capsys.readouterr().out
    assert "  Rollout" in text and f"SHA-1 thumbprint: {sha1}" in text
    assert f"Set-RemoteAccess -SslCertificate (Get-ChildItem Cert:\\LocalMachine\\My\\{sha1})" in text
    assert (f"netsh http add sslcert ipport=0.0.0.0:443 certhash={sha1} "
            "appid=\"{5d8e2743-ef20-4d38-8751-7e400f200e65}\" dsmapperusage=enable") in text
    assert "Import-PfxCertificate" in text

    broken = write_pfx(files, fresh(cns=("www.contoso.com",)), name="bad.pfx")
    assert main(["cert", *standard(files, broken, "--offline")]) == 2
    text = capsys.readouterr().out
    assert "Rollout" not in text.replace("cert.rollout", "")
    assert "netsh http add sslcert" not in text


# ---------------------------------------------------------------- defects → contract


def _untrusted() -> Issued:
    other_root = make_ca("Fabrikam Untrusted Root", key=rsa_key("fabrikam"))
    return fresh(issuer=other_root)


DEFECTS: list[tuple[str, Any, str, str, list[str]]] = [
    ("wrong subject", lambda: fresh(cns=("www.contoso.com",)), "cert.subject-name", "fail",
     ["0x103"]),
    ("subject without CN (SAN only)", lambda: fresh(cns=(), org="Contoso"), "cert.subject-name",
     "fail", ["0x103"]),
    ("subject extra", lambda: fresh(cns=(HOST, "https://da.contoso.com/IPHTTPS")),
     "cert.subject-extra", "fail", ["0x103"]),
    ("SAN forgets the host", lambda: fresh(san=("other.contoso.com",)), "cert.san", "fail",
     ["0x103"]),
    ("no SAN (CN only)", lambda: fresh(san=None), "cert.san", "warn", []),
    ("no Server Authentication EKU", lambda: fresh(eku=(CLIENT_AUTH,)), "cert.eku", "fail",
     ["0x103"]),
    ("expired", lambda: fresh(not_before=NOW - timedelta(days=400),
                              not_after=NOW - timedelta(days=2)),
     "cert.validity", "fail", ["0x800B0101"]),
    ("untrusted root", _untrusted, "cert.trust", "fail", ["0x800B0109"]),
    ("self-signed", lambda: fresh(self_signed=True), "cert.trust", "warn", ["0x800B0109"]),
    ("RSA 1024", lambda: fresh(key_bits=1024), "cert.key", "fail", []),
]


@pytest.mark.parametrize(("make", "fid", "status", "predicts"),
                         [pytest.param(m, f, s, p, id=name) for name, m, f, s, p in DEFECTS])
def test_certificate_defects(files: Path, capsys: pytest.CaptureFixture[str], make: Any,
                             fid: str, status: str, predicts: list[str]) -> None:
    issued = make()
    chain = issued.cert.issuer != issued.cert.subject
    report = cert_json(capsys, *standard(files, write_pfx(files, issued, chain=chain),
                                         "--offline"))
    finding = one(report, fid)
    assert (finding["status"], finding["predicts"]) == (status, predicts), finding["detail"]
    assert report["exit"] == (2 if status == "fail" or report["status"] == "fail" else 1)


def test_pfx_without_key(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = files / "nokey.pfx"
    path.write_bytes(pfx_bytes(None, good().cert, [intermediate().cert]))
    report = cert_json(capsys, *standard(files, str(path), "--offline"))
    finding = one(report, "cert.private-key")
    assert (finding["status"], finding["predicts"]) == ("fail", ["0x103"])
    assert report["exit"] == 2


def test_pfx_with_mismatched_key(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = files / "mismatch.pfx"
    path.write_bytes(pfx_bytes(rsa_key("stranger"), None, [good().cert, intermediate().cert]))
    report = cert_json(capsys, *standard(files, str(path), "--offline"))
    finding = one(report, "cert.private-key")
    assert (finding["status"], finding["predicts"]) == ("fail", ["0x103"])
    assert finding["evidence"]["matches"] is False


def test_missing_intermediate_and_chain_option(files: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    path = write_pfx(files, chain=False)
    report = cert_json(capsys, *standard(files, path, "--offline"))
    trust = one(report, "cert.trust")
    assert (trust["status"], trust["predicts"]) == ("fail", ["0x800B0109"])
    report = cert_json(capsys, *standard(files, path, "--offline", "--chain",
                                         str(files / "issuing.cer")))
    assert one(report, "cert.trust")["status"] == "pass"
    assert one(report, "cert.chain")["status"] == "pass"


def test_keyless_cer_warns_and_offers_certreq(files: Path,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = files / "new.cer"
    path.write_bytes(good().cert.public_bytes(Encoding.DER))
    report = cert_json(capsys, str(path), "--url", URL, "--ca-file", str(files / "root.pem"),
                       "--chain", str(files / "issuing.cer"), "--offline")
    assert one(report, "cert.private-key")["status"] == "warn"
    steps = one(report, "cert.rollout")["evidence"]["steps"]
    assert steps[0]["command"] == "certreq -accept new.cer"
    assert report["exit"] == 1


def test_pem_bundle_with_key(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = files / "bundle.pem"
    key = good().key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                   BestAvailableEncryption(PASSWORD.encode()))
    path.write_bytes(intermediate().cert.public_bytes(Encoding.PEM) + key
                     + good().cert.public_bytes(Encoding.PEM))
    report = cert_json(capsys, *standard(files, str(path), "--offline"))
    assert report["exit"] == 0
    assert one(report, "cert.private-key")["status"] == "pass"


def test_legacy_3des_pfx(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    encryption = (
        PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2000)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())
        .build(PASSWORD.encode())
    )
    path = files / "old.pfx"
    path.write_bytes(pkcs12.serialize_key_and_certificates(
        b"da", good().key, good().cert, [intermediate().cert], encryption))
    report = cert_json(capsys, *standard(files, str(path), "--offline"))
    assert report["exit"] == 0


# ---------------------------------------------------------------- several URLs


def test_names_judged_once_per_url(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    issued = fresh(cns=(HOST,), san=(HOST, "da2.contoso.com"))
    url2, url3 = "https://da2.contoso.com/IPHTTPS", "https://da3.contoso.com/IPHTTPS"
    report = cert_json(capsys, *standard(files, write_pfx(files, issued), "--url", url2,
                                         "--url", url3, "--offline"))
    for fid in ("cert.subject-name", "cert.subject-extra", "cert.san"):
        found = findings(report, fid)
        assert [f["evidence"]["url"] for f in found] == [URL, url2, url3]
        assert all(f["detail"].startswith(f["evidence"]["url"]) for f in found)
    names = findings(report, "cert.subject-name")
    assert [f["status"] for f in names] == ["pass", "fail", "fail"]
    sans = findings(report, "cert.san")
    assert [f["status"] for f in sans] == ["pass", "pass", "fail"]
    # Both verdicts for each URL: DirectAccess (CN) and RFC 6125 (SAN).
    verdicts = [(f["evidence"]["directaccess_verdict"]["ok"], f["evidence"]["rfc6125_verdict"]["ok"])
                for f in sans]
    assert verdicts == [(True, True), (False, True), (False, False)]
    assert len(findings(report, "cert.eku")) == 1


def test_without_url_the_name_checks_skip(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    report = cert_json(capsys, write_pfx(files), "--password-env", "PFX_PASSWORD",
                       "--ca-file", str(files / "root.pem"), "--offline")
    assert one(report, "cert.subject-name")["status"] == "skip"
    assert report["exit"] == 0


# ---------------------------------------------------------------- CRL end to end


@pytest.fixture
def crl_server() -> Iterator[CrlServer]:
    srv = CrlServer()
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.stop.set()
        srv.httpd.shutdown()
        srv.httpd.server_close()


@pytest.mark.parametrize(("revoke", "status", "predicts"),
                         [(False, "pass", []), (True, "fail", ["0x80092010"])])
def test_crl_fetched_from_the_cdp(files: Path, capsys: pytest.CaptureFixture[str],
                                  crl_server: CrlServer, revoke: bool, status: str,
                                  predicts: list[str]) -> None:
    issued = with_extensions(fresh(crl=False), intermediate().key,
                             [cdp(crl_server.url("/ca.crl"))])
    revoked = [issued.cert.serial_number] if revoke else []
    crl_server.serve("/ca.crl", make_crl(intermediate(), revoked=revoked).public_bytes(Encoding.DER))
    report = cert_json(capsys, *standard(files, write_pfx(files, issued), "--timeout", "3"))
    finding = one(report, "cert.crl")
    assert (finding["status"], finding["predicts"]) == (status, predicts), finding["detail"]


def test_crl_unreachable(files: Path, capsys: pytest.CaptureFixture[str],
                         unused_tcp_port: int) -> None:
    issued = with_extensions(fresh(crl=False), intermediate().key,
                             [cdp(f"http://127.0.0.1:{unused_tcp_port}/ca.crl")])
    # Windows 7 clients enforce the check (KB 2980672); without --profile the default profile
    # (no Windows 7) would make this a warning (issue 11: no profile means default).
    report = cert_json(capsys, *standard(files, write_pfx(files, issued), "--timeout", "2",
                                         "--profile", "windows7"))
    finding = one(report, "cert.crl")
    assert (finding["status"], finding["predicts"]) == ("fail", ["0x80092013"])
    assert report["exit"] == 2


# ---------------------------------------------------------------- unusable input: exit 3


def error_line(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    code = main(["cert", *args])
    out, err = capsys.readouterr()
    assert code == 3, err
    assert out == ""
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    return lines[0]


def test_unusable_files(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pfx = write_pfx(files)
    (files / "empty.pfx").write_bytes(b"")
    (files / "corrupt.pfx").write_bytes(b"\x30\x82\x01\x00" + b"\x00" * 300)
    (files / "key.pem").write_bytes(good().key.private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    (files / "wrong").write_text("not-the-password\n")
    cases = {
        "wrong password": ([pfx, "--password-file", str(files / "wrong")], "wrong password"),
        "no password, no terminal": ([pfx], "--password-env VAR or --password-file FILE"),
        "empty": ([str(files / "empty.pfx")], "is empty"),
        "corrupt": ([str(files / "corrupt.pfx")], "not a certificate file"),
        "directory": ([str(files)], "is a directory"),
        "missing": ([str(files / "nope.pfx")], "no such file"),
        "key only": ([str(files / "key.pem")], "private key but no certificate"),
        "unset variable": ([pfx, "--password-env", "NO_SUCH_VARIABLE_HERE"], "is not set"),
        "bad url": ([pfx, "--url", "http://da.contoso.com/IPHTTPS"], "is not https"),
        "connect alone": ([pfx, "--connect", "127.0.0.1"], "--connect applies to --against"),
        "bad timeout": ([pfx, "--timeout", "0"], "--timeout"),
        "bad chain": ([pfx, "--password-env", "PFX_PASSWORD", "--chain",
                       str(files / "empty.pfx")], "--chain"),
    }
    for name, (args, expected) in cases.items():
        line = error_line(capsys, *args)
        assert expected in line, (name, line)
        assert PASSWORD not in line


def test_password_options_exclude_each_other(files: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["cert", write_pfx(files), "--password-env", "PFX_PASSWORD", "--password-file",
              str(files / "x")])
    assert info.value.code == 3
    assert "not allowed with" in capsys.readouterr().err


def test_password_file_forms(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pfx = write_pfx(files)
    forms = {
        "plain.txt": PASSWORD.encode() + b"\r\n",
        "utf16.txt": "\ufeff".encode("utf-16-le") + (PASSWORD + "\r\n").encode("utf-16-le"),
    }
    for name, data in forms.items():
        (files / name).write_bytes(data)
        code = main(["cert", pfx, "--password-file", str(files / name), "--offline",
                     "--ca-file", str(files / "root.pem"), "--format", "json"])
        capsys.readouterr()
        assert code == 0, name


def test_prompt_only_on_a_terminal(files: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import getpass

    from daserver_check.commands import cert as cert_command

    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return PASSWORD

    monkeypatch.setattr(getpass, "getpass", fake_getpass)
    pfx = write_pfx(files)
    unprotected = files / "open.pfx"
    unprotected.write_bytes(pfx_bytes(good().key, good().cert, [intermediate().cert], None))

    monkeypatch.setattr(cert_command, "_stdin_is_tty", lambda: True)
    args = ["--offline", "--ca-file", str(files / "root.pem"), "--format", "json"]
    assert main(["cert", pfx, *args]) == 0
    assert prompts == [f"Password for {pfx}: "]
    assert main(["cert", str(unprotected), *args]) == 0  # no password needed: no prompt
    assert main(["cert", pfx, "--password-env", "PFX_PASSWORD", *args]) == 0
    assert len(prompts) == 1
    capsys.readouterr()


# ---------------------------------------------------------------- --against the lab


@pytest.fixture(scope="module")
def lab() -> Iterator[LabEndpoint]:
    with LabEndpoint(LabConfig()) as endpoint:
        yield endpoint


def lab_issued(lab: LabEndpoint, **kw: Any) -> Issued:
    ca = Issued(lab.pki.ca_cert, cached_key("ca"))
    kw.setdefault("cns", ("da.lab.test",))
    kw.setdefault("san", ("da.lab.test",))
    kw.setdefault("not_after", NOW + timedelta(days=800))
    return fresh(issuer=ca, **kw)


def against(capsys: pytest.CaptureFixture[str], lab: LabEndpoint, folder: Path,
            issued: Issued, *extra: str) -> dict[str, Any]:
    path = folder / "next.pfx"
    path.write_bytes(pfx_bytes(issued.key, issued.cert, []))
    return cert_json(capsys, str(path), "--password-env", "PFX_PASSWORD", "--ca-file",
                     str(lab.ca_file), "--against", lab.url, "--connect",
                     f"127.0.0.1:{lab.port}", "--offline", "--timeout", "5", *extra)


def comparisons(finding: dict[str, Any]) -> dict[str, str]:
    return {row["aspect"]: row["status"] for row in finding["evidence"]["comparisons"]}


def test_against_drop_in_replacement(lab: LabEndpoint, files: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    report = against(capsys, lab, files, lab_issued(lab))
    finding = one(report, "cert.replacement")
    assert finding["status"] == "pass", finding["detail"]
    assert comparisons(finding) == {"names": "pass", "url host": "pass", "issuer chain": "pass",
                                    "key": "pass", "eku": "pass", "expiry": "pass"}
    assert finding["evidence"]["served_from"] == f"127.0.0.1:{lab.port}"
    assert finding["evidence"]["current"]["sha1"] == sha1_thumbprint(lab.pki.leaf_cert)
    # Without --url, the --against URL is the one the names are checked for.
    assert one(report, "cert.subject-name")["evidence"]["url"] == lab.url
    assert report["exit"] == 0


def test_against_name_not_covered(lab: LabEndpoint, files: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    report = against(capsys, lab, files, good(), "--url", URL)
    finding = one(report, "cert.replacement")
    assert (finding["status"], finding["predicts"]) == ("fail", ["0x103"])
    rows = comparisons(finding)
    assert rows["names"] == "fail" and rows["url host"] == "fail"
    assert rows["issuer chain"] == "warn"


def test_against_earlier_expiry_and_other_key_warns(lab: LabEndpoint, files: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    issued = lab_issued(lab, not_after=NOW + timedelta(days=30), key_type="ec")
    finding = one(against(capsys, lab, files, issued), "cert.replacement")
    assert (finding["status"], finding["predicts"]) == ("warn", [])
    rows = comparisons(finding)
    assert rows["expiry"] == "warn" and rows["key"] == "warn" and rows["names"] == "pass"


def test_against_unreachable_is_undecided(lab: LabEndpoint, files: Path,
                                          capsys: pytest.CaptureFixture[str],
                                          unused_tcp_port: int) -> None:
    path = files / "next.pfx"
    issued = lab_issued(lab)
    path.write_bytes(pfx_bytes(issued.key, issued.cert, []))
    report = cert_json(capsys, str(path), "--password-env", "PFX_PASSWORD", "--ca-file",
                       str(lab.ca_file), "--against", lab.url, "--connect",
                       f"127.0.0.1:{unused_tcp_port}", "--offline", "--timeout", "2")
    finding = one(report, "cert.replacement")
    assert finding["status"] == "error" and "refused" in finding["detail"]
    assert report["exit"] == 3


# ---------------------------------------------------------------- --profile


@pytest.mark.parametrize(
    ("profile", "status"),
    # Issue 11: no --profile means the default profile (was: the strictest reading, "fail").
    [(None, "warn"), ("windows7", "fail"), ("default", "warn")],
)
def test_missing_cdp_depends_on_windows7_clients(
    files: Path, capsys: pytest.CaptureFixture[str], profile: str | None, status: str
) -> None:
    # KB 2980672: Windows 7 enforces the IP-HTTPS CRL check, Windows 8+ do not.
    path = write_pfx(files, fresh(crl=False), name="nocdp.pfx")
    extra = ["--profile", profile] if profile else []
    report = cert_json(capsys, *standard(files, path, *extra))
    crl = one(report, "cert.crl")
    assert crl["status"] == status
    # Issue 11: a missing CDP is not documented as 0x80092013 (was asserted before).
    assert crl["predicts"] == ["0x80092012"]


def test_profile_expiry_horizon(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    soon = fresh(not_after=NOW + timedelta(days=45))
    path = write_pfx(files, soon, name="soon.pfx")
    relaxed = cert_json(capsys, *standard(files, path, "--offline", "--profile", "default"))
    assert one(relaxed, "cert.validity")["status"] == "pass"
    strict = cert_json(capsys, *standard(files, path, "--offline", "--profile", "strict"))
    assert one(strict, "cert.validity")["status"] == "warn"  # strict warns 60 days ahead


def test_unknown_profile_is_input_error(files: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cert", write_pfx(files), "--password-env", "PFX_PASSWORD",
                 "--profile", "nosuch"]) == 3
    assert "nosuch" in capsys.readouterr().err


# ---------------------------------------------------------------- names as Windows compares them


def write_pem(folder: Path, issued: Issued) -> str:
    """The certificate and its issuing CA as PEM, no key (a `.cer`-style check)."""
    path = folder / "names.pem"
    path.write_bytes(issued.cert.public_bytes(Encoding.PEM)
                     + intermediate().cert.public_bytes(Encoding.PEM))
    return str(path)


@pytest.mark.parametrize(
    ("name", "escaped"),
    [
        pytest.param(HOST + "\u200b", "da.contoso.com\\u200b", id="zero-width space"),
        pytest.param("\uff44\uff41.contoso.com", "\\uff44\\uff41.contoso.com", id="full-width"),
        pytest.param("da\u00df.contoso.com", "da\\u00df.contoso.com", id="sharp s"),
    ],
)
def test_invisible_and_look_alike_names_never_match(
    files: Path, capsys: pytest.CaptureFixture[str], name: str, escaped: str
) -> None:
    """A CN and SAN that IDNA would fold into the URL host do not name it: Windows compares
    the certificate's names as written. The detail shows the code points escaped."""
    report = cert_json(capsys, write_pem(files, fresh(cns=(name,), san=(name,))), "--url", URL,
                       "--ca-file", str(files / "root.pem"), "--offline")
    # The name findings never print it raw (it would look like the host); evidence keeps it.
    prose = [f["detail"] + f["title"] for f in report["targets"][0]["findings"]
             if f["id"] in ("cert.subject-name", "cert.subject-extra", "cert.san")]
    assert len(prose) == 3 and not any(name in text for text in prose)
    for fid in ("cert.subject-name", "cert.san"):
        finding = one(report, fid)
        assert finding["status"] == "fail", finding["detail"]
        assert finding["predicts"] == ["0x103"]
        assert escaped in finding["detail"]
        assert finding["evidence"]["unusable_characters"][escaped]
    extra = one(report, "cert.subject-extra")
    assert extra["status"] == "fail" and escaped in extra["detail"]
    assert report["exit"] == 2


def test_trailing_dot_cn_fails_for_windows_only(files: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    report = cert_json(capsys, write_pem(files, fresh(cns=(HOST + ".",), san=(HOST + ".",))),
                       "--url", URL, "--ca-file", str(files / "root.pem"), "--offline")
    subject = one(report, "cert.subject-name")
    assert subject["status"] == "fail"
    assert "ends with a dot" in subject["detail"] and "inferred" in subject["detail"]
    san = one(report, "cert.san")
    assert san["status"] == "fail"
    verdicts = san["evidence"]["directaccess_verdict"], san["evidence"]["rfc6125_verdict"]
    assert (verdicts[0]["ok"], verdicts[1]["ok"]) == (False, True)


def test_underscore_is_an_ordinary_character(files: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    host = "da_1.contoso.com"
    report = cert_json(capsys, write_pem(files, fresh(cns=(host,), san=(host,))),
                       "--url", f"https://{host}/IPHTTPS", "--ca-file", str(files / "root.pem"),
                       "--offline")
    for fid in ("cert.subject-name", "cert.subject-extra", "cert.san"):
        assert one(report, fid)["status"] == "pass", one(report, fid)["detail"]


# ---------------------------------------------------------------- paths and name constraints


def test_expired_cross_certificate_in_chain_is_not_a_validity_failure(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A leaf issued by the trusted root, and --chain with an expired cross-certificate of that
    root: CryptoAPI takes the shorter valid path, so the clients are fine."""
    old_root = make_ca("Fabrikam Old Root CA", key=rsa_key("ca:Fabrikam Old Root CA"))
    cross = make_ca("Contoso Test Root CA", issuer=old_root, key=rsa_key("ca:Contoso Test Root CA"),
                    not_before=NOW - timedelta(days=4000), not_after=NOW - timedelta(days=30))
    leaf_path, chain_path = files / "leaf.pem", files / "cross.pem"
    leaf_path.write_bytes(fresh(issuer=root(), crl=False).cert.public_bytes(Encoding.PEM))
    chain_path.write_bytes(cross.cert.public_bytes(Encoding.PEM))
    report = cert_json(capsys, str(leaf_path), "--chain", str(chain_path), "--url", URL,
                       "--ca-file", str(files / "root.pem"), "--offline")
    assert one(report, "cert.validity")["status"] != "fail"
    assert one(report, "cert.trust")["status"] == "pass"
    chain = one(report, "cert.chain")
    assert (chain["status"], chain["title"]) == (
        "warn", "The server sends an unneeded expired certificate")


def test_ca_whose_name_constraints_exclude_the_host_fails_trust(
    files: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    excluded = x509.NameConstraints(permitted_subtrees=None,
                                    excluded_subtrees=[x509.DNSName("contoso.com")])
    partner = with_extensions(make_ca("Contoso Partner CA", issuer=root()), root().key, [excluded])
    leaf_path = files / "leaf.pem"
    leaf_path.write_bytes(fresh(issuer=partner, crl=False).cert.public_bytes(Encoding.PEM)
                          + partner.cert.public_bytes(Encoding.PEM))
    report = cert_json(capsys, str(leaf_path), "--url", URL,
                       "--ca-file", str(files / "root.pem"), "--offline")
    trust = one(report, "cert.trust")
    assert (trust["status"], trust["predicts"]) == ("fail", ["0x800B0114"])
    assert "Contoso Partner CA" in trust["title"]
    assert "excluded dNSName 'contoso.com'" in trust["detail"]
    assert report["exit"] == 2
