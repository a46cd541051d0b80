"""Site suggestion: exact answers on tiny instances, spopt equality and the greedy bound."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from helpers import street_case

from care15._errors import InputError
from care15.analysis import analyze
from care15.region import Region
from care15.scenario import Scenario
from care15.siting import coverage_problem, solve_exact, solve_greedy, suggest_sites


def tiny():
    # candidates × demand: c0 {0,1}, c1 {1,2,3}, c2 {3,4}, c3 {0,4}; weights 10,1,1,1,10
    A = np.zeros((4, 5), bool)
    A[0, [0, 1]] = A[1, [1, 2, 3]] = A[2, [3, 4]] = A[3, [0, 4]] = True
    return coverage_problem(sp.csr_matrix(A), np.array([10, 1, 1, 1, 10.0]))


@pytest.mark.parametrize("solve", [solve_greedy, solve_exact])
def test_mclp_tiny(solve):
    P = tiny()
    r1 = solve(P, "mclp", p=1)
    assert r1.chosen == [3] and r1.objective == 20
    r2 = solve(P, "mclp", p=2)
    assert r2.chosen == [3, 1] and r2.objective == 23


def test_exact_reports_optimality():
    r = solve_exact(tiny(), "mclp", p=2)
    assert r.status == "Optimal" and r.gap == pytest.approx(0, abs=1e-9)
    assert r.bound == pytest.approx(23)


def test_exact_writes_nothing_to_stdout(capfd):
    """HiGHS >= 1.16 prints a banner from C++ on construction; stdout carries results only."""
    print("before", flush=True)
    r = solve_exact(tiny(), "mclp", p=1)
    print("after", flush=True)
    out, _ = capfd.readouterr()
    assert r.chosen == [3]
    assert out.splitlines() == ["before", "after"], out


@pytest.mark.parametrize("solve", [solve_greedy, solve_exact])
def test_target_tiny(solve):
    P = tiny()  # total 23; 90% needs 20.7: one site gives at most 20
    r = solve(P, "target", target=0.9)
    assert len(r.chosen) == 2
    r = solve(P, "target", target=0.8)  # 18.4: c3 alone
    assert r.chosen == [3]


def test_capacity_exact_beats_greedy_order():
    A = sp.csr_matrix(np.array([[1, 0], [1, 1]], bool))
    P = coverage_problem(A, np.array([8.0, 8.0]), capacity=np.array([5.0, 10.0]))
    ex = solve_exact(P, "capacity", p=2)
    assert ex.objective == pytest.approx(15)
    assert ex.assignment.sum() == pytest.approx(15)
    assert (np.asarray(ex.assignment.sum(axis=1)).ravel() <= [5 + 1e-9, 10 + 1e-9]).all()
    gr = solve_greedy(P, "capacity", p=2)
    assert gr.objective <= ex.objective + 1e-9 and gr.chosen[0] == 1


def test_bad_inputs():
    P = tiny()
    with pytest.raises(InputError, match="number of sites"):
        solve_greedy(P, "mclp", p=0)
    with pytest.raises(InputError, match="coverage rate"):
        solve_exact(P, "target", target=1.5)
    with pytest.raises(ValueError, match="not one of"):
        solve_greedy(P, "pmedian", p=1)
    with pytest.raises(InputError, match="demand"):
        coverage_problem(sp.csr_matrix(np.ones((2, 3), bool)), np.ones(2))


def _real_instance(net, n_cand=120, n_dem=1500, seed=11):
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = net.bounds
    from care15.access import reach

    cand = net.snap(rng.uniform(x0, x1, n_cand), rng.uniform(y0, y1, n_cand), max_access_m=250)
    cand = cand.subset(np.flatnonzero(cand.ok))
    dem = net.snap(rng.uniform(x0, x1, n_dem), rng.uniform(y0, y1, n_dem), max_access_m=250)
    dem = dem.subset(np.flatnonzero(dem.ok))
    r = reach(net, cand, dem, 720.0)
    w = rng.gamma(2.0, 10.0, len(dem))
    return r, w


def test_exact_equals_spopt_and_greedy_bound(helsinki_net):
    pulp = pytest.importorskip("pulp")
    from spopt.locate import MCLP

    r, w = _real_instance(helsinki_net)
    P = coverage_problem(r.to_csr().astype(bool), w)
    p = 5
    ex = solve_exact(P, "mclp", p=p, time_limit_s=60)
    assert ex.status == "Optimal"
    cost = np.full(r.shape, 1e9)  # spopt takes demand × facility costs
    cost[r.rows, r.cols] = r.dist_m
    model = MCLP.from_cost_matrix(cost.T, w, service_radius=720.0, p_facilities=p)
    try:
        solver = pulp.PULP_CBC_CMD(msg=False)
        model = model.solve(solver)
    except pulp.PulpSolverError:
        model = model.solve(pulp.HiGHS(msg=False))
    theirs = pulp.value(model.problem.objective)
    assert ex.objective == pytest.approx(theirs, rel=1e-9)
    gr = solve_greedy(P, "mclp", p=p)
    assert gr.objective >= (1 - 1 / np.e) * ex.objective
    assert gr.objective <= ex.objective + 1e-9


def test_suggest_sites_on_street():
    net, fac, cells, comms = street_case()
    sc = Scenario()
    res = analyze(Region(name="test", network=net, facilities=fac, cells=cells,
                          communities=comms), sc)
    sug = suggest_sites(res, net, sc, "elderly", n_sites=1, exact=True)
    assert len(sug.sites) == 1
    s = sug.sites.iloc[0]
    # the uncovered cells are 7..19 (13 × 20 residents 60+): one site within 720 m covers at most
    # cells whose entrance legs fit, the best covers 12 of them
    assert s["newly_covered_target"] > 0
    assert s["cumulative_coverage"] == pytest.approx(
        (140 + s["newly_covered_target"]) / 400)
    assert 0 <= s["cumulative_coverage"] <= 1
    assert {"lon", "lat", "community_name", "nearest_existing_walk_min"} <= set(sug.sites.columns)
    assert len(sug.added_area) == 1
    g = suggest_sites(res, net, sc, "elderly", n_sites=1)
    assert g.sites.iloc[0]["newly_covered_target"] == pytest.approx(s["newly_covered_target"])
    t = suggest_sites(res, net, sc, "elderly", target=0.9)
    assert t.sites["cumulative_coverage"].iloc[-1] >= 0.9
    assert "→" in t.message


def test_target_met_and_unreachable():
    net, fac, cells, comms = street_case()
    sc = Scenario()
    res = analyze(Region(name="test", network=net, facilities=fac, cells=cells,
                          communities=comms), sc)
    met = suggest_sites(res, net, sc, "elderly", target=0.3)
    assert len(met.sites) == 0 and "no new site is needed" in met.message
    import geopandas as gpd
    import shapely

    one = gpd.GeoDataFrame({"candidate_id": ["c"], "name": ["x"]},
                           geometry=[shapely.Point(1000, 0)], crs=cells.crs).to_crs(4326)
    far = suggest_sites(res, net, sc, "elderly", target=1.0, candidates=one)
    assert "cannot be reached" in far.message and "short" in far.message
    many = suggest_sites(res, net, sc, "elderly", n_sites=50, candidates=one)
    assert len(many.sites) == 1  # capped at the number of candidates
    with pytest.raises(InputError, match="no candidate"):
        suggest_sites(res, net, sc, "elderly", n_sites=1, candidates=one.iloc[:0])


def test_time_limit_returns_best_found(chengdu_net):
    r, w = _real_instance(chengdu_net, n_cand=400, n_dem=4000, seed=3)
    P = coverage_problem(r.to_csr().astype(bool), w)
    res = solve_exact(P, "mclp", p=25, time_limit_s=0.01)
    assert res.chosen  # best found so far, with what HiGHS could prove
    assert res.status in ("Time limit reached", "Optimal")


def test_errors_name_parameters_not_flags(demo_result, demo_region):
    from care15.region import demo_scenario

    sc, net = demo_scenario(), demo_region.network
    cases = [(dict(n_sites=0), "n_sites must be at least 1"),
             (dict(target=90), r"target must be a coverage rate in \(0, 1\]"),
             (dict(n_sites=1, capacity_aware=True), "category='childcare'")]
    for kw, msg in cases:
        with pytest.raises(InputError, match=msg) as e:
            suggest_sites(demo_result, net, sc, "elderly", **kw)
        assert "--" not in str(e.value)
    P = tiny()
    for model, kw in (("mclp", {}), ("target", {}), ("capacity", {}),
                      ("capacity", {"target": 1.5})):
        with pytest.raises(InputError) as e:
            solve_greedy(P, model, **kw)
        assert "--" not in str(e.value)


def test_result_without_cell_snap_gives_the_same_sites(demo_result, demo_region):
    import dataclasses

    from care15.region import demo_scenario

    sc, net = demo_scenario(), demo_region.network
    a = suggest_sites(demo_result, net, sc, "elderly", n_sites=2)
    b = suggest_sites(dataclasses.replace(demo_result, cell_snap=None), net, sc, "elderly",
                      n_sites=2)
    assert len(a.sites) == 2
    pd.testing.assert_frame_equal(a.sites, b.sites)


# --------------------------------------------------------------------------------------------
# compound demand: residential compounds reached through their gates
# --------------------------------------------------------------------------------------------


def _gated_street():
    """A street along y = 0 with two walled compounds north of it, each with one gate.

    A = box(1500, 20, 1900, 220), its only gate on the east end (1900, 20); B = box(700, 20,
    1000, 220), gate (1000, 20). Candidate c0 (1400, 0) stands by A's west wall, 500 m of
    street from A's gate; c1 (2200, 0) is 300 m east of that gate.
    """
    import geopandas as gpd
    import shapely

    from care15.gates import gate_network
    from care15.network import network_from_edges

    xs = np.arange(0, 3001, 100.0)
    edges = gpd.GeoDataFrame({"u": np.arange(len(xs) - 1), "v": np.arange(1, len(xs))},
                             crs="EPSG:32650",
                             geometry=[shapely.LineString([(a, 0), (b, 0)])
                                       for a, b in itertools.pairwise(xs)])
    net = network_from_edges(edges, crs="EPSG:32650")
    comp = gpd.GeoDataFrame({"compound_id": ["A", "B"], "residents": [500.0, 300.0],
                             "pop_60plus": [100.0, 60.0]}, crs="EPSG:32650",
                            geometry=[shapely.box(1500, 20, 1900, 220),
                                      shapely.box(700, 20, 1000, 220)])
    gates = gpd.GeoDataFrame({"compound_idx": [0, 1], "compound_id": ["A", "B"],
                              "gate_id": ["A/g1", "B/g1"], "source": ["file", "file"],
                              "source_row": [1, 2], "street_m": [20.0, 20.0]},
                             crs="EPSG:32650",
                             geometry=[shapely.Point(1900, 20), shapely.Point(1000, 20)])
    cands = gpd.GeoDataFrame({"candidate_id": ["c0", "c1"]}, crs="EPSG:32650",
                             geometry=[shapely.Point(1400, 0), shapely.Point(2200, 0)])
    return net, comp, gates, gate_network(net, comp, gates), cands


def test_compound_demand_needs_the_gate_not_the_wall():
    import shapely

    from care15.access import reach
    from care15.siting import compound_cover

    net, comp, _, gn, cands = _gated_street()
    limit = 750.0
    A = compound_cover(gn, cands, limit).toarray()
    # c0 by A's wall: 500 m of street to A's gate + 20 m + the walk in ≈ 811 m > 750: not A
    assert A.tolist() == [[False, True], [True, False]]
    # the cell view of the same places: the compound's point joins the street beside it
    pts = shapely.point_on_surface(comp.geometry.values)
    cells = net.snap(shapely.get_x(pts), shapely.get_y(pts), max_access_m=250)
    cs = net.snap(shapely.get_x(cands.geometry.values), shapely.get_y(cands.geometry.values))
    C = reach(net, cs, cells, limit).to_csr().astype(bool).toarray()
    assert C.tolist() == [[True, True], [True, False]]
    w = comp["pop_60plus"].to_numpy()
    for solve in (solve_greedy, solve_exact):
        by_cells = solve(coverage_problem(C, w), "mclp", p=1)
        by_gates = solve(coverage_problem(A, w), "mclp", p=1)
        assert by_cells.chosen == [0] and by_cells.objective == 160
        assert by_gates.chosen == [1] and by_gates.objective == 100


def test_compound_cover_agrees_with_gate_distances():
    from care15.gates import gate_distances
    from care15.siting import compound_cover

    _, _, _, gn, cands = _gated_street()
    d = np.vstack([gate_distances(gn, cands.iloc[[j]])["dist_m"].to_numpy()
                   for j in range(len(cands))])
    for limit in (600.0, 650.0, 750.0, 850.0, 1500.0):
        A = compound_cover(gn, cands, limit).toarray()
        assert (A == (d <= limit)).all(), limit


def test_compound_cover_site_inside_and_compound_without_gate():
    import geopandas as gpd
    import shapely

    from care15.gates import gate_network
    from care15.siting import compound_cover

    net, comp, gates, _, _ = _gated_street()
    # B loses its gate: it joins the street nearest its point, as a cell would
    gn = gate_network(net, comp, gates.iloc[[0]])
    s = gpd.GeoDataFrame(geometry=[shapely.Point(850, 0), shapely.Point(1600, 100)],
                         crs="EPSG:32650")
    A = compound_cover(gn, s, 300.0).toarray()
    # a site inside A (1600, 100) reaches A's point straight × detour, not through the gate
    assert A.tolist() == [[False, True], [True, False]]


def test_suggest_compound_demand_inputs():
    from care15.siting import compound_demand

    comp = _gated_street()[1]

    res, tgt, est = compound_demand(comp.drop(columns="pop_60plus"), "pop_60plus",
                                    group_share=0.25, household_size=2.5)
    assert res.tolist() == [500.0, 300.0] and tgt.tolist() == [125.0, 75.0] and est.all()


def test_suggest_sites_compounds_on_the_demo():
    import geopandas as gpd
    import shapely

    from care15.region import demo_scenario, region_from_scenario

    sc = demo_scenario()
    region = region_from_scenario(sc)
    res = analyze(region, sc)
    with pytest.raises(InputError, match="compounds"):
        suggest_sites(res, region.network, sc, "elderly", n_sites=1, demand="compounds")
    with pytest.raises(InputError, match="demand"):
        suggest_sites(res, region.network, sc, "elderly", n_sites=1, demand="blocks")
    boxes = [(24.9490, 60.1772, 24.9510, 60.1782), (24.9375, 60.1755, 24.9390, 60.1765),
             (24.9450, 60.1700, 24.9480, 60.1715)]
    comp = gpd.GeoDataFrame({"compound_id": ["n1", "n2", "s1"],
                             "residents": [1000.0, 1500.0, 800.0],
                             "pop_60plus": [300.0, 400.0, 100.0]},
                            geometry=[shapely.box(*b) for b in boxes], crs=4326)
    sug = {}
    for exact in (False, True):
        sug[exact] = suggest_sites(res, region.network, sc, "elderly", n_sites=2,
                                   demand="compounds", compounds=comp, exact=exact)
    g, e = sug[False], sug[True]
    assert g.objective == pytest.approx(e.objective)
    s = g.sites
    assert {"newly_covered_compounds", "newly_covered_compound_residents",
            "newly_covered_compound_ids"} <= set(s.columns)
    before = g.extra["compounds_covered_before"]
    assert s["newly_covered_compounds"].sum() + before <= 3
    # compounds already covered by existing facilities are not counted again
    ids = ";".join(s["newly_covered_compound_ids"]).split(";")
    assert len(ids) == len(set(ids))
    assert s["newly_covered_target"].sum() == pytest.approx(g.objective)
    assert "小区" in g.message_in("zh") and "gates" in g.message_in("en")
    assert s["cumulative_coverage"].is_monotonic_increasing
