"""Planner exports: CSV (UTF-8 with BOM), XLSX, GeoJSON, GeoPackage, GeoParquet, JSON.

Every file is written to a temporary file in the target folder and renamed into place when it
is complete, so an interrupted run never leaves a half-written table behind.

Column names are stable (see :data:`COLUMN_DOCS` and :func:`column_info`, which also give the
Chinese and English headers used in XLSX and the explanation sheet). Spatial outputs are in
EPSG:4326; CSV tables of spatial rows carry ``lon``/``lat`` of a representative point (the
centroid for cells and gaps) so they open in Excel and in web maps. ``coords_out="gcj02"``
adds ``lon_gcj02``/``lat_gcj02`` for AMap/Tencent users (``bd09`` likewise for Baidu).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._escape import FORMULA_START, spreadsheet_text
from ._files import atomic_path
from .standards import CATEGORIES

log = logging.getLogger(__name__)

__all__ = ["COLUMN_DOCS", "FORMATS", "MEANING_ZH", "column_info", "column_meaning",
           "write_csv", "write_geo", "write_json", "write_tables", "write_xlsx"]

FORMATS = ("csv", "xlsx", "geojson", "gpkg", "parquet")
#: Tables longer than this (a city's population cells) are left out of the workbooks and of
#: GeoJSON: they are in CSV, GeoParquet and the GeoPackage, and ``tables.xlsx`` sums the cells
#: up by walk band. A district's grid (Chengdu's centre: 2,842 cells) stays below it; writing
#: Harbin's 15,106 cells to XLSX and GeoJSON took longer than the whole analysis.
LARGE_TABLE_ROWS = 10_000

#: Tables written by :func:`write_tables` and their sheet titles (zh, en).
TABLE_TITLES = {
    "communities": ("社区覆盖", "Communities"),
    "community_detail": ("社区明细", "Community detail"),
    "walk_bands": ("步行时间分布", "Walk bands"),
    "cells": ("人口网格", "Population cells"),
    "gaps": ("覆盖缺口", "Gaps"),
    "short_communities": ("未达标社区", "Communities short of target"),
    "facilities": ("现有设施", "Facilities"),
    "isochrones": ("等时圈", "Isochrones"),
    "sites": ("建议新址", "Suggested sites"),
    "compounds": ("小区清单", "Compounds"),
    "short_compounds": ("未达标小区", "Compounds short of norms"),
    "compare": ("方案对比", "Plan comparison"),
    "compare_communities": ("方案对比-社区", "Plan - communities"),
    "compare_cells": ("方案对比-变化网格", "Plan - changed cells"),
    "compare_edits": ("方案变更", "Plan - edits"),
}

_GROUP = {"total": ("全部居民", "all residents"), "60plus": ("60岁及以上", "aged 60+"),
          "0to3": ("3岁以下", "aged 0-3")}

#: Fixed columns: name -> (Chinese header, English header, explanation).
COLUMN_DOCS: dict[str, tuple[str, str, str]] = {
    "cell_id": ("网格编号", "Cell id", "Id of the square population cell (column_row of the "
                "cell-size lattice in the local metric CRS)"),
    "community_id": ("社区编号", "Community id", "Id of the community (from the community file, "
                     "OSM, or G<row><col> for grid districts); _outside = outside every community"),
    "community_name": ("社区名称", "Community", "Name of the community"),
    "pop_total": ("常住人口", "Residents", "Residents (people) in the cell or community"),
    "pop_60plus": ("60岁及以上人口", "Residents 60+", "Residents aged 60 and over"),
    "pop_0to3": ("3岁以下人口", "Residents 0-3", "Children under 3 (ages 0-2)"),
    "pop_method": ("人口估算方法", "Population method", "How the cell's residents were "
                   "estimated: raster, vector_area, vector_buildings, buildings (OSM floor "
                   "area), landuse (OSM residential land use), streets (OSM residential streets)"),
    "households": ("户数", "Households", "Residents / household size of the scenario (2.62, "
                   "7th census)"),
    "access_m": ("接入距离(米)", "Access distance (m)", "Straight-line metres from the point to "
                 "its snapped position on the nearest walkable street"),
    "on_network": ("可接入路网", "On network", "True when the point is within the scenario's "
                   "max_access_m of a walkable street"),
    "network_piece": ("路网连通分量", "Network piece", "Connected piece of the street network "
                      "(0 = largest); other pieces cannot reach facilities on piece 0"),
    "facility_id": ("设施编号", "Facility id", "f<row> for a file row, node/way id for OSM"),
    "name": ("名称", "Name", "Name as given"),
    "category": ("服务类别", "Category", "Elderly care or Childcare (0–3); CSV keeps the keys "
                 "elderly, childcare"),
    "subtype": ("设施类型", "Sub-type", "Care home, Adult day-care centre, Home/community "
                "elderly-care centre, Elderly canteen, Nursery, Kindergarten (toddler class), "
                "Community childcare point, Early-education centre; CSV keeps the keys "
                "care_home, day_care, home_care_centre, canteen, nursery, kindergarten, "
                "community_point, early_education"),
    "beds": ("床位", "Beds", "Elderly-care beds (床位), empty when unknown"),
    "places": ("托位", "Places", "Childcare places (托位), empty when unknown"),
    "floor_area_m2": ("建筑面积(平方米)", "Floor area (m²)", "Floor area in square metres"),
    "counts_as_supply": ("计入供给", "Counts as supply", "False for early-education centres, "
                         "which offer classes rather than full-day care"),
    "source": ("来源", "Source", "File name or OSM"),
    "source_row": ("源文件行号", "Source row", "1-based data row in the source file"),
    "lon": ("经度", "Longitude", "WGS-84 longitude (degrees)"),
    "lat": ("纬度", "Latitude", "WGS-84 latitude (degrees)"),
    "lon_gcj02": ("经度(GCJ-02)", "Longitude (GCJ-02)", "Longitude for AMap/Tencent maps"),
    "lat_gcj02": ("纬度(GCJ-02)", "Latitude (GCJ-02)", "Latitude for AMap/Tencent maps"),
    "lon_bd09": ("经度(BD-09)", "Longitude (BD-09)", "Longitude for Baidu maps"),
    "lat_bd09": ("纬度(BD-09)", "Latitude (BD-09)", "Latitude for Baidu maps"),
    "centroid_lon_gcj02": ("中心经度(GCJ-02)", "Centre longitude (GCJ-02)",
                           "Longitude of the centroid for AMap/Tencent maps"),
    "centroid_lat_gcj02": ("中心纬度(GCJ-02)", "Centre latitude (GCJ-02)",
                           "Latitude of the centroid for AMap/Tencent maps"),
    "centroid_lon_bd09": ("中心经度(BD-09)", "Centre longitude (BD-09)",
                          "Longitude of the centroid for Baidu maps"),
    "centroid_lat_bd09": ("中心纬度(BD-09)", "Centre latitude (BD-09)",
                          "Latitude of the centroid for Baidu maps"),
    "closing_site_lon_gcj02": ("新址经度(GCJ-02)", "New site longitude (GCJ-02)",
                               "Longitude of the new site for AMap/Tencent maps"),
    "closing_site_lat_gcj02": ("新址纬度(GCJ-02)", "New site latitude (GCJ-02)",
                               "Latitude of the new site for AMap/Tencent maps"),
    "closing_site_lon_bd09": ("新址经度(BD-09)", "New site longitude (BD-09)",
                              "Longitude of the new site for Baidu maps"),
    "closing_site_lat_bd09": ("新址纬度(BD-09)", "New site latitude (BD-09)",
                              "Latitude of the new site for Baidu maps"),
    "gap_id": ("缺口编号", "Gap id", "<category>-<rank>"),
    "rank": ("排名", "Rank", "1 = largest gap / first site to build"),
    "n_cells": ("网格数", "Cells", "Number of population cells"),
    "uncovered_target": ("未覆盖目标人群", "Uncovered target group", "Uncovered residents of "
                         "the category's target group (60+ for elderly care, 0-3 for childcare)"),
    "nearest_walk_min": ("最近设施步行(分钟)", "Nearest facility (min)", "Walking minutes from "
                         "the gap's best-placed cell to the nearest existing facility"),
    "median_walk_min": ("步行时间中位数(分钟)", "Median walk (min)", "Median walking minutes of "
                        "the gap's cells to the nearest facility"),
    "centroid_lon": ("中心经度", "Centre longitude", "WGS-84 longitude of the gap's centroid"),
    "centroid_lat": ("中心纬度", "Centre latitude", "WGS-84 latitude of the gap's centroid"),
    "target_pop": ("目标人群人口", "Target group residents", "Residents of the category's "
                   "target group (60+ for elderly care, 0-3 for childcare)"),
    "target_coverage": ("目标人群覆盖率", "Target group coverage", "Share of the target group "
                        "within the coverage threshold (population-weighted, 0-1)"),
    "target_rate": ("覆盖率目标", "Coverage target", "Target share of the group covered"),
    "shortfall_people": ("未达标缺口(人)", "Shortfall (people)", "Target-group residents who "
                         "would need to be covered to meet the target"),
    "n_facilities": ("设施数", "Facilities", "Facilities of the category inside the community"),
    "walk_band": ("步行时间区间", "Walk band", "≤5, ≤10, ≤15 min or beyond; unreachable or no "
                  "facility of the category in the data"),
    "threshold_min": ("步行时间阈值(分钟)", "Threshold (min)", "Walking-time threshold"),
    "budget_m": ("步行距离(米)", "Walking distance (m)", "Threshold × walking speed"),
    "speed_mps": ("步行速度(米/秒)", "Walking speed (m/s)", "Speed of the category's target group"),
    "area_km2": ("面积(平方公里)", "Area (km²)", "Area of the isochrone"),
    "candidate_id": ("候选点编号", "Candidate id", "Id of the candidate site"),
    "cumulative_coverage": ("累计覆盖率", "Cumulative coverage", "Population-weighted coverage "
                            "of the target group after building this site and those ranked "
                            "before it"),
    "capacity_places": ("新增托位", "New places", "Places (托位) the new site offers"),
    "newly_covered_compounds": ("新覆盖小区数", "Newly covered compounds",
                                "Residential compounds (小区) newly brought within the threshold "
                                "through their gates by this site (suggest --demand compounds)"),
    "newly_covered_compound_residents": ("新覆盖小区居民", "Newly covered compound residents",
                                         "All residents of those compounds"),
    "newly_covered_compound_ids": ("新覆盖小区编号", "Newly covered compound ids",
                                   "Ids of those compounds, separated by ';'"),
    "nearest_existing_facility": ("最近现有设施", "Nearest existing facility",
                                  "Nearest existing facility of the category on foot"),
    "nearest_existing_walk_min": ("距现有设施步行(分钟)", "Walk to existing (min)",
                                  "Walking minutes from the site to that facility"),
    "nearest_existing_facility_name": ("最近现有设施名称", "Nearest existing facility name",
                                       "Name of that facility"),
    "nearest_facility": ("最近设施编号", "Nearest facility id", "facility_id of the existing "
                         "facility nearest on foot to the gap's best-placed cell"),
    "nearest_facility_name": ("最近设施名称", "Nearest facility", "Name of that facility"),
    "nearest_state": ("可达状态", "Reachability", "reachable; unreachable (no facility of the "
                      "category can be reached on foot: other network piece or far from "
                      "streets); no facility (the data hold no facility of the category)"),
    "closing_site_cover_target": ("新址可覆盖目标人群", "New site would cover",
                                  "Uncovered target residents of the gap that one new site at "
                                  "the best gap cell would bring within the threshold (N of M; "
                                  "bounded network search from every gap cell that could "
                                  "hold the best site)"),
    "closing_site_near": ("新址位置(社区)", "New site near", "Community in which that best site "
                          "lies (the street network carries no street names)"),
    "closing_site_lon": ("新址经度", "New site longitude", "WGS-84 longitude of that site (the "
                         "gap cell's centre)"),
    "closing_site_lat": ("新址纬度", "New site latitude", "WGS-84 latitude of that site"),
    "closing_action": ("补缺建议", "What would close it", "One new site near that place and how "
                       "many of the gap's uncovered target residents it would cover (N/M)"),
}

_PEOPLE_NOTE = ("; whole people in CSV/XLSX (largest-remainder rounding, so rows add up to "
                "the total), fractional in GeoJSON/GeoPackage/GeoParquet")
_PEOPLE_NOTE_ZH = ("；CSV/XLSX 中为整数(最大余数法取整，各行之和等于总数)，"
                   "GeoJSON/GeoPackage/GeoParquet 中保留小数")

#: Chinese meanings of the fixed columns (the English ones are in :data:`COLUMN_DOCS`).
MEANING_ZH: dict[str, str] = {
    "cell_id": "人口网格编号(本地米制坐标系中按网格边长划分的列号_行号)",
    "community_id": "社区编号(来自社区文件、OSM，或网格化区域的 G<行><列>)；_outside 表示不在任何社区内",
    "community_name": "社区名称",
    "pop_total": "网格或社区内的常住人口(人)" + _PEOPLE_NOTE_ZH,
    "pop_60plus": "60岁及以上常住人口(人)" + _PEOPLE_NOTE_ZH,
    "pop_0to3": "3岁以下儿童(0-2岁)人数" + _PEOPLE_NOTE_ZH,
    "pop_method": "网格人口的估算方法：栅格人口、矢量面积分配、矢量按建筑分配、OSM建筑面积、"
                  "OSM居住用地、OSM居住街道",
    "households": "户数 = 常住人口 ÷ 情景的户均人口(2.62，第七次人口普查)" + _PEOPLE_NOTE_ZH,
    "access_m": "从该点到最近可步行道路上接入点的直线距离(米)",
    "on_network": "该点距可步行道路不超过情景的最大接入距离(max_access_m)时为“是”",
    "network_piece": "所在路网连通分量(0 = 最大连通分量)；其他分量上的点无法到达分量0上的设施",
    "facility_id": "设施编号：文件第<行>行为 f<行>，OSM 设施为节点/路径编号",
    "name": "设施名称(原文)",
    "category": "服务类别：养老服务或托育服务(CSV 中为代码 elderly、childcare)",
    "subtype": "设施类型：养老院/敬老院、日间照料中心、居家养老服务中心、老年食堂/助餐点、"
               "托育机构/托儿所、幼儿园(托班)、社区托育点、早教中心(CSV 中为代码 care_home、"
               "day_care、home_care_centre、canteen、nursery、kindergarten、community_point、"
               "early_education)",
    "beds": "养老床位数，未知时为空",
    "places": "托位数，未知时为空",
    "floor_area_m2": "建筑面积(平方米)",
    "counts_as_supply": "早教中心提供课程而非全日托育，计为“否”，不计入供给",
    "source": "来源文件名或 OSM",
    "source_row": "在源文件中的数据行号(从1开始)",
    "lon": "WGS-84 经度(度)",
    "lat": "WGS-84 纬度(度)",
    "lon_gcj02": "GCJ-02 经度，用于高德/腾讯地图",
    "lat_gcj02": "GCJ-02 纬度，用于高德/腾讯地图",
    "lon_bd09": "BD-09 经度，用于百度地图",
    "lat_bd09": "BD-09 纬度，用于百度地图",
    "centroid_lon_gcj02": "中心点 GCJ-02 经度，用于高德/腾讯地图",
    "centroid_lat_gcj02": "中心点 GCJ-02 纬度，用于高德/腾讯地图",
    "centroid_lon_bd09": "中心点 BD-09 经度，用于百度地图",
    "centroid_lat_bd09": "中心点 BD-09 纬度，用于百度地图",
    "closing_site_lon_gcj02": "新址 GCJ-02 经度，用于高德/腾讯地图",
    "closing_site_lat_gcj02": "新址 GCJ-02 纬度，用于高德/腾讯地图",
    "closing_site_lon_bd09": "新址 BD-09 经度，用于百度地图",
    "closing_site_lat_bd09": "新址 BD-09 纬度，用于百度地图",
    "gap_id": "缺口编号：<服务类别>-<排名>",
    "rank": "排名：1 = 最大的缺口 / 最先建设的新址",
    "n_cells": "人口网格数",
    "uncovered_target": "该服务类别目标人群中未覆盖的人数(养老服务为60岁及以上，托育服务为3岁以下)"
                        + _PEOPLE_NOTE_ZH,
    "nearest_walk_min": "缺口内位置最好的网格步行到最近现有设施的时间(分钟)；不可达时为空",
    "median_walk_min": "缺口内各网格到最近设施步行时间的中位数(分钟)；不可达时为空",
    "centroid_lon": "缺口中心点 WGS-84 经度",
    "centroid_lat": "缺口中心点 WGS-84 纬度",
    "target_pop": "该服务类别目标人群人数(养老服务为60岁及以上，托育服务为3岁以下)" + _PEOPLE_NOTE_ZH,
    "target_coverage": "目标人群在覆盖时间阈值内的比例(按人口加权，0-1)",
    "target_rate": "目标人群覆盖率的目标值",
    "shortfall_people": "达到目标还需覆盖的目标人群人数",
    "n_facilities": "社区内该类设施数",
    "walk_band": "步行时间区间：≤5、≤10、≤15分钟或更远；不可达或数据中无该类设施",
    "threshold_min": "步行时间阈值(分钟)",
    "budget_m": "步行距离 = 时间阈值 × 步行速度(米)",
    "speed_mps": "该服务类别目标人群的步行速度(米/秒)",
    "area_km2": "等时圈面积(平方公里)",
    "candidate_id": "候选点编号",
    "cumulative_coverage": "建设本址及排名在前的各址后，目标人群的人口加权覆盖率",
    "capacity_places": "新址提供的托位数",
    "newly_covered_compounds": "本址经小区出入口新纳入时间阈值内的小区数(suggest --demand compounds)",
    "newly_covered_compound_residents": "这些小区的全部居民",
    "newly_covered_compound_ids": "这些小区的编号, 以 ';' 分隔",
    "nearest_existing_facility": "步行最近的同类现有设施",
    "nearest_existing_walk_min": "从新址步行到该设施的时间(分钟)",
    "nearest_existing_facility_name": "该设施的名称",
    "nearest_facility": "距缺口内位置最好的网格步行最近的现有设施编号",
    "nearest_facility_name": "该设施的名称",
    "nearest_state": "可达状态：可达；不可达(步行无法到达该类任何设施：路网不连通或距道路过远)；"
                     "无该类设施(数据中没有该类设施)",
    "closing_site_cover_target": "在缺口内最佳网格处新增1处设施，可在时间阈值内覆盖的缺口目标人群"
                                 "人数(N/M 中的 N；从每个缺口网格做有界路网搜索求得)",
    "closing_site_near": "该最佳新址所在社区(路网数据不含街道名称)",
    "closing_site_lon": "该新址的 WGS-84 经度(缺口网格中心)",
    "closing_site_lat": "该新址的 WGS-84 纬度",
    "closing_action": "补缺建议：在何处附近新增1处设施，可覆盖缺口中多少名未覆盖的目标人群(N/M)",
}

for _c in ("pop_total", "pop_60plus", "pop_0to3", "households", "uncovered_target",
           "target_pop"):
    _z, _e, _m = COLUMN_DOCS[_c]
    COLUMN_DOCS[_c] = (_z, _e, _m + _PEOPLE_NOTE)


def column_info(col: str) -> tuple[str, str, str]:
    """(Chinese header, English header, explanation) of a column, including patterned ones.

    Parameters
    ----------
    col
        A column name of care15's tables, e.g. ``pop_60plus`` or ``elderly_cov15_60plus``.

    Returns
    -------
    tuple of str
        Chinese header, English header and explanation; ``(col, col, "")`` for a column
        care15 does not know.

    Examples
    --------
    >>> from care15.export import column_info
    >>> column_info("elderly_cov15_60plus")[1]
    'Elderly care: share aged 60+ ≤15 min'
    """
    zh, en, meaning, _ = _column_doc(col)
    return zh, en, meaning


def column_meaning(col: str, lang: str) -> str:
    """What a column means, in Chinese (``lang="zh"``) or English.

    Parameters
    ----------
    col
        A column name of care15's tables.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        The explanation; empty for a column care15 does not know.

    Examples
    --------
    >>> from care15.export import column_meaning
    >>> column_meaning("childcare_walk_min", "zh")
    '步行到最近托育服务设施的路网时间(分钟)；不可达时为空'
    """
    d = _column_doc(col)
    return d[3] if lang == "zh" else d[2]


_SUFFIX_DOCS: dict[str, tuple[str, str, str, str]] = {
    "walk_min": ("步行至最近设施(分钟)", "walk to nearest (min)", "Walking minutes on the "
                 "network to the nearest facility (empty = unreachable; see the band)",
                 "步行到最近{c}设施的路网时间(分钟)；不可达时为空"),
    "band": ("步行时间区间", "walk band", "≤5, ≤10, ≤15 min or beyond; unreachable (no "
             "facility can be reached on foot) or no facility (none of the category in the "
             "data)", "≤5、≤10、≤15分钟或更远；不可达(步行无法到达任何该类设施)或无该类设施"
             "(数据中没有该类设施)"),
    "covered": ("是否覆盖", "covered", "Within the coverage threshold (15 min by default)",
                "是否在覆盖时间阈值(默认15分钟)内"),
    "nearest_facility": ("最近设施编号", "nearest facility id", "facility_id of the nearest "
                         "facility", "步行最近的{c}设施编号"),
    "nearest_facility_name": ("最近设施名称", "nearest facility", "Name of the nearest "
                              "facility", "步行最近的{c}设施名称"),
    "e2sfca_per_1000": ("可达容量(每千人,E2SFCA)", "E2SFCA capacity per 1,000",
                        "Capacity-aware access: places/beds per 1,000 target residents "
                        "reachable within the threshold, distance-decayed (weights "
                        "1/0.68/0.22 for the 5/10/15-min bands)",
                        "考虑容量的可达性(两步移动搜索法 E2SFCA)：阈值内可达的床位/托位 ÷ "
                        "目标人群(每千人)，按5/10/15分钟区间以 1/0.68/0.22 衰减"),
    "n_facilities": ("设施数", "facilities", "Facilities inside the community",
                     "社区内的{c}设施数"),
    "has_facility": ("社区内有设施", "has facility", "The community has at least one "
                     "facility (the community-count rate counts these)",
                     "社区内至少有1处{c}设施(按社区计的设施覆盖率统计这些社区)"),
    "capacity": ("容量", "capacity", "Beds (elderly) or places (childcare) inside the "
                 "community, where known", "社区内已知的床位(养老)或托位(托育)数"),
    "capacity_per_1000": ("每千人容量", "capacity per 1,000", "Places per 1,000 residents "
                          "(childcare, target 4.5) or beds per 1,000 residents 60+ (elderly)",
                          "托育：每千常住人口托位数(目标4.5)；养老：每千名60岁及以上老人床位数"),
    "target_rate": ("覆盖率目标", "coverage target", "Target share of the group covered",
                    "目标人群覆盖率的目标值"),
    "target_met": ("是否达标", "target met", "Coverage share ≥ target (empty when the "
                   "community has no residents of the group)",
                   "覆盖率 ≥ 目标值(社区无该目标人群时为空)"),
    "shortfall_people": ("未达标缺口(人)", "shortfall (people)", "Residents who would need to "
                         "be covered to meet the target", "达到目标还需覆盖的目标人群人数"),
    "places_target_met": ("托位达标(4.5/千人)", "places target met (4.5/1,000)",
                          "Childcare places per 1,000 residents ≥ 4.5",
                          "每千常住人口托位数 ≥ 4.5"),
    "area_m2_per_100_households": ("每百户养老服务面积(㎡)", "m² per 100 households",
                                   "Elderly-care floor area per 100 households (target 20 m²)",
                                   "每百户养老服务设施建筑面积(目标20平方米)"),
    "area_target_met": ("面积达标(20㎡/百户)", "area target met (20 m²/100 hh)",
                        "Floor area per 100 households ≥ 20 m²", "每百户建筑面积 ≥ 20平方米"),
}


def _column_doc(col: str) -> tuple[str, str, str, str]:
    """(Chinese header, English header, English meaning, Chinese meaning) of a column."""
    if col in COLUMN_DOCS:
        zh, en, d = COLUMN_DOCS[col]
        return zh, en, d, MEANING_ZH.get(col, "")
    from .compare import column_doc as plan_doc
    from .compounds import column_doc

    if (pdoc := plan_doc(col)) is not None:  # the plan comparison's before/after columns
        return pdoc
    if (doc := column_doc(col)) is not None:  # compounds' columns: the header says it in Chinese
        return doc[0], doc[1], doc[2], doc[0]
    cats = "|".join(CATEGORIES)
    m = re.fullmatch(rf"({cats})_cov(\d+(?:\.\d+)?)_(total|60plus|0to3)", col)
    if m:
        c, t, g = CATEGORIES[m[1]], m[2], _GROUP[m[3]]
        return (f"{t}分钟{c.label_zh}覆盖率({g[0]})", f"{c.label_en}: share {g[1]} ≤{t} min",
                f"Share of {g[1]} whose walk to the nearest {c.label_en.lower()} facility is at "
                f"most {t} min (population-weighted, 0-1; empty when the community has none of "
                "that group)",
                f"{g[0]}中步行到最近{c.label_zh}设施不超过{t}分钟的比例(按人口加权，0-1；"
                "社区无该人群时为空)")
    m = re.fullmatch(rf"({cats})_overlay(\d+(?:\.\d+)?)", col)
    if m:
        c, t = CATEGORIES[m[1]], m[2]
        return (f"{t}分钟等时圈面积占比({c.label_zh})", f"{c.label_en}: isochrone share ≤{t} min",
                f"Share of the cell's area inside the {t}-min isochrone (the desktop-GIS "
                "overlay count)", f"网格面积落在{t}分钟等时圈内的比例(桌面GIS叠加统计法)")
    m = re.fullmatch(r"newly_covered_(pop_total|pop_60plus|pop_0to3|target)", col)
    if m:
        zh, en, _ = COLUMN_DOCS.get(m[1], ("目标人群", "Target group", ""))
        return (f"新覆盖{zh}", f"Newly covered: {en}",
                f"{en} newly brought within the threshold by this site" + _PEOPLE_NOTE,
                f"本址新纳入时间阈值内的{zh}" + _PEOPLE_NOTE_ZH)
    m = re.fullmatch(r"uncovered_(pop_total|pop_60plus|pop_0to3)", col)
    if m:
        zh, en, _ = COLUMN_DOCS[m[1]]
        return (f"未覆盖{zh}", f"Uncovered: {en}", f"{en} outside the threshold" + _PEOPLE_NOTE,
                f"时间阈值外的{zh}" + _PEOPLE_NOTE_ZH)
    m = re.fullmatch(rf"({cats})_(.+)", col)
    if m and m[2] in _SUFFIX_DOCS:
        c = CATEGORIES[m[1]]
        zh, en, d, dz = _SUFFIX_DOCS[m[2]]
        return f"{c.label_zh}{zh}", f"{c.label_en}: {en}", d, dz.format(c=c.label_zh)
    return col, col, "", ""


# --------------------------------------------------------------------------------------------
# atomic writing
# --------------------------------------------------------------------------------------------

def _plain(df: pd.DataFrame, coords_out: str | None = None, *,
           add_point: bool = True) -> pd.DataFrame:
    """Make a non-spatial copy with lon/lat (WGS-84) of a representative point."""
    if isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns:
        g = df.to_crs(4326) if df.crs is not None else df
        out = pd.DataFrame(g.drop(columns=g.geometry.name))
        if add_point and "lon" not in out.columns and "centroid_lon" not in out.columns \
                and len(g):
            geom = g.geometry.to_numpy()
            ok = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
            lon = np.full(len(g), np.nan)
            lat = np.full(len(g), np.nan)
            if ok.any():
                pts = shapely.point_on_surface(geom[ok]) if df.crs is None else \
                    _centroids(df.loc[ok])
                lon[ok], lat[ok] = shapely.get_x(pts), shapely.get_y(pts)
            out["lon"], out["lat"] = lon, lat
    else:
        out = pd.DataFrame(df).copy()
    if coords_out and coords_out != "wgs84":
        from .chinacoords import from_wgs84

        for lo, la in (("lon", "lat"), ("centroid_lon", "centroid_lat"),
                       ("closing_site_lon", "closing_site_lat")):
            if lo in out.columns and la in out.columns:
                x, y = from_wgs84(out[lo].to_numpy(float), out[la].to_numpy(float), coords_out)
                out[f"{lo}_{coords_out}"], out[f"{la}_{coords_out}"] = x, y
    for c in out.columns:  # unreachable: an empty cell, never the text "inf"
        if out[c].dtype.kind == "f":
            v = out[c].to_numpy()
            if np.isinf(v).any():
                out[c] = np.where(np.isinf(v), np.nan, v)
    return _rounded(out)


def _no_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells that would start a formula get a leading apostrophe (OWASP, for CSV)."""
    out = df
    for c in df.columns:
        if df[c].dtype != object and not pd.api.types.is_string_dtype(df[c]):
            continue
        col = df[c]
        bad = col.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START)).to_numpy(bool)
        if bad.any():
            if out is df:
                out = df.copy()
            out[c] = col.astype(object).where(~bad, col[bad].map(spreadsheet_text))
    return out


def _centroids(g: gpd.GeoDataFrame) -> np.ndarray:
    """Centroids computed in the layer's (metric) CRS, returned in EPSG:4326."""
    c = gpd.GeoSeries(shapely.point_on_surface(g.geometry.to_numpy()), crs=g.crs)
    if g.crs is not None and g.crs.is_projected:
        c = gpd.GeoSeries(g.geometry.centroid, crs=g.crs)
        inside = shapely.contains(g.geometry.to_numpy(), c.to_numpy())
        c = gpd.GeoSeries(np.where(inside, c.to_numpy(),
                                   shapely.point_on_surface(g.geometry.to_numpy())), crs=g.crs)
    return c.to_crs(4326).to_numpy()


def _decimals(col: str) -> int | None:
    """Decimals kept for a float column in CSV/XLSX (full float precision is noise).

    Residents are whole people by then (:func:`care15._delivery.whole_people`) in delivered
    tables and are left as they are elsewhere.
    """
    if col in ("lon", "lat", "centroid_lon", "centroid_lat", "closing_site_lon",
               "closing_site_lat") or col.startswith(
            ("lon_", "lat_", "centroid_lon_", "centroid_lat_", "closing_site_lon_",
             "closing_site_lat_")):
        return 7
    if re.search(r"(_cov\d+_|_overlay\d+$|coverage$|_rate$|^share|_share)", col):
        return 6
    if col.endswith(("_min", "_m", "_km2", "_mps", "_per_1000", "_m2_per_100_households")):
        return 3
    return None


def _xlsx_format(col: str) -> str | None:
    if re.search(r"(_cov\d+_|_overlay\d+$|coverage$|_rate$)", col):
        return "0.0%"
    if col.startswith(("pop_", "uncovered_", "newly_covered_")) or col in (
            "households", "beds", "places", "capacity_places", "n_cells",
            "closing_site_cover_target") or col.endswith(("_capacity", "_people")):
        return "#,##0"
    if col.endswith(("_min", "_m", "_per_1000", "_m2", "_households")):
        return "0.0"
    return None


def _rounded(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype.kind == "f":
            d = _decimals(str(c))
            if d is not None:
                out[c] = out[c].round(d)
    return out


def _json_safe(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_safe(x) for x in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.ndarray):
        return _json_safe(v.tolist())
    if isinstance(v, Path):
        return str(v)
    return v


def write_json(obj: Mapping[str, Any], path: str | Path) -> Path:
    """Write ``obj`` as UTF-8 JSON (NaN → null, NumPy scalars → Python), atomically.

    Parameters
    ----------
    obj
        A mapping of JSON-like values (NumPy scalars and arrays, paths and non-finite floats
        are converted).
    path
        The file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_json_safe(obj), ensure_ascii=False, indent=2),
                       encoding="utf-8")
    return path


def write_csv(df: pd.DataFrame, path: str | Path, *, coords_out: str | None = None) -> Path:
    """Write CSV in UTF-8 with BOM (Excel in a Chinese locale opens it), atomically.

    A GeoDataFrame loses its geometry and gains ``lon``/``lat`` (WGS-84) of a representative
    point; floats are rounded to the precision their column needs.

    Parameters
    ----------
    df
        The table.
    path
        The file.
    coords_out
        ``"gcj02"`` or ``"bd09"`` adds ``lon_<system>``/``lat_<system>`` columns.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        _no_formulas(_plain(df, coords_out)).to_csv(tmp, index=False, encoding="utf-8-sig")
    return path


def _to_geo4326(gdf: gpd.GeoDataFrame, coords_out: str | None) -> gpd.GeoDataFrame:
    g = gdf.to_crs(4326) if gdf.crs is not None else gdf.set_crs(4326)
    attrs = _plain(g, coords_out, add_point=False)
    for c in attrs.columns:
        if attrs[c].dtype.kind == "f":  # GeoJSON has no Infinity: unreachable = null
            attrs[c] = attrs[c].where(np.isfinite(attrs[c]))
    for c in attrs.columns:  # GDAL writes object columns of mixed types badly
        if attrs[c].dtype == object:
            attrs[c] = attrs[c].map(lambda v: None if v is None or (isinstance(v, float) and
                                                                    math.isnan(v)) else v)
    return gpd.GeoDataFrame(attrs, geometry=g.geometry.to_numpy(), crs=4326)


def write_geo(gdf: gpd.GeoDataFrame, path: str | Path, *, layer: str | None = None,
              coords_out: str | None = None, precision: int = 6) -> Path:
    """Write GeoJSON, GeoPackage (one layer) or GeoParquet by suffix, in EPSG:4326, atomically.

    GeoJSON coordinates are rounded to ``precision`` decimals (6 ≈ 0.1 m). Infinite values
    (unreachable) are written as null.

    Parameters
    ----------
    gdf
        The layer (a layer without CRS is taken as EPSG:4326).
    path
        The file: ``.geojson``/``.json``, ``.gpkg`` or ``.parquet``.
    layer
        GeoPackage layer name (default the file name); other layers of the file are kept.
    coords_out
        ``"gcj02"`` or ``"bd09"`` adds attribute columns in that system.
    precision
        Decimals of GeoJSON coordinates.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        For an unknown suffix.
    """
    return _write_geo4326(_to_geo4326(gdf, coords_out), path, layer=layer, precision=precision)


def _write_geo4326(g: gpd.GeoDataFrame, path: str | Path, *, layer: str | None = None,
                   precision: int = 6) -> Path:
    """:func:`write_geo` of a layer already in EPSG:4326 with plain attributes."""
    path = Path(path)
    suf = path.suffix.lower()
    if suf in (".geojson", ".json"):
        g = g.set_geometry(shapely.set_precision(g.geometry.to_numpy(), 10 ** -precision))
        with atomic_path(path) as tmp:
            g.to_file(tmp, driver="GeoJSON", layer=layer or path.stem)
    elif suf == ".parquet":
        with atomic_path(path) as tmp:
            g.to_parquet(tmp)
    elif suf == ".gpkg":
        _write_gpkg({layer or path.stem: g}, path)
    else:
        raise ValueError(f"unknown spatial format {suf!r}; use .geojson, .gpkg or .parquet")
    return path


def _write_gpkg(layers: Mapping[str, gpd.GeoDataFrame], path: Path) -> None:
    """Write layers (EPSG:4326) into a GeoPackage at once; its other layers are kept.

    The file is rewritten in one copy that replaces it whole (a reader never sees half of
    it), once for all the layers rather than once per layer.
    """
    with atomic_path(path) as tmp:
        if path.exists():
            import shutil

            shutil.copyfile(path, tmp)
        for name, g in layers.items():
            g.to_file(tmp, driver="GPKG", layer=name)


def _headers(cols: list[str], lang: str) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for c in cols:
        zh, en, _ = column_info(c)
        h = zh if lang == "zh" else en
        if h in seen:  # headers must stay unique
            seen[h] += 1
            h = f"{h} ({c})"
        else:
            seen[h] = 1
        out.append(h)
    return out


def _prepared(tables: Mapping[str, pd.DataFrame], lang: str) -> dict[str, pd.DataFrame]:
    """Delivered tables (CSV and XLSX): names, states, whole people, closing actions."""
    from ._delivery import annotated, whole_people, with_actions

    return with_actions(whole_people(annotated(tables, lang)), lang)


def _cell_summary(cells: pd.DataFrame) -> pd.DataFrame:
    """Cells and residents per category and walk band: the workbook's view of a big grid."""
    from ._rounding import largest_remainder

    rows = []
    pops = [c for c in ("pop_total", "pop_60plus", "pop_0to3") if c in cells.columns]
    for cat in CATEGORIES:
        band = f"{cat}_band"
        if band not in cells.columns:
            continue
        g = cells.groupby(cells[band].astype(str), sort=False)
        t = g[pops].sum() if pops else pd.DataFrame(index=g.size().index)
        t.insert(0, "n_cells", g.size())
        order = sorted(t.index, key=_band_order)
        t = t.loc[order]
        for c in pops:  # whole people adding up to the category's total
            t[c] = largest_remainder(t[c].to_numpy(dtype=float))
        t.insert(0, "walk_band", t.index)
        t.insert(0, "category", cat)
        rows.append(t.reset_index(drop=True))
    return pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()


def _band_order(b: str) -> tuple[int, float]:
    m = re.fullmatch(r"([≤>])(\d+(?:\.\d+)?)", b)
    if m:
        return (0 if m[1] == "≤" else 1, float(m[2]))
    return (2 if b == "unreachable" else 3, 0.0)


def _sheets(prepared: Mapping[str, pd.DataFrame], lang: str, coords_out: str | None,
            threshold_min: float | None, plain: Mapping[str, pd.DataFrame] | None = None
            ) -> list[tuple[str, pd.DataFrame]]:
    """(sheet key, plain table with stable columns and values in ``lang``) in workbook order."""
    from ._delivery import cell_sheet, community_summary, localised

    def flat(name: str) -> pd.DataFrame:
        if plain is not None and name in plain:
            return plain[name]
        return _plain(prepared[name], coords_out)

    out: list[tuple[str, pd.DataFrame]] = []
    for name in prepared:
        if name == "isochrones":
            continue
        if name == "cells":
            if "cells" in prepared:
                summ = _cell_summary(prepared["cells"])
                if len(summ):
                    out.append(("walk_bands", localised(summ, lang)))
            if len(prepared[name]) > LARGE_TABLE_ROWS:
                continue  # write_tables says so once
            out.append((name, localised(cell_sheet(flat(name)), lang)))
            continue
        elif len(prepared[name]) > LARGE_TABLE_ROWS:
            continue
        if name == "communities":
            full = flat(name)
            out.append(("communities", localised(community_summary(full, threshold_min), lang)))
            out.append(("community_detail", localised(full, lang)))
            continue
        out.append((name, localised(flat(name), lang)))
    return out


def _cell_values(s: pd.Series) -> list[Any]:
    """A column as Python values for xlsxwriter: None where empty, no NaN or inf."""
    if isinstance(s.dtype, pd.api.extensions.ExtensionDtype) and s.dtype.kind in "iuf":
        return list(s.to_numpy(dtype=object, na_value=None))
    if s.dtype.kind == "f":
        v = s.to_numpy(dtype=float)
        o = v.astype(object)
        o[~np.isfinite(v)] = None
        return list(o)
    if s.dtype.kind in "iub":
        return s.tolist()
    return [None if v is None or v is pd.NA or (isinstance(v, float) and not math.isfinite(v))
            else v if isinstance(v, (str, bool, int, float)) else str(v) for v in s.tolist()]


def _write_book(sheets: list[tuple[str, pd.DataFrame]], path: Path, lang: str) -> None:
    """One workbook with xlsxwriter: a sheet per table, then the column sheet."""
    import xlsxwriter

    zh = lang == "zh"
    docs: list[tuple[str, str, str, str]] = []
    with atomic_path(path) as tmp:
        # text stays text: no formulas, links or numbers made from strings
        wb = xlsxwriter.Workbook(str(tmp), {"strings_to_formulas": False,
                                            "strings_to_urls": False,
                                            "strings_to_numbers": False})
        head = wb.add_format({"bold": True, "text_wrap": True, "valign": "top",
                              "bg_color": "#EEF2F7", "border": 1})
        fmts: dict[str, Any] = {}
        for name, df in sheets:
            title = TABLE_TITLES.get(name, (name, name))[0 if zh else 1][:31]
            ws = wb.add_worksheet(title)
            cols = [str(c) for c in df.columns]
            heads = _headers(cols, lang)
            ws.write_row(0, 0, heads, head)
            ws.freeze_panes(1, 0)
            for j, (c, h) in enumerate(zip(cols, heads, strict=True)):
                spec = _xlsx_format(c) if df[c].dtype.kind in "fiu" else None
                fmt = None
                if spec:
                    fmt = fmts.setdefault(spec, wb.add_format({"num_format": spec}))
                width = min(40, max(10, len(h) * (2 if zh else 1) + 2))
                ws.set_column(j, j, width, fmt)
                if len(df):
                    ws.write_column(1, j, _cell_values(df[c]), fmt)
                docs.append((title, c, h, column_meaning(c, lang)))
            if len(df):
                ws.autofilter(0, 0, len(df), max(len(cols) - 1, 0))
        sheet = "字段说明" if zh else "Columns"
        ws = wb.add_worksheet(sheet)
        ws.write_row(0, 0, ["表", "字段", "表头", "说明"] if zh else
                     ["Table", "Column", "Header", "Meaning"], head)
        for i, row in enumerate(docs, start=1):
            ws.write_row(i, 0, row)
        for j, w in enumerate((18, 32, 30, 100)):
            ws.set_column(j, j, w)
        ws.freeze_panes(1, 0)
        wb.close()


def write_xlsx(tables: Mapping[str, pd.DataFrame], path: str | Path, *, lang: str = "en",
               coords_out: str | None = None, coverage_threshold_min: float | None = None
               ) -> Path:
    """Write one workbook: a sheet per table in Chinese or English, and a column sheet.

    Residents and households are whole people that add up to the total (largest remainder),
    unreachable minutes are empty (the band or ``nearest_state`` says why), category, type,
    band and yes/no values are in ``lang`` and facility names stand beside facility ids. The
    community table gives two sheets: the planner's columns (社区覆盖 / Communities) and the
    full detail (社区明细 / Community detail). The last sheet (``字段说明`` / ``Columns``) lists
    every column of every sheet: its stable name (as in CSV/GeoJSON), its header and what it
    means, all in ``lang``. Text is written as text (never a formula).

    Parameters
    ----------
    tables
        Sheet key (e.g. ``"gaps"``, titled from :data:`TABLE_TITLES`) → table.
    path
        The ``.xlsx`` file.
    lang
        ``"zh"`` or ``"en"``: headers, values and sheet titles.
    coords_out
        ``"gcj02"`` or ``"bd09"`` adds coordinate columns in that system.
    coverage_threshold_min
        Threshold whose coverage the community sheet shows (default 15 min when present).

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    _write_book(_sheets(_prepared(tables, lang), lang, coords_out, coverage_threshold_min),
                path, lang)
    return path


def write_tables(tables: Mapping[str, pd.DataFrame], out: str | Path, *,
                 formats: tuple[str, ...] = FORMATS, lang: str = "en",
                 coords_out: str | None = None,
                 coverage_threshold_min: float | None = None) -> dict[str, list[Path]]:
    """Write each table in each format into ``out``; returns the paths written per table.

    ``csv``: ``<name>.csv`` (not for isochrones, which are only geometry);
    ``geojson``/``parquet``: ``<name>.geojson``/``<name>.parquet`` for spatial tables;
    ``gpkg``: every spatial table as a layer of ``care15.gpkg``;
    ``xlsx``: ``<name>.xlsx`` for gaps and sites (the files planners share) and
    ``tables.xlsx`` with every non-geometry table as a sheet plus the column sheet
    (the cell sheet shows the planner's columns, every column is in CSV). Tables over
    :data:`LARGE_TABLE_ROWS` rows (a city's cells) are written to CSV, GeoParquet and the
    GeoPackage only, not to XLSX or GeoJSON; the cells' walk-band sheet sums them up.

    CSV and XLSX are delivered tables: whole residents and households adding up to the total,
    empty cells where no facility is reachable, facility names beside ids, and each gap's
    ``closing_action`` in ``lang``; CSV keeps the stable keys (``elderly``, ``day_care``) for
    scripts, XLSX shows them in ``lang``. GeoJSON, GeoPackage and GeoParquet keep the exact
    (fractional) residents.

    Parameters
    ----------
    tables
        Table name (``cells``, ``communities``, ``gaps``, ``sites`` …) → table; spatial
        tables are GeoDataFrames in any CRS and are written in EPSG:4326.
    out
        The folder (created when missing).
    formats
        Any of :data:`FORMATS`.
    lang
        ``"zh"`` or ``"en"``: headers and values of the XLSX files, the closing actions.
    coords_out
        ``"gcj02"`` or ``"bd09"`` adds coordinate columns for Chinese web maps.
    coverage_threshold_min
        Threshold whose coverage the community sheet shows (default 15 min when present).

    Returns
    -------
    dict of str to list of pathlib.Path
        Per table, the files it was written to.

    Raises
    ------
    ValueError
        For an unknown format.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import geopandas as gpd
    >>> import shapely
    >>> from care15.export import write_tables
    >>> gaps = gpd.GeoDataFrame({"gap_id": ["elderly-1"], "rank": [1],
    ...                          "uncovered_target": [120.4]},
    ...                         geometry=[shapely.box(0, 0, 100, 100)], crs="EPSG:32650")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     written = write_tables({"gaps": gaps}, tmp, formats=("csv", "geojson"))
    ...     print(sorted(p.name for p in written["gaps"]))
    ...     print(Path(tmp, "gaps.csv").read_text(encoding="utf-8-sig"))
    ['gaps.csv', 'gaps.geojson']
    gap_id,rank,uncovered_target,lon,lat
    elderly-1,1,120,112.5117041,0.000451
    <BLANKLINE>
    """
    from ._delivery import annotated

    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ValueError(f"unknown formats {bad}; use {FORMATS}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[Path]] = {n: [] for n in tables}
    need_delivered = "csv" in formats or "xlsx" in formats
    prepared = _prepared(tables, lang) if need_delivered else {}
    geo = annotated(tables, lang) if any(f in formats for f in ("geojson", "parquet", "gpkg")) \
        else {}
    plain: dict[str, pd.DataFrame] = {}
    gpkg_layers: dict[str, gpd.GeoDataFrame] = {}
    for name, df in tables.items():
        spatial = isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns
        if need_delivered and name != "isochrones":
            plain[name] = _plain(prepared[name], coords_out)
        if "csv" in formats and name != "isochrones":
            path = out / f"{name}.csv"
            with atomic_path(path) as tmp:
                _no_formulas(plain[name]).to_csv(tmp, index=False, encoding="utf-8-sig")
            written[name].append(path)
        large = name != "isochrones" and len(df) > LARGE_TABLE_ROWS
        if large and any(f in formats for f in ("xlsx", "geojson")):
            log.info("%s has %d rows; left out of tables.xlsx and GeoJSON (see %s.csv and "
                     "%s.parquet)", name, len(df), name, name)
        g4326 = (_to_geo4326(geo[name], coords_out) if spatial and
                 any(f in formats for f in ("geojson", "parquet", "gpkg")) else None)
        if g4326 is not None and "geojson" in formats and not large:
            written[name].append(_write_geo4326(g4326, out / f"{name}.geojson"))
        if g4326 is not None and "parquet" in formats:
            written[name].append(_write_geo4326(g4326, out / f"{name}.parquet"))
        if g4326 is not None and "gpkg" in formats:
            gpkg_layers[name] = g4326
            written[name].append(out / "care15.gpkg")
        if "xlsx" in formats and name in ("gaps", "sites", "short_communities", "compounds",
                                          "short_compounds"):
            p = out / f"{name}.xlsx"
            _write_book(_sheets({name: prepared[name]}, lang, coords_out,
                                coverage_threshold_min, plain), p, lang)
            written[name].append(p)
    if gpkg_layers:
        _write_gpkg(gpkg_layers, out / "care15.gpkg")
    if "xlsx" in formats and len(tables) > 1:
        p = out / "tables.xlsx"
        sheets = _sheets(prepared, lang, coords_out, coverage_threshold_min, plain)
        _write_book(sheets, p, lang)
        for n in tables:
            if n != "isochrones" and (n == "cells" or len(tables[n]) <= LARGE_TABLE_ROWS):
                written[n].append(p)
    return written
