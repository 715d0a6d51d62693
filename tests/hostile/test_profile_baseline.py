"""Hostile profiles and baselines end as one-line input errors (exit 3), quickly; a bad baseline
does not cost the checklist its report."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from daserver_check.baseline import BaselineError, load_baseline
from daserver_check.profile import ProfileError, load_profile

LEAF = Path(__file__).resolve().parents[1] / "fuzz" / "corpus" / "certs" / "leaf.der"
HANG_GUARD = 30.0


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "daserver_check", *args], capture_output=True,
                          text=True, timeout=HANG_GUARD, stdin=subprocess.DEVNULL)


PROFILES = {
    # tomllib takes time quadratic in the parts of one dotted key: minutes at 100 000.
    "dotted key": "schema = 1\n" + ".".join(["a"] * 100_000) + " = 1\n",
    "dotted header": "schema = 1\n[" + ".".join(["t"] * 100_000) + "]\n",
    "quoted dotted key": "schema = 1\n" + ".".join(['"a"'] * 100_000) + " = 1\n",
    "inline table": "schema = 1\nx = {" + ".".join(["a"] * 100_000) + " = 1}\n",
    "too many keys": "schema = 1\n" + "".join(f"k{i} = 1\n" for i in range(20_000)),
}


@pytest.mark.parametrize("name", list(PROFILES))
def test_hostile_profile_is_refused_in_a_subprocess(tmp_path: Path, name: str) -> None:
    path = tmp_path / "p.toml"
    path.write_text(PROFILES[name])
    out = run_cli("profile", "show", str(path))
    assert out.returncode == 3, out.stderr
    assert "refused" in out.stderr and "internal error" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1


def test_dots_inside_strings_do_not_count(tmp_path: Path) -> None:
    urls = ", ".join(f'"https://da{i}.a.b.c.d.e.f.g.h.example/IPHTTPS"' for i in range(10))
    path = tmp_path / "p.toml"
    path.write_text(f"schema = 1 # a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f\n"
                    f"[deployment]\nurls = [{urls}]\n"
                    '[probe]\ntimeout = 5.0\n[cert]\nfiles = ["""a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p'
                    '.q.r.s.t.u.v.w.x.y.z.a.b.c.d.e.f.g.h"""]\n')
    profile = load_profile(str(path))
    assert len(profile.deployment.urls) == 10
    assert profile.probe.timeout == 5.0


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_profile_text_is_a_profile_or_a_profile_error(text: str) -> None:
    from daserver_check.profile import _prescan

    try:
        _prescan(text, "<t>")
    except ProfileError:
        pass


def _report(findings: list[object], target: object = "https://da.example/IPHTTPS") -> str:
    return json.dumps({"schema": "daserver-check/1",
                       "targets": [{"target": target, "findings": findings}]})


BASELINES = {
    "deep nesting": '{"schema": "daserver-check/1", "targets": ' + "[" * 100_000 + "]" * 100_000
    + "}",
    "unhashable status": _report([{"id": "tls.handshake", "status": ["fail"]}]),
    "dict status": _report([{"id": "tls.handshake", "status": {"a": 1}}]),
    "huge integer": '{"schema": "daserver-check/1", "duration_ms": ' + "9" * 50_000
    + ', "targets": []}',
    "lone surrogate": _report([{"id": "tls.\ud800", "status": "fail"}]),
    "lone surrogate target": _report([{"id": "x", "status": "pass"}], target="\udfff"),
    "NaN": '{"schema": "daserver-check/1", "x": NaN, "targets": []}',
    "unhashable id": _report([{"id": ["x"], "status": "pass"}]),
    "target not a table": '{"schema": "daserver-check/1", "targets": [1]}',
}


@pytest.mark.parametrize("name", list(BASELINES))
def test_hostile_baseline_is_a_clean_error(tmp_path: Path, name: str) -> None:
    path = tmp_path / "b.json"
    path.write_text(BASELINES[name], encoding="utf-8", errors="surrogatepass")
    with pytest.raises(BaselineError) as info:
        load_baseline(str(path))
    assert str(path) in str(info.value)


@pytest.mark.parametrize("name", ["deep nesting", "unhashable status", "lone surrogate",
                                  "huge integer"])
def test_checklist_with_a_hostile_baseline_still_writes_its_report(tmp_path: Path,
                                                                   name: str) -> None:
    baseline = tmp_path / "b.json"
    baseline.write_text(BASELINES[name], encoding="utf-8", errors="surrogatepass")
    profile = tmp_path / "p.toml"
    profile.write_text(f"schema = 1\n[cert]\nfiles = [{json.dumps(str(LEAF))}]\n"
                       "check_crl = false\n")
    report_file = tmp_path / "report.json"
    out = run_cli("checklist", "--profile", str(profile), "--baseline", str(baseline),
                  "--offline", "--format", "json", "--output", str(report_file))
    assert out.returncode == 3, out.stderr
    assert "internal error" not in out.stderr
    assert len(out.stderr.strip().splitlines()) == 1
    report = json.loads(report_file.read_text())
    assert report["targets"][0]["target"].endswith("leaf.der")
    assert report["targets"][-1]["findings"][0]["id"] == "baseline.unreadable"


@settings(max_examples=200, deadline=None)
@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=30,
))
def test_any_json_is_a_baseline_or_a_baseline_error(tmp_path_factory: pytest.TempPathFactory,
                                                    value: object) -> None:
    path = tmp_path_factory.mktemp("b") / "b.json"
    doc = {"schema": "daserver-check/1", "targets": [{"target": "t", "findings": [value]}]}
    path.write_text(json.dumps(doc))
    try:
        load_baseline(str(path))
    except BaselineError:
        pass
