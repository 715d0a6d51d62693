#!/usr/bin/env python3
"""`make fuzz`: the long fuzzing run. CI runs the same fuzz tests with few examples.

1. hypothesis: tests/fuzz with DASERVER_FUZZ_EXAMPLES examples per test (default 20000).
2. atheris (coverage-guided libFuzzer), when it can be installed: each target for --seconds,
   seeded from tests/fuzz/corpus/<target>, new inputs kept in .fuzz/corpus/<target>, crashes
   in .fuzz/crashes/. Without atheris (pip cannot install it, e.g. no wheel for this Python),
   step 1 is the whole run and the script says so.

    python scripts/fuzz.py [--examples N] [--seconds S] [--only TARGET] [--no-atheris]
    python scripts/fuzz.py --atheris-run TARGET [libFuzzer args...]   (one target, internal)

Exit status: 0 when nothing was found, 1 when a test or a target failed.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "fuzz" / "corpus"
WORK = REPO / ".fuzz"

# atheris target -> seed corpus folder
TARGETS: dict[str, str] = {
    "http_response": "http_response",
    "cert_file": "certs",
    "der_chain": "certs",
    "crl": "crl",
    "tls_server": "tls_server",
    "profile": "profile",
    "server_artifact": "server",
    "ipv6_stream": "ipv6_stream",
}


# -- the atheris harnesses (run in a child process, one target each) -----------------------------


def _harness(target: str) -> Callable[[bytes], None]:
    """The function libFuzzer calls with each input; it raises only on a real bug."""
    import atheris  # type: ignore[import-untyped]

    with atheris.instrument_imports():
        import tomllib

        from cryptography import x509

        from daserver_check.certs.analysis import analyse_chain
        from daserver_check.certs.crl import judge_crl
        from daserver_check.certs.leaf import choose_leaf
        from daserver_check.certs.load import CertLoadError, parse_bundle
        from daserver_check.certs.trust import TrustStore
        from daserver_check.errors import InputError
        from daserver_check.probe import tls
        from daserver_check.probe.deadline import Deadline
        from daserver_check.profile import ProfileError, parse_profile
        from daserver_check.protocol.http_response import HttpResponseError, ResponseHeadParser
        from daserver_check.protocol.ipv6_stream import Ipv6FramingError, Ipv6StreamSplitter
        from daserver_check.server.artifacts import load_file
        from daserver_check.server.checks import run_checks
        from daserver_check.server.facts import Facts

    import socket
    import warnings

    warnings.simplefilter("ignore")
    store = TrustStore((), "fuzz")
    leaf = x509.load_der_x509_certificate((CORPUS / "certs" / "leaf.der").read_bytes())
    scratch = Path(tempfile.mkdtemp(prefix="daserver-fuzz-"))

    def http_response(data: bytes) -> None:
        cut = data[0] if data else 0
        parser = ResponseHeadParser()
        with contextlib.suppress(HttpResponseError):
            parser.feed(data[1 : 1 + cut])
            parser.feed(data[1 + cut :])

    def cert_file(data: bytes) -> None:
        try:
            bundle = parse_bundle(data, password=None, source="fuzz")
        except CertLoadError:
            return
        analyse_chain(list(choose_leaf(bundle).chain), "da.lab.test", trust=store)

    def der_chain(data: bytes) -> None:
        try:
            cert = x509.load_der_x509_certificate(data)
        except Exception:  # ValueError, InvalidVersion: the loader's business, not this target's
            return
        analyse_chain([cert, leaf], "da.lab.test", trust=store)

    def crl(data: bytes) -> None:
        judge_crl("http://crl.test/ca.crl", data, cert=leaf, issuer=leaf,
                  now=leaf.not_valid_after_utc)

    def tls_server(data: bytes) -> None:
        client, server = socket.socketpair()
        with client, server:
            client.setblocking(False)
            server.setblocking(False)
            with contextlib.suppress(BlockingIOError):
                server.send(data[:100_000])
            server.shutdown(socket.SHUT_WR)
            result, _ = tls.handshake(client, "da.lab.test", tls.TlsMode.ENCRYPTED, Deadline(5))
        if result.outcome in (tls.TlsOutcome.ERROR, tls.TlsOutcome.TIMED_OUT):
            raise AssertionError(result)

    def profile(data: bytes) -> None:
        try:
            parse_profile(tomllib.loads(data.decode("utf-8")), "fuzz")
        except (ProfileError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            return

    def server_artifact(data: bytes) -> None:
        names = ("urlacl.txt", "http.reg", "iphttps.json", "x.bin")
        path = scratch / names[(data[0] if data else 0) % len(names)]
        path.write_bytes(data[1:])
        facts = Facts()
        with contextlib.suppress(InputError):
            load_file(facts, path)
        run_checks(facts)

    def ipv6_stream(data: bytes) -> None:
        splitter = Ipv6StreamSplitter()
        with contextlib.suppress(Ipv6FramingError):
            for start in range(0, len(data), 97):
                splitter.feed(data[start : start + 97])
            splitter.finish()

    harnesses: dict[str, Callable[[bytes], None]] = {
        "http_response": http_response, "cert_file": cert_file, "der_chain": der_chain,
        "crl": crl, "tls_server": tls_server, "profile": profile,
        "server_artifact": server_artifact, "ipv6_stream": ipv6_stream,
    }
    return harnesses[target]


def atheris_run(target: str, libfuzzer_args: list[str]) -> None:
    import atheris  # type: ignore[import-untyped]

    harness = _harness(target)
    atheris.Setup([sys.argv[0], *libfuzzer_args], harness)
    atheris.Fuzz()


# -- the driver ----------------------------------------------------------------------------------


def have_atheris(install: bool) -> tuple[bool, str]:
    if importlib.util.find_spec("atheris") is not None:
        return True, "atheris already installed"
    if not install:
        return False, "atheris not installed (--no-atheris)"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "atheris"],
                          capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return False, f"pip install atheris failed ({tail[0]}): hypothesis only"
    return True, "atheris installed with pip"


def run_hypothesis(examples: int) -> bool:
    print(f"== hypothesis: tests/fuzz with {examples} examples per test", flush=True)
    env = {**os.environ, "DASERVER_FUZZ_EXAMPLES": str(examples)}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                           "tests/fuzz", "--hypothesis-show-statistics"], cwd=REPO, env=env)
    print(f"== hypothesis: {'ok' if done.returncode == 0 else 'FAILED'} "
          f"in {time.monotonic() - started:.0f} s", flush=True)
    return done.returncode == 0


def run_atheris(targets: list[str], seconds: int) -> bool:
    ok = True
    (WORK / "crashes").mkdir(parents=True, exist_ok=True)
    for target in targets:
        work = WORK / "corpus" / target
        work.mkdir(parents=True, exist_ok=True)
        print(f"== atheris {target}: {seconds} s, seeds {CORPUS / TARGETS[target]}", flush=True)
        done = subprocess.run(
            [sys.executable, __file__, "--atheris-run", target, f"-max_total_time={seconds}",
             f"-artifact_prefix={WORK / 'crashes'}/{target}-", "-rss_limit_mb=2048",
             "-timeout=20", "-print_final_stats=1", str(work), str(CORPUS / TARGETS[target])],
            cwd=REPO, capture_output=True, text=True,
        )
        stats = [line for line in done.stderr.splitlines()
                 if line.startswith(("stat::number_of_executed_units", "stat::peak_rss_mb"))
                 or ("#" in line and "DONE" in line)]
        for line in stats:
            print("   ", line)
        if done.returncode != 0:
            ok = False
            print(f"   FAILED (exit {done.returncode}); crash inputs in {WORK / 'crashes'}")
            print("\n".join("    " + line for line in done.stderr.splitlines()[-40:]))
    return ok


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--atheris-run":
        atheris_run(sys.argv[2], sys.argv[3:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=20000,
                        help="hypothesis examples per fuzz test (default 20000)")
    parser.add_argument("--seconds", type=int, default=60,
                        help="atheris time per target (default 60)")
    parser.add_argument("--only", choices=sorted(TARGETS), action="append",
                        help="atheris targets to run (default: all)")
    parser.add_argument("--no-atheris", action="store_true", help="hypothesis only")
    parser.add_argument("--no-hypothesis", action="store_true", help="atheris only")
    args = parser.parse_args()
    ok = True
    if not args.no_hypothesis:
        ok = run_hypothesis(args.examples) and ok
    available, why = have_atheris(install=not args.no_atheris)
    print(f"== atheris: {why}", flush=True)
    if available:
        ok = run_atheris(args.only or list(TARGETS), args.seconds) and ok
    print("fuzz: nothing found" if ok else "fuzz: FAILURES (see above)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
