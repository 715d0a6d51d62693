"""`tcp.connect`: can a client open TCP to the IP-HTTPS port of this address?"""

from __future__ import annotations

from daserver_check.model import Finding, Status
from daserver_check.probe.tcp import TcpOutcome, TcpResult

WSAETIMEDOUT = 0x274C
WSAECONNREFUSED = 0x274D


def tcp_finding(result: TcpResult) -> Finding:
    evidence = {
        "port": result.port,
        "outcome": result.outcome.value,
        "elapsed_ms": result.elapsed_ms,
    }
    where = f"{result.address} port {result.port}"
    if result.outcome is TcpOutcome.CONNECTED:
        return Finding(
            id="tcp.connect",
            status=Status.PASS,
            title="TCP connection accepted",
            detail=f"{where}: connected in {result.elapsed_ms} ms",
            evidence=evidence,
            address=result.address,
        )
    if result.outcome is TcpOutcome.REFUSED:
        return Finding(
            id="tcp.connect",
            status=Status.FAIL,
            title="TCP connection refused",
            detail=f"{where}: {result.detail}",
            predicts=(WSAECONNREFUSED,),
            remediation=f"Check that the DirectAccess server listens on TCP {result.port} "
            "(Get-RemoteAccess; netsh http show servicestate) and that no firewall or NAT "
            "device in front of it rejects the port.",
            evidence=evidence,
            address=result.address,
        )
    if result.outcome is TcpOutcome.TIMED_OUT:
        return Finding(
            id="tcp.connect",
            status=Status.FAIL,
            title="TCP connection timed out",
            detail=f"{where}: {result.detail}",
            predicts=(WSAETIMEDOUT,),
            remediation=f"A firewall drops TCP {result.port}, or the NAT/port forwarding in "
            "front of the DirectAccess server sends it nowhere. Allow TCP "
            f"{result.port} inbound to the server's external address; "
            "`daserver-check trace` shows where the SYNs stop.",
            evidence=evidence,
            address=result.address,
        )
    if result.outcome is TcpOutcome.UNREACHABLE:
        return Finding(
            id="tcp.connect",
            status=Status.FAIL,
            title="Address unreachable",
            detail=f"{where}: {result.detail}",
            # A client gives up the same way as on a timeout (inference: Windows reports the
            # ICMP-unreachable case as a failed connect, which IP-HTTPS surfaces as 0x274C).
            predicts=(WSAETIMEDOUT,),
            remediation="A router or firewall answers that the address cannot be reached: "
            "check routing and firewall rules towards the server's external address.",
            evidence=evidence,
            address=result.address,
        )
    return Finding(
        id="tcp.connect",
        status=Status.ERROR,
        title="TCP connection could not be tried",
        detail=f"{where}: {result.detail}",
        evidence=evidence,
        address=result.address,
    )
