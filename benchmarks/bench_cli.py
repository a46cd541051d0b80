"""The whole ``care15 analyze`` command on real extracts, timed by stage, cold and warm.

What the planner waits for: from pressing Enter to the last file written. Each round runs the
command in a fresh process, once with an empty cache (cold: the OSM file is parsed and the
walking network built) and once with the cache the cold run filled (warm: as in a what-if, the
network is already cached). Stages come from ``summary.json`` (``seconds``): reading the inputs,
the analysis, then each kind of output (tables, map, figures, report); "startup" is the wall time
minus the run's own total (interpreter start, imports, argument checks, printing).

Run by hand (not part of the test suite; Harbin takes about a minute per round):

    python benchmarks/bench_cli.py                       # Harbin and Chengdu, 3 rounds
    python benchmarks/bench_cli.py --extracts chengdu --rounds 5
    python benchmarks/bench_cli.py --care15 /old/.venv/bin/care15 --care15 .venv/bin/care15

With several ``--care15`` executables (e.g. a checkout before and after a change) the rounds are
interleaved (round 1 of each, then round 2 of each, ...) so that machine noise falls on all of
them alike, and the table gives each one's medians side by side.

The facility list is a planner's: GCJ-02 coordinates with Chinese columns (机构名称, 类型,
经度, 纬度, 床位, 托位) at real street nodes of the extract, written once per extract with a fixed
seed; the population is a total spread by care15's OSM estimate.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm" / "cn"

#: name → (file, reader flag, facilities, residents)
EXTRACTS = {
    "harbin": ("cn_harbin_central_2026.osm.pbf", "--pbf", 80, 2_000_000),
    "chengdu": ("cn_chengdu_center_2018.osm.pbf", "--pbf", 24, 300_000),
    "nanjing": ("cn_nanjing_xinjiekou_2021.osm", "--osm", 12, 150_000),
}
KINDS = ["养老院", "日间照料中心", "居家养老服务中心", "托育机构", "幼儿园", "社区托育点"]
STAGES = ["startup", "read", "analyze", "tables", "map", "figures", "report", "wall"]


def facility_list(osm: Path, n: int, path: Path) -> Path:
    """Write ``n`` GCJ-02 facilities at random nodes of the extract's main network piece."""
    from care15.cache import cached_network
    from care15.chinacoords import from_wgs84

    with tempfile.TemporaryDirectory() as tmp:
        net = cached_network(str(osm), cache_dir=tmp)
        comp = np.asarray(net.component)
        main = np.flatnonzero(comp == np.bincount(comp).argmax())
        pick = np.random.default_rng(7).choice(main, n, replace=False)
        pts = net.nodes_gdf().to_crs(4326).iloc[pick]
    lon, lat = from_wgs84(pts.geometry.x.to_numpy(), pts.geometry.y.to_numpy(), "gcj02")
    kind = [KINDS[i % len(KINDS)] for i in range(n)]
    pd.DataFrame({"机构名称": [f"{k}{i + 1}号" for i, k in enumerate(kind)], "类型": kind,
                  "经度": np.round(lon, 6), "纬度": np.round(lat, 6),
                  "床位": [60 if k == "养老院" else "" for k in kind],
                  "托位": [40 if k in ("托育机构", "幼儿园") else "" for k in kind]}
                 ).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def one_run(exe: str, name: str, facilities: Path, cache: Path, out: Path) -> dict[str, float]:
    """Run ``care15 analyze`` once; wall seconds and the run's own stage seconds."""
    file, flag, _, residents = EXTRACTS[name]
    cmd = [exe, "analyze", "-q", flag, str(SHARED / file), "--facilities", str(facilities),
           "--facilities-crs", "gcj02", "--total-population", str(residents),
           "--out", str(out), "--lang", "zh"]
    env = {**os.environ, "CARE15_CACHE": str(cache)}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
    sec = json.loads((out / "summary.json").read_text(encoding="utf-8"))["seconds"]
    row = {k: float(sec.get(k, float("nan"))) for k in STAGES if k not in ("startup", "wall")}
    row["startup"] = wall - float(sec["total"])
    row["wall"] = wall
    return row


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--extracts", nargs="+", default=["harbin", "chengdu"], choices=EXTRACTS)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--care15", action="append", default=None,
                    help="care15 executable to time (repeat to compare; default: this venv's)")
    ap.add_argument("--json", type=Path, default=None, help="also write every run here")
    args = ap.parse_args(argv)
    exes = args.care15 or [str(Path(sys.executable).with_name("care15"))]
    missing = [f for f in (EXTRACTS[e][0] for e in args.extracts) if not (SHARED / f).exists()]
    if missing:
        raise SystemExit(f"needs ../shared/data/osm/cn/{missing[0]} (not found)")
    work = Path(tempfile.mkdtemp(prefix="bench_cli_"))
    runs: list[dict[str, object]] = []
    try:
        lists = {e: facility_list(SHARED / EXTRACTS[e][0], EXTRACTS[e][2], work / f"{e}设施.csv")
                 for e in args.extracts}
        for r in range(args.rounds):
            for i, exe in enumerate(exes):
                for e in args.extracts:
                    cache = work / f"cache{i}_{e}_{r}"
                    for mode in ("cold", "warm"):  # warm reuses the cache the cold run filled
                        row = one_run(exe, e, lists[e], cache, work / f"out{i}_{e}")
                        runs.append({"exe": exe, "extract": e, "mode": mode, "round": r, **row})
                        print(f"round {r + 1} {Path(exe).parents[1].parent.name or exe} {e} "
                              f"{mode}: {row['wall']:.1f} s", file=sys.stderr, flush=True)
                    shutil.rmtree(cache, ignore_errors=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    df = pd.DataFrame(runs)
    if args.json:
        args.json.write_text(df.to_json(orient="records", indent=1), encoding="utf-8")
    print(f"\nmedians of {args.rounds} interleaved rounds, seconds "
          f"(startup = interpreter, imports and printing)\n")
    head = "| care15 | extract | cache | " + " | ".join(STAGES) + " |"
    print(head)
    print("|" + "---|" * (3 + len(STAGES)))
    for (exe, e, mode), g in df.groupby(["exe", "extract", "mode"], sort=False):
        cells = " | ".join(f"{statistics.median(g[s]):.2f}" for s in STAGES)
        print(f"| {exe} | {e} | {mode} | {cells} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
