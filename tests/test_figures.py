"""Report figures: raster cells in the shared colours, streets, labels, scale bar, CJK fonts."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import shapely
import shapely.affinity
from helpers import street_case

from care15 import figures
from care15._errors import DataWarning
from care15._palette import BAND_COLOURS
from care15.analysis import analyze
from care15.region import Region
from care15.scenario import Scenario

CJK = re.compile(r"[\u2e80-\u9fff\uff00-\uffef]")


@pytest.fixture(scope="module")
def case():
    net, fac, cells, comms = street_case(with_childcare=True)
    res = analyze(Region(name="test", network=net, facilities=fac, cells=cells,
                         communities=comms), Scenario())
    return res, net


@pytest.fixture(autouse=True)
def _restore_rc():
    """The figures set matplotlib's fonts; give every test the same start."""
    import matplotlib

    with matplotlib.rc_context():
        yield


def _glyph_warnings(record: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in record if "Glyph" in str(w.message)]


def _texts(fig) -> list[str]:
    from matplotlib.text import Text

    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text()]


def _pixel(fig, ax, x: float, y: float) -> tuple[int, int, int]:
    """RGB of the drawn figure at data point (x, y)."""
    fig.canvas.draw()
    img = np.asarray(fig.canvas.buffer_rgba())
    px, py = ax.transData.transform((x, y))
    r, g, b, _ = img[round(img.shape[0] - py), round(px)]
    return int(r), int(g), int(b)


def _rgb(colour: str) -> tuple[int, int, int]:
    from matplotlib.colors import to_rgb

    return tuple(round(255 * c) for c in to_rgb(colour))  # type: ignore[return-value]


def _all_inside(fig) -> list[str]:
    """What is drawn outside the figure (a cut title or legend): ``[]`` when nothing is."""
    fig.canvas.draw()
    bb = fig.get_tightbbox(fig.canvas.get_renderer())  # inches
    w, h = fig.get_size_inches()
    return [f"{k}={v:.2f}" for k, v, ok in (("left", bb.x0, bb.x0 >= -0.01),
                                            ("bottom", bb.y0, bb.y0 >= -0.01),
                                            ("right", bb.x1, bb.x1 <= w + 0.01),
                                            ("top", bb.y1, bb.y1 <= h + 0.01)) if not ok]


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_bar_chart_labels_and_target(case, tmp_path, lang):
    res, _ = case
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fig = figures.coverage_bar_chart(res.communities, "elderly", threshold_min=15,
                                         target=0.9, lang=lang)
        labels = [t.get_text() for t in fig.axes[0].texts if t.get_gid() == "bar_label"]
        # the least covered first, the community without residents last with no 0% bar
        assert labels == (["乙社区  0%", "甲社区  70%", "空社区  无居民"] if lang == "zh"
                          else ["乙社区  0%", "甲社区  70%", "空社区  n/a"])
        assert any(t.startswith(" 目标 90%" if lang == "zh" else " target 90%")
                   for t in _texts(fig))
        assert _all_inside(fig) == []
        p = figures.save_figure(fig, tmp_path / f"bars_{lang}.png")
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _glyph_warnings(rec) == []


def test_bar_chart_shows_the_least_covered(demo_result):
    comms = demo_result.communities
    col = "elderly_cov15_60plus"
    fig = figures.coverage_bar_chart(comms, "elderly", threshold_min=15, target=0.9,
                                     lang="en", max_bars=4)
    ax = fig.axes[0]
    assert len(ax.patches) == 4
    assert "the 4 least covered of 12 communities" in ax.get_title()
    shown = sorted(p.get_width() for p in ax.patches)
    assert shown == pytest.approx(sorted(comms[col].dropna())[:4])
    assert _all_inside(fig) == []


def test_minutes_map_is_a_raster_in_the_shared_colours(case):
    res, net = case
    cells = res.cells
    fig = figures.minutes_map(cells, "elderly", thresholds_min=(5, 10, 15),
                              facilities=res.facilities, lang="en", streets=net)
    ax = fig.axes[0]
    assert [im.get_gid() for im in ax.images] == ["cells"]  # one image, not 20 polygons
    assert not [c for c in ax.collections if c.get_gid() == "cells"]
    # cells at 1.2 km (about 17 min for the elderly at 0.8 m/s from x=0) and at 150 m
    wm = cells["elderly_walk_min"].to_numpy()
    cx = shapely.centroid(cells.geometry.to_numpy())
    checked = set()
    for i in range(len(cells)):
        band = next((str(t) for t in (5, 10, 15) if wm[i] <= t), "beyond")
        # off the street line (y = 0): the pixel shows the cell's colour alone
        assert _pixel(fig, ax, cx[i].x, 85.0) == _rgb(BAND_COLOURS[band]), (i, wm[i])
        checked.add(band)
    assert {"5", "beyond"} <= checked
    streets = [ln for ln in ax.lines if ln.get_gid() == "streets"]
    assert len(streets) == 1 and np.isfinite(streets[0].get_xdata()).sum() >= 8


def test_minutes_map_scale_bar_north_and_facility_labels(case):
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    res, net = case
    for c, name in (("elderly", "养老服务中心"), ("childcare", "托育园")):
        fig = figures.minutes_map(res.cells, c, thresholds_min=(5, 10, 15),
                                  facilities=res.facilities, lang="zh", streets=net)
        ax = fig.axes[0]
        bars = [a for a in ax.artists if isinstance(a, AnchoredSizeBar)]
        assert len(bars) == 1
        assert bars[0].txt_label.get_text() == "200 米"  # at most a fifth of the 2.1 km shown
        assert [t.get_text() for t in ax.texts if t.get_gid() == "facility_label"] == [name]
        assert any(t.get_gid() == "north" and t.get_text() == "北" for t in ax.texts)
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend[:4] == ["≤5 分钟", "5–10 分钟", "10–15 分钟", ">15 分钟"]
        assert "街道" in legend
        assert _all_inside(fig) == []


def test_many_facilities_get_a_readable_subset_of_names(demo_result, demo_region):
    fac = demo_result.facilities
    n = int((fac["category"] == "childcare").sum())
    fig = figures.minutes_map(demo_result.cells, "childcare", thresholds_min=(5, 10, 15),
                              facilities=fac, lang="en", streets=demo_region.network,
                              max_labels=2)
    ax = fig.axes[0]
    labels = [t for t in ax.texts if t.get_gid() == "facility_label"]
    assert 1 <= len(labels) <= 2 < n
    r = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(r) for t in labels]
    assert not any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])
    assert f"of {n} facilities named" in " ".join(_texts(fig))


def test_no_facility_of_the_category_has_its_own_colour(case):
    res, _ = case
    fac = res.facilities[res.facilities["category"] == "elderly"]
    fig = figures.minutes_map(res.cells, "childcare", thresholds_min=(5, 10, 15),
                              facilities=fac, lang="en")
    ax = fig.axes[0]
    assert _pixel(fig, ax, 550.0, 85.0) == _rgb(BAND_COLOURS["no_facility"])
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "no facility of this category in the data" in legend
    assert "unreachable (no walking path)" not in legend


def test_cells_that_are_not_a_grid_are_drawn_as_polygons(case):
    res, _ = case
    cells = res.cells.copy()
    geoms = cells.geometry.to_numpy().copy()
    geoms[3] = shapely.affinity.translate(geoms[3], 37.0, 0.0)  # off the 100 m lattice
    cells = cells.set_geometry(geoms)
    assert figures._grid(geoms) is None
    fig = figures.minutes_map(cells, "elderly", thresholds_min=(5, 10, 15),
                              facilities=res.facilities, lang="en")
    ax = fig.axes[0]
    assert not ax.images
    assert [c.get_gid() for c in ax.collections if c.get_gid() == "cells"] == ["cells"]
    band = "5" if cells["elderly_walk_min"].iloc[0] <= 5 else "10"
    assert _pixel(fig, ax, 50.0, 85.0) == _rgb(BAND_COLOURS[band])


def test_grid_detection_on_population_grid_cells():
    from care15.sources.population import grid_cells

    g = grid_cells((1000.0, 2000.0, 1950.0, 2550.0), 100.0, 32635)
    geoms = g.geometry.to_numpy()
    _, _, extent = figures._grid(geoms[::3])  # gaps between cells are fine
    assert extent == (1000.0, 2000.0, 2000.0, 2600.0)
    assert figures._grid(np.array([shapely.affinity.rotate(geoms[0], 10)])) is None
    assert figures._grid(np.array([*geoms[:2], shapely.box(0, 0, 50, 50)])) is None


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_report_figures_of_the_demo(demo_result, demo_region, tmp_path, lang):
    from care15.region import demo_scenario

    sc = demo_scenario()
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        paths = figures.report_figures(demo_result, sc, tmp_path, lang=lang,
                                       streets=demo_region.network)
    assert sorted(p.name for p in paths) == ["coverage_childcare.png", "coverage_elderly.png",
                                             "minutes_childcare.png", "minutes_elderly.png"]
    assert all(p.stat().st_size > 20_000 for p in paths)
    assert _glyph_warnings(rec) == []


def test_missing_cjk_font_falls_back_to_english_without_boxes(case):
    res, net = case
    import matplotlib

    real = figures.CJK_FONTS
    try:
        figures.CJK_FONTS = ("No Such Font",)
        with pytest.warns(DataWarning, match="Chinese names are shown by their ids"):
            bars = figures.coverage_bar_chart(res.communities, "elderly", threshold_min=15,
                                              target=0.9, lang="zh")
        with pytest.warns(DataWarning):
            fmap = figures.minutes_map(res.cells, "elderly", thresholds_min=(5, 10, 15),
                                       facilities=res.facilities, lang="zh", streets=net)
        assert matplotlib.rcParams["font.sans-serif"] == ["DejaVu Sans"]
        assert "share of residents 60+" in bars.axes[0].get_title()
        texts = _texts(bars) + _texts(fmap)
        assert [t for t in texts if CJK.search(t)] == []  # no name drawn as boxes
        assert "A  70%" in texts and "e1" in texts  # ids instead of the Chinese names
        assert _all_inside(bars) == [] and _all_inside(fmap) == []  # wider Latin font fits
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            bars.canvas.draw()
            fmap.canvas.draw()
        assert _glyph_warnings(rec) == []
    finally:
        figures.CJK_FONTS = real


def test_chinese_labels_without_a_system_font(case, monkeypatch):
    """No CJK font installed on the machine: the wheel's Noto Sans CJK SC draws the labels."""
    from matplotlib import font_manager

    wheel = figures._wheel_cjk_font()
    if wheel is None:
        pytest.skip("mplfonts (a dependency) is not installed")
    fm = font_manager.fontManager
    cjk = ("CJK", "Han", "Hei", "WenQuanYi", "Ming", "Song", "Kai", "Droid Sans Fallback")
    monkeypatch.setattr(fm, "ttflist", [f for f in fm.ttflist
                                        if not any(k in f.name for k in cjk)])
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    fm._findfont_cached.cache_clear()
    try:
        assert figures._setup_fonts("zh") == "zh"  # no fallback to English, no warning
        used = font_manager.findfont(font_manager.FontProperties(family="Noto Sans CJK SC"),
                                     fallback_to_default=False)
        assert used == str(wheel)
        res, net = case
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            fig = figures.minutes_map(res.cells, "elderly", thresholds_min=(5, 10, 15),
                                      facilities=res.facilities, lang="zh", streets=net)
            fig.canvas.draw()
            assert "养老服务中心" in _texts(fig)
        assert _glyph_warnings(rec) == []
        assert not [w for w in rec if issubclass(w.category, DataWarning)]
    finally:
        fm._findfont_cached.cache_clear()
