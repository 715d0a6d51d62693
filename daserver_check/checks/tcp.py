"""`tcp.connect`: can a client open TCP to the IP-HTTPS port of this address?"""

from __future__ import annotations

from dataclasses import dataclass

from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status
from daserver_check.probe.tcp import TcpOutcome, TcpResult

WSAETIMEDOUT = 0x274C
WSAECONNREFUSED = 0x274D


@dataclass(frozen=True, slots=True)
class _Verdict:
    status: Status
    title: str
    predicts: tuple[int, ...] = ()
    remediation: str = ""  # {port} is filled in


_VERDICTS: dict[TcpOutcome, _Verdict] = {
    TcpOutcome.REFUSED: _Verdict(
        Status.FAIL,
        "TCP connection refused",
        (WSAECONNREFUSED,),
        "Check that the DirectAccess server listens on TCP {port} (Get-RemoteAccess; netsh "
        "http show servicestate) and that no firewall or NAT device in front of it rejects "
        "the port.",
    ),
    TcpOutcome.TIMED_OUT: _Verdict(
        Status.FAIL,
        "TCP connection timed out",
        (WSAETIMEDOUT,),
        "A firewall drops TCP {port}, or the NAT/port forwarding in front of the DirectAccess "
        "server sends it nowhere. Allow TCP {port} inbound to the server's external address; "
        "`daserver-check trace` shows where the SYNs stop.",
    ),
    TcpOutcome.UNREACHABLE: _Verdict(
        Status.FAIL,
        "Address unreachable",
        # A client gives up the same way as on a timeout (inference: Windows reports the
        # ICMP-unreachable case as a failed connect, which IP-HTTPS surfaces as 0x274C).
        (WSAETIMEDOUT,),
        "A router or firewall answers that the address cannot be reached: check routing and "
        "firewall rules towards the server's external address.",
    ),
    TcpOutcome.ERROR: _Verdict(Status.ERROR, "TCP connection could not be tried"),
}


def tcp_finding(result: TcpResult) -> Finding:
    evidence = {
        "port": result.port,
        "outcome": result.outcome.value,
        "elapsed_ms": result.elapsed_ms,
    }
    where = f"{result.address} port {result.port}"
    if result.outcome is TcpOutcome.CONNECTED:
        return Finding(
            id=FindingId.TCP_CONNECT,
            status=Status.PASS,
            title="TCP connection accepted",
            detail=f"{where}: connected in {result.elapsed_ms} ms",
            evidence=evidence,
            address=result.address,
        )
    verdict = _VERDICTS[result.outcome]
    return Finding(
        id=FindingId.TCP_CONNECT,
        status=verdict.status,
        title=verdict.title,
        detail=f"{where}: {result.detail}",
        predicts=verdict.predicts,
        remediation=verdict.remediation.format(port=result.port),
        evidence=evidence,
        address=result.address,
    )
