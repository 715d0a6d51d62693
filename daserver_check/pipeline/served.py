"""The certificate chain a server serves now, fetched with the probe's TCP and TLS stages.

Used by `cert --against` (is the new certificate a drop-in replacement?) and by
`server --url` (does the HTTP.sys binding hold the certificate clients are served?).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from daserver_check.errors import DaserverCheckError
from daserver_check.hostport import join_host_port

if TYPE_CHECKING:
    from cryptography import x509

    from daserver_check.target import IphttpsUrl


class ServedChainError(DaserverCheckError):
    """Why no certificate could be fetched (one line: resolution, connection, handshake)."""


@dataclass(frozen=True, slots=True)
class ServedChain:
    chain: tuple[x509.Certificate, ...]
    served_from: str  # "IP:PORT" the chain came from


def fetch_served_chain(
    url: IphttpsUrl,
    *,
    connect: tuple[str, int | None] | None,
    resolvers: Sequence[str],
    timeout: float,
) -> ServedChain:
    from daserver_check.probe import tcp, tls
    from daserver_check.probe.deadline import Deadline

    deadline = Deadline(timeout)
    port = connect[1] if connect and connect[1] else url.port
    if connect:
        addresses: tuple[str, ...] = (connect[0],)
    elif url.ip_literal:
        addresses = (url.host,)
    else:
        from daserver_check.probe.dns import resolve_host

        addresses = resolve_host(url.host, resolvers, deadline).addresses
        if not addresses:
            raise ServedChainError(f"{url.host} does not resolve")
    errors: list[str] = []
    for address in addresses[:4]:
        # Encrypted suites first (every server offers them); a server offering only the null
        # suites still shows its certificate to a null-only handshake.
        for mode in (tls.TlsMode.ENCRYPTED, tls.TlsMode.NULL_ONLY):
            tcp_result, sock = tcp.connect(address, port, deadline)
            if sock is None:
                errors.append(f"{_join(address, port)}: {tcp_result.detail}")
                break
            try:
                result, _ = tls.handshake(sock, url.sni, mode, deadline)
            finally:
                sock.close()
            if result.peer_chain:
                return ServedChain(result.peer_chain, _join(address, port))
            errors.append(f"{_join(address, port)} ({mode.value}): {result.detail}")
    raise ServedChainError("; ".join(errors) or "no certificate served")


def _join(address: str, port: int) -> str:
    return join_host_port(address, port)
