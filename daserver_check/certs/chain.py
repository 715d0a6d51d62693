"""Certification-path building from the served leaf to a trust anchor.

Built here rather than with a web-PKI verifier (cryptography's `x509.verification`) because
those reject CN-only certificates and apply browser policy, while DirectAccess clients accept a
certificate named by its Subject CN (docs/windows-facts.md §3). The path only asks "who issued whom":
issuer name equals subject name and the issuer's key verifies the signature (RFC 5280 §6.1,
without policy or validity, which other checks report separately).

Bounded for hostile input (docs/contract.md, reliability rules): at most 10 certificates in a path, each
certificate expanded once, and a cap on signature checks, so a server that sends hundreds of
certificates with the same subject cannot make the search explode.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field

from cryptography import x509

from daserver_check.certs.x509util import (
    der,
    is_self_signed,
    name_text,
    signature_verifies,
    subject_text,
)

MAX_PATH_LENGTH = 10
MAX_SIGNATURE_CHECKS = 64


class PathEnd(enum.Enum):
    ANCHOR = "anchor"  # reached a certificate of the trust store: trusted
    MISSING_ISSUER = "missing-issuer"  # no certificate with the issuer's name anywhere
    BAD_SIGNATURE = "bad-signature"  # certificates with the right name, none verifies
    UNTRUSTED_ROOT = "untrusted-root"  # ends at a self-signed certificate not in the store
    TOO_LONG = "too-long"
    LIMIT = "limit"  # signature-check budget spent


@dataclass(frozen=True)
class PathStep:
    cert: x509.Certificate
    from_store: bool  # taken from the trust store, not from what the server sent
    served_index: int | None  # position in the served chain (0 = leaf), None if not served


@dataclass(frozen=True)
class ChainPath:
    steps: tuple[PathStep, ...]  # leaf first; when not trusted, the longest path found
    end: PathEnd
    reason: str
    unused_served: tuple[int, ...] = field(default=())  # served positions not on the path

    @property
    def trusted(self) -> bool:
        return self.end is PathEnd.ANCHOR

    @property
    def anchor(self) -> x509.Certificate | None:
        return self.steps[-1].cert if self.trusted else None

    def not_served(self) -> list[x509.Certificate]:
        """Intermediates the path needed that the server did not send.

        A self-signed anchor (the root) is never expected from the server (RFC 5246 §7.4.2 lets
        it be omitted); a trust-store anchor that is not self-signed is an intermediate that
        clients may well lack, so it counts.
        """
        missing: list[x509.Certificate] = []
        for position, step in enumerate(self.steps):
            if position == 0 or step.served_index is not None:
                continue
            is_last = position == len(self.steps) - 1
            if is_last and self.trusted and is_self_signed(step.cert):
                continue
            missing.append(step.cert)
        return missing


def _subject_key(cert: x509.Certificate) -> x509.Name | None:
    try:
        return cert.subject
    except Exception:
        return None


def _issuer_key(cert: x509.Certificate) -> x509.Name | None:
    try:
        return cert.issuer
    except Exception:
        return None


class _Search:
    def __init__(self, served: Sequence[x509.Certificate], roots: Sequence[x509.Certificate]):
        self.store_der = {der(cert) for cert in roots}
        self.by_subject: dict[x509.Name, list[tuple[x509.Certificate, bool, int | None]]] = {}
        # Served certificates first: the path should use what the server sends when it can, so
        # that cert.chain reports only what is really missing.
        for index, cert in enumerate(served, start=1):
            self._index(cert, False, index)
        for cert in roots:
            self._index(cert, True, None)
        self.checks = 0
        self.dead: set[bytes] = set()
        self.best: tuple[list[PathStep], PathEnd, str] | None = None

    def _index(self, cert: x509.Certificate, from_store: bool, index: int | None) -> None:
        key = _subject_key(cert)
        if key is not None:
            self.by_subject.setdefault(key, []).append((cert, from_store, index))

    def _record(self, steps: list[PathStep], end: PathEnd, reason: str) -> None:
        if self.best is None or len(steps) > len(self.best[0]):
            self.best = (list(steps), end, reason)

    def visit(self, steps: list[PathStep]) -> list[PathStep] | None:
        node = steps[-1].cert
        node_der = der(node)
        if node_der in self.store_der:
            return steps
        label = subject_text(node)
        if is_self_signed(node):
            self._record(steps, PathEnd.UNTRUSTED_ROOT, f"{label} is self-signed and not trusted")
            return None
        if len(steps) >= MAX_PATH_LENGTH:
            self._record(steps, PathEnd.TOO_LONG, f"path longer than {MAX_PATH_LENGTH}")
            return None
        issuer = _issuer_key(node)
        on_path = {der(step.cert) for step in steps}
        candidates = [
            entry
            for entry in (self.by_subject.get(issuer, []) if issuer is not None else [])
            if der(entry[0]) not in on_path
        ]
        if not candidates:
            issuer_label = name_text(issuer) if issuer is not None else "(unreadable)"
            self._record(
                steps,
                PathEnd.MISSING_ISSUER,
                f"the issuer of {label} ({issuer_label}) was not sent by the server"
                " and is not in the trust store",
            )
            return None
        failures: list[str] = []
        for cert, from_store, index in candidates:
            cand_der = der(cert)
            if cand_der in self.dead:
                continue
            if self.checks >= MAX_SIGNATURE_CHECKS:
                self._record(steps, PathEnd.LIMIT, "too many candidate issuers; search stopped")
                return None
            self.checks += 1
            problem = signature_verifies(node, cert)
            if problem is not None:
                failures.append(problem)
                continue
            found = self.visit([*steps, PathStep(cert, from_store, index)])
            if found is not None:
                return found
            self.dead.add(cand_der)
        if failures:
            self._record(
                steps,
                PathEnd.BAD_SIGNATURE,
                f"a certificate named {name_text(issuer) if issuer else '?'} was found but its"
                f" key does not verify the signature of {label} ({failures[0]})",
            )
        return None


def build_path(
    chain: Sequence[x509.Certificate], roots: Sequence[x509.Certificate]
) -> ChainPath:
    """The path from `chain[0]` through the served certificates (any order) and the trust store
    to a trust anchor; when there is none, the longest partial path and why it stopped.

    `chain` must not be empty. Never raises on odd certificates (their failures end the path).
    """
    leaf = chain[0]
    search = _Search(chain[1:], roots)
    found = search.visit([PathStep(leaf, False, 0)])
    if found is not None:
        anchor = found[-1].cert
        reason = f"anchored at {subject_text(anchor)} in the trust store"
        steps, end = found, PathEnd.ANCHOR
    elif search.best is not None:
        steps, end, reason = search.best
    else:  # not reachable (every failed visit records), but never raise on odd input
        steps, end, reason = [PathStep(leaf, False, 0)], PathEnd.MISSING_ISSUER, "no issuer found"
    used = {step.served_index for step in steps if step.served_index is not None}
    unused = tuple(i for i in range(1, len(chain)) if i not in used)
    return ChainPath(tuple(steps), end, reason, unused)
