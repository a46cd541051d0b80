"""Residential compounds (小区): loading, validation, population, per-compound norms.

Hand-made compounds on a straight street pin the norms (new vs existing, m² per 100
households, places per 1,000, the 200 m² site minimum, serving and sharing); files with bad
rows pin the validation; the real Chengdu and Harbin extracts run the datum check and the
whole pipeline.
"""

from __future__ import annotations

import json
import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from care15._errors import DataWarning, InputError, ScenarioError
from care15.chinacoords import from_wgs84, to_wgs84
from care15.compounds import (
    check_compound_datum,
    compound_gaps,
    compound_minutes,
    compound_norms,
    compound_overlaps,
    compound_table,
    compounds_from_file,
    compounds_from_osm,
    population_from_compounds,
)
from care15.scenario import Compounds, Scenario, scenario_from_dict
from tests.conftest import shared_file
from tests.helpers import UTM, line_net

# --------------------------------------------------------------------------------------------
# hand-made compounds on a 3 km street (x from 0 to 3000 m, y = 0)
# --------------------------------------------------------------------------------------------


def _street():
    xs = [0, 500, 1000, 1500, 2000, 2500, 3000]
    return line_net({(i, i + 1): [(xs[i], 0), (xs[i + 1], 0)] for i in range(6)})


def _compounds(**over):
    """A: 500 households built 2024 (new); B: 250 households built 2005 (existing), 300 m east;
    C: 100 households, no year, 2.5 km east (beyond 15 min of A's facilities)."""
    d = {"compound_id": ["A", "B", "C"], "name": ["甲小区", "乙小区", "丙小区"],
         "households": [500.0, 250.0, 100.0], "residents": [1310.0, 655.0, 262.0],
         "households_estimated": [False, False, False],
         "build_year": pd.array([2024, 2005, pd.NA], dtype="Int64"),
         "kind": ["new", "existing", None], "source": "file"}
    d.update(over)
    geom = [shapely.box(0, 10, 200, 210), shapely.box(300, 10, 500, 210),
            shapely.box(2700, 10, 2900, 210)]
    return gpd.GeoDataFrame(d, geometry=geom, crs=UTM)


def _facilities(rows):
    """rows: (id, category, x, y, floor_area_m2, places)."""
    df = pd.DataFrame([{"facility_id": r[0], "name": r[0], "category": r[1],
                        "subtype": "home_care_centre" if r[1] == "elderly" else "nursery",
                        "beds": np.nan, "places": r[5], "floor_area_m2": r[4],
                        "counts_as_supply": True} for r in rows])
    return gpd.GeoDataFrame(df, geometry=[shapely.Point(r[2], r[3]) for r in rows],
                            crs=UTM).to_crs(4326)


def _table(comp, fac, sc=None):
    sc = sc or Scenario()
    net = _street()
    return compound_table(comp, compound_minutes(comp, net, fac, sc), fac, sc).set_index(
        "compound_id")


def test_new_compound_meets_20_m2_per_100_households_and_qujing_25_does_not():
    comp = _compounds()
    fac = _facilities([("e1", "elderly", 100, 100, 100.0, np.nan)])  # inside A
    t = _table(comp.iloc[[0]], fac)
    assert t.loc["A", "elderly_area_m2"] == pytest.approx(100.0)
    assert t.loc["A", "elderly_area_m2_per_100_households"] == pytest.approx(20.0)
    assert t.loc["A", "elderly_norm_status"] == "met"
    assert t.loc["A", "elderly_area_shortfall_m2"] == 0
    assert t.loc["A", "elderly_sites_inside"] == 1
    qj = Scenario().with_(compounds__elderly_m2_per_100_households_new=25.0)
    t = _table(comp.iloc[[0]], fac, qj)
    assert t.loc["A", "elderly_norm_status"] == "short"
    assert t.loc["A", "elderly_area_shortfall_m2"] == pytest.approx(25.0)  # 125 - 100 m²
    assert t.loc["A", "elderly_norm_m2_per_100_households"] == 25.0
    # a 100 m² site is under the 200 m² minimum of one site
    assert t.loc["A", "elderly_sites_under_min_m2"] == 1


def test_childcare_places_new_10_vs_existing_8_per_1000():
    # 12 places for 1,310 residents: 9.16 per 1,000 — short of 10 (new), meets 8 (existing)
    comp = _compounds()
    fac = _facilities([("c1", "childcare", 100, 100, 120.0, 12.0)])
    t = _table(comp.iloc[[0]], fac)
    assert t.loc["A", "childcare_places_per_1000"] == pytest.approx(12 / 1310 * 1000)
    assert t.loc["A", "childcare_norm_places_per_1000"] == 10
    assert t.loc["A", "childcare_norm_status"] == "short"
    assert t.loc["A", "childcare_places_shortfall"] == 2  # ceil(13.1 - 12)
    old = comp.iloc[[0]].assign(kind=["existing"], build_year=pd.array([2005], dtype="Int64"))
    t = _table(old, fac)
    assert t.loc["A", "childcare_norm_places_per_1000"] == 8
    assert t.loc["A", "childcare_norm_status"] == "met"
    assert t.loc["A", "childcare_places_shortfall"] == 0
    assert t.loc["A", "childcare_sites_under_m2_per_place"] == 0  # 10 m² per place
    small = _facilities([("c1", "childcare", 100, 100, 60.0, 12.0)])  # 5 m² per place
    assert _table(old, small).loc["A", "childcare_sites_under_m2_per_place"] == 1


def test_serving_nearest_within_threshold_shares_by_households():
    """B has no facility inside; A's facility is B's nearest within 15 min and is shared
    500:250; C lies beyond 15 min and is served by nothing."""
    comp = _compounds()
    fac = _facilities([("e1", "elderly", 100, 100, 300.0, np.nan)])
    t = _table(comp, fac)
    assert t.loc["A", "elderly_serving"] == "e1"
    assert t.loc["B", "elderly_serving"] == "e1"
    assert t.loc["A", "elderly_area_m2"] == pytest.approx(200.0)
    assert t.loc["B", "elderly_area_m2"] == pytest.approx(100.0)
    assert t["elderly_area_m2"].sum() == pytest.approx(300.0)  # no m² counted twice
    assert t.loc["B", "elderly_walk_min"] < 15 < t.loc["C", "elderly_walk_min"]
    assert bool(t.loc["B", "elderly_covered"]) and not bool(t.loc["C", "elderly_covered"])
    assert pd.isna(t.loc["C", "elderly_serving"])
    assert t.loc["C", "elderly_area_m2"] == 0
    assert t.loc["C", "elderly_norm_status"] == "short"
    assert t.loc["C", "elderly_area_shortfall_m2"] == pytest.approx(20.0)  # 20 m² × 100 hh
    # C has no kind: checked against the existing norm
    assert t.loc["C", "norm_kind"] == "existing"
    # minutes: B's point (400, 110) walks 110 m to the street then 300 m at 0.8 m/s
    assert t.loc["B", "elderly_walk_min"] == pytest.approx((110 + 300 + 90) / 0.8 / 60, abs=0.3)
    # the gap list: only C (short by 20 m², beyond 15 min); A and B hold 40 m² per 100
    gaps = compound_gaps(t.reset_index(), Scenario(categories=("elderly",)))
    assert gaps["compound_id"].tolist() == ["C"]
    assert gaps.loc[0, "shortfall"] == pytest.approx(20.0) and gaps.loc[0, "rank"] == 1
    assert not gaps.loc[0, "compound_covered"]


def test_unknown_capacity_unknown_households_and_retrofit_exemption():
    comp = _compounds(households=[500.0, np.nan, 100.0], residents=[1310.0, np.nan, 262.0])
    fac = _facilities([("e1", "elderly", 100, 100, np.nan, np.nan),
                       ("e2", "elderly", 2800, 100, np.nan, np.nan)])
    sc = Scenario().with_(compounds__retrofit_from_year=2014.0)
    t = _table(comp, fac, sc)
    assert t.loc["A", "elderly_norm_status"] == "unknown"  # its site's area is not given
    assert t.loc["A", "elderly_area_unknown_sites"] == 1
    assert t.loc["B", "elderly_norm_status"] == "exempt"  # existing, built 2005 < 2014
    assert t.loc["C", "elderly_norm_status"] == "unknown"
    comp2 = _compounds(households=[500.0, np.nan, 100.0], residents=[1310.0, np.nan, 262.0])
    t2 = _table(comp2, fac)  # without the Ningxia rule, B is assessed: no households known
    assert t2.loc["B", "elderly_norm_status"] == "unknown"
    assert np.isnan(t2.loc["B", "elderly_area_shortfall_m2"])
    assert not t2["norms_met"].any()


def test_minutes_from_gates_series_are_used_as_given():
    comp = _compounds()
    fac = _facilities([("e1", "elderly", 100, 100, 300.0, np.nan),
                       ("c1", "childcare", 100, 100, 200.0, 20.0)])
    sc = Scenario()
    mins = {"elderly": pd.Series({"A": 2.0, "B": 20.0, "C": 3.0}),
            "childcare": pd.Series({"A": 1.0, "B": 1.0, "C": 1.0})}
    t = compound_table(comp, mins, fac, sc).set_index("compound_id")
    assert t["elderly_walk_min"].tolist() == [2.0, 20.0, 3.0]
    assert t["elderly_covered"].tolist() == [True, False, True]
    # without a nearest facility only the facilities inside serve
    assert pd.isna(t.loc["B", "elderly_serving"]) and t.loc["A", "elderly_area_m2"] == 300


def test_norms_come_from_standards_with_sources_and_scenario_values():
    n = compound_norms().set_index("key")
    assert n.loc["elderly_m2_per_100_households_new", "value"] == 20
    assert "seed 000" in n.loc["elderly_m2_per_100_households_new", "source"]
    assert n.loc["elderly_site_min_m2", "value"] == 200
    assert n.loc["childcare_places_per_1000_existing", "value"] == 8
    assert n.loc["childcare_m2_per_place", "value"] == 8
    q = compound_norms(Scenario().with_(compounds__elderly_m2_per_100_households_new=25.0))
    row = q.set_index("key").loc["elderly_m2_per_100_households_new"]
    assert row["value"] == 25 and row["source"].startswith("scenario")


# --------------------------------------------------------------------------------------------
# loading and validation
# --------------------------------------------------------------------------------------------


def _csv(tmp_path, rows, name="小区.csv", encoding="utf-8-sig"):
    p = tmp_path / name
    pd.DataFrame(rows).to_csv(p, index=False, encoding=encoding)
    return p


def test_csv_gcj02_points_with_bad_rows(tmp_path):
    lon, lat = from_wgs84(np.array([104.06, 104.07, 104.08, 104.09, 104.10]),
                          np.array([30.66, 30.67, 30.68, 30.69, 30.70]), "gcj02")
    p = _csv(tmp_path, {
        "小区名称": ["锦江花园", "幸福里", "无坐标苑", "空户小区", "未来城"],
        "经度": [lon[0], lon[1], "", lon[3], lon[4]], "纬度": [lat[0], lat[1], "", lat[3], lat[4]],
        "户数": [800, "", 300, "", 400], "常住人口": ["", 1000, "", "", ""],
        "建成年份": ["2005年", "2030", "2010", "九十年代", "2024-06"]}, encoding="gb18030")
    with pytest.warns(DataWarning) as rec:
        c = compounds_from_file(p, coords="gcj02")
    msgs = " | ".join(str(w.message) for w in rec)
    assert "rows [3] have no usable geometry" in msgs and "name households" in msgs
    assert "rows [4] give neither households" in msgs
    assert "in the future" in msgs and "is not a year" in msgs
    assert c["name"].tolist() == ["锦江花园", "幸福里", "空户小区", "未来城"]
    assert c["compound_id"].tolist() == ["cp1", "cp2", "cp4", "cp5"]  # stable: file rows
    assert c.attrs["dropped_rows"] == [3] and c.attrs["no_households_rows"] == [4]
    assert c["build_year"].tolist()[0] == 2005 and c["build_year"].isna().tolist()[1:3] == [
        True, True]
    assert c["kind"].fillna("?").tolist() == ["existing", "?", "?", "new"]
    # residents only: households estimated = 1000 / 2.62; households only: residents × 2.62
    assert c["households"].iloc[1] == pytest.approx(1000 / 2.62)
    assert c["households_estimated"].tolist() == [False, True, False, False]
    assert c["residents"].iloc[0] == pytest.approx(800 * 2.62)
    wlon, wlat = to_wgs84(lon[[0, 1, 3, 4]], lat[[0, 1, 3, 4]], "gcj02")
    assert np.allclose(c.geometry.x, wlon) and np.allclose(c.geometry.y, wlat)


def test_kind_flag_column_and_xlsx(tmp_path):
    p = tmp_path / "小区.xlsx"
    pd.DataFrame({"名称": ["甲", "乙"], "lon": [104.06, 104.07], "lat": [30.66, 30.67],
                  "户数": [100, 200], "新旧": ["新建", "老旧小区"],
                  "60岁以上": [50, 80]}).to_excel(p, index=False)
    c = compounds_from_file(p)
    assert c["kind"].tolist() == ["new", "existing"]
    assert c["pop_60plus"].tolist() == [50, 80]


def test_polygons_gcj02_overlaps_and_no_geometry(tmp_path):
    poly = [shapely.box(104.060, 30.660, 104.064, 30.664),
            shapely.box(104.062, 30.662, 104.066, 30.666),  # overlaps the first
            shapely.box(104.070, 30.660, 104.072, 30.662), None]
    g = gpd.GeoDataFrame({"name": ["甲", "乙", "丙", "丁"], "households": [500, 300, 200, 100]},
                         geometry=poly, crs=4326)
    p = tmp_path / "aoi.geojson"
    g.to_file(p)
    with pytest.warns(DataWarning) as rec:
        c = compounds_from_file(p, coords="gcj02")
    msgs = " | ".join(str(w.message) for w in rec)
    assert "1 pairs of compounds overlap (甲 / 乙)" in msgs
    assert "rows [4] have no usable geometry" in msgs
    assert c.attrs["overlapping_pairs"] == [("cp1", "cp2")]
    raw = shapely.get_coordinates(poly[0])
    got = shapely.get_coordinates(c.geometry.iloc[0])
    wx, wy = to_wgs84(raw[:, 0], raw[:, 1], "gcj02")
    assert np.allclose(got, np.column_stack([wx, wy]), rtol=0, atol=1e-9)
    assert compound_overlaps(c.iloc[[0, 2]], warn=False) == []


def test_bad_files_are_refused(tmp_path):
    with pytest.raises(InputError, match="compound file not found"):
        compounds_from_file(tmp_path / "none.csv")
    p = _csv(tmp_path, {"名称": ["甲"], "户数": [10]})
    with pytest.raises(InputError, match="no longitude/latitude columns"):
        compounds_from_file(p)
    p = _csv(tmp_path, {"名称": ["甲"], "经度": [""], "纬度": [""], "户数": [10]}, name="b.csv")
    with pytest.raises(InputError, match="no row has a usable geometry"), \
            pytest.warns(DataWarning):
        compounds_from_file(p)
    with pytest.raises(InputError, match="not one of"):
        compounds_from_file(p, coords="gps")
    p = _csv(tmp_path, {"名称": ["甲", "乙"], "经度": [30.66, 30.67], "纬度": [104.06, 104.07],
                        "户数": [10, 20]}, name="swapped.csv")
    with pytest.raises(InputError, match="look swapped"):
        compounds_from_file(p)


# --------------------------------------------------------------------------------------------
# population
# --------------------------------------------------------------------------------------------


def test_population_from_compounds_conserves_residents_on_buildings():
    comp = _compounds()
    comp.loc[2, "geometry"] = shapely.Point(2800, 100)  # a point compound
    b = gpd.GeoDataFrame({"floor_area_m2": [3000.0, 1000.0]},
                         geometry=[shapely.box(10, 20, 40, 50), shapely.box(150, 150, 190, 190)],
                         crs=UTM)
    cells = population_from_compounds(comp, crs=UTM, cell_size_m=100, buildings=b)
    assert cells["pop_total"].sum() == pytest.approx(1310 + 655 + 262)
    rep = cells.attrs["report"]
    assert rep["source"] == "compounds" and rep["compounds_used"] == 3
    assert rep["pop_on_grid"] == pytest.approx(rep["pop_read"])
    # A's residents sit on its two buildings, 3:1 by floor area
    a = cells.set_index("cell_id")["pop_total"]
    assert a["0_0"] == pytest.approx(1310 * 0.75) and a["1_1"] == pytest.approx(1310 * 0.25)
    assert a["28_1"] == pytest.approx(262)  # the point compound at its point
    assert set(cells["pop_method"]) == {"compounds"}
    # a compound without residents adds none; none at all is refused
    none = _compounds(residents=[np.nan] * 3, households=[np.nan] * 3)
    with pytest.raises(InputError, match="no compound gives households"):
        population_from_compounds(none, crs=UTM)


# --------------------------------------------------------------------------------------------
# scenario and command line
# --------------------------------------------------------------------------------------------


def test_scenario_compounds_section(tmp_path):
    p = _csv(tmp_path, {"名称": ["甲"], "lon": [104.06], "lat": [30.66], "户数": [10]})
    sc = scenario_from_dict({"area": {"place": "x"},
                             "compounds": {"file": p.name, "crs": "gcj02", "new_from_year": 2015,
                                           "elderly_m2_per_100_households_new": 25}},
                            base_dir=tmp_path)
    assert sc.compounds.file == p and sc.compounds.crs == "gcj02"
    assert sc.compounds.elderly_m2_per_100_households_new == 25
    assert scenario_from_dict({"area": {"place": "x"},
                               "compounds": {"file": "osm"}}).compounds.file == "osm"
    with pytest.raises(ScenarioError) as e:
        scenario_from_dict({"compounds": {"file": "osm", "crs": "utm", "population": "maybe",
                                          "new_from_year": 3024, "childcare_m2_per_place": 0,
                                          "colour": 1}})
    msg = str(e.value)
    assert "compounds.colour: unknown key" in msg
    with pytest.raises(ScenarioError) as e:
        Scenario(compounds=Compounds(file="osm", crs="utm", population="maybe",
                                     new_from_year=3024, childcare_m2_per_place=0))
    msg = str(e.value)
    for part in ("needs an OSM source", "'utm' is not one of", "'maybe' is not one of",
                 "3024 is not a year", "childcare_m2_per_place: must be a number > 0"):
        assert part in msg
    with pytest.raises(ScenarioError, match=r"compounds.file \(--compounds\): file not found"):
        Scenario(compounds=Compounds(file=tmp_path / "无此文件.csv"))


def test_compounds_are_a_population_source_for_the_run():
    from care15.pipeline import input_problems
    from care15.scenario import Area

    area = Area(place="x")
    assert any("no population" in m for m in input_problems(Scenario(area=area)))
    assert not any("no population" in m for m in input_problems(
        Scenario(area=area, compounds=Compounds(file="osm"))))
    assert any("no population" in m for m in input_problems(
        Scenario(area=area, compounds=Compounds(file="osm", population="no"))))


def test_cli_flags_set_the_compounds(tmp_path):
    from care15.cli import _scenario, build_parser

    p = _csv(tmp_path, {"名称": ["甲"], "lon": [104.06], "lat": [30.66], "户数": [10]})
    args = build_parser().parse_args(["analyze", "--place", "x", "--compounds", str(p),
                                      "--compounds-crs", "gcj02"])
    sc = _scenario(args)
    assert sc.compounds.file == p and sc.compounds.crs == "gcj02"
    args = build_parser().parse_args(["analyze", "--place", "x", "--compounds", "osm"])
    assert _scenario(args).compounds.file == "osm"


# --------------------------------------------------------------------------------------------
# real data
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chengdu_compounds(chengdu_pbf, chengdu_net):
    return compounds_from_osm(chengdu_pbf, crs=chengdu_net.crs)


def test_chengdu_osm_compounds_are_estimated(chengdu_compounds):
    c = chengdu_compounds
    assert len(c) == 186  # landuse=residential polygons of the extract
    assert c["households_estimated"].all() and (c["source"] == "osm").all()
    assert (c["households"] > 0).all()
    assert (c["residents"] <= c.area / 1e4 * 1500 + 1e-6).all()  # the density ceiling
    assert (c["name"] != c["compound_id"]).sum() > 150  # named ones keep their names
    assert set(c["households_basis"]) <= {"buildings", "landuse area"}


def test_chengdu_compounds_gcj02_declared_wgs84_warn(tmp_path, chengdu_net, chengdu_compounds):
    """AOI polygons exported from AMap (GCJ-02) but declared WGS-84: the outlines stop
    following the streets, and the check names --compounds-crs."""
    g = chengdu_compounds.to_crs(4326)

    def _gcj(xy):
        return np.column_stack(from_wgs84(xy[:, 0], xy[:, 1], "gcj02"))

    shifted = gpd.GeoDataFrame({"name": g["name"], "户数": g["households"].round()},
                               geometry=shapely.transform(g.geometry.to_numpy(), _gcj), crs=4326)
    p = tmp_path / "aoi_gcj02.geojson"
    shifted.to_file(p)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # overlaps of the OSM polygons
        wrong = compounds_from_file(p, coords="wgs84")
        right = compounds_from_file(p, coords="gcj02")
    with pytest.warns(DataWarning, match="the compounds fit.*--compounds-crs gcj02"):
        res = check_compound_datum(wrong, chengdu_net, declared="wgs84")
    assert res is not None and res["suggested"] == "gcj02"
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        ok = check_compound_datum(right, chengdu_net, declared="gcj02")
    assert ok is not None and ok["suggested"] is None


def test_harbin_compounds_end_to_end(tmp_path):
    """The Harbin extract: OSM compounds, population from them, the compound table written."""
    from care15.pipeline import RunOptions, run
    from care15.scenario import Area, Inputs

    pbf = shared_file("osm", "cn", "cn_harbin_central_2026.osm.pbf")
    fac = tmp_path / "设施.csv"
    pd.DataFrame({"机构名称": ["南岗区居家养老服务中心", "道里区日间照料中心", "哈尔滨托育园",
                           "群力幼儿园"],
                  "类型": ["居家养老服务中心", "日间照料中心", "托育机构", "幼儿园"],
                  "经度": [126.6400, 126.6000, 126.6500, 126.5600],
                  "纬度": [45.7500, 45.7700, 45.7400, 45.7300],
                  "建筑面积": [150, 600, 480, 300], "托位": ["", "", 60, 30]}).to_csv(
        fac, index=False, encoding="utf-8-sig")
    sc = Scenario(area=Area(name="哈尔滨", pbf=pbf), inputs=Inputs(facilities=fac),
                  compounds=Compounds(file="osm"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        r = run(sc, tmp_path / "out", options=RunOptions(maps=False, figures=False,
                                                          report=False, verbose=False))
    assert len(r.region.compounds) > 1600
    pop = r.summary["population_report"]
    assert pop["source"] == "compounds"
    assert r.region.cells["pop_total"].sum() == pytest.approx(
        r.region.compounds["residents"].sum(), rel=1e-9)
    table = pd.read_csv(tmp_path / "out" / "compounds.csv", encoding="utf-8-sig")
    short = pd.read_csv(tmp_path / "out" / "short_compounds.csv", encoding="utf-8-sig")
    assert set(short["category"]) == {"elderly", "childcare"}
    assert (short.groupby("category")["rank"].min() == 1).all()
    assert len(table) == len(r.region.compounds)
    assert {"elderly_norm_status", "childcare_places_shortfall",
            "elderly_sites_under_min_m2"} <= set(table.columns)
    s = json.loads((tmp_path / "out" / "summary.json").read_text(encoding="utf-8"))
    assert s["compounds"]["compounds"] == len(table)
    assert s["compounds"]["elderly"]["met"] + s["compounds"]["elderly"]["short"] + \
        s["compounds"]["elderly"]["unknown"] == len(table)
    # the 150 m² centre serves compounds and is flagged under the 200 m² site minimum
    assert table["elderly_sites_under_min_m2"].sum() > 0
    xl = pd.read_excel(tmp_path / "out" / "compounds.xlsx", sheet_name=None)
    assert "小区清单" in xl and "养老配建达标情况" in xl["小区清单"].columns
    # the minutes come through the gates: OSM gates and entrances (117 nodes, a few on the
    # outlines of residential areas), street crossings, else the nearest streets
    c = s["compounds"]
    assert 0 < c["with_mapped_gates"] < len(table)
    assert 0 < c["mapped_gates_share"] < 0.1
    assert sum(c["by_gate_source"].values()) == len(table)
    assert set(c["by_gate_source"]) <= {"osm_gate", "osm_entrance", "boundary_crossing",
                                        "nearest_street", "none"}
    assert (table["gate_source"] != "none").sum() == len(table) - c["by_gate_source"].get(
        "none", 0)
    assert table["gates_mapped"].sum() == c["with_mapped_gates"]
    assert c["closed_compounds"] is True
    for cat in ("elderly", "childcare"):
        for suf in ("", "_direct"):
            assert 0 <= c[cat][f"covered_rate{suf}"] <= 1
            m = table[f"{cat}_walk_min{suf}"].to_numpy(float)
            # finite, or unreachable (blank in the CSV, counted in the summary)
            assert np.isnan(m).sum() == c[cat][f"unreachable{suf}"] < len(table) / 100
            assert c[cat][f"median_walk_min{suf}"] == pytest.approx(np.median(m[np.isfinite(m)]),
                                                                    abs=1e-3)
        share = table[f"{cat}_share_covered"]
        assert share.between(0, 1).all()
        # a compound counts as covered when its residents' mean walk through the gates is
        # within 15 minutes; most of its residents are then within too
        assert (share[table[f"{cat}_covered"]] > 0).all()
        # walking through the gates is never much shorter than joining the nearest street
        fin = np.isfinite(table[f"{cat}_walk_min"]) & np.isfinite(table[f"{cat}_walk_min_direct"])
        assert (table.loc[fin, f"{cat}_walk_min"] + 5 >= table.loc[fin,
                                                                   f"{cat}_walk_min_direct"]).mean() > 0.95
