"""The offline demo map in a real browser (headless Chromium): renders, no JS errors, layers.

Needs Debian's ``chromium`` (``.ci/run`` installs it). The screenshot is kept as
``maps/demo_map.png`` for a human to look at.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from care15.cli import main

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium (Debian "
                                 "package chromium; .ci/run installs it)")]
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars"]
PROBE_HEAD = ('<script>window.__errs=[];window.addEventListener("error",function(e){'
              'window.__errs.push(String(e.message)+" line "+e.lineno)});</script>')
PROBE_TAIL = ('<script>window.addEventListener("load",function(){setTimeout(function(){'
              'var d=document.createElement("pre");d.id="c15probe";d.textContent=JSON.stringify('
              '{errors:window.__errs,canvases:document.querySelectorAll("canvas").length,'
              'markers:document.querySelectorAll(".c15-site").length}); '
              'document.body.appendChild(d);},500);});</script>')


ALL_ON = ('<script>window.addEventListener("load",function(){document.querySelectorAll('
          '".leaflet-control-layers-overlays input[type=checkbox]").forEach(function(c){'
          'if(!c.checked){c.click();}});});</script>')


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess:
    return subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
                          capture_output=True, text=True, timeout=120)


def _render(page: Path, tmp: Path, shot: Path | None = None) -> tuple[dict, str]:
    html = page.read_text(encoding="utf-8")
    probe = tmp / f"probe_{page.name}"
    probe.write_text(html.replace("<head>", "<head>" + PROBE_HEAD, 1)
                     .replace("</body>", PROBE_TAIL + "</body>", 1), encoding="utf-8")
    dom = _chromium(["--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
                    tmp / "profile1").stdout
    m = re.search(r'<pre id="c15probe">([^<]*)</pre>', dom)
    assert m, "the page never finished loading"
    if shot is not None:
        _chromium(["--window-size=1400,900", "--virtual-time-budget=5000",
                   f"--screenshot={shot}", page.as_uri()], tmp / "profile2")
    return json.loads(m.group(1).replace("&quot;", '"')), dom


def test_offline_demo_map_renders_with_every_layer(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    # the default (no --offline flag): Leaflet embedded, the page needs no network
    assert main(["demo", "--out", str(tmp_path / "out"), "--quiet"]) == 0
    page = tmp_path / "out" / "map.html"
    assert not re.findall(r'<(?:script[^>]+src|link[^>]+href)="https?:', page.read_text(
        encoding="utf-8"))
    shot = tmp_path / "demo_map.png"
    info, dom = _render(page, tmp_path, shot)
    assert info["errors"] == []
    assert info["canvases"] >= 1  # vectors are drawn on a canvas (prefer_canvas)
    labels = re.findall(r"<span> ([^<]+)</span>", dom)
    for want in ("养老服务 15分钟等时圈", "托育服务 5分钟等时圈", "养老服务:人口网格(步行分钟)",
                 "托育服务:社区覆盖率(15分钟,3岁以下)", "养老服务覆盖缺口", "托育服务覆盖缺口",
                 "现有设施:日间照料中心", "现有设施:幼儿园(托班)", "步行路网"):
        assert want in labels, labels
    assert 'id="c15-legend"' in dom and "步行时间" in dom and "社区覆盖率" in dom
    # the screenshot shows the layers: cell, gap and facility colours are on screen
    import matplotlib.image as mpimg

    img = (mpimg.imread(shot)[:, :, :3] * 255).astype(int)
    r, g, b = img[:, :, 0], img[:, :, 1], img[:, :, 2]
    greenish = ((g - r > 25) & (g - b > 25)).mean()  # cells within 10 min
    reddish = ((r - g > 60) & (r - b > 60)).mean()  # gap clusters
    assert greenish > 0.005 and reddish > 0.001, (greenish, reddish)
    (ROOT / "maps").mkdir(exist_ok=True)
    shutil.copyfile(shot, ROOT / "maps" / "demo_map.png")
    # every layer switched on, as a planner would click through the layer panel
    allon = tmp_path / "all_layers.html"
    allon.write_text(page.read_text(encoding="utf-8").replace("</body>", ALL_ON + "</body>", 1),
                     encoding="utf-8")
    shot_all = tmp_path / "demo_map_all_layers.png"
    _chromium(["--window-size=1400,900", "--virtual-time-budget=5000",
               f"--screenshot={shot_all}", allon.as_uri()], tmp_path / "profile3")
    img2 = (mpimg.imread(shot_all)[:, :, :3] * 255).astype(int)
    assert np.abs(img2 - img).sum(axis=2).astype(bool).mean() > 0.01  # more is drawn
    shutil.copyfile(shot_all, ROOT / "maps" / "demo_map_all_layers.png")


def test_sites_map_and_english_labels(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["suggest", "--demo", "--category", "elderly", "--sites", "3", "--out",
                 str(tmp_path / "s"), "--offline", "--lang", "en", "--quiet"]) == 0
    info, dom = _render(tmp_path / "s" / "sites_map.html", tmp_path)
    assert info["errors"] == [] and info["markers"] >= 1
    labels = re.findall(r"<span> ([^<]+)</span>", dom)
    assert "Suggested sites" in labels and "Area added by sites" in labels
