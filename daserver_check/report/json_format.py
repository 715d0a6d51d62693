"""`--format json`: the JSON contract of docs/contract.md (schema daserver-check/1)."""

from __future__ import annotations

import json
from typing import Any

from daserver_check import __version__
from daserver_check.model import Finding, Report
from daserver_check.report.escape import json_surrogates

SCHEMA = "daserver-check/1"


def finding_to_dict(f: Finding) -> dict[str, Any]:
    return {
        "id": f.id,
        "stage": f.stage,
        "status": f.status.value,
        "title": f.title,
        "detail": f.detail,
        "predicts": f.predicted_codes,
        "remediation": f.remediation,
        "remediation_steps": list(f.remediation_steps),
        "evidence": dict(f.evidence),
        "address": f.address,
    }


def report_to_dict(report: Report) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "tool": {"name": "daserver-check", "version": __version__},
        "command": report.command,
        "status": report.status.value,
        "duration_ms": report.duration_ms,
        "targets": [
            {
                "target": t.target,
                "status": t.status.value,
                "findings": [finding_to_dict(f) for f in t.findings],
            }
            for t in report.targets
        ],
    }


def render(report: Report, *, color: bool = False) -> str:
    text = json.dumps(report_to_dict(report), indent=2, ensure_ascii=False, default=str)
    return json_surrogates(text) + "\n"
