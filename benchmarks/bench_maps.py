"""Coverage-map file sizes and render times: the demo and the Chengdu extract.

Run by hand (needs headless Chromium for the browser times):

    python benchmarks/bench_maps.py

For each area: the time to build the folium map and write it (online and ``--offline``), the
file size, and the time the page takes to load in headless Chromium (navigation start to the
end of the ``load`` event, read from ``performance.timing`` inside the page).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

import care15 as c15
from care15.chinacoords import from_wgs84

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"
CHROMIUM = shutil.which("chromium")
PROBE = ('<script>window.addEventListener("load",function(){setTimeout(function(){'
         'var t=performance.timing;var d=document.createElement("pre");d.id="c15t";'
         'd.textContent=JSON.stringify({load_ms:t.loadEventEnd-t.navigationStart});'
         'document.body.appendChild(d);},0);});</script>')


def load_ms(page: Path, tmp: Path) -> float | None:
    if CHROMIUM is None:
        return None
    probe = tmp / ("probe_" + page.name)
    probe.write_text(page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>", 1),
                     encoding="utf-8")
    out = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                          "--disable-background-networking", "--no-first-run",
                          "--disable-component-update", f"--user-data-dir={tmp / 'prof'}",
                          "--virtual-time-budget=10000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    m = re.search(r'<pre id="c15t">([^<]*)</pre>', out)
    return json.loads(m.group(1).replace("&quot;", '"'))["load_ms"] if m else None


def one(label, res, tmp):
    """Online (CDN) and offline maps with the OSM basemap, and offline with no basemap.

    Only the offline files can render here (no internet: the CDN and the tiles are
    unreachable), so the online file gets a size but no browser time; the offline file with
    the OSM basemap waits for its tile requests to fail before the ``load`` event.
    """
    rows = []
    for offline, basemap in ((False, "osm"), (True, "osm"), (True, "none")):
        t = time.perf_counter()
        m = c15.coverage_map(cells=res.cells, communities=res.communities,
                             isochrones=res.isochrones, facilities=res.facilities, gaps=res.gaps,
                             lang="zh", title=label, basemap=basemap)
        p = c15.save_map(m, tmp / f"{label}_{offline}_{basemap}.html", offline=offline)
        build = time.perf_counter() - t
        rows.append({"area": label, "offline": offline, "basemap": basemap,
                     "cells": len(res.cells), "communities": len(res.communities),
                     "size_kb": p.stat().st_size / 1024, "build_s": build,
                     "browser_load_ms": load_ms(p, tmp) if offline else None})
    return rows


def main():
    tmp = Path(tempfile.mkdtemp())
    rows = []
    sc = c15.demo_scenario()
    r = c15.region_from_scenario(sc)
    rows += one("demo", c15.analyze(r, sc), tmp)
    cd = SHARED / "cn" / "cn_chengdu_center_2018.osm.pbf"
    if cd.is_file():
        net = c15.network_from_pbf(cd)
        rng = np.random.default_rng(4)
        nodes = net.nodes_gdf().to_crs(4326)
        pick = rng.choice(len(nodes), 40, replace=False)
        lon, lat = from_wgs84(nodes.geometry.x.to_numpy()[pick],
                              nodes.geometry.y.to_numpy()[pick], "gcj02")
        kinds = ["养老院", "日间照料中心", "居家养老服务中心", "老年食堂", "托育机构", "幼儿园",
                 "社区托育点", "托儿所"] * 5
        f = tmp / "f.csv"
        pd.DataFrame({"名称": [f"{k}{i}" for i, k in enumerate(kinds)], "类型": kinds,
                      "经度": lon, "纬度": lat}).to_csv(f, index=False, encoding="utf-8-sig")
        fac = c15.facilities_from_file(f, coords="gcj02")
        cells = c15.population_from_osm(cd, total_population=300_000, crs=net.crs,
                                        bounds=net.bounds)
        comm = c15.communities_grid(net.bounds, size_m=1000, crs=net.crs)
        cells = c15.assign_cells(cells, comm)
        rows += one("chengdu", c15.analyze(c15.Region(name="chengdu", network=net, facilities=fac, cells=cells,
                                                  communities=comm), c15.Scenario()), tmp)
    cols = list(rows[0])
    print("| " + " | ".join(cols) + " |")
    print("|" + "---|" * len(cols))
    for r in rows:
        print("| " + " | ".join(f"{v:.2f}" if isinstance(v, float) else str(v)
                                for v in r.values()) + " |")


if __name__ == "__main__":
    main()
