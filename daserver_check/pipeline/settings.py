"""What a probe needs besides the URL: the profile, deadline, resolvers, route and trust store.

`probe` builds these from its options; `checklist` and `exporter` from a profile alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from daserver_check.errors import InputError

if TYPE_CHECKING:
    from daserver_check.certs.trust import TrustStore
    from daserver_check.probe.proxy import ProxySpec
    from daserver_check.profile import Profile

@dataclass(frozen=True)
class ProbeSettings:
    profile: Profile
    timeout: float
    resolvers: tuple[str, ...]
    connect: tuple[str, int | None] | None
    trust: TrustStore
    # Opt-in RS -> RA after the POST; the profile's iphttps.router_discovery also turns it on.
    router_discovery: bool = False
    # Tunnel every connection through this HTTP proxy with CONNECT.
    proxy: ProxySpec | None = None
    # Opt-in: map every protocol version x suite the server accepts (tls.ciphers).
    ciphers: bool = False
    # Do not fetch CRLs (cert.crl is skipped, saying so).
    offline: bool = False
    # A server bundle showed StrongCRLRequired: every client enforces the CRL check.
    strong_crl_required: bool = False

    @property
    def wants_router_discovery(self) -> bool:
        return self.router_discovery or self.profile.iphttps.router_discovery


def settings_for_profile(profile: Profile) -> ProbeSettings:
    from daserver_check.certs.trust import TrustStoreError, load_trust_store
    from daserver_check.profile import resolve_relative

    try:
        trust = load_trust_store(resolve_relative(profile, profile.cert.ca_file) or None)
    except TrustStoreError as exc:
        raise InputError(f"profile {profile.source}: cert.ca_file: {exc}") from None
    proxy = None
    if profile.proxy.url:
        from daserver_check.probe.proxy import ProxySpecError, parse_proxy_url

        try:
            proxy = parse_proxy_url(profile.proxy.url)
        except ProxySpecError as exc:
            raise InputError(f"profile {profile.source}: proxy.url: {exc}") from None
    return ProbeSettings(
        profile=profile,
        timeout=profile.probe.timeout,
        resolvers=profile.dns.resolvers,
        connect=None,
        trust=trust,
        proxy=proxy,
    )
