"""The IP-HTTPS tunnel framing: IPv6 packets back to back, delimited by Payload Length.

Property-based: any split of a valid stream gives the same packets; garbage, truncation and
oversized lengths give an Ipv6FramingError with the right offset, never another exception.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daserver_check.protocol.ipv6_stream import (
    HEADER_LENGTH,
    LINK_MTU,
    MAX_PACKET,
    Ipv6FramingError,
    Ipv6StreamSplitter,
    build_packet,
    icmpv6_checksum,
    parse_header,
)

SRC = "fe80::1"
DST = "ff02::1"


def packet(payload: bytes, next_header: int = 59) -> bytes:
    return build_packet(SRC, DST, next_header, payload)


payloads = st.lists(st.binary(max_size=300), max_size=8)


def split_at(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for p in points:
        pieces.append(data[last:p])
        last = p
    pieces.append(data[last:])
    return pieces


@settings(max_examples=200, deadline=None)
@given(payloads, st.lists(st.integers(min_value=0, max_value=10_000), max_size=20))
def test_any_split_gives_the_same_packets(bodies: list[bytes], cuts: list[int]) -> None:
    packets = [packet(b) for b in bodies]
    stream = b"".join(packets)
    splitter = Ipv6StreamSplitter()
    out: list[bytes] = []
    for piece in split_at(stream, cuts):
        out.extend(splitter.feed(piece))
    splitter.finish()
    assert out == packets
    assert splitter.buffered == 0
    assert splitter.offset == len(stream)
    assert splitter.packets == len(packets)


@settings(max_examples=200, deadline=None)
@given(payloads, st.integers(min_value=1, max_value=10_000))
def test_truncated_stream_is_reported_at_the_packet_start(bodies: list[bytes], cut: int) -> None:
    packets = [packet(b) for b in [*bodies, b"last"]]
    stream = b"".join(packets)
    cut = len(stream) - 1 - (cut % (len(packets[-1]) - 1))  # inside the last packet
    splitter = Ipv6StreamSplitter()
    out = splitter.feed(stream[:cut])
    assert out == packets[:-1]
    with pytest.raises(Ipv6FramingError) as info:
        splitter.finish()
    assert info.value.offset == len(stream) - len(packets[-1])
    assert "truncated" in info.value.reason


@settings(max_examples=300, deadline=None)
@given(payloads, st.binary(min_size=1, max_size=200), st.integers(min_value=1, max_value=64))
def test_garbage_after_good_packets_fails_at_its_offset(
    bodies: list[bytes], garbage: bytes, chunk: int
) -> None:
    packets = [packet(b) for b in bodies]
    good = b"".join(packets)
    stream = good + garbage
    splitter = Ipv6StreamSplitter()
    out: list[bytes] = []
    error: Ipv6FramingError | None = None
    try:
        for i in range(0, len(stream), chunk):
            out.extend(splitter.feed(stream[i : i + chunk]))
        splitter.finish()
    except Ipv6FramingError as exc:
        error = exc
    # The good packets always come out; the garbage either fails (at or after its start), or
    # happens to look like IPv6 packets (a version nibble of 6 and a plausible length).
    assert out[: len(packets)] == packets
    if garbage[0] >> 4 != 6:
        assert error is not None
        assert error.offset == len(good)
    if error is not None:
        assert error.offset >= len(good)
        # Once failed, the splitter stays failed.
        with pytest.raises(Ipv6FramingError):
            splitter.feed(packet(b"x"))


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_never_raise_anything_else(data: bytes) -> None:
    splitter = Ipv6StreamSplitter(max_packet=LINK_MTU)
    try:
        for packet_bytes in splitter.feed(data):
            assert len(packet_bytes) <= LINK_MTU
            assert parse_header(packet_bytes).version == 6
        splitter.finish()
    except Ipv6FramingError as exc:
        assert 0 <= exc.offset <= len(data)


@given(st.integers(min_value=MAX_PACKET - HEADER_LENGTH + 1, max_value=0xFFFF))
def test_oversized_length_fails_before_buffering(payload_length: int) -> None:
    header = bytearray(packet(b""))
    header[4:6] = payload_length.to_bytes(2, "big")
    splitter = Ipv6StreamSplitter()
    with pytest.raises(Ipv6FramingError) as info:
        splitter.feed(bytes(header))
    assert info.value.offset == 0
    assert "bound" in info.value.reason


@given(st.integers(min_value=LINK_MTU - HEADER_LENGTH + 1, max_value=0xFFFF))
def test_link_mtu_bound_when_asked_for(payload_length: int) -> None:
    header = bytearray(packet(b""))
    header[4:6] = payload_length.to_bytes(2, "big")
    with pytest.raises(Ipv6FramingError):
        Ipv6StreamSplitter(max_packet=LINK_MTU).feed(bytes(header))


def test_largest_packet_passes_and_counts_as_over_mtu() -> None:
    big = packet(bytes(MAX_PACKET - HEADER_LENGTH))
    splitter = Ipv6StreamSplitter()
    assert splitter.feed(big) == [big]
    assert splitter.oversize_mtu == 1


def test_wrong_version_is_rejected_from_its_first_byte() -> None:
    splitter = Ipv6StreamSplitter()
    assert splitter.feed(packet(b"ok")) == [packet(b"ok")]
    with pytest.raises(Ipv6FramingError) as info:
        splitter.feed(b"\x45")  # an IPv4 header starts like this
    assert info.value.offset == HEADER_LENGTH + 2
    assert "version nibble 4" in str(info.value)


def test_http_after_the_200_is_garbage() -> None:
    with pytest.raises(Ipv6FramingError, match="version nibble 4"):
        Ipv6StreamSplitter().feed(b"HTTP/1.1 400 Bad Request\r\n")


def test_jumbogram_is_garbage_but_empty_payload_is_not() -> None:
    assert Ipv6StreamSplitter().feed(packet(b"", next_header=59)) == [packet(b"", 59)]
    with pytest.raises(Ipv6FramingError, match="jumbogram"):
        Ipv6StreamSplitter().feed(packet(b"", next_header=0))


def test_truncated_header() -> None:
    splitter = Ipv6StreamSplitter()
    assert splitter.feed(packet(b"abc")[:10]) == []
    assert splitter.buffered == 10
    with pytest.raises(Ipv6FramingError, match="inside an IPv6 header"):
        splitter.finish()


def test_header_fields() -> None:
    header = parse_header(build_packet("::", "ff02::2", 58, b"\x85\x00\x00\x00" + bytes(4)))
    assert (header.version, header.payload_length, header.next_header, header.hop_limit) == (
        6, 8, 58, 255)
    assert (header.source, header.destination) == ("::", "ff02::2")
    with pytest.raises(Ipv6FramingError):
        parse_header(b"\x60" * 39)


def test_icmpv6_checksum_matches_a_known_router_solicitation() -> None:
    # RS from :: to ff02::2 as scapy builds it: checksum 0x7BB8.
    message = bytes([133, 0, 0, 0, 0, 0, 0, 0])
    assert icmpv6_checksum("::", "ff02::2", message) == 0x7BB8


def test_feeding_is_linear_enough() -> None:
    # 2000 small packets fed one byte at a time: bounded work per byte, no quadratic rescans.
    packets = [packet(bytes([i % 256]) * 20) for i in range(2000)]
    stream = b"".join(packets)
    splitter = Ipv6StreamSplitter()
    out: list[bytes] = []
    for i in range(len(stream)):
        out.extend(splitter.feed(stream[i : i + 1]))
    assert out == packets
