"""The protocol × cipher-suite map a server accepts (`probe --ciphers`, like nmap's ssl-enum-ciphers).

For each TLS version OpenSSL here can speak (1.0 to 1.3), one handshake first offers every
suite of that version: a server that refuses the version outright costs one handshake, not
one per suite. Then one handshake per suite, each offering that suite alone, all concurrent on
a bounded thread pool and all bounded by one `Deadline`. Handshakes that could not finish in
time are counted in `unfinished`, so a partial map is never mistaken for a complete one.

The suites are those the OpenSSL in use can offer (`ALL:COMPLEMENTOFALL:eNULL` at security
level 0, without PSK and SRP, which need credentials): RC4 and 3DES are not among them with
OpenSSL 3's default provider, so a server's RC4/3DES suites cannot be seen here.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache

from OpenSSL import SSL

from daserver_check.clients import SUITES_BY_CODE, TlsVersion
from daserver_check.probe import tcp
from daserver_check.probe.deadline import Deadline
from daserver_check.probe.tls import client_connection, drive_handshake

try:
    from OpenSSL._util import ffi as _ffi
    from OpenSSL._util import lib as _lib
except ImportError:  # pragma: no cover
    _ffi = _lib = None

ALL_SUITES = "ALL:COMPLEMENTOFALL:eNULL:!PSK:!SRP:!kDHEPSK:!kECDHEPSK:!kRSAPSK"
_MIN_VERSION = {"SSLv3": TlsVersion.TLS1_0, "TLSv1": TlsVersion.TLS1_0,
                "TLSv1.0": TlsVersion.TLS1_0, "TLSv1.2": TlsVersion.TLS1_2,
                "TLSv1.3": TlsVersion.TLS1_3}
# Where OpenSSL's suites live in the IANA registry: 0x00xx, 0x13xx, 0xC0xx, 0xCCxx.
_CODE_RANGES = ((0x0000, 0x0100), (0x1300, 0x1310), (0xC000, 0xC100), (0xCC00, 0xCD00))


@dataclass(frozen=True, slots=True)
class OfferableSuite:
    code: int
    openssl: str
    min_version: TlsVersion

    @property
    def iana(self) -> str | None:
        known = SUITES_BY_CODE.get(self.code)
        return known.iana if known else None

    @property
    def is_null(self) -> bool:
        return "NULL" in self.openssl.split("-")


@dataclass(frozen=True, slots=True)
class AcceptedSuite:
    version: TlsVersion
    suite: OfferableSuite


@dataclass(frozen=True, slots=True)
class CipherMap:
    accepted: tuple[AcceptedSuite, ...]  # by version, then in the order tried
    versions: tuple[TlsVersion, ...]  # versions the server accepted at all
    tried: int  # handshakes started
    unfinished: int  # handshakes the deadline cut short (0: the map is complete)
    errors: int  # connections that failed for other reasons than a refusal (reset, TCP...)
    elapsed_ms: int

    @property
    def complete(self) -> bool:
        return self.unfinished == 0 and self.errors == 0


@cache
def offerable_suites() -> tuple[OfferableSuite, ...]:
    """Every suite the OpenSSL in use can put in a ClientHello, with its IANA code point."""
    ctx = SSL.Context(SSL.TLS_METHOD)
    ctx.set_cipher_list(f"{ALL_SUITES}:@SECLEVEL=0".encode("ascii"))
    conn = SSL.Connection(ctx, None)
    names: list[str] = conn.get_cipher_list()
    codes = _codes_by_name(conn)
    out: list[OfferableSuite] = []
    for name in names:
        code = codes.get(name)
        if code is None:
            continue
        version = _MIN_VERSION.get(_cipher_version(conn, code), TlsVersion.TLS1_2)
        out.append(OfferableSuite(code, name, version))
    return tuple(out)


def _codes_by_name(conn: SSL.Connection) -> dict[str, int]:
    # pyOpenSSL does not expose SSL_CIPHER_get_id; SSL_CIPHER_find maps code -> cipher.
    found: dict[str, int] = {}
    if _lib is None:
        return {s.openssl: s.code for s in SUITES_BY_CODE.values()}
    ssl = conn._ssl
    for low, high in _CODE_RANGES:
        for code in range(low, high):
            cipher = _lib.SSL_CIPHER_find(ssl, code.to_bytes(2, "big"))
            if cipher != _ffi.NULL:
                found[_ffi.string(_lib.SSL_CIPHER_get_name(cipher)).decode("ascii")] = code
    return found


def _cipher_version(conn: SSL.Connection, code: int) -> str:
    if _lib is None:
        return "TLSv1.2"
    cipher = _lib.SSL_CIPHER_find(conn._ssl, code.to_bytes(2, "big"))
    return str(_ffi.string(_lib.SSL_CIPHER_get_version(cipher)).decode("ascii"))


def _context(version: TlsVersion, suites: Sequence[OfferableSuite]) -> SSL.Context:
    ctx = SSL.Context(SSL.TLS_METHOD)
    ctx.set_verify(SSL.VERIFY_NONE)
    ctx.set_options(SSL.OP_LEGACY_SERVER_CONNECT)
    ctx.set_min_proto_version(int(version))
    ctx.set_max_proto_version(int(version))
    if version is TlsVersion.TLS1_3:
        ctx.set_tls13_ciphersuites(":".join(s.openssl for s in suites).encode("ascii"))
    else:
        ctx.set_cipher_list((":".join(s.openssl for s in suites) + ":@SECLEVEL=0").encode("ascii"))
    return ctx


class _Result:
    ACCEPTED, REFUSED, UNFINISHED, ERROR = range(4)


def _try(address: str, port: int, server_name: str | None, version: TlsVersion,
         suites: Sequence[OfferableSuite], deadline: Deadline) -> tuple[int, str | None]:
    """One handshake offering `suites` at `version`: (result, chosen OpenSSL suite name)."""
    if deadline.expired:
        return _Result.UNFINISHED, None
    tcp_result, sock = tcp.connect(address, port, deadline)
    if sock is None:
        timed_out = tcp_result.outcome is tcp.TcpOutcome.TIMED_OUT
        return (_Result.UNFINISHED if timed_out else _Result.ERROR), None
    try:
        return _handshake(sock, server_name, version, suites, deadline)
    finally:
        sock.close()


def _handshake(sock: socket.socket, server_name: str | None, version: TlsVersion,
               suites: Sequence[OfferableSuite], deadline: Deadline) -> tuple[int, str | None]:
    try:
        sni = server_name.encode("idna") if server_name else None
    except UnicodeError:
        return _Result.ERROR, None
    conn, transport = client_connection(_context(version, suites), sock, sni)
    try:
        if not drive_handshake(conn, transport, deadline):
            return _Result.UNFINISHED, None
    except SSL.SysCallError:
        # A close or reset right after our hello is how many servers refuse (no alert).
        return _Result.REFUSED, None
    except SSL.Error:
        transport.flush_quietly()
        return _Result.REFUSED, None
    except (OSError, UnicodeError):
        return _Result.ERROR, None
    if conn.get_protocol_version_name() != version.openssl_name:
        return _Result.REFUSED, None
    return _Result.ACCEPTED, conn.get_cipher_name()


def map_ciphers(
    address: str,
    port: int,
    server_name: str | None,
    deadline: Deadline,
    *,
    versions: Sequence[TlsVersion] = tuple(TlsVersion),
    max_workers: int = 16,
) -> CipherMap:
    """The (version, suite) pairs the server at `address`:`port` accepts."""
    started = time.monotonic()
    catalogue = offerable_suites()
    by_version = {
        v: [s for s in catalogue if (s.min_version is TlsVersion.TLS1_3) == (v is TlsVersion.TLS1_3)
            and s.min_version <= v]
        for v in versions
    }
    by_version = {v: s for v, s in by_version.items() if s}
    tried = unfinished = errors = 0
    accepted: list[AcceptedSuite] = []
    with ThreadPoolExecutor(max_workers=max(1, max_workers), thread_name_prefix="cipher-map") as pool:
        # Round 1: is the version accepted at all (offering all its suites)? A front end that
        # refuses any hello with a null suite in it (the lab's null-dropped) would hide the
        # version, so a refusal is retried once without the null suites.
        first = {v: pool.submit(_try, address, port, server_name, v, s, deadline)
                 for v, s in by_version.items()}
        retry: dict[TlsVersion, Future[tuple[int, str | None]]] = {}
        live: list[TlsVersion] = []
        for v, future in first.items():
            tried += 1
            result, _ = future.result()
            encrypted = [s for s in by_version[v] if not s.is_null]
            if result == _Result.REFUSED and encrypted and len(encrypted) < len(by_version[v]):
                retry[v] = pool.submit(_try, address, port, server_name, v, encrypted, deadline)
                continue
            live += [v] if result == _Result.ACCEPTED else []
            unfinished += result == _Result.UNFINISHED
            errors += result == _Result.ERROR
        for v, future in retry.items():
            tried += 1
            result, _ = future.result()
            live += [v] if result == _Result.ACCEPTED else []
            unfinished += result == _Result.UNFINISHED
            errors += result == _Result.ERROR
        live.sort()
        # Round 2: each suite alone, for the accepted versions.
        jobs = [(v, s, pool.submit(_try, address, port, server_name, v, [s], deadline))
                for v in live for s in by_version[v]]
        for v, suite, future in jobs:
            tried += 1
            result, _ = future.result()
            if result == _Result.ACCEPTED:
                accepted.append(AcceptedSuite(v, suite))
            unfinished += result == _Result.UNFINISHED
            errors += result == _Result.ERROR
    return CipherMap(tuple(accepted), tuple(live), tried, unfinished, errors,
                     int((time.monotonic() - started) * 1000))
