"""cert.crl in a probe: the served chain checked as clients check it, leaf and CAs, base and
delta CRLs, all over loopback (issue 11 item 5)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from daserver_check.cli import main
from daserver_check.lab.server import LabConfig, LabEndpoint
from tests.certs.pki import HOST, Issued, cdp, intermediate, make_crl, make_leaf, root, with_extensions
from tests.certs.test_crl import CrlServer, server  # noqa: F401 (fixture)
from tests.probe.openssl_server import s_server

URL = f"https://{HOST}/IPHTTPS"


def probe(port: int, ca: Path, capsys: pytest.CaptureFixture[str], *extra: str
          ) -> tuple[int, dict[str, object]]:
    code = main(["probe", URL, "--connect", f"127.0.0.1:{port}", "--ca-file", str(ca),
                 "--timeout", "4", "--format", "json", *extra])
    doc = json.loads(capsys.readouterr().out)
    crl = next(f for f in doc["targets"][0]["findings"] if f["id"] == "cert.crl")
    return code, crl


def chain_files(folder: Path, leaf: Issued, ca: Issued) -> tuple[Path, Path, Path, Path]:
    key = folder / "key.pem"
    key.write_bytes(leaf.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    cert = folder / "cert.pem"
    cert.write_bytes(leaf.cert.public_bytes(Encoding.PEM))
    chain = folder / "chain.pem"  # served after the leaf (s_server -cert_chain)
    chain.write_bytes(ca.cert.public_bytes(Encoding.PEM))
    trust = folder / "root.pem"
    trust.write_bytes(root().cert.public_bytes(Encoding.PEM))
    return key, cert, chain, trust


def with_cdp(issued: Issued, signer: Issued, url: str) -> Issued:
    return with_extensions(issued, signer.key, [cdp(url)])


def test_revoked_intermediate_fails_naming_it(server: CrlServer, tmp_path: Path,  # noqa: F811
                                              capsys: pytest.CaptureFixture[str]) -> None:
    ca = with_cdp(intermediate(), root(), server.url("/root.crl"))
    leaf = with_cdp(make_leaf(ca), ca, server.url("/issuing.crl"))
    server.serve("/root.crl", make_crl(root(), revoked=[ca.cert.serial_number])
                 .public_bytes(Encoding.DER))
    server.serve("/issuing.crl", make_crl(ca).public_bytes(Encoding.DER))
    key, cert, chain, trust = chain_files(tmp_path, leaf, ca)
    with s_server((key, cert), "-cert_chain", str(chain)) as srv:
        code, crl = probe(srv.port, trust, capsys, "--profile", "windows7")
        assert crl["status"] == "fail", json.dumps(crl, indent=1)[:3000]
        assert crl["predicts"] == ["0x80092010"]
        assert "Contoso Test Issuing CA" in str(crl["title"])
        assert code == 2
        assert "/root.crl" in server.hits and "/issuing.crl" in server.hits
        hits = len(server.hits)
        _code, crl = probe(srv.port, trust, capsys, "--offline")
        assert crl["status"] == "skip" and "--offline" in str(crl["detail"])
        assert len(server.hits) == hits  # nothing fetched


def test_delta_crl_is_fetched_and_can_revoke(server: CrlServer, tmp_path: Path,  # noqa: F811
                                             capsys: pytest.CaptureFixture[str]) -> None:
    ca = intermediate()
    leaf = with_cdp(make_leaf(ca), ca, server.url("/base.crl"))
    now = datetime.now(UTC)
    base = (x509.CertificateRevocationListBuilder().issuer_name(ca.cert.subject)
            .last_update(now - timedelta(days=1)).next_update(now + timedelta(days=7))
            .add_extension(x509.CRLNumber(5), critical=False)
            .add_extension(x509.FreshestCRL([x509.DistributionPoint(
                [x509.UniformResourceIdentifier(server.url("/delta.crl"))], None, None, None)]),
                critical=False)
            .sign(ca.key, hashes.SHA256()))  # type: ignore[arg-type]
    delta = (x509.CertificateRevocationListBuilder().issuer_name(ca.cert.subject)
             .last_update(now - timedelta(hours=1)).next_update(now + timedelta(days=1))
             .add_extension(x509.CRLNumber(6), critical=False)
             .add_extension(x509.DeltaCRLIndicator(5), critical=True)
             .add_revoked_certificate(x509.RevokedCertificateBuilder()
                                      .serial_number(leaf.cert.serial_number)
                                      .revocation_date(now - timedelta(minutes=5)).build())
             .sign(ca.key, hashes.SHA256()))  # type: ignore[arg-type]
    server.serve("/base.crl", base.public_bytes(Encoding.DER))
    key, cert, chain, trust = chain_files(tmp_path, leaf, ca)
    with s_server((key, cert), "-cert_chain", str(chain)) as srv:
        # No delta published yet: a client that checks revocation cannot (KB 2980672).
        _code, crl = probe(srv.port, trust, capsys, "--profile", "windows7")
        assert crl["status"] == "fail" and crl["predicts"] == ["0x80092013"], crl
        assert "delta" in str(crl["detail"])
        _code, crl = probe(srv.port, trust, capsys)  # default profile: no Windows 7
        assert crl["status"] == "warn", crl
        server.serve("/delta.crl", delta.public_bytes(Encoding.DER))
        _code, crl = probe(srv.port, trust, capsys)
        assert crl["status"] == "fail" and crl["predicts"] == ["0x80092010"], crl


@pytest.fixture(scope="module")
def labs() -> Iterator[dict[str, LabEndpoint]]:
    made = {name: LabEndpoint(LabConfig(name=HOST, faults=frozenset(faults))).start()
            for name, faults in (("healthy", ()), ("revoked", ("revoked",)),
                                 ("unreachable", ("crl-unreachable",)))}
    try:
        yield made
    finally:
        for lab in made.values():
            lab.stop()


@pytest.mark.parametrize(("lab_name", "profile", "status", "code"), [
    ("healthy", "default", "pass", None),
    ("revoked", "default", "fail", "0x80092010"),
    ("unreachable", "default", "warn", "0x80092013"),
    ("unreachable", "windows7", "fail", "0x80092013"),
])
def test_the_lab_serves_its_own_crl(labs: dict[str, LabEndpoint], lab_name: str, profile: str,
                                    status: str, code: str | None,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    lab = labs[lab_name]
    _rc, crl = probe(lab.port, lab.files.ca_file, capsys, "--profile", profile)
    assert crl["status"] == status, crl
    assert crl["predicts"] == ([code] if code else [])
