"""A bounded parser of the TLS ClientHello: what a client offered (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2).

Used where the project must see a ClientHello from outside: the lab's `null-dropped` front end
peeks at it before TLS starts, and the tests read the hello `openssl s_server -msg` printed.
Everything read is length-checked; malformed input raises `ClientHelloError`, never an
IndexError or a struct error, and the input size is capped.
"""

from __future__ import annotations

from dataclasses import dataclass

# A ClientHello fits in one handshake message of at most 2^24-1 bytes; real ones are < 2 KB
# (post-quantum key shares reach ~1.8 KB). 64 KiB bounds the work on hostile input.
MAX_HELLO = 64 * 1024
_HANDSHAKE = 22
_CLIENT_HELLO = 1
_EXT_SUPPORTED_GROUPS = 0x000A
_EXT_SIGNATURE_ALGORITHMS = 0x000D
_EXT_SUPPORTED_VERSIONS = 0x002B


class ClientHelloError(ValueError):
    """The bytes are not a well-formed ClientHello."""


@dataclass(frozen=True, slots=True)
class ClientHello:
    legacy_version: int
    cipher_suites: tuple[int, ...]
    extensions: tuple[int, ...]
    supported_versions: tuple[int, ...] = ()
    groups: tuple[int, ...] = ()
    sigalgs: tuple[int, ...] = ()

    @property
    def versions(self) -> tuple[int, ...]:
        """The versions offered: supported_versions when present (RFC 8446 §4.2.1), else every
        version from TLS 1.0 up to legacy_version."""
        if self.supported_versions:
            return tuple(v for v in self.supported_versions if 0x0300 <= v <= 0x03FF)
        return tuple(range(0x0301, self.legacy_version + 1)) if self.legacy_version >= 0x0301 else ()


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ClientHelloError("truncated ClientHello")
        out = self.data[self.pos : self.pos + n]
        self.pos += n
        return out

    def uint(self, n: int) -> int:
        return int.from_bytes(self.take(n), "big")

    def vector(self, length_bytes: int) -> bytes:
        return self.take(self.uint(length_bytes))

    @property
    def done(self) -> bool:
        return self.pos == len(self.data)


def _u16_list(data: bytes, what: str) -> tuple[int, ...]:
    if len(data) % 2:
        raise ClientHelloError(f"odd length of {what}")
    return tuple(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))


def parse_client_hello(message: bytes) -> ClientHello:
    """Parse one handshake message (type byte, 3-byte length, body) holding a ClientHello."""
    if len(message) > MAX_HELLO:
        raise ClientHelloError(f"ClientHello larger than {MAX_HELLO} bytes")
    reader = _Reader(message)
    if reader.uint(1) != _CLIENT_HELLO:
        raise ClientHelloError("not a ClientHello handshake message")
    body = _Reader(reader.vector(3))
    if not reader.done:
        raise ClientHelloError("bytes after the ClientHello")
    legacy_version = body.uint(2)
    body.take(32)  # random
    body.vector(1)  # legacy_session_id
    suites = _u16_list(body.vector(2), "cipher_suites")
    if not suites:
        raise ClientHelloError("no cipher suites")
    body.vector(1)  # legacy_compression_methods
    extensions: list[int] = []
    versions: tuple[int, ...] = ()
    groups: tuple[int, ...] = ()
    sigalgs: tuple[int, ...] = ()
    if not body.done:
        ext_reader = _Reader(body.vector(2))
        if not body.done:
            raise ClientHelloError("bytes after the extensions")
        while not ext_reader.done:
            ext_type = ext_reader.uint(2)
            ext = _Reader(ext_reader.vector(2))
            extensions.append(ext_type)
            if ext_type == _EXT_SUPPORTED_VERSIONS:
                versions = _u16_list(ext.vector(1), "supported_versions")
            elif ext_type == _EXT_SUPPORTED_GROUPS:
                groups = _u16_list(ext.vector(2), "supported_groups")
            elif ext_type == _EXT_SIGNATURE_ALGORITHMS:
                sigalgs = _u16_list(ext.vector(2), "signature_algorithms")
            else:
                continue
            if not ext.done:
                raise ClientHelloError(f"bytes after extension 0x{ext_type:04x}")
    return ClientHello(legacy_version, suites, tuple(extensions), versions, groups, sigalgs)


def handshake_from_records(data: bytes) -> bytes | None:
    """The first handshake message carried by the TLS records at the start of `data`.

    None when more bytes are needed; ClientHelloError when the bytes are not TLS handshake
    records or the message would exceed MAX_HELLO.
    """
    payload = bytearray()
    pos = 0
    while True:
        if len(payload) >= 4:
            need = 4 + int.from_bytes(payload[1:4], "big")
            if need > MAX_HELLO:
                raise ClientHelloError(f"handshake message larger than {MAX_HELLO} bytes")
            if len(payload) >= need:
                return bytes(payload[:need])
        if len(data) - pos < 5:
            return None
        content_type, major = data[pos], data[pos + 1]
        length = int.from_bytes(data[pos + 3 : pos + 5], "big")
        if content_type != _HANDSHAKE or major != 3:
            raise ClientHelloError("not a TLS handshake record")
        if length == 0 or length > 16384 + 2048:
            raise ClientHelloError("bad TLS record length")
        if len(data) - pos - 5 < length:
            return None
        payload += data[pos + 5 : pos + 5 + length]
        pos += 5 + length
