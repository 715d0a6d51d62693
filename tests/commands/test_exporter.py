"""The exporter end to end over HTTP: scrape a lab target, refuse a target outside the profile,
and keep a hanging target within the scrape deadline."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
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
