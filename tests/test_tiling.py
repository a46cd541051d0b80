"""Tiled analysis equals the untiled one cell for cell up to the longest threshold."""

from __future__ import annotations

import dataclasses
import logging
import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from care15.analysis import analyze
from care15.network import WalkNetwork
from care15.region import Region
from care15.scenario import Scenario
from care15.synthetic import grid_cells_population, grid_network
from care15.tiling import (
    analyze_tiled,
    network_subset,
    plan_tiles,
    tile_halo_m,
)


def synthetic_layers(net: WalkNetwork, *, n_fac: int = 10, n_cells: int = 400,
                     cell_size_m: float = 100.0, seed: int = 0, prefix: str = "f"):
    """Random facilities (both categories, with capacities), populated cells and 2×2
    communities over a network's extent; facilities in EPSG:4326."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = net.bounds
    fac = gpd.GeoDataFrame({
        "facility_id": [f"{prefix}{i}" for i in range(n_fac)],
        "name": [f"设施{i}" for i in range(n_fac)],
        "category": (["elderly", "childcare"] * n_fac)[:n_fac], "subtype": "x",
        "beds": rng.integers(10, 60, n_fac).astype(float),
        "places": rng.integers(10, 40, n_fac).astype(float),
        "floor_area_m2": 300.0, "counts_as_supply": True,
    }, geometry=shapely.points(rng.uniform(x0, x1, n_fac), rng.uniform(y0, y1, n_fac)),
        crs=net.crs).to_crs(4326)
    cells = grid_cells_population(net, n_cells, cell_size_m=cell_size_m, seed=seed)
    xm, ym = (x0 + x1) / 2, (y0 + y1) / 2
    comm = gpd.GeoDataFrame({"community_id": ["a", "b", "c", "d"],
                             "community_name": ["甲", "乙", "丙", "丁"]},
                            geometry=[shapely.box(x0, y0, xm, ym), shapely.box(xm, y0, x1, ym),
                                      shapely.box(x0, ym, xm, y1), shapely.box(xm, ym, x1, y1)],
                            crs=net.crs)
    return fac, cells, comm


def assert_tiled_equals_untiled(plain, tiled, sc: Scenario) -> None:
    """The contract of care15.tiling: exact up to the longest threshold, capped beyond."""
    tmax = max(sc.thresholds_min)
    a, b = plain.cells, tiled.cells
    assert len(a) == len(b)
    np.testing.assert_array_equal(a["cell_id"], b["cell_id"])
    for c in sc.categories:
        u = a[f"{c}_walk_min"].to_numpy()
        t = b[f"{c}_walk_min"].to_numpy()
        within = u <= tmax
        assert within.any() and (~within).any()
        np.testing.assert_allclose(t[within], u[within], rtol=1e-12, atol=1e-9)
        far = np.isfinite(u) & ~within  # beyond the longest threshold: not computed
        assert np.isnan(t[far]).all()
        np.testing.assert_array_equal(np.isinf(t), np.isinf(u))  # unreachable stays unreachable
        # both say "beyond the longest threshold" for the same cells
        np.testing.assert_array_equal(~(t <= tmax), ~within)
        assert (a[f"{c}_band"] == b[f"{c}_band"]).all()
        assert (a[f"{c}_covered"] == b[f"{c}_covered"]).all()
        na = a[f"{c}_nearest_facility"].to_numpy()[within]
        nb = b[f"{c}_nearest_facility"].to_numpy()[within]
        assert (na == nb).all()
        assert b.loc[far, f"{c}_nearest_facility"].isna().all()
        np.testing.assert_allclose(b[f"{c}_e2sfca_per_1000"], a[f"{c}_e2sfca_per_1000"],
                                   rtol=1e-9, atol=1e-9)
        for thr in sc.thresholds_min:
            col = f"{c}_overlay{thr:g}"
            np.testing.assert_allclose(b[col], a[col], atol=0.03)
    for col in ("access_m", "on_network", "network_piece", "community_id"):
        np.testing.assert_array_equal(b[col].to_numpy(), a[col].to_numpy())
    # community tables and headline figures built on those times are identical
    ca = plain.communities.set_index("community_id")
    cb = tiled.communities.set_index("community_id").loc[ca.index]
    rate_cols = [c for c in ca.columns if "_cov" in c or c.endswith(
        ("_shortfall_people", "_e2sfca_per_1000", "_n_facilities", "_capacity_per_1000"))]
    np.testing.assert_allclose(cb[rate_cols].to_numpy(float), ca[rate_cols].to_numpy(float),
                               rtol=1e-9, atol=1e-9)
    for c in sc.categories:
        sa, sb = plain.summary["categories"][c], tiled.summary["categories"][c]
        for thr in sa["thresholds"]:
            for g in ("total", "60plus", "0to3"):
                assert sb["thresholds"][thr][g]["share"] == pytest.approx(
                    sa["thresholds"][thr][g]["share"], abs=1e-12)
        assert sb["target_met"] == sa["target_met"]
        assert sb["n_facilities"] == sa["n_facilities"]
    # the same gap clusters (same cells), ranked the same
    ga, gb = plain.gaps, tiled.gaps
    assert list(ga["gap_id"]) == list(gb["gap_id"])
    np.testing.assert_allclose(gb["uncovered_target"], ga["uncovered_target"])
    # isochrones: the union of the tiles' polygons is the same area
    np.testing.assert_allclose(tiled.isochrones["area_km2"], plain.isochrones["area_km2"],
                               rtol=0.01)
    fa, fb = plain.facilities, tiled.facilities
    for col in ("access_m", "on_network", "network_piece", "community_id"):
        np.testing.assert_array_equal(fb[col].to_numpy(), fa[col].to_numpy())
    assert tiled.summary["tiling"]["tiles"] > 1
    assert any("tiles" in n for n in tiled.notes)


def test_halo_width():
    sc = Scenario()
    halo, fac = tile_halo_m(sc, cell_radius_m=50 * math.sqrt(2))
    d = 15 * 60 * 0.9  # childcare walks fastest
    assert fac == pytest.approx(d + 50 + 50 * math.sqrt(2))
    assert halo == pytest.approx(fac + 250)
    sc2 = sc.with_(categories=("elderly",), analysis__max_access_m=100.0)
    assert tile_halo_m(sc2)[0] == pytest.approx(15 * 60 * 0.8 + 50 + 100 * math.sqrt(2) / 2 + 100)


def test_network_subset_keeps_whole_edges():
    net = grid_network(8, seed=1)
    edges = np.array([5, 2, 9, 2])
    sub, nodes = network_subset(net, edges)
    assert sub.n_edges == 3
    np.testing.assert_array_equal(nodes[sub.edge_u], net.edge_u[[2, 5, 9]])
    np.testing.assert_array_equal(nodes[sub.edge_v], net.edge_v[[2, 5, 9]])
    np.testing.assert_array_equal(sub.edge_length_m, net.edge_length_m[[2, 5, 9]])
    np.testing.assert_array_equal(sub.node_id, net.node_id[nodes])


def test_plan_covers_every_cell_once(caplog):
    net = grid_network(60, spacing_m=80)
    fac, cells, _ = synthetic_layers(net, n_cells=1500)
    sc = Scenario()
    plan = plan_tiles(net, fac, cells, sc, max_cells=300)
    assert plan.tiled and plan.side_m >= plan.halo_m
    assert sum(t.n_cells for t in plan.tiles) == len(cells)
    assert max(t.n_cells for t in plan.tiles) <= 300
    assert plan_tiles(net, fac, cells, sc).tiled is False  # defaults: one task
    with caplog.at_level(logging.WARNING, logger="care15.tiling"):
        small = plan_tiles(net, fac, cells, sc, max_nodes=10)
    assert small.side_m >= small.halo_m
    assert any("cannot be smaller than" in r.getMessage() for r in caplog.records)
    with pytest.raises(ValueError, match="max_nodes"):
        plan_tiles(net, fac, cells, sc, max_nodes=0)


def test_tiled_equals_untiled_on_generated_grid():
    net = grid_network(60, spacing_m=80, seed=5)
    fac, cells, comm = synthetic_layers(net, n_fac=14, n_cells=1500, seed=5)
    sc = Scenario()
    plain = analyze(Region(name="test", network=net, facilities=fac, cells=cells,
                          communities=comm), sc)
    tiled = analyze_tiled(Region(name="test", network=net, facilities=fac, cells=cells,
                                 communities=comm), sc, max_nodes=800)
    assert tiled.summary["tiling"]["tiles"] >= 4
    assert_tiled_equals_untiled(plain, tiled, sc)
    # the check has teeth: a halo a third as wide gets seams wrong
    plan = plan_tiles(net, fac, cells, sc, max_nodes=800)
    narrow = dataclasses.replace(plan, halo_m=plan.halo_m / 3,
                                 facility_halo_m=plan.facility_halo_m / 3)
    with pytest.raises(AssertionError):
        assert_tiled_equals_untiled(plain, analyze_tiled(Region(name="test", network=net, facilities=fac, cells=cells,
                                 communities=comm), sc, plan=narrow),
                                    sc)


def test_tiled_equals_untiled_on_helsinki(helsinki_net):
    # the extract is ~1.6 km across: 3 and 5 minute thresholds leave room for several tiles
    from care15.scenario import Targets

    sc = Scenario(thresholds_min=(3.0, 5.0), targets=Targets(coverage_threshold_min=5.0))
    fac, cells, comm = synthetic_layers(helsinki_net, n_fac=12, n_cells=200, cell_size_m=100,
                                        seed=2)
    plain = analyze(Region(name="test", network=helsinki_net, facilities=fac, cells=cells,
                          communities=comm), sc)
    tiled = analyze_tiled(Region(name="test", network=helsinki_net, facilities=fac, cells=cells,
                                 communities=comm), sc, max_cells=60)
    assert tiled.summary["tiling"]["tiles"] >= 3
    assert_tiled_equals_untiled(plain, tiled, sc)


def test_one_tile_is_plain_analyze():
    net = grid_network(20, seed=2)
    fac, cells, comm = synthetic_layers(net, n_cells=100, seed=2)
    a = analyze(Region(name="test", network=net, facilities=fac, cells=cells,
                          communities=comm), Scenario())
    b = analyze_tiled(Region(name="test", network=net, facilities=fac, cells=cells,
                                 communities=comm), Scenario())
    assert "tiling" not in b.summary
    pd.testing.assert_frame_equal(pd.DataFrame(a.cells.drop(columns="geometry")),
                                  pd.DataFrame(b.cells.drop(columns="geometry")))
