"""`daserver-check checklist --profile FILE`: everything a profile lists, at once.

Every URL (× every entry point), every certificate file and every server bundle of the profile,
run concurrently (bounded by probe.concurrency); `--baseline` adds what changed since an
earlier JSON report — the before/after view of a change window.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from daserver_check.checks.common import job_error
from daserver_check.commands.probe import parse_connect, signals_to_main_thread
from daserver_check.errors import InputError
from daserver_check.findings import FindingId
from daserver_check.model import Finding, Report, Status, TargetReport

if TYPE_CHECKING:
    from daserver_check.certs.trust import TrustStore
    from daserver_check.pipeline.bundle import BundleOptions
    from daserver_check.pipeline.cert_file import CertFileOptions
    from daserver_check.pipeline.settings import ProbeSettings
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
    parser.add_argument("--dry-run", action="store_true",
                        help="list every target, address, file and folder the checklist would "
                        "touch, and touch none of them (no network, no file read but the profile)")
    add_output_options(parser)


def run(args: argparse.Namespace) -> Report | int:
    from daserver_check.baseline import BaselineError, compare, comparison_target, load_baseline
    from daserver_check.profile import ProfileError, load_profile

    try:
        profile = load_profile(args.profile)
    except ProfileError as exc:
        raise InputError(str(exc)) from None
    if args.dry_run:
        from daserver_check.output import write_output

        write_output(dry_run(profile, offline=args.offline), getattr(args, "output", None))
        return 0
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

    finding = Finding(id=FindingId.BASELINE_UNREADABLE, status=Status.ERROR,
                      title="the baseline cannot be compared", detail=message)
    report = Report("checklist", (*report.targets,
                                  TargetReport(f"baseline {args.baseline}", (finding,))))
    fmt: OutputFormat = getattr(args, "format", OutputFormat.TEXT)
    write_output(render(report, fmt, color=False), getattr(args, "output", None))
    print(f"daserver-check: error: {message}", file=sys.stderr)
    return 3


def dry_run(profile: Profile, *, offline: bool) -> str:
    """What `plan` would run, from the profile alone: nothing is resolved, read or connected."""
    lines = [f"checklist --dry-run: profile {profile.source}"]
    resolvers = ", ".join(profile.dns.resolvers) or "the system resolver"
    for url in profile.deployment.urls:
        if profile.deployment.entry_points:
            for entry in profile.deployment.entry_points:
                lines.append(f"probe  {url}  at {entry} (entry point; DNS asked: {resolvers})")
        else:
            lines.append(f"probe  {url}  at every address {resolvers} returns for its host")
    for path in profile.cert.files:
        crl = "no CRL fetch" if offline or not profile.cert.check_crl else "CRLs fetched over HTTP"
        lines.append(f"cert   {_relative(profile, path)}  ({crl})")
    if profile.cert.files and (profile.cert.password_env or profile.cert.password_file):
        source = (f"environment variable {profile.cert.password_env}" if profile.cert.password_env
                  else f"file {_relative(profile, profile.cert.password_file)}")
        lines.append(f"       PFX password from the {source}")
    if profile.cert.ca_file:
        lines.append(f"trust  {_relative(profile, profile.cert.ca_file)}")
    for bundle in profile.server.bundles:
        lines.append(f"server {_relative(profile, bundle)}")
    if profile.proxy.url:
        lines.append("proxy  every probe goes through the profile's proxy.url")
    jobs = (len(profile.deployment.urls) * max(1, len(profile.deployment.entry_points))
            + len(profile.cert.files) + len(profile.server.bundles))
    lines.append(f"{jobs} job(s) planned; nothing was resolved, read or connected.")
    return "\n".join(lines) + "\n"


def plan(profile: Profile, *, offline: bool) -> list[Job]:
    import dataclasses

    from daserver_check.pipeline.bundle import strong_crl_required
    from daserver_check.pipeline.settings import settings_for_profile

    jobs: list[Job] = []
    # KB 2980672: a server that sets StrongCRLRequired makes every client check revocation, so
    # a collected bundle saying so makes CRL failures fail for the probes and files too.
    strong = strong_crl_required([_relative(profile, b) for b in profile.server.bundles])
    settings = settings_for_profile(profile) if profile.deployment.urls else None
    if settings is not None and strong:
        settings = dataclasses.replace(settings, strong_crl_required=True)
    for url in profile.deployment.urls:
        assert settings is not None
        if profile.deployment.entry_points:
            for entry in profile.deployment.entry_points:
                jobs.append(_probe_job(url, settings, entry))
        else:
            jobs.append(_probe_job(url, settings, None))
    if profile.cert.files:
        cert_options = _cert_options(profile, offline=offline,
                                     trust=settings.trust if settings is not None else None)
        if strong:
            cert_options = dataclasses.replace(cert_options, strong_crl_required=True)
        for path in profile.cert.files:
            jobs.append(_cert_job(_relative(profile, path), cert_options))
    if profile.server.bundles:
        bundle_options = _bundle_options(profile)
        for bundle in profile.server.bundles:
            jobs.append(_bundle_job(_relative(profile, bundle), bundle_options))
    return jobs


def _relative(profile: Profile, path: str) -> str:
    from daserver_check.profile import resolve_relative

    return resolve_relative(profile, path)


def _probe_job(url: str, settings: ProbeSettings, entry: str | None) -> Job:
    import dataclasses

    from daserver_check.pipeline.engine import probe_url

    if entry is None:
        return lambda: [probe_url(url, settings)]
    connect = parse_connect(entry)
    pinned = dataclasses.replace(settings, connect=connect)

    def job() -> list[TargetReport]:
        report = probe_url(url, pinned)
        return [dataclasses.replace(report, target=f"{url} @ {entry}")]

    return job


def _cert_options(profile: Profile, *, offline: bool,
                  trust: TrustStore | None = None) -> CertFileOptions:
    """What `cert FILE --profile P --url U... [--ca-file] [--offline]` would use; `trust` is the
    store the probes already loaded from the same cert.ca_file (read once per checklist)."""
    from daserver_check.certs.analysis import CertPolicy
    from daserver_check.certs.trust import TrustStoreError, load_trust_store
    from daserver_check.pipeline.cert_file import CertFileOptions
    from daserver_check.target import TargetError, parse_iphttps_url

    try:
        urls = tuple(parse_iphttps_url(url) for url in profile.deployment.urls)
    except TargetError as exc:
        raise InputError(f"profile {profile.source}: deployment.urls: {exc}") from None
    if trust is None:
        ca_file = _relative(profile, profile.cert.ca_file) if profile.cert.ca_file else None
        try:
            trust = load_trust_store(ca_file)
        except TrustStoreError as exc:
            raise InputError(f"profile {profile.source}: cert.ca_file: {exc}") from None
    password, password_error = _profile_password(profile)
    return CertFileOptions(
        trust=trust,
        urls=urls,
        profile=profile,
        policy=CertPolicy(profile.cert.warn_days, profile.cert.crit_days),
        offline=offline or not profile.cert.check_crl,
        resolvers=profile.dns.resolvers,
        password=password,
        password_error=password_error,
        prompt=None,  # worker threads never prompt
        no_password_hint=f"set cert.password_env (a variable's name) or cert.password_file in "
        f"the profile {profile.source}: a checklist never prompts",
    )


def _profile_password(profile: Profile) -> tuple[bytes | None, str]:
    """The PFX password the profile points to, or why it could not be read (each certificate
    file then reports that as an `error`, and the rest of the checklist still runs)."""
    from daserver_check.passwords import password_from_env, password_from_file

    try:
        if profile.cert.password_env:
            return password_from_env(profile.cert.password_env, "profile cert.password_env"), ""
        if profile.cert.password_file:
            return password_from_file(_relative(profile, profile.cert.password_file),
                                      "profile cert.password_file"), ""
    except InputError as exc:
        return None, str(exc)
    return None, ""


def _bundle_options(profile: Profile) -> BundleOptions:
    from daserver_check.pipeline.bundle import BundleOptions

    if not profile.deployment.urls:
        return BundleOptions(client_os=profile.deployment.client_os)
    # The binding must hold the certificate served at the (first) URL now.
    entries = profile.deployment.entry_points
    return BundleOptions(
        url=profile.deployment.urls[0],
        connect=parse_connect(entries[0]) if entries else None,
        resolvers=profile.dns.resolvers,
        client_os=profile.deployment.client_os,
    )


def _cert_job(path: str, options: CertFileOptions) -> Job:
    from daserver_check.pipeline.cert_file import check_certificate_file

    def job() -> list[TargetReport]:
        try:
            return [check_certificate_file(path, options)]
        except InputError as exc:
            return [TargetReport(path, (job_error(FindingId.CERT_INPUT, str(exc)),))]

    return job


def _bundle_job(path: str, options: BundleOptions) -> Job:
    from daserver_check.pipeline.bundle import inspect_bundle

    def job() -> list[TargetReport]:
        try:
            return [inspect_bundle([path], options)]
        except InputError as exc:
            return [TargetReport(path, (job_error(FindingId.SERVER_INPUT, str(exc)),))]

    return job


def _run_job(index: int, job: Job, label: str) -> list[TargetReport]:
    """A job that raises anything is an `error` finding for that job, never the checklist's end."""
    try:
        return job()
    except Exception as exc:
        finding = job_error(FindingId.CHECKLIST_JOB,
                            f"job {index + 1} ({label}) stopped: {type(exc).__name__}: {exc}")
        return [TargetReport(label, (finding,))]


def run_jobs(jobs: list[Job], concurrency: int, *, progress: bool) -> list[TargetReport]:
    from concurrent.futures import ThreadPoolExecutor, as_completed

    done = 0
    results: dict[int, list[TargetReport]] = {}
    # Not a `with` block: on Ctrl-C its exit would join the running jobs, each waiting on its
    # own network deadline. Jobs not started are cancelled; running ones are left to the CLI,
    # which ends the process (cli._interrupted).
    pool = ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(jobs))),
                              thread_name_prefix="checklist", initializer=signals_to_main_thread)
    try:
        futures = {pool.submit(_run_job, i, job, getattr(job, "label", f"job {i + 1}")): i
                   for i, job in enumerate(jobs)}
        # Only this thread counts and prints: as_completed hands the futures over one by one.
        for future in as_completed(futures):
            results[futures[future]] = future.result()
            done += 1
            if progress:
                print(f"\rchecklist: {done}/{len(jobs)} done", end="", file=sys.stderr,
                      flush=True)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    finally:
        pool.shutdown(wait=False)
    if progress:
        print(file=sys.stderr)
    return [t for i in range(len(jobs)) for t in results[i]]


def _stderr_is_tty() -> bool:
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False
