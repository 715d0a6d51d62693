"""The Windows client profiles: cited, consistent with the sources' facts and with OpenSSL."""

from __future__ import annotations

import re

import pytest
from OpenSSL import SSL

from daserver_check.clients import (
    NULL_SUITES,
    PROFILES,
    SUITES,
    ClientProfile,
    TlsVersion,
    profile,
)
from daserver_check.probe.cipher_map import offerable_suites

CITATION = re.compile(r"Microsoft Learn '[^']+'|KB \d{6,7}|capture '[^']+'")


@pytest.mark.parametrize("client", list(PROFILES.values()), ids=list(PROFILES))
def test_each_profile_cites_its_source(client: ClientProfile) -> None:
    assert client.source.strip()
    assert CITATION.search(client.source), client.source
    # Anything not sourced says so.
    for text in (client.title, client.source, *client.notes):
        if "TLS 1.2 at most" in text or "as Windows 10" in text or "as the Windows 10" in text:
            assert "inferred" in text, text


def test_profile_names_are_the_finding_suffixes() -> None:
    assert list(PROFILES) == ["windows7", "windows7-tls12", "windows8", "windows10", "windows11"]
    assert profile("windows10") is PROFILES["windows10"]
    with pytest.raises(KeyError, match="known: windows7"):
        profile("windows95")


def test_windows7_defaults_tls10_and_only_suites_tls10_can_use() -> None:
    win7 = PROFILES["windows7"]
    assert win7.versions == (TlsVersion.TLS1_0,)
    assert all(s.usable_with(TlsVersion.TLS1_0) for s in win7.offer)
    assert not win7.sigalgs
    assert PROFILES["windows7-tls12"].max_version is TlsVersion.TLS1_2


def test_null_suites_only_for_windows8_and_later() -> None:
    for name, client in PROFILES.items():
        null = [s for s in client.offer if s.is_null]
        if name.startswith("windows7"):
            assert not null and not client.iphttps_null
        else:
            assert tuple(null) == NULL_SUITES  # 0x003B then 0x0002, last in the offer
            assert client.offer[-2:] == NULL_SUITES
    assert [s.code for s in NULL_SUITES] == [0x003B, 0x0002]


def test_no_ecdhe_rsa_gcm_before_windows10() -> None:
    """Learn: Windows 7 and 8.1 have no TLS_ECDHE_RSA_WITH_AES_*_GCM suite; 10 and 11 do."""
    gcm = {SUITES["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"], SUITES["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]}
    for name in ("windows7", "windows7-tls12", "windows8"):
        assert not gcm & set(PROFILES[name].offer)
    for name in ("windows10", "windows11"):
        assert gcm <= set(PROFILES[name].offer)


def test_windows11_tls13_suites_are_data_but_not_offered_to_iphttps() -> None:
    win11 = PROFILES["windows11"]
    assert [s.iana for s in win11.suites[:2]] == ["TLS_AES_256_GCM_SHA384", "TLS_AES_128_GCM_SHA256"]
    assert TlsVersion.TLS1_3 not in win11.versions
    assert not any(s.is_tls13 for s in win11.offer)
    assert any("inferred" in note for note in win11.notes)


def test_unsendable_suites_are_3des_and_rc4_only() -> None:
    unsendable = {s.iana for s in SUITES.values() if not s.can_offer}
    assert unsendable == {"TLS_RSA_WITH_3DES_EDE_CBC_SHA", "TLS_DHE_DSS_WITH_3DES_EDE_CBC_SHA",
                          "TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_RC4_128_MD5"}
    for client in PROFILES.values():
        assert set(client.sendable) | set(client.unsendable) == set(client.offer)


def test_code_points_and_openssl_names_agree_with_openssl() -> None:
    """Every sendable suite's code point is the one OpenSSL sends for its OpenSSL name."""
    by_name = {s.openssl: s.code for s in offerable_suites()}
    for suite in SUITES.values():
        if suite.can_offer:
            assert by_name[suite.openssl] == suite.code, suite.iana
    assert len({s.code for s in SUITES.values()}) == len(SUITES)


def test_groups_and_sigalgs_are_accepted_by_openssl() -> None:
    from OpenSSL._util import lib

    for client in PROFILES.values():
        ctx = SSL.Context(SSL.TLS_METHOD)
        groups = ":".join(g.openssl for g in client.groups).encode()
        assert lib.SSL_CTX_set1_curves_list(ctx._context, groups) == 1, client.name
        if client.sigalgs:
            sigalgs = ":".join(a.openssl for a in client.sigalgs).encode()
            assert lib.SSL_CTX_set1_sigalgs_list(ctx._context, sigalgs) == 1, client.name
