"""What the server checks share: the codes they predict, the restart step, the options, and
the rule for a missing input (not collected: skip; collected but unusable: error)."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status
from daserver_check.server.facts import Facts

INTERFACE_CODES = (0x643, 0x34)  # KB 2980660: both mean "interface creation failure"
CONNECT_CODES = (0x2AFC, 0x2AF9)
CERT_CODES = (0x103,)

RESTART_IPHLPSVC = (
    "then restart the IP Helper service, which hosts IP-HTTPS (KB 2980660): "
    "`Restart-Service iphlpsvc`"
)


@dataclass(frozen=True, slots=True)
class Options:
    cert_thumbprint: str | None = None  # lower-case hex SHA-1 of --cert
    cert_label: str = ""
    # The profile's deployment.client_os (clients.PROFILES names); the default profile's list.
    client_os: tuple[str, ...] = ("windows10", "windows11")


def short_key(key: str) -> str:
    return key.replace("HKEY_LOCAL_MACHINE", "HKLM", 1)


def backup_step(key: str, file: str) -> str:
    return f'back up the key: `reg export "{short_key(key)}" {file} /y`'


def url_port(url: str) -> int | None:
    try:
        parts = urlsplit(url.replace("+", "plus").replace("*", "star"))
        return parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError:
        return None


def iphttps_port(facts: Facts) -> int:
    for url in facts.iphttps_urls():
        port = url_port(url)
        if port:
            return port
    return 443


def not_collected(fid: FindingId, title: str, facts: Facts, need: str, what: str) -> Finding:
    """The finding for a check whose input is missing: `error` when a file meant to hold it was
    collected but unusable (this tool cannot decide), `skip` "not collected" otherwise."""
    unusable = facts.unusable.get(need, [])
    if unusable:
        reasons = "; ".join(f"{path}: {why}" for path, why in unusable)
        return Finding(fid, Status.ERROR, f"{title}: the collected file could not be used",
                       detail=f"{what} was collected but is unusable ({reasons}).",
                       remediation="Run `daserver-check collect-script` again on the server from "
                       "an elevated prompt, and check the files it writes.",
                       evidence={"unusable": [{"path": p, "why": w} for p, w in unusable]})
    missing = facts.not_available.get(need)
    if missing:
        return Finding(fid, Status.SKIP, title,
                       detail=f"skipped: not collected ({what}): {missing}")
    return Finding(fid, Status.SKIP, title, detail=f"skipped: not collected ({what})")
