"""Static figures for reports (matplotlib PNG): coverage by community, minutes map.

The minutes map draws the population cells as one raster image when they form a regular grid
(the usual 100 m cells), so a city of 100,000 cells renders in a fraction of a second; other
cells (community polygons, irregular shapes) are drawn as polygons. Colours come from
:mod:`care15._palette`, the same as the interactive map's.

Chinese labels use a CJK font: an installed one, else Noto Sans CJK SC from the ``mplfonts``
wheel. With neither, labels are English and names that need CJK glyphs are shown by their ids,
so a figure never shows boxes for missing glyphs.
"""

from __future__ import annotations

import functools
import itertools
import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import standards as std
from ._errors import DataWarning
from ._palette import BAND_COLOURS, NO_RESIDENTS, RATE_STEPS, STREET_COLOUR, SUBTYPE_COLOURS
from .rates import tlabel

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .analysis import CoverageResult
    from .network import WalkNetwork
    from .scenario import Scenario

__all__ = ["coverage_bar_chart", "minutes_map", "report_figures", "save_figure"]

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "Source Han Sans SC",
             "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei", "PingFang SC")
#: Largest raster (rows x columns) drawn as an image; bigger grids are drawn as polygons.
MAX_RASTER_PIXELS = 40_000_000
#: Most facility names written on a minutes map (the largest first, never overlapping).
MAX_LABELS = 15
ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"
#: Minutes map: figure size (inches) and the axes' place in it (room for the legend at right).
_MAP_SIZE = (10.6, 8.0)
_MAP_AXES = (0.2 / 10.6, 0.06, 7.0 / 10.6, 0.86)
_DPI = 110
#: Where a facility's name may go: offset (points) from the marker and the text's anchor.
_LABEL_SPOTS = ((4, 3, "left", "bottom"), (-4, 3, "right", "bottom"), (4, -3, "left", "top"),
                (-4, -3, "right", "top"))
_STATES = ("beyond", "unreachable", "no_facility")
_MARKERS = ("o", "^", "s", "D", "v", "P", "X", "*")


def _wheel_cjk_font() -> Path | None:
    """Noto Sans CJK SC from the ``mplfonts`` package's files, without importing it.

    ``import mplfonts`` changes matplotlib's settings; only its font file is used.
    """
    import importlib.util

    spec = importlib.util.find_spec("mplfonts")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        f = Path(folder) / "fonts" / "NotoSansCJKsc-Regular.otf"
        if f.is_file():
            return f
    return None


def _setup_fonts(lang: str) -> str:
    """Use a CJK font (Chinese names appear in both languages).

    Falls back to English labels with a warning when ``lang == "zh"`` and none is installed;
    returns the language the labels can be drawn in.
    """
    import matplotlib
    from matplotlib import font_manager

    def found() -> list[str]:
        names = {f.name for f in font_manager.fontManager.ttflist}
        return [f for f in CJK_FONTS if f in names]

    fonts = found()
    if not fonts:  # installed after matplotlib built its cache: register them now
        for path in font_manager.findSystemFonts():
            low = path.lower()
            if "cjk" in low or "wqy" in low or "sourcehan" in low:
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        fonts = found()
    if not fonts:  # no system font: Noto Sans CJK SC (SIL OFL) from the mplfonts wheel
        wheel = _wheel_cjk_font()
        if wheel is not None:
            font_manager.fontManager.addfont(str(wheel))
            fonts = found()
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["axes.unicode_minus"] = False
    _has_glyph.cache_clear()
    if not fonts:
        matplotlib.rcParams["font.sans-serif"] = ["DejaVu Sans"]
        if lang == "zh":
            warnings.warn("no Chinese (CJK) font found for matplotlib; labels fall back to "
                          "English and Chinese names are shown by their ids. Install one, e.g. "
                          "`pip install mplfonts` or `apt-get install fonts-noto-cjk`",
                          DataWarning, stacklevel=3)
        return "en"
    matplotlib.rcParams["font.sans-serif"] = [*fonts, "DejaVu Sans"]
    return lang


@functools.lru_cache(maxsize=4096)
def _has_glyph(ch: str) -> bool:
    """Whether one of the sans-serif fonts in use draws ``ch``."""
    import matplotlib
    from matplotlib import font_manager

    for family in matplotlib.rcParams["font.sans-serif"]:
        try:
            path = font_manager.findfont(font_manager.FontProperties(family=family),
                                         fallback_to_default=False)
        except ValueError:  # not installed
            continue
        if font_manager.get_font(path).get_char_index(ord(ch)):
            return True
    return False


def _drawable(text: str) -> bool:
    """Whether every character of ``text`` has a glyph in the fonts in use (no boxes)."""
    return all(ch.isspace() or _has_glyph(ch) for ch in text)


def _name_or_id(name: Any, ident: Any, limit: int = 18) -> str:
    """``name`` (shortened to ``limit`` characters) when drawable, else ``ident``."""
    s = "" if name is None or (isinstance(name, float) and math.isnan(name)) else str(name)
    s = s.strip()
    if not s or not _drawable(s):
        return str(ident)
    return s if len(s) <= limit else s[:limit - 1] + "…"


def _text_inches(text: str, size: float) -> float:
    """Rough width of ``text`` at ``size`` points: CJK characters are square, others narrower."""
    return sum(1.0 if ord(ch) >= 0x2E80 else 0.6 for ch in text) * size / 72


def _target_group(category: str) -> str:
    return {"pop_60plus": "60plus", "pop_0to3": "0to3"}[std.CATEGORIES[category].target_group]


def _rate_colour(r: float) -> str:
    if not np.isfinite(r):
        return NO_RESIDENTS
    for hi, col in RATE_STEPS:
        if r < hi:
            return col
    return RATE_STEPS[-1][1]


def coverage_bar_chart(communities: gpd.GeoDataFrame, category: str, *, threshold_min: float,
                       target: float, lang: str = "zh", max_bars: int = 30) -> Figure:
    """Horizontal bars: share of the target group within ``threshold_min`` per community.

    Each bar is labelled with the community's name and share; the least covered community is
    at the top. With more than ``max_bars`` communities only the ``max_bars`` least covered ones
    with residents of the group are drawn, and the title says so. Communities without residents
    of the group are listed as "n/a" with no bar, never 0%.
    Bars take the coverage-rate colours of the interactive map; a labelled dashed line marks
    the target.

    Parameters
    ----------
    communities
        The community table (:func:`care15.rates.community_table`).
    category
        A key of :data:`care15.standards.CATEGORIES`.
    threshold_min
        The threshold whose coverage column is drawn.
    target
        Coverage target (0-1), marked by a dashed line.
    lang
        ``"zh"`` or ``"en"`` labels (English when no CJK font is installed).
    max_bars
        Most communities shown (the least covered are kept).

    Returns
    -------
    matplotlib.figure.Figure
        The chart; close it (or use :func:`save_figure`) when done.

    Warns
    -----
    DataWarning
        When ``lang="zh"`` but no CJK font is installed.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    lang = _setup_fonts(lang)
    zh = lang == "zh"
    cat = std.CATEGORIES[category]
    g = _target_group(category)
    col = f"{category}_cov{tlabel(threshold_min)}_{g}"
    df = pd.DataFrame({
        "name": communities["community_name"].to_numpy(),
        "id": (communities["community_id"] if "community_id" in communities.columns
               else communities.index).to_numpy(),
        "rate": communities[col].to_numpy(dtype=float),
        "people": communities[cat.target_group].to_numpy(dtype=float),
    })
    n_all = len(df)
    if n_all > max_bars:  # the least covered with residents; the larger group first on ties
        df = df[df["rate"].notna()].sort_values(["rate", "people"], ascending=[True, False],
                                                kind="stable").head(max_bars)
    else:  # all, least covered first, communities without residents last
        df = df.sort_values("rate", na_position="last", kind="stable")
    n = len(df)
    vals = df["rate"].to_numpy(dtype=float)
    # one label per bar, name and share: every text costs milliseconds to draw
    ticks = [f"{_name_or_id(a, b, 20)}  "
             + (("无居民" if zh else "n/a") if np.isnan(v) else f"{v:.0%}")
             for a, b, v in zip(df["name"], df["id"], vals, strict=True)]
    # margins in inches, set by hand: a layout engine measures every label twice (slow)
    width, left = 8.0, 0.35 + max([_text_inches(s, 8) for s in ticks] + [0.3])
    top, bottom = 0.95, 0.85
    height = max(3.5, 0.26 * n + top + bottom)
    fig, ax = plt.subplots(figsize=(width, height), dpi=_DPI)
    fig.subplots_adjust(left=left / width, right=1 - 0.25 / width, top=1 - top / height,
                        bottom=bottom / height)
    y = np.arange(n)[::-1]  # the first row at the top
    ax.barh(y, np.nan_to_num(vals), color=[_rate_colour(v) for v in vals], height=0.75)
    ax.axvline(target, color="black", ls="--", lw=1)
    ax.text(target, 1.0, f" {'目标' if zh else 'target'} {target:.0%}", ha="center", va="bottom",
            fontsize=8, transform=ax.get_xaxis_transform())
    ax.set_yticks([])  # labels as plain texts: matplotlib's tick objects are slow to build
    trans = ax.get_yaxis_transform()
    for yi, s in zip(y, ticks, strict=True):
        ax.text(-0.01, float(yi), s, ha="right", va="center", fontsize=8, transform=trans,
                gid="bar_label")
    ax.set_ylim(-0.7, n - 0.3)
    ax.set_xlim(0, 1.02)
    ax.grid(axis="x", color="#dddddd", lw=0.6)
    ax.set_axisbelow(True)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    label = cat.label_zh if zh else cat.label_en
    grp = {"60plus": ("60岁以上居民", "residents 60+"), "0to3": ("3岁以下婴幼儿", "children under 3")}[g]
    t = tlabel(threshold_min)
    if zh:
        title = f"{label}：{t}分钟步行覆盖率（{grp[0]}），目标 {target:.0%}"
        sub = (f"覆盖率最低的 {n} 个社区（共 {n_all} 个；覆盖率相同时目标人群多者在前）" if n < n_all
               else f"全部 {n_all} 个社区，覆盖率最低的在上")
        ax.set_xlabel("覆盖率")
    else:
        title = f"{label}: share of {grp[1]} within {t} min on foot (target {target:.0%})"
        sub = (f"the {n} least covered of {n_all} communities (on equal shares, the larger "
               "group first)" if n < n_all
               else f"all {n_all} communities, least covered at the top")
    if not zh:
        ax.set_xlabel("coverage")
    ax.set_title(f"{title}\n{sub}", fontsize=10, y=1.0, pad=16)  # y given: no auto-placing
    edges = [0.0] + [hi for hi, _ in RATE_STEPS[:-1]]
    names = ([f"<{edges[1]:.0%}"]
             + [f"{a:.0%}–{b:.0%}" for a, b in itertools.pairwise(edges[1:])]
             + [f"≥{edges[-1]:.0%}"])
    handles = [Patch(color=c, label=s) for (_, c), s in zip(RATE_STEPS, names, strict=True)]
    if np.isnan(vals).any():
        handles.append(Patch(color=NO_RESIDENTS, label="无居民" if zh else "no residents"))
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.12 / height),
               ncol=len(handles), fontsize=7, frameon=False)
    fig.text(1 - 0.1 / width, 0.04 / height, ATTRIBUTION, ha="right", va="bottom", fontsize=6)
    return fig


_Extent = tuple[float, float, float, float]


def _grid(geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, _Extent] | None:
    """Row and column of each cell and the image extent, when the cells form a regular grid.

    A grid: axis-aligned squares of one size whose corners fall on one lattice, one cell per
    position. Returns ``None`` otherwise (community polygons, irregular or rotated cells).
    """
    n = len(geoms)
    if n == 0 or shapely.is_empty(geoms).any() or pd.isna(geoms).any():
        return None
    b = shapely.bounds(geoms)
    w, h = b[:, 2] - b[:, 0], b[:, 3] - b[:, 1]
    s = float(np.median(w))
    if not s > 0:
        return None
    tol = 1e-3 * s
    if (np.abs(w - s) > tol).any() or (np.abs(h - s) > tol).any():
        return None
    if (np.abs(shapely.area(geoms) - s * s) > 2e-3 * s * s).any():  # rectangles, not rotated
        return None
    x0, y1 = float(b[:, 0].min()), float(b[:, 3].max())
    fc, fr = (b[:, 0] - x0) / s, (y1 - b[:, 3]) / s
    col, row = np.rint(fc).astype(np.int64), np.rint(fr).astype(np.int64)
    if (np.abs(fc - col) > 1e-3).any() or (np.abs(fr - row) > 1e-3).any():
        return None
    ncol, nrow = int(col.max()) + 1, int(row.max()) + 1
    if ncol * nrow > MAX_RASTER_PIXELS or len(np.unique(row * ncol + col)) != n:
        return None
    return row, col, (x0, x0 + ncol * s, y1 - nrow * s, y1)


def _fit_box(b: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """``b`` padded by 3% and widened to the map axes' shape, so one metre is one metre."""
    x0, y0, x1, y1 = b
    pad = 0.03 * max(x1 - x0, y1 - y0, 1.0)
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    shape = (_MAP_AXES[3] * _MAP_SIZE[1]) / (_MAP_AXES[2] * _MAP_SIZE[0])  # height / width
    w, h = x1 - x0, y1 - y0
    if h / w < shape:
        extra = (w * shape - h) / 2
        y0, y1 = y0 - extra, y1 + extra
    else:
        extra = (h / shape - w) / 2
        x0, x1 = x0 - extra, x1 + extra
    return x0, y0, x1, y1


def _band_colours(thresholds: tuple[float, ...]) -> list[str]:
    """Colours of the threshold bands, then of beyond, unreachable and no facility."""
    from matplotlib.colors import LinearSegmentedColormap, to_hex

    keys = [tlabel(t) for t in thresholds]
    if all(k in BAND_COLOURS for k in keys):
        cols = [BAND_COLOURS[k] for k in keys]
    else:  # other thresholds: the palette's green-to-yellow ramp, evenly spread
        ramp = [v for k, v in BAND_COLOURS.items() if k not in _STATES]
        cm = LinearSegmentedColormap.from_list("bands", ramp)
        cols = [to_hex(cm(i / max(len(keys) - 1, 1))) for i in range(len(keys))]
    return cols + [BAND_COLOURS[s] for s in _STATES]


def _band_codes(minutes: np.ndarray, thresholds: tuple[float, ...], no_facility: bool
                ) -> np.ndarray:
    """Band index per cell: ``i`` within ``thresholds[i]``, then beyond, unreachable, none.

    A cell exactly on a threshold is within it (as in the tables and the interactive map).
    """
    k = len(thresholds)
    if no_facility:
        return np.full(len(minutes), k + 2, dtype=np.int16)
    idx = np.searchsorted(np.asarray(thresholds, dtype=float) + 1e-9, minutes, side="left")
    return np.where(np.isfinite(minutes), idx, k + 1).astype(np.int16)


def _band_names(thresholds: tuple[float, ...], zh: bool) -> list[str]:
    u = " 分钟" if zh else " min"
    t = [tlabel(x) for x in thresholds]
    names = [f"≤{t[0]}{u}"] + [f"{a}–{b}{u}" for a, b in itertools.pairwise(t)]
    names.append(f">{t[-1]}{u}")
    names += (["不可达（无步行路径）", "数据中无此类设施"] if zh
              else ["unreachable (no walking path)", "no facility of this category in the data"])
    return names


def _street_geoms(streets: Any, crs: Any) -> np.ndarray:
    """Street lines in ``crs``: a WalkNetwork's edges or any lines (GeoDataFrame/GeoSeries).

    Lines already in ``crs`` are used as they are; others are read and reprojected by the
    interactive map's :func:`care15.maps._street_lines`.
    """
    from .maps import _street_lines

    if hasattr(streets, "edge_geometry") and streets.crs == crs:  # a WalkNetwork
        return np.asarray(streets.edge_geometry)
    if isinstance(streets, gpd.GeoDataFrame | gpd.GeoSeries) and streets.crs == crs:
        return _single_parts(streets.geometry.to_numpy())
    lines = _street_lines(streets, gcj=False, simplify_m=0.0)
    if len(lines) == 0:
        return np.empty(0, dtype=object)
    return _single_parts(lines.to_crs(crs).geometry.to_numpy())


def _single_parts(geoms: np.ndarray) -> np.ndarray:
    """The parts of multi-part geometries (single ones as they are, without copying)."""
    geoms = np.asarray(geoms)
    if np.isin(shapely.get_type_id(geoms), (4, 5, 6, 7)).any():
        return np.asarray(shapely.get_parts(geoms))
    return geoms


def _draw_streets(ax: Axes, geoms: np.ndarray, box: tuple[float, float, float, float]) -> bool:
    """Thin grey street lines inside ``box`` over the cells; whether any were drawn.

    One path with breaks between the streets: tens of thousands of streets draw in
    milliseconds, where a collection of separate lines takes seconds.
    """
    geoms = geoms[shapely.intersects(geoms, shapely.box(*box))]
    geoms = geoms[shapely.get_type_id(geoms) == 1]  # LineStrings
    if len(geoms) == 0:
        return False
    xy, idx = shapely.get_coordinates(geoms, return_index=True)
    xy = np.insert(xy, np.flatnonzero(np.diff(idx)) + 1, np.nan, axis=0)
    ax.plot(xy[:, 0], xy[:, 1], color=STREET_COLOUR, lw=0.35, alpha=0.7, zorder=2,
            gid="streets", scalex=False, scaley=False)
    return True


def _scale_bar(ax: Axes, width_m: float, zh: bool) -> None:
    """A scale bar (axes in metres) of a round length about a fifth of ``width_m``."""
    from matplotlib.font_manager import FontProperties
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    goal = width_m / 5
    p = 10 ** math.floor(math.log10(goal))
    size = max(m * p for m in (1, 2, 5) if m * p <= goal)
    if size >= 1000:
        label = f"{size / 1000:g} 公里" if zh else f"{size / 1000:g} km"
    else:
        label = f"{size:g} 米" if zh else f"{size:g} m"
    bar = AnchoredSizeBar(ax.transData, size, label, loc="lower left", pad=0.4, borderpad=0.8,
                          sep=3, frameon=True, size_vertical=width_m / 250, color="black",
                          fontproperties=FontProperties(size=8))
    bar.patch.set(alpha=0.8, edgecolor="none")
    bar.set_gid("scalebar")
    bar.set_zorder(6)
    ax.add_artist(bar)


def _north_arrow(ax: Axes, zh: bool) -> None:
    ax.annotate("北" if zh else "N", xy=(0.965, 0.97), xytext=(0.965, 0.885),
                xycoords="axes fraction", ha="center", va="center", fontsize=9, zorder=6,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8},
                arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.2}, gid="north")


def _label_facilities(ax: Axes, fac: gpd.GeoDataFrame, capacity: str, limit: int) -> int:
    """Write facility names, the largest first, skipping any that would overlap; how many."""
    if not len(fac) or limit <= 0:
        return 0
    cap = (pd.to_numeric(fac[capacity], errors="coerce") if capacity in fac.columns
           else pd.Series(np.nan, index=fac.index))
    ids = fac["facility_id"] if "facility_id" in fac.columns else pd.Series(fac.index,
                                                                          index=fac.index)
    names = fac["name"] if "name" in fac.columns else ids
    order = np.lexsort((np.arange(len(fac)), -np.nan_to_num(cap.to_numpy(float), nan=-1.0)))
    fig = ax.figure
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    ax.apply_aspect()
    frame = ax.get_window_extent(renderer)
    placed: list[Any] = []
    xs, ys = fac.geometry.x.to_numpy(), fac.geometry.y.to_numpy()
    for i in order[:2 * limit]:
        text = _name_or_id(names.iloc[i], ids.iloc[i])
        for dx, dy, ha, va in _LABEL_SPOTS:  # right of the marker first, then left, below
            t = ax.annotate(text, (xs[i], ys[i]), xytext=(dx, dy), textcoords="offset points",
                            ha=ha, va=va, fontsize=7, zorder=5, annotation_clip=True,
                            gid="facility_label",
                            bbox={"boxstyle": "square,pad=0.1", "fc": "white", "ec": "none",
                                  "alpha": 0.75})
            bb = t.get_window_extent(renderer).expanded(1.05, 1.15)
            inside = (frame.x0 <= bb.x0 and bb.x1 <= frame.x1 and frame.y0 <= bb.y0
                      and bb.y1 <= frame.y1)
            if inside and not any(bb.overlaps(o) for o in placed):
                placed.append(bb)
                break
            t.remove()
        if len(placed) >= limit:
            break
    return len(placed)


def minutes_map(cells: gpd.GeoDataFrame, category: str, *, thresholds_min: tuple[float, ...],
                facilities: gpd.GeoDataFrame | None = None, lang: str = "zh",
                streets: WalkNetwork | gpd.GeoDataFrame | gpd.GeoSeries | None = None,
                max_labels: int = MAX_LABELS) -> Figure:
    """Map of walking minutes to the nearest facility, cells coloured by threshold band.

    Cells on a regular grid are drawn as one image (fast for any number of cells), others as
    polygons. Colours are the interactive map's (:mod:`care15._palette`): one per threshold
    band, and distinct ones for "beyond the largest threshold", "unreachable" and "no facility
    of this category in the data". Streets are thin grey lines; facilities are markers by type,
    the largest named (as many as fit without overlapping, at most ``max_labels``); a scale bar,
    a north arrow and a legend complete the map.

    Parameters
    ----------
    cells
        Population cells with ``{category}_walk_min`` (:func:`care15.rates.cell_table`), in a
        projected CRS in metres.
    category
        A key of :data:`care15.standards.CATEGORIES`.
    thresholds_min
        Band edges in minutes, ascending.
    facilities
        Facilities with ``category``, ``subtype`` and ``name`` (any CRS). When given and none is
        of ``category``, every cell is shown as "no facility".
    lang
        ``"zh"`` or ``"en"`` labels (English when no CJK font is installed).
    streets
        The walking network (:class:`care15.network.WalkNetwork`) or street lines to draw.
    max_labels
        Most facility names written.

    Returns
    -------
    matplotlib.figure.Figure
        The map; close it (or use :func:`save_figure`) when done.

    Warns
    -----
    DataWarning
        When ``lang="zh"`` but no CJK font is installed.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    from matplotlib.colors import BoundaryNorm, ListedColormap
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    lang = _setup_fonts(lang)
    zh = lang == "zh"
    cat = std.CATEGORIES[category]
    thresholds = tuple(float(t) for t in thresholds_min)
    fac = None
    if facilities is not None:
        fac = facilities.loc[facilities["category"] == category]
        fac = fac[~fac.geometry.is_empty & fac.geometry.notna()].to_crs(cells.crs)
    no_facility = fac is not None and len(fac) == 0
    codes = _band_codes(cells[f"{category}_walk_min"].to_numpy(dtype=float), thresholds,
                        no_facility)
    colours = _band_colours(thresholds)
    cmap = ListedColormap(colours)
    norm = BoundaryNorm(np.arange(len(colours) + 1) - 0.5, cmap.N)

    fig = plt.figure(figsize=_MAP_SIZE, dpi=_DPI)
    ax = fig.add_axes(_MAP_AXES)
    geoms = cells.geometry.to_numpy()
    grid = _grid(geoms)
    if grid is not None:
        row, col, extent = grid
        img = np.full((int(row.max()) + 1, int(col.max()) + 1), -1, dtype=np.int16)
        img[row, col] = codes
        ax.imshow(np.ma.masked_less(img, 0), cmap=cmap, norm=norm, extent=extent,
                  origin="upper", interpolation="nearest", zorder=1, gid="cells")
    elif len(cells):
        gpd.GeoSeries(geoms, crs=cells.crs).plot(ax=ax, color=[colours[c] for c in codes],
                                                 linewidth=0, zorder=1, gid="cells")
    x0, y0, x1, y1 = (cells.total_bounds if len(cells) else (0.0, 0.0, 1.0, 1.0))
    if fac is not None and len(fac):
        fx0, fy0, fx1, fy1 = fac.total_bounds
        x0, y0, x1, y1 = min(x0, fx0), min(y0, fy0), max(x1, fx1), max(y1, fy1)
    box = _fit_box((x0, y0, x1, y1))
    ax.set_xlim(box[0], box[2])
    ax.set_ylim(box[1], box[3])
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    for s in ax.spines.values():
        s.set_color("#bbbbbb")

    used = sorted(set(codes.tolist()))
    names = _band_names(thresholds, zh)
    k = len(thresholds)
    handles: list[Any] = [Patch(color=colours[i], label=names[i])
                          for i in range(len(colours)) if i <= k or i in used]
    if streets is not None and _draw_streets(ax, _street_geoms(streets, cells.crs), box):
        handles.append(Line2D([], [], color=STREET_COLOUR, lw=1, label="街道" if zh else "streets"))
    n_named = 0
    if fac is not None and len(fac):
        from .maps import _sublabel

        order = [s.key for s in cat.subtypes]
        subs = sorted(pd.unique(fac["subtype"]), key=lambda s: (order.index(s) if s in order
                                                               else len(order), str(s)))
        for j, sub in enumerate(subs):
            sel = fac[fac["subtype"] == sub]
            colour = SUBTYPE_COLOURS.get(sub, "#444444")
            marker = _MARKERS[j % len(_MARKERS)]
            ax.scatter(sel.geometry.x, sel.geometry.y, s=34, marker=marker, c=colour,
                       edgecolors="black", linewidths=0.7, zorder=4, gid="facilities")
            lab = _name_or_id(_sublabel(sub, lang), sub, 40)
            handles.append(Line2D([], [], ls="", marker=marker, markerfacecolor=colour,
                                  markeredgecolor="black", markersize=7,
                                  label=f"{lab} ({len(sel)})"))
        n_named = _label_facilities(ax, fac, cat.capacity_column, max_labels)
    if cells.crs is not None and cells.crs.is_projected and \
            cells.crs.axis_info[0].unit_name in ("metre", "meter"):
        _scale_bar(ax, float(np.diff(ax.get_xlim())[0]), zh)
        _north_arrow(ax, zh)

    label = cat.label_zh if zh else cat.label_en
    ax.set_title(f"{label}：到最近设施的步行时间" if zh
                 else f"{label}: walking minutes to the nearest facility", fontsize=12, y=1.0,
                 pad=8)
    leg = ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8,
                    frameon=False, title="步行到最近设施" if zh else "walk to nearest facility",
                    title_fontsize=9, alignment="left")
    leg.set_gid("legend")
    notes = []
    if fac is not None and len(fac) > n_named:
        capword = {"beds": ("床位", "beds"), "places": ("托位", "places")}.get(
            cat.capacity_column, (cat.capacity_column, cat.capacity_column))
        notes.append(f"标注了 {n_named}/{len(fac)} 处设施名称（容量大者优先，避免重叠）" if zh
                     else f"{n_named} of {len(fac)} facilities named (most {capword[1]} first, "
                          "no overlaps)")
    notes.append(ATTRIBUTION)
    ax.text(0.0, -0.01, "\n".join(notes), transform=ax.transAxes, ha="left", va="top",
            fontsize=7, color="#444444")
    return fig


def save_figure(fig: Figure, path: str | Path) -> Path:
    """Save a matplotlib figure as PNG atomically and close it.

    Parameters
    ----------
    fig
        The figure.
    path
        The PNG file.

    Returns
    -------
    Path
        ``path``.
    """
    import matplotlib.pyplot as plt

    from ._files import atomic_path

    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, format="png", facecolor="white", pil_kwargs={"compress_level": 3})
    finally:
        plt.close(fig)
    return Path(path)


def report_figures(result: CoverageResult, scenario: Scenario, out: str | Path, *,
                   lang: str = "zh",
                   streets: WalkNetwork | gpd.GeoDataFrame | gpd.GeoSeries | None = None
                   ) -> list[Path]:
    """Write the report PNGs of an analysis into ``out``.

    Per category: the community bar chart against the coverage target
    (``coverage_<category>.png``) and the walking-minutes map (``minutes_<category>.png``).

    Parameters
    ----------
    result
        The analysis result.
    scenario
        The scenario of the analysis (categories, threshold, targets).
    out
        The folder (it must exist).
    lang
        ``"zh"`` or ``"en"`` labels.
    streets
        The walking network (``region.network``) or street lines, drawn on the maps.

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    out = Path(out)
    paths = []
    lines = None
    if streets is not None:  # once for every category's map
        lines = gpd.GeoSeries(_street_geoms(streets, result.cells.crs), crs=result.cells.crs)
    for c in scenario.categories:
        if f"{c}_walk_min" not in result.cells.columns:
            continue
        fig = coverage_bar_chart(result.communities, c,
                                 threshold_min=scenario.targets.coverage_threshold_min,
                                 target=scenario.coverage_target(c), lang=lang)
        paths.append(save_figure(fig, out / f"coverage_{c}.png"))
        fig = minutes_map(result.cells, c, thresholds_min=tuple(scenario.thresholds_min),
                          facilities=result.facilities, lang=lang, streets=lines)
        paths.append(save_figure(fig, out / f"minutes_{c}.png"))
    return paths
