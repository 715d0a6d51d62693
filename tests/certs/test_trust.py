"""Trust-store loading and certification-path building."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

from daserver_check.certs import trust as trust_module
from daserver_check.certs.analysis import analyse_chain
from daserver_check.certs.chain import MAX_PATH_LENGTH, PathEnd, build_path
from daserver_check.certs.trust import TrustStore, TrustStoreError, load_trust_store
from daserver_check.model import Status

from .pki import HOST, NOW, Issued, intermediate, make_ca, make_leaf, resign, root, rsa_key


def _pem(*certs: x509.Certificate) -> bytes:
    return b"".join(cert.public_bytes(Encoding.PEM) for cert in certs)


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


# ---------------------------------------------------------------- --ca-file


def test_pem_bundle(tmp_path: Path) -> None:
    path = _write(tmp_path, "bundle.pem", b"# comment\n" + _pem(root().cert, intermediate().cert))
    store = load_trust_store(path)
    assert store.source == path
    assert store.roots == (root().cert, intermediate().cert)


def test_duplicates_are_dropped(tmp_path: Path) -> None:
    path = _write(tmp_path, "dup.pem", _pem(root().cert, root().cert))
    assert load_trust_store(path).roots == (root().cert,)


def test_single_der_certificate(tmp_path: Path) -> None:
    path = _write(tmp_path, "root.cer", root().cert.public_bytes(Encoding.DER))
    assert load_trust_store(path).roots == (root().cert,)


def test_pkcs7_bundles(tmp_path: Path) -> None:
    certs = [root().cert, intermediate().cert]
    pem = _write(tmp_path, "b.p7b", pkcs7.serialize_certificates(certs, Encoding.PEM))
    der = _write(tmp_path, "b.p7c", pkcs7.serialize_certificates(certs, Encoding.DER))
    assert set(load_trust_store(pem).roots) == set(certs)
    assert set(load_trust_store(der).roots) == set(certs)


def test_openssl_trusted_certificate_block(tmp_path: Path) -> None:
    der = root().cert.public_bytes(Encoding.DER) + bytes.fromhex("3006300406022b06")  # + aux
    body = base64.encodebytes(der)
    data = b"-----BEGIN TRUSTED CERTIFICATE-----\n" + body + b"-----END TRUSTED CERTIFICATE-----\n"
    assert load_trust_store(_write(tmp_path, "t.pem", data)).roots == (root().cert,)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "is empty"),
        (b"  \n", "is empty"),
        (b"hello, not a certificate\n", "contains no PEM certificate"),
        (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
         "contains no PEM certificate"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
         "certificate #1 cannot be parsed"),
        (b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "not base64"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n", "no END line"),
    ],
)
def test_bad_files(tmp_path: Path, content: bytes, message: str) -> None:
    path = _write(tmp_path, "bad.pem", content)
    with pytest.raises(TrustStoreError) as caught:
        load_trust_store(path)
    text = str(caught.value)
    assert text.startswith(f"--ca-file {path}: ") and message in text
    assert "\n" not in text


def test_missing_file(tmp_path: Path) -> None:
    path = str(tmp_path / "nope.pem")
    with pytest.raises(TrustStoreError, match=r"^--ca-file .*nope\.pem: no such file$"):
        load_trust_store(path)


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(TrustStoreError, match="is a directory"):
        load_trust_store(str(tmp_path))


def test_too_large(tmp_path: Path) -> None:
    path = tmp_path / "huge.pem"
    with open(path, "wb") as handle:
        handle.truncate(trust_module.MAX_FILE_BYTES + 1)  # sparse: instant
    with pytest.raises(TrustStoreError, match="larger than 10 MB"):
        load_trust_store(str(path))


def test_unreadable(tmp_path: Path) -> None:
    """A path through a regular file fails to stat even for root (chmod 0 would not)."""
    parent = _write(tmp_path, "plain", b"x")
    with pytest.raises(TrustStoreError, match=r"cannot be read: |no such file"):  # Windows: ENOENT
        load_trust_store(os.path.join(parent, "ca.pem"))


# ---------------------------------------------------------------- system store


@pytest.fixture
def fresh_system_cache() -> Iterator[None]:
    trust_module._system_store.cache_clear()
    yield
    trust_module._system_store.cache_clear()


def test_system_store_is_cached(fresh_system_cache: None) -> None:
    first = load_trust_store(None)
    assert first.source == "system"
    assert load_trust_store("") is first


def test_system_store_reads_cafile_and_capath(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_system_cache: None
) -> None:
    cafile = _write(tmp_path, "ca.pem", _pem(root().cert) + b"-----BEGIN CERTIFICATE-----\nA")
    capath = tmp_path / "certs"
    capath.mkdir()
    (capath / "0a1b2c3d.0").write_bytes(_pem(intermediate().cert))
    (capath / "0a1b2c3d.r0").write_bytes(b"a CRL, ignored")
    (capath / "bundle.crt").write_bytes(b"not a hash name, ignored")
    (capath / "1a1b2c3d.0").write_bytes(b"garbage is skipped in the system store")
    monkeypatch.setenv("SSL_CERT_FILE", cafile)
    monkeypatch.setenv("SSL_CERT_DIR", str(capath))
    store = load_trust_store(None)
    assert store.source == "system"
    assert set(store.roots) == {root().cert, intermediate().cert}


def test_empty_system_store_is_undecided(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fresh_system_cache: None
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "none.pem"))
    monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path / "none"))
    if os.name == "nt":
        pytest.skip("the Windows ROOT store is always read")
    store = load_trust_store(None)
    assert store.roots == ()
    findings = {f.id: f for f in analyse_chain([make_leaf().cert], HOST, trust=store, now=NOW)}
    assert findings["cert.trust"].status is Status.ERROR
    assert findings["cert.chain"].status is Status.ERROR


# ---------------------------------------------------------------- path building


def test_path_through_served_certificates_in_any_order() -> None:
    leaf = make_leaf()
    path = build_path([leaf.cert, root().cert, intermediate().cert], [root().cert])
    assert path.trusted and path.end is PathEnd.ANCHOR
    assert [s.cert for s in path.steps] == [leaf.cert, intermediate().cert, root().cert]
    assert path.not_served() == []


def test_path_takes_intermediate_from_the_store() -> None:
    path = build_path([make_leaf().cert], [root().cert, intermediate().cert])
    assert path.trusted
    assert path.not_served() == [intermediate().cert]


def test_store_intermediate_as_anchor_counts_as_not_served() -> None:
    path = build_path([make_leaf().cert], [intermediate().cert])
    assert path.trusted and path.not_served() == [intermediate().cert]


def test_sha1_signed_chain_is_still_followed() -> None:
    ca_key = rsa_key("ca:Contoso Test Root CA")
    old_ca = resign(intermediate().cert, ca_key, hash_name="sha1")
    leaf = resign(make_leaf().cert, rsa_key("ca:Contoso Test Issuing CA"), hash_name="md5")
    path = build_path([leaf, old_ca], [root().cert])
    assert path.trusted and len(path.steps) == 3


def test_loop_terminates() -> None:
    """X issued by Y and Y issued by X: the search must stop, not spin."""
    key_x, key_y = rsa_key("ca:Contoso Test Issuing CA"), rsa_key("ca:Contoso Test Root CA")
    y_root = make_ca("Loop Y", key=key_y)
    x = make_ca("Loop X", issuer=y_root, key=key_x)
    y = make_ca("Loop Y", issuer=x, key=key_y)
    leaf = make_leaf(x)
    path = build_path([leaf.cert, x.cert, y.cert], [root().cert])
    assert not path.trusted
    assert len(path.steps) == 3


def test_too_long_chain_stops() -> None:
    key = rsa_key("ca:Contoso Test Issuing CA")
    cas: list[Issued] = []
    issuer = root()
    for index in range(MAX_PATH_LENGTH + 2):
        issuer = make_ca(f"Level {index} CA", issuer=issuer, key=key)
        cas.append(issuer)
    leaf = make_leaf(issuer)
    chain = [leaf.cert, *(ca.cert for ca in reversed(cas))]
    path = build_path(chain, [root().cert])
    assert path.end is PathEnd.TOO_LONG and len(path.steps) == MAX_PATH_LENGTH
    findings = {f.id: f for f in analyse_chain(chain, HOST, trust=TrustStore((root().cert,), "r"),
                                               now=NOW)}
    assert findings["cert.trust"].status is Status.FAIL
    assert findings["cert.chain"].status is Status.WARN


def test_many_decoys_are_bounded() -> None:
    """Hundreds of certificates with the issuer's name but the wrong key: the search gives up
    after a bounded number of signature checks instead of exploring them all."""
    impostor_key = rsa_key("other")
    decoy_template = make_ca("Contoso Test Issuing CA", issuer=root(), key=impostor_key)
    decoys = [
        resign(decoy_template.cert, rsa_key("ca:Contoso Test Root CA"), edit_tbs=_with_serial(n))
        for n in range(1, 120)
    ]
    started = time.monotonic()
    chain = [make_leaf().cert, *decoys, intermediate().cert]
    path = build_path(chain, [root().cert])
    assert path.end is PathEnd.LIMIT
    findings = analyse_chain(chain, HOST, trust=TrustStore((root().cert,), "r"), now=NOW)
    assert time.monotonic() - started < 5
    by_id = {f.id: f for f in findings}
    assert by_id["cert.chain"].status is Status.ERROR
    assert by_id["cert.validity"].evidence["chain_truncated"] is True
    assert len(by_id["cert.chain"].evidence["served"]) == 32


def _with_serial(number: int) -> Callable[[list[bytes]], list[bytes]]:
    """A TBS edit giving the certificate serial `number` (< 128), so decoys differ."""

    def edit(fields: list[bytes]) -> list[bytes]:
        return [fields[0], bytes([0x02, 0x01, number]), *fields[2:]]

    return edit
