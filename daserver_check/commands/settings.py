"""Probe settings taken from a profile alone (checklist, exporter)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from daserver_check.errors import InputError

if TYPE_CHECKING:
    from daserver_check.commands.probe_engine import ProbeSettings
    from daserver_check.profile import Profile


def settings_for_profile(profile: Profile) -> ProbeSettings:
    from daserver_check.certs.trust import TrustStoreError, load_trust_store
    from daserver_check.commands.probe_engine import ProbeSettings
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
