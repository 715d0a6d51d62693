"""The probe pipeline for one URL: wires the I/O stages, the checks and the cert analysis.

Every address runs concurrently; inside one address the encrypted handshake (which is also the
connection the POST uses) and the null-only handshake run concurrently. Everything shares one
deadline, so a silent or drip-feeding server costs one `--timeout`, not one per step.
"""

from __future__ import annotations

import dataclasses
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from OpenSSL import SSL

from daserver_check.certs.analysis import CertPolicy, analyse_chain
from daserver_check.certs.trust import TrustStore
from daserver_check.checks.common import skipped, skipped_stages
from daserver_check.checks.dns import dns_findings, dns_skipped
from daserver_check.checks.iphttps import iphttps_findings
from daserver_check.checks.target import target_findings, url_error
from daserver_check.checks.tcp import tcp_finding
from daserver_check.checks.tls import tls_findings
from daserver_check.model import Finding, TargetReport
from daserver_check.probe import iphttps, tcp, tls
from daserver_check.probe.deadline import Deadline
from daserver_check.probe.dns import resolve_host
from daserver_check.profile import Profile
from daserver_check.target import IphttpsUrl, TargetError, parse_iphttps_url

# Time kept back from the deadline for closing sockets and building the report.
_MARGIN = 0.05


@dataclass(frozen=True)
class ProbeSettings:
    profile: Profile
    timeout: float
    resolvers: tuple[str, ...]
    connect: tuple[str, int | None] | None
    trust: TrustStore


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
    if not addresses:
        findings.extend(
            skipped_stages(("tcp", "tls", "cert", "iphttps"), "no address resolved", None)
        )
        return TargetReport(url, tuple(findings))
    if len(addresses) == 1:
        per_address = [probe_address(target, addresses[0], port, settings, deadline)]
    else:
        workers = min(len(addresses), settings.profile.probe.concurrency)
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="addr") as pool:
            per_address = list(
                pool.map(
                    lambda a: probe_address(target, a, port, settings, deadline), addresses
                )
            )
    for part in per_address:
        findings.extend(part)
    return TargetReport(url, tuple(findings))


def _addresses(
    target: IphttpsUrl, settings: ProbeSettings, deadline: Deadline
) -> tuple[list[str], list[Finding]]:
    if target.ip_literal:
        return [settings.connect[0] if settings.connect else target.host], dns_skipped(
            "the URL host is an IP address"
        )
    if settings.connect and not settings.resolvers:
        return [settings.connect[0]], dns_skipped("address given by --connect")
    result = resolve_host(target.host, settings.resolvers, deadline)
    found = dns_findings(result, allow_private=settings.profile.dns.allow_private)
    if settings.connect:
        return [settings.connect[0]], found
    return list(result.addresses), found


@dataclass
class _Handshake:
    result: tls.TlsResult
    conn: SSL.Connection | None = None
    sock: socket.socket | None = None

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()


def _null_handshake(
    target: IphttpsUrl, address: str, port: int, deadline: Deadline
) -> _Handshake:
    tcp_result, sock = tcp.connect(address, port, deadline)
    if sock is None:
        return _Handshake(
            tls.TlsResult(tls.TlsMode.NULL_ONLY, tls.TlsOutcome.ERROR,
                          f"second TCP connection failed: {tcp_result.detail}")
        )
    result, conn = tls.handshake(sock, _sni(target), tls.TlsMode.NULL_ONLY, deadline)
    return _Handshake(result, conn, sock)


def probe_address(
    target: IphttpsUrl, address: str, port: int, settings: ProbeSettings, deadline: Deadline
) -> list[Finding]:
    profile = settings.profile
    tcp_result, sock = tcp.connect(address, port, deadline)
    findings = [tcp_finding(tcp_result)]
    if sock is None:
        findings.extend(skipped_stages(("tls", "cert", "iphttps"), "no TCP connection", address))
        return findings

    null_box: list[_Handshake] = []
    null_thread = threading.Thread(
        target=lambda: null_box.append(_null_handshake(target, address, port, deadline)),
        name=f"null-{address}",
        daemon=True,
    )
    null_thread.start()
    enc_result, enc_conn = tls.handshake(sock, _sni(target), tls.TlsMode.ENCRYPTED, deadline)
    encrypted = _Handshake(enc_result, enc_conn, sock)
    post_result: iphttps.PostResult | None = None
    null = _Handshake(
        tls.TlsResult(tls.TlsMode.NULL_ONLY, tls.TlsOutcome.TIMED_OUT, "no result in time")
    )
    try:
        # POST on the encrypted connection (the Windows 7 path) and close it before waiting
        # for the null-only handshake: a server that serves one connection at a time would
        # otherwise hold the second handshake until the deadline.
        if encrypted.conn is not None:
            post_result = _post(target, encrypted, deadline)
        encrypted.close()
        null_thread.join(deadline.remaining() + 1.0)
        if null_box:
            null = null_box[0]
        if post_result is None and null.conn is not None:
            post_result = _post(target, null, deadline)
    finally:
        encrypted.close()
        null.close()
    findings.extend(
        tls_findings(
            encrypted.result,
            null.result,
            address=address,
            windows7_clients=profile.deployment.has_windows7,
            require_null_cipher=profile.tls.require_null_cipher,
            certificate_auth=profile.deployment.auth_mode == "certificates",
        )
    )
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
    else:
        findings.extend(
            skipped_stages(("cert",), "the server sent no certificate (no TLS handshake)", address)
        )
    if post_result is not None:
        findings.extend(iphttps_findings(post_result, path=target.path, address=address))
    else:
        findings.extend(skipped(("iphttps.post", "iphttps.server"), "no TLS handshake", address))
    return findings


def _post(target: IphttpsUrl, hs: _Handshake, deadline: Deadline) -> iphttps.PostResult:
    assert hs.conn is not None and hs.sock is not None
    return iphttps.post(hs.conn, hs.sock, target.path, target.host_header, deadline)


def _sni(target: IphttpsUrl) -> str | None:
    # RFC 6066 §3: SNI carries host names only, never IP literals.
    return None if target.ip_literal else target.host
