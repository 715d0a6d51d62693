"""Every address, concurrently: a dual-stack lab name (A 127.0.0.1, AAAA ::1, from a real
dnsmasq) with a healthy endpoint on 127.0.0.1 and a broken one on [::1] at the same port.
The report carries both, per address, and says which entry point passes; the profile's
deployment.entry_points are checked against DNS (behind-edge NAT mistakes)."""

from __future__ import annotations

import contextlib
import errno
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from daserver_check.cli import main
from daserver_check.lab.server import LabConfig, LabEndpoint
from tests.probe.conftest import DnsServer, run_dnsmasq

NAME = "da.lab.test"


@contextlib.contextmanager
def dual_stack(broken_fault: str) -> Iterator[tuple[LabEndpoint, LabEndpoint]]:
    """A healthy lab on 127.0.0.1:P and a faulty one on [::1]:P (same port, as one URL needs)."""
    for _attempt in range(5):
        with LabEndpoint(LabConfig(name=NAME)) as good:
            try:
                broken = LabEndpoint(LabConfig(name=NAME, host="::1", port=good.port,
                                               faults=frozenset({broken_fault}))).start()
            except OSError as exc:
                if exc.errno == errno.EADDRINUSE:
                    continue  # the port is taken on ::1: new pair
                if exc.errno == errno.EADDRNOTAVAIL:
                    pytest.skip("no IPv6 loopback here")
                raise
            with broken:
                yield good, broken
            return
    pytest.fail("no port free on both 127.0.0.1 and ::1")


@pytest.fixture(scope="module")
def dns() -> Iterator[DnsServer]:
    with run_dnsmasq(("--local=/lab.test/", f"--host-record={NAME},127.0.0.1,::1")) as server:
        yield server


def probe(lab: LabEndpoint, dns: DnsServer, capsys: pytest.CaptureFixture[str],
          *extra: str) -> dict[str, Any]:
    code = main(["probe", lab.url, "--resolver", dns.spec, "--ca-file", str(lab.ca_file),
                 "--profile", "lab", "--timeout", "4", "--format", "json", *extra])
    report: dict[str, Any] = json.loads(capsys.readouterr().out)
    report["exit"] = code
    return report


def by_address(report: dict[str, Any], fid: str) -> dict[str | None, dict[str, Any]]:
    found = [f for f in report["targets"][0]["findings"] if f["id"] == fid]
    result = {f["address"]: f for f in found}
    assert len(result) == len(found), f"{fid} twice for one address"
    return result


def test_one_good_one_broken_address(dns: DnsServer, capsys: pytest.CaptureFixture[str]) -> None:
    with dual_stack("not-iphttps") as (good, _broken):
        report = probe(good, dns, capsys)
    assert by_address(report, "dns.resolve")[None]["evidence"]["addresses"] == ["127.0.0.1", "::1"]
    for fid in ("tcp.connect", "tls.handshake", "cert.subject-name"):
        assert {a: f["status"] for a, f in by_address(report, fid).items()} == {
            "127.0.0.1": "pass", "::1": "pass"}, fid
    post = by_address(report, "iphttps.post")
    assert post["127.0.0.1"]["status"] == "pass"
    assert post["::1"]["status"] == "fail"
    assert post["::1"]["predicts"] == ["0x2AFC", "0x2AF9"]
    summary = by_address(report, "probe.entry-points")[None]
    assert summary["status"] == "warn"
    assert summary["evidence"]["passing"] == ["127.0.0.1"]
    assert summary["evidence"]["failing"] == {"::1": ["iphttps.post"]}
    assert summary["evidence"]["addresses"] == {"127.0.0.1": "pass", "::1": "fail"}
    assert "1 of 2" in summary["title"]
    assert report["exit"] == 2


def test_both_addresses_healthy(dns: DnsServer, capsys: pytest.CaptureFixture[str]) -> None:
    # no-null only warns: the ::1 endpoint is usable, so it counts as passing.
    with dual_stack("no-null") as (good, _broken):
        report = probe(good, dns, capsys)
    summary = by_address(report, "probe.entry-points")[None]
    assert summary["status"] == "pass"
    assert summary["evidence"]["passing"] == ["127.0.0.1", "::1"]
    assert report["exit"] == 1  # the warning of tls.null-cipher on ::1


def test_single_address_has_no_summary(capsys: pytest.CaptureFixture[str]) -> None:
    with LabEndpoint() as lab:
        report = probe(lab, DnsServer("127.0.0.1", lab.dns_port), capsys)
    assert by_address(report, "probe.entry-points") == {}


def profile_with(tmp_path: Path, entry_points: list[str]) -> str:
    path = tmp_path / "ep.toml"
    listed = ", ".join(f'"{e}"' for e in entry_points)
    path.write_text(f"schema = 1\n[deployment]\nentry_points = [{listed}]\n[dns]\n"
                    "allow_private = true\n[cert]\ncheck_crl = false\n")
    return str(path)


def test_dns_returns_an_address_that_is_not_an_entry_point(
    dns: DnsServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with dual_stack("not-iphttps") as (good, _broken):
        report = probe(good, dns, capsys, "--profile",
                       profile_with(tmp_path, [f"127.0.0.1:{good.port}"]))
    f = by_address(report, "dns.entry-points")[None]
    assert f["status"] == "fail"
    assert f["evidence"]["unexpected"] == ["::1"]
    assert f["predicts"] == ["0x2AFC", "0x2AF9"]
    assert "NAT" in f["remediation"]


def test_entry_points_match_dns(
    dns: DnsServer, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with dual_stack("no-null") as (good, _broken):
        report = probe(good, dns, capsys, "--profile",
                       profile_with(tmp_path, [f"127.0.0.1:{good.port}", f"[::1]:{good.port}"]))
    assert by_address(report, "dns.entry-points")[None]["status"] == "pass"


def test_entry_point_missing_from_dns_warns(tmp_path: Path) -> None:
    from daserver_check.checks.addresses import entry_points_finding
    from daserver_check.model import Status

    f = entry_points_finding(["203.0.113.10"], ["203.0.113.10:443", "[2001:db8::10]:443"])
    assert f.status is Status.WARN
    assert f.evidence["missing"] == ["2001:db8::10"]
