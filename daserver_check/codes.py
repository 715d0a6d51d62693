"""The Windows client error codes an IP-HTTPS client reports (REFERENCE.md §4).

Each code lists the causes the seed articles and REFERENCE.md give, and for each cause the
finding ids (checks) that detect it, so that a report and `explain` can point from a client
symptom to the check that proves or rules out a cause.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from daserver_check.model import format_code


@dataclass(frozen=True, slots=True)
class Cause:
    text: str
    checks: tuple[str, ...]  # finding ids that detect this cause
    source: str


@dataclass(frozen=True, slots=True)
class ClientErrorCode:
    code: int
    symbol: str
    meaning: str
    causes: tuple[Cause, ...] = ()
    generic_only: bool = False  # only the generic Windows meaning is known for IP-HTTPS

    @property
    def hex(self) -> str:
        return format_code(self.code)


_KB2980635 = "KB 2980635 (seed 001)"
_KB2980660 = "KB 2980660 (seed 000)"

# Seed 001 lists the same causes for 0x2AF9 and 0x2AFC.
_CONNECT_CAUSES: tuple[Cause, ...] = (
    Cause("A proxy server is blocking the connection", ("proxy.connect", "client.proxy"), _KB2980635),
    Cause(
        "The IP-HTTPS server's public name cannot be resolved",
        ("dns.resolve", "dns.nodata", "dns.private-address"),
        _KB2980635,
    ),
    Cause(
        "A client-side or server-side firewall blocks TCP 443",
        ("tcp.connect", "trace.path"),
        _KB2980635,
    ),
    Cause(
        "The NAT device in front of the server is misconfigured (behind-edge deployment)",
        ("dns.entry-points", "tcp.connect", "tls.handshake", "iphttps.server"),
        _KB2980635,
    ),
    Cause(
        "The server does not publish its IPv6 prefix, or IP-HTTPS is disabled on the server",
        ("iphttps.post", "iphttps.prefix"),
        _KB2980635,
    ),
    Cause(
        "Another device answers on 443 (not HTTP.sys), or no TLS handshake is possible",
        ("tls.handshake", "iphttps.server"),
        "nmap ip-https-discover.nse; Richard Hicks",
    ),
)

_INTERFACE_CAUSES: tuple[Cause, ...] = (
    Cause(
        "A duplicate or corrupt IP-HTTPS interface, or stale IPHTTPS/IPHTTPSProfiles policy keys",
        ("server.iphttps.policy", "server.iphttps.state"),
        _KB2980660,
    ),
    Cause(
        "A corrupt or conflicting HTTP.sys URL reservation on the server "
        "(BranchCache C574AC30…, SSTP sra_{BA195980…})",
        ("server.urlacl.conflict", "server.urlacl.duplicate", "server.urlacl.acl"),
        _KB2980660,
    ),
    Cause(
        "IPv6 or the IPv6 transition adapters are disabled (DisabledComponents)",
        ("server.ipv6.components",),
        _KB2980660,
    ),
)

CATALOGUE: Mapping[int, ClientErrorCode] = {
    c.code: c
    for c in (
        ClientErrorCode(0x0, "ERROR_SUCCESS", "The IP-HTTPS interface is active."),
        ClientErrorCode(
            0x34,
            "ERROR_DUP_NAME",
            "Interface creation failure: a setting or interface conflicts with the IP-HTTPS "
            "configuration.",
            _INTERFACE_CAUSES,
        ),
        ClientErrorCode(
            0x643,
            "ERROR_INSTALL_FAILURE",
            "Fatal error during installation: same causes as 0x34 (interface creation failure).",
            _INTERFACE_CAUSES,
        ),
        ClientErrorCode(
            0x103,
            "ERROR_NO_MORE_ITEMS",
            "No usable certificate found: the certificate does not match the IP-HTTPS URL.",
            (
                Cause(
                    "The IP-HTTPS URL does not match the certificate's Subject",
                    ("cert.subject-name",),
                    _KB2980635,
                ),
                Cause(
                    "The Subject carries additional unwanted information",
                    ("cert.subject-extra",),
                    _KB2980635,
                ),
                Cause(
                    "The Subject is right but the SAN values are wrong",
                    ("cert.san",),
                    _KB2980635,
                ),
                Cause(
                    "No Server Authentication EKU, or no private key bound with the certificate",
                    ("cert.eku", "cert.private-key"),
                    "Plan the DirectAccess infrastructure; BPA KB 2896496",
                ),
                Cause(
                    "The HTTP.sys SSL binding serves another certificate",
                    ("server.sslcert.binding", "cert.replacement"),
                    "KB 973982 (inference: binding order)",
                ),
            ),
        ),
        ClientErrorCode(
            0x2AF9,
            "WSAHOST_NOT_FOUND",
            "No such host is known: the client could not reach an IP-HTTPS server.",
            _CONNECT_CAUSES,
        ),
        ClientErrorCode(
            0x2AFC,
            "WSANO_DATA",
            "The requested name is valid, but no data of the requested type was found: the "
            "client could not reach an IP-HTTPS server.",
            (
                *_CONNECT_CAUSES,
                Cause(
                    "The public name is caught by the NRPT (resolved inside the corporate "
                    "namespace)",
                    ("dns.private-address",),
                    "KB 3056560",
                ),
            ),
        ),
        ClientErrorCode(
            0x274C,
            "WSAETIMEDOUT",
            "The connection attempt timed out: TCP 443 is not reachable.",
            (
                Cause(
                    "A firewall drops TCP 443, or NAT/routing sends it nowhere",
                    ("tcp.connect", "trace.path"),
                    "Richard Hicks (0x2af9 post)",
                ),
            ),
        ),
        ClientErrorCode(
            0x274D,
            "WSAECONNREFUSED",
            "The connection was refused.",
            (
                Cause(
                    "Nothing listens on the port, or a firewall rejects it",
                    ("tcp.connect",),
                    "winerror.h",
                ),
                Cause(
                    "The public name lies inside an NRPT namespace without an exemption",
                    ("dns.private-address",),
                    "KB 3056560, KB 3052855",
                ),
            ),
        ),
        ClientErrorCode(
            0x4BE,
            "ERROR_INVALID_NETNAME",
            "Invalid IPHTTPS URL specified.",
            (
                Cause(
                    "An IP address is used as the public name",
                    ("target.ip-literal",),
                    "KB 2980627",
                ),
            ),
        ),
        ClientErrorCode(
            0x90320,
            "SEC_I_INCOMPLETE_CREDENTIALS",
            "The server asked for a client certificate the client did not supply.",
            (
                Cause(
                    "The server (or a load balancer) requests a client certificate",
                    ("tls.client-cert",),
                    "Richard Hicks",
                ),
            ),
        ),
        ClientErrorCode(
            0x80090326,
            "SEC_E_ILLEGAL_MESSAGE",
            "The message received was unexpected or badly formatted.",
            (
                Cause(
                    "A load balancer/ADC in front of the server is misconfigured (client "
                    "certificate settings, no null suites)",
                    ("tls.handshake", "tls.client-cert", "tls.null-cipher"),
                    "Richard Hicks",
                ),
            ),
        ),
        ClientErrorCode(
            0x800B0101,
            "CERT_E_EXPIRED",
            "A required certificate is not within its validity period.",
            (Cause("The IP-HTTPS certificate expired", ("cert.validity",), "Richard Hicks"),),
        ),
        ClientErrorCode(
            0x800B0109,
            "CERT_E_UNTRUSTEDROOT",
            "A certificate chain terminated in a root certificate which is not trusted.",
            (
                Cause(
                    "The chain does not lead to a root the client trusts, or intermediates "
                    "are missing",
                    ("cert.trust", "cert.chain"),
                    "KB 2980667",
                ),
            ),
        ),
        ClientErrorCode(
            0x80092013,
            "CRYPT_E_REVOCATION_OFFLINE",
            "The revocation function was unable to check revocation because the revocation "
            "server was offline.",
            (
                Cause(
                    "The CRL distribution point is not reachable from the Internet",
                    ("cert.crl",),
                    "KB 2980672",
                ),
            ),
        ),
        ClientErrorCode(
            0x80092010,
            "CRYPT_E_REVOKED",
            "The certificate is revoked by its issuer.",
            (Cause("The IP-HTTPS certificate was revoked", ("cert.crl",), "winerror.h"),),
        ),
        # Generic Windows meanings only (winerror.h); no IP-HTTPS-specific cause is documented.
        ClientErrorCode(0x2, "ERROR_FILE_NOT_FOUND", "The system cannot find the file specified.",
                        generic_only=True),
        ClientErrorCode(0x57, "ERROR_INVALID_PARAMETER", "The parameter is incorrect.",
                        generic_only=True),
        ClientErrorCode(0x490, "ERROR_NOT_FOUND", "Element not found.", generic_only=True),
        ClientErrorCode(0x2746, "WSAECONNRESET",
                        "An existing connection was forcibly closed by the remote host.",
                        generic_only=True),
        ClientErrorCode(0x800B010F, "CERT_E_CN_NO_MATCH",
                        "The certificate's CN name does not match the passed value.",
                        generic_only=True),
        ClientErrorCode(0x80092012, "CRYPT_E_NO_REVOCATION_CHECK",
                        "The revocation function was unable to check revocation for the "
                        "certificate.", generic_only=True),
    )
}


def lookup(code: int) -> ClientErrorCode | None:
    return CATALOGUE.get(code)


_CODE = re.compile(r"0[xX]([0-9A-Fa-f]{1,8})|[0-9]{1,10}", re.ASCII)


def parse_code(text: str) -> int:
    """Parse a client code: hex with its `0x` prefix (any case), or decimal digits.

    Raises ValueError with a readable message.
    """
    s = text.strip()
    # ASCII digits only: Python's int() would also take "0x1_0", "+16" and non-ASCII digits,
    # none of which is how Windows writes a code.
    match = _CODE.fullmatch(s)
    if match is None:
        raise ValueError(f"not an error code: {text!r} (write it as 0x2AFC or as decimal)")
    value = int(match.group(1), 16) if match.group(1) else int(s, 10)
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"error code out of range (32 bits): {text!r}")
    return value
