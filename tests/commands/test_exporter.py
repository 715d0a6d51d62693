"""The exporter end to end over HTTP: scrape a lab target, refuse a target outside the profile,
and keep a hanging target within the scrape deadline."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from prometheus_client.parser import text_string_to_metric_families

from daserver_check.exporter.server import ExporterConfig, ExporterServer
from daserver_check.lab.server import LabConfig, LabEndpoint
from daserver_check.pipeline.settings import settings_for_profile
from daserver_check.profile import load_profile


@pytest.fixture(scope="module")
def labs() -> Iterator[tuple[LabEndpoint, LabEndpoint]]:
    with LabEndpoint(LabConfig()) as good, LabEndpoint(LabConfig(faults=frozenset({"hang"}))) as hang:
        yield good, hang


@pytest.fixture(scope="module")
def profile_file(labs: tuple[LabEndpoint, LabEndpoint], tmp_path_factory: pytest.TempPathFactory) -> Path:
    good, hang = labs
    path = tmp_path_factory.mktemp("exporter") / "lab.toml"
    path.write_text(
        "schema = 1\n[deployment]\nname = \"lab\"\n"
        f"urls = [{json.dumps(good.url)}, {json.dumps(hang.url)}]\n"
        f"[dns]\nresolvers = [{json.dumps(good.resolver)}]\nallow_private = true\n"
        f"[cert]\nca_file = {json.dumps(str(good.ca_file))}\n"
        "[probe]\ntimeout = 10.0\nconcurrency = 4\n"
    )
    return path


@pytest.fixture(scope="module")
def exporter(profile_file: Path) -> Iterator[str]:
    settings = settings_for_profile(load_profile(str(profile_file)))
    server = ExporterServer(("127.0.0.1", 0), ExporterConfig({"lab": settings}, max_concurrent=4))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def get(url: str, timeout_header: str | None = None) -> tuple[int, str]:
    request = urllib.request.Request(url)
    if timeout_header:
        request.add_header("X-Prometheus-Scrape-Timeout-Seconds", timeout_header)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def metrics(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_scrape_healthy_target(exporter: str, labs: tuple[LabEndpoint, LabEndpoint]) -> None:
    good, _ = labs
    code, body = get(f"{exporter}/probe?target={quote(good.url, safe='')}")
    assert code == 200
    values = metrics(body)
    assert values[("daserver_probe_success", (("target", good.url),))] == 1
    assert values[("daserver_tls_null_cipher_offered", (("address", "127.0.0.1"), ("target", good.url)))] == 1


def test_target_outside_profile_refused(exporter: str) -> None:
    code, body = get(f"{exporter}/probe?target={quote('https://elsewhere.example/IPHTTPS', safe='')}")
    assert code == 403
    assert "not in profile" in body


def test_bad_requests(exporter: str) -> None:
    assert get(f"{exporter}/probe")[0] == 400
    assert get(f"{exporter}/probe?target=x&profile=nope")[0] == 400
    assert get(f"{exporter}/nothing")[0] == 404


def test_hanging_target_respects_scrape_deadline(
    exporter: str, labs: tuple[LabEndpoint, LabEndpoint]
) -> None:
    _, hang = labs
    code, body = get(f"{exporter}/probe?target={quote(hang.url, safe='')}", timeout_header="2")
    assert code == 200
    values = metrics(body)
    assert values[("daserver_probe_success", (("target", hang.url),))] == 0
    # the probe ran under the scrape deadline (2 s less the margin), not the profile's 10 s
    assert values[("daserver_probe_duration_seconds", (("target", hang.url),))] < 2.0


def test_own_metrics(exporter: str) -> None:
    code, body = get(f"{exporter}/metrics")
    assert code == 200
    assert "daserver_exporter_probes_total" in body


def test_cli_exporter_starts_and_stops(profile_file: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "daserver_check", "exporter", "--listen",
                             "127.0.0.1:0", "--profile", str(profile_file)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on http://127.0.0.1:" in line
        base = line.split("listening on ")[1].split(" ")[0].rstrip("/")
        assert get(f"{base}/metrics")[0] == 200
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert "Traceback" not in err


# -- the exporter stays up (issue 14 item 5) and answers HEAD (issue 13 item 4) -----------------

DEADLINE = 20.0  # seconds: a bound for things that happen at once, generous for a loaded machine


def _serve(settings_profile: Path, **options: Any) -> tuple[ExporterServer, threading.Thread]:
    settings = settings_for_profile(load_profile(str(settings_profile)))
    server = ExporterServer(("127.0.0.1", 0), ExporterConfig({"lab": settings}, **options))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              daemon=True)
    thread.start()
    return server, thread


@contextlib.contextmanager
def serving(profile: Path, **options: Any) -> Iterator[ExporterServer]:
    server, _thread = _serve(profile, **options)
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _connect(server: ExporterServer) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.server_address[1]), timeout=DEADLINE)


def _until(condition: Callable[[], bool], what: str) -> None:
    """Wait for a state of the in-process server, bounded by DEADLINE (a deadline check)."""
    end = time.monotonic() + DEADLINE
    while not condition():
        assert time.monotonic() < end, f"not within {DEADLINE} s: {what}"
        threading.Event().wait(0.01)


def test_head_is_get_without_a_body(exporter: str) -> None:
    host, port = exporter.removeprefix("http://").split(":")
    for path in ("/metrics", "/", "/nope"):
        conn = http.client.HTTPConnection(host, int(port), timeout=DEADLINE)
        try:
            conn.request("GET", path)
            got = conn.getresponse()
            body = got.read()
            conn.request("HEAD", path)  # same connection: a body here would corrupt the next
            head = conn.getresponse()
            assert head.status == got.status
            assert head.read() == b""
            assert int(head.headers["Content-Length"]) > 0
            assert head.headers["Content-Type"] == got.headers["Content-Type"]
            conn.request("GET", "/")
            assert conn.getresponse().status == 200
        finally:
            conn.close()
        assert body


def test_idle_connection_is_closed_after_the_read_timeout(profile_file: Path) -> None:
    with serving(profile_file, read_timeout=0.5) as server, _connect(server) as idle:
        assert idle.recv(1) == b""  # the server closed it; without a timeout recv would hang


def test_at_the_limit_a_new_connection_replaces_an_idle_one(profile_file: Path) -> None:
    with serving(profile_file, max_connections=3) as server:
        idle = [_connect(server) for _ in range(3)]
        try:
            _until(lambda: server.open_connections == 3, "three connections accepted")
            code, body = get(f"http://127.0.0.1:{server.server_address[1]}/metrics")
            assert code == 200, body
            assert idle[0].recv(1) == b""  # the oldest idle one made room
        finally:
            for sock in idle:
                sock.close()


def test_at_the_limit_with_every_connection_busy_a_new_one_gets_503(
    profile_file: Path, labs: tuple[LabEndpoint, LabEndpoint]
) -> None:
    _, hang = labs
    with serving(profile_file, max_connections=1) as server:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        results: list[tuple[int, str]] = []
        busy = threading.Thread(target=lambda: results.append(
            get(f"{base}/probe?target={quote(hang.url, safe='')}", timeout_header="3")))
        busy.start()
        try:
            _until(lambda: server.metrics.registry.get_sample_value(
                "daserver_exporter_probes_in_flight") == 1, "the hanging probe runs")
            code, body = get(f"{base}/metrics")
            assert code == 503, body
            assert "too many open connections" in body
        finally:
            busy.join(DEADLINE)
        assert results and results[0][0] == 200


def _limit_fds() -> None:  # preexec_fn: runs in the child before exec
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))


def _own_fd_limit(at_least: int) -> Iterator[None]:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < at_least:
        if hard != resource.RLIM_INFINITY and hard < at_least:
            pytest.skip(f"needs {at_least} open files in the test process (hard limit {hard})")
        resource.setrlimit(resource.RLIMIT_NOFILE, (at_least, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


def _start_exporter(profile: Path, **popen: Any) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen([sys.executable, "-m", "daserver_check", "exporter", "--listen",
                             "127.0.0.1:0", "--profile", str(profile)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **popen)
    assert proc.stdout is not None
    base = proc.stdout.readline().split("listening on ")[1].split(" ")[0].rstrip("/")
    return proc, base


def _hang_up(held: list[socket.socket]) -> None:
    """Half reset (RST) after a partial request, half close politely."""
    for index, sock in enumerate(held):
        with contextlib.suppress(OSError):
            if index % 2 == 0:
                sock.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            sock.close()
    held.clear()


def _until_all_closed(base: str) -> None:
    """Scrape /metrics until the server has seen every hang-up (only the scrape is open)."""
    end = time.monotonic() + DEADLINE
    while True:
        code, body = get(f"{base}/metrics")
        assert code == 200, body
        if metrics(body)[("daserver_exporter_connections_open", ())] <= 1:
            return
        assert time.monotonic() < end, "the server never noticed the hang-ups"


def _stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    _, err = proc.communicate(timeout=DEADLINE)
    return err


def test_clients_that_reset_leave_no_traceback(profile_file: Path) -> None:
    proc, base = _start_exporter(profile_file)
    port = int(base.rsplit(":", 1)[1])
    try:
        _hang_up([socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
                  for _ in range(20)])
        _until_all_closed(base)
    finally:
        err = _stop(proc)
    assert "Traceback" not in err, err
    assert err.strip() == "", err


def test_400_idle_connections_under_ulimit_256_still_leave_a_scrape(
    profile_file: Path, labs: tuple[LabEndpoint, LabEndpoint]
) -> None:
    good, _ = labs
    proc, base = _start_exporter(profile_file, preexec_fn=_limit_fds)
    port = int(base.rsplit(":", 1)[1])
    held: list[socket.socket] = []
    try:
        with contextlib.contextmanager(_own_fd_limit)(1024):
            for _ in range(400):
                held.append(socket.create_connection(("127.0.0.1", port), timeout=DEADLINE))
            code, body = get(f"{base}/probe?target={quote(good.url, safe='')}")
            assert code == 200, body
            assert metrics(body)[("daserver_probe_success", (("target", good.url),))] == 1
            _hang_up(held)
            _until_all_closed(base)
    finally:
        for sock in held:
            sock.close()
        err = _stop(proc)
    assert "Traceback" not in err, err
    assert len(err.splitlines()) <= 1, err
