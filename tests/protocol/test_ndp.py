"""Router discovery messages built on bytes agree with scapy's, and the RA check holds."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from daserver_check.protocol.ipv6_stream import Ipv6FramingError
from daserver_check.protocol.ndp import (
    build_router_advertisement,
    build_router_solicitation,
    check_router_advertisement,
    is_router_advertisement,
    is_router_solicitation,
)


def test_router_solicitation_is_the_one_scapy_builds() -> None:
    from scapy.layers.inet6 import ICMPv6ND_RS, IPv6

    expected = bytes(IPv6(src="::", dst="ff02::2", hlim=255) / ICMPv6ND_RS())
    assert build_router_solicitation() == expected
    assert is_router_solicitation(expected) and not is_router_advertisement(expected)


def test_router_advertisement_dissects_as_built() -> None:
    from scapy.layers.inet6 import ICMPv6ND_RA, ICMPv6NDOptMTU, ICMPv6NDOptPrefixInfo, IPv6

    packet = build_router_advertisement("fe80::1", "ff02::1", [("2001:db8:1::", 64)])
    assert check_router_advertisement(packet) is None and is_router_advertisement(packet)
    parsed = IPv6(packet)
    assert parsed[ICMPv6ND_RA].routerlifetime == 1800
    assert parsed[ICMPv6NDOptMTU].mtu == 1280
    info = parsed[ICMPv6NDOptPrefixInfo]
    assert (str(info.prefix), int(info.prefixlen)) == ("2001:db8:1::", 64)
    # scapy recomputes the checksum on re-serialisation: equal bytes mean ours was right.
    del parsed[ICMPv6ND_RA].cksum
    assert bytes(parsed) == packet


def test_a_flipped_byte_is_discarded_with_a_reason() -> None:
    packet = bytearray(build_router_advertisement("fe80::1", "ff02::1", [("2001:db8::", 64)]))
    packet[-1] ^= 0xFF
    assert "checksum" in (check_router_advertisement(bytes(packet)) or "")
    off_link = build_router_advertisement("2001:db8::1", "ff02::1", [])
    assert "link-local" in (check_router_advertisement(off_link) or "")


@given(st.binary(max_size=200))
def test_the_check_takes_any_bytes(data: bytes) -> None:
    try:
        verdict = check_router_advertisement(data)
    except Ipv6FramingError:
        return
    assert verdict is None or isinstance(verdict, str)
