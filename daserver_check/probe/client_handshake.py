"""One TLS handshake as a given Windows IP-HTTPS client makes it, and all of them at once.

`client_handshake` offers exactly a `ClientProfile`'s versions, suites (in its order), named
groups and signature algorithms, over a socket the caller connected, and drives OpenSSL on
memory BIOs with the probe's deadline (the transport of `daserver_check.probe.tls`). The
answer is data: a `ClientHandshake` saying what was negotiated or why it failed, with the
Windows error code the failure predicts. `run_clients` runs one per profile, concurrently,
under one deadline.

What OpenSSL cannot imitate (the ClientHello is OpenSSL's, not Schannel's):
- suites with `can_offer=False` (3DES, RC4: not in OpenSSL 3's default provider) are left out
  and reported in `unsent`;
- OpenSSL adds the TLS_EMPTY_RENEGOTIATION_INFO_SCSV code point (0x00FF) where Schannel sends
  the renegotiation_info extension (RFC 5746 §3.4 allows either), and its own extension set
  (session ticket, encrypt-then-mac, ...): servers choose a suite and a version from the
  suites, versions, groups and signature algorithms, which are the profile's;
- pyOpenSSL has no API for groups and signature algorithms; the OpenSSL functions
  SSL_CTX_set1_curves_list / SSL_CTX_set1_sigalgs_list are reached through the bindings
  pyOpenSSL itself uses. If a future pyOpenSSL lacks them, OpenSSL's defaults are sent and
  `groups_applied` says so.
"""

from __future__ import annotations

import enum
import socket
import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

from OpenSSL import SSL

from daserver_check.clients import SUITES_BY_OPENSSL, CipherSuite, ClientProfile, TlsVersion
from daserver_check.probe import tcp
from daserver_check.probe.deadline import Deadline
from daserver_check.probe.tls import (
    _NOT_TLS_MARKERS,
    _syscall,
    _timeout_detail,
    client_connection,
    drive_handshake,
    error_reasons,
)

try:  # the cffi bindings pyOpenSSL is built on (cryptography's)
    from OpenSSL._util import lib as _lib
except ImportError:  # pragma: no cover - pyOpenSSL without the private module
    _lib = None


class ClientFailure(enum.StrEnum):
    PROTOCOL_VERSION = "protocol-version"  # protocol_version alert: no version in common
    NO_SHARED_SUITE = "no-shared-suite"  # handshake_failure / insufficient_security alert
    ALERT = "alert"  # another fatal alert
    TIMEOUT = "timeout"
    RESET = "reset"
    EOF = "eof"  # closed without an alert
    NOT_TLS = "not-tls"
    PROTOCOL_ERROR = "protocol-error"  # TLS spoken wrongly (e.g. a suite we did not offer)
    ERROR = "error"  # our side could not try: connect failed, nothing offerable


@dataclass(frozen=True, slots=True)
class PredictedCode:
    """A Windows client error code (IP-HTTPS Last Error Code) and why it is expected."""

    code: str
    symbol: str
    source: str
    inferred: bool


# Any fatal alert received during the handshake: Windows' own message text for
# SEC_E_ILLEGAL_MESSAGE says it "usually occurs when a fatal SSL/TLS alert is received", and
# R. Hicks ("Troubleshooting DirectAccess IP-HTTPS Error 0x80090326") reports it for Windows 7
# and Windows 8.x/10 IP-HTTPS clients failing during the handshake with a front end; a failure
# right after the ClientHello there means the front end lacks the null suites.
_ILLEGAL_MESSAGE = PredictedCode(
    "0x80090326",
    "SEC_E_ILLEGAL_MESSAGE",
    "Windows message text of SEC_E_ILLEGAL_MESSAGE (a fatal TLS alert was received); R. Hicks, "
    "'Troubleshooting DirectAccess IP-HTTPS Error 0x80090326'",
    inferred=False,
)
# The server closed or reset the connection instead of sending an alert: Schannel's code for
# that is not documented for IP-HTTPS; SEC_E_ILLEGAL_MESSAGE is the nearest (inferred).
_CLOSED_MESSAGE = PredictedCode(
    "0x80090326",
    "SEC_E_ILLEGAL_MESSAGE",
    "inferred: a handshake the server ends without an alert; no documented IP-HTTPS code",
    inferred=True,
)
_PREDICTED: dict[ClientFailure, PredictedCode] = {
    ClientFailure.PROTOCOL_VERSION: _ILLEGAL_MESSAGE,
    ClientFailure.NO_SHARED_SUITE: _ILLEGAL_MESSAGE,
    ClientFailure.ALERT: _ILLEGAL_MESSAGE,
    ClientFailure.RESET: _CLOSED_MESSAGE,
    ClientFailure.EOF: _CLOSED_MESSAGE,
    ClientFailure.PROTOCOL_ERROR: _CLOSED_MESSAGE,
}


def predicted_code(failure: ClientFailure | None) -> PredictedCode | None:
    """The client code a failure predicts; None when no code can be named (timeouts, our own
    errors: a client that waits reports a retry, not a TLS code)."""
    return None if failure is None else _PREDICTED.get(failure)


@dataclass(frozen=True, slots=True)
class ClientHandshake:
    client: str
    ok: bool
    detail: str
    version: TlsVersion | None = None
    suite: CipherSuite | None = None
    failure: ClientFailure | None = None
    alert: str | None = None  # OpenSSL's text of the alert received, e.g. "protocol version"
    predicted: PredictedCode | None = None
    unsent: tuple[str, ...] = ()  # the profile's suites this OpenSSL cannot offer (IANA)
    groups_applied: bool = True
    elapsed_ms: int = 0

    @property
    def null_suite(self) -> bool:
        return self.suite is not None and self.suite.is_null


@cache
def openssl_can_offer(openssl_name: str) -> bool:
    """Whether the OpenSSL in use accepts the suite in a cipher list (at security level 0)."""
    ctx = SSL.Context(SSL.TLS_METHOD)
    try:
        if openssl_name.startswith("TLS_"):
            ctx.set_tls13_ciphersuites(openssl_name.encode("ascii"))
        else:
            ctx.set_cipher_list(f"{openssl_name}:@SECLEVEL=0".encode("ascii"))
    except SSL.Error:
        return False
    return True


def _offered(profile: ClientProfile) -> tuple[list[CipherSuite], list[CipherSuite]]:
    sent: list[CipherSuite] = []
    unsent: list[CipherSuite] = []
    for suite in profile.offer:
        (sent if suite.can_offer and openssl_can_offer(suite.openssl) else unsent).append(suite)
    return sent, unsent


def _set_list(setter_name: str, ctx: SSL.Context, value: str) -> bool:
    setter = getattr(_lib, setter_name, None)
    raw: Any = getattr(ctx, "_context", None)
    if setter is None or raw is None or not value:
        return False
    return bool(setter(raw, value.encode("ascii")) == 1)


def client_context(profile: ClientProfile) -> tuple[SSL.Context, tuple[CipherSuite, ...], bool]:
    """An OpenSSL client context offering what `profile` offers.

    Returns the context, the suites it cannot offer, and whether groups and signature
    algorithms were applied. ValueError when nothing of the profile can be offered.
    """
    sent, unsent = _offered(profile)
    tls12 = [s.openssl for s in sent if not s.is_tls13]
    tls13 = [s.openssl for s in sent if s.is_tls13]
    if not tls12:
        # Every Windows profile offers TLS 1.2 suites; OpenSSL cannot take an empty list.
        raise ValueError(f"OpenSSL here can offer none of {profile.name}'s TLS 1.0-1.2 suites")
    ctx = SSL.Context(SSL.TLS_METHOD)
    ctx.set_verify(SSL.VERIFY_NONE)
    # As in probe.tls: Schannel clients accept servers without RFC 5746 secure renegotiation
    # (KB 980436 "compatible mode"; inference from the advisory's defaults).
    ctx.set_options(SSL.OP_LEGACY_SERVER_CONNECT)
    ctx.set_min_proto_version(int(profile.min_version))
    ctx.set_max_proto_version(int(profile.max_version))
    # @SECLEVEL=0: the null suites, TLS 1.0/1.1 and SHA-1 signatures need it in OpenSSL 3.
    ctx.set_cipher_list((":".join(tls12) + ":@SECLEVEL=0").encode("ascii"))
    ctx.set_tls13_ciphersuites(":".join(tls13).encode("ascii"))
    groups = _set_list("SSL_CTX_set1_curves_list", ctx, ":".join(g.openssl for g in profile.groups))
    sigalgs = not profile.sigalgs or _set_list(
        "SSL_CTX_set1_sigalgs_list", ctx, ":".join(a.openssl for a in profile.sigalgs)
    )
    return ctx, tuple(unsent), groups and sigalgs


_VERSIONS = {v.openssl_name: v for v in TlsVersion}


def client_handshake(
    profile: ClientProfile, sock: socket.socket, server_name: str | None, deadline: Deadline
) -> ClientHandshake:
    """One handshake as `profile` over the connected non-blocking `sock` (left open for the
    caller to close). Never raises for anything the server does."""
    started = time.monotonic()
    try:
        ctx, unsent, applied = client_context(profile)
    except (ValueError, SSL.Error) as exc:
        return ClientHandshake(profile.name, False, f"cannot imitate {profile.name}: {exc}",
                               failure=ClientFailure.ERROR)
    unsent_names = tuple(s.iana for s in unsent)

    def done(ok: bool, detail: str, **kw: Any) -> ClientHandshake:
        failure: ClientFailure | None = kw.get("failure")
        return ClientHandshake(
            profile.name, ok, detail, predicted=predicted_code(failure), unsent=unsent_names,
            groups_applied=applied, elapsed_ms=int((time.monotonic() - started) * 1000), **kw,
        )

    try:
        sni = server_name.encode("idna") if server_name else None
    except UnicodeError as exc:
        return done(False, f"socket error: {exc}", failure=ClientFailure.ERROR)
    conn, transport = client_connection(ctx, sock, sni)
    try:
        if not drive_handshake(conn, transport, deadline):
            return done(False, _timeout_detail(conn, started, transport.received),
                        failure=ClientFailure.TIMEOUT)
    except SSL.ZeroReturnError:
        return done(False, "the server closed the connection during the handshake",
                    failure=ClientFailure.EOF)
    except SSL.SysCallError as exc:
        outcome, detail = _syscall(exc)
        kind = {"reset": ClientFailure.RESET, "closed": ClientFailure.EOF}.get(
            str(outcome), ClientFailure.ERROR)
        return done(False, detail, failure=kind)
    except SSL.Error as exc:
        transport.flush_quietly()
        failure, alert, detail = classify_error(error_reasons(exc) or [str(exc)])
        return done(False, detail, failure=failure, alert=alert)
    except (OSError, UnicodeError) as exc:
        return done(False, f"socket error: {exc}", failure=ClientFailure.ERROR)
    version = _VERSIONS.get(conn.get_protocol_version_name() or "")
    name = conn.get_cipher_name() or ""
    suite = SUITES_BY_OPENSSL.get(name)
    label = suite.iana if suite is not None else name
    with_what = f"{version.label if version else conn.get_protocol_version_name()} with {label}"
    try:
        conn.set_shutdown(SSL.SENT_SHUTDOWN)  # no close_notify round trip: the caller closes
    except SSL.Error:
        pass
    return done(True, with_what, version=version, suite=suite)


def classify_error(reasons: Sequence[str]) -> tuple[ClientFailure, str | None, str]:
    """OpenSSL's error reasons of a failed client handshake -> (kind, alert text, detail)."""
    text = "; ".join(dict.fromkeys(reasons))[:500] or "unknown error"
    lowered = text.lower()
    alert: str | None = None
    for reason in reasons:
        low = reason.lower()
        if " alert " in f" {low} ":
            alert = low.split("alert", 1)[1].strip() or None
            break
    if alert is not None:
        if alert == "protocol version":
            return (ClientFailure.PROTOCOL_VERSION, alert,
                    f"the server refused every protocol version offered (alert: {alert})")
        if alert in ("handshake failure", "insufficient security"):
            return (ClientFailure.NO_SHARED_SUITE, alert,
                    f"the server shares no cipher suite with this client (alert: {alert})")
        return ClientFailure.ALERT, alert, f"the server ended the handshake with an alert: {alert}"
    if any(marker in lowered for marker in _NOT_TLS_MARKERS):
        return ClientFailure.NOT_TLS, None, f"the server did not answer with TLS ({text})"
    if "unexpected eof" in lowered:
        return ClientFailure.EOF, None, "the server closed the connection during the handshake"
    if "no ciphers available" in lowered or "no protocols available" in lowered:
        return ClientFailure.ERROR, None, f"this OpenSSL cannot offer the client's suites ({text})"
    return ClientFailure.PROTOCOL_ERROR, None, f"the server's handshake is malformed ({text})"


def connect_and_handshake(
    profile: ClientProfile, address: str, port: int, server_name: str | None, deadline: Deadline
) -> ClientHandshake:
    """Connect to `address`:`port`, run `client_handshake`, close."""
    result, sock = tcp.connect(address, port, deadline)
    if sock is None:
        return ClientHandshake(profile.name, False, f"TCP: {result.detail}",
                               failure=ClientFailure.ERROR, elapsed_ms=result.elapsed_ms)
    try:
        return client_handshake(profile, sock, server_name, deadline)
    finally:
        sock.close()


def run_clients(
    profiles: Iterable[ClientProfile],
    address: str,
    port: int,
    server_name: str | None,
    deadline: Deadline,
    *,
    max_workers: int = 8,
) -> tuple[ClientHandshake, ...]:
    """One handshake per profile, concurrently, all bounded by `deadline`; in profile order."""
    chosen = list(profiles)
    if not chosen:
        return ()
    with ThreadPoolExecutor(max_workers=max(1, min(max_workers, len(chosen))),
                            thread_name_prefix="tls-client") as pool:
        futures = [pool.submit(connect_and_handshake, p, address, port, server_name, deadline)
                   for p in chosen]
        results: list[ClientHandshake] = []
        for profile, future in zip(chosen, futures, strict=True):
            try:
                results.append(future.result())
            except Exception as exc:  # a bug of ours must not hide the other clients' results
                results.append(ClientHandshake(profile.name, False, f"internal error: {exc!r}",
                                               failure=ClientFailure.ERROR))
        return tuple(results)
