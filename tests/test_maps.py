"""The folium coverage map: layers, languages, basemaps, offline assets, bad input."""

from __future__ import annotations

import re

import pytest

from care15._errors import DataWarning
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
    marker = re.search(r"L\.circleMarker\(\s*\[([-\d.]+),\s*([-\d.]+)\]", page)
    lat, lon = float(marker.group(1)), float(marker.group(2))
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
