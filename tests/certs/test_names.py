"""The host-name rule and the two name verdicts (REFERENCE.md §3, §8)."""

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
    hostname_matches,
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
    # IDNA: compare A-labels
    ("bücher.example.com", "xn--bcher-kva.example.com", True),
    ("BÜCHER.example.com", "xn--bcher-kva.example.com", True),
    ("xn--bcher-kva.example.com", "xn--bcher-kva.example.com", True),
    ("XN--BCHER-KVA.example.com", "xn--bcher-kva.example.com", True),
    ("bücher.example.com", "bücher.example.com", True),
    ("*.bücher.example", "da.xn--bcher-kva.example", True),
    ("*.contoso.com", "xn--bcher-kva.contoso.com", True),
    ("bücher.example.com", "bucher.example.com", False),
    ("ü" * 70 + ".example.com", "x.example.com", False),  # the idna codec refuses it
    ("*ü.example.com", "xn--tda.example.com", False),
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
    ("case and dot", {"cns": ("DA.CONTOSO.COM.",), "san": ("DA.contoso.com",)}, HOST, True, True),
    ("IDNA U-label CN, A-label SAN", {"cns": ("bücher.contoso.com",),
                                     "san": ("xn--bcher-kva.contoso.com",)},
     "xn--bcher-kva.contoso.com", True, True),
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
