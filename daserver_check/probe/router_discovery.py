"""Router discovery over an IP-HTTPS tunnel: one Router Solicitation, wait for an Advertisement.

Opt-in (`--router-discovery`, profile `iphttps.router_discovery`). After the server answered the
POST with 200 the connection is an IPv6 link to the DirectAccess server ([MS-IPHTTPS] §3.1.5.3).
A client then learns its /64 prefix from a Router Advertisement (RFC 4861); "the server does not
have the IPv6 prefix published" is a cause of 0x2AFC / 0x2AF9 in KB 2980635.

The probe sends exactly one RS (source ::, destination ff02::2, hop limit 255, ICMPv6 type 133,
built with scapy), splits what comes back into IPv6 packets with our own sans-IO framing
(`protocol.ipv6_stream`), dissects them with scapy, and stops at the first valid RA, at the
deadline, or after a few packets/bytes. It forwards nothing and sends nothing else; the caller
closes the connection right after.

An RA that a Windows host would discard (RFC 4861 §6.1.2: hop limit not 255, source not
link-local, bad checksum, code not 0, an option of length 0) is not counted as an answer; it is
listed in `ignored` so the report can say why.

scapy is imported inside the functions that need it (it costs ~0.5 s to import).
"""

from __future__ import annotations

import enum
import logging
import socket
import time
from dataclasses import dataclass
from typing import Any

from OpenSSL import SSL

from daserver_check.probe.deadline import Deadline
from daserver_check.probe.tls import receive, send_all
from daserver_check.protocol.ipv6_stream import (
    HEADER_LENGTH,
    NEXT_HEADER_ICMPV6,
    Ipv6FramingError,
    Ipv6StreamSplitter,
    parse_header,
)
from daserver_check.protocol.ndp import (
    build_router_solicitation,
    check_router_advertisement,
    is_router_advertisement,
)

# "Reads at most a few packets" (docs/contract.md, reliability rules): a server chattering on
# the link does not keep the probe reading; neither does a flood of bytes.
MAX_PACKETS = 16
MAX_BYTES = 256 * 1024


class RdOutcome(enum.StrEnum):
    ADVERTISED = "advertised"  # a valid Router Advertisement arrived
    NO_ANSWER = "no-answer"  # the deadline passed without one
    CLOSED = "closed"  # the server closed the tunnel
    RESET = "reset"
    GARBAGE = "garbage"  # the server sent something that is not a stream of IPv6 packets
    TOO_MUCH = "too-much"  # more packets or bytes than a probe reads, none of them an RA
    SEND_FAILED = "send-failed"
    ERROR = "error"  # the probe could not build or dissect packets (scapy missing …)


@dataclass(frozen=True, slots=True)
class PrefixInfo:
    prefix: str
    length: int
    on_link: bool
    autonomous: bool
    valid_lifetime: int
    preferred_lifetime: int

    def as_dict(self) -> dict[str, object]:
        return {
            "prefix": f"{self.prefix}/{self.length}",
            "on_link": self.on_link,
            "autonomous": self.autonomous,
            "valid_lifetime": self.valid_lifetime,
            "preferred_lifetime": self.preferred_lifetime,
        }


@dataclass(frozen=True, slots=True)
class RouterAdvertisement:
    source: str
    destination: str
    router_lifetime: int
    cur_hop_limit: int
    managed: bool
    other: bool
    mtu: int | None
    prefixes: tuple[PrefixInfo, ...]
    routes: tuple[str, ...]  # Route Information options (RFC 4191), as prefix/length

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "destination": self.destination,
            "router_lifetime": self.router_lifetime,
            "cur_hop_limit": self.cur_hop_limit,
            "managed": self.managed,
            "other": self.other,
            "mtu": self.mtu,
            "prefixes": [p.as_dict() for p in self.prefixes],
            "routes": list(self.routes),
        }


@dataclass(frozen=True, slots=True)
class RouterDiscoveryResult:
    outcome: RdOutcome
    detail: str
    advertisement: RouterAdvertisement | None = None
    packets: int = 0
    ignored: tuple[str, ...] = ()
    elapsed_ms: int = 0


def _scapy_quiet() -> None:
    # scapy logs warnings about routes and interfaces at import; none of them concern us.
    logging.getLogger("scapy").setLevel(logging.ERROR)


def dissect_router_advertisement(packet: bytes) -> RouterAdvertisement:
    """Typed values of an RA that passed `check_router_advertisement`, dissected by scapy."""
    _scapy_quiet()
    from scapy.layers.inet6 import (
        ICMPv6ND_RA,
        ICMPv6NDOptMTU,
        ICMPv6NDOptPrefixInfo,
        ICMPv6NDOptRouteInfo,
        IPv6,
    )

    parsed: Any = IPv6(packet)
    ra: Any = parsed[ICMPv6ND_RA]
    prefixes: list[PrefixInfo] = []
    routes: list[str] = []
    mtu: int | None = None
    layer: Any = ra.payload
    while layer is not None and layer.name != "NoPayload":
        if isinstance(layer, ICMPv6NDOptPrefixInfo):
            prefixes.append(
                PrefixInfo(
                    prefix=str(layer.prefix),
                    length=int(layer.prefixlen),
                    on_link=bool(layer.L),
                    autonomous=bool(layer.A),
                    valid_lifetime=int(layer.validlifetime),
                    preferred_lifetime=int(layer.preferredlifetime),
                )
            )
        elif isinstance(layer, ICMPv6NDOptMTU):
            mtu = int(layer.mtu)
        elif isinstance(layer, ICMPv6NDOptRouteInfo):
            routes.append(f"{layer.prefix}/{int(layer.plen)}")
        layer = layer.payload
    return RouterAdvertisement(
        source=str(parsed.src),
        destination=str(parsed.dst),
        router_lifetime=int(ra.routerlifetime),
        cur_hop_limit=int(ra.chlim),
        managed=bool(ra.M),
        other=bool(ra.O),
        mtu=mtu,
        prefixes=tuple(prefixes),
        routes=tuple(routes),
    )


def _describe(packet: bytes) -> str:
    header = parse_header(packet)
    if header.next_header == NEXT_HEADER_ICMPV6 and len(packet) > HEADER_LENGTH:
        return f"ICMPv6 type {packet[HEADER_LENGTH]} from {header.source}"
    return f"next header {header.next_header} from {header.source}"


def solicit(
    conn: SSL.Connection,
    sock: socket.socket,
    deadline: Deadline,
    *,
    pending: bytes = b"",
    max_packets: int = MAX_PACKETS,
    max_bytes: int = MAX_BYTES,
) -> RouterDiscoveryResult:
    """Send one RS on the tunnel and wait for an RA until `deadline`.

    `pending` is tunnel data that arrived with the POST's answer (after its blank line).
    Never raises: every failure is an outcome.
    """
    started = time.monotonic()
    splitter = Ipv6StreamSplitter()
    ignored: list[str] = []
    received = len(pending)

    def result(
        outcome: RdOutcome, detail: str, ra: RouterAdvertisement | None = None
    ) -> RouterDiscoveryResult:
        return RouterDiscoveryResult(
            outcome, detail, ra, splitter.packets, tuple(ignored[:max_packets]),
            int((time.monotonic() - started) * 1000),
        )

    solicitation = build_router_solicitation()

    def examine(chunk: bytes) -> RouterDiscoveryResult | None:
        for packet in splitter.feed(chunk):
            header = parse_header(packet)
            if not is_router_advertisement(packet):
                ignored.append(_describe(packet))
                continue
            why = check_router_advertisement(packet)
            if why is not None:
                ignored.append(f"Router Advertisement from {header.source} discarded: {why}")
                continue
            try:
                ra = dissect_router_advertisement(packet)
            except Exception as exc:  # the dissector's failures are data, never a traceback
                ignored.append(f"Router Advertisement from {header.source} undecodable: {exc}")
                continue
            return result(RdOutcome.ADVERTISED,
                          f"Router Advertisement from {ra.source} after "
                          f"{time.monotonic() - started:.2f} s", ra)
        if splitter.error is not None:
            raise splitter.error
        if splitter.packets >= max_packets or received > max_bytes:
            return result(RdOutcome.TOO_MUCH,
                          f"{splitter.packets} packets ({received} bytes) without a valid "
                          "Router Advertisement; stopped reading")
        return None

    try:
        if pending and (early := examine(pending)) is not None:
            return early
        if not send_all(conn, sock, solicitation, deadline):
            return result(RdOutcome.SEND_FAILED,
                          "the server did not accept the Router Solicitation before the deadline")
        while True:
            chunk = receive(conn, sock, 4096, deadline)
            if chunk is None:
                waited = time.monotonic() - started
                return result(RdOutcome.NO_ANSWER,
                              f"no Router Advertisement within {waited:.1f} s of the Router "
                              "Solicitation")
            if not chunk:
                splitter.finish()
                return result(RdOutcome.CLOSED, "the server closed the tunnel after the Router "
                              "Solicitation, without a Router Advertisement")
            received += len(chunk)
            found = examine(chunk)
            if found is not None:
                return found
    except Ipv6FramingError as exc:
        return result(RdOutcome.GARBAGE, f"the tunnel does not carry IPv6 packets: {exc}")
    except SSL.SysCallError as exc:
        if exc.args and exc.args[0] == -1:
            return result(RdOutcome.CLOSED, "the server closed the tunnel after the Router "
                          "Solicitation, without a Router Advertisement")
        return result(RdOutcome.RESET, f"the tunnel broke after the Router Solicitation: {exc}")
    except (SSL.Error, OSError) as exc:
        return result(RdOutcome.RESET, f"the tunnel broke after the Router Solicitation: {exc}")
