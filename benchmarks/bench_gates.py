"""Compound gates on real extracts: gates found, and minutes and coverage with and without them.

For each extract: the compounds are its ``landuse=residential`` polygons; the gates come from
its ``barrier=gate`` / ``entrance=*`` nodes, street crossings of the outlines, else the nearest
streets (:func:`care15.gates.compound_gates`); the residents' points are its residential
buildings, or a 50 m grid in compounds without any. The facility list is a planner's: GCJ-02
coordinates with Chinese columns at random nodes of the main street piece (fixed seed), half
elderly care, half childcare, read back with :func:`care15.sources.facilities_from_file`.

Three models per compound: no gates (each point joins its nearest street), gates with the
compounds that have mapped gates closed to through routes (the default), and gates with no
compound closed. Printed per model: mean and median minutes over compounds (each compound's
point-weighted mean), the mean share of a compound's points within 15 minutes, and the share of
compounds with at least half their points within 15 minutes.

Run by hand (not part of the test suite; Harbin takes about a minute):

    python benchmarks/bench_gates.py                          # Harbin, Nanjing; 80 facilities
    python benchmarks/bench_gates.py --extracts harbin --facilities 400

The figures of ``care15 analyze --compounds osm`` runs (the gates in the run, OSM facilities),
read from their ``summary.json``:

    care15 analyze --pbf cn_harbin_central_2026.osm.pbf --compounds osm --out h-closed
    care15 analyze --pbf cn_harbin_central_2026.osm.pbf --compounds osm --open-compounds \
        --out h-open
    python benchmarks/bench_gates.py --runs h-closed h-open

With the illustrative planner list of :func:`facility_list` instead of OSM's facilities:

    python benchmarks/bench_gates.py --extracts harbin --facilities 80 --write-list h.csv
    care15 analyze --pbf cn_harbin_central_2026.osm.pbf --facilities h.csv \
        --facilities-crs gcj02 --compounds osm --out h-list-closed
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from care15.cache import cached_network
from care15.chinacoords import from_wgs84
from care15.gates import (
    MAPPED_SOURCES,
    compound_gates,
    compound_minutes,
    compound_points,
    compound_summary,
    osm_gate_nodes,
    public_street_edges,
)
from care15.sources.facilities import facilities_from_file
from care15.sources.osm import features
from care15.sources.population import osm_residential_buildings

ROOT = Path(__file__).resolve().parents[1]
CN = ROOT.parent / "shared" / "data" / "osm" / "cn"
EXTRACTS = {"harbin": "cn_harbin_central_2026.osm.pbf",
            "nanjing": "cn_nanjing_xinjiekou_2021.osm",
            "tsinghua": "cn_beijing_tsinghua_2017.osm",
            "chengdu": "cn_chengdu_center_2018.osm.pbf"}


def facility_list(net, n: int, out: Path) -> Path:
    """A planner's list in GCJ-02 at ``n`` random nodes of the main piece (seed 7).

    Elderly-care rows have 300 m² of floor area, childcare rows 50 places in 450 m²
    (illustrative capacities, so that the per-compound norms can be judged).
    """
    rng = np.random.default_rng(7)
    pick = rng.choice(np.flatnonzero(net.component == 0), n, replace=False)
    ll = net.nodes_gdf().to_crs(4326).iloc[pick]
    lon, lat = from_wgs84(ll.geometry.x.to_numpy(), ll.geometry.y.to_numpy(), "gcj02")
    kinds = ["养老院", "日间照料中心", "居家养老服务中心", "托育机构", "幼儿园", "社区托育点"]
    k = [kinds[i % len(kinds)] for i in range(n)]
    elderly = np.array([t in kinds[:3] for t in k])
    pd.DataFrame({"机构名称": [f"{t}{i + 1}号" for i, t in enumerate(k)], "类型": k,
                  "经度": np.round(lon, 6), "纬度": np.round(lat, 6),
                  "建筑面积": np.where(elderly, 300, 450),
                  "托位": np.where(elderly, "", "50")}).to_csv(
        out, index=False, encoding="utf-8-sig")
    return out


def run(path: Path, n_fac: int) -> None:
    """Print gates, minutes and coverage for one extract."""
    t_all = time.perf_counter()
    net = cached_network(path)
    t = time.perf_counter()
    lu = features(path, {"landuse": ["residential"]})
    lu = lu.loc[np.isin(shapely.get_type_id(lu.geometry.values), (3, 6))].reset_index(drop=True)
    comp = gpd.GeoDataFrame(
        {"compound_id": [f"{a}/{b}" for a, b in zip(lu["osm_type"], lu["osm_id"], strict=True)],
         "name": lu["name"] if "name" in lu.columns else None},
        geometry=lu.geometry.values, crs=4326).to_crs(net.crs)
    nodes = osm_gate_nodes(path)
    t_read = time.perf_counter() - t
    t = time.perf_counter()
    gates = compound_gates(comp, net, osm_nodes=nodes)
    t_gates = time.perf_counter() - t
    counts = gates.attrs["counts"]
    mapped = set(gates.loc[gates["source"].isin(MAPPED_SOURCES), "compound_id"])
    print(f"\n{path.name}: {net.n_nodes:,} nodes; {len(comp):,} compounds; "
          f"{int((nodes['barrier'] == 'gate').sum())} gate and "
          f"{int((nodes['entrance'] != '').sum())} entrance nodes (read {t_read:.1f} s)")
    print(f"  gates ({t_gates:.1f} s): {len(gates):,}, by kind "
          f"{gates['source'].value_counts().to_dict()}; compounds by kind {counts}; "
          f"with mapped gates {len(mapped)} ({len(mapped) / max(len(comp), 1):.1%})")
    for note in gates.attrs["notes"]:
        print("  note:", note[:160], "…")
    b, _ = osm_residential_buildings(path, net.crs, comp.geometry.values)
    pts = compound_points(comp, buildings=b)
    keep = public_street_edges(net, path)
    with tempfile.TemporaryDirectory() as d:
        fac = facilities_from_file(facility_list(net, n_fac, Path(d) / "设施.csv"),
                                   coords="gcj02")
    summ = {}
    for label, closed in (("gates, closed", True), ("gates, open", False)):
        t = time.perf_counter()
        r = compound_minutes(net, comp, gates, fac, points=pts, keep_edges=keep,
                             closed_compounds=closed)
        summ[label] = compound_summary(r, r["weight"].to_numpy())
        print(f"  {label}: {time.perf_counter() - t:.1f} s for {len(pts):,} points; "
              f"{r.attrs['closed_compounds']} compounds closed, "
              f"{r.attrs['removed_edges']} edges taken out")
    rows = []
    for cat in ("elderly", "childcare"):
        for label in ("no gates", "gates, closed", "gates, open"):
            s = summ["gates, closed" if label == "no gates" else label]
            suf = "_direct" if label == "no gates" else ""
            for which in ("all", "mapped"):
                x = s if which == "all" else s.loc[s.index.isin(mapped)]
                if not len(x):
                    continue
                share = x[f"{cat}_share_15min{suf}"]
                rows.append({"category": cat, "model": label, "compounds": which, "n": len(x),
                             "mean_min": x[f"{cat}_walk_min{suf}"].mean(),
                             "median_min": x[f"{cat}_walk_min{suf}"].median(),
                             "points_15min": share.mean(),
                             "compounds_half_15min": (share >= 0.5).mean()})
    print(pd.DataFrame(rows).round(3).to_string(index=False))
    print(f"  total {time.perf_counter() - t_all:.1f} s")


def runs_table(folders: list[Path]) -> pd.DataFrame:
    """The compound figures of finished runs, one row per run and category."""
    import json

    rows = []
    for f in folders:
        s = json.loads((Path(f) / "summary.json").read_text(encoding="utf-8"))
        c = s["compounds"]
        for cat in ("elderly", "childcare"):
            if cat not in c:
                continue
            d = c[cat]
            rows.append({"run": Path(f).name, "compounds": c["compounds"],
                         "mapped_gates": c.get("with_mapped_gates"),
                         "mapped_share": c.get("mapped_gates_share"),
                         "closed": c.get("closed_compounds"), "category": cat,
                         "median_min_gates": d["median_walk_min"],
                         "median_min_direct": d.get("median_walk_min_direct"),
                         "covered_gates": d["covered_rate"],
                         "covered_direct": d.get("covered_rate_direct"),
                         "unreachable_gates": d.get("unreachable"),
                         "unreachable_direct": d.get("unreachable_direct"),
                         "norm_met": d["met"], "norm_short": d["short"],
                         "norm_unknown": d["unknown"], "seconds": s["seconds"]["total"]})
    return pd.DataFrame(rows)


def main() -> None:
    """Parse the arguments and run each extract (or read finished runs)."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--extracts", nargs="+", default=["harbin", "nanjing"],
                    choices=sorted(EXTRACTS))
    ap.add_argument("--facilities", type=int, default=80)
    ap.add_argument("--runs", nargs="+", type=Path, default=None,
                    help="output folders of care15 analyze --compounds runs to summarise")
    ap.add_argument("--write-list", type=Path, default=None,
                    help="only write the facility list of the first extract to this CSV")
    a = ap.parse_args()
    pd.set_option("display.width", 200)
    if a.write_list:
        print(facility_list(cached_network(CN / EXTRACTS[a.extracts[0]]), a.facilities,
                            a.write_list))
        return
    if a.runs:
        print(runs_table(a.runs).round(3).to_string(index=False))
        return
    for name in a.extracts:
        run(CN / EXTRACTS[name], a.facilities)


if __name__ == "__main__":
    main()
