"""Host-name rules for the IP-HTTPS certificate: one matching rule, two verdicts.

DirectAccess matches the IP-HTTPS host against the certificate's Subject CN, and when a SAN
extension is present the host must be in it too (REFERENCE.md §3; KB 2980635 lists "the Subject
has additional unwanted information" and "the SAN values are wrong" as causes of 0x103).
Standards-based clients and tools follow RFC 6125 / RFC 9525 and the CA/Browser Forum: they
look at the SAN only and ignore the CN. A CN-only certificate therefore satisfies DirectAccess
but not `curl`, browsers or monitoring tools, and a SAN-only certificate the reverse; reports
show both verdicts (REFERENCE.md §3 last bullet, §8 check_ssl_cert lesson).
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

    def match(self, host: str) -> str | None:
        """The SAN entry that names `host`, as written in the certificate, or None.

        An IP host is compared with iPAddress entries only (as ipaddress objects, so different
        spellings of one IPv6 address agree); a dNSName never names an IP host (RFC 6125 §6.2.1).
        """
        host_ip = parse_ip(host)
        if host_ip is not None:
            return next((str(ip) for ip in self.ip_addresses if ip == host_ip), None)
        return next((name for name in self.dns_names if hostname_matches(name, host)), None)


def parse_ip(text: str) -> IPAddress | None:
    """An IP literal (IPv6 may come in URL brackets), or None when `text` is not one."""
    candidate = text.strip()
    if candidate.startswith("[") and candidate.endswith("]"):
        candidate = candidate[1:-1]
    try:
        return ipaddress.ip_address(candidate)
    except ValueError:
        return None


def _to_a_labels(name: str, *, allow_wildcard: bool) -> list[str] | None:
    """Lower-case A-labels of `name` without the trailing dot; None when it cannot be encoded.

    U-labels are converted with the stdlib `idna` codec (IDNA 2003 nameprep, which also folds
    case); a label it refuses makes the whole name unmatchable rather than guessed at.
    """
    if name.endswith("."):
        name = name[:-1]
    labels = name.split(".")
    result: list[str] = []
    for label in labels:
        if not label:
            return None  # empty label: "a..b", ".a" or "" never name a host
        if label.isascii():
            result.append(label.lower())
            continue
        if allow_wildcard and "*" in label:
            return None  # a partial wildcard in a U-label never matches anyway
        try:
            encoded = label.encode("idna")
        except UnicodeError:
            return None
        result.append(encoded.decode("ascii").lower())
    return result


def hostname_matches(pattern: str, host: str) -> bool:
    """The one matching rule: does certificate name `pattern` name the URL host `host`?

    Case-insensitive, one trailing dot ignored on either side, IDNA compared as A-labels. A
    wildcard is accepted only as the whole left-most label followed by at least two labels, and
    stands for exactly one non-empty label ("*.contoso.com" names "da.contoso.com", not
    "contoso.com" nor "a.b.contoso.com"); "da*.x.com", "*a.x.com", "f*o.x.com" and "*.*.com" never
    match. An IP host is matched only by the same address written as an IP literal, never by a
    wildcard (RFC 6125 §6.4.3, §6.2.1).
    """
    host_ip = parse_ip(host)
    if host_ip is not None:
        pattern_ip = parse_ip(pattern)
        return pattern_ip is not None and pattern_ip == host_ip
    host_labels = _to_a_labels(host, allow_wildcard=False)
    pattern_labels = _to_a_labels(pattern, allow_wildcard=True)
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
    """The name verdict as DirectAccess applies it (REFERENCE.md §3, KB 2980635).

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
    matched = next((cn for cn in cns if hostname_matches(cn, host)), None)
    if matched is None:
        listed = ", ".join(repr(cn) for cn in cns)
        return NameVerdict(False, f"no Subject CN names {host} (CN: {listed})")
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
    if san.match(host) is None:
        return NameVerdict(
            False,
            f"Subject CN {matched} names {host} but the SAN extension does not contain it",
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
        return NameVerdict(False, f"no SAN {kind} entry names {host}")
    return NameVerdict(True, f"SAN entry {matched} names {host}", matched)
