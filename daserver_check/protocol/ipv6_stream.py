"""Splitting the IP-HTTPS tunnel stream into IPv6 packets (sans-IO).

After the server's `200 OK`, both directions of an IP-HTTPS connection carry raw IPv6 packets
back to back, with no framing of their own: each packet is delimited by its IPv6 header, a
40-byte fixed header whose Payload Length (bytes 4-5, big-endian) gives the bytes that follow
([MS-IPHTTPS] §3.1.5.3, §3.2.5.2.2). Non-IPv6 data is a protocol error; the server SHOULD drop
the session, and a client has no way to find the next packet boundary either.

Feed bytes as they arrive with `Ipv6StreamSplitter.feed()`; it returns the packets completed by
those bytes. When garbage follows complete packets in the same chunk, those packets are returned
first and the error is raised by the next call (`error` tells at once). Choices, documented
because the spec leaves them open:

- The version nibble must be 6; anything else is garbage (`Ipv6FramingError` with the stream
  offset of the bad header). After an error the splitter stays failed: without a boundary there
  is no safe place to resynchronise.
- The link MTU is 1280 ([MS-IPHTTPS] §3.1.5.3), but a peer may well send larger packets (the
  spec does not say the receiver must drop them), so the default bound is the largest packet the
  16-bit Payload Length field can describe *with* its header under the classic 64 KiB limit:
  payload at most 65535 - 40 bytes. A larger Payload Length is treated as garbage (most likely a
  desynchronised stream), and so buffering per packet is bounded. Callers that want the MTU
  enforced pass `max_packet=LINK_MTU`; `oversize_mtu` counts packets above 1280 either way.
- Payload Length 0 with a Hop-by-Hop header announces a jumbogram (RFC 2675), impossible on this
  link: garbage. Payload Length 0 otherwise is a valid 40-byte packet (e.g. No Next Header).
- `finish()` at end of stream raises when a partial packet is still buffered (truncated).

Everything is linear in the bytes fed: each byte is copied a bounded number of times.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from daserver_check.errors import DaserverCheckError

HEADER_LENGTH = 40
LINK_MTU = 1280
MAX_PACKET = 65535
NEXT_HEADER_HOP_BY_HOP = 0
NEXT_HEADER_ICMPV6 = 58


class Ipv6FramingError(DaserverCheckError, ValueError):
    """The stream is not a sequence of IPv6 packets; `offset` is where the bad header starts."""

    def __init__(self, reason: str, offset: int) -> None:
        super().__init__(f"{reason} (at stream byte {offset})")
        self.reason = reason
        self.offset = offset


@dataclass(frozen=True, slots=True)
class Ipv6Header:
    version: int
    traffic_class: int
    flow_label: int
    payload_length: int
    next_header: int
    hop_limit: int
    source: str
    destination: str


def parse_header(packet: bytes) -> Ipv6Header:
    """The fixed header of one packet (at least 40 bytes); raises Ipv6FramingError otherwise."""
    if len(packet) < HEADER_LENGTH:
        raise Ipv6FramingError(
            f"an IPv6 header needs {HEADER_LENGTH} bytes, got {len(packet)}", 0
        )
    first = int.from_bytes(packet[0:4], "big")
    return Ipv6Header(
        version=first >> 28,
        traffic_class=(first >> 20) & 0xFF,
        flow_label=first & 0xFFFFF,
        payload_length=int.from_bytes(packet[4:6], "big"),
        next_header=packet[6],
        hop_limit=packet[7],
        source=str(ipaddress.IPv6Address(bytes(packet[8:24]))),
        destination=str(ipaddress.IPv6Address(bytes(packet[24:40]))),
    )


class Ipv6StreamSplitter:
    """Incremental splitter: `feed(chunk) -> [packet, ...]`, `finish()` at end of stream."""

    def __init__(self, max_packet: int = MAX_PACKET) -> None:
        if not HEADER_LENGTH <= max_packet <= HEADER_LENGTH + 0xFFFF:
            raise ValueError(f"max_packet {max_packet} out of range")
        self._max_packet = max_packet
        self._buf = bytearray()
        self._offset = 0  # stream offset of self._buf[0]
        self._error: Ipv6FramingError | None = None
        self.packets = 0
        self.oversize_mtu = 0

    @property
    def buffered(self) -> int:
        """Bytes of an incomplete packet held back."""
        return len(self._buf)

    @property
    def offset(self) -> int:
        """Stream offset just past the last complete packet."""
        return self._offset

    def feed(self, data: bytes) -> list[bytes]:
        if self._error is not None:
            raise self._error
        self._buf += data
        out: list[bytes] = []
        pos = 0
        buf = self._buf
        try:
            while len(buf) - pos >= HEADER_LENGTH:
                total = self._packet_length(buf, pos)
                if len(buf) - pos < total:
                    break
                out.append(bytes(buf[pos : pos + total]))
                if total > LINK_MTU:
                    self.oversize_mtu += 1
                pos += total
            if len(buf) > pos:
                # A partial header: reject a wrong version nibble early, before buffering more.
                self._check_version(buf[pos], self._offset + pos)
        except Ipv6FramingError:
            # Packets completed before the garbage are still delivered; the error is raised
            # now when there are none, else by the next feed() or finish() (see `error`).
            if not out:
                raise
        finally:
            if pos:
                del buf[:pos]
                self._offset += pos
            self.packets += len(out)
        return out

    @property
    def error(self) -> Ipv6FramingError | None:
        """The framing error seen so far, if any (feed() may return packets before raising it)."""
        return self._error

    def finish(self) -> None:
        """End of stream: raises Ipv6FramingError when a partial packet is left over."""
        if self._error is not None:
            raise self._error
        if self._buf:
            have = len(self._buf)
            if have >= HEADER_LENGTH:
                want = HEADER_LENGTH + int.from_bytes(self._buf[4:6], "big")
                reason = f"truncated packet: the stream ended after {have} of {want} bytes"
            else:
                reason = f"truncated packet: the stream ended inside an IPv6 header ({have} bytes)"
            self._error = Ipv6FramingError(reason, self._offset)
            raise self._error

    def _check_version(self, first_byte: int, offset: int) -> None:
        version = first_byte >> 4
        if version != 6:
            self._fail(f"not an IPv6 packet: version nibble {version}, byte 0x{first_byte:02X}", offset)

    def _packet_length(self, buf: bytearray, pos: int) -> int:
        offset = self._offset + pos
        self._check_version(buf[pos], offset)
        payload = int.from_bytes(buf[pos + 4 : pos + 6], "big")
        if payload == 0 and buf[pos + 6] == NEXT_HEADER_HOP_BY_HOP:
            self._fail("jumbogram (Payload Length 0 with a Hop-by-Hop header) on a 1280-MTU link",
                       offset)
        total = HEADER_LENGTH + payload
        if total > self._max_packet:
            self._fail(
                f"Payload Length {payload} makes a {total}-byte packet, above the "
                f"{self._max_packet}-byte bound (link MTU {LINK_MTU})",
                offset,
            )
        return total

    def _fail(self, reason: str, offset: int) -> None:
        self._error = Ipv6FramingError(reason, offset)
        raise self._error


def icmpv6_checksum(source: str, destination: str, message: bytes) -> int:
    """RFC 4443 §2.3: one's-complement sum over the IPv6 pseudo-header and the message
    (whose checksum field must be zero)."""
    pseudo = (
        ipaddress.IPv6Address(source).packed
        + ipaddress.IPv6Address(destination).packed
        + len(message).to_bytes(4, "big")
        + b"\x00\x00\x00"
        + bytes([NEXT_HEADER_ICMPV6])
    )
    data = pseudo + message
    if len(data) % 2:
        data += b"\x00"
    total = sum(int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def build_packet(source: str, destination: str, next_header: int, payload: bytes,
                 hop_limit: int = 255) -> bytes:
    """A fixed IPv6 header + payload (no extension headers)."""
    header = (
        (6 << 28).to_bytes(4, "big")
        + len(payload).to_bytes(2, "big")
        + bytes([next_header, hop_limit])
        + ipaddress.IPv6Address(source).packed
        + ipaddress.IPv6Address(destination).packed
    )
    return header + payload
