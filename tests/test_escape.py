"""Hostile text from inputs: shown as text in maps (checked in headless Chromium), never run."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import geopandas as gpd
import pandas as pd
import pytest
import shapely

from care15._escape import html_text, spreadsheet_text
from care15.maps import coverage_map, index_map, save_map

PAYLOADS = [
    "${window.__pwned=1}",
    '<img src=x onerror="window.__pwned=2">',
    "`+(window.__pwned=3)+`",
    "</script><script>window.__pwned=4</script>",
    "\\${window.__pwned=5}",
    "'\"><svg onload=window.__pwned=6>",
]


@pytest.mark.parametrize("text", PAYLOADS)
def test_html_text_leaves_nothing_that_runs(text):
    out = html_text(text)
    for ch in "<>`${}\\\"'":
        assert ch not in out, (ch, out)


def test_spreadsheet_text_neutralises_formulas():
    for v in ("=1+1", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://a","b")'):
        assert spreadsheet_text(v) == "'" + v
    for v in ("养老院", "a=b", 3, -2.5, None):
        assert spreadsheet_text(v) == v


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PROBE = ("<script>window.addEventListener('load',function(){"
         "Object.keys(window).forEach(function(k){var l=window[k];"
         "if(l&&typeof L!=='undefined'&&l instanceof L.Layer){try{if(l.getPopup&&l.getPopup()){l.openPopup();}"
         "if(l.getTooltip&&l.getTooltip()){l.openTooltip();}}catch(e){}}});"
         "setTimeout(function(){var d=document.createElement('pre');d.id='probe';"
         "d.textContent=JSON.stringify({pwned:window.__pwned||0,"
         "text:document.body.innerText.length});document.body.appendChild(d);},800);});"
         "</script>")


def _run_in_chromium(page, tmp_path):
    html = page.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>", 1)
    probe = tmp_path / f"probe_{page.name}"
    probe.write_text(html, encoding="utf-8")
    dom = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
                          f"--user-data-dir={tmp_path / 'profile'}",
                          "--virtual-time-budget=5000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=120).stdout
    m = re.search(r'<pre id="probe">([^<]*)</pre>', dom)
    assert m, "the page never finished loading"
    return json.loads(m.group(1).replace("&quot;", '"')), dom


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium (Debian package "
                    "chromium; .ci/run installs it)")
def test_hostile_names_do_not_run_in_the_maps(tmp_path, demo_result):
    res = demo_result
    n = len(PAYLOADS)
    fac = res.facilities.copy()
    fac["name"] = [PAYLOADS[i % n] for i in range(len(fac))]
    fac.loc[fac.index[0], "subtype"] = PAYLOADS[1]  # an unknown type name from the input
    comm = res.communities.copy()
    comm["community_name"] = [PAYLOADS[i % n] for i in range(len(comm))]
    gaps = res.gaps.copy()
    gaps["community_name"] = [PAYLOADS[i % n] for i in range(len(gaps))]
    pts = fac.to_crs(4326).geometry.head(n).to_numpy()
    sites = gpd.GeoDataFrame({"rank": range(1, len(pts) + 1), "name": PAYLOADS[:len(pts)],
                              "community_name": PAYLOADS[:len(pts)],
                              "nearest_existing_facility": PAYLOADS[:len(pts)],
                              "newly_covered_target": 10.0, "cumulative_coverage": 0.5,
                              "nearest_existing_walk_min": 3.0}, geometry=pts, crs=4326)
    m = coverage_map(cells=res.cells, communities=comm, isochrones=res.isochrones,
                     facilities=fac, gaps=gaps, sites=sites, title=PAYLOADS[0] + PAYLOADS[1],
                     lang="en")
    page = save_map(m, tmp_path / "map.html", offline=True)
    info, dom = _run_in_chromium(page, tmp_path)
    assert info["pwned"] == 0, info
    assert "${window.__pwned=1}" in dom  # the name is shown as text
    # the batch index map: region errors come from exceptions that quote input text
    table = pd.DataFrame([{"region": "a", "status": "failed", "error": PAYLOADS[2] + PAYLOADS[0],
                           "west": 24.9, "south": 60.1, "east": 25.0, "north": 60.2,
                           "map": ""}])
    info, _ = _run_in_chromium(index_map(table, tmp_path, title=PAYLOADS[3]), tmp_path)
    assert info["pwned"] == 0, info


def test_no_payload_survives_in_the_page_source(tmp_path, demo_result):
    """Without a browser: no payload appears unescaped anywhere in the saved page."""
    fac = demo_result.facilities.copy()
    fac["name"] = [PAYLOADS[i % len(PAYLOADS)] for i in range(len(fac))]
    page = save_map(coverage_map(facilities=fac, title=PAYLOADS[0], lang="zh"),
                    tmp_path / "m.html").read_text(encoding="utf-8")
    for p in PAYLOADS:
        assert p not in page, p
    assert shapely  # the geometry stack is importable (maps need it)


def test_no_formula_reaches_the_spreadsheets(tmp_path):
    """Names starting with = + - @ stay text in CSV (apostrophe) and XLSX (string cells)."""
    import openpyxl

    from care15.export import write_tables

    names = ['=HYPERLINK("http://evil.example","点我")', "+1+1", "-2+3", "@SUM(A1:A2)",
             "\t=1", "养老院"]
    df = gpd.GeoDataFrame({"facility_id": [f"f{i}" for i in range(len(names))],
                           "name": names, "category": "elderly", "beds": 10.0},
                          geometry=[shapely.Point(116.3 + i / 100, 39.9) for i in
                                    range(len(names))], crs=4326)
    write_tables({"facilities": df, "gaps": df.assign(rank=1)}, tmp_path,
                 formats=("csv", "xlsx"), lang="zh")
    back = pd.read_csv(tmp_path / "facilities.csv", encoding="utf-8-sig")
    assert back["name"].tolist()[:5] == ["'" + n for n in names[:5]]
    assert back["name"].iloc[5] == "养老院"
    for book in ("tables.xlsx", "gaps.xlsx"):
        wb = openpyxl.load_workbook(tmp_path / book)
        for ws in wb.worksheets:
            for row in ws.iter_rows():
                for cell in row:
                    assert cell.data_type != "f", (book, ws.title, cell.coordinate, cell.value)
        ws = wb.worksheets[0]
        values = [c.value for c in next(ws.iter_cols(min_col=2, max_col=2, min_row=2))]
        assert names[0] in values  # the text itself, kept verbatim
