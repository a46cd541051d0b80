"""The run stage: one code path for analyze, demo, batch and notebooks; staged output folders."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest

import care15
from care15._errors import InputError
from care15._files import staged_folder
from care15.cli import main
from care15.pipeline import RunOptions, input_problems, run

ROOT = Path(__file__).resolve().parents[1]
CARE15 = Path(sys.executable).parent / "care15"


@pytest.fixture(scope="module")
def small_scenario(tmp_path_factory, helsinki_pbf):
    """The demo's inputs on 200 m cells (fast), as a scenario file."""
    d = tmp_path_factory.mktemp("scen")
    fac = Path(str(care15.demo_scenario().inputs.facilities))
    p = d / "helsinki.toml"
    p.write_text(f'[area]\nname = "赫尔辛基 test"\npbf = "{helsinki_pbf}"\n'
                 f'[inputs]\nfacilities = "{fac}"\ntotal_population = 20000\n'
                 '[analysis]\ncell_size_m = 200\n', encoding="utf-8")
    return p


def _xlsx_members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:  # docProps/core.xml holds the time of writing
        return {n: z.read(n) for n in sorted(z.namelist()) if n != "docProps/core.xml"}


def _gpkg_content(path: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'rtree%' "
            "ORDER BY name")]
        out = {}
        for t in tables:
            cols = [r[1] for r in con.execute(f'PRAGMA table_info("{t}")')
                    if r[1] != "last_change"]  # gpkg_contents: the time of writing
            q = ", ".join(f'"{c}"' for c in cols)
            out[t] = sorted(con.execute(f'SELECT {q} FROM "{t}"').fetchall(), key=repr)
        return out
    finally:
        con.close()


def _same_outputs(a: Path, b: Path) -> list[str]:
    """Files of two runs that differ (timings and times of writing aside)."""
    fa = sorted(p.relative_to(a).as_posix() for p in a.rglob("*") if p.is_file()
                and not p.name.startswith("."))
    fb = sorted(p.relative_to(b).as_posix() for p in b.rglob("*") if p.is_file()
                and not p.name.startswith("."))
    assert fa == fb, (set(fa) ^ set(fb))
    differ = []
    for f in fa:
        pa, pb = a / f, b / f
        if f == "summary.json":
            sa, sb = (json.loads(p.read_text(encoding="utf-8")) for p in (pa, pb))
            sa.pop("seconds"), sb.pop("seconds")
            same = sa == sb
        elif f.endswith(".xlsx"):
            same = _xlsx_members(pa) == _xlsx_members(pb)
        elif f.endswith(".gpkg"):
            same = _gpkg_content(pa) == _gpkg_content(pb)
        else:
            same = pa.read_bytes() == pb.read_bytes()
        if not same:
            da, db = pa.read_bytes(), pb.read_bytes()
            i = next((k for k, (x, y) in enumerate(zip(da, db, strict=False)) if x != y),
                     min(len(da), len(db)))
            differ.append(f"{f} at byte {i}: {da[max(0, i - 120):i + 80]!r} vs "
                          f"{db[max(0, i - 120):i + 80]!r}")
    return differ


def test_analyze_and_batch_write_the_same_files(tmp_path, small_scenario):
    """`care15 analyze` and `care15 batch` go through one run stage: identical outputs."""
    cache = ["--no-cache"]
    a = tmp_path / "analyze"
    assert main(["analyze", "--scenario", str(small_scenario), "--out", str(a), "--quiet",
                 "--coords-out", "gcj02", *cache]) == 0
    regions = tmp_path / "regions.toml"
    regions.write_text('[batch]\ncache = false\ncoords_out = "gcj02"\n'
                       f'[[region]]\nname = "hel"\nscenario = "{small_scenario}"\n',
                       encoding="utf-8")
    b = tmp_path / "batch"
    assert main(["batch", str(regions), "--out", str(b), "--workers", "1", "--quiet"]) == 0
    assert (b / "hel" / "figures").is_dir()  # batch now writes the figures too
    assert "centroid_lon_gcj02" in pd.read_csv(b / "hel" / "gaps.csv", encoding="utf-8-sig").columns
    assert _same_outputs(a, b / "hel") == []
    # the maps draw the scenario's threshold and target, in both
    sa = json.loads((a / "summary.json").read_text(encoding="utf-8"))
    assert sa["study_area"] == "赫尔辛基 test"


def test_run_is_reproducible_and_replaces_the_folder_whole(tmp_path, small_scenario):
    sc = care15.scenario_from_toml(small_scenario)
    out = tmp_path / "o"
    out.mkdir()
    (out / "from_an_older_run.csv").write_text("x\n1\n", encoding="utf-8")
    opts = RunOptions(cache=False, figures=False)
    r1 = run(sc, out, options=opts)
    assert not (out / "from_an_older_run.csv").exists()  # nothing of the old run is mixed in
    assert sorted(p.name for p in out.iterdir()) == sorted(
        {f.split("/")[0] for f in r1.files})
    first = {f: (out / f).read_bytes() for f in r1.files if f.endswith((".csv", ".html"))}
    run(sc, out, options=opts)
    for f, data in first.items():  # maps too: folium's random ids are numbered
        assert (out / f).read_bytes() == data, f
    # nothing is left beside the folder
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]


def test_a_failing_run_keeps_the_previous_complete_run(tmp_path, small_scenario):
    sc = care15.scenario_from_toml(small_scenario)
    out = tmp_path / "o"
    run(sc, out, options=RunOptions(cache=False, figures=False, maps=False))
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    bad = tmp_path / "bad.csv"
    bad.write_text("name,category,lon,lat\n", encoding="utf-8")  # no facility at all
    sc_bad = sc.with_(inputs__facilities=bad)
    with pytest.raises(InputError):
        run(sc_bad, out, options=RunOptions(cache=False))
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "o"]


def test_staged_folder_lock_and_leftovers(tmp_path):
    out = tmp_path / "o"
    # a killed run's staging folder and lock (its process is gone) are cleaned up
    dead = 2 ** 22 + 17
    (tmp_path / f".o.staging-{dead}-abcd").mkdir()
    (tmp_path / ".o.lock").write_text(str(dead), encoding="ascii")
    with staged_folder(out) as stage:
        (stage / "a.txt").write_text("new", encoding="utf-8")
        # a second run into the same folder, meanwhile, is refused with a clear message
        with pytest.raises(InputError, match="another care15 run"), staged_folder(out):
            pass
    assert (out / "a.txt").read_text(encoding="utf-8") == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o"]
    # a run killed between its two renames: the next run brings the old folder back first
    os.replace(out, tmp_path / f".o.old-{dead}-beef")
    with staged_folder(out) as stage:
        assert (out / "a.txt").is_file()  # restored before this run writes
        (stage / "b.txt").write_text("b", encoding="utf-8")
    assert sorted(p.name for p in out.iterdir()) == ["b.txt"]
    with pytest.raises(InputError, match="is a file"), staged_folder(out / "b.txt"):
        pass


def test_input_problems_name_the_flags(tmp_path):
    msgs = "\n".join(input_problems(care15.Scenario()))
    assert "--pbf FILE" in msgs and "--total-population N" in msgs
    r = subprocess.run([str(CARE15), "analyze", "--pbf", str(tmp_path / "none.osm.pbf"),
                        "--facilities", str(tmp_path), "--out", str(tmp_path / "o"), "--lang",
                        "en"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "area.pbf (--pbf): file not found" in r.stderr and "none.osm.pbf" in r.stderr
    assert "inputs.facilities (--facilities): is a folder" in r.stderr


@pytest.mark.parametrize("args, words", [
    (["--sites", "0"], "--sites 0: must be at least 1"),
    (["--target", "1.5"], "--target 1.5"),
    (["--sites", "2", "--time-limit", "-5"], "--time-limit -5.0"),
    (["--sites", "2", "--capacity-aware"], "--capacity-aware is for childcare places"),
])
def test_suggest_options_are_checked_before_any_work(tmp_path, args, words):
    r = subprocess.run([str(CARE15), "suggest", "--demo", "--out", str(tmp_path / "o"), *args,
                        "--lang", "en"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 2, r.stderr
    assert words in r.stderr and "Traceback" not in r.stderr
    assert "reading the street network" not in r.stderr  # refused before the work
    assert not (tmp_path / "o").exists()


def test_out_that_is_a_file_is_refused_up_front(tmp_path):
    f = tmp_path / "a_file"
    f.write_text("x", encoding="utf-8")
    r = subprocess.run([str(CARE15), "demo", "--out", str(f), "--lang", "en"],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "is a file" in r.stderr and "Traceback" not in r.stderr
    assert f.read_text(encoding="utf-8") == "x"


def test_help_imports_no_stage():
    """`care15 --help` and the parser do not import the analysis stack (fast start)."""
    code = ("import sys; from care15.cli import build_parser; build_parser(); "
            "import care15; heavy = [m for m in ('geopandas', 'folium', 'scipy', 'pandas', "
            "'matplotlib', 'shapely', 'care15.analysis') if m in sys.modules]; print(heavy)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                       cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "[]"
    r = subprocess.run([str(CARE15), "analyze", "--help"], capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0 and "examples:" in r.stdout and "--quiet" in r.stdout


def test_beside_coverage_py(tmp_path):
    """care15 and coverage.py (and pytest-cov) in one environment, from the repository root."""
    pytest.importorskip("pytest_cov")
    r = subprocess.run([sys.executable, "-c", "import coverage, care15; "
                        "print(coverage.__file__); print(care15.__file__)"],
                       capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    cov_file, c15_file = r.stdout.split()
    assert "site-packages" in cov_file and Path(c15_file).parent.name == "coverage"
    env = {**os.environ, "COVERAGE_FILE": str(tmp_path / ".coverage")}
    test = ["-q", "-p", "no:cacheprovider", "tests/test_chinacoords.py"]
    for cmd in ([sys.executable, "-m", "coverage", "run", "--source=care15", "-m", "pytest",
                 *test],
                [sys.executable, "-m", "pytest", "--cov=care15", "--cov-report=", *test]):
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd=ROOT, env=env)
        assert r.returncode == 0, (cmd, r.stdout[-2000:], r.stderr[-2000:])
        rep = subprocess.run([sys.executable, "-m", "coverage", "report",
                              "--include=*/chinacoords.py"], capture_output=True, text=True,
                             timeout=60, cwd=ROOT, env=env)
        assert rep.returncode == 0, rep.stderr
        share = int(rep.stdout.strip().splitlines()[-1].split()[-1].rstrip("%"))
        assert share > 80, rep.stdout  # measured, not "previously imported, not measured"


def test_summary_table_is_tidy(demo_result):
    t = care15.summary_table(demo_result)
    assert len(t) == 2 * 3 * 3  # categories × thresholds × groups
    assert t["share"].between(0, 1).all()
    row = t.query("category == 'elderly' and threshold_min == 15 and group == '60plus'")
    s = demo_result.summary["categories"]["elderly"]["thresholds"]["15"]["60plus"]
    assert row["share"].item() == pytest.approx(s["share"])
    assert row["target_group"].item()
    assert (t["covered"] <= t["residents"] + 1e-9).all()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="forked writing needs os.fork (POSIX)")
def test_forked_writes_equal_sequential_and_survive_a_failed_child(tmp_path, demo_region,
                                                                    monkeypatch, caplog):
    """The map and figures drawn in a forked process are the files drawn in this one; a child
    that fails leaves the parent to draw them, with the same result."""
    import care15.pipeline as pipeline

    monkeypatch.setattr(pipeline, "_can_fork", lambda: True)  # even on a one-CPU runner
    sc = care15.demo_scenario()
    seq = run(sc, tmp_path / "seq", region=demo_region, options=RunOptions(cache=False))
    par = run(sc, tmp_path / "par", region=demo_region,
              options=RunOptions(cache=False, parallel_writes=True))
    assert par.files == seq.files and "map.html" in par.files
    assert _same_outputs(tmp_path / "seq", tmp_path / "par") == []
    assert {"map", "figures", "tables"} <= set(par.seconds)
    # a child that dies: the parent draws the map and figures itself
    parent = os.getpid()
    real = pipeline._write_visuals

    def dies_in_child(*a, **kw):
        if os.getpid() != parent:
            raise RuntimeError("boom in the child")
        return real(*a, **kw)

    monkeypatch.setattr(pipeline, "_write_visuals", dies_in_child)
    with caplog.at_level("INFO", logger="care15.pipeline"):
        again = run(sc, tmp_path / "again", region=demo_region,
                    options=RunOptions(cache=False, parallel_writes=True))
    assert "boom in the child" in caplog.text and "drawing them again" in caplog.text
    assert again.files == seq.files
    assert _same_outputs(tmp_path / "seq", tmp_path / "again") == []
