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
        "tls12-gcm-only": "TLS 1.2 only, AES-GCM and null suites (a published hardening): Windows 7 fails",
        "no-tls10": "TLS 1.0 disabled: Windows 7 without KB 3140245 cannot connect",
        "null-dropped": "a front end refuses ClientHellos offering null suites: Windows 8+ fail (0x80090326)",
        "tls13-only": "TLS 1.3 only: no Windows IP-HTTPS client connects (Windows 11: inferred)",
        "fips": "FIPS mode: AES suites only, no null suites (Windows 8+ double-encrypt)",
        "revoked": "the lab CA's CRL lists the server certificate (0x80092010)",
        "crl-unreachable": "the CRL distribution point answers 404 (0x80092013 for Windows 7)",
    }
)

# The protocol range (wire versions, RFC 8446 §4.1.2) the server accepts under a fault; HTTP.sys
# on Server 2012 R2-2019 speaks TLS 1.0-1.2 otherwise.
_TLS10, _TLS11, _TLS12, _TLS13 = 0x0301, 0x0302, 0x0303, 0x0304
PROTOCOL_FAULTS: Mapping[str, tuple[int, int]] = MappingProxyType(
    {
        "tls12-gcm-only": (_TLS12, _TLS12),
        "no-tls10": (_TLS11, _TLS12),
        "tls13-only": (_TLS13, _TLS13),
    }
)
# Cipher lists that replace the lab's under a fault. tls12-gcm-only keeps the null suites, as
# R. Hicks' Optimize-DaTlsConfiguration does on Server 2012 R2 (AES-GCM + null). FIPS mode drops
# the null suites (R. Hicks); that it leaves the AES suites with RSA and ECDHE key exchange is
# inferred from FIPS 140 approving AES and RSA/ECDH, not from a Windows document.
FAULT_CIPHERS: Mapping[str, str] = MappingProxyType(
    {
        "tls12-gcm-only": "NULL-SHA256:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:"
        "AES256-GCM-SHA384:AES128-GCM-SHA256:@SECLEVEL=0",
        "fips": "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES256-GCM-SHA384:"
        "AES128-GCM-SHA256:AES256-SHA256:AES128-SHA256:AES256-SHA:AES128-SHA:@SECLEVEL=0",
    }
)

# Faults under which the server offers no NULL suite: Windows drops them with a self-signed
# certificate and with client-certificate authentication (docs/windows-facts.md §2).
NULL_REMOVING: frozenset[str] = frozenset(
    {"no-null", "self-signed", "client-cert", "fips", "null-dropped"}
)
# A front end that refuses any ClientHello offering these code points (0x003B, 0x0002, the
# suites of R. Hicks' "Troubleshooting DirectAccess IP-HTTPS Error 0x80090326": a failure right
# after the ClientHello means the front end lacks the null suites).
REFUSED_BY_NULL_DROPPED: frozenset[int] = frozenset({0x003B, 0x0002})


def protocol_range(faults: Iterable[str]) -> tuple[int, int]:
    """(lowest, highest) TLS wire version the lab accepts under `faults`."""
    for name in faults:
        if name in PROTOCOL_FAULTS:
            return PROTOCOL_FAULTS[name]
    return _TLS10, _TLS12


def fault_ciphers(faults: Iterable[str]) -> str | None:
    """The cipher string a fault imposes, or None for the lab's own choice."""
    chosen = frozenset(faults)
    imposed = next((FAULT_CIPHERS[name] for name in sorted(chosen) if name in FAULT_CIPHERS), None)
    if imposed is not None and chosen & NULL_REMOVING:
        imposed = ":".join(part for part in imposed.split(":") if not part.startswith("NULL-"))
    return imposed


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
    protocols = sorted(faults & PROTOCOL_FAULTS.keys())
    if len(protocols) > 1:
        raise ValueError(f"faults {' and '.join(protocols)} set different protocol versions; pick one")
    ciphers = sorted(faults & {*FAULT_CIPHERS, "null-only"})
    if len(ciphers) > 1:
        raise ValueError(f"faults {' and '.join(ciphers)} set different cipher suites; pick one")
    conflict = sorted(faults & NULL_REMOVING)
    if "null-only" in faults and "tls13-only" in faults:
        conflict.append("tls13-only")  # TLS 1.3 has no null suites
    if "null-only" in faults and conflict:
        raise ValueError(
            f"fault null-only cannot be combined with {', '.join(conflict)}: "
            "the server would offer no cipher suite at all"
        )
    return faults
