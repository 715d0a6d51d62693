from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daserver_check.target import TargetError, parse_iphttps_url


@pytest.mark.parametrize(
    ("url", "host", "port", "path", "ip"),
    [
        ("https://da.contoso.com/IPHTTPS", "da.contoso.com", 443, "/IPHTTPS", False),
        ("https://DA.Contoso.COM./IPHTTPS", "da.contoso.com", 443, "/IPHTTPS", False),
        ("HTTPS://da.contoso.com:8443/IPHTTPS", "da.contoso.com", 8443, "/IPHTTPS", False),
        ("https://da.contoso.com", "da.contoso.com", 443, "/", False),
        ("https://203.0.113.10/IPHTTPS", "203.0.113.10", 443, "/IPHTTPS", True),
        ("https://[2001:db8::1]:443/IPHTTPS", "2001:db8::1", 443, "/IPHTTPS", True),
        ("https://bücher.example/IPHTTPS", "xn--bcher-kva.example", 443, "/IPHTTPS", False),
    ],
)
def test_valid_urls(url: str, host: str, port: int, path: str, ip: bool) -> None:
    t = parse_iphttps_url(url)
    assert (t.host, t.port, t.path, t.ip_literal) == (host, port, path, ip)


def test_host_header_brackets_v6_and_keeps_non_default_port() -> None:
    assert parse_iphttps_url("https://[2001:db8::1]:8443/x").host_header == "[2001:db8::1]:8443"
    assert parse_iphttps_url("https://da.contoso.com/IPHTTPS").host_header == "da.contoso.com"


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("da.contoso.com/IPHTTPS", "no scheme"),
        ("http://da.contoso.com/IPHTTPS", "not https"),
        ("https://da.contoso.com:99999/IPHTTPS", "bad port"),
        ("https://da.contoso.com:abc/IPHTTPS", "bad port"),
        ("https://da.contoso.com:0/IPHTTPS", "bad port"),
        ("https:///IPHTTPS", "empty host"),
        ("https://user:pw@da.contoso.com/", "user information"),
        ("https://da..contoso.com/", "not a valid DNS name"),
        ("https://da contoso.com/", "whitespace"),
        ("https://da_$.contoso.com/", "not allowed"),
    ],
)
def test_invalid_urls(url: str, words: str) -> None:
    with pytest.raises(TargetError, match=words):
        parse_iphttps_url(url)


@given(st.text(max_size=300))
def test_arbitrary_text_only_raises_target_error(text: str) -> None:
    with contextlib.suppress(TargetError):
        parse_iphttps_url(text)


@given(st.text(max_size=100))
def test_arbitrary_after_scheme_only_raises_target_error(text: str) -> None:
    with contextlib.suppress(TargetError):
        parse_iphttps_url("https://" + text)
