"""`trace.path`: do TCP SYNs to the IP-HTTPS port reach the server, and if not, where do they stop?

KB 2980635: "the packet is being dropped somewhere on the network, or the NAT rules are not created
correctly on the external NAT device". A client whose SYNs die on the way waits and gives up
with 0x274C (WSAETIMEDOUT); a hop that rejects with ICMP unreachable ends the same way for
IP-HTTPS (see `tcp.connect`).
"""

from __future__ import annotations

from daserver_check.findings import FindingId, title
from daserver_check.model import Finding, Status, guarded
from daserver_check.probe.trace import TraceOutcome, TraceResult

FINDING_ID = FindingId.TRACE_PATH
TITLE = title(FINDING_ID)
WSAETIMEDOUT = 0x274C


def trace_finding(result: TraceResult) -> Finding:
    return guarded(FINDING_ID, lambda: _trace_finding(result), address=result.destination)


def trace_skipped(reason: str, address: str | None) -> Finding:
    return Finding(FINDING_ID, Status.SKIP, TITLE, f"skipped: {reason}", address=address)


def _trace_finding(result: TraceResult) -> Finding:
    evidence: dict[str, object] = {
        "port": result.port,
        "outcome": result.outcome.value,
        "max_hops": result.max_hops,
        "hops": [h.as_dict() for h in result.hops],
        "elapsed_ms": result.elapsed_ms,
    }
    last = result.last_answering
    where = f"{result.destination} port {result.port}"
    if result.outcome is TraceOutcome.ERROR:
        return Finding(FINDING_ID, Status.ERROR, "The path trace could not run",
                       f"{where}: {result.detail}", evidence=evidence,
                       address=result.destination)
    if result.outcome is TraceOutcome.REACHED:
        return Finding(FINDING_ID, Status.PASS, TITLE, result.detail, evidence=evidence,
                       address=result.destination)
    if last is not None:
        evidence["stopped_at"] = {"hop": last.ttl, "address": last.address}
    if result.outcome is TraceOutcome.REJECTED:
        title = "A hop rejects the SYNs to the IP-HTTPS port"
        remediation = (f"The device at hop {last.ttl if last else '?'} ({last.address if last else '?'}) "
                       f"rejects TCP {result.port}: allow it towards the DirectAccess server's "
                       "external address (firewall rule, NAT/port forwarding).")
    else:
        title = "TCP SYNs to the IP-HTTPS port die before the server"
        at = (f"at hop {last.ttl} ({last.address}) or on the link right after it"
              if last is not None else "before or at the first router")
        remediation = (f"The SYNs stop {at}: allow TCP {result.port} inbound to the "
                       "DirectAccess server's external address on that firewall, and check the "
                       "NAT / port forwarding of the edge device behind which the server sits.")
    return Finding(FINDING_ID, Status.FAIL, title, f"{where}: {result.detail}",
                   predicts=(WSAETIMEDOUT,), remediation=remediation, evidence=evidence,
                   address=result.destination)
