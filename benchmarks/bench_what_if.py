"""What-if edits: one facility moved, added or removed, from the edit to updated tables.

Run by hand (not part of the test suite):

    python benchmarks/bench_what_if.py                       # 250k grid and Chengdu, 3 rounds
    python benchmarks/bench_what_if.py --targets grid --rounds 5 --nodes 250000

For each target it builds the region once, then times, in interleaved rounds (every method
once per round; medians reported with the number of rounds):

* ``analyze`` — the cold analysis (:func:`care15.analyze`, no cache: the network's street
  samples are dropped before each timed analysis);
* ``plan base`` — :class:`care15.Plan` built (the same analysis, kept for edits);
* ``move`` / ``add`` / ``remove`` — one edit of one elderly-care facility and
  :meth:`care15.Plan.result` (every table: cells, communities, summary, gaps, short list);
  the isochrone polygons are made when drawn or exported, not here;
* ``full recompute`` — :func:`care15.analyze` on the edited facility list (what an edit
  cost before plans).

After the timings it checks that the plan's tables equal the full recompute's.

The 250k grid is bench_scale.py's: ``grid_network(500)`` (60 m spacing, 10% of edges
dropped), 2,000 facilities in two categories, 100,000 cells of 100 m, 1 km communities.
Chengdu is ``cn_chengdu_center_2018.osm.pbf`` with an illustrative GCJ-02 list of 40
facilities (benchmarks/bench_gates.py's ``facility_list``) and the OSM population estimate.
Peak memory (``ru_maxrss``) is measured in a separate process per target.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CN = ROOT.parent / "shared" / "data" / "osm" / "cn"


def layers_on(net, name: str = "test"):
    """The benchmark scenario's layers on a network: a Region (layers in the network's CRS).

    2,000 facilities per 250,000 nodes at the middle of random edges (alternately elderly care
    and childcare, random capacities), 100,000 population cells of 100 m per 250,000 nodes and
    1 km square communities, all scaled with the network (seed 0).
    """
    import geopandas as gpd
    import shapely

    from care15.region import Region
    from care15.synthetic import grid_cells_population

    n = net.n_nodes
    rng = np.random.default_rng(0)
    n_fac = max(20, int(2000 * n / 250_000))
    n_cells = max(200, int(100_000 * n / 250_000))
    cells = grid_cells_population(net, n_cells)
    pick = rng.choice(net.n_edges, size=n_fac, replace=False)
    pts = shapely.line_interpolate_point(net.edge_geometry[pick], 0.5, normalized=True)
    fac = gpd.GeoDataFrame({
        "facility_id": [f"f{i}" for i in range(n_fac)], "name": "",
        "category": np.where(np.arange(n_fac) % 2 == 0, "elderly", "childcare"),
        "subtype": "", "beds": rng.integers(10, 60, n_fac).astype(float),
        "places": rng.integers(10, 60, n_fac).astype(float), "floor_area_m2": 300.0,
        "counts_as_supply": True}, geometry=pts, crs=net.crs)
    x0, y0, x1, y1 = net.bounds
    size = 1000.0
    gx, gy = np.meshgrid(np.arange(x0, x1, size), np.arange(y0, y1, size))
    comm = gpd.GeoDataFrame({"community_id": [f"c{i}" for i in range(gx.size)],
                             "community_name": [f"网格 {i}" for i in range(gx.size)]},
                            geometry=shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + size,
                                                 gy.ravel() + size), crs=net.crs)
    return Region(name=name, network=net, facilities=fac, cells=cells, communities=comm)


def grid_region(n_nodes: int):
    """bench_scale.py's generated region of ``n_nodes`` nodes (see :func:`layers_on`)."""
    from care15.synthetic import grid_network

    net = grid_network(round(float(np.sqrt(n_nodes))))
    return layers_on(net, f"grid {net.n_nodes:,}")


def chengdu_region(n_fac: int = 40):
    """Chengdu centre with an illustrative GCJ-02 facility list."""
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_gates import facility_list

    from care15.region import region_from_scenario
    from care15.scenario import Scenario
    from care15.sources.osm import network_from_pbf

    pbf = CN / "cn_chengdu_center_2018.osm.pbf"
    net = network_from_pbf(pbf)
    d = Path(tempfile.mkdtemp())
    lst = facility_list(net, n_fac, d / "成都设施.csv")
    sc = Scenario().with_(area__pbf=pbf, inputs__facilities=lst,
                          inputs__facilities_crs="gcj02", inputs__total_population=1_000_000)
    return region_from_scenario(sc, cache=False), sc


def _region(target: str, nodes: int):
    from care15.scenario import Scenario

    if target == "grid":
        return grid_region(nodes), Scenario()
    return chengdu_region()


def _edits(region, rng):
    """One move, one add and one remove of elderly-care facilities, near existing ones."""
    import geopandas as gpd

    fac = region.facilities.to_crs(4326)
    eld = fac.loc[fac["category"] == "elderly"]
    i, j = rng.choice(len(eld), 2, replace=False)
    a = eld.geometry.iloc[i]
    b = eld.geometry.iloc[j]
    # 300 m east of another facility: inside the network's area, a real change
    shifted = gpd.GeoSeries([b], crs=4326).to_crs(region.network.crs).translate(300, 0)
    b2 = shifted.to_crs(4326).iloc[0]
    return (str(eld["facility_id"].iloc[i]), (a.x + 0.003, a.y + 0.002), (b2.x, b2.y),
            str(eld["facility_id"].iloc[(i + 1) % len(eld)]))


def run_one(target: str, nodes: int, rounds: int) -> dict:
    """Time a target in this process (see the module notes)."""
    import pandas as pd

    from care15.analysis import analyze
    from care15.plan import Plan
    from care15.region import Region

    region, sc = _region(target, nodes)
    times: dict[str, list[float]] = {k: [] for k in (
        "analyze", "plan base", "move", "add", "remove", "full recompute")}
    rng = np.random.default_rng(1)
    plan = None
    net = region.network
    for _ in range(rounds):
        net.__dict__.pop("_street_samples", None)  # cold: the streets sampled again
        t = time.perf_counter()
        analyze(region, sc)
        times["analyze"].append(time.perf_counter() - t)
        net.__dict__.pop("_street_samples", None)
        t = time.perf_counter()
        plan = Plan(region, sc)
        times["plan base"].append(time.perf_counter() - t)
        fid_move, to, add_at, fid_rm = _edits(region, rng)
        t = time.perf_counter()
        plan.move_facility(fid_move, *to)
        plan.result()
        times["move"].append(time.perf_counter() - t)
        t = time.perf_counter()
        plan.add_facility("elderly", *add_at, capacity=30)
        plan.result()
        times["add"].append(time.perf_counter() - t)
        t = time.perf_counter()
        plan.remove_facility(fid_rm)
        res = plan.result()
        times["remove"].append(time.perf_counter() - t)
        keep = [c for c in region.facilities.columns if c in plan.facilities.columns]
        edited = Region(region.name, region.network, plan.facilities[keep].to_crs(4326),
                        region.cells, region.communities)
        net.__dict__.pop("_street_samples", None)
        t = time.perf_counter()
        full = analyze(edited, sc)
        times["full recompute"].append(time.perf_counter() - t)
        for name in ("cells", "communities", "gaps", "short"):
            a = pd.DataFrame(getattr(res, name)).drop(columns="geometry", errors="ignore")
            b = pd.DataFrame(getattr(full, name)).drop(columns="geometry", errors="ignore")
            pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-9)
    assert plan is not None
    return {"target": target, "nodes": region.network.n_nodes, "cells": len(region.cells),
            "facilities": len(region.facilities), "rounds": rounds,
            "median_s": {k: float(np.median(v)) for k, v in times.items()},
            "all_s": times, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            "equal_to_full_recompute": True}


def main() -> None:
    """Run every target in its own process and print a table of medians."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--targets", nargs="*", default=["grid", "chengdu"])
    ap.add_argument("--nodes", type=int, default=250_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--one", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.one:
        print(json.dumps(run_one(a.one, a.nodes, a.rounds)))
        return
    rows = []
    for tg in a.targets:
        if tg == "chengdu" and not (CN / "cn_chengdu_center_2018.osm.pbf").is_file():
            print("chengdu: ../shared/data absent, skipped")
            continue
        out = subprocess.run([sys.executable, __file__, "--one", tg, "--nodes", str(a.nodes),
                              "--rounds", str(a.rounds)], capture_output=True, text=True,
                             check=False)
        if out.returncode != 0:
            print(f"{tg}: failed\n{out.stderr[-3000:]}")
            continue
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    if not rows:
        return
    print(f"\nmedians of {a.rounds} interleaved rounds (seconds)\n")
    print("| | " + " | ".join(f"{r['target']} ({r['nodes']:,} nodes, {r['cells']:,} cells)"
                               for r in rows) + " |")
    print("|---|" + "---:|" * len(rows))
    for k in rows[0]["median_s"]:
        print(f"| {k} | " + " | ".join(f"{r['median_s'][k]:.3f}" for r in rows) + " |")
    print("| peak memory MB | " + " | ".join(f"{r['peak_mb']:,.0f}" for r in rows) + " |")
    for r in rows:
        m = r["median_s"]
        print(f"{r['target']}: move {m['move']:.3f} s vs full recompute "
              f"{m['full recompute']:.2f} s ({m['full recompute'] / m['move']:.0f}x); "
              f"tables equal to the full recompute: {r['equal_to_full_recompute']}")


if __name__ == "__main__":
    main()
