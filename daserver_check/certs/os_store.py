"""The operating system's trust store on Windows and macOS, behind a small interface.

A DirectAccess client judges the IP-HTTPS chain against its own machine's root store, so on
Windows (and on a Mac an admin works from) the `default` verdict should come from that store,
not from an OpenSSL bundle. Linux keeps the system bundle (certs/trust.py).

Why not the `truststore` package: it verifies through the OS only inside a TLS handshake (it
replaces `ssl.SSLContext`), and its chain-verification functions are private. `cert` judges a
file with no handshake, and the analysis needs the roots themselves to build and explain the
path, so the roots are read here instead:

- Windows: the ROOT system store through `ssl.enum_certificates("ROOT")` (LocalMachine and
  CurrentUser merged, as CryptoAPI's chain engine reads them), keeping certificates trusted
  for any purpose or for Server Authentication. Windows also downloads Microsoft Root
  Program roots on demand (Automatic Root Certificates Update, Microsoft Learn "Configure
  Trusted Roots and Disallowed Certificates"), so a public root missing here may still be
  trusted by a client: the verdict says so.
- macOS: the System Roots and System keychains, read with `security find-certificate -a -p`
  (security(1)). Per-certificate trust settings are not read (inferred approximation: a root
  an admin marked "Never Trust" still counts).
- Where the OS gives no certificate at all: the `certifi` bundle when it is installed.

`OsStoreAccess` is the interface; `RealOsStore` its only real implementation. Tests use a fake:
this code cannot run on the Linux test machines.
"""

from __future__ import annotations

import importlib
import ssl
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from daserver_check.files import FileReadError, read_bounded

SERVER_AUTH = "1.3.6.1.5.5.7.3.1"
MAX_BYTES = 10 * 1024 * 1024
_SECURITY = "/usr/bin/security"
MACOS_KEYCHAINS = (
    "/System/Library/Keychains/SystemRootCertificates.keychain",
    "/Library/Keychains/System.keychain",
)
_SECURITY_TIMEOUT = 20.0

# (DER, encoding, trust) as ssl.enum_certificates returns them.
WindowsEntry = tuple[bytes, str, "set[str] | bool"]


class OsStoreAccess(Protocol):
    """What the trust-store code asks of the operating system."""

    @property
    def platform(self) -> str:
        """`sys.platform`: "win32", "darwin", "linux", …"""
        ...

    def windows_store(self, name: str) -> list[WindowsEntry]:
        """The entries of a Windows system store ("ROOT")."""
        ...

    def macos_keychain_pem(self, keychain: str) -> bytes:
        """Every certificate of a macOS keychain as PEM; empty when it cannot be read."""
        ...

    def certifi_pem(self) -> bytes:
        """The certifi bundle; empty when certifi is not installed."""
        ...


@dataclass(frozen=True)
class OsRoots:
    """What the OS store gave: DER certificates (or a PEM blob to parse) and how to name it."""

    der: tuple[bytes, ...]
    pem: bytes
    source: str
    note: str = ""


class RealOsStore:
    """The real operating system (Windows and macOS only; never called on Linux)."""

    def __init__(self, run: Callable[..., subprocess.CompletedProcess[bytes]] = subprocess.run):
        self._run = run

    @property
    def platform(self) -> str:
        return sys.platform

    def windows_store(self, name: str) -> list[WindowsEntry]:
        enum = getattr(ssl, "enum_certificates", None)  # Windows only
        if enum is None:
            return []
        entries: list[WindowsEntry] = list(enum(name))
        return entries

    def macos_keychain_pem(self, keychain: str) -> bytes:
        try:
            done = self._run(
                [_SECURITY, "find-certificate", "-a", "-p", keychain],
                capture_output=True,
                timeout=_SECURITY_TIMEOUT,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return b""
        if done.returncode != 0:
            return b""
        return done.stdout[:MAX_BYTES]

    def certifi_pem(self) -> bytes:
        try:
            module = importlib.import_module("certifi")
        except ImportError:
            return b""
        try:
            return read_bounded(str(module.where()), limit=MAX_BYTES)
        except FileReadError:
            return b""


def _server_auth_trusted(trust: set[str] | bool) -> bool:
    """enum_certificates gives True for "all purposes", else the set of trusted usages."""
    return trust is True or (isinstance(trust, set) and SERVER_AUTH in trust)


def read_os_roots(access: OsStoreAccess) -> OsRoots | None:
    """The OS store's roots on Windows and macOS, with the certifi fallback when the OS gives
    none; None on other platforms (the caller keeps the system bundle)."""
    if access.platform == "win32":
        der = tuple(
            blob
            for blob, encoding, trust in access.windows_store("ROOT")
            if encoding == "x509_asn" and _server_auth_trusted(trust)
        )
        if der:
            return OsRoots(
                der,
                b"",
                "Windows ROOT store",
                "Windows fetches Microsoft Root Program roots on demand (Automatic Root"
                " Certificates Update), so a public root missing from this machine's store may"
                " still be trusted by the clients.",
            )
        return _certifi(access, "the Windows ROOT store gave no certificates")
    if access.platform == "darwin":
        pem = b"".join(access.macos_keychain_pem(keychain) for keychain in MACOS_KEYCHAINS)
        if b"-----BEGIN CERTIFICATE-----" in pem:
            return OsRoots((), pem[:MAX_BYTES], "macOS keychains (System Roots, System)",
                           "Keychain trust settings are not read.")
        return _certifi(access, "the macOS keychains gave no certificates")
    return None


def _certifi(access: OsStoreAccess, why: str) -> OsRoots:
    pem = access.certifi_pem()
    if pem:
        return OsRoots((), pem, f"certifi bundle ({why})")
    return OsRoots((), b"", f"none ({why} and certifi is not installed)")
