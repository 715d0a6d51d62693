"""Certification-path building from the served leaf to a trust anchor, and the choice among paths.

Built here rather than with a web-PKI verifier (cryptography's `x509.verification`) because
those reject CN-only certificates and apply browser policy, while DirectAccess clients accept a
certificate named by its Subject CN (docs/windows-facts.md §3); they also refuse SHA-1 signatures,
which old enterprise PKIs still use (`x509util.signature_verifies` verifies them by hand). The
path only asks "who issued whom": issuer name equals subject name and the issuer's key verifies
the signature (RFC 5280 §6.1).

Several paths. A served chain may hold cross-certificates, and the trust store may hold both a
root and a cross-signed copy of it, so more than one path can reach a trusted root. CryptoAPI
builds the candidate chains and returns the one of the highest quality, keeping the others as
"lower quality" chains (Microsoft Learn, "CERT_CHAIN_CONTEXT structure (wincrypt.h)":
rgpLowerQualityChainContext; "CertSelectCertificateChains function": chains "ordered by
quality"). Microsoft does not document the quality weights; the order below is inferred from
the trust-status errors each path would carry. Among the paths that reach a trusted root:

1. no name-constraint violation (`name_constraints`), then
2. every certificate within its validity period at `now`, then
3. the fewest certificates, then the order found (served certificates first).

The 2021 "expired DST Root CA X3 cross-sign" situation is the case this matters for: the server
sends an expired cross-certificate the shorter path does not need, and clients that choose the
path well are unaffected. Validity, key and signature are judged on the chosen path only
(certs/analysis.py); a served certificate the path does not use is reported by cert.chain.

Bounded for hostile input (docs/contract.md, reliability rules): at most 10 certificates in a
path, a cap on signature checks (each issuer/subject pair is verified once), a cap on nodes
visited and on trusted paths collected, so a server that sends hundreds of certificates with the
same subject cannot make the search explode.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cryptography import x509

from daserver_check.certs.name_constraints import ConstraintResult, check_path
from daserver_check.certs.x509util import (
    der,
    is_self_signed,
    name_text,
    signature_verifies,
    subject_text,
)

MAX_PATH_LENGTH = 10
MAX_SIGNATURE_CHECKS = 64
MAX_VISITS = 512  # nodes entered over the whole search
MAX_TRUSTED_PATHS = 16  # complete paths collected before the search stops


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
    constraints: ConstraintResult = field(default_factory=ConstraintResult)
    trusted_paths: int = 0  # how many paths to a trusted root were found
    outside_validity: tuple[int, ...] = field(default=())  # path positions not valid at `now`
    why_chosen: str = ""

    @property
    def trusted(self) -> bool:
        return self.end is PathEnd.ANCHOR

    @property
    def anchor(self) -> x509.Certificate | None:
        return self.steps[-1].cert if self.trusted else None

    def served_on_path(self) -> list[int]:
        """Served positions the path uses, in path order (the leaf, 0, first)."""
        return [step.served_index for step in self.steps if step.served_index is not None]

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
        self.visits = 0
        self.signatures: dict[tuple[bytes, bytes], str | None] = {}
        self.dead: set[bytes] = set()  # certificates from which no trusted path was found
        self.best: tuple[list[PathStep], PathEnd, str] | None = None
        self.trusted: list[list[PathStep]] = []

    def _index(self, cert: x509.Certificate, from_store: bool, index: int | None) -> None:
        key = _subject_key(cert)
        if key is not None:
            self.by_subject.setdefault(key, []).append((cert, from_store, index))

    def _record(self, steps: list[PathStep], end: PathEnd, reason: str) -> None:
        if self.best is None or len(steps) > len(self.best[0]):
            self.best = (list(steps), end, reason)

    def _full(self) -> bool:
        return len(self.trusted) >= MAX_TRUSTED_PATHS or self.visits >= MAX_VISITS

    def _verify(self, node: x509.Certificate, node_der: bytes, issuer: x509.Certificate,
                issuer_der: bytes) -> str | bool | None:
        """None when `issuer` signed `node`, the failure text when not, False when the
        signature budget is spent."""
        pair = (node_der, issuer_der)
        if pair in self.signatures:
            return self.signatures[pair]
        if self.checks >= MAX_SIGNATURE_CHECKS:
            return False
        self.checks += 1
        result = signature_verifies(node, issuer)
        self.signatures[pair] = result
        return result

    def visit(self, steps: list[PathStep]) -> bool:
        """Collect the trusted paths that extend `steps`; True when at least one was found."""
        self.visits += 1
        node = steps[-1].cert
        node_der = der(node)
        if node_der in self.store_der:
            self.trusted.append(list(steps))
            return True
        label = subject_text(node)
        if is_self_signed(node):
            self._record(steps, PathEnd.UNTRUSTED_ROOT, f"{label} is self-signed and not trusted")
            return False
        if len(steps) >= MAX_PATH_LENGTH:
            self._record(steps, PathEnd.TOO_LONG, f"path longer than {MAX_PATH_LENGTH}")
            return False
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
            return False
        failures: list[str] = []
        found = False
        for cert, from_store, index in candidates:
            if self._full():
                break
            cand_der = der(cert)
            if cand_der in self.dead:
                continue
            problem = self._verify(node, node_der, cert, cand_der)
            if problem is False:
                self._record(steps, PathEnd.LIMIT, "too many candidate issuers; search stopped")
                break
            if isinstance(problem, str):
                failures.append(problem)
                continue
            if self.visit([*steps, PathStep(cert, from_store, index)]):
                found = True
            else:
                self.dead.add(cand_der)
        if failures and not found:
            self._record(
                steps,
                PathEnd.BAD_SIGNATURE,
                f"a certificate named {name_text(issuer) if issuer else '?'} was found but its"
                f" key does not verify the signature of {label} ({failures[0]})",
            )
        return found


def _outside_validity(steps: Sequence[PathStep], now: datetime | None) -> tuple[int, ...]:
    if now is None:
        return ()
    bad: list[int] = []
    for position, step in enumerate(steps):
        try:
            if not step.cert.not_valid_before_utc <= now <= step.cert.not_valid_after_utc:
                bad.append(position)
        except Exception:  # an unreadable date is not a valid one
            bad.append(position)
    return tuple(bad)


@dataclass(frozen=True)
class _Candidate:
    steps: list[PathStep]
    constraints: ConstraintResult
    outside: tuple[int, ...]
    order: int

    def key(self) -> tuple[bool, bool, int, int]:
        return (bool(self.constraints.violations), bool(self.outside), len(self.steps),
                self.order)


def _why(chosen: _Candidate, count: int) -> str:
    if count == 1:
        return "the only path to a trusted root"
    parts = []
    if not chosen.constraints.violations:
        parts.append("within its CAs' name constraints")
    if not chosen.outside:
        parts.append("every certificate within its validity period")
    parts.append(f"{len(chosen.steps)} certificates")
    return f"best of {count} paths to a trusted root (" + ", ".join(parts) + ")"


def build_path(
    chain: Sequence[x509.Certificate],
    roots: Sequence[x509.Certificate],
    *,
    now: datetime | None = None,
) -> ChainPath:
    """The path from `chain[0]` through the served certificates (any order) and the trust store
    to a trust anchor, chosen as CryptoAPI would among all such paths (module docstring); when
    there is none, the longest partial path and why it stopped. Without `now` the validity
    periods do not take part in the choice.

    `chain` must not be empty. Never raises on odd certificates (their failures end the path).
    """
    leaf = chain[0]
    search = _Search(chain[1:], roots)
    search.visit([PathStep(leaf, False, 0)])
    if search.trusted:
        candidates = [
            _Candidate(steps, check_path([s.cert for s in steps]), _outside_validity(steps, now),
                       order)
            for order, steps in enumerate(search.trusted)
        ]
        chosen = min(candidates, key=_Candidate.key)
        steps = chosen.steps
        anchor = steps[-1].cert
        used = {step.served_index for step in steps if step.served_index is not None}
        return ChainPath(
            tuple(steps),
            PathEnd.ANCHOR,
            f"anchored at {subject_text(anchor)} in the trust store",
            tuple(i for i in range(1, len(chain)) if i not in used),
            chosen.constraints,
            len(candidates),
            chosen.outside,
            _why(chosen, len(candidates)),
        )
    if search.best is not None:
        partial, end, reason = search.best
    else:  # not reachable (every failed visit records), but never raise on odd input
        partial, end, reason = [PathStep(leaf, False, 0)], PathEnd.MISSING_ISSUER, "no issuer found"
    used = {step.served_index for step in partial if step.served_index is not None}
    unused = tuple(i for i in range(1, len(chain)) if i not in used)
    return ChainPath(tuple(partial), end, reason, unused)
