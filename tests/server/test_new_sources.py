"""server.health, server.nrpt, server.tls.schannel, client.adapters and client.system-proxy,
read from bundles the way collect-script writes them: PowerShell JSON in Microsoft's output
shape, regedit-format .reg exports (format_reg_export), a real hive (hivexregedit), netsh text
and collect-status.txt."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest

from daserver_check.model import Finding, Status
from daserver_check.pipeline.bundle import BundleOptions, inspect_bundle
from daserver_check.protocol.reg import RegKey, RegType, RegValue, encode_sz, format_reg_export
from daserver_check.server.artifacts import load
from daserver_check.server.checks import Options, run_checks
from daserver_check.server.paths import (
    CIPHER_ORDER_POLICY,
    FIPS_POLICY,
    LOCALSYSTEM_CONNECTIONS,
    SCHANNEL_KEY,
)

from .hivebuild import build_hive, require_hivexregedit

FIXTURES = Path(__file__).parents[1] / "fixtures" / "server"
RA = FIXTURES / "remoteaccess"
WINDOWS7 = ("windows10", "windows11", "windows7")


def dword(name: str, value: int) -> RegValue:
    return RegValue(name, RegType.DWORD, value.to_bytes(4, "little"))


def findings(paths: list[Path], client_os: tuple[str, ...] = ("windows10", "windows11"),
             url: str | None = None) -> dict[str, Finding]:
    if url is None:
        report = inspect_bundle([str(p) for p in paths], BundleOptions(client_os=client_os))
        return {str(f.id): f for f in report.findings}
    # As `server --url` adds it, without fetching the certificate served there (no network).
    facts = load([str(p) for p in paths])
    facts.server_urls.append(url)
    return {str(f.id): f for f in run_checks(facts, Options(client_os=client_os))}


def bundle(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "bundle"
    folder.mkdir(exist_ok=True)
    for name in names:
        shutil.copy(RA / name, folder / name)
    return folder


def schannel_reg(tmp_path: Path, keys: list[RegKey], name: str = "schannel.reg") -> Path:
    path = tmp_path / name
    path.write_bytes(format_reg_export(keys))
    return path


def protocol_key(version: str, **values: int) -> RegKey:
    return RegKey(f"{SCHANNEL_KEY}\\Protocols\\{version}\\Server",
                  tuple(dword(n, v) for n, v in values.items()))


# --- server.health -------------------------------------------------------------------------


def test_health_fails_with_microsofts_own_text(tmp_path: Path) -> None:
    f = findings([bundle(tmp_path, "ra-health-error.json")])["server.health"]
    assert f.status is Status.FAIL
    assert "IP-HTTPS (Error)" in f.title and "Network Location Server (Warning)" in f.title
    assert "Load Balancing" not in f.title  # Disabled: not in use, not a fault
    assert "The certificate bound to the IP-HTTPS listener has expired." in f.detail
    assert "Bind a valid certificate to IP-HTTPS" in f.detail
    monitors = {c["component"]: c["monitors"] for c in f.evidence["components"]}
    assert monitors["IP-HTTPS"][0]["error_cause"].startswith("The certificate bound")


def test_health_all_ok_passes_and_warning_alone_warns(tmp_path: Path) -> None:
    assert findings([RA / "ra-health-ok.json"])["server.health"].status is Status.PASS
    warn = RA / "ra-health-error.json"
    text = warn.read_bytes().replace(b'"HealthState":  "Error"', b'"HealthState":  "OK"')
    (tmp_path / "h.json").write_bytes(text)
    f = findings([tmp_path / "h.json"])["server.health"]
    assert f.status is Status.WARN and "Network Location Server" in f.title


def test_health_not_collected_is_skip_and_missing_cmdlet_says_so(tmp_path: Path) -> None:
    folder = bundle(tmp_path, "remoteaccess.json")
    assert findings([folder])["server.health"].status is Status.SKIP
    (folder / "collect-status.txt").write_text(
        "daserver-check collect status 1\r\n"
        "missing cmdlet ra-health.json Get-RemoteAccessHealth\r\n", encoding="ascii")
    f = findings([folder])["server.health"]
    assert f.status is Status.SKIP and "Get-RemoteAccessHealth does not exist" in f.detail


# --- server.nrpt ---------------------------------------------------------------------------


def test_nrpt_caught_name_fails_0x2af9(tmp_path: Path) -> None:
    f = findings([bundle(tmp_path, "nrpt-caught.json", "remoteaccess.json")])["server.nrpt"]
    assert f.status is Status.FAIL
    assert 0x2AF9 in f.predicts
    assert "da.contoso.com falls under the NRPT namespace .contoso.com" in f.detail
    assert "Add-DAClientDnsConfiguration -DnsSuffix 'da.contoso.com'" in f.remediation


def test_nrpt_exemption_passes(tmp_path: Path) -> None:
    f = findings([bundle(tmp_path, "nrpt-exempt.json", "remoteaccess.json")])["server.nrpt"]
    assert f.status is Status.PASS and "exempt" in f.title


def test_nrpt_name_from_url_when_no_remoteaccess(tmp_path: Path) -> None:
    nrpt = bundle(tmp_path, "nrpt-caught.json")
    assert findings([nrpt])["server.nrpt"].status is Status.SKIP  # the name is unknown
    caught = findings([nrpt], url="https://da.contoso.com/IPHTTPS")["server.nrpt"]
    assert caught.status is Status.FAIL
    outside = findings([nrpt], url="https://da.fabrikam.com/IPHTTPS")["server.nrpt"]
    assert outside.status is Status.PASS and "outside" in outside.title


def test_client_nrpt_policy_with_client_iphttps_url(tmp_path: Path) -> None:
    folder = bundle(tmp_path, "nrpt-client.json")
    shutil.copy(FIXTURES / "powershell" / "iphttps-bundle.json", folder / "iphttps.json")
    f = findings([folder])["server.nrpt"]
    assert f.status is Status.FAIL
    assert "Get-DnsClientNrptPolicy" in f.evidence["source"]


# --- server.tls.schannel -------------------------------------------------------------------


def test_tls10_disabled_with_windows7_in_profile_fails(tmp_path: Path) -> None:
    reg = schannel_reg(tmp_path, [protocol_key("TLS 1.0", Enabled=0, DisabledByDefault=1)])
    f = findings([reg], client_os=WINDOWS7)["server.tls.schannel"]
    assert f.status is Status.FAIL
    assert "windows7" in f.title
    assert "no shared protocol version" in f.detail and "TLS 1.0" in f.detail
    assert f.predicts == (0x80090326,)
    # The default profile has no Windows 7 client: the same export passes.
    assert findings([reg])["server.tls.schannel"].status is Status.PASS


def test_tls10_disabled_in_a_real_system_hive_fails_for_windows7(tmp_path: Path) -> None:
    require_hivexregedit()
    pytest.importorskip("regipy")
    text = format_reg_export([protocol_key("TLS 1.0", Enabled=0)])[2:].decode("utf-16-le")
    hive = build_hive(tmp_path / "SYSTEM", text.replace(
        "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet", "HKEY_LOCAL_MACHINE\\SYSTEM\\ControlSet001"),
        "HKEY_LOCAL_MACHINE\\SYSTEM")
    f = findings([hive], client_os=WINDOWS7)["server.tls.schannel"]
    assert f.status is Status.FAIL and "windows7" in f.title


def test_gcm_only_suite_list_leaves_windows7_without_a_suite(tmp_path: Path) -> None:
    suites = RA / "tls-ciphersuites-gcm-only.json"
    f = findings([suites], client_os=WINDOWS7)["server.tls.schannel"]
    assert f.status is Status.FAIL
    assert "no shared cipher suite at TLS 1.0" in f.detail
    assert "Get-TlsCipherSuite" in f.detail
    # Windows 10/11 share ECDHE-RSA-GCM; no null suite in the list is the warning left.
    default = findings([suites])["server.tls.schannel"]
    assert default.status is Status.WARN and "lists no null suite" in default.detail


def test_default_suite_list_with_null_suites_passes_for_every_client(tmp_path: Path) -> None:
    everyone = ("windows7", "windows7-tls12", "windows8.1", "windows10", "windows11")
    f = findings([RA / "tls-ciphersuites-default.json"], client_os=everyone)
    assert f["server.tls.schannel"].status is Status.PASS


def test_fips_mode_warns_null_suites_removed(tmp_path: Path) -> None:
    reg = schannel_reg(tmp_path, [RegKey(FIPS_POLICY, (dword("Enabled", 1),))], "fips.reg")
    f = findings([reg])["server.tls.schannel"]
    assert f.status is Status.WARN and "FIPS mode is on" in f.detail
    off = schannel_reg(tmp_path, [RegKey(FIPS_POLICY, (dword("Enabled", 0),))], "fips.reg")
    assert findings([off])["server.tls.schannel"].status is Status.PASS


def test_null_cipher_switched_off_warns(tmp_path: Path) -> None:
    # As `reg export` of the SCHANNEL key writes it: the key itself, then its subkeys.
    reg = schannel_reg(tmp_path, [RegKey(SCHANNEL_KEY, (dword("EventLogging", 1),)),
                                  RegKey(f"{SCHANNEL_KEY}\\Ciphers", ()),
                                  RegKey(f"{SCHANNEL_KEY}\\Ciphers\\NULL", (dword("Enabled", 0),))])
    f = findings([reg])["server.tls.schannel"]
    assert f.status is Status.WARN and "Ciphers\\null Enabled=0" in f.detail


def test_suite_order_policy_with_curve_names(tmp_path: Path) -> None:
    # Windows Server 2012 R2's Group Policy spelling: ECDHE suites with a curve suffix.
    order = ("TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384_P384,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256_P256,"
             "TLS_RSA_WITH_NULL_SHA256,TLS_RSA_WITH_NULL_SHA")
    reg = schannel_reg(tmp_path, [RegKey(CIPHER_ORDER_POLICY,
                                         (RegValue("Functions", RegType.SZ, encode_sz(order)),))],
                       "cipherorder.reg")
    f = findings([reg], client_os=("windows10", "windows8"))["server.tls.schannel"]
    # Windows 10 shares ECDHE-RSA-GCM; Windows 8.1 only the null suites (it has no
    # ECDHE_RSA GCM suite) - which still is a shared suite for IP-HTTPS.
    assert f.status is Status.PASS
    seven = findings([reg], client_os=WINDOWS7)["server.tls.schannel"]
    assert seven.status is Status.FAIL and "windows7" in seven.title


def test_absent_schannel_keys_are_defaults(tmp_path: Path) -> None:
    # What collect-script writes for keys that do not exist: [-KEY] sections (a fact).
    path = tmp_path / "fips.reg"
    path.write_bytes(f"REGEDIT4\r\n\r\n[-{FIPS_POLICY}]\r\n".encode("ascii"))
    f = findings([path], client_os=WINDOWS7)["server.tls.schannel"]
    assert f.status is Status.PASS


# --- client.adapters, client.system-proxy --------------------------------------------------


def test_ghost_iphttps_adapter_fails_kb2980660(tmp_path: Path) -> None:
    f = findings([RA / "netadapters-ghost.json"])["client.adapters"]
    assert f.status is Status.FAIL
    assert "2 IP-HTTPS adapters" in f.detail and "Not Present" in f.detail
    assert f.predicts == (0x643, 0x34) and "KB 2980660" in f.remediation
    assert findings([RA / "netadapters-ok.json"])["client.adapters"].status is Status.PASS


def connection_settings(flags: int, proxy: str, bypass: str = "") -> bytes:
    out = struct.pack("<III", 0x46, 7, flags)
    for field in (proxy, bypass, ""):
        out += struct.pack("<I", len(field)) + field.encode("ascii")
    return out + b"\0" * 32


def test_winhttp_and_localsystem_proxy_warn(tmp_path: Path) -> None:
    (tmp_path / "winhttp-proxy.txt").write_bytes(
        b"\r\nCurrent WinHTTP proxy settings:\r\n\r\n    Proxy Server(s) :  proxy.contoso.com:8080\r\n"
        b"    Bypass List     :  <local>\r\n\r\n")
    f = findings([tmp_path / "winhttp-proxy.txt"])["client.system-proxy"]
    assert f.status is Status.WARN and "WinHTTP proxy proxy.contoso.com:8080" in f.detail
    assert "netsh winhttp reset proxy" in f.remediation
    direct = tmp_path / "direct.txt"
    direct.write_bytes(b"\r\nCurrent WinHTTP proxy settings:\r\n\r\n    Direct access (no proxy "
                       b"server).\r\n\r\n")
    assert findings([direct])["client.system-proxy"].status is Status.PASS
    reg = schannel_reg(tmp_path, [RegKey(LOCALSYSTEM_CONNECTIONS, (RegValue(
        "DefaultConnectionSettings", RegType.BINARY, connection_settings(0x3, "squid:3128")),))],
        "localsystem-proxy.reg")
    local = findings([reg])["client.system-proxy"]
    assert local.status is Status.WARN and "proxy squid:3128" in local.detail


# --- collect-status.txt --------------------------------------------------------------------


def test_denied_export_makes_its_check_undecided(tmp_path: Path) -> None:
    folder = tmp_path / "b"
    folder.mkdir()
    (folder / "collect-status.txt").write_text(
        "daserver-check collect status 1\r\n"
        "denied export schannel.reg HKLM\\SYSTEM\\CurrentControlSet\\Control\\SecurityProviders"
        "\\SCHANNEL\r\n"
        "absent export fips.reg HKLM\\SYSTEM\\CurrentControlSet\\Control\\Lsa\\FipsAlgorithmPolicy\r\n",
        encoding="ascii")
    f = findings([folder])
    assert f["server.tls.schannel"].status is Status.ERROR
    assert "access denied" in f["server.tls.schannel"].detail
    assert f["server.artifacts"].status is Status.ERROR
