from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daserver_check.protocol.netsh import (
    NetshParseError,
    codes_in_text,
    decode_output,
    detect_kind,
    parse_httpstunnel,
    parse_sslcert,
    parse_urlacl,
)

from .timing import assert_linear

NETSH = Path(__file__).parents[1] / "fixtures" / "server" / "netsh"
SSTP_SID = "S-1-5-80-3435701886-799518250-3791383489-3228296122-2938884314"
BRANCHCACHE = "https://+:443/C574AC30-5794-4AEE-B1BB-6651C5315029/"
SSTP = "https://+:443/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/"


def read(name: str) -> bytes:
    return (NETSH / name).read_bytes()


def test_urlacl_english() -> None:
    entries = parse_urlacl(read("urlacl-en.txt"))
    assert [e.url for e in entries] == [
        "http://+:80/Temporary_Listen_Addresses/",
        BRANCHCACHE,
        SSTP,
        "https://+:443/IPHTTPS/",
        "https://da.contoso.com:443/IPHTTPS/",
    ]
    assert entries[0].sddl == "D:(A;;GX;;;WD)"
    assert entries[0].users == ("\\Everyone",)
    assert entries[2].sddl == f"D:(A;;GX;;;{SSTP_SID})"
    assert entries[2].users == ("NT SERVICE\\SstpSvc",)


def test_urlacl_german_cp850() -> None:
    entries = parse_urlacl(read("urlacl-de.txt"))
    assert [e.url for e in entries] == ["http://+:80/Temporary_Listen_Addresses/", SSTP]
    assert entries[1].sddl == f"D:(A;;GX;;;{SSTP_SID})"
    assert entries[0].users == ("\\Jeder",)


def test_sslcert_english_utf16() -> None:
    bindings = parse_sslcert(read("sslcert-en.txt"))
    assert [b.endpoint for b in bindings] == ["0.0.0.0:443", "203.0.113.10:443"]
    first = bindings[0]
    assert first.kind == "ip"
    assert first.cert_hash == "3a5f2bd4c2f2a1e0c9b8a7f6e5d4c3b2a1908f7e"
    assert first.app_id == "{5d8e2743-ef20-4d38-8751-7e400f200e65}"
    assert first.store == "MY"
    assert first.ds_mapper is True
    assert first.negotiate_client_cert is False
    assert ("Disable HTTP2", "Not Set") in first.fields  # newer builds add lines: kept, not needed


def test_sslcert_german_keys_on_values() -> None:
    (binding,) = parse_sslcert(read("sslcert-de.txt"))
    assert binding.endpoint == "0.0.0.0:443"
    assert binding.cert_hash == "3a5f2bd4c2f2a1e0c9b8a7f6e5d4c3b2a1908f7e"
    assert binding.app_id == "{5d8e2743-ef20-4d38-8751-7e400f200e65}"
    assert binding.store == "MY"


def test_sslcert_sni_and_central_store_blocks() -> None:
    text = (
        "SSL Certificate bindings:\n-------------------------\n\n"
        "    Hostname:port                : da.contoso.com:443\n"
        "    Certificate Hash             : " + "ab" * 20 + "\n"
        "    Application ID               : {5d8e2743-ef20-4d38-8751-7e400f200e65}\n"
        "    Certificate Store Name       : My\n\n"
        "    Central Certificate Store    : 443\n"
        "    Certificate Hash             : (null)\n"
        "    Application ID               : {4dc3e181-e14b-4a21-b022-59fc669b0914}\n"
    )
    sni, ccs = parse_sslcert(text)
    assert (sni.kind, sni.endpoint, sni.cert_hash) == ("hostname", "da.contoso.com:443", "ab" * 20)
    assert (ccs.kind, ccs.endpoint, ccs.cert_hash) == ("ccs", "443", None)


def test_ipv6_binding() -> None:
    text = "    IP:port : [::]:443\n    Certificate Hash : " + "cd" * 20 + "\n"
    (binding,) = parse_sslcert(text)
    assert binding.endpoint == "[::]:443"


@pytest.mark.parametrize(
    ("name", "code", "role", "status"),
    [
        ("httpstunnel-client-2afc.txt", 0x2AFC, "client",
         "Failed to connect to IPHTTPS server; waiting to reconnect"),
        ("httpstunnel-server-643.txt", 0x643, "server", "Interface creation failure"),
        ("httpstunnel-de-103.txt", 0x103, None, "Kein verwendbares Zertifikat gefunden"),
        ("httpstunnel-fr-80092013.txt", 0x80092013, None,
         "Échec de la connexion au serveur IPHTTPS ; attente de la reconnexion"),
    ],
)
def test_httpstunnel(name: str, code: int, role: str | None, status: str) -> None:
    (iface,) = parse_httpstunnel(read(name))
    assert iface.name == "IPHTTPSInterface"
    assert iface.url == "https://da.contoso.com:443/IPHTTPS"
    assert iface.last_error == code
    assert iface.status == status
    if role:
        assert iface.role == role


def test_httpstunnel_kb_paste_without_title() -> None:
    # Seed 001 (KB 2980635) prints the output without its title and dashes.
    text = (
        "Error: 0x103  \nRole: Client  \nURL: `https://da.contoso.com/IPHTTPS`  \n"
        "Last Error Code: 0x103  \nInterface Status: No usable certificate found  \n"
        "0x103 translates to:  \nERROR_NO_MORE_ITEMS\n"
    )
    (iface,) = parse_httpstunnel(text)
    assert iface.last_error == 0x103
    assert iface.url == "https://da.contoso.com/IPHTTPS"
    assert iface.status == "No usable certificate found"


def test_two_interfaces() -> None:
    one = read("httpstunnel-client-2afc.txt").decode()
    two = one.replace("IPHTTPSInterface", "IPHTTPSInterface2").replace("0x2afc", "0x0")
    ifaces = parse_httpstunnel(one + two)
    assert [(i.name, i.last_error) for i in ifaces] == [
        ("IPHTTPSInterface", 0x2AFC), ("IPHTTPSInterface2", 0x0)]


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("urlacl-en.txt", "urlacl"),
        ("urlacl-de.txt", "urlacl"),
        ("sslcert-en.txt", "sslcert"),
        ("sslcert-de.txt", "sslcert"),
        ("httpstunnel-client-2afc.txt", "httpstunnel"),
        ("httpstunnel-fr-80092013.txt", "httpstunnel"),
    ],
)
def test_detect_kind(name: str, kind: str) -> None:
    assert detect_kind(decode_output(read(name))) == kind


def test_detect_kind_none() -> None:
    assert detect_kind("hello world\n") is None


def test_codes_in_text() -> None:
    assert codes_in_text("Error: 0x643 and 0x34, again 0x643") == [0x643, 0x34]


def test_odd_utf16_is_an_error() -> None:
    with pytest.raises(NetshParseError):
        decode_output(b"\xff\xfeA")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=1500))
def test_arbitrary_bytes_raise_only_netsh_error(data: bytes) -> None:
    for parse in (parse_urlacl, parse_sslcert, parse_httpstunnel):
        with contextlib.suppress(NetshParseError):
            parse(data)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(
    ["    IP:port : 0.0.0.0:443", "Certificate Hash : " + "a" * 40, "Reserved URL : https://x/",
     "SDDL: D:(A;;GX;;;WD)", "----------", "Interface X", "Last Error Code : 0x2afc", "",
     "URL : https://da/IPHTTPS", ": :", "  :", "User: a\\b", "Application ID : {" + "0" * 8
     + "-0000-0000-0000-" + "0" * 12 + "}"]), max_size=30))
def test_structured_noise_never_crashes(lines: list[str]) -> None:
    text = "\r\n".join(lines)
    parse_urlacl(text)
    parse_sslcert(text)
    parse_httpstunnel(text)
    detect_kind(text)


@pytest.mark.parametrize(
    "make",
    [
        lambda n: (b"a" + b" " * n + b"x\n"),
        lambda n: (b"IP:port : 0.0.0.0:443\n" + b"x:y " * n),
        lambda n: b"-----\n" * n,
        lambda n: b"T\n-----\nLast Error Code : 0x1\n" * (n // 20),
        lambda n: b"Reserved URL : https://+:443/x/\n" * (n // 30),
    ],
)
def test_parse_time_is_linear(make: object) -> None:
    def all_parsers(data: bytes) -> None:
        parse_urlacl(data)
        parse_sslcert(data)
        parse_httpstunnel(data)

    assert_linear(all_parsers, make, small=10_000)  # type: ignore[arg-type]
