"""The KB 2980660 DirectAccess server as registry exports, and a healthy one.

`write_bundle` writes the .reg files byte-exact as regedit does (UTF-16LE BOM, CRLF, hex lines
wrapped with `,\\` and two spaces); the committed fixtures under tests/fixtures/server/ are its
output (tests/server/test_fixtures.py keeps them in sync: regenerate with
`python -m tests.server.scenario` from the repository root).
"""

from __future__ import annotations

import uuid
from pathlib import Path

from daserver_check.protocol.reg import RegKey, RegType, RegValue, encode_sz, format_reg_export
from daserver_check.protocol.security_descriptor import sddl_to_bytes, service_sid

FIXTURES = Path(__file__).parents[1] / "fixtures" / "server"
SYS = "HKEY_LOCAL_MACHINE\\SYSTEM\\CurrentControlSet\\Services"
HTTP = SYS + "\\HTTP\\Parameters"
V6T = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\Microsoft\\Windows\\Tcpip\\v6Transition"
SSTP_SID = str(service_sid("SstpSvc"))
IPHTTPS_APP = "5d8e2743-ef20-4d38-8751-7e400f200e65"
OTHER_APP = "4dc3e181-e14b-4a21-b022-59fc669b0914"
GOOD_HASH = "3a5f2bd4c2f2a1e0c9b8a7f6e5d4c3b2a1908f7e"
OTHER_HASH = "0123456789abcdef0123456789abcdef01234567"

BRANCHCACHE = "https://+:443/C574AC30-5794-4AEE-B1BB-6651C5315029/"
SSTP = "https://+:443/sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}/"

KB_RESERVATIONS = {
    "http://+:80/Temporary_Listen_Addresses/": "D:(A;;GX;;;WD)",
    BRANCHCACHE: "D:(A;;GX;;;NS)",
    SSTP: f"D:(A;;GX;;;{SSTP_SID})",
    "https://+:443/IPHTTPS/": "D:(A;;GX;;;NS)",
    "https://da.contoso.com:443/IPHTTPS/": "D:(A;;GX;;;NS)",
}
BROKEN_URL = "https://+:443/broken/"


def binary(name: str, data: bytes) -> RegValue:
    return RegValue(name, RegType.BINARY, data)


def dword(name: str, value: int) -> RegValue:
    return RegValue(name, RegType.DWORD, value.to_bytes(4, "little"))


def sz(name: str, text: str) -> RegValue:
    return RegValue(name, RegType.SZ, encode_sz(text))


def binding(endpoint: str, cert_hash: str, app: str, store: str, flags: int) -> RegKey:
    return RegKey(
        f"{HTTP}\\SslBindingInfo\\{endpoint}",
        (
            binary("SslCertHash", bytes.fromhex(cert_hash)),
            binary("AppId", uuid.UUID(app).bytes_le),
            sz("SslCertStoreName", store),
            dword("DefaultFlags", flags),
        ),
    )


def kb2980660() -> dict[str, list[RegKey]]:
    reservations = [binary(url, sddl_to_bytes(sddl)) for url, sddl in KB_RESERVATIONS.items()]
    # A descriptor cut short: its DACL claims one ACE that is not there.
    reservations.append(binary(BROKEN_URL, sddl_to_bytes("D:(A;;GX;;;NS)")[:30]))
    return {
        "http.reg": [
            RegKey(HTTP, (dword("EnableHttp2Tls", 0),)),
            RegKey(HTTP + "\\SslBindingInfo", ()),
            binding("0.0.0.0:443", GOOD_HASH, IPHTTPS_APP, "MY", 1),
            binding("203.0.113.10:443", OTHER_HASH, OTHER_APP, "My", 0),
            RegKey(HTTP + "\\UrlAclInfo", tuple(reservations)),
        ],
        "tcpip6.reg": [
            RegKey(SYS + "\\Tcpip6\\Parameters", (
                binary("Dhcpv6DUID", bytes.fromhex("000100012a3b4c5d0015" + "5d010203")),
                dword("DisabledComponents", 0xFF),
            )),
        ],
        "proxymgr.reg": [
            RegKey(SYS + "\\iphlpsvc\\Parameters\\ProxyMgr", ()),
            RegKey(SYS + "\\iphlpsvc\\Parameters\\ProxyMgr\\{3E2A5A8B-6C1D-4F2E-9A7B-0C1D2E3F4A5B}",
                   (sz("StaticProxy", "http=proxy.contoso.com:8080"),)),
        ],
        "v6transition.reg": [
            RegKey(V6T, ()),
            RegKey(V6T + "\\IPHTTPS", ()),
            RegKey(V6T + "\\IPHTTPS\\IPHTTPSInterface", (
                sz("IPHTTPS_ClientUrl", "https://da-old.contoso.com:443/IPHTTPS"),
                dword("IPHTTPS_ClientState", 2),
            )),
            RegKey(V6T + "\\IPHTTPSProfiles", ()),
        ],
    }


def healthy() -> dict[str, list[RegKey]]:
    return {
        "http.reg": [
            RegKey(HTTP, ()),
            RegKey(HTTP + "\\SslBindingInfo", ()),
            binding("0.0.0.0:443", GOOD_HASH, IPHTTPS_APP, "MY", 1),
            RegKey(HTTP + "\\UrlAclInfo", (
                binary("http://+:80/Temporary_Listen_Addresses/", sddl_to_bytes("D:(A;;GX;;;WD)")),
            )),
        ],
        "tcpip6.reg": [RegKey(SYS + "\\Tcpip6\\Parameters", (dword("DisabledComponents", 0x20),))],
        "proxymgr.reg": [RegKey(SYS + "\\iphlpsvc\\Parameters\\ProxyMgr", ())],
        "v6transition.reg": [
            RegKey(V6T, ()),
            RegKey(V6T + "\\IPHTTPS", ()),
            RegKey(V6T + "\\IPHTTPS\\IPHTTPSInterface", (
                sz("IPHTTPS_ClientUrl", "https://da.contoso.com:443/IPHTTPS"),
            )),
        ],
    }


HEALTHY_TUNNEL = (
    "\r\nInterface IPHTTPSInterface (Group Policy) Parameters\r\n" + "-" * 60 + "\r\n"
    "Role                       : server\r\n"
    "URL                        : https://da.contoso.com:443/IPHTTPS\r\n"
    "Client authentication mode : certificates\r\n"
    "Last Error Code            : 0x0\r\n"
    "Interface Status           : IPHTTPS interface active\r\n\r\n"
)


def bundles() -> dict[str, dict[str, bytes]]:
    netsh = FIXTURES / "netsh"
    ps = FIXTURES / "powershell"
    bundle = {name: format_reg_export(keys) for name, keys in kb2980660().items()}
    bundle["urlacl.txt"] = (netsh / "urlacl-en.txt").read_bytes()
    bundle["sslcert.txt"] = (netsh / "sslcert-en.txt").read_bytes()
    bundle["httpstunnel.txt"] = (netsh / "httpstunnel-server-643.txt").read_bytes()
    bundle["iphttps.json"] = (ps / "iphttps-bundle.json").read_bytes()
    good = {name: format_reg_export(keys) for name, keys in healthy().items()}
    good["httpstunnel.txt"] = HEALTHY_TUNNEL.encode("ascii")
    return {"kb2980660": bundle, "healthy": good}


def hive_text(files: list[bytes], system: bool) -> str:
    """The .reg text hivexregedit merges into an empty hive: CurrentControlSet is a link that
    exists only in a running system, so a SYSTEM hive gets ControlSet001 and Select\\Current."""
    from daserver_check.protocol.reg import decode_text

    body = []
    for data in files:
        text = decode_text(data)
        body.append(text.split("\r\n", 1)[1])
    out = "Windows Registry Editor Version 5.00\r\n\r\n" + "".join(body)
    if system:
        out = out.replace("\\SYSTEM\\CurrentControlSet\\", "\\SYSTEM\\ControlSet001\\")
        out += "[HKEY_LOCAL_MACHINE\\SYSTEM\\Select]\r\n\"Current\"=dword:00000001\r\n\r\n"
    return out


def write_bundles(root: Path = FIXTURES) -> None:
    for bundle, files in bundles().items():
        (root / bundle).mkdir(parents=True, exist_ok=True)
        for name, data in files.items():
            (root / bundle / name).write_bytes(data)


if __name__ == "__main__":
    write_bundles()
