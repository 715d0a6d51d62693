"""cert.private-key: present and matching (pass), PFX without key (fail 0x103), key-less
certificate file (warn), mismatched or damaged key (fail 0x103); the key never in evidence."""

from __future__ import annotations

import functools
import json

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from daserver_check.certs.private_key import check_private_key, key_description
from daserver_check.model import Status

from .pki import Issued, ec_key, ed_key, make_leaf, rsa_key

NO_USABLE_CERT = 0x103


@functools.cache
def leaf() -> Issued:
    return make_leaf()


def test_matching_rsa_key_passes() -> None:
    finding = check_private_key(leaf().cert, [leaf().key], kind="PKCS#12")
    assert finding.id == "cert.private-key"
    assert finding.status is Status.PASS
    assert finding.evidence["matches"] is True
    assert finding.evidence["key_type"] == "RSA" and finding.evidence["key_size"] == 2048
    assert finding.evidence["signature_test"] == "verified"
    assert finding.address is None


@pytest.mark.parametrize("key_type", ["ec", "ed25519"])
def test_matching_other_key_types_pass(key_type: str) -> None:
    issued = make_leaf(key_type=key_type)
    finding = check_private_key(issued.cert, [issued.key], kind="PEM")
    assert finding.status is Status.PASS, finding.detail


def test_pfx_without_key_fails() -> None:
    finding = check_private_key(leaf().cert, [], kind="PKCS#12")
    assert (finding.status, finding.predicts) == (Status.FAIL, (NO_USABLE_CERT,))
    assert finding.title == "The PFX has no private key"


@pytest.mark.parametrize("kind", ["PEM", "DER certificate", "PKCS#7"])
def test_keyless_certificate_file_warns(kind: str) -> None:
    finding = check_private_key(leaf().cert, [], kind=kind)
    assert finding.status is Status.WARN
    assert "certreq -accept" in finding.detail


def test_mismatched_key_fails() -> None:
    finding = check_private_key(leaf().cert, [rsa_key("stranger")], kind="PKCS#12")
    assert (finding.status, finding.predicts) == (Status.FAIL, (NO_USABLE_CERT,))
    assert finding.evidence["matches"] is False
    assert finding.evidence["keys"] == [{"key_type": "RSA", "key_size": 2048}]


def test_one_of_several_keys_matches() -> None:
    finding = check_private_key(leaf().cert, [rsa_key("stranger"), leaf().key], kind="PEM")
    assert finding.status is Status.PASS
    assert finding.evidence["keys_in_file"] == 2


def test_damaged_key_with_the_right_public_half_fails() -> None:
    """The public halves match but the private exponents are wrong: only the test signature
    can tell (a corrupted export)."""
    key = leaf().key
    assert isinstance(key, rsa.RSAPrivateKey)
    numbers = key.private_numbers()
    damaged = rsa.RSAPrivateNumbers(
        numbers.p, numbers.q, numbers.d + 2, numbers.dmp1 + 2, numbers.dmq1, numbers.iqmp,
        numbers.public_numbers,
    ).private_key(unsafe_skip_rsa_key_validation=True)
    finding = check_private_key(leaf().cert, [damaged], kind="PKCS#12")
    assert (finding.status, finding.predicts) == (Status.FAIL, (NO_USABLE_CERT,))
    assert finding.title == "The private key is damaged"


def test_evidence_holds_no_key_material() -> None:
    key = leaf().key
    assert isinstance(key, rsa.RSAPrivateKey)
    numbers = key.private_numbers()
    for finding in (
        check_private_key(leaf().cert, [key], kind="PKCS#12"),
        check_private_key(leaf().cert, [rsa_key("stranger"), key], kind="PEM"),
    ):
        text = json.dumps(dict(finding.evidence)) + finding.detail + finding.title
        for secret in (numbers.d, numbers.p, numbers.q):
            assert str(secret) not in text
            assert f"{secret:x}" not in text.lower()


def test_key_description() -> None:
    assert key_description(rsa_key("leaf")) == ("RSA", 2048)
    assert key_description(ec_key("leaf")) == ("ECDSA secp256r1", 256)
    assert key_description(ed_key("leaf")) == ("Ed25519", 256)
