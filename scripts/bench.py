#!/usr/bin/env python3
"""`make bench`: daserver-check against its peers, side by side, on the same lab endpoint.

Every tool is pointed at the same emulated IP-HTTPS endpoint (`LabEndpoint`, healthy, on
127.0.0.1) with SNI da.lab.test; nothing leaves loopback, no tool queries DNS.

| tool            | one run                                              | comes from               |
|-----------------|------------------------------------------------------|--------------------------|
| daserver-check  | `probe` (2 handshakes, cert analysis, POST), CLI     | this checkout            |
| openssl         | `s_client`: one handshake (the floor)                | the system               |
| check_ssl_cert  | the Nagios plugin (a shell script around openssl)    | Debian monitoring-plugins-contrib |
| sslyze          | `--certinfo`                                         | PyPI, in .bench/sslyze   |
| testssl.sh      | `-S` (server defaults: certificate, session, ...)    | Debian testssl.sh        |

Figures: median (and min/max) wall time of --runs runs, the ratio to ours, the peak RSS of
the largest process of a run (wait4's ru_maxrss), the cold start (version/help), and a
many-target run: --targets lab endpoints (one process, distinct ports) probed by one
`daserver-check probe URL...` and by each peer the way it can (one command with every target,
or one process per target, one after another). Writes docs/benchmarks.md.

    python scripts/bench.py [--runs N] [--targets N] [--no-install] [--no-write]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / ".bench"
DOC = REPO / "docs" / "benchmarks.md"
OURS = [sys.executable, "-m", "daserver_check"]
NAME = "da.lab.test"
CHECK_SSL_CERT = "/usr/lib/nagios/plugins/check_ssl_cert"
RUN_TIMEOUT = 600


# -- measuring -----------------------------------------------------------------------------------


@dataclass
class Sample:
    wall_ms: list[float] = field(default_factory=list)
    rss_kb: list[int] = field(default_factory=list)
    codes: list[int] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.wall_ms)

    @property
    def peak_mb(self) -> float:
        return max(self.rss_kb) / 1024 if self.rss_kb else 0.0


# The peak RSS of a process forked from this (large) Python process would include the pages it
# shared with us before exec (Linux records the old mm's high-water mark at exec). GNU time
# forks from a small process and reports its child's own peak (%M, KiB).
GNU_TIME = "/usr/bin/time"


def run_once(cmd: Sequence[str]) -> tuple[float, int, int]:
    """(wall ms, peak RSS KiB of the largest process, exit code) of one command."""
    with tempfile.NamedTemporaryFile(prefix="bench-rss-", suffix=".txt") as rss_file:
        wrapped = list(cmd)
        if os.access(GNU_TIME, os.X_OK):
            wrapped = [GNU_TIME, "-q", "-f", "%M", "-o", rss_file.name, *cmd]
        started = time.perf_counter()
        try:
            done = subprocess.run(wrapped, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, cwd=REPO, timeout=RUN_TIMEOUT)
            code = done.returncode
        except subprocess.TimeoutExpired:
            code = -1
        wall = (time.perf_counter() - started) * 1000
        text = Path(rss_file.name).read_text().strip().splitlines()
    rss = int(text[-1]) if text and text[-1].isdigit() else 0
    return wall, rss, code


def measure(cmd: Sequence[str], runs: int, warmup: bool = True) -> Sample:
    sample = Sample()
    if warmup:  # page cache, .pyc files: every tool gets the same warm start
        run_once(cmd)
    for _ in range(runs):
        wall, rss, code = run_once(cmd)
        sample.wall_ms.append(wall)
        sample.rss_kb.append(rss)
        sample.codes.append(code)
    return sample


def measure_sequence(cmds: Sequence[Sequence[str]]) -> Sample:
    """One process after another (a cron loop over targets): total wall time, largest RSS."""
    sample = Sample()
    started = time.perf_counter()
    for cmd in cmds:
        _, rss, code = run_once(cmd)
        sample.rss_kb.append(rss)
        sample.codes.append(code)
    sample.wall_ms.append((time.perf_counter() - started) * 1000)
    return sample


def timed_in_process(fn: Callable[[], object], runs: int) -> Sample:
    fn()
    sample = Sample()
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        sample.wall_ms.append((time.perf_counter() - started) * 1000)
    return sample


# -- the peers: found, or installed the ordinary way ---------------------------------------------


def _quiet(cmd: Sequence[str], timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


def debian_tool(path: str, packages: Sequence[str], install: bool, notes: list[str]) -> str | None:
    found = shutil.which(path) or (path if os.access(path, os.X_OK) else None)
    if found:
        return found
    label = Path(path).name
    if not install:
        notes.append(f"{label}: not installed (--no-install): skipped")
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        notes.append(f"{label}: not installed, and no root/apt-get to install "
                     f"{' '.join(packages)}: skipped")
        return None
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    done = subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends",
                           *packages], capture_output=True, text=True, env=env)
    if done.returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, env=env)
        done = subprocess.run(["apt-get", "install", "-y", "-q", "--no-install-recommends",
                               *packages], capture_output=True, text=True, env=env)
    found = shutil.which(path) or (path if os.access(path, os.X_OK) else None)
    if not found:
        notes.append(f"{label}: apt-get install {' '.join(packages)} failed: skipped")
    return found


def sslyze_python(install: bool, notes: list[str]) -> str | None:
    venv = BENCH / "sslyze"
    python = venv / "bin" / "python"
    if python.exists() and _quiet([str(python), "-c", "import sslyze"]).returncode == 0:
        return str(python)
    if not install:
        notes.append("sslyze: not installed in .bench/sslyze (--no-install): skipped")
        return None
    base = shutil.which("python3") or sys.executable
    made = _quiet([base, "-m", "venv", str(venv)])
    if made.returncode == 0:
        made = _quiet([str(python), "-m", "pip", "install", "-q", "sslyze"])
    if made.returncode != 0:
        tail = (made.stderr or made.stdout).strip().splitlines()[-1:] or ["?"]
        notes.append(f"sslyze: could not be installed into .bench/sslyze ({tail[0]}): skipped")
        return None
    return str(python)


def version_of(cmd: Sequence[str], word: str) -> str:
    """`word` and the first version number on a line of the tool's output that mentions it."""
    with contextlib.suppress(OSError, subprocess.TimeoutExpired):
        out = _quiet(cmd, timeout=60)
        text = re.sub(r"\x1b\[[0-9;]*m", "", out.stdout + "\n" + out.stderr)
        for line in text.splitlines():
            if word.lower() in line.lower():
                found = re.search(r"\d+\.\d+(?:\.\d+)?[a-z]?", line)
                if found:
                    return f"{word} {found.group(0)}"
    return word


@dataclass
class Tool:
    name: str
    version: str
    does: str
    one: Callable[[int, str], list[str]]  # (port, ca file) -> command
    cold: list[str]
    # many targets: one command for all ports, or None to run `one` per port
    many: Callable[[list[int], str], list[str]] | None = None
    runs: int | None = None  # fewer runs for slow tools
    many_estimated: bool = False  # too slow for N targets: estimate from one run


def ours() -> Tool:
    def one(port: int, ca: str) -> list[str]:
        return [*OURS, "probe", f"https://{NAME}:{port}/IPHTTPS", "--connect", "127.0.0.1",
                "--ca-file", ca, "--profile", "lab", "--format", "json"]

    def many(ports: list[int], ca: str) -> list[str]:
        return [*OURS, "probe", *(f"https://{NAME}:{p}/IPHTTPS" for p in ports), "--connect",
                "127.0.0.1", "--ca-file", ca, "--profile", "lab", "--format", "json"]

    from daserver_check import __version__

    return Tool("daserver-check", f"daserver-check {__version__}",
                "probe (lab profile): Windows 10 handshake, encrypted + null handshakes, "
                "cert analysis, CRL, POST", one,
                [*OURS, "--version"], many)


def peers(install: bool, notes: list[str]) -> list[Tool]:
    tools: list[Tool] = []
    openssl = shutil.which("openssl")
    if openssl:
        tools.append(Tool(
            "openssl s_client", version_of([openssl, "version"], "OpenSSL"), "one handshake (the floor)",
            lambda port, ca: [openssl, "s_client", "-connect", f"127.0.0.1:{port}",
                              "-servername", NAME, "-CAfile", ca, "-verify_return_error"],
            [openssl, "version"]))
    else:
        notes.append("openssl: not installed: skipped")
    check = debian_tool(CHECK_SSL_CERT, ["monitoring-plugins-contrib", "openssl", "curl", "file",
                                         "bc"], install, notes)
    if check:
        tools.append(Tool(
            "check_ssl_cert", version_of([check, "--version"], "check_ssl_cert"),
            "Nagios plugin: chain, expiry, names (OCSP/SCT off: no network)",
            lambda port, ca: [check, "-H", "127.0.0.1", "-p", str(port), "--sni", NAME,
                              "--rootcert-file", ca, "--ignore-ocsp", "--ignore-sct",
                              "--no-proxy"],
            [check, "--version"]))
    python = sslyze_python(install, notes)
    if python:
        sslyze = [python, "-W", "ignore", "-m", "sslyze"]
        tools.append(Tool(
            "sslyze --certinfo", version_of([python, "-m", "pip", "show", "sslyze"], "Version")
            .replace("Version", "sslyze"), "certificate info against 5 trust stores",
            lambda port, ca: [*sslyze, "--certinfo", f"{NAME}:{port}{{127.0.0.1}}",
                              "--certinfo_ca_file", ca],
            [*sslyze, "--help"],
            lambda ports, ca: [*sslyze, "--certinfo", "--certinfo_ca_file", ca,
                               *(f"{NAME}:{p}{{127.0.0.1}}" for p in ports)]))
    testssl = debian_tool("testssl", ["testssl.sh"], install, notes)
    if testssl:
        tools.append(Tool(
            "testssl.sh -S", version_of([testssl, "--version"], "testssl"),
            "server defaults: certificate, session, TLS extensions",
            lambda port, ca: [testssl, "-S", "--ip", "127.0.0.1", "--nodns", "none",
                              "--color", "0", "--warnings", "off", f"{NAME}:{port}"],
            [testssl, "--version"], runs=3, many_estimated=True))
    return tools


# -- the lab -------------------------------------------------------------------------------------


@contextlib.contextmanager
def labs(count: int) -> Iterator[list[object]]:
    from daserver_check.lab.server import LabConfig, LabEndpoint

    with contextlib.ExitStack() as stack:
        yield [stack.enter_context(LabEndpoint(LabConfig())) for _ in range(count)]


# -- report --------------------------------------------------------------------------------------


@dataclass
class Row:
    tool: Tool
    single: Sample
    cold: Sample
    many: Sample | None
    many_note: str = ""


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kb / 1024 / 1024:.0f} GiB RAM"
    import ssl

    return (f"{cpu}, {os.cpu_count()} CPUs{memory}; {platform.system()} {platform.release()}; "
            f"{platform.python_implementation()} {platform.python_version()}; "
            f"{ssl.OPENSSL_VERSION}")


def fmt_ratio(peer: float, base: float) -> str:
    return f"{peer / base:.2f}×" if base else "?"


def table(rows: list[Row], targets: int) -> list[str]:
    base = rows[0]
    lines = [
        f"| tool | one run does | median ms (min–max) | vs ours | peak RSS MB | cold start ms "
        f"| {targets} targets s |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        s = row.single
        spread = f"{s.median:.0f} ({min(s.wall_ms):.0f}–{max(s.wall_ms):.0f})"
        ratio = "1.00×" if row is base else fmt_ratio(s.median, base.single.median)
        many = "—"
        if row.many is not None:
            many = f"{row.many.median / 1000:.1f}"
        if row.many_note:
            many = f"{many} {row.many_note}".strip()
        lines.append(
            f"| {row.tool.name} ({row.tool.version}) | {row.tool.does} | {spread} | {ratio} "
            f"| {s.peak_mb:.0f} | {row.cold.median:.0f} | {many} |"
        )
    return lines


def slower_than(rows: list[Row]) -> list[str]:
    base = rows[0]
    out: list[str] = []
    for row in rows[1:]:
        if row.single.median < base.single.median:
            out.append(f"- one probe: {row.tool.name} is faster ({row.single.median:.0f} ms vs "
                       f"{base.single.median:.0f} ms)")
        if row.cold.median < base.cold.median:
            out.append(f"- cold start: {row.tool.name} ({row.cold.median:.0f} ms vs "
                       f"{base.cold.median:.0f} ms)")
        if row.single.peak_mb < base.single.peak_mb:
            out.append(f"- memory: {row.tool.name} peaks at {row.single.peak_mb:.0f} MB vs "
                       f"{base.single.peak_mb:.0f} MB")
        if (row.many is not None and base.many is not None and not row.many_note
                and row.many.median < base.many.median):
            out.append(f"- many targets: {row.tool.name} ({row.many.median / 1000:.1f} s vs "
                       f"{base.many.median / 1000:.1f} s)")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per figure (default 7)")
    parser.add_argument("--targets", type=int, default=100,
                        help="lab endpoints for the many-target run (default 100)")
    parser.add_argument("--no-install", action="store_true",
                        help="do not install missing peers (skip them)")
    parser.add_argument("--no-write", action="store_true", help="print only, do not write "
                        f"{DOC.relative_to(REPO)}")
    args = parser.parse_args()
    notes: list[str] = []
    if not debian_tool(GNU_TIME, ["time"], not args.no_install, notes):
        notes.append("GNU time missing: peak RSS is wait4's, which for a process started from "
                     "this script includes the bench's own pages (too high)")
    tools = [ours(), *peers(not args.no_install, notes)]
    rows: list[Row] = []
    in_process: Sample | None = None
    print(f"machine: {machine()}", flush=True)
    with labs(max(1, args.targets)) as endpoints:
        lab = endpoints[0]
        ca = str(lab.ca_file)  # type: ignore[attr-defined]
        port: int = lab.port  # type: ignore[attr-defined]
        ports = [e.port for e in endpoints]  # type: ignore[attr-defined]
        for tool in tools:
            runs = min(args.runs, tool.runs or args.runs)
            print(f"== {tool.name}: {runs} runs", flush=True)
            single = measure(tool.one(port, ca), runs)
            cold = measure(tool.cold, runs)
            many: Sample | None = None
            note = ""
            if tool.many_estimated:
                note = f"(est. {single.median * len(ports) / 1000:.0f}, not run)"
            elif tool.many is not None:
                many = measure(tool.many(ports, ca), 1, warmup=False)
                note = "(one command)"
            else:
                many = measure_sequence([tool.one(p, ca) for p in ports])
                note = "(one process per target)"
            if tool is tools[0] and many is not None:
                note = "(one command)"
            failed = [c for c in single.codes if c not in (0, 1)]
            if failed and tool is not tools[0]:
                notes.append(f"{tool.name}: exit codes {sorted(set(single.codes))} on the "
                             "healthy lab (timing kept: it ran to the end)")
            if tool is tools[0] and any(single.codes):
                notes.append(f"daserver-check: exit codes {sorted(set(single.codes))} — the "
                             "lab should pass (0)")
            rows.append(Row(tool, single, cold, many, note))
            print("\n".join(table(rows, len(ports))[-1:]), flush=True)
        from daserver_check.cli import main as cli_main

        def probe_in_process() -> None:
            with contextlib.redirect_stdout(io.StringIO()):
                cli_main(tools[0].one(port, ca)[len(OURS):])

        in_process = timed_in_process(probe_in_process, args.runs)
    lines = table(rows, len(ports))
    print()
    print("\n".join(lines))
    extra = (f"daserver-check probe in-process (exporter/checklist per target, no start-up): "
             f"median {in_process.median:.0f} ms")
    print(extra)
    for note in notes:
        print(f"note: {note}")
    if not args.no_write:
        write_doc(lines, extra, notes, slower_than(rows), args.runs, len(ports),
                  in_process.median)
        print(f"wrote {DOC.relative_to(REPO)}")
    return 0


def write_doc(lines: list[str], extra: str, notes: list[str], slower: list[str], runs: int,
              targets: int, in_process_ms: float) -> None:
    extra_short = f"{in_process_ms:.0f} ms in-process for the whole probe"
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    text = f"""# Benchmarks

Written by `make bench` (scripts/bench.py) on {stamp}. Re-run it to refresh: the figures
are this machine's, not a promise.

**Machine:** {machine()}

**Method.** Every tool meets the same emulated IP-HTTPS endpoint (`LabEndpoint`, healthy,
TLS 1.2, RSA 2048) on 127.0.0.1 with SNI `{NAME}`; no DNS, no traffic off loopback. One run is
one new process, as cron or a monitoring system starts it; wall time is the median of {runs}
runs after one warm-up run (testssl.sh: 3), min–max in brackets. "vs ours" is the peer's
median divided by ours (below 1: the peer is faster). Peak RSS is the largest process of a run
(GNU time's %M; for the shell-script tools that is their largest child, usually openssl or
bash, not the sum). Cold start is `--version` (`--help` for sslyze, `openssl version`). The many-target
column probes {targets} lab endpoints (one process, distinct ports): daserver-check and sslyze
with one command naming every target, openssl and check_ssl_cert one process per target one
after another, testssl.sh estimated from one run (its mass mode would take that long).

{chr(10).join(lines)}

{extra}.

## Where we are slower, and why

{chr(10).join(slower) if slower else "- nowhere in this run."}

- **Against `openssl s_client`, per run** (the floor: one handshake, in C): the probe work
  itself is small — {extra_short} — so nearly all of a CLI run is the Python interpreter
  starting and importing cryptography and pyOpenSSL (`python -X importtime` puts
  `cryptography.x509` first; dnspython is imported only when DNS runs, so this `--connect`
  probe does not pay for it). On top, a probe does several times the floor's work: three
  handshakes (the profile's Windows 10 client, encrypted and null-only, on three connections),
  the IP-HTTPS POST, the certificate analysis and the CRL fetch.
- **Cold start** (`--version`): openssl and the shell-script tools start in milliseconds; we
  pay for the interpreter and argparse before printing anything.
- **Memory:** a Python process with cryptography and pyOpenSSL loaded peaks around 40 MB;
  the largest process of openssl, check_ssl_cert and testssl.sh is a C or bash process of a
  few MB (their total across processes is not counted). sslyze, also Python, peaks higher.
- **Where it is the other way round:** per run, check_ssl_cert (a chain of openssl, date and
  grep processes), sslyze (several handshakes, five trust stores) and testssl.sh (hundreds of
  handshakes) are slower; across many targets one daserver-check process probes
  {min(16, targets)} URLs at a time, while one-process-per-target tools pay their start-up
  {targets} times.

## Notes

{chr(10).join(f"- {n}" for n in notes) if notes else "- every peer was available."}
"""
    DOC.parent.mkdir(parents=True, exist_ok=True)
    DOC.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    raise SystemExit(main())
