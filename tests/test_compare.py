"""``care15 compare``: a plan's after-state equals an analysis of the edited list; the command
end to end on the demo and on central Chengdu with a GCJ-02 (GBK) plan; bad plans exit 2."""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_cli import CARE15, _gcj_list, console_problems

import care15
from care15.chinacoords import from_wgs84
from care15.cli import main
from care15.compare import run_compare

FAST = care15.RunOptions(maps=False, figures=False, report=True, cache=True)
DEMO_CSV = Path(care15.__file__).parent / "data" / "helsinki_demo_facilities.csv"
#: The demo plan: add an elderly-care point and a childcare point, move f2, remove f3,
#: give f6 60 places (f6 is the 6th row of the demo's list).
PLAN = pd.DataFrame([
    ["新增", "", "居家养老服务中心", "新建养老驿站", 24.9380, 60.1720, 40, ""],
    ["迁移", "f2", "", "", 24.9420, 60.1660, "", ""],
    ["撤销", "f3", "", "", "", "", "", ""],
    ["调整规模", "f6", "", "", "", "", "", 60],
    ["新增", "n2", "托育机构", "新托育点 <b>${x}</b>", 24.9500, 60.1700, "", 30],
], columns=["操作", "设施编号", "类别", "名称", "经度", "纬度", "床位", "托位"])


def _edited_demo_list(path: Path) -> Path:
    """The demo's facility list with the plan applied by hand, as a planner would edit it."""
    f = pd.read_csv(DEMO_CSV, encoding="utf-8")
    f.loc[1, ["lon", "lat"]] = [24.9420, 60.1660]          # f2 moved
    f.loc[5, "托位"] = 60                                   # f6 resized
    f = f.drop(index=2)                                     # f3 removed
    new = pd.DataFrame({"name": ["新建养老驿站", "新托育点"], "类别": ["居家养老服务中心", "托育机构"],
                        "lon": [24.9380, 24.9500], "lat": [60.1720, 60.1700],
                        "床位": [40, np.nan], "托位": [np.nan, 30]})
    pd.concat([f, new], ignore_index=True).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def test_after_tables_equal_an_analysis_of_the_edited_list(tmp_path, demo_region):
    sc = care15.demo_scenario()
    plan = tmp_path / "方案.csv"
    PLAN.to_csv(plan, index=False, encoding="utf-8-sig")
    r = run_compare(sc, plan, tmp_path / "out", options=FAST, region=demo_region)
    ref_sc = sc.with_(inputs__facilities=_edited_demo_list(tmp_path / "edited.csv"))
    edited = care15.facilities_from_file(ref_sc.inputs.facilities)
    ref = care15.analyze(replace(demo_region, facilities=edited), ref_sc)
    after = r.after
    for c in sc.categories:
        for col in (f"{c}_walk_min", f"{c}_e2sfca_per_1000"):
            assert np.allclose(after.cells[col], ref.cells[col], equal_nan=True), col
        assert (after.cells[f"{c}_covered"] == ref.cells[f"{c}_covered"]).all()
    num = [k for k in ref.communities.columns if ref.communities[k].dtype.kind in "fiub"]
    assert num
    for k in num:
        assert np.allclose(after.communities[k].astype(float), ref.communities[k].astype(float),
                           equal_nan=True), k
    assert care15.summary_table(after)["share"].round(12).equals(
        care15.summary_table(ref)["share"].round(12))
    # the tables written are the after state, and the base is the demo as it is
    comm = pd.read_csv(tmp_path / "out" / "communities.csv", encoding="utf-8-sig")
    assert np.allclose(comm["elderly_cov15_60plus"].to_numpy(float),
                       ref.communities["elderly_cov15_60plus"].to_numpy(float), atol=1e-6,
                       equal_nan=True)
    base = care15.summary_table(care15.analyze(demo_region, sc))
    head = r.tables["compare"]
    assert np.allclose(head["before_coverage"], base["share"], equal_nan=True)
    assert np.allclose(head["after_coverage"], care15.summary_table(ref)["share"],
                       equal_nan=True)
    assert np.allclose(head["change_coverage"],
                       head["after_coverage"] - head["before_coverage"], equal_nan=True)
    # changed cells: exactly those whose covered flag differs
    for c in sc.categories:
        flip = (r.before.cells[f"{c}_covered"] != after.cells[f"{c}_covered"]).to_numpy()
        ch = r.tables["compare_cells"]
        ch = ch.loc[ch["category"] == c]
        assert set(ch["cell_id"]) == set(after.cells.loc[flip, "cell_id"])
        newly = after.cells.loc[flip & after.cells[f"{c}_covered"].to_numpy(bool), "cell_id"]
        assert set(ch.loc[ch["status"] == "newly_covered", "cell_id"]) == set(newly)
    # the edits as applied: ids, old and new places, capacities
    e = r.tables["compare_edits"]
    assert e["action"].tolist() == ["add", "move", "remove", "resize", "add"]
    assert e["facility_id"].tolist() == ["plan-1", "f2", "f3", "f6", "n2"]
    assert e["plan_row"].tolist() == [1, 2, 3, 4, 5]
    f = r.before.facilities.set_index("facility_id").to_crs(4326)
    assert e["before_lon"].iloc[1] == pytest.approx(f.geometry["f2"].x)
    assert e["lon"].iloc[1] == pytest.approx(24.942) and np.isnan(e["lon"].iloc[2])
    assert e["before_capacity"].iloc[3] == 30 and e["after_capacity"].iloc[3] == 60
    assert e["after_capacity"].iloc[0] == 40 and np.isnan(e["before_capacity"].iloc[0])
    assert e["subtype"].iloc[4] == "nursery"


def test_demo_on_the_command_line(tmp_path, capsys):
    plan = tmp_path / "方案.xlsx"
    PLAN.to_excel(plan, index=False)
    out = tmp_path / "plan"
    assert main(["compare", "--demo", "--plan", str(plan), "--out", str(out), "--quiet"]) == 0
    cap = capsys.readouterr()
    assert console_problems(cap.out, cap.err, "zh") == [], cap
    lines = cap.out.splitlines()
    assert any(ln.startswith("养老服务: 60岁以上 15 分钟步行可达 ") and "→" in ln for ln in lines)
    assert any(ln.startswith("托育服务: 3岁以下 15 分钟步行可达 ") for ln in lines)
    assert "方案: 新增 2 处, 迁移 1 处, 撤销 1 处, 调整规模 1 处" in cap.out
    assert "· " not in cap.err  # --quiet: no progress
    files = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert {"compare.csv", "compare_communities.csv", "compare_cells.csv",
            "compare_cells.geojson", "compare_edits.csv", "compare.xlsx", "compare_map.html",
            "compare_summary.json", "report.html", "map.html", "communities.csv",
            "summary.json"} <= files
    head = pd.read_csv(out / "compare.csv", encoding="utf-8-sig")
    assert list(head.columns[:4]) == ["category", "threshold_min", "group", "target_group"]
    assert len(head) == 2 * 3 * 3
    book = pd.read_excel(out / "compare.xlsx", sheet_name=None)
    assert list(book) == ["方案对比", "方案对比-社区", "方案对比-变化网格", "方案变更", "字段说明"]
    assert {"服务类别", "人群", "方案前覆盖率", "方案后覆盖率", "覆盖率变化"} <= set(book["方案对比"].columns)
    assert set(book["方案变更"]["操作"]) == {"新增", "迁移", "撤销", "调整规模"}
    assert set(book["方案对比-变化网格"]["覆盖变化"]) <= {"新覆盖", "失去覆盖"}
    assert {"方案前是否达标", "方案后是否达标"} <= set(book["方案对比-社区"].columns)
    assert set(book["方案对比-社区"]["方案后是否达标"].dropna()) <= {"是", "否"}
    doc = book["字段说明"]
    assert doc["说明"].notna().all(), doc.loc[doc["说明"].isna()]
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "二、方案对比" in page and "三、地图与图表" in page and "<script" not in page
    assert "新托育点 &lt;b&gt;&#36;&#123;x&#125;&lt;/b&gt;" in page
    m = (out / "compare_map.html").read_text(encoding="utf-8")
    assert not re.findall(r'<(?:script[^>]+src|link[^>]+href)="https?:', m)  # offline
    assert "<b>${x}</b>" not in m and "&#36;&#123;x&#125;" in m
    for mark in ("c15-edit", "方案变更的设施", "新覆盖", "失去覆盖"):
        assert mark in m, mark
    s = json.loads((out / "compare_summary.json").read_text(encoding="utf-8"))
    assert s["edits"] == {"add": 2, "move": 1, "remove": 1, "resize": 1}
    assert s["plan_crs"] == "wgs84" and s["coords_out"] == "wgs84"


def _bad_plan(path: Path) -> Path:
    pd.DataFrame([["新增", "", "养老", 24.938, 60.172, 40],
                  ["迁移", "f99", "", 24.94, 60.17, ""],
                  ["调整规模", "f3", "", "", "", -4]],
                 columns=["操作", "设施编号", "类别", "经度", "纬度", "规模"]).to_csv(
        path, index=False, encoding="utf-8-sig")
    return path


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_bad_plans_exit_2_naming_the_row(tmp_path, capsys, lang):
    plan = _bad_plan(tmp_path / "bad.csv")
    out = tmp_path / "o"
    assert main(["compare", "--demo", "--plan", str(plan), "--out", str(out), "--quiet",
                 "--lang", lang]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and not out.exists()
    if lang == "zh":  # the file's problem first (read before the study area)
        assert "第 3 行, 列 '规模'(第 F 列): 规模 -4 为负数" in err
        assert "错误: " in err
    else:
        assert "row 3, column '规模' (F): capacity -4 is negative" in err
    if lang == "zh":
        assert console_problems("", err, "zh") == [], err
    # fixed capacity: the id the facility list lacks is found next, before the analysis
    pd.read_csv(plan, encoding="utf-8-sig").assign(规模=[40, "", 4]).to_csv(
        plan, index=False, encoding="utf-8-sig")
    assert main(["compare", "--demo", "--plan", str(plan), "--out", str(out), "--quiet",
                 "--lang", lang]) == 2
    err = capsys.readouterr().err
    want = ("第 2 行, 列 '设施编号'(第 B 列): 没有可迁移的设施 'f99'" if lang == "zh" else
            "row 2, column '设施编号' (B): no facility 'f99' to move")
    assert want in err and "Traceback" not in err


def test_bad_plan_in_a_fresh_process_says_it_in_chinese(tmp_path):
    plan = tmp_path / "bad.csv"
    plan.write_text("操作,设施编号\n拆掉,f1\n", encoding="utf-8")
    r = subprocess.run([str(CARE15), "compare", "--demo", "--plan", str(plan), "--out",
                        str(tmp_path / "o")], capture_output=True, text=True, timeout=300)
    assert r.returncode == 2, r.stderr
    assert "第 1 行, 列 '操作'(第 A 列): 未知的操作 '拆掉'" in r.stderr
    assert "Traceback" not in r.stderr
    assert console_problems(r.stdout, r.stderr, "zh") == [], r.stderr


def test_chengdu_with_a_gbk_gcj02_plan(tmp_path, chengdu_pbf, chengdu_net, capsys):
    """A planner's GCJ-02 list and GBK plan on a real Chinese extract, in English."""
    fac = _gcj_list(chengdu_net, tmp_path / "民政局设施清单.csv")
    nodes = chengdu_net.nodes_gdf().to_crs(4326)
    rng = np.random.default_rng(11)
    pick = rng.choice(len(nodes), 3, replace=False)
    gx, gy = from_wgs84(nodes.geometry.x.to_numpy()[pick], nodes.geometry.y.to_numpy()[pick],
                        "gcj02")
    plan = tmp_path / "规划方案.csv"
    pd.DataFrame([["新增", "", "养老院", "规划养老院", gx[0], gy[0], 120],
                  ["迁移", "f5", "", "", gx[1], gy[1], ""],
                  ["撤销", "f1", "", "", "", "", ""],
                  ["调整规模", "f6", "", "", "", "", 80],
                  ["新增", "", "托育", "规划托育点", gx[2], gy[2], 45]],
                 columns=["动作", "编号", "类型", "名称", "经度", "纬度", "规模"]).to_csv(
        plan, index=False, encoding="gbk")
    out = tmp_path / "cd"
    rc = main(["compare", "--pbf", str(chengdu_pbf), "--facilities", str(fac),
               "--facilities-crs", "gcj02", "--total-population", "300000", "--plan",
               str(plan), "--out", str(out), "--lang", "en", "--quiet"])
    cap = capsys.readouterr()
    assert rc == 0, cap.err
    assert re.search(r"^Elderly care: aged 60\+ within 15 min \d+\.\d% → \d+\.\d%", cap.out,
                     re.M), cap.out
    assert "Plan: 2 added, 1 moved, 1 removed, 1 resized" in cap.out
    e = pd.read_csv(out / "compare_edits.csv", encoding="utf-8-sig")
    # the plan's GCJ-02 comes back: --plan-crs defaulted to --facilities-crs
    assert {"lon_gcj02", "lat_gcj02", "before_lon_gcj02", "before_lat_gcj02"} <= set(e.columns)
    add = e.loc[e["action"] == "add"]
    assert np.abs(add["lon_gcj02"].to_numpy() - gx[[0, 2]]).max() < 2e-6
    assert np.abs(add["lat_gcj02"].to_numpy() - gy[[0, 2]]).max() < 2e-6
    f_in = pd.read_csv(fac, encoding="utf-8-sig")
    moved = e.loc[e["action"] == "move"].iloc[0]
    assert moved["before_lon_gcj02"] == pytest.approx(f_in["经度"].iloc[4], abs=2e-6)
    assert e.loc[e["action"] == "resize", "after_capacity"].iloc[0] == 80
    s = json.loads((out / "compare_summary.json").read_text(encoding="utf-8"))
    assert s["plan_crs"] == "gcj02" and s["coords_out"] == "gcj02"
    head = pd.read_csv(out / "compare.csv", encoding="utf-8-sig")
    assert head["after_coverage"].between(0, 1).all()
    cells = pd.read_csv(out / "compare_cells.csv", encoding="utf-8-sig")
    assert {"lon_gcj02", "status"} <= set(cells.columns) and len(cells) > 0
    summ = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summ["categories"]["elderly"]["n_facilities"] == 4 + 1 - 1
    assert "2. Plan comparison" in (out / "report.html").read_text(encoding="utf-8")


CHROMIUM = __import__("shutil").which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium (Debian package chromium)")
def test_compare_map_in_a_browser(tmp_path):
    from test_browser import _probe

    plan = tmp_path / "方案.csv"
    PLAN.to_csv(plan, index=False, encoding="utf-8-sig")
    r = run_compare(care15.demo_scenario(), plan, tmp_path / "out",
                    options=care15.RunOptions(figures=False, cache=True))
    info = _probe(r.out / "compare_map.html", tmp_path, tmp_path / "compare_map.png")
    assert info["errors"] == [] and info["console"] == [], info
    assert info["leaflet"]
    titles = [s["title"] for s in info["legend"]]
    assert "方案变更的设施" in titles
    assert any("覆盖的变化" in t for t in titles)
    edits = next(s for s in info["legend"] if s["title"] == "方案变更的设施")
    assert len(edits["rows"]) == 4 and edits["on"]
    assert info["site_popup"] and any(w in info["site_popup"] for w in ("新增", "迁移", "撤销",
                                                                        "调整规模"))
