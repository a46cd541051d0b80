"""Walking distances: exact answers on hand-made graphs and networkx agreement on real networks."""

from __future__ import annotations

import networkx as nx
import numpy as np
import pytest
import shapely
from helpers import line_net

import care15.access as access
from care15.access import ENGINES, cell_distances, nearest_facility, reach, update_nearest
from care15.synthetic import grid_network


@pytest.fixture(autouse=True, params=ENGINES)
def engine(request, monkeypatch):
    """Every test here runs with each built engine as the default (same numbers expected)."""
    monkeypatch.setattr(access, "ENGINE", request.param)
    return request.param


@pytest.fixture
def path_net():
    # 1 --100-- 2 --100-- 3 --100-- 4        and a separate piece 5 --50-- 6
    return line_net({
        (1, 2): [(0, 0), (100, 0)], (2, 3): [(100, 0), (200, 0)], (3, 4): [(200, 0), (300, 0)],
        (5, 6): [(1000, 1000), (1050, 1000)],
    })


def test_facility_mid_edge(path_net):
    net = path_net
    fac = net.snap(np.array([150.0]), np.array([10.0]))  # 10 m off the middle of edge 2-3
    assert fac.access_m[0] == pytest.approx(10)
    nd = nearest_facility(net, fac)
    idx = {nid: i for i, nid in enumerate(net.node_id)}
    assert nd.dist_m[idx[2]] == pytest.approx(60)
    assert nd.dist_m[idx[3]] == pytest.approx(60)
    assert nd.dist_m[idx[1]] == pytest.approx(160)
    assert nd.dist_m[idx[4]] == pytest.approx(160)
    assert np.isinf(nd.dist_m[idx[5]]) and np.isinf(nd.dist_m[idx[6]])  # other component
    assert nd.nearest[idx[5]] == -1 and nd.nearest[idx[1]] == 0


def test_cells_same_edge_other_edge_and_unreachable(path_net):
    net = path_net
    fac = net.snap(np.array([150.0]), np.array([10.0]))
    nd = nearest_facility(net, fac)
    cells = net.snap(np.array([170.0, 40.0, 1020.0, 5000.0]), np.array([-5.0, 3.0, 1000.0, 0.0]),
                     max_access_m=250)
    d, who = cell_distances(nd, cells)
    # same edge: walk 5 m to the edge, 20 m along it, 10 m off to the facility
    assert d[0] == pytest.approx(35)
    # nearer another edge (1-2): 3 m to edge, 60 m to node 2, 60 m more to the facility
    assert d[1] == pytest.approx(3 + 60 + 60)
    assert np.isinf(d[2]) and who[2] == -1  # disconnected piece
    assert np.isinf(d[3]) and not cells.ok[3]  # too far from any street: not attached
    assert who[0] == 0 and who[1] == 0


def test_two_facilities_nearest_is_chosen(path_net):
    net = path_net
    fac = net.snap(np.array([0.0, 300.0]), np.array([0.0, 0.0]))
    nd = nearest_facility(net, fac)
    idx = {nid: i for i, nid in enumerate(net.node_id)}
    assert nd.dist_m[idx[2]] == pytest.approx(100) and nd.nearest[idx[2]] == 0
    assert nd.dist_m[idx[3]] == pytest.approx(100) and nd.nearest[idx[3]] == 1
    assert nd.dist_m[idx[4]] == pytest.approx(0)


def test_no_facilities_everything_unreachable(path_net):
    fac = path_net.snap(np.array([]), np.array([]))
    nd = nearest_facility(path_net, fac)
    assert np.isinf(nd.dist_m).all() and (nd.nearest == -1).all()


def test_parallel_edges_use_shortest(path_net):
    net = line_net({(1, 2): [(0, 0), (100, 0)], (2, 1): [(100, 0), (50, 80), (0, 0)]})
    assert net.csr[0, 1] == pytest.approx(100)


def test_reach_exact_pairs(path_net):
    net = path_net
    origins = net.snap(np.array([150.0, 1000.0]), np.array([10.0, 1000.0]))
    targets = net.snap(np.array([170.0, 40.0, 300.0, 1050.0]), np.array([-5.0, 3.0, 0.0, 1000.0]))
    r = reach(net, origins, targets, 200.0)
    got = {(int(a), int(b)): d for a, b, d in zip(r.rows, r.cols, r.dist_m, strict=True)}
    assert got[(0, 0)] == pytest.approx(35)
    assert got[(0, 1)] == pytest.approx(123)
    assert got[(0, 2)] == pytest.approx(160)
    assert got[(1, 3)] == pytest.approx(50)
    assert (1, 0) not in got and (0, 3) not in got
    assert r.within(100).to_csr().nnz == 2


def _reference_graph(net, fac):
    """networkx MultiGraph of the network with each facility inserted on its edge."""
    G = nx.MultiGraph()
    for e in range(net.n_edges):
        G.add_edge(int(net.edge_u[e]), int(net.edge_v[e]), key=e, length=float(net.edge_length_m[e]))
    sources = []
    for i in np.flatnonzero(fac.ok):
        e = int(fac.edge[i])
        u, v = int(net.edge_u[e]), int(net.edge_v[e])
        G.remove_edge(u, v, key=e)
        s, f = f"snap{i}", f"fac{i}"
        G.add_edge(u, s, length=float(fac.to_u_m[i]))
        G.add_edge(s, v, length=float(fac.to_v_m[i]))
        G.add_edge(f, s, length=float(fac.access_m[i]))
        sources.append(f)
    return G, sources


def _agree_with_networkx(net, n_fac, seed):
    rng = np.random.default_rng(seed)
    # facilities near random street vertices, on distinct edges
    e = rng.choice(net.n_edges, size=n_fac, replace=False)
    pts = shapely.line_interpolate_point(net.edge_geometry[e], rng.uniform(0.1, 0.9, n_fac),
                                         normalized=True)
    x = shapely.get_x(pts) + rng.normal(0, 5, n_fac)
    y = shapely.get_y(pts) + rng.normal(0, 5, n_fac)
    fac = net.snap(x, y, max_access_m=250)
    _, first = np.unique(fac.edge, return_index=True)
    fac = fac.subset(np.sort(first))
    nd = nearest_facility(net, fac)
    G, sources = _reference_graph(net, fac)
    ref = nx.multi_source_dijkstra_path_length(G, sources, weight="length")
    want = np.array([ref.get(i, np.inf) for i in range(net.n_nodes)])
    fin = np.isfinite(want)
    assert np.array_equal(fin, np.isfinite(nd.dist_m)), "reachability differs from networkx"
    np.testing.assert_allclose(nd.dist_m[fin], want[fin], rtol=1e-6, atol=1e-6)
    return fin.sum()


def test_helsinki_agrees_with_networkx(helsinki_net):
    reached = _agree_with_networkx(helsinki_net, 40, seed=1)
    assert reached > 0.9 * helsinki_net.n_nodes


def test_chengdu_agrees_with_networkx(chengdu_net):
    reached = _agree_with_networkx(chengdu_net, 25, seed=2)
    assert reached > 0.9 * chengdu_net.n_nodes


def test_reach_agrees_with_single_source_on_helsinki(helsinki_net):
    net = helsinki_net
    rng = np.random.default_rng(3)
    x0, y0, x1, y1 = net.bounds
    origins = net.snap(rng.uniform(x0, x1, 30), rng.uniform(y0, y1, 30), max_access_m=250)
    targets = net.snap(rng.uniform(x0, x1, 400), rng.uniform(y0, y1, 400), max_access_m=250)
    r = reach(net, origins, targets, 900.0, chunk=7)
    dense = np.full((30, 400), np.inf)
    for i in np.flatnonzero(origins.ok):
        nd = nearest_facility(net, origins.subset([i]))
        dense[i], _ = cell_distances(nd, targets)
    got = np.full((30, 400), np.inf)
    got[r.rows, r.cols] = r.dist_m
    dense[dense > 900] = np.inf
    np.testing.assert_allclose(got, dense, rtol=1e-9)
    assert r.to_csr().nnz > 100


def test_compiled_reach_gives_the_scipy_pairs(helsinki_net):
    """care15._reach (one bounded search per origin) and the scipy path: the same pairs."""
    from care15 import access
    from care15.synthetic import grid_network

    if access._bounded_many is None:
        pytest.skip("the compiled reach kernel was not built")
    rng = np.random.default_rng(8)
    for net in (helsinki_net, grid_network(30)):
        x0, y0, x1, y1 = net.bounds
        o = net.snap(rng.uniform(x0, x1, 300), rng.uniform(y0, y1, 300), max_access_m=250)
        t = net.snap(rng.uniform(x0, x1, 900), rng.uniform(y0, y1, 900), max_access_m=250)
        for limit in (150.0, 720.0):
            a = reach(net, o, t, limit)
            b = reach(net, o, t, limit, engine="scipy")
            np.testing.assert_array_equal(a.rows, b.rows)
            np.testing.assert_array_equal(a.cols, b.cols)
            np.testing.assert_allclose(a.dist_m, b.dist_m, rtol=1e-12)
            assert len(a.rows) > 100 and (a.dist_m <= limit).all()
        # small chunks: the same pairs
        c = reach(net, o, t, 720.0, chunk=7)
        np.testing.assert_array_equal(c.rows, a.rows)
        np.testing.assert_array_equal(c.cols, a.cols)


def test_facility_on_a_closed_loop_and_exactly_at_a_node():
    # 1 --100-- 2, a 60 m closed loop 2 -> 2 (a cul-de-sac roundabout), 2 --100-- 3
    net = line_net({(1, 2): [(0, 0), (100, 0)],
                    (2, 2): [(100, 0), (110, 30), (130, 30), (100, 0)],
                    (2, 3): [(100, 0), (200, 0)]})
    idx = {nid: i for i, nid in enumerate(net.node_id)}
    loop = net.snap(np.array([120.0]), np.array([31.0]))  # 1 m above the loop's top side
    assert loop.node_u[0] == loop.node_v[0] == idx[2]  # snapped onto the loop itself
    assert loop.access_m[0] == pytest.approx(1.0)
    nd = nearest_facility(net, loop)
    along = np.hypot(10, 30) + 10  # the shorter way round to node 2
    assert min(loop.to_u_m[0], loop.to_v_m[0]) == pytest.approx(along)
    assert nd.dist_m[idx[2]] == pytest.approx(loop.access_m[0] + along)
    assert nd.dist_m[idx[1]] == pytest.approx(100 + loop.access_m[0] + along)
    at_node = net.snap(np.array([200.0]), np.array([0.0]))  # exactly at node 3, access 0
    nd = nearest_facility(net, at_node)
    assert nd.dist_m[idx[3]] == 0.0 and nd.dist_m[idx[1]] == pytest.approx(200)


def test_compiled_engine_is_built_where_a_compiler_exists():
    # the extension is optional so that an install without a C compiler still works; where a
    # compiler exists (CI, this project's machines) a missing kernel is a build regression
    import shutil
    import sysconfig

    cc = (sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(cc) is None:
        pytest.skip(f"no C compiler ({cc}) here: care15 runs on the scipy engine")
    assert "compiled" in ENGINES, "coverage/_dijkstra.pyx was not built: reinstall care15"


def test_engines_agree_on_a_grid_with_a_limit():
    if "compiled" not in ENGINES:
        pytest.skip("the compiled engine is not built here")
    net = grid_network(120, seed=4)  # 14,400 nodes, 10% of streets dropped: some islands
    rng = np.random.default_rng(5)
    x0, y0, x1, y1 = net.bounds
    fac = net.snap(rng.uniform(x0, x1, 60), rng.uniform(y0, y1, 60), max_access_m=250)
    for limit in (np.inf, 700.0):
        a = nearest_facility(net, fac, limit_m=limit, engine="compiled")
        b = nearest_facility(net, fac, limit_m=limit, engine="scipy")
        c = nearest_facility(net, fac, limit_m=limit, engine="bucket")
        assert np.array_equal(np.isinf(a.dist_m), np.isinf(b.dist_m))
        fin = np.isfinite(a.dist_m)
        np.testing.assert_allclose(a.dist_m[fin], b.dist_m[fin], rtol=1e-12)
        np.testing.assert_array_equal(c.dist_m, a.dist_m)  # the same sums, bit for bit
        assert (a.dist_m[fin] <= limit).all() and (a.nearest[~fin] == -1).all()
        # the same nearest facility (random positions: no exact ties)
        assert (a.nearest[fin] >= 0).all()
        np.testing.assert_array_equal(a.nearest, b.nearest)
        np.testing.assert_array_equal(c.nearest, a.nearest)
    assert np.isinf(a.dist_m).sum() > 0  # the limit did cut
    assert nearest_facility(net, fac, engine="heap").dist_m.tolist() == \
        nearest_facility(net, fac, engine="compiled").dist_m.tolist()


def test_engine_argument_is_checked(path_net):
    fac = path_net.snap(np.array([150.0]), np.array([10.0]))
    with pytest.raises(ValueError, match="engine must be"):
        nearest_facility(path_net, fac, engine="fast")


# --- update_nearest: incremental what-if edits, each step checked against a full search ---


def _same_up_to_ties(net, got, want, limit):
    """Equal distances (bit for bit); a different nearest facility only where it is a tie."""
    np.testing.assert_array_equal(got.dist_m, want.dist_m)
    fin = np.isfinite(want.dist_m)
    assert (got.nearest[~fin] == -1).all() and (got.nearest[fin] >= 0).all()
    assert got.sources.ok[got.nearest[fin]].all()
    diff = np.flatnonzero(got.nearest != want.nearest)
    for lab in np.unique(got.nearest[diff]):  # that facility alone is exactly as far
        alone = nearest_facility(net, got.sources.subset([lab]), limit_m=limit)
        at = diff[got.nearest[diff] == lab]
        np.testing.assert_array_equal(alone.dist_m[at], want.dist_m[at])
    return diff.size


def _edit_run(net, seed, n_steps, limit, n_start):
    """Random add/move/remove edits (with the awkward cases), each checked; returns counts."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = net.bounds
    comp = net.component
    islands = np.flatnonzero(comp != 0)

    def snap(x, y):
        return net.snap(x, y, entry_rules=False)

    x = rng.uniform(x0, x1, n_start)
    y = rng.uniform(y0, y1, n_start)
    src = snap(x, y)
    nd = nearest_facility(net, src, limit_m=limit)
    seen = set()
    for _ in range(n_steps):
        x, y = x.copy(), y.copy()
        live = np.flatnonzero(np.isfinite(x))
        ops = ["add", "move", "remove", "several", "duplicate", "island", "remove_all"]
        p = np.array([5, 5, 4, 2, 1, 1 if islands.size else 0, 0.5])
        op = str(rng.choice(ops, p=p / p.sum())) if live.size else "add"
        changed: list[int] = []
        if op == "add" or (op in ("move", "remove", "duplicate") and not live.size):
            x, y = np.r_[x, rng.uniform(x0, x1)], np.r_[y, rng.uniform(y0, y1)]
            changed = [len(x) - 1]
        elif op == "move":
            i = int(rng.choice(live))
            x[i], y[i] = rng.uniform(x0, x1), rng.uniform(y0, y1)
            changed = [i]
        elif op == "remove":
            i = int(rng.choice(live))
            x[i] = y[i] = np.nan
            changed = [i]
        elif op == "several":  # two moves, a removal, an addition; one position listed twice
            i, j, k = rng.choice(len(x), 3)
            x[[i, j]], y[[i, j]] = rng.uniform(x0, x1, 2), rng.uniform(y0, y1, 2)
            x[k] = y[k] = np.nan
            x, y = np.r_[x, rng.uniform(x0, x1)], np.r_[y, rng.uniform(y0, y1)]
            changed = [i, j, k, i]  # the appended one counts as changed unlisted
        elif op == "duplicate":  # a second facility exactly where one is
            i = int(rng.choice(live))
            x, y = np.r_[x, x[i]], np.r_[y, y[i]]
            changed = [len(x) - 1]
        elif op == "island":  # a facility on a piece cut off from the rest
            v = int(rng.choice(islands))
            x, y = np.r_[x, net.x[v]], np.r_[y, net.y[v]]
            changed = [len(x) - 1]
        else:  # remove every facility (the only one, when there is one)
            x[live] = y[live] = np.nan
            changed = live.tolist()
        seen.add(op)
        new = snap(x, y)
        before = (nd.dist_m.copy(), nd.nearest.copy())
        got = update_nearest(net, nd, new, np.array(changed, dtype=np.int64), limit_m=limit)
        np.testing.assert_array_equal(nd.dist_m, before[0])  # the old answer is left alone
        np.testing.assert_array_equal(nd.nearest, before[1])
        _same_up_to_ties(net, got, nearest_facility(net, new, limit_m=limit), limit)
        nd = got
    return seen


@pytest.mark.parametrize("limit", [np.inf, 600.0])
def test_update_nearest_follows_random_edits_on_a_grid(limit):
    net = grid_network(70, seed=4, drop_share=0.25)  # a quarter of streets dropped: islands
    assert net.n_components > 1
    seen = _edit_run(net, seed=1, n_steps=60, limit=limit, n_start=0)  # from an empty list
    assert {"add", "move", "remove", "duplicate", "island"} <= seen


def test_update_nearest_the_only_facility_removed_and_added_back():
    net = grid_network(30, seed=2)
    x0, y0, _, _ = net.bounds
    one = net.snap(np.array([x0 + 200.0]), np.array([y0 + 300.0]))
    nd = nearest_facility(net, one)
    none = net.snap(np.array([np.nan]), np.array([np.nan]))
    empty = update_nearest(net, nd, none, np.array([0]))
    assert np.isinf(empty.dist_m).all() and (empty.nearest == -1).all()
    again = update_nearest(net, empty, one, np.array([0]))
    np.testing.assert_array_equal(again.dist_m, nd.dist_m)
    np.testing.assert_array_equal(again.nearest, nd.nearest)
    # added to an empty list
    start = nearest_facility(net, net.snap(np.empty(0), np.empty(0)))
    added = update_nearest(net, start, one, np.empty(0, dtype=np.int64))  # appended: implied
    np.testing.assert_array_equal(added.dist_m, nd.dist_m)


@pytest.mark.parametrize("limit", [np.inf, 900.0])
def test_update_nearest_follows_random_edits_on_helsinki(helsinki_net, limit):
    _edit_run(helsinki_net, seed=2, n_steps=40, limit=limit, n_start=15)


@pytest.mark.parametrize("limit", [np.inf, 900.0])
def test_update_nearest_follows_random_edits_on_chengdu(chengdu_net, limit):
    _edit_run(chengdu_net, seed=3, n_steps=40, limit=limit, n_start=25)


def test_update_nearest_checks_its_inputs(path_net):
    fac = path_net.snap(np.array([150.0, 20.0]), np.array([10.0, 0.0]))
    nd = nearest_facility(path_net, fac)
    with pytest.raises(ValueError, match="fewer"):
        update_nearest(path_net, nd, fac.subset([0]), np.array([1]))
    with pytest.raises(ValueError, match="changed positions"):
        update_nearest(path_net, nd, fac, np.array([2]))
    moved = path_net.snap(np.array([150.0, 250.0]), np.array([10.0, 0.0]))
    with pytest.raises(ValueError, match="not in changed"):
        update_nearest(path_net, nd, moved, np.array([0]))
    ok = update_nearest(path_net, nd, moved, np.array([1]))
    np.testing.assert_array_equal(ok.dist_m, nearest_facility(path_net, moved).dist_m)
