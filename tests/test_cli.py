"""The command line end to end: demo, analyze on a Chinese extract, suggest, bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from care15.chinacoords import from_wgs84
from care15.cli import main

CARE15 = Path(sys.executable).parent / "care15"

# What a line may hold in English under --lang zh: paths and file names, the names of the study
# area and of grid communities, units, and proper names of data and tools.
_NAMES = re.compile(r"\S*[/\\]\S*|\S+\.(?:osm|pbf|csv|json|html|xlsx|geojson|bz2|toml)\b\S*|"
                    r"Helsinki centre \(demo\)|Grid [A-Z]+\d+|outside communities|n/a|m/s|"
                    r"E2SFCA|OpenStreetMap|HiGHS|OSM|LP|"
                    # flags with their placeholder and scenario keys, kept as written in errors
                    r"--?[A-Za-z][\w-]*(?: (?:[A-Z]+\b|\w+\|\w+))?|\b[a-z]\w*\.[a-z]\w*\b")
_ENGLISH = re.compile(r"[A-Za-z]{2,}(?:[\s,;:'()-]+[A-Za-z]{2,}){2,}")  # 3 words in a row
_CJK = re.compile(r"[\u4e00-\u9fff]")
_THIRD_PARTY = re.compile(r"^(?:DEBUG|INFO|WARNING|ERROR|CRITICAL)[: ]|\b\w*Warning\b|"
                          r"\b(?:pyrosm|osmnx|matplotlib|distributed|dask|pulp|highspy|fontTools)"
                          r"\b.*\b(?:DEBUG|INFO|WARNING)\b|\btook\b|Traceback", re.MULTILINE)


def console_problems(stdout: str, stderr: str, lang: str) -> list[str]:
    """What is wrong with a run's console: wrong language, third-party chatter, stuck bars.

    Under ``zh`` no line holds an English phrase (three English words in a row once names,
    paths and units are taken out); under ``en`` no line holds Chinese besides names. On
    stderr: no Python warning, no other library's log line or progress line, no progress bar
    redrawn with carriage returns (a bar left at ``0%`` in a log). Nowhere "inf%".
    """
    bad = []
    for where, text in (("stdout", stdout), ("stderr", stderr)):
        for line in text.splitlines():
            rest = _NAMES.sub(" ", line)
            if lang == "zh" and _ENGLISH.search(rest):
                bad.append(f"{where}: English under --lang zh: {line!r}")
            if lang == "en":
                rest = re.sub(r"网格 \w+ /|[^\s(]*(?:中心区|演示)[^\s)]*|社区范围外", " ", line)
                if _CJK.search(rest):
                    bad.append(f"{where}: Chinese under --lang en: {line!r}")
            if "inf%" in line:
                bad.append(f"{where}: a gap of inf%: {line!r}")
    bad += [f"stderr: third-party or Python warning line: {m.group(0)!r}"
            for m in _THIRD_PARTY.finditer(stderr)]
    if "\r" in stderr or re.search(r"\b0%\|", stderr):
        bad.append("stderr: a progress bar redrawn in place / stuck at 0%")
    return bad


def test_demo_console_script(tmp_path):
    """What a new user runs: the installed ``care15 demo``, offline."""
    out = tmp_path / "out"
    r = subprocess.run([str(CARE15), "demo", "--out", str(out)], cwd=tmp_path,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert "养老服务" in r.stdout and "托育服务" in r.stdout and "输出目录" in r.stdout
    # one language: the progress, the notes and the results all in Chinese (issue 13)
    assert console_problems(r.stdout, r.stderr, "zh") == []
    assert "· 读取路网 …" in r.stderr and "! 路网由" in r.stderr
    assert "来自研究区内接入路网的 5 处设施中 2 处有容量记录" in r.stdout
    for f in ("cells.csv", "communities.csv", "gaps.csv", "gaps.geojson", "gaps.xlsx",
              "map.html", "summary.json", "tables.xlsx", "report.html"):
        assert (out / f).stat().st_size > 0, f
    assert not (tmp_path / "maps").exists()  # with --out, the demo writes only there
    for c in ("elderly", "childcare"):  # report figures
        for f in (f"coverage_{c}.png", f"minutes_{c}.png"):
            assert (out / "figures" / f).read_bytes()[:4] == b"\x89PNG"
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["residents"]["total"] == pytest.approx(20_000)
    for c in ("elderly", "childcare"):
        prev = -1.0
        for t in ("5", "10", "15"):
            for g in ("total", "60plus", "0to3"):
                share = s["categories"][c]["thresholds"][t][g]["share"]
                assert 0.0 <= share <= 1.0
            share = s["categories"][c]["thresholds"][t]["total"]["share"]
            assert share >= prev - 1e-12  # a wider circle never covers fewer people
            prev = share
    # populations conserved between the cell and community tables
    cells = pd.read_csv(out / "cells.csv", encoding="utf-8-sig")
    comm = pd.read_csv(out / "communities.csv", encoding="utf-8-sig")
    for col in ("pop_total", "pop_60plus", "pop_0to3"):
        assert comm[col].sum() == pytest.approx(cells[col].sum(), rel=1e-9)
    assert cells["pop_total"].sum() == pytest.approx(20_000, rel=1e-9)
    rates = comm.filter(regex=r"_cov\d+_").to_numpy(float)
    assert np.nanmin(rates) >= 0 and np.nanmax(rates) <= 1


def test_demo_console_in_english_and_quiet(tmp_path):
    """--lang en: all English; --quiet: no progress, the results and notes still shown."""
    r = subprocess.run([str(CARE15), "demo", "--lang", "en", "--basemap", "none", "--out",
                        str(tmp_path / "en")], cwd=tmp_path, capture_output=True, text=True,
                       timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    assert console_problems(r.stdout, r.stderr, "en") == []
    assert "· reading the street network …" in r.stderr
    assert "from 2 of 5 facilities with a recorded capacity" in r.stdout
    summary = json.loads((tmp_path / "en" / "summary.json").read_text(encoding="utf-8"))
    assert summary["notes"] and len(summary["notes_zh"]) == len(summary["notes"])
    assert all("! " + n in r.stderr for n in summary["notes"])
    q = subprocess.run([str(CARE15), "demo", "--quiet", "--basemap", "none", "--out",
                        str(tmp_path / "q")], cwd=tmp_path, capture_output=True, text=True,
                       timeout=600)
    assert q.returncode == 0, q.stderr[-3000:]
    assert "·" not in q.stderr and "用时" not in q.stderr  # no progress
    assert "输出目录" in q.stdout and "养老服务" in q.stdout  # results (the default: Chinese)
    qs = json.loads((tmp_path / "q" / "summary.json").read_text(encoding="utf-8"))
    assert all("! " + n in q.stderr for n in qs["notes_zh"])  # the notes, in Chinese
    assert console_problems(q.stdout, q.stderr, "zh") == []


def test_suggest_console_one_language_and_honest_gap(tmp_path):
    """suggest under zh prints Chinese (message, table headers, notes); no "inf%" gap."""
    zh = subprocess.run([str(CARE15), "suggest", "--demo", "--category", "elderly", "--sites",
                         "2", "--exact", "--basemap", "none", "--out", str(tmp_path / "zh")],
                        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert zh.returncode == 0, zh.stderr[-3000:]
    assert console_problems(zh.stdout, zh.stderr, "zh") == []
    assert "最优解" in zh.stdout and "排名" in zh.stdout and "累计覆盖率" in zh.stdout
    assert "可达范围: " in zh.stderr  # the bar's closing line: done, not stuck at 0%
    info = json.loads((tmp_path / "zh" / "sites_summary.json").read_text(encoding="utf-8"))
    assert info["status"] == "Optimal" and "Optimal" in info["message"]
    assert info["message_zh"] and _CJK.search(info["message_zh"])
    en = subprocess.run([str(CARE15), "suggest", "--demo", "--category", "elderly", "--sites",
                         "1", "--lang", "en", "--basemap", "none", "--out", str(tmp_path / "en")],
                        cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert en.returncode == 0, en.stderr[-3000:]
    assert console_problems(en.stdout, en.stderr, "en") == []
    # greedy with a number of sites: measured against the LP bound, and the bound explained
    assert "LP bound" in en.stdout and "built in fractions" in en.stdout


def test_console_checker_catches_what_issue_13_saw():
    """The checker fails the console of issue 13 (so the tests above can fail)."""
    issue_stderr = ("· reading the street network …\n"
                    "2026-11-23 09:01:02 pyrosm INFO read features=7158 seconds=2.1\n"
                    "/x/figures.py:80: UserWarning: Glyph 8804 missing from font(s)\n"
                    "\rreach:   0%|          | 0/1 [00:00<?, ?it/s]\n")
    issue_stdout = "研究区: 测试\nOptimality gap inf%.\n"
    bad = console_problems(issue_stdout, issue_stderr, "zh")
    assert any("English" in b and "reading the street" in b for b in bad)
    assert any("inf%" in b for b in bad)
    assert any("Warning" in b for b in bad) and any("pyrosm" in b for b in bad)
    assert any("stuck" in b for b in bad)
    assert console_problems("Elderly care (养老服务): 3 sites", "", "en")
    assert console_problems("研究区: Helsinki centre (demo) / 赫尔辛基中心区(演示)\n"
                            "  最密网格 829 人/公顷", "! 2 个社区: 网格 B1 / Grid B1", "zh") == []


def _gcj_list(net, path, n=8, seed=4):
    rng = np.random.default_rng(seed)
    nodes = net.nodes_gdf().to_crs(4326)
    pick = rng.choice(len(nodes), n, replace=False)
    lon, lat = from_wgs84(nodes.geometry.x.to_numpy()[pick], nodes.geometry.y.to_numpy()[pick],
                          "gcj02")
    kinds = ["养老院", "日间照料中心", "居家养老服务中心", "老年食堂", "托育机构", "幼儿园",
             "社区托育点", "托儿所"]
    pd.DataFrame({"机构名称": [f"{k}{i}" for i, k in enumerate(kinds)], "类型": kinds,
                  "经度": lon, "纬度": lat, "床位": [60, 20, "", "", "", "", "", ""],
                  "托位": ["", "", "", "", 50, 30, 10, 40]}).to_csv(path, index=False,
                                                                   encoding="utf-8-sig")
    return path


def test_analyze_chengdu_with_a_gcj02_list(tmp_path, chengdu_pbf, chengdu_net, capsys):
    fac = _gcj_list(chengdu_net, tmp_path / "民政局设施清单.csv")
    out = tmp_path / "cd"
    rc = main(["analyze", "--pbf", str(chengdu_pbf), "--facilities", str(fac),
               "--facilities-crs", "gcj02", "--total-population", "300000", "--out", str(out),
               "--lang", "en", "--quiet"])
    assert rc == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert s["residents"]["total"] == pytest.approx(300_000)
    assert s["categories"]["elderly"]["n_facilities"] == 4
    rep = s["population_report"]
    assert sum(v["population"] for v in rep["by_method"].values()) == pytest.approx(300_000)
    mc = s["method_comparison"]
    assert mc["primary"] == "network" and mc["other"] == "overlay"
    gaps = pd.read_csv(out / "gaps.csv", encoding="utf-8-sig")
    assert len(gaps) > 0
    for _, g in gaps.groupby("category"):  # ranked worst first
        assert g["uncovered_target"].is_monotonic_decreasing and g["rank"].iloc[0] == 1
    printed = capsys.readouterr().out
    assert "Written to" in printed
    # the planner's GCJ-02 comes back: every table with coordinates carries them by default
    assert s["coords_out"] == "gcj02"
    assert {"centroid_lon_gcj02", "centroid_lat_gcj02", "closing_site_lon_gcj02",
            "closing_site_lat_gcj02"} <= set(gaps.columns)
    from care15.chinacoords import from_wgs84

    site = gaps.dropna(subset=["closing_site_lon"])
    x, y = from_wgs84(site["closing_site_lon"].to_numpy(), site["closing_site_lat"].to_numpy(),
                      "gcj02")
    assert np.abs(site["closing_site_lon_gcj02"].to_numpy() - x).max() < 1e-6
    assert np.abs(site["closing_site_lat_gcj02"].to_numpy() - y).max() < 1e-6
    for t in ("cells", "communities", "facilities"):
        cols = pd.read_csv(out / f"{t}.csv", encoding="utf-8-sig", nrows=1).columns
        assert {"lon_gcj02", "lat_gcj02"} <= set(cols), t
    f_out = pd.read_csv(out / "facilities.csv", encoding="utf-8-sig")
    f_in = pd.read_csv(fac, encoding="utf-8-sig")
    back = f_in.set_index("机构名称").loc[f_out["name"]]
    assert np.abs(f_out["lon_gcj02"].to_numpy() - back["经度"].to_numpy()).max() < 2e-6
    assert np.abs(f_out["lat_gcj02"].to_numpy() - back["纬度"].to_numpy()).max() < 2e-6
    # capacity: from N of M facilities with a recorded capacity (4 childcare, all with 托位)
    cc = s["categories"]["childcare"]
    assert cc["capacity_counted_facilities"] + cc["capacity_left_out_facilities"] == 4
    assert f"from {cc['capacity_known_facilities']} of {cc['capacity_counted_facilities']} " \
        "facilities with a recorded capacity" in printed


def test_suggest_demo_and_scenario_file(tmp_path, helsinki_pbf):
    out = tmp_path / "s"
    assert main(["suggest", "--demo", "--category", "childcare", "--sites", "2", "--exact",
                 "--out", str(out), "--quiet"]) == 0
    sites = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    assert list(sites["rank"]) == list(range(1, len(sites) + 1))
    assert sites["cumulative_coverage"].is_monotonic_increasing
    info = json.loads((out / "sites_summary.json").read_text(encoding="utf-8"))
    assert info["solver"] == "highs" and info["gap"] == pytest.approx(0.0, abs=1e-9)
    sc = tmp_path / "s.toml"
    sc.write_text(f'[area]\nname = "测试区"\npbf = "{helsinki_pbf}"\n'
                  '[inputs]\ntotal_population = 15000\n'
                  '[analysis]\ncell_size_m = 200\n', encoding="utf-8")
    # no facility list: OSM facilities (none for elderly care here) — said plainly, no crash
    assert main(["analyze", "--scenario", str(sc), "--out", str(tmp_path / "a"),
                 "--quiet"]) == 0
    s = json.loads((tmp_path / "a" / "summary.json").read_text(encoding="utf-8"))
    assert s["residents"]["total"] == pytest.approx(15_000)
    assert s["categories"]["elderly"]["thresholds"]["15"]["60plus"]["share"] == 0.0


def test_bad_input_is_a_clear_error(tmp_path):
    r = subprocess.run([str(CARE15), "analyze", "--pbf", str(tmp_path / "nowhere.osm.pbf"),
                        "--total-population", "1000", "--out", str(tmp_path / "o")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2
    assert "care15: 错误:" in r.stderr and "nowhere.osm.pbf" in r.stderr  # zh: the default
    assert "Traceback" not in r.stderr
    assert not (tmp_path / "o" / "summary.json").exists()
    bad = tmp_path / "bad.toml"
    bad.write_text("[analysis]\nthresholds_min = [0, 10]\n", encoding="utf-8")
    r = subprocess.run([str(CARE15), "analyze", "--scenario", str(bad)], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 2 and "threshold" in r.stderr


def test_what_if_reuses_the_parsed_network(tmp_path, chengdu_pbf, chengdu_net, monkeypatch):
    """Changing only the facility list does not re-parse the city (on-disk network cache)."""
    monkeypatch.setenv("CARE15_CACHE", str(tmp_path / "cache"))
    fac = _gcj_list(chengdu_net, tmp_path / "a.csv")
    args = ["analyze", "--pbf", str(chengdu_pbf), "--facilities-crs", "gcj02",
            "--total-population", "100000", "--quiet", "--lang", "en"]
    assert main([*args, "--facilities", str(fac), "--out", str(tmp_path / "1")]) == 0
    first = json.loads((tmp_path / "1" / "summary.json").read_text(encoding="utf-8"))
    assert not any("read from the cache" in n for n in first["notes"])
    fac2 = _gcj_list(chengdu_net, tmp_path / "b.csv", seed=9)  # the what-if: other sites
    assert main([*args, "--facilities", str(fac2), "--out", str(tmp_path / "2")]) == 0
    second = json.loads((tmp_path / "2" / "summary.json").read_text(encoding="utf-8"))
    assert any("read from the cache" in n for n in second["notes"])
    assert list((tmp_path / "cache" / "networks").glob("*.npz"))
    # the cached network gives the same answer as a fresh parse
    assert main([*args, "--facilities", str(fac2), "--out", str(tmp_path / "3"),
                 "--no-cache"]) == 0
    third = json.loads((tmp_path / "3" / "summary.json").read_text(encoding="utf-8"))
    for c in ("elderly", "childcare"):
        assert second["categories"][c]["thresholds"]["15"]["total"]["share"] == pytest.approx(
            third["categories"][c]["thresholds"]["15"]["total"]["share"], abs=1e-12)


def test_gcj02_list_declared_wgs84_is_flagged_in_the_summary(tmp_path, chengdu_pbf, chengdu_net):
    """A Chinese web-map export read as WGS-84: said plainly in the printed and saved notes."""
    fac = _gcj_list(chengdu_net, tmp_path / "poi.csv", n=8)
    out = tmp_path / "o"
    assert main(["analyze", "--pbf", str(chengdu_pbf), "--facilities", str(fac),
                 "--total-population", "100000", "--out", str(out), "--quiet"]) == 0
    s = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert any("--facilities-crs gcj02" in n for n in s["notes"]), s["notes"]


def test_version_names_the_travel_time_engine(capsys):
    from care15.access import ENGINE

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert capsys.readouterr().out.strip() == f"care15 0.1.0 (travel-time engine: {ENGINE})"


@pytest.mark.parametrize("solver,status,objective,bound,gap,en,zh", [
    ("highs", "Optimal", 357.0, 357.0, float("inf"), "Optimal: HiGHS proved", "最优解"),
    ("highs", "Time limit reached", 300.0, 330.0, 0.0909, "At most 9.1% from the best possible",
     "相差至多 9.1%"),
    ("highs", "Time limit reached", 300.0, float("inf"), float("inf"), "No finite bound",
     "未求得有限的界"),
    ("greedy", "heuristic", 380.0, 400.0, 0.05, "the LP bound is 400 (the coverage if sites",
     "LP 界为 400"),
    ("greedy", "heuristic", 401.0, 401.0, 0.0, "The best possible", "已是最优"),
    ("highs", "Time limit reached", 4.0, 3.0, 0.25, "at least 3 sites are needed", "至少需要 3 处"),
])
def test_suggest_gap_is_said_honestly(solver, status, objective, bound, gap, en, zh):
    """Never "Optimality gap inf%": optimal without a number, else "at most X%" and its bound."""
    from care15.siting import SolveResult, _gap_text

    model = "target" if "sites are needed" in en else "mclp"
    t_en, t_zh = _gap_text(SolveResult([0], [1.0], objective, bound, gap, solver, status), model)
    assert en in t_en and zh in t_zh, (t_en, t_zh)
    assert "inf" not in t_en + t_zh and "nan" not in t_en + t_zh


# --------------------------------------------------------------------------------------------
# user mistakes: one language per --lang (issue 13)
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mistakes(tmp_path_factory, helsinki_pbf):
    """The arguments of common user mistakes, with what the Chinese and English errors say."""
    d = tmp_path_factory.mktemp("mistakes")
    hel = str(helsinki_pbf)
    (d / "无坐标.csv").write_text("名称,类型,地址\n甲,养老院,某路1号\n", encoding="utf-8")
    (d / "gbk.csv").write_bytes("机构名称,类别,X坐标,Y坐标\n甲,养老院,1,2\n".encode("gbk"))
    (d / "gbk_kind.csv").write_bytes("机构名称,类型,经度,纬度\n甲,超市,24.94,60.17\n"
                                     .encode("gbk"))
    (d / "typo.toml").write_text(f'[area]\npbf = "{hel}"\n[analysis]\ncel_size_m = 100\n',
                                 encoding="utf-8")
    (d / "a_file").write_text("x")
    (d / "regions.toml").write_text('[[region]]\nname = "x"\nwhat = 1\n', encoding="utf-8")
    out = str(d / "o")
    pop = ["--total-population", "1000", "--out", out]
    return {
        "missing OSM file": (["analyze", "--pbf", str(d / "nowhere.osm.pbf"), *pop],
                             "找不到文件: ", "file not found: "),
        "no coordinate columns": (["analyze", "--pbf", hel, "--facilities", str(d / "无坐标.csv"),
                                   *pop], "找不到经度/纬度列", "no longitude/latitude columns"),
        "GBK list, bad columns": (["analyze", "--pbf", hel, "--facilities", str(d / "gbk.csv"),
                                   *pop], "'X坐标', 'Y坐标'", "no longitude/latitude columns"),
        "GBK list, unknown kind": (["analyze", "--pbf", hel, "--facilities",
                                    str(d / "gbk_kind.csv"), *pop], "不是已知的设施种类",
                                   "names no known facility kind"),
        "unknown --lang": (["analyze", "--lang", "fr"], "无效的取值: 'fr'", "invalid choice: 'fr'"),
        "unrecognised flag": (["analyze", "--pbf", hel, "--bogus"], "无法识别的参数: --bogus",
                              "unrecognized arguments: --bogus"),
        "--total-population not a number": (["analyze", "--pbf", hel, "--total-population",
                                             "abc"], "无效的数值: 'abc'", "invalid float value"),
        "--total-population negative": (["analyze", "--pbf", hel, "--total-population", "-5",
                                         "--out", out], "必须大于 0, 实际为 -5.0",
                                        "must be > 0, got -5.0"),
        "scenario key typo": (["analyze", "--scenario", str(d / "typo.toml"), "--out", out],
                              "analysis.cel_size_m: 未知的键; 可用: cell_size_m", "unknown key"),
        "no population": (["analyze", "--pbf", hel, "--out", out], "没有人口数据",
                          "no population"),
        "--out is a file": (["analyze", "--pbf", hel, "--total-population", "10", "--out",
                             str(d / "a_file")], "这是文件而不是文件夹", "is a file, not a folder"),
        "--sites 0": (["suggest", "--demo", "--sites", "0", "--out", out], "--sites 0: 至少为 1",
                      "--sites 0: must be at least 1"),
        "regions file key typo": (["batch", str(d / "regions.toml"), "--out", out],
                                  "区域 1 ('x'): what: 未知的键", "region 1 ('x'): what: unknown key"),
    }


_MISTAKES = ["missing OSM file", "no coordinate columns", "GBK list, bad columns",
             "GBK list, unknown kind", "unknown --lang", "unrecognised flag",
             "--total-population not a number", "--total-population negative",
             "scenario key typo", "no population", "--out is a file", "--sites 0",
             "regions file key typo"]


@pytest.mark.parametrize("case", _MISTAKES)
def test_user_mistakes_are_said_in_chinese(mistakes, case):
    """The default console (zh): ``care15: 错误:`` and the message in Chinese, exit 2."""
    args, zh, _en = mistakes[case]
    r = subprocess.run([str(CARE15), *args], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stderr[-2000:]
    assert "错误: " in r.stderr and zh in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "error:" not in r.stderr
    assert console_problems(r.stdout, r.stderr, "zh") == [], r.stderr


@pytest.mark.parametrize("case", ["missing OSM file", "no coordinate columns", "unknown --lang",
                                  "unrecognised flag", "--total-population negative",
                                  "regions file key typo"])
def test_user_mistakes_are_said_in_english_with_lang_en(mistakes, case):
    args, _zh, en = mistakes[case]
    r = subprocess.run([str(CARE15), *args, "--lang", "en"], capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 2, r.stderr[-2000:]
    assert "error: " in r.stderr and en in r.stderr, r.stderr
    assert "错误" not in r.stderr and "Traceback" not in r.stderr
    # English but for the names the message quotes (the columns the reader looked for)
    rest = re.sub(r"经度|纬度|无坐标|名称|类型|地址", " ", r.stderr)
    assert console_problems(r.stdout, rest, "en") == [], r.stderr


def test_lang_is_read_from_the_arguments_before_argparse_fails():
    from care15.cli import _argv_lang

    assert _argv_lang(["analyze", "--bogus"]) == "zh"
    assert _argv_lang(["analyze", "--lang", "en", "--bogus"]) == "en"
    assert _argv_lang(["analyze", "--lang=en"]) == "en"
    assert _argv_lang(["analyze", "--lang", "fr"]) == "zh"
    assert _argv_lang(["analyze", "--", "--lang", "en"]) == "zh"


def test_an_untranslated_error_keeps_the_chinese_lead_and_its_text(capsys):
    """A message the table does not know: ``care15: 错误:`` then the English, no crash."""
    from care15.cli import _error_line

    assert _error_line("the moon is blue", "zh") == "care15: 错误: the moon is blue"
    assert _error_line("the moon is blue", "en") == "care15: error: the moon is blue"


def test_internal_errors_and_interrupts_speak_the_console_language(capsys, monkeypatch):
    """Not a user mistake: the traceback, then the request for a report in ``--lang``."""
    import argparse
    import warnings

    from care15._progress import console_lang, set_lang
    from care15.cli import _dispatch

    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)  # restored afterwards
    lang = console_lang()

    def boom(args):
        raise ZeroDivisionError("division by zero")

    def stop(args):
        raise KeyboardInterrupt

    try:
        for func, code in ((boom, 1), (stop, 130)):
            for lng in ("zh", "en"):
                ns = argparse.Namespace(func=func, lang=lng, quiet=True, verbose=False,
                                        debug=False)
                assert _dispatch(ns) == code
                err = capsys.readouterr().err
                if code == 1:
                    assert "ZeroDivisionError" in err  # the traceback, for the report
                    assert ("care15: 内部错误: " if lng == "zh" else "care15: internal error: ") \
                        in err
                else:
                    assert err.startswith("care15: 已中断" if lng == "zh" else
                                          "care15: interrupted")
                last = err.strip().splitlines()[-1]
                assert console_problems("", last, lng) == [], last
    finally:
        set_lang(lang)


def test_suggest_demand_compounds_on_the_demo(tmp_path, capsys):
    import geopandas as gpd
    import shapely

    boxes = [(24.9490, 60.1772, 24.9510, 60.1782), (24.9375, 60.1755, 24.9390, 60.1765),
             (24.9450, 60.1700, 24.9480, 60.1715)]
    f = tmp_path / "xiaoqu.geojson"
    gpd.GeoDataFrame({"小区名称": ["甲小区", "乙小区", "丙小区"], "户数": [400, 600, 300],
                      "60岁以上": [300, 250, 100]},
                     geometry=[shapely.box(*b) for b in boxes], crs=4326).to_file(f)
    out = tmp_path / "s"
    capsys.readouterr()
    assert main(["suggest", "--demo", "--category", "elderly", "--sites", "2",
                 "--compounds", str(f), "--demand", "compounds", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "需求为经出入口到达的小区" in printed and "新覆盖小区数" in printed
    sites = pd.read_csv(out / "sites.csv", encoding="utf-8-sig")
    assert len(sites) >= 1
    assert {"newly_covered_compounds", "newly_covered_compound_residents",
            "newly_covered_compound_ids"} <= set(sites.columns)
    assert (sites["newly_covered_compounds"] >= 1).all()
    info = json.loads((out / "sites_summary.json").read_text(encoding="utf-8"))
    assert info["demand"] == "compounds"
    # with --compounds the default demand is the compounds; English console under --lang en
    assert main(["suggest", "--demo", "--sites", "1", "--compounds", str(f), "--lang", "en",
                 "--out", str(tmp_path / "en")]) == 0
    assert "demand: compounds through their gates" in capsys.readouterr().out
    info = json.loads((tmp_path / "en" / "sites_summary.json").read_text(encoding="utf-8"))
    assert info["demand"] == "compounds"
    # --demand compounds without compounds is refused before any work
    assert main(["suggest", "--demo", "--sites", "1", "--demand", "compounds",
                 "--out", str(tmp_path / "x")]) != 0
    assert "--demand compounds needs residential compounds" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()
