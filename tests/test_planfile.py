"""Plan files (care15.planfile): Chinese and English columns, encodings, coordinate systems,
and every mistake named with its row and column before any analysis."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from care15._errors import InputError
from care15._notes import error_text, translate_or_none
from care15.chinacoords import from_wgs84
from care15.planfile import PLAN_COLUMNS, plan_problems, read_plan

ZH = ["操作", "设施编号", "类别", "名称", "经度", "纬度", "床位", "托位"]


def _zh_plan(lon: list, lat: list) -> pd.DataFrame:
    return pd.DataFrame([
        ["新增", "", "养老", "新建养老驿站", lon[0], lat[0], 40, ""],
        ["迁移", "f2", "", "", lon[1], lat[1], "", ""],
        ["撤销", "f3", "", "", "", "", "", ""],
        ["调整规模", "f6", "托育", "", "", "", "", 60],
        ["新增", "n2", "幼儿园", "新托育点", lon[2], lat[2], "", 30],
    ], columns=ZH)


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-8", "gbk"])
def test_chinese_csv_in_every_encoding(tmp_path, encoding):
    p = tmp_path / "方案.csv"
    _zh_plan([24.938, 24.942, 24.95], [60.172, 60.166, 60.17]).to_csv(
        p, index=False, encoding=encoding)
    t = read_plan(p)
    assert list(t.columns) == PLAN_COLUMNS
    assert t["action"].tolist() == ["add", "move", "remove", "resize", "add"]
    assert t["facility_id"].tolist() == [None, "f2", "f3", "f6", "n2"]
    assert t["category"].tolist() == ["elderly", None, None, "childcare", "childcare"]
    assert t["subtype"].tolist() == ["home_care_centre", None, None, "nursery", "kindergarten"]
    # beds for elderly care, places for childcare, from their own columns
    assert t["capacity"].tolist()[:1] == [40.0] and t["capacity"].tolist()[3:] == [60.0, 30.0]
    assert np.isnan(t["capacity"].iloc[1])
    assert t["source_row"].tolist() == [1, 2, 3, 4, 5]
    assert t["name"].iloc[0] == "新建养老驿站" and t["name"].iloc[1] is None


def test_gcj02_and_bd09_coordinates_come_back_as_wgs84(tmp_path):
    wlon, wlat = np.array([104.06, 104.07, 104.08]), np.array([30.65, 30.66, 30.67])
    for crs in ("gcj02", "bd09"):
        x, y = from_wgs84(wlon, wlat, crs)
        p = tmp_path / f"{crs}.csv"
        _zh_plan(list(x), list(y)).to_csv(p, index=False, encoding="utf-8-sig")
        t = read_plan(p, crs=crs)
        ok = t["action"].isin(["add", "move"]).to_numpy()
        assert np.abs(t["lon"].to_numpy()[ok] - wlon).max() < 1e-5
        assert np.abs(t["lat"].to_numpy()[ok] - wlat).max() < 1e-5
        assert np.allclose(t.attrs["lon_in"][ok], x)  # the file's numbers, for messages
        # read as WGS-84 the same numbers land hundreds of metres away
        assert np.abs(read_plan(p)["lon"].to_numpy()[ok] - wlon).max() > 1e-3


def test_xlsx_and_english_words(tmp_path):
    p = tmp_path / "plan.xlsx"
    pd.DataFrame({"Action": ["add", "Move", "close", "扩容"], "ID": ["", "f1", "f2", "f4"],
                  "Type": ["childcare", "", "", ""], "lon": [24.94, 24.941, "", ""],
                  "lat": [60.17, 60.171, "", ""], "capacity": [25, "", "", "1,200"]}
                 ).to_excel(p, index=False)
    t = read_plan(p)
    assert t["action"].tolist() == ["add", "move", "remove", "resize"]
    assert t["capacity"].iloc[3] == 1200.0 and t["category"].iloc[0] == "childcare"


def test_blank_rows_keep_the_row_numbers_of_the_file(tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("操作,设施编号\n撤销,f1\n,\n撤销,f2\n", encoding="utf-8")
    t = read_plan(p)
    assert t["source_row"].tolist() == [1, 3]


def test_spreadsheet_apostrophe_before_a_formula_is_taken_off(tmp_path):
    p = tmp_path / "p.csv"
    p.write_text("action,facility_id,category,name,lon,lat\nadd,'=x1,elderly,'=HYPERLINK(1),"
                 "24.94,60.17\n", encoding="utf-8")
    t = read_plan(p)
    assert t["facility_id"].iloc[0] == "=x1" and t["name"].iloc[0] == "=HYPERLINK(1)"


def _problems(path) -> list[str]:
    with pytest.raises(InputError) as e:
        read_plan(path)
    lines = str(e.value).splitlines()
    assert lines[0] == "cannot use the plan file:"
    return [ln.strip().removeprefix("- ") for ln in lines[1:]]


def test_every_problem_is_listed_with_row_and_column(tmp_path):
    p = tmp_path / "bad.csv"
    pd.DataFrame([
        ["新增", "", "养老", "A", 24.938, 60.172, -5],       # 1 negative capacity
        ["拆掉", "f2", "", "", "", "", ""],                   # 2 unknown action
        ["新增", "x1", "", "", 24.94, 60.17, ""],             # 3 add without a category
        ["新增", "x1", "托育", "", 24.94, 60.17, ""],         # 4 id added twice
        ["调整规模", "f3", "", "", "", "", ""],               # 5 resize without capacity
        ["迁移", "f4", "", "", "", "", ""],                   # 6 move without coordinates
        ["撤销", "", "", "", "", "", ""],                     # 7 remove without an id
        ["新增", "", "学校", "", 24.94, 60.17, ""],           # 8 unknown kind
        ["新增", "", "养老", "", 60.17, 124.94, "abc"],       # 9 swapped, capacity text
        ["", "f1", "", "", "", "", ""],                       # 10 no action
    ], columns=["操作", "设施编号", "类别", "名称", "经度", "纬度", "床位"]).to_csv(
        p, index=False, encoding="utf-8-sig")
    got = _problems(p)
    rows = [int(g.split("row ")[1].split(",")[0].split(":")[0]) for g in got]
    assert rows == sorted(rows)  # in the order of the file
    expect = {1: ("'床位' (G)", "capacity -5 is negative"),
              2: ("'操作' (A)", "unknown action '拆掉'"),
              3: ("'类别' (C)", "an add needs a category"),
              4: ("'设施编号' (B)", "'x1' is added again (first in row 3)"),
              5: ("'capacity'", "a resize needs the new capacity"),
              6: ("'经度' (E)", "a move needs coordinates"),
              7: ("'设施编号' (B)", "a remove needs the facility_id"),
              8: ("'类别' (C)", "'学校' names no category or facility kind"),
              10: ("'操作' (A)", "no action;")}
    for r, (col, what) in expect.items():
        hit = [g for g in got if f"row {r}, column {col}" in g and what in g]
        assert hit, (r, col, what, got)
    assert any("row 9" in g and "look swapped" in g for g in got)
    assert any("row 9" in g and "the capacity is not a number" in g for g in got)
    assert all(g.startswith(f"{p}: row ") for g in got)
    # each line has its Chinese, file, row and column kept
    for g in got:
        zh = translate_or_none(g)
        assert zh is not None, g
        assert str(p) in zh and "第 " in zh
    assert "第 2 行, 列 '操作'(第 A 列): 未知的操作 '拆掉'" in error_text("\n".join(got), "zh")


@pytest.mark.parametrize("content,what", [
    ("", "the plan file is empty"),
    ("\ufeff操作,设施编号\n", "the plan file has no edits"),
    ("名称,经度\nA,1\n", "no action column"),
])
def test_empty_or_headless_files(tmp_path, content, what):
    p = tmp_path / "p.csv"
    p.write_text(content, encoding="utf-8")
    with pytest.raises(InputError, match=what) as e:
        read_plan(p)
    assert translate_or_none(str(e.value).split(": ", 1)[1]) is not None


def test_missing_file_and_bad_system(tmp_path):
    with pytest.raises(InputError, match="plan file not found"):
        read_plan(tmp_path / "none.csv")
    (tmp_path / "p.csv").write_text("操作\n撤销\n", encoding="utf-8")
    with pytest.raises(InputError, match="coordinate system 'mars'"):
        read_plan(tmp_path / "p.csv", crs="mars")


def test_problems_against_the_study_area(tmp_path, demo_region):
    """Ids not in the list (or removed before), ids that exist, places off the network."""
    net = demo_region.network
    nodes = net.nodes_gdf().to_crs(4326)
    x, y = nodes.geometry.x.to_numpy()[:3], nodes.geometry.y.to_numpy()[:3]
    p = tmp_path / "p.csv"
    pd.DataFrame({"action": ["remove", "move", "add", "add", "resize", "add", "move"],
                  "facility_id": ["f3", "f3", "f1", "k9", "f99", "new", "f2"],
                  "category": ["", "", "elderly", "elderly", "", "childcare", ""],
                  "lon": ["", x[0], x[1], 116.40, "", x[2], x[0]],
                  "lat": ["", y[0], y[1], 39.90, "", y[2], y[0]],
                  "capacity": ["", "", "", "", 5, "", ""]}).to_csv(p, index=False)
    edits = read_plan(p)
    got = plan_problems(edits, demo_region.facilities, net, max_access_m=250.0)
    assert len(got) == 4, got
    assert "row 2, column 'facility_id' (B): no facility 'f3' to move (an earlier row " \
           "removes it)" in got[0]
    assert "row 3" in got[1] and "'f1' is already a facility (the facility list has it)" in got[1]
    assert "row 4, column 'lon' (D): (116.400000, 39.900000) as wgs84 lies outside the street " \
           "network's area" in got[2] and "--plan-crs wgs84" in got[2]
    assert "row 5" in got[3] and "no facility 'f99' to resize (not in the facility list" in got[3]
    for g in got:
        assert translate_or_none(g) is not None, g


def test_another_reading_is_suggested_when_it_fits(tmp_path, chengdu_net):
    """GCJ-02 numbers read as WGS-84, far from the streets: the message names --plan-crs gcj02."""
    nodes = chengdu_net.nodes_gdf().to_crs(4326)
    x, y = nodes.geometry.x.to_numpy()[:1], nodes.geometry.y.to_numpy()[:1]
    gx, gy = from_wgs84(x, y, "gcj02")
    p = tmp_path / "p.csv"
    pd.DataFrame({"操作": ["新增"], "类别": ["托育"], "经度": gx, "纬度": gy}).to_csv(
        p, index=False, encoding="utf-8-sig")
    fac = pd.DataFrame({"facility_id": ["f1"]})
    # the same numbers, 10 m of tolerance: read as WGS-84 they are off the street node
    got = plan_problems(read_plan(p, crs="wgs84"), fac, chengdu_net, max_access_m=10.0)
    assert len(got) == 1 and "pass --plan-crs gcj02" in got[0], got
    assert "--plan-crs gcj02" in translate_or_none(got[0])
    assert plan_problems(read_plan(p, crs="gcj02"), fac, chengdu_net, max_access_m=10.0) == []
