"""Handshakes as each Windows client makes them, against servers nobody here wrote
(`openssl s_server`) and against the lab with its TLS faults.

windows7 (TLS 1.0) vs TLS 1.2 + ECDHE-RSA-GCM only -> protocol-version refusal, 0x80090326
windows10 vs the same                              -> TLS 1.2, ECDHE-RSA-AES256-GCM
healthy lab                                        -> every client connects; 8/10/11 with null
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import event, example, given
from hypothesis import strategies as st

from daserver_check.clients import PROFILES, SUITES, ClientProfile, TlsVersion
from daserver_check.lab.faults import FAULT_CIPHERS
from daserver_check.lab.server import HEALTHY_CIPHERS, LabConfig, LabEndpoint
from daserver_check.probe.client_handshake import (
    ClientFailure,
    ClientHandshake,
    classify_error,
    client_handshake,
    connect_and_handshake,
    openssl_can_offer,
    run_clients,
)
from daserver_check.probe.deadline import Deadline
from tests.fuzz.strategies import fuzz_settings, inputs
from tests.probe.openssl_server import NAME, make_cert, s_server

SCSV = 0x00FF  # TLS_EMPTY_RENEGOTIATION_INFO_SCSV: OpenSSL's, where Schannel sends the extension
NULL, ENCRYPTED = "null", "encrypted"
Expected = dict[str, "str | ClientFailure"]


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_cert(tmp_path_factory.mktemp("clients"))


def handshake(name: str, port: int) -> ClientHandshake:
    return connect_and_handshake(PROFILES[name], "127.0.0.1", port, NAME, Deadline(10))


def outcome(result: ClientHandshake) -> str | ClientFailure:
    if not result.ok:
        assert result.failure is not None
        return result.failure
    return NULL if result.null_suite else ENCRYPTED


# -- the ClientHello each profile sends ------------------------------------------------------


@pytest.mark.parametrize("name", list(PROFILES))
def test_server_sees_the_profile_clienthello(name: str, cert: tuple[Path, Path]) -> None:
    profile = PROFILES[name]
    with s_server(cert, "-cipher", "ALL:eNULL:@SECLEVEL=0", one_hello=True) as server:
        result = handshake(name, server.port)
        hello = server.hello()
    assert result.ok, result
    assert hello.cipher_suites == (*[s.code for s in profile.sendable], SCSV)
    assert hello.versions == tuple(int(v) for v in profile.versions)
    assert hello.groups == tuple(g.code for g in profile.groups)
    # signature_algorithms exists from TLS 1.2 on (RFC 5246 §7.4.1.4.1).
    expected_sigalgs = profile.sigalgs if TlsVersion.TLS1_2 in profile.versions else ()
    assert hello.sigalgs == tuple(a.code for a in expected_sigalgs)
    # What could not be sent is named, and it is exactly the profile's unsendable suites.
    assert result.unsent == tuple(s.iana for s in profile.unsendable)
    assert result.groups_applied


def test_unsendable_flags_match_this_openssl() -> None:
    """The profiles' can_offer flags are what the OpenSSL in use can do: if a build offers
    3DES again, this fails and the flag (and the expected ClientHellos) must change."""
    for suite in SUITES.values():
        assert openssl_can_offer(suite.openssl) is suite.can_offer, suite.iana


# -- acceptance: a TLS 1.2 + ECDHE-RSA-AES256-GCM-SHA384 server -------------------------------


def test_gcm_only_server_fails_windows7_and_passes_windows10(cert: tuple[Path, Path]) -> None:
    with s_server(cert, "-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384") as server:
        results = {r.client: r for r in run_clients(PROFILES.values(), "127.0.0.1", server.port,
                                                   NAME, Deadline(10))}
    win7 = results["windows7"]
    assert not win7.ok
    assert win7.failure is ClientFailure.PROTOCOL_VERSION
    assert win7.alert == "protocol version"
    assert win7.predicted is not None and win7.predicted.code == "0x80090326"
    assert not win7.predicted.inferred
    win10 = results["windows10"]
    assert win10.ok, win10
    assert win10.version is TlsVersion.TLS1_2
    assert win10.suite is SUITES["TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"]
    assert not win10.null_suite and win10.predicted is None
    # Windows 7 with TLS 1.2 and Windows 8.1 have no ECDHE-RSA-GCM suite (Learn tables).
    for name in ("windows7-tls12", "windows8"):
        assert results[name].failure is ClientFailure.NO_SHARED_SUITE, results[name]
        assert results[name].alert == "handshake failure"
    assert [r.client for r in results.values()] == list(PROFILES)


# -- the lab, healthy and with each TLS fault --------------------------------------------------

PF, NS = ClientFailure.PROTOCOL_VERSION, ClientFailure.NO_SHARED_SUITE
LAB_EXPECTED: dict[str, Expected] = {
    "": {"windows7": ENCRYPTED, "windows7-tls12": ENCRYPTED, "windows8": NULL,
         "windows10": NULL, "windows11": NULL},
    "tls12-gcm-only": {"windows7": PF, "windows7-tls12": ENCRYPTED, "windows8": NULL,
                       "windows10": NULL, "windows11": NULL},
    "no-tls10": {"windows7": PF, "windows7-tls12": ENCRYPTED, "windows8": NULL,
                 "windows10": NULL, "windows11": NULL},
    "null-dropped": {"windows7": ENCRYPTED, "windows7-tls12": ENCRYPTED, "windows8": NS,
                     "windows10": NS, "windows11": NS},
    "tls13-only": dict.fromkeys(PROFILES, PF),
    "fips": dict.fromkeys(PROFILES, ENCRYPTED),
}


@pytest.mark.parametrize("fault", list(LAB_EXPECTED))
def test_lab_fault_per_client(fault: str) -> None:
    config = LabConfig(faults=frozenset({fault} if fault else set()))
    with LabEndpoint(config) as lab:
        results = run_clients(PROFILES.values(), "127.0.0.1", lab.port, config.name, Deadline(10))
    assert {r.client: outcome(r) for r in results} == LAB_EXPECTED[fault]
    for r in results:
        if r.ok:
            assert r.version is not None and r.suite is not None and r.predicted is None
        else:
            assert r.predicted is not None and r.predicted.code == "0x80090326"


# The same settings, served by openssl s_server. null-dropped cannot be: s_server has no way to
# refuse a ClientHello for what it offers (it would choose an encrypted suite instead).
S_SERVER_ARGS: dict[str, tuple[str, ...]] = {
    "tls12-gcm-only": ("-tls1_2", "-serverpref", "-cipher", FAULT_CIPHERS["tls12-gcm-only"]),
    "no-tls10": ("-no_tls1", "-no_tls1_3", "-serverpref", "-cipher", HEALTHY_CIPHERS),
    "tls13-only": ("-tls1_3",),
    "fips": ("-no_tls1_3", "-serverpref", "-cipher", FAULT_CIPHERS["fips"]),
}


@pytest.mark.parametrize("fault", list(S_SERVER_ARGS))
def test_same_setting_with_s_server(fault: str, cert: tuple[Path, Path]) -> None:
    with s_server(cert, *S_SERVER_ARGS[fault]) as server:
        results = run_clients(PROFILES.values(), "127.0.0.1", server.port, NAME, Deadline(10))
    assert {r.client: outcome(r) for r in results} == LAB_EXPECTED[fault]


def test_null_dropped_refuses_before_any_server_hello() -> None:
    """The front end answers the hello itself: nothing of the server (no certificate) comes."""
    config = LabConfig(faults=frozenset({"null-dropped"}))
    with LabEndpoint(config) as lab:
        result = handshake("windows10", lab.port)
    assert result.failure is ClientFailure.NO_SHARED_SUITE
    assert result.version is None and result.suite is None


# -- servers that misbehave: failure is data ------------------------------------------------


@contextlib.contextmanager
def listener() -> Iterator[socket.socket]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock


def test_silent_server_times_out() -> None:
    with listener() as sock:  # connections complete in the backlog, nobody answers
        result = connect_and_handshake(PROFILES["windows10"], "127.0.0.1",
                                       sock.getsockname()[1], NAME, Deadline(0.3))
    assert result.failure is ClientFailure.TIMEOUT
    assert result.predicted is None
    assert "sent nothing" in result.detail


def answering(data: bytes) -> tuple[socket.socket, threading.Thread]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)

    def serve() -> None:
        conn, _ = sock.accept()
        with conn:
            conn.recv(4096)
            if data:
                conn.sendall(data)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return sock, thread


@pytest.mark.parametrize(
    ("answer", "kind"),
    [(b"", ClientFailure.EOF), (b"HTTP/1.0 400 Bad Request\r\n\r\n", ClientFailure.NOT_TLS),
     (bytes([21, 3, 3, 0, 2, 2, 70]), PF), (bytes([21, 3, 3, 0, 2, 2, 80]), ClientFailure.ALERT)],
)
def test_server_answers_become_kinds(answer: bytes, kind: ClientFailure) -> None:
    sock, thread = answering(answer)
    with sock:
        result = connect_and_handshake(PROFILES["windows7"], "127.0.0.1", sock.getsockname()[1],
                                       NAME, Deadline(5))
        thread.join(5)
    assert result.failure is kind, result
    assert not result.ok and result.detail


def test_closed_port_is_our_error_not_an_exception() -> None:
    with listener() as sock:
        port = sock.getsockname()[1]
    (result,) = run_clients([PROFILES["windows8"]], "127.0.0.1", port, NAME, Deadline(2))
    assert result.failure is ClientFailure.ERROR
    assert result.detail.startswith("TCP:")


# -- bounded parsing of what the network sends ----------------------------------------------


@pytest.mark.parametrize(
    ("reasons", "kind", "alert"),
    [(["tlsv1 alert protocol version"], PF, "protocol version"),
     (["sslv3 alert handshake failure"], NS, "handshake failure"),
     (["tlsv1 alert insufficient security"], NS, "insufficient security"),
     (["tlsv1 alert internal error"], ClientFailure.ALERT, "internal error"),
     (["wrong version number"], ClientFailure.NOT_TLS, None),
     (["unexpected eof while reading"], ClientFailure.EOF, None),
     (["wrong cipher returned"], ClientFailure.PROTOCOL_ERROR, None)],
)
def test_classify_error(reasons: list[str], kind: ClientFailure, alert: str | None) -> None:
    got_kind, got_alert, detail = classify_error(reasons)
    assert (got_kind, got_alert) == (kind, alert)
    assert detail


@fuzz_settings(ci=200)
@given(reasons=st.lists(st.text(max_size=80), max_size=6))
def test_classify_error_any_text(reasons: list[str]) -> None:
    kind, _alert, detail = classify_error(reasons)
    assert isinstance(kind, ClientFailure) and detail and len(detail) < 700


OUR_SIDE = {ClientFailure.ERROR, ClientFailure.TIMEOUT}


@fuzz_settings(ci=200)
@example(flight=b"", profile=PROFILES["windows7"])
@given(flight=inputs("tls_server", max_random=256), profile=st.sampled_from(list(PROFILES.values())))
def test_any_server_flight_gives_a_kind(flight: bytes, profile: ClientProfile) -> None:
    """Whatever a server sends after our hello, the result names what happened."""
    client, server = socket.socketpair()
    with client, server:
        client.setblocking(False)
        server.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            server.send(flight[:100_000])
        server.shutdown(socket.SHUT_WR)
        result = client_handshake(profile, client, NAME, Deadline(5))
    event(str(result.failure))
    assert not result.ok
    assert result.failure not in OUR_SIDE, result
    assert result.detail
