"""The trust store the chain is checked against: the system's, or a `--ca-file` bundle.

"The system's" is the operating system's store on Windows and macOS (certs/os_store.py) and
the OpenSSL default bundle elsewhere.

The only I/O of the certificate analysis. Reads are bounded (10 MB per file) because a CA file
is user input like any other (docs/contract.md, reliability rules). The system store is read once per
process: the exporter analyses a chain on every scrape.
"""

from __future__ import annotations

import base64
import binascii
import functools
import os
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.utils import CryptographyDeprecationWarning

from daserver_check.certs.os_store import OsStoreAccess, RealOsStore, read_os_roots
from daserver_check.certs.x509util import unique_certificates
from daserver_check.errors import DaserverCheckError
from daserver_check.files import FileReadError, read_bounded

MAX_FILE_BYTES = 10 * 1024 * 1024
# OpenSSL's capath lookup uses only `<subject hash>.<n>` names (`.r<n>` are CRLs), so reading
# only those avoids loading the bundle that Debian keeps in the same directory twice.
_HASH_NAME = re.compile(r"^[0-9a-f]{8}\.[0-9]+$")
_MAX_CAPATH_FILES = 5000

_BEGIN = re.compile(rb"-----BEGIN ((?:TRUSTED |X509 )?CERTIFICATE|PKCS7)-----")


class TrustStoreError(DaserverCheckError):
    """One line for the user, e.g. `--ca-file /x.pem: no such file`."""


@dataclass(frozen=True)
class TrustStore:
    roots: tuple[x509.Certificate, ...]
    source: str  # "system", the OS store's name (Windows, macOS) or the --ca-file path
    note: str = ""  # a caveat the trust verdict repeats (e.g. Windows fetches roots on demand)


def load_trust_store(ca_file: str | None) -> TrustStore:
    """The system store when `ca_file` is None or "" (`system_store`), else the PEM/DER/PKCS#7
    file it names: `--ca-file` always wins over the operating system's store."""
    if not ca_file:
        return _system_store()
    data = _read_bounded(ca_file)
    try:
        roots = _parse_bundle(data, strict=True)
    except ValueError as exc:
        raise TrustStoreError(f"--ca-file {ca_file}: {exc}") from None
    if not roots:
        raise TrustStoreError(f"--ca-file {ca_file}: contains no PEM certificate")
    return TrustStore(tuple(unique_certificates(roots)), ca_file)


def _read_bounded(path: str) -> bytes:
    prefix = f"--ca-file {path}"
    try:
        data = read_bounded(path, limit=MAX_FILE_BYTES)
    except FileReadError as exc:
        suffix = {"is a directory": ", not a file"}.get(str(exc), "")
        if str(exc).startswith("larger than"):
            suffix = ", refused"
        raise TrustStoreError(f"{prefix}: {exc}{suffix}") from None
    if not data.strip():
        raise TrustStoreError(f"{prefix}: is empty")
    return data


def _pem_blocks(data: bytes) -> Iterator[tuple[str, bytes]]:
    """(label, DER) of each PEM block; linear scan (no regex across the whole body)."""
    pos = 0
    while True:
        begin = _BEGIN.search(data, pos)
        if begin is None:
            return
        label = begin.group(1).decode("ascii")
        end_marker = f"-----END {label}-----".encode("ascii")
        end = data.find(end_marker, begin.end())
        if end < 0:
            raise ValueError(f"PEM block {label} at byte {begin.start()} has no END line")
        body = data[begin.end() : end]
        pos = end + len(end_marker)
        try:
            yield label, base64.b64decode(b"".join(body.split()), validate=True)
        except binascii.Error as exc:
            raise ValueError(f"PEM block at byte {begin.start()} is not base64: {exc}") from None


def _first_tlv(data: bytes) -> bytes:
    """The first DER element of `data`: an OpenSSL "TRUSTED CERTIFICATE" is the certificate
    followed by its trust settings, which the X.509 loader would refuse as trailing data."""
    if len(data) < 2 or data[0] != 0x30:
        raise ValueError("not a DER SEQUENCE")
    first = data[1]
    if first < 0x80:
        return data[: 2 + first]
    count = first & 0x7F
    if count == 0 or count > 4 or len(data) < 2 + count:
        raise ValueError("bad DER length")
    length = int.from_bytes(data[2 : 2 + count], "big")
    return data[: 2 + count + length]


def _parse_bundle(data: bytes, *, strict: bool) -> list[x509.Certificate]:
    """Certificates of a PEM bundle, a PEM/DER PKCS#7 (.p7b) or a single DER certificate.

    `strict` (a user's --ca-file) turns an unreadable block into a ValueError naming it; the
    system store skips it instead (one odd distribution certificate must not hide the rest).
    """
    # Some distribution roots carry a non-positive serial; cryptography warns about each on
    # stderr, which is noise for the user (the certificate is still usable as an anchor).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        return _parse_bundle_quiet(data, strict=strict)


def _parse_bundle_quiet(data: bytes, *, strict: bool) -> list[x509.Certificate]:
    certs: list[x509.Certificate] = []
    if b"-----BEGIN" not in data:
        return _parse_der(data)
    blocks = _pem_blocks(data)
    index = 0
    while True:
        try:
            label, body = next(blocks)
        except StopIteration:
            return certs
        except ValueError:
            if strict:
                raise
            return certs  # a truncated system bundle still gives the blocks before the damage
        index += 1
        try:
            if label == "PKCS7":
                from cryptography.hazmat.primitives.serialization import pkcs7

                certs.extend(pkcs7.load_der_pkcs7_certificates(body))
            elif label == "TRUSTED CERTIFICATE":
                certs.append(x509.load_der_x509_certificate(_first_tlv(body)))
            else:
                certs.append(x509.load_der_x509_certificate(body))
        except _PARSE_ERRORS as exc:
            if strict:
                raise ValueError(f"certificate #{index} cannot be parsed: {exc}") from None


# cryptography raises these for certificates it cannot read: ValueError for bad DER,
# InvalidVersion for a version field beyond v3, UnsupportedAlgorithm for a PKCS#7 that is not
# signedData. All three mean "this file does not hold a usable certificate".
_PARSE_ERRORS = (ValueError, x509.InvalidVersion, UnsupportedAlgorithm)


def _parse_der(data: bytes) -> list[x509.Certificate]:
    try:
        return [x509.load_der_x509_certificate(data)]
    except _PARSE_ERRORS:
        pass
    try:
        from cryptography.hazmat.primitives.serialization import pkcs7

        return list(pkcs7.load_der_pkcs7_certificates(data))
    except _PARSE_ERRORS:
        raise ValueError("contains no PEM certificate (nor a DER certificate)") from None


def _read_quietly(path: str) -> bytes | None:
    try:
        return read_bounded(path, limit=MAX_FILE_BYTES)
    except FileReadError:
        return None


def _certs_from_file(path: str) -> list[x509.Certificate]:
    data = _read_quietly(path)
    if not data:
        return []
    try:
        return _parse_bundle(data, strict=False)
    except ValueError:
        return []


def _capath_certs(capath: str) -> list[x509.Certificate]:
    try:
        names = sorted(os.listdir(capath))
    except OSError:
        return []
    certs: list[x509.Certificate] = []
    for name in [n for n in names if _HASH_NAME.match(n)][:_MAX_CAPATH_FILES]:
        certs.extend(_certs_from_file(os.path.join(capath, name)))
    return certs


@functools.cache
def _system_store() -> TrustStore:
    return system_store(RealOsStore())


def system_store(access: OsStoreAccess) -> TrustStore:
    """The store a client on this platform would use (issue: the `default` profile's verdict).

    Windows and macOS: the operating system's store (certs/os_store.py), with certifi where
    the OS gives none. Elsewhere: ssl's default verify paths (cafile and capath, honouring
    SSL_CERT_FILE/SSL_CERT_DIR), named "system". An empty result is returned as is: the
    analysis reports "cannot decide" rather than "untrusted" (status error).
    """
    os_roots = read_os_roots(access)
    if os_roots is not None:
        certs: list[x509.Certificate] = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            for blob in os_roots.der:
                try:
                    certs.append(x509.load_der_x509_certificate(blob))
                except _PARSE_ERRORS:
                    continue
        if os_roots.pem:
            try:
                certs.extend(_parse_bundle(os_roots.pem, strict=False))
            except ValueError:
                pass
        return TrustStore(tuple(unique_certificates(certs)), os_roots.source, os_roots.note)
    import ssl  # only for the system store: --ca-file never needs it

    paths = ssl.get_default_verify_paths()
    found: list[x509.Certificate] = []
    if paths.cafile:
        found.extend(_certs_from_file(paths.cafile))
    if paths.capath:
        found.extend(_capath_certs(paths.capath))
    return TrustStore(tuple(unique_certificates(found)), "system")
