from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daserver_check.protocol.security_descriptor import (
    SecurityDescriptorError,
    bytes_to_sddl,
    from_sddl,
    parse_security_descriptor,
    sddl_to_bytes,
    service_sid,
)

from .timing import assert_linear

SSTP_SID = "S-1-5-80-3435701886-799518250-3791383489-3228296122-2938884314"

KNOWN_SDDL = [
    "D:(A;;GX;;;WD)",  # netsh's default for http://+:80/Temporary_Listen_Addresses/
    "D:(A;;GX;;;NS)",
    "D:(A;;GA;;;NS)",
    "D:(A;;GX;;;LS)(A;;GW;;;BA)",
    f"D:(A;;GX;;;{SSTP_SID})",
    "O:BAG:SYD:(A;;GX;;;WD)",
    "O:SYG:SYD:PAI(A;OICIID;FA;;;SY)(D;;GW;;;AN)",
    "D:NO_ACCESS_CONTROL",
    "D:(A;;0x1200a9;;;BU)",
    "D:(A;;GX;;;BU)S:(AU;SAFA;GA;;;WD)",
    "D:(A;;CCDCLCSWRPWPDTLOCRSDRCWDWO;;;BA)", "D:(A;;GXGW;;;LS)",
]


@pytest.mark.parametrize("sddl", KNOWN_SDDL)
def test_known_sddl_round_trips(sddl: str) -> None:
    assert bytes_to_sddl(sddl_to_bytes(sddl)) == sddl


def test_reference_example_bytes() -> None:
    # docs/windows-facts.md §5: "Example bytes 01 00 04 80 … decode to D:(A;;GX;;;WD)".
    data = sddl_to_bytes("D:(A;;GX;;;WD)")
    assert data[:4] == bytes.fromhex("01000480")
    sd = parse_security_descriptor(data)
    assert sd.dacl is not None
    (ace,) = sd.dacl.aces
    assert ace.allows_listen and not ace.allows_delegate
    assert ace.sid.name == "Everyone"


def test_service_sid_of_sstp_is_recognised() -> None:
    assert str(service_sid("SstpSvc")) == SSTP_SID
    sd = parse_security_descriptor(sddl_to_bytes(f"D:(A;;GX;;;{SSTP_SID})"))
    assert sd.dacl is not None
    assert sd.dacl.aces[0].sid.name == "NT SERVICE\\SstpSvc"
    assert service_sid("PeerDistSvc").name == "NT SERVICE\\PeerDistSvc"


def test_aliases_are_case_insensitive_on_input() -> None:
    assert from_sddl("D:(a;;gx;;;wd)").to_sddl() == "D:(A;;GX;;;WD)"


@pytest.mark.parametrize("cut", [0, 1, 19, 20, 27, 28, 35, 40, 47])
def test_truncated_descriptor_is_an_error(cut: int) -> None:
    data = sddl_to_bytes("D:(A;;GX;;;WD)")
    with pytest.raises(SecurityDescriptorError):
        parse_security_descriptor(data[:cut])


@pytest.mark.parametrize(
    ("offset", "value", "fragment"),
    [
        (0, 2, "revision"),
        (3, 0x00, "self-relative"),
        (16, 200, "outside"),
        (20, 9, "ACL revision"),
        (22, 0xF0, "ACL size"),
        (24, 5, "ACE"),
        (30, 0x13, "inconsistent size"),
        (28, 0x09, "unsupported type"),
        (36, 2, "SID revision"),
        (37, 16, "sub-authorities"),
    ],
)
def test_inconsistent_descriptor_is_an_error(offset: int, value: int, fragment: str) -> None:
    data = bytearray(sddl_to_bytes("D:(A;;GX;;;WD)"))
    data[offset] = value
    with pytest.raises(SecurityDescriptorError) as info:
        parse_security_descriptor(bytes(data))
    assert fragment in str(info.value)


@pytest.mark.parametrize(
    "bad",
    ["", "X:", "D:(A;;GX;;WD)", "D:(Q;;GX;;;WD)", "D:(A;;ZZ;;;WD)", "D:(A;;GX;;;S-1-x)",
     "D:(A;;GX;;;WD", "D:junk(A;;GX;;;WD)", "O:WDO:WD", "D:(A;;GX;{x};;WD)"],
)
def test_bad_sddl_is_an_error(bad: str) -> None:
    with pytest.raises(SecurityDescriptorError):
        from_sddl(bad)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_raise_only_descriptor_error(data: bytes) -> None:
    with contextlib.suppress(SecurityDescriptorError):
        parse_security_descriptor(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=60), st.integers(min_value=0, max_value=47))
def test_mutated_descriptors_raise_only_descriptor_error(noise: bytes, where: int) -> None:
    data = bytearray(sddl_to_bytes(f"O:BAD:(A;;GX;;;{SSTP_SID})(A;;GA;;;NS)"))
    data[where : where + len(noise)] = noise
    try:
        sd = parse_security_descriptor(bytes(data))
        sd.to_sddl()
    except SecurityDescriptorError:
        pass


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="OGDS:();AGXWDNOICPRU-0123456789x", max_size=80))
def test_arbitrary_sddl_raises_only_descriptor_error(text: str) -> None:
    try:
        sd = from_sddl(text)
    except SecurityDescriptorError:
        return
    # What parses must survive the binary form unchanged: SDDL -> bytes -> SDDL.
    assert bytes_to_sddl(sd.to_bytes()) == sd.to_sddl()


def test_sddl_parse_time_is_linear() -> None:
    assert_linear(lambda b: from_sddl(b.decode()), lambda n: ("D:" * (n // 2)).encode(), small=4000)
    assert_linear(lambda b: from_sddl(b.decode()),
                  lambda n: ("D:" + "(A;;GX;;;WD)" * (n // 12)).encode(), small=4000)
