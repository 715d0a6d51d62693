"""certs.load: every file format an admin brings, every way a file is unusable (one clear
CertLoadError line), the leaf choice, and arbitrary bytes never raising anything else."""

from __future__ import annotations

import contextlib
import functools
import os
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    pkcs7,
    pkcs12,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from daserver_check.certs.leaf import choose_leaf
from daserver_check.certs.load import (
    MAX_FILE_BYTES,
    CertLoadError,
    PasswordRequired,
    load_file,
    parse_bundle,
)
from daserver_check.certs.x509util import der
from tests.conftest import require_tool

from .pki import Issued, intermediate, make_leaf, root, rsa_key

PASSWORD = b"Corr3ct-Horse"


@functools.cache
def leaf() -> Issued:
    return make_leaf()


def pem(*certs: x509.Certificate) -> bytes:
    return b"".join(c.public_bytes(Encoding.PEM) for c in certs)


def key_pem(issued: Issued, password: bytes | None = None) -> bytes:
    encryption = BestAvailableEncryption(password) if password else NoEncryption()
    return issued.key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, encryption)


def pfx(key: object, cert: x509.Certificate | None, cas: list[x509.Certificate],
        password: bytes | None = PASSWORD) -> bytes:
    encryption = BestAvailableEncryption(password) if password else NoEncryption()
    return pkcs12.serialize_key_and_certificates(b"da", key, cert, cas, encryption)  # type: ignore[arg-type]


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


# ---------------------------------------------------------------- formats


def test_pem_with_chain_and_key_in_any_order() -> None:
    data = pem(root().cert, intermediate().cert) + key_pem(leaf()) + pem(leaf().cert)
    bundle = parse_bundle(data, password=None)
    assert bundle.kind == "PEM"
    assert len(bundle.certificates) == 3 and len(bundle.keys) == 1
    choice = choose_leaf(bundle)
    assert choice.leaf == leaf().cert
    assert choice.reason == "the certificate that matches the private key in the file"
    assert choice.chain[0] == leaf().cert and len(choice.chain) == 3


def test_der_certificate() -> None:
    bundle = parse_bundle(der(leaf().cert), password=None)
    assert bundle.kind == "DER certificate"
    assert choose_leaf(bundle).reason == "the only certificate in the file"


def test_der_containing_pem_armor_text_is_still_der() -> None:
    odd = make_leaf(org="-----BEGIN CERTIFICATE-----")
    bundle = parse_bundle(der(odd.cert), password=None)
    assert bundle.kind == "DER certificate" and bundle.certificates == (odd.cert,)


@pytest.mark.parametrize("encoding", [Encoding.DER, Encoding.PEM])
def test_pkcs7_bundle_picks_the_end_entity(encoding: Encoding) -> None:
    data = pkcs7.serialize_certificates([root().cert, intermediate().cert, leaf().cert], encoding)
    bundle = parse_bundle(data, password=None)
    assert bundle.kind == ("PKCS#7" if encoding is Encoding.DER else "PEM")
    choice = choose_leaf(bundle)
    assert choice.leaf == leaf().cert
    assert choice.reason == "the end-entity certificate (the others issue it)"


def test_pfx_with_key_and_chain() -> None:
    data = pfx(leaf().key, leaf().cert, [intermediate().cert, root().cert])
    bundle = parse_bundle(data, password=PASSWORD)
    assert bundle.kind == "PKCS#12" and bundle.password_used
    assert bundle.key_certificate == leaf().cert and len(bundle.keys) == 1
    assert choose_leaf(bundle).reason == "the certificate the PFX pairs with its key"
    assert "key" not in repr(bundle).replace("key_certificate", "")  # keys stay out of repr


def test_pfx_without_password() -> None:
    bundle = parse_bundle(pfx(leaf().key, leaf().cert, [], password=None), password=None)
    assert bundle.kind == "PKCS#12" and not bundle.password_used


def test_pfx_without_key_still_loads() -> None:
    bundle = parse_bundle(pfx(None, leaf().cert, [intermediate().cert]), password=PASSWORD)
    assert bundle.keys == () and bundle.key_certificate is None
    assert choose_leaf(bundle).leaf == leaf().cert


def test_pfx_with_mismatched_key_falls_back_to_the_end_entity() -> None:
    data = pfx(rsa_key("stranger"), None, [leaf().cert, intermediate().cert])
    bundle = parse_bundle(data, password=PASSWORD)
    assert len(bundle.keys) == 1
    assert choose_leaf(bundle).leaf == leaf().cert


def test_pfx_legacy_3des_as_windows_exports_it() -> None:
    """TripleDES-SHA1 with a SHA-1 MAC: the Windows Server 2012-2016 export format."""
    encryption = (
        PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2000)
        .key_cert_algorithm(pkcs12.PBES.PBESv1SHA1And3KeyTripleDESCBC)
        .hmac_hash(hashes.SHA1())
        .build(PASSWORD)
    )
    data = pkcs12.serialize_key_and_certificates(b"da", leaf().key, leaf().cert, None, encryption)
    assert choose_leaf(parse_bundle(data, password=PASSWORD)).leaf == leaf().cert
    with pytest.raises(CertLoadError, match="wrong password"):
        parse_bundle(data, password=b"nope")


@pytest.fixture(scope="module")
def rc2_pfx(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """An RC2-40 PFX as older Windows versions export it, made by the OpenSSL CLI."""
    openssl = require_tool("openssl")
    folder = tmp_path_factory.mktemp("rc2")
    (folder / "cert.pem").write_bytes(pem(leaf().cert))
    (folder / "key.pem").write_bytes(key_pem(leaf()))
    env = {**os.environ, "PFXPW": PASSWORD.decode()}  # the password never goes on argv
    base = [openssl, "pkcs12", "-export", "-in", str(folder / "cert.pem"), "-inkey",
            str(folder / "key.pem"), "-out", str(folder / "old.pfx"), "-passout", "env:PFXPW"]
    # OpenSSL 3 needs -legacy for RC2; OpenSSL 1.1 does not know the flag and uses RC2 anyway.
    done = subprocess.run([*base[:3], "-legacy", *base[3:]], env=env, capture_output=True)
    if done.returncode != 0:
        done = subprocess.run(base, env=env, capture_output=True)
    if done.returncode != 0:
        pytest.skip(f"openssl cannot write an RC2 PFX: {done.stderr.decode()[-200:]}")
    data = (folder / "old.pfx").read_bytes()
    if bytes.fromhex("060a2a864886f70d010c0106") not in data:
        pytest.skip("openssl did not use RC2-40")
    return data


def test_pfx_legacy_rc2(rc2_pfx: bytes) -> None:
    assert choose_leaf(parse_bundle(rc2_pfx, password=PASSWORD)).leaf == leaf().cert
    with pytest.raises(CertLoadError, match=r"wrong password \(the PFX's integrity check"):
        parse_bundle(rc2_pfx, password=b"nope")


def test_pfx_rc2_without_legacy_provider_says_so(rc2_pfx: bytes, tmp_path: Path) -> None:
    """With OpenSSL's legacy provider off, the right password must not read as a wrong one."""
    path = write(tmp_path, "old.pfx", rc2_pfx)
    code = (
        "import sys\n"
        "from daserver_check.certs.load import CertLoadError, load_file\n"
        "try:\n"
        f"    load_file({path!r}, password={PASSWORD!r})\n"
        "except CertLoadError as exc:\n"
        "    print(exc)\n"
        "else:\n"
        "    print('LOADED')\n"
    )
    env = {**os.environ, "CRYPTOGRAPHY_OPENSSL_NO_LEGACY": "1"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=60).stdout
    if "LOADED" in out:
        pytest.skip("this cryptography build decrypts RC2 without the legacy provider")
    assert "the password is right" in out and "RC2" in out
    assert "Re-export" in out


def test_utf16_pem_is_decoded() -> None:
    text = pem(leaf().cert).decode("ascii")
    bundle = parse_bundle("\ufeff".encode("utf-16-le") + text.encode("utf-16-le"), password=None)
    assert bundle.certificates == (leaf().cert,)


def test_trusted_certificate_block() -> None:
    body = der(leaf().cert) + bytes.fromhex("300a06082b06010505070301")  # + trust settings
    import base64

    block = (b"-----BEGIN TRUSTED CERTIFICATE-----\n" + base64.encodebytes(body)
             + b"-----END TRUSTED CERTIFICATE-----\n")
    assert parse_bundle(block, password=None).certificates == (leaf().cert,)


def test_encrypted_pem_key() -> None:
    data = pem(leaf().cert) + key_pem(leaf(), PASSWORD)
    with pytest.raises(PasswordRequired):
        parse_bundle(data, password=None)
    with pytest.raises(CertLoadError, match="wrong password for the private key in PEM block #2"):
        parse_bundle(data, password=b"nope")
    bundle = parse_bundle(data, password=PASSWORD)
    assert len(bundle.keys) == 1 and bundle.password_used


def test_password_given_for_an_unencrypted_pem_is_harmless() -> None:
    bundle = parse_bundle(pem(leaf().cert) + key_pem(leaf()), password=PASSWORD)
    assert len(bundle.keys) == 1 and not bundle.password_used


def test_several_end_entities_take_the_first_and_say_so() -> None:
    other = make_leaf(cns=("www.contoso.com",), san=("www.contoso.com",))
    bundle = parse_bundle(pem(leaf().cert, intermediate().cert, other.cert), password=None)
    choice = choose_leaf(bundle)
    assert choice.leaf == leaf().cert
    assert "first of 2 end-entity certificates" in choice.reason


def test_chain_extra_certificates_are_appended_once() -> None:
    bundle = parse_bundle(pem(leaf().cert, intermediate().cert), password=None)
    choice = choose_leaf(bundle, [intermediate().cert, root().cert])
    assert choice.chain == (leaf().cert, intermediate().cert, root().cert)


# ---------------------------------------------------------------- unusable files


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "is empty"),
        (b"  \n\r\n", "is empty"),
        (b"hello world", "not a certificate file"),
        (b"\x30\x03\x02\x01\x00", "not a certificate file"),
        (b"-----BEGIN CERTIFICATE-----\nMIIB", "has no END line"),
        (b"-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n", "not valid base64"),
        (b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
         "not a valid X.509 certificate"),
        (b"-----BEGIN FOO-----\nAAAA\n-----END FOO-----\n", "no PEM certificate block"),
    ],
    ids=["empty", "blank", "text", "tiny-der", "truncated-pem", "bad-base64", "bad-cert",
         "unknown-pem"],
)
def test_unusable_bytes(data: bytes, message: str) -> None:
    with pytest.raises(CertLoadError, match=message) as info:
        parse_bundle(data, password=None, source="new.pfx")
    assert str(info.value).startswith("new.pfx: ")
    assert "\n" not in str(info.value)


def test_key_only_files() -> None:
    with pytest.raises(CertLoadError, match="private key but no certificate"):
        parse_bundle(key_pem(leaf()), password=None)
    der_key = leaf().key.private_bytes(Encoding.DER, PrivateFormat.PKCS8, NoEncryption())
    with pytest.raises(CertLoadError, match="private key but no certificate"):
        parse_bundle(der_key, password=None)
    key_only_pfx = pfx(leaf().key, None, [])
    with pytest.raises(CertLoadError, match="private key but no certificate"):
        parse_bundle(key_only_pfx, password=PASSWORD)


def test_csr_is_named() -> None:
    from cryptography.x509.oid import NameOID

    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "da.contoso.com")]))
        .sign(rsa_key("leaf"), hashes.SHA256())
    )
    for data in (csr.public_bytes(Encoding.PEM), csr.public_bytes(Encoding.DER)):
        with pytest.raises(CertLoadError, match="certificate request"):
            parse_bundle(data, password=None)


def test_pfx_password_errors() -> None:
    data = pfx(leaf().key, leaf().cert, [])
    with pytest.raises(PasswordRequired, match="protected by a password"):
        parse_bundle(data, password=None)
    with pytest.raises(CertLoadError, match="wrong password") as info:
        parse_bundle(data, password=b"wrong")
    assert b"wrong".decode() not in str(info.value).replace("wrong password", "")


def test_damaged_pfx(tmp_path: Path) -> None:
    data = bytearray(pfx(leaf().key, leaf().cert, []))
    data[len(data) // 2] ^= 0xFF
    with pytest.raises(CertLoadError, match=r"wrong password|damaged"):
        parse_bundle(bytes(data), password=PASSWORD)
    truncated = pfx(leaf().key, leaf().cert, [])[:300]
    with pytest.raises(CertLoadError):
        parse_bundle(truncated, password=PASSWORD)


def test_file_errors(tmp_path: Path) -> None:
    with pytest.raises(CertLoadError, match="no such file"):
        load_file(str(tmp_path / "missing.pfx"), password=None)
    with pytest.raises(CertLoadError, match="is a directory"):
        load_file(str(tmp_path), password=None)
    with pytest.raises(CertLoadError, match="is empty"):
        load_file(write(tmp_path, "empty.pfx", b""), password=None)
    big = tmp_path / "big.pem"
    with big.open("wb") as handle:
        handle.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(CertLoadError, match="larger than 10 MB"):
        load_file(str(big), password=None)
    assert load_file(write(tmp_path, "ok.cer", der(leaf().cert)), password=None).certificates


# ---------------------------------------------------------------- arbitrary bytes

_PREFIXES = [
    b"",
    b"\x30\x82",
    bytes.fromhex("3082000a020103"),  # PFX-shaped start
    bytes.fromhex("30800201033080") + bytes.fromhex("06092a864886f70d010701"),
    b"-----BEGIN CERTIFICATE-----\n",
    b"-----BEGIN PKCS7-----\n",
    b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n",
    b"\xff\xfe",
]


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    prefix=st.sampled_from(_PREFIXES),
    body=st.binary(max_size=2048),
    password=st.sampled_from([None, b"", PASSWORD]),
)
def test_arbitrary_bytes_raise_only_cert_load_error(
    prefix: bytes, body: bytes, password: bytes | None
) -> None:
    try:
        bundle = parse_bundle(prefix + body, password=password)
    except CertLoadError as exc:
        assert "\n" not in str(exc).strip()
        return
    assert bundle.certificates  # anything accepted holds at least one certificate
    choose_leaf(bundle)


@settings(max_examples=100, deadline=None)
@given(cut=st.integers(min_value=0, max_value=4000), flip=st.integers(min_value=0, max_value=4000))
def test_damaged_real_files_raise_only_cert_load_error(cut: int, flip: int) -> None:
    for original in (pfx(leaf().key, leaf().cert, [intermediate().cert]),
                     pem(leaf().cert) + key_pem(leaf(), PASSWORD), der(leaf().cert)):
        data = bytearray(original[: max(1, cut % (len(original) + 1))])
        if data:
            data[flip % len(data)] ^= 0x5A
        with contextlib.suppress(CertLoadError):
            parse_bundle(bytes(data), password=PASSWORD)
