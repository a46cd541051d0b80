"""Coverage-table helpers: bands, E2SFCA (cross-checked with the `access` library)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from care15.access import Reach, reach
from care15.rates import band_labels, e2sfca, tlabel


def test_band_labels_and_tlabel():
    assert band_labels((5.0, 10.0, 15.0)) == ["≤5", "≤10", "≤15", ">15", "unreachable"]
    assert tlabel(7.5) == "7.5" and tlabel(15.0) == "15"


def test_e2sfca_tiny_by_hand():
    # two facilities (10 and 20 places), three cells with 100 residents each
    r = Reach(rows=np.array([0, 0, 1, 1]), cols=np.array([0, 1, 1, 2]),
              dist_m=np.array([100.0, 400.0, 100.0, 100.0]), shape=(2, 3), limit_m=600)
    a = e2sfca(r, np.array([10.0, 20.0]), np.array([100.0, 100.0, 100.0]), (300.0, 600.0),
               weights=(1.0, 0.5))
    r0 = 10 / (100 + 50)
    r1 = 20 / (100 + 100)
    np.testing.assert_allclose(a, [r0, 0.5 * r0 + r1, r1])


def test_e2sfca_matches_access_library(helsinki_net):
    access = pytest.importorskip("access")
    from access import weights

    net = helsinki_net
    rng = np.random.default_rng(7)
    x0, y0, x1, y1 = net.bounds
    fac = net.snap(rng.uniform(x0, x1, 12), rng.uniform(y0, y1, 12), max_access_m=250)
    fac = fac.subset(np.flatnonzero(fac.ok))
    cells = net.snap(rng.uniform(x0, x1, 600), rng.uniform(y0, y1, 600), max_access_m=250)
    cells = cells.subset(np.flatnonzero(cells.ok))
    supply = rng.integers(10, 80, len(fac)).astype(float)
    demand = rng.gamma(2, 10, len(cells))
    edges = (240.0, 480.0, 720.0)
    r = reach(net, fac, cells, edges[-1])
    ours = e2sfca(r, supply, demand, edges)

    demand_df = pd.DataFrame({"cell": np.arange(len(cells)), "pop": demand})
    supply_df = pd.DataFrame({"fac": np.arange(len(fac)), "cap": supply})
    cost_df = pd.DataFrame({"origin": r.cols, "dest": r.rows, "cost": r.dist_m})
    A = access.Access(demand_df=demand_df, demand_index="cell", demand_value="pop",
                      supply_df=supply_df, supply_index="fac", supply_value="cap",
                      cost_df=cost_df, cost_origin="origin", cost_dest="dest", cost_name="cost")
    fn = weights.step_fn({edges[0]: 1.0, edges[1]: 0.68, edges[2]: 0.22})
    theirs = A.enhanced_two_stage_fca(name="e2sfca", weight_fn=fn, max_cost=edges[-1],
                                      normalize=False)
    want = theirs.iloc[:, 0].reindex(np.arange(len(cells))).fillna(0.0).to_numpy()
    assert (want > 0).sum() > 50
    np.testing.assert_allclose(ours, want, rtol=1e-9, atol=1e-12)


def test_cell_groups_sum_like_groupby_by_id():
    from care15.rates import CellGroups

    rng = np.random.default_rng(3)
    key = pd.Series(rng.choice(["a", "b", "c", "_outside", None], 500))
    vals = rng.gamma(2.0, 10.0, (500, 3))
    vals[rng.random(500) < 0.1, 2] = np.nan
    ids = pd.Series(["b", "a", "zz", "b", "_outside"])  # "zz" has no cell, "b" twice
    got = CellGroups(key, ids).sums(vals)
    want = pd.DataFrame(vals).groupby(key).sum()
    for j in range(3):
        np.testing.assert_array_equal(got[:, j], ids.map(want[j]).to_numpy())  # bit for bit
    assert np.isnan(got[2]).all()
    nan_only = np.where(key == "a", np.nan, 1.0)[:, None]
    got1 = CellGroups(key, ids).sums(nan_only, min_count=1)[:, 0]
    assert np.isnan(got1[1]) and got1[0] == (key == "b").sum()


def test_one_category_rewritten_in_place_equals_the_full_tables():
    """set_cell_columns/set_community_columns/category_summary give what the full tables do."""
    from helpers import street_case

    from care15.analysis import analyze
    from care15.rates import (
        CellGroups,
        _jsonable,
        category_summary,
        community_table,
        set_cell_columns,
        set_community_columns,
        summary,
    )
    from care15.region import Region
    from care15.scenario import Scenario

    net, fac, cells, comms = street_case(with_childcare=True)
    sc = Scenario()
    res = analyze(Region(name="t", network=net, facilities=fac, cells=cells, communities=comms),
                  sc)
    comm_ref = res.communities.to_crs(res.cells.crs)
    full = community_table(res.cells, comm_ref, res.facilities, sc)
    pd.testing.assert_frame_equal(full, res.communities, check_exact=True)
    # scramble the elderly columns, then write them again from the cells
    wm = res.cells["elderly_walk_min"].to_numpy()
    cl = res.cells.copy()
    set_cell_columns(cl, "elderly", wm * 3, np.full(len(cl), None, dtype=object), sc.thresholds_min,
                     15.0)
    assert list(cl.columns) == list(res.cells.columns)
    assert cl["elderly_covered"].sum() < res.cells["elderly_covered"].sum()
    cm = full.copy()
    groups = CellGroups(cl["community_id"], cm["community_id"])
    set_community_columns(cm, cl, groups, res.facilities, sc, "elderly")
    assert list(cm.columns) == list(full.columns)
    pd.testing.assert_frame_equal(cm, community_table(cl, comm_ref, res.facilities, sc),
                                  check_exact=True)
    assert (cm["elderly_cov15_60plus"].fillna(0) <= full["elderly_cov15_60plus"].fillna(0)).all()
    s = summary(cl, cm, res.facilities, sc)
    assert _jsonable(category_summary(cl, cm, res.facilities, sc, "elderly")) == \
        s["categories"]["elderly"]
