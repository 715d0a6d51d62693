"""`daserver-check checklist --profile FILE`: everything a profile lists, at once.

Every URL (× every entry point), every certificate file and every server bundle of the profile,
run concurrently (bounded by probe.concurrency); `--baseline` adds what changed since an
earlier JSON report — the before/after view of a change window.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from daserver_check.errors import InputError
from daserver_check.model import Finding, Report, Status, TargetReport

if TYPE_CHECKING:
    from daserver_check.commands.probe_engine import ProbeSettings
    from daserver_check.profile import Profile

HELP = "run every check a profile lists (URLs x entry points, certificates, server bundles)"
DESCRIPTION = """\
Runs every check the profile lists, concurrently, and reports them together — for change
windows ("all green before and after") and scheduled runs.

  daserver-check checklist --profile contoso.toml --format json --output before.json
  ... change window ...
  daserver-check checklist --profile contoso.toml --baseline before.json

With --baseline, the report adds what became worse, what was fixed and what is unchanged.
"""

Job = Callable[[], list[TargetReport]]


def configure(parser: argparse.ArgumentParser) -> None:
    from daserver_check.output import add_output_options

    parser.add_argument("--profile", required=True, metavar="NAME|FILE",
                        help="the deployment's profile (TOML)")
    parser.add_argument("--baseline", metavar="JSON",
                        help="an earlier `--format json` report to compare with")
    parser.add_argument("--offline", action="store_true",
                        help="do not fetch CRLs when checking certificate files")
    add_output_options(parser)


def run(args: argparse.Namespace) -> Report | int:
    from daserver_check.baseline import BaselineError, compare, comparison_target, load_baseline
    from daserver_check.profile import ProfileError, load_profile

    try:
        profile = load_profile(args.profile)
    except ProfileError as exc:
        raise InputError(str(exc)) from None
    before = None
    baseline_error = ""
    if args.baseline:
        try:
            before = load_baseline(args.baseline)
        except BaselineError as exc:
            # The checks still run and their report is still written: an unreadable baseline
            # spoils the comparison, not the rest. It is an input error all the same (exit 3).
            baseline_error = str(exc)
    jobs = plan(profile, offline=args.offline)
    if not jobs:
        raise InputError(f"profile {profile.source}: lists nothing to check "
                         "(deployment.urls, cert.files, server.bundles are all empty)")
    targets = run_jobs(jobs, profile.probe.concurrency, progress=_stderr_is_tty())
    report = Report("checklist", tuple(targets))
    if before is not None:
        report = Report("checklist", (*report.targets,
                                      comparison_target(compare(before, report), args.baseline)))
    if baseline_error:
        return _with_baseline_error(args, report, baseline_error)
    return report


def _with_baseline_error(args: argparse.Namespace, report: Report, message: str) -> int:
    """Write the report with the baseline's problem as an `error` finding, then exit 3."""
    from daserver_check.output import write_output
    from daserver_check.report import OutputFormat, render

    finding = Finding(id="baseline.unreadable", status=Status.ERROR,
                      title="the baseline cannot be compared", detail=message)
    report = Report("checklist", (*report.targets,
                                  TargetReport(f"baseline {args.baseline}", (finding,))))
    fmt: OutputFormat = getattr(args, "format", OutputFormat.TEXT)
    write_output(render(report, fmt, color=False), getattr(args, "output", None))
    print(f"daserver-check: error: {message}", file=sys.stderr)
    return 3


def plan(profile: Profile, *, offline: bool) -> list[Job]:
    from daserver_check.commands.settings import settings_for_profile
    from daserver_check.profile import resolve_relative

    jobs: list[Job] = []
    settings = settings_for_profile(profile) if profile.deployment.urls else None
    for url in profile.deployment.urls:
        assert settings is not None
        if profile.deployment.entry_points:
            for entry in profile.deployment.entry_points:
                jobs.append(_probe_job(url, settings, entry))
        else:
            jobs.append(_probe_job(url, settings, None))
    for path in profile.cert.files:
        argv = ["cert", resolve_relative(profile, path), "--profile", profile.source]
        for url in profile.deployment.urls:
            argv += ["--url", url]
        if profile.cert.ca_file:
            argv += ["--ca-file", resolve_relative(profile, profile.cert.ca_file)]
        if offline or not profile.cert.check_crl:
            argv.append("--offline")
        jobs.append(_command_job(argv))
    for bundle in profile.server.bundles:
        argv = ["server", resolve_relative(profile, bundle)]
        if profile.deployment.urls:
            # The binding must hold the certificate served at the (first) URL now.
            argv += ["--url", profile.deployment.urls[0]]
            if profile.deployment.entry_points:
                argv += ["--connect", profile.deployment.entry_points[0]]
            for spec in profile.dns.resolvers:
                argv += ["--resolver", spec]
        jobs.append(_command_job(argv))
    return jobs


def _probe_job(url: str, settings: ProbeSettings, entry: str | None) -> Job:
    import dataclasses

    from daserver_check.commands.probe import parse_connect
    from daserver_check.commands.probe_engine import probe_url

    if entry is None:
        return lambda: [probe_url(url, settings)]
    connect = parse_connect(entry)
    pinned = dataclasses.replace(settings, connect=connect)

    def job() -> list[TargetReport]:
        report = probe_url(url, pinned)
        return [dataclasses.replace(report, target=f"{url} @ {entry}")]

    return job


def _command_job(argv: list[str]) -> Job:
    """Run another command (cert, server) through its own CLI semantics."""
    from daserver_check.cli import build_parser

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit:
        raise InputError(f"cannot run `daserver-check {' '.join(argv)}`") from None

    def job() -> list[TargetReport]:
        from daserver_check.checks.common import command_error

        try:
            result = args._module.run(args)
        except InputError as exc:
            return [TargetReport(argv[1], (command_error(argv[0], str(exc)),))]
        if isinstance(result, Report):
            return list(result.targets)
        return [TargetReport(argv[1], (command_error(argv[0], f"exit code {result}"),))]

    return job


def run_jobs(jobs: list[Job], concurrency: int, *, progress: bool) -> list[TargetReport]:
    from concurrent.futures import ThreadPoolExecutor, as_completed

    done = 0
    lock = threading.Lock()
    results: dict[int, list[TargetReport]] = {}
    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(jobs))),
                            thread_name_prefix="checklist") as pool:
        futures = {pool.submit(job): i for i, job in enumerate(jobs)}
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            with lock:
                done += 1
                if progress:
                    print(f"\rchecklist: {done}/{len(jobs)} done", end="", file=sys.stderr,
                          flush=True)
    if progress:
        print(file=sys.stderr)
    return [t for i in range(len(jobs)) for t in results[i]]


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
