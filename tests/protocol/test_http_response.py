from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from daserver_check.protocol.http_response import (
    MAX_HEAD_BYTES,
    HttpResponseError,
    NeedMore,
    ResponseHead,
    ResponseHeadParser,
    build_iphttps_post,
    parse_response_head,
)

HTTPSYS_200 = (
    b"HTTP/1.1 200 OK\r\nServer: Microsoft-HTTPAPI/2.0\r\n"
    b"Date: Sun, 22 Nov 2026 00:00:00 GMT\r\n\r\n"
)


def feed_all(chunks: list[bytes]) -> NeedMore | ResponseHead:
    parser = ResponseHeadParser()
    state: NeedMore | ResponseHead = NeedMore(0)
    for chunk in chunks:
        state = parser.feed(chunk)
        if isinstance(state, ResponseHead):
            return state
    return state


def test_httpsys_answer() -> None:
    head = feed_all([HTTPSYS_200 + b"\x60\x00"])
    assert isinstance(head, ResponseHead)
    assert head.status == 200
    assert head.header("server") == "Microsoft-HTTPAPI/2.0"
    assert head.trailing == b"\x60\x00"  # tunnel bytes are left alone


def test_post_request_bytes() -> None:
    # [MS-IPHTTPS] §4.1: POST with Content-Length 2^64-1 and a Host header.
    assert build_iphttps_post("/IPHTTPS", "da.contoso.com") == (
        b"POST /IPHTTPS HTTP/1.1\r\nHost: da.contoso.com\r\n"
        b"Content-Length: 18446744073709551615\r\n\r\n"
    )
    assert b"/%C3%BC" in build_iphttps_post("/ü", "h")


@pytest.mark.parametrize(
    "raw",
    [
        b"SSH-2.0-OpenSSH_9.2\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nNoColonHere\r\n\r\n",
        b"HTTP/1.1 200 OK\r\n Folded: x\r\n\r\n",
    ],
)
def test_malformed_heads(raw: bytes) -> None:
    with pytest.raises(HttpResponseError):
        feed_all([raw])


def test_endless_status_line_is_bounded() -> None:
    parser = ResponseHeadParser()
    with pytest.raises(HttpResponseError, match="status line"):
        for _ in range(MAX_HEAD_BYTES // 1024 + 2):
            parser.feed(b"H" * 1024)


def test_endless_headers_are_bounded() -> None:
    parser = ResponseHeadParser()
    parser.feed(b"HTTP/1.1 200 OK\r\n")
    with pytest.raises(HttpResponseError, match="larger than"):
        for i in range(10_000):
            parser.feed(b"X-%d: y\r\n" % i)


def test_too_many_headers() -> None:
    head = b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-%d: y\r\n" % i for i in range(150))
    with pytest.raises(HttpResponseError, match="header lines"):
        parse_response_head(head.rstrip(b"\r\n"))


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_only_raise_parser_error(data: bytes) -> None:
    try:
        feed_all([data, b"\r\n\r\n"])
    except HttpResponseError as exc:
        assert exc.offset >= 0


@given(st.data())
def test_split_anywhere_gives_the_same_head(data: st.DataObject) -> None:
    cuts = sorted(data.draw(st.lists(st.integers(0, len(HTTPSYS_200)), max_size=6)))
    chunks, last = [], 0
    for cut in cuts:
        chunks.append(HTTPSYS_200[last:cut])
        last = cut
    chunks.append(HTTPSYS_200[last:])
    head = feed_all(chunks)
    assert isinstance(head, ResponseHead)
    assert head.status == 200
    assert head.header("Server") == "Microsoft-HTTPAPI/2.0"
