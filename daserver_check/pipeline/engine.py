"""The probe pipeline for one URL: wires the I/O stages, the checks and the cert analysis.

Every address runs concurrently; inside one address the encrypted handshake (which is also the
connection the POST uses) and the null-only handshake run concurrently. Everything shares one
deadline, so a silent or drip-feeding server costs one `--timeout`, not one per step.

Over 400 lines because a probe's route (direct or through a proxy) is one sequence: client
handshakes, TCP, both handshakes, certificate analysis, POST, router discovery.
"""

from __future__ import annotations

import dataclasses
import functools
import socket
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from OpenSSL import SSL

from daserver_check.certs.analysis import CertPolicy, analyse_chain
from daserver_check.checks.addresses import (
    entry_point_summary,
    entry_points_finding,
    entry_points_skipped,
)
from daserver_check.checks.common import dns_skipped, skipped, skipped_stages
from daserver_check.checks.iphttps import iphttps_findings
from daserver_check.checks.target import target_findings, url_error
from daserver_check.checks.tcp import tcp_finding
from daserver_check.checks.tls import tls_findings
from daserver_check.checks.tls_clients import (
    CLIENT_IDS,
    client_finding,
    client_ids,
    clients_for,
    with_null_clients,
)
from daserver_check.findings import STAGE_IDS, FindingId
from daserver_check.model import Finding, Status, TargetReport, guarded, guarded_stage
from daserver_check.pipeline.settings import ProbeSettings
from daserver_check.probe import iphttps, tcp, tls
from daserver_check.probe.client_handshake import run_clients
from daserver_check.probe.deadline import Deadline
from daserver_check.target import IphttpsUrl, TargetError, parse_iphttps_url

if TYPE_CHECKING:
    # Proxy and router discovery are opt-in: their modules load only when a probe uses them.
    from daserver_check.probe.proxy import ConnectResult, ProxySpec
    from daserver_check.probe.router_discovery import RouterDiscoveryResult

# Time kept back from the deadline for closing sockets and building the report.
_MARGIN = 0.05
# How long past the deadline a helper thread may take to hand its result back: its own I/O
# honours the deadline, so this only covers returning (tests allow a whole second on top).
_JOIN_GRACE = 0.25



def probe_url(url: str, settings: ProbeSettings) -> TargetReport:
    started = time.monotonic()
    report = _probe_url(url, settings)
    return dataclasses.replace(report, duration_ms=int((time.monotonic() - started) * 1000))


def _probe_url(url: str, settings: ProbeSettings) -> TargetReport:
    try:
        target = parse_iphttps_url(url)
    except TargetError as exc:
        return TargetReport(url, (url_error(url, str(exc)),))
    deadline = Deadline(max(0.0, settings.timeout - _MARGIN))
    findings = target_findings(target)
    addresses, dns_part = _addresses(target, settings, deadline)
    findings.extend(dns_part)
    port = settings.connect[1] if settings.connect and settings.connect[1] else target.port
    if settings.proxy is not None:
        findings.extend(_probe_via_proxy(target, addresses, port, settings, deadline))
        return TargetReport(url, tuple(findings))
    # A name with thousands of addresses: probe the ones a client would try (probe.dns).
    addresses, not_probed = _to_probe(addresses)
    if not addresses:
        findings.extend(
            skipped_stages(("tcp", "tls", "cert", "iphttps"), "no address resolved", None)
        )
        if settings.wants_router_discovery:
            from daserver_check.checks.router_discovery import prefix_skipped

            findings.append(prefix_skipped("no address resolved", None))
        return TargetReport(url, tuple(findings))
    crls = CrlMemo()  # one CRL check per served chain, however many addresses serve it
    if len(addresses) == 1:
        per_address = [probe_address(target, addresses[0], port, settings, deadline, crls)]
    else:
        workers = min(len(addresses), settings.profile.probe.concurrency)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="addr") as pool:
            per_address = list(
                pool.map(
                    lambda a: probe_address(target, a, port, settings, deadline, crls),
                    addresses,
                )
            )
    for part in per_address:
        findings.extend(part)
    if len(addresses) > 1:
        summary = entry_point_summary(list(zip(addresses, per_address, strict=True)))
        findings.append(_with_not_probed(summary, not_probed))
    return TargetReport(url, tuple(findings))


# How many of the addresses left out the entry-point summary lists by name (the count is whole).
_NOT_PROBED_LISTED = 32


def _to_probe(addresses: list[str]) -> tuple[list[str], tuple[str, ...]]:
    from daserver_check.probe.dns import addresses_to_probe

    probed, rest = addresses_to_probe(addresses)
    return list(probed), rest


def _with_not_probed(summary: Finding, not_probed: tuple[str, ...]) -> Finding:
    if not not_probed:
        return summary
    listed = list(not_probed[:_NOT_PROBED_LISTED])
    more = len(not_probed) - len(listed)
    return dataclasses.replace(
        summary,
        detail=f"{summary.detail}. {len(not_probed)} more addresses were not probed: a client "
        "tries the first ones (IPv4 before IPv6, in the resolver's order; inferred), so only "
        "those were probed",
        evidence={**summary.evidence, "not_probed": listed,
                  "not_probed_count": len(not_probed),
                  **({"not_probed_unlisted": more} if more else {})},
    )


def _addresses(
    target: IphttpsUrl, settings: ProbeSettings, deadline: Deadline
) -> tuple[list[str], list[Finding]]:
    entry_points = settings.profile.deployment.entry_points
    if target.ip_literal:
        reason = "the URL host is an IP address"
        return [settings.connect[0] if settings.connect else target.host], dns_skipped(
            reason
        ) + ([entry_points_skipped(reason)] if entry_points else [])
    if settings.connect and not settings.resolvers:
        reason = "address given by --connect"
        return [settings.connect[0]], dns_skipped(reason) + (
            [entry_points_skipped(reason)] if entry_points else [])
    from daserver_check.probe.dns import DNS_SHARE, resolve_host

    # The dns stage gets a share of the time; a silent resolver must leave TCP, TLS and the
    # POST their own budget.
    result = resolve_host(target.host, settings.resolvers,
                          deadline.sub(deadline.remaining() * DNS_SHARE))
    from daserver_check.checks.dns import dns_findings

    found = dns_findings(result, allow_private=settings.profile.dns.allow_private)
    if entry_points:
        # The public name against the deployment's entry points: the behind-edge NAT check.
        found.append(entry_points_finding(result.addresses, entry_points) if result.addresses
                     else entry_points_skipped("no address resolved"))
    if settings.connect:
        return [settings.connect[0]], found
    return list(result.addresses), found


@dataclass(frozen=True)
class _Route:
    """How one probed address is reached: directly, or through the proxy with CONNECT."""

    address: str  # the label of the findings: an IP, or the URL host through a proxy
    port: int
    proxy: ProxySpec | None = None

    def open(self, deadline: Deadline) -> tuple[tcp.TcpResult | None, ConnectResult | None,
                                                socket.socket | None]:
        if self.proxy is None:
            tcp_result, sock = tcp.connect(self.address, self.port, deadline)
            return tcp_result, None, sock
        from daserver_check.probe.proxy import authority, open_tunnel

        return open_tunnel(self.proxy, authority(self.address, self.port), deadline)


@dataclass
class _Handshake:
    result: tls.TlsResult
    conn: SSL.Connection | None = None
    sock: socket.socket | None = None

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()


def _null_handshake(target: IphttpsUrl, route: _Route, deadline: Deadline) -> _Handshake:
    """Runs in its own thread: whatever goes wrong must come back as a result, never escape."""
    try:
        return _null_handshake_unguarded(target, route, deadline)
    except Exception as exc:  # a thread's exception would be lost, and print a traceback
        return _Handshake(
            tls.TlsResult(tls.TlsMode.NULL_ONLY, tls.TlsOutcome.ERROR,
                          f"null-only handshake could not be completed: {type(exc).__name__}: {exc}")
        )


def _null_handshake_unguarded(target: IphttpsUrl, route: _Route, deadline: Deadline) -> _Handshake:
    tcp_result, connect_result, sock = route.open(deadline)
    if sock is None:
        why = connect_result.detail if connect_result is not None else (
            tcp_result.detail if tcp_result is not None else "no connection")
        return _Handshake(
            tls.TlsResult(tls.TlsMode.NULL_ONLY, tls.TlsOutcome.ERROR,
                          f"second TCP connection failed: {why}")
        )
    result, conn = tls.handshake(sock, target.sni, tls.TlsMode.NULL_ONLY, deadline)
    return _Handshake(result, conn, sock)


_SHA256 = hashes.SHA256()

# Every finding one address reports; a crash in the route's orchestration errors them all.
_ROUTE_IDS = (*STAGE_IDS["tcp"], *STAGE_IDS["tls"], *STAGE_IDS["cert"], *STAGE_IDS["iphttps"])


class CrlMemo:
    """The cert.crl verdict per served chain within one probe: every address of a name
    usually serves the same chain, and its CRLs are fetched once, not once per address."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[tuple[bytes, ...], tuple[threading.Lock, list[Finding]]] = {}

    def get(self, chain: Sequence[x509.Certificate], address: str,
            compute: Callable[[], Finding]) -> Finding:
        key = tuple(cert.fingerprint(_SHA256) for cert in chain)
        with self._lock:
            slot = self._slots.setdefault(key, (threading.Lock(), []))
        lock, done = slot
        with lock:  # a second address waits for the first's fetch (bounded by its deadline)
            if not done:
                done.append(compute())
        return dataclasses.replace(done[0], address=address)


def probe_address(
    target: IphttpsUrl, address: str, port: int, settings: ProbeSettings, deadline: Deadline,
    crls: CrlMemo | None = None,
) -> list[Finding]:
    memo = crls or CrlMemo()
    return guarded_stage(
        _ROUTE_IDS,
        lambda: _probe_route(target, _Route(address, port), settings, deadline, crls=memo),
        address=address,
    )


def _probe_route(
    target: IphttpsUrl,
    route: _Route,
    settings: ProbeSettings,
    deadline: Deadline,
    *,
    on_chain: Callable[[ConnectResult | None, tuple[x509.Certificate, ...]], list[Finding]]
    | None = None,
    crls: CrlMemo | None = None,
) -> list[Finding]:
    """tcp (or proxy CONNECT) -> both handshakes -> cert -> POST (-> RS/RA) for one route.

    `on_chain` (proxy mode) turns the first CONNECT's result and the served chain into findings;
    it is called once, with the chain that came through (empty when none did).
    """
    profile = settings.profile
    address = route.address
    wants_rd = settings.wants_router_discovery
    client_findings = _client_handshakes(target, route, profile.deployment.client_os, deadline)
    tcp_result, connect_result, sock = route.open(deadline)
    findings: list[Finding] = []
    if route.proxy is None and tcp_result is not None:
        findings.append(guarded(FindingId.TCP_CONNECT, lambda: tcp_finding(tcp_result),
                                address=address))
    elif tcp_result is not None and tcp_result.outcome is tcp.TcpOutcome.CONNECTED:
        findings.append(_relabel_tcp(tcp_finding(tcp_result), route))
    else:
        # Not reaching the proxy is the proxy's finding (proxy.connect), not the server's.
        findings.extend(skipped((FindingId.TCP_CONNECT,), "no connection to the proxy (see "
                                "proxy.connect)", address))
    if sock is None:
        if connect_result is not None and tcp_result is not None and tcp_result.outcome is (
            tcp.TcpOutcome.CONNECTED
        ):
            reason = f"the proxy did not open the tunnel ({connect_result.outcome.value})"
        else:
            reason = "no TCP connection"
        findings.extend(skipped_stages(("tls", "cert", "iphttps"), reason, address))
        findings.extend(client_findings)
        if wants_rd:
            from daserver_check.checks.router_discovery import prefix_skipped

            findings.append(prefix_skipped(reason, address))
        if on_chain is not None:
            findings.extend(on_chain(connect_result, ()))
        return findings

    null_box: list[_Handshake] = []
    null_thread = threading.Thread(
        target=lambda: null_box.append(_null_handshake(target, route, deadline)),
        name=f"null-{address}",
        daemon=True,
    )
    null_thread.start()
    enc_result, enc_conn = tls.handshake(sock, target.sni, tls.TlsMode.ENCRYPTED, deadline)
    encrypted = _Handshake(enc_result, enc_conn, sock)
    post_result: iphttps.PostResult | None = None
    rd_result: RouterDiscoveryResult | None = None
    null = _Handshake(
        tls.TlsResult(tls.TlsMode.NULL_ONLY, tls.TlsOutcome.TIMED_OUT, "no result in time")
    )
    try:
        # POST on the encrypted connection (the Windows 7 path) and close it before waiting
        # for the null-only handshake: a server that serves one connection at a time would
        # otherwise hold the second handshake until the deadline. Router discovery, when
        # asked for, runs on the same connection right after a 200, and closes it after the RA.
        if encrypted.conn is not None:
            post_result, rd_result = _post(target, encrypted, deadline, wants_rd)
        encrypted.close()
        null_thread.join(deadline.remaining() + _JOIN_GRACE)
        if null_box:
            null = null_box[0]
        if post_result is None and null.conn is not None:
            post_result, rd_result = _post(target, null, deadline, wants_rd)
    finally:
        encrypted.close()
        null.close()
    findings.extend(with_null_clients(guarded_stage(
        STAGE_IDS["tls"],
        lambda: tls_findings(
            encrypted.result,
            null.result,
            address=address,
            windows7_clients=profile.deployment.has_windows7,
            require_null_cipher=profile.tls.require_null_cipher,
            certificate_auth=profile.deployment.auth_mode == "certificates",
        ),
        address=address,
    ), client_findings))
    if tls.TlsOutcome.OK not in (encrypted.result.outcome, null.result.outcome):
        # No handshake at all: tls.handshake says why, for every client. The per-client
        # findings speak only where the server talks TLS to someone but not to that client.
        client_findings = [
            dataclasses.replace(f, status=Status.SKIP, predicts=(),
                                detail="skipped: no TLS handshake at all (see tls.handshake)")
            if f.status in (Status.FAIL, Status.WARN) else f for f in client_findings]
    findings.extend(client_findings)
    chain = encrypted.result.peer_chain or null.result.peer_chain
    if chain:
        findings.extend(
            analyse_chain(
                chain,
                target.host,
                trust=settings.trust,
                policy=CertPolicy(profile.cert.warn_days, profile.cert.crit_days),
                address=address,
            )
        )
        findings.append(_served_crl(chain, settings, deadline, address, crls or CrlMemo()))
    else:
        findings.extend(
            skipped_stages(("cert",), "the server sent no certificate (no TLS handshake)", address)
        )
        findings.extend(skipped((FindingId.CERT_CRL,), "the server sent no certificate", address))
    if post_result is not None:
        answered = post_result
        findings.extend(guarded_stage(
            STAGE_IDS["iphttps"],
            lambda: iphttps_findings(answered, path=target.path, address=address),
            address=address,
        ))
    else:
        findings.extend(skipped(STAGE_IDS["iphttps"], "no TLS handshake", address))
    if wants_rd:
        if rd_result is not None:
            advertised = rd_result
            findings.append(guarded(FindingId.IPHTTPS_PREFIX,
                                    lambda: _prefix_finding(advertised, address),
                                    address=address))
        else:
            from daserver_check.checks.router_discovery import prefix_skipped

            findings.append(prefix_skipped("the POST was not answered with 200", address))
    if settings.ciphers:
        findings.append(_cipher_map(target, route, deadline))
    if on_chain is not None:
        findings.extend(on_chain(connect_result, tuple(chain)))
    return findings


def _cipher_map(target: IphttpsUrl, route: _Route, deadline: Deadline) -> Finding:
    """The opt-in version x suite map, after the probe's own connections have closed."""
    if route.proxy is not None:
        return skipped((FindingId.TLS_CIPHERS,), "not through a proxy", route.address)[0]
    from daserver_check.checks.tls_ciphers import ciphers_finding
    from daserver_check.probe.cipher_map import map_ciphers

    return guarded(FindingId.TLS_CIPHERS,
                   lambda: ciphers_finding(map_ciphers(route.address, route.port, target.sni,
                                                       deadline), address=route.address),
                   address=route.address)


def _client_handshakes(
    target: IphttpsUrl, route: _Route, client_os: tuple[str, ...], deadline: Deadline
) -> list[Finding]:
    """Each Windows client's own handshake (tls.client.*), concurrently with each other, and
    before the probe's own connections: a front end that serves one connection at a time (or
    caps connections per source) then answers each of them, instead of holding them behind the
    POST. They get at most half of the time left, so a silent address still leaves the rest of
    the probe its own budget."""
    clients = clients_for(client_os)
    if not clients:
        return []
    if route.proxy is not None:
        return skipped(client_ids(client_os), "through a proxy (the client handshakes run "
                       "directly only)", route.address)
    budget = Deadline(deadline.remaining() / 2)
    results = run_clients(clients, route.address, route.port, target.sni, budget)
    return [guarded(CLIENT_IDS[r.client], functools.partial(client_finding, r,
                                                            address=route.address),
                    address=route.address) for r in results]


def _served_crl(chain: Sequence[x509.Certificate], settings: ProbeSettings, deadline: Deadline,
                address: str, crls: CrlMemo) -> Finding:
    """cert.crl of the served chain, leaf and CAs, within what is left of the deadline."""
    if settings.offline or not settings.profile.cert.check_crl:
        why = "--offline" if settings.offline else "the profile sets cert.check_crl = false"
        return skipped((FindingId.CERT_CRL,), f"CRLs not fetched ({why})", address)[0]
    from datetime import UTC, datetime

    from daserver_check.pipeline.crl_check import chain_crl_finding

    return guarded(FindingId.CERT_CRL, lambda: crls.get(chain, address, lambda: chain_crl_finding(
        chain, settings.trust, offline=False, now=datetime.now(UTC),
        timeout=max(0.1, deadline.remaining()), resolvers=settings.resolvers,
        profile=settings.profile, strong_crl_required=settings.strong_crl_required)),
        address=address)


def _prefix_finding(advertised: RouterDiscoveryResult, address: str) -> Finding:
    from daserver_check.checks.router_discovery import prefix_finding

    return prefix_finding(advertised, address=address)


def _relabel_tcp(finding: Finding, route: _Route) -> Finding:
    """Through a proxy, tcp.connect is the connection to the proxy: say so, under the route."""
    assert route.proxy is not None
    return dataclasses.replace(
        finding,
        detail=f"to the proxy {route.proxy.label}: {finding.detail}",
        evidence={**finding.evidence, "proxy": route.proxy.label},
        address=route.address,
    )


def _post(
    target: IphttpsUrl, hs: _Handshake, deadline: Deadline, router_discovery: bool
) -> tuple[iphttps.PostResult, RouterDiscoveryResult | None]:
    assert hs.conn is not None and hs.sock is not None
    result = iphttps.post(hs.conn, hs.sock, target.path, target.host_header, deadline)
    if not router_discovery or result.head is None or result.head.status != 200:
        return result, None
    from daserver_check.probe.router_discovery import solicit

    rd = solicit(hs.conn, hs.sock, deadline, pending=result.head.trailing)
    return result, rd


def _probe_via_proxy(
    target: IphttpsUrl,
    addresses: list[str],
    port: int,
    settings: ProbeSettings,
    deadline: Deadline,
) -> list[Finding]:
    """One route through the proxy: CONNECT to the --connect address, or to the URL's host
    (the proxy resolves it, as for a Windows client). A direct handshake to a known address
    runs alongside, to tell a TLS-intercepting proxy by the issuer it serves."""
    assert settings.proxy is not None
    host = settings.connect[0] if settings.connect else target.host
    route = _Route(host, port, settings.proxy)
    compare_to = settings.connect[0] if settings.connect else (addresses[0] if addresses else None)
    direct_box: list[tuple[tuple[x509.Certificate, ...], str]] = []
    direct_thread: threading.Thread | None = None
    if compare_to is not None:
        direct_thread = threading.Thread(
            target=lambda: direct_box.append(_direct_chain_guarded(target, compare_to, port,
                                                                   deadline)),
            name=f"direct-{compare_to}",
            daemon=True,
        )
        direct_thread.start()
    def on_chain(
        connected: ConnectResult | None, chain: tuple[x509.Certificate, ...]
    ) -> list[Finding]:
        direct: tuple[x509.Certificate, ...] | None = None
        detail = "no address to connect to directly (give --connect or --resolver)"
        if direct_thread is not None:
            direct_thread.join(deadline.remaining() + _JOIN_GRACE)
            if direct_box:
                direct, detail = direct_box[0]
            else:
                detail = "the direct handshake did not finish in time"
        if connected is None:  # pragma: no cover (a proxy route always reports its CONNECT)
            return skipped((FindingId.PROXY_CONNECT,), "no CONNECT was sent", host)
        from daserver_check.checks.proxy import proxy_finding

        return [proxy_finding(connected, address=host, proxied_chain=chain,
                              direct_chain=direct, direct_detail=detail)]

    return guarded_stage(
        (*_ROUTE_IDS, FindingId.PROXY_CONNECT),
        lambda: _probe_route(target, route, settings, deadline, on_chain=on_chain),
        address=host,
    )


def _direct_chain_guarded(
    target: IphttpsUrl, address: str, port: int, deadline: Deadline
) -> tuple[tuple[x509.Certificate, ...], str]:
    # Runs in its own thread: an exception there would be lost (and print a traceback).
    try:
        return _direct_chain(target, address, port, deadline)
    except Exception as exc:
        return (), f"direct handshake with {address} failed: {type(exc).__name__}: {exc}"


def _direct_chain(
    target: IphttpsUrl, address: str, port: int, deadline: Deadline
) -> tuple[tuple[x509.Certificate, ...], str]:
    """The chain a direct (proxy-less) encrypted handshake gets, for the interception check."""
    tcp_result, sock = tcp.connect(address, port, deadline)
    if sock is None:
        return (), f"direct connection to {address}: {tcp_result.detail}"
    try:
        result, _conn = tls.handshake(sock, target.sni, tls.TlsMode.ENCRYPTED, deadline)
    finally:
        sock.close()
    return tuple(result.peer_chain), f"direct handshake with {address}: {result.detail}"

