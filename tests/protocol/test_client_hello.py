"""The bounded ClientHello parser: round trips, and any bytes give a hello or ClientHelloError."""

from __future__ import annotations

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from daserver_check.protocol.client_hello import (
    MAX_HELLO,
    ClientHelloError,
    handshake_from_records,
    parse_client_hello,
)
from tests.fuzz.strategies import fuzz_settings

u16 = st.integers(0, 0xFFFF)


def build(version: int, suites: list[int], groups: list[int], sigalgs: list[int],
          versions: list[int]) -> bytes:
    def vec(data: bytes, n: int) -> bytes:
        return len(data).to_bytes(n, "big") + data

    def u16s(values: list[int]) -> bytes:
        return b"".join(v.to_bytes(2, "big") for v in values)

    exts = b""
    if groups:
        exts += (0x000A).to_bytes(2, "big") + vec(vec(u16s(groups), 2), 2)
    if sigalgs:
        exts += (0x000D).to_bytes(2, "big") + vec(vec(u16s(sigalgs), 2), 2)
    if versions:
        exts += (0x002B).to_bytes(2, "big") + vec(vec(u16s(versions), 1), 2)
    exts += (0xFF01).to_bytes(2, "big") + vec(b"\x00", 2)
    body = (version.to_bytes(2, "big") + bytes(32) + vec(b"", 1) + vec(u16s(suites), 2)
            + vec(b"\x00", 1) + vec(exts, 2))
    return b"\x01" + vec(body, 3)


def records(message: bytes, size: int) -> bytes:
    return b"".join(b"\x16\x03\x01" + len(message[i : i + size]).to_bytes(2, "big")
                    + message[i : i + size] for i in range(0, len(message), size))


@fuzz_settings(ci=200)
@given(version=st.integers(0x0300, 0x0303), suites=st.lists(u16, min_size=1, max_size=60),
       groups=st.lists(u16, max_size=10), sigalgs=st.lists(u16, max_size=20),
       versions=st.lists(st.integers(0x0301, 0x0304), max_size=4),
       split=st.integers(1, 300))
def test_round_trip_through_records(version: int, suites: list[int], groups: list[int],
                                    sigalgs: list[int], versions: list[int], split: int) -> None:
    message = build(version, suites, groups, sigalgs, versions)
    data = records(message, split)
    assert handshake_from_records(data[:-1]) is None  # one byte short: needs more
    assert handshake_from_records(data) == message
    hello = parse_client_hello(message)
    assert hello.cipher_suites == tuple(suites)
    assert hello.groups == tuple(groups) and hello.sigalgs == tuple(sigalgs)
    assert hello.supported_versions == tuple(versions)
    assert 0xFF01 in hello.extensions


@fuzz_settings(ci=300)
@example(data=b"\x01\x00\x00\x00")
@example(data=b"\x01\xff\xff\xff")
@given(data=st.binary(max_size=600))
def test_any_bytes_parse_or_raise_client_hello_error(data: bytes) -> None:
    try:
        hello = parse_client_hello(data)
    except ClientHelloError:
        return
    assert hello.cipher_suites


@fuzz_settings(ci=300)
@example(data=b"\x16\x03\x01\x00\x04\x01\xff\xff\xff")
@given(data=st.binary(max_size=600))
def test_any_bytes_as_records(data: bytes) -> None:
    try:
        message = handshake_from_records(data)
    except ClientHelloError:
        return
    assert message is None or len(message) <= MAX_HELLO


def test_oversized_message_refused_early() -> None:
    with pytest.raises(ClientHelloError, match="larger than"):
        handshake_from_records(b"\x16\x03\x01\x00\x04\x01\x7f\xff\xff")
