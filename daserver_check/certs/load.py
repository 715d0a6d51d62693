"""Load the certificate file an admin is about to roll out: PEM, DER, PKCS#12/PFX, PKCS#7/P7B.

The file is untrusted input like any other (docs/contract.md, reliability rules): the read is bounded
(10 MB), every parser call is wrapped, and whatever goes wrong ends as one `CertLoadError` line
for the user (exit 3) — never a traceback, and never the password or key bytes in the message.

Formats, as Windows and OpenSSL write them:
- PEM ("Base-64 encoded X.509 (.CER)" in the Windows export wizard, or OpenSSL output): any
  number of CERTIFICATE, PKCS7 and private-key blocks in one file; UTF-16 text is decoded.
- DER ("DER encoded binary X.509 (.CER)").
- PKCS#7 / .p7b ("Cryptographic Message Syntax Standard"), DER or PEM: certificates only.
- PKCS#12 / .pfx ("Personal Information Exchange"): the only export with the private key.

A wrong PFX password and a PFX that this OpenSSL build cannot decrypt look the same to
OpenSSL ("Invalid password or PKCS12 data"). Older Windows versions export with RC2-40
(pbeWithSHAAnd40BitRC2-CBC), which OpenSSL 3 decrypts only with its legacy provider, so the two
are told apart here by checking the file's integrity MAC (RFC 7292 §5, appendix B) with the
password: when the MAC verifies, the password is right and the cipher is the problem.

The MAC check and the iteration-count scan live in `certs.pkcs12_der`; choosing the leaf of a
bundle in `certs.leaf`. Over 400 lines because the four formats share one error vocabulary and
their detection (PEM inside UTF-16 text, DER that is PKCS#7 or PKCS#12) reads best in one place.
"""

from __future__ import annotations

import base64
import binascii
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes
from cryptography.hazmat.primitives.serialization import (
    load_der_private_key,
    load_pem_private_key,
    pkcs7,
    pkcs12,
)
from cryptography.utils import CryptographyDeprecationWarning

from daserver_check.certs.pkcs12_der import (
    der_header,
    kdf_iterations,
    looks_like_pfx,
    mac_verdict,
)
from daserver_check.errors import DaserverCheckError
from daserver_check.files import FileReadError, read_bounded

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_PEM_BLOCKS = 1000
MAX_CERTIFICATES = 1000
# Any key derivation a file asks for (PFX MAC, PKCS#12 PBE, PBES1, PBES2/PBKDF2 of a PFX or of an
# encrypted PKCS#8 key) above this many iterations is refused before OpenSSL derives anything:
# 2^31-1 rounds would keep it busy for hours. Real exports use 2 000 (Windows, OpenSSL 1.x) to
# 600 000 (the PBKDF2 figure OWASP's Password Storage Cheat Sheet gives for SHA-256).
MAX_KDF_ITERATIONS = 10_000_000

_BEGIN = re.compile(rb"-----BEGIN ([A-Z0-9 #]{1,48})-----")
_CERT_LABELS = {"CERTIFICATE", "X509 CERTIFICATE", "TRUSTED CERTIFICATE"}
_PKCS7_LABELS = {"PKCS7", "PKCS #7 SIGNED DATA", "CMS"}
_KEY_LABELS = {
    "PRIVATE KEY",
    "RSA PRIVATE KEY",
    "EC PRIVATE KEY",
    "DSA PRIVATE KEY",
    "ENCRYPTED PRIVATE KEY",
}
_CSR_LABELS = {"CERTIFICATE REQUEST", "NEW CERTIFICATE REQUEST"}

# DER of OIDs (tag 06, length, content), RFC 7292 and RFC 5652.
# pbeWithSHAAnd40BitRC2-CBC / pbeWithSHAAnd128BitRC2-CBC (RFC 7292 appendix C).
_OID_RC2 = (
    bytes.fromhex("060a2a864886f70d010c0106"),
    bytes.fromhex("060a2a864886f70d010c0105"),
)


class CertLoadError(DaserverCheckError):
    """The file cannot be used: one line for the user (the CLI exits 3)."""


class PasswordRequired(CertLoadError):
    """The file needs a password and none was given (the command may prompt for one)."""


@dataclass(frozen=True)
class CertBundle:
    """What one file holds. `keys` are never printed: the repr leaves them out."""

    source: str
    kind: str  # "PEM", "DER certificate", "PKCS#7", "PKCS#12"
    certificates: tuple[x509.Certificate, ...]
    keys: tuple[PrivateKeyTypes, ...] = field(default=(), repr=False)
    # The certificate a PKCS#12 file pairs with its key (its localKeyId), when it says.
    key_certificate: x509.Certificate | None = None
    password_used: bool = False
    notes: tuple[str, ...] = ()

    @property
    def is_pkcs12(self) -> bool:
        return self.kind == "PKCS#12"




# ---------------------------------------------------------------- reading


def read_input(path: str, label: str | None = None) -> bytes:
    """The bytes of `path`, bounded; CertLoadError for a missing, empty, huge file or a folder."""
    prefix = label or path
    try:
        data = read_bounded(path, limit=MAX_FILE_BYTES)
    except FileReadError as exc:
        suffix = ", not a certificate file" if not str(exc).startswith(("no such", "cannot")) else ""
        raise CertLoadError(f"{prefix}: {exc}{suffix}") from None
    return data


def load_file(path: str, *, password: bytes | None, label: str | None = None) -> CertBundle:
    return parse_bundle(read_input(path, label), password=password, source=label or path)


# ---------------------------------------------------------------- parsing


def parse_bundle(data: bytes, *, password: bytes | None, source: str = "input") -> CertBundle:
    """Every certificate and private key in `data`. Raises only CertLoadError (PasswordRequired
    when a password is needed and `password` is None)."""
    if len(data) > MAX_FILE_BYTES:
        raise CertLoadError(f"{source}: larger than 10 MB, not a certificate file")
    try:
        # Certificates with negative serials and the like make cryptography warn on stderr;
        # the analysis reports what matters, the warning is noise for the user.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            return _parse(data, password, source)
    except CertLoadError:
        raise
    except Exception as exc:  # a parser path nobody anticipated: still one line, exit 3
        raise CertLoadError(
            f"{source}: cannot be read as a certificate file ({type(exc).__name__})"
        ) from None


def _parse(data: bytes, password: bytes | None, source: str) -> CertBundle:
    if not data.strip():
        raise CertLoadError(f"{source}: is empty")
    if _whole_der(data):
        # Binary first: a DER structure may well contain the bytes "-----BEGIN" somewhere.
        return _parse_der(data, password, source)
    text = _as_ascii_text(data)
    if text is not None and b"-----BEGIN" in text:
        return _parse_pem(text, password, source)
    if data[0] == 0x30:
        return _parse_der(data, password, source)
    raise CertLoadError(
        f"{source}: not a certificate file (expected PEM, DER, PKCS#12/PFX or PKCS#7/P7B)"
    )


def _whole_der(data: bytes) -> bool:
    """One SEQUENCE that spans the data exactly (or a BER indefinite one, as some PFX are)."""
    header = der_header(data, 0)
    if header is None or header[0] != 0x30:
        return False
    _, header_len, length = header
    return length is None or header_len + length == len(data)


def _as_ascii_text(data: bytes) -> bytes | None:
    """PEM as bytes: UTF-16 text (some Windows tools save it so) is decoded; a UTF-8 BOM is
    dropped. None when the data is UTF-16 that does not decode (then it is not PEM)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16").encode("ascii", "replace")
        except UnicodeDecodeError:
            return None
    return data.removeprefix(b"\xef\xbb\xbf")


# ---------------------------------------------------------------- PEM


@dataclass(frozen=True)
class _PemBlock:
    index: int  # 1-based position among the blocks
    label: str
    block: bytes  # BEGIN line to END line, as `load_pem_private_key` wants it
    body: bytes  # between the lines (headers included for traditional encrypted keys)
    offset: int


def _pem_blocks(data: bytes, source: str) -> list[_PemBlock]:
    """Linear scan of BEGIN/END pairs; labels are matched exactly (RFC 7468 §2)."""
    blocks: list[_PemBlock] = []
    pos = 0
    while True:
        begin = _BEGIN.search(data, pos)
        if begin is None:
            return blocks
        if len(blocks) >= MAX_PEM_BLOCKS:
            raise CertLoadError(f"{source}: more than {MAX_PEM_BLOCKS} PEM blocks, refused")
        label = begin.group(1).decode("ascii")
        end_marker = b"-----END " + begin.group(1) + b"-----"
        end = data.find(end_marker, begin.end())
        if end < 0:
            raise CertLoadError(
                f"{source}: PEM block {label!r} at byte {begin.start()} has no END line"
                " (truncated file?)"
            )
        pos = end + len(end_marker)
        blocks.append(
            _PemBlock(len(blocks) + 1, label, data[begin.start() : pos],
                      data[begin.end() : end], begin.start())
        )


def _b64(block: _PemBlock, source: str) -> bytes:
    try:
        return base64.b64decode(b"".join(block.body.split()), validate=True)
    except (binascii.Error, ValueError):
        raise CertLoadError(
            f"{source}: PEM block #{block.index} ({block.label}) at byte {block.offset}"
            " is not valid base64"
        ) from None


def _first_tlv(data: bytes) -> bytes:
    """An OpenSSL TRUSTED CERTIFICATE is the certificate followed by trust settings."""
    header = der_header(data, 0)
    if header is None:
        return data
    _, header_len, length = header
    return data if length is None else data[: header_len + length]


def _parse_pem(data: bytes, password: bytes | None, source: str) -> CertBundle:
    certs: list[x509.Certificate] = []
    keys: list[PrivateKeyTypes] = []
    notes: list[str] = []
    csr = False
    used_password = False
    for block in _pem_blocks(data, source):
        where = f"PEM block #{block.index} ({block.label})"
        if block.label in _CERT_LABELS:
            body = _b64(block, source)
            if block.label == "TRUSTED CERTIFICATE":
                body = _first_tlv(body)
            certs.append(_der_certificate(body, f"{source}: {where}"))
        elif block.label in _PKCS7_LABELS:
            certs.extend(_pkcs7_certificates(_b64(block, source), f"{source}: {where}"))
        elif block.label in _KEY_LABELS:
            key, encrypted = _pem_key(block, password, source)
            keys.append(key)
            used_password = used_password or encrypted
        elif block.label in _CSR_LABELS:
            csr = True
            notes.append(f"{where} ignored: a certificate request, not a certificate")
        else:
            notes.append(f"{where} ignored")
        if len(certs) > MAX_CERTIFICATES:
            raise CertLoadError(f"{source}: more than {MAX_CERTIFICATES} certificates, refused")
    if not certs:
        raise _no_certificate(source, keys=bool(keys), csr=csr, pem=True)
    return CertBundle(source, "PEM", tuple(certs), tuple(keys), None, used_password,
                      tuple(notes))


def _pem_key(
    block: _PemBlock, password: bytes | None, source: str
) -> tuple[PrivateKeyTypes, bool]:
    """(key, whether it was encrypted). PKCS#8 "ENCRYPTED PRIVATE KEY" and the traditional
    OpenSSL form ("Proc-Type: 4,ENCRYPTED" header, RFC 1421) both take the password."""
    encrypted = block.label == "ENCRYPTED PRIVATE KEY" or b"4,ENCRYPTED" in block.body
    where = f"the private key in PEM block #{block.index}"
    if encrypted and password is None:
        raise PasswordRequired(f"{source}: {where} is encrypted: a password is needed")
    if block.label == "ENCRYPTED PRIVATE KEY":
        _refuse_costly_kdf(_b64(block, source), source, where)
    try:
        key = load_pem_private_key(block.block, password if encrypted else None)
    except Exception:
        # The library's message is not repeated: it never helps more than this, and it must
        # not carry anything of the key.
        if encrypted:
            raise CertLoadError(
                f"{source}: wrong password for {where} (or its encryption is not supported)"
            ) from None
        raise CertLoadError(f"{source}: {where} cannot be parsed") from None
    return key, encrypted


def _no_certificate(source: str, *, keys: bool, csr: bool, pem: bool) -> CertLoadError:
    if keys:
        return CertLoadError(
            f"{source}: holds a private key but no certificate; give the certificate file"
            " (or a PFX with both)"
        )
    if csr:
        return CertLoadError(
            f"{source}: is a certificate request (CSR), not a certificate: submit it to the CA"
            " and check the certificate it issues"
        )
    what = "no PEM certificate block" if pem else "no certificate"
    return CertLoadError(f"{source}: contains {what}")


# ---------------------------------------------------------------- DER, PKCS#7, PKCS#12


def _der_certificate(data: bytes, where: str) -> x509.Certificate:
    try:
        return x509.load_der_x509_certificate(data)
    except Exception:
        raise CertLoadError(f"{where}: not a valid X.509 certificate") from None


def _pkcs7_certificates(data: bytes, where: str) -> list[x509.Certificate]:
    try:
        certs = list(pkcs7.load_der_pkcs7_certificates(data))
    except Exception:
        raise CertLoadError(f"{where}: not a valid PKCS#7 certificate bundle") from None
    if len(certs) > MAX_CERTIFICATES:
        raise CertLoadError(f"{where}: more than {MAX_CERTIFICATES} certificates, refused")
    return certs


def _quietly(call: Callable[[], object]) -> object | None:
    try:
        return call()
    except Exception:
        return None


def _parse_der(data: bytes, password: bytes | None, source: str) -> CertBundle:
    cert = _quietly(lambda: x509.load_der_x509_certificate(data))
    if isinstance(cert, x509.Certificate):
        return CertBundle(source, "DER certificate", (cert,))
    if looks_like_pfx(data):
        return _parse_pkcs12(data, password, source)
    p7 = _quietly(lambda: pkcs7.load_der_pkcs7_certificates(data))
    if isinstance(p7, list):
        if not p7:
            raise CertLoadError(f"{source}: PKCS#7 file without certificates")
        if len(p7) > MAX_CERTIFICATES:
            raise CertLoadError(f"{source}: more than {MAX_CERTIFICATES} certificates, refused")
        return CertBundle(source, "PKCS#7", tuple(p7))
    if _is_der_key(data):
        raise _no_certificate(source, keys=True, csr=False, pem=False)
    if _quietly(lambda: x509.load_der_x509_csr(data)) is not None:
        raise _no_certificate(source, keys=False, csr=True, pem=False)
    raise CertLoadError(
        f"{source}: not a certificate file (not a DER certificate, PKCS#12/PFX or PKCS#7/P7B"
        " structure)"
    )


def _is_der_key(data: bytes) -> bool:
    try:
        load_der_private_key(data, None)
    except TypeError:
        return True  # an encrypted PKCS#8 key: it is a key, whatever its password
    except Exception:
        return False
    return True


def _parse_pkcs12(data: bytes, password: bytes | None, source: str) -> CertBundle:
    _refuse_costly_kdf(data, source, "PFX")
    attempts: list[bytes | None] = [password] if password is not None else [None, b""]
    for attempt in attempts:
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, attempt)
        except Exception:
            continue
        certs = ([cert] if cert is not None else []) + list(extra)
        if len(certs) > MAX_CERTIFICATES:
            raise CertLoadError(f"{source}: more than {MAX_CERTIFICATES} certificates, refused")
        if not certs:
            raise _no_certificate(source, keys=key is not None, csr=False, pem=False)
        return CertBundle(
            source, "PKCS#12", tuple(certs), (key,) if key is not None else (), cert,
            bool(attempt),
        )
    if password is None:
        raise PasswordRequired(f"{source}: the PFX is protected by a password")
    raise CertLoadError(_pkcs12_failure(data, password, source))


def _pkcs12_failure(data: bytes, password: bytes, source: str) -> str:
    """Why a PFX did not open with `password`, as precisely as the file lets us tell."""
    verdict = mac_verdict(data, password)
    rc2 = any(oid in data for oid in _OID_RC2)
    if verdict is True:
        if rc2:
            return (
                f"{source}: the password is right, but the PFX is encrypted with RC2 (the"
                " legacy format older Windows versions export), which this installation's"
                " OpenSSL cannot decrypt without its legacy provider. Re-export the PFX with"
                " AES256-SHA256 or TripleDES-SHA1 encryption, or run this tool where the"
                " legacy provider is available (CRYPTOGRAPHY_OPENSSL_NO_LEGACY unset)"
            )
        return (
            f"{source}: the password is right, but the PFX contents cannot be decrypted"
            " (unsupported encryption or a damaged file); re-export it with AES256-SHA256"
        )
    if verdict is False:
        return f"{source}: wrong password (the PFX's integrity check fails with it)"
    return f"{source}: wrong password, or the PFX is damaged or uses an unsupported format"


def _refuse_costly_kdf(data: bytes, source: str, what: str) -> None:
    """CertLoadError when any visible key derivation asks for more than MAX_KDF_ITERATIONS:
    checked before OpenSSL (or the MAC check here) derives any key."""
    worst = max(kdf_iterations(data), default=0)
    if worst > MAX_KDF_ITERATIONS:
        raise CertLoadError(
            f"{source}: the {what} asks for {worst} key-derivation iterations, more than the "
            f"{MAX_KDF_ITERATIONS} this tool allows (Windows exports use 2000); refused "
            "before deriving any key"
        )
