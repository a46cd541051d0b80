"""care15.plan: every what-if edit gives what a full analysis of the edited list gives."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import shapely

import care15
from care15._errors import InputError
from care15.analysis import analyze
from care15.plan import Plan
from care15.region import Region
from care15.scenario import Scenario

DIAG = ["access_m", "on_network", "network_piece", "community_id", "community_name"]


def _full(region: Region, plan: Plan, sc: Scenario):
    """``analyze`` on the plan's facility list, as a planner would re-run it."""
    fac = plan.facilities.drop(columns=[c for c in DIAG if c in plan.facilities.columns])
    return analyze(Region(region.name, region.network, fac, region.cells, region.communities), sc)


def _frames_equal(a: pd.DataFrame, b: pd.DataFrame, what: str) -> None:
    ga = a.geometry.values if "geometry" in a.columns else None
    gb = b.geometry.values if "geometry" in b.columns else None
    pd.testing.assert_frame_equal(pd.DataFrame(a).drop(columns="geometry", errors="ignore"),
                                  pd.DataFrame(b).drop(columns="geometry", errors="ignore"),
                                  check_exact=False, rtol=1e-9, obj=what)
    if ga is not None:
        assert shapely.equals(ga, gb).all() or np.allclose(shapely.area(ga), shapely.area(gb),
                                                           rtol=1e-9), what


def assert_same_result(res, full) -> None:
    """Every table of two CoverageResults equal (isochrone polygons included)."""
    for name in ("cells", "communities", "gaps", "short", "isochrones"):
        _frames_equal(getattr(res, name), getattr(full, name), name)
    _frames_equal(res.facilities.reset_index(drop=True), full.facilities.reset_index(drop=True),
                  "facilities")
    assert res.notes == full.notes
    assert care15.summary_table(res).equals(care15.summary_table(full))


def _random_edits(plan: Plan, region: Region, sc: Scenario, n: int, seed: int) -> None:
    """``n`` random edits, each checked against a full analysis."""
    rng = np.random.default_rng(seed)
    net = region.network
    nodes = net.nodes_gdf().to_crs(4326)
    for _ in range(n):
        fac = plan.facilities
        kind = rng.choice(["add", "move", "remove", "resize"] if len(fac) else ["add"])
        k = int(rng.integers(len(nodes)))
        # a little off the node, so that points join edges, not nodes
        lon = nodes.geometry.x.iloc[k] + rng.normal(0, 2e-4)
        lat = nodes.geometry.y.iloc[k] + rng.normal(0, 2e-4)
        if kind == "add":
            plan.add_facility(str(rng.choice(["elderly", "childcare"])), lon, lat,
                              capacity=float(rng.integers(10, 80)))
        else:
            fid = str(fac["facility_id"].iloc[int(rng.integers(len(fac)))])
            if kind == "move":
                plan.move_facility(fid, lon, lat)
            elif kind == "remove":
                plan.remove_facility(fid)
            else:
                plan.set_capacity(fid, float(rng.integers(0, 100)))
        assert_same_result(plan.result(), _full(region, plan, sc))


def test_demo_random_edits_equal_a_full_analysis(demo_region):
    sc = care15.demo_scenario()
    plan = Plan(demo_region, sc)
    assert_same_result(plan.base, analyze(demo_region, sc))
    _random_edits(plan, demo_region, sc, 8, seed=3)
    assert len(plan.edits) == 8


def test_remove_every_facility_of_a_category_then_add_one(demo_region):
    sc = care15.demo_scenario()
    plan = Plan(demo_region, sc)
    child = plan.facilities.loc[lambda f: f["category"] == "childcare", "facility_id"].tolist()
    for fid in child:
        plan.remove_facility(fid)
    res = plan.result()
    assert not res.cells["childcare_covered"].any()
    assert_same_result(res, _full(demo_region, plan, sc))
    c = demo_region.network.nodes_gdf().to_crs(4326).geometry.iloc[100]
    plan.add_facility("childcare", c.x, c.y, facility_id=child[0], capacity=20)
    res = plan.result()
    assert res.cells["childcare_covered"].any()
    assert_same_result(res, _full(demo_region, plan, sc))
    d = plan.diff()
    assert set(d.cells["status"]) <= {"newly_covered", "newly_uncovered"}
    assert d.headline["after"].between(0, 1).all()


def test_grid_random_edits_equal_a_full_analysis():
    import geopandas as gpd

    from care15.synthetic import grid_cells_population, grid_network

    net = grid_network(40)
    cells = grid_cells_population(net, 400)
    rng = np.random.default_rng(0)
    pick = rng.choice(net.n_edges, 12, replace=False)
    fac = gpd.GeoDataFrame({"facility_id": [f"f{i}" for i in range(12)],
                            "category": ["elderly", "childcare"] * 6,
                            "beds": 30.0, "places": 20.0},
                           geometry=shapely.line_interpolate_point(
                               net.edge_geometry[pick], 0.3, normalized=True),
                           crs=net.crs).to_crs(4326)
    x0, y0, x1, y1 = net.bounds
    comm = gpd.GeoDataFrame({"community_id": ["w", "e"], "community_name": ["西", "东"]},
                            geometry=[shapely.box(x0, y0, (x0 + x1) / 2, y1),
                                      shapely.box((x0 + x1) / 2, y0, x1, y1)], crs=net.crs)
    region = Region("grid", net, fac, cells, comm)
    sc = Scenario()
    plan = Plan(region, sc)
    _random_edits(plan, region, sc, 10, seed=5)


def test_chengdu_random_edits_equal_a_full_analysis(chengdu_pbf, tmp_path):
    from care15.chinacoords import from_wgs84
    from care15.region import region_from_scenario

    net = care15.network_from_pbf(chengdu_pbf)
    rng = np.random.default_rng(2)
    ll = net.nodes_gdf().to_crs(4326).iloc[rng.choice(np.flatnonzero(net.component == 0), 16,
                                                      replace=False)]
    lon, lat = from_wgs84(ll.geometry.x.to_numpy(), ll.geometry.y.to_numpy(), "gcj02")
    f = tmp_path / "成都设施.csv"
    pd.DataFrame({"机构名称": [f"点{i}" for i in range(16)],
                  "类型": ["养老院", "托育机构"] * 8, "经度": lon, "纬度": lat,
                  "床位": [40, ""] * 8, "托位": ["", 30] * 8}).to_csv(f, index=False,
                                                                   encoding="utf-8-sig")
    sc = Scenario().with_(area__pbf=chengdu_pbf, inputs__facilities=f,
                          inputs__facilities_crs="gcj02", inputs__total_population=800_000)
    region = region_from_scenario(sc)
    plan = Plan(region, sc)
    _random_edits(plan, region, sc, 6, seed=11)


def test_edits_in_gcj02_land_where_the_wgs84_point_is(demo_region):
    sc = care15.demo_scenario()
    plan = Plan(demo_region, sc)
    fid = plan.add_facility("elderly", 24.945, 60.165, crs="gcj02")
    got = plan.facilities.set_index("facility_id").geometry[fid]
    # outside China GCJ-02 is WGS-84 itself; inside, the point is shifted back
    assert got.distance(shapely.Point(24.945, 60.165)) < 1e-9
    x, _ = care15.to_wgs84(np.array([116.39]), np.array([39.91]), "gcj02")
    assert abs(x[0] - 116.39) > 1e-4


def test_plan_mistakes_are_input_errors(demo_region):
    sc = care15.demo_scenario()
    plan = Plan(demo_region, sc)
    with pytest.raises(InputError, match="no facility"):
        plan.move_facility("nope", 24.9, 60.1)
    with pytest.raises(InputError, match="not one of"):
        plan.add_facility("hospital", 24.9, 60.1)
    fid = plan.facilities["facility_id"].iloc[0]
    with pytest.raises(InputError, match="already"):
        plan.add_facility("elderly", 24.9, 60.1, facility_id=fid)
    with pytest.raises(InputError, match="capacity"):
        plan.set_capacity(fid, -3)
    with pytest.raises(InputError, match="plan row 2"):
        plan.apply(pd.DataFrame({"action": ["resize", "demolish"], "facility_id": [fid, fid],
                                 "capacity": [10, None]}))
    assert plan.edits[-1]["action"] == "resize"


def test_a_result_does_not_change_with_later_edits(demo_region):
    sc = care15.demo_scenario()
    plan = Plan(demo_region, sc)
    fid = plan.facilities.loc[lambda f: f["category"] == "elderly", "facility_id"].iloc[0]
    plan.remove_facility(fid)
    first = plan.result()
    area = first.isochrones.set_index(["category", "threshold_min"])["area_km2"].copy()
    cells = first.cells["elderly_walk_min"].copy()
    c = demo_region.network.nodes_gdf().to_crs(4326).geometry.iloc[10]
    plan.add_facility("elderly", c.x, c.y)
    plan.result()
    assert first.isochrones.set_index(["category", "threshold_min"])["area_km2"].equals(area)
    assert first.cells["elderly_walk_min"].equals(cells)
