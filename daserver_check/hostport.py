"""`HOST[:PORT]` as users write it on command lines and in profiles.

One parser for --connect, --resolver, --listen and profile entries:
`192.0.2.1`, `192.0.2.1:443`, `[2001:db8::1]`, `[2001:db8::1]:443`, or a bare IPv6 address
(whose port then needs the bracket form: several colons cannot separate one).
"""

from __future__ import annotations

import ipaddress


class HostPortError(ValueError):
    """One-line reason, without the caller's option name (the caller adds it)."""


def split_host_port(text: str) -> tuple[str, str | None]:
    """Split into host and port text (None when there is no port). Brackets are removed."""
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
    if not text.isdigit() or not low <= int(text) <= 65535:
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
