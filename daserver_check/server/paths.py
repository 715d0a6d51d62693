"""Registry locations the server checks read (docs/windows-facts.md §5, §7; KB 2980660, KB 2980635).

Paths are written the way `reg export` writes them (`HKEY_LOCAL_MACHINE\\…\\CurrentControlSet…`);
`normalize_key` makes the .reg, hive and live sources agree on one spelling.
"""

from __future__ import annotations

import re

HKLM = "HKEY_LOCAL_MACHINE"
HTTP_PARAMETERS = HKLM + r"\SYSTEM\CurrentControlSet\Services\HTTP\Parameters"
URLACL_KEY = HTTP_PARAMETERS + r"\UrlAclInfo"  # one REG_BINARY per reservation (§5)
SSL_BINDING_KEY = HTTP_PARAMETERS + r"\SslBindingInfo"  # subkeys named IP:port (§5)
SSL_SNI_BINDING_KEY = HTTP_PARAMETERS + r"\SslSniBindingInfo"  # subkeys named host:port
TCPIP6_PARAMETERS = HKLM + r"\SYSTEM\CurrentControlSet\Services\Tcpip6\Parameters"
DISABLED_COMPONENTS = "DisabledComponents"  # KB 929852
V6TRANSITION = HKLM + r"\SOFTWARE\Policies\Microsoft\Windows\Tcpip\v6Transition"
IPHTTPS_POLICY_KEYS = (V6TRANSITION + r"\IPHTTPS", V6TRANSITION + r"\IPHTTPSProfiles")  # KB 2980660
PROXYMGR_KEY = HKLM + r"\SYSTEM\CurrentControlSet\Services\iphlpsvc\Parameters\ProxyMgr"  # KB 2980635

# Schannel's protocol and cipher switches (Learn: "TLS, DTLS, and SSL protocol version settings",
# "TLS registry settings"), the cipher-suite order Group Policy writes (Learn: "Prioritizing
# Schannel Cipher Suites": SSL Cipher Suite Order, value `Functions`), and the FIPS policy
# (Learn: "System cryptography: Use FIPS compliant algorithms ...", value `Enabled`).
SCHANNEL_KEY = HKLM + r"\SYSTEM\CurrentControlSet\Control\SecurityProviders\SCHANNEL"
SCHANNEL_PROTOCOLS = SCHANNEL_KEY + r"\Protocols"
SCHANNEL_CIPHERS = SCHANNEL_KEY + r"\Ciphers"
SCHANNEL_KEY_EXCHANGE = SCHANNEL_KEY + r"\KeyExchangeAlgorithms"
CIPHER_ORDER_POLICY = HKLM + r"\SOFTWARE\Policies\Microsoft\Cryptography\Configuration\SSL\00010002"
FIPS_POLICY = HKLM + r"\SYSTEM\CurrentControlSet\Control\Lsa\FipsAlgorithmPolicy"
# The LocalSystem account's Internet settings (the IP Helper service runs as LocalSystem).
LOCALSYSTEM_CONNECTIONS = (
    r"HKEY_USERS\S-1-5-18\Software\Microsoft\Windows\CurrentVersion\Internet Settings\Connections"
)

# The keys collect-script exports, one file each (reg export takes one key per call).
EXPORTED_KEYS = (
    ("http.reg", HKLM + r"\SYSTEM\CurrentControlSet\Services\HTTP\Parameters"),
    ("tcpip6.reg", TCPIP6_PARAMETERS),
    ("v6transition.reg", V6TRANSITION),
    ("proxymgr.reg", PROXYMGR_KEY),
    ("schannel.reg", SCHANNEL_KEY),
    ("cipherorder.reg", CIPHER_ORDER_POLICY),
    ("fips.reg", FIPS_POLICY),
)

# What `collect-script --client` exports (KB 2980660's client side: DisabledComponents, the
# IP-HTTPS policy keys; KB 2980635's ProxyMgr; the LocalSystem proxy).
CLIENT_EXPORTED_KEYS = (
    ("tcpip6.reg", TCPIP6_PARAMETERS),
    ("v6transition.reg", V6TRANSITION),
    ("proxymgr.reg", PROXYMGR_KEY),
    ("localsystem-proxy.reg", LOCALSYSTEM_CONNECTIONS),
)

# IP-HTTPS binds its certificate with this application id (KB 973982, docs/windows-facts.md §5).
IPHTTPS_APP_ID = "{5d8e2743-ef20-4d38-8751-7e400f200e65}"

_ROOTS = {"HKLM": HKLM, "HKEY_LOCAL_MACHINE": HKLM, "HKU": "HKEY_USERS"}
_CONTROL_SET = re.compile(r"\\ControlSet\d{3}(?=\\|$)", re.IGNORECASE)


def normalize_key(path: str) -> str:
    """Upper-case root, `HKLM` spelled out, `ControlSetNNN` read as `CurrentControlSet`, no
    trailing backslash; compare the result case-insensitively (`casefold`)."""
    path = path.strip().rstrip("\\")
    root, sep, rest = path.partition("\\")
    root = _ROOTS.get(root.upper(), root.upper())
    path = root + sep + rest
    return _CONTROL_SET.sub(r"\\CurrentControlSet", path, count=1)


def key_id(path: str) -> str:
    return normalize_key(path).casefold()
