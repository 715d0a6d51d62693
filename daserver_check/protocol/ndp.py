"""IPv6 router discovery messages (RFC 4861), built and checked on bytes: sans-IO.

The probe sends a Router Solicitation through the IP-HTTPS tunnel and checks the Router
Advertisement that comes back; the lab answers a solicitation with its advertisement. Both use
this module, so the bytes a test server sends and the rules a probe applies stay one thing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from daserver_check.protocol.ipv6_stream import (
    HEADER_LENGTH,
    NEXT_HEADER_ICMPV6,
    build_packet,
    icmpv6_checksum,
    parse_header,
)

ICMPV6_RS = 133  # RFC 4861 §4.1
ICMPV6_RA = 134  # RFC 4861 §4.2
OPTION_PREFIX_INFORMATION = 3  # RFC 4861 §4.6.2
OPTION_MTU = 5  # RFC 4861 §4.6.4
ALL_ROUTERS = "ff02::2"
ALL_NODES = "ff02::1"
UNSPECIFIED = "::"
RA_FIXED_LENGTH = 16  # type, code, checksum, hop limit, flags, lifetime, reachable, retrans


def _icmpv6(source: str, destination: str, message: bytes) -> bytes:
    """An ICMPv6 message with its checksum filled in, wrapped in an IPv6 header (hop limit 255:
    RFC 4861 requires it for every neighbour discovery message)."""
    checksum = icmpv6_checksum(source, destination, message)
    message = message[:2] + checksum.to_bytes(2, "big") + message[4:]
    return build_packet(source, destination, NEXT_HEADER_ICMPV6, message)


def build_router_solicitation() -> bytes:
    """The RS a probe sends: src ::, dst ff02::2, hop limit 255, type 133, no options (RFC 4861
    §4.1: no source link-layer address option with the unspecified source)."""
    return _icmpv6(UNSPECIFIED, ALL_ROUTERS, bytes([ICMPV6_RS, 0, 0, 0]) + bytes(4))


def is_router_solicitation(packet: bytes) -> bool:
    header = parse_header(packet)
    return (
        header.next_header == NEXT_HEADER_ICMPV6
        and len(packet) > HEADER_LENGTH
        and packet[HEADER_LENGTH] == ICMPV6_RS
    )


def is_router_advertisement(packet: bytes) -> bool:
    header = parse_header(packet)
    return (
        header.next_header == NEXT_HEADER_ICMPV6
        and len(packet) > HEADER_LENGTH
        and packet[HEADER_LENGTH] == ICMPV6_RA
    )


def prefix_information_option(prefix: str, length: int) -> bytes:
    """Prefix Information option (RFC 4861 §4.6.2): L and A set, 30 days valid, 7 preferred."""
    return (
        bytes([OPTION_PREFIX_INFORMATION, 4, length, 0xC0])
        + (30 * 86400).to_bytes(4, "big")
        + (7 * 86400).to_bytes(4, "big")
        + bytes(4)
        + ipaddress.IPv6Address(prefix).packed
    )


def build_router_advertisement(
    source: str,
    destination: str,
    prefixes: Sequence[tuple[str, int]],
    *,
    mtu: int | None = 1280,
    router_lifetime: int = 1800,
    hop_limit: int = 64,
) -> bytes:
    """An RA from `source` advertising `prefixes` ((prefix, length) pairs) and an MTU option."""
    options = b""
    if mtu is not None:
        options += bytes([OPTION_MTU, 1, 0, 0]) + mtu.to_bytes(4, "big")
    for prefix, length in prefixes:
        options += prefix_information_option(prefix, length)
    message = (
        bytes([ICMPV6_RA, 0, 0, 0, hop_limit, 0])
        + router_lifetime.to_bytes(2, "big")
        + bytes(8)
        + options
    )
    return _icmpv6(source, destination, message)


def check_router_advertisement(packet: bytes) -> str | None:
    """Why a host would discard this RA (RFC 4861 §6.1.2), or None when it is acceptable.

    Checks the fixed header, the checksum and the option lengths on the bytes, so a dissector
    never sees a malformed option list. Raises Ipv6FramingError for a packet whose IPv6 header
    does not parse.
    """
    header = parse_header(packet)
    message = packet[HEADER_LENGTH : HEADER_LENGTH + header.payload_length]
    if header.hop_limit != 255:
        return f"hop limit {header.hop_limit}, not 255 (the RA did not come from the link)"
    if not ipaddress.IPv6Address(header.source).is_link_local:
        return f"source {header.source} is not link-local"
    if len(message) < RA_FIXED_LENGTH:
        return f"ICMPv6 length {len(message)} is below the 16 bytes of an RA"
    if message[1] != 0:
        return f"ICMPv6 code {message[1]}, not 0"
    zeroed = message[:2] + b"\x00\x00" + message[4:]
    expected = icmpv6_checksum(header.source, header.destination, zeroed)
    got = int.from_bytes(message[2:4], "big")
    if got != expected:
        return f"bad ICMPv6 checksum 0x{got:04X} (expected 0x{expected:04X})"
    pos = RA_FIXED_LENGTH
    while pos < len(message):
        if len(message) - pos < 2:
            return "an option is cut off"
        length = message[pos + 1] * 8
        if length == 0:
            return f"option type {message[pos]} has length 0"
        if pos + length > len(message):
            return f"option type {message[pos]} runs past the end of the packet"
        if message[pos] == OPTION_PREFIX_INFORMATION:
            # RFC 4861 §4.6.2: Length 4 (32 bytes), Prefix Length 0-128.
            if length != 32:
                return f"Prefix Information option of {length} bytes, not 32"
            if message[pos + 2] > 128:
                return f"Prefix Information with prefix length {message[pos + 2]} (above 128)"
        pos += length
    return None
