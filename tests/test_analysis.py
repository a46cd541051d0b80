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


# ---- refresh_tables: one category's facilities changed ------------------------------------

def _arrays(res, c, sc):
    """The per-category inputs of refresh_tables, as analyze computed them in ``res``."""
    from care15.rates import tlabel

    cl = res.cells
    return dict(facilities=res.facilities, walk_min=cl[f"{c}_walk_min"].to_numpy(),
                nearest_id=cl[f"{c}_nearest_facility"].to_numpy(),
                overlay_share={float(t): cl[f"{c}_overlay{tlabel(t)}"].to_numpy()
                               for t in sc.thresholds_min},
                e2sfca_per_1000=cl[f"{c}_e2sfca_per_1000"].to_numpy(),
                isochrones=res.isochrones.loc[res.isochrones["category"] == c],
                node_distances=res.node_distances[c])


def _assert_same_result(got, want, network, categories):
    """Every table equal; the kept gap pairs of ``categories`` equal a fresh search.

    ``want`` is a plain analysis (which keeps no pairs); a refresh keeps the pairs of the
    categories it recomputed, for the next refresh.
    """
    from care15.gaps import gap_pairs

    for name in ("cells", "communities", "gaps", "short", "isochrones", "facilities"):
        pd.testing.assert_frame_equal(getattr(got, name), getattr(want, name), check_exact=True,
                                      obj=name)
    assert got.summary == want.summary
    assert got.notes == want.notes
    assert want.gap_pairs == {}
    assert set(categories) <= set(got.gap_pairs)
    for c in categories:
        p = got.gap_pairs[c]
        grp = {"elderly": "pop_60plus", "childcare": "pop_0to3"}[c]
        wm = want.cells[f"{c}_walk_min"].to_numpy()
        gap = ~(wm <= 15.0) & (want.cells[grp].to_numpy() > 0)
        np.testing.assert_array_equal(p.gap, gap)
        fresh = gap_pairs(network, want.cell_snap, gap, p.limit_m)
        np.testing.assert_array_equal(p.rows, fresh.rows)
        np.testing.assert_array_equal(p.cols, fresh.cols)


def _refresh(before, after, network, sc, c):
    from care15.analysis import refresh_tables

    pre = [n for n in after.notes if "have no residents" not in n]
    return refresh_tables(before, network, sc, c, notes=pre, **_arrays(after, c, sc))


@pytest.mark.parametrize("change", ["add", "remove", "move"])
def test_refresh_equals_a_new_analysis(demo_region, demo_result, change):
    """A what-if on the demo: add a facility at the best gap site, remove one, move one."""
    import dataclasses

    from care15.region import demo_scenario

    sc = demo_scenario()
    fac = demo_region.facilities
    c = "elderly" if change != "remove" else "childcare"
    first = fac.index[(fac["category"] == c).to_numpy()][0]
    gap = demo_result.gaps.loc[demo_result.gaps["category"] == c].iloc[0]
    site = gpd.GeoSeries([shapely.Point(gap["closing_site_lon"], gap["closing_site_lat"])],
                         crs=4326).to_crs(fac.crs).iloc[0]
    if change == "add":
        row = fac.loc[[first]].copy()
        row["facility_id"] = "new"
        row = row.set_geometry([site], crs=fac.crs)
        new_fac = pd.concat([fac, row], ignore_index=True)
    elif change == "remove":
        new_fac = fac.drop(index=first)
    else:
        new_fac = fac.copy()
        new_fac.loc[first, "geometry"] = site
    after = analyze(dataclasses.replace(demo_region, facilities=new_fac), sc)
    assert not after.cells[f"{c}_walk_min"].equals(demo_result.cells[f"{c}_walk_min"])
    from care15.plan import Plan

    net = demo_region.network
    with_pairs = Plan(demo_region, sc).base  # keeps every category's pairs, to be reused
    assert set(with_pairs.gap_pairs) == set(sc.categories)
    got = _refresh(with_pairs, after, net, sc, c)
    _assert_same_result(got, after, net, [c])
    _assert_same_result(_refresh(demo_result, after, net, sc, c), after, net, [c])
    # the earlier result is left as it was
    pd.testing.assert_frame_equal(demo_result.gaps, analyze(demo_region, sc).gaps)
    # without the earlier pairs of gap cells (a cached or tiled result): same tables, and
    # the pairs of the changed category for the next refresh
    bare = dataclasses.replace(demo_result, gap_pairs={})
    _assert_same_result(_refresh(bare, after, net, sc, c), after, net, [c])


def test_refresh_on_the_street_and_checks(street):
    """Gap tables that become empty and fill again; the unchanged category has no gap."""
    import dataclasses

    from care15.analysis import refresh_tables

    fac, cells, comms = _layers(with_childcare=True)
    fac = pd.concat([fac, fac.iloc[[0, 0]]], ignore_index=True)
    fac["facility_id"] = ["e1", "c1", "e2", "e3"]
    fac.loc[2:, "geometry"] = gpd.GeoSeries([shapely.Point(1000, 0), shapely.Point(2000, 0)],
                                            crs=UTM).to_crs(fac.crs).to_numpy()
    sc = Scenario()
    region = Region(name="test", network=street, facilities=fac, cells=cells, communities=comms)
    before = analyze(region, sc)
    assert (before.gaps["category"] == "childcare").all() and len(before.gaps) == 1
    added = pd.concat([fac, fac.iloc[[1, 1]]], ignore_index=True)  # childcare all along
    added.loc[4:, "facility_id"] = ["c2", "c3"]
    added.loc[4:, "geometry"] = gpd.GeoSeries([shapely.Point(0, 0), shapely.Point(1000, 0)],
                                              crs=UTM).to_crs(fac.crs).to_numpy()
    after = analyze(dataclasses.replace(region, facilities=added), sc)
    assert len(after.gaps) == 0
    got = _refresh(before, after, street, sc, "childcare")
    _assert_same_result(got, after, street, ["childcare"])
    # and back: the removed facility opens the gap again (cells that became gaps searched)
    _assert_same_result(_refresh(got, before, street, sc, "childcare"), before, street,
                        ["childcare"])
    with pytest.raises(ValueError, match="categories"):
        refresh_tables(before, street, sc, "school", **_arrays(after, "childcare", sc))
    bad = _arrays(after, "childcare", sc) | {"walk_min": np.zeros(3)}
    with pytest.raises(ValueError, match="one value per cell"):
        refresh_tables(before, street, sc, "childcare", **bad)
