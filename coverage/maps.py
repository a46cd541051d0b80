"""Interactive coverage maps (folium / Leaflet), one self-explaining HTML file.

Layers a planner can switch on and off (all listed in an always-open layer panel):

- isochrones per category and threshold (5/10/15 min);
- population cells coloured by walking minutes to the nearest facility, per category;
- communities coloured by the population-weighted coverage rate of the target group;
- existing facilities by sub-type; gap clusters; suggested sites with their rank and the
  area each one adds.

The legend has one entry per layer drawn (greyed while the layer is switched off): which
category and threshold the cells show, and the cell states kept apart - within each threshold,
beyond the largest, unreachable (no walking path) and no facility of that category in the data.
Colours come from :mod:`care15._palette`, as in the figures. On a sites map (``sites=``) the
cells start switched off, the area the sites newly cover is filled and the gaps are dashed
outlines drawn above it, so both read where they overlap; sites are numbered markers.
Facilities are one GeoJSON layer per type whose dots shrink at city zoom (3 px at zoom 12, 7 px
from 16) rather than clustering, which would need a plugin from a CDN.

Popups and tooltips carry the numbers in Chinese or English (``lang``) and name facilities
(a cell's nearest facility, a site's nearest existing one), never by their id. Basemaps:
OpenStreetMap, Tianditu (天地图, needs the user's key), AMap/Gaode (高德, whose tiles are in
GCJ-02: every layer is shifted to GCJ-02 so it lines up) and none (white, for printing).

The map uses Leaflet only (no jQuery, Bootstrap or icon fonts). ``offline=True`` in
:func:`save_map` (the run stage's default) inlines Leaflet's JavaScript and CSS (and its images,
as data URIs) from the installed ``xstatic-leaflet`` package, so the file opens with no
internet; basemap tiles still need a tile server, and the walking network drawn as a light
layer (``streets=``) keeps the map readable without them.
Geometries are simplified (1 m in the metric CRS) and coordinates rounded to 1e-5° (~1 m) so
a city-wide map stays small.
"""

from __future__ import annotations

import base64
import json
import math
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import quote

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from ._errors import DataWarning
from ._escape import html_text
from ._files import atomic_path
from ._options import BASEMAPS
from ._palette import (
    BAND_COLOURS,
    CATEGORY_COLOURS,
    CHANGE_COLOURS,
    COMPOUND_COLOURS,
    EDIT_COLOURS,
    GAP_COLOUR,
    MARKER_EDGE,
    NEW_COVER_COLOUR,
    NO_RESIDENTS,
    RATE_STEPS,
    SITE_COLOUR,
    STREET_COLOUR,
    SUBTYPE_COLOURS,
)
from .standards import CATEGORIES

__all__ = [
    "BAND_COLOURS",
    "BASEMAPS",
    "coverage_map",
    "index_map",
    "inline_assets",
    "save_map",
    "stable_ids",
]


_T = {
    "zh": {"iso": "{cat} {t}分钟等时圈", "cells": "{cat}:人口网格(步行分钟)",
           "comm": "{cat}:社区覆盖率({t}分钟,{grp})", "fac": "现有设施:{sub}",
           "gaps": "{cat}覆盖缺口", "sites": "建议新址", "sites_area": "新址新增覆盖范围",
           "minutes": "步行至最近设施", "min": "分钟", "unreach": "无法步行到达(无路径)",
           "beyond": "超过{t}分钟", "residents": "常住人口", "p60": "60岁及以上",
           "p03": "3岁以下", "rate": "覆盖率", "target": "目标", "met": "达标",
           "short": "未达标", "undefined": "无居民(不适用)", "cap": "每千人容量",
           "beds": "床位", "places": "托位", "area": "建筑面积", "rank": "排名",
           "uncovered": "未覆盖", "new": "新增覆盖", "cum": "累计覆盖率",
           "nearest": "最近现有设施", "legend": "图例", "bands": "步行时间",
           "rates": "社区覆盖率", "none_fac": "无现有设施", "none_gap": "无覆盖缺口",
           "community": "社区", "shortfall": "差额(人)", "facilities": "设施数",
           "attr": "© OpenStreetMap 贡献者 (ODbL)", "streets": "步行路网",
           "no_fac": "数据中无{cat}设施", "nearest_fac": "最近设施",
           "iso_leg": "{cat}等时圈(步行可达范围)", "within": "{t}分钟内",
           "cells_leg": "人口网格:到最近{cat}设施的步行时间",
           "gaps_leg": "{cat}覆盖缺口:{t}分钟外的居民聚集区(虚线框)",
           "fac_leg": "现有设施(按类型)", "sites_leg": "建议新址(数字为排名)",
           "sites_area_leg": "新址新增覆盖范围(填色)", "off": "灰色标题:图层未打开",
           "people": "人"},
    "en": {"iso": "{cat} ≤{t} min isochrone", "cells": "{cat}: population cells (walk min)",
           "comm": "{cat}: community coverage (≤{t} min, {grp})", "fac": "Facilities: {sub}",
           "gaps": "{cat} gaps", "sites": "Suggested sites", "sites_area": "Area added by sites",
           "minutes": "Walk to nearest facility", "min": "min",
           "unreach": "unreachable (no walking path)",
           "beyond": "over {t} min", "residents": "Residents", "p60": "aged 60+",
           "p03": "aged 0-3", "rate": "Coverage", "target": "target", "met": "met",
           "short": "short", "undefined": "no residents (undefined)", "cap": "capacity per 1,000",
           "beds": "beds", "places": "places", "area": "floor area", "rank": "Rank",
           "uncovered": "Uncovered", "new": "Newly covered", "cum": "Cumulative coverage",
           "nearest": "Nearest existing facility", "legend": "Legend", "bands": "Walking time",
           "rates": "Community coverage", "none_fac": "no existing facilities",
           "none_gap": "no gaps", "community": "Community", "shortfall": "shortfall (people)",
           "facilities": "facilities", "attr": "© OpenStreetMap contributors (ODbL)",
           "streets": "Walking network",
           "no_fac": "no {cat} facility in the data", "nearest_fac": "Nearest facility",
           "iso_leg": "{cat} isochrones (reach on foot)", "within": "within {t} min",
           "cells_leg": "Population cells: walk to the nearest {cat} facility",
           "gaps_leg": "{cat} gaps: residents beyond {t} min (dashed outline)",
           "fac_leg": "Existing facilities (by type)",
           "sites_leg": "Suggested sites (number = rank)",
           "sites_area_leg": "Area newly covered by the sites (filled)",
           "off": "grey heading: layer switched off", "people": "people"},
}


class _Popup(MacroElement):
    """A Leaflet popup bound from a plain string (folium.Popup needs jQuery for HTML)."""

    _template = Template("""{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.bindPopup({{ this.content|tojson }}, {maxWidth: 340});
        {% endmacro %}""")

    def __init__(self, content: str):
        super().__init__()
        self._name = "C15Popup"
        self.content = content


class _RawScript(Element):
    """Script text put on the page as it is: never compiled as a Jinja template."""

    _template = Template("{{ this.code }}")

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code


#: The browser side of :class:`_GeoLayer`: features rebuilt from shared geometry and columns.
_GEO_LAYER_JS = """function c15GeoLayer(geoms, s) {
    var keys = Object.keys(s.props);
    var feats = geoms.map(function (g, i) {
        var p = {};
        keys.forEach(function (k) { p[k] = s.props[k][i]; });
        return {type: "Feature", geometry: g, properties: p};
    });
    var opts = {interactive: s.interactive, style: function (f) {
        return s.key ? Object.assign({}, s.style, s.styles[f.properties[s.key]]) : s.style;
    }};
    if (s.marker) {
        opts.pointToLayer = function (f, ll) { return L.circleMarker(ll, s.marker); };
    }
    var lyr = L.geoJson({type: "FeatureCollection", features: feats}, opts);
    if (s.fields.length) {
        var tip = function (l) {
            var p = l.feature.properties;
            function v(k) { return p[k] === null ? "" : p[k]; }
            if (!s.aliases.length) { return s.fields.map(v).join("<br>"); }
            return "<table>" + s.fields.map(function (k, j) {
                return "<tr><th style='text-align:left;padding-right:6px'>" + s.aliases[j] +
                    "</th><td>" + v(k) + "</td></tr>";
            }).join("") + "</table>";
        };
        lyr.bindTooltip(tip, {sticky: true});
        if (s.popup) { lyr.bindPopup(tip, {maxWidth: 340}); }
    }
    return lyr;
}"""


def _script_json(value: Any) -> str:
    """JSON that is safe inside a ``<script>`` element (no ``</script>`` or ``<!--``)."""
    return (json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
            .replace("</", "<\\/").replace("<!--", "<\\!--"))


class _GeoLayer(MacroElement):
    """A GeoJSON layer written compactly: shared geometry, properties as columns, keyed styles.

    ``folium.GeoJson`` writes every feature with its own properties, calls the Python style
    function once per feature, and branca compiles the rendered script, data included, as a
    Jinja template. On Harbin's 15,106 cells that was two 4.9 MB copies of the cells and
    most of the map's 9 s. Here the geometry is one JavaScript array (``geom_var``) that
    the layers of several categories share, the properties are one list per column, the
    style is looked up in the browser (``styles[properties[key]]`` over ``style``), and the
    text goes onto the page as it is. Property values are HTML already (escaped by the
    caller): tooltips and popups show them as they are.

    Parameters
    ----------
    geom_var
        The JavaScript variable holding the geometry array.
    geoms
        GeoJSON geometry strings: given once per ``geom_var`` (the first layer that uses
        it), None for the layers that reuse it.
    props
        Column name → one value per geometry (JSON-serialisable, finite).
    style
        Leaflet path options for every feature.
    key, styles
        A property whose value picks extra options from ``styles`` (e.g. the walk band).
    fields, aliases
        The properties shown in the tooltip and popup, and their labels; without labels the
        values (ready-made HTML) are shown one per line.
    popup
        Bind a popup (on click) as well as the tooltip.
    marker
        Circle-marker options for point geometries.
    interactive
        False for a layer that never takes the mouse (the streets).
    """

    def __init__(self, geom_var: str, geoms: list[str] | None, props: dict[str, list[Any]],
                 *, style: dict[str, Any], key: str | None = None,
                 styles: dict[str, dict[str, Any]] | None = None,
                 fields: list[str] | None = None, aliases: list[str] | None = None,
                 popup: bool = True, marker: dict[str, Any] | None = None,
                 interactive: bool = True) -> None:
        super().__init__()
        self._name = "C15GeoLayer"
        self.geom_var, self.geoms = geom_var, geoms
        self.spec = {"props": props, "style": style, "key": key, "styles": styles or {},
                     "fields": fields or [], "aliases": aliases or [], "popup": popup,
                     "marker": marker, "interactive": interactive}

    def render(self, **kwargs: Any) -> str:
        """Put the layer's script on the page (after its parent's), not through Jinja.

        Parameters
        ----------
        **kwargs
            Passed on by branca; unused.

        Returns
        -------
        str
            Nothing: the script goes into the page's script section.
        """
        figure = self.get_root()
        assert isinstance(figure, Figure), "a _GeoLayer must be in a Figure to render"
        if "c15_geo_layer_js" not in figure.script._children:
            figure.script.add_child(_RawScript(_GEO_LAYER_JS), name="c15_geo_layer_js")
        parts = []
        if self.geoms is not None:
            parts.append(f"var {self.geom_var} = [{','.join(self.geoms)}];")
        parent = self._parent.get_name() if self._parent is not None else None
        parts.append(f"var {self.get_name()} = c15GeoLayer({self.geom_var},\n"
                     f"{_script_json(self.spec)}\n)"
                     + (f".addTo({parent});" if parent else ";"))
        figure.script.add_child(_RawScript("\n".join(parts)), name=self.get_name())
        return ""


def _layer(ctx: _Ctx, g: gpd.GeoDataFrame, props: dict[str, list[Any]], **kw: Any) -> _GeoLayer:
    """A :class:`_GeoLayer` of its own geometry (rows without geometry are left out).

    Parameters
    ----------
    ctx
        The map being built (names the geometry variable).
    g
        The features, in the map's CRS.
    props
        Column → one value per row of ``g``.
    **kw
        Passed to :class:`_GeoLayer`.

    Returns
    -------
    _GeoLayer
        The layer, to add to a feature group.
    """
    geoms, rows = _geometry_strings(g)
    ctx.n_layers += 1
    return _GeoLayer(f"c15_g{ctx.n_layers}_{ctx.m.get_name()}", geoms,
                     {k: [v[i] for i in rows] for k, v in props.items()}, **kw)


def _geometry_strings(g: gpd.GeoDataFrame) -> tuple[list[str], np.ndarray]:
    """GeoJSON strings of the non-empty geometries and the rows they come from."""
    geoms = g.geometry.to_numpy()
    keep = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    return list(shapely.to_geojson(geoms[keep])), np.flatnonzero(keep)


class _PointsOnTop(MacroElement):
    """Bring gap outlines, then facility markers, to the front whenever an overlay is switched on."""

    _template = Template("""{% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.on('overlayadd', function () {
            [{{ this.groups|join(', ') }}].forEach(function (g) {
                if ({{ this._parent.get_name() }}.hasLayer(g)) {
                    g.eachLayer(function (l) { if (l.bringToFront) { l.bringToFront(); } });
                }
            });
        });
        {% endmacro %}""")

    def __init__(self, groups: list[str]):
        super().__init__()
        self._name = "C15PointsOnTop"
        self.groups = groups


class _LegendSync(MacroElement):
    """Grey out (and fold) the legend entries of layers switched off in the layer panel."""

    _template = Template("""{% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            function sync() {
                document.querySelectorAll('#c15-legend [data-fg]').forEach(function (el) {
                    var on = el.getAttribute('data-fg').split(' ').some(function (n) {
                        return window[n] && map.hasLayer(window[n]);
                    });
                    el.classList.toggle('c15-off', !on);
                });
            }
            map.on('overlayadd overlayremove', sync);
            sync();
        })();
        {% endmacro %}""")

    def __init__(self) -> None:
        super().__init__()
        self._name = "C15LegendSync"


class _ZoomRadius(MacroElement):
    """Facility dots sized by zoom: small dots at city scale, full markers in a neighbourhood."""

    _template = Template("""{% macro script(this, kwargs) %}
        (function () {
            var map = {{ this._parent.get_name() }};
            function each(l, f) { if (l.eachLayer) { l.eachLayer(function (x) { each(x, f); }); }
                                  else { f(l); } }
            function apply() {
                var z = map.getZoom();
                var r = z >= 16 ? 7 : z >= 15 ? 6 : z >= 14 ? 5 : z >= 13 ? 4 : 3;
                [{{ this.groups|join(', ') }}].forEach(function (g) {
                    each(g, function (l) {
                        if (l.setRadius) { l.setRadius(r); l.setStyle({weight: r > 4 ? 2 : 1}); }
                    });
                });
            }
            map.on('zoomend', apply);
            map.whenReady(apply);
        })();
        {% endmacro %}""")

    def __init__(self, groups: list[str]):
        super().__init__()
        self._name = "C15ZoomRadius"
        self.groups = groups


def _label(cat: str, lang: str) -> str:
    c = CATEGORIES[cat]
    return c.label_zh if lang == "zh" else c.label_en


def _sublabel(sub: str, lang: str) -> str:
    for c in CATEGORIES.values():
        for s in c.subtypes:
            if s.key == sub:
                return s.label_zh if lang == "zh" else s.label_en
    return html_text(sub)  # a type name from the input, shown in the layer control


def _fmt(v: Any, nd: int = 0) -> str:
    if v is None or (isinstance(v, float) and not np.isfinite(v)):
        return "–"
    if isinstance(v, (bool, np.bool_)):
        return "✓" if v else "✗"
    if isinstance(v, (int, np.integer)):
        return f"{int(v):,}"
    if isinstance(v, (float, np.floating)):
        return f"{float(v):,.{nd}f}"
    return html_text(v)


def _pct(v: Any) -> str:
    return "–" if v is None or not np.isfinite(v) else f"{100 * float(v):.0f}%"


def _to_map_crs(gdf: gpd.GeoDataFrame, gcj: bool, simplify_m: float = 1.0) -> gpd.GeoDataFrame:
    """Simplify in the metric CRS, reproject to 4326, shift to GCJ-02 if asked, round."""
    if gdf is None or len(gdf) == 0:
        return gdf
    g = gdf
    if g.crs is not None and g.crs.is_projected and simplify_m > 0:
        g = g.set_geometry(shapely.simplify(g.geometry.to_numpy(), simplify_m,
                                            preserve_topology=True))
    g = g.to_crs(4326)
    geom = g.geometry.to_numpy()
    if gcj:
        from .chinacoords import from_wgs84

        def _shift(xy: np.ndarray) -> np.ndarray:
            x, y = from_wgs84(xy[:, 0], xy[:, 1], "gcj02")
            return np.column_stack([x, y])

        geom = shapely.transform(geom, _shift)
    # 5 decimals (about 1 m) for the browser: the coordinates rounded, without the topology
    # work of set_precision (a second on a city's cells, and it fails on a self-crossing ring)
    geom = shapely.transform(geom, lambda xy: np.round(xy, 5))
    return g.set_geometry(geom)


def _band(minutes: float, thresholds: list[int], has_facility: bool = True) -> str:
    """The palette key of a cell: a threshold, ``beyond``, ``unreachable`` or ``no_facility``."""
    if not np.isfinite(minutes):
        return "unreachable" if has_facility else "no_facility"
    for t in thresholds:
        if minutes <= t + 1e-9:
            return str(t)
    return "beyond"


def _rate_colour(r: float) -> str:
    if r is None or not np.isfinite(r):
        return NO_RESIDENTS
    for hi, col in RATE_STEPS:
        if r < hi:
            return col
    return RATE_STEPS[-1][1]


def _basemap(m: folium.Map, basemap: str, key: str | None, lang: str) -> str:
    if basemap not in BASEMAPS:
        raise ValueError(f"unknown basemap {basemap!r}; use one of {BASEMAPS}")
    if basemap == "tianditu" and not key:
        warnings.warn("basemap 'tianditu' needs a Tianditu (天地图) key (--tianditu-key, free at "
                      "console.tianditu.gov.cn); falling back to OpenStreetMap", DataWarning,
                      stacklevel=3)
        basemap = "osm"
    if basemap == "osm":
        folium.TileLayer("OpenStreetMap", name="OpenStreetMap", control=False).add_to(m)
    elif basemap == "tianditu":
        for layer, name in (("vec", "天地图 矢量"), ("cva" if lang == "zh" else "eva", "注记")):
            folium.TileLayer(
                tiles=(f"https://t{{s}}.tianditu.gov.cn/{layer}_w/wmts?SERVICE=WMTS&REQUEST="
                       f"GetTile&VERSION=1.0.0&LAYER={layer}&STYLE=default&TILEMATRIXSET=w&"
                       f"FORMAT=tiles&TILEMATRIX={{z}}&TILEROW={{y}}&TILECOL={{x}}&tk={key}"),
                attr="© 天地图 Tianditu (GS(2024)0568号)", name=name, subdomains="01234567",
                control=False, max_zoom=18).add_to(m)
    elif basemap == "amap":
        folium.TileLayer(
            tiles=("https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&"
                   "style=8&x={x}&y={y}&z={z}"),
            attr="© 高德地图 AutoNavi", name="高德 AMap", subdomains="1234", control=False,
            max_zoom=18).add_to(m)
    return basemap


def _street_lines(streets: Any, gcj: bool, simplify_m: float = 3.0) -> gpd.GeoDataFrame:
    """Street lines for the map: merged, simplified to ``simplify_m``, in the map's CRS."""
    if hasattr(streets, "edge_geometry"):  # a WalkNetwork
        geoms, crs = streets.edge_geometry, streets.crs
    else:
        gs = streets.geometry if isinstance(streets, gpd.GeoDataFrame) else streets
        geoms, crs = gs.to_numpy(), gs.crs
    geoms = np.asarray(geoms)
    if len(geoms) == 0:
        return gpd.GeoDataFrame(geometry=[], crs=4326)
    parts = shapely.get_parts(shapely.line_merge(shapely.multilinestrings(geoms)))
    return _to_map_crs(gpd.GeoDataFrame(geometry=parts, crs=crs), gcj, simplify_m)


def _tiles(m: folium.Map, tiles: Any) -> str:
    """Add a tile layer (an xyzservices provider, a provider name or a URL); its name."""
    try:
        layer = folium.TileLayer(tiles, control=False)
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise ValueError(f"tiles: {tiles!r} is not an xyzservices.TileProvider, a provider name "
                         f"or a URL template with its attribution ({e})") from None
    layer.add_to(m)
    return str(getattr(layer, "tile_name", tiles))



def _rgba(hex_colour: str, alpha: float) -> str:
    """``#rrggbb`` and an opacity as a CSS ``rgba()`` (legend swatches of translucent fills)."""
    h = hex_colour.lstrip("#")
    r, g, b = (int(h[i:i + 2], 16) for i in (0, 2, 4))
    return f"rgba({r},{g},{b},{alpha:g})"


def _swatch(fill: str, edge: str = "#555555", style: str = "solid", width: float = 1) -> str:
    return (f'<span class="sw" style="background:{fill};border:{width:g}px {style} {edge}">'
            "</span>")


def _dot(fill: str) -> str:
    return f'<span class="dot" style="background:{fill}"></span>'


@dataclass
class _Section:
    """One legend block: a heading and its rows, each tied to the layer(s) that draw it."""

    title: str
    rows: list[tuple[str | None, str]]  # (feature group name or None, row HTML)
    #: A one-line entry (swatch and title) for the layer named here: greyed when switched off.
    one: tuple[str, str] | None = None  # (feature group name, swatch HTML)


@dataclass
class _Ctx:
    """What the layer builders of :func:`coverage_map` share."""

    m: folium.Map
    info: dict[str, Any]
    tr: dict[str, str]
    lang: str
    cats: list[str]
    gcj: bool
    thresholds: list[int]
    ct: int
    targets: dict[str, float]
    point_groups: list[str]
    focus: str = "elderly"
    sites_map: bool = False
    has_fac: dict[str, bool] = field(default_factory=dict)
    fac_names: dict[str, str] = field(default_factory=dict)
    facility_groups: list[str] = field(default_factory=list)
    legend: list[_Section] = field(default_factory=list)
    n_layers: int = 0

    def group(self, name: str, show: bool) -> folium.FeatureGroup:
        """A new feature group, recorded in the map's list of layers."""
        fg = folium.FeatureGroup(name=name, show=show)
        self.info["layers"].append(name)
        return fg

    def fac_name(self, facility: Any) -> str:
        """A facility's name (escaped) from its ``facility_id``; the value itself if unknown."""
        if facility is None or (isinstance(facility, float) and not np.isfinite(facility)):
            return ""
        return self.fac_names.get(str(facility)) or html_text(facility)


def _band_rows(ctx: _Ctx, cat: str, fg: str, bands: set[str]) -> list[tuple[str | None, str]]:
    """Legend rows of a cells layer: every threshold band, beyond, and the states drawn."""
    tr, lo = ctx.tr, 0
    rows: list[tuple[str | None, str]] = []
    for t in ctx.thresholds:
        rows.append((fg, _swatch(BAND_COLOURS.get(str(t), "#cccccc"))
                     + f"{lo}–{t} {tr['min']}"))
        lo = t
    rows.append((fg, _swatch(BAND_COLOURS["beyond"])
                 + tr["beyond"].format(t=ctx.thresholds[-1])))
    rows.append((fg, _swatch(BAND_COLOURS["unreachable"]) + tr["unreach"]))
    if "no_facility" in bands:
        rows.append((fg, _swatch(BAND_COLOURS["no_facility"])
                     + tr["no_fac"].format(cat=_label(cat, ctx.lang))))
    return rows


def _add_isochrones(ctx: _Ctx, isochrones: gpd.GeoDataFrame | None) -> None:
    """Isochrone layers, one per category × threshold."""
    m, tr, lang, cats = ctx.m, ctx.tr, ctx.lang, ctx.cats
    gcj, thresholds, ct = ctx.gcj, ctx.thresholds, ctx.ct
    if isochrones is None or len(isochrones) == 0:
        return
    iso = _to_map_crs(isochrones, gcj, 2.0)
    for c in cats:
        rows: list[tuple[str | None, str]] = []
        for t in sorted(thresholds, reverse=True):
            sel = iso.loc[(iso["category"] == c) & (iso["threshold_min"] == t)]
            if len(sel) == 0:
                continue
            name = tr["iso"].format(cat=_label(c, lang), t=t)
            fg = ctx.group(name, show=(c == ctx.focus and t == ct))
            op = {5: 0.3, 10: 0.2}.get(int(t), 0.06)
            col = CATEGORY_COLOURS[c]
            fg.add_child(_layer(
                ctx, sel, {"label": [html_text(name)] * len(sel),
                           "area": [f"{a:.2f} km²" for a in sel["area_km2"]]},
                style={"color": col, "weight": 2, "fillColor": col, "fillOpacity": op},
                fields=["label", "area"], popup=False))
            fg.add_to(m)
            rows.insert(0, (fg.get_name(), _swatch(_rgba(col, max(op, 0.12)), col, width=2)
                            + tr["within"].format(t=t)))
        if rows:
            ctx.legend.append(_Section(tr["iso_leg"].format(cat=_label(c, lang)), rows))


def _add_cells(ctx: _Ctx, cells: gpd.GeoDataFrame | None) -> None:
    """Population cells coloured by walking minutes, one layer per category.

    The cell shapes are written once and shared by the categories' layers (:class:`_GeoLayer`).
    """
    m, tr, lang, cats = ctx.m, ctx.tr, ctx.lang, ctx.cats
    if cells is None or len(cells) == 0:
        return
    cg = _to_map_crs(cells, ctx.gcj, 0.0)
    geoms, rows = _geometry_strings(cg)
    cg = cg.iloc[rows]
    geom_var = f"c15_cells_{ctx.m.get_name()}"
    people = {k: np.round(cg[c].to_numpy(float)).astype(int).tolist()
              for k, c in (("p", "pop_total"), ("a", "pop_60plus"), ("b", "pop_0to3"))}
    styles = {b: {"color": col, "fillColor": col} for b, col in BAND_COLOURS.items()}
    for i, c in enumerate(cats):
        mins = cg[f"{c}_walk_min"].to_numpy(float)
        has = ctx.has_fac.get(c, True)
        bands = [_band(v, ctx.thresholds, has) for v in mins]
        no_fac = tr["no_fac"].format(cat=_label(c, lang))
        near = (cg[f"{c}_nearest_facility"].tolist() if f"{c}_nearest_facility" in cg.columns
                else [None] * len(cg))
        fg = ctx.group(tr["cells"].format(cat=_label(c, lang)),
                       show=(c == ctx.focus and not ctx.sites_map))
        names: dict[Any, str] = {}
        props: dict[str, list[Any]] = {
            "band": bands,
            "m": [round(float(v), 1) if np.isfinite(v) else
                  (tr["unreach"] if b == "unreachable" else no_fac)
                  for v, b in zip(mins, bands, strict=True)],
            "n": [(names[f] if f in names else names.setdefault(f, ctx.fac_name(f)))
                  if np.isfinite(v) else "–" for f, v in zip(near, mins, strict=True)],
            **people}
        aliases = [f"{tr['minutes']} ({tr['min']})", tr["nearest_fac"], tr["residents"],
                   tr["p60"], tr["p03"]]
        fg.add_child(_GeoLayer(geom_var, geoms if i == 0 else None, props,
                               style={"weight": 0.3, "fillOpacity": 0.7}, key="band",
                               styles=styles, fields=["m", "n", "p", "a", "b"],
                               aliases=aliases))
        fg.add_to(m)
        ctx.legend.append(_Section(tr["cells_leg"].format(cat=_label(c, lang)),
                                   _band_rows(ctx, c, fg.get_name(), set(bands))))


def _add_communities(ctx: _Ctx, communities: gpd.GeoDataFrame | None) -> None:
    """Communities coloured by the served group's coverage, one layer per category."""
    m, tr, lang, cats = ctx.m, ctx.tr, ctx.lang, ctx.cats
    ct, targets = ctx.ct, ctx.targets
    if communities is None or len(communities) == 0:
        return
    cm = _to_map_crs(communities, ctx.gcj, 2.0)
    for c in cats:
        grp = "60plus" if c == "elderly" else "0to3"
        col = f"{c}_cov{ct}_{grp}"
        if col not in cm.columns:
            continue
        rate = cm[col].to_numpy(float)
        name = tr["comm"].format(cat=_label(c, lang), t=ct,
                                 grp=tr["p60"] if grp == "60plus" else tr["p03"])
        fg = ctx.group(name, show=False)
        tips = []
        for i in range(len(cm)):
            r = rate[i]
            row = cm.iloc[i]
            pop_g = row.get("pop_60plus" if grp == "60plus" else "pop_0to3", np.nan)
            state = (tr["undefined"] if not np.isfinite(r) else
                     (tr["met"] if r >= targets.get(c, 0.9) else tr["short"]))
            cap = row.get(f"{c}_capacity_per_1000", np.nan)
            tips.append(
                f"<b>{html_text(row['community_name'])}</b><br>"
                f"{tr['residents']}: {_fmt(row.get('pop_total'))} · "
                f"{tr['p60'] if grp == '60plus' else tr['p03']}: {_fmt(pop_g)}<br>"
                f"{tr['rate']} ≤{ct} {tr['min']}: <b>{_pct(r)}</b> "
                f"({tr['target']} {_pct(targets.get(c, 0.9))}: {state})<br>"
                f"{tr['shortfall']}: {_fmt(row.get(f'{c}_shortfall_people'))} · "
                f"{tr['facilities']}: {_fmt(row.get(f'{c}_n_facilities'))} · "
                f"{tr['cap']}: {_fmt(cap, 1)}")
        colours = [_rate_colour(r) for r in rate]
        fg.add_child(_layer(
            ctx, cm, {"colour": colours, "tip": tips},
            style={"color": "#333333", "weight": 1.2, "fillOpacity": 0.45}, key="colour",
            styles={k: {"fillColor": k} for k in sorted(set(colours))}, fields=["tip"]))
        fg.add_to(m)
        g, lo = fg.get_name(), 0.0
        rows: list[tuple[str | None, str]] = []
        for hi, colour in RATE_STEPS:
            rows.append((g, _swatch(colour) + f"{lo * 100:.0f}–{min(hi, 1.0) * 100:.0f}%"))
            lo = hi
        rows.append((g, _swatch(NO_RESIDENTS) + tr["undefined"]))
        ctx.legend.append(_Section(name, rows))


def _add_gaps(ctx: _Ctx, gaps: gpd.GeoDataFrame | None) -> None:
    """Gap clusters: dashed outlines (no fill, so an area filled below still reads)."""
    m, tr, lang, cats = ctx.m, ctx.tr, ctx.lang, ctx.cats
    if gaps is None or len(gaps) == 0:
        ctx.legend.append(_Section(f"<i>{tr['none_gap']}</i>", []))
        return
    gp = _to_map_crs(gaps, ctx.gcj, 1.0)
    for c in cats:
        sel = gp.loc[gp["category"] == c]
        if len(sel) == 0:
            continue
        fg = ctx.group(tr["gaps"].format(cat=_label(c, lang)), show=(c == ctx.focus))
        ctx.point_groups.insert(0, fg.get_name())  # outlines above polygons, below points
        tips = [f"<b>{tr['gaps'].format(cat=_label(c, lang))} #{int(r['rank'])}</b><br>"
                f"{tr['uncovered']}: {tr['residents']} {_fmt(r['uncovered_pop_total'])} · "
                f"{tr['p60']} {_fmt(r['uncovered_pop_60plus'])} · "
                f"{tr['p03']} {_fmt(r['uncovered_pop_0to3'])}<br>"
                f"{tr['community']}: {html_text(r['community_name'])}<br>"
                f"{tr['minutes']}: {_fmt(r['nearest_walk_min'], 1)} {tr['min']}"
                for _, r in sel.iterrows()]
        # a fill with opacity 0 keeps the inside clickable without tinting what lies below
        fg.add_child(_layer(
            ctx, sel, {"tip": tips},
            style={"color": GAP_COLOUR, "weight": 3, "dashArray": "7 5",
                   "fillColor": GAP_COLOUR, "fillOpacity": 0.0}, fields=["tip"]))
        fg.add_to(m)
        ctx.legend.append(_Section(
            tr["gaps_leg"].format(cat=_label(c, lang), t=ctx.ct), [],
            one=(fg.get_name(), _swatch("#ffffff", GAP_COLOUR, "dashed", 2))))


def _add_facilities(ctx: _Ctx, facilities: gpd.GeoDataFrame | None) -> None:
    """Facility dots, one layer per sub-type: one GeoJSON each (compact at city scale)."""
    m, tr, lang = ctx.m, ctx.tr, ctx.lang
    if facilities is None or len(facilities) == 0:
        ctx.legend.append(_Section(f"<i>{tr['none_fac']}</i>", []))
        return
    fc = _to_map_crs(facilities, ctx.gcj, 0.0)
    rows: list[tuple[str | None, str]] = []
    for sub, sel in fc.groupby("subtype", sort=False):
        label = _sublabel(str(sub), lang)
        fg = ctx.group(tr["fac"].format(sub=label), show=True)
        ctx.point_groups.append(fg.get_name())
        ctx.facility_groups.append(fg.get_name())
        tips = []
        for _, r in sel.iterrows():
            capcol = "beds" if r["category"] == "elderly" else "places"
            tips.append(f"<b>{html_text(r.get('name', ''))}</b><br>"
                        f"{_label(r['category'], lang)} · {label}<br>"
                        f"{tr[capcol]}: {_fmt(r.get(capcol))} · {tr['area']}: "
                        f"{_fmt(r.get('floor_area_m2'))} m²")
        colour = SUBTYPE_COLOURS.get(str(sub), "#444444")
        fg.add_child(_layer(
            ctx, sel, {"tip": tips}, style={}, fields=["tip"],
            marker={"radius": 7, "weight": 2, "color": MARKER_EDGE, "fill": True,
                    "fillColor": colour, "fillOpacity": 0.95}))
        fg.add_to(m)
        rows.append((fg.get_name(), _dot(colour) + f"{label} ({len(sel)})"))
    ctx.legend.append(_Section(tr["fac_leg"], rows))


def _add_sites_area(ctx: _Ctx, sites_area: gpd.GeoDataFrame | None) -> None:
    """The area the suggested sites newly cover: filled, drawn under the gap outlines."""
    tr = ctx.tr
    if sites_area is None or len(sites_area) == 0:
        return
    sa = _to_map_crs(sites_area, ctx.gcj, 2.0)
    fg = ctx.group(tr["sites_area"], show=True)
    fg.add_child(_layer(
        ctx, sa, {"tip": [f"{tr['sites_area']}: {tr['sites']} #{int(r)}" for r in sa["rank"]]},
        style={"color": NEW_COVER_COLOUR, "weight": 1, "fillColor": NEW_COVER_COLOUR,
               "fillOpacity": 0.45}, fields=["tip"], popup=False))
    fg.add_to(ctx.m)
    ctx.legend.append(_Section(tr["sites_area_leg"], [], one=(
        fg.get_name(), _swatch(_rgba(NEW_COVER_COLOUR, 0.45), NEW_COVER_COLOUR))))


def _add_site_markers(ctx: _Ctx, sites: gpd.GeoDataFrame | None) -> None:
    """Suggested sites: numbered markers whose popup gives rank, residents won and context."""
    tr = ctx.tr
    if sites is None or len(sites) == 0:
        return
    st = _to_map_crs(sites, ctx.gcj, 0.0)
    fg = ctx.group(tr["sites"], show=True)
    for _, r in st.iterrows():
        cat = r.get("category")
        grp = ((tr["p60"] if cat == "elderly" else tr["p03"] if cat == "childcare" else "")
               if isinstance(cat, str) else "")
        name = html_text(r.get("name", ""))
        pop = (f"<b>{tr['sites']} #{int(r['rank'])}</b>{' ' + name if name else ''}<br>"
               f"{tr['new']}{'(' + grp + ')' if grp else ''}: "
               f"<b>{_fmt(r.get('newly_covered_target'))}</b> {tr['people']} · "
               f"{tr['cum']}: {_pct(r.get('cumulative_coverage', np.nan))}<br>"
               f"{tr['community']}: {html_text(r.get('community_name', ''))}<br>"
               f"{tr['nearest']}: {ctx.fac_name(r.get('nearest_existing_facility'))}"
               f" ({_fmt(r.get('nearest_existing_walk_min'), 1)} {tr['min']})")
        folium.Marker(
            [r.geometry.y, r.geometry.x],
            icon=folium.DivIcon(html=(f'<div class="c15-site">{int(r["rank"])}</div>'),
                                icon_size=(24, 24), icon_anchor=(12, 12)),
            tooltip=folium.Tooltip(pop),
        ).add_child(_Popup(pop)).add_to(fg)
    fg.add_to(ctx.m)
    ctx.legend.append(_Section(tr["sites_leg"], [], one=(
        fg.get_name(), '<span class="c15-site c15-site-sw">1</span>')))


#: Labels of the compound layer (:func:`_add_compounds`).
_T_COMPOUNDS: dict[str, dict[str, Any]] = {
    "zh": {"layer": "小区(按配建达标情况)", "gates": "小区出入口", "met": "全部达标",
           "short": "有未达标项", "unknown": "未知(户数或设施容量不详)",
           "leg": "小区:配建与15分钟圈(轮廓)", "gates_leg": "小区出入口",
           "gates_inferred": "小区出入口(推测)",
           "mapped": "实测出入口(清单或OSM)", "inferred": "推测出入口(道路穿越或最近道路)",
           "households": "户数", "via": "经出入口", "direct": "不经出入口", "gate": "出入口",
           "status": {"met": "达标", "short": "不足", "unknown": "未知", "exempt": "不适用"},
           "source": {"file": "出入口清单", "osm_gate": "OSM大门", "osm_entrance": "OSM出入口",
                      "boundary_crossing": "道路穿越边界处(推测)",
                      "nearest_street": "距道路最近的边界点(推测)", "none": "无"}},
    "en": {"layer": "Compounds (by norm status)", "gates": "Compound gates", "met": "all norms met",
           "short": "a norm short", "unknown": "unknown (households or capacity not given)",
           "leg": "Compounds: norms and the 15-min circle (outline)", "gates_leg": "Compound gates",
           "gates_inferred": "Compound gates (inferred)",
           "mapped": "mapped gate (list or OSM)",
           "inferred": "inferred gate (street crossing or nearest street)",
           "households": "Households", "via": "via gates", "direct": "without gates",
           "gate": "gate",
           "status": {"met": "met", "short": "short", "unknown": "unknown", "exempt": "exempt"},
           "source": {"file": "gate list", "osm_gate": "OSM gate", "osm_entrance": "OSM entrance",
                      "boundary_crossing": "street crossing (inferred)",
                      "nearest_street": "nearest street (inferred)", "none": "none"}},
}


def _compound_state(row: pd.Series, cats: list[str]) -> str:
    """``short`` when a norm is short or the circle misses, ``met`` when all hold, else unknown."""
    st = [str(row.get(f"{c}_norm_status")) for c in cats if f"{c}_norm_status" in row.index]
    cov = [row.get(f"{c}_covered") for c in cats if f"{c}_covered" in row.index]
    if "short" in st or any(v is False or v == 0 for v in cov):
        return "short"
    if st and all(x in ("met", "exempt") for x in st):
        return "met"
    return "unknown"


def _add_compounds(ctx: _Ctx, compounds: gpd.GeoDataFrame | None,
                   gates: gpd.GeoDataFrame | None) -> None:
    """Compounds outlined by norm status (popup: households, minutes, norms) and their gates."""
    if compounds is None or len(compounds) == 0:
        return
    t = _T_COMPOUNDS[ctx.lang]
    cp = _to_map_crs(compounds, ctx.gcj, 2.0)
    cats = [c for c in ctx.cats if f"{c}_walk_min" in cp.columns]
    states, tips = [], []
    for _, r in cp.iterrows():
        state = _compound_state(r, cats)
        states.append(state)
        lines = [f"<b>{html_text(r.get('name', r.get('compound_id', '')))}</b>",
                 f"{t['households']}: {_fmt(r.get('households'))}"
                 + (f" · {t['gate']}: {t['source'].get(str(r['gate_source']), '')}"
                    if "gate_source" in r.index else "")]
        for c in cats:
            via = _fmt(r.get(f"{c}_walk_min"), 1)
            direct = (f" ({t['direct']} {_fmt(r.get(f'{c}_walk_min_direct'), 1)})"
                      if f"{c}_walk_min_direct" in r.index else "")
            lines.append(f"{_label(c, ctx.lang)}: {via} {ctx.tr['min']}"
                         + (f" {t['via']}" if direct else "") + direct + " · "
                         + t["status"].get(str(r.get(f"{c}_norm_status")), ""))
        tips.append("<br>".join(lines))
    fg = ctx.group(t["layer"], show=True)
    colours = [COMPOUND_COLOURS[s] for s in states]
    fg.add_child(_layer(
        ctx, cp, {"colour": colours, "tip": tips},
        style={"weight": 2.5, "fillOpacity": 0.0}, key="colour",
        styles={k: {"color": k, "fillColor": k} for k in sorted(set(colours))},
        fields=["tip"]))
    fg.add_to(ctx.m)
    g = fg.get_name()
    ctx.legend.append(_Section(t["leg"], [
        (g, _swatch("#ffffff", COMPOUND_COLOURS[s], width=2) + f"{t[s]} ({states.count(s)})")
        for s in ("met", "short", "unknown") if s in states]))
    ctx.info["compounds"] = {s: states.count(s) for s in ("met", "short", "unknown")}
    if gates is None or len(gates) == 0:
        return
    gt = _to_map_crs(gates, ctx.gcj, 0.0)
    mapped = gt["source"].isin(("file", "osm_gate", "osm_entrance")).to_numpy()
    rows: list[tuple[str | None, str]] = []
    # mapped gates shown, inferred ones (often several per compound) in a layer switched off
    for is_mapped, colour in ((True, MARKER_EDGE), (False, "#ffffff")):
        sel = gt.loc[mapped == is_mapped]
        if not len(sel):
            continue
        fgg = ctx.group(t["gates" if is_mapped else "gates_inferred"], show=is_mapped)
        ctx.point_groups.append(fgg.get_name())
        fgg.add_child(_layer(
            ctx, sel, {"tip": [f"{html_text(gid)} · {t['source'].get(str(src), src)}"
                               for gid, src in zip(sel["gate_id"], sel["source"],
                                                   strict=True)]},
            style={}, fields=["tip"], popup=False,
            marker={"radius": 3, "weight": 1, "color": MARKER_EDGE, "fill": True,
                    "fillColor": colour, "fillOpacity": 1.0}))
        fgg.add_to(ctx.m)
        rows.append((fgg.get_name(), _dot(colour).replace(
            "background:", f"border:1px solid {MARKER_EDGE};background:")
            + f"{t['mapped' if is_mapped else 'inferred']} ({len(sel)})"))
    ctx.legend.append(_Section(t["gates_leg"], rows))
    ctx.info["gates"] = {"mapped": int(mapped.sum()), "inferred": int((~mapped).sum())}


#: Labels of a plan comparison's layers (:func:`_add_changes`, :func:`_add_edits`).
_T_PLAN: dict[str, dict[str, Any]] = {
    "zh": {"changes": "{cat}:方案前后覆盖变化的网格", "newly_covered": "新覆盖",
           "newly_uncovered": "失去覆盖", "cells": "个网格", "edits": "方案变更的设施",
           "leg": "{cat}:{t}分钟覆盖的变化", "edits_leg": "方案变更的设施",
           "add": "新增", "move": "迁移(虚线自原址)", "remove": "撤销", "resize": "调整规模",
           "action": {"add": "新增", "move": "迁移", "remove": "撤销", "resize": "调整规模"},
           "before": "方案前", "after": "方案后", "from": "原址", "capacity": "规模",
           "id": "设施编号", "old": "原址(已迁出)"},
    "en": {"changes": "{cat}: cells whose coverage the plan changes",
           "newly_covered": "newly covered", "newly_uncovered": "newly uncovered",
           "cells": "cells", "edits": "Facilities the plan changes",
           "leg": "{cat}: change in ≤{t} min coverage", "edits_leg": "Facilities the plan changes",
           "add": "added", "move": "moved (dashed line from the old place)",
           "remove": "removed", "resize": "resized",
           "action": {"add": "added", "move": "moved", "remove": "removed", "resize": "resized"},
           "before": "before", "after": "after", "from": "old place", "capacity": "capacity",
           "id": "facility id", "old": "old place (moved away)"},
}
#: The mark of each kind of edit on the map and in the legend.
EDIT_SYMBOLS = {"add": "+", "move": "→", "remove": "×", "resize": "±"}


def _add_changes(ctx: _Ctx, changes: gpd.GeoDataFrame | None) -> None:
    """Cells whose coverage a plan changes: newly covered green, newly uncovered red.

    ``changes`` has ``category``, ``status`` (``newly_covered``/``newly_uncovered``), the
    residents and ``before_walk_min``/``after_walk_min`` (:func:`care15.compare.compare_tables`).
    """
    if changes is None or len(changes) == 0:
        return
    tr, t = ctx.tr, _T_PLAN[ctx.lang]
    cg = _to_map_crs(changes, ctx.gcj, 0.0)
    for c in ctx.cats:
        sel = cg.loc[cg["category"] == c]
        if len(sel) == 0:
            continue
        grp = "pop_60plus" if CATEGORIES[c].target_group == "pop_60plus" else "pop_0to3"
        fg = ctx.group(t["changes"].format(cat=_label(c, ctx.lang)), show=True)
        status = sel["status"].astype(str).tolist()
        tips = [f"<b>{t.get(s, html_text(s))}</b><br>"
                f"{tr['minutes']}: {_fmt(b, 1)} → {_fmt(a, 1)} {tr['min']}<br>"
                f"{tr['residents']}: {_fmt(p)} · {tr['p60']}: {_fmt(o)} · {tr['p03']}: {_fmt(k)}"
                for s, b, a, p, o, k in zip(status, sel["before_walk_min"],
                                            sel["after_walk_min"], sel["pop_total"],
                                            sel["pop_60plus"], sel["pop_0to3"], strict=True)]
        fg.add_child(_layer(
            ctx, sel, {"status": status, "tip": tips},
            style={"weight": 0.5, "fillOpacity": 0.65}, key="status",
            styles={k: {"color": v, "fillColor": v} for k, v in CHANGE_COLOURS.items()},
            fields=["tip"]))
        fg.add_to(ctx.m)
        rows: list[tuple[str | None, str]] = []
        for k, colour in CHANGE_COLOURS.items():
            pick = (sel["status"] == k).to_numpy()
            if pick.any():
                people = float(sel.loc[pick, grp].sum())
                rows.append((fg.get_name(), _swatch(colour)
                             + f"{t[k]}: {int(pick.sum()):,} {t['cells']}, "
                             + f"{tr['p60'] if grp == 'pop_60plus' else tr['p03']} "
                             + f"{people:,.0f} {tr['people']}"))
        ctx.legend.append(_Section(t["leg"].format(cat=_label(c, ctx.lang), t=ctx.ct), rows))
        ctx.info.setdefault("changes", {})[c] = {
            k: int((sel["status"] == k).sum()) for k in CHANGE_COLOURS}


def _edit_icon(action: str) -> str:
    return (f'<div class="c15-edit" style="background:{EDIT_COLOURS[action]}">'
            f"{EDIT_SYMBOLS[action]}</div>")


_EDIT_CSS = """<style>
.c15-edit{width:22px;height:22px;border-radius:4px;color:#fff;border:2px solid #fff;
 box-shadow:0 0 3px #000;text-align:center;font:bold 14px/18px sans-serif;box-sizing:border-box}
.c15-legend .c15-edit-sw{display:inline-block;width:16px;height:16px;font-size:11px;
 line-height:12px;margin-right:5px;vertical-align:middle}
</style>"""


def _add_edits(ctx: _Ctx, edits: gpd.GeoDataFrame | None) -> None:
    """The facilities a plan adds, moves, removes or resizes: a marked square each.

    ``edits`` is one point per edit (where the facility is after it; where it was, for a
    removal) with ``action``, ``facility_id``, ``name``, ``category``,
    ``before_capacity``/``after_capacity`` and, for a move, ``before_lon``/``before_lat``
    (WGS-84), drawn as a dashed line from the old place with a hollow dot there.
    """
    if edits is None or len(edits) == 0:
        return
    t = _T_PLAN[ctx.lang]
    ed = _to_map_crs(edits, ctx.gcj, 0.0)
    fg = ctx.group(t["edits"], show=True)
    for _, r in ed.iterrows():
        a = str(r["action"])
        if a not in EDIT_SYMBOLS or r.geometry is None or r.geometry.is_empty:
            continue
        cat = r.get("category")
        cat_s = _label(cat, ctx.lang) if cat in CATEGORIES else html_text(cat)
        pop = (f"<b>{t['action'][a]}: {html_text(r.get('name'))}</b><br>"
               f"{t['id']}: {html_text(r.get('facility_id'))} · {cat_s}<br>"
               f"{t['capacity']}: {_fmt(r.get('before_capacity'))} → "
               f"{_fmt(r.get('after_capacity'))}")
        if a == "move" and np.isfinite(float(r.get("before_lon", np.nan))):
            x0, y0 = float(r["before_lon"]), float(r["before_lat"])
            if ctx.gcj:
                from .chinacoords import from_wgs84

                gx, gy = from_wgs84(np.array([x0]), np.array([y0]), "gcj02")
                x0, y0 = float(gx[0]), float(gy[0])
            folium.PolyLine([[y0, x0], [r.geometry.y, r.geometry.x]],
                            color=EDIT_COLOURS["move"], weight=3, dash_array="6 5",
                            opacity=0.9).add_to(fg)
            folium.CircleMarker([y0, x0], radius=5, color=EDIT_COLOURS["move"], weight=2,
                                fill=True, fill_color="#ffffff", fill_opacity=1.0,
                                tooltip=folium.Tooltip(f"{t['old']}: {html_text(r.get('name'))}")
                                ).add_to(fg)
        folium.Marker([r.geometry.y, r.geometry.x],
                      icon=folium.DivIcon(html=_edit_icon(a), icon_size=(22, 22),
                                          icon_anchor=(11, 11)),
                      tooltip=folium.Tooltip(pop)).add_child(_Popup(pop)).add_to(fg)
    fg.add_to(ctx.m)
    cast(Figure, ctx.m.get_root()).header.add_child(folium.Element(_EDIT_CSS))
    counts = ed["action"].astype(str).value_counts().to_dict()
    rows: list[tuple[str | None, str]] = [
        (fg.get_name(), _edit_icon(a).replace('class="c15-edit"', 'class="c15-edit c15-edit-sw"')
         + f"{t[a]} ({counts[a]})") for a in EDIT_SYMBOLS if a in counts]
    ctx.legend.append(_Section(t["edits_leg"], rows))
    ctx.info["edits"] = {a: int(counts.get(a, 0)) for a in EDIT_SYMBOLS}


def coverage_map(*, cells: gpd.GeoDataFrame | None = None,
                 communities: gpd.GeoDataFrame | None = None,
                 isochrones: gpd.GeoDataFrame | None = None,
                 facilities: gpd.GeoDataFrame | None = None,
                 gaps: gpd.GeoDataFrame | None = None, sites: gpd.GeoDataFrame | None = None,
                 sites_area: gpd.GeoDataFrame | None = None, lang: str = "zh",
                 basemap: str = "osm", tianditu_key: str | None = None, offline: bool = False,
                 title: str | None = None, thresholds: list[int] | None = None,
                 coverage_threshold: int | None = None,
                 targets: dict[str, float] | None = None, m: folium.Map | None = None,
                 tiles: Any = None, streets: Any = None,
                 compounds: gpd.GeoDataFrame | None = None,
                 gates: gpd.GeoDataFrame | None = None,
                 changes: gpd.GeoDataFrame | None = None,
                 edits: gpd.GeoDataFrame | None = None) -> folium.Map:
    """Build the coverage map from the tables of :func:`care15.analyze`.

    Parameters
    ----------
    cells, communities, isochrones, facilities, gaps
        Tables of a :class:`~care15.analysis.CoverageResult` (any CRS); any may be None or
        empty.
    sites, sites_area
        Suggested sites and the area each adds (:func:`care15.siting.suggest_sites`).
    lang
        ``zh`` or ``en`` labels.
    basemap
        ``osm``, ``tianditu`` (needs ``tianditu_key``; falls back to OSM with a warning),
        ``amap`` (GCJ-02 tiles; all layers are shifted to match) or ``none``.
    tianditu_key
        The 天地图 (Tianditu) key for ``basemap="tianditu"``.
    offline
        Only recorded on the map; pass the same flag to :func:`save_map`, which inlines
        the assets.
    title
        Title shown on the map.
    thresholds, coverage_threshold, targets
        Read from the tables when omitted (``threshold_min`` of the isochrones; 15; 0.9).
    m
        An existing folium Map to add the layers to (as ``GeoDataFrame.explore(m=...)``); its
        tiles are kept unless ``tiles`` is given. Default: a new map.
    tiles
        A tile layer instead of ``basemap``: an ``xyzservices.TileProvider``, a name that
        folium or xyzservices knows (``"OpenStreetMap"``), or a URL template.
    streets
        The walking network (:class:`~care15.network.WalkNetwork`) or street lines (a
        GeoSeries or GeoDataFrame, any CRS), drawn as a light layer under everything else:
        orientation without tiles (offline, ``basemap="none"``) or when tiles fail to load.
    compounds, gates
        The compound table (:func:`care15.compounds.compound_table`) and the compounds' gates
        (:func:`care15.gates.compound_gates`): outlines coloured by norm status (met, short,
        unknown) with a popup of households, minutes and norms; gates as small dots (filled:
        mapped, hollow: inferred).
    changes, edits
        A plan comparison (``care15 compare``, :mod:`care15.compare`): the cells whose
        coverage the plan changes (``category``, ``status`` ``newly_covered`` or
        ``newly_uncovered``, residents, ``before_walk_min``/``after_walk_min``), green and
        red; and the facilities it changes (points with ``action`` ``add``/``move``/
        ``remove``/``resize``), each with its own mark, a move with a dashed line from its
        old place (``before_lon``/``before_lat``).

    Returns
    -------
    folium.Map
        ``m``, or the new map, with one layer per table and category, a layer control and
        a legend. In GCJ-02 when ``basemap="amap"`` (to match AMap's tiles), else WGS-84.

    Raises
    ------
    ValueError
        For an unknown ``lang`` or ``basemap``, and when every layer is empty.

    Examples
    --------
    >>> import care15
    >>> sc = care15.demo_scenario()
    >>> res = care15.analyze(care15.region_from_scenario(sc), sc)
    >>> fmap = care15.coverage_map(cells=res.cells, facilities=res.facilities, lang="en",
    ...                            tiles="OpenStreetMap")
    >>> type(fmap).__name__
    'Map'
    """
    if lang not in _T:
        raise ValueError(f"lang must be 'zh' or 'en', got {lang!r}")
    tr = _T[lang]
    layers = [x for x in (cells, communities, isochrones, facilities, gaps, sites, changes,
                          edits) if x is not None and len(x)]
    if not layers:
        raise ValueError("nothing to map: every layer is empty")
    if thresholds is None:
        thresholds = (sorted({int(t) for t in isochrones["threshold_min"]})
                      if isochrones is not None and len(isochrones) else [5, 10, 15])
    ct = coverage_threshold or max(thresholds)
    targets = targets or {c: 0.9 for c in CATEGORIES}
    gcj = basemap == "amap"
    bounds = _bounds(layers)
    if m is None:
        m = folium.Map(tiles=None, control_scale=True, prefer_canvas=True, zoom_start=14,
                       zoom_snap=0.25, zoom_delta=0.5,
                       location=[(bounds[1] + bounds[3]) / 2, (bounds[0] + bounds[2]) / 2])
        # Leaflet only: none of the layers below needs jQuery, Bootstrap or icon fonts
        m.default_js = [(n, u) for n, u in m.default_js if n == "leaflet"]
        m.default_css = [(n, u) for n, u in m.default_css if n == "leaflet_css"]
        used_base = (_basemap(m, basemap, tianditu_key, lang) if tiles is None
                     else _tiles(m, tiles))
    else:
        used_base = "given" if tiles is None else _tiles(m, tiles)
    info: dict[str, Any] = {"offline": offline, "basemap": used_base, "lang": lang,
                            "layers": []}
    m._care15 = info  # type: ignore[attr-defined]  # what the map shows, for tests and tools
    cats = [c for c in CATEGORIES if cells is None or f"{c}_walk_min" in cells.columns]
    if not cats:
        cats = list(CATEGORIES)
    has_sites = (sites is not None and len(sites) > 0) or (sites_area is not None
                                                           and len(sites_area) > 0)
    focus = cats[0]
    for t in (sites, sites_area):
        if t is not None and len(t) and "category" in t.columns and t["category"].iloc[0] in cats:
            focus = str(t["category"].iloc[0])
    ctx = _Ctx(m=m, info=info, tr=tr, lang=lang, cats=cats, gcj=gcj, thresholds=thresholds,
               ct=ct, targets=targets, point_groups=[], focus=focus, sites_map=has_sites,
               has_fac=_has_facilities(facilities, cats), fac_names=_facility_names(facilities))
    if streets is not None:
        lines = _street_lines(streets, gcj)
        if len(lines):
            fg = ctx.group(tr["streets"], show=True)
            fg.add_child(_GeoLayer(f"c15_streets_{m.get_name()}", _geometry_strings(lines)[0],
                                   {}, style={"color": STREET_COLOUR, "weight": 1,
                                              "opacity": 0.8}, interactive=False))
            fg.add_to(m)
            ctx.legend.append(_Section(tr["streets"], [], one=(
                fg.get_name(), f'<span class="ln" style="border-top-color:{STREET_COLOUR}"></span>')))
    _add_isochrones(ctx, isochrones)
    _add_cells(ctx, cells)
    _add_communities(ctx, communities)
    _add_compounds(ctx, compounds, gates)
    _add_sites_area(ctx, sites_area)  # filled, under the gap outlines
    _add_gaps(ctx, gaps)
    _add_changes(ctx, changes)
    _add_facilities(ctx, facilities)
    _add_site_markers(ctx, sites)
    _add_edits(ctx, edits)
    info["legend"] = [s.title for s in ctx.legend]
    folium.LayerControl(collapsed=False, position="topright").add_to(m)
    if ctx.point_groups:
        # a polygon layer switched on later is drawn on top; keep the facilities above it
        m.add_child(_PointsOnTop(ctx.point_groups))
    if ctx.facility_groups:
        m.add_child(_ZoomRadius(ctx.facility_groups))
    m.add_child(_LegendSync())
    root = cast(Figure, m.get_root())
    root.header.add_child(folium.Element(_CSS))
    root.html.add_child(folium.Element(_legend(tr, ctx.legend, title)))
    m.fit_bounds([[bounds[1], bounds[0]], [bounds[3], bounds[2]]])
    return m


def _has_facilities(facilities: gpd.GeoDataFrame | None, cats: list[str]) -> dict[str, bool]:
    """Per category: whether the facility table holds one that serves residents.

    Unknown (no table given) counts as yes, so cells without a path read "unreachable".
    """
    if facilities is None:
        return {c: True for c in cats}
    serving = facilities
    if "counts_as_supply" in facilities.columns:
        serving = facilities.loc[facilities["counts_as_supply"].fillna(True).astype(bool)]
    present = set(serving["category"]) if "category" in serving.columns else set()
    return {c: c in present for c in cats}


def _facility_names(facilities: gpd.GeoDataFrame | None) -> dict[str, str]:
    """``facility_id`` → escaped name (the id itself when the name is empty)."""
    if facilities is None or len(facilities) == 0 or "facility_id" not in facilities.columns:
        return {}
    names = (facilities["name"] if "name" in facilities.columns
             else pd.Series([""] * len(facilities), index=facilities.index))
    return {str(i): html_text(n) or html_text(i)
            for i, n in zip(facilities["facility_id"], names.fillna(""), strict=True)}


def _bounds(layers: list[gpd.GeoDataFrame]) -> tuple[float, float, float, float]:
    b = np.array([gpd.GeoSeries(x.geometry, crs=x.crs).to_crs(4326).total_bounds
                  for x in layers])  # empty geometries (no isochrone) give NaN bounds
    if np.isnan(b).all():
        raise ValueError("nothing to map: every layer has only empty geometries")
    return (float(np.nanmin(b[:, 0])), float(np.nanmin(b[:, 1])), float(np.nanmax(b[:, 2])),
            float(np.nanmax(b[:, 3])))




_CSS = """<style>
.c15-legend{position:fixed;bottom:62px;left:10px;z-index:1000;background:#fff;padding:8px 10px;
 border:1px solid #999;border-radius:4px;font:12px/1.35 "Noto Sans CJK SC","Microsoft YaHei",
 "PingFang SC",sans-serif;max-width:300px;max-height:calc(100vh - 130px);overflow:auto;
 box-shadow:0 1px 4px rgba(0,0,0,.3)}
.c15-legend h4{margin:0 0 4px;font-size:13px}.c15-legend .sw{display:inline-block;width:14px;
 height:10px;margin-right:5px;vertical-align:middle;box-sizing:border-box}
.c15-legend .dot{display:inline-block;width:10px;height:10px;border-radius:50%;margin-right:5px;
 border:1.5px solid #222;vertical-align:middle}
.c15-legend .ln{display:inline-block;width:14px;height:0;border-top:2px solid;margin-right:5px;
 vertical-align:middle}
.c15-legend .c15-sec{margin-top:4px}.c15-legend .c15-sec-t{font-weight:bold}
.c15-legend .c15-sec.c15-off .c15-sec-t,.c15-legend .c15-one.c15-off{color:#aaa;font-weight:normal}
.c15-legend .c15-off .c15-row,.c15-legend .c15-row.c15-off{display:none}
.c15-legend .c15-note{color:#777;font-size:10px}
.c15-title{position:fixed;top:10px;left:54px;z-index:1000;background:rgba(255,255,255,.9);
 padding:4px 10px;border-radius:4px;font:bold 15px "Noto Sans CJK SC","Microsoft YaHei",sans-serif}
.c15-site{width:24px;height:24px;border-radius:50%;background:""" + SITE_COLOUR + """;color:#fff;
 border:2px solid #fff;box-shadow:0 0 3px #000;text-align:center;font:bold 12px/20px sans-serif;
 box-sizing:border-box}
.c15-legend .c15-site-sw{display:inline-block;width:18px;height:18px;font-size:10px;
 line-height:14px;margin-right:5px;vertical-align:middle}
.leaflet-control-layers{font-size:12px;max-height:70vh;overflow:auto}
</style>"""


def _legend(tr: dict[str, str], sections: list[_Section], title: str | None) -> str:
    """The legend: one block per drawn layer (greyed by :class:`_LegendSync` when off)."""
    out = [f'<div class="c15-legend" id="c15-legend"><h4>{tr["legend"]}</h4>']
    for s in sections:
        if s.one is not None:
            out.append(f'<div class="c15-sec c15-one" data-fg="{s.one[0]}">{s.one[1]}'
                       f'<span class="c15-sec-t">{s.title}</span></div>')
            continue
        fgs = list(dict.fromkeys(g for g, _ in s.rows if g))  # drawing order: reproducible
        attr = f' data-fg="{" ".join(fgs)}"' if fgs else ""
        out.append(f'<div class="c15-sec"{attr}><div class="c15-sec-t">{s.title}</div>')
        for g, row in s.rows:
            out.append(f'<div class="c15-row"{f" data-fg={chr(34)}{g}{chr(34)}" if g else ""}>'
                       f"{row}</div>")
        out.append("</div>")
    out.append(f'<div class="c15-note">{tr["off"]}<br>{tr["attr"]}</div></div>')
    page = "".join(out)
    if title:
        page += f'<div class="c15-title" id="c15-title">{html_text(title)}</div>'
    return page


# --------------------------------------------------------------------------------------------
# saving, offline assets
# --------------------------------------------------------------------------------------------

def _asset_dir() -> Path:
    """Leaflet's files from the ``xstatic-leaflet`` package (the version folium links)."""
    try:
        import xstatic.pkg.leaflet as xleaflet
    except ModuleNotFoundError as e:  # pragma: no cover - it is a dependency
        raise RuntimeError("offline maps need the package xstatic-leaflet "
                           "(pip install xstatic-leaflet)") from e
    return Path(xleaflet.BASE_DIR)


def inline_assets(page: str) -> str:
    """Replace Leaflet's CDN ``<script>``/``<link>`` tags with the installed files' contents.

    Parameters
    ----------
    page
        A rendered folium page.

    Returns
    -------
    str
        The page with Leaflet's JavaScript, CSS and icons embedded (no CDN).

    Raises
    ------
    RuntimeError
        When any external script or stylesheet would remain (the page would not work offline).
    """
    d = _asset_dir()
    js = (d / "leaflet.js").read_text(encoding="utf-8")
    js = re.sub(r"//# sourceMappingURL=\S+", "", js)
    css = (d / "leaflet.css").read_text(encoding="utf-8")

    def _img(mt: re.Match) -> str:
        f = d / "images" / mt.group(1)
        if not f.exists():
            return mt.group(0)
        return "url(data:image/png;base64," + base64.b64encode(f.read_bytes()).decode() + ")"

    css = re.sub(r"url\(images/([\w.-]+\.png)\)", _img, css)
    js_tag = re.compile(r'<script\s+src="[^"]*leaflet[^"]*\.js"\s*>\s*</script>')
    css_tag = re.compile(r'<link\s+rel="stylesheet"\s+href="[^"]*leaflet[^"]*\.css"\s*/?>')
    page, n_js = js_tag.subn(lambda _m: "<script>" + js.replace("</script", "<\\/script")
                             + "</script>", page, count=1)
    page, n_css = css_tag.subn(lambda _m: "<style>" + css + "</style>", page, count=1)
    if not (n_js and n_css):
        raise RuntimeError("could not find Leaflet's script and stylesheet tags to inline")
    ext = re.findall(r'<(?:script[^>]+src|link[^>]+href)="(https?:[^"]+)"', page)
    if ext:
        raise RuntimeError(f"external assets remain in the offline map: {ext}")
    return page


_ELEMENT_ID = re.compile(r"(?<=_)[0-9a-f]{32}(?![0-9a-f])")


def stable_ids(page: str) -> str:
    """Number folium's random element ids (``map_3f2a…``) in order of first appearance.

    The same map then renders to the same bytes on every run.

    Parameters
    ----------
    page
        A rendered folium page.

    Returns
    -------
    str
        The page with the 32 hex digits of ``<kind>_<hex>`` ids (``map_…``, ``geo_json_…``,
        ``geo_json_…_styler``) replaced by ``c15_<n>``.
    """
    seen: dict[str, str] = {}

    def _sub(mt: re.Match[str]) -> str:
        key = mt.group(0)
        if key not in seen:
            seen[key] = f"c15_{len(seen) + 1}"
        return seen[key]

    return _ELEMENT_ID.sub(_sub, page)


def save_map(m: folium.Map, path: str | Path, *, offline: bool = False) -> Path:
    """Render a map to an HTML file, atomically and reproducibly.

    Parameters
    ----------
    m
        The map (:func:`coverage_map`, or any folium Map).
    path
        The HTML file.
    offline
        Embed Leaflet's JavaScript and CSS from the installed ``xstatic-leaflet`` (no CDN).

    Returns
    -------
    Path
        ``path``.
    """
    path = Path(path)
    page = stable_ids(m.get_root().render())
    if offline:
        page = inline_assets(page)
    with atomic_path(path) as tmp:
        tmp.write_text(page, encoding="utf-8")
    return path


def index_map(table: pd.DataFrame, out: Path | str, *, title: str = "care15 batch") -> Path:
    """``out/index.html`` of a batch: a box per region with its headline rates and map link.

    Regions without a bounding box (failed before their network was read) are listed in a
    panel with their error.

    Parameters
    ----------
    table
        The batch's table (``regions.csv``): ``region``, ``status``, ``error``, ``west``,
        ``south``, ``east``, ``north``, ``map`` and ``<category>_covered_share`` /
        ``_target`` / ``_target_met``.
    out
        The batch's output folder.
    title
        Heading of the status panel.

    Returns
    -------
    Path
        The page written.
    """
    out = Path(out)
    cats = sorted({c[: -len("_covered_share")] for c in table.columns
                   if c.endswith("_covered_share")})
    boxes = table.dropna(subset=["west", "south", "east", "north"])
    m = folium.Map(tiles="OpenStreetMap", control_scale=True)
    # Leaflet only, embedded on saving: the page opens without internet (tiles aside)
    m.default_js = [(n, u) for n, u in m.default_js if n == "leaflet"]
    m.default_css = [(n, u) for n, u in m.default_css if n == "leaflet_css"]
    colours = {"all": "#1a9850", "some": "#fdae61", "none": "#d73027", "failed": "#777777"}
    for _, r in boxes.iterrows():
        status = r["status"]
        met = [r.get(f"{c}_target_met") for c in cats]
        met = [bool(v) for v in met if v is not None and not (isinstance(v, float) and
                                                             math.isnan(v))]
        key = "failed" if status == "failed" else (
            "all" if met and all(met) else "some" if any(met) else "none")
        lines = [f"<b>{html_text(r['region'])}</b> ({html_text(status)})"]
        for c in cats:
            share = r.get(f"{c}_covered_share")
            tgt = r.get(f"{c}_target")
            if share is not None and not (isinstance(share, float) and math.isnan(share)):
                lines.append(f"{html_text(c)}: {float(share):.1%} within "
                             f"{r.get('coverage_threshold_min', 15):g} min"
                             + (f" (target {float(tgt):.0%})" if pd.notna(tgt) else ""))
        if status == "failed" and r.get("error"):
            lines.append(f"<span style='color:#b00'>{html_text(str(r['error'])[:300])}</span>")
        if isinstance(r.get("map"), str) and r["map"]:
            lines.append(f"<a href='{quote(r['map'])}' target='_blank'>open the map</a>")
        content = "<br>".join(lines)
        folium.Rectangle(bounds=[[r["south"], r["west"]], [r["north"], r["east"]]],
                         color=colours[key], weight=2, fill=True, fill_opacity=0.15,
                         tooltip=html_text(r["region"])).add_child(_Popup(content)).add_to(m)
        folium.CircleMarker([(r["south"] + r["north"]) / 2, (r["west"] + r["east"]) / 2],
                            radius=6, color="#222222", weight=2, fill=True,
                            fill_color=colours[key], fill_opacity=0.95,
                            tooltip=html_text(r["region"])).add_child(_Popup(content)).add_to(m)
    if len(boxes):
        m.fit_bounds([[boxes["south"].min(), boxes["west"].min()],
                      [boxes["north"].max(), boxes["east"].max()]])
    else:
        m.location = [0, 0]
        m.options["zoom"] = 2
    n = table["status"].value_counts().to_dict()
    head = (f"<b>{html_text(title)}</b><br>" + ", ".join(f"{k} {v}" for k, v in n.items()))
    nobox = table.loc[~table.index.isin(boxes.index)]
    items = "".join(f"<li><b>{html_text(r['region'])}</b>: {html_text(r['status'])}"
                    f" {html_text(str(r['error'])[:300])}</li>" for _, r in nobox.iterrows())
    panel = (f"<div style='position:fixed;top:10px;right:10px;z-index:9999;background:white;"
             f"padding:6px 10px;max-width:380px;font:13px sans-serif;border:1px solid #999'>"
             f"{head}{'<ul>' + items + '</ul>' if items else ''}</div>")
    cast(Figure, m.get_root()).html.add_child(folium.Element(panel))
    path = out / "index.html"
    with atomic_path(path) as tmp:
        tmp.write_text(inline_assets(stable_ids(m.get_root().render())), encoding="utf-8")
    return path
