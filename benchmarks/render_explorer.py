"""Render the what-if explorer in a real browser, and time one edit's round trip.

    python benchmarks/render_explorer.py                      # screenshot + timings
    python benchmarks/render_explorer.py --no-shot --rounds 5 # timings only
    python benchmarks/render_explorer.py --area chengdu --shot /tmp/cd.png

Screenshot: writes a small explorer-only notebook (central Chengdu from ``../shared/data``, the
default and the committed screenshot, or ``--area demo``) to a temporary folder, serves it with Voila (``python -m voila``, so the
kernel is this interpreter and imports this checkout's care15) on a free local port, and takes
a headless-Chromium screenshot (1400×1000) with every host name unresolvable: no basemap tiles,
the cells, markers and panel must still show. The notebook adds a point at the worst gap and
loads three suggested sites, so the panel shows a change. Needs ``voila`` (the ``bench`` extra)
and Debian's ``chromium``. The default output is ``notebooks/explorer_screenshot.png``.

Timings: one edit's round trip through the explorer's own callback (the map's ``interaction``
click message with the "add" tool, to the redrawn image, headline and community table), on the
demo and on Chengdu, rounds interleaved (demo, Chengdu, demo, ...), medians of ``--rounds``
(default 5). "redraw" is the explorer's own share of a round trip: recolouring the cell image
and rebuilding the panel (``plan.diff()`` included) from an already computed result;
"plan_add" and "plan_result" time the same kind of edit made on the plan directly
(``Plan.add_facility``, then ``Plan.result()``), so round_trip ≈ plan_add + plan_result + redraw.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("CARE15_SHARED_DATA", ROOT.parent / "shared" / "data"))
CHENGDU = SHARED / "osm" / "cn" / "cn_chengdu_center_2018.osm.pbf"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--hide-scrollbars",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         # no network but the local Voila server: no host name resolves
         "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]

SETUP = {
    "demo": ("import care15\n"
             "sc = care15.demo_scenario()\n"
             "region = care15.region_from_scenario(sc)\n"),
    "chengdu": ("import care15\n"
                "from care15.scenario import Area, Inputs, Scenario\n"
                f"sc = Scenario(area=Area(name='成都中心城区(示例)', pbf={str(CHENGDU)!r}),\n"
                "              inputs=Inputs(total_population=250_000))\n"
                "region = care15.region_from_scenario(sc, cache=True)\n"),
}
CELLS = [
    "import warnings\nwarnings.filterwarnings('ignore')\n{setup}",
    "from care15.explorer import PlanExplorer\nfrom care15.siting import suggest_sites\n"
    "plan = care15.Plan(region, sc)\n"
    "sug = suggest_sites(plan.result(), region.network, sc, 'elderly', n_sites=3)\n"
    "ex = PlanExplorer(plan, 'elderly', lang='{lang}', basemap={basemap!r}, sites=sug,\n"
    "                  height='880px')\n"
    "gaps = plan.base.gaps.query(\"category == 'elderly'\")\n"
    "if len(gaps):\n"
    "    ex.tool.value = 'add'\n"
    "    fid = ex.click(gaps['centroid_lat'].iloc[0], gaps['centroid_lon'].iloc[0])\n"
    "ex.sites_button.click()\n"
    "ex.select(plan.edits[-1]['facility_id'])",
    "ex",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


#: What the page shows once the explorer is drawn (evaluated in the page).
PROBE = """(() => {
  const q = s => document.querySelectorAll(s);
  const img = q('.leaflet-image-layer')[0];
  const head = document.querySelector('.c15-headline');
  return {images: q('.leaflet-image-layer').length, image_loaded: !!(img && img.complete &&
          img.naturalWidth > 0), markers: q('.leaflet-marker-icon').length,
          tiles: q('.leaflet-tile').length,
          legend: [].map.call(q('.leaflet-control-legend p'), p => p.textContent.trim()),
          headline: head ? head.innerText.slice(0, 120) : null,
          community_rows: q('.c15-communities tr').length};
})()"""


async def _cdp_shot(chromium: str, profile: Path, url: str, out: Path, wait_s: float) -> dict:
    """Open ``url`` in headless Chromium, wait until the explorer is drawn, screenshot it.

    Chromium's DevTools protocol (over tornado's websocket client) rather than
    ``--screenshot``: Voila's widgets arrive over a websocket after the page has loaded, which
    ``--virtual-time-budget`` does not wait for.
    """
    from tornado.httpclient import AsyncHTTPClient
    from tornado.websocket import websocket_connect

    port = _free_port()
    proc = subprocess.Popen([chromium, *FLAGS, f"--user-data-dir={profile}",
                             f"--remote-debugging-port={port}", "--window-size=1400,1000",
                             "about:blank"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        http = AsyncHTTPClient()
        t0 = time.monotonic()
        while True:
            try:
                pages = json.loads((await http.fetch(f"http://127.0.0.1:{port}/json/list")).body)
                ws_url = next(p["webSocketDebuggerUrl"] for p in pages if p["type"] == "page")
                break
            except (OSError, StopIteration):
                if time.monotonic() - t0 > 30:
                    raise SystemExit("chromium's DevTools did not answer") from None
                await asyncio.sleep(0.3)
        ws = await websocket_connect(ws_url, max_message_size=64 * 2**20)
        ids = iter(range(1, 10**6))

        async def call(method: str, **params: object) -> dict:
            i = next(ids)
            await ws.write_message(json.dumps({"id": i, "method": method, "params": params}))
            while True:
                msg = json.loads(await ws.read_message())
                if msg.get("id") == i:
                    return msg.get("result", {})

        await call("Emulation.setDeviceMetricsOverride", width=1400, height=1000,
                   deviceScaleFactor=1, mobile=False)
        await call("Page.navigate", url=url)
        seen: dict = {}
        while time.monotonic() - t0 < wait_s:
            r = await call("Runtime.evaluate", expression=PROBE, returnByValue=True)
            seen = r.get("result", {}).get("value") or {}
            if (seen.get("image_loaded") and seen.get("markers") and seen.get("headline")
                    and seen.get("legend")):
                break
            await asyncio.sleep(1.0)
        else:
            raise SystemExit(f"the explorer was not drawn within {wait_s:.0f} s: {seen}")
        await asyncio.sleep(2.0)  # let the last layout and fonts settle
        shot = await call("Page.captureScreenshot", format="png")
        out.write_bytes(base64.b64decode(shot["data"]))
        ws.close()
        return seen
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()


def _notebook(path: Path, area: str, lang: str, basemap: str | None) -> None:
    import nbformat as nbf

    book = nbf.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                   "language": "python"}
    book.cells = [nbf.v4.new_code_cell(c.format(setup=SETUP[area], lang=lang, basemap=basemap))
                  for c in CELLS]
    nbf.write(book, path)


def screenshot(out: Path, area: str = "demo", lang: str = "zh", basemap: str | None = None,
               wait_s: float = 240.0) -> Path:
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("needs headless Chromium (Debian package chromium)")
    tmp = Path(tempfile.mkdtemp(prefix="care15_voila_"))
    nb = tmp / "explorer.ipynb"
    _notebook(nb, area, lang, basemap)
    port = _free_port()
    log = (tmp / "voila.log").open("w")
    # Voila's templates and the widgets' front ends (jupyter-leaflet) live in the data folder of
    # the environment voila is installed in, which may not be this interpreter's prefix
    import voila

    data = Path(voila.__file__).resolve().parents[4] / "share" / "jupyter"
    env = {**os.environ, "JUPYTER_PATH": os.pathsep.join(
        p for p in (str(data), os.environ.get("JUPYTER_PATH", "")) if p)}
    voila_ = subprocess.Popen(
        [sys.executable, "-m", "voila", str(nb), "--no-browser", f"--port={port}",
         "--Voila.ip=127.0.0.1"], cwd=tmp, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        url = f"http://127.0.0.1:{port}/"
        t0 = time.monotonic()
        while True:  # the server is up (the page itself executes the notebook when fetched)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=2).close()
                break
            except OSError:
                if voila_.poll() is not None or time.monotonic() - t0 > 60:
                    raise SystemExit(f"voila did not start: see {tmp / 'voila.log'}") from None
                time.sleep(0.5)
        out.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.monotonic()
        seen = asyncio.run(_cdp_shot(chromium, tmp / "profile", url, out, wait_s))
        print(f"screenshot {out} ({out.stat().st_size / 1024:.0f} KB, "
              f"{time.monotonic() - t0:.1f} s, {area}): {json.dumps(seen, ensure_ascii=False)}")
    finally:
        voila_.terminate()
        try:
            voila_.wait(timeout=20)
        except subprocess.TimeoutExpired:
            voila_.kill()
        log.close()
    return out


def _explorer(area: str):
    import care15
    from care15.explorer import PlanExplorer

    ns: dict[str, object] = {}
    exec(SETUP[area], ns)
    plan = care15.Plan(ns["region"], ns["sc"])
    ex = PlanExplorer(plan, "elderly", basemap=None)
    ex.tool.value = "add"
    cells = plan.base.cells
    cells = cells[cells["pop_60plus"] > 0].sort_values("elderly_walk_min", ascending=False)
    pts = cells.geometry.centroid.to_crs(4326)
    return ex, [(float(p.y), float(p.x)) for p in pts.iloc[:50:5]]


def timings(areas: list[str], rounds: int) -> dict[str, dict[str, float]]:
    exs = {a: _explorer(a) for a in areas}
    got: dict[str, dict[str, list[float]]] = {a: {k: [] for k in ("round_trip", "redraw", "plan_add", "plan_result")} for a in areas}
    for i in range(rounds):
        for a in areas:  # interleaved: each round times every area once
            ex, pts = exs[a]
            lat, lon = pts[i % len(pts)]
            t0 = time.perf_counter()
            ex.map._handle_leaflet_event(None, {"event": "interaction", "type": "click",
                                                "coordinates": [lat, lon]}, [])
            got[a]["round_trip"].append(time.perf_counter() - t0)
            res = ex.plan.result()  # already computed: only the explorer's own drawing
            t0 = time.perf_counter()
            ex._redraw(res)
            got[a]["redraw"].append(time.perf_counter() - t0)
            # the plan's share, the same kind of edit made on the plan directly
            lat, lon = pts[(i + len(pts) // 2) % len(pts)]
            t0 = time.perf_counter()
            ex.plan.add_facility("elderly", lon, lat)
            t1 = time.perf_counter()
            ex.plan.result()
            t2 = time.perf_counter()
            got[a]["plan_add"].append(t1 - t0)
            got[a]["plan_result"].append(t2 - t1)
            ex.refresh()
    out = {}
    for a in areas:
        ex = exs[a][0]
        out[a] = {"cells": len(ex.plan.base.cells), "image_px": list(ex._image.index.shape),
                  **{k: round(statistics.median(v), 3) for k, v in got[a].items()},
                  "rounds": rounds}
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shot", type=Path, default=ROOT / "notebooks" / "explorer_screenshot.png")
    ap.add_argument("--no-shot", action="store_true")
    ap.add_argument("--area", choices=sorted(SETUP), default="chengdu",
                    help="the committed screenshot is Chengdu's (the demo when it is absent)")
    ap.add_argument("--lang", choices=("zh", "en"), default="zh")
    ap.add_argument("--basemap", choices=("none", "osm"), default="none")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-timings", action="store_true")
    a = ap.parse_args()
    if a.area == "chengdu" and not CHENGDU.is_file():
        print(f"{CHENGDU} not found: the demo instead")
        a.area = "demo"
    if not a.no_shot:
        screenshot(a.shot, a.area, a.lang, None if a.basemap == "none" else a.basemap)
    if not a.no_timings:
        areas = ["demo"] + (["chengdu"] if CHENGDU.is_file() else [])
        print(json.dumps(timings(areas, a.rounds), indent=1))


if __name__ == "__main__":
    main()
