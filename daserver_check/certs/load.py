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
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    PublicFormat,
    load_der_private_key,
    load_pem_private_key,
    pkcs7,
    pkcs12,
)
from cryptography.utils import CryptographyDeprecationWarning

from daserver_check.certs.x509util import ExtensionError, read_extension, unique_certificates
from daserver_check.errors import DaserverCheckError
from daserver_check.files import FileReadError, read_bounded

MAX_FILE_BYTES = 10 * 1024 * 1024
MAX_PEM_BLOCKS = 1000
MAX_CERTIFICATES = 1000
# The PKCS#12 KDF is iterated hashing in Python; Windows exports use 2000 rounds, OpenSSL
# 2048, Java keytool 10000. A hostile file must not make the MAC check spin: above this
# it is "cannot tell".
_MAX_MAC_ITERATIONS = 200_000
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
_OID_DATA = bytes.fromhex("06092a864886f70d010701")  # id-data 1.2.840.113549.1.7.1
_OID_SIGNED = bytes.fromhex("06092a864886f70d010702")  # id-signedData 1.2.840.113549.1.7.2
# pbeWithSHAAnd40BitRC2-CBC / pbeWithSHAAnd128BitRC2-CBC (RFC 7292 appendix C).
_OID_RC2 = (
    bytes.fromhex("060a2a864886f70d010c0106"),
    bytes.fromhex("060a2a864886f70d010c0105"),
)
# MAC digest algorithms (content octets of the OID) → (hashlib name, block size in bytes).
_MAC_HASHES: dict[bytes, tuple[str, int]] = {
    bytes.fromhex("2b0e03021a"): ("sha1", 64),
    bytes.fromhex("608648016503040204"): ("sha224", 64),
    bytes.fromhex("608648016503040201"): ("sha256", 64),
    bytes.fromhex("608648016503040202"): ("sha384", 128),
    bytes.fromhex("608648016503040203"): ("sha512", 128),
}


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


@dataclass(frozen=True)
class LeafChoice:
    leaf: x509.Certificate
    chain: tuple[x509.Certificate, ...]  # the leaf first, then every other certificate once
    reason: str
    end_entities: int  # how many non-CA certificates the file holds


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
    header = _header(data, 0)
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
    header = _header(data, 0)
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
    if _looks_like_pfx(data):
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
    verdict = _mac_verdict(data, password)
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


# ---------------------------------------------------------------- key-derivation cost

# 1.2.840.113549.1.5.x (PKCS #5, RFC 8018): PBES1 schemes 1, 3, 4, 6, 10, 11 and PBKDF2 (12),
# whose parameters begin SEQUENCE { salt, iterationCount INTEGER, ... } (RFC 8018 A.2, A.3);
# PBES2 (13) carries a PBKDF2 AlgorithmIdentifier, found by the same scan.
_OID_PKCS5 = bytes.fromhex("06092a864886f70d0105")
_PKCS5_KDF_ARCS = {1, 3, 4, 6, 10, 11, 12}
# 1.2.840.113549.1.12.1.1-6 (RFC 7292 appendix C): pkcs-12PbeParams SEQUENCE { salt, iterations }.
_OID_PKCS12_PBE = bytes.fromhex("060a2a864886f70d010c01")
_MAX_SCAN_HITS = 4096


def _integer(data: bytes, pos: int, end: int) -> int | None:
    """The INTEGER at `pos` (any length: an oversized one still counts), None if none."""
    element = _element(data, pos, end)
    if element is None or element[0] != 0x02 or element[2] == element[1]:
        return None
    return int.from_bytes(data[element[1] : element[2]], "big", signed=True)


def _params_iterations(data: bytes, pos: int) -> int | None:
    """iterationCount of SEQUENCE { salt (OCTET STRING or AlgorithmIdentifier), INTEGER } at
    `pos` (the parameters right after a PBE/PBKDF2 OID)."""
    params = _element(data, pos, len(data))
    if params is None or params[0] != 0x30:
        return None
    salt = _element(data, params[1], params[2])
    if salt is None or salt[0] not in (0x04, 0x30):
        return None
    return _integer(data, salt[2], params[2])


def _mac_iterations(data: bytes) -> Iterator[int]:
    """iterations of each MacData { DigestInfo { AlgorithmIdentifier, digest }, macSalt,
    iterations } (RFC 7292 §4), found by its digest OID so a BER outer PFX is read as well."""
    for oid in _MAC_HASHES:
        tlv = bytes([0x06, len(oid)]) + oid
        pos = data.find(tlv)
        hits = 0
        while pos >= 4 and hits < _MAX_SCAN_HITS:
            hits += 1
            digest_info = pos - 4
            if data[digest_info] == 0x30 and data[pos - 2] == 0x30:
                end = digest_info + 2 + data[digest_info + 1]
                salt = _element(data, end, len(data))
                if salt is not None and salt[0] == 0x04:
                    value = _integer(data, salt[2], len(data))
                    if value is not None:
                        yield value
            pos = data.find(tlv, pos + 1)


def _ber_end(data: bytes, pos: int, depth: int = 0) -> int | None:
    """Where the element at `pos` ends, BER indefinite lengths included (X.690 §8.1.3.6)."""
    header = _header(data, pos)
    if header is None or depth > 32:
        return None
    tag, header_len, length = header
    if length is not None:
        end = pos + header_len + length
        return end if end <= len(data) else None
    if not tag & 0x20:
        return None  # only constructed encodings may be indefinite
    cursor = pos + header_len
    while cursor + 2 <= len(data):
        if data[cursor : cursor + 2] == b"\x00\x00":
            return cursor + 2
        nxt = _ber_end(data, cursor, depth + 1)
        if nxt is None or nxt <= cursor:
            return None
        cursor = nxt
    return None


def _macdata_iterations(data: bytes) -> int | None:
    """iterations of the PFX's MacData, walked to structurally: PFX ::= SEQUENCE { version,
    authSafe, macData OPTIONAL } (RFC 7292 §4), whatever length encodings the file uses."""
    outer = _header(data, 0)
    if outer is None or outer[0] != 0x30:
        return None
    cursor: int | None = outer[1]
    for _ in range(2):  # version, authSafe
        cursor = _ber_end(data, cursor) if cursor is not None else None
    if cursor is None or cursor >= len(data) or data[cursor] != 0x30:
        return None
    mac = _header(data, cursor)
    if mac is None:
        return None
    inner: int | None = cursor + mac[1]
    for _ in range(2):  # DigestInfo, macSalt
        inner = _ber_end(data, inner) if inner is not None else None
    if inner is None:
        return None
    return _integer(data, inner, len(data))


def kdf_iterations(data: bytes) -> list[int]:
    """Every iteration count the file's visible key derivations ask for: the PFX MAC and
    each PBE / PBKDF2 parameter block outside encrypted content. (A key bag inside an encrypted
    SafeContents is out of sight until OpenSSL decrypts that layer with its own, checked,
    count.)"""
    found = list(_mac_iterations(data))
    structural = _macdata_iterations(data)
    if structural is not None:
        found.append(structural)
    for prefix, allowed in ((_OID_PKCS5, _PKCS5_KDF_ARCS), (_OID_PKCS12_PBE, set(range(1, 7)))):
        pos = data.find(prefix)
        hits = 0
        while pos >= 0 and hits < _MAX_SCAN_HITS:
            hits += 1
            arc_at = pos + len(prefix)
            if arc_at < len(data) and data[arc_at] in allowed:
                value = _params_iterations(data, arc_at + 1)
                if value is not None:
                    found.append(value)
            pos = data.find(prefix, pos + 1)
    return found


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


# ---------------------------------------------------------------- minimal DER reading


def _header(data: bytes, pos: int) -> tuple[int, int, int | None] | None:
    """(tag, header length, content length or None for BER indefinite) at `pos`; None when
    the bytes do not form a header. Lengths over 4 bytes are refused (10 MB is the cap)."""
    if pos + 2 > len(data):
        return None
    tag, first = data[pos], data[pos + 1]
    if tag & 0x1F == 0x1F:
        return None  # multi-byte tags never occur in these structures
    if first < 0x80:
        return tag, 2, first
    count = first & 0x7F
    if count == 0:
        return tag, 2, None
    if count > 4 or pos + 2 + count > len(data):
        return None
    return tag, 2 + count, int.from_bytes(data[pos + 2 : pos + 2 + count], "big")


def _element(data: bytes, pos: int, end: int) -> tuple[int, int, int] | None:
    """(tag, content start, content end) of a definite-length element inside [pos, end)."""
    header = _header(data, pos)
    if header is None:
        return None
    tag, header_len, length = header
    start = pos + header_len
    if length is None or start + length > end:
        return None
    return tag, start, start + length


def _children(data: bytes, start: int, end: int) -> list[tuple[int, int, int, int]] | None:
    """(tag, element start, content start, content end) of each child in [start, end)."""
    out: list[tuple[int, int, int, int]] = []
    pos = start
    while pos < end:
        element = _element(data, pos, end)
        if element is None or len(out) >= 64:
            return None
        tag, content_start, content_end = element
        out.append((tag, pos, content_start, content_end))
        pos = content_end
    return out


def _looks_like_pfx(data: bytes) -> bool:
    """PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, macData OPTIONAL }
    (RFC 7292 §4), checked on headers only so BER indefinite lengths pass too."""
    outer = _header(data, 0)
    if outer is None or outer[0] != 0x30:
        return False
    pos = outer[1]
    if data[pos : pos + 3] != b"\x02\x01\x03":
        return False
    pos += 3
    info = _header(data, pos)
    if info is None or info[0] != 0x30:
        return False
    pos += info[1]
    return data[pos : pos + len(_OID_DATA)] in (_OID_DATA, _OID_SIGNED)


@dataclass(frozen=True)
class _MacData:
    hash_name: str
    block_size: int
    digest: bytes
    salt: bytes
    iterations: int
    content: bytes  # the authSafe's data octets, which the MAC covers


def _mac_data(data: bytes) -> _MacData | None:
    """The PFX's MacData and the octets it covers (DER only); None when absent or unreadable."""
    outer = _element(data, 0, len(data))
    if outer is None:
        return None
    parts = _children(data, outer[1], outer[2])
    if parts is None or len(parts) != 3:
        return None
    auth_safe, mac = parts[1], parts[2]
    # authSafe ContentInfo { contentType id-data, [0] EXPLICIT OCTET STRING }
    info = _children(data, auth_safe[2], auth_safe[3])
    if info is None or len(info) != 2 or data[info[0][1] : info[0][3]] != _OID_DATA:
        return None
    wrapped = _children(data, info[1][2], info[1][3])
    if info[1][0] != 0xA0 or wrapped is None or len(wrapped) != 1 or wrapped[0][0] != 0x04:
        return None
    content = data[wrapped[0][2] : wrapped[0][3]]
    # MacData { mac DigestInfo { AlgorithmIdentifier, OCTET STRING }, macSalt, iterations }
    mac_parts = _children(data, mac[2], mac[3])
    if mac_parts is None or len(mac_parts) not in (2, 3):
        return None
    digest_info = _children(data, mac_parts[0][2], mac_parts[0][3])
    if digest_info is None or len(digest_info) != 2:
        return None
    algorithm = _children(data, digest_info[0][2], digest_info[0][3])
    if not algorithm or algorithm[0][0] != 0x06:
        return None
    known = _MAC_HASHES.get(data[algorithm[0][2] : algorithm[0][3]])
    if known is None or digest_info[1][0] != 0x04 or mac_parts[1][0] != 0x04:
        return None
    iterations = 1
    if len(mac_parts) == 3:
        if mac_parts[2][0] != 0x02 or mac_parts[2][3] - mac_parts[2][2] > 4:
            return None
        iterations = int.from_bytes(data[mac_parts[2][2] : mac_parts[2][3]], "big")
    return _MacData(
        known[0],
        known[1],
        data[digest_info[1][2] : digest_info[1][3]],
        data[mac_parts[1][2] : mac_parts[1][3]],
        iterations,
        content,
    )


def _bmp_password(password: bytes) -> bytes:
    """The KDF input: the password as a NUL-terminated BMPString (RFC 7292 appendix B.1),
    from UTF-8 as OpenSSL reads it; other bytes are taken as Latin-1."""
    try:
        text = password.decode("utf-8")
    except UnicodeDecodeError:
        text = password.decode("latin-1")
    return text.encode("utf-16-be") + b"\x00\x00"


def _pkcs12_kdf(mac: _MacData, password: bytes, size: int) -> bytes:
    """RFC 7292 appendix B.2 with ID 3 (MAC key material)."""
    v = mac.block_size
    diversifier = bytes([3]) * v

    def stretch(value: bytes) -> bytes:
        if not value:
            return b""
        length = v * ((len(value) + v - 1) // v)
        return (value * (length // len(value) + 1))[:length]

    ilist = bytearray(stretch(mac.salt) + stretch(_bmp_password(password)))
    out = b""
    while len(out) < size:
        block = hashlib.new(mac.hash_name, diversifier + bytes(ilist)).digest()
        for _ in range(mac.iterations - 1):
            block = hashlib.new(mac.hash_name, block).digest()
        out += block
        b_value = int.from_bytes(stretch(block), "big")
        for j in range(0, len(ilist), v):
            chunk = (int.from_bytes(ilist[j : j + v], "big") + b_value + 1) % (1 << (8 * v))
            ilist[j : j + v] = chunk.to_bytes(v, "big")
    return out[:size]


def _mac_verdict(data: bytes, password: bytes) -> bool | None:
    """True when the PFX's MAC verifies with `password`, False when it does not, None when
    the file has no MAC we can check."""
    try:
        mac = _mac_data(data)
        if mac is None or not 1 <= mac.iterations <= _MAX_MAC_ITERATIONS:
            return None
        size = hashlib.new(mac.hash_name).digest_size
        key = _pkcs12_kdf(mac, password, size)
        expected = hmac.new(key, mac.content, mac.hash_name).digest()
        return hmac.compare_digest(expected, mac.digest)
    except Exception:
        return None


# ---------------------------------------------------------------- choosing the leaf


def spki(public_key: PublicKeyTypes) -> bytes:
    """DER SubjectPublicKeyInfo of a public key (b"" when it cannot be encoded)."""
    try:
        return public_key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    except Exception:
        return b""


def certificate_spki(cert: x509.Certificate) -> bytes:
    try:
        return spki(cert.public_key())
    except Exception:  # an unknown key algorithm
        return b""


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        constraints = read_extension(cert, x509.BasicConstraints)
    except ExtensionError:
        return False
    return constraints is not None and constraints.ca


def _issues_another(cert: x509.Certificate, certs: Sequence[x509.Certificate]) -> bool:
    try:
        subject = cert.subject
        return any(other is not cert and other.issuer == subject and other.subject != subject
                   for other in certs)
    except Exception:
        return False


def _server_auth(cert: x509.Certificate) -> bool:
    try:
        eku = read_extension(cert, x509.ExtendedKeyUsage)
    except ExtensionError:
        return False
    return eku is None or x509.oid.ExtendedKeyUsageOID.SERVER_AUTH in eku


def choose_leaf(bundle: CertBundle, extra: Sequence[x509.Certificate] = ()) -> LeafChoice:
    """The certificate to roll out, and the chain to analyse (leaf first, then the file's other
    certificates, then `extra` from --chain).

    In order: the certificate a PFX pairs with its key; the certificate whose public key matches
    a private key in the file; the end-entity certificate (not a CA, issuer of no other
    certificate in the file), preferring one valid for Server Authentication; the first.
    """
    certs = unique_certificates(bundle.certificates)
    end_entities = [c for c in certs if not _is_ca(c)]
    leaf: x509.Certificate | None = None
    reason = ""
    if bundle.key_certificate is not None:
        leaf, reason = bundle.key_certificate, "the certificate the PFX pairs with its key"
    if leaf is None and bundle.keys:
        key_spkis = {spki(key.public_key()) for key in bundle.keys} - {b""}
        leaf = next((c for c in certs if certificate_spki(c) in key_spkis), None)
        reason = "the certificate that matches the private key in the file"
    if leaf is None:
        bottom = [c for c in end_entities if not _issues_another(c, certs)]
        candidates = bottom or end_entities or [
            c for c in certs if not _issues_another(c, certs)
        ] or certs
        preferred = [c for c in candidates if _server_auth(c)] or candidates
        leaf = preferred[0]
        if len(certs) == 1:
            reason = "the only certificate in the file"
        elif len(candidates) == 1:
            reason = "the end-entity certificate (the others issue it)"
        else:
            reason = (
                f"the first of {len(candidates)} end-entity certificates in the file"
                " (give the others separately to check them)"
            )
    chain = unique_certificates([leaf, *certs, *extra])
    return LeafChoice(leaf, tuple(chain), reason, len(end_entities))
