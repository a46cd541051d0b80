"""The district report: headline against the targets, tables, notes; prints to A4 pages."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import care15
from care15.report import report_html

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def test_report_states_each_target_and_escapes_names(demo_result):
    sc = care15.demo_scenario()
    comm = demo_result.communities.copy()
    comm["community_name"] = "<script>alert(1)</script>${x}"
    res = type(demo_result)(**{**demo_result.__dict__, "communities": comm})
    page = report_html(res, sc, {**demo_result.summary, "study_area": "测试区",
                                 "notes": ["a <b>note</b>"]}, lang="zh")
    assert "<script" not in page and "&lt;script&gt;" in page and "&#36;&#123;x&#125;" in page
    for words in ("一、结论", "60岁以上老人15分钟步行可达率", "每千人托位数", "14th Five-Year Plan",
                  "三、社区覆盖", "四、主要覆盖缺口", "五、数据说明", "六、方法与定义"):
        assert words in page, words
    d = demo_result.summary["categories"]["elderly"]
    assert f"{d['target_share']:.1%}" in page
    if d["target_met"] is False:  # short by how many people: target × 60+ residents − covered
        r = d["thresholds"]["15"]["60plus"]
        need = int(-(-(d["coverage_target"] * r["residents"] - r["covered"]) // 1))
        assert f"差 {need:,} 人" in page
    en = report_html(demo_result, sc, demo_result.summary, lang="en")
    assert "1. Findings" in en and "Residents aged 60+ within 15 min on foot" in en


@pytest.mark.browser
@pytest.mark.skipif(CHROMIUM is None, reason="needs headless Chromium (Debian package "
                    "chromium; .ci/run installs it)")
def test_report_opens_and_prints_to_a4(tmp_path):
    r = care15.run(care15.demo_scenario(), tmp_path / "o",
                   options=care15.RunOptions(maps=False, cache=False))
    page = r.out / "report.html"
    assert "report.html" in r.files and 'src="data:image/png;base64,' in page.read_text(
        encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={tmp_path / 'p'}"]
    pdf = tmp_path / "report.pdf"
    subprocess.run([CHROMIUM, *flags, "--no-pdf-header-footer", f"--print-to-pdf={pdf}",
                    page.as_uri()], capture_output=True, timeout=120)
    data = pdf.read_bytes()
    assert data[:4] == b"%PDF" and len(re.findall(rb"/Type\s*/Page\b", data)) >= 2
    shot = tmp_path / "report.png"
    subprocess.run([CHROMIUM, *flags, "--window-size=1000,1400", f"--screenshot={shot}",
                    page.as_uri()], capture_output=True, timeout=120)
    assert shot.read_bytes()[:4] == b"\x89PNG"
    (ROOT / "maps").mkdir(exist_ok=True)
    shutil.copyfile(shot, ROOT / "maps" / "demo_report.png")  # for a human to look at


def test_report_speaks_one_language_notes_and_capacity_basis(demo_result):
    """Notes in the report's language; capacity "from N of M facilities" as the console says."""
    sc = care15.demo_scenario()
    s = demo_result.summary
    notes = s["notes"]
    assert any("disconnected pieces" in n for n in notes)
    zh = report_html(demo_result, sc, s, lang="zh")
    en = report_html(demo_result, sc, s, lang="en")
    section = zh[zh.index("五、数据说明"):zh.index("六、方法与定义")]
    assert "路网由" in section and "disconnected pieces" not in section
    assert not re.search(r"<li>[^<\u4e00-\u9fff]*[A-Za-z]{3,} [A-Za-z]{3,} [A-Za-z]{3,}",
                         section)  # no English note left in the Chinese report
    assert "disconnected pieces" in en and "路网由" not in en
    d = s["categories"]["elderly"]
    n, m = d["capacity_known_facilities"], d["capacity_counted_facilities"]
    assert (n, m) == (2, 5)  # the demo: 2 of its 5 elderly-care facilities have beds recorded
    assert f"来自研究区内接入路网的 {m} 处设施中 {n} 处有容量记录" in zh
    assert f"from {n} of {m} facilities with a recorded capacity" in en


def test_report_compound_section_with_and_without_gates(tmp_path):
    """The hand-made world of test_gates: two compounds, both with listed gates."""
    from test_gates import _world

    from care15.cli import main

    osm, cfile, gfile, ffile = _world(tmp_path)
    args = ["analyze", "--osm", str(osm), "--facilities", str(ffile), "--compounds", str(cfile),
            "--gates", str(gfile), "--gates-crs", "gcj02", "-q", "--no-cache"]
    assert main([*args, "--out", str(tmp_path / "zh"), "--lang", "zh"]) == 0
    zh = (tmp_path / "zh" / "report.html").read_text(encoding="utf-8")
    for words in ("四、主要覆盖缺口", "五、小区配建与出入口", "六、数据说明", "七、方法与定义",
                  "共 2 个小区;其中 2 个(100.0%)有实测出入口", "出入口清单 2",
                  "有实测出入口的小区封闭", "绕行系数 1.3", "经出入口", "不经出入口",
                  "缺口最大的小区", "甲小区", "乙小区", "配建缺口合计"):
        assert words in zh, words
    assert "五、数据说明" not in zh
    assert zh.index("五、小区配建与出入口") < zh.index("六、数据说明") < zh.index("七、方法与定义")
    import json

    s = json.loads((tmp_path / "zh" / "summary.json").read_text(encoding="utf-8"))
    el = s["compounds"]["elderly"]
    # the table's figures: covered via gates / without, the median minutes and the shortfall
    assert f"{el['covered']} (" in zh and f"{el['median_walk_min']:.1f}" in zh
    assert f"{el['median_walk_min_direct']:.1f}" in zh
    top = el["top_short"]
    assert [r["name"] for r in top][:1] == ["甲小区"]  # 80 m² short: the largest shortfall
    assert top[0]["shortfall"] == pytest.approx(80)
    assert main([*args, "--out", str(tmp_path / "en"), "--lang", "en", "--open-compounds"]) == 0
    en = (tmp_path / "en" / "report.html").read_text(encoding="utf-8")
    for words in ("5. Residential compounds and their gates", "6. About the data",
                  "7. Method and definitions", "2 compounds; 2 (100.0%) have mapped gates",
                  "Compounds are open to through routes", "Via gates", "Without gates"):
        assert words in en, words
