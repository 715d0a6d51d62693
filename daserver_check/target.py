"""IP-HTTPS URL parsing and validation (`target.url`, `target.ip-literal`).

The URL is the ConnectTo address the client receives by Group Policy, e.g.
`https://da.contoso.com/IPHTTPS` ([MS-IPHTTPS] §3.1.5.2). Only https is valid: the protocol has
no security of its own and relies on TLS (§1.4).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from daserver_check.errors import DaserverCheckError

MAX_URL_LENGTH = 2048
DEFAULT_PORT = 443


class TargetError(DaserverCheckError, ValueError):
    """The URL cannot be probed: an input problem, not a server verdict."""


@dataclass(frozen=True, slots=True)
class IphttpsUrl:
    url: str
    host: str  # lower-case; A-labels (punycode) for internationalised names; no brackets
    port: int
    path: str  # always starts with "/"
    ip_literal: bool

    @property
    def sni(self) -> str | None:
        """The TLS server name: RFC 6066 §3 allows host names only, never IP literals."""
        return None if self.ip_literal else self.host

    @property
    def host_header(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == DEFAULT_PORT else f"{host}:{self.port}"


def parse_iphttps_url(url: str) -> IphttpsUrl:
    """Validate an IP-HTTPS URL; raises TargetError with a one-line reason."""
    if len(url) > MAX_URL_LENGTH:
        raise TargetError(f"URL longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise TargetError("URL contains whitespace or control characters")
    if "://" not in url:
        raise TargetError(f"no scheme: write it as https://{url or 'da.contoso.com/IPHTTPS'}")
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise TargetError(f"not a valid URL: {exc}") from None
    if parts.scheme.lower() != "https":
        raise TargetError(
            f"scheme {parts.scheme!r} is not https: IP-HTTPS always runs over TLS"
        )
    if parts.username is not None or parts.password is not None:
        raise TargetError("user information (user:password@) does not belong in an IP-HTTPS URL")
    try:
        explicit_port = parts.port
    except ValueError:
        raise TargetError(f"bad port in {parts.netloc!r}: must be a number 1-65535") from None
    port = DEFAULT_PORT if explicit_port is None else explicit_port
    if port == 0:
        raise TargetError("bad port 0: must be a number 1-65535")
    raw_host = parts.hostname or ""
    if not raw_host:
        raise TargetError("empty host")
    host, ip_literal = _normalise_host(raw_host)
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return IphttpsUrl(url=url, host=host, port=port, path=path, ip_literal=ip_literal)


def _normalise_host(raw: str) -> tuple[str, bool]:
    try:
        return str(ipaddress.ip_address(raw)), True
    except ValueError:
        pass
    host = raw.rstrip(".").lower()
    if not host:
        raise TargetError("empty host")
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise TargetError(f"host {raw!r} is not a valid DNS name") from None
    if len(ascii_host) > 253:
        raise TargetError("host name longer than 253 characters")
    for label in ascii_host.split("."):
        if not label or len(label) > 63:
            raise TargetError(f"host {raw!r} has an empty or over-long label")
        if not all(ch.isalnum() or ch in "-_" for ch in label):
            raise TargetError(f"host {raw!r} contains characters not allowed in a DNS name")
    return ascii_host, False
