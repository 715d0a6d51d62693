"""`tls.ciphers` (opt-in `probe --ciphers`): every protocol version x suite the server accepts.

Like nmap's ssl-enum-ciphers, one handshake per pair; the map answers "which of my clients can
connect, and with what". It warns when the server accepts only null suites or only weak ones
(RC4, 3DES, export), naming the Windows clients that such a server leaves out.
"""

from __future__ import annotations

from daserver_check.checks.tls_clients import LABELS
from daserver_check.clients import PROFILES
from daserver_check.findings import FindingId
from daserver_check.model import Finding, Status
from daserver_check.probe.cipher_map import CipherMap

_WEAK_MARKERS = ("RC4", "DES", "EXP", "NULL-MD5")


def _weak(openssl_name: str) -> bool:
    return any(marker in openssl_name for marker in _WEAK_MARKERS)


def ciphers_finding(cmap: CipherMap, *, address: str) -> Finding:
    fid = FindingId.TLS_CIPHERS
    accepted = [{"version": a.version.label, "suite": a.suite.iana or a.suite.openssl,
                 "openssl": a.suite.openssl, "code": f"0x{a.suite.code:04X}",
                 "null": a.suite.is_null} for a in cmap.accepted]
    evidence: dict[str, object] = {
        "accepted": accepted,
        "versions": [v.label for v in cmap.versions],
        "complete": cmap.complete,
        "tried": cmap.tried,
        "unfinished": cmap.unfinished,
        "elapsed_ms": cmap.elapsed_ms,
        "not_testable": "RC4 and 3DES: the OpenSSL in use cannot offer them",
    }
    pairs = {(a.version, a.suite.code) for a in cmap.accepted}
    left_out = [LABELS.get(name, name) for name, profile in PROFILES.items()
                if not any((v, s.code) in pairs for v in profile.versions for s in profile.offer)]
    evidence["clients_left_out"] = left_out
    summary = (f"{len(cmap.accepted)} version x suite pairs accepted"
               f" ({', '.join(v.label for v in cmap.versions) or 'no version'})")
    incomplete = "" if cmap.complete else (
        f"; the map is incomplete: {cmap.unfinished} handshakes cut by the deadline, "
        f"{cmap.errors} failed otherwise")
    if not cmap.accepted:
        return Finding(fid, Status.WARN if not cmap.complete else Status.FAIL,
                       "The server accepted no protocol version and suite",
                       detail=summary + incomplete + ".", evidence=evidence, address=address)
    only_null = all(a.suite.is_null for a in cmap.accepted)
    only_weak = all(_weak(a.suite.openssl) for a in cmap.accepted if not a.suite.is_null) and \
        not only_null
    if only_null or only_weak:
        what = "only null-encryption suites" if only_null else "only weak suites (RC4/3DES/export)"
        return Finding(fid, Status.WARN, f"The server accepts {what}",
                       detail=f"{summary}{incomplete}. Clients left out: "
                       f"{', '.join(left_out) or 'none'}.",
                       remediation="Enable AES suites (and TLS 1.2) on the server and any front "
                       "end, keeping the null suites for Windows 8 and later.",
                       evidence=evidence, address=address)
    status = Status.PASS if cmap.complete else Status.WARN
    return Finding(fid, status, summary,
                   detail=summary + incomplete + (f". Clients left out: {', '.join(left_out)}"
                                                  if left_out else "") + ".",
                   evidence=evidence, address=address)
