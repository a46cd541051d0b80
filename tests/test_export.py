"""Planner exports: every format, Chinese headers, documented columns, atomic writes."""

from __future__ import annotations

import dataclasses
import json
import re

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from care15._files import atomic_path
from care15.export import column_info, column_meaning, write_json, write_tables
from care15.pipeline import RunOptions, run
from care15.region import demo_scenario

CJK = re.compile(r"[\u4e00-\u9fff]")


def _tables(res):
    return {"cells": res.cells, "communities": res.communities, "gaps": res.gaps,
            "short_communities": res.short, "facilities": res.facilities,
            "isochrones": res.isochrones}


def test_every_format_and_file(tmp_path, demo_result):
    w = write_tables(_tables(demo_result), tmp_path, lang="zh")
    names = {p.name for ps in w.values() for p in ps}
    for f in ("cells.csv", "communities.csv", "gaps.csv", "gaps.geojson", "gaps.xlsx",
              "gaps.parquet", "facilities.geojson", "isochrones.geojson", "care15.gpkg",
              "tables.xlsx", "short_communities.xlsx"):
        assert f in names and (tmp_path / f).stat().st_size > 0
    assert "isochrones.csv" not in names
    # CSV: UTF-8 with BOM, same rows and residents as the table
    raw = (tmp_path / "communities.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    back = pd.read_csv(tmp_path / "communities.csv", encoding="utf-8-sig")
    assert len(back) == len(demo_result.communities)
    assert back["pop_total"].dtype.kind == "i"  # whole people that add up to the total
    assert back["pop_total"].sum() == round(demo_result.cells["pop_total"].sum())
    assert "网格 A1 / Grid A1" in set(back["community_name"])
    cells = pd.read_csv(tmp_path / "cells.csv", encoding="utf-8-sig")
    assert cells["lon"].between(24.8, 25.1).all() and cells["lat"].between(60.1, 60.2).all()
    # spatial files in EPSG:4326, no Infinity in GeoJSON (unreachable = null)
    g = gpd.read_file(tmp_path / "cells.geojson")
    assert g.crs.to_epsg() == 4326 and len(g) == len(demo_result.cells)
    assert "Infinity" not in (tmp_path / "cells.geojson").read_text()
    assert set(pyogrio.list_layers(tmp_path / "care15.gpkg")[:, 0]) == {
        "cells", "communities", "gaps", "facilities", "isochrones"}
    p = gpd.read_parquet(tmp_path / "gaps.parquet")
    assert len(p) == len(demo_result.gaps) and p.crs.to_epsg() == 4326
    # re-running replaces layers instead of appending to them
    write_tables(_tables(demo_result), tmp_path, formats=("gpkg",))
    assert len(gpd.read_file(tmp_path / "care15.gpkg", layer="gaps")) == len(demo_result.gaps)


def test_city_cell_table_stays_out_of_workbook_and_geojson(tmp_path, demo_result, monkeypatch,
                                                           caplog):
    """A city's cells (over LARGE_TABLE_ROWS) go to CSV, GeoParquet and the GeoPackage only."""
    import care15.export as ex

    n = len(demo_result.cells)
    monkeypatch.setattr(ex, "LARGE_TABLE_ROWS", n - 1)  # the demo's cells count as a city's
    with caplog.at_level("INFO", logger="care15.export"):
        w = write_tables(_tables(demo_result), tmp_path, lang="zh")
    names = {p.name for p in w["cells"]}
    assert {"cells.csv", "cells.parquet", "care15.gpkg"} <= names
    assert "cells.geojson" not in names and not (tmp_path / "cells.geojson").exists()
    assert len(gpd.read_parquet(tmp_path / "cells.parquet")) == n
    assert len(gpd.read_file(tmp_path / "care15.gpkg", layer="cells")) == n
    book = pd.read_excel(tmp_path / "tables.xlsx", sheet_name=None)
    assert "人口网格" not in book and "社区覆盖" in book
    bands = book["步行时间分布"]  # the workbook's summary still holds every resident
    total = round(demo_result.cells["pop_total"].sum())
    per_cat = bands.groupby("服务类别")["常住人口"].sum()
    assert len(per_cat) == 2 and (per_cat == total).all(), per_cat
    assert "gaps.geojson" in {p.name for p in w["gaps"]}  # small tables keep every format
    assert f"cells has {n} rows; left out of tables.xlsx and GeoJSON" in caplog.text


def test_xlsx_headers_and_column_sheet(tmp_path, demo_result):
    write_tables(_tables(demo_result), tmp_path, lang="zh", formats=("xlsx",))
    book = pd.read_excel(tmp_path / "tables.xlsx", sheet_name=None)
    assert list(book)[-1] == "字段说明"
    assert {"社区覆盖", "社区明细", "人口网格", "覆盖缺口", "现有设施", "步行时间分布"} <= set(book)
    assert "社区名称" in book["社区覆盖"].columns
    assert "15分钟养老服务覆盖率(60岁及以上)" in book["社区覆盖"].columns
    doc = book["字段说明"]
    assert list(doc.columns) == ["表", "字段", "表头", "说明"]
    assert doc["说明"].notna().all(), doc.loc[doc["说明"].isna()]
    en = pd.read_excel(write_tables({"gaps": demo_result.gaps}, tmp_path / "en", lang="en",
                                    formats=("xlsx",))["gaps"][0], sheet_name=None)
    assert list(en) == ["Gaps", "Columns"] and "Rank" in en["Gaps"].columns
    assert list(en["Columns"].columns) == ["Table", "Column", "Header", "Meaning"]


def test_every_column_is_documented(tmp_path, demo_result):
    """Every delivered column has a meaning in both languages, the Chinese one in Chinese."""
    write_tables(_tables(demo_result), tmp_path, lang="zh", formats=("csv",))
    cols = {c for df in _tables(demo_result).values() for c in df.columns if c != "geometry"}
    for f in tmp_path.glob("*.csv"):
        cols |= set(pd.read_csv(f, encoding="utf-8-sig", nrows=0).columns)
    cols |= {"walk_band", "n_cells"}  # the walk-band sheet of the workbook
    for c in sorted(cols):
        zh_head, _en, meaning = column_info(c)
        assert meaning and column_meaning(c, "en") == meaning, f"{c} has no explanation"
        assert CJK.search(column_meaning(c, "zh")), f"{c} has no Chinese explanation"
        assert CJK.search(zh_head) or c.endswith(("_gcj02", "_bd09")), c


def test_unreachable_and_no_facility_are_blank_with_a_state(tmp_path, demo_region):
    """A district without childcare: minutes empty, 无该类设施 / no facility, never inf."""
    from care15.analysis import analyze
    from care15.region import demo_scenario

    fac = demo_region.facilities
    region = dataclasses.replace(demo_region,
                                 facilities=fac.loc[fac["category"] == "elderly"].copy())
    res = analyze(region, demo_scenario())
    assert np.isinf(res.cells["childcare_walk_min"]).all()
    for lang in ("zh", "en"):
        out = tmp_path / lang
        write_tables(_tables(res), out, lang=lang, formats=("csv", "xlsx"))
        for f in out.glob("*.csv"):
            text = f.read_text(encoding="utf-8-sig")
            assert not re.search(r"(?<![A-Za-z])(-?inf|nan|NaN|Infinity)(?![A-Za-z])", text), f
        cells = pd.read_csv(out / "cells.csv", encoding="utf-8-sig")
        assert cells["childcare_walk_min"].isna().all()
        assert set(cells["childcare_band"]) == {"no_facility"}
        gaps = pd.read_csv(out / "gaps.csv", encoding="utf-8-sig")
        assert set(gaps.loc[gaps["category"] == "childcare", "nearest_state"]) == {"no_facility"}
        assert set(gaps.loc[gaps["category"] == "elderly", "nearest_state"]) == {"reachable"}
        _no_inf_in_book(out / "tables.xlsx")
        book = pd.read_excel(out / "tables.xlsx", sheet_name=None)
        sheet = book["人口网格" if lang == "zh" else "Population cells"]
        band = "托育服务步行时间区间" if lang == "zh" else "Childcare (0–3): walk band"
        assert set(sheet[band]) == {"无该类设施" if lang == "zh" else
                                    "no facility of this category"}


def test_gcj02_columns(tmp_path, demo_result):
    pts = demo_result.facilities.copy()
    pts["lon"], pts["lat"] = 104.06, 30.66  # Chengdu: GCJ-02 shifts here
    write_tables({"facilities": pts}, tmp_path, formats=("csv",), coords_out="gcj02")
    back = pd.read_csv(tmp_path / "facilities.csv", encoding="utf-8-sig")
    d = np.hypot(back["lon_gcj02"] - back["lon"], back["lat_gcj02"] - back["lat"])
    assert (d > 0.001).all()


def test_atomic_writes_leave_nothing_half_written(tmp_path):
    target = tmp_path / "summary.json"
    write_json({"a": 1, "b": float("nan"), "c": np.int64(3)}, target)
    assert json.loads(target.read_text()) == {"a": 1, "b": None, "c": 3}
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("{half")
        raise RuntimeError("disk full")
    assert json.loads(target.read_text())["a"] == 1  # the old file is untouched
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]  # no temp files left


def test_centroid_columns_in_the_declared_system_are_named_and_rounded(tmp_path):
    import shapely

    g = gpd.GeoDataFrame({"gap_id": ["elderly-1"], "centroid_lon": [104.0861512345678],
                          "centroid_lat": [30.6615481234567]},
                         geometry=[shapely.box(104.08, 30.66, 104.09, 30.67)], crs=4326)
    write_tables({"gaps": g}, tmp_path, formats=("csv",), coords_out="bd09")
    back = pd.read_csv(tmp_path / "gaps.csv", encoding="utf-8-sig", dtype=str)
    assert len(back["centroid_lon_bd09"].iloc[0].split(".")[1]) <= 7
    assert column_info("centroid_lon_gcj02")[0] == "中心经度(GCJ-02)"


# --------------------------------------------------------------------------------------------
# the delivered workbooks, read back as a planner opens them
# --------------------------------------------------------------------------------------------

ENGLISH_KEYS = {"elderly", "childcare", "care_home", "day_care", "home_care_centre", "canteen",
                "nursery", "kindergarten", "community_point", "early_education", "unreachable",
                "no_facility", "reachable", "True", "False", "landuse", "buildings"}


def _no_inf_in_book(path):
    import openpyxl

    wb = openpyxl.load_workbook(path, read_only=True)
    for ws in wb.worksheets:
        for row in ws.iter_rows(values_only=True):
            for v in row:
                if isinstance(v, float):
                    assert np.isfinite(v), (ws.title, row)
                elif isinstance(v, str):
                    assert v.strip().lower() not in {"inf", "-inf", "nan", "infinity"}, \
                        (ws.title, row)
    wb.close()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The demo pipeline in Chinese and in English (tables only)."""
    out = {}
    for lang in ("zh", "en"):
        d = tmp_path_factory.mktemp(f"run_{lang}")
        r = run(demo_scenario(), d / "out", options=RunOptions(lang=lang, maps=False,
                                                               figures=False, cache=False))
        out[lang] = r
    return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_workbook_reads_as_a_planner_expects(runs, lang):
    r = runs[lang]
    zh = lang == "zh"
    path = r.out / "tables.xlsx"
    _no_inf_in_book(path)
    book = pd.read_excel(path, sheet_name=None)
    total = round(r.summary["residents"]["total"])
    residents = "常住人口" if zh else "Residents"
    # whole residents that add up to the total, in every table that partitions the district
    cells = book["人口网格" if zh else "Population cells"]
    compact = book["社区覆盖" if zh else "Communities"]
    detail = book["社区明细" if zh else "Community detail"]
    for sheet in (cells, compact, detail):
        v = sheet[residents].to_numpy(float)
        assert np.array_equal(v, np.round(v)) and int(v.sum()) == total
    exact = r.result.cells["pop_total"].to_numpy(float)
    assert np.abs(cells[residents].to_numpy(float) - exact).max() < 1.0
    bands = book["步行时间分布" if zh else "Walk bands"]
    for _, part in bands.groupby("服务类别" if zh else "Category"):
        assert int(part[residents].sum()) == total
    # coded values in the table's language
    cat = "服务类别" if zh else "Category"
    labels = {"养老服务", "托育服务"} if zh else {"Elderly care", "Childcare (0–3)"}
    fac = book["现有设施" if zh else "Facilities"]
    assert set(fac[cat]) == labels
    sub = fac["设施类型" if zh else "Sub-type"]
    assert sub.notna().all() and not (set(sub) & ENGLISH_KEYS)
    if zh:
        assert all(CJK.search(s) for s in sub)
        for name, sheet in book.items():
            if name == "字段说明":
                continue
            for c in sheet.columns:
                if sheet[c].dtype == object:
                    leaked = set(sheet[c].dropna().astype(str)) & ENGLISH_KEYS
                    assert not leaked, (name, c, leaked)
    # facility names beside ids
    near = "养老服务最近设施名称" if zh else "Elderly care: nearest facility"
    assert cells[near].notna().any()
    assert set(cells[near].dropna()) <= set(fac["名称" if zh else "Name"])
    # the column sheet, wholly in the table's language
    doc = book["字段说明" if zh else "Columns"]
    meaning = doc["说明" if zh else "Meaning"]
    assert meaning.notna().all()
    if zh:
        assert all(CJK.search(m) for m in meaning)
        assert all(CJK.search(t) for t in doc["表"])
    else:
        assert not any(CJK.search(t) for t in doc["Table"])
        assert not any(CJK.search(h) for h in doc["Header"])
    # the compact community sheet: the planner's columns, not the cross-group rates
    heads = list(compact.columns)
    assert heads[0] == ("社区名称" if zh else "Community") and heads[1] == residents
    want = (["15分钟养老服务覆盖率(60岁及以上)", "养老服务是否达标", "养老服务未达标缺口(人)",
             "养老服务设施数", "养老服务每千人容量", "15分钟托育服务覆盖率(3岁以下)"] if zh else
            ["Elderly care: share aged 60+ ≤15 min", "Elderly care: target met",
             "Elderly care: shortfall (people)", "Elderly care: facilities",
             "Elderly care: capacity per 1,000", "Childcare (0–3): share aged 0-3 ≤15 min"])
    assert set(want) <= set(heads)
    cross = "15分钟养老服务覆盖率(3岁以下)" if zh else "Elderly care: share aged 0-3 ≤15 min"
    assert cross not in heads and cross in detail.columns
    assert len(heads) <= 24 and len(detail.columns) > len(heads)
    assert set(compact[("养老服务是否达标" if zh else "Elderly care: target met")].dropna()) <= (
        {"是", "否"} if zh else {"yes", "no"})
    # each gap says what would close it: N of M, N ≤ M, and N > 0 somewhere
    gaps = book["覆盖缺口" if zh else "Gaps"]
    act = gaps["补缺建议" if zh else "What would close it"]
    m_col = gaps["未覆盖目标人群" if zh else "Uncovered target group"].to_numpy(int)
    n_col = gaps["新址可覆盖目标人群" if zh else "New site would cover"].to_numpy(int)
    pat = re.compile(r"(\d+)/(\d+) 名" if zh else r"cover (\d+) of (\d+)")
    got = [pat.search(a) for a in act]
    assert all(got), act.tolist()
    n = np.array([int(g[1]) for g in got])
    m = np.array([int(g[2]) for g in got])
    assert (n <= m).all() and (n > 0).any()
    assert np.array_equal(n, n_col) and np.array_equal(m, m_col)
    if zh:
        assert all(a.startswith("在") and "新增1处" in a for a in act)
    else:
        assert all(a.startswith("1 ") and " site near " in a for a in act)


def test_csv_keeps_stable_keys_and_whole_people(runs):
    out = runs["zh"].out
    total = round(runs["zh"].summary["residents"]["total"])
    cells = pd.read_csv(out / "cells.csv", encoding="utf-8-sig")
    comm = pd.read_csv(out / "communities.csv", encoding="utf-8-sig")
    gaps = pd.read_csv(out / "gaps.csv", encoding="utf-8-sig")
    for t in (cells, comm):
        for c in ("pop_total", "pop_60plus", "pop_0to3"):
            assert t[c].dtype.kind == "i", c
        assert int(t["pop_total"].sum()) == total
    assert int(comm["pop_60plus"].sum()) == int(cells["pop_60plus"].sum())
    assert set(gaps["category"]) <= {"elderly", "childcare"}
    assert gaps["closing_action"].str.contains("新增1处").all()
    # the gaps of one category add up to that category's uncovered residents
    exact = runs["zh"].result.gaps
    for c, part in gaps.groupby("category"):
        want = exact.loc[exact["category"] == c, "uncovered_target"].sum()
        assert int(part["uncovered_target"].sum()) == round(want)
    # machine formats keep the exact residents
    g = gpd.read_parquet(out / "cells.parquet")
    assert g["pop_total"].sum() == pytest.approx(runs["zh"].result.cells["pop_total"].sum())
