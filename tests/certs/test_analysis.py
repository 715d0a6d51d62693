"""analyse_chain: one test per finding id and status, and odd certificates never raise."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID

from daserver_check.certs.analysis import CERT_FINDING_IDS, CertPolicy, analyse_chain
from daserver_check.certs.trust import TrustStore
from daserver_check.model import Finding, Status

from .pki import (
    CLIENT_AUTH,
    HOST,
    NOW,
    Issued,
    ed_key,
    intermediate,
    make_ca,
    make_leaf,
    resign,
    root,
    rsa_key,
    with_duplicate_extension,
    with_unknown_key_algorithm,
)

ADDRESS = "192.0.2.10"
TRUST = TrustStore((root().cert,), "roots.pem")
UNTRUSTED_ROOT_NAME = "Fabrikam Untrusted Root"

NO_USABLE_CERT = 0x103
CERT_EXPIRED = 0x800B0101
CERT_UNTRUSTED = 0x800B0109


def _assert_json_types(value: object, path: str = "evidence") -> None:
    """Evidence holds only str/int/bool/list/dict (the JSON contract), no None or objects."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert isinstance(key, str), path
            _assert_json_types(item, f"{path}.{key}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _assert_json_types(item, f"{path}[{index}]")
    else:
        assert isinstance(value, str | int | bool), f"{path}: {type(value).__name__}"


def analyse(
    chain: Sequence[x509.Certificate],
    host: str = HOST,
    *,
    trust: TrustStore = TRUST,
    policy: CertPolicy | None = None,
    now: datetime = NOW,
) -> dict[str, Finding]:
    findings = analyse_chain(
        chain, host, trust=trust, policy=policy or CertPolicy(), now=now, address=ADDRESS
    )
    assert [f.id for f in findings] == list(CERT_FINDING_IDS)
    for finding in findings:
        assert finding.address == ADDRESS
        assert finding.title
        _assert_json_types(dict(finding.evidence))
        json.dumps(dict(finding.evidence))
        if finding.status in (Status.FAIL, Status.WARN):
            assert finding.detail and finding.remediation, finding
    return {f.id: f for f in findings}


def served(leaf: Issued, *cas: Issued) -> list[x509.Certificate]:
    return [leaf.cert, *(ca.cert for ca in cas)]


def good(**knobs: object) -> list[x509.Certificate]:
    return served(make_leaf(**knobs), intermediate())  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def healthy() -> dict[str, Finding]:
    return analyse(good())


def test_healthy_chain_passes_everything(healthy: dict[str, Finding]) -> None:
    assert {f.status for f in healthy.values()} == {Status.PASS}
    assert all(f.predicts == () for f in healthy.values())


def test_empty_chain_is_an_error_for_every_id() -> None:
    findings = analyse_chain([], HOST, trust=TRUST, address=ADDRESS)
    assert [f.id for f in findings] == list(CERT_FINDING_IDS)
    assert {f.status for f in findings} == {Status.ERROR}
    assert all(f.title == "server sent no certificate" and f.address == ADDRESS for f in findings)


# ---------------------------------------------------------------- cert.subject-name


def test_subject_name_pass_names_the_cn(healthy: dict[str, Finding]) -> None:
    finding = healthy["cert.subject-name"]
    assert HOST in finding.title and finding.evidence["matched"] == HOST


def test_subject_name_mismatch_fails() -> None:
    finding = analyse(good(cns=("www.contoso.com",)))["cert.subject-name"]
    assert finding.status is Status.FAIL and finding.predicts == (NO_USABLE_CERT,)
    assert "CN=www.contoso.com" in finding.detail and HOST in finding.detail
    assert f"CN={HOST}" in finding.remediation and "Set-RemoteAccess" in finding.remediation


def test_subject_name_missing_cn_fails() -> None:
    finding = analyse(good(cns=(), org="Contoso"))["cert.subject-name"]
    assert finding.status is Status.FAIL and finding.predicts == (NO_USABLE_CERT,)
    assert finding.title == "Subject has no CN"


def test_subject_name_empty_subject_mentions_set_remoteaccess() -> None:
    finding = analyse(good(cns=()))["cert.subject-name"]
    assert finding.status is Status.FAIL
    assert "The parameter is incorrect" in finding.detail


def test_subject_name_wildcard_and_case() -> None:
    finding = analyse(good(cns=("*.Contoso.com",), san=("*.contoso.com",)))["cert.subject-name"]
    assert finding.status is Status.PASS and "wildcard" in finding.detail


# ---------------------------------------------------------------- cert.subject-extra


def test_subject_extra_pass(healthy: dict[str, Finding]) -> None:
    assert healthy["cert.subject-extra"].status is Status.PASS


def test_subject_extra_several_cns_fail() -> None:
    finding = analyse(good(cns=(HOST, "www.contoso.com")))["cert.subject-extra"]
    assert finding.status is Status.FAIL and finding.predicts == (NO_USABLE_CERT,)
    assert "2 CNs" in finding.detail


@pytest.mark.parametrize(
    ("cn", "problem"),
    [
        (f"https://{HOST}", "URL scheme"),
        (f"{HOST}/IPHTTPS", "path"),
        (f"{HOST}:443", "port"),
        (f"{HOST} ", "whitespace"),
        ("da contoso.com", "whitespace"),
    ],
)
def test_subject_extra_unwanted_cn_data_fails(cn: str, problem: str) -> None:
    finding = analyse(good(cns=(cn,)))["cert.subject-extra"]
    assert finding.status is Status.FAIL and finding.predicts == (NO_USABLE_CERT,)
    assert problem in finding.detail


def test_subject_extra_ipv6_cn_is_not_a_port() -> None:
    finding = analyse(good(cns=("2001:db8::1",), san=("2001:db8::1",)), "2001:db8::1")
    assert finding["cert.subject-extra"].status is Status.PASS
    assert finding["cert.subject-name"].status is Status.PASS
    assert finding["cert.san"].status is Status.PASS


def test_subject_extra_skips_without_cn() -> None:
    assert analyse(good(cns=()))["cert.subject-extra"].status is Status.SKIP


# ---------------------------------------------------------------- cert.san


def test_san_pass_carries_both_verdicts(healthy: dict[str, Finding]) -> None:
    finding = healthy["cert.san"]
    assert finding.status is Status.PASS
    assert finding.evidence["directaccess_verdict"]["ok"] is True
    assert finding.evidence["rfc6125_verdict"]["ok"] is True
    assert finding.evidence["dns_names"] == [HOST]


def test_san_without_host_fails() -> None:
    finding = analyse(good(san=("www.contoso.com", "192.0.2.1")))["cert.san"]
    assert finding.status is Status.FAIL and finding.predicts == (NO_USABLE_CERT,)
    assert "www.contoso.com" in finding.detail
    assert finding.evidence["directaccess_verdict"]["ok"] is False


def test_san_missing_warns_without_prediction() -> None:
    finding = analyse(good(san=None))["cert.san"]
    assert finding.status is Status.WARN and finding.predicts == ()
    assert finding.detail.startswith(
        "DirectAccess accepts it (it uses the Subject), but RFC 6125 clients/tools will not"
    )
    assert finding.evidence["directaccess_verdict"]["ok"] is True
    assert finding.evidence["rfc6125_verdict"]["ok"] is False


def test_san_ip_host_uses_ip_entries() -> None:
    findings = analyse(good(cns=("192.0.2.7",), san=("192.0.2.7",)), "192.0.2.7")
    assert findings["cert.san"].status is Status.PASS
    findings = analyse(good(cns=("192.0.2.7",), san=("da.contoso.com",)), "192.0.2.7")
    assert findings["cert.san"].status is Status.FAIL
    assert "iPAddress" in findings["cert.san"].detail


def test_san_malformed_is_an_error() -> None:
    garbage = _with_extension(
        x509.UnrecognizedExtension(ExtensionOID.SUBJECT_ALTERNATIVE_NAME, b"\x01\x02")
    )
    finding = analyse([garbage, intermediate().cert])["cert.san"]
    assert finding.status is Status.ERROR and "malformed" in finding.detail


def test_san_duplicate_extension_fails() -> None:
    leaf = make_leaf()
    doubled = with_duplicate_extension(leaf.cert, rsa_key("ca:Contoso Test Issuing CA"))
    findings = analyse([doubled, intermediate().cert])
    assert findings["cert.san"].status is Status.FAIL
    assert "duplicate" in findings["cert.san"].detail
    assert findings["cert.eku"].status is Status.FAIL


def _with_extension(extension: x509.ExtensionType) -> x509.Certificate:
    """A leaf with one extra (possibly garbage) extension, issued by the test intermediate."""
    leaf = make_leaf(san=None)
    ca = intermediate()
    builder = (
        x509.CertificateBuilder()
        .subject_name(leaf.cert.subject)
        .issuer_name(ca.cert.subject)
        .public_key(leaf.key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(leaf.cert.not_valid_before_utc)
        .not_valid_after(leaf.cert.not_valid_after_utc)
        .add_extension(extension, critical=False)
    )
    return builder.sign(ca.key, hashes.SHA256())


# ---------------------------------------------------------------- cert.eku


def test_eku_server_auth_passes(healthy: dict[str, Finding]) -> None:
    assert healthy["cert.eku"].status is Status.PASS


def test_eku_without_server_auth_fails() -> None:
    finding = analyse(good(eku=(CLIENT_AUTH,)))["cert.eku"]
    assert finding.status is Status.FAIL and finding.predicts == (NO_USABLE_CERT,)
    assert "clientAuth" in finding.detail


def test_eku_missing_warns() -> None:
    finding = analyse(good(eku=None))["cert.eku"]
    assert finding.status is Status.WARN and finding.evidence["present"] is False


def test_eku_any_purpose_passes_with_a_note() -> None:
    finding = analyse(good(eku=(ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,)))["cert.eku"]
    assert finding.status is Status.PASS and "anyExtendedKeyUsage" in finding.detail


def test_eku_restricted_by_issuing_ca_warns() -> None:
    ca = make_ca("Contoso Client CA", issuer=root(), key=rsa_key("ca:Contoso Test Issuing CA"),
                 eku=(CLIENT_AUTH,))
    finding = analyse(served(make_leaf(ca), ca))["cert.eku"]
    assert finding.status is Status.WARN
    assert "Contoso Client CA" in finding.detail


# ---------------------------------------------------------------- cert.validity


def test_validity_pass_reports_dates_and_chain(healthy: dict[str, Finding]) -> None:
    finding = healthy["cert.validity"]
    assert finding.status is Status.PASS
    assert finding.evidence["not_after"] == "2026-06-01T12:00:00Z"
    assert finding.evidence["days_left"] == 365
    chain = finding.evidence["chain"]
    assert [entry["position"] for entry in chain] == ["leaf", "chain"]
    assert chain[1]["subject"].startswith("CN=Contoso Test Issuing CA")
    assert isinstance(chain[0]["not_after_timestamp"], int)


def test_validity_expired_fails_but_keeps_facts() -> None:
    findings = analyse(good(not_after=NOW - timedelta(days=3)), trust=TrustStore((), "empty"))
    finding = findings["cert.validity"]
    assert finding.status is Status.FAIL and finding.predicts == (CERT_EXPIRED,)
    assert "expired 3 days ago" in finding.title
    assert finding.evidence["days_left"] < 0
    assert len(finding.evidence["chain"]) == 2  # still reported though untrusted and expired


def test_validity_not_yet_valid_fails() -> None:
    finding = analyse(good(not_before=NOW + timedelta(days=2)))["cert.validity"]
    assert finding.status is Status.FAIL and "not yet valid" in finding.title
    assert "valid from 2025-06-03T12:00:00Z" in finding.detail


@pytest.mark.parametrize(
    ("days", "status"),
    [(3, Status.FAIL), (6, Status.FAIL), (7, Status.WARN), (29, Status.WARN), (30, Status.PASS)],
)
def test_validity_thresholds(days: int, status: Status) -> None:
    finding = analyse(good(not_after=NOW + timedelta(days=days, hours=1)))["cert.validity"]
    assert finding.status is status
    assert finding.predicts == (() if status is Status.PASS else (CERT_EXPIRED,))


def test_validity_custom_policy() -> None:
    chain = good(not_after=NOW + timedelta(days=50, hours=1))
    assert analyse(chain)["cert.validity"].status is Status.PASS
    policy = CertPolicy(warn_days=60, crit_days=55)
    assert analyse(chain, policy=policy)["cert.validity"].status is Status.FAIL


def test_validity_expired_intermediate_fails() -> None:
    old_ca = make_ca("Contoso Test Issuing CA", issuer=root(),
                     key=rsa_key("ca:Contoso Test Issuing CA"),
                     not_after=NOW - timedelta(days=1))
    finding = analyse(served(make_leaf(), old_ca))["cert.validity"]
    assert finding.status is Status.FAIL and finding.predicts == (CERT_EXPIRED,)
    assert "Issuing CA" in finding.title
    assert finding.evidence["chain"][1]["days_left"] < 0


def test_validity_naive_now_is_utc() -> None:
    finding = analyse(good(), now=NOW.replace(tzinfo=None))["cert.validity"]
    assert finding.evidence["days_left"] == 365


# ---------------------------------------------------------------- cert.trust


def test_trust_pass_shows_path_and_source(healthy: dict[str, Finding]) -> None:
    finding = healthy["cert.trust"]
    assert finding.status is Status.PASS
    assert finding.evidence["trust_source"] == "roots.pem"
    assert len(finding.evidence["path"]) == 3
    assert finding.evidence["path_sources"] == ["served", "served", "trust store"]


def test_trust_unknown_root_fails() -> None:
    other = make_ca(UNTRUSTED_ROOT_NAME, key=rsa_key("ca:Contoso Test Root CA"))
    ca = make_ca("Fabrikam CA", issuer=other, key=rsa_key("ca:Contoso Test Issuing CA"))
    findings = analyse(served(make_leaf(ca), ca, other))
    finding = findings["cert.trust"]
    assert finding.status is Status.FAIL and finding.predicts == (CERT_UNTRUSTED,)
    assert "self-signed and not trusted" in finding.detail
    assert findings["cert.chain"].status is Status.PASS  # complete, just not trusted


def test_trust_missing_issuer_fails() -> None:
    finding = analyse(served(make_leaf()), trust=TrustStore((), "empty.pem"))["cert.trust"]
    assert finding.status is Status.ERROR  # nothing to decide against
    other = make_ca(UNTRUSTED_ROOT_NAME, key=rsa_key("ca:Contoso Test Root CA"))
    finding = analyse(served(make_leaf()), trust=TrustStore((other.cert,), "x"))["cert.trust"]
    assert finding.status is Status.FAIL and "was not sent" in finding.detail


def test_trust_self_signed_warns() -> None:
    leaf = make_leaf(self_signed=True)
    findings = analyse([leaf.cert])
    finding = findings["cert.trust"]
    assert finding.status is Status.WARN and finding.predicts == (CERT_UNTRUSTED,)
    assert "Group Policy" in finding.detail and "null-encryption" in finding.detail
    assert "is not in the trust store" in finding.detail
    assert findings["cert.chain"].status is Status.PASS


def test_trust_self_signed_in_store_still_warns() -> None:
    leaf = make_leaf(self_signed=True)
    finding = analyse([leaf.cert], trust=TrustStore((leaf.cert,), "pinned.pem"))["cert.trust"]
    assert finding.status is Status.WARN
    assert "is in the trust store" in finding.detail
    assert finding.evidence["leaf_in_trust_store"] is True


# ---------------------------------------------------------------- cert.chain


def test_chain_complete_passes(healthy: dict[str, Finding]) -> None:
    finding = healthy["cert.chain"]
    assert finding.status is Status.PASS and finding.evidence["in_order"] is True
    assert finding.evidence["served"][0] == f"CN={HOST}"


def test_chain_missing_intermediate_found_in_store_warns() -> None:
    trust = TrustStore((root().cert, intermediate().cert), "bundle.pem")
    findings = analyse(served(make_leaf()), trust=trust)
    assert findings["cert.trust"].status is Status.PASS
    finding = findings["cert.chain"]
    assert finding.status is Status.WARN and finding.predicts == (CERT_UNTRUSTED,)
    assert "Issuing CA" in finding.detail and "bundle.pem" in finding.detail
    assert finding.evidence["not_served"] == [intermediate().cert.subject.rfc4514_string()]


def test_chain_missing_intermediate_nowhere_warns() -> None:
    finding = analyse(served(make_leaf()))["cert.chain"]
    assert finding.status is Status.WARN and finding.predicts == (CERT_UNTRUSTED,)
    assert "not sent" in finding.detail


def test_chain_wrong_intermediate_warns() -> None:
    impostor = make_ca("Contoso Test Issuing CA", issuer=root(), key=rsa_key("other"))
    findings = analyse(served(make_leaf(), impostor))
    assert findings["cert.chain"].status is Status.WARN
    assert "does not verify" in findings["cert.chain"].detail
    assert findings["cert.trust"].status is Status.FAIL


def test_chain_in_any_order_with_root_passes() -> None:
    findings = analyse(served(make_leaf(), root(), intermediate()))
    assert findings["cert.trust"].status is Status.PASS
    finding = findings["cert.chain"]
    assert finding.status is Status.PASS and finding.evidence["in_order"] is False
    assert "out of order" in finding.detail


def test_chain_unrelated_extra_certificate_is_noted() -> None:
    extra = make_ca(UNTRUSTED_ROOT_NAME, key=rsa_key("ca:Contoso Test Root CA"))
    finding = analyse(served(make_leaf(), intermediate(), extra))["cert.chain"]
    assert finding.status is Status.PASS
    assert finding.evidence["unused"] == [extra.cert.subject.rfc4514_string()]


# ---------------------------------------------------------------- cert.key


def test_key_rsa_2048_passes(healthy: dict[str, Finding]) -> None:
    finding = healthy["cert.key"]
    assert finding.status is Status.PASS and finding.evidence["key_size"] == 2048


def test_key_rsa_1024_fails() -> None:
    finding = analyse(good(key_bits=1024))["cert.key"]
    assert finding.status is Status.FAIL and "1024" in finding.title


def test_key_ecdsa_warns() -> None:
    finding = analyse(good(key_type="ec"))["cert.key"]
    assert finding.status is Status.WARN
    assert "only with RSA keys" in finding.detail


def test_key_ed25519_fails() -> None:
    finding = analyse(good(key_type="ed25519", key_usage=None))["cert.key"]
    assert finding.status is Status.FAIL and finding.evidence["key_type"] == "Ed25519"


def test_key_unknown_algorithm_fails() -> None:
    odd = with_unknown_key_algorithm(make_leaf().cert, rsa_key("ca:Contoso Test Issuing CA"))
    finding = analyse([odd, intermediate().cert])["cert.key"]
    assert finding.status is Status.FAIL and "1.3.6.1.4.1.55555.1.1" in finding.detail


@pytest.mark.parametrize(
    ("usage", "status"),
    [((True, False), Status.WARN), ((False, True), Status.WARN), ((False, False), Status.WARN)],
)
def test_key_usage_restricting_suites(usage: tuple[bool, bool], status: Status) -> None:
    finding = analyse(good(key_usage=usage))["cert.key"]
    assert finding.status is status and finding.evidence["problems"]


# ---------------------------------------------------------------- cert.signature


def test_signature_sha256_passes(healthy: dict[str, Finding]) -> None:
    assert healthy["cert.signature"].status is Status.PASS


@pytest.mark.parametrize(("hash_name", "status"), [("sha1", Status.WARN), ("md5", Status.FAIL)])
def test_signature_weak_leaf(hash_name: str, status: Status) -> None:
    weak = resign(make_leaf().cert, rsa_key("ca:Contoso Test Issuing CA"), hash_name=hash_name)
    findings = analyse([weak, intermediate().cert])
    finding = findings["cert.signature"]
    assert finding.status is status and hash_name.upper() in finding.title
    assert finding.evidence["certificates"][0]["hash"] == hash_name.upper()


def test_signature_sha1_intermediate_warns_but_root_is_ignored() -> None:
    ca_key = rsa_key("ca:Contoso Test Root CA")
    weak_ca = resign(intermediate().cert, ca_key, hash_name="sha1")
    weak_root = resign(root().cert, ca_key, hash_name="sha1")
    finding = analyse([make_leaf().cert, weak_ca])["cert.signature"]
    assert finding.status is Status.WARN and "Issuing CA" in finding.title
    finding = analyse([make_leaf().cert, intermediate().cert, weak_root])["cert.signature"]
    assert finding.status is Status.PASS
    assert len(finding.evidence["certificates"]) == 2


# ---------------------------------------------------------------- never raises


def _odd_certificates() -> list[tuple[str, list[x509.Certificate]]]:
    ca_key = rsa_key("ca:Contoso Test Issuing CA")
    leaf = make_leaf()
    ed_ca = make_ca("Ed CA", issuer=root(), key=ed_key("ca"))
    return [
        ("duplicate extensions", [with_duplicate_extension(leaf.cert, ca_key)]),
        ("unknown key algorithm", [with_unknown_key_algorithm(leaf.cert, ca_key)]),
        ("md5", [resign(leaf.cert, ca_key, hash_name="md5")]),
        ("garbage SAN", [_with_extension(x509.UnrecognizedExtension(
            ExtensionOID.SUBJECT_ALTERNATIVE_NAME, b"\x30\x03\x02\x01"))]),
        ("garbage EKU", [_with_extension(x509.UnrecognizedExtension(
            ExtensionOID.EXTENDED_KEY_USAGE, b"\xff"))]),
        ("unknown extension", [_with_extension(x509.UnrecognizedExtension(
            x509.ObjectIdentifier("1.3.6.1.4.1.55555.2"), b"\x00"))]),
        ("empty subject, no extensions", [make_leaf(cns=(), san=None, eku=None,
                                                    key_usage=None).cert]),
        ("ed25519 issuer", [make_leaf(ed_ca).cert, ed_ca.cert]),
        ("leaf twice", [leaf.cert, leaf.cert, intermediate().cert]),
        ("only CA certificates", [root().cert, root().cert]),
    ]


@pytest.mark.parametrize(
    "chain", [pytest.param(chain, id=name) for name, chain in _odd_certificates()]
)
@pytest.mark.parametrize("host", [HOST, "192.0.2.1", "xn--bcher-kva.example", "", "[::1]"])
def test_odd_certificates_never_raise(chain: list[x509.Certificate], host: str) -> None:
    findings = analyse(chain, host)
    assert all(isinstance(f.status, Status) for f in findings.values())


def test_odd_certificate_reasons() -> None:
    cases = dict(_odd_certificates())
    findings = analyse(cases["garbage EKU"])
    assert findings["cert.eku"].status is Status.ERROR
    assert "malformed" in findings["cert.eku"].detail
    findings = analyse(cases["md5"])
    assert findings["cert.signature"].status is Status.FAIL
    findings = analyse(cases["ed25519 issuer"])
    assert findings["cert.signature"].status is Status.WARN
    assert findings["cert.trust"].status is Status.PASS


def test_address_none_for_files() -> None:
    findings = analyse_chain(good(), HOST, trust=TRUST, now=NOW)
    assert all(f.address is None for f in findings)
