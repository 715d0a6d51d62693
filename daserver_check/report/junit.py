"""`--format junit`: a testsuite per target, a testcase per finding.

fail -> <failure>, error -> <error>, skip -> <skipped>; warn passes (with its text in
system-out), since CI gates treat any failure as red.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from daserver_check.model import Report, Status
from daserver_check.report.escape import inert_report


def render(report: Report, *, color: bool = False) -> str:
    report = inert_report(report)  # untrusted text shown as escapes, not acted on
    suites = ET.Element("testsuites", name="daserver-check", time=f"{report.duration_ms / 1000:.3f}")
    for target in report.targets:
        findings = target.findings
        suite = ET.SubElement(
            suites,
            "testsuite",
            name=target.target,
            tests=str(len(findings)),
            failures=str(sum(f.status is Status.FAIL for f in findings)),
            errors=str(sum(f.status is Status.ERROR for f in findings)),
            skipped=str(sum(f.status is Status.SKIP for f in findings)),
            time=f"{target.duration_ms / 1000:.3f}",
        )
        for f in findings:
            name = f"{f.id} [{f.address}]" if f.address else f.id
            case = ET.SubElement(suite, "testcase", classname=f.stage, name=name)
            message = f.title + (f" (predicts {', '.join(f.predicted_codes)})" if f.predicts else "")
            body = "\n".join(x for x in (f.detail, f"fix: {f.remediation}" if f.remediation else "") if x)
            if f.status is Status.FAIL:
                ET.SubElement(case, "failure", message=message, type=f.id).text = body
            elif f.status is Status.ERROR:
                ET.SubElement(case, "error", message=message, type=f.id).text = body
            elif f.status is Status.SKIP:
                ET.SubElement(case, "skipped", message=f.detail or message)
            elif f.status is Status.WARN:
                ET.SubElement(case, "system-out").text = f"WARNING: {message}\n{body}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
