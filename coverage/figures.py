"""Static figures for reports (matplotlib PNG): coverage by community, minutes map."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np

from . import standards as std
from ._errors import DataWarning
from .rates import tlabel

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from .analysis import CoverageResult
    from .scenario import Scenario

__all__ = ["coverage_bar_chart", "minutes_map", "report_figures", "save_figure"]

CJK_FONTS = ("Noto Sans CJK SC", "Noto Sans CJK JP", "Noto Sans SC", "Source Han Sans SC",
             "WenQuanYi Zen Hei", "SimHei", "Microsoft YaHei", "PingFang SC")


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
    if not fonts:
        if lang == "zh":
            warnings.warn("no Chinese (CJK) font found for matplotlib; labels fall back to "
                          "English. Install one, e.g. `apt-get install fonts-noto-cjk`",
                          DataWarning, stacklevel=3)
        return "en"
    matplotlib.rcParams["font.sans-serif"] = [*fonts, "DejaVu Sans"]
    matplotlib.rcParams["font.family"] = "sans-serif"
    matplotlib.rcParams["axes.unicode_minus"] = False
    return lang


def coverage_bar_chart(communities: gpd.GeoDataFrame, category: str, *, threshold_min: float,
                       target: float, lang: str = "zh", max_bars: int = 40) -> Figure:
    """Horizontal bars: share of the target group within ``threshold_min`` per community.

    Communities without residents of the group are listed as "n/a" with no bar, never 0%.

    Parameters
    ----------
    communities
        The community table (:func:`care15.rates.community_table`).
    category
        A key of :data:`care15.standards.CATEGORIES`.
    threshold_min
        The threshold whose coverage column is drawn.
    target
        Coverage target (0-1): bars at or above it are green, a dashed line marks it.
    lang
        ``"zh"`` or ``"en"`` labels (English when no CJK font is installed).
    max_bars
        Most communities shown (the best covered are left out first).

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

    lang = _setup_fonts(lang)
    cat = std.CATEGORIES[category]
    g = {"pop_60plus": "60plus", "pop_0to3": "0to3"}[cat.target_group]
    col = f"{category}_cov{tlabel(threshold_min)}_{g}"
    df = communities[["community_name", col, cat.target_group]].copy()
    df = df.sort_values(col, na_position="first", kind="stable").tail(max_bars)
    h = max(3.0, 0.28 * len(df) + 1.5)
    fig, ax = plt.subplots(figsize=(8, h), dpi=120)
    y = np.arange(len(df))
    vals = df[col].to_numpy(dtype=float)
    colors = np.where(vals >= target, "#1a9850", "#d73027")
    ax.barh(y, np.nan_to_num(vals), color=colors)
    for yi, v in zip(y, vals, strict=True):
        ax.text((0 if np.isnan(v) else v) + 0.01, float(yi),
                ("无居民" if lang == "zh" else "n/a") if np.isnan(v) else f"{v:.0%}",
                va="center", fontsize=8)
    ax.axvline(target, color="black", ls="--", lw=1)
    ax.set_yticks(y, df["community_name"].astype(str))
    ax.set_xlim(0, 1.1)
    ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    label = cat.label_zh if lang == "zh" else cat.label_en
    grp = {"60plus": ("60岁以上居民", "residents 60+"), "0to3": ("3岁以下婴幼儿", "children under 3")}[g]
    if lang == "zh":
        ax.set_title(f"{label}：{tlabel(threshold_min)}分钟步行覆盖率（{grp[0]}），目标 {target:.0%}")
        ax.set_xlabel("覆盖率")
    else:
        ax.set_title(f"{label}: share of {grp[1]} within {tlabel(threshold_min)} min on foot "
                     f"(target {target:.0%})")
        ax.set_xlabel("coverage")
    fig.text(0.99, 0.005, "© OpenStreetMap contributors (ODbL)", ha="right", fontsize=6)
    fig.tight_layout()
    return fig


def minutes_map(cells: gpd.GeoDataFrame, category: str, *, thresholds_min: tuple[float, ...],
                facilities: gpd.GeoDataFrame | None = None, lang: str = "zh") -> Figure:
    """Map of walking minutes to the nearest facility, cells coloured by threshold band.

    Parameters
    ----------
    cells
        Population cells with ``{category}_walk_min`` (:func:`care15.rates.cell_table`).
    category
        A key of :data:`care15.standards.CATEGORIES`.
    thresholds_min
        Band edges in minutes, ascending.
    facilities
        Facilities with ``category`` (any CRS), drawn as triangles.
    lang
        ``"zh"`` or ``"en"`` labels (English when no CJK font is installed).

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

    lang = _setup_fonts(lang)
    cat = std.CATEGORIES[category]
    wm = cells[f"{category}_walk_min"].to_numpy(dtype=float)
    bounds = [0, *thresholds_min, thresholds_min[-1] * 2]
    palette = ["#1a9850", "#91cf60", "#fee08b", "#fc8d59", "#d73027", "#7f0000"]
    cmap = ListedColormap(palette[:len(bounds) - 1]).with_extremes(over="#555555")
    norm = BoundaryNorm(bounds, cmap.N)
    fig, ax = plt.subplots(figsize=(8, 8), dpi=120)
    shown = np.where(np.isfinite(wm), wm, bounds[-1] * 10)
    cells.assign(_m=shown).plot(column="_m", cmap=cmap, norm=norm, ax=ax, linewidth=0)
    if facilities is not None and len(facilities):
        f = facilities.loc[facilities["category"] == category].to_crs(cells.crs)
        f.plot(ax=ax, color="black", markersize=18, marker="^")
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=norm)
    cb = fig.colorbar(sm, ax=ax, shrink=0.6, extend="max")
    cb.set_label("步行分钟" if lang == "zh" else "walking minutes")
    label = cat.label_zh if lang == "zh" else cat.label_en
    ax.set_title(f"{label}：到最近设施的步行时间" if lang == "zh"
                 else f"{label}: walking minutes to the nearest facility")
    ax.set_axis_off()
    fig.text(0.99, 0.005, "© OpenStreetMap contributors (ODbL)", ha="right", fontsize=6)
    fig.tight_layout()
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
            fig.savefig(tmp, format="png")
    finally:
        plt.close(fig)
    return Path(path)


def report_figures(result: CoverageResult, scenario: Scenario, out: str | Path, *,
                   lang: str = "zh") -> list[Path]:
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

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    import matplotlib.pyplot as plt

    out = Path(out)
    paths = []
    for c in scenario.categories:
        if f"{c}_walk_min" not in result.cells.columns:
            continue
        fig = coverage_bar_chart(result.communities, c,
                                 threshold_min=scenario.targets.coverage_threshold_min,
                                 target=scenario.coverage_target(c), lang=lang)
        paths.append(save_figure(fig, out / f"coverage_{c}.png"))
        plt.close(fig)
        fig = minutes_map(result.cells, c, thresholds_min=tuple(scenario.thresholds_min),
                          facilities=result.facilities, lang=lang)
        paths.append(save_figure(fig, out / f"minutes_{c}.png"))
        plt.close(fig)
    return paths
