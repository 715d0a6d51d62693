"""The new sans-IO parsers: cmdlet JSON (remote_access, ps_json), proxy settings, collect status.
Each is bounded and raises only its own error, whatever the input (hypothesis)."""

from __future__ import annotations

import contextlib
import json
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daserver_check.protocol.collect_status import (
    MAX_LINES,
    CollectStatusError,
    parse_collect_status,
)
from daserver_check.protocol.proxy_settings import (
    PROXY_TYPE_AUTO_PROXY_URL,
    PROXY_TYPE_DIRECT,
    PROXY_TYPE_PROXY,
    ProxySettingsError,
    parse_connection_settings,
    parse_winhttp_text,
)
from daserver_check.protocol.ps_json import MAX_OBJECTS, PsJsonError, objects
from daserver_check.protocol.remote_access import parse_powershell

RA = Path(__file__).parents[1] / "fixtures" / "server" / "remoteaccess"


def test_health_in_microsofts_shape() -> None:
    doc = parse_powershell((RA / "ra-health-error.json").read_bytes())
    assert doc.health is not None
    by_name = {c.component: c for c in doc.health}
    assert set(by_name) == {"Server", "IP-HTTPS", "DNS", "Network Location Server",
                            "Load Balancing"}
    iphttps = by_name["IP-HTTPS"]
    assert iphttps.state == "Error" and not iphttps.healthy
    assert iphttps.heuristics[0].id == 18
    assert iphttps.heuristics[0].cause == ("The certificate bound to the IP-HTTPS listener has "
                                           "expired.")
    # One heuristic is written by ConvertTo-Json as an object, not a one-item array.
    assert len(by_name["Network Location Server"].heuristics) == 1
    assert by_name["Load Balancing"].healthy and by_name["DNS"].healthy
    assert doc.nrpt is None and doc.tls_suites is None  # CimSystemProperties is not an NRPT rule


def test_unwrapped_cmdlet_output_is_recognised() -> None:
    doc = parse_powershell((RA / "ra-health-ok.json").read_bytes())
    assert doc.health is not None and all(c.healthy for c in doc.health)


def test_nrpt_server_and_client_shapes() -> None:
    server = parse_powershell((RA / "nrpt-exempt.json").read_bytes())
    assert server.nrpt_source == "Get-DAClientDnsConfiguration"
    assert server.nrpt is not None
    exemption, suffix, nls = server.nrpt
    assert exemption.namespaces == ("da.contoso.com",) and exemption.exemption
    assert suffix.da_servers == ("2001:db8:1:1::1",) and not suffix.exemption
    assert nls.exemption
    client = parse_powershell((RA / "nrpt-client.json").read_bytes())
    assert client.nrpt_source == "Get-DnsClientNrptPolicy"
    assert client.nrpt is not None and client.nrpt[0].namespaces == (".contoso.com",)


def test_empty_wrappers_are_collected_and_empty() -> None:
    doc = parse_powershell(b'{"DnsClientNrptPolicy": [], "NetAdapter": [], '
                           b'"RemoteAccessHealth": []}')
    assert doc.nrpt == () and doc.adapters == () and doc.health == ()
    assert doc.tls_suites is None


def test_tls_suites_keep_order_and_protocols() -> None:
    doc = parse_powershell((RA / "tls-ciphersuites-default.json").read_bytes())
    assert doc.tls_suites is not None
    names = [s.name for s in doc.tls_suites]
    assert names[0] == "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"
    assert names[-2:] == ["TLS_RSA_WITH_NULL_SHA256", "TLS_RSA_WITH_NULL_SHA"]
    assert doc.tls_suites[-1].code == 2 and 769 in doc.tls_suites[-1].protocols


def test_remote_access_connect_to_address() -> None:
    doc = parse_powershell((RA / "remoteaccess.json").read_bytes())
    assert doc.remote_access is not None and doc.remote_access.connect_to == "da.contoso.com"


def test_adapters() -> None:
    doc = parse_powershell((RA / "netadapters-ghost.json").read_bytes())
    assert doc.adapters is not None
    assert [a.status for a in doc.adapters] == ["Up", "Up", "Not Present", "Disabled"]
    assert doc.adapters[2].hidden is True and doc.adapters[2].index == 23


@pytest.mark.parametrize("data", [b"", b"{", b"[]", b'{"a": 1}', b"\xff\xfe{", b"\x80",
                                  b"[" * 100000, b'{"Component": ' + b"9" * 5000 + b"}"])
def test_json_errors(data: bytes) -> None:
    with pytest.raises(PsJsonError):
        parse_powershell(data)


def test_object_walk_is_bounded() -> None:
    many = [{"x": i} for i in range(MAX_OBJECTS * 2)]
    assert sum(1 for _ in objects([many[i:i + 900] for i in range(0, len(many), 900)])) \
        <= MAX_OBJECTS


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2000))
def test_arbitrary_bytes_raise_only_own_error(data: bytes) -> None:
    with contextlib.suppress(PsJsonError):
        parse_powershell(data)


_KEYS = ["Component", "HealthState", "Heuristics", "ErrorCause", "Namespace",
         "DirectAccessDnsServers", "NrptEntry", "Name", "CipherSuite", "Protocols",
         "InterfaceDescription", "Status", "ConnectToAddress", "TlsCipherSuite", "x"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(_KEYS), children, max_size=5),
    max_leaves=30,
)


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_arbitrary_json_raises_only_own_error(value: object) -> None:
    with contextlib.suppress(PsJsonError):
        doc = parse_powershell(json.dumps(value).encode())
        for rule in doc.nrpt or ():
            assert all(isinstance(n, str) for n in rule.namespaces)


# --- proxy settings ----------------------------------------------------------------------


def blob(flags: int, proxy: bytes, bypass: bytes = b"", pac: bytes = b"") -> bytes:
    out = struct.pack("<III", 0x46, 3, flags)
    for field in (proxy, bypass, pac):
        out += struct.pack("<I", len(field)) + field
    return out


def test_connection_settings() -> None:
    direct = parse_connection_settings(blob(PROXY_TYPE_DIRECT, b""))
    assert not direct.uses_proxy and not direct.uses_autoconfig
    proxy = parse_connection_settings(blob(PROXY_TYPE_DIRECT | PROXY_TYPE_PROXY, b"p:8080",
                                           b"<local>"))
    assert proxy.uses_proxy and proxy.proxy == "p:8080" and proxy.bypass == "<local>"
    # A proxy string left behind with the proxy flag off is not in use.
    assert not parse_connection_settings(blob(PROXY_TYPE_DIRECT, b"old:3128")).uses_proxy
    pac = parse_connection_settings(blob(PROXY_TYPE_AUTO_PROXY_URL, b"", b"", b"http://w/p.pac"))
    assert pac.uses_autoconfig and pac.autoconfig_url == "http://w/p.pac"


@pytest.mark.parametrize("data", [b"", b"\0" * 11, struct.pack("<III", 1, 1, 2),
                                  struct.pack("<IIII", 1, 1, 2, 0xFFFFFFFF),
                                  b"\0" * 70000])
def test_connection_settings_errors(data: bytes) -> None:
    with pytest.raises(ProxySettingsError):
        parse_connection_settings(data)


def test_winhttp_text_localized_by_shape() -> None:
    de = parse_winhttp_text("\r\nAktuelle WinHTTP-Proxyeinstellungen:\r\n\r\n"
                            "    Proxyserver :  proxy.contoso.com:8080\r\n"
                            "    Umgehungsliste :  (keine)\r\n")
    assert de.uses_proxy and de.proxy == "proxy.contoso.com:8080" and de.bypass == "(keine)"
    direct = parse_winhttp_text("Current WinHTTP proxy settings:\n\n    Direct access (no "
                                "proxy server).\n")
    assert not direct.uses_proxy
    with pytest.raises(ProxySettingsError):
        parse_winhttp_text("Proxy Server(s) : x")


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600))
def test_blob_raises_only_own_error(data: bytes) -> None:
    with contextlib.suppress(ProxySettingsError):
        parse_connection_settings(data)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_winhttp_raises_only_own_error(text: str) -> None:
    with contextlib.suppress(ProxySettingsError):
        parse_winhttp_text("WinHTTP:\n" + text)
        parse_winhttp_text(text)


# --- collect status ----------------------------------------------------------------------


def test_collect_status() -> None:
    steps = parse_collect_status(
        "daserver-check collect status 1\r\n"
        "ok export http.reg HKLM\\SYSTEM\\CurrentControlSet\\Services\\HTTP\\Parameters\r\n"
        "denied export schannel.reg HKLM\\SYSTEM\\x y\r\n"
        "missing cmdlet ra-health.json Get-RemoteAccessHealth\r\n"
        "failed netsh urlacl.txt netsh http show urlacl, exit code 1\r\n\r\n")
    assert [s.result for s in steps] == ["ok", "denied", "missing", "failed"]
    assert steps[1].detail == "HKLM\\SYSTEM\\x y" and steps[3].file == "urlacl.txt"


@pytest.mark.parametrize("text", ["", "hello", "daserver-check collect status 1\nbogus a b\n",
                                  "daserver-check collect status 1\nok a\n",
                                  "daserver-check collect status 1\n" + "ok a b\n" * (MAX_LINES + 1)])
def test_collect_status_errors(text: str) -> None:
    with pytest.raises(CollectStatusError):
        parse_collect_status(text)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=600))
def test_collect_status_raises_only_own_error(text: str) -> None:
    with contextlib.suppress(CollectStatusError):
        parse_collect_status("daserver-check collect status 1\n" + text)
