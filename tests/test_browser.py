"""The demo's map, sites map and report in a real browser (headless Chromium) with NO network.

Chromium runs with every host name unresolvable and a proxy to nowhere, so a page that still
needed a CDN would fail here. Each page is probed (a copy with a small script injected): script
errors, Leaflet loaded and drawing, the legend's entries, and the popups of a facility, a cell
and a suggested site opened the way a click opens them. Screenshots are kept in the test's
folder, copied to ``/tmp/care15_shots/`` (and the demo map's to ``maps/``) for a human to look at.

Needs Debian's ``chromium`` (``.ci/run`` installs it).
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from care15._palette import GAP_COLOUR
from care15.cli import main

ROOT = Path(__file__).resolve().parents[1]
SHOTS = Path("/tmp/care15_shots")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium (Debian "
                                 "package chromium; .ci/run installs it)")]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--enable-logging=stderr", "--v=0",
         # no network: no name resolves and every request goes to a closed local port
         "--host-resolver-rules=MAP * ~NOTFOUND", "--proxy-server=http://127.0.0.1:9",
         "--proxy-bypass-list=<-loopback>"]
PROBE_HEAD = """<script>window.__errs=[];
window.addEventListener("error",function(e){var t=e.target;
 if(t&&(t.tagName==="SCRIPT"||t.tagName==="LINK")){window.__errs.push("failed to load "+(t.src||t.href));}
 else if(e.message){window.__errs.push(String(e.message)+" line "+e.lineno);}},true);
window.addEventListener("unhandledrejection",function(e){window.__errs.push(String(e.reason));});
</script>"""
# After load: what is drawn, the legend, then click a facility, a cell and a site for their popups
PROBE_TAIL = """<script>window.addEventListener("load",function(){setTimeout(function(){
var out={errors:window.__errs,leaflet:(typeof L!=="undefined"?L.version:null)};
out.panes=document.querySelectorAll(".leaflet-pane").length;
out.canvases=document.querySelectorAll(".leaflet-overlay-pane canvas").length;
out.sites=document.querySelectorAll(".leaflet-marker-pane .c15-site").length;
out.labels=[].map.call(document.querySelectorAll(".leaflet-control-layers-overlays span span,"
 +".leaflet-control-layers-overlays label span"),function(s){return s.textContent.trim();});
out.legend=[].map.call(document.querySelectorAll("#c15-legend .c15-sec"),function(s){
 var t=s.querySelector(".c15-sec-t");return {title:(t?t.textContent:s.textContent).trim(),
 on:!s.classList.contains("c15-off"),rows:[].map.call(s.querySelectorAll(".c15-row"),
 function(r){return r.textContent.trim();})};});
out.imgs=[].map.call(document.images,function(i){return i.complete&&i.naturalWidth>0;});
function popup(){var p=document.querySelectorAll(".leaflet-popup-content");
 return p.length?p[p.length-1].textContent:null;}
if(typeof L!=="undefined"){
 var layers=Object.keys(window).map(function(k){return window[k];}).filter(function(l){
  try{return l instanceof L.Layer||l instanceof L.Map;}catch(e){return false;}});
 var map=layers.filter(function(l){return l instanceof L.Map;})[0];
 function first(test){var hit=null;layers.forEach(function(l){if(!hit&&l instanceof L.GeoJSON
  &&l._map){l.eachLayer(function(x){if(!hit&&test(x)){hit=x;}});}});return hit;}
 var f=first(function(x){return x instanceof L.CircleMarker;});
 if(f){f.fire("click",{latlng:f.getLatLng()},true);out.facility_popup=popup();
  out.facility_radius=f.getRadius();map.closePopup();}
 var c=first(function(x){return x.feature&&x.feature.properties&&"n" in x.feature.properties;});
 if(c){c.fire("click",{latlng:c.getBounds().getCenter()},true);out.cell_popup=popup();
  map.closePopup();}
 var s=layers.filter(function(l){return l instanceof L.Marker&&l.getPopup()&&l._map;})[0];
 if(s){s.openPopup();out.site_popup=popup();map.closePopup();}
 if(window.__keep_open&&f){document.querySelectorAll(".leaflet-popup,.leaflet-tooltip").forEach(function(e){
  e.remove();});f.fire("click",{latlng:f.getLatLng()},true);}
}
var d=document.createElement("pre");d.id="c15probe";d.style.display="none";
d.textContent=JSON.stringify(out);document.body.appendChild(d);},800);});</script>"""


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=180)


def _console_errors(stderr: str) -> list[str]:
    """Script errors Chromium logged from the page's console (``--enable-logging``)."""
    return [ln for ln in stderr.splitlines() if "CONSOLE" in ln and
            re.search(r"Uncaught|Error|error", ln)]


def _probe(page: Path, tmp: Path, shot: Path, *, size: str = "1400,900",
           keep_open: bool = False) -> dict:
    """Open a copy of ``page`` with the probe; its findings, and ``shot`` of the page itself."""
    html = page.read_text(encoding="utf-8")
    assert not re.findall(r'<(?:script[^>]+src|link[^>]+href)="https?:', html), \
        "the page links assets from the internet"
    probe = tmp / f"probe_{page.name}"
    head = PROBE_HEAD + ("<script>window.__keep_open=1;</script>" if keep_open else "")
    probe.write_text(html.replace("<head>", "<head>" + head, 1)
                     .replace("</body>", PROBE_TAIL + "</body>", 1), encoding="utf-8")
    run = _chromium(["--virtual-time-budget=6000", "--dump-dom", probe.as_uri()],
                    tmp / f"profile_{page.stem}_dom")
    m = re.search(r'<pre id="c15probe"[^>]*>([^<]*)</pre>', run.stdout)
    assert m, f"the page never finished loading: {run.stderr[-2000:]}"
    info = json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&")
                      .replace("&lt;", "<").replace("&gt;", ">"))
    info["console"] = _console_errors(run.stderr)
    # the screenshot: of the probe page when a popup is to stay open, else of the page as is
    target = probe if keep_open else page
    _chromium([f"--window-size={size}", "--virtual-time-budget=6000", f"--screenshot={shot}",
               target.as_uri()], tmp / f"profile_{page.stem}_shot")
    assert shot.is_file() and shot.stat().st_size > 10_000
    SHOTS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, SHOTS / shot.name)
    return info


def _rgb(path: Path) -> np.ndarray:
    import matplotlib.image as mpimg

    return (mpimg.imread(path)[:, :, :3] * 255).astype(int)


def _near(img: np.ndarray, hex_colour: str, tol: int = 40) -> np.ndarray:
    want = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    return np.abs(img - want).max(axis=2) <= tol


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory) -> Path:
    """``care15 demo`` with the default options (no ``--offline`` flag), Chinese."""
    out = tmp_path_factory.mktemp("demo") / "out"
    assert main(["demo", "--out", str(out), "--quiet"]) == 0
    return out


def test_default_map_opens_without_network(demo_out, tmp_path):
    facilities = pd.read_csv(demo_out / "facilities.csv")
    names = [str(n) for n in facilities["name"]]
    shot = tmp_path / "demo_map.png"
    info = _probe(demo_out / "map.html", tmp_path, shot)
    assert info["errors"] == [] and info["console"] == [], (info["errors"], info["console"])
    assert info["leaflet"] and info["leaflet"].startswith("1.")  # embedded Leaflet ran
    assert info["panes"] >= 5 and info["canvases"] >= 1  # vectors drawn on a canvas
    for want in ("养老服务 15分钟等时圈", "养老服务:人口网格(步行分钟)", "托育服务覆盖缺口",
                 "现有设施:日间照料中心", "步行路网"):
        assert want in info["labels"], info["labels"]
    legend = {s["title"]: s for s in info["legend"]}
    # every drawn layer has its legend entry; what is shown is not greyed out
    for want in ("步行路网", "养老服务等时圈(步行可达范围)", "托育服务等时圈(步行可达范围)",
                 "人口网格:到最近养老服务设施的步行时间", "人口网格:到最近托育服务设施的步行时间",
                 "养老服务:社区覆盖率(15分钟,60岁及以上)", "现有设施(按类型)",
                 "养老服务覆盖缺口:15分钟外的居民聚集区(虚线框)"):
        assert want in legend, list(legend)
    cells = legend["人口网格:到最近养老服务设施的步行时间"]
    assert cells["on"] and not legend["人口网格:到最近托育服务设施的步行时间"]["on"]
    assert cells["rows"][:5] == ["0–5 分钟", "5–10 分钟", "10–15 分钟", "超过15分钟",
                                 "无法步行到达(无路径)"], cells["rows"]
    # popups name the facility, never its id
    assert any(n in info["facility_popup"] for n in names), info["facility_popup"]
    assert not re.search(r"\bf\d+\b", info["facility_popup"])
    assert "最近设施" in info["cell_popup"], info["cell_popup"]
    assert any(n in info["cell_popup"] for n in names), info["cell_popup"]
    # the screenshot shows cells (greens), gap outlines (red) and facility dots
    img = _rgb(shot)
    greenish = ((img[:, :, 1] - img[:, :, 0] > 25) & (img[:, :, 1] - img[:, :, 2] > 25)).mean()
    assert greenish > 0.005 and _near(img, GAP_COLOUR).mean() > 0.0005, greenish
    (ROOT / "maps").mkdir(exist_ok=True)
    shutil.copyfile(shot, ROOT / "maps" / "demo_map.png")
    # the same map with a facility's popup open, for a human to read the name
    _probe(demo_out / "map.html", tmp_path, tmp_path / "demo_map_popup.png", keep_open=True)


def test_sites_map_gaps_and_new_coverage_both_read(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "s"
    assert main(["suggest", "--demo", "--category", "elderly", "--sites", "3", "--out",
                 str(out), "--quiet"]) == 0
    shot = tmp_path / "sites_map.png"
    info = _probe(out / "sites_map.html", tmp_path, shot)
    assert info["errors"] == [] and info["console"] == [], (info["errors"], info["console"])
    n_sites = len(pd.read_csv(out / "sites.csv"))
    assert info["leaflet"] and 1 <= n_sites <= 3 and info["sites"] == n_sites
    titles = {s["title"]: s["on"] for s in info["legend"]}
    for want in ("建议新址(数字为排名)", "新址新增覆盖范围(填色)",
                 "养老服务覆盖缺口:15分钟外的居民聚集区(虚线框)"):
        assert titles.get(want), titles
    assert titles["人口网格:到最近养老服务设施的步行时间"] is False  # listed, off at first
    # the site's popup: rank, residents newly covered, and the nearest facility by name
    pop = info["site_popup"]
    assert pop.startswith("建议新址 #") and "新增覆盖(60岁及以上)" in pop, pop
    near = re.search(r"最近现有设施: (.+) \(", pop)
    assert near and not re.fullmatch(r"f\d+", near.group(1)), pop
    # looked at: the dashed gap outline stays visible on top of the filled new coverage
    img = _rgb(shot)
    r, g, b = img[:, :, 0], img[:, :, 1], img[:, :, 2]
    fill = (g - r > 30) & (b - r > 20) & (g >= b)  # the teal fill, over white or streets
    edge = _near(img, GAP_COLOUR, 45)
    assert fill.mean() > 0.003 and edge.mean() > 0.0005, (fill.mean(), edge.mean())
    grown = np.zeros_like(fill)  # fill pixels spread by 4 px: edge pixels lying on the fill
    for dy in range(-4, 5):
        for dx in range(-4, 5):
            grown |= np.roll(np.roll(fill, dy, 0), dx, 1)
    assert (edge & grown).sum() > 50, (edge & grown).sum()


def test_report_opens_without_network(demo_out, tmp_path):
    info = _probe(demo_out / "report.html", tmp_path, tmp_path / "report.png",
                  size="1200,1700")
    assert info["errors"] == [] and info["console"] == [], (info["errors"], info["console"])
    assert info["imgs"] and all(info["imgs"]), info["imgs"]  # every figure is embedded
