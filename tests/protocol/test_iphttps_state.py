from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daserver_check.protocol.iphttps_state import IpHttpsJsonError, parse_iphttps_json

from .timing import assert_linear

PS = Path(__file__).parents[1] / "fixtures" / "server" / "powershell"


def test_state_utf16_decimal_code() -> None:
    doc = parse_iphttps_json((PS / "state-2afc.json").read_bytes())
    (state,) = doc.states
    assert state.last_error == 0x2AFC
    assert state.status == "Failed to connect to IPHTTPS server; waiting to reconnect"
    assert doc.configurations == ()


def test_signed_hresult_is_read_as_unsigned() -> None:
    doc = parse_iphttps_json((PS / "state-80092013.json").read_bytes())
    assert doc.states[0].last_error == 0x80092013


def test_bundle_with_configuration_and_state() -> None:
    doc = parse_iphttps_json((PS / "iphttps-bundle.json").read_bytes())
    assert doc.states[0].last_error == 0x643
    (config,) = doc.configurations
    assert config.server_url == "https://da.contoso.com:443/IPHTTPS"
    assert config.strong_crl_required is False
    assert config.state == "0"


@pytest.mark.parametrize("code", ['"0x2afc"', '"11004"', "11004", "11004.0"])
def test_code_spellings(code: str) -> None:
    doc = parse_iphttps_json(('{"LastErrorCode": ' + code + "}").encode())
    assert doc.states[0].last_error == 0x2AFC


@pytest.mark.parametrize(
    "data",
    [b"", b"{", b"[]", b'{"a": 1}', b"\xff\xfe{", b"\xff\xfe\x00\xd8", b"\x80", b"[" * 100000,
     b'{"LastErrorCode": ' + b"9" * 5000 + b"}"],
)
def test_errors(data: bytes) -> None:
    with pytest.raises(IpHttpsJsonError):
        parse_iphttps_json(data)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1000))
def test_arbitrary_bytes_raise_only_own_error(data: bytes) -> None:
    with contextlib.suppress(IpHttpsJsonError):
        parse_iphttps_json(data)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["LastErrorCode", "ServerURL", "State", "x"]), children,
                      max_size=4),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_arbitrary_json_raises_only_own_error(value: object) -> None:
    import json

    with contextlib.suppress(IpHttpsJsonError):
        parse_iphttps_json(json.dumps(value).encode())


def test_parse_time_is_linear() -> None:
    assert_linear(parse_iphttps_json, lambda n: b"[" + b'{"LastErrorCode": 1},' * (n // 20) + b"1]")
    assert_linear(parse_iphttps_json, lambda n: b'"' + b"\\\\" * n + b'"')
