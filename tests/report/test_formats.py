"""Every output format, read back by the parsers of the systems that consume it."""

from __future__ import annotations

import json
from typing import Any

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped
from prometheus_client.parser import text_string_to_metric_families

from daserver_check.model import Finding, Report, Status, TargetReport
from daserver_check.report import OutputFormat, render

URL = "https://da.contoso.com/IPHTTPS"


def sample_report() -> Report:
    findings = (
        Finding("dns.resolve", Status.PASS, "resolves", evidence={"addresses": ["203.0.113.10"]}),
        Finding("tcp.connect", Status.PASS, "connected", address="203.0.113.10"),
        Finding("tls.null-cipher", Status.WARN, "no null", address="203.0.113.10",
                evidence={"offered": False}),
        Finding("cert.subject-name", Status.FAIL, 'CN "wrong" | mismatch', predicts=(0x103,),
                remediation="reissue", address="203.0.113.10"),
        Finding("cert.validity", Status.PASS, "valid", address="203.0.113.10",
                evidence={"not_after": "2027-01-01T00:00:00Z",
                          "chain": [{"position": "leaf", "not_after": "2027-01-01T00:00:00Z"},
                                    {"position": "chain", "not_after": "2030-01-01T00:00:00Z"},
                                    {"position": "chain", "not_after": "2029-01-01T00:00:00Z"}]}),
        Finding("iphttps.post", Status.SKIP, "skipped", detail="skipped: reasons",
                address="203.0.113.10"),
        Finding("cert.trust", Status.ERROR, "undecided", address="203.0.113.10"),
    )
    ok = TargetReport("https://ok.contoso.com/IPHTTPS", (Finding("dns.resolve", Status.PASS, "ok"),),
                      duration_ms=10)
    return Report("probe", (TargetReport(URL, findings, duration_ms=412), ok), duration_ms=420)


def test_json_contract_keys() -> None:
    data: dict[str, Any] = json.loads(render(sample_report(), OutputFormat.JSON))
    assert data["schema"] == "daserver-check/1"
    assert data["tool"]["name"] == "daserver-check"
    assert data["status"] == "fail"
    f = data["targets"][0]["findings"][3]
    assert set(f) >= {"id", "stage", "status", "title", "detail", "predicts", "remediation",
                      "evidence", "address"}
    assert f["predicts"] == ["0x103"]


def test_junit_read_back_by_junitparser(tmp_path: Any) -> None:
    path = tmp_path / "r.xml"
    path.write_text(render(sample_report(), OutputFormat.JUNIT))
    xml = JUnitXml.fromfile(str(path))
    suites = list(xml)
    assert [s.name for s in suites] == [URL, "https://ok.contoso.com/IPHTTPS"]
    cases = {c.name: c for c in suites[0]}
    assert isinstance(cases["cert.subject-name [203.0.113.10]"].result[0], Failure)
    assert isinstance(cases["cert.trust [203.0.113.10]"].result[0], Error)
    assert isinstance(cases["iphttps.post [203.0.113.10]"].result[0], Skipped)
    assert cases["tcp.connect [203.0.113.10]"].is_passed
    assert suites[0].failures == 1 and suites[0].errors == 1 and suites[0].skipped == 1


def test_prometheus_parsed_by_prometheus_client() -> None:
    text = render(sample_report(), OutputFormat.PROMETHEUS)
    samples = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            samples[(s.name, tuple(sorted(s.labels.items())))] = s.value
    assert samples[("daserver_probe_success", (("target", URL),))] == 0
    assert samples[("daserver_probe_success", (("target", "https://ok.contoso.com/IPHTTPS"),))] == 1
    assert samples[("daserver_probe_duration_seconds", (("target", URL),))] == pytest.approx(0.412)
    key = ("daserver_finding_status", (("address", "203.0.113.10"), ("id", "cert.subject-name"),
                                       ("target", URL)))
    assert samples[key] == 2
    leaf = ("daserver_cert_not_after_timestamp_seconds",
            (("address", "203.0.113.10"), ("position", "leaf"), ("target", URL)))
    chain = ("daserver_cert_not_after_timestamp_seconds",
             (("address", "203.0.113.10"), ("position", "chain"), ("target", URL)))
    assert samples[leaf] == 1798761600  # 2027-01-01
    assert samples[chain] == 1861920000  # the earliest chain expiry, 2029-01-01
    assert samples[("daserver_tls_null_cipher_offered",
                    (("address", "203.0.113.10"), ("target", URL)))] == 0
    assert samples[("daserver_predicted_error", (("code", "0x103"), ("target", URL)))] == 1


def test_nagios_status_line_perfdata_and_long_output() -> None:
    # Issue 13 (Monitoring Plugins guidelines): `SERVICE STATE - text` naming the failing
    # targets (was `DASERVER CRITICAL: <finding>` on one line only), then long output.
    first, *long_output = render(sample_report(), OutputFormat.NAGIOS).rstrip("\n").split("\n")
    status, perf = first.split(" | ")
    assert status.startswith(f"DASERVER CRITICAL - 1 of 2 targets: {URL} (cert.subject-name")
    assert "[0x103]" in status
    assert "|" not in status.split(" - ", 1)[1]  # the title's pipe was neutralised
    assert "time=0.420s" in perf and "cert_days_left=" in perf
    assert long_output[0] == f"{URL}:"
    assert any(line.startswith("  FAIL cert.subject-name") for line in long_output)
    assert any(line.startswith("  WARN tls.null-cipher") for line in long_output)


def test_markdown_table() -> None:
    text = render(sample_report(), OutputFormat.MARKDOWN)
    assert text.startswith("# daserver-check probe: FAIL")
    assert "| ❌ fail | `cert.subject-name` |" in text
    assert '\\|' in text  # pipes in cells are escaped


def test_text_verdict_first() -> None:
    text = render(sample_report(), OutputFormat.TEXT)
    assert text.splitlines()[0].startswith(f"CRITICAL  {URL}")
    assert "0x103 (ERROR_NO_MORE_ITEMS)" in text
    assert "fix: reissue" in text


def test_inferred_codes_say_so_in_the_text_report() -> None:
    from daserver_check.codes import inferred_for

    # The binding cause of 0x103 is inferred (HTTP.sys binding order); the Subject cause is
    # KB 2980635's own words.
    assert inferred_for(0x103, "server.sslcert.binding")
    assert not inferred_for(0x103, "cert.subject-name")
    report = Report("server", (TargetReport("b", (
        Finding("server.sslcert.binding", Status.FAIL, "wrong", predicts=(0x103,)),
        Finding("cert.subject-name", Status.FAIL, "wrong", predicts=(0x103,))),),))
    text = render(report, OutputFormat.TEXT)
    assert "client error: 0x103 ERROR_NO_MORE_ITEMS (inferred)" in text
    assert "client error: 0x103 ERROR_NO_MORE_ITEMS\n" in text


def test_interface_creation_codes_are_not_called_client_codes() -> None:
    # Issue 11: 0x643/0x34 are what the failing machine's IP-HTTPS interface reports.
    report = Report("server", (TargetReport("b", (
        Finding("server.ipv6.components", Status.FAIL, "off", predicts=(0x643, 0x34)),
        Finding("cert.subject-name", Status.FAIL, "wrong", predicts=(0x103,))),),))
    text = render(report, OutputFormat.TEXT)
    assert "The IP-HTTPS interface (server or client) would report: 0x643" in text
    assert "A DirectAccess client would report: 0x103 (ERROR_NO_MORE_ITEMS)\n" in text
