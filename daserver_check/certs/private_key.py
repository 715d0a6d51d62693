"""cert.private-key: does the file carry the private key of the certificate it holds?

HTTP.sys can bind only a certificate whose private key is in the machine store; without it
IP-HTTPS has no usable certificate and clients report 0x103 (docs/windows-facts.md §3: "the private key
must be present"; KB 2980635). Only a PKCS#12/PFX export carries the key, so a PFX without one
fails. A key-less .cer/.p7b is what a CA returns for a request made on the server itself, where
`certreq -accept` pairs it with the key waiting there: that cannot be checked from here (warn).

"Matching" is proven twice: the public halves are equal (what OpenSSL's X509_check_private_key
compares) and a signature made with the private key verifies with the certificate's public key,
so a damaged key with the right public half is caught too. Evidence holds only public facts
(type, size, SHA-256 of the SubjectPublicKeyInfo); never the key.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes

from daserver_check.certs.leaf import certificate_spki, spki
from daserver_check.certs.x509util import public_key_description, subject_text
from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status

NO_USABLE_CERT = 0x103  # ERROR_NO_MORE_ITEMS "No usable certificate found" (KB 2980635)
_PROBE_MESSAGE = b"daserver-check: proof of possession of the IP-HTTPS private key"


def key_description(key: PrivateKeyTypes) -> tuple[str, int]:
    """("RSA", 2048)-style type and size of a private key, without any secret part."""
    return public_key_description(key.public_key())


def signature_check(key: PrivateKeyTypes, cert: x509.Certificate) -> str | None:
    """None when a signature by `key` verifies with `cert`'s public key, else why not."""
    try:
        public = cert.public_key()
        if isinstance(key, rsa.RSAPrivateKey) and isinstance(public, rsa.RSAPublicKey):
            signature = key.sign(_PROBE_MESSAGE, padding.PKCS1v15(), hashes.SHA256())
            public.verify(signature, _PROBE_MESSAGE, padding.PKCS1v15(), hashes.SHA256())
        elif isinstance(key, ec.EllipticCurvePrivateKey) and isinstance(
            public, ec.EllipticCurvePublicKey
        ):
            signature = key.sign(_PROBE_MESSAGE, ec.ECDSA(hashes.SHA256()))
            public.verify(signature, _PROBE_MESSAGE, ec.ECDSA(hashes.SHA256()))
        elif isinstance(key, dsa.DSAPrivateKey) and isinstance(public, dsa.DSAPublicKey):
            signature = key.sign(_PROBE_MESSAGE, hashes.SHA256())
            public.verify(signature, _PROBE_MESSAGE, hashes.SHA256())
        elif isinstance(key, ed25519.Ed25519PrivateKey) and isinstance(  # noqa: SIM114
            public, ed25519.Ed25519PublicKey
        ):
            public.verify(key.sign(_PROBE_MESSAGE), _PROBE_MESSAGE)
        elif isinstance(key, ed448.Ed448PrivateKey) and isinstance(public, ed448.Ed448PublicKey):
            public.verify(key.sign(_PROBE_MESSAGE), _PROBE_MESSAGE)
        else:
            return "the key and the certificate use different algorithms"
    except Exception as exc:  # InvalidSignature, or a key the library cannot use
        return f"a test signature does not verify ({type(exc).__name__})"
    return None


def check_private_key(
    leaf: x509.Certificate, keys: Sequence[PrivateKeyTypes], *, kind: str
) -> Finding:
    """cert.private-key for the leaf chosen from a file of `kind` ("PKCS#12", "PEM", …)."""
    subject = subject_text(leaf)
    leaf_spki = certificate_spki(leaf)
    evidence: dict[str, object] = {
        "file_format": kind,
        "keys_in_file": len(keys),
        "certificate_public_key_sha256": hashlib.sha256(leaf_spki).hexdigest() if leaf_spki
        else "",
    }
    if not keys:
        evidence["present"] = False
        if kind == "PKCS#12":
            return Finding(
                id=FindingId.CERT_PRIVATE_KEY,
                status=Status.FAIL,
                title="The PFX has no private key",
                detail=f"The PFX holds {subject} without its private key: once imported,"
                " HTTP.sys cannot use it for IP-HTTPS.",
                predicts=(NO_USABLE_CERT,),
                remediation="Export the certificate again from the machine that holds its key,"
                " choosing \"Yes, export the private key\" (Export-PfxCertificate), and check"
                " the new PFX.",
                evidence=evidence,
            )
        return Finding(
            id=FindingId.CERT_PRIVATE_KEY,
            status=Status.WARN,
            title="The file has no private key",
            detail=f"A {kind} file carries no private key. That is fine only if the request was"
            " made on the DirectAccess server itself: `certreq -accept <file>` there pairs the"
            " certificate with the key that waits for it. Anywhere else the certificate cannot"
            " be used.",
            predicts=(NO_USABLE_CERT,),
            remediation="Check it on the server after certreq -accept (Test-Certificate or"
            " `certutil -store My <thumbprint>` shows \"Private key is present\"), or check"
            " the PFX export that includes the key.",
            evidence=evidence,
        )
    evidence["present"] = True
    matching = [key for key in keys if leaf_spki and spki(key.public_key()) == leaf_spki]
    if not matching:
        described = [key_description(key) for key in keys]
        evidence["matches"] = False
        evidence["keys"] = [{"key_type": t, "key_size": s} for t, s in described]
        return Finding(
            id=FindingId.CERT_PRIVATE_KEY,
            status=Status.FAIL,
            title="The private key does not belong to the certificate",
            detail=f"The file holds {len(keys)} private key(s), none for {subject}: the"
            " public key in the certificate differs from the key's.",
            predicts=(NO_USABLE_CERT,),
            remediation="Export the certificate together with its own key from the machine"
            " where the request was made, and check that PFX.",
            evidence=evidence,
        )
    key = matching[0]
    key_type, key_size = key_description(key)
    evidence.update(matches=True, key_type=key_type, key_size=key_size)
    problem = signature_check(key, leaf)
    if problem is not None:
        evidence["signature_test"] = problem
        return Finding(
            id=FindingId.CERT_PRIVATE_KEY,
            status=Status.FAIL,
            title="The private key is damaged",
            detail=f"The key's public half matches {subject}, but {problem}.",
            predicts=(NO_USABLE_CERT,),
            remediation="Export the certificate with its key again from the machine that holds"
            " them, and check the new file.",
            evidence=evidence,
        )
    evidence["signature_test"] = "verified"
    return Finding(
        id=FindingId.CERT_PRIVATE_KEY,
        status=Status.PASS,
        title="The private key is present and matches the certificate",
        detail=f"{key_type} {key_size}-bit key; a test signature verifies with the"
        f" certificate's public key ({kind}).",
        evidence=evidence,
    )
