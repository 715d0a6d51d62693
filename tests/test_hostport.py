from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daserver_check.hostport import HostPortError, parse_ip_port, split_host_port


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("192.0.2.1", ("192.0.2.1", None)),
        ("192.0.2.1:443", ("192.0.2.1", 443)),
        ("[2001:db8::1]", ("2001:db8::1", None)),
        ("[2001:DB8::1]:8443", ("2001:db8::1", 8443)),
        ("2001:db8::1", ("2001:db8::1", None)),
    ],
)
def test_parse_ip_port(text: str, expected: tuple[str, int | None]) -> None:
    assert parse_ip_port(text) == expected


@pytest.mark.parametrize("text", ["da.contoso.com", "192.0.2.1:0", "192.0.2.1:99999",
                                  "[2001:db8::1", "[::1]x", "192.0.2.1:", ""])
def test_rejects(text: str) -> None:
    with pytest.raises(HostPortError):
        parse_ip_port(text)


def test_port_zero_allowed_for_listening() -> None:
    assert parse_ip_port("127.0.0.1:0", allow_port_zero=True) == ("127.0.0.1", 0)
    assert split_host_port("localhost:9798") == ("localhost", "9798")


@given(st.text(max_size=80))
def test_arbitrary_text_only_raises_hostport_error(text: str) -> None:
    try:
        parse_ip_port(text)
    except HostPortError:
        pass
