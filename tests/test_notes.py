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
import care15._notes
from care15._notes import _COMPILED, error_text, notes_in, translate, translate_or_none
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
    ("cells has 15106 rows; left out of tables.xlsx and GeoJSON (see cells.csv and "
     "cells.parquet)", "未写入 tables.xlsx 和 GeoJSON"),
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
    ("elderly: overlay shares", "养老服务: 等时圈叠加面积比例"),
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


# the user errors (InputError/ScenarioError and argparse messages), as the code writes them;
# a line "<file or key>: <problem>" keeps the key and translates the problem
ERROR_EXAMPLES = [
    # heads of multi-line errors
    ("cannot start:", "无法开始"),
    ("invalid options:", "选项有误"),
    ("cannot analyse:", "无法分析"),
    ("invalid scenario:", "场景有误"),
    ("invalid regions file r.toml:", "区域文件 r.toml 有误"),
    ("invalid region 3 ('a'): no street network: set [region.area] pbf, osm, place or bbox, or "
     "[region.layers] network", "区域 3 ('a') 有误: 没有路网"),
    # files
    ("a.csv: facility file not found", "a.csv: 找不到设施清单文件"),
    ("regions file not found: r.toml", "找不到区域文件: r.toml"),
    ("layers.cells: is a folder, not a file: d/", "是文件夹而不是文件"),
    ("a.osm.pbf: file not found; give the path of an OSM extract (.osm.pbf, .osm, .osm.bz2)",
     "找不到文件; 请给出 OSM 数据文件的路径"),
    ("a.osm.pbf: the file is empty; download the extract again", "文件为空"),
    ("f.csv: the file is empty; export the list again with a header row and one row per "
     "facility", "请重新导出清单"),
    ("f.csv: the file has no data rows", "文件没有数据行"),
    ("c.geojson: the community layer is empty", "社区图层为空"),
    ("c.geojson: no polygon features", "没有多边形要素"),
    ("f.geojson: the layer has no CRS; save it with its coordinate system (GeoJSON is "
     "EPSG:4326 by definition)", "GeoJSON 按定义为 EPSG:4326"),
    ("edges: the edge layer has no CRS", "道路图层没有坐标系"),
    ("layers.cells: c.parquet has no CRS; save it with one (e.g. EPSG:4326)", "没有坐标系"),
    ("population cells: no CRS; set it with .set_crs(...)", "人口网格: 没有坐标系"),
    ("layer has no CRS; set it with .set_crs('EPSG:4326') (or the CRS it was made in) before "
     "joining it to the network", "接入路网前"),
    ("f.csv: could not read the CSV (ParserError: bad line 3)", "无法读取 CSV 文件"),
    ("layers.cells: cannot read c.txt as a GIS layer (DataSourceError: no driver)",
     "无法把 c.txt 读作 GIS 图层"),
    ("a.osm: cannot read the file (Permission denied)", "无法读取文件"),
    ("f.csv: the CSV is neither UTF-8 nor GB18030/GBK; save it as UTF-8", "另存为 UTF-8"),
    ("f.doc: unsupported file type '.doc'; use CSV, XLSX, GeoJSON, GeoPackage or GeoParquet",
     "不支持的文件类型 '.doc'"),
    ("f.csv: coordinate system 'utm' is not one of ('wgs84', 'gcj02', 'bd09')", "坐标系 'utm'"),
    ("category 'school' is not one of ['elderly', 'childcare']", "类别 'school'"),
    ("--basemap: 'google' is not one of 'osm', 'tianditu', 'amap', 'none'",
     "'google' 不是 'osm', 'tianditu', 'amap', 'none' 之一"),
    ("f.csv: no longitude/latitude columns (looked for lon/lng/long/longitude/x, 经度 and "
     "lat/latitude/y/纬度, 纬度); columns are ['名称', '地址']", "找不到经度/纬度列"),
    ("f.csv: longitude and latitude look swapped (values in '纬度' exceed 90°, e.g. row 2); swap "
     "the columns '经度' and '纬度'", "经度和纬度似乎填反了"),
    ("f.csv: name column '名字' not found; columns are ['名称']", "名称列 '名字' 不存在"),
    ("f.csv: rows [2, 5] have a type or name that names no known facility kind (column '类型'); "
     "use a sub-type such as 养老院, 日间照料中心, or pass category='elderly'/'childcare'",
     "第 2, 5 行的类型或名称不是已知的设施种类"),
    ("f.csv (--facilities): no usable facility row (3 rows without a usable coordinate or "
     "category); fix the list, or pass --allow-empty to analyse a district with no facility",
     "没有可用的设施行(3 行"),
    ("f.csv (--facilities): no usable facility row (the list is empty); fix the list, or pass "
     "--allow-empty to analyse a district with no facility", "清单为空"),
    ("no facility list and no OSM file to look for facilities in; set inputs.facilities "
     "(--facilities FILE)", "没有设施清单"),
    ("c.geojson: coordinates reach x 500,000…510,000, y 3,400,000…3,410,000 but the layer says "
     "they are degrees (WGS 84); they look like metres of a projected system (a GeoJSON without "
     "a CRS is read as WGS-84). Save the file with its real CRS, e.g. EPSG:4547 (CGCS2000 / "
     "3-degree Gauss-Kruger 114°E)", "例如 EPSG:4547"),
    ("k.geojson: --compounds-crs gcj02 applies to lon/lat degrees, but the layer is in "
     "EPSG:4547", "只适用于经纬度"),
    ("k.csv: no row has a usable geometry; check the coordinate columns", "没有一行有可用的几何形状"),
    ("c.geojson: no community name column (looked for community_name, name, 名称 …); columns "
     "are ['foo']; name it with --community-name-column (name_column= in Python)",
     "找不到社区名称列"),
    ("c.geojson (--communities): none of its 12 communities covers any populated cell of the "
     "study area; check that it is the same district and that its coordinate system is declared "
     "right (a GCJ-02 or metre layer read as WGS-84?)", "其 12 个社区都不覆盖"),
    # compound gates
    ("g.csv: gate file not found", "找不到出入口文件"),
    ("g.csv: the gate file has no data rows", "出入口文件没有数据行"),
    ("g.csv: rows [2, 3] name a compound that is not unique (['幸福里']); give compound_id "
     "instead", "第 2, 3 行所指的小区名称不唯一"),
    ("g.csv: no compound column (looked for compound_id, 小区编号 or name, 小区名称); columns "
     "are ['x']", "找不到小区列"),
    ("g.csv: rows [4] name a compound id that is not among the compounds ('K9'); check the "
     "compound id column '小区编号'", "第 4 行的小区编号不在小区表中"),
    ("g.csv: no longitude/latitude columns (经度/纬度, lon/lat); columns are ['x']",
     "找不到经度/纬度列"),
    ("g.csv: rows [5] have no usable coordinate", "第 5 行没有可用坐标"),
    ("g.csv: rows [1, 2] lie more than 150 m from the outline of their compound (read as wgs84); "
     "read as gcj02 most of them lie on their compound's outline: pass coords='gcj02'",
     "请指定 coords='gcj02'"),
    ("g.csv: rows [1] lie more than 150 m from the outline of their compound (read as wgs84); "
     "check the coordinates and the compound column", "请检查坐标和小区列"),
    ("g.csv: rows [3] are gates more than 60 m from any walkable street; move them to the "
     "street they open onto", "第 3 行的出入口距任何步行道路超过 60 米"),
    ("n_workers must be at least 1, got 0", "n_workers 至少为 1"),
    ("compounds: no 'compound_id' column; columns are ['name']", "没有 'compound_id' 列"),
    ("compounds: compound_id values repeat: ['K1']", "compound_id 有重复值"),
    ("gate nodes: the layer has no CRS", "图层没有坐标系"),
    ("gates name compounds that are not in the compound table: ['K9']", "出入口所指的小区不在小区表中"),
    ("public_street_edges: give the OSM file (path) or the ways", "请提供 OSM 文件"),
    # Python API arguments
    ("p.tif: population raster not found", "p.tif: 找不到人口栅格文件"),
    ("cell size must be positive, got -100", "网格大小必须为正"),
    ("weight must be 'area' or 'buildings', got 'pop'", "weight 必须是"),
    ("weight='buildings' needs a buildings layer with floor_area_m2", "需要带 floor_area_m2"),
    ("floor area per resident must be positive, got 0.0", "人均建筑面积必须为正"),
    ("the ceiling in residents per hectare must be positive, got -1.0", "每公顷居民上限必须为正"),
    ("target must be a coverage rate in (0, 1], got 1.5", "target 必须是 (0, 1] 之间的覆盖率"),
    ("capacity_aware=True is for childcare (托位), not 'elderly'; use category='childcare'",
     "不适用于 'elderly'"),
    ("model='mclp' (maximal covering) needs a number of sites p >= 1, got p=0",
     "model='mclp' 需要不小于 1 的站点数 p"),
    ("model='target' needs a coverage rate target in (0, 1], got target=2",
     "model='target' 需要(0, 1] 之间的覆盖率目标"),
    ("model='capacity' needs a number of sites p or a coverage rate target",
     "站点数 p 或覆盖率目标"),
    ("demand must be >= 0", "必须不小于 0"),
    ("coverage matrix has 5 demand columns but demand has 4 values", "覆盖矩阵有 5 个需求列"),
    # output folder
    ("out: another care15 run (process 4242) is writing this folder; wait for it to finish, or "
     "choose another --out", "进程 4242"),
    ("out: another care15 run is writing this folder; choose another --out", "正在写入该文件夹"),
    ("--out o.txt: is a file, not a folder; give a folder for the outputs", "这是文件而不是文件夹"),
    ("--out /x/o: cannot create /x (Permission denied); choose another --out", "无法创建 /x"),
    ("--out /x/o: the folder /x is not writable; choose another --out", "文件夹 /x 不可写"),
    # OSM files
    ("a.osm.pbf: could not read it as an OSM PBF file (ValueError: bad blob); check it is an "
     ".osm.pbf extract (for .osm XML use network_from_xml)", "无法作为 OSM PBF 文件读取"),
    ("a.osm: could not read it as OSM XML (ParseError: line 1); for .osm.pbf use "
     "network_from_pbf", "无法作为 OSM XML 读取"),
    ("a.osm.pbf: no walkable ways in this file; it holds no highway=* ways (is it a POI-only or "
     "building-only extract?)", "文件中没有可步行的道路"),
    ("a.osm.pbf: no walkable ways (every highway=* way is a motorway, private, foot=no or "
     "otherwise closed to pedestrians; see WALK_RULE)", "见 WALK_RULE"),
    ("graph: no walkable ways (the graph has no edges)", "路网图没有边"),
    ("graph: no walkable ways after removing motorways, private and foot=no ways", "去掉高速公路"),
    ("edges: no walkable ways (the layer of streets is empty); check the file covers a built-up "
     "area and has highway=* ways", "道路图层为空"),
    ("a.shp: unknown OSM file type; expected .osm.pbf, .osm or .osm.bz2", "未知的 OSM 文件类型"),
    ("a.osm.pbf: could not read features (KeyError: 'tags')", "无法读取要素"),
    ("osmnx.graph_from_place('某区',) failed (ConnectionError: offline); this needs internet "
     "access to Overpass and Nominatim; offline, pass an OSM file (--pbf or --osm)",
     "需要能访问 Overpass 的网络"),
    ("osmnx.features_from_place('某区') failed; this needs internet access to Overpass; offline, "
     "pass an OSM file (--pbf or --osm) (ConnectionError: offline)", "(ConnectionError: offline)"),
    ("unknown online OSM source 'city'; use one of ['bbox', 'place']", "未知的在线 OSM 数据源"),
    ("a.osm: bbox= clipping is only supported for .osm.pbf files", "bbox= 裁剪只支持"),
    ("n.npz: cannot use this network file, it is of format 1, not 3; save it again with "
     "care15.cache.network_to_npz", "无法使用该路网文件"),
    ("n.npz: not a care15 network file (BadZipFile: not a zip)", "不是 care15 路网文件"),
    ("cache folder /c cannot be created (Permission denied); set CARE15_CACHE to a writable "
     "folder, or run without the cache (--no-cache on the command line, cache=False or "
     "cache_dir= in Python)", "无法创建缓存文件夹 /c"),
    # population
    ("p.tif: not a readable raster (RasterioIOError: not recognized)", "不是可读取的栅格"),
    ("p.tif: the raster has no CRS; set one (e.g. gdal_edit.py -a_srs EPSG:4326) before using "
     "it", "栅格没有坐标系"),
    ("p.tif: the raster does not overlap the study area", "栅格与研究区不重叠"),
    ("p.tif: 3 pixels have negative population (first at row 10, column 12: -5); declare the "
     "nodata value or fix the raster", "3 个像元的人口为负"),
    ("p.gpkg: column 'pop' is negative in rows [4, 9]; population cannot be negative",
     "列 'pop' 第 4, 9 行为负数"),
    ("total population must be a positive number, got -5.0", "总人口必须是正数"),
    ("a.osm.pbf: no residential buildings, residential land use or residential streets to place "
     "residents on; pass a population layer instead (--population)", "没有可安置居民"),
    ("a.osm.pbf: no residential buildings, residential land use or residential streets inside "
     "the study area; pass a population layer (--population)", "研究区内没有住宅建筑"),
    ("p.gpkg: a vector population layer needs inputs.population_column (or "
     "--population-column)", "矢量人口图层需要"),
    ("--population p.gpkg: a vector population layer needs its column: pass --population-column "
     "NAME (inputs.population_column)", "需要指定人口列"),
    ("no population: set inputs.population to a population file (--population FILE) or, with "
     "an OSM file, inputs.total_population to a total to distribute (--total-population N)",
     "没有人口数据: 请把"),
    ("no population: pass a population file (--population FILE), with an OSM file a total to "
     "distribute (--total-population N), or compounds with their households "
     "(--compounds FILE|osm)", "没有人口数据: 请提供"),
    ("the OSM population estimate (--total-population): no residents in the study area (empty, "
     "all nodata, zero or text values, or outside the network's extent); check the file, its "
     "column (--population-column) and its coordinate system, or pass --allow-empty",
     "OSM 人口估算 (--total-population): 研究区内没有居民"),
    ("population cells: NaN or negative values in ['pop_total']; fix the population layer (see "
     "population_from_* loaders)", "有 NaN 或负值"),
    ("population cells: the layer is empty; nothing to analyse", "没有可分析的内容"),
    ("cells: missing columns ['pop_total']; has ['geometry']", "缺少列"),
    ("a 10 m grid over these bounds has 25,000,000 cells; use a larger cell size",
     "10 米网格有 25,000,000 个"),
    # street network, scenario keys
    ("scenario names no street network: set [area] pbf, osm, place or bbox (or pass "
     "--pbf/--osm/--place)", "场景没有指定路网"),
    ("no street network: pass --pbf FILE, --osm FILE or --place NAME (or set [area] pbf, osm, "
     "place or bbox in the scenario file)", "没有路网: 请用"),
    ("area: give only one of pbf, osm, place, bbox (got pbf, osm)", "只能给一个"),
    ("area.bbox: expected [west, south, east, north] with west<east, south<north; got [1, 2, 0, "
     "3]", "west<east"),
    ("inputs.total_population: must be > 0, got -5.0", "必须大于 0"),
    ("targets.childcare_places_per_1000: must be a number > 0, got 0", "必须是大于 0 的数"),
    ("max_nodes_per_task: must be an integer >= 1, got 0", "必须是不小于 1 的整数"),
    ("--sites 0: must be at least 1", "至少为 1"),
    ("categories: give at least one of elderly, childcare", "至少给出 elderly、childcare 之一"),
    ("categories: unknown category 'school'; allowed: elderly, childcare", "未知类别 'school'"),
    ("thresholds_min: give at least one threshold in minutes, e.g. [5, 10, 15]",
     "至少给出一个以分钟计的阈值"),
    ("thresholds_min: 0 is not allowed; each threshold must be > 0 and <= 120 minutes",
     "每个阈值必须大于 0 且不超过 120 分钟"),
    ("thresholds_min: must be increasing and distinct, got [10.0, 5.0]", "必须递增且互不相同"),
    ("speeds.elderly_mps: 9.0 m/s is not allowed; walking speeds must be in [0.1, 3.0] m/s",
     "步速必须在 [0.1, 3.0] m/s 之间"),
    ("shares.share_60plus: 1.5 is not a share; allowed range is [0, 1]", "不是比例"),
    ("shares: share_60plus + share_0to3 exceed 1", "之和超过 1"),
    ("targets.elderly_coverage: 1.5 is not allowed; a coverage target is a share in (0, 1]",
     "覆盖率目标是 (0, 1] 之间的比例"),
    ("targets.coverage_threshold_min: 20 must be one of thresholds_min [5.0, 10.0, 15.0]",
     "必须是 thresholds_min"),
    ("analysis.cell_size_m: 5 is not allowed; must be in [10, 2000]", "必须在 [10, 2000] 之间"),
    ("compounds.new_from_year: 20 is not a year; allowed range is [1900, 2100]", "不是年份"),
    ("compounds.retrofit_from_year: 20 is not a year (0 = assess every existing compound)",
     "评估所有现有小区"),
    ("compounds.file = 'osm' (--compounds osm) needs an OSM source: set [area] pbf, osm, place "
     "or bbox", "需要 OSM 数据源"),
    ("compounds.population = 'yes' needs compounds.file (--compounds)",
     "compounds.population = 'yes' 需要"),
    ("--compounds osm needs an OSM source (--pbf, --osm or --place)", "--compounds osm 需要"),
    ("compounds: no compound gives households or residents; population cannot come from the "
     "compounds (set compounds.population = 'no' and give a population file or a total)",
     "小区: 没有小区给出户数或居民数"),
    ("speeds.elderly_mps: expected a number, got 'fast' (str)", "应为数字, 实际为 'fast'(str)"),
    ("analysis.cel_size_m: unknown key; allowed: cell_size_m, coverage_method",
     "未知的键; 可用: cell_size_m、coverage_method"),
    ("s.toml: not valid TOML (Expected '=' after a key in a key/value pair (at line 2, column "
     "5))", "s.toml: 不是有效的 TOML(第 2 行第 5 列: 键后应为 '=')"),
    ("scenario: s.toml is not valid TOML (Invalid value (at line 1, column 7))",
     "场景: s.toml 不是有效的 TOML(第 1 行第 7 列: 值无效"),
    ("s.toml: not valid TOML (Unescaped '\\' in a string (at end of document))",
     "文件末尾: 字符串中有未转义的 '\\'"),
    ("s.toml: not valid TOML (Something new (at line 3, column 1))", "第 3 行第 1 列: Something new"),
    ("s.toml: not valid TOML", "s.toml: 不是有效的 TOML"),
    # command line
    ("--target 2.0: a coverage rate in (0, 1], e.g. 0.9 for 90%", "0.9 表示 90%"),
    ("--time-limit -1.0: must be a positive number of seconds", "必须是正的秒数"),
    ("--capacity-aware is for childcare places (托位), not --category elderly; use --category "
     "childcare", "不适用于 --category elderly"),
    ("--category school: not among the scenario's categories ['elderly']", "不在场景的类别"),
    ("basemap 'tianditu' needs a 天地图 key (tianditu_key)", "天地图底图需要天地图 key"),
    ("care15 batch needs dask.distributed: pip install 'care15[batch]'", "需要 dask.distributed"),
    # siting and candidates
    ("none of the 4 candidate sites is usable: {'far_from_network': 3, 'on_water': 1, "
     "'duplicate': 0} (more than 250 m from a street, on water, or duplicates)",
     "4 个候选点都不可用: 距道路过远 3 处"),
    ("no candidate sites: pass candidates (e.g. from care15.candidates.candidates_from_file) "
     "with points inside the study area", "没有候选点"),
    ("c.geojson: a spatial layer carries its own CRS; --candidates-crs (coords='gcj02' in "
     "Python) applies only to the lon/lat columns of CSV/XLSX files", "空间图层自带坐标系"),
    # regions file
    ("r.toml: no regions; add one [[region]] table per region, each with name = \"...\" and a "
     "scenario file or inline [region.area] ...", "没有区域"),
    ("r.toml: [defaults] must be a table of scenario keys, got 3", "[defaults] 必须是场景键的表"),
    ("region 1 ('a'): layers: must be a table, got 3", "区域 1 ('a'): layers: 必须是表"),
    ("r.toml: [batch] maps: must be true or false, got 'yes'", "必须是 true 或 false"),
    ("r.toml: [batch] cache: must be true, false or a folder, got 3", "必须是 true、false 或文件夹"),
    ("region 4 ('b'): layers.cells: must be a file path, got 3", "必须是文件路径"),
    ("region 2 ('c'): scenario: must be the path of a scenario file, got 3", "必须是场景文件的路径"),
    ("region 4 ('b'): layers.facilities: missing; with [region.layers] give at least facilities "
     "and cells (or drop the table to read everything from the scenario)", "缺失; 使用"),
    ("region 4 ('../up'): name: '../up' cannot be a folder name; use letters, digits, spaces, "
     "'_', '-', '.' (not first), at most 100", "不能用作文件夹名"),
    ("region 1 ('index.html'): name: 'index.html' is the name of a file the batch writes "
     "(index.html, regions.csv); choose another name", "是批量运行要写入的文件名"),
    ("region 3 ('a'): name: 'a' is already used by region 1; names must be unique",
     "'a' 已被区域 1 使用"),
    # argparse
    ("unrecognized arguments: --bogus", "无法识别的参数: --bogus"),
    ("the following arguments are required: regions", "缺少必需的参数: regions"),
    ("argument --lang: invalid choice: 'fr' (choose from 'zh', 'en')",
     "参数 --lang: 无效的取值: 'fr'"),
    ("argument --workers: invalid int value: 'two'", "无效的整数: 'two'"),
    ("argument --pbf: expected one argument", "需要一个参数值"),
    ("argument --osm: not allowed with argument --pbf", "不能与参数 --pbf 同时使用"),
    ("one of the arguments --sites --target is required", "中必须给出一个"),
    ("ambiguous option: --c could match --cdn, --communities", "有歧义"),
    ("argument -q/--quiet: ignored explicit argument 'x'", "忽略了多余的参数值 'x'"),
    # a key leading a known problem
    ("f.csv: 3 rows in 'x' column: file not found", "f.csv: 3 rows in 'x' column: 找不到文件"),
    # plan files (care15 compare: planfile.py)
    ("cannot use the plan file:", "无法使用方案文件:"),
    ("p.csv: plan file not found", "p.csv: 找不到方案文件"),
    ("p.csv: the plan file is empty; give a header row and one row per edit (操作/action, "
     "设施编号/facility_id, 类别/category, 经度/lon, 纬度/lat, 规模/capacity)", "方案文件为空"),
    ("p.csv: the plan file has no edits (no data rows); give one row per edit under the header",
     "方案文件中没有变更"),
    ("p.csv: no action column (looked for action, 操作, 动作); columns are ['名称', '经度']",
     "找不到操作列"),
    ("p.csv: row 2, column '操作' (A): unknown action '拆掉'; use add, move, remove or resize "
     "(新增, 迁移, 撤销, 调整规模)", "p.csv: 第 2 行, 列 '操作'(第 A 列): 未知的操作 '拆掉'"),
    ("p.csv: row 10, column 'action': no action; use add, move, remove or resize (新增, 迁移, "
     "撤销, 调整规模)", "第 10 行, 列 'action': 没有操作"),
    ("p.csv: row 8, column '类别' (C): '学校' names no category or facility kind; use "
     "养老/elderly, 托育/childcare or a sub-type such as 养老院, 日间照料中心, 托育机构, 幼儿园",
     "'学校' 不是已知的类别或设施种类"),
    ("p.csv: row 3, column '类别' (C): an add needs a category; give 养老/elderly or "
     "托育/childcare (or a sub-type such as 养老院, 幼儿园)", "新增须给出类别"),
    ("p.csv: row 4, column '经度' (E): the coordinate is not a number; give longitude and "
     "latitude in degrees", "坐标不是数字"),
    ("p.csv: row 5: a move needs coordinates but the file has no longitude/latitude columns "
     "(经度/纬度, lon/lat)", "第 5 行: 迁移须给出坐标, 但文件中没有经度/纬度列"),
    ("p.csv: row 6, column '经度' (E): an add needs coordinates; give longitude and latitude "
     "(columns '经度' and '纬度')", "新增须给出坐标; 请填写经度和纬度(列 '经度' 和 '纬度')"),
    ("p.csv: row 9, column '纬度' (F): longitude and latitude look swapped (60.17, 124.94); swap "
     "the columns '经度' and '纬度'", "经度和纬度似乎填反了(60.17, 124.94)"),
    ("p.csv: row 9, column 'lon' (D): (200, 95) are not longitude and latitude in degrees",
     "(200, 95) 不是以度为单位的经纬度"),
    ("p.csv: row 9, column '床位' (G): the capacity is not a number; give beds (床位) or places "
     "(托位) as a number >= 0", "规模不是数字"),
    ("p.csv: row 1, column '床位' (G): capacity -5 is negative; give beds (床位) or places (托位) "
     "as a number >= 0", "规模 -5 为负数"),
    ("p.csv: row 5, column 'capacity': a resize needs the new capacity; give beds (床位) or "
     "places (托位) in a capacity column (规模, 床位, 托位, capacity)", "调整规模须给出新的规模"),
    ("p.csv: row 7, column '设施编号' (B): a remove needs the facility_id of the facility "
     "(f<row> of the facility list, as facilities.csv of care15 analyze lists it)",
     "撤销须给出设施编号 facility_id"),
    ("p.csv: row 4, column '设施编号' (B): 'x1' is added again (first in row 3); give each new "
     "facility its own id", "'x1' 被重复新增(首次在第 3 行)"),
    ("p.csv: row 3, column 'facility_id' (B): 'f1' is already a facility (the facility list has "
     "it); give the new facility another id, or leave the id empty", "'f1' 已是现有设施(设施清单中已有)"),
    ("p.csv: row 2, column 'facility_id' (B): no facility 'f3' to move (an earlier row removes "
     "it); use a facility_id of facilities.csv (care15 analyze writes it: f<row> for row <row> "
     "of the list)", "没有可迁移的设施 'f3'(前面的行已撤销)"),
    ("p.csv: row 4, column 'lon' (D): (116.400000, 39.900000) as wgs84 lies outside the street "
     "network's area (lon 24.9352 to 24.9534, lat 60.1642 to 60.1791 in WGS-84); check the "
     "coordinates and their system (--plan-crs wgs84)",
     "按 wgs84 读取位于路网范围之外(WGS-84 经度 24.9352 至 24.9534"),
    ("p.csv: row 1, column '经度' (E): (104.082345, 30.657890) as wgs84 is 512 m from the "
     "nearest walkable street (more than 250 m): it would serve no one; read as gcj02 these "
     "coordinates lie on the streets: pass --plan-crs gcj02",
     "距最近的步行道路 512 米(超过 250 米): 不能服务任何居民; 按 gcj02 读取时这些坐标位于道路上: "
     "请指定 --plan-crs gcj02"),
    ("applying the plan", "应用方案"),
]


@pytest.mark.parametrize("en,expect", ERROR_EXAMPLES, ids=[e[:40] for e, _ in ERROR_EXAMPLES])
def test_error_family(en, expect):
    zh = translate_or_none(en)
    assert zh is not None, en
    assert expect in zh, zh
    _check_pair(en, zh)
    assert error_text(en, "en") == en


def test_every_pattern_has_an_example(monkeypatch):
    """Each rule answers for at least one example (a composite's parts counted as they answer)."""
    trace: list[int] = []
    monkeypatch.setattr(care15._notes, "_TRACE", trace)
    for en, _ in EXAMPLES + ERROR_EXAMPLES:
        assert translate_or_none(en) is not None, en
    unused = [p.pattern[:60] for i, (p, _) in enumerate(_COMPILED) if i not in set(trace)]
    assert unused == []


def test_multi_line_errors_translate_line_by_line():
    msg = ("cannot start:\n  - --sites 0: must be at least 1\n  - a.csv: something care15 "
           "never says\n  - inputs.total_population: must be > 0, got -5.0")
    zh = error_text(msg, "zh")
    assert zh.splitlines() == [
        "无法开始:", "  - --sites 0: 至少为 1",
        "  - a.csv: something care15 never says",  # no translation: kept, never lost
        "  - inputs.total_population: 必须大于 0, 实际为 -5.0"]
    assert error_text(msg, "en") == msg
    # a key before an unknown problem is not half-translated
    assert translate_or_none("region 1 ('a'): the moon is blue") is None


def test_unknown_text_is_kept_and_flagged():
    s = "a sentence care15 never writes"
    assert translate_or_none(s) is None
    assert translate(s, "zh") == s
    assert notes_in([s, "Communities: 3 OSM administrative areas."], "zh") == [
        s, "社区: 3 个 OSM 行政区。"]
