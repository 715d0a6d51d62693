"""PKCS#12 read without decrypting it: a minimal DER reader, the integrity MAC (RFC 7292 §5,
appendix B) and the key-derivation iteration counts.

Two jobs `cryptography` cannot do for us: tell a wrong password from a cipher this OpenSSL
cannot decrypt (the MAC verifies with the right password whatever the cipher), and refuse a
file whose PBKDF or MAC iteration count would stall the derivation before any derivation
starts. Bounded: every length and offset is checked against the buffer, recursion is capped.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from dataclasses import dataclass

# The PKCS#12 KDF is iterated hashing in Python; Windows exports use 2000 rounds, OpenSSL
# 2048, Java keytool 10000. A hostile file must not make the MAC check spin: above this
# it is "cannot tell".
_MAX_MAC_ITERATIONS = 200_000
_OID_DATA = bytes.fromhex("06092a864886f70d010701")  # id-data 1.2.840.113549.1.7.1
_OID_SIGNED = bytes.fromhex("06092a864886f70d010702")  # id-signedData 1.2.840.113549.1.7.2
# MAC digest algorithms (content octets of the OID) → (hashlib name, block size in bytes).
_MAC_HASHES: dict[bytes, tuple[str, int]] = {
    bytes.fromhex("2b0e03021a"): ("sha1", 64),
    bytes.fromhex("608648016503040204"): ("sha224", 64),
    bytes.fromhex("608648016503040201"): ("sha256", 64),
    bytes.fromhex("608648016503040202"): ("sha384", 128),
    bytes.fromhex("608648016503040203"): ("sha512", 128),
}

# ---------------------------------------------------------------- minimal DER reading


def der_header(data: bytes, pos: int) -> tuple[int, int, int | None] | None:
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
    header = der_header(data, pos)
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


def looks_like_pfx(data: bytes) -> bool:
    """PFX ::= SEQUENCE { version INTEGER (3), authSafe ContentInfo, macData OPTIONAL }
    (RFC 7292 §4), checked on headers only so BER indefinite lengths pass too."""
    outer = der_header(data, 0)
    if outer is None or outer[0] != 0x30:
        return False
    pos = outer[1]
    if data[pos : pos + 3] != b"\x02\x01\x03":
        return False
    pos += 3
    info = der_header(data, pos)
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


def mac_verdict(data: bytes, password: bytes) -> bool | None:
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
    header = der_header(data, pos)
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
    outer = der_header(data, 0)
    if outer is None or outer[0] != 0x30:
        return None
    cursor: int | None = outer[1]
    for _ in range(2):  # version, authSafe
        cursor = _ber_end(data, cursor) if cursor is not None else None
    if cursor is None or cursor >= len(data) or data[cursor] != 0x30:
        return None
    mac = der_header(data, cursor)
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




