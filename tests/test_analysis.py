"""End-to-end analysis on a hand-made street with exact expected rates."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from helpers import UTM, street_case

from care15.analysis import analyze, overlay_shares
from care15.region import Region
from care15.scenario import Scenario


@pytest.fixture
def street():
    return street_case()[0]


def _layers(with_childcare=False):
    return street_case(with_childcare)[1:]


def test_exact_rates_and_shortfalls(street):
    fac, cells, comms = _layers()
    res = analyze(Region(name="test", network=street, facilities=fac, cells=cells,
                          communities=comms), Scenario())
    c = res.cells
    # elderly walk 0.8 m/s: cell k is 100 + 100 k metres away (50 m leg + along the street)
    np.testing.assert_allclose(c["elderly_walk_min"], (100 + 100 * np.arange(20)) / 0.8 / 60)
    assert c["elderly_covered"].sum() == 7  # 100..700 m <= 720 m
    assert list(c["elderly_band"][:3]) == ["≤5", "≤5", "≤10"]
    assert c["elderly_band"].iloc[-1] == ">15"
    assert (c["childcare_band"] == "unreachable").all()
    m = res.communities.set_index("community_id")
    assert m.loc["A", "elderly_cov15_60plus"] == pytest.approx(0.7)
    assert m.loc["B", "elderly_cov15_60plus"] == 0
    assert np.isnan(m.loc["C", "elderly_cov15_60plus"])  # no residents: undefined, not 0
    assert m.loc["A", "elderly_cov5_60plus"] == pytest.approx(0.2)  # 100, 200 m <= 240 m
    assert m.loc["A", "elderly_shortfall_people"] == 40  # 0.9 × 200 − 140
    assert m.loc["B", "elderly_shortfall_people"] == 180
    assert m.loc["A", "elderly_target_met"] is False or m.loc["A", "elderly_target_met"] == False  # noqa: E712
    assert m.loc["C", "elderly_target_met"] is None
    assert m.loc["A", "elderly_n_facilities"] == 1 and bool(m.loc["A", "elderly_has_facility"])
    assert m.loc["A", "elderly_capacity_per_1000"] == pytest.approx(30 / 200 * 1000)
    # households = 1000 / 2.62; 500 m² per 100 households
    assert m.loc["A", "elderly_area_m2_per_100_households"] == pytest.approx(500 / (1000 / 2.62) * 100)
    # populations conserved between cells and communities
    assert m["pop_total"].sum() == pytest.approx(c["pop_total"].sum())
    # all rates in [0, 1]
    rates = res.communities.filter(regex=r"_cov\d+_").to_numpy(dtype=float)
    rates = rates[~np.isnan(rates)]
    assert len(rates) and ((rates >= 0) & (rates <= 1)).all()
    s = res.summary["categories"]
    assert s["elderly"]["thresholds"]["15"]["60plus"]["share"] == pytest.approx(0.35)
    assert s["elderly"]["communities_with_residents"] == 2
    assert s["elderly"]["community_facility_rate"] == pytest.approx(0.5)
    assert s["childcare"]["thresholds"]["15"]["0to3"]["share"] == 0
    assert any("every resident is a gap" in n for n in res.notes)
    assert any("no residents" in n for n in res.notes)


def test_e2sfca_exact(street):
    fac, cells, comms = _layers()
    res = analyze(Region(name="test", network=street, facilities=fac, cells=cells,
                          communities=comms), Scenario())
    # bands 240/480/720 m, weights 1/.68/.22; cells at 100..700 m, 20 people 60+ each
    wd = 20 * (2 * 1 + 2 * 0.68 + 3 * 0.22)
    r = 30 / wd
    got = res.cells["elderly_e2sfca_per_1000"].to_numpy()
    np.testing.assert_allclose(got[:7], 1000 * r * np.array([1, 1, .68, .68, .22, .22, .22]))
    assert (got[7:] == 0).all()
    assert np.isnan(res.cells["childcare_e2sfca_per_1000"]).all()


def test_gaps_cluster_and_rank(street):
    fac, cells, comms = _layers(with_childcare=True)
    res = analyze(Region(name="test", network=street, facilities=fac, cells=cells,
                          communities=comms), Scenario())
    g = res.gaps[res.gaps.category == "elderly"]
    assert len(g) == 1  # cells 7..19 are one contiguous cluster
    assert g.iloc[0]["n_cells"] == 13
    assert g.iloc[0]["uncovered_pop_60plus"] == pytest.approx(13 * 20)
    assert g.iloc[0]["nearest_walk_min"] == pytest.approx(800 / 0.8 / 60)
    gc = res.gaps[res.gaps.category == "childcare"]
    # childcare at x = 2000, 0.9 m/s: 810 m; cells 12..19 covered, 0..11 a gap
    assert gc.iloc[0]["n_cells"] == 12
    short = res.short[res.short.category == "elderly"]
    assert list(short["community_id"]) == ["B", "A"]  # worst first


def test_overlay_method_differs_and_is_bounded(street):
    fac, cells, comms = _layers()
    res = analyze(Region(name="test", network=street, facilities=fac, cells=cells,
                          communities=comms), Scenario())
    share = res.cells["elderly_overlay15"].to_numpy()
    # the 50 m walk-off covers the lower half of each cell within reach
    np.testing.assert_allclose(share[:7], 0.5, atol=1e-6)
    assert (share >= 0).all() and (share <= 1).all()
    cmp = res.summary["method_comparison"]["elderly"]["15"]["60plus"]
    assert cmp["network"] == pytest.approx(0.35)
    assert cmp["overlay"] < cmp["network"]
    res2 = analyze(Region(name="test", network=street, facilities=fac, cells=cells,
                          communities=comms), Scenario().with_(analysis__coverage_method="overlay"))
    assert res2.summary["categories"]["elderly"]["thresholds"]["15"]["60plus"]["share"] == \
        pytest.approx(cmp["overlay"])


def test_overlay_shares_tiled_equals_direct():
    poly = shapely.Point(0, 0).buffer(1234)
    cells = gpd.GeoDataFrame(geometry=[shapely.box(x, y, x + 100, y + 100)
                                       for x in range(-1500, 1500, 100)
                                       for y in range(-1500, 1500, 100)], crs=UTM)
    direct = shapely.area(shapely.intersection(cells.geometry.values, poly)) / 1e4
    np.testing.assert_allclose(overlay_shares(cells, poly, tile_m=300), direct, atol=1e-9)


def test_cells_far_from_streets_are_reported(street):
    fac, cells, comms = _layers()
    far = gpd.GeoDataFrame({"cell_id": [99], "pop_total": [50.0], "pop_60plus": [10.0],
                            "pop_0to3": [1.0]}, geometry=[shapely.box(500, 900, 600, 1000)], crs=UTM)
    res = analyze(Region(name="test", network=street, facilities=fac, cells=pd.concat([cells, far], ignore_index=True),
                          communities=comms), Scenario())
    assert not res.cells["on_network"].iloc[-1]
    assert np.isinf(res.cells["elderly_walk_min"].iloc[-1])
    assert any("more than 250 m from any walkable street" in n for n in res.notes)
    # outside every community: kept, not dropped
    assert res.communities["pop_total"].sum() == pytest.approx(2050)


def test_overlay_raster_matches_vector():
    poly = shapely.Point(0, 0).buffer(1234).difference(shapely.box(-300, -300, 200, 100))
    cells = gpd.GeoDataFrame(geometry=[shapely.box(x, y, x + 100, y + 100)
                                       for x in range(-1500, 1500, 100)
                                       for y in range(-1500, 1500, 100)], crs=UTM)
    vec = overlay_shares(cells, poly, method="vector")
    ras = overlay_shares(cells, poly, method="raster", subpixels=20)
    assert np.abs(vec - ras).max() < 0.06
    assert abs(vec.sum() - ras.sum()) < 0.01 * vec.sum()
