from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daserver_check.protocol.reg import (
    RegKey,
    RegParseError,
    RegType,
    RegValue,
    encode_sz,
    format_reg_export,
    parse_reg_export,
    parse_reg_text,
)

from .timing import assert_linear

V5 = "Windows Registry Editor Version 5.00\r\n\r\n"


def utf16(text: str) -> bytes:
    return b"\xff\xfe" + text.encode("utf-16-le")


def test_utf16_bom_crlf_export_with_all_value_kinds() -> None:
    text = (
        V5
        + "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Tcpip6\\Parameters]\r\n"
        + '"DisabledComponents"=dword:000000ff\r\n'
        + '@="default"\r\n'
        + '"Path"="C:\\\\Windows\\\\\\"q\\""\r\n'
        + '"Bin"=hex:01,02,\\\r\n  03,04\r\n'
        + '"Exp"=hex(2):25,00,41,00,25,00,00,00\r\n'
        + '"Multi"=hex(7):61,00,00,00,62,00,00,00,00,00\r\n'
        + '"Q"=hex(b):01,00,00,00,00,00,00,00\r\n'
        + '"None"=hex(0):\r\n'
        + '"Gone"=-\r\n'
        + "\r\n"
        + "[-HKEY_LOCAL_MACHINE\\SOFTWARE\\Old]\r\n"
    )
    export = parse_reg_export(utf16(text))
    assert export.version == "5.00"
    key = export.key("hkey_local_machine\\system\\currentcontrolset\\services\\tcpip6\\parameters")
    assert key is not None
    values = {v.name: v for v in key.values}
    assert values["DisabledComponents"].as_int() == 0xFF
    assert values[""].as_str() == "default"
    assert values["Path"].as_str() == 'C:\\Windows\\"q"'
    assert values["Bin"].data == b"\x01\x02\x03\x04"
    assert values["Bin"].type == RegType.BINARY
    assert values["Exp"].type == RegType.EXPAND_SZ
    assert values["Exp"].as_str() == "%A%"
    assert values["Multi"].as_multi_sz() == ["a", "b"]
    assert values["Q"].as_int() == 1
    assert values["None"].type == RegType.NONE and values["None"].data == b""
    assert values["Gone"].deleted
    old = export.key("HKEY_LOCAL_MACHINE\\SOFTWARE\\Old")
    assert old is not None and old.deleted


def test_regedit4_ansi_lf_and_comments() -> None:
    data = (
        "REGEDIT4\n\n; exported by hand\n[HKEY_LOCAL_MACHINE\\SOFTWARE\\X]\n"
        '"Name"="caf\xe9"\n"D"=dword:1\n'
    ).encode("cp1252")
    export = parse_reg_export(data)
    assert export.version == "REGEDIT4"
    key = export.key("HKEY_LOCAL_MACHINE\\SOFTWARE\\X")
    assert key is not None
    assert key.values[0].as_str() == "café"
    assert key.values[1].as_int() == 1


def test_utf8_bom_is_accepted() -> None:
    data = b"\xef\xbb\xbf" + (V5 + "[HKEY_CURRENT_USER\\A]\r\n").encode()
    assert parse_reg_export(data).keys[0].path == "HKEY_CURRENT_USER\\A"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("hello", "first line"),
        ("", "empty"),
        (V5 + '"a"="b"\r\n', "outside"),
        (V5 + "[HKEY_X\r\n", "closing"),
        (V5 + "[SOFTWARE\\X]\r\n", "HKEY_"),
        (V5 + '[HKEY_X]\r\n"a"="unterminated\r\n', "unterminated"),
        (V5 + '[HKEY_X]\r\n"a"=dword:xyz\r\n', "unknown value"),
        (V5 + '[HKEY_X]\r\n"a"=hex:1,2\r\n', "bad hex byte"),
        (V5 + '[HKEY_X]\r\n"a"="b" junk\r\n', "after a string"),
        (V5 + "[HKEY_X]\r\nnonsense\r\n", "expected a value line"),
        (V5 + '[HKEY_X]\r\n"a" "b"\r\n', "expected '='"),
    ],
)
def test_errors_carry_line_and_offset(text: str, fragment: str) -> None:
    with pytest.raises(RegParseError) as info:
        parse_reg_text(text)
    assert fragment in str(info.value)
    assert info.value.offset >= 0


def test_error_offset_points_at_the_bad_line() -> None:
    text = V5 + "[HKEY_X]\r\nnonsense\r\n"
    with pytest.raises(RegParseError) as info:
        parse_reg_text(text)
    assert info.value.line == 4
    assert text[info.value.offset :].startswith("nonsense")


def test_odd_utf16_is_an_error() -> None:
    with pytest.raises(RegParseError):
        parse_reg_export(b"\xff\xfeW\x00i")


def test_writer_wraps_like_regedit_and_round_trips() -> None:
    keys = [
        RegKey(
            "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters\\UrlAclInfo",
            (
                RegValue("https://+:443/IPHTTPS/", RegType.BINARY, bytes(range(100))),
                RegValue("s", RegType.SZ, encode_sz("x")),
                RegValue("d", RegType.DWORD, (7).to_bytes(4, "little")),
            ),
        )
    ]
    data = format_reg_export(keys)
    assert data.startswith(b"\xff\xfeW\x00i\x00n\x00")
    text = data[2:].decode("utf-16-le")
    assert "\n" not in text.replace("\r\n", "")
    lines = text.split("\r\n")
    assert all(len(line) <= 80 for line in lines if not line.startswith("["))
    wrapped = [line for line in lines if line.endswith(",\\")]
    assert wrapped and all(line.startswith("  ") for line in lines[lines.index(wrapped[0]) + 1 :][:1])
    assert parse_reg_export(data).keys == tuple(keys)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_raise_only_reg_parse_error(data: bytes) -> None:
    with contextlib.suppress(RegParseError):
        parse_reg_export(data)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=500))
def test_arbitrary_text_after_header_raises_only_reg_parse_error(body: str) -> None:
    for prefix in (V5, V5 + "[HKEY_X]\r\n", V5 + '[HKEY_X]\r\n"v"=hex:'):
        with contextlib.suppress(RegParseError):
            parse_reg_text(prefix + body)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\r\n"),
                    max_size=20),
            st.sampled_from([RegType.BINARY, RegType.DWORD, RegType.SZ, RegType.MULTI_SZ,
                             RegType.QWORD]),
            st.binary(max_size=200),
        ),
        max_size=5,
    )
)
def test_writer_parser_round_trip(values: list[tuple[str, RegType, bytes]]) -> None:
    regs = []
    for name, kind, data in values:
        if kind == RegType.DWORD:
            data = data[:4].ljust(4, b"\0")
        regs.append(RegValue(name, kind, data))
    keys = [RegKey("HKEY_LOCAL_MACHINE\\SOFTWARE\\T", tuple(regs))]
    assert parse_reg_export(format_reg_export(keys)).keys == tuple(keys)


@pytest.mark.parametrize(
    "make",
    [
        lambda n: utf16(V5 + "[HKEY_X]\r\n" + '"a"=hex:' + "00,\\\r\n  " * n + "00\r\n"),
        lambda n: utf16(V5 + "[HKEY_X]\r\n" + '"' + "\\\\" * n + '"="x"\r\n'),
        lambda n: utf16(V5 + "[HKEY_X]\r\n" + '"' + "\\" * n + "\r\n"),
        lambda n: utf16(V5 + "[HKEY_X]\r\n" * n),
        lambda n: utf16(V5 + "[HKEY_X]\r\n" + '"a"="b"\r\n' * n),
    ],
)
def test_parse_time_is_linear(make: object) -> None:
    assert_linear(parse_reg_export, make, small=5_000)  # type: ignore[arg-type]
