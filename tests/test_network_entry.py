"""Where points may enter the walking network: tunnels, bridges, layers and small pieces."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from conftest import shared_file
from helpers import UTM, line_net

from care15.cache import cached_snap_gdf, network_from_npz, network_to_npz
from care15.network import (
    EDGE_GRADE_SEPARATED,
    EDGE_NO_ENTRY,
    EDGE_STREET,
    GRADE_EXTRA_M,
    SMALL_PIECE_JUNCTIONS,
    SMALL_PIECE_REACH_M,
    SNAP_GRADE_SEPARATED,
    SNAP_NO_ENTRY,
    SNAP_NONE,
    SNAP_SMALL_PIECE,
    SNAP_STREET,
    Snapped,
    network_from_edges,
)
from care15.sources.osm import edge_entry_class, network_from_pbf


def classed_net(edges: dict, classes: dict | None = None):
    """``line_net`` with an entry class per edge (default: street)."""
    classes = classes or {}
    rows = [{"u": u, "v": v, "geometry": shapely.LineString(c),
             "edge_class": classes.get((u, v), EDGE_STREET)} for (u, v), c in edges.items()]
    return network_from_edges(gpd.GeoDataFrame(rows, crs=UTM), crs=UTM, edge_class="edge_class")


def _long_street(n: int = 20, y: float = 0.0, first_id: int = 1000) -> dict:
    """A straight street of ``n`` 50 m edges along y (the largest piece of the test nets)."""
    return {(first_id + i, first_id + i + 1): [(50.0 * i, y), (50.0 * (i + 1), y)]
            for i in range(n)}


def snap1(net, x, y, **kw):
    return net.snap(np.array([float(x)]), np.array([float(y)]), **kw)


# ------------------------------------------------------------------- hand-made exact cases

def test_tunnel_is_never_an_entry_but_stays_in_the_graph():
    edges = _long_street()
    edges[(1, 2)] = [(100.0, 2.0), (400.0, 2.0)]  # a tunnel 2 m from the street, joined to it
    edges[(1002, 1)] = [(100.0, 0.0), (100.0, 2.0)]
    net = classed_net(edges, {(1, 2): EDGE_NO_ENTRY})
    assert net.n_components == 1  # routed through
    s = snap1(net, 250, 3)  # 1 m from the tunnel, 3 m from the street
    tunnel = net.edge_class == EDGE_NO_ENTRY
    assert not tunnel[s.edge[0]] and s.access_m[0] == pytest.approx(3.0)
    assert s.snap_class[0] == SNAP_STREET and s.skipped_class[0] == SNAP_NO_ENTRY
    assert s.moved[0]
    old = snap1(net, 250, 3, entry_rules=False)
    assert tunnel[old.edge[0]] and old.access_m[0] == pytest.approx(1.0)
    assert old.snap_class[0] == SNAP_NO_ENTRY and not old.moved[0]


def test_only_tunnels_within_reach_means_not_attached():
    edges = _long_street()
    edges[(1, 2)] = [(100.0, 300.0), (400.0, 300.0)]
    edges[(1002, 1)] = [(100.0, 0.0), (100.0, 300.0)]
    net = classed_net(edges, {(1, 2): EDGE_NO_ENTRY, (1002, 1): EDGE_NO_ENTRY})
    s = snap1(net, 250, 310, max_access_m=100)
    assert s.edge[0] == -1 and s.snap_class[0] == SNAP_NONE and np.isnan(s.access_m[0])
    assert s.skipped_class[0] == SNAP_NO_ENTRY  # the tunnel was within reach


@pytest.mark.parametrize(("street_y", "expect"), [
    (20.0, SNAP_STREET),                        # street 15 m farther than the bridge: street
    (4.0 + 1.0 + GRADE_EXTRA_M, SNAP_STREET),   # exactly 50 m farther: still the street
    (4.0 + 1.0 + GRADE_EXTRA_M + 5, SNAP_GRADE_SEPARATED),  # 55 m farther: the bridge
])
def test_bridge_only_without_at_grade_street_within_50m_more(street_y, expect):
    edges = _long_street(y=street_y)
    edges[(1, 2)] = [(0.0, 5.0), (1000.0, 5.0)]  # a footbridge, joined to the street
    edges[(1, 1000)] = [(0.0, 5.0), (0.0, street_y)]
    net = classed_net(edges, {(1, 2): EDGE_GRADE_SEPARATED})
    s = snap1(net, 500, 4)  # 1 m below the bridge
    assert s.snap_class[0] == expect
    if expect == SNAP_STREET:
        assert s.access_m[0] == pytest.approx(street_y - 4)
        assert s.skipped_class[0] == SNAP_GRADE_SEPARATED
    else:
        assert s.access_m[0] == pytest.approx(1.0) and not s.moved[0]


def test_small_piece_gives_way_to_the_main_network_within_reach():
    edges = _long_street()  # piece 0
    edges[(1, 2)] = [(300.0, 100.0), (320.0, 100.0)]  # a 3-node fragment 100 m away
    edges[(2, 3)] = [(320.0, 100.0), (340.0, 100.0)]
    net = classed_net(edges)
    summ = net.components_summary()
    assert list(summ["small"]) == [False, True] and summ["n_junctions"][1] == 2
    s = snap1(net, 320, 101)
    assert net.component_of(s)[0] == 0 and s.access_m[0] == pytest.approx(101)
    assert s.snap_class[0] == SNAP_STREET and s.skipped_class[0] == SNAP_SMALL_PIECE
    old = snap1(net, 320, 101, entry_rules=False)
    assert net.component_of(old)[0] == 1 and old.snap_class[0] == SNAP_SMALL_PIECE


def test_small_piece_kept_and_flagged_when_main_network_is_out_of_reach():
    edges = _long_street()
    far = SMALL_PIECE_REACH_M + 50
    edges[(1, 2)] = [(300.0, far), (320.0, far)]
    edges[(2, 3)] = [(320.0, far), (340.0, far)]
    net = classed_net(edges)
    for max_access in (np.inf, 1000.0):
        s = snap1(net, 320, far + 1, max_access_m=max_access)
        assert net.component_of(s)[0] == 1 and s.snap_class[0] == SNAP_SMALL_PIECE
        assert not s.moved[0] and s.access_m[0] == pytest.approx(1)
    # 100 m from the piece, 200 m from the main street: the main street, unless the caller's
    # limit puts it out of reach
    s = snap1(net, 320, far - 100)
    assert net.component_of(s)[0] == 0 and s.skipped_class[0] == SNAP_SMALL_PIECE
    s = snap1(net, 320, far - 100, max_access_m=150)
    assert net.component_of(s)[0] == 1 and s.snap_class[0] == SNAP_SMALL_PIECE


def test_a_second_large_piece_is_not_an_island():
    edges = _long_street(60)  # 61 nodes: the largest piece
    # a comb of 21 teeth on a 20-edge spine, 100 m from the street: 42 junctions
    for i in range(21):
        x = 20.0 * i
        if i < 20:
            edges[(i, i + 1)] = [(x, 100.0), (x + 20.0, 100.0)]
        edges[(i, 100 + i)] = [(x, 100.0), (x, 110.0)]
    net = classed_net(edges)
    summ = net.components_summary()
    assert summ["n_junctions"][1] >= SMALL_PIECE_JUNCTIONS and not summ["small"].any()
    s = snap1(net, 205, 99)
    assert net.component_of(s)[0] == 1 and s.snap_class[0] == SNAP_STREET and not s.moved[0]


def test_largest_piece_is_never_small():
    net = line_net({(1, 2): [(0, 0), (100, 0)]})
    assert not net.small_piece.any()
    s = snap1(net, 50, 5)
    assert s.snap_class[0] == SNAP_STREET


def test_bridge_in_small_piece_vs_street_of_main():
    """A footbridge piece (3 nodes) over the main street: the point joins the street."""
    edges = _long_street()
    edges[(1, 2)] = [(300.0, -30.0), (300.0, 0.5)]
    edges[(2, 3)] = [(300.0, 0.5), (300.0, 30.0)]
    net = classed_net(edges, {(1, 2): EDGE_GRADE_SEPARATED, (2, 3): EDGE_GRADE_SEPARATED})
    assert net.n_components == 2  # not noded with the street: a bridge
    s = snap1(net, 301, 20)
    assert s.snap_class[0] == SNAP_STREET and net.component_of(s)[0] == 0
    assert s.skipped_class[0] == SNAP_SMALL_PIECE


def test_vectorised_snap_matches_single_points():
    edges = _long_street()
    edges[(1, 2)] = [(300.0, 100.0), (320.0, 100.0)]
    edges[(2, 3)] = [(320.0, 100.0), (340.0, 100.0)]
    edges[(4, 5)] = [(0.0, 5.0), (1000.0, 5.0)]
    edges[(4, 1000)] = [(0.0, 5.0), (0.0, 0.0)]
    edges[(6, 7)] = [(0.0, -3.0), (1000.0, -3.0)]
    edges[(6, 1000)] = [(0.0, -3.0), (0.0, 0.0)]
    net = classed_net(edges, {(4, 5): EDGE_GRADE_SEPARATED, (6, 7): EDGE_NO_ENTRY})
    rng = np.random.default_rng(3)
    x = rng.uniform(-50, 1050, 300)
    y = rng.uniform(-80, 200, 300)
    x[:3] = np.nan
    many = net.snap(x, y, max_access_m=150)
    for i in range(0, 300, 7):
        one = snap1(net, x[i], y[i], max_access_m=150)
        assert one.edge[0] == many.edge[i]
        assert one.snap_class[0] == many.snap_class[i]
        assert one.skipped_class[0] == many.skipped_class[i]
    assert (many.edge[:3] == -1).all()
    assert not np.isin(many.edge[many.ok], np.flatnonzero(net.edge_class == EDGE_NO_ENTRY)).any()


def test_snapped_defaults_and_subset():
    s = Snapped(edge=np.array([3, -1]), along_m=np.zeros(2), to_u_m=np.zeros(2),
                to_v_m=np.zeros(2), access_m=np.zeros(2), node_u=np.zeros(2, int),
                node_v=np.zeros(2, int), x=np.zeros(2), y=np.zeros(2))
    assert list(s.snap_class) == [SNAP_STREET, SNAP_NONE]
    assert list(s.skipped_class) == [SNAP_NONE, SNAP_NONE]
    sub = s.subset(np.array([1]))
    assert list(sub.snap_class) == [SNAP_NONE] and len(sub) == 1


def test_edge_class_validated():
    from care15._errors import InputError

    gdf = gpd.GeoDataFrame({"u": [1], "v": [2], "c": [7]},
                           geometry=[shapely.LineString([(0, 0), (1, 0)])], crs=UTM)
    with pytest.raises(InputError, match="edge_class"):
        network_from_edges(gdf, crs=UTM, edge_class="c")
    with pytest.raises(InputError, match="no column 'cls'"):
        network_from_edges(gdf, crs=UTM, edge_class="cls")


def test_entry_notes_name_facilities_left_on_small_pieces():
    edges = _long_street()
    far = SMALL_PIECE_REACH_M + 50
    edges[(1, 2)] = [(300.0, far), (320.0, far)]
    edges[(2, 3)] = [(320.0, far), (340.0, far)]
    edges[(7, 8)] = [(100.0, 2.0), (400.0, 2.0)]
    edges[(7, 1002)] = [(100.0, 2.0), (100.0, 0.0)]
    net = classed_net(edges, {(7, 8): EDGE_NO_ENTRY})
    fac = net.snap(np.array([320.0, 500.0, 250.0]), np.array([far + 2, 1.0, 3.0]))
    cells = net.snap(np.array([330.0, 250.0]), np.array([far - 3, 2.5]))
    notes = net.entry_notes(cells, fac, cell_pop=np.array([120.0, 80.0]),
                            facility_names=["幼儿园甲", "养老院乙", "托育丙"])
    assert len(notes) == 2
    assert notes[0].startswith("1 population cell (80 residents) and 1 facility joined the "
                               "nearest street a pedestrian can enter instead of a nearer way: "
                               "1 population cell and 1 facility next to a tunnel")
    assert "幼儿园甲 (piece 1)" in notes[1] and "养老院乙" not in notes[1]
    assert notes[1].startswith("1 population cell (120 residents) and 1 facility could only be "
                               "joined to small disconnected street pieces")
    many = net.snap(np.full(25, 320.0), np.full(25, far + 2))
    more = net.entry_notes(cells.subset(np.array([], int)), many, cell_pop=np.array([]),
                           facility_names=[f"站{i}" for i in range(25)])
    assert more == [more[0]] and more[0].startswith("25 facilities could only")
    assert "站19 (piece 1) and 5 more." in more[0] and "站20" not in more[0]
    assert net.entry_notes(cells.subset(np.array([], int)), fac.subset(np.array([1])),
                           cell_pop=np.array([]), facility_names=["养老院乙"]) == []


# ------------------------------------------------------------------- OSM tags -> classes

def test_edge_entry_class_from_tags():
    df = pd.DataFrame({
        "highway": ["footway", "footway", "footway", "corridor", "footway", "primary",
                    "footway", "steps", "residential", "service", "footway", "footway"],
        "tunnel": ["yes", None, None, None, None, None, "no", None, "building_passage", None,
                   None, None],
        "bridge": [None, None, None, None, "yes", None, None, None, None, "no", None, "yes"],
        "layer": [None, None, None, None, "1", "-1", None, None, None, "0", "1;2", None],
        "covered": [None, "yes", None, None, None, None, None, None, None, None, None, None],
        "indoor": [None, None, "yes", None, None, None, None, None, None, None, None, None],
    })
    df.loc[11, "tunnel"] = "yes"  # tunnel wins over bridge
    got = edge_entry_class(df)
    assert list(got) == [EDGE_NO_ENTRY, EDGE_NO_ENTRY, EDGE_NO_ENTRY, EDGE_NO_ENTRY,
                         EDGE_GRADE_SEPARATED, EDGE_GRADE_SEPARATED, EDGE_STREET, EDGE_STREET,
                         EDGE_NO_ENTRY, EDGE_STREET, EDGE_GRADE_SEPARATED, EDGE_NO_ENTRY]


def test_edge_entry_class_reads_pyrosm_tags_json():
    df = pd.DataFrame({"highway": ["footway", "footway", "service"],
                       "tags": ['{"layer":"-1","name":"x"}', None, '{"indoor":"yes"}']})
    assert list(edge_entry_class(df)) == [EDGE_GRADE_SEPARATED, EDGE_STREET, EDGE_NO_ENTRY]


# ------------------------------------------------------------------- cache

def test_entry_classes_survive_npz_and_snap_cache(tmp_path):
    edges = _long_street()
    edges[(1, 2)] = [(100.0, 2.0), (400.0, 2.0)]
    edges[(1002, 1)] = [(100.0, 0.0), (100.0, 2.0)]
    net = classed_net(edges, {(1, 2): EDGE_NO_ENTRY})
    back = network_from_npz(network_to_npz(net, tmp_path / "n.npz"))
    np.testing.assert_array_equal(back.edge_class, net.edge_class)
    pts = gpd.GeoDataFrame(geometry=[shapely.Point(250, 3), shapely.Point(600, 10)], crs=UTM)
    for _ in range(2):  # store, then read back
        s = cached_snap_gdf(back, pts, max_access_m=250, cache_dir=tmp_path)
        assert list(s.snap_class) == [SNAP_STREET, SNAP_STREET]
        assert list(s.skipped_class) == [SNAP_NO_ENTRY, SNAP_NONE]
    # a network without the tunnel class is another network for the snap cache
    plain = classed_net(edges)
    s = cached_snap_gdf(plain, pts, max_access_m=250, cache_dir=tmp_path)
    assert s.access_m[0] == pytest.approx(1.0)


# ------------------------------------------------------------------- real data

def test_helsinki_demo_tunnel_cell_joins_the_street(demo_region, demo_result):
    """The demo's second-largest gap was cell 3854_66717 (673 residents, "43 min"), snapped
    1.3 m onto an underground service tunnel; it now joins the street above it."""
    net = demo_region.network
    cells = demo_region.cells
    i = int(np.flatnonzero((cells["cell_id"] == "3854_66717").to_numpy())[0])
    c = cells.geometry.centroid.iloc[[i]]
    old = net.snap_gdf(c, max_access_m=250, entry_rules=False)
    assert net.edge_class[old.edge[0]] == EDGE_NO_ENTRY and old.access_m[0] < 1.5
    new = net.snap_gdf(c, max_access_m=250)
    assert net.edge_class[new.edge[0]] == EDGE_STREET and new.access_m[0] < 5
    assert new.skipped_class[0] == SNAP_NO_ENTRY
    row = demo_result.cells.set_index("cell_id").loc["3854_66717"]
    assert row["elderly_walk_min"] < 15 and row["elderly_covered"]
    gaps = demo_result.gaps
    assert not ((gaps["category"] == "elderly") & (gaps["nearest_walk_min"] > 40)).any()
    snap = demo_result.cell_snap
    assert snap is not None and not np.isin(
        snap.edge[snap.ok], np.flatnonzero(net.edge_class == EDGE_NO_ENTRY)).any()
    assert any("joined the nearest street a pedestrian can enter" in n
               for n in demo_result.notes)


@pytest.fixture(scope="module")
def longgang():
    return network_from_pbf(shared_file("osm", "cn", "cn_shenzhen_longgang_2019.osm.pbf"))


def test_longgang_points_on_footbridges_and_fragments_join_the_main_network(longgang):
    net = longgang
    comp_e = net.component[net.edge_u]
    small_e = net.small_piece[comp_e]
    assert small_e.any() and (net.edge_class[small_e] == EDGE_GRADE_SEPARATED).any()
    # one point 1 m beside the middle of every edge of a small piece (footbridges, fragments)
    mid = shapely.line_interpolate_point(net.edge_geometry[small_e], 0.5, normalized=True)
    x, y = shapely.get_x(mid), shapely.get_y(mid) + 1.0
    old = net.snap(x, y, max_access_m=250, entry_rules=False)
    assert (net.component_of(old) != 0).all()
    new = net.snap(x, y, max_access_m=250)
    main = shapely.STRtree(net.edge_geometry[comp_e == 0])
    d_main = main.query_nearest(shapely.points(x, y), return_distance=True,
                                all_matches=False)[1]
    reach = d_main <= SMALL_PIECE_REACH_M
    assert reach.mean() > 0.9
    assert (net.component_of(new)[reach] == 0).all()
    assert (new.skipped_class[reach] == SNAP_SMALL_PIECE).all()
    assert (new.snap_class[~reach] == SNAP_SMALL_PIECE).all()


def test_longgang_bridge_rule_matches_brute_force(longgang):
    """Points under the main network's bridges join an at-grade street iff one is within
    50 m more, checked against plain distances to every edge."""
    net = longgang
    main = net.component[net.edge_u] == 0
    bridges = np.flatnonzero(main & (net.edge_class == EDGE_GRADE_SEPARATED))
    assert len(bridges) > 20
    mid = shapely.line_interpolate_point(net.edge_geometry[bridges], 0.5, normalized=True)
    x, y = shapely.get_x(mid) + 2.0, shapely.get_y(mid)
    s = net.snap(x, y, max_access_m=250)
    street = np.flatnonzero(main & (net.edge_class == EDGE_STREET))
    grade = np.flatnonzero(main & (net.edge_class == EDGE_GRADE_SEPARATED))
    pts = shapely.points(x, y)
    d_street = np.array([shapely.distance(net.edge_geometry[street], p).min() for p in pts])
    d_bridge = np.array([shapely.distance(net.edge_geometry[grade], p).min() for p in pts])
    expect_street = d_street <= d_bridge + GRADE_EXTRA_M
    assert 0 < expect_street.sum() < len(expect_street)  # both outcomes occur
    np.testing.assert_array_equal(s.snap_class == SNAP_STREET, expect_street)
    np.testing.assert_allclose(s.access_m, np.where(expect_street, d_street, d_bridge),
                               atol=1e-6)


def test_repeated_edges_count_once_parallel_ones_stay():
    rows = [{"u": 1, "v": 2, "geometry": shapely.LineString([(0, 0), (100, 0)])},
            {"u": 2, "v": 1, "geometry": shapely.LineString([(100, 0), (0, 0)])},  # repeated
            {"u": 1, "v": 2, "geometry": shapely.LineString([(0, 0), (50, 30), (100, 0)])}]
    net = network_from_edges(gpd.GeoDataFrame(rows, crs=UTM), crs=UTM)
    assert net.n_edges == 2
    assert net.total_length_m == pytest.approx(100 + 2 * np.hypot(50, 30))


def test_subnetwork_keeps_the_entry_rules_of_the_whole():
    edges = _long_street()
    edges[(1, 2)] = [(300.0, 100.0), (320.0, 100.0)]  # a small piece of the whole
    edges[(2, 3)] = [(320.0, 100.0), (340.0, 100.0)]
    edges[(7, 8)] = [(100.0, 2.0), (400.0, 2.0)]
    edges[(7, 1002)] = [(100.0, 2.0), (100.0, 0.0)]
    net = classed_net(edges, {(7, 8): EDGE_NO_ENTRY})
    # a part with two street edges (x 250-350) and the small piece: two 3-node pieces, so on
    # its own the part could take either for the island
    keep = np.flatnonzero(np.isin(net.node_id[net.edge_u], [1005, 1006, 1, 2]))
    sub, nodes = net.subnetwork(keep)
    assert sub.n_components == 2 and sorted(sub.components_summary()["n_nodes"]) == [3, 3]
    np.testing.assert_array_equal(sub.node_id, net.node_id[nodes])
    np.testing.assert_array_equal(sub.edge_class, net.edge_class[keep])
    np.testing.assert_array_equal(sub.edge_entry, net.edge_entry[keep])
    x, y = np.array([320.0, 330.0, 290.0]), np.array([101.0, -20.0, 99.0])
    a, b = net.snap(x, y), sub.snap(x, y)
    assert list(a.skipped_class) == [SNAP_SMALL_PIECE, SNAP_NONE, SNAP_SMALL_PIECE]
    np.testing.assert_array_equal(keep[b.edge], a.edge)
    np.testing.assert_array_equal(b.snap_class, a.snap_class)
    np.testing.assert_array_equal(b.skipped_class, a.skipped_class)


def test_tiled_equals_untiled_on_helsinki_with_entry_rules(helsinki_net):
    """Tiles cut from the network keep its entry rules (tiling.network_subset delegates to
    WalkNetwork.subnetwork)."""
    from test_tiling import assert_tiled_equals_untiled, synthetic_layers

    from care15 import tiling
    from care15.analysis import analyze
    from care15.region import Region
    from care15.scenario import Scenario, Targets

    sc = Scenario(thresholds_min=(3.0, 5.0), targets=Targets(coverage_threshold_min=5.0))
    fac, cells, comm = synthetic_layers(helsinki_net, n_fac=12, n_cells=200, cell_size_m=100,
                                        seed=2)
    region = Region(name="test", network=helsinki_net, facilities=fac, cells=cells,
                    communities=comm)
    plain = analyze(region, sc)
    tiled = tiling.analyze_tiled(region, sc, max_cells=60)
    assert tiled.summary["tiling"]["tiles"] >= 3
    assert_tiled_equals_untiled(plain, tiled, sc)


@pytest.mark.parametrize("which", ["helsinki", "chengdu"])
def test_nearest_edge_search_equals_brute_force(which, helsinki_net, request):
    """The box-first nearest-edge search gives every point's truly nearest edge.

    Brute force measures every point against every edge of the class; ties go to the lowest
    edge index. Points lie on streets, at nodes (ties), between streets and far outside the
    network (the nearest-neighbour fallback), with and without a distance limit.
    """
    from care15.network import _nearest

    net = helsinki_net if which == "helsinki" else request.getfixturevalue("chengdu_net")
    rng = np.random.default_rng(3)
    x0, x1 = float(net.x.min()), float(net.x.max())
    y0, y1 = float(net.y.min()), float(net.y.max())
    k = rng.choice(net.n_nodes, 60, replace=False)
    x = np.concatenate([rng.uniform(x0, x1, 300), net.x[k],
                        [x0 - 3000.0, x1 + 800.0, (x0 + x1) / 2]])
    y = np.concatenate([rng.uniform(y0, y1, 300), net.y[k],
                        [y0 - 50.0, y1 + 2500.0, y1 + 120.0]])
    pts = shapely.points(x, y)
    eidx, tree = net._class_trees[SNAP_STREET]
    d_all = shapely.distance(pts[:, None], np.asarray(net.edge_geometry[eidx])[None, :])
    for md in (None, 400.0):
        ii, tt, dd = _nearest(tree, pts, x, y, md, net._near_radius_m)
        best = d_all.min(axis=1)
        want = np.flatnonzero(best <= (np.inf if md is None else md))
        assert ii.tolist() == want.tolist()
        np.testing.assert_allclose(dd, best[want], rtol=0, atol=1e-9)
        first = np.argmax(d_all[want] <= best[want][:, None], axis=1)  # lowest tied index
        assert tt.tolist() == first.tolist()
    assert (best > net._near_radius_m).sum() >= 3  # the fallback was exercised
