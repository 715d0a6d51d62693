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


@pytest.mark.parametrize("argv", [
    ["probe", "https://da.lab.test/IPHTTPS", "--connect", "127.0.0.1:\u00b2"],
    ["lab", "--listen", "127.0.0.1:\u00b2"],
    ["exporter", "--listen", "127.0.0.1:\u00b2", "--profile", "lab"],
    ["probe", "https://da.lab.test/IPHTTPS", "--connect", "127.0.0.1:\u0661\u0666"],
])
def test_non_ascii_ports_are_one_line_errors(argv: list[str]) -> None:
    # `str.isdigit` accepts "²" and Arabic-Indic digits; `int("²")` raises. One rule (ASCII
    # digits) for every option: exit 3 with one line, never "internal error".
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "daserver_check", *argv], capture_output=True,
                         text=True, timeout=60, stdin=subprocess.DEVNULL, check=False)
    assert out.returncode == 3
    assert "internal error" not in out.stderr and "Traceback" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "bad port" in out.stderr
