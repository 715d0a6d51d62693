"""cert.crl for a chain, as the profile's clients check it: shared by `probe` and `cert`.

The path comes from the chain builder (leaf, intermediates, the trusted root); every certificate
but the root is checked against its issuer's CRLs, base and delta, fetched over HTTP within the
caller's time budget. Host names in CDP URLs are resolved with the caller's resolvers (the system
resolver only when none is given).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from cryptography import x509

from daserver_check.certs.crl_chain import check_chain_crls, graded_for_clients
from daserver_check.certs.trust import TrustStore
from daserver_check.certs.x509util import is_self_signed
from daserver_check.model import Finding
from daserver_check.profile import Profile


def chain_pairs(chain: Sequence[x509.Certificate],
                trust: TrustStore) -> list[tuple[x509.Certificate, x509.Certificate | None]]:
    """(certificate, issuer) from the leaf up, without the self-signed root."""
    from daserver_check.certs.chain import build_path

    try:
        steps = [step.cert for step in build_path(chain, trust.roots).steps]
    except Exception:
        steps = [chain[0]]
    pairs: list[tuple[x509.Certificate, x509.Certificate | None]] = []
    for i, cert in enumerate(steps):
        if is_self_signed(cert):
            break
        pairs.append((cert, steps[i + 1] if i + 1 < len(steps) else None))
    return pairs or [(chain[0], None)]


def resolver_for(resolvers: tuple[str, ...]) -> Callable[[str, float], tuple[str, ...]]:
    def resolve(host: str, seconds: float) -> tuple[str, ...]:
        # Imported only when a CDP names a host (an IP literal needs no resolver).
        from daserver_check.probe.deadline import Deadline
        from daserver_check.probe.dns import resolve_host

        return resolve_host(host, resolvers, Deadline(seconds)).addresses

    return resolve


def chain_crl_finding(
    chain: Sequence[x509.Certificate],
    trust: TrustStore,
    *,
    offline: bool,
    now: datetime,
    timeout: float,
    resolvers: tuple[str, ...],
    profile: Profile | None,
    address: str | None = None,
    strong_crl_required: bool = False,
) -> Finding:
    import dataclasses

    finding = check_chain_crls(chain_pairs(chain, trust), offline=offline, now=now,
                               timeout=timeout, resolve=resolver_for(resolvers))
    if strong_crl_required:
        pass  # the server makes every client enforce the check: a failure stays a failure
    elif profile is not None:
        finding = graded_for_clients(
            finding, enforced=profile.deployment.has_windows7,
            why=f"the profile {profile.source} has no Windows 7 clients; Windows 8 and 8.1 skip "
            "the IP-HTTPS CRL check unless the server sets StrongCRLRequired, KB 2980672; "
            "Windows 10 and 11 inferred to do the same")
    return dataclasses.replace(finding, address=address) if address else finding
