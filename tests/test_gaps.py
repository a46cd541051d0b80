"""Gap lists: clusters, what would close them, and whole-people rounding of delivered tables."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from helpers import UTM

from care15._rounding import largest_remainder


def test_largest_remainder_keeps_sums_and_stays_within_one():
    rng = np.random.default_rng(7)
    for n in (1, 2, 7, 100, 5000):
        v = rng.gamma(0.7, 40.0, n)
        r = largest_remainder(v)
        assert r.dtype.kind == "i"
        assert int(r.sum()) == round(v.sum())
        assert np.abs(r - v).max() < 1.0
    # the numbers: a community of 235.2069 residents and 89.77 households
    assert largest_remainder(np.array([235.2069, 89.77, 10.0231])).tolist() == [235, 90, 10]
    # whole numbers stay, zeros stay zero, and ties go to the first rows
    assert largest_remainder(np.array([3.0, 0.0, 5.0])).tolist() == [3, 0, 5]
    assert largest_remainder(np.array([0.5, 0.5, 0.5, 0.5])).tolist() == [1, 1, 0, 0]
    # a chosen total, NaN kept as missing
    r = largest_remainder(np.array([1.5, np.nan, 2.5]), total=5)
    assert np.isnan(r[1]) and np.nansum(r) == 5
    with pytest.raises(ValueError):
        largest_remainder(np.array([-1.0, 2.0]))
    with pytest.raises(ValueError):
        largest_remainder(np.array([1.2, 2.2]), total=9)


def test_closing_site_columns(demo_result):
    g = demo_result.gaps
    assert {"closing_site_cover_target", "closing_site_near", "closing_site_lon",
            "closing_site_lat", "nearest_facility"} <= set(g.columns)
    n = g["closing_site_cover_target"].to_numpy(float)
    m = g["uncovered_target"].to_numpy(float)
    assert (n <= m + 1e-9).all() and (n > 0).all()
    assert g["closing_site_near"].notna().all()
    # the site lies inside its gap
    pts = gpd.GeoSeries(shapely.points(g["closing_site_lon"], g["closing_site_lat"]),
                        crs=4326).to_crs(g.crs)
    assert shapely.intersects(g.geometry.buffer(1.0).to_numpy(), pts.to_numpy()).all()


def test_building_the_closing_site_covers_what_the_gap_list_says(demo_region, demo_result):
    """The what-if: add a facility where the gap list says; N of its residents get covered."""
    from care15.analysis import analyze
    from care15.region import demo_scenario

    sc = demo_scenario()
    t = sc.targets.coverage_threshold_min
    for cat in ("elderly", "childcare"):
        gaps = demo_result.gaps
        gap = gaps.loc[gaps["category"] == cat].iloc[0]
        fac = demo_region.facilities
        row = fac.loc[fac["category"] == cat].iloc[[0]].copy()
        row["facility_id"] = "new"
        row["name"] = "新址"
        row = row.set_geometry(gpd.GeoSeries([shapely.Point(gap["closing_site_lon"],
                                                            gap["closing_site_lat"])],
                                             crs=4326, index=row.index).to_crs(fac.crs))
        region = dataclasses.replace(demo_region, facilities=pd.concat([fac, row],
                                                                       ignore_index=True))
        after = analyze(region, sc)
        cells = demo_result.cells
        in_gap = shapely.intersects(gap.geometry.buffer(-1.0), cells.geometry.to_numpy())
        was_gap = in_gap & ~(cells[f"{cat}_walk_min"].to_numpy() <= t)
        grp = {"elderly": "pop_60plus", "childcare": "pop_0to3"}[cat]
        newly = after.cells[f"{cat}_walk_min"].to_numpy() <= t + 1e-9
        covered = float(cells.loc[was_gap & newly, grp].sum())
        assert covered == pytest.approx(gap["closing_site_cover_target"], rel=1e-6), cat


# ---- gap clusters on the cell grid vs the STR-tree path, and reused pairs of gap cells ----

def _grid_case(net, n_cells, n_fac, seed=3):
    """An analysis of random square cells and facilities on ``net`` (cells on one grid)."""
    from care15.analysis import analyze
    from care15.region import Region
    from care15.scenario import Scenario
    from care15.synthetic import grid_cells_population

    rng = np.random.default_rng(seed)
    cells = grid_cells_population(net, n_cells, seed=seed)
    pick = rng.choice(net.n_edges, size=n_fac, replace=False)
    pts = shapely.line_interpolate_point(net.edge_geometry[pick], 0.5, normalized=True)
    fac = gpd.GeoDataFrame({"facility_id": [f"f{i}" for i in range(n_fac)], "name": "",
                            "category": np.where(np.arange(n_fac) % 2 == 0, "elderly",
                                                 "childcare"),
                            "subtype": "", "beds": 30.0, "places": 20.0, "floor_area_m2": 300.0,
                            "counts_as_supply": True}, geometry=pts, crs=net.crs)
    x0, y0, x1, y1 = net.bounds
    comm = gpd.GeoDataFrame({"community_id": ["w", "e"], "community_name": ["西", "东"]},
                            geometry=[shapely.box(x0, y0, (x0 + x1) / 2, y1),
                                      shapely.box((x0 + x1) / 2, y0, x1, y1)], crs=net.crs)
    region = Region(name="t", network=net, facilities=fac, cells=cells, communities=comm)
    sc = Scenario()
    return region, sc, analyze(region, sc)


def _same_gaps(cells, net, snap, sc):
    """Both clustering paths give one table: same clusters, ranks, figures and label points."""
    from care15.gaps import gap_clusters

    n = 0
    for c in sc.categories:
        kw = dict(threshold_min=sc.targets.coverage_threshold_min, network=net, cell_snap=snap,
                  speed_mps=sc.speed_for(c))
        grid = gap_clusters(cells, c, method="grid", **kw)
        tree = gap_clusters(cells, c, method="tree", **kw)
        assert len(grid) == len(tree)
        pd.testing.assert_frame_equal(pd.DataFrame(grid.drop(columns="geometry")),
                                      pd.DataFrame(tree.drop(columns="geometry")),
                                      check_exact=True)
        np.testing.assert_allclose(grid.area.to_numpy(), tree.area.to_numpy(), rtol=1e-6)
        # each cluster's outline holds exactly its cells' area
        np.testing.assert_allclose(grid.area.to_numpy(), grid["n_cells"].to_numpy() * 1e4,
                                   rtol=1e-6)
        assert shapely.is_valid(grid.geometry.to_numpy()).all()
        n += len(grid)
    return n


def test_grid_clusters_equal_tree_clusters_on_a_generated_grid():
    from care15.synthetic import grid_network

    net = grid_network(45)
    _, sc, res = _grid_case(net, 300, 8)
    assert _same_gaps(res.cells, net, res.cell_snap, sc) > 10


def test_grid_clusters_equal_tree_clusters_on_the_demo(demo_region, demo_result):
    from care15.region import demo_scenario

    assert _same_gaps(demo_result.cells, demo_region.network, demo_result.cell_snap,
                      demo_scenario()) > 0


def test_grid_clusters_equal_tree_clusters_on_chengdu(chengdu_net):
    _, sc, res = _grid_case(chengdu_net, 2500, 16)
    assert _same_gaps(res.cells, chengdu_net, res.cell_snap, sc) > 10


def test_clusters_share_corners_and_rank_like_before():
    """Hand-made grid: two clusters joined by a corner, one apart; squares not on the grid
    (shifted) fall back to the tree path; method="grid" refuses them."""
    from care15.gaps import gap_clusters

    xy = [(0, 0), (1, 0), (2, 1), (5, 5), (5, 6), (9, 0)]  # (1,0)-(2,1): corner
    cells = gpd.GeoDataFrame({
        "pop_total": [10.0, 10, 10, 50, 50, 1], "pop_60plus": [2.0, 2, 2, 9, 9, 1],
        "pop_0to3": 0.0, "elderly_walk_min": [20.0, 30, np.inf, 18, 25, 40]},
        geometry=[shapely.box(100 * x, 100 * y, 100 * x + 100, 100 * y + 100) for x, y in xy],
        crs=UTM)
    g = gap_clusters(cells, "elderly", threshold_min=15, method="grid")
    assert g["n_cells"].tolist() == [2, 3, 1]
    assert g["uncovered_pop_60plus"].tolist() == [18.0, 6.0, 1.0]
    assert g["nearest_walk_min"].tolist() == [18.0, 20.0, 40.0]
    assert g.area.tolist() == pytest.approx([2e4, 3e4, 1e4])
    assert g.geometry.iloc[1].geom_type == "MultiPolygon"  # the corner joins the cluster
    pd.testing.assert_frame_equal(pd.DataFrame(g.drop(columns="geometry")), pd.DataFrame(
        gap_clusters(cells, "elderly", threshold_min=15, method="tree").drop(
            columns="geometry")), check_exact=True)
    off = cells.copy()
    off.loc[5, "geometry"] = shapely.box(933, 0, 1033, 100)  # a square off the lattice
    with pytest.raises(ValueError, match="one grid"):
        gap_clusters(off, "elderly", threshold_min=15, method="grid")
    assert gap_clusters(off, "elderly", threshold_min=15)["n_cells"].tolist() == [2, 3, 1]
    dup = pd.concat([cells, cells.iloc[[3]]], ignore_index=True)  # two cells at one place
    with pytest.raises(ValueError, match="one grid"):
        gap_clusters(dup, "elderly", threshold_min=15, method="grid")
    assert gap_clusters(dup, "elderly", threshold_min=15)["n_cells"].tolist() == [3, 3, 1]
    with pytest.raises(ValueError, match="method"):
        gap_clusters(cells, "elderly", threshold_min=15, method="raster")


def test_reused_gap_pairs_equal_a_fresh_search(demo_region, demo_result):
    """Pairs kept from an earlier gap set plus searches from new gap cells only = all pairs."""
    from care15.gaps import gap_pairs

    net, snap = demo_region.network, demo_result.cell_snap
    n = len(demo_result.cells)
    rng = np.random.default_rng(1)
    before = rng.random(n) < 0.6
    after = before.copy()
    flip = rng.choice(n, 20, replace=False)
    after[flip] = ~after[flip]  # some cells close, others open
    assert (after & ~before).any() and (before & ~after).any()
    limit = 15 * 60 * 0.8
    old = gap_pairs(net, snap, before, limit)
    fresh = gap_pairs(net, snap, after, limit)
    reused = gap_pairs(net, snap, after, limit, previous=old)
    assert len(fresh.rows) > 100
    np.testing.assert_array_equal(reused.rows, fresh.rows)
    np.testing.assert_array_equal(reused.cols, fresh.cols)
    np.testing.assert_array_equal(reused.gap, after)
    # another limit: the earlier pairs are not used
    other = gap_pairs(net, snap, after, limit / 2, previous=old)
    assert len(other.rows) < len(fresh.rows)
    np.testing.assert_array_equal(other.rows, gap_pairs(net, snap, after, limit / 2).rows)


def _grid_result():
    from care15.analysis import analyze
    from care15.region import Region
    from care15.scenario import Scenario
    from care15.synthetic import grid_cells_population, grid_network

    net = grid_network(60)
    cells = grid_cells_population(net, 900)
    rng = np.random.default_rng(4)
    pick = rng.choice(net.n_edges, 10, replace=False)
    fac = gpd.GeoDataFrame({"facility_id": [f"f{i}" for i in range(10)],
                            "category": ["elderly", "childcare"] * 5},
                           geometry=shapely.line_interpolate_point(
                               net.edge_geometry[pick], 0.5, normalized=True), crs=net.crs)
    x0, y0, x1, y1 = net.bounds
    comm = gpd.GeoDataFrame({"community_id": ["a"], "community_name": ["甲"]},
                            geometry=[shapely.box(x0, y0, x1, y1)], crs=net.crs)
    return net, analyze(Region("grid", net, fac, cells, comm), Scenario())


@pytest.mark.parametrize("where", ["demo", "grid"])
def test_cover_summed_during_the_searches_equals_the_pairs(where, demo_region, demo_result):
    """Closing sites without pairs (compiled sums) equal those from the listed pairs.

    Every gap column equal to the bit, and each gap cell's cover equal to the pairs'
    ``bincount``, also with labels that split the cells into small groups (searches that stop
    early) and with cells off the network.
    """
    from care15 import access
    from care15.access import cover_within
    from care15.gaps import _pair_cover, gap_pairs, gap_table
    from care15.scenario import Scenario

    if access._cover_many is None:
        pytest.skip("the compiled kernel care15._reach was not built")
    net, res = (demo_region.network, demo_result) if where == "demo" else _grid_result()
    sc = Scenario()
    for c in sc.categories:
        kw = dict(threshold_min=15.0, network=net, cell_snap=res.cell_snap,
                  speed_mps=sc.speed_for(c))
        with_pairs, pairs = gap_table(res.cells, c, keep_pairs=True, **kw)
        summed, none = gap_table(res.cells, c, keep_pairs=False, **kw)
        assert none is None and pairs is not None and len(with_pairs) > 1
        pd.testing.assert_frame_equal(summed, with_pairs, check_exact=True)
    # the sums alone, for labels of every size and some cells off the network
    snap = res.cell_snap
    pos = np.flatnonzero(np.arange(len(res.cells)) % 3 != 0)
    rng = np.random.default_rng(1)
    w = rng.integers(0, 50, len(pos)).astype(float) / 7.0
    snap_cut = dataclasses.replace(snap, edge=snap.edge.copy())
    snap_cut.edge[pos[::11]] = -1  # off the network: not an origin, not a target
    assert not snap_cut.ok[pos[::11]].any()
    gap = np.zeros(len(res.cells), dtype=bool)
    gap[pos] = True
    p = gap_pairs(net, snap_cut, gap, 400.0)
    for label in (np.zeros(len(pos), dtype=np.int64), rng.integers(0, 7, len(pos)),
                  np.arange(len(pos)) // 3):
        got = cover_within(net, snap_cut.subset(pos), 400.0, w, label)
        want = _pair_cover(pos, label, w, p)
        np.testing.assert_array_equal(got, want)
        assert (got[~snap_cut.ok[pos]] == 0).all()


@pytest.mark.parametrize("where", ["demo", "grid"])
def test_pruned_cover_searches_keep_each_clusters_best(where, demo_region, demo_result):
    """The straight-line bounds are above every walking sum (lattice and KD-tree ways), and
    the searches they prune leave each cluster's largest sum and its first cell unchanged."""
    from care15 import access
    from care15.access import cover_within, walks_at_least_straight
    from care15.gaps import _cover_bound, _grid_labels, _lattice

    if access._cover_many is None:
        pytest.skip("the compiled kernel care15._reach was not built")
    net, res = (demo_region.network, demo_result) if where == "demo" else _grid_result()
    assert walks_at_least_straight(net)
    grid = _lattice(res.cells)
    assert grid is not None
    wm = res.cells["elderly_walk_min"].to_numpy()
    gap = ~(wm <= 5.0) & (res.cells["pop_60plus"].to_numpy() > 0)  # many gap cells
    pos = np.flatnonzero(gap)
    label = _grid_labels(grid[0][pos], grid[1][pos])
    w = res.cells["pop_60plus"].to_numpy()[pos].astype(float)
    sub = res.cell_snap.subset(pos)
    full = cover_within(net, sub, 500.0, w, label)
    on_lattice = _cover_bound(sub, pos, w, label, 500.0, grid)
    by_tree = _cover_bound(sub, pos, w, label, 500.0, None)
    assert (on_lattice >= full).all() and (by_tree >= full).all()
    assert (by_tree <= on_lattice + 1e-6).all()  # one cluster's cells only: tighter
    for bound in (on_lattice, by_tree):
        got = cover_within(net, sub, 500.0, w, label, bound=bound)
        searched = got >= 0
        assert (~searched).sum() > 0.2 * len(pos)  # the bound prunes
        np.testing.assert_array_equal(got[searched], full[searched])
        for lab in np.unique(label):
            k = np.flatnonzero(label == lab)
            assert got[k].max() == full[k].max()
            assert k[np.argmax(got[k])] == k[np.argmax(full[k])]


def test_walks_shorter_than_the_line_turn_the_bound_off():
    """An edge weighted below its straight length (a ferry, a wrong length column) means
    a straight-line sum no longer bounds a walking one: no pruning then."""
    import dataclasses as dc

    from care15.access import walks_at_least_straight
    from care15.network import network_from_edges

    xy = [(0, 0), (100, 0), (200, 0)]
    edges = gpd.GeoDataFrame({"u": [1, 2], "v": [2, 3]},
                             geometry=[shapely.LineString(xy[i:i + 2]) for i in range(2)],
                             crs=UTM)
    net = network_from_edges(edges, crs=UTM)
    assert walks_at_least_straight(net)
    short = dc.replace(net, edge_length_m=np.array([100.0, 60.0]))
    assert not walks_at_least_straight(short)
