"""A what-if map for planners in a notebook: click to add a facility, drag to move it.

:class:`PlanExplorer` puts a :class:`care15.Plan` on an ipyleaflet map. The population cells
are coloured by walking minutes to the nearest facility of the chosen category (the colours of
the static maps and figures, :mod:`care15._palette`); facilities are draggable markers. With the
"add" tool a click on the map adds a facility of the chosen category there
(:meth:`Plan.add_facility`); dragging a marker moves it (:meth:`Plan.move_facility`); a
selected marker can be removed (:meth:`Plan.remove_facility`) or given a capacity
(:meth:`Plan.set_capacity`). After each edit the cell colours, the headline rates (the target
group's share within each threshold, before → after, from :meth:`Plan.diff`) and the community
table (changed communities first) are redrawn from the plan. Suggested sites
(:func:`care15.suggest_sites`) are loaded as plan edits with :meth:`PlanExplorer.load_sites`
and can then be moved or removed like any facility. "Undo" applies the inverse edit (remove
what was added, move back, re-add what was removed, restore a capacity), so it costs one edit,
and the plan's edit log keeps both.

The cells are drawn as one PNG image (an ipyleaflet ``ImageOverlay`` with a ``data:`` URL) on
a pixel grid in Web Mercator, the map's projection: the browser holds one image rather than
100,000 polygons. Which cell each pixel shows is worked out once (the cells do not move; about
0.5 s for 100,000 cells on a 2,000-pixel image); a redraw only recolours and encodes the PNG
(about 0.1 s for 100,000 cells).

ipyleaflet and ipywidgets are optional (``pip install care15[explorer]``): they are imported
when a :class:`PlanExplorer` is made, not with :mod:`care15`. Without a network the basemap
tiles do not load (the map stays grey); the cells, markers and panel still show. Voila renders
the notebook as a web page (``benchmarks/render_explorer.py``).

Examples
--------
>>> import care15
>>> from care15.explorer import PlanExplorer
>>> sc = care15.demo_scenario()
>>> plan = care15.Plan(care15.region_from_scenario(sc), sc)
>>> ex = PlanExplorer(plan, "elderly", basemap=None)
>>> ex.click(60.165, 24.945)  # the "add" tool: a click adds an elderly-care point
'plan-1'
>>> [e["action"] for e in plan.edits]
['add']
"""

from __future__ import annotations

import base64
import html
import io
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import standards as std
from ._errors import InputError
from ._palette import BAND_COLOURS, CATEGORY_COLOURS, MARKER_EDGE
from .rates import tlabel

if TYPE_CHECKING:
    from .analysis import CoverageResult
    from .plan import Plan, PlanDiff
    from .siting import SiteSuggestion

__all__ = ["BAND_KEYS", "CellImage", "PlanExplorer", "band_index"]

#: The cell states in palette order: the thresholds (filled in per scenario), then these.
BAND_KEYS = ("beyond", "unreachable", "no_facility")
#: Colour of a facility selected for removal or resizing.
SELECTED_COLOUR = "#e41a1c"
#: The panel's table cells.
_TD = ' style="padding:2px 8px 2px 0;text-align:left"'
#: How many community rows the panel lists.
TABLE_ROWS = 12

_TEXT = {
    "zh": {"cat": "服务类别", "tool": "工具", "select": "选择 / 拖动", "add": "点击新增",
           "remove": "撤销设施", "undo": "撤回上一步", "capacity": "规模", "set": "设定规模",
           "sites": "载入建议新址", "none": "未选择设施(点击标记选择)",
           "selected": "已选择:{name}({fid},{cat},规模 {cap})",
           "headline": "目标人群 {t} 分钟覆盖率", "group": "目标人群", "before": "现状",
           "after": "方案", "change": "变化(百分点)", "threshold": "≤{t} 分钟",
           "community": "社区", "met": "达标", "yes": "是", "no": "否", "empty": "—",
           "more": "另有 {n} 个社区", "changed": "{n} 个社区覆盖率变化",
           "edits": "已做 {n} 项修改", "newly": "新覆盖 {cells} 个网格、{people} 人({group})",
           "lost": "失去覆盖 {cells} 个网格、{people} 人", "added": "已新增 {fid}",
           "moved": "已迁移 {fid}", "removed": "已撤销 {fid}", "resized": "{fid} 规模改为 {cap}",
           "undone": "已撤回:{what}", "nothing": "没有可撤回的修改",
           "off_net": "(离道路太远,未接入路网)", "loaded": "已载入 {n} 处建议新址",
           "seconds": "{s:.2f} 秒", "legend": "步行时间", "unreach": "无步行路径",
           "no_fac": "无该类设施", "beyond": ">{t} 分钟", "within": "≤{t} 分钟",
           "unknown": "未知", "bad_capacity": "规模须为数字(床位或托位), 留空表示未知",
           "no_undo": "该设施不计入供给,撤销后无法撤回",
           "site_name": "建议新址 {rank}"},
    "en": {"cat": "Category", "tool": "Tool", "select": "Select / drag", "add": "Click to add",
           "remove": "Remove facility", "undo": "Undo", "capacity": "Capacity",
           "set": "Set capacity", "sites": "Load suggested sites",
           "none": "No facility selected (click a marker)",
           "selected": "Selected: {name} ({fid}, {cat}, capacity {cap})",
           "headline": "Target group within {t} min", "group": "Target group",
           "before": "Now", "after": "Plan", "change": "Change (pp)",
           "threshold": "≤{t} min", "community": "Community", "met": "Target met",
           "yes": "yes", "no": "no", "empty": "–", "more": "{n} more communities",
           "changed": "{n} communities changed", "edits": "{n} edits",
           "newly": "Newly covered: {cells} cells, {people} residents ({group})",
           "lost": "No longer covered: {cells} cells, {people} residents",
           "added": "Added {fid}", "moved": "Moved {fid}", "removed": "Removed {fid}",
           "resized": "{fid} capacity set to {cap}", "undone": "Undone: {what}",
           "nothing": "Nothing to undo", "off_net": " (too far from any street: not joined)",
           "loaded": "Loaded {n} suggested sites", "seconds": "{s:.2f} s",
           "legend": "Walking time", "unreach": "No walking path",
           "no_fac": "No facility of this kind", "beyond": ">{t} min", "within": "≤{t} min",
           "unknown": "unknown",
           "bad_capacity": "Capacity must be a number of beds or places; empty for unknown",
           "no_undo": "This facility does not count as supply: "
           "its removal cannot be undone", "site_name": "Suggested site {rank}"},
}
_GROUP = {"zh": {"pop_60plus": "60岁及以上", "pop_0to3": "3岁以下"},
          "en": {"pop_60plus": "aged 60+", "pop_0to3": "aged 0–3"}}


def band_index(walk_min: np.ndarray, thresholds_min: tuple[float, ...],
               has_facility: bool = True) -> np.ndarray:
    """Each cell's palette entry: its threshold band, beyond, unreachable or no facility.

    The same rule as the static map (a cell within ``t + 1e-9`` minutes is in band ``t``).

    Parameters
    ----------
    walk_min
        Walking minutes to the nearest facility (``inf`` when unreachable).
    thresholds_min
        The thresholds, ascending.
    has_facility
        Whether the category has any facility; without one every cell is "no facility".

    Returns
    -------
    numpy.ndarray
        ``uint8``: ``0 .. len(thresholds) - 1`` the bands, then beyond, unreachable and no
        facility (the order of :func:`_palette_keys`).
    """
    t = np.asarray(thresholds_min, dtype=float) + 1e-9
    wm = np.asarray(walk_min, dtype=float)
    idx = np.searchsorted(t, wm, side="left")
    unreach = len(t) + (1 if has_facility else 2)
    return np.where(np.isfinite(wm), idx, unreach).astype(np.uint8)


def _palette_keys(thresholds_min: tuple[float, ...]) -> list[str]:
    return [tlabel(t) for t in thresholds_min] + list(BAND_KEYS)


def _hex_rgb(colour: str) -> tuple[int, int, int]:
    c = colour.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def _pixel_centres(crs: Any, x0: float, y1: float, px: float, nx: int, ny: int,
                   step: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """The image's pixel centres in ``crs``: exact on every ``step``-th pixel, bilinear between.

    Over a city the Web Mercator → UTM mapping is smooth: between lattice points 8 pixels
    apart the interpolation is off by far less than a millimetre, and 64 times fewer points go
    through pyproj.
    """
    from pyproj import Transformer
    from scipy import sparse

    kx, ky = np.arange(0, nx + step, step), np.arange(0, ny + step, step)
    lx = x0 + (kx + 0.5) * px
    ly = y1 - (ky + 0.5) * px
    to_m = Transformer.from_crs(3857, crs, always_xy=True)
    LX, LY = (np.asarray(v) for v in to_m.transform(*np.meshgrid(lx, ly)))

    def weights(n: int, m: int) -> sparse.csr_matrix:
        # (n pixels × m lattice points): each pixel between its two lattice neighbours
        i = np.arange(n)
        k, f = np.divmod(i, step)
        f = f / step
        return sparse.csr_matrix((np.r_[1 - f, f], (np.r_[i, i], np.r_[k, k + 1])),
                                 shape=(n, m))

    wr, wc = weights(ny, len(ky)), weights(nx, len(kx))
    X = np.asarray((wc @ (wr @ LX).T).T)
    Y = np.asarray((wc @ (wr @ LY).T).T)
    return X, Y


class CellImage:
    """Which cell each pixel of a Web-Mercator image shows, worked out once.

    Cells that are squares on one grid in their metric CRS (the population grids care15
    makes) are looked up by arithmetic; other shapes are rasterised (``rasterio``).

    Parameters
    ----------
    cells
        The cells (any polygon CRS; usually the network's metric CRS).
    pixels_per_cell
        Pixels across one cell (on the long side of the image at most ``max_pixels``).
    max_pixels
        The image's longer side at most.

    Attributes
    ----------
    index
        ``(rows, cols)`` int32, the row of ``cells`` each pixel shows, ``-1`` outside them;
        row 0 is the image's top (north).
    bounds
        ``((south, west), (north, east))`` of the image in degrees (WGS-84), as ipyleaflet's
        ``ImageOverlay`` takes them.
    """

    def __init__(self, cells: gpd.GeoDataFrame, *, pixels_per_cell: int = 8,
                 max_pixels: int = 2000) -> None:
        from pyproj import Transformer

        if len(cells) == 0:
            raise InputError("the plan has no population cells to draw")
        b = cells.geometry.bounds.to_numpy()
        w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
        res = float(np.median(np.maximum(w, h)))
        tb = (b[:, 0].min(), b[:, 1].min(), b[:, 2].max(), b[:, 3].max())
        mb = np.asarray(Transformer.from_crs(cells.crs, 3857, always_xy=True).transform_bounds(
            *tb, densify_pts=41), dtype=float)
        lat_c = float(np.mean(Transformer.from_crs(cells.crs, 4326, always_xy=True)
                              .transform_bounds(*tb, densify_pts=41)[1::2]))
        # Web Mercator stretches ground metres by 1 / cos(latitude)
        px = res / pixels_per_cell / np.cos(np.radians(lat_c))
        px = max(px, max(mb[2] - mb[0], mb[3] - mb[1]) / max_pixels)
        nx = max(1, int(np.ceil((mb[2] - mb[0]) / px)))
        ny = max(1, int(np.ceil((mb[3] - mb[1]) / px)))
        x0, y1 = mb[0], mb[1] + ny * px  # top-left corner
        square = (np.allclose(w, res, atol=1e-6 * res) and np.allclose(h, res, atol=1e-6 * res)
                  and np.allclose(shapely.area(cells.geometry.to_numpy()), res * res,
                                  rtol=1e-6))
        gx0, gy0 = float(b[:, 0].min()), float(b[:, 1].min())
        ix = np.round((b[:, 0] - gx0) / res)
        iy = np.round((b[:, 1] - gy0) / res)
        square = square and bool(np.allclose(gx0 + ix * res, b[:, 0], atol=1e-6 * res)
                                 and np.allclose(gy0 + iy * res, b[:, 1], atol=1e-6 * res))
        if square:
            lut = np.full((int(iy.max()) + 1, int(ix.max()) + 1), -1, dtype=np.int32)
            lut[iy.astype(np.int64), ix.astype(np.int64)] = np.arange(len(cells), dtype=np.int32)
            X, Y = _pixel_centres(cells.crs, x0, y1, px, nx, ny)
            jx = np.floor((X - gx0) / res)
            jy = np.floor((Y - gy0) / res)
            ok = (jx >= 0) & (jy >= 0) & (jx < lut.shape[1]) & (jy < lut.shape[0])
            index = np.full((ny, nx), -1, dtype=np.int32)
            index[ok] = lut[jy[ok].astype(np.int64), jx[ok].astype(np.int64)]
        else:
            from rasterio.features import rasterize
            from rasterio.transform import from_origin

            merc = cells.geometry.to_crs(3857)
            index = rasterize(zip(merc.to_numpy(), range(len(cells)), strict=True),
                              out_shape=(ny, nx), transform=from_origin(x0, y1, px, px),
                              fill=-1, dtype="int32")
        self.index: np.ndarray = index
        to_ll = Transformer.from_crs(3857, 4326, always_xy=True)
        (w_, e_), (s_, n_) = to_ll.transform([x0, x0 + nx * px], [y1 - ny * px, y1])
        self.bounds = ((float(s_), float(w_)), (float(n_), float(e_)))

    def png(self, key: np.ndarray, colours: list[str]) -> bytes:
        """The image with each cell in the colour of its key.

        Parameters
        ----------
        key
            Per cell, an index into ``colours``.
        colours
            ``#rrggbb`` colours; pixels outside the cells are transparent.

        Returns
        -------
        bytes
            A palette PNG.
        """
        from PIL import Image

        clear = len(colours)
        lut = np.append(np.asarray(key, dtype=np.uint8), np.uint8(clear))
        img = Image.fromarray(lut[self.index], mode="P")
        img.putpalette([v for c in colours for v in _hex_rgb(c)] + [0, 0, 0])
        buf = io.BytesIO()
        img.save(buf, format="PNG", transparency=clear)
        return buf.getvalue()

    def rgb_of_cells(self, png: bytes) -> np.ndarray:
        """Read a PNG made by :meth:`png` back: the colour each cell is drawn in.

        Parameters
        ----------
        png
            The image.

        Returns
        -------
        numpy.ndarray
            ``(n_cells, 3)`` uint8 RGB, from the first pixel of each cell (zeros for a cell
            too small to get a pixel).
        """
        from PIL import Image

        rgb = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))
        flat = self.index.ravel()
        inside = np.flatnonzero(flat >= 0)
        cell, first = np.unique(flat[inside], return_index=True)
        n = int(self.index.max()) + 1
        out = np.zeros((n, 3), dtype=np.uint8)
        out[cell] = rgb.reshape(-1, 3)[inside[first]]
        return out


def _icon_url(fill: str, edge: str, square: bool, size: int) -> str:
    r = size / 2
    shape = (f'<rect x="2" y="2" width="{size - 4}" height="{size - 4}" rx="2" '
             if square else f'<circle cx="{r}" cy="{r}" r="{r - 2}" ')
    width = 3 if edge == SELECTED_COLOUR else 1.5
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="{size}" height="{size}">{shape}'
           f'fill="{fill}" fill-opacity="0.95" stroke="{edge}" stroke-width="{width}"/></svg>')
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def _zoom_for(bounds: tuple[tuple[float, float], tuple[float, float]],
              width_px: int = 800, height_px: int = 560) -> int:
    """The largest web-map zoom at which ``bounds`` fit a map of that many pixels."""
    (s, w), (n, e) = bounds

    def merc_y(lat: float) -> float:
        return float(np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)))

    dx = max(e - w, 1e-9) / 360.0
    dy = max(merc_y(n) - merc_y(s), 1e-9) / (2 * np.pi)
    z = min(np.log2(width_px / 256 / dx), np.log2(height_px / 256 / dy))
    return int(np.clip(np.floor(z), 1, 18))


def _fmt_cap(v: Any, unknown: str) -> str:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return unknown
    return unknown if not np.isfinite(f) else f"{f:g}"


class PlanExplorer:
    """An interactive what-if map of a :class:`care15.Plan` (see the module notes).

    Parameters
    ----------
    plan
        The plan to edit; the explorer's edits are the plan's (``plan.edits``).
    category
        The category shown first and given to facilities added by a click.
    lang
        ``"zh"`` (default) or ``"en"``: the labels, the panel and the legend.
    basemap
        ``"osm"`` for OpenStreetMap tiles (they need the internet), or ``None`` for none.
    sites
        Suggested sites (:func:`care15.suggest_sites`): adds a button that loads them.
    height
        The map's height (CSS).

    Attributes
    ----------
    plan
        The plan.
    widget
        The whole explorer (an ``ipywidgets.HBox``: the map, then the controls and the panel).
    map
        The ``ipyleaflet.Map``.
    overlay
        The cells' ``ImageOverlay``.
    markers
        ``facility_id`` → its ``ipyleaflet.Marker``.
    headline, table, status
        The panel's ``ipywidgets.HTML`` parts: headline rates, the community table and the
        last action (with its time).
    png
        The cells' current image.
    last_seconds
        How long the last edit took, from the callback to the redrawn panel.

    Raises
    ------
    InputError
        For a category the plan's scenario does not analyse, or an unknown ``lang``.
    """

    def __init__(self, plan: Plan, category: str = "elderly", *, lang: str = "zh",
                 basemap: str | None = "osm", sites: SiteSuggestion | None = None,
                 height: str = "600px") -> None:
        import ipyleaflet as L
        import ipywidgets as W

        sc = plan.scenario
        assert sc is not None  # set by Plan
        if lang not in _TEXT:
            raise InputError(f"lang must be 'zh' or 'en', not {lang!r}")
        cats = tuple(sc.categories)
        if category not in cats:
            raise InputError(f"category {category!r} is not analysed by the plan's scenario "
                             f"(it has {list(cats)})")
        self.plan = plan
        self.lang = lang
        self.category = category
        self._tr = _TEXT[lang]
        self._thresholds = tuple(float(t) for t in sc.thresholds_min)
        self._cov_t = float(sc.targets.coverage_threshold_min)
        self._undo: list[tuple[str, list[tuple[Any, ...]]]] = []
        self._selected: str | None = None
        self._quiet = False  # set while the explorer itself moves a marker
        self._icons: dict[tuple[str, bool, bool], Any] = {}
        self._sites = sites
        self.last_seconds = float("nan")
        self.png = b""
        res = plan.result()
        self._image = CellImage(res.cells)
        (s, w), (n, e) = self._image.bounds
        tr = self._tr

        tiles: Any = {"url": "", "name": "none", "attribution": ""}
        if basemap == "osm":
            tiles = L.basemaps.OpenStreetMap.Mapnik
        elif basemap is not None:
            raise InputError(f"basemap must be 'osm' or None, not {basemap!r}")
        h_px = int(height[:-2]) if height.endswith("px") and height[:-2].isdigit() else 560
        self.map = L.Map(center=((s + n) / 2, (w + e) / 2),
                         zoom=_zoom_for(self._image.bounds, height_px=h_px - 40),
                         basemap=tiles, scroll_wheel_zoom=True,
                         layout=W.Layout(height=height, width="100%"))
        if basemap is None:  # no tile layer at all: nothing to fetch
            self.map.layers = ()
        self.overlay = L.ImageOverlay(url="", bounds=self._image.bounds, opacity=0.75,
                                      name=tr["legend"])
        self.map.add(self.overlay)
        self._legend = L.LegendControl({}, title=tr["legend"], position="bottomright")
        self.map.add(self._legend)
        self.map.on_interaction(self._on_interaction)
        self.markers: dict[str, Any] = {}

        labels = {c: (std.CATEGORIES[c].label_zh if lang == "zh" else std.CATEGORIES[c].label_en)
                  for c in cats}
        self.category_buttons = W.ToggleButtons(options=[(labels[c], c) for c in cats],
                                                value=category, description=tr["cat"])
        self.category_buttons.observe(self._on_category, names="value")
        self.tool = W.ToggleButtons(options=[(tr["select"], "select"), (tr["add"], "add")],
                                    value="select", description=tr["tool"])
        self.selected_label = W.HTML(tr["none"])
        # text, not a number box: an unknown capacity shows empty, never as 0
        self.capacity = W.Text(value="", placeholder=tr["unknown"], description=tr["capacity"],
                               layout=W.Layout(width="180px"))
        self.set_button = W.Button(description=tr["set"], disabled=True)
        self.set_button.on_click(lambda _b: self._set_from_box())
        self.remove_button = W.Button(description=tr["remove"], button_style="danger",
                                      icon="trash", disabled=True)
        self.remove_button.on_click(lambda _b: self.remove_selected())
        self.undo_button = W.Button(description=tr["undo"], icon="undo", disabled=True)
        self.undo_button.on_click(lambda _b: self.undo())
        self.sites_button = W.Button(description=tr["sites"], icon="map-marker",
                                     disabled=sites is None,
                                     layout=W.Layout(display=None if sites else "none"))
        self.sites_button.on_click(lambda _b: self._load_given_sites())
        self.status = W.HTML("")
        self.headline = W.HTML("")
        self.table = W.HTML("")
        controls = W.VBox([
            self.category_buttons, self.tool, self.selected_label,
            W.HBox([self.capacity, self.set_button]),
            W.HBox([self.remove_button, self.undo_button, self.sites_button]), self.status])
        panel = W.VBox([controls, self.headline, self.table],
                       layout=W.Layout(width="40%", padding="0 0 0 12px"))
        self.widget = W.HBox([W.Box([self.map], layout=W.Layout(width="60%")), panel])
        self._sync_markers()
        self._redraw(res)

    # -- display -----------------------------------------------------------------------------

    def _repr_mimebundle_(self, **kwargs: Any) -> dict[str, Any]:
        """Show the widget in a notebook, with a short plain-text stand-in."""
        bundle = dict(self.widget._repr_mimebundle_(**kwargs) or {})
        bundle["text/plain"] = (f"PlanExplorer({self.category}, {len(self.markers)} "
                                f"facilities, {len(self.plan.edits)} edits)")
        return bundle

    # -- callbacks (what the browser calls) --------------------------------------------------

    def _on_interaction(self, **event: Any) -> None:
        if event.get("type") != "click":
            return
        lat, lon = event["coordinates"][:2]
        if self.tool.value == "add":
            self.click(float(lat), float(lon))
        else:
            self.select(None)

    def _on_move(self, fid: str, change: dict[str, Any]) -> None:
        if self._quiet:
            return
        lat, lon = change["new"][:2]
        old = change.get("old") or [np.nan, np.nan]
        self._timed(lambda: self._move(fid, float(lon), float(lat),
                                       float(old[1]), float(old[0])))

    def _on_marker_click(self, fid: str, **event: Any) -> None:
        if event.get("type", "click") == "click":
            self.select(fid)

    def _on_category(self, change: dict[str, Any]) -> None:
        self.category = str(change["new"])
        self._sync_markers()
        self._redraw(self.plan.result())

    # -- edits -------------------------------------------------------------------------------

    def click(self, lat: float, lon: float) -> str:
        """Add a facility of the current category where the map was clicked.

        Parameters
        ----------
        lat, lon
            The point, WGS-84 degrees (as the map reports a click).

        Returns
        -------
        str
            The new facility's id.
        """
        out: list[str] = []

        def _run() -> str:
            fid = self.plan.add_facility(self.category, lon, lat)
            out.append(fid)
            self._undo.append((self._tr["added"].format(fid=fid), [("remove", fid)]))
            self.select(fid, redraw_icons=False)
            return self._tr["added"].format(fid=fid) + self._off_network(fid)

        self._timed(_run)
        return out[0]

    def _move(self, fid: str, lon: float, lat: float, old_lon: float, old_lat: float) -> str:
        self.plan.move_facility(fid, lon, lat)
        if np.isfinite(old_lon) and np.isfinite(old_lat):
            self._undo.append((self._tr["moved"].format(fid=fid),
                               [("move", fid, old_lon, old_lat)]))
        self.select(fid, redraw_icons=False)
        return self._tr["moved"].format(fid=fid) + self._off_network(fid)

    def move(self, facility_id: str, lat: float, lon: float) -> None:
        """Move a facility as dragging its marker does (the marker follows).

        Parameters
        ----------
        facility_id
            Which facility.
        lat, lon
            Its new place, WGS-84 degrees.
        """
        self.markers[facility_id].location = [float(lat), float(lon)]

    def remove_selected(self) -> None:
        """Remove the selected facility (the remove button)."""
        fid = self._selected
        if fid is None:
            return

        def _run() -> str:
            undo = self._removal_inverse(fid)
            self.plan.remove_facility(fid)
            self._selected = None
            if undo is not None:
                self._undo.append((self._tr["removed"].format(fid=fid), [undo]))
                return self._tr["removed"].format(fid=fid)
            return self._tr["removed"].format(fid=fid) + " · " + self._tr["no_undo"]

        self._timed(_run)

    def _set_from_box(self) -> None:
        """The capacity box's text: empty for unknown, else a number of beds or places."""
        text = str(self.capacity.value).strip()
        try:
            value = None if text == "" else float(text)
        except ValueError:
            self.status.value = html.escape(self._tr["bad_capacity"])
            return
        self.set_capacity(value)

    def set_capacity(self, capacity: float | None) -> None:
        """Set the selected facility's capacity (beds or places; the capacity box).

        Parameters
        ----------
        capacity
            The new capacity, ``None`` (or NaN) for unknown.
        """
        fid = self._selected
        if fid is None:
            return
        cap = None if capacity is None or not np.isfinite(capacity) else float(capacity)

        def _run() -> str:
            old = self._capacity_of(fid)
            self.plan.set_capacity(fid, cap)
            self._undo.append((self._tr["resized"].format(fid=fid, cap=cap),
                               [("resize", fid, old)]))
            return self._tr["resized"].format(fid=fid, cap=_fmt_cap(cap, self._tr["unknown"]))

        self._timed(_run)

    def load_sites(self, suggestion: SiteSuggestion | pd.DataFrame) -> list[str]:
        """Add suggested sites to the plan, in rank order, as facilities one can edit.

        Parameters
        ----------
        suggestion
            A :class:`care15.siting.SiteSuggestion` or its ``sites`` table (``category``,
            ``lon``, ``lat`` in WGS-84; ``rank``, ``name`` and ``capacity_places`` when given).

        Returns
        -------
        list of str
            The new facilities' ids.
        """
        sites = getattr(suggestion, "sites", suggestion)
        sites = pd.DataFrame(sites)
        if "rank" in sites.columns:
            sites = sites.sort_values("rank")
        ids: list[str] = []

        def _run() -> str:
            for i, s in enumerate(sites.to_dict("records"), start=1):
                rank = s.get("rank", i)
                name = s.get("name")
                if not isinstance(name, str) or not name.strip():
                    name = self._tr["site_name"].format(rank=rank)
                cap = s.get("capacity_places")
                cap = float(cap) if cap is not None and np.isfinite(float(cap)) else None
                ids.append(self.plan.add_facility(str(s["category"]), float(s["lon"]),
                                                  float(s["lat"]), name=name, capacity=cap))
            self._undo.append((self._tr["loaded"].format(n=len(ids)),
                               [("remove", f) for f in reversed(ids)]))
            return self._tr["loaded"].format(n=len(ids))

        self._timed(_run)
        return ids

    def _load_given_sites(self) -> None:
        if self._sites is not None:
            self.load_sites(self._sites)
            self.sites_button.disabled = True

    def undo(self) -> None:
        """Undo the last edit made through the explorer by applying its inverse."""
        if not self._undo:
            self.status.value = html.escape(self._tr["nothing"])
            return
        what, ops = self._undo.pop()

        def _run() -> str:
            for op in ops:
                if op[0] == "remove":
                    self.plan.remove_facility(op[1])
                elif op[0] == "move":
                    self.plan.move_facility(op[1], op[2], op[3])
                elif op[0] == "resize":
                    self.plan.set_capacity(op[1], op[2])
                else:  # re-add a removed facility with its id, name, capacity and subtype
                    _, fid, cat, lon, lat, name, cap, sub = op
                    self.plan.add_facility(cat, lon, lat, facility_id=fid, name=name,
                                           capacity=cap, subtype=sub)
            if self._selected not in set(self.plan.facilities["facility_id"].astype(str)):
                self._selected = None
            return self._tr["undone"].format(what=what)

        self._timed(_run)

    def _removal_inverse(self, fid: str) -> tuple[Any, ...] | None:
        fac = self.plan.facilities
        row = fac[fac["facility_id"].astype(str) == fid].iloc[0]
        if "counts_as_supply" in fac.columns and not bool(
                pd.Series([row["counts_as_supply"]]).fillna(True).astype(bool).iloc[0]):
            return None
        p = gpd.GeoSeries([row.geometry], crs=fac.crs).to_crs(4326).iloc[0]
        cap = self._capacity_of(fid)
        sub = row.get("subtype")
        sub = sub if isinstance(sub, str) and sub else None
        return ("add", fid, str(row["category"]), float(p.x), float(p.y), str(row["name"]),
                cap, sub)

    def _capacity_of(self, fid: str) -> float | None:
        fac = self.plan.facilities
        row = fac[fac["facility_id"].astype(str) == fid].iloc[0]
        col = std.CATEGORIES[str(row["category"])].capacity_column
        v = row.get(col)
        return None if v is None or not np.isfinite(float(v)) else float(v)

    def _off_network(self, fid: str) -> str:
        fac = self.plan.facilities
        hit = fac[fac["facility_id"].astype(str) == fid]
        if len(hit) and "on_network" in hit.columns and not bool(hit["on_network"].iloc[0]):
            return self._tr["off_net"]
        return ""

    def _timed(self, edit: Callable[[], str]) -> None:
        t0 = time.perf_counter()
        try:
            msg = edit()
        except InputError as err:
            self.status.value = f'<span style="color:{SELECTED_COLOUR}">{html.escape(str(err))}</span>'
            self._sync_markers()
            return
        self._sync_markers()
        self._redraw(self.plan.result())
        self.last_seconds = time.perf_counter() - t0
        self.status.value = (html.escape(msg) + " · "
                             + self._tr["seconds"].format(s=self.last_seconds))

    # -- selection and markers ---------------------------------------------------------------

    def select(self, facility_id: str | None, *, redraw_icons: bool = True) -> None:
        """Select a facility (as clicking its marker does), or none.

        Parameters
        ----------
        facility_id
            Which facility, or None.
        redraw_icons
            Restyle the markers now (an edit restyles them afterwards anyway).
        """
        tr = self._tr
        self._selected = facility_id
        fac = self.plan.facilities
        hit = fac[fac["facility_id"].astype(str) == str(facility_id)]
        if facility_id is None or hit.empty:
            self._selected = None
            self.selected_label.value = html.escape(tr["none"])
        else:
            r = hit.iloc[0]
            cat = str(r["category"])
            cap = self._capacity_of(str(facility_id))
            self.selected_label.value = html.escape(tr["selected"].format(
                name=r["name"], fid=facility_id, cat=self._cat_label(cat),
                cap=_fmt_cap(cap, tr["unknown"])))
            self.capacity.value = "" if cap is None else f"{cap:g}"
        on = self._selected is not None
        self.remove_button.disabled = not on
        self.set_button.disabled = not on
        if redraw_icons:
            self._sync_markers()

    def _cat_label(self, c: str) -> str:
        cat = std.CATEGORIES[c]
        return cat.label_zh if self.lang == "zh" else cat.label_en

    def _icon(self, category: str, added: bool, selected: bool) -> Any:
        key = (category, added, selected)
        if key not in self._icons:
            import ipyleaflet as L

            size = 22 if selected else 18
            url = _icon_url(CATEGORY_COLOURS.get(category, "#555555"),
                            SELECTED_COLOUR if selected else MARKER_EDGE, added, size)
            self._icons[key] = L.Icon(icon_url=url, icon_size=[size, size],
                                      icon_anchor=[size // 2, size // 2])
        return self._icons[key]

    def _sync_markers(self) -> None:
        """Markers for the plan's facilities: new ones added, removed ones dropped, restyled."""
        import ipyleaflet as L

        fac = self.plan.facilities
        ll = fac.geometry.to_crs(4326)
        base = set(self.plan.base.facilities["facility_id"].astype(str))
        seen = set()
        self._quiet = True
        try:
            for fid, cat, name, p in zip(fac["facility_id"].astype(str), fac["category"],
                                         fac["name"], ll, strict=True):
                seen.add(fid)
                icon = self._icon(str(cat), fid not in base, fid == self._selected)
                # the other category's facilities stay draggable but step back
                opacity = 1.0 if cat == self.category or fid == self._selected else 0.5
                loc = [round(float(p.y), 7), round(float(p.x), 7)]
                mk = self.markers.get(fid)
                if mk is None:
                    mk = L.Marker(location=loc, draggable=True, icon=icon, opacity=opacity,
                                  title=f"{name} ({fid})")
                    mk.observe(lambda ch, f=fid: self._on_move(f, ch), names="location")
                    mk.on_click(lambda f=fid, **ev: self._on_marker_click(f, **ev))
                    self.markers[fid] = mk
                    self.map.add(mk)
                else:
                    if mk.icon is not icon:
                        mk.icon = icon
                    if mk.opacity != opacity:
                        mk.opacity = opacity
                    if not np.allclose(mk.location, loc, atol=1e-6):
                        mk.location = loc
            for fid in [f for f in self.markers if f not in seen]:
                self.map.remove(self.markers.pop(fid))
        finally:
            self._quiet = False
        self.undo_button.disabled = not self._undo

    def refresh(self) -> None:
        """Redraw from the plan (after editing the plan directly rather than on the map)."""
        self._sync_markers()
        self._redraw(self.plan.result())

    # -- drawing -----------------------------------------------------------------------------

    def _redraw(self, res: CoverageResult) -> None:
        c = self.category
        has = bool(res.summary["categories"].get(c, {}).get("n_facilities", 1))
        key = band_index(res.cells[f"{c}_walk_min"].to_numpy(float), self._thresholds, has)
        keys = _palette_keys(self._thresholds)
        self.png = self._image.png(key, [BAND_COLOURS[k] for k in keys])
        self.overlay.url = "data:image/png;base64," + base64.b64encode(self.png).decode()
        tr = self._tr
        names = [tr["within"].format(t=tlabel(t)) for t in self._thresholds] + [
            tr["beyond"].format(t=tlabel(self._thresholds[-1])), tr["unreach"], tr["no_fac"]]
        shown = set(np.unique(key).tolist()) | set(range(len(self._thresholds) + 2))
        self._legend.legend = {n: BAND_COLOURS[k] for i, (n, k) in enumerate(
            zip(names, keys, strict=True)) if i in shown}
        self._legend.title = f"{tr['legend']} · {self._cat_label(c)}"
        d = self.plan.diff()
        self.headline.value = self._headline_html(d)
        self.table.value = self._table_html(d)

    def headline_rows(self, diff: PlanDiff | None = None) -> pd.DataFrame:
        """The panel's headline figures: each category's target group, per threshold.

        Parameters
        ----------
        diff
            The plan's diff (made when not given).

        Returns
        -------
        DataFrame
            ``category``, ``threshold_min``, ``before``, ``after``, ``change`` (shares of the
            target group, in [0, 1]).
        """
        d = diff if diff is not None else self.plan.diff()
        h = d.headline
        h = h[h["target_group"].astype(bool)]
        return h[["category", "threshold_min", "before", "after", "change"]].reset_index(
            drop=True)

    def _headline_html(self, d: PlanDiff) -> str:
        tr, c = self._tr, self.category
        rows = self.headline_rows(d)
        mine = rows[(rows["category"] == c) & np.isclose(rows["threshold_min"], self._cov_t)]
        group = _GROUP[self.lang][std.CATEGORIES[c].target_group]
        out = [f'<div class="c15-headline"><b>{html.escape(self._cat_label(c))} · '
               f'{html.escape(tr["headline"].format(t=tlabel(self._cov_t)))}'
               f'({html.escape(group)})</b><br>']
        if len(mine):
            r = mine.iloc[0]
            colour = "#1a9850" if r["change"] > 1e-12 else (
                SELECTED_COLOUR if r["change"] < -1e-12 else "#444")
            out.append(f'<span style="font-size:1.6em">{100 * r["before"]:.1f}% → '
                       f'<b style="color:{colour}">{100 * r["after"]:.1f}%</b></span> '
                       f'({100 * r["change"]:+.1f} pp)')
        cells = d.cells[d.cells["category"] == c] if len(d.cells) else d.cells
        if len(cells):
            gcol = std.CATEGORIES[c].target_group
            new = cells[cells["status"] == "newly_covered"]
            lost = cells[cells["status"] == "newly_uncovered"]
            if len(new):
                out.append("<br>" + html.escape(tr["newly"].format(
                    cells=len(new), people=f"{new[gcol].sum():,.0f}", group=group)))
            if len(lost):
                out.append("<br>" + html.escape(tr["lost"].format(
                    cells=len(lost), people=f"{lost[gcol].sum():,.0f}")))
        out.append("<br>" + html.escape(tr["edits"].format(n=len(self.plan.edits))) + "</div>")
        # every category and threshold, target groups
        head = "".join(f"<th{_TD}>{html.escape(tr['threshold'].format(t=tlabel(t)))}</th>"
                       for t in self._thresholds)
        body = []
        for cat in rows["category"].unique():
            r = rows[rows["category"] == cat].sort_values("threshold_min")
            cells_ = "".join(
                f"<td{_TD}>{100 * b:.1f}% → {100 * a:.1f}%</td>"
                for b, a in zip(r["before"], r["after"], strict=True))
            body.append(f"<tr><td{_TD}>{html.escape(self._cat_label(str(cat)))}</td>{cells_}</tr>")
        out.append('<table class="c15-rates" style="border-collapse:collapse;margin-top:6px">'
                   f"<tr><th{_TD}></th>{head}</tr>{''.join(body)}</table>")
        return "".join(out)

    def community_rows(self, diff: PlanDiff | None = None) -> pd.DataFrame:
        """The panel's community table for the current category, changed communities first.

        Parameters
        ----------
        diff
            The plan's diff (made when not given).

        Returns
        -------
        DataFrame
            ``community_id``, ``community_name``, ``before``, ``after``, ``change`` (target
            group within the coverage threshold), ``target_met_before``/``_after``, and
            ``changed``; changed communities by change (largest first), then the rest by
            coverage (lowest first).
        """
        d = diff if diff is not None else self.plan.diff()
        t = d.communities
        t = t[t["category"] == self.category].copy()
        t["changed"] = np.abs(t["change"].fillna(0.0).to_numpy(float)) > 1e-12
        t["_o"] = np.where(t["changed"], -t["change"].fillna(0.0), t["after"].fillna(2.0))
        t = t.sort_values(["changed", "_o"], ascending=[False, True], kind="stable")
        return t.drop(columns=["_o", "category"]).reset_index(drop=True)

    def _table_html(self, d: PlanDiff) -> str:
        tr = self._tr
        t = self.community_rows(d)

        def pct(v: Any) -> str:
            return tr["empty"] if v is None or not np.isfinite(v) else f"{100 * v:.1f}%"

        def met(v: Any) -> str:
            return tr["empty"] if v is None or pd.isna(v) else (tr["yes"] if v else tr["no"])

        rows = []
        for r in t.head(TABLE_ROWS).itertuples(index=False):
            style = ' style="background:#e6f5d0"' if r.changed and r.change > 0 else (
                ' style="background:#fde0dd"' if r.changed else "")
            ch = f"{100 * r.change:+.1f}" if r.changed else ""
            rows.append(f"<tr{style}><td{_TD}>{html.escape(str(r.community_name))}</td>"
                        f"<td{_TD}>{pct(r.before)}</td><td{_TD}>{pct(r.after)}</td>"
                        f"<td{_TD}>{ch}</td><td{_TD}>{met(r.target_met_after)}</td></tr>")
        more = (f'<div style="color:#666">{html.escape(tr["more"].format(n=len(t) - TABLE_ROWS))}'
                "</div>" if len(t) > TABLE_ROWS else "")
        n_changed = int(t["changed"].sum())
        head = "".join(f"<th{_TD}>{html.escape(tr[k])}</th>"
                       for k in ("community", "before", "after", "change", "met"))
        return (f'<div class="c15-communities"><b>{html.escape(tr["changed"].format(n=n_changed))}'
                '</b><table style="border-collapse:collapse;width:100%;font-size:0.9em">'
                f"<tr>{head}</tr>{''.join(rows)}</table>{more}</div>")

    def cell_colours(self) -> np.ndarray:
        """The colour each cell is drawn in now, read back from the image.

        Returns
        -------
        numpy.ndarray
            ``(n_cells, 3)`` uint8 RGB.
        """
        return self._image.rgb_of_cells(self.png)
