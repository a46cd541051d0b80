"""Every stage of ``analyze`` on generated grids of growing size, and on the largest real extract.

Run by hand (takes a few minutes; not part of the test suite):

    python benchmarks/bench_scale.py                    # 10k, 100k, 250k, 1M nodes + Monaco
    python benchmarks/bench_scale.py --sizes 10000 250000 --rounds 3 --no-peer

Each size runs in a fresh subprocess so that its peak memory (ru_maxrss) is its own. The scenario
is issue 6's target shape: 2,000 facilities per 250,000 nodes in two categories (scaled with the
network) and 100,000 population cells per 250,000 nodes. Stages: network build, snapping,
travel times (both categories), isochrones (3 thresholds × 2 categories), overlay shares,
E2SFCA, coverage tables + gaps (the rest of ``analyze``), and the site matrix (``reach`` from
candidates). The growth exponent is the slope of log(time) against log(nodes).

Measured again after ``analyze``, on its cells, as separate stages: the overlay shares of the
six isochrone polygons by :func:`care15.analysis.overlay_shares` (the desktop-GIS method;
``analyze`` itself takes them from the isochrone fields' block means, its "overlay shares"
stage), the gap clusters alone (grid labels and unions, no closing sites), with their closing
sites as ``analyze`` finds them (each gap cell's cover summed during its search, searches pruned
by a straight-line bound) and the pairs of gap cells a ``care15.Plan`` keeps to reuse after an
edit (``reach`` among the gap cells). What-if edits are timed
by ``benchmarks/bench_what_if.py``. With ``--rounds N`` every size runs N times in fresh
processes, sizes interleaved, and the table shows the median of each stage.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"


def run_one(n_nodes: int | None, pbf: str | None) -> dict:
    import pandas as pd

    from care15.access import reach
    from care15.analysis import analyze
    from care15.scenario import Scenario
    from care15.synthetic import grid_network

    t: dict[str, float] = {}
    t0 = time.perf_counter()
    if pbf:
        from care15.sources.osm import network_from_pbf

        net = network_from_pbf(pbf)
        t["parse+network"] = time.perf_counter() - t0
    else:
        side = round(float(np.sqrt(n_nodes)))
        net = grid_network(side)
        _ = net.csr, net.component
        t["network"] = time.perf_counter() - t0
    from bench_what_if import layers_on

    region = layers_on(net)
    n = net.n_nodes
    rng = np.random.default_rng(0)
    n_fac, n_cells = len(region.facilities), len(region.cells)
    sc = Scenario()
    import logging

    timings: dict[str, float] = {}

    class Catch(logging.Handler):
        def emit(self, record):
            if record.msg == "%s took %.2f s":
                desc, dt = record.args
                key = desc.split(": ", 1)[-1]
                timings[key] = timings.get(key, 0.0) + dt

    lg = logging.getLogger("care15")
    lg.setLevel(logging.DEBUG)
    lg.addHandler(Catch())
    t1 = time.perf_counter()
    res = analyze(region, sc)
    t["analyze (total)"] = time.perf_counter() - t1
    t.update(timings)
    # stages of analyze measured again on its own output
    from care15.analysis import overlay_shares
    from care15.gaps import gap_clusters, gap_pairs

    t3 = time.perf_counter()
    iso = res.isochrones  # made from the fields on first access (as when drawn or exported)
    t["isochrone polygons from the fields (when drawn or exported)"] = time.perf_counter() - t3
    t3 = time.perf_counter()
    for _, row in iso.iterrows():
        overlay_shares(res.cells, row.geometry)
    t["overlay shares from the polygons (desktop-GIS method, 6 isochrones)"] = \
        time.perf_counter() - t3
    tmin = sc.targets.coverage_threshold_min
    t3 = time.perf_counter()
    for c in sc.categories:
        gap_clusters(res.cells, c, threshold_min=tmin)
    t["gap clusters (no closing sites)"] = time.perf_counter() - t3
    t3 = time.perf_counter()
    for c in sc.categories:
        gap_clusters(res.cells, c, threshold_min=tmin, network=net, cell_snap=res.cell_snap,
                     speed_mps=sc.speed_for(c))
    t["gap clusters with closing sites (as analyze: summed, pruned searches)"] = \
        time.perf_counter() - t3
    t3 = time.perf_counter()
    for c in sc.categories:
        grp = {"elderly": "pop_60plus", "childcare": "pop_0to3"}[c]
        gap = ~(res.cells[f"{c}_walk_min"].to_numpy() <= tmin) & (res.cells[grp].to_numpy() > 0)
        gap_pairs(net, res.cell_snap, gap, tmin * 60 * sc.speed_for(c))
    t["pairs of gap cells (what a Plan keeps for its edits)"] = time.perf_counter() - t3
    # site matrix: 10,000 candidates per 250k nodes against uncovered cells
    n_cand = max(100, int(10_000 * n / 250_000))
    cand_nodes = rng.choice(n, size=n_cand, replace=False)
    cand = net.snap(net.x[cand_nodes], net.y[cand_nodes])
    t2 = time.perf_counter()
    r = reach(net, cand, res.cell_snap, 15 * 60 * sc.speed_for("elderly"))
    t["site matrix (reach)"] = time.perf_counter() - t2
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"nodes": n, "edges": net.n_edges, "facilities": n_fac, "cells": n_cells,
            "candidates": n_cand, "matrix_nnz": len(r.rows), "seconds": t,
            "peak_mb": peak_mb, "covered_15_60plus":
            res.summary["categories"]["elderly"]["thresholds"]["15"]["60plus"]["share"],
            "n_gaps": len(res.gaps), "rows": len(pd.DataFrame(res.cells))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 250_000, 1_000_000])
    ap.add_argument("--rounds", type=int, default=1,
                    help="fresh processes per size, interleaved; the table shows medians")
    ap.add_argument("--no-peer", action="store_true", help="leave out the Monaco extract")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--pbf", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one is not None or a.pbf:
        print(json.dumps(run_one(a.one, a.pbf)))
        return
    runs = [(s, None) for s in a.sizes]
    monaco = SHARED / "peers" / "osrm_monaco.osm.pbf"
    if monaco.is_file() and not a.no_peer:
        runs.append((None, str(monaco)))
    per_run: dict[int, list[dict]] = {k: [] for k in range(len(runs))}
    for rnd in range(a.rounds):
        for k, (s, pbf) in enumerate(runs):
            cmd = [sys.executable, __file__] + (["--one", str(s)] if s else ["--pbf", pbf])
            out = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                print(f"size {s or pbf}: failed\n{out.stderr[-2000:]}")
                continue
            r = json.loads(out.stdout.strip().splitlines()[-1])
            per_run[k].append(r)
            print(f"round {rnd + 1}: {r['nodes']:,} nodes: analyze "
                  f"{r['seconds']['analyze (total)']:.1f} s, "
                  f"peak {r['peak_mb']:,.0f} MB", flush=True)
    results = []
    for k, (s, _) in enumerate(runs):
        rs = per_run[k]
        if not rs:
            continue
        r = dict(rs[0])
        keys = {st for x in rs for st in x["seconds"]}
        r["seconds"] = {st: statistics.median([x["seconds"][st] for x in rs if st in x["seconds"]])
                        for st in keys}
        r["peak_mb"] = max(x["peak_mb"] for x in rs)
        r["label"] = f"grid {r['nodes']:,}" if s else f"Monaco PBF {r['nodes']:,}"
        r["n_rounds"] = len(rs)
        results.append((s, r))
    stages = sorted({k for _, r in results for k in r["seconds"]})
    print(f"\nmedians of {', '.join(str(r['n_rounds']) for _, r in results)} rounds")
    print("\n| stage | " + " | ".join(r["label"] for _, r in results) + " | exponent |")
    print("|---|" + "---:|" * (len(results) + 1))
    grid = [(r["nodes"], r) for s, r in results if s]
    for st in stages:
        vals = [r["seconds"].get(st) for _, r in results]
        pts = [(nn, r["seconds"][st]) for nn, r in grid if r["seconds"].get(st)]
        if len(pts) >= 2 and all(v > 0 for _, v in pts):
            k = np.polyfit(np.log([p[0] for p in pts]), np.log([p[1] for p in pts]), 1)[0]
            ks = f"{k:.2f}"
        else:
            ks = "–"
        print(f"| {st} | " + " | ".join("–" if v is None else f"{v:.3f}" for v in vals)
              + f" | {ks} |")
    print("| peak memory MB | " + " | ".join(f"{r['peak_mb']:,.0f}" for _, r in results) + " | |")
    print("| facilities / cells / candidates | " + " | ".join(
        f"{r['facilities']:,} / {r['cells']:,} / {r['candidates']:,}" for _, r in results) + " | |")


if __name__ == "__main__":
    main()
