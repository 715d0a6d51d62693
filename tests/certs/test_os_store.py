"""The `default` trust store per platform (issue 13 item 6), through a fake of the OS interface.

The Windows and macOS code paths cannot run here; `OsStoreAccess` is the seam, and these tests
drive `trust.system_store` with a fake of it. On Linux the system bundle stays as it was.
"""

from __future__ import annotations

import ssl
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from daserver_check.certs import trust as trust_module
from daserver_check.certs.analysis import analyse_chain
from daserver_check.certs.os_store import SERVER_AUTH, RealOsStore, WindowsEntry, read_os_roots
from daserver_check.certs.trust import TrustStore, load_trust_store, system_store
from daserver_check.certs.x509util import unique_certificates
from daserver_check.findings import FindingId
from daserver_check.model import Status
from tests.certs.pki import HOST, NOW, intermediate, make_ca, make_leaf, root


@dataclass
class FakeOs:
    platform: str
    windows: list[WindowsEntry] = field(default_factory=list)
    keychains: dict[str, bytes] = field(default_factory=dict)
    certifi: bytes = b""
    calls: list[str] = field(default_factory=list)

    def windows_store(self, name: str) -> list[WindowsEntry]:
        self.calls.append(f"windows:{name}")
        return self.windows

    def macos_keychain_pem(self, keychain: str) -> bytes:
        self.calls.append(f"keychain:{keychain}")
        return self.keychains.get(keychain, b"")

    def certifi_pem(self) -> bytes:
        self.calls.append("certifi")
        return self.certifi


def test_windows_uses_the_root_store_for_server_authentication() -> None:
    other = make_ca("Code Signing Only Root")
    fake = FakeOs("win32", windows=[
        (root().cert.public_bytes(Encoding.DER), "x509_asn", {SERVER_AUTH}),
        (other.cert.public_bytes(Encoding.DER), "x509_asn", {"1.3.6.1.5.5.7.3.3"}),
        (b"not a certificate", "x509_asn", True),
        (b"\x30\x00", "pkcs_7_asn", True),
    ])
    store = system_store(fake)
    assert store.roots == (root().cert,)
    assert store.source == "Windows ROOT store"
    assert "on demand" in store.note
    assert fake.calls == ["windows:ROOT"]


def test_windows_verdict_says_which_store_and_repeats_the_caveat_when_untrusted() -> None:
    fake = FakeOs("win32", windows=[(make_ca("Some Public Root").cert.public_bytes(Encoding.DER),
                                     "x509_asn", True)])
    store = system_store(fake)
    findings = {f.id: f for f in analyse_chain([make_leaf().cert, intermediate().cert], HOST,
                                               trust=store, now=NOW)}
    trust = findings[FindingId.CERT_TRUST]
    assert trust.status is Status.FAIL
    assert "Windows ROOT store" in trust.detail and "on demand" in trust.detail
    assert trust.evidence["trust_source"] == "Windows ROOT store"


def test_windows_without_roots_falls_back_to_certifi() -> None:
    pem = root().cert.public_bytes(Encoding.PEM)
    store = system_store(FakeOs("win32", certifi=pem))
    assert store.roots == (root().cert,)
    assert store.source == "certifi bundle (the Windows ROOT store gave no certificates)"
    empty = system_store(FakeOs("win32"))
    assert empty.roots == () and empty.source.startswith("none (")


def test_macos_reads_the_system_keychains() -> None:
    pem = root().cert.public_bytes(Encoding.PEM) + intermediate().cert.public_bytes(Encoding.PEM)
    fake = FakeOs("darwin", keychains={
        "/System/Library/Keychains/SystemRootCertificates.keychain": pem})
    store = system_store(fake)
    assert store.roots == (root().cert, intermediate().cert)
    assert store.source == "macOS keychains (System Roots, System)"
    assert "certifi" not in fake.calls
    fallback = system_store(FakeOs("darwin", certifi=pem))
    assert fallback.source.startswith("certifi bundle (the macOS keychains")


@pytest.mark.parametrize("platform", ["linux", "freebsd14"])
def test_other_platforms_keep_the_openssl_bundle(platform: str) -> None:
    fake = FakeOs(platform)
    assert read_os_roots(fake) is None
    store = system_store(fake)
    assert fake.calls == []  # the OS interface is not consulted at all
    assert store.source == "system" and store.note == ""
    assert store.roots == _openssl_default_bundle()


def _openssl_default_bundle() -> tuple[object, ...]:
    """What the system store was before the OS stores: OpenSSL's cafile and capath."""
    paths = ssl.get_default_verify_paths()
    certs = []
    if paths.cafile:
        certs.extend(trust_module._certs_from_file(paths.cafile))
    if paths.capath:
        certs.extend(trust_module._capath_certs(paths.capath))
    return tuple(unique_certificates(certs))


@pytest.mark.skipif(sys.platform != "linux", reason="the Linux behaviour")
def test_linux_default_store_is_unchanged() -> None:
    trust_module._system_store.cache_clear()
    try:
        store = load_trust_store(None)
    finally:
        trust_module._system_store.cache_clear()
    assert store.source == "system" and store.note == ""
    assert store.roots == _openssl_default_bundle()


def test_ca_file_wins_over_the_os_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(access: object) -> object:
        raise AssertionError("the OS store must not be read with --ca-file")

    monkeypatch.setattr(trust_module, "read_os_roots", boom)
    path = tmp_path / "root.pem"
    path.write_bytes(root().cert.public_bytes(Encoding.PEM))
    store = load_trust_store(str(path))
    assert store == TrustStore((root().cert,), str(path))


def test_real_store_never_raises_off_platform() -> None:
    """The real implementation on this machine: no Windows store, no `security` tool."""
    real = RealOsStore(run=_no_security)
    if sys.platform != "win32":
        assert real.windows_store("ROOT") == []
    assert real.macos_keychain_pem("/nonexistent.keychain") == b""
    assert isinstance(real.certifi_pem(), bytes)


def _no_security(*args: object, **kwargs: object) -> subprocess.CompletedProcess[bytes]:
    raise FileNotFoundError("security")
