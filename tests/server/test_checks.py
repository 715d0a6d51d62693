from __future__ import annotations

from pathlib import Path

import pytest

from daserver_check.model import Status
from daserver_check.server.artifacts import load, sniff
from daserver_check.server.checks import Options, run_checks
from daserver_check.server.facts import Binding, Facts, Reservation

from .scenario import FIXTURES, GOOD_HASH, OTHER_HASH


def by_id(findings: list) -> dict[str, object]:  # type: ignore[type-arg]
    return {f.id: f for f in findings}


@pytest.fixture(scope="module")
def kb_bundle() -> dict[str, object]:
    return by_id(run_checks(load([str(FIXTURES / "kb2980660")])))


@pytest.mark.parametrize(
    ("fid", "status", "predicts", "names"),
    [
        ("server.urlacl.conflict", Status.FAIL, (0x643, 0x34),
         ["C574AC30-5794-4AEE-B1BB-6651C5315029", "sra_{BA195980-CD49-458b-9E23-C84EE0ADCD75}",
          "reg export", "UrlAclInfo", "iphlpsvc"]),
        # Contract change of 2026-11-30: `+` beside a host name is a normal pair, not a duplicate.
        ("server.urlacl.duplicate", Status.PASS, (),
         ["https://da.contoso.com:443/IPHTTPS/", "https://+:443/IPHTTPS/"]),
        ("server.urlacl.acl", Status.FAIL, (0x643, 0x34),
         ['/v "https://+:443/broken/"', "reg export", "iphlpsvc"]),
        # Contract change of 2026-11-30: without --cert/--url nothing says which certificate is
        # the IP-HTTPS one, so an IP-specific binding with another certificate is a warning.
        ("server.sslcert.binding", Status.WARN, (0x103,), ["203.0.113.10:443", "--cert"]),
        ("server.ipv6.components", Status.FAIL, (0x643, 0x34),
         ["/v DisabledComponents", "Tcpip6\\Parameters", "restart the server"]),
        ("server.iphttps.policy", Status.FAIL, (0x643, 0x34),
         ["v6Transition\\IPHTTPS\"", "v6Transition\\IPHTTPSProfiles\"", "iphlpsvc", "gpupdate"]),
        ("server.iphttps.state", Status.FAIL, (0x643,), ["server.urlacl.conflict"]),
        ("client.proxy", Status.WARN, (0x2AFC, 0x2AF9), ["ProxyMgr", "reg export"]),
    ],
)
def test_kb2980660_findings(kb_bundle: dict[str, object], fid: str, status: Status,
                          predicts: tuple[int, ...], names: list[str]) -> None:
    f = kb_bundle[fid]
    assert f.status is status, f.detail  # type: ignore[attr-defined]
    assert f.predicts == predicts  # type: ignore[attr-defined]
    text = f.remediation + " " + f.detail  # type: ignore[attr-defined]
    for name in names:
        assert name in text, name


def test_healthy_bundle_passes() -> None:
    findings = run_checks(load([str(FIXTURES / "healthy")]))
    assert {f.id: f.status for f in findings} == {
        "server.artifacts": Status.PASS,
        "server.urlacl.conflict": Status.PASS,
        "server.urlacl.duplicate": Status.PASS,
        "server.urlacl.acl": Status.PASS,
        "server.sslcert.binding": Status.PASS,
        "server.ipv6.components": Status.PASS,
        "server.iphttps.policy": Status.PASS,
        "server.iphttps.state": Status.PASS,
        "client.proxy": Status.PASS,
        # Not in this bundle (no cmdlet JSON, no SCHANNEL/FIPS keys, no client files).
        "server.health": Status.SKIP,
        "server.nrpt": Status.SKIP,
        "server.tls.schannel": Status.SKIP,
        "client.system-proxy": Status.SKIP,
        "client.adapters": Status.SKIP,
    }


def test_nothing_collected_skips_with_reason() -> None:
    findings = run_checks(Facts())
    assert all(f.status is Status.SKIP for f in findings if f.id != "server.artifacts")
    assert all("skipped:" in f.detail for f in findings if f.status is Status.SKIP)


def test_cert_thumbprint_mismatch() -> None:
    facts = Facts(bindings=[Binding("0.0.0.0:443", "ip", GOOD_HASH,
                                    "{5d8e2743-ef20-4d38-8751-7e400f200e65}", "MY", True, False,
                                    "x")])
    ok = by_id(run_checks(facts, Options(GOOD_HASH, "--cert a")))["server.sslcert.binding"]
    assert ok.status is Status.PASS  # type: ignore[attr-defined]
    bad = by_id(run_checks(facts, Options(OTHER_HASH, "--cert b")))["server.sslcert.binding"]
    assert bad.status is Status.FAIL and OTHER_HASH in bad.remediation  # type: ignore[attr-defined]


def test_missing_binding_and_wrong_app() -> None:
    facts = Facts(bindings=[])
    f = by_id(run_checks(facts))["server.sslcert.binding"]
    assert f.status is Status.FAIL and "no 0.0.0.0:443" in f.detail  # type: ignore[attr-defined]
    facts = Facts(bindings=[Binding("0.0.0.0:443", "ip", GOOD_HASH, "{00000000-0000-0000-0000-"
                                    "000000000000}", "MY", True, False, "x")])
    f = by_id(run_checks(facts))["server.sslcert.binding"]
    # Contract change of 2026-11-30: the app id is evidence, not a verdict (was: FAIL, "not
    # IP-HTTPS"). Add-NetIPHttpsCertBinding lets the admin choose it.
    assert f.status is Status.PASS and "app id {00000000" in f.detail  # type: ignore[attr-defined]


def test_ip_specific_binding_with_the_iphttps_certificate_passes() -> None:
    facts = Facts(bindings=[Binding("203.0.113.10:443", "ip", GOOD_HASH, "{11111111-0000-0000-"
                                    "0000-000000000000}", "MY", True, False, "x")])
    f = by_id(run_checks(facts, Options(cert_thumbprint=GOOD_HASH, cert_label="--cert x")))[
        "server.sslcert.binding"]
    assert f.status is Status.PASS, f.detail  # type: ignore[attr-defined]


def test_binding_without_the_intended_certificate_fails() -> None:
    facts = Facts(bindings=[Binding("0.0.0.0:443", "ip", "ab" * 20, None, "MY", True, False, "x"),
                            Binding("203.0.113.10:443", "ip", "cd" * 20, None, "MY", True, False,
                                    "x")])
    f = by_id(run_checks(facts, Options(cert_thumbprint=GOOD_HASH, cert_label="--cert x")))[
        "server.sslcert.binding"]
    assert f.status is Status.FAIL and f.predicts == (0x103,)  # type: ignore[attr-defined]
    facts.bindings[0] = Binding("0.0.0.0:443", "ip", GOOD_HASH, None, "MY", True, False, "x")  # type: ignore[index]
    f = by_id(run_checks(facts, Options(cert_thumbprint=GOOD_HASH, cert_label="--cert x")))[
        "server.sslcert.binding"]
    assert f.status is Status.WARN and "203.0.113.10:443" in f.detail  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("value", "status"),
    [(None, Status.PASS), (0, Status.PASS), (0x20, Status.PASS), (0x01, Status.FAIL),
     (0x80, Status.FAIL), (0xFF, Status.FAIL), (0xFFFFFFFF, Status.FAIL), (0x08, Status.WARN),
     (0x10, Status.WARN)],
)
def test_disabled_components_values(value: int | None, status: Status) -> None:
    facts = Facts(ipv6_collected=True, disabled_components=value)
    assert by_id(run_checks(facts))["server.ipv6.components"].status is status  # type: ignore[attr-defined]


def test_conflict_on_another_port_is_ignored() -> None:
    facts = Facts(reservations=[Reservation(
        "https://+:8443/C574AC30-5794-4AEE-B1BB-6651C5315029/", "D:(A;;GX;;;NS)", None, "x")])
    assert by_id(run_checks(facts))["server.urlacl.conflict"].status is Status.PASS  # type: ignore[attr-defined]


def test_files_are_recognised_by_content_not_name(tmp_path: Path) -> None:
    bundle = FIXTURES / "kb2980660"
    for i, src in enumerate(sorted(bundle.iterdir())):
        (tmp_path / f"file{i}.dat").write_bytes(src.read_bytes())
    (tmp_path / "notes.txt").write_text("collected by Bob\n")
    renamed = by_id(run_checks(load([str(tmp_path)])))
    original = by_id(run_checks(load([str(bundle)])))
    for fid, f in original.items():
        if fid != "server.artifacts":
            assert renamed[fid].status is f.status, fid  # type: ignore[attr-defined]
    assert renamed["server.artifacts"].evidence["ignored"] == [str(tmp_path / "notes.txt")]  # type: ignore[attr-defined]


def test_hive_files_as_paths(kb_hives: tuple[Path, Path]) -> None:
    findings = by_id(run_checks(load([str(kb_hives[0]), str(kb_hives[1])])))
    for fid in ("server.urlacl.acl", "server.ipv6.components"):
        assert findings[fid].status is Status.FAIL, fid  # type: ignore[attr-defined]
    assert findings["server.sslcert.binding"].status is Status.WARN  # type: ignore[attr-defined]
    # Contract change of 2026-11-30: without interface output there is no evidence that the
    # interface fails, so the SSTP/BranchCache reservations only warn; `+` beside a host name
    # is a normal pair.
    assert findings["server.urlacl.conflict"].status is Status.WARN  # type: ignore[attr-defined]
    assert findings["server.urlacl.duplicate"].status is Status.PASS  # type: ignore[attr-defined]
    # Without interface output the policy URL cannot be compared; the keys are still listed.
    assert findings["server.iphttps.policy"].status is Status.PASS  # type: ignore[attr-defined]
    assert findings["server.iphttps.state"].status is Status.SKIP  # type: ignore[attr-defined]


def test_broken_artifact_is_an_error_finding(tmp_path: Path) -> None:
    (tmp_path / "x.reg").write_bytes(b"\xff\xfe" + "Windows Registry Editor Version 5.00\r\n"
                                     "nonsense\r\n".encode("utf-16-le"))
    (tmp_path / "y.hive").write_bytes(b"regf" + b"\0" * 100)
    f = by_id(run_checks(load([str(tmp_path)])))["server.artifacts"]
    assert f.status is Status.ERROR  # type: ignore[attr-defined]
    assert len(f.evidence["problems"]) == 2  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("head", "kind"),
    [(b"regf\0\0", "hive"), (b"\xff\xfe" + "Windows Registry Editor Version 5.00".encode("utf-16-le"), "reg"),
     (b"REGEDIT4\r\n", "reg"), (b"  {\"a\":1}", "json"), (b"\xff\xfe" + "[".encode("utf-16-le"),
     "json"), (b"URL Reservations:", "netsh"), (b"\xff\xfe\x00", None)],
)
def test_sniff(head: bytes, kind: str | None) -> None:
    assert sniff(head) == kind


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=120), st.integers(min_value=0, max_value=60))
def test_any_reservation_bytes_give_pass_or_acl_fail(noise: bytes, cut: int) -> None:
    from daserver_check.protocol.reg import RegType, RegValue
    from daserver_check.protocol.security_descriptor import sddl_to_bytes
    from daserver_check.server.extract import reservation_from_bytes

    base = bytearray(sddl_to_bytes("O:BAD:(A;;GX;;;NS)(A;;GA;;;S-1-5-80-1-2-3-4-5)"))
    data = bytes(base[:cut]) + noise
    r = reservation_from_bytes("https://+:443/x/", RegValue("https://+:443/x/", RegType.BINARY,
                                                            data), "fuzz")
    f = by_id(run_checks(Facts(reservations=[r])))["server.urlacl.acl"]
    assert f.status is (Status.FAIL if r.error else Status.PASS)  # type: ignore[attr-defined]
