"""cert.crl against CRLs served by a real HTTP server on loopback: good, expired, revoked, bad
signature, wrong issuer, garbage, unreachable, slow (the deadline holds), redirects; plus the
verdicts without a fetch (no CDP, LDAP only, --offline, self-signed)."""

from __future__ import annotations

import functools
import http.server
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from daserver_check.certs.crl import REVOCATION_OFFLINE, REVOKED, CrlState, check_crl, judge_crl
from daserver_check.certs.crl_fetch import http_get
from daserver_check.model import Finding, Status

from .pki import Issued, cdp, intermediate, make_crl, make_leaf, root, rsa_key, with_extensions

TIMEOUT = 2.0


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    behaviour: str = ""  # "", "drip", "sleep"


class CrlServer:
    """http.server in a thread on 127.0.0.1, port 0; routes keyed by path."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.hits: list[str] = []
        self.stop = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                server.hits.append(self.path)
                route = server.routes.get(self.path, Route(404, b"not found"))
                if route.behaviour == "sleep":  # no answer until long after the deadline
                    server.stop.wait(30)
                    return
                self.send_response(route.status)
                for name, value in route.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(route.body)))
                self.end_headers()
                if route.behaviour == "drip":  # one byte every 0.2 s: 1000 bytes take 200 s
                    for byte in route.body:
                        if server.stop.wait(0.2):
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                    return
                self.wfile.write(route.body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, body: bytes = b"", **kw: object) -> str:
        self.routes[path] = Route(body=body, **kw)  # type: ignore[arg-type]
        return self.url(path)


@pytest.fixture
def server() -> Iterator[CrlServer]:
    srv = CrlServer()
    srv.thread.start()
    try:
        yield srv
    finally:
        srv.stop.set()
        srv.httpd.shutdown()
        srv.httpd.server_close()


def no_dns(host: str, seconds: float) -> Sequence[str]:
    raise AssertionError(f"no DNS expected, asked for {host}")


@functools.cache
def plain_leaf() -> Issued:
    now = datetime.now(UTC)
    return make_leaf(not_before=now - timedelta(days=1), not_after=now + timedelta(days=365))


def leaf_with(*urls: str) -> x509.Certificate:
    return with_extensions(plain_leaf(), intermediate().key, [cdp(*urls)]).cert


def crl_der(**kw: object) -> bytes:
    return make_crl(intermediate(), **kw).public_bytes(Encoding.DER)  # type: ignore[arg-type]


def run(cert: x509.Certificate, *, issuer: x509.Certificate | None = None, offline: bool = False,
        timeout: float = TIMEOUT,
        resolve: Callable[[str, float], Sequence[str]] = no_dns) -> Finding:
    finding = check_crl(cert, issuer if issuer is not None else intermediate().cert,
                        offline=offline, now=datetime.now(UTC), timeout=timeout, resolve=resolve)
    assert finding.id == "cert.crl" and finding.address is None
    return finding


def states(finding: Finding) -> list[str]:
    return [entry["state"] for entry in finding.evidence["crls"]]


# ---------------------------------------------------------------- served CRLs


def test_good_crl_passes(server: CrlServer) -> None:
    finding = run(leaf_with(server.serve("/good.crl", crl_der(revoked=[12345]))))
    assert finding.status is Status.PASS, finding.detail
    (entry,) = finding.evidence["crls"]
    assert entry["state"] == "ok" and entry["signature"] == "verified"
    assert entry["entries"] == 1


def test_pem_crl_passes(server: CrlServer) -> None:
    body = make_crl(intermediate()).public_bytes(Encoding.PEM)
    assert run(leaf_with(server.serve("/pem.crl", body))).status is Status.PASS


def test_expired_crl(server: CrlServer) -> None:
    now = datetime.now(UTC)
    body = crl_der(this_update=now - timedelta(days=20), next_update=now - timedelta(days=2))
    finding = run(leaf_with(server.serve("/expired.crl", body)))
    assert (finding.status, finding.predicts) == (Status.FAIL, (REVOCATION_OFFLINE,))
    assert states(finding) == ["expired"]


def test_revoked_serial(server: CrlServer) -> None:
    cert = leaf_with(server.url("/revoked.crl"))
    server.serve("/revoked.crl", crl_der(revoked=[7, cert.serial_number]))
    finding = run(cert)
    assert (finding.status, finding.predicts) == (Status.FAIL, (REVOKED,))
    assert states(finding) == ["revoked"]
    assert "revocation_date" in finding.evidence["crls"][0]


def test_bad_signature(server: CrlServer) -> None:
    body = make_crl(intermediate(), signer=rsa_key("forger")).public_bytes(Encoding.DER)
    finding = run(leaf_with(server.serve("/badsig.crl", body)))
    assert (finding.status, finding.predicts) == (Status.FAIL, (REVOCATION_OFFLINE,))
    assert states(finding) == ["bad-signature"]


def test_revoked_in_a_forged_crl_is_not_believed(server: CrlServer) -> None:
    cert = leaf_with(server.url("/forged.crl"))
    body = make_crl(intermediate(), revoked=[cert.serial_number], signer=rsa_key("forger"))
    server.serve("/forged.crl", body.public_bytes(Encoding.DER))
    finding = run(cert)
    assert finding.predicts == (REVOCATION_OFFLINE,)
    assert states(finding) == ["bad-signature"]


def test_crl_of_another_issuer(server: CrlServer) -> None:
    body = make_crl(root()).public_bytes(Encoding.DER)
    finding = run(leaf_with(server.serve("/root.crl", body)))
    assert finding.status is Status.FAIL and states(finding) == ["wrong-issuer"]


def test_garbage_body(server: CrlServer) -> None:
    finding = run(leaf_with(server.serve("/garbage.crl", b"<html>maintenance</html>")))
    assert finding.status is Status.FAIL and states(finding) == ["unparsable"]


def test_http_404(server: CrlServer) -> None:
    finding = run(leaf_with(server.url("/missing.crl")))
    assert (finding.status, finding.predicts) == (Status.FAIL, (REVOCATION_OFFLINE,))
    assert states(finding) == ["unreachable"]
    assert finding.evidence["crls"][0]["http_status"] == 404


def test_unreachable_closed_port(unused_tcp_port: int) -> None:
    finding = run(leaf_with(f"http://127.0.0.1:{unused_tcp_port}/x.crl"))
    assert (finding.status, finding.predicts) == (Status.FAIL, (REVOCATION_OFFLINE,))
    assert "connection refused" in finding.detail


@pytest.mark.parametrize("behaviour", ["drip", "sleep"])
def test_slow_server_hits_the_deadline(server: CrlServer, behaviour: str) -> None:
    url = server.serve("/slow.crl", crl_der(), behaviour=behaviour)
    started = time.monotonic()
    finding = run(leaf_with(url), timeout=1.0)
    elapsed = time.monotonic() - started
    assert (finding.status, finding.predicts) == (Status.FAIL, (REVOCATION_OFFLINE,))
    assert states(finding) == ["unreachable"]
    assert "deadline" in finding.detail
    assert elapsed < 10  # generous: the point is that it ends, not how fast


def test_redirect_is_followed(server: CrlServer) -> None:
    server.serve("/good.crl", crl_der())
    server.serve("/moved", status=302, headers={"Location": "/good.crl"})
    finding = run(leaf_with(server.url("/moved")))
    assert finding.status is Status.PASS
    assert finding.evidence["crls"][0]["redirects"] == [server.url("/good.crl")]


def test_redirect_loop_and_https_redirect(server: CrlServer) -> None:
    server.serve("/loop", status=301, headers={"Location": "/loop"})
    server.serve("/tls", status=301, headers={"Location": "https://127.0.0.1/x.crl"})
    finding = run(leaf_with(server.url("/loop"), server.url("/tls")))
    assert finding.status is Status.FAIL
    details = [entry["detail"] for entry in finding.evidence["crls"]]
    assert "more than 3 redirects" in details[0]
    assert "only http:// is fetched" in details[1]


def test_one_good_url_of_two_warns(server: CrlServer, unused_tcp_port: int) -> None:
    cert = leaf_with(f"http://127.0.0.1:{unused_tcp_port}/x.crl",
                     server.serve("/good.crl", crl_der()))
    finding = run(cert)
    assert finding.status is Status.WARN and finding.predicts == ()
    assert states(finding) == ["unreachable", "ok"]


def test_unknown_issuer_cannot_verify(server: CrlServer) -> None:
    url = server.serve("/good.crl", crl_der())
    finding = check_crl(leaf_with(url), None, offline=False, now=datetime.now(UTC),
                        timeout=TIMEOUT, resolve=no_dns)
    assert finding.status is Status.WARN and states(finding) == ["unverified"]


def test_host_names_use_the_given_resolver(server: CrlServer) -> None:
    server.serve("/good.crl", crl_der())
    asked: list[str] = []

    def resolve(host: str, seconds: float) -> Sequence[str]:
        asked.append(host)
        assert 0 < seconds <= TIMEOUT
        return ["127.0.0.1"] if host == "crl.contoso.test" else []

    good = run(leaf_with(f"http://crl.contoso.test:{server.port}/good.crl"), resolve=resolve)
    assert good.status is Status.PASS
    bad = run(leaf_with(f"http://nowhere.contoso.test:{server.port}/good.crl"), resolve=resolve)
    assert bad.status is Status.FAIL and "does not resolve" in bad.detail
    assert asked == ["crl.contoso.test", "nowhere.contoso.test"]


def test_size_limit(server: CrlServer) -> None:
    url = server.serve("/big.crl", b"\x30" * 5000)
    result = http_get(url, timeout=TIMEOUT, resolve=no_dns, max_bytes=1000)
    assert not result.ok and "limit" in result.detail


# ---------------------------------------------------------------- without a fetch


def test_no_cdp_fails() -> None:
    finding = run(plain_leaf().cert)
    # Issue 11: a missing CDP is not documented as 0x80092013 (was asserted before); CryptoAPI's
    # "no revocation check" code is predicted instead, marked inferred in the detail.
    assert (finding.status, finding.predicts) == (Status.FAIL, (0x80092012,))
    assert "inferred" in finding.detail
    assert finding.evidence["distribution_points"] == []


def test_ldap_only_fails() -> None:
    finding = run(leaf_with("ldap:///CN=Contoso%20Issuing%20CA,CN=CDP?certificateRevocationList"))
    assert (finding.status, finding.predicts) == (Status.FAIL, (REVOCATION_OFFLINE,))
    assert "ldap" in finding.detail


def test_offline_checks_presence_only(server: CrlServer) -> None:
    finding = run(leaf_with(server.serve("/good.crl", crl_der())), offline=True)
    assert finding.status is Status.PASS and "--offline" in finding.title
    assert server.hits == []


def test_self_signed_without_cdp_is_skipped() -> None:
    cert = make_leaf(self_signed=True).cert
    finding = run(cert, issuer=cert)
    assert finding.status is Status.SKIP


def test_judge_crl_not_yet_valid() -> None:
    now = datetime.now(UTC)
    body = crl_der(this_update=now + timedelta(days=2), next_update=now + timedelta(days=9))
    outcome = judge_crl("http://x/", body, cert=plain_leaf().cert, issuer=intermediate().cert,
                        now=now)
    assert outcome.state is CrlState.NOT_YET_VALID
