"""The x509-limbo cases about names, name constraints and multiple paths, rebuilt here.

Each function rebuilds one case of C2SP x509-limbo (its id is the case's `limbo_id`; the case
definitions are in limbo/testcases/webpki/san.py, webpki/cn.py, webpki/nc.py, rfc5280/nc.py,
rfc5280/san.py, rfc5280/__init__.py, cve.py and pathological.py of that repository) with this
project's generator, and states two verdicts: limbo's (web PKI, RFC 5280) and the DirectAccess
verdict this tool gives. Where they differ, `why` says why (docs/conformance.md):

- CN required: DirectAccess matches the URL host against the Subject CN (KB 2980635), so a
  certificate that names the host only in the SAN (or only as a wildcard SAN) is refused, even
  where the web PKI accepts it.
- CN-only accepted: a certificate without a SAN is fine for DirectAccess (docs/windows-facts.md
  §3), where RFC 6125/9525 clients refuse it.
- CA/Browser Forum encoding rules for the CN (exact copy of a SAN entry, RFC 5952 text for IPv6)
  are issuance rules; a client compares names, so the tool does not refuse them (inferred).
- RFC 5280 profile rules CryptoAPI is not known to enforce (name constraints marked
  non-critical, name constraints in an end-entity certificate): not refused (inferred).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

from cryptography import x509

from tests.conformance.limbo_pki import Case, ca, cn, leaf, nc, raw_nc

CN_REQUIRED = "CN required: DirectAccess matches the host against the Subject CN"
CN_ONLY = "CN-only accepted: DirectAccess needs no SAN"
CABF_ISSUANCE = "CA/B Forum CN encoding is an issuance rule; the CN names the host"
PROFILE_RULE = "RFC 5280 profile rule CryptoAPI is not known to enforce (inferred)"

CASES: list[Callable[[], Case]] = []


def case(func: Callable[[], Case]) -> Callable[[], Case]:
    CASES.append(func)
    return func


def _dns(*names: str) -> list[x509.GeneralName]:
    return [x509.DNSName(n) if n.isascii() else x509.DNSName._init_without_validation(n)
            for n in names]


def _ip(*values: str) -> list[x509.GeneralName]:
    out: list[x509.GeneralName] = []
    for value in values:
        out.append(x509.IPAddress(ipaddress.ip_network(value) if "/" in value
                                  else ipaddress.ip_address(value)))
    return out


def _simple(limbo_id: str, limbo: bool, ours: bool, host: str, *,
            subject: x509.Name | None = None, san: list[x509.GeneralName] | None = None,
            why: str = "", san_critical: bool = False) -> Case:
    """root → leaf, the shape of limbo's name cases."""
    root = ca("root")
    cert = leaf(root, subject=subject, san=san, san_critical=san_critical)
    return Case(limbo_id, limbo, ours, host, cert, [], [root.cert], why=why)


# ---------------------------------------------------------------- webpki::san


@case
def exact_dns_san() -> Case:
    return _simple("webpki::san::exact-dns-san", True, True, "example.com", san=_dns("example.com"))


@case
def exact_localhost_ip_san() -> Case:
    return _simple("webpki::san::exact-localhost-ip-san", True, False, "127.0.0.1",
                   san=_ip("127.0.0.1"), why=CN_REQUIRED)


@case
def mismatch_domain_san() -> Case:
    return _simple("webpki::san::mismatch-domain-san", False, False, "example2.com",
                   san=_dns("example.com"))


@case
def mismatch_subdomain_san() -> Case:
    return _simple("webpki::san::mismatch-subdomain-san", False, False, "def.example.com",
                   san=_dns("abc.example.com"))


@case
def mismatch_subdomain_apex_san() -> Case:
    return _simple("webpki::san::mismatch-subdomain-apex-san", False, False, "abc.example.com",
                   san=_dns("example.com"))


@case
def mismatch_apex_subdomain_san() -> Case:
    return _simple("webpki::san::mismatch-apex-subdomain-san", False, False, "example.com",
                   san=_dns("abc.example.com"))


@case
def public_suffix_wildcard_san() -> Case:
    return _simple("webpki::san::public-suffix-wildcard-san", False, False, "example.com",
                   san=_dns("*.com"))


@case
def public_suffix_multi_label_wildcard_san() -> Case:
    return _simple("webpki::san::public-suffix-multi-label-wildcard-san", False, False,
                   "example.co.uk", san=_dns("*.co.uk"))


@case
def leftmost_wildcard_san() -> Case:
    return _simple("webpki::san::leftmost-wildcard-san", True, False, "foo.example.com",
                   san=_dns("*.example.com"), why=CN_REQUIRED)


@case
def wildcard_embedded_leftmost_san() -> Case:
    return _simple("webpki::san::wildcard-embedded-leftmost-san", False, False, "baz.example.com",
                   san=_dns("ba*.example.com"))


@case
def wildcard_not_in_leftmost_san() -> Case:
    return _simple("webpki::san::wildcard-not-in-leftmost-san", False, False,
                   "foo.bar.example.com", san=_dns("foo.*.example.com"))


@case
def wildcard_match_across_labels_san() -> Case:
    return _simple("webpki::san::wildcard-match-across-labels-san", False, False,
                   "foo.bar.example.com", san=_dns("*.example.com"))


@case
def wildcard_embedded_ulabel_san() -> Case:
    return _simple("webpki::san::wildcard-embedded-ulabel-san", False, False,
                   "xn--bliss-1b3c148a.example.com", san=_dns("xn--*-1b3c148a.example.com"))


@case
def unicode_emoji_san() -> Case:
    return _simple("webpki::san::unicode-emoji-san", False, False, "xn--628h.example.com",
                   san=_dns("\U0001f61c.example.com"))


@case
def no_san() -> Case:
    return _simple("webpki::san::no-san", False, True, "example.com", san=None, why=CN_ONLY)


@case
def san_critical_with_nonempty_subject() -> Case:
    return _simple("webpki::san::san-critical-with-nonempty-subject", False, False, "example.com",
                   subject=cn("something-else"), san=_dns("example.com"), san_critical=True)


@case
def san_wildcard_only() -> Case:
    return _simple("webpki::san::san-wildcard-only", False, False, "example.com", san=_dns("*"))


@case
def san_wildcard_only_tld() -> Case:
    return _simple("webpki::san::san-wildcard-only-tld", False, False, "com", san=_dns("*"))


# ---------------------------------------------------------------- webpki::cn


def _cn_case(name: str, limbo_cn: str, san: list[x509.GeneralName], host: str,
             ours: bool) -> Case:
    return _simple(f"webpki::cn::{name}", False, ours, host, subject=cn(limbo_cn), san=san,
                   why="" if not ours else CABF_ISSUANCE)


@case
def cn_ipv4_hex_mismatch() -> Case:
    return _cn_case("ipv4-hex-mismatch", "0xC0A80101", _ip("192.168.1.1"), "192.168.1.1", False)


@case
def cn_ipv4_leading_zeros_mismatch() -> Case:
    return _cn_case("ipv4-leading-zeros-mismatch", "192.168.001.001", _ip("192.168.1.1"),
                    "192.168.1.1", False)


@case
def cn_ipv6_uppercase_mismatch() -> Case:
    return _cn_case("ipv6-uppercase-mismatch", "2001:DB8::8A2E:370:7334",
                    _ip("2001:db8::8a2e:370:7334"), "2001:db8::8a2e:370:7334", True)


@case
def cn_ipv6_uncompressed_mismatch() -> Case:
    return _cn_case("ipv6-uncompressed-mismatch", "2001:0db8:0000:0000:0000:0000:0000:0001",
                    _ip("2001:db8::1"), "2001:db8::1", True)


@case
def cn_ipv6_non_rfc5952_mismatch() -> Case:
    return _cn_case("ipv6-non-rfc5952-mismatch", "2001:db8:0:0:1:0:0:1",
                    _ip("2001:db8::1:0:0:1"), "2001:db8::1:0:0:1", True)


@case
def cn_punycode_not_in_san() -> Case:
    return _cn_case("punycode-not-in-san", "xn--nxasmq6b.com", _dns("xn--n3h.com"),
                    "xn--n3h.com", False)


@case
def cn_utf8_vs_punycode_mismatch() -> Case:
    return _cn_case("utf8-vs-punycode-mismatch", "test-\u6e2c\u8a66.com",
                    _dns("xn--test--wg5h0h.com"), "xn--test--wg5h0h.com", False)


@case
def cn_not_in_san() -> Case:
    return _cn_case("not-in-san", "notinsan.example.com",
                    _dns("valid.example.com", "another.example.com"), "valid.example.com", False)


@case
def cn_case_mismatch() -> Case:
    return _cn_case("case-mismatch", "Example.COM", _dns("example.com"), "example.com", True)


# ---------------------------------------------------------------- rfc5280::san


@case
def underscore_dns() -> Case:
    return _simple("rfc5280::san::underscore-dns", False, False, "foo_bar.example.com",
                   san=_dns("foo_bar.example.com"))


@case
def ip_in_dns() -> Case:
    return _simple("rfc5280::san::ip-in-dns", False, False, "8.8.8.8", san=_dns("8.8.8.8"))


# ---------------------------------------------------------------- name constraints


def _rooted(limbo_id: str, limbo: bool, ours: bool, host: str,
            constraints: x509.NameConstraints, san: list[x509.GeneralName], *,
            trust: str, critical: bool = True, why: str = "") -> Case:
    """root (with `constraints`) → leaf (SAN `san`, CN=example.com)."""
    root = ca("nc-root", constraints=constraints, constraints_critical=critical)
    return Case(limbo_id, limbo, ours, host, leaf(root, san=san), [], [root.cert], trust, why)


def _via_ica(limbo_id: str, limbo: bool, ours: bool, host: str,
             constraints: x509.NameConstraints, san: list[x509.GeneralName], *,
             trust: str, why: str = "") -> Case:
    """root → ICA (with `constraints`) → leaf (CN=example.com)."""
    root = ca("root")
    ica = ca("nc-ica", parent=root, constraints=constraints)
    cert = leaf(ica, san=san)
    return Case(limbo_id, limbo, ours, host, cert, [ica.cert], [root.cert], trust, why)


@case
def permitted_dns_mismatch() -> Case:
    return _rooted("rfc5280::nc::permitted-dns-mismatch", False, False, "example.com",
                   nc(_dns("example.com")), _dns("not-example.com"), trust="fail")


@case
def excluded_dns_match() -> Case:
    return _via_ica("rfc5280::nc::excluded-dns-match", False, False, "example.com",
                    nc(None, _dns("example.com")), _dns("example.com"), trust="fail")


@case
def permitted_dns_match() -> Case:
    return _rooted("rfc5280::nc::permitted-dns-match", True, True, "example.com",
                   nc(_dns("example.com")), _dns("example.com"), trust="pass")


@case
def permitted_dns_match_noncritical_rfc5280() -> Case:
    return _rooted("rfc5280::nc::permitted-dns-match-noncritical", False, True, "example.com",
                   nc(_dns("example.com")), _dns("example.com"), trust="pass", critical=False,
                   why=PROFILE_RULE)


@case
def permitted_dns_match_noncritical_webpki() -> Case:
    return _rooted("webpki::nc::permitted-dns-match-noncritical", True, True, "example.com",
                   nc(_dns("example.com")), _dns("example.com"), trust="pass", critical=False)


@case
def permitted_dns_match_more() -> Case:
    return _rooted("rfc5280::nc::permitted-dns-match-more", True, False, "foo.bar.example.com",
                   nc(_dns("example.com")), _dns("foo.bar.example.com"), trust="pass",
                   why=CN_REQUIRED)


@case
def excluded_dns_match_second() -> Case:
    return _rooted("rfc5280::nc::excluded-dns-match-second", False, False, "example.com",
                   nc(None, _dns("not-allowed.example.com")),
                   _dns("example.com", "not-allowed.example.com"), trust="fail")


@case
def permitted_ip_mismatch() -> Case:
    return _rooted("rfc5280::nc::permitted-ip-mismatch", False, False, "192.0.3.1",
                   nc(_ip("192.0.2.0/24")), _ip("192.0.3.1"), trust="fail")


@case
def excluded_ipv4_match() -> Case:
    return _rooted("rfc5280::nc::excluded-ipv4-match", False, False, "192.0.2.1",
                   nc(None, _ip("192.0.2.0/24")), _ip("192.0.2.1"), trust="fail")


@case
def excluded_ipv6_match() -> Case:
    return _rooted("rfc5280::nc::excluded-ipv6-match", False, False, "::1",
                   nc(None, _ip("::1/128")), _ip("::1"), trust="fail")


@case
def permitted_ipv4_match() -> Case:
    return _rooted("rfc5280::nc::permitted-ipv4-match", True, False, "192.0.2.1",
                   nc(_ip("192.0.2.0/24")), _ip("192.0.2.1"), trust="pass", why=CN_REQUIRED)


@case
def permitted_ipv6_match() -> Case:
    return _rooted("rfc5280::nc::permitted-ipv6-match", True, False, "::1",
                   nc(_ip("::1/128")), _ip("::1"), trust="pass", why=CN_REQUIRED)


@case
def permitted_self_issued() -> Case:
    name = cn("not-example.com")
    root = ca("self-issued-root", subject=name, san=_dns("not-example.com"),
              constraints=nc(_dns("example.com")))
    ica = ca("self-issued-ica", parent=root, subject=name, san=_dns("not-example.com"))
    return Case("rfc5280::nc::permitted-self-issued", True, True, "example.com",
                leaf(ica), [ica.cert], [root.cert], "pass")


@case
def excluded_self_issued_leaf() -> Case:
    name = cn("not-example.com")
    root = ca("nc-root", constraints=nc(_dns("example.com")))
    ica = ca("plain-ica", parent=root, subject=name, san=_dns("not-example.com"))
    cert = leaf(ica, subject=name, issuer=name, san=_dns("not-example.com"))
    return Case("rfc5280::nc::excluded-self-issued-leaf", False, False, "not-example.com",
                cert, [ica.cert], [root.cert], "fail")


@case
def excluded_match_permitted_and_excluded() -> Case:
    return _rooted("rfc5280::nc::excluded-match-permitted-and-excluded", False, False,
                   "example.com", nc(_dns("example.com"), _dns("example.com")),
                   _dns("example.com"), trust="fail")


@case
def permitted_different_constraint_type() -> Case:
    return _rooted("rfc5280::nc::permitted-different-constraint-type", True, True, "example.com",
                   nc(_ip("192.0.2.0/24")), _dns("example.com"), trust="pass")


@case
def excluded_different_constraint_type() -> Case:
    return _rooted("rfc5280::nc::excluded-different-constraint-type", True, True, "example.com",
                   nc(None, _ip("192.0.2.0/24")), _dns("example.com"), trust="pass")


@case
def invalid_dnsname_wildcard() -> Case:
    return _rooted("rfc5280::nc::invalid-dnsname-wildcard", False, False, "foo.example.com",
                   raw_nc(_dns("*.example.com"), None), _dns("foo.example.com"), trust="fail")


@case
def invalid_dnsname_leading_period() -> Case:
    return _rooted("rfc5280::nc::invalid-dnsname-leading-period", False, False, "foo.example.com",
                   raw_nc(_dns(".example.com"), None), _dns("foo.example.com"), trust="fail")


@case
def invalid_ipv4_address() -> Case:
    return _rooted("rfc5280::nc::invalid-ipv4-address", False, False, "127.0.0.1",
                   raw_nc(_ip("127.0.0.1"), None), _ip("127.0.0.1"), trust="fail")


@case
def not_allowed_in_ee_noncritical() -> Case:
    root = ca("root")
    cert = leaf(root, extra=nc(_dns("example.com")))
    return Case("rfc5280::nc::not-allowed-in-ee-noncritical", False, True, "example.com", cert,
                [], [root.cert], "pass", PROFILE_RULE)


@case
def intermediate_with_san_rejected_by_intermediate_nc() -> Case:
    root = ca("root")
    ica1 = ca("nc-ica", parent=root,
              constraints=nc(_dns("permitted.example.com"), _dns("forbidden.example.com")))
    ica2 = ca("ica2", parent=ica1, san=_dns("forbidden.example.com"))
    cert = leaf(ica2, san=_dns("permitted.example.com"))
    return Case("rfc5280::nc::intermediate-with-san-rejected-by-intermediate-nc", False, False,
                "permitted.example.com", cert, [ica1.cert, ica2.cert], [root.cert], "fail")


@case
def restrictive_permits_in_intermediates_narrows() -> Case:
    root = ca("root")
    ica1 = ca("nc-ica", parent=root, constraints=nc(_dns("foo.example.com", "bar.example.com")))
    ica2 = ca("ica2", parent=ica1, constraints=nc(_dns("bar.example.com")))
    cert = leaf(ica2, san=_dns("foo.example.com"))
    return Case("rfc5280::nc::restrictive-permits-in-intermediates-narrows", False, False,
                "foo.example.com", cert, [ica1.cert, ica2.cert], [root.cert], "fail")


@case
def restrictive_permits_in_intermediates_widens() -> Case:
    root = ca("root")
    ica1 = ca("nc-ica", parent=root, constraints=nc(_dns("bar.example.com")))
    ica2 = ca("ica2", parent=ica1, constraints=nc(_dns("foo.example.com", "bar.example.com")))
    cert = leaf(ica2, san=_dns("foo.example.com"))
    return Case("rfc5280::nc::restrictive-permits-in-intermediates-widens", False, False,
                "foo.example.com", cert, [ica1.cert, ica2.cert], [root.cert], "fail")


@case
def nc_permits_invalid_dns_san() -> Case:
    return _via_ica("rfc5280::nc::nc-permits-invalid-dns-san", False, False, "foo.example.com",
                    nc(_dns("example.com")), _dns(".example.com", "foo.example.com"),
                    trust="fail")


@case
def nc_permits_invalid_ip_san() -> Case:
    return _via_ica("rfc5280::nc::nc-permits-invalid-ip-san", False, False, "192.0.2.1",
                    nc(_ip("192.0.2.0/24")), _ip("192.0.2.0/24", "192.0.2.1"), trust="fail")


@case
def nc_forbids_alternate_chain_ica() -> Case:
    discarded = ca("discarded-root")
    trusted = ca("trusted-root")
    ica_a = ca("ica-a", parent=trusted,
               constraints=nc(_dns("permitted.example.com"), _dns("forbidden.example.com")))
    ica_b1 = ca("ica-b1", parent=discarded, subject=cn("an-intermediate"), key_slot="ica-b",
                san=_dns("forbidden.example.com"))
    ica_b2 = ca("ica-b2", parent=ica_a, subject=cn("an-intermediate"), key_slot="ica-b")
    cert = leaf(ica_b1, subject=cn("permitted.example.com"), san=_dns("permitted.example.com"))
    return Case("rfc5280::nc::nc-forbids-alternate-chain-ica", True, True,
                "permitted.example.com", cert, [ica_a.cert, ica_b1.cert, ica_b2.cert],
                [trusted.cert], "pass")


@case
def nc_forbids_same_chain_ica() -> Case:
    root_a = ca("root-a")
    root_b = ca("root-b")
    ica_a = ca("ica-a", parent=root_a, constraints=nc(None, _dns("forbidden.example.com")))
    ica_b1 = ca("ica-b1", parent=ica_a, subject=cn("an-intermediate"), key_slot="ica-b",
                san=_dns("forbidden.example.com"))
    ica_b2 = ca("ica-b2", parent=root_b, subject=cn("an-intermediate"), key_slot="ica-b",
                san=_dns("unconstrained-ica.example.com"))
    cert = leaf(ica_b1, subject=cn("unconstrained.example.com"),
                san=_dns("unconstrained.example.com"))
    return Case("rfc5280::nc::nc-forbids-same-chain-ica", True, True,
                "unconstrained.example.com", cert, [ica_a.cert, ica_b1.cert, ica_b2.cert],
                [root_a.cert, root_b.cert], "pass")


@case
def nc_forbids_dnsname_wildcard_san() -> Case:
    return _via_ica("rfc5280::nc::nc-forbids-dnsname-wildcard-san", False, False,
                    "bar.example.com", nc(_dns("example.com"), _dns("bar.example.com")),
                    _dns("*.example.com"), trust="fail")


@case
def nc_permits_dns_san_pattern() -> Case:
    return _via_ica("webpki::nc::nc-permits-dns-san-pattern", True, False, "foo.example.com",
                    nc(_dns("example.com")), _dns("*.example.com"), trust="pass",
                    why=CN_REQUIRED)


@case
def cve_2025_61727() -> Case:
    return _via_ica("cve::cve-2025-61727", False, False, "bar.example.com",
                    nc(_dns("example.com"), _dns("bar.example.com")), _dns("*.example.com"),
                    trust="fail")


@case
def cve_2025_61727_nc_permits_variant() -> Case:
    return _via_ica("cve::cve-2025-61727-nc-permits-variant", False, False, "foo.example.com",
                    nc(_dns("foo.example.com")), _dns("*.example.com"), trust="fail")


# ---------------------------------------------------------------- multiple paths


@case
def multiple_chains_expired_intermediate() -> Case:
    from datetime import UTC, datetime

    root = ca("root")
    root_two = ca("root-2")
    expired = ca("expired-cross", parent=root_two, subject=root.cert.subject, key_slot="root",
                 not_after=datetime(2001, 11, 25, tzinfo=UTC))
    return Case("pathological::multiple-chains-expired-intermediate", True, True, "example.com",
                leaf(root), [expired.cert], [root.cert, root_two.cert], "pass")


@case
def root_and_intermediate_swapped() -> Case:
    root = ca("root")
    ica = ca("ica", parent=root)
    return Case("rfc5280::root-and-intermediate-swapped", True, True, "example.com", leaf(ica),
                [root.cert], [ica.cert], "pass")


@case
def intermediate_cycle_distinct_cas() -> Case:
    root = ca("root")
    name1, name2 = cn("intermediate-cycle-distinct-ca1"), cn("intermediate-cycle-distinct-ca2")
    ica1 = ca("cycle-1", parent=ca("cycle-2", subject=name2), subject=name1)
    ica2 = ca("cycle-2", parent=ca("cycle-1", subject=name1), subject=name2)
    return Case("pathological::intermediate-cycle-distinct-cas", False, False, "example.com",
                leaf(ica1), [ica1.cert, ica2.cert], [root.cert], "fail")
