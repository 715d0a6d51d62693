"""The protocol x suite map, against the lab and against openssl s_server.

The number the issue asks for (a typical server mapped in under 3 s on loopback) is measured
outside the tests (no timing assertions here); see the closing notes of the change.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from daserver_check.clients import TlsVersion
from daserver_check.lab.server import LabConfig, LabEndpoint
from daserver_check.probe.cipher_map import AcceptedSuite, CipherMap, map_ciphers, offerable_suites
from daserver_check.probe.deadline import Deadline
from tests.probe.openssl_server import NAME, make_cert, s_server

T10, T11, T12, T13 = TlsVersion.TLS1_0, TlsVersion.TLS1_1, TlsVersion.TLS1_2, TlsVersion.TLS1_3


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_cert(tmp_path_factory.mktemp("ciphermap"))


def pairs(result: CipherMap) -> set[tuple[TlsVersion, str]]:
    return {(a.version, a.suite.openssl) for a in result.accepted}


def test_offerable_suites_have_their_iana_code_points() -> None:
    by_name = {s.openssl: s for s in offerable_suites()}
    assert by_name["NULL-SHA256"].code == 0x003B and by_name["NULL-SHA256"].min_version is T12
    assert by_name["NULL-SHA"].code == 0x0002 and by_name["NULL-SHA"].min_version is T10
    assert by_name["TLS_AES_128_GCM_SHA256"].code == 0x1301
    assert by_name["NULL-SHA"].iana == "TLS_RSA_WITH_NULL_SHA"
    assert all(not name.startswith(("PSK-", "SRP-")) for name in by_name)
    assert len({s.code for s in offerable_suites()}) == len(offerable_suites())


def test_healthy_lab_map_lists_null_and_encrypted_suites() -> None:
    with LabEndpoint(LabConfig()) as lab:
        result = map_ciphers("127.0.0.1", lab.port, lab.config.name, Deadline(10))
    # HEALTHY_CIPHERS: NULL-SHA256:NULL-SHA:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:
    # AES256-SHA256:AES128-SHA, TLS 1.0-1.2.
    tls10_suites = {"NULL-SHA", "AES128-SHA"}
    expected = {(v, s) for v in (T10, T11) for s in tls10_suites} | {
        (T12, s) for s in ("NULL-SHA256", "NULL-SHA", "ECDHE-RSA-AES256-GCM-SHA384",
                           "ECDHE-RSA-AES128-GCM-SHA256", "AES256-SHA256", "AES128-SHA")
    }
    assert pairs(result) == expected
    assert result.versions == (T10, T11, T12)
    assert result.complete
    assert any(a.suite.is_null for a in result.accepted)
    assert all(isinstance(a, AcceptedSuite) for a in result.accepted)


def test_null_dropped_front_end_still_maps_the_encrypted_suites() -> None:
    config = LabConfig(faults=frozenset({"null-dropped"}))
    with LabEndpoint(config) as lab:
        result = map_ciphers("127.0.0.1", lab.port, config.name, Deadline(10))
    assert result.versions == (T10, T11, T12)
    assert not any(a.suite.is_null for a in result.accepted)
    assert (T12, "ECDHE-RSA-AES256-GCM-SHA384") in pairs(result)


def test_s_server_tls12_two_suites(cert: tuple[Path, Path]) -> None:
    with s_server(cert, "-tls1_2", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA") as server:
        result = map_ciphers("127.0.0.1", server.port, NAME, Deadline(10))
    assert pairs(result) == {(T12, "ECDHE-RSA-AES128-GCM-SHA256"), (T12, "AES128-SHA")}
    assert result.versions == (T12,)
    assert result.complete


def test_s_server_tls13_only(cert: tuple[Path, Path]) -> None:
    with s_server(cert, "-tls1_3", "-ciphersuites", "TLS_AES_256_GCM_SHA384") as server:
        result = map_ciphers("127.0.0.1", server.port, NAME, Deadline(10))
    assert pairs(result) == {(T13, "TLS_AES_256_GCM_SHA384")}


def test_expired_deadline_gives_an_incomplete_map_not_an_exception() -> None:
    with LabEndpoint(LabConfig()) as lab:
        result = map_ciphers("127.0.0.1", lab.port, lab.config.name, Deadline(0))
    assert result.accepted == ()
    assert result.unfinished > 0 and not result.complete


def test_closed_port_counts_errors() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = map_ciphers("127.0.0.1", port, NAME, Deadline(5), versions=(T12,))
    assert result.accepted == () and result.errors == 1 and not result.complete
