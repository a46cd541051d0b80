"""Site selection: matrix building, greedy and exact solvers, side by side with spopt.

Run by hand:

    python benchmarks/bench_siting.py            # Chengdu extract + 250,000-node grid
    python benchmarks/bench_siting.py --quick    # smaller grid

Instances: demand = population cells (random weights), candidates = network points; the
coverage threshold is 15 min at 0.8 m/s (720 m). spopt builds a PuLP model from the same
matrix (dense demand × candidate costs) and solves it with CBC; on the big grid it is
time-capped.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from care15.access import reach
from care15.siting import coverage_problem, solve_exact, solve_greedy
from care15.synthetic import grid_network

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"
LIMIT = 720.0


def instance(net, n_cand, n_dem, seed=0):
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = net.bounds
    cn = rng.choice(net.n_nodes, size=min(n_cand, net.n_nodes), replace=False)
    cand = net.snap(net.x[cn], net.y[cn])
    dem = net.snap(rng.uniform(x0, x1, n_dem), rng.uniform(y0, y1, n_dem), max_access_m=250)
    dem = dem.subset(np.flatnonzero(dem.ok))
    w = rng.gamma(2.0, 10.0, len(dem))
    return cand, dem, w


def spopt_mclp(r, w, p, time_limit):
    import pulp
    from spopt.locate import MCLP

    t = time.perf_counter()
    cost = np.full(r.shape, 1e9)
    cost[r.rows, r.cols] = r.dist_m
    model = MCLP.from_cost_matrix(cost.T, w, service_radius=LIMIT, p_facilities=p)
    t_build = time.perf_counter() - t
    t = time.perf_counter()
    model = model.solve(pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit))
    return t_build, time.perf_counter() - t, pulp.value(model.problem.objective)


def bench(name, net, n_cand, n_dem, p, *, spopt_limit, spopt_rows=None):
    _ = net.csr
    cand, dem, w = instance(net, n_cand, n_dem)
    t = time.perf_counter()
    r = reach(net, cand, dem, LIMIT)
    A = r.to_csr().astype(bool)
    t_matrix = time.perf_counter() - t
    P = coverage_problem(A, w)
    t = time.perf_counter()
    g = solve_greedy(P, "mclp", p=p)
    t_greedy = time.perf_counter() - t
    t = time.perf_counter()
    e = solve_exact(P, "mclp", p=p, time_limit_s=120)
    t_exact = time.perf_counter() - t
    if spopt_rows is None:
        sb, ss, sobj = spopt_mclp(r, w, p, spopt_limit)
        sp_txt = f"{sb:.1f} + {ss:.1f} s, obj {sobj:,.0f}"
    else:
        # spopt builds one dense PuLP term per (demand, candidate) pair: 5e8 terms on the big
        # grid would take hours and tens of GB. Time it on the first `spopt_rows` demand
        # points (same candidates) and scale linearly in the number of demand points.
        from care15.access import Reach

        k = r.cols < spopt_rows
        rs = Reach(r.rows[k], r.cols[k], r.dist_m[k], (r.shape[0], spopt_rows), r.limit_m)
        sb, ss, sobj = spopt_mclp(rs, w[:spopt_rows], p, spopt_limit)
        f = len(w) / spopt_rows
        sp_txt = (f"{sb:.1f} + {ss:.1f} s on {spopt_rows:,} demand points; ×{f:.0f} → "
                  f"~{sb * f / 60:.0f} min just to build the model")
    print(f"| {name} | {net.n_nodes:,} | {len(cand):,} | {len(dem):,} | {A.nnz:,} | {p} | "
          f"{t_matrix:.2f} | {t_greedy:.2f} | {t_matrix + t_greedy:.2f} | {g.objective:,.0f} | "
          f"{t_exact:.1f} ({e.status}, gap {e.gap if e.gap is not None else float('nan'):.2%}) | "
          f"{e.objective:,.0f} | {g.objective / e.objective:.4f} | {sp_txt} |", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    a = ap.parse_args()
    print("| instance | nodes | candidates | demand | matrix nnz | p | matrix s | greedy s | "
          "matrix+greedy s | greedy obj | exact s | exact obj | greedy/exact | spopt build + solve |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---|")
    cd = SHARED / "cn" / "cn_chengdu_center_2018.osm.pbf"
    if cd.is_file():
        from care15.sources.osm import network_from_pbf

        bench("Chengdu centre", network_from_pbf(cd), 1000, 5000, 20, spopt_limit=120)
    side = 200 if a.quick else 500
    bench(f"grid {side}×{side}", grid_network(side), 10_000 if not a.quick else 2000,
          50_000 if not a.quick else 10_000, 50, spopt_limit=60, spopt_rows=1000)


if __name__ == "__main__":
    main()
