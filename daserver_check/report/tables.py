"""Tables some findings carry in their evidence, for the text and markdown reports."""

from __future__ import annotations

from collections.abc import Iterable

from daserver_check.findings import FindingId
from daserver_check.model import Finding


def cipher_rows(findings: Iterable[Finding]) -> list[tuple[str, str, str, str]]:
    """(address, version, suite, code) of every `tls.ciphers` map, in the order found."""
    rows: list[tuple[str, str, str, str]] = []
    for f in findings:
        if f.id != FindingId.TLS_CIPHERS:
            continue
        accepted = f.evidence.get("accepted")
        for entry in accepted if isinstance(accepted, list) else []:
            if isinstance(entry, dict):
                suite = str(entry.get("suite", "")) + (" (null)" if entry.get("null") else "")
                rows.append((f.address or "", str(entry.get("version", "")), suite,
                             str(entry.get("code", ""))))
    return rows


def cipher_text_lines(findings: Iterable[Finding]) -> list[str]:
    rows = cipher_rows(findings)
    if not rows:
        return []
    width = max(len(r[2]) for r in rows)
    lines = ["", "  Accepted protocol versions and suites (--ciphers)"]
    lines += [f"    {a:<15} {v:<8} {s:<{width}} {c}" for a, v, s, c in rows]
    return lines


def cipher_markdown_lines(findings: Iterable[Finding]) -> list[str]:
    rows = cipher_rows(findings)
    if not rows:
        return []
    lines = ["### Accepted protocol versions and suites", "",
             "| address | version | suite | code |", "|---|---|---|---|"]
    lines += [f"| {a} | {v} | `{s}` | {c} |" for a, v, s, c in rows]
    return [*lines, ""]


def trace_text_lines(findings: Iterable[Finding]) -> list[str]:
    """The hops of every `trace.path`, passing or not: where the SYNs went is the point."""
    lines: list[str] = []
    for f in findings:
        if f.id != FindingId.TRACE_PATH:
            continue
        hops = f.evidence.get("hops")
        if not isinstance(hops, list) or not hops:
            continue
        lines += ["", f"  Path to {f.address or ''} port {f.evidence.get('port', '')}"]
        for hop in hops:
            if isinstance(hop, dict):
                extra = f" (ICMP {hop['icmp']})" if hop.get("icmp") else ""
                lines.append(f"    {hop.get('ttl', ''):>3}  {hop.get('address', ''):<40} "
                             f"{hop.get('kind', '')}{extra}  {hop.get('rtt_ms', '')} ms")
    return lines
