"""The same facts come out of the .reg, hive and netsh paths: one test per fact and source."""

from __future__ import annotations

from pathlib import Path

import pytest

from daserver_check.protocol.netsh import parse_sslcert, parse_urlacl
from daserver_check.protocol.reg import parse_reg_export
from daserver_check.server.extract import add_netsh_sslcert, add_netsh_urlacl, add_registry
from daserver_check.server.facts import Facts
from daserver_check.server.registry import HiveView, RegExportView

from .scenario import (
    BROKEN_URL,
    FIXTURES,
    GOOD_HASH,
    IPHTTPS_APP,
    KB_RESERVATIONS,
    OTHER_HASH,
)

BUNDLE = FIXTURES / "kb2980660"


def from_reg(*names: str) -> Facts:
    facts = Facts()
    for name in names:
        add_registry(facts, RegExportView(parse_reg_export((BUNDLE / name).read_bytes()), name))
    return facts


def from_hives(hives: tuple[Path, Path]) -> Facts:
    facts = Facts()
    for hive in hives:
        add_registry(facts, HiveView(str(hive), hive.name))
    return facts


def from_netsh() -> Facts:
    facts = Facts()
    add_netsh_urlacl(facts, parse_urlacl((BUNDLE / "urlacl.txt").read_bytes()), "urlacl.txt")
    add_netsh_sslcert(facts, parse_sslcert((BUNDLE / "sslcert.txt").read_bytes()), "sslcert.txt")
    return facts


SOURCES = ["reg", "hive", "netsh"]


@pytest.fixture(params=SOURCES)
def facts(request: pytest.FixtureRequest) -> Facts:
    if request.param == "reg":
        return from_reg("http.reg", "tcpip6.reg", "proxymgr.reg", "v6transition.reg")
    if request.param == "hive":
        return from_hives(request.getfixturevalue("kb_hives"))
    return from_netsh()


def test_reservations(facts: Facts) -> None:
    assert facts.reservations is not None
    good = {r.url: r.sddl for r in facts.reservations if r.error is None}
    assert good == KB_RESERVATIONS


def test_reservation_accounts(facts: Facts) -> None:
    assert facts.reservations is not None
    by_url = {r.url: r.accounts for r in facts.reservations}
    assert by_url["http://+:80/Temporary_Listen_Addresses/"] == ("Everyone",)
    assert by_url["https://+:443/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/"] == (
        "NT SERVICE\\SstpSvc",)


def test_ssl_bindings(facts: Facts) -> None:
    assert facts.bindings is not None
    got = {(b.endpoint, b.kind, b.cert_hash, b.app_id, b.store.upper() if b.store else None,
            b.ds_mapper, b.negotiate_client_cert) for b in facts.bindings}
    assert got == {
        ("0.0.0.0:443", "ip", GOOD_HASH, "{" + IPHTTPS_APP + "}", "MY", True, False),
        ("203.0.113.10:443", "ip", OTHER_HASH, "{4dc3e181-e14b-4a21-b022-59fc669b0914}", "MY",
         False, False),
    }


@pytest.mark.parametrize("source", ["reg", "hive"])
def test_corrupt_reservation_is_kept_with_its_error(source: str, request: pytest.FixtureRequest
                                                    ) -> None:
    facts = from_reg("http.reg") if source == "reg" else from_hives(
        request.getfixturevalue("kb_hives"))
    assert facts.reservations is not None
    (broken,) = [r for r in facts.reservations if r.error]
    assert broken.url == BROKEN_URL and broken.sddl is None
    assert broken.error is not None and "corrupt security descriptor" in broken.error


@pytest.mark.parametrize("source", ["reg", "hive"])
def test_disabled_components(source: str, request: pytest.FixtureRequest) -> None:
    facts = from_reg("tcpip6.reg") if source == "reg" else from_hives(
        request.getfixturevalue("kb_hives"))
    assert facts.ipv6_collected and facts.disabled_components == 0xFF


@pytest.mark.parametrize("source", ["reg", "hive"])
def test_policy_keys(source: str, request: pytest.FixtureRequest) -> None:
    facts = from_reg("v6transition.reg") if source == "reg" else from_hives(
        request.getfixturevalue("kb_hives"))
    assert facts.policy_collected
    paths = sorted(k.path.rsplit("\\", 2)[-2] + "\\" + k.path.rsplit("\\", 1)[-1]
                   for k in facts.policy_keys)
    assert paths == ["IPHTTPS\\IPHTTPSInterface", "v6Transition\\IPHTTPS",
                     "v6Transition\\IPHTTPSProfiles"]
    values = {n: v for k in facts.policy_keys for n, v in k.values}
    assert values == {"IPHTTPS_ClientUrl": "https://da-old.contoso.com:443/IPHTTPS",
                      "IPHTTPS_ClientState": "0x2"}


@pytest.mark.parametrize("source", ["reg", "hive"])
def test_proxymgr(source: str, request: pytest.FixtureRequest) -> None:
    facts = from_reg("proxymgr.reg") if source == "reg" else from_hives(
        request.getfixturevalue("kb_hives"))
    assert facts.proxymgr_collected
    entries = [(k.path.rsplit("\\", 1)[-1], k.values) for k in facts.proxymgr]
    assert entries == [
        ("ProxyMgr", ()),
        ("{3E2A5A8B-6C1D-4F2E-9A7B-0C1D2E3F4A5B}",
         (("StaticProxy", "http=proxy.contoso.com:8080"),)),
    ]


def test_a_source_reports_only_what_it_covers() -> None:
    facts = from_reg("tcpip6.reg")
    assert facts.reservations is None and facts.bindings is None
    assert not facts.policy_collected and not facts.proxymgr_collected


def test_reg_deletions_are_applied() -> None:
    from daserver_check.protocol.reg import parse_reg_text

    text = (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Tcpip6\\Parameters]\r\n"
        '"DisabledComponents"=dword:000000ff\r\n\r\n'
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services\\Tcpip6\\Parameters]\r\n"
        '"DisabledComponents"=-\r\n'
    )
    facts = Facts()
    add_registry(facts, RegExportView(parse_reg_text(text), "x"))
    assert facts.ipv6_collected and facts.disabled_components is None


def test_control_set_spelling_is_normalized() -> None:
    from daserver_check.protocol.reg import parse_reg_text

    text = (
        "Windows Registry Editor Version 5.00\r\n\r\n"
        "[HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001\\Services\\Tcpip6\\Parameters]\r\n"
        '"DisabledComponents"=dword:00000020\r\n'
    )
    facts = Facts()
    add_registry(facts, RegExportView(parse_reg_text(text), "x"))
    assert facts.disabled_components == 0x20


def test_hive_bytes_equal_reg_bytes(kb_hives: tuple[Path, Path]) -> None:
    from daserver_check.server.paths import URLACL_KEY

    reg = RegExportView(parse_reg_export((BUNDLE / "http.reg").read_bytes()), "reg")
    hive = HiveView(str(kb_hives[0]), "hive")
    assert hive.values(URLACL_KEY) == reg.values(URLACL_KEY)


def test_corrupt_hive_is_a_hive_error(tmp_path: Path) -> None:
    from daserver_check.server.registry import HiveError

    bad = tmp_path / "bad"
    bad.write_bytes(b"regf" + b"\xff" * 5000)
    with pytest.raises(HiveError):
        HiveView(str(bad), "bad")
