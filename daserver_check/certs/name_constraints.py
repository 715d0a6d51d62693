"""Name constraints along a certification path: dNSName and iPAddress subtrees.

RFC 5280 §4.2.1.10 and §6.1.3 (b)-(c): a CA certificate's NameConstraints bound the names of
every certificate below it on the path. A name must lie inside at least one permitted subtree
of its form (when the CA lists any for that form) and inside no excluded subtree. Self-issued
CA certificates below the constraining CA are exempt (key rollover), the leaf never is. Each
constraining CA is checked on its own, so a lower CA cannot widen what a higher one permits.

Only the forms an IP-HTTPS certificate carries are evaluated: dNSName and iPAddress. Other
forms (rfc822Name, URI, directoryName, otherName) are listed as not evaluated. CryptoAPI has
status bits for these cases (CERT_TRUST_HAS_NOT_SUPPORTED_NAME_CONSTRAINT,
CERT_TRUST_HAS_NOT_DEFINED_NAME_CONSTRAINT; Microsoft Learn, "CERT_TRUST_STATUS structure
(wincrypt.h)"), but how the SSL policy weighs them is not documented, so they are reported, not
judged (inferred).

The Subject CN. DirectAccess names its server by the Subject CN (docs/windows-facts.md §3), so a
leaf CN that has the shape of a host name is checked against the dNSName subtrees as if it were
a dNSName, whether or not a SAN is present. Microsoft does not document whether CryptoAPI checks
the CN this way; this is inferred, and it is what OpenSSL (since 1.1.0), Go and BoringSSL do for
a DNS-like CN, so that a constrained CA cannot name an arbitrary host through the CN.

Wildcard dNSNames ("*.contoso.com") are checked as the set of names they stand for: permitted
only when every name they match is permitted, excluded when any name they match is excluded (the
position x509-limbo takes for CVE-2025-61727). A malformed name (empty label, non-ASCII
characters) is never inside a permitted subtree; a malformed constraint (a wildcard, a leading
period, non-ASCII characters, an iPAddress that is not an address and mask) is itself a
violation, as CERT_TRUST_INVALID_NAME_CONSTRAINTS is in CryptoAPI.

Windows reports a name outside the permitted subtrees, or inside an excluded one, as
CERT_E_INVALID_NAME 0x800B0114 (Microsoft Learn, "CERT_CHAIN_POLICY_STATUS structure
(wincrypt.h)", base policy errors).

Bounded for hostile input: at most `MAX_COMPARISONS` name-to-subtree comparisons per path; past
that the result says the check was stopped rather than guessing.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from cryptography import x509

from daserver_check.certs.names import common_names, escape_name, flagged_characters
from daserver_check.certs.x509util import ExtensionError, is_self_issued, read_extension, subject_text

MAX_COMPARISONS = 20_000

Kind = Literal["excluded", "not-permitted", "invalid-constraint", "limit"]
_IpName = ipaddress.IPv4Address | ipaddress.IPv6Address | ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Violation:
    """One broken constraint: which CA sets it, what it says, and the name that breaks it."""

    kind: Kind
    ca: str  # Subject of the CA certificate whose NameConstraints extension is broken
    constraint: str  # e.g. "excluded dNSName contoso.com"
    name: str = ""  # e.g. "dNSName da.contoso.com" (escaped), empty for a bad constraint
    holder: str = ""  # Subject of the certificate that carries `name`

    def text(self) -> str:
        if self.kind == "invalid-constraint":
            return f"{self.ca} has a malformed name constraint: {self.constraint}"
        if self.kind == "limit":
            return f"name constraints of {self.ca} not fully checked: {self.constraint}"
        verb = "excludes" if self.kind == "excluded" else "does not permit"
        return (
            f"{self.ca} sets {self.constraint}, which {verb} {self.name}"
            f" (in {self.holder})"
        )

    def as_evidence(self) -> dict[str, str]:
        return {
            "kind": self.kind,
            "ca": self.ca,
            "constraint": self.constraint,
            "name": self.name,
            "holder": self.holder,
        }


@dataclass(frozen=True)
class ConstraintResult:
    violations: tuple[Violation, ...] = ()
    not_evaluated: tuple[str, ...] = field(default=())  # "rfc822Name subtrees of CN=…"
    constraining_cas: tuple[str, ...] = field(default=())


# ------------------------------------------------------------------ dNSName


def _labels(name: str) -> list[str] | None:
    """Lower-case labels of a dNSName or subtree base, or None when malformed (empty label,
    anything outside printable ASCII, spaces). One trailing dot is not accepted either: the
    names are compared as written (certs/names.py)."""
    if flagged_characters(name) or " " in name:
        return None
    labels = name.lower().split(".")
    if any(not label for label in labels):
        return None
    return labels


def _base_problem(base: str) -> str | None:
    """Why a dNSName subtree base is malformed (RFC 5280 §4.2.1.10 takes a host name whose
    left side may be extended), or None. The empty base is valid and covers every name."""
    if base == "":
        return None
    if base.startswith("."):
        return f"dNSName '{escape_name(base)}' starts with a period (not a dNSName form)"
    if "*" in base:
        return f"dNSName '{escape_name(base)}' contains a wildcard"
    if _labels(base) is None:
        return f"dNSName '{escape_name(base)}' is not a host name"
    return None


def _within(name_labels: list[str], base_labels: list[str]) -> bool:
    """`name` is `base` or `base` with labels added on the left."""
    if not base_labels:
        return True
    return len(name_labels) >= len(base_labels) and name_labels[-len(base_labels) :] == base_labels


def _dns_permitted(name: str, base: str) -> bool:
    labels = _labels(name)
    base_labels = [] if base == "" else (_labels(base) or [])
    if labels is None:
        return False
    if labels[0] == "*" and "*" not in "".join(labels[1:]):
        # every name "*.rest" stands for is inside the base when "rest" is
        return _within(labels[1:], base_labels)
    if "*" in "".join(labels):
        return False  # a wildcard anywhere else names nothing a constraint can place
    return _within(labels, base_labels)


def _dns_excluded(name: str, base: str) -> bool:
    base_labels = [] if base == "" else (_labels(base) or [])
    labels = _labels(name)
    if labels is None:
        # A malformed name may still sit visibly under the base ("x .contoso.com"): compare
        # the lower-cased text so it cannot slip out of an exclusion.
        lowered = name.lower()
        return base == "" or lowered == base.lower() or lowered.endswith("." + base.lower())
    if labels[0] == "*":
        rest = labels[1:]
        if _within(rest, base_labels):
            return True
        # "*.contoso.com" also stands for "bar.contoso.com": excluded when the base is one
        # label more than the rest of the wildcard.
        return len(base_labels) == len(rest) + 1 and base_labels[1:] == rest
    return _within(labels, base_labels)


def _dns_like_cn(cn: str) -> bool:
    """A CN shaped like a host name: at least two labels of letters, digits, '-', '_' or a
    left-most '*' (the same shape test OpenSSL applies before checking a CN, inferred)."""
    labels = _labels(cn)
    if labels is None or len(labels) < 2:
        return False
    allowed = set("abcdefghijklmnopqrstuvwxyz0123456789-_")
    first, rest = labels[0], labels[1:]
    if first != "*" and not set(first) <= allowed:
        return False
    return all(set(label) <= allowed for label in rest)


# ------------------------------------------------------------------ names of a certificate


@dataclass
class _Names:
    dns: list[tuple[str, str]]  # (name as checked, how it is shown)
    ips: list[tuple[_IpName, str]]


def _names_of(cert: x509.Certificate, *, leaf: bool) -> _Names:
    names = _Names([], [])
    try:
        san = read_extension(cert, x509.SubjectAlternativeName)
    except ExtensionError:
        san = None  # cert.san reports an unreadable SAN; nothing to place here
    if san is not None:
        for value in san.get_values_for_type(x509.DNSName):
            names.dns.append((value, f"dNSName {escape_name(value)}"))
        for ip in san.get_values_for_type(x509.IPAddress):
            names.ips.append((ip, f"iPAddress {ip}"))
    if leaf:
        try:
            cns = common_names(cert)
        except ValueError:
            cns = []
        for cn in cns:
            if _dns_like_cn(cn):
                names.dns.append((cn, f"Subject CN {escape_name(cn)}"))
    return names


# ------------------------------------------------------------------ the path


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_COMPARISONS

    def spend(self, count: int) -> bool:
        self.left -= count
        return self.left >= 0


_EVALUATED = (x509.DNSName, x509.IPAddress)
_FORM_NAMES: dict[type, str] = {
    x509.RFC822Name: "rfc822Name",
    x509.UniformResourceIdentifier: "URI",
    x509.DirectoryName: "directoryName",
    x509.OtherName: "otherName",
    x509.RegisteredID: "registeredID",
}


def _check_ca(
    ca: x509.Certificate,
    constraints: x509.NameConstraints,
    below: Sequence[tuple[x509.Certificate, bool]],
    budget: _Budget,
) -> tuple[list[Violation], list[str]]:
    ca_text = subject_text(ca)
    permitted = list(constraints.permitted_subtrees or [])
    excluded = list(constraints.excluded_subtrees or [])
    violations: list[Violation] = []
    skipped = sorted(
        {
            _FORM_NAMES.get(type(sub), type(sub).__name__)
            for sub in [*permitted, *excluded]
            if not isinstance(sub, _EVALUATED)
        }
    )
    not_evaluated = [f"{form} subtrees of {ca_text}" for form in skipped]
    for label, subtrees in (("permitted", permitted), ("excluded", excluded)):
        for sub in subtrees:
            problem = _subtree_problem(sub)
            if problem is not None:
                violations.append(Violation("invalid-constraint", ca_text, f"{label} {problem}"))
    if violations:
        return violations, not_evaluated
    dns_permitted = [s.value for s in permitted if isinstance(s, x509.DNSName)]
    dns_excluded = [s.value for s in excluded if isinstance(s, x509.DNSName)]
    ip_permitted = [s.value for s in permitted if isinstance(s, x509.IPAddress)]
    ip_excluded = [s.value for s in excluded if isinstance(s, x509.IPAddress)]
    for cert, is_leaf in below:
        names = _names_of(cert, leaf=is_leaf)
        holder = subject_text(cert)
        cost = len(names.dns) * (len(dns_permitted) + len(dns_excluded))
        cost += len(names.ips) * (len(ip_permitted) + len(ip_excluded))
        if not budget.spend(cost):
            violations.append(
                Violation("limit", ca_text, f"more than {MAX_COMPARISONS} name comparisons")
            )
            return violations, not_evaluated
        for name, shown in names.dns:
            hit = next((base for base in dns_excluded if _dns_excluded(name, base)), None)
            if hit is not None:
                violations.append(
                    Violation("excluded", ca_text, f"excluded dNSName {hit!r}", shown, holder)
                )
            elif dns_permitted and not any(_dns_permitted(name, b) for b in dns_permitted):
                listed = ", ".join(repr(b) for b in dns_permitted[:5])
                more = "…" if len(dns_permitted) > 5 else ""
                violations.append(
                    Violation(
                        "not-permitted", ca_text, f"permitted dNSName {listed}{more}", shown, holder
                    )
                )
        for ip, shown in names.ips:
            ip_hit = next((net for net in ip_excluded if _ip_in(ip, net)), None)
            if ip_hit is not None:
                violations.append(
                    Violation("excluded", ca_text, f"excluded iPAddress {ip_hit}", shown, holder)
                )
            elif ip_permitted and not any(_ip_in(ip, net) for net in ip_permitted):
                listed = ", ".join(str(n) for n in ip_permitted[:5])
                violations.append(
                    Violation("not-permitted", ca_text, f"permitted iPAddress {listed}", shown,
                              holder)
                )
    return violations, not_evaluated


def _subtree_problem(sub: x509.GeneralName) -> str | None:
    if isinstance(sub, x509.DNSName):
        return _base_problem(sub.value)
    if isinstance(sub, x509.IPAddress) and not isinstance(
        sub.value, ipaddress.IPv4Network | ipaddress.IPv6Network
    ):
        return f"iPAddress {sub.value} has no mask (a subtree is an address and a mask)"
    return None


def _ip_in(ip: _IpName, net: _IpName) -> bool:
    if not isinstance(net, ipaddress.IPv4Network | ipaddress.IPv6Network):
        return False
    if isinstance(ip, ipaddress.IPv4Network | ipaddress.IPv6Network):
        # A SAN iPAddress must be one address; a range there is malformed and never placed
        # inside a permitted subtree (x509-limbo nc-permits-invalid-ip-san).
        return False
    return ip.version == net.version and ip in net


def check_path(certs: Sequence[x509.Certificate]) -> ConstraintResult:
    """The name-constraint violations of a path given leaf first (anchor last)."""
    budget = _Budget()
    violations: list[Violation] = []
    not_evaluated: list[str] = []
    constraining: list[str] = []
    for index in range(1, len(certs)):
        ca = certs[index]
        try:
            constraints = read_extension(ca, x509.NameConstraints)
        except ExtensionError as exc:
            violations.append(
                Violation("invalid-constraint", subject_text(ca), f"unreadable extension ({exc})")
            )
            continue
        if constraints is None:
            continue
        constraining.append(subject_text(ca))
        # RFC 5280 §6.1.3 (b): self-issued certificates are exempt unless they are the leaf.
        below = [
            (certs[i], i == 0) for i in range(index) if i == 0 or not is_self_issued(certs[i])
        ]
        found, skipped = _check_ca(ca, constraints, below, budget)
        violations.extend(found)
        not_evaluated.extend(skipped)
        if any(v.kind == "limit" for v in found):
            break
    return ConstraintResult(tuple(violations), tuple(not_evaluated), tuple(constraining))
