"""The path CryptoAPI would choose, and the name constraints along it.

Best path (chain.py): among the paths that reach a trusted root, a valid one beats one with an
expired certificate, then the shorter wins; validity, signature and EKU are judged on the chosen
path only, and a served certificate it does not use is cert.chain evidence. Name constraints
(name_constraints.py): dNSName/iPAddress subtrees and the DNS-like Subject CN, a cert.trust
failure naming the constraint and the CA, predicting 0x800B0114.
"""

from __future__ import annotations

import ipaddress
from datetime import timedelta

from cryptography import x509
from hypothesis import given, settings
from hypothesis import strategies as st

from daserver_check.certs.analysis import analyse_chain
from daserver_check.certs.chain import (
    MAX_SIGNATURE_CHECKS,
    MAX_TRUSTED_PATHS,
    MAX_VISITS,
    build_path,
)
from daserver_check.certs.name_constraints import (
    MAX_COMPARISONS,
    _dns_excluded,
    _dns_permitted,
    check_path,
)
from daserver_check.certs.trust import TrustStore
from daserver_check.model import Finding, Status
from tests.certs.pki import (
    HOST,
    NOW,
    Issued,
    intermediate,
    make_ca,
    make_leaf,
    root,
    rsa_key,
    with_extensions,
)

ROOT_KEY = "ca:Contoso Test Root CA"


def judged(chain: list[x509.Certificate], *roots: x509.Certificate,
           host: str = HOST) -> dict[str, Finding]:
    store = TrustStore(tuple(roots or (root().cert,)), "test roots")
    return {f.id: f for f in analyse_chain(chain, host, trust=store, now=NOW)}


def other_root() -> Issued:
    return make_ca("Fabrikam Old Root CA", key=rsa_key("ca:Fabrikam Old Root CA"))


def expired_cross() -> Issued:
    """The test root cross-signed by another root (same subject and key), expired."""
    return make_ca("Contoso Test Root CA", issuer=other_root(), key=rsa_key(ROOT_KEY),
                   not_before=NOW - timedelta(days=4000), not_after=NOW - timedelta(days=30))


def constrained_ca(constraints: x509.NameConstraints, name: str = "Contoso Partner CA") -> Issued:
    ca = make_ca(name, issuer=root())
    return with_extensions(ca, root().key, [constraints])


# ---------------------------------------------------------------- the best path


def test_expired_cross_certificate_the_path_does_not_need_is_not_a_validity_failure() -> None:
    """Issue 15 acceptance: leaf issued by the trusted root, plus an expired cross-certificate
    of that root (the 2021 DST Root CA X3 situation)."""
    leaf = make_leaf(root())
    found = judged([leaf.cert, expired_cross().cert], root().cert, other_root().cert)
    assert found["cert.trust"].status is Status.PASS
    assert found["cert.validity"].status is Status.PASS, found["cert.validity"].detail
    assert [e["position"] for e in found["cert.validity"].evidence["chain"]] == ["leaf"]
    chain = found["cert.chain"]
    assert chain.status is Status.WARN
    assert chain.title == "The server sends an unneeded expired certificate"
    assert chain.evidence["unneeded_outdated"][0]["subject"].startswith("CN=Contoso Test Root CA")
    assert "2 paths" in found["cert.trust"].evidence["why_chosen"]


def test_valid_path_beats_shorter_expired_one() -> None:
    """Two trusted paths: leaf → expired cross → old root (3) and leaf → root (2) is the
    obvious case; here the valid path is the longer one."""
    expired_ca = make_ca("Contoso Test Issuing CA", issuer=root(),
                         key=rsa_key("ca:Contoso Test Issuing CA"),
                         not_before=NOW - timedelta(days=900), not_after=NOW - timedelta(days=1))
    bridge = make_ca("Contoso Bridge CA", issuer=root())
    renewed = make_ca("Contoso Test Issuing CA", issuer=bridge,
                      key=rsa_key("ca:Contoso Test Issuing CA"))
    leaf = make_leaf(intermediate())
    path = build_path([leaf.cert, expired_ca.cert, renewed.cert, bridge.cert], [root().cert],
                      now=NOW)
    assert path.trusted and path.trusted_paths == 2
    assert [s.cert for s in path.steps] == [leaf.cert, renewed.cert, bridge.cert, root().cert]
    assert path.outside_validity == ()
    found = judged([leaf.cert, expired_ca.cert, renewed.cert, bridge.cert])
    assert found["cert.validity"].status is Status.PASS
    assert found["cert.chain"].status is Status.WARN


def test_expired_certificate_on_the_only_path_still_fails_validity() -> None:
    expired_ca = make_ca("Contoso Test Issuing CA", issuer=root(),
                         key=rsa_key("ca:Contoso Test Issuing CA"),
                         not_before=NOW - timedelta(days=900), not_after=NOW - timedelta(days=1))
    found = judged([make_leaf().cert, expired_ca.cert])
    assert found["cert.trust"].status is Status.PASS
    assert found["cert.validity"].status is Status.FAIL
    assert found["cert.validity"].predicts == (0x800B0101,)


def test_untrusted_chain_still_judges_every_served_certificate() -> None:
    """No trusted path, no chosen chain: an expired served certificate still fails. And when
    the only trusted path runs through the expired cross-certificate, it fails too."""
    chain = [make_leaf(root()).cert, expired_cross().cert]
    found = judged(chain, make_ca("Unrelated Root").cert)
    assert found["cert.trust"].status is Status.FAIL
    assert found["cert.validity"].status is Status.FAIL
    found = judged(chain, other_root().cert)
    assert found["cert.trust"].status is Status.PASS
    assert found["cert.validity"].status is Status.FAIL


def test_search_is_bounded_with_many_equivalent_cross_certificates() -> None:
    """Many cross-certificates with the same subject and key make the number of paths grow
    as a power of the depth; the budgets stop it."""
    key = rsa_key("ca:Contoso Test Issuing CA")
    crosses = [make_ca("Contoso Test Issuing CA", issuer=root(), key=key) for _ in range(20)]
    chain = [make_leaf().cert, *(c.cert for c in crosses)]
    path = build_path(chain, [root().cert], now=NOW)
    assert path.trusted
    assert path.trusted_paths <= MAX_TRUSTED_PATHS
    assert MAX_VISITS >= MAX_TRUSTED_PATHS and MAX_SIGNATURE_CHECKS > 0


@settings(max_examples=25, deadline=None)
@given(order=st.permutations(range(4)), with_root=st.booleans())
def test_served_order_never_changes_the_chosen_path(order: list[int], with_root: bool) -> None:
    """Whatever order the server sends the cross-certificate, the expired one and the
    intermediate in, the chosen path is the valid shortest one."""
    expired_ca = make_ca("Contoso Test Issuing CA", issuer=other_root(),
                         key=rsa_key("ca:Contoso Test Issuing CA"),
                         not_before=NOW - timedelta(days=900), not_after=NOW - timedelta(days=1))
    extras = [intermediate().cert, expired_cross().cert, expired_ca.cert, other_root().cert]
    served = [extras[i] for i in order]
    roots = [root().cert, other_root().cert] if with_root else [root().cert]
    leaf = make_leaf()
    path = build_path([leaf.cert, *served], roots, now=NOW)
    assert path.trusted and path.outside_validity == ()
    assert [s.cert for s in path.steps] == [leaf.cert, intermediate().cert, root().cert]


# ---------------------------------------------------------------- name constraints


def _excluding(*names: str) -> x509.NameConstraints:
    return x509.NameConstraints(permitted_subtrees=None,
                                excluded_subtrees=[x509.DNSName(n) for n in names])


def _permitting(*names: str) -> x509.NameConstraints:
    return x509.NameConstraints(permitted_subtrees=[x509.DNSName(n) for n in names],
                                excluded_subtrees=None)


def test_ca_excluding_the_url_host_fails_trust_naming_constraint_and_ca() -> None:
    """Issue 15 acceptance: a leaf under a CA whose name constraints exclude the URL host."""
    ca = constrained_ca(_excluding("contoso.com"))
    leaf = make_leaf(ca)
    found = judged([leaf.cert, ca.cert])
    trust = found["cert.trust"]
    assert trust.status is Status.FAIL
    assert trust.predicts == (0x800B0114,)
    assert "Contoso Partner CA" in trust.title and "exclude" in trust.title
    assert "excluded dNSName 'contoso.com'" in trust.detail
    assert "CERT_E_INVALID_NAME" in trust.detail
    violations = trust.evidence["name_constraints"]["violations"]
    assert {v["name"] for v in violations} == {"dNSName da.contoso.com",
                                               "Subject CN da.contoso.com"}
    # The other checks are unaffected: the names themselves are right.
    assert found["cert.subject-name"].status is Status.PASS


def test_cn_only_certificate_is_checked_through_its_cn() -> None:
    """No SAN: the Subject CN, the name DirectAccess uses, is placed against the dNSName
    subtrees (inferred CryptoAPI behaviour, name_constraints.py)."""
    ca = constrained_ca(_permitting("corp.fabrikam.com"))
    leaf = make_leaf(ca, san=None)
    trust = judged([leaf.cert, ca.cert])["cert.trust"]
    assert trust.status is Status.FAIL
    assert "do not permit Subject CN da.contoso.com" in trust.title


def test_permitted_namespace_passes_and_is_reported() -> None:
    ca = constrained_ca(_permitting("contoso.com"))
    trust = judged([make_leaf(ca).cert, ca.cert])["cert.trust"]
    assert trust.status is Status.PASS
    assert trust.evidence["name_constraints"]["constraining_cas"] == [
        "CN=Contoso Partner CA,O=Contoso Test"]


def test_ip_subtrees() -> None:
    nets = x509.NameConstraints(
        permitted_subtrees=[x509.IPAddress(ipaddress.ip_network("192.0.2.0/24"))],
        excluded_subtrees=None)
    ca = constrained_ca(nets)
    inside = check_path([make_leaf(ca, san=(HOST, "192.0.2.7")).cert, ca.cert, root().cert])
    outside = check_path([make_leaf(ca, san=(HOST, "198.51.100.7")).cert, ca.cert, root().cert])
    assert inside.violations == ()
    assert [v.name for v in outside.violations] == ["iPAddress 198.51.100.7"]


def test_other_name_forms_are_listed_as_not_evaluated() -> None:
    forms = x509.NameConstraints(permitted_subtrees=[x509.RFC822Name("contoso.com"),
                                                     x509.DNSName("contoso.com")],
                                 excluded_subtrees=None)
    ca = constrained_ca(forms)
    result = check_path([make_leaf(ca).cert, ca.cert, root().cert])
    assert result.violations == ()
    assert result.not_evaluated == ("rfc822Name subtrees of CN=Contoso Partner CA,O=Contoso Test",)


def test_too_many_comparisons_is_an_error_not_a_verdict() -> None:
    many = _excluding(*(f"x{i}.fabrikam.com" for i in range(400)))
    ca = constrained_ca(many)
    names = tuple(f"n{i}.contoso.com" for i in range(MAX_COMPARISONS // 400 + 5))
    leaf = make_leaf(ca, san=(HOST, *names))
    trust = judged([leaf.cert, ca.cert])["cert.trust"]
    assert trust.status is Status.ERROR
    assert "not fully checked" in trust.detail


def test_wildcard_names_against_subtrees() -> None:
    assert _dns_permitted("*.contoso.com", "contoso.com")
    assert not _dns_permitted("*.contoso.com", "da.contoso.com")
    assert _dns_excluded("*.contoso.com", "da.contoso.com")
    assert _dns_excluded("*.contoso.com", "contoso.com")
    assert not _dns_excluded("*.contoso.com", "a.b.contoso.com")
    assert not _dns_permitted("da.contoso.com.", "contoso.com")  # compared as written
    assert _dns_permitted("DA.Contoso.COM", "contoso.com")
    assert not _dns_permitted("xcontoso.com", "contoso.com")
    assert _dns_excluded("da.contoso.com", "")


_label = st.text(alphabet="abcz-*._\u200b", min_size=0, max_size=6)


@settings(max_examples=200, deadline=None)
@given(name=_label, base=_label)
def test_subtree_matching_never_raises_and_excluded_covers_permitted_plain_names(
    name: str, base: str
) -> None:
    permitted = _dns_permitted(name, base)
    excluded = _dns_excluded(name, base)
    if permitted and "*" not in name:
        assert excluded  # a plain name inside a subtree is inside it for both lists
