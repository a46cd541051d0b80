"""Notes about the data in Chinese: every note care15 emits has a translation (care15._notes).

The notes stay English in ``summary.json`` (``notes``) and come in Chinese in ``notes_zh``, in
the ``--lang zh`` console and in the Chinese report. The end-to-end tests collect the notes of
real runs (the Helsinki demo, Chinese extracts of ../shared/data, facility lists with bad rows)
and fail on any note the table does not know; the unit tests pin one example per pattern.
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import shared_file

import care15
from care15._notes import _COMPILED, notes_in, translate, translate_or_none
from care15.pipeline import RunOptions, data_warnings_as_notes

CJK = re.compile(r"[\u4e00-\u9fff]")
FAST = RunOptions(maps=False, figures=False, report=True, cache=True)


def _untranslated(notes: list[str]) -> list[str]:
    return [n for n in notes if translate_or_none(n) is None]


def _numbers(s: str) -> list[str]:
    """The numbers of a text (digits with their separators), to compare EN and ZH."""
    s = s.replace("(0–3)", "")  # part of the category label "Childcare (0–3)", 托育服务 in Chinese
    return re.findall(r"\d[\d,.]*\d|\d", s)


def _check_pair(en: str, zh: str) -> None:
    assert CJK.search(zh), zh
    # every number of the English note is kept (none lost or mistyped by a template)
    missing = [n for n in _numbers(en) if n not in zh]
    assert not missing, (missing, en, zh)


# --------------------------------------------------------------------------------------------
# end to end: the notes real runs emit
# --------------------------------------------------------------------------------------------


def test_every_demo_note_is_translated(tmp_path):
    r = care15.run(care15.demo_scenario(), tmp_path / "demo", options=FAST)
    notes = r.summary["notes"]
    assert len(notes) >= 4
    assert _untranslated(notes) == []
    assert r.summary["notes_zh"] == notes_in(notes, "zh")
    for en, zh in zip(notes, r.summary["notes_zh"], strict=True):
        _check_pair(en, zh)
    # the Chinese report shows the Chinese notes, the English report the English ones
    zh_page = care15.report.report_html(r.result, care15.demo_scenario(), r.summary, lang="zh")
    en_page = care15.report.report_html(r.result, care15.demo_scenario(), r.summary, lang="en")
    assert "路网由" in zh_page and "disconnected pieces" not in zh_page
    assert "disconnected pieces" in en_page and "路网由" not in en_page


@pytest.mark.parametrize("extract,population", [
    ("cn_nanjing_xinjiekou_2021.osm", 150_000),  # XML, no <bounds>, OSM facilities
    ("cn_jiangxi_yingtan_2025.osm.pbf", 60_000),  # no facility mapped: "No … facility" notes
])
def test_every_note_of_a_real_extract_is_translated(tmp_path, extract, population):
    path = shared_file("osm", "cn", extract)
    key = "pbf" if extract.endswith(".pbf") else "osm"
    sc = care15.Scenario().with_(**{f"area__{key}": path, "area__name": path.stem,
                                    "inputs__total_population": population})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the collected notes are what this test checks
        r = care15.run(sc, tmp_path / "out", options=FAST)
    notes = r.summary["notes"]
    assert notes and _untranslated(notes) == []
    for en, zh in zip(notes, r.summary["notes_zh"], strict=True):
        _check_pair(en, zh)


def _gcj_list(net, path: Path, n: int = 12, seed: int = 7) -> None:
    """A planner's list: real street nodes in GCJ-02, Chinese columns, capacities."""
    rng = np.random.default_rng(seed)
    nodes = net.nodes_gdf().to_crs(4326)
    main = np.flatnonzero(np.asarray(net.component) == 0)
    pick = rng.choice(main, n, replace=False)
    lon, lat = care15.chinacoords.from_wgs84(nodes.geometry.x.to_numpy()[pick],
                                             nodes.geometry.y.to_numpy()[pick], "gcj02")
    kinds = ["养老院", "托育机构", "日间照料中心", "幼儿园"]
    k = [kinds[i % len(kinds)] for i in range(n)]
    pd.DataFrame({"机构名称": [f"{t}{i + 1}号" for i, t in enumerate(k)], "类型": k,
                  "经度": np.round(lon, 6), "纬度": np.round(lat, 6),
                  "床位": [60 if t == "养老院" else "" for t in k],
                  "托位": [40 if t in ("托育机构", "幼儿园") else "" for t in k]}).to_csv(
        path, index=False, encoding="utf-8-sig")


def test_data_warnings_of_a_messy_list_are_translated(tmp_path):
    """Bad rows, duplicates, capacities that are not numbers, a list in the wrong datum."""
    from care15.cache import cached_network
    from care15.sources.facilities import check_datum_offset, facilities_from_file

    path = shared_file("osm", "cn", "cn_nanjing_xinjiekou_2021.osm")
    net = cached_network(path)
    good = tmp_path / "good.csv"
    _gcj_list(net, good)
    df = pd.read_csv(good, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    df.loc[1, "经度"] = ""  # no coordinate
    df.loc[2, "纬度"] = "abc"
    df.loc[0, "床位"] = "很多"  # not a number
    df.loc[4, "床位"] = "-5"  # negative
    df = pd.concat([df, df.iloc[[3]]], ignore_index=True)  # a duplicate row
    messy = tmp_path / "清单.csv"
    df.to_csv(messy, index=False, encoding="utf-8-sig")
    with data_warnings_as_notes() as notes:
        fac = facilities_from_file(messy, coords="wgs84")  # declared wrong: it is GCJ-02
        check_datum_offset(fac, net, declared="wgs84")
    kinds = {"no usable coordinate": 0, "not numbers": 0, "negative": 0, "duplicate": 0,
             "fit the streets better read as gcj02": 0}
    for n in notes:
        for k in kinds:
            kinds[k] += k in n
    assert all(kinds.values()), (kinds, notes)
    assert _untranslated(notes) == []
    for en in notes:
        _check_pair(en, translate(en))


def test_community_warnings_are_translated(tmp_path):
    import geopandas as gpd
    import shapely

    bow = shapely.Polygon([(0, 0), (1, 1), (1, 0), (0, 1)])  # self-intersecting
    g = gpd.GeoDataFrame({"name": ["甲", "乙", "丙", "丁"]},
                         geometry=[shapely.box(0, 0, 1, 1), bow, None, shapely.Point(3, 3)],
                         crs=4326)
    f = tmp_path / "社区.geojson"
    g.to_file(f, driver="GeoJSON")
    with data_warnings_as_notes() as notes:
        care15.communities.communities_from_file(f)
    assert len(notes) == 3, notes
    assert _untranslated(notes) == []


# --------------------------------------------------------------------------------------------
# one example per pattern family (as the code writes them)
# --------------------------------------------------------------------------------------------

EXAMPLES = [
    # region
    ("Street network: 5,863 nodes, 6,873 edges, 89.9 km (Helsinki.osm.pbf).", "路网: 5,863 个节点"),
    ("Street network: 1,596 nodes, 1,756 edges, 86.6 km (a.osm; parsed earlier, read from the "
     "cache).", "读取自缓存"),
    ("Communities: the OSM administrative areas leave 788,826 residents (39%) outside; they are "
     "reported in 208 grid districts of 1000 m (the parts no OSM area covers).", "788,826 名居民"),
    ("3 rows of 设施.csv had no usable coordinate and were left out: rows [2, 5, 9]",
     "设施.csv 中有 3 行没有可用坐标"),
    ("Facilities from OSM tags and names: 14 found.", "共找到 14 处"),
    ("Communities: 78 OSM administrative areas.", "78 个 OSM 行政区"),
    ("Communities: no boundaries given or mapped; using a regular grid of 12 districts of 500 m.",
     "12 个 500 米规则网格片区"),
    ("Communities: none given; using a regular grid of 9 1 km districts.", "9 个 1 公里"),
    ("2 pairs of communities in c.geojson overlap; 1,200 residents (3.5%) live where two or more "
     "overlap and are counted in the first one only.", "2 对社区相互重叠"),
    ("300 residents (0.8%) live outside every community of c.geojson; the community table lists "
     "them in a row of their own, '(outside communities / 社区范围外)'.", "不在 c.geojson 的任何社区内"),
    # analysis / tiling
    ("1 population cells (15 residents) are more than 250 m from any walkable street a pedestrian "
     "can enter (tunnels and indoor ways do not count); they are not attached across rivers or "
     "blocks and count as not covered.", "计为未覆盖"),
    ("The street network has 47 disconnected pieces; the largest holds 5,673 of 5,863 nodes and "
     "100.0% of residents.", "47 个互不连通"),
    ("2 facilities are more than 250 m from any walkable street and are left out: 甲, 乙",
     "2 处设施距任何步行道路超过 250 米"),
    ("No childcare (0–3) facility (托育服务) in the data: every resident is a gap (0% coverage).",
     "数据中没有托育服务设施"),
    ("None of the 3 elderly care facilities is within 250 m of a street: every resident is a "
     "gap.", "3 处养老服务设施"),
    ("All elderly care facilities sit on small network pieces [3, 5] that are not connected to "
     "the main street network: most residents cannot reach them.", "所有养老服务设施"),
    ("childcare: the 15-minute circle (810 m at 0.9 m/s) already reaches every street the "
     "facilities connect to; the threshold is beyond the network's extent, so facilities outside "
     "the extract are not seen and edge areas may be under-covered.", "托育服务: 15 分钟步行圈"),
    ("23 communities have no residents in the population data; their rates are undefined (shown "
     "as n/a): 网格 A1 / Grid A1, 网格 A2 / Grid A2…", "23 个社区"),
    ("Analysed in 4 tiles of 3.0 km with a 1215 m halo: walking times up to 15 minutes are exact; "
     "longer ones are not computed (shown as blank, band '>15').", "分 4 块分析"),
    # network entry notes
    ("4 population cells (1,644 residents) and 2 facilities joined the nearest street a "
     "pedestrian can enter instead of a nearer way: 3 population cells and 2 facilities next to "
     "a tunnel, covered or indoor way; 1 population cell next to a bridge or other level (an "
     "at-grade street within 50 m more).", "邻近桥梁或其他层面的道路"),
    ("5 population cells (517 residents) and 1 facility could only be joined to small "
     "disconnected street pieces (fewer than 40 junctions, no larger piece within 250 m); they "
     "reach and are reached only within their piece, so check the street data there: 甲 (piece "
     "3).", "甲(第 3 片)"),
    # population
    ("Implausible density: the densest cell holds 4,000 residents (2,500 per ha), above the "
     "1,500 per ha that care15 takes as the densest plausible housing; check the population "
     "layer (units, double counting, points carrying a whole district).", "人口密度不合理"),
    ("Overcrowded estimate: every cell holds 1.35 times what its housing can hold (at 40 m² per "
     "person and at most 1,500 per ha). The total of 250,000 is more than the housing OSM maps "
     "here can hold (185,000) by 65,000 residents; check the total and the study area, or pass "
     "a population layer (--population).", "估算过于拥挤"),
    ("Implausible density: the densest cell holds 4,000 residents (2,500 per ha), above the "
     "ceiling of 1,500 per ha. The total of 250,000 is more than the housing OSM maps here can "
     "hold (185,000) by 65,000 residents; check the total and the study area, or pass a "
     "population layer (--population).", "超过上限每公顷 1,500 人"),
    ("Densest cell: 829 residents (829 per ha).", "最密网格: 829 人"),
    # ... and the first sentences of the last two on their own (translated as parts of them)
    ("Implausible density: the densest cell holds 4,000 residents (2,500 per ha), above the "
     "ceiling of 1,500 per ha.", "超过上限"),
    ("Overcrowded estimate: every cell holds 1.35 times what its housing can hold (at 40 m² per "
     "person and at most 1,500 per ha).", "1.35 倍"),
    # data warnings
    ("f.csv: column '床位' rows [1] are not numbers and are read as unknown", "不是数字"),
    ("f.csv: column '床位' rows [5] are negative and are read as unknown", "为负数"),
    ("f.csv: rows [2, 3] have no usable coordinate ('经度'/'纬度' empty, not a number or out of "
     "range) and are left out; fix them to include those facilities", "第 2, 3 行没有可用坐标"),
    ("f.csv: 1 duplicate facility rows (same name and category within 5 m of an earlier row) "
     "are left out: [13]", "1 行重复设施"),
    ("f.csv: the facilities fit the streets better read as gcj02 than as declared (wgs84): median "
     "distance to the nearest street 212 m as declared, 9 m as gcj02; as declared they sit like "
     "random places (street structure 0.08, p = 0.31), as gcj02 they do not (0.62, p = 1e-09). "
     "The list was probably exported from a Chinese web map. Declare its coordinate system: "
     "--facilities-crs gcj02 on the command line, coords='gcj02' in Python.", "--facilities-crs gcj02"),
    ("c.geojson: features [3] have no geometry and are left out", "没有几何形状"),
    ("c.geojson: features [2] have invalid polygons (self-intersections?), repaired with "
     "make_valid", "已用 make_valid 修复"),
    ("c.geojson: features [4] are not polygons and are left out", "不是多边形"),
    ("p.tif: 12 pixels are NaN without a declared nodata value; read as no population",
     "12 个像元"),
    ("p.gpkg: column 'pop' has no number in rows [4]; those rows count as 0 residents", "按 0 人计"),
    ("p.gpkg: rows [7] have no geometry; their 120 residents cannot be placed", "120 名居民无法落位"),
    ("p.gpkg: rows [8] have invalid geometries, repaired with make_valid", "几何形状无效"),
    ("k.csv: rows [3] have no usable coordinate and are left out; fix columns 'lon'/'lat'",
     "请修正列 'lon'/'lat'"),
    ("candidates dropped: 2 far from network, 1 on water", "距道路过远 2 处, 位于水面 1 处"),
    ("basemap 'tianditu' needs a Tianditu (天地图) key (--tianditu-key, free at "
     "console.tianditu.gov.cn); falling back to OpenStreetMap", "改用 OpenStreetMap 底图"),
    ("no Chinese (CJK) font found for matplotlib; labels fall back to English. Install one, e.g. "
     "`apt-get install fonts-noto-cjk`", "找不到中文字体"),
    # log messages
    ("a.osm.pbf: 284 of 7158 ways are not walkable (foot 205, access 77)", "7158 条道路(way)中 284 条"),
    ("a.osm.pbf: street network read from the cache (0.16 s)", "路网读取自缓存(0.16 秒)"),
    ("a.osm.pbf: ['building'] read from the cache (0.01 s)", "读取自缓存(0.01 秒)"),
    ("a.osm.pbf: dropped 1 repeated edges (same ends and length)", "删去 1 条重复路段"),
    ("a.osm.pbf: dropped 3 edges with no usable LineString geometry", "删去 3 条"),
    ("成都: done already (inputs unchanged), skipped", "成都: 输入未变"),
    ("region 成都 failed: boom", "区域 成都 失败: boom"),
    ("cells has 60000 rows; left out of tables.xlsx (see cells.csv)", "未写入 tables.xlsx"),
    ("candidates left out: {'far_from_network': 2, 'on_water': 0, 'duplicate': 1}",
     "距道路过远 2 处, 位于水面 0 处, 重复 1 处"),
    ("asked for 9 sites but only 4 candidates; suggesting at most 4", "至多建议 4 个"),
    ("care15 cache: could not store the network of a.osm (disk full)", "care15 缓存:"),
    ("a.osm.pbf: 4 tiles of 3000 m (halo 1215 m)", "分 4 块"),
    ("tiles cannot be smaller than the 1215 m halo: using 2×2 tiles of 1215 m holding up to "
     "900 nodes and 800 cells (limits 500, 500)", "分块不能小于 1215 米外扩"),
    # progress labels and timings
    ("reading the street network", "读取路网"),
    ("reading facilities", "读取设施"),
    ("building the population grid", "生成人口网格"),
    ("reading communities", "读取社区"),
    ("snapping cells and facilities to the network", "接入路网"),
    ("elderly: network travel times", "养老服务: 路网步行时间"),
    ("childcare: isochrones", "托育服务: 等时圈"),
    ("elderly: capacity-aware access (E2SFCA)", "考虑容量的可达性"),
    ("community tables", "社区统计表"),
    ("gaps and their closing sites", "缺口片区及补缺选点"),
    ("reading compounds", "读取小区"),
    ("reach", "可达范围"),
    ("tiles", "分块"),
    ("regions", "区域"),
    ("suggesting sites", "选址"),
    ("reading the street network took 0.12 s", "读取路网 用时 0.12 秒"),
    # residential compounds (小区) and their gates
    ("Compounds from OSM: 1643 residential areas (1182 named); households estimated from "
     "residential floor area ÷ 36.52 m² per resident ÷ 2.62 persons per household (25 capped at "
     "1,500 residents per ha).", "1643 个居住用地(1182 个有名称)"),
    ("Compounds from 小区.xlsx: 12 (2 rows without geometry left out); 1 without households.",
     "2 行无坐标"),
    ("Compounds: 3 pairs overlap.", "3 对相互重叠"),
    ("Compound gates: 6139 gates; 13 of 1643 compounds (1%) have mapped gates (OSM "
     "gates/entrances), 275 use the street crossings of their outline, 1349 the nearest streets, "
     "6 none; residents walk to a gate (straight line × detour factor) and on over the streets; "
     "compounds with mapped gates are closed to through routes.", "不作为他人穿行通道"),
    ("1349 compounds have no mapped gate and no street crossing their outline; their residents "
     "are taken to leave by the outline points nearest a street (nearest_street): 新新怡园 "
     "(way/239315168), way/2 and 1347 more. Map their gates (barrier=gate) or give a gate file "
     "to replace this guess.", "新新怡园 (way/239315168)、way/2 等另外 1347 个"),
    ("6 compounds have no street within 100 m of their outline and no gate: 哈南福地 "
     "(way/674141167); their residents are joined to the nearest street directly.",
     "边界 100 米内无道路"),
    ("2 OSM gate or entrance nodes lie more than 100 m from any walkable street and are left out "
     "(nodes [101, 102]).", "未采用(节点 [101, 102])"),
    ("Population from 1642 compounds: 3,496,728 residents (households × household size where no "
     "residents column), placed on their residential buildings or area; residents outside "
     "compounds are not counted; 1642 compounds' households are estimates.",
     "1642 个小区的户数为估算"),
    ("小区.csv: build year of rows [2, 5] is not a year (e.g. '九十年代') and is read as unknown",
     "按未知处理"),
    ("小区.csv: build year of rows [3] lies in the future or before 1900 (e.g. 3024) and is read "
     "as unknown", "晚于今年或早于1900年"),
    ("小区.csv: rows [4] give neither households (户数) nor residents; their norms are reported "
     "as unknown and they add no residents", "既无户数(户数)也无人口"),
    ("finding compound gates", "识别小区出入口"),
]


@pytest.mark.parametrize("en,expect", EXAMPLES, ids=[e[:40] for e, _ in EXAMPLES])
def test_pattern_family(en, expect):
    zh = translate_or_none(en)
    assert zh is not None, en
    assert expect in zh, zh
    _check_pair(en, zh)
    assert translate(en, "en") == en  # English stays as written


def test_every_pattern_has_an_example():
    used = set()
    for en, _ in EXAMPLES:
        for i, (pat, _fill) in enumerate(_COMPILED):
            if pat.fullmatch(en.strip()):
                used.add(i)
                break
    unused = [p.pattern[:60] for i, (p, _) in enumerate(_COMPILED) if i not in used]
    assert unused == []


def test_unknown_text_is_kept_and_flagged():
    s = "a sentence care15 never writes"
    assert translate_or_none(s) is None
    assert translate(s, "zh") == s
    assert notes_in([s, "Communities: 3 OSM administrative areas."], "zh") == [
        s, "社区: 3 个 OSM 行政区。"]
