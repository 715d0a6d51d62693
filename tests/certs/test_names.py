"""The host-name rule and the two name verdicts (docs/windows-facts.md §3, §8)."""

from __future__ import annotations

import ipaddress

import pytest
from cryptography import x509
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError
from hypothesis import assume, given
from hypothesis import strategies as st

from daserver_check.certs.names import (
    NameVerdict,
    SanNames,
    directaccess_name_verdict,
    escape_name,
    flagged_characters,
    hostname_matches,
    name_problem,
    parse_ip,
    rfc6125_name_verdict,
)

from .pki import HOST, NOW, intermediate, make_leaf, root

# (pattern in the certificate, URL host, expected)
MATCH_CASES = [
    ("da.contoso.com", "da.contoso.com", True),
    ("DA.Contoso.COM", "da.contoso.com", True),
    ("da.contoso.com", "DA.CONTOSO.COM", True),
    ("da.contoso.com.", "da.contoso.com", True),
    ("da.contoso.com", "da.contoso.com.", True),
    ("da.contoso.com", "db.contoso.com", False),
    ("da.contoso.com", "da.contoso.com.evil.test", False),
    ("da.contoso.com ", "da.contoso.com", False),
    # wildcards: whole left-most label only, exactly one label
    ("*.contoso.com", "da.contoso.com", True),
    ("*.CONTOSO.com", "Da.contoso.COM", True),
    ("*.contoso.com.", "da.contoso.com", True),
    ("*.contoso.com", "contoso.com", False),
    ("*.contoso.com", "a.b.contoso.com", False),
    ("da*.contoso.com", "da1.contoso.com", False),
    ("da*.contoso.com", "da.contoso.com", False),
    ("*a.contoso.com", "da.contoso.com", False),
    ("f*o.contoso.com", "foo.contoso.com", False),
    ("*.*.com", "a.contoso.com", False),
    ("da.*.com", "da.contoso.com", False),
    ("*.com", "contoso.com", False),
    ("*", "localhost", False),
    ("*.co.uk", "contoso.co.uk", True),  # two labels after the wildcard: accepted (no PSL)
    ("*.contoso.com", "*.contoso.com", False),  # a host never contains a wildcard
    # IDNA: only the URL host is converted; a certificate name is compared as written, so a
    # U-label in the certificate never matches (it should have been written as an A-label)
    ("xn--bcher-kva.example.com", "xn--bcher-kva.example.com", True),
    ("XN--BCHER-KVA.example.com", "xn--bcher-kva.example.com", True),
    ("xn--bcher-kva.example.com", "bücher.example.com", True),
    ("xn--bcher-kva.example.com", "BÜCHER.example.com", True),
    ("*.contoso.com", "xn--bcher-kva.contoso.com", True),
    ("*.xn--bcher-kva.example", "da.bücher.example", True),
    ("bücher.example.com", "xn--bcher-kva.example.com", False),
    ("BÜCHER.example.com", "xn--bcher-kva.example.com", False),
    ("bücher.example.com", "bücher.example.com", False),
    ("*.bücher.example", "da.xn--bcher-kva.example", False),
    ("bücher.example.com", "bucher.example.com", False),
    ("ü" * 70 + ".example.com", "x.example.com", False),
    ("*ü.example.com", "xn--tda.example.com", False),
    ("xn--bcher-kva.example.com", "ü" * 70 + ".example.com", False),  # the codec refuses it
    # invisible, look-alike and folded characters in the certificate (x509-limbo IDNA cases)
    ("da.contoso.com\u200b", "da.contoso.com", False),
    ("\u200bda.contoso.com", "da.contoso.com", False),
    ("da.contoso\u00adcom", "da.contoso.com", False),  # soft hyphen: nameprep deletes it
    ("\uff44\uff41.contoso.com", "da.contoso.com", False),  # full-width "ｄａ"
    ("da\uff0econtoso.com", "da.contoso.com", False),  # full-width full stop
    ("da\u00df.contoso.com", "dass.contoso.com", False),  # "ß" folds to "ss" in IDNA 2003
    ("da\u00df.contoso.com", "daß.contoso.com", False),
    ("DA.CONTOSO.\u212aOM", "da.contoso.kom", False),  # Kelvin sign lower-cases to "k"
    ("da.contoso.com\x00.evil.test", "da.contoso.com", False),
    ("da.contoso.com\x00", "da.contoso.com", False),
    ("da.contoso.com\x7f", "da.contoso.com", False),
    ("*.contoso.com\u200b", "da.contoso.com", False),
    ("192.0.2.1\u200b", "192.0.2.1", False),
    # underscore: an ordinary character, compared literally (names.py docstring)
    ("da_1.contoso.com", "da_1.contoso.com", True),
    ("DA_1.contoso.com", "da_1.contoso.com", True),
    ("*.contoso.com", "da_1.contoso.com", True),
    ("da_1.contoso.com", "da-1.contoso.com", False),
    # IP literals
    ("192.0.2.1", "192.0.2.1", True),
    ("192.0.2.1", "192.0.2.2", False),
    ("2001:db8::1", "2001:DB8:0:0::1", True),
    ("2001:db8::1", "[2001:db8::1]", True),
    ("*.0.2.1", "192.0.2.1", False),
    ("*.2.1", "192.0.2.1", False),
    ("da.contoso.com", "192.0.2.1", False),
    ("192.0.2.1", "da.contoso.com", False),
    # degenerate input
    ("", "", False),
    ("da..contoso.com", "da..contoso.com", False),
    (".", ".", False),
]


@pytest.mark.parametrize(("pattern", "host", "expected"), MATCH_CASES)
def test_hostname_matches(pattern: str, host: str, expected: bool) -> None:
    assert hostname_matches(pattern, host) is expected
    # The Windows rule differs only in a certificate name's trailing dot.
    windows = expected and not pattern.endswith(".")
    assert hostname_matches(pattern, host, windows=True) is windows


@pytest.mark.parametrize(
    ("pattern", "host", "standard", "windows"),
    [
        ("da.contoso.com.", "da.contoso.com", True, False),
        ("DA.CONTOSO.COM.", "da.contoso.com.", True, False),
        ("*.contoso.com.", "da.contoso.com", True, False),
        ("da.contoso.com", "da.contoso.com.", True, True),  # the URL host is normalised
        ("da.contoso.com..", "da.contoso.com", False, False),
        ("da_1.contoso.com", "da_1.contoso.com", True, True),
        ("*.contoso.com", "da_1.contoso.com", True, True),
        ("da_1.contoso.com.", "da_1.contoso.com", True, False),
    ],
)
def test_trailing_dot_and_underscore_per_rule(pattern: str, host: str, standard: bool,
                                              windows: bool) -> None:
    """The two decisions of names.py: a trailing dot in the certificate name is ignored by
    standards-based tools but not by Windows' literal comparison (inferred); an underscore is
    compared literally by both."""
    assert hostname_matches(pattern, host) is standard
    assert hostname_matches(pattern, host, windows=True) is windows


@pytest.mark.parametrize(
    ("name", "flagged", "escaped"),
    [
        ("da.contoso.com\u200b", ["\\u200b"], "da.contoso.com\\u200b"),
        ("\uff44\uff41.contoso.com", ["\\uff44", "\\uff41"], "\\uff44\\uff41.contoso.com"),
        ("da\u00df.contoso.com", ["\\u00df"], "da\\u00df.contoso.com"),
        ("a\x00b\x1fc\x7f", ["\\u0000", "\\u001f", "\\u007f"], "a\\u0000b\\u001fc\\u007f"),
        ("da\U0001d41a.test", ["\\U0001d41a"], "da\\U0001d41a.test"),
        ("da.contoso.com", [], "da.contoso.com"),
        ("da contoso", [], "da contoso"),  # a space is visible ASCII: subject-extra reports it
    ],
)
def test_flagged_characters_are_escaped(name: str, flagged: list[str], escaped: str) -> None:
    assert flagged_characters(name) == flagged
    assert escape_name(name) == escaped
    assert escape_name(name).isascii()


def test_name_problem_explains_what_cannot_be_seen() -> None:
    zwsp = name_problem("da.contoso.com\u200b", HOST, windows=True)
    assert zwsp is not None and "\\u200b" in zwsp and "\u200b" not in zwsp
    dot = name_problem("da.contoso.com.", HOST, windows=True)
    assert dot is not None and "ends with a dot" in dot and "inferred" in dot
    assert name_problem("da.contoso.com.", HOST, windows=False) is None
    assert name_problem("other.contoso.com.", HOST, windows=True) is None  # wrong anyway
    assert name_problem(HOST, HOST, windows=True) is None


def test_dns_name_never_matches_ip_host() -> None:
    san = SanNames(("192.0.2.1",), (), 0)
    assert san.match("192.0.2.1") is None
    san = SanNames((), (ipaddress.ip_address("2001:db8::1"),), 0)
    assert san.match("2001:db8:0::1") == "2001:db8::1"
    assert san.match("da.contoso.com") is None


# ---------------------------------------------------------------- the two verdicts

# (description, leaf knobs, host, DirectAccess ok, RFC 6125 ok)
VERDICT_CASES = [
    ("CN and SAN", {}, HOST, True, True),
    ("CN only", {"san": None}, HOST, True, False),
    ("SAN only", {"cns": ()}, HOST, False, True),
    ("CN right, SAN wrong", {"san": ("other.contoso.com",)}, HOST, False, False),
    ("CN wrong, SAN right", {"cns": ("www.contoso.com",)}, HOST, False, True),
    ("several CNs", {"cns": (HOST, "www.contoso.com")}, HOST, False, True),
    ("several CNs, other first", {"cns": ("www.contoso.com", HOST)}, HOST, False, True),
    ("wildcard", {"cns": ("*.contoso.com",), "san": ("*.contoso.com",)}, HOST, True, True),
    ("wildcard too deep", {"cns": ("*.contoso.com",), "san": None}, "a.da.contoso.com", False,
     False),
    ("case", {"cns": ("DA.CONTOSO.COM",), "san": ("DA.contoso.com",)}, HOST, True, True),
    # Windows compares a trailing-dot CN as written (inferred): DirectAccess fails, RFC 6125
    # tools ignore the dot.
    ("trailing-dot CN", {"cns": ("DA.CONTOSO.COM.",), "san": ("DA.contoso.com",)}, HOST, False,
     True),
    ("trailing-dot SAN", {"san": ("da.contoso.com.",)}, HOST, False, True),
    ("underscore", {"cns": ("da_1.contoso.com",), "san": ("da_1.contoso.com",)},
     "da_1.contoso.com", True, True),
    ("underscore under wildcard", {"cns": ("*.contoso.com",), "san": ("*.contoso.com",)},
     "da_1.contoso.com", True, True),
    # A U-label CN names nothing (compared as written); the A-label SAN does.
    ("IDNA U-label CN, A-label SAN", {"cns": ("bücher.contoso.com",),
                                     "san": ("xn--bcher-kva.contoso.com",)},
     "xn--bcher-kva.contoso.com", False, True),
    ("IDNA A-label CN and SAN, U-label URL", {"cns": ("xn--bcher-kva.contoso.com",),
                                             "san": ("xn--bcher-kva.contoso.com",)},
     "bücher.contoso.com", True, True),
    ("zero-width space", {"cns": (HOST + "\u200b",), "san": (HOST + "\u200b",)}, HOST, False,
     False),
    ("full-width letters", {"cns": ("\uff44\uff41.contoso.com",),
                            "san": ("\uff44\uff41.contoso.com",)}, HOST, False, False),
    ("sharp s", {"cns": ("da\u00df.contoso.com",), "san": ("da\u00df.contoso.com",)},
     "dass.contoso.com", False, False),
    ("zero-width space in CN only", {"cns": (HOST + "\u200b",)}, HOST, False, True),
    ("IP host, IP SAN", {"cns": ("192.0.2.10",), "san": ("192.0.2.10",)}, "192.0.2.10", True,
     True),
    ("IP host, SAN has names only", {"cns": ("192.0.2.10",)}, "192.0.2.10", False, False),
    ("SAN lists host among others", {"san": ("a.contoso.com", HOST, "192.0.2.1")}, HOST, True,
     True),
]


@pytest.mark.parametrize(
    ("knobs", "host", "da_ok", "rfc_ok"),
    [case[1:] for case in VERDICT_CASES],
    ids=[case[0] for case in VERDICT_CASES],
)
def test_name_verdicts(knobs: dict[str, object], host: str, da_ok: bool, rfc_ok: bool) -> None:
    cert = make_leaf(**knobs).cert  # type: ignore[arg-type]
    da = directaccess_name_verdict(cert, host)
    rfc = rfc6125_name_verdict(cert, host)
    assert (da.ok, rfc.ok) == (da_ok, rfc_ok), (da.reason, rfc.reason)
    assert da.reason and rfc.reason


def test_verdict_reasons_and_matched() -> None:
    cn_only = make_leaf(san=None).cert
    assert directaccess_name_verdict(cn_only, HOST).matched == HOST
    rfc = rfc6125_name_verdict(cn_only, HOST)
    assert rfc.matched is None and "no SAN extension" in rfc.reason

    san_only = make_leaf(cns=()).cert
    assert "no CN" in directaccess_name_verdict(san_only, HOST).reason
    assert rfc6125_name_verdict(san_only, HOST).matched == HOST

    several = directaccess_name_verdict(make_leaf(cns=(HOST, "x.contoso.com")).cert, HOST)
    assert "2 CNs" in several.reason and several.matched == HOST

    wrong_san = directaccess_name_verdict(make_leaf(san=("x.contoso.com",)).cert, HOST)
    assert "SAN" in wrong_san.reason and wrong_san.matched == HOST


def test_verdict_evidence_has_no_nulls() -> None:
    assert NameVerdict(False, "why").as_evidence() == {"ok": False, "reason": "why"}
    assert NameVerdict(True, "why", "a").as_evidence() == {"ok": True, "reason": "why",
                                                           "matched": "a"}


# ---------------------------------------------------------------- properties

_LABEL = st.from_regex(r"[a-z]([a-z0-9-]{0,10}[a-z0-9])?", fullmatch=True)
_NAME = st.lists(_LABEL, min_size=1, max_size=5).map(".".join)
_PARENT = st.lists(_LABEL, min_size=2, max_size=4).map(".".join)


def _mixed_case(data: st.DataObject, name: str) -> str:
    flips = data.draw(st.lists(st.booleans(), min_size=len(name), max_size=len(name)))
    return "".join(c.upper() if flip else c for c, flip in zip(name, flips, strict=True))


@given(st.data(), _NAME, st.booleans(), st.booleans())
def test_name_matches_itself_in_any_case(
    data: st.DataObject, name: str, pattern_dot: bool, host_dot: bool
) -> None:
    pattern = _mixed_case(data, name) + ("." if pattern_dot else "")
    host = _mixed_case(data, name) + ("." if host_dot else "")
    assert hostname_matches(pattern, host)


@given(_LABEL, _PARENT)
def test_wildcard_matches_every_single_label_child(child: str, parent: str) -> None:
    assert hostname_matches("*." + parent, f"{child}.{parent}")
    assert hostname_matches("*." + parent.upper(), f"{child}.{parent}.")


@given(_PARENT, st.lists(_LABEL, min_size=1, max_size=6))
def test_wildcard_never_matches_another_label_count(parent: str, labels: list[str]) -> None:
    host = ".".join(labels)
    assume(len(labels) != parent.count(".") + 2)
    assert not hostname_matches("*." + parent, host)


@given(_LABEL, _LABEL, _PARENT)
def test_partial_wildcards_never_match(prefix: str, child: str, parent: str) -> None:
    host = f"{child}.{parent}"
    assert not hostname_matches(f"{prefix}*.{parent}", host)
    assert not hostname_matches(f"*{prefix}.{parent}", host)
    assert not hostname_matches(f"{child}.*.{parent}", f"{child}.x.{parent}")


@given(st.ip_addresses(), _PARENT)
def test_wildcard_never_matches_an_ip(ip: object, parent: str) -> None:
    assert not hostname_matches("*." + parent, str(ip))
    assert not hostname_matches("*." + str(ip), str(ip))
    assert hostname_matches(str(ip), str(ip))


@given(st.text(max_size=40), st.text(max_size=40))
def test_never_raises(pattern: str, host: str) -> None:
    assert hostname_matches(pattern, host) in (True, False)
    assert hostname_matches(pattern, host, windows=True) in (True, False)


# Everything outside printable ASCII, lone surrogates included (a decoder may produce them).
_FLAGGED = st.characters(blacklist_categories=(), min_codepoint=0x7F) | st.characters(
    max_codepoint=0x1F)


@given(_NAME, _FLAGGED, st.integers(min_value=0), st.text(max_size=30), st.booleans())
def test_a_name_with_a_character_outside_printable_ascii_never_matches(
    name: str, char: str, where: int, host: str, windows: bool
) -> None:
    """Whatever the host, and however IDNA would fold it: never a match, always flagged."""
    position = where % (len(name) + 1)
    pattern = name[:position] + char + name[position:]
    assert not hostname_matches(pattern, host, windows=windows)
    assert not hostname_matches(pattern, name, windows=windows)
    assert escape_name(char) in flagged_characters(pattern)
    assert escape_name(pattern).isascii()


@given(_NAME, st.booleans())
def test_the_url_host_may_be_written_with_u_labels(name: str, windows: bool) -> None:
    host = "bücher." + name
    assert hostname_matches("xn--bcher-kva." + name, host, windows=windows)
    assert not hostname_matches(host, host, windows=windows)


# ---------------------------------------------------------------- oracle: cryptography's verifier

ORACLE_CASES = [
    ((HOST,), HOST),
    (("DA.CONTOSO.COM",), HOST),
    (("*.contoso.com",), HOST),
    (("*.contoso.com",), "contoso.com"),
    (("*.contoso.com",), "a.da.contoso.com"),
    (("www.contoso.com", HOST), HOST),
    (("www.contoso.com",), HOST),
    (("xn--bcher-kva.contoso.com",), "xn--bcher-kva.contoso.com"),
    (("192.0.2.10",), "192.0.2.10"),
    (("192.0.2.10",), "192.0.2.11"),
    ((HOST,), "192.0.2.10"),
]


@pytest.mark.parametrize(("san", "host"), ORACLE_CASES)
def test_rfc6125_verdict_agrees_with_cryptography(san: tuple[str, ...], host: str) -> None:
    """On web-PKI-shaped certificates our SAN verdict and cryptography's RFC 6125 server
    verifier agree (the verifier is the reference; ours also explains DirectAccess)."""
    leaf = make_leaf(cns=("ignored.example",), san=san).cert
    ip = parse_ip(host)
    subject: x509.DNSName | x509.IPAddress = (
        x509.IPAddress(ip) if ip is not None else x509.DNSName(host)
    )
    verifier = (
        PolicyBuilder().store(Store([root().cert])).time(NOW).build_server_verifier(subject)
    )
    try:
        verifier.verify(leaf, [intermediate().cert])
        accepted = True
    except VerificationError:
        accepted = False
    assert rfc6125_name_verdict(leaf, host).ok is accepted
