"""Report figures: PNGs are written, n/a communities have no bar, CJK fallback warns."""

from __future__ import annotations

import pytest
from helpers import street_case

from care15 import figures
from care15._errors import DataWarning
from care15.analysis import analyze
from care15.region import Region
from care15.scenario import Scenario


@pytest.fixture(scope="module")
def result():
    net, fac, cells, comms = street_case(with_childcare=True)
    return analyze(Region(name="test", network=net, facilities=fac, cells=cells,
                          communities=comms), Scenario())


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_bar_chart_and_minutes_map(result, tmp_path, lang):
    try:
        fig = figures.coverage_bar_chart(result.communities, "elderly", threshold_min=15,
                                         target=0.9, lang=lang)
    except DataWarning:
        pytest.skip("no CJK font installed (apt-get install fonts-noto-cjk)")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.texts]
    assert ("无居民" if lang == "zh" else "n/a") in labels  # the empty community: no 0% bar
    assert "70%" in labels and "0%" in labels
    p = figures.save_figure(fig, tmp_path / f"bars_{lang}.png")
    assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig2 = figures.minutes_map(result.cells, "childcare", thresholds_min=(5, 10, 15),
                               facilities=result.facilities, lang=lang)
    p2 = figures.save_figure(fig2, tmp_path / f"minutes_{lang}.png")
    assert p2.stat().st_size > 5000


def test_missing_cjk_font_falls_back_to_english(result, monkeypatch):
    monkeypatch.setattr(figures, "CJK_FONTS", ("No Such Font",))
    with pytest.warns(DataWarning, match="fonts-noto-cjk"):
        fig = figures.coverage_bar_chart(result.communities, "elderly", threshold_min=15,
                                         target=0.9, lang="zh")
    assert "share of residents 60+" in fig.axes[0].get_title()


def test_chinese_labels_without_a_system_font(monkeypatch):
    """No CJK font installed on the machine: the wheel's Noto Sans CJK SC draws the labels."""
    from matplotlib import font_manager

    from care15 import figures

    if figures._wheel_cjk_font() is None:
        pytest.skip("mplfonts (a dependency) is not installed")
    fm = font_manager.fontManager
    monkeypatch.setattr(fm, "ttflist", [f for f in fm.ttflist
                                        if not any(k in f.name for k in ("CJK", "Han", "Hei",
                                                                          "WenQuanYi"))])
    monkeypatch.setattr(font_manager, "findSystemFonts", lambda *a, **k: [])
    assert figures._setup_fonts("zh") == "zh"  # no fallback to English, no warning
    assert any(f.name == "Noto Sans CJK SC" for f in fm.ttflist)
