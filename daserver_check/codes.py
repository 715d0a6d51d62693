"""The Windows client error codes an IP-HTTPS client reports (docs/windows-facts.md §4).

Each code lists the causes KB 2980635, KB 2980660 and docs/windows-facts.md give, and for each
cause the finding ids (checks) that detect it and its source (or "inferred"), so that a report
and `explain` can point from a client symptom to the check that proves or rules out a cause.

Over 400 lines because it is a data table: every code with its causes and sources reads best
in one place, where a reviewer checks them against the KB articles.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from daserver_check.findings import FindingId
from daserver_check.model import format_code


@dataclass(frozen=True, slots=True)
class Cause:
    """One documented cause of a code: what it is, the checks that detect it, and its basis.

    `source` names a KB number, a Microsoft Learn page title or a named author's post; where no
    source ties the code to the cause, `inferred` is True and every output says "(inferred)".
    """

    text: str
    checks: tuple[FindingId, ...]  # finding ids that detect this cause
    source: str
    inferred: bool = False

    @property
    def basis(self) -> str:
        return f"{self.source} (inferred)" if self.inferred else self.source


# Who shows most codes: a client's own Last Error Code.
CLIENT_REPORTED = "a DirectAccess client's IP-HTTPS interface (Last Error Code)"


@dataclass(frozen=True, slots=True)
class ClientErrorCode:
    code: int
    symbol: str
    meaning: str
    causes: tuple[Cause, ...] = ()
    generic_only: bool = False  # only the generic Windows meaning is known for IP-HTTPS
    # Who shows the code. Most are a client's Last Error Code; 0x643 and 0x34 are what the
    # IP-HTTPS interface reports when it cannot be created, on the server as on a client
    # (KB 2980660), so their causes are the machine's own configuration.
    reported_by: str = CLIENT_REPORTED

    @property
    def hex(self) -> str:
        return format_code(self.code)


_KB2980635 = "KB 2980635"
_KB2980660 = "KB 2980660"

# KB 2980635 lists the same causes for 0x2AF9 and 0x2AFC.
_CONNECT_CAUSES: tuple[Cause, ...] = (
    Cause("A proxy server is blocking the connection",
          (FindingId.PROXY_CONNECT, FindingId.CLIENT_PROXY, FindingId.CLIENT_SYSTEM_PROXY),
          _KB2980635),
    Cause(
        "The IP-HTTPS server's public name cannot be resolved",
        (FindingId.DNS_RESOLVE, FindingId.DNS_NODATA, FindingId.DNS_PRIVATE_ADDRESS),
        _KB2980635,
    ),
    Cause(
        "A client-side or server-side firewall blocks TCP 443",
        (FindingId.TCP_CONNECT, FindingId.TRACE_PATH),
        _KB2980635,
    ),
    Cause(
        "The NAT device in front of the server is misconfigured (behind-edge deployment)",
        (FindingId.DNS_ENTRY_POINTS, FindingId.TCP_CONNECT, FindingId.TLS_HANDSHAKE,
         FindingId.IPHTTPS_SERVER),
        _KB2980635,
    ),
    Cause(
        "The server does not publish its IPv6 prefix, or IP-HTTPS is disabled on the server",
        (FindingId.IPHTTPS_POST, FindingId.IPHTTPS_PREFIX),
        _KB2980635,
    ),
    Cause(
        "Another device answers on 443 (not HTTP.sys), or no TLS handshake is possible",
        (FindingId.TLS_HANDSHAKE, FindingId.IPHTTPS_SERVER),
        "nmap ip-https-discover.nse; R. Hicks, Troubleshooting DirectAccess IP-HTTPS Error "
        "0x2af9",
        inferred=True,
    ),
)

_INTERFACE_CAUSES: tuple[Cause, ...] = (
    Cause(
        "A duplicate or corrupt IP-HTTPS interface, or stale IPHTTPS/IPHTTPSProfiles policy keys",
        (FindingId.SERVER_IPHTTPS_POLICY, FindingId.SERVER_IPHTTPS_STATE,
         FindingId.CLIENT_ADAPTERS),
        _KB2980660,
    ),
    Cause(
        "A corrupt or conflicting HTTP.sys URL reservation on the server "
        "(BranchCache C574AC30…, SSTP sra_{BA195980…})",
        (FindingId.SERVER_URLACL_CONFLICT, FindingId.SERVER_URLACL_DUPLICATE, FindingId.SERVER_URLACL_ACL),
        _KB2980660,
    ),
    Cause(
        "IPv6 or the IPv6 transition adapters are disabled (DisabledComponents)",
        (FindingId.SERVER_IPV6_COMPONENTS, FindingId.CLIENT_ADAPTERS),
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
            reported_by="the IP-HTTPS interface of the machine that fails to create it: the "
            "DirectAccess server, or a client (KB 2980660)",
        ),
        ClientErrorCode(
            0x643,
            "ERROR_INSTALL_FAILURE",
            "Fatal error during installation: same causes as 0x34 (interface creation failure).",
            _INTERFACE_CAUSES,
            reported_by="the IP-HTTPS interface of the machine that fails to create it: the "
            "DirectAccess server, or a client (KB 2980660)",
        ),
        ClientErrorCode(
            0x103,
            "ERROR_NO_MORE_ITEMS",
            "No usable certificate found: the certificate does not match the IP-HTTPS URL.",
            (
                Cause(
                    "The IP-HTTPS URL does not match the certificate's Subject",
                    (FindingId.CERT_SUBJECT_NAME,),
                    _KB2980635,
                ),
                Cause(
                    "The Subject carries additional unwanted information",
                    (FindingId.CERT_SUBJECT_EXTRA,),
                    _KB2980635,
                ),
                Cause(
                    "The Subject is right but the SAN values are wrong",
                    (FindingId.CERT_SAN,),
                    _KB2980635,
                ),
                Cause(
                    "No Server Authentication EKU, or no private key bound with the certificate",
                    (FindingId.CERT_EKU, FindingId.CERT_PRIVATE_KEY),
                    "Learn: Plan the DirectAccess infrastructure; BPA KB 2896496 (they require "
                    "both, but name no client code)",
                    inferred=True,
                ),
                Cause(
                    "The HTTP.sys SSL binding serves another certificate",
                    (FindingId.SERVER_SSLCERT_BINDING, FindingId.CERT_REPLACEMENT),
                    "KB 973982 (HTTP.sys binding order)",
                    inferred=True,
                ),
                Cause(
                    "Certificate-authenticated IP-HTTPS (UAG, Windows Server 2008 R2): the "
                    "client's computer certificate is missing or unusable",
                    (FindingId.TLS_CLIENT_CERT,),
                    "T. Shinder, TechNet Wiki: No Usable Certificate(s)",
                ),
            ),
        ),
        ClientErrorCode(
            0x2AF9,
            "WSAHOST_NOT_FOUND",
            "No such host is known: the client could not reach an IP-HTTPS server.",
            (
                *_CONNECT_CAUSES,
                Cause(
                    "The public name falls inside an NRPT namespace without an exemption",
                    (FindingId.SERVER_NRPT,),
                    "R. Hicks, DirectAccess NRPT Configuration with Split DNS; KB 3056560",
                ),
            ),
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
                    # Public DNS still answers, so no outside probe sees it: the server's NRPT
                    # (Get-DAClientDnsConfiguration) or the client's (Get-DnsClientNrptPolicy)
                    # shows it. dns.private-address finds the related split-brain answer.
                    (FindingId.DNS_PRIVATE_ADDRESS, FindingId.SERVER_NRPT),
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
                    (FindingId.TCP_CONNECT, FindingId.TRACE_PATH),
                    "R. Hicks, Troubleshooting DirectAccess IP-HTTPS Error 0x2af9",
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
                    (FindingId.TCP_CONNECT,),
                    "winerror.h",
                ),
                Cause(
                    "The public name lies inside an NRPT namespace without an exemption",
                    (FindingId.DNS_PRIVATE_ADDRESS, FindingId.SERVER_NRPT),
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
                    (FindingId.TARGET_IP_LITERAL,),
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
                    (FindingId.TLS_CLIENT_CERT,),
                    "R. Hicks, Troubleshooting DirectAccess IP-HTTPS Error 0x90320",
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
                    (FindingId.TLS_HANDSHAKE, FindingId.TLS_CLIENT_CERT, FindingId.TLS_NULL_CIPHER,
                     FindingId.TLS_CLIENT_WINDOWS8, FindingId.TLS_CLIENT_WINDOWS10,
                     FindingId.TLS_CLIENT_WINDOWS11),
                    "R. Hicks, Troubleshooting DirectAccess IP-HTTPS Error 0x80090326",
                ),
                Cause(
                    "The server refuses every protocol version or suite a client offers "
                    "(e.g. TLS 1.0 disabled while Windows 7 clients remain)",
                    (FindingId.TLS_CLIENT_WINDOWS7, FindingId.TLS_CLIENT_WINDOWS7_TLS12,
                     FindingId.SERVER_TLS_SCHANNEL),
                    "Windows' message text of SEC_E_ILLEGAL_MESSAGE (a fatal TLS alert)",
                    inferred=True,
                ),
            ),
        ),
        ClientErrorCode(
            0x800B0101,
            "CERT_E_EXPIRED",
            "A required certificate is not within its validity period.",
            (Cause("The IP-HTTPS certificate expired", (FindingId.CERT_VALIDITY,),
                   "R. Hicks, DirectAccess IP-HTTPS error 0x800b0101 (2016-11-15)"),),
        ),
        ClientErrorCode(
            0x800B0109,
            "CERT_E_UNTRUSTEDROOT",
            "A certificate chain terminated in a root certificate which is not trusted.",
            (
                Cause(
                    "The chain does not lead to a root the client trusts, or intermediates "
                    "are missing",
                    (FindingId.CERT_TRUST, FindingId.CERT_CHAIN),
                    "KB 2980667",
                ),
            ),
        ),
        ClientErrorCode(
            0x800B0114,
            "CERT_E_INVALID_NAME",
            "The certificate has an invalid name. Either the name is not included in the "
            "permitted list, or it is explicitly excluded.",
            (
                Cause(
                    "A CA on the chain has name constraints that exclude (or do not permit) "
                    "the IP-HTTPS certificate's name",
                    (FindingId.CERT_TRUST,),
                    "CERT_CHAIN_POLICY_STATUS structure (wincrypt.h), Microsoft Learn; "
                    "RFC 5280 §4.2.1.10",
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
                    (FindingId.CERT_CRL,),
                    "KB 2980672",
                ),
            ),
        ),
        ClientErrorCode(
            0x80092010,
            "CRYPT_E_REVOKED",
            "The certificate is revoked by its issuer.",
            (Cause("The IP-HTTPS certificate was revoked", (FindingId.CERT_CRL,), "winerror.h"),),
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
        ClientErrorCode(
            0x80092012,
            "CRYPT_E_NO_REVOCATION_CHECK",
            "The revocation function was unable to check revocation for the certificate.",
            (
                Cause(
                    "The certificate names no CRL distribution point, so a client that checks "
                    "revocation cannot",
                    (FindingId.CERT_CRL,),
                    "winerror.h (CryptoAPI's code for no revocation check)",
                    inferred=True,
                ),
            ),
        ),
    )
}


def lookup(code: int) -> ClientErrorCode | None:
    return CATALOGUE.get(code)


_CODE = re.compile(
    r"0[xX](?P<hex>[0-9A-Fa-f]{1,8})"
    r"|(?P<bare>(?=[0-9A-Fa-f]*[A-Fa-f])[0-9A-Fa-f]{1,8})"
    r"|-?[0-9]{1,10}",
    re.ASCII,
)


def parse_code(text: str) -> int:
    """Parse a code as admins copy it: `0x2AFC` (any case), bare hex with a letter (`2AFC`),
    decimal (`11004`), or a signed HRESULT decimal as PowerShell prints it (`-2146885613`).
    Digits alone are decimal. Raises ValueError with a readable message.
    """
    s = text.strip()
    # ASCII digits only: Python's int() would also take "0x1_0", "+16" and non-ASCII digits,
    # none of which is how Windows writes a code.
    match = _CODE.fullmatch(s)
    if match is None:
        raise ValueError(f"not an error code: {text!r} (write it as 0x2AFC, 2AFC, 11004 or "
                         "-2146885613)")
    if match.group("hex") is not None:
        value = int(match.group("hex"), 16)
    elif match.group("bare") is not None:
        value = int(match.group("bare"), 16)
    else:
        value = int(s, 10)
        if value < 0:
            if value < -0x80000000:
                raise ValueError(f"error code out of range (32 bits): {text!r}")
            value &= 0xFFFFFFFF  # a signed HRESULT: -2146885613 is 0x80092013
    if not 0 <= value <= 0xFFFFFFFF:
        raise ValueError(f"error code out of range (32 bits): {text!r}")
    return value


def inferred_for(code: int, finding_id: str) -> bool:
    """Whether the catalogue ties `code` to `finding_id` only through causes marked inferred
    (the report then prints "(inferred)" beside the code). False when a sourced cause names it,
    or when the catalogue does not name the finding for that code at all."""
    entry = CATALOGUE.get(code)
    if entry is None:
        return False
    naming = [cause for cause in entry.causes if finding_id in cause.checks]
    return bool(naming) and all(cause.inferred for cause in naming)
