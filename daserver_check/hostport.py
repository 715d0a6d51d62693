"""`HOST[:PORT]` as users write it on command lines and in profiles, and back again.

One rule for every option and profile key (--connect, --resolver, --listen, entry points):
`192.0.2.1`, `192.0.2.1:443`, `[2001:db8::1]`, `[2001:db8::1]:443`, or a bare IPv6 address
(whose port then needs the bracket form: several colons cannot separate one). A port is ASCII
digits only: `str.isdigit` also accepts `²` or Arabic-Indic digits, which `int` then rejects
or reads as another number.
"""

from __future__ import annotations

import ipaddress

from daserver_check.errors import DaserverCheckError

MAX_SPEC_LENGTH = 300


class HostPortError(DaserverCheckError, ValueError):
    """One-line reason, without the caller's option name (the caller adds it)."""


def split_host_port(text: str) -> tuple[str, str | None]:
    """Split into host and port text (None when there is no port). Brackets are removed."""
    if len(text) > MAX_SPEC_LENGTH:
        raise HostPortError(f"longer than {MAX_SPEC_LENGTH} characters")
    if text.startswith("["):
        close = text.find("]")
        if close < 0:
            raise HostPortError("missing ']' after the IPv6 address")
        host, rest = text[1:close], text[close + 1 :]
        if not rest:
            return host, None
        if not rest.startswith(":"):
            raise HostPortError(f"unexpected {rest!r} after ']' (write [ADDRESS]:PORT)")
        return host, rest[1:]
    if text.count(":") == 1:
        # One colon cannot be IPv6 (which needs at least two), so it separates host and port.
        host, port = text.split(":")
        return host, port
    return text, None


def parse_port(text: str, *, allow_zero: bool = False) -> int:
    low = 0 if allow_zero else 1
    if not (text.isascii() and text.isdigit() and len(text) <= 5 and low <= int(text) <= 65535):
        raise HostPortError(f"bad port {text!r} (a number {low}-65535)")
    return int(text)


def parse_ip_port(text: str, *, allow_port_zero: bool = False) -> tuple[str, int | None]:
    """An IP literal and an optional port; the address comes back in canonical form."""
    host, port_text = split_host_port(text.strip())
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise HostPortError(f"{host!r} is not an IP address") from None
    port = None if port_text is None else parse_port(port_text, allow_zero=allow_port_zero)
    return str(address), port


def parse_listen(
    text: str, *, loopback_only: bool = False, default_port: int | None = None
) -> tuple[str, int]:
    """`IP[:PORT]` for a server to bind (port 0 = any free port; `localhost` = 127.0.0.1)."""
    host, port_text = split_host_port(text.strip())
    if host in ("", "localhost"):
        host = "127.0.0.1"
    try:
        address = str(ipaddress.ip_address(host))
    except ValueError:
        raise HostPortError(f"{host!r} is not an IP address") from None
    if port_text is None:
        if default_port is None:
            raise HostPortError("expected IP:PORT, e.g. 127.0.0.1:9798")
        port = default_port
    else:
        port = parse_port(port_text, allow_zero=True)
    if loopback_only and not ipaddress.ip_address(address).is_loopback:
        raise HostPortError("loopback addresses only (127.0.0.0/8 or ::1)")
    return address, port


def join_host_port(host: str, port: int) -> str:
    """The inverse of `split_host_port`: IPv6 addresses get brackets so the port stays apart."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
