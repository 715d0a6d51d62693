"""Every cause KB 2980660 (0x643/0x34) and KB 2980635 (0x103, 0x2AFC, 0x2AF9) list is detected
by a registered check that its module really makes, and the code catalogue names that check.
"""

from __future__ import annotations

import pytest

from daserver_check.codes import CATALOGUE
from daserver_check.findings import REGISTRY

# seed cause -> (client codes, checks that detect it)
SEED_CAUSES: list[tuple[str, tuple[int, ...], tuple[str, ...]]] = [
    ("KB 2980660: duplicate or corrupted IP-HTTPS interface / stale policy keys",
     (0x643, 0x34), ("server.iphttps.policy", "server.iphttps.state")),
    ("KB 2980660: corrupted or invalid ACL for the IP-HTTPS binding (URL reservations)",
     (0x643, 0x34), ("server.urlacl.acl", "server.urlacl.conflict", "server.urlacl.duplicate")),
    ("KB 2980660: IPv6 transition adapters or all IPv6 disabled",
     (0x643, 0x34), ("server.ipv6.components",)),
    ("KB 2980635: the IP-HTTPS URL does not match the certificate",
     (0x103,), ("cert.subject-name",)),
    ("KB 2980635: additional unwanted information in the Subject",
     (0x103,), ("cert.subject-extra",)),
    ("KB 2980635: correct Subject, wrong SAN values", (0x103,), ("cert.san",)),
    ("KB 2980635: a proxy server is blocking the connection",
     (0x2AFC, 0x2AF9), ("proxy.connect", "client.proxy")),
    ("KB 2980635: the server name cannot be resolved",
     (0x2AFC, 0x2AF9), ("dns.resolve", "dns.nodata")),
    ("KB 2980635: a client- or server-side firewall blocks the connection",
     (0x2AFC, 0x2AF9), ("tcp.connect", "trace.path")),
    ("KB 2980635: NAT device misconfigured (behind-edge)",
     (0x2AFC, 0x2AF9), ("tcp.connect", "iphttps.server")),
    ("KB 2980635: IPv6 prefix not published, or IP-HTTPS disabled on the server",
     (0x2AFC, 0x2AF9), ("iphttps.prefix", "iphttps.post")),
]


def made_ids() -> set[str]:
    """Ids the registry declares AND whose named module makes them (not a text scan)."""
    from tests.test_findings import makers_missing

    missing = {problem.split(":", 1)[0] for problem in makers_missing(REGISTRY.values())}
    return {str(fid) for fid in REGISTRY if str(fid) not in missing}


@pytest.mark.parametrize(("cause", "codes", "checks"), SEED_CAUSES, ids=[c[0][:60] for c in SEED_CAUSES])
def test_seed_cause_is_detected_and_catalogued(cause: str, codes: tuple[int, ...],
                                               checks: tuple[str, ...]) -> None:
    produced = made_ids()
    for check in checks:
        assert check in produced, f"{check} ({cause}) is not produced by any module"
    for code in codes:
        catalogued = {c for cause_ in CATALOGUE[code].causes for c in cause_.checks}
        assert set(checks) & catalogued, f"{code:#x} does not name {checks} among its causes"


def test_every_catalogued_check_exists() -> None:
    produced = made_ids()
    for entry in CATALOGUE.values():
        for cause in entry.causes:
            for check in cause.checks:
                assert check in produced, f"{entry.hex}: cause names unknown check {check}"
