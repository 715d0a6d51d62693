"""The proxy settings IP-HTTPS can meet on a client: `netsh winhttp show proxy` text, and the
WinINet connection-settings blob (`DefaultConnectionSettings`) of the LocalSystem account.

The IP Helper service, which hosts IP-HTTPS, runs as LocalSystem; a proxy set for WinHTTP or
for LocalSystem's Internet settings is one the client may send IP-HTTPS through (Hicks,
"Troubleshooting DirectAccess IP-HTTPS Error 0x2af9"; KB 2980635 names a blocking proxy as a
cause of 0x2AF9/0x2AFC).

The blob's layout is not documented by Microsoft; it is read as widely described (inferred):
DWORD version, DWORD change counter, DWORD flags, then three length-prefixed ANSI strings —
proxy server, bypass list, auto-configuration URL. The flag bits are wininet.h's
PROXY_TYPE_DIRECT (1), PROXY_TYPE_PROXY (2), PROXY_TYPE_AUTO_PROXY_URL (4) and
PROXY_TYPE_AUTO_DETECT (8).

The netsh text is localized; it is read by its shape (inferred): a header line naming WinHTTP,
then either one sentence (direct access) or "label : value" lines, proxy server first, bypass
list second.

Sans-IO; errors raise `ProxySettingsError` with the offset.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from daserver_check.errors import DaserverCheckError

MAX_BLOB = 64 * 1024
MAX_TEXT = 64 * 1024
MAX_FIELD = 4096

PROXY_TYPE_DIRECT = 0x1
PROXY_TYPE_PROXY = 0x2
PROXY_TYPE_AUTO_PROXY_URL = 0x4
PROXY_TYPE_AUTO_DETECT = 0x8


class ProxySettingsError(DaserverCheckError, ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(f"{message} (offset {offset})")
        self.offset = offset


@dataclass(frozen=True, slots=True)
class ProxySettings:
    """A proxy configuration: `proxy` set means traffic goes through it (unless bypassed)."""

    flags: int | None
    proxy: str | None
    bypass: str | None
    autoconfig_url: str | None = None

    @property
    def uses_proxy(self) -> bool:
        if self.flags is None:  # netsh text: a proxy line is the only signal
            return bool(self.proxy)
        return bool(self.flags & PROXY_TYPE_PROXY and self.proxy)

    @property
    def uses_autoconfig(self) -> bool:
        return self.flags is not None and bool(
            self.flags & PROXY_TYPE_AUTO_PROXY_URL and self.autoconfig_url
        )

    @property
    def auto_detect(self) -> bool:
        return self.flags is not None and bool(self.flags & PROXY_TYPE_AUTO_DETECT)


def parse_connection_settings(data: bytes) -> ProxySettings:
    if len(data) > MAX_BLOB:
        raise ProxySettingsError(f"blob larger than {MAX_BLOB} bytes", MAX_BLOB)
    if len(data) < 12:
        raise ProxySettingsError("blob shorter than its 12-byte header", len(data))
    _version, _counter, flags = struct.unpack_from("<III", data, 0)
    offset = 12
    fields: list[str | None] = []
    for what in ("proxy server", "bypass list", "auto-configuration URL"):
        if offset + 4 > len(data):
            if what == "proxy server":
                raise ProxySettingsError(f"no length for the {what}", offset)
            fields.append(None)
            continue
        (length,) = struct.unpack_from("<I", data, offset)
        offset += 4
        if length > MAX_FIELD or offset + length > len(data):
            raise ProxySettingsError(f"{what} length {length} runs past the blob", offset - 4)
        raw = data[offset : offset + length]
        offset += length
        fields.append(raw.decode("latin-1").strip("\0 ") or None)
    return ProxySettings(flags, fields[0], fields[1], fields[2])


def looks_like_winhttp(text: str) -> bool:
    head = text.lstrip("\ufeff \t\r\n")[:300]
    return "winhttp" in head.casefold()


def parse_winhttp_text(text: str) -> ProxySettings:
    """`netsh winhttp show proxy` (any display language, read by shape)."""
    if len(text) > MAX_TEXT:
        raise ProxySettingsError(f"text longer than {MAX_TEXT} characters", MAX_TEXT)
    if not looks_like_winhttp(text):
        raise ProxySettingsError("no WinHTTP header line", 0)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    values: list[str] = []
    for line in lines[1:]:
        label, sep, value = line.partition(":")
        # "Proxy Server(s) :  host:port": the label has no colon of its own; a value may.
        if sep and label.strip() and value.strip():
            values.append(value.strip()[:MAX_FIELD])
    if not values:
        return ProxySettings(None, None, None)
    bypass = values[1] if len(values) > 1 else None
    return ProxySettings(None, values[0], bypass)
