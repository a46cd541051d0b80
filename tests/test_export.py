"""Planner exports: every format, Chinese headers, documented columns, atomic writes."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest

from care15._files import atomic_path
from care15.export import column_info, write_json, write_tables


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
    assert back["pop_total"].sum() == pytest.approx(demo_result.cells["pop_total"].sum())
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


def test_xlsx_headers_and_column_sheet(tmp_path, demo_result):
    write_tables(_tables(demo_result), tmp_path, lang="zh", formats=("xlsx",))
    book = pd.read_excel(tmp_path / "tables.xlsx", sheet_name=None)
    assert list(book)[-1] == "字段说明"
    assert {"社区覆盖", "人口网格", "覆盖缺口", "现有设施"} <= set(book)
    assert "社区名称" in book["社区覆盖"].columns
    assert "15分钟养老服务覆盖率(60岁及以上)" in book["社区覆盖"].columns
    doc = book["字段说明"]
    assert doc["说明 / Meaning"].notna().all(), doc.loc[doc["说明 / Meaning"].isna()]
    en = pd.read_excel(write_tables({"gaps": demo_result.gaps}, tmp_path / "en", lang="en",
                                    formats=("xlsx",))["gaps"][0], sheet_name=None)
    assert list(en) == ["Gaps", "Columns"] and "Rank" in en["Gaps"].columns


def test_every_column_is_documented(demo_result):
    for name, df in _tables(demo_result).items():
        for c in df.columns:
            if c == "geometry":
                continue
            _zh, _en, meaning = column_info(c)
            assert meaning, f"{name}.{c} has no explanation"


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
