"""Fuzzing the certificate path: whatever DER/PEM/PKCS#7/PKCS#12 bytes arrive (from a file or
from a TLS server), the loader raises only CertLoadError, and `analyse_chain` never raises:
it returns the nine cert.* findings, which every report format renders."""

from __future__ import annotations

import datetime as dt
import functools
import warnings

import pytest
from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.utils import CryptographyDeprecationWarning
from cryptography.x509.oid import ExtensionOID, NameOID
from hypothesis import event, example, given, reject
from hypothesis import strategies as st

from daserver_check.certs.analysis import CERT_FINDING_IDS, CertPolicy, analyse_chain
from daserver_check.certs.crl import CrlState, judge_crl
from daserver_check.certs.leaf import choose_leaf
from daserver_check.certs.load import CertLoadError, parse_bundle
from daserver_check.certs.trust import TrustStore, TrustStoreError, _parse_bundle
from daserver_check.model import Finding, Report, Status, TargetReport
from daserver_check.report import OutputFormat, render

from .strategies import fuzz_settings, inputs, mutated, seed, seeds

# cryptography warns about empty or over-long name attributes, which these tests make on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Attribute's length:UserWarning")

NOW = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
HOST = "da.lab.test"


@functools.cache
def trust() -> TrustStore:
    roots: list[x509.Certificate] = []
    for data in seeds("certs"):
        if data.startswith(b"-----BEGIN CERTIFICATE"):
            roots.extend(x509.load_pem_x509_certificates(data)[1:])  # the lab CA
    return TrustStore(tuple(roots), "fuzz")


def load_der_quietly(data: bytes) -> x509.Certificate | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", CryptographyDeprecationWarning)
        try:
            return x509.load_der_x509_certificate(data)
        except Exception:  # ValueError, x509.InvalidVersion: not a certificate to analyse
            return None


def check_analysis(chain: list[x509.Certificate], host: str = HOST) -> list[Finding]:
    findings = analyse_chain(chain, host, trust=trust(), policy=CertPolicy(), now=NOW,
                             address="192.0.2.10")
    assert tuple(f.id for f in findings) == CERT_FINDING_IDS
    assert all(isinstance(f.status, Status) and f.address == "192.0.2.10" for f in findings)
    report = Report("probe", (TargetReport(f"https://{host}/IPHTTPS", tuple(findings)),))
    for fmt in (OutputFormat.JSON, OutputFormat.TEXT, OutputFormat.PROMETHEUS):
        assert render(report, fmt)
    return findings


# -- the probe's path: DER certificates as a TLS server sends them ------------------------------


@fuzz_settings(ci=150)
@given(leaf=mutated("certs", suffix=".der"),
       rest=st.lists(mutated("certs", suffix=".der"), max_size=3))
def test_mutated_der_chains_never_break_the_analysis(leaf: bytes, rest: list[bytes]) -> None:
    chain = [c for c in (load_der_quietly(d) for d in (leaf, *rest)) if c is not None]
    event(f"{len(chain)} certificate(s) loaded")
    if chain:
        findings = check_analysis(chain)
        event("some cert.* error" if any(f.status is Status.ERROR for f in findings)
              else "no cert.* error")


# -- the cert command's path: any file through the loader -------------------------------------


@fuzz_settings(ci=150)
@given(data=inputs("certs", max_random=1024), password=st.sampled_from([None, b"", b"x"]))
def test_any_file_loads_or_fails_with_one_line(data: bytes, password: bytes | None) -> None:
    try:
        bundle = parse_bundle(data, password=password, source="fuzz")
    except CertLoadError as exc:
        assert str(exc).strip() and "\n" not in str(exc).strip()
        event("CertLoadError")
        return
    event(f"loaded {bundle.kind}")
    choice = choose_leaf(bundle)
    check_analysis(list(choice.chain))


@fuzz_settings(ci=100)
@given(data=inputs("certs", max_random=1024), strict=st.booleans())
def test_any_ca_file_loads_or_fails_with_value_error(data: bytes, strict: bool) -> None:
    try:
        roots = _parse_bundle(data, strict=strict)
    except (ValueError, TrustStoreError):
        return
    except (x509.InvalidVersion, UnsupportedAlgorithm):  # known, see test_found_elsewhere.py
        return
    assert all(isinstance(r, x509.Certificate) for r in roots)


# -- hostile certificates, built on purpose -----------------------------------------------------

_KEY = ec.generate_private_key(ec.SECP256R1())
# Extensions the checks read, with arbitrary (mostly malformed) values: cryptography decodes them
# lazily, at the first access inside some check.
_EXTENSION_OIDS = [
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
    ExtensionOID.EXTENDED_KEY_USAGE,
    ExtensionOID.KEY_USAGE,
    ExtensionOID.BASIC_CONSTRAINTS,
    ExtensionOID.CRL_DISTRIBUTION_POINTS,
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    ExtensionOID.SUBJECT_KEY_IDENTIFIER,
    ExtensionOID.NAME_CONSTRAINTS,
    ExtensionOID.CERTIFICATE_POLICIES,
    ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
]
_NAME_OIDS = [NameOID.COMMON_NAME, NameOID.ORGANIZATION_NAME, NameOID.SERIAL_NUMBER,
              NameOID.DOMAIN_COMPONENT, x509.ObjectIdentifier("1.2.3.4.5")]
_cn_text = st.one_of(
    st.text(max_size=80),
    st.sampled_from([HOST, "*.lab.test", "DA.LAB.TEST.", "https://da.lab.test/IPHTTPS",
                     "da.lab.test:443", "da.lab.test\x00.evil.test", "xn--da-ylb.test",
                     "*.*.test", "192.0.2.10", "", " da.lab.test"]),
)


@st.composite
def hostile_certificate(draw: st.DrawFn) -> x509.Certificate:
    attributes = [
        x509.NameAttribute(draw(st.sampled_from(_NAME_OIDS)), draw(_cn_text), _validate=False)
        for _ in range(draw(st.integers(0, 3)))
    ]
    subject = x509.Name(attributes)
    issuer = subject if draw(st.booleans()) else x509.Name(
        [x509.NameAttribute(NameOID.COMMON_NAME, draw(_cn_text), _validate=False)])
    start = draw(st.datetimes(min_value=dt.datetime(1951, 1, 1), max_value=dt.datetime(9000, 1, 1)))
    length = draw(st.timedeltas(min_value=dt.timedelta(seconds=1), max_value=dt.timedelta(days=4000)))
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(_KEY.public_key())
        .serial_number(draw(st.integers(1, 2**159 - 1)))
        .not_valid_before(start)
        .not_valid_after(start + length)
    )
    oids = draw(st.lists(st.sampled_from(_EXTENSION_OIDS), unique=True, max_size=4))
    for oid in oids:
        value = draw(st.one_of(st.binary(max_size=40), st.sampled_from(
            [b"\x30\x00", b"\x30\x03\x82\x01\x2a", b"\x30\x80", b"\x04\x00", b"\x03\x01\x00"])))
        builder = builder.add_extension(x509.UnrecognizedExtension(oid, value),
                                        critical=draw(st.booleans()))
    if ExtensionOID.SUBJECT_ALTERNATIVE_NAME not in oids and draw(st.booleans()):
        builder = builder.add_extension(
            x509.SubjectAlternativeName([x509.DNSName(draw(_cn_text).encode(
                "ascii", "replace").decode())]), critical=False)
    try:
        algorithm = hashes.SHA384() if draw(st.booleans()) else hashes.SHA256()
        return builder.sign(_KEY, algorithm)
    except ValueError:  # a value the encoder refuses (e.g. not printable for its string type)
        reject()


@fuzz_settings(ci=120)
@given(chain=st.lists(hostile_certificate(), min_size=1, max_size=4),
       host=st.sampled_from([HOST, "DA.lab.test.", "[2001:db8::1]", "192.0.2.10", "xn--bcher-kva.test"]))
def test_hostile_certificates_never_break_the_analysis(
    chain: list[x509.Certificate], host: str
) -> None:
    check_analysis(chain, host)


# -- CRLs, as a CDP serves them -----------------------------------------------------------------


@fuzz_settings(ci=100)
@example(body=b"", with_issuer=True)
@given(body=inputs("crl", max_random=512), with_issuer=st.booleans())
def test_any_crl_body_is_judged_without_raising(body: bytes, with_issuer: bool) -> None:
    leaf = load_der_quietly(seed("certs", "leaf.der"))
    issuer = load_der_quietly(seed("certs", "ca.der")) if with_issuer else None
    assert leaf is not None
    outcome = judge_crl("http://crl.lab.test/ca.crl", body, cert=leaf, issuer=issuer, now=NOW)
    assert isinstance(outcome.state, CrlState)
