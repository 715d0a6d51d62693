"""The dns stage: resolve the IP-HTTPS host the way a DirectAccess client would.

A client resolves the ConnectTo name with its own resolver, on the Internet; what it gets decides
the client error before any TCP is sent: a missing name is WSAHOST_NOT_FOUND (0x2AF9), a name
without address records is WSANO_DATA (0x2AFC). So this stage keeps the *kind* of each failure
(`DnsOutcome`), per resolver and per record type, instead of a yes/no.

Every query runs in its own thread with the lifetime left on the stage's deadline, so each
resolver gets the whole of it: a resolver that never answers costs one deadline for the whole
stage, not one per query, and the stage returns by the deadline (plus `JOIN_MARGIN`) whatever
the servers do. Once one resolver has answered every query and given an address, the others
get `STRAGGLER_GRACE` more to be compared with it, then the probe goes on. The probe gives the
stage only `DNS_SHARE` of its own deadline, so the stages after it keep theirs. Only
`parse_resolver` raises; `resolve_host` turns every failure into a `DnsOutcome`.

A name may have thousands of addresses (a 64 KiB answer holds about 4000 A records); a probe
connects to the first `MAX_PROBED_ADDRESSES` of them in the order `DnsResult.addresses` gives,
the order a client tries (see `addresses_to_probe`), and reports the rest as not probed.

Over 400 lines because the DNS outcome taxonomy (ANSWER, NXDOMAIN, NODATA, SERVFAIL, REFUSED,
TIMEOUT, UNREACHABLE, ERROR) and the concurrent queries that produce it are one piece.
"""

from __future__ import annotations

import enum
import ipaddress
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import dns.exception
    import dns.message
    import dns.name
    import dns.nameserver
    import dns.rdatatype
    import dns.resolver

from daserver_check.errors import DaserverCheckError
from daserver_check.hostport import HostPortError, join_host_port, parse_port, split_host_port
from daserver_check.probe.deadline import Deadline

SYSTEM = "system"
"""The `resolver` label of queries sent through the operating system's resolver configuration."""

DEFAULT_PORT = 53
RRTYPES: tuple[str, ...] = ("A", "AAAA")

JOIN_MARGIN = 0.25
"""Seconds `resolve_host` waits past the deadline for a query thread before abandoning it.

dnspython enforces the lifetime itself, but only checks it after its retry back-off sleep, so it
can overrun by up to that back-off; the stage's own join, not dnspython, keeps the deadline.
"""

DNS_SHARE = 0.5
"""The part of a probe's remaining time the dns stage may use; TCP, TLS and the POST keep the
rest, so a silent resolver cannot leave them "no time left"."""

STRAGGLER_GRACE = 1.0
"""Seconds the other resolvers still get once one resolver has answered with an address.
Enough for a resolver that answers at all (the comparison in dns.consistency wants it), short
beside Windows' own wait of 1 s for its first DNS server before it asks the next (Microsoft
Learn: "DNS client resolution timeouts")."""

MAX_PROBED_ADDRESSES = 16
"""Addresses of one name a probe connects to; the rest are reported, not probed."""

# A resolver spec is an address with an optional port; anything longer is not one, and bounding
# it keeps error messages to one short line.
_MAX_SPEC_LENGTH = 100


class ResolverSpecError(DaserverCheckError, ValueError):
    """A `--resolver` value that is not `IP`, `IP:PORT`, `[IPv6]` or `[IPv6]:PORT`."""


class DnsOutcome(enum.StrEnum):
    ANSWER = "ANSWER"  # NOERROR with at least one record of the asked type
    NXDOMAIN = "NXDOMAIN"  # the name does not exist
    NODATA = "NODATA"  # the name exists, but has no record of the asked type
    SERVFAIL = "SERVFAIL"  # the resolver could not get an answer (broken delegation, DNSSEC, …)
    REFUSED = "REFUSED"  # the resolver will not answer this client or this name
    TIMEOUT = "TIMEOUT"  # no answer before the deadline
    UNREACHABLE = "UNREACHABLE"  # the query could not reach the resolver (socket error, ICMP)
    ERROR = "ERROR"  # anything else: socket errors, malformed answers, bad configuration


@dataclass(frozen=True, slots=True)
class DnsQueryResult:
    resolver: str  # SYSTEM or "IP:PORT" ("[IPv6]:PORT")
    rrtype: str  # "A" or "AAAA"
    outcome: DnsOutcome
    addresses: tuple[str, ...]
    # Every name the answer went through, queried name first and canonical name last, without
    # trailing dots: ("alias.lab.test", "alias2.lab.test", "da.lab.test"). Empty without CNAME.
    cname_chain: tuple[str, ...]
    detail: str
    elapsed_ms: int


@dataclass(frozen=True, slots=True)
class DnsResult:
    host: str
    queries: tuple[DnsQueryResult, ...]

    @property
    def addresses(self) -> tuple[str, ...]:
        """All addresses from all resolvers: IPv4 first, then IPv6, each in order of first
        appearance, without duplicates."""
        v4: dict[str, None] = {}
        v6: dict[str, None] = {}
        for query in self.queries:
            for address in query.addresses:
                (v6 if ":" in address else v4).setdefault(address, None)
        return (*v4, *v6)


def addresses_to_probe(
    addresses: Sequence[str], limit: int = MAX_PROBED_ADDRESSES
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(the addresses to probe, the ones left out): the first `limit` in the order given.

    `DnsResult.addresses` puts every IPv4 address before any IPv6 one, each family in the
    resolver's order. That is the order an IP-HTTPS client tries (inferred): it uses IP-HTTPS
    because it has no native IPv6 path, and without a global IPv6 source address the default
    address selection of RFC 6724 (section 6, rules 1 and 2) ranks IPv6 destinations below IPv4
    ones, and rule 10 keeps the resolver's order among equals. A client works down that list
    and does not reach the 17th address, so probing it would say little about a client and
    cost time and memory.
    """
    bounded = max(0, limit)
    return tuple(addresses[:bounded]), tuple(addresses[bounded:])


# --------------------------------------------------------------------------- resolver specs


def parse_resolver(spec: str) -> tuple[str, int]:
    """`"192.0.2.53"`, `"192.0.2.53:5353"`, `"::1"`, `"[::1]"`, `"[::1]:5353"` → (address, port).

    Only IP literals: a resolver given by host name would need the system resolver to find it,
    which defeats asking another one. Raises ResolverSpecError with a one-line reason.
    """
    text = spec.strip()
    if not text:
        raise ResolverSpecError("empty resolver address")
    if len(text) > _MAX_SPEC_LENGTH:
        raise ResolverSpecError(f"resolver address longer than {_MAX_SPEC_LENGTH} characters")
    try:
        address_text, port_text = split_host_port(text)
    except HostPortError as exc:
        raise ResolverSpecError(f"{text!r}: {exc}") from None
    address = _parse_address(address_text)
    if text.startswith("[") and address.version != 6:
        raise ResolverSpecError(f"{text!r}: brackets are for IPv6 addresses; write IPv4 as IP or IP:PORT")
    port = DEFAULT_PORT if port_text is None else _parse_port(port_text, text)
    return str(address), port


def format_resolver(address: str, port: int) -> str:
    """The `resolver` label of a query: `IP:PORT`, or `[IPv6]:PORT` so that it parses back."""
    return join_host_port(address, port)


def _parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    if "%" in text:
        # A zone index names a local interface; it is meaningless to anyone reading the report
        # on another machine, and resolvers worth asking are not link-local.
        raise ResolverSpecError(f"{text!r}: IPv6 zone index (%…) is not supported")
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise ResolverSpecError(
            f"{text!r} is not an IP address: give the resolver by address "
            "(a resolver named by host name would need the system resolver to find it)"
        ) from None
    if address.is_unspecified or address.is_multicast:
        raise ResolverSpecError(f"{text!r} is not a unicast address")
    return address


def _parse_port(text: str, spec: str) -> int:
    try:
        return parse_port(text)
    except HostPortError:
        raise ResolverSpecError(f"{spec!r}: port must be a number 1-65535") from None


# --------------------------------------------------------------------------- resolution


@dataclass(frozen=True, slots=True)
class _Job:
    label: str  # DnsQueryResult.resolver
    address: tuple[str, int] | None  # None: the system resolver
    rrtype: str
    setup_error: str  # non-empty: do not send anything, report ERROR with this text


def _import_dnspython() -> None:
    """dnspython costs ~60 ms to import; a probe with --connect and no --resolver never needs it,
    nor do the result types above, so it is imported on the first resolution."""
    global dns
    import dns.exception
    import dns.message
    import dns.name
    import dns.nameserver
    import dns.rdatatype
    import dns.resolver


def resolve_host(host: str, resolvers: Sequence[str], deadline: Deadline) -> DnsResult:
    """Ask each resolver (or the system resolver when `resolvers` is empty) for A and AAAA.

    Never raises. A resolver spec that does not parse becomes an ERROR outcome labelled with the
    spec as given (the CLI is expected to have rejected it with `parse_resolver` already).
    """
    _import_dnspython()
    name, name_error = _query_name(host)
    jobs = [
        _Job(label, address, rrtype, spec_error or name_error)
        for label, address, spec_error in _resolver_targets(resolvers)
        for rrtype in RRTYPES
    ]
    results: list[DnsQueryResult | None] = [None] * len(jobs)
    started = time.monotonic()
    finished = threading.Condition()

    def run(index: int) -> None:
        job = jobs[index]
        try:
            results[index] = _run_job(job, name, deadline)
        except Exception as exc:  # a bug here must read as an error, not as a silent server
            results[index] = _unanswered(job, started, DnsOutcome.ERROR, _exception_text(exc))
        finally:
            with finished:
                finished.notify_all()

    for index, job in enumerate(jobs):
        thread = threading.Thread(
            target=run, args=(index,), name=f"dns-{job.label}-{job.rrtype}", daemon=True
        )
        try:
            thread.start()
        except RuntimeError as exc:  # "can't start new thread": out of resources
            results[index] = _unanswered(job, started, DnsOutcome.ERROR, _exception_text(exc))
    answered_by = _wait(jobs, results, finished, deadline)
    snapshot = list(results)  # a thread finishing from now on comes too late to count

    queries: list[DnsQueryResult] = []
    for job, result in zip(jobs, snapshot, strict=True):
        if result is None:
            # The thread is still inside dnspython: past the deadline (expected now and then:
            # after its last attempt times out, dnspython sleeps its retry back-off, 0.1 s
            # doubling up to 2 s, before it notices that the lifetime is over), or past the
            # grace after another resolver answered. It is a daemon and ends on its own.
            seconds = _ms_since(started) / 1000
            detail = f"no answer within {seconds:.1f} s"
            if answered_by:
                detail += f" (the probe went on with the answer of {answered_by})"
            result = _unanswered(job, started, DnsOutcome.TIMEOUT, detail)
        queries.append(result)
    return DnsResult(host=host, queries=tuple(queries))


def _wait(
    jobs: Sequence[_Job],
    results: Sequence[DnsQueryResult | None],
    finished: threading.Condition,
    deadline: Deadline,
) -> str:
    """Wait until every query is done, the deadline (plus JOIN_MARGIN) passes, or one resolver
    has answered and the others have had STRAGGLER_GRACE more. Returns the label of the
    resolver whose answer ended the wait early ("" when it did not end early)."""
    # One end for all: waiting for each query in turn must not add a margin per query.
    hard_end = time.monotonic() + deadline.remaining() + JOIN_MARGIN
    settle_by: float | None = None
    answered_by = ""
    with finished:
        while any(result is None for result in results):
            now = time.monotonic()
            if settle_by is None:
                answered_by = _first_answering(jobs, results)
                if answered_by:
                    settle_by = now + STRAGGLER_GRACE
            end = hard_end if settle_by is None else min(hard_end, settle_by)
            if now >= end:
                return answered_by
            finished.wait(end - now)
    return ""


def _first_answering(jobs: Sequence[_Job], results: Sequence[DnsQueryResult | None]) -> str:
    """A resolver all of whose queries are done, one of them with an address; "" if none yet."""
    by_label: dict[str, list[DnsQueryResult | None]] = {}
    for job, result in zip(jobs, results, strict=True):
        by_label.setdefault(job.label, []).append(result)
    for label, answers in by_label.items():
        done = [answer for answer in answers if answer is not None]
        if len(done) == len(answers) and any(answer.addresses for answer in done):
            return label
    return ""


def _unanswered(job: _Job, started: float, outcome: DnsOutcome, detail: str) -> DnsQueryResult:
    return DnsQueryResult(
        resolver=job.label,
        rrtype=job.rrtype,
        outcome=outcome,
        addresses=(),
        cname_chain=(),
        detail=detail,
        elapsed_ms=_ms_since(started),
    )


def _query_name(host: str) -> tuple[dns.name.Name | None, str]:
    """The absolute query name, or an error text when the host is not a valid DNS name."""
    text = host.strip().rstrip(".")
    if not text:
        return None, "empty host name"
    try:
        # Absolute on purpose: the URL's host is a fully qualified public name, and applying the
        # local search list could resolve "da" to an internal "da.corp.example".
        return dns.name.from_text(text, origin=dns.name.root), ""
    except (dns.exception.DNSException, UnicodeError, ValueError) as exc:
        return None, f"{host!r} is not a valid DNS name: {_exception_text(exc)}"


def _resolver_targets(
    resolvers: Sequence[str],
) -> list[tuple[str, tuple[str, int] | None, str]]:
    """(label, (address, port) or None for the system resolver, spec error), deduplicated."""
    if not resolvers:
        return [(SYSTEM, None, "")]
    targets: list[tuple[str, tuple[str, int] | None, str]] = []
    seen: set[str] = set()
    for spec in resolvers:
        try:
            address, port = parse_resolver(spec)
        except ResolverSpecError as exc:
            label, target, error = spec[:_MAX_SPEC_LENGTH], None, f"bad resolver: {exc}"
        else:
            label, target, error = format_resolver(address, port), (address, port), ""
        # "127.0.0.1" and "127.0.0.1:53" are the same server: asking twice would only make
        # dns.consistency compare a resolver with itself.
        if label not in seen:
            seen.add(label)
            targets.append((label, target, error))
    return targets


def _run_job(job: _Job, name: dns.name.Name | None, deadline: Deadline) -> DnsQueryResult:
    started = time.monotonic()
    outcome, addresses, chain, detail = _query(job, name, deadline)
    return DnsQueryResult(
        resolver=job.label,
        rrtype=job.rrtype,
        outcome=outcome,
        addresses=addresses,
        cname_chain=chain,
        detail=detail,
        elapsed_ms=_ms_since(started),
    )


_Outcome = tuple[DnsOutcome, tuple[str, ...], tuple[str, ...], str]


def _query(job: _Job, name: dns.name.Name | None, deadline: Deadline) -> _Outcome:
    if job.setup_error or name is None:
        return DnsOutcome.ERROR, (), (), job.setup_error or "no query name"
    try:
        resolver = _make_resolver(job.address)
    except Exception as exc:  # any platform's configuration reader; a failure is a finding
        return (
            DnsOutcome.ERROR,
            (),
            (),
            f"cannot read the system resolver configuration: {_exception_text(exc)}",
        )
    lifetime = deadline.remaining()
    if lifetime <= 0.0:
        return DnsOutcome.TIMEOUT, (), (), "no time left before the deadline; nothing sent"
    try:
        answer = resolver.resolve(
            name,
            job.rrtype,
            search=False,
            raise_on_no_answer=False,
            lifetime=lifetime,
        )
    except dns.exception.Timeout as exc:  # includes dns.resolver.LifetimeTimeout
        return DnsOutcome.TIMEOUT, (), (), _timeout_text(exc, lifetime)
    except dns.resolver.NXDOMAIN as exc:
        return DnsOutcome.NXDOMAIN, (), _nxdomain_chain(exc, name), "the name does not exist"
    except dns.resolver.NoAnswer as exc:  # only with raise_on_no_answer, kept for safety
        return DnsOutcome.NODATA, (), (), _exception_text(exc)
    except dns.resolver.NoNameservers as exc:
        return _no_nameservers(exc)
    except OSError as exc:  # port unreachable, network unreachable, no route: a silent path
        return DnsOutcome.UNREACHABLE, (), (), _exception_text(exc)
    except Exception as exc:  # YXDOMAIN, malformed answers, … : the taxonomy's catch-all
        return DnsOutcome.ERROR, (), (), _exception_text(exc)
    chain = _chain_text(answer.chaining_result.cnames, answer.canonical_name)
    addresses = _addresses(answer.rrset)
    if not addresses:
        return DnsOutcome.NODATA, (), chain, f"no {job.rrtype} record (NOERROR, empty answer)"
    return DnsOutcome.ANSWER, addresses, chain, ""


def _make_resolver(address: tuple[str, int] | None) -> dns.resolver.Resolver:
    if address is None:
        # Reads /etc/resolv.conf, or the registry on Windows; raises if there is none.
        return dns.resolver.Resolver()
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [dns.nameserver.Do53Nameserver(address[0], address[1])]
    return resolver


def _addresses(rrset: Any) -> tuple[str, ...]:
    if rrset is None:
        return ()
    found: dict[str, None] = {}
    for rdata in rrset:
        # Normalised text (compressed IPv6) so the same address from two resolvers compares
        # equal in DnsResult.addresses and dns.consistency.
        found.setdefault(str(ipaddress.ip_address(rdata.address)), None)
    return tuple(found)


def _chain_text(cnames: Sequence[Any], canonical: dns.name.Name) -> tuple[str, ...]:
    if not cnames:
        return ()
    names = [rrset.name for rrset in cnames]
    return tuple(n.to_text(omit_final_dot=True) for n in (*names, canonical))


def _nxdomain_chain(exc: dns.resolver.NXDOMAIN, name: dns.name.Name) -> tuple[str, ...]:
    # A CNAME pointing at a name that does not exist (a dangling alias left after moving a
    # load balancer) also comes back as NXDOMAIN; the chain shows where it broke.
    try:
        response = exc.kwargs["responses"][name]
        if not isinstance(response, dns.message.QueryMessage):
            return ()
        result = response.resolve_chaining()
        return _chain_text(result.cnames, result.canonical_name)
    except Exception:  # best effort: the verdict is NXDOMAIN either way
        return ()


def _no_nameservers(exc: dns.resolver.NoNameservers) -> _Outcome:
    """Every server answered badly or could not be used. dnspython records each server's rcode
    text ("SERVFAIL", "REFUSED") or the exception it met."""
    errors: list[Any] = list(exc.kwargs.get("errors") or [])
    rcodes = {error[3] for error in errors if len(error) > 3 and isinstance(error[3], str)}
    parts = [_server_error_text(error) for error in errors]
    detail = "; ".join(parts) or _exception_text(exc)
    if "SERVFAIL" in rcodes:
        return DnsOutcome.SERVFAIL, (), (), detail
    if "REFUSED" in rcodes:
        return DnsOutcome.REFUSED, (), (), detail
    problems = [error[3] for error in errors if len(error) > 3]
    if problems and all(isinstance(p, OSError) for p in problems):
        return DnsOutcome.UNREACHABLE, (), (), detail
    return DnsOutcome.ERROR, (), (), detail


def _server_error_text(error: Any) -> str:
    try:
        server, tcp, port, problem = error[0], error[1], error[2], error[3]
    except (TypeError, IndexError):
        return str(error)
    label = _server_label(str(server), port)
    via = " over TCP" if tcp else ""
    if isinstance(problem, str):
        return f"{label} answered {problem}{via}"
    return f"{label}{via}: {_exception_text(problem)}"


def _server_label(server: str, port: Any) -> str:
    # dnspython writes a Do53 server as "Do53:127.0.0.1@5353"; the report uses IP:PORT.
    if server.startswith("Do53:") and "@" in server:
        address, _, port_text = server[len("Do53:") :].rpartition("@")
        if port_text.isdigit():
            return format_resolver(address, int(port_text))
    if isinstance(port, int) and "@" not in server and ":" not in server:
        return format_resolver(server, port)
    return server


def _timeout_text(exc: dns.exception.Timeout, lifetime: float) -> str:
    timeout = exc.kwargs.get("timeout") if hasattr(exc, "kwargs") else None
    seconds = timeout if isinstance(timeout, float) else lifetime
    return f"no answer within {seconds:.1f} s"


def _exception_text(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)
