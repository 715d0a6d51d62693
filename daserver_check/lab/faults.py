"""The faults the lab can emulate: one name each, combinable.

Kept free of heavy imports: the `lab` command builds its argparse choices from `FAULTS`, and
`daserver-check --help` must not pull in OpenSSL or cryptography.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

FAULTS: Mapping[str, str] = MappingProxyType(
    {
        "wrong-name": "certificate CN and SAN are www.wrong.test, not the lab name (0x103)",
        "san-mismatch": "CN is the lab name but the SAN holds only other.lab.test (0x103)",
        "subject-extra": "Subject has a second CN https://<name>/IPHTTPS (0x103)",
        "no-eku": "EKU extension with Client Authentication only, no Server Authentication (0x103)",
        "expired": "certificate expired 35 days ago (0x800B0101)",
        "self-signed": "self-signed certificate, no CA; like Windows, no null suites then",
        "no-null": "the server offers no NULL cipher suites (as with SSTP on the server)",
        "null-only": "the server offers only NULL-SHA256 and NULL-SHA (Windows 7 cannot connect)",
        "not-iphttps": "POST to the IP-HTTPS path answers 404 (path not registered in HTTP.sys)",
        "not-httpsys": "POST answers 200 without a Server header (another device answers 443)",
        "disabled": "the server reads the POST and disconnects without answering",
        "hang": "TCP connections are accepted and never answered, not even the TLS handshake",
        "client-cert": "the server requests a client certificate; like Windows, no null suites then",
        "no-ra": "after the 200 the server never answers a Router Solicitation (0x2AFC, 0x2AF9)",
        "no-prefix": "the Router Advertisement carries no Prefix Information option (0x2AFC)",
        "bad-prefix": "the Router Advertisement carries the cluster's /59, not a /64 (0x2AFC)",
    }
)

# Faults under which the server offers no NULL suite: Windows drops them with a self-signed
# certificate and with client-certificate authentication (REFERENCE.md §2).
NULL_REMOVING: frozenset[str] = frozenset({"no-null", "self-signed", "client-cert"})


def parse_faults(names: Iterable[str]) -> frozenset[str]:
    """Validate fault names; ValueError names the unknown ones and lists the known ones.

    `null-only` cannot be combined with a fault that removes the NULL suites: the server would
    offer no cipher suite at all, which emulates nothing a DirectAccess server does.
    """
    faults = frozenset(names)
    unknown = sorted(faults - FAULTS.keys())
    if unknown:
        raise ValueError(
            f"unknown fault{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
            f"known faults: {', '.join(FAULTS)}"
        )
    conflict = sorted(faults & NULL_REMOVING)
    if "null-only" in faults and conflict:
        raise ValueError(
            f"fault null-only cannot be combined with {', '.join(conflict)}: "
            "the server would offer no cipher suite at all"
        )
    return faults
