"""netsh output as admins paste it: wrapped, quoted, fenced, without titles, redacted.

The samples come from `pasted.py`; each test names the phenomenon it reproduces.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daserver_check.protocol.netsh import (
    detect_kind,
    parse_httpstunnel,
    parse_sslcert,
    parse_urlacl,
)
from daserver_check.protocol.security_descriptor import from_sddl

from .pasted import (
    REDACTED,
    STATUS,
    WINRM_SDDL,
    WINRM_URLS,
    console_wrap,
    fence,
    kb_page,
    quote,
    service_sid,
    sslcert,
    sslcert_block,
    tunnel_block,
    urlacl_winrm,
)
from .timing import assert_linear

HASH = "3a5f2bd4c2f2a1e0c9b8a7f6e5d4c3b2a1908f7e"


def test_the_sample_sids_are_the_services_own() -> None:
    # The SstpSvc SID is the one the registry fixtures carry.
    assert service_sid("SstpSvc") == (
        "S-1-5-80-3435701886-799518250-3791383489-3228296122-2938884314")
    assert len(WINRM_SDDL) > 150 - len("            SDDL: ")  # so 150 columns wrap it
    from_sddl(WINRM_SDDL)


def _urlacl_view(text: str) -> list[tuple[str, str | None, str | None]]:
    return [(e.url, e.sddl, e.incomplete) for e in parse_urlacl(text)]


EXPECTED_WINRM = [(url, WINRM_SDDL, None) for url in WINRM_URLS]


@pytest.mark.parametrize("width", [80, 120, 150])
@pytest.mark.parametrize("indent", ["", "    ", "\t"])
def test_urlacl_console_wrapping_is_joined(width: int, indent: str) -> None:
    wrapped = console_wrap(urlacl_winrm(), width, indent)
    assert any(len(line) == width for line in wrapped.splitlines())  # it did wrap
    assert _urlacl_view(wrapped) == EXPECTED_WINRM
    assert detect_kind(wrapped) == "urlacl"


def test_urlacl_wrapped_url_is_joined() -> None:
    url = "https://+:443/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/"
    text = (f"    Reserved URL            : {url}\n        User: NT SERVICE\\SstpSvc\n"
            f"            SDDL: D:(A;;GX;;;{service_sid('SstpSvc')})\n")
    (entry,) = parse_urlacl(console_wrap(text, 64))
    assert entry.url == url and entry.incomplete is None


def test_urlacl_value_on_the_line_after_its_label() -> None:
    text = ("    Reserved URL            :\n" + "http://+:80/Temporary_Listen_Addresses/\n"
            "        User: \\Everyone\n            SDDL:\nD:(A;;GX;;;WD)\n")
    (entry,) = parse_urlacl(text)
    assert (entry.url, entry.sddl, entry.incomplete) == (
        "http://+:80/Temporary_Listen_Addresses/", "D:(A;;GX;;;WD)", None)


def test_a_prompt_after_the_output_is_not_glued_to_the_sddl() -> None:
    text = urlacl_winrm().rstrip("\n") + "\nC:\\Windows\\system32>\n"
    assert _urlacl_view(text) == EXPECTED_WINRM


@pytest.mark.parametrize("marker", ["> ", ">", ">> ", "> > "])
def test_urlacl_quoted(marker: str) -> None:
    assert _urlacl_view(quote(console_wrap(urlacl_winrm(), 150), marker)) == EXPECTED_WINRM


def test_urlacl_in_a_code_fence() -> None:
    assert _urlacl_view(fence(console_wrap(urlacl_winrm(), 80), "text")) == EXPECTED_WINRM


def test_urlacl_cut_before_the_sddl_is_an_incomplete_paste() -> None:
    text = urlacl_winrm()
    cut = text[: text.rindex("SDDL")]
    first, last = parse_urlacl(cut)
    assert (first.sddl, first.incomplete) == (WINRM_SDDL, None)
    assert last.sddl is None
    assert last.incomplete is not None and "incomplete paste" in last.incomplete
    assert "ends before" in last.incomplete


def test_urlacl_cut_inside_the_sddl_is_an_incomplete_paste() -> None:
    text = console_wrap(urlacl_winrm(), 150)
    cut = text[: text.rindex("-2996563517")]
    last = parse_urlacl(cut)[-1]
    assert last.incomplete is not None and "cut off" in last.incomplete


def test_urlacl_entry_without_sddl_in_the_middle_is_incomplete() -> None:
    lines = urlacl_winrm().split("\n")
    first_sddl = next(i for i, line in enumerate(lines) if "SDDL:" in line)
    del lines[first_sddl]
    first, second = parse_urlacl("\n".join(lines))
    assert first.incomplete is not None and "is cut" in first.incomplete
    assert second.incomplete is None


# ---------------------------------------------------------------- httpstunnel


def _codes(text: str) -> list[int | None]:
    return [i.last_error for i in parse_httpstunnel(text)]


def test_kb_page_with_three_blocks_and_no_titles() -> None:
    ifaces = parse_httpstunnel(kb_page([0x103, 0x2AFC, 0x2AF9]))
    assert [i.last_error for i in ifaces] == [0x103, 0x2AFC, 0x2AF9]
    assert all(i.url == "https://da.contoso.com/IPHTTPS" and i.role == "client" for i in ifaces)
    assert [i.status for i in ifaces] == [STATUS[0x103], STATUS[0x2AFC], STATUS[0x2AF9]]


def test_blocks_without_titles_or_blank_lines() -> None:
    text = "".join(tunnel_block(c, title=False) for c in (0x103, 0x0, 0x643))
    assert _codes(text) == [0x103, 0x0, 0x643]


def test_titles_without_dashes_still_name_the_interface() -> None:
    text = tunnel_block(0x103, dashes=False) + "\n" + tunnel_block(0x2AFC, dashes=False).replace(
        "IPHTTPSInterface", "IPHTTPSInterface2")
    ifaces = parse_httpstunnel(text)
    assert [(i.name, i.last_error) for i in ifaces] == [
        ("IPHTTPSInterface", 0x103), ("IPHTTPSInterface2", 0x2AFC)]


@pytest.mark.parametrize("marker", ["> ", ">", "> > "])
def test_quoted_tunnel_blocks(marker: str) -> None:
    text = quote("\n".join(tunnel_block(c) for c in (0x2AF9, 0x103)), marker)
    assert _codes(text) == [0x2AF9, 0x103]
    assert _codes(quote(kb_page([0x103, 0x2AFC]), marker)) == [0x103, 0x2AFC]


def test_fenced_tunnel_blocks_with_markdown_labels() -> None:
    block = tunnel_block(0x2AFC, title=False).replace("Last Error Code", "**Last Error Code**")
    text = fence(block + "\n" + tunnel_block(0x103, title=False), "console")
    assert _codes(text) == [0x2AFC, 0x103]


def test_status_loses_a_kb_full_stop() -> None:
    (iface,) = parse_httpstunnel(tunnel_block(0x103, full_stop=True))
    assert iface.status == "No usable certificate found"


def test_one_block_with_a_summary_error_line_stays_one_interface() -> None:
    text = "Error: 0x103\n" + tunnel_block(0x103, title=False) + "0x103 translates to:\n"
    assert _codes(text) == [0x103]


def test_other_outputs_are_not_interfaces() -> None:
    assert detect_kind(urlacl_winrm()) == "urlacl"
    assert detect_kind(sslcert([sslcert_block("0.0.0.0:443", HASH)])) == "sslcert"
    assert all(i.last_error is None for i in parse_httpstunnel(urlacl_winrm()))


# ---------------------------------------------------------------- sslcert


@pytest.mark.parametrize("redacted", [*REDACTED, None])
def test_redacted_or_missing_hash_is_still_a_binding(redacted: str | None) -> None:
    text = sslcert([sslcert_block("0.0.0.0:443", redacted),
                    sslcert_block("203.0.113.10:443", HASH)])
    first, second = parse_sslcert(text)
    assert (first.endpoint, first.cert_hash, first.store) == ("0.0.0.0:443", None, "MY")
    assert first.app_id == "{5d8e2743-ef20-4d38-8751-7e400f200e65}"
    assert second.cert_hash == HASH
    assert detect_kind(text) == "sslcert"


@pytest.mark.parametrize("marker", ["> ", ">", ">> "])
def test_quoted_sslcert_blocks_stay_apart(marker: str) -> None:
    text = quote(sslcert([sslcert_block("0.0.0.0:443", HASH),
                          sslcert_block("da.contoso.com:443", "ab" * 20, label="Hostname:port")]),
                 marker)
    bindings = parse_sslcert(text)
    assert [(b.endpoint, b.kind, b.cert_hash) for b in bindings] == [
        ("0.0.0.0:443", "ip", HASH), ("da.contoso.com:443", "hostname", "ab" * 20)]


def test_sslcert_blocks_that_lost_their_blank_lines() -> None:
    text = sslcert_block("0.0.0.0:443", HASH) + sslcert_block("203.0.113.10:443", "<redacted>")
    assert [b.endpoint for b in parse_sslcert(text)] == ["0.0.0.0:443", "203.0.113.10:443"]


def test_a_time_of_day_is_not_a_binding() -> None:
    assert parse_sslcert("Started : 10:30\nFinished : 10:31\n") == []


# ---------------------------------------------------------------- properties


@settings(max_examples=150, deadline=None)
@given(width=st.integers(min_value=40, max_value=200),
       indent=st.sampled_from(["", " ", "    ", "\t"]),
       marker=st.sampled_from(["", "> ", ">", "> > "]),
       fenced=st.booleans())
def test_any_wrapping_quoting_and_fencing_reads_the_same(width: int, indent: str, marker: str,
                                                          fenced: bool) -> None:
    text = console_wrap(urlacl_winrm(), width, indent)
    if marker:
        text = quote(text, marker)
    if fenced:
        text = fence(text)
    assert _urlacl_view(text) == EXPECTED_WINRM


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0), st.sampled_from([80, 150, 1000]))
def test_a_cut_paste_is_whole_or_incomplete_never_a_different_acl(cut: int, width: int) -> None:
    """Wherever the paste stops, each entry is the whole SDDL, flagged incomplete, or (a cut
    exactly after an ACE) a leading part of it: never an SDDL that was not in the output."""
    text = console_wrap(urlacl_winrm(), width)
    for entry in parse_urlacl(text[: cut % (len(text) + 1)]):
        assert entry.incomplete is not None or (
            entry.sddl is not None and WINRM_SDDL.startswith(entry.sddl))


_CODES = st.lists(st.sampled_from(sorted(STATUS)), min_size=1, max_size=5)


@settings(max_examples=150, deadline=None)
@given(codes=_CODES, title=st.booleans(), dashes=st.booleans(),
       gap=st.sampled_from(["", "\n", "\n\n"]), marker=st.sampled_from(["", "> ", ">"]),
       fenced=st.booleans())
def test_every_block_with_a_code_is_an_interface(codes: list[int], title: bool, dashes: bool,
                                                 gap: str, marker: str, fenced: bool) -> None:
    text = gap.join(tunnel_block(c, title=title, dashes=dashes) for c in codes)
    if marker:
        text = quote(text, marker)
    if fenced:
        text = fence(text)
    assert _codes(text) == codes


@settings(max_examples=100, deadline=None)
@given(codes=_CODES, marker=st.sampled_from(["", "> "]))
def test_every_kb_block_is_an_interface(codes: list[int], marker: str) -> None:
    text = kb_page(codes)
    assert _codes(quote(text, marker) if marker else text) == codes


@settings(max_examples=150, deadline=None)
@given(hashes=st.lists(st.sampled_from([HASH, None, *REDACTED]), min_size=1, max_size=5),
       marker=st.sampled_from(["", "> ", ">"]), fenced=st.booleans())
def test_every_binding_block_is_a_binding(hashes: list[str | None], marker: str,
                                          fenced: bool) -> None:
    blocks = [sslcert_block(f"192.0.2.{i}:443", h) for i, h in enumerate(hashes, 1)]
    text = sslcert(blocks)
    if marker:
        text = quote(text, marker)
    if fenced:
        text = fence(text)
    bindings = parse_sslcert(text)
    assert [b.endpoint for b in bindings] == [f"192.0.2.{i}:443" for i in range(1, len(hashes) + 1)]
    assert [b.cert_hash for b in bindings] == [h if h == HASH else None for h in hashes]


@pytest.mark.parametrize(
    "make",
    [
        lambda n: b"    Reserved URL : https://+:443/x/\n      SDDL: D:" + b"(A;;GX;;;WD)\n" * (n // 13),
        lambda n: b"Reserved URL : https://+:443/" + b"abcdefgh/\n" * (n // 10),
        lambda n: b"> " * (n // 2) + b"x\n",
        lambda n: (b"> > Role : client\n> > Last Error Code : 0x1\n") * (n // 40),
        lambda n: b"```\n" * (n // 4),
    ],
)
def test_pasted_shapes_parse_in_linear_time(make: object) -> None:
    def all_parsers(data: bytes) -> None:
        parse_urlacl(data)
        parse_sslcert(data)
        parse_httpstunnel(data)

    assert_linear(all_parsers, make, small=10_000)  # type: ignore[arg-type]
