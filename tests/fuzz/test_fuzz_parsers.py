"""Fuzzing the parsers that had no corpus-driven test: the HTTP response head (chunking and
memory bounds on arbitrary bytes), the profile loader, the server-side artifact loader (with
its checks), and the IPv6 tunnel stream with the Router Advertisement checks.

Each parser takes untrusted bytes and may only raise its own error type (docs/contract.md, reliability rules).
"""

from __future__ import annotations

import ipaddress
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import event, given
from hypothesis import strategies as st

from daserver_check.errors import InputError
from daserver_check.model import Finding, Status
from daserver_check.probe.router_discovery import (
    check_router_advertisement,
    dissect_router_advertisement,
)
from daserver_check.profile import ProfileError, _load_file, parse_profile
from daserver_check.protocol.http_response import (
    MAX_HEAD_BYTES,
    HttpResponseError,
    NeedMore,
    ResponseHead,
    ResponseHeadParser,
)
from daserver_check.protocol.ipv6_stream import (
    Ipv6FramingError,
    Ipv6StreamSplitter,
    build_packet,
    icmpv6_checksum,
    parse_header,
)
from daserver_check.server.artifacts import load_file
from daserver_check.server.checks import run_checks
from daserver_check.server.facts import Facts

from .strategies import fuzz_settings, inputs, mutated

# -- HTTP response head ------------------------------------------------------------------------


def parse_in_chunks(data: bytes, sizes: list[int]) -> ResponseHead | NeedMore | str:
    """The parser's verdict, fed in chunks of `sizes` (cycled); errors as their type name."""
    parser = ResponseHeadParser()
    state: ResponseHead | NeedMore = NeedMore(0)
    pos, turn = 0, 0
    try:
        while pos < len(data) or turn == 0:
            size = max(1, sizes[turn % len(sizes)]) if sizes else len(data) or 1
            state = parser.feed(data[pos : pos + size])
            # Bounded: never more than the limit plus the chunk just fed is held.
            assert len(parser.buffered) <= MAX_HEAD_BYTES + size
            pos += size
            turn += 1
            if isinstance(state, ResponseHead):
                return state
    except HttpResponseError as exc:
        assert exc.offset >= 0
        return "HttpResponseError"
    return state


@fuzz_settings(ci=300)
@given(data=st.one_of(inputs("http_response"),
                      st.binary(max_size=MAX_HEAD_BYTES + 64).map(lambda b: b + b"\r\n\r\n")),
       sizes=st.lists(st.integers(1, 5000), max_size=8))
def test_http_head_verdict_does_not_depend_on_chunking(data: bytes, sizes: list[int]) -> None:
    whole = parse_in_chunks(data, [])
    split = parse_in_chunks(data, sizes)
    if isinstance(whole, ResponseHead) and isinstance(split, ResponseHead):
        # The head is the same; what follows it is whatever the chunk carried along.
        assert (whole.status, whole.reason, whole.headers) == (split.status, split.reason,
                                                               split.headers)
        event("head")
    else:
        assert type(whole) is type(split), (whole, split)
        event(type(whole).__name__ if not isinstance(whole, str) else whole)


# -- profiles ----------------------------------------------------------------------------------

_toml_scalars = st.one_of(st.booleans(), st.integers(-(2**63), 2**63 - 1),
                          st.floats(allow_nan=True), st.text(max_size=20))
_toml_values = st.recursive(
    _toml_scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=4),
                            st.dictionaries(st.text(max_size=12), inner, max_size=4)),
    max_leaves=12,
)
_KEYS = ["schema", "deployment", "dns", "tls", "cert", "iphttps", "probe", "server", "proxy",
         "urls", "entry_points", "client_os", "auth_mode", "resolvers", "timeout", "concurrency"]


@fuzz_settings(ci=200)
@given(data=st.dictionaries(st.one_of(st.sampled_from(_KEYS), st.text(max_size=10)),
                            _toml_values, max_size=6),
       schema=st.sampled_from([None, 1, 2, True, "1"]))
def test_any_profile_document_is_a_profile_or_one_error(
    data: dict[str, Any], schema: object
) -> None:
    if schema is not None:
        data = {**data, "schema": schema}
    try:
        parse_profile(data, "fuzz")
    except ProfileError as exc:
        assert str(exc).startswith("profile fuzz")


@fuzz_settings(ci=200)
@given(raw=inputs("profile", max_random=256))
def test_any_profile_file_is_a_profile_or_one_error(raw: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "p.toml"
        path.write_bytes(raw)
        try:
            _load_file(path, "fuzz")
            event("profile")
        except ProfileError as exc:
            assert "\n" not in str(exc).strip()
            event("ProfileError")


# -- server-side artifacts ---------------------------------------------------------------------

_NAMES = ["urlacl.txt", "sslcert.txt", "httpstunnel.txt", "http.reg", "tcpip6.reg",
          "iphttps.json", "state.json", "unknown.bin"]


@fuzz_settings(ci=150)
@given(files=st.lists(st.tuples(st.sampled_from(_NAMES), inputs("server", max_random=512)),
                      min_size=1, max_size=3, unique_by=lambda f: f[0]))
def test_any_artifact_bundle_gives_findings(files: list[tuple[str, bytes]]) -> None:
    facts = Facts()
    with tempfile.TemporaryDirectory() as folder:
        for name, data in files:
            path = Path(folder) / name
            path.write_bytes(data)
            try:
                load_file(facts, path)
            except InputError:
                event("InputError")
    findings = run_checks(facts)
    assert findings and all(isinstance(f, Finding) for f in findings)
    errors = [f for f in findings if f.status is Status.ERROR]
    event("some error finding" if errors else "no error finding")


# -- the IPv6 tunnel stream and Router Advertisements ------------------------------------------


@fuzz_settings(ci=200)
@given(stream=inputs("ipv6_stream", max_random=256), cut=st.integers(1, 200))
def test_any_tunnel_stream_splits_or_fails_with_framing_error(stream: bytes, cut: int) -> None:
    splitter = Ipv6StreamSplitter()
    try:
        for start in range(0, len(stream), cut):
            for packet in splitter.feed(stream[start : start + cut]):
                parse_header(packet)
                check_router_advertisement(packet)
        splitter.finish()
    except Ipv6FramingError as exc:
        assert exc.offset >= 0
    assert splitter.buffered <= 40 + 0xFFFF


@fuzz_settings(ci=200)
@given(message=mutated("ra_message"),
       source=st.sampled_from(["fe80::1", "fe80::abcd:1", "2001:db8::1"]),
       hop_limit=st.sampled_from([255, 255, 64]))
def test_router_advertisements_pass_the_check_or_dissect(
    message: bytes, source: str, hop_limit: int
) -> None:
    """The checksum is fixed up after mutating, so the mutations reach the option checks and,
    through them, the dissector: what the check passes, the dissector must decode."""
    if len(message) >= 4:
        zeroed = message[:2] + b"\x00\x00" + message[4:]
        checksum = icmpv6_checksum(source, "fe80::2", zeroed)
        message = message[:2] + checksum.to_bytes(2, "big") + message[4:]
    if len(message) > 0xFFFF:
        return
    if message[:1] != b"\x86":  # solicit() looks only at RAs (ICMPv6 type 134)
        event("not an RA")
        return
    packet = build_packet(source, "fe80::2", 58, message, hop_limit=hop_limit)
    why = check_router_advertisement(packet)
    event("discarded" if why else "accepted")
    if why is None:
        ra = dissect_router_advertisement(packet)
        assert ipaddress.IPv6Address(ra.source).is_link_local

