"""`server.health`: what `Get-RemoteAccessHealth` says about each Remote Access component.

Administrators already run this cmdlet; the finding repeats Microsoft's own texts (each
monitor's ErrorDesc, ErrorCause and ErrorResoln, RemoteAccessHealthHeuristic on Microsoft
Learn) for every component whose HealthState is not OK. `Error` fails, `Warning` and `Unknown`
warn, `Disabled` is a component the deployment does not use (Learn, RemoteAccessHealthMonitor:
Disabled, OK, Error, Warning, Unknown).
"""

from __future__ import annotations

from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status
from daserver_check.protocol.remote_access import HealthComponent, Heuristic
from daserver_check.server.common import Options, not_collected
from daserver_check.server.facts import Facts

MAX_LISTED = 20  # components described in the detail; the evidence keeps them all


def _texts(h: Heuristic) -> str:
    parts = [t for t in (h.description, h.cause and f"Cause: {h.cause}",
                         h.resolution and f"Resolution: {h.resolution}") if t]
    return " ".join(p.strip() for p in parts)


def _describe(c: HealthComponent) -> str:
    failing = [h for h in c.heuristics if (h.status or "").casefold() not in ("ok", "")]
    shown = failing or list(c.heuristics)
    texts = [t for t in (_texts(h) for h in shown) if t]
    head = f"{c.component}: {c.state or 'no HealthState'}"
    return head + (" — " + " | ".join(texts) if texts else " (no monitor text in the output)")


def check_health(facts: Facts, opts: Options) -> Finding:
    fid = FindingId.SERVER_HEALTH
    if facts.health is None:
        return not_collected(fid, "Remote Access component health", facts, "health",
                             "Get-RemoteAccessHealth output: ra-health.json")
    components = facts.health
    evidence = {
        "source": facts.health_source,
        "components": [
            {"component": c.component, "health_state": c.state, "server": c.server,
             "timestamp": c.timestamp,
             "monitors": [{"id": h.id, "status": h.status, "operation_status": h.operation_status,
                           "error_description": h.description, "error_cause": h.cause,
                           "error_resolution": h.resolution} for h in c.heuristics]}
            for c in components
        ],
    }
    if not components:
        return Finding(fid, Status.WARN, "Get-RemoteAccessHealth reported no component",
                       detail="The output holds no component: is Remote Access configured on "
                       "this server?", evidence=evidence)
    bad = [c for c in components if not c.healthy]
    if not bad:
        return Finding(fid, Status.PASS,
                       f"All {len(components)} Remote Access component(s) OK or disabled",
                       detail=", ".join(f"{c.component}: {c.state}" for c in components),
                       evidence=evidence)
    errors = [c for c in bad if (c.state or "").casefold() == "error"]
    status = Status.FAIL if errors else Status.WARN
    names = ", ".join(f"{c.component} ({c.state or '?'})" for c in bad)
    detail = "; ".join(_describe(c) for c in bad[:MAX_LISTED])
    if len(bad) > MAX_LISTED:
        detail += f"; … {len(bad) - MAX_LISTED} more in the evidence"
    return Finding(
        fid, status,
        f"{len(bad)} Remote Access component(s) not OK: {names}",
        detail=detail + ". (Texts are Microsoft's, from Get-RemoteAccessHealth.)",
        remediation="Follow each monitor's resolution above; then run "
        "`Get-RemoteAccessHealth -Refresh` on the server and collect the bundle again.",
        evidence=evidence,
    )
