"""TCP-SYN path trace: where do a client's SYNs to the IP-HTTPS port stop?

A firewall or NAT rule that drops TCP 443 leaves the client waiting (0x274C, WSAETIMEDOUT);
`tcp.connect` can only say *that* it happens. This sends TCP SYNs to the port with growing
TTL / hop limit (1..max_hops, all at once, like a tcptraceroute), and reads what comes back:
ICMP time-exceeded from each router on the way, SYN-ACK or RST from the destination, or ICMP
unreachable from a router or firewall that rejects. The last hop that answers before the
silence is where the SYNs stop (they die there or on the link right after it).

Needs raw sockets (root or CAP_NET_RAW on Linux; Npcap and Administrator on Windows): checked
first by `raw_socket_problem()`, so the command can say so and exit 3. scapy builds, sends and
matches the packets; it is imported inside `trace()` only. The kernel never saw our SYNs, so
it answers a SYN-ACK with a RST: no half-open connection is left behind.
"""

from __future__ import annotations

import enum
import ipaddress
import logging
import os
import random
import socket
import sys
import time
from dataclasses import dataclass
from typing import Any

DEFAULT_MAX_HOPS = 30
MAX_HOPS_LIMIT = 64


class HopKind(enum.StrEnum):
    TIME_EXCEEDED = "time-exceeded"  # a router on the way
    SYN_ACK = "syn-ack"  # the destination: the port is open
    RST = "rst"  # the destination (or a device speaking for it): the port is closed
    UNREACHABLE = "unreachable"  # ICMP destination unreachable: rejected here
    SILENT = "silent"  # no answer for this TTL


class TraceOutcome(enum.StrEnum):
    REACHED = "reached"
    DROPPED = "dropped"  # the SYNs stop somewhere: silence beyond the last hop that answered
    REJECTED = "rejected"  # a hop answered ICMP unreachable
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Hop:
    ttl: int
    address: str | None
    kind: HopKind
    rtt_ms: int | None = None
    icmp: str | None = None  # "type/code" of an ICMP answer

    def as_dict(self) -> dict[str, object]:
        return {"ttl": self.ttl, "address": self.address, "kind": self.kind.value,
                "rtt_ms": self.rtt_ms, "icmp": self.icmp}


@dataclass(frozen=True, slots=True)
class TraceResult:
    destination: str
    port: int
    outcome: TraceOutcome
    detail: str
    hops: tuple[Hop, ...] = ()
    max_hops: int = DEFAULT_MAX_HOPS
    elapsed_ms: int = 0

    @property
    def last_answering(self) -> Hop | None:
        answered = [h for h in self.hops if h.kind is not HopKind.SILENT]
        return answered[-1] if answered else None


def raw_socket_problem() -> str | None:
    """None when this process may open raw sockets; else what is missing, in one sentence."""
    try:
        probe = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_TCP)
    except PermissionError:
        if os.name == "nt":
            return ("the path trace needs raw sockets: install Npcap and run as Administrator")
        return ("the path trace needs raw sockets: run it as root, or give the Python "
                "interpreter CAP_NET_RAW (setcap cap_net_raw+ep)")
    except OSError as exc:
        return f"the path trace cannot open a raw socket: {exc}"
    probe.close()
    return None


def trace(address: str, port: int, *, max_hops: int = DEFAULT_MAX_HOPS,
          timeout: float = 3.0) -> TraceResult:
    """Trace TCP SYNs to address:port. Never raises: failures are an ERROR outcome."""
    started = time.monotonic()
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return TraceResult(address, port, TraceOutcome.ERROR, f"not an IP address: {address!r}")
    try:
        hops = _send_and_match(ip, port, max_hops, timeout)
    except Exception as exc:  # scapy missing, no route, socket errors: data, not a traceback
        return TraceResult(address, port, TraceOutcome.ERROR,
                           f"the trace could not run: {type(exc).__name__}: {exc}",
                           max_hops=max_hops,
                           elapsed_ms=int((time.monotonic() - started) * 1000))
    return interpret(str(ip), port, hops, max_hops,
                     int((time.monotonic() - started) * 1000))


def interpret(destination: str, port: int, answers: dict[int, Hop], max_hops: int,
              elapsed_ms: int = 0) -> TraceResult:
    """The verdict from the answers per TTL (pure; tested without a network)."""
    hops = [answers.get(ttl, Hop(ttl, None, HopKind.SILENT)) for ttl in range(1, max_hops + 1)]
    for hop in hops:
        if hop.kind in (HopKind.SYN_ACK, HopKind.RST) and hop.address == destination:
            shown = tuple(hops[: hop.ttl])
            what = "open (SYN-ACK)" if hop.kind is HopKind.SYN_ACK else "closed (RST)"
            return TraceResult(destination, port, TraceOutcome.REACHED,
                               f"SYNs reach {destination} port {port} at hop {hop.ttl}: {what}",
                               shown, max_hops, elapsed_ms)
        if hop.kind is HopKind.UNREACHABLE:
            shown = tuple(hops[: hop.ttl])
            return TraceResult(destination, port, TraceOutcome.REJECTED,
                               f"hop {hop.ttl} ({hop.address}) rejects the SYNs with ICMP "
                               f"unreachable {hop.icmp}", shown, max_hops, elapsed_ms)
    answered = [h for h in hops if h.kind is not HopKind.SILENT]
    if not answered:
        return TraceResult(destination, port, TraceOutcome.DROPPED,
                           "no hop answered: the SYNs stop before or at the first router "
                           "(or no router on the path sends ICMP time-exceeded)",
                           tuple(hops[:1]), max_hops, elapsed_ms)
    last = answered[-1]
    if last.kind in (HopKind.SYN_ACK, HopKind.RST):
        # Another address answered as the destination would (a NAT or a proxy in the way).
        shown = tuple(hops[: last.ttl])
        return TraceResult(destination, port, TraceOutcome.REACHED,
                           f"hop {last.ttl} ({last.address}) answers the SYNs for {destination} "
                           f"({last.kind.value}): a NAT or middlebox answers for the server",
                           shown, max_hops, elapsed_ms)
    shown = tuple(hops[: min(max_hops, last.ttl + 1)])
    return TraceResult(destination, port, TraceOutcome.DROPPED,
                       f"SYNs stop at hop {last.ttl} ({last.address}): it is the last hop that "
                       f"answers; nothing answers beyond it up to hop {max_hops}",
                       shown, max_hops, elapsed_ms)


def _send_and_match(ip: ipaddress.IPv4Address | ipaddress.IPv6Address, port: int,
                    max_hops: int, timeout: float) -> dict[int, Hop]:
    logging.getLogger("scapy").setLevel(logging.ERROR)
    from scapy.config import conf
    from scapy.layers.inet import IP, TCP
    from scapy.layers.inet6 import IPv6
    from scapy.supersocket import L3RawSocket, L3RawSocket6

    base = random.randint(20000, 60000 - MAX_HOPS_LIMIT)
    seq = random.getrandbits(32)
    probes: list[Any] = []
    for ttl in range(1, max_hops + 1):
        layer3: Any = IP(dst=str(ip), ttl=ttl) if ip.version == 4 else IPv6(dst=str(ip), hlim=ttl)
        # The source port encodes the TTL, so every answer maps back to its probe.
        probes.append(layer3 / TCP(sport=base + ttl, dport=port, flags="S", seq=seq))
    # On Linux, raw IP sockets: the kernel routes and resolves neighbours, as for any connection
    # (and it works inside network namespaces). Elsewhere scapy's own layer-3 socket for the
    # platform: Npcap on Windows, BPF on macOS (scapy's `conf.L3socket`, `conf.L3socket6`).
    if sys.platform.startswith("linux"):
        sock: Any = L3RawSocket() if ip.version == 4 else L3RawSocket6()
    else:  # pragma: no cover - not Linux
        sock = conf.L3socket() if ip.version == 4 else conf.L3socket6()
    try:
        answered, _ = sock.sr(probes, timeout=timeout, verbose=0)
    finally:
        sock.close()
    hops: dict[int, Hop] = {}
    for sent, received in answered:
        ttl = int(sent.sport) - base
        rtt = int(max(0.0, float(received.time) - float(sent.sent_time or received.time)) * 1000)
        source = str(received.src)
        answer = received.payload  # the layer right above IP / IPv6
        if isinstance(answer, TCP):
            flags = int(answer.flags)
            kind = HopKind.SYN_ACK if flags & 0x12 == 0x12 else HopKind.RST
            hop = Hop(ttl, source, kind, rtt)
        else:
            # ICMP (v4) or one of scapy's ICMPv6 error classes: type and code come first.
            icmp_type, icmp_code = int(getattr(answer, "type", -1)), int(getattr(answer, "code", -1))
            exceeded = (icmp_type == 11) if ip.version == 4 else (icmp_type == 3)
            kind = HopKind.TIME_EXCEEDED if exceeded else HopKind.UNREACHABLE
            hop = Hop(ttl, source, kind, rtt, f"{icmp_type}/{icmp_code}")
        hops.setdefault(ttl, hop)
    return hops
