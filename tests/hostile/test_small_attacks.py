"""Smaller holes: an interim `100 Continue` before the real answer, a proxy password shown by
`profile show`, a code with Python's digit separators accepted by `explain --code`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daserver_check.cli import main
from daserver_check.protocol.http_response import (
    HttpResponseError,
    NeedMore,
    ResponseHead,
    ResponseHeadParser,
)
from tests.hostile import servers as hs

REPO = Path(__file__).resolve().parents[2]
HTTPSYS_200 = b"HTTP/1.1 200 OK\r\nServer: Microsoft-HTTPAPI/2.0\r\nDate: x\r\n\r\n"


def continue_then(final: bytes, interim: bytes = b"HTTP/1.1 100 Continue\r\n\r\n"):  # type: ignore[no-untyped-def]
    def answer(tls: hs.TlsConn) -> None:
        tls.send(interim)
        tls.send(final)
        tls.conn.drain_until_closed()

    return answer


def _probe(port: int) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-m", "daserver_check", "probe", f"https://{hs.NAME}:{port}/IPHTTPS",
         "--connect", "127.0.0.1", "--timeout", "5", "--format", "json", "--ca-file",
         str(hs.ca_file())],
        capture_output=True, text=True, cwd=REPO, timeout=60, stdin=subprocess.DEVNULL,
    )
    assert "internal error" not in out.stderr, out.stderr
    findings = {f["id"]: f for f in json.loads(out.stdout)["targets"][0]["findings"]}
    return findings


@pytest.mark.parametrize("interim", [b"HTTP/1.1 100 Continue\r\n\r\n",
                                     b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n"
                                     b"X-A: b\r\n\r\n"])
def test_100_continue_then_200_over_real_tls(interim: bytes) -> None:
    with hs.HostileServer(hs.after_post(continue_then(HTTPSYS_200, interim))) as server:
        findings = _probe(server.port)
    assert not server.errors, server.errors
    post = findings["iphttps.post"]
    assert post["status"] == "pass", post
    assert post["evidence"]["status"] == 200
    assert findings["iphttps.server"]["status"] == "pass"


def test_100_continue_then_404_is_judged_as_404() -> None:
    final = b"HTTP/1.1 404 Not Found\r\nServer: Microsoft-HTTPAPI/2.0\r\n\r\n"
    with hs.HostileServer(hs.after_post(continue_then(final))) as server:
        findings = _probe(server.port)
    post = findings["iphttps.post"]
    assert post["status"] == "fail"
    assert post["evidence"]["status"] == 404


def _feed_all(chunks: list[bytes]) -> ResponseHead | NeedMore:
    parser = ResponseHeadParser()
    state: ResponseHead | NeedMore = NeedMore(0)
    for chunk in chunks:
        state = parser.feed(chunk)
        if isinstance(state, ResponseHead):
            return state
    return state


def test_interim_heads_split_anywhere() -> None:
    stream = b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\n" \
        + HTTPSYS_200 + b"tunnel"
    for cut in range(1, len(stream)):
        head = _feed_all([stream[:cut], stream[cut:]])
        assert isinstance(head, ResponseHead), cut
        assert head.status == 200 and head.interim == (100, 103)
        assert b"tunnel".startswith(head.trailing)


def test_101_is_final_and_endless_100s_are_bounded() -> None:
    head = _feed_all([b"HTTP/1.1 101 Switching Protocols\r\n\r\n"])
    assert isinstance(head, ResponseHead) and head.status == 101
    with pytest.raises(HttpResponseError, match="interim"):
        _feed_all([b"HTTP/1.1 100 Continue\r\n\r\n" * 100])
    parser = ResponseHeadParser(max_head_bytes=200)
    with pytest.raises(HttpResponseError, match="larger than"):
        for _ in range(8):
            parser.feed(b"HTTP/1.1 100 " + b"C" * 40 + b"\r\n\r\n")
        parser.feed(b"HTTP/1.1 200 OK\r\n")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.binary(max_size=64), max_size=12))
def test_parser_is_bounded_on_any_chunks(chunks: list[bytes]) -> None:
    parser = ResponseHeadParser(max_head_bytes=512)
    fed = 0
    try:
        for chunk in [b"HTTP/1.1 100 Continue\r\n\r\n", *chunks]:
            fed += len(chunk)
            state = parser.feed(chunk)
            if isinstance(state, ResponseHead):
                assert not 100 <= state.status < 200 or state.status == 101
                break
            assert len(parser.buffered) <= fed
    except HttpResponseError:
        pass


def test_profile_show_masks_a_proxy_password(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.toml"
    path.write_text('schema = 1\n[proxy]\nurl = "http://alice:s3cr%40t@proxy.contoso.com:8080"\n')
    for fmt in ("toml", "json"):
        assert main(["profile", "show", str(path), "--format", fmt]) == 0
        out = capsys.readouterr().out
        assert "s3cr" not in out
        assert "alice" in out and "proxy.contoso.com:8080" in out
    path.write_text('schema = 1\n[proxy]\nurl = "http://proxy.contoso.com:8080"\n')
    assert main(["profile", "show", str(path)]) == 0
    assert 'url = "http://proxy.contoso.com:8080"' in capsys.readouterr().out


# "-16" left this list with issue 11: a signed decimal is how PowerShell prints an HRESULT.
@pytest.mark.parametrize("code", ["0x1_0", "1_0", "0x_10", "+16", "0x", "0x123456789", "-99999999999",
                                  "١٦", "0x１０", " 16 16"])
def test_explain_rejects_codes_python_would_accept(code: str,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--code", code]) == 3
    assert "not an error code" in capsys.readouterr().err


@pytest.mark.parametrize("code", ["0x103", "0X2afc", "259", " 0x643 ", "2AFC", "-2146885613"])
def test_explain_accepts_real_codes(code: str) -> None:
    # Issue 11: --code is a lookup, exit 0 for a known code (was: the code's own verdict, 2).
    assert main(["explain", "--code", code, "--format", "json", "--output", "-"]) == 0


def test_explain_unknown_code_is_unknown(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--code", "0x12345678"]) == 3
    assert "[UNKNOWN]" in capsys.readouterr().out
