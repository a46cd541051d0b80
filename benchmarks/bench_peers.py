"""care15 against the peers a planner would otherwise reach for, on the same inputs, one run.

Run by hand (``pip install -e ".[bench]"`` adds pandana and pyinstrument):

    python benchmarks/bench_peers.py                  # 10k, 100k, 250k grids + Chengdu, Monaco
    python benchmarks/bench_peers.py --sizes 10000

Per network, for the elderly-care facilities of ``bench_scale``'s scenario (1,000 per 250,000
nodes, 15 min at 0.8 m/s = 720 m):

* nearest-facility distance for every node: care15 (its multi-source Dijkstra, the default
  engine: compiled, or scipy's when the extension was not built; facilities joined mid-edge) vs pandana ``nearest_pois`` (contraction hierarchies; its
  preprocessing timed separately) vs networkx ``multi_source_dijkstra_path_length``;
* population within 720 m of every node: pandana ``aggregate(type="sum")``, timed for reference
  (care15 has no per-node aggregation; its site matrix in ``bench_siting`` is the analogue);
* isochrones of 20 facilities: care15 ``per_facility_isochrones`` (reached edge parts,
  buffered) vs the osmnx documentation's recipe (``nx.ego_graph`` per facility, then the buffered
  union of the reached edges).

The agreement of the distances (care15 vs networkx from the snapped node, and vs pandana) is
printed too, so the speed is for the same answer.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import networkx as nx
import numpy as np
import shapely

from care15.access import nearest_facility
from care15.isochrones import per_facility_isochrones
from care15.synthetic import grid_network

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"
BUDGET = 15 * 60 * 0.8


def _t(f, repeat=1):
    best = np.inf
    out = None
    for _ in range(repeat):
        t = time.perf_counter()
        out = f()
        best = min(best, time.perf_counter() - t)
    return best, out


def bench(label, net):
    rng = np.random.default_rng(0)
    _ = net.csr
    n = net.n_nodes
    n_fac = max(10, int(1000 * n / 250_000))
    fac_nodes = rng.choice(n, size=n_fac, replace=False)
    fac = net.snap(net.x[fac_nodes], net.y[fac_nodes])
    row = {"label": label, "nodes": n, "facilities": n_fac}
    row["care15 nearest"], nd = _t(lambda: nearest_facility(net, fac), repeat=3)
    d_c15 = nd.dist_m
    # networkx, from the facility nodes (the points are at nodes, so the answers agree)
    G = nx.Graph()
    G.add_weighted_edges_from(zip(net.edge_u.tolist(), net.edge_v.tolist(),
                                  net.edge_length_m.tolist(), strict=True), weight="length")
    row["networkx nearest"], dd = _t(lambda: nx.multi_source_dijkstra_path_length(
        G, set(fac_nodes.tolist()), weight="length"))
    ref = np.full(n, np.inf)
    ref[list(dd)] = list(dd.values())
    fin = np.isfinite(ref)
    row["max |care15 - networkx| m"] = float(np.max(np.abs(d_c15[fin] - ref[fin])))
    try:
        import pandana
    except ImportError:
        pandana = None
    if pandana is not None:
        import pandas as pd

        nodes = pd.DataFrame({"x": net.x, "y": net.y}, index=np.arange(n))
        edges = pd.DataFrame({"from": net.edge_u, "to": net.edge_v, "w": net.edge_length_m})
        t = time.perf_counter()
        pn = pandana.Network(nodes["x"], nodes["y"], edges["from"], edges["to"], edges[["w"]],
                             twoway=True)
        row["pandana build (CH)"] = time.perf_counter() - t
        t = time.perf_counter()
        pn.set_pois("fac", BUDGET * 10, 1, net.x[fac_nodes], net.y[fac_nodes])
        d_pd = pn.nearest_pois(BUDGET * 10, "fac", num_pois=1).iloc[:, 0].to_numpy(float)
        row["pandana nearest"] = time.perf_counter() - t
        ok = np.isfinite(d_c15) & (d_c15 < BUDGET * 10) & (d_pd < BUDGET * 10)
        row["max |care15 - pandana| m"] = float(np.max(np.abs(d_c15[ok] - d_pd[ok])))
        pop = rng.gamma(2.0, 10.0, n)
        pn.set(pd.Series(np.arange(n)), variable=pop, name="pop")
        row["pandana aggregate 720 m"], _ = _t(lambda: pn.aggregate(BUDGET, type="sum",
                                                                   name="pop"))
    # isochrones of 20 facilities
    sub = fac.subset(np.arange(min(20, n_fac)))
    row["care15 20 isochrones"], iso = _t(lambda: per_facility_isochrones(net, sub, 15, 0.8))
    geoms = net.edge_geometry

    def osmnx_recipe():
        out = []
        for node in fac_nodes[:20]:
            sg = nx.ego_graph(G, int(node), radius=BUDGET, distance="length")
            idx = [G.edges[u, v].get("i", -1) for u, v in sg.edges]
            out.append(shapely.union_all(shapely.buffer(geoms[[i for i in idx if i >= 0]], 50)))
        return out

    for i, (u, v) in enumerate(zip(net.edge_u.tolist(), net.edge_v.tolist(), strict=True)):
        G.edges[u, v]["i"] = i
    row["osmnx-style 20 isochrones"], ox_iso = _t(osmnx_recipe)
    a1 = float(iso.geometry.area.sum())
    a2 = float(sum(g.area for g in ox_iso))
    row["isochrone area care15 / osmnx-style"] = a1 / a2 if a2 else float("nan")
    return row


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[10_000, 100_000, 250_000])
    a = ap.parse_args()
    rows = []
    for s in a.sizes:
        side = round(float(np.sqrt(s)))
        rows.append(bench(f"grid {side * side:,}", grid_network(side)))
        print(rows[-1], flush=True)
    from care15.sources.osm import network_from_pbf

    for name, p in (("Chengdu", SHARED / "cn" / "cn_chengdu_center_2018.osm.pbf"),
                    ("Monaco", SHARED / "peers" / "osrm_monaco.osm.pbf")):
        if p.is_file():
            rows.append(bench(f"{name} {network_from_pbf(p).n_nodes:,}", network_from_pbf(p)))
            print(rows[-1], flush=True)
    keys = [k for k in rows[0] if k != "label"]
    print("\n| | " + " | ".join(r["label"] for r in rows) + " |")
    print("|---|" + "---:|" * len(rows))
    for k in keys:
        vals = []
        for r in rows:
            v = r.get(k)
            vals.append("–" if v is None else (f"{v:,}" if isinstance(v, int) else
                                                f"{v:.3g}"))
        print(f"| {k} | " + " | ".join(vals) + " |")
    for r in rows:
        ratio = [f"networkx/care15 nearest {r['networkx nearest'] / r['care15 nearest']:.0f}×"]
        if "pandana nearest" in r:
            ratio.append(f"pandana(query)/care15 {r['pandana nearest'] / r['care15 nearest']:.1f}×")
            ratio.append("pandana(build+query)/care15 "
                         f"{(r['pandana nearest'] + r['pandana build (CH)']) / r['care15 nearest']:.0f}×")
        ratio.append("osmnx-style/care15 isochrones "
                     f"{r['osmnx-style 20 isochrones'] / r['care15 20 isochrones']:.1f}×")
        print(f"{r['label']}: " + ", ".join(ratio))


if __name__ == "__main__":
    main()
