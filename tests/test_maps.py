"""The folium coverage map: layers, languages, basemaps, offline assets, bad input."""

from __future__ import annotations

import dataclasses
import json
import re

import numpy as np
import pytest

from care15._errors import DataWarning
from care15._palette import BAND_COLOURS, GAP_COLOUR, NEW_COVER_COLOUR
from care15.chinacoords import from_wgs84
from care15.maps import coverage_map, inline_assets, save_map


def _layers(res, **kw):
    return dict(cells=res.cells, communities=res.communities, isochrones=res.isochrones,
                facilities=res.facilities, gaps=res.gaps, **kw)


def test_layers_in_both_languages(demo_result, tmp_path):
    zh = coverage_map(**_layers(demo_result), lang="zh", title="测试")
    names = zh._care15["layers"]
    for want in ("养老服务 15分钟等时圈", "托育服务 5分钟等时圈", "养老服务:人口网格(步行分钟)",
                 "养老服务:社区覆盖率(15分钟,60岁及以上)", "养老服务覆盖缺口",
                 "现有设施:日间照料中心"):
        assert want in names
    en = coverage_map(**_layers(demo_result), lang="en")
    assert "Elderly care ≤15 min isochrone" in en._care15["layers"]
    p = save_map(zh, tmp_path / "m.html")
    page = p.read_text(encoding="utf-8")
    assert 'id="c15-legend"' in page and "图例" in page and "测试" in page
    assert "jquery" not in page.lower() and "bootstrap" not in page.lower()
    assert "© OpenStreetMap" in page


def test_offline_inlines_leaflet(demo_result, tmp_path):
    m = coverage_map(**_layers(demo_result), lang="en")
    p = save_map(m, tmp_path / "off.html", offline=True)
    page = p.read_text(encoding="utf-8")
    assert not re.findall(r'<script[^>]+src="https?:', page)
    assert not re.findall(r'<link[^>]+href="https?:', page)
    assert "L.version" in page or "Leaflet" in page
    assert "data:image/png;base64" in page  # Leaflet's images inlined too
    with pytest.raises(RuntimeError, match="could not find"):
        inline_assets("<html></html>")


def test_amap_shifts_every_layer_to_gcj02(demo_result):
    # Helsinki lies outside China (no GCJ shift): move the facilities to Chengdu to see it
    fac = demo_result.facilities.to_crs(4326)
    fac = fac.set_geometry(fac.geometry.translate(104.06 - 24.94, 30.66 - 60.17))
    m = coverage_map(facilities=fac, lang="zh", basemap="amap")
    page = m.get_root().render()
    x0, y0 = fac.geometry.x.iloc[0], fac.geometry.y.iloc[0]
    gx, gy = from_wgs84(x0, y0, "gcj02")
    marker = re.search(r'"type": ?"Point", ?"coordinates": ?\[([-\d.]+), ?([-\d.]+)\]', page)
    lon, lat = float(marker.group(1)), float(marker.group(2))
    assert abs(lat - float(gy)) < 2e-5 and abs(lon - float(gx)) < 2e-5  # drawn in GCJ-02
    assert abs(lat - y0) > 1e-3  # ... not at the WGS-84 position
    assert "autonavi" in page


def test_tianditu_needs_a_key_and_unknown_basemap(demo_result):
    with pytest.warns(DataWarning, match="Tianditu"):
        m = coverage_map(**_layers(demo_result), basemap="tianditu")
    assert m._care15["basemap"] == "osm"
    m = coverage_map(**_layers(demo_result), basemap="tianditu", tianditu_key="abc")
    assert "tianditu.gov.cn" in m.get_root().render()
    with pytest.raises(ValueError, match="unknown basemap"):
        coverage_map(**_layers(demo_result), basemap="google")
    assert "tile" not in coverage_map(**_layers(demo_result), basemap="none")._care15["layers"]


def test_no_facilities_no_gaps_empty_community(demo_result):
    res = demo_result
    comm = res.communities.copy()
    m = coverage_map(cells=res.cells, communities=comm, isochrones=res.isochrones.iloc[:0],
                     facilities=res.facilities.iloc[:0], gaps=res.gaps.iloc[:0], lang="zh")
    page = m.get_root().render()
    assert "无现有设施" in page and "无覆盖缺口" in page
    # communities with no residents are drawn grey and labelled undefined, never 0% or 100%
    assert (comm["pop_total"] <= 0).any()
    assert "#dddddd" in page and "无居民(不适用)" in page
    with pytest.raises(ValueError, match="nothing to map"):
        coverage_map(facilities=res.facilities.iloc[:0])


def _features(page: str, key: str) -> list[dict]:
    """Properties of the GeoJSON features in a rendered page that carry ``key``."""
    out = []
    for m in re.finditer(r"_add\((\{.*?\})\);", page, re.S):  # folium.GeoJson layers
        data = json.loads(m.group(1))
        out += [f["properties"] for f in data.get("features", []) if key in f["properties"]]
    geoms = {}  # care15's compact layers: shared geometry arrays, properties as columns
    for m in re.finditer(r"var (c15_\w+) = (\[.*?\]);\n", page):
        geoms[m.group(1)] = json.loads(m.group(2))
    for m in re.finditer(r"c15GeoLayer\((\w+),\n(.*)\n\)", page):
        props = json.loads(m.group(2))["props"]
        n = len(geoms[m.group(1)])
        assert all(len(v) == n for v in props.values()), "a column per geometry"
        if key in props:
            out += [{k: v[i] for k, v in props.items()} for i in range(n)]
    return out


@pytest.fixture(scope="module")
def demo_sites(demo_region, demo_result):
    from care15.region import demo_scenario
    from care15.siting import suggest_sites

    return suggest_sites(demo_result, demo_region.network, demo_scenario(), "elderly",
                         n_sites=2)


def test_legend_lists_every_drawn_layer_and_popups_name_facilities(demo_result, demo_region,
                                                                    demo_sites):
    res, sug = demo_result, demo_sites
    m = coverage_map(**_layers(res), sites=sug.sites, sites_area=sug.added_area,
                     streets=demo_region.network, lang="zh")
    legend = m._care15["legend"]
    assert legend == ["步行路网", "养老服务等时圈(步行可达范围)", "托育服务等时圈(步行可达范围)",
                      "人口网格:到最近养老服务设施的步行时间",
                      "人口网格:到最近托育服务设施的步行时间",
                      "养老服务:社区覆盖率(15分钟,60岁及以上)", "托育服务:社区覆盖率(15分钟,3岁以下)",
                      "新址新增覆盖范围(填色)", "养老服务覆盖缺口:15分钟外的居民聚集区(虚线框)",
                      "托育服务覆盖缺口:15分钟外的居民聚集区(虚线框)", "现有设施(按类型)",
                      "建议新址(数字为排名)"], legend
    page = m.get_root().render()
    names = dict(zip(res.facilities["facility_id"], res.facilities["name"], strict=True))
    # cells: the nearest facility by name (never its id), as the analysis found it
    cells = _features(page, "band")
    assert len(cells) == 2 * len(res.cells)
    want = [names[f] for f in res.cells["elderly_nearest_facility"]]
    assert [c["n"] for c in cells[: len(res.cells)]] == want
    # the site popup names the nearest existing facility
    site = sug.sites.iloc[0]
    assert site["nearest_existing_facility"] in names
    assert f"最近现有设施: {names[site['nearest_existing_facility']]}" in page
    # facility popups carry the name
    tips = [p["tip"] for p in _features(page, "tip")]
    assert all(any(n in t for t in tips) for n in res.facilities["name"])
    # the sites map: cells off (the gaps and the new coverage read on their own), gap outlines
    # unfilled and drawn after (above) the filled new coverage
    fill = re.search(rf'"fillColor": ?"{NEW_COVER_COLOUR}"', page).start()
    gap = re.search(r'\{[^{}]*"dashArray": ?"7 5"[^{}]*\}', page)
    assert fill < gap.start()
    style = json.loads(gap.group(0))
    assert style["color"] == GAP_COLOUR and style["fillOpacity"] == 0
    assert "养老服务:人口网格(步行分钟)" in m._care15["layers"]
    en = coverage_map(**_layers(res), sites=sug.sites, sites_area=sug.added_area, lang="en")
    assert "Area newly covered by the sites (filled)" in en._care15["legend"]
    assert "Suggested sites (number = rank)" in en._care15["legend"]


def test_no_facility_is_not_unreachable(demo_region):
    """A category with no facility in the data: its cells say so, in their own colour."""
    from care15.analysis import analyze
    from care15.region import demo_scenario

    fac = demo_region.facilities
    region = dataclasses.replace(demo_region, facilities=fac.loc[fac["category"] == "elderly"])
    res = analyze(region, demo_scenario())
    assert not np.isfinite(res.cells["childcare_walk_min"]).any()
    m = coverage_map(**_layers(res), lang="zh")
    page = m.get_root().render()
    cells = _features(page, "band")
    child = cells[len(res.cells):]
    assert {c["band"] for c in child} == {"no_facility"}
    assert {c["m"] for c in child} == {"数据中无托育服务设施"}
    assert "unreachable" not in {c["band"] for c in cells[: len(res.cells)]}
    assert f'background:{BAND_COLOURS["no_facility"]}' in page and "数据中无托育服务设施" in page
    assert BAND_COLOURS["no_facility"] != BAND_COLOURS["unreachable"]
    # the same cells with facilities that exist but no path: "unreachable", not "no facility"
    m2 = coverage_map(cells=res.cells, facilities=fac, lang="en")
    child2 = _features(m2.get_root().render(), "band")[len(res.cells):]
    assert {c["band"] for c in child2} == {"unreachable"}
    assert {c["m"] for c in child2} == {"unreachable (no walking path)"}


def test_invalid_polygons_and_reproducible_pages(demo_result, tmp_path):
    """A self-crossing community ring (invalid input) is drawn; the same map, the same bytes."""
    from shapely.geometry import Polygon

    comm = demo_result.communities.copy()
    x0, y0, x1, y1 = comm.geometry.iloc[0].bounds
    comm.loc[comm.index[0], "geometry"] = Polygon([(x0, y0), (x1, y1), (x1, y0), (x0, y1)])
    assert not comm.geometry.iloc[0].is_valid
    m = coverage_map(communities=comm, lang="en")
    assert len(_features(m.get_root().render(), "colour")) == 2 * len(comm)  # 2 categories
    a = save_map(coverage_map(**_layers(demo_result)), tmp_path / "a.html").read_bytes()
    b = save_map(coverage_map(**_layers(demo_result)), tmp_path / "b.html").read_bytes()
    assert a == b
