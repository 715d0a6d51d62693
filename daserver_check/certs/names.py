"""Host-name rules for the IP-HTTPS certificate: one matching rule, two verdicts.

DirectAccess matches the IP-HTTPS host against the certificate's Subject CN, and when a SAN
extension is present the host must be in it too (docs/windows-facts.md §3; KB 2980635 lists "the Subject
has additional unwanted information" and "the SAN values are wrong" as causes of 0x103).
Standards-based clients and tools follow RFC 6125 / RFC 9525 and the CA/Browser Forum: they
look at the SAN only and ignore the CN. A CN-only certificate therefore satisfies DirectAccess
but not `curl`, browsers or monitoring tools, and a SAN-only certificate the reverse; reports
show both verdicts (docs/windows-facts.md §3 last bullet, §8 check_ssl_cert lesson).

How names are compared. Only the URL host is normalised: lower case, one trailing dot
removed, U-labels converted to A-labels (RFC 5890 §2.3.2.1). A certificate's dNSName or CN is
taken as written: dNSName is an IA5String (RFC 5280 §4.2.1.6: "preferred name syntax",
internationalized names only as A-labels, §7.2), and CryptoAPI compares the server name it is
given with the certificate's names without IDNA or Unicode normalisation. So a certificate name
with any character outside printable ASCII — a zero-width space U+200B, full-width letters,
"ß" — never names a host, even if IDNA mapping would fold it into the host's spelling
(x509-limbo's IDNA cases; cryptography and OpenSSL reject such names too). Such names are
reported with the code points escaped (`\\u200b`), because they are invisible on a console.

Two Windows details, decided per rule set:
- A trailing dot in the certificate name ("da.contoso.com."). CertVerifyCertificateChainPolicy
  (CERT_CHAIN_POLICY_SSL) compares the server name literally: a host written with a trailing
  dot fails against a dot-less certificate name (golang/go PR 59846, rustls-platform-verifier
  issue 240; .NET's SslAuthenticationOptions and MongoDB's Windows TLS code strip the dot before
  calling it). By the same literal comparison a trailing-dot CN or dNSName does not name the
  dot-less IP-HTTPS host on Windows — inferred, no Microsoft source. Standards-based tools
  ignore one trailing dot on either side (RFC 1034 §3.1 absolute names); that is the RFC 6125
  verdict here.
- An underscore ("da_1.contoso.com"). Windows does not apply the host-name (LDH) syntax of
  RFC 1123 §2.1 when it matches names; the underscore is an ordinary character, compared
  literally, also under a wildcard (inferred: Microsoft documents no such check, and .NET on
  Windows accepted such names where its OpenSSL-based builds refused them, dotnet/runtime
  issues 31514 and 35880). Both verdicts here compare it literally; note that public CAs may
  no longer issue dNSNames with "_" (CA/Browser Forum ballot SC12) and cryptography's verifier
  refuses such a host.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.x509.oid import NameOID

from daserver_check.certs.x509util import ExtensionError, read_extension

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# RFC 6125 §6.4.3 leaves wildcard placement to the verifier; the CA/B Forum Baseline
# Requirements (§7.1.4.2.1) and modern verifiers accept only a whole left-most "*" label over at
# least two more labels, so "*.com" is refused even though it has the right shape.
_MIN_LABELS_AFTER_WILDCARD = 2


@dataclass(frozen=True)
class NameVerdict:
    """Whether a certificate names a host under one rule set, why, and the name that matched."""

    ok: bool
    reason: str
    matched: str | None = None

    def as_evidence(self) -> dict[str, object]:
        """JSON-friendly form; `matched` is left out when nothing matched (no nulls in evidence)."""
        data: dict[str, object] = {"ok": self.ok, "reason": self.reason}
        if self.matched is not None:
            data["matched"] = self.matched
        return data


@dataclass(frozen=True)
class SanNames:
    """The SAN entries that can name a server; other GeneralName types are only counted."""

    dns_names: tuple[str, ...]
    ip_addresses: tuple[IPAddress, ...]
    other_count: int

    def match(self, host: str, *, windows: bool = False) -> str | None:
        """The SAN entry that names `host`, as written in the certificate, or None.

        An IP host is compared with iPAddress entries only (as ipaddress objects, so different
        spellings of one IPv6 address agree); a dNSName never names an IP host (RFC 6125 §6.2.1).
        `windows` applies the Windows rule to dNSNames (see `hostname_matches`).
        """
        host_ip = parse_ip(host)
        if host_ip is not None:
            return next((str(ip) for ip in self.ip_addresses if ip == host_ip), None)
        return next(
            (name for name in self.dns_names if hostname_matches(name, host, windows=windows)),
            None,
        )


def parse_ip(text: str) -> IPAddress | None:
    """An IP literal (IPv6 may come in URL brackets), or None when `text` is not one."""
    candidate = text.strip()
    if candidate.startswith("[") and candidate.endswith("]"):
        candidate = candidate[1:-1]
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        return None


def _is_flagged(char: str) -> bool:
    """Outside printable ASCII: C0 controls, DEL and every non-ASCII code point (format
    characters such as U+200B, full-width forms, letters with diacritics)."""
    code = ord(char)
    return code < 0x20 or code >= 0x7F


def escape_name(name: str) -> str:
    """`name` with every character outside printable ASCII written as `\\uXXXX` (or
    `\\UXXXXXXXX`), so invisible and look-alike characters show in a report."""
    parts: list[str] = []
    for char in name:
        if not _is_flagged(char):
            parts.append(char)
        elif ord(char) > 0xFFFF:
            parts.append(f"\\U{ord(char):08x}")
        else:
            parts.append(f"\\u{ord(char):04x}")
    return "".join(parts)


def flagged_characters(name: str) -> list[str]:
    """The distinct characters of a certificate name that keep it from ever matching, escaped
    (`["\\u200b"]`), in order of appearance; empty for a name of printable ASCII."""
    return [escape_name(char) for char in dict.fromkeys(name) if _is_flagged(char)]


def name_problem(name: str, host: str, *, windows: bool) -> str | None:
    """Why a certificate name that looks like `host` does not name it, or None.

    Explains the two cases a reader cannot see: characters outside printable ASCII, and (for
    the Windows rule) a trailing dot the standards-based rule would have ignored.
    """
    flagged = flagged_characters(name)
    if flagged:
        return (
            f"'{escape_name(name)}' contains {', '.join(flagged)} (non-ASCII, invisible or control"
            " characters); certificate names are compared as ASCII, without IDNA or Unicode"
            " folding, so it names no host"
        )
    if windows and name.endswith(".") and hostname_matches(name, host):
        return (
            f"'{name}' ends with a dot; Windows compares the certificate name as written, so it"
            f" does not name {host} (inferred from CryptoAPI's literal name comparison)"
        )
    return None


def _host_labels(host: str) -> list[str] | None:
    """The URL host as lower-case A-labels without its trailing dot; None when it cannot be
    encoded. The host may be converted (U-label to A-label with the stdlib `idna` codec,
    IDNA 2003 nameprep); a label the codec refuses makes the host unmatchable."""
    if host.endswith("."):
        host = host[:-1]
    result: list[str] = []
    for label in host.split("."):
        if not label:
            return None  # empty label: "a..b", ".a" or "" never name a host
        if label.isascii():
            result.append(label.lower())
            continue
        try:
            encoded = label.encode("idna")
        except UnicodeError:
            return None
        result.append(encoded.decode("ascii").lower())
    return result


def _cert_labels(name: str, *, windows: bool) -> list[str] | None:
    """A certificate name as lower-case ASCII labels, or None when it can name no host.

    Never converted: any character outside printable ASCII makes it unmatchable. One trailing
    dot is removed under the standards-based rule, kept (and so never matching) under the
    Windows rule.
    """
    if flagged_characters(name):
        return None
    if name.endswith(".") and not windows:
        name = name[:-1]
    labels = name.lower().split(".")
    if any(not label for label in labels):
        return None
    return labels


def hostname_matches(pattern: str, host: str, *, windows: bool = False) -> bool:
    """The one matching rule: does certificate name `pattern` name the URL host `host`?

    ASCII, case-insensitive; the host may carry one trailing dot and may be written with
    U-labels; the certificate name is compared as written (module docstring): non-ASCII never
    matches, and its trailing dot is ignored only when `windows` is False. A wildcard is
    accepted only as the whole left-most label followed by at least two labels, and stands for
    exactly one non-empty label ("*.contoso.com" names "da.contoso.com", not "contoso.com" nor
    "a.b.contoso.com"); "da*.x.com", "*a.x.com", "f*o.x.com" and "*.*.com" never match. An IP
    host is matched only by the same address written as an IP literal, never by a wildcard
    (RFC 6125 §6.4.3, §6.2.1).
    """
    host_ip = parse_ip(host)
    if host_ip is not None:
        pattern_ip = parse_ip(pattern) if not flagged_characters(pattern) else None
        return pattern_ip is not None and pattern_ip == host_ip
    host_labels = _host_labels(host)
    pattern_labels = _cert_labels(pattern, windows=windows)
    if host_labels is None or pattern_labels is None:
        return False
    if any("*" in label for label in host_labels):
        return False  # a host name never contains a wildcard; "*" would otherwise match "*"
    if "*" not in "".join(pattern_labels):
        return pattern_labels == host_labels
    first, rest = pattern_labels[0], pattern_labels[1:]
    if first != "*" or any("*" in label for label in rest):
        return False
    if len(rest) < _MIN_LABELS_AFTER_WILDCARD:
        return False
    return len(host_labels) == len(pattern_labels) and host_labels[1:] == rest


def common_names(cert: x509.Certificate) -> list[str]:
    """Every Subject CN value in order. Raises ValueError when the Subject cannot be decoded."""
    values: list[str] = []
    for attribute in cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME):
        value = attribute.value
        values.append(value if isinstance(value, str) else value.decode("utf-8", "replace"))
    return values


def san_names(cert: x509.Certificate) -> SanNames | None:
    """The SAN entries, or None when the certificate has no SAN extension.

    Raises `ExtensionError` when the extensions cannot be read (duplicate or malformed).
    """
    san = read_extension(cert, x509.SubjectAlternativeName)
    if san is None:
        return None
    dns_names = tuple(san.get_values_for_type(x509.DNSName))
    ip_addresses = tuple(
        ip
        for ip in san.get_values_for_type(x509.IPAddress)
        if isinstance(ip, ipaddress.IPv4Address | ipaddress.IPv6Address)  # not networks
    )
    return SanNames(dns_names, ip_addresses, len(san) - len(dns_names) - len(ip_addresses))


def directaccess_name_verdict(cert: x509.Certificate, host: str) -> NameVerdict:
    """The name verdict as DirectAccess applies it (docs/windows-facts.md §3, KB 2980635).

    A Subject CN must name the host and it must be the only CN (several CNs are the "additional
    unwanted information" of KB 2980635); when a SAN extension is present it must name the host
    too. `matched` is the CN that matched.
    """
    try:
        cns = common_names(cert)
    except ValueError as exc:
        return NameVerdict(False, f"the Subject cannot be decoded: {exc}")
    if not cns:
        return NameVerdict(
            False, "the Subject has no CN; DirectAccess matches the host against the Subject CN"
        )
    matched = next((cn for cn in cns if hostname_matches(cn, host, windows=True)), None)
    if matched is None:
        listed = ", ".join(f"'{escape_name(cn)}'" for cn in cns)
        notes = [n for n in (name_problem(cn, host, windows=True) for cn in cns) if n]
        why = "".join(f"; {note}" for note in notes)
        return NameVerdict(False, f"no Subject CN names {host} (CN: {listed}){why}")
    if len(cns) > 1:
        return NameVerdict(
            False,
            f"the Subject carries {len(cns)} CNs; DirectAccess wants only the host name",
            matched,
        )
    try:
        san = san_names(cert)
    except ExtensionError as exc:
        return NameVerdict(False, f"the SAN extension cannot be read: {exc}", matched)
    if san is None:
        return NameVerdict(True, f"Subject CN {matched} names {host} (no SAN extension)", matched)
    if san.match(host, windows=True) is None:
        notes = [n for n in (name_problem(d, host, windows=True) for d in san.dns_names) if n]
        why = "".join(f"; {note}" for note in notes)
        return NameVerdict(
            False,
            f"Subject CN {matched} names {host} but the SAN extension does not contain it{why}",
            matched,
        )
    return NameVerdict(True, f"Subject CN {matched} and the SAN name {host}", matched)


def rfc6125_name_verdict(cert: x509.Certificate, host: str) -> NameVerdict:
    """The verdict of standards-based clients: SAN dNSName / iPAddress only, CN ignored.

    RFC 6125 §6.4.4 allowed the CN only as a last resort; RFC 9525 (which obsoletes it), the
    CA/B Forum and verifiers such as cryptography's `x509.verification` ignore it entirely.
    """
    try:
        san = san_names(cert)
    except ExtensionError as exc:
        return NameVerdict(False, f"the SAN extension cannot be read: {exc}")
    if san is None:
        return NameVerdict(
            False, "no SAN extension; RFC 6125/9525 clients ignore the Subject CN"
        )
    matched = san.match(host)
    if matched is None:
        kind = "iPAddress" if parse_ip(host) is not None else "dNSName"
        notes = [n for n in (name_problem(d, host, windows=False) for d in san.dns_names) if n]
        why = "".join(f"; {note}" for note in notes)
        return NameVerdict(False, f"no SAN {kind} entry names {host}{why}")
    return NameVerdict(True, f"SAN entry {matched} names {host}", matched)
