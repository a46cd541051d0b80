"""Policy targets, planning norms and defaults, each with its source.

Every number care15 uses as a default or a target lives here, as data, with the document it
comes from (a seed plan in ``shared/seeds/`` or a national standard). Nothing else in the
package hard-codes a norm: scenarios, coverage tables and site suggestions read them from
:data:`STANDARDS`.

Notes
-----
Seeds: 000 Ningxia 养老托育三年行动 2023–2025 · 001 新城 district 实施方案 · 002 Qujing 曲靖
一老一小整体解决方案 (2022-09-30) · 003 Zhejiang 浙民提〔2023〕41号 · 004 Lanzhou 兰州 news.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

__all__ = [
    "CATEGORIES",
    "STANDARDS",
    "Category",
    "Standard",
    "Subtype",
    "get",
]


@dataclass(frozen=True)
class Standard:
    """One norm or default value with its provenance.

    Attributes
    ----------
    key
        Stable identifier used by scenarios and tables.
    value
        The number.
    unit
        Unit of ``value`` (``"min"``, ``"m/s"``, ``"share"``, ``"places per 1000 residents"``...).
    label_zh, label_en
        Human labels for tables and maps.
    source
        Seed file or national standard the value comes from.
    note
        How care15 uses it, or caveats.
    """

    key: str
    value: float
    unit: str
    label_zh: str
    label_en: str
    source: str
    note: str = ""


_RAW: tuple[Standard, ...] = (
    # -- walking thresholds -------------------------------------------------------------
    Standard("threshold_5_min", 5, "min", "五分钟生活圈", "5-minute circle",
             "GB 50180-2018 城市居住区规划设计标准, table 3.0.4 (about 300 m)",
             "托育/日间照料 sit at the 5-minute level"),
    Standard("threshold_10_min", 10, "min", "十分钟生活圈", "10-minute circle",
             "GB 50180-2018, table 3.0.4 (about 500 m)"),
    Standard("threshold_15_min", 15, "min", "十五分钟服务圈", "15-minute circle",
             "GB 50180-2018 (800–1000 m); seeds 002 (城镇养老托育十五分钟服务圈), 003 (养老圈/育儿圈)"),
    # -- walking speeds -----------------------------------------------------------------
    Standard("walk_speed_default_mps", 1.0, "m/s", "一般步行速度", "general walking speed",
             "Chinese planning practice, 60 m/min (shared/standards.md §2, ⚠️)",
             "gives 300/600/900 m for 5/10/15 min"),
    Standard("walk_speed_elderly_mps", 0.8, "m/s", "老年人步行速度", "older residents' walking speed",
             "Below the 0.92 m/s 15th-percentile crossing speed of people over 65 "
             "(Gates et al. 2006, TRR 1982; TCRP/NCHRP 2005)",
             "sidewalks and frail users are slower than crossing speeds; test 0.7–1.0"),
    Standard("walk_speed_childcare_mps", 0.9, "m/s", "带婴幼儿步行速度", "parent with a 0–2 child",
             "Gates et al. 2006: adult-assisted children walk about as slowly as over-65s ❓",
             "no measured stroller speed found; test 0.8–1.1"),
    # -- age shares (7th census) ---------------------------------------------------------
    Standard("share_60plus", 0.1870, "share", "60岁及以上人口占比", "share aged 60+",
             "第七次全国人口普查公报(第五号), 2021 (264,018,766 of 1,411,778,724)",
             "national default; prefer local census or rasters"),
    Standard("share_0to3", 0.030, "share", "3岁以下婴幼儿占比", "share aged 0–2 (under 3)",
             "7th census births 2018–20 ≈ 41.9 M over 1,411.8 M ❓",
             "national default; prefer local data"),
    Standard("household_size", 2.62, "persons", "平均家庭户规模", "persons per family household",
             "第七次全国人口普查公报(第五号)"),
    # -- coverage targets ----------------------------------------------------------------
    Standard("target_elderly_coverage", 0.90, "share", "社区养老服务设施覆盖率",
             "community elderly-care facility coverage",
             "seed 000 Ningxia (>90%); seed 002 Qujing 城市社区居家养老服务中心覆盖率 90%",
             "applied to residents 60+ within 15 min and to the share of communities"),
    Standard("target_childcare_coverage", 0.90, "share", "社区托育服务覆盖率",
             "community childcare coverage",
             "seed 002 (城镇养老托育十五分钟服务圈); 90% by analogy with seed 000's elderly target",
             "no seed states a childcare coverage percentage; 90% mirrors the elderly target"),
    Standard("target_childcare_places_per_1000", 4.5, "places per 1000 residents",
             "每千人口拥有3岁以下婴幼儿托位数", "childcare places per 1,000 residents",
             "14th Five-Year Plan; seeds 000, 002, 004"),
    Standard("target_childcare_places_per_1000_new", 10.0, "places per 1000 residents",
             "新建居住区托位配建", "childcare places per 1,000 residents (new areas)",
             "seed 000; seed 003"),
    Standard("target_childcare_places_per_1000_existing", 8.0, "places per 1000 residents",
             "老旧小区托位配建", "childcare places per 1,000 residents (existing areas)", "seed 000"),
    Standard("target_elderly_area_m2_per_100_households", 20.0, "m² per 100 households",
             "养老服务设施配建面积", "elderly-care floor area per 100 households",
             "seeds 000, 001 (002 asks 25)"),
    Standard("target_elderly_site_min_m2", 200.0, "m²", "单处养老用房最小面积",
             "minimum elderly-care site area", "seed 000"),
    # -- per-compound (小区) norms ----------------------------------------------------------
    Standard("compound_elderly_m2_per_100_households_new", 20.0, "m² per 100 households",
             "新建居住区养老服务设施配建(每百户)", "elderly-care floor area, new areas",
             "seed 000 宁夏 三年行动方案 2023–2025: 凡新建居住区,按每百户不少于20平方米的标准配套建设"
             "养老服务设施",
             "a city sets its own value in the scenario: seed 002 曲靖 asks 每百户配套25平方米以上 "
             "for new compounds (compounds.elderly_m2_per_100_households_new = 25)"),
    Standard("compound_elderly_m2_per_100_households_new_qujing", 25.0, "m² per 100 households",
             "曲靖新建住宅小区养老服务设施配建(每百户)", "elderly-care floor area, new areas (Qujing)",
             "seed 002 曲靖 一老一小整体解决方案 (2022-09-30): 新建住宅小区按要求每百户配套25平方米以上"
             "养老服务设施",
             "a city value, not a default: set it in the scenario's [compounds] section"),
    Standard("compound_elderly_m2_per_100_households_existing", 20.0, "m² per 100 households",
             "已建成居住区养老服务设施补齐(每百户)", "elderly-care floor area, existing areas",
             "seed 000 (2014年以后建设的居住区 ... 按每百户不少于20平方米的标准补齐); seed 001 "
             "(已建成居住(小)区和老城区 ... 按照每百户不少于20平方米); seed 002 (老旧小区 ... 每百户不低于"
             "20平方米)"),
    Standard("compound_elderly_site_min_m2", 200.0, "m²", "每处养老用房建筑面积下限",
             "minimum floor area of one elderly-care site",
             "seed 000: 每处建筑面积不得少于200平方米 (for sites that complete existing areas)",
             "serving sites below it are flagged per compound; their area still counts"),
    Standard("compound_childcare_places_per_1000_new", 10.0, "places per 1000 residents",
             "新建居住区托位配建(每千常住人口)", "childcare places per 1,000 residents, new areas",
             "seed 000: 按每千常住人口不少于10个托位 ... 配套建设托育服务设施; seed 003 浙江: "
             "每千人10个以上托位"),
    Standard("compound_childcare_places_per_1000_existing", 8.0, "places per 1000 residents",
             "已建成居住区托位补齐(每千常住人口)", "childcare places per 1,000 residents, "
             "existing areas", "seed 000: 按每千常住人口不少于8个托位的标准补齐托育服务设施"),
    Standard("compound_childcare_m2_per_place", 8.0, "m² per place", "每个托位建筑面积下限",
             "minimum childcare floor area per place",
             "seed 000: 每个托位建筑面积不少于8平方米",
             "serving sites whose floor area ÷ places is below it are flagged"),
    Standard("compound_new_from_year", 2023.0, "year", "新建居住区起算年份",
             "first build year of a new residential area",
             "seed 000 (issued 2023) sets the 新建居住区 norms from its date",
             "compounds built in or after this year are judged as new, older ones as existing; "
             "a scenario value (compounds.new_from_year)"),
    Standard("compound_retrofit_from_year_ningxia", 2014.0, "year", "宁夏补齐设施适用建成年份",
             "first build year of existing areas that must be completed (Ningxia)",
             "seed 000: 2014年以后建设的居住区无养老托育服务设施 ... 通过移交、购置、置换、租赁等方式 ... "
             "补齐",
             "a regional value, not a default: set compounds.retrofit_from_year = 2014 to leave "
             "older existing compounds unassessed as Ningxia does"),
    # -- compound gates (小区出入口) -----------------------------------------------------------
    Standard("compound_gate_detour_factor", 1.3, "ratio", "小区内步行绕行系数",
             "walking detour inside a compound (home to gate)",
             "care15 assumption, not a norm: network ÷ straight-line distance of walks in dense "
             "urban grids is 1.2–1.4 (Yang & Diez-Roux 2012, Am J Prev Med 43(1):11-19: median "
             "≈ 1.3 for walks under 1.6 km)",
             "the walk from a resident's building (or a point of the compound's area) to a gate "
             "is the straight line × this factor, as the inner paths of compounds are seldom "
             "mapped; a scenario value (compounds.detour_factor)"),
    Standard("compound_gate_street_max_m", 100.0, "m", "出入口距道路最大距离",
             "longest distance from a gate to a walkable street",
             "care15 default: a gate opens onto a street; 100 m is beyond any mapped forecourt",
             "a gate from a file farther than this from every street is refused; an OSM gate is "
             "left out with a note"),
    Standard("compound_file_gate_max_m", 50.0, "m", "出入口距小区边界最大距离",
             "longest distance from a listed gate to its compound's outline",
             "care15 default: GCJ-02 points lie 300–600 m off WGS-84 in China, so a gate 50 m "
             "off its outline is the sign of a wrong coordinate system or compound column",
             "gates of a planner's file farther than this from their compound are refused"),
    Standard("compound_gate_near_m", 20.0, "m", "OSM出入口归属小区距离",
             "distance within which an OSM gate node belongs to a compound",
             "care15 default: gates are mapped on the access road a few metres off the wall",
             "an OSM barrier=gate / entrance=* node is a gate of the compounds whose outline lies "
             "within this distance"),
    Standard("target_elderly_beds_per_1000_60plus", 40.0, "beds per 1000 residents 60+",
             "每千名老年人养老床位", "care-home beds per 1,000 residents 60+",
             "GB 50437-2007 (2018 ed.) 城镇老年人设施规划规范 ⚠️",
             "seed 002 baseline 20.36 beds per 1000 elderly (2020)"),
    Standard("childcare_enrolment_rate", 0.06, "share", "婴幼儿入托率", "enrolment rate of under-3s",
             "national figure: about 6% of families enrolled, >30% want care (2021) ✅",
             "demand for capacity-aware siting = pop_0to3 × rate"),
    Standard("childcare_new_site_places", 30.0, "places", "新增托育点托位数",
             "places of a new childcare site",
             "seed 002 Qujing 一老一小整体解决方案 (2022): 配建 size bands ≤30, 31–60, 61–90, "
             "91–150 托位 ✅; class sizes 托小班 ≤ 15, 托大班 ≤ 20 in 托育机构设置标准(试行), "
             "国卫人口发〔2019〕58号 Art. 19 ⚠️",
             "default for --capacity-aware siting: the top of the smallest band, a community "
             "childcare point in 配建 space (two classes of 15), the kind of site an existing "
             "neighbourhood can add; it does not overstate what one site brings. A candidate's "
             "own capacity_places wins; set analysis.new_site_places for larger centres"),
    # -- technical defaults ----------------------------------------------------------------
    Standard("cell_size_m", 100.0, "m", "人口网格边长", "population grid cell size",
             "care15 default (WorldPop 100 m grids)"),
    Standard("max_access_m", 250.0, "m", "最大接入距离", "longest off-network walk to a street",
             "care15 default", "points farther from any walkable edge are reported, not attached"),
    Standard("isochrone_walkoff_m", 50.0, "m", "等时圈缓冲距离", "isochrone walk-off buffer",
             "care15 default: half a typical 100 m urban block",
             "isochrones are reached street segments buffered by this distance"),
    Standard("e2sfca_decay_beta", 0.0, "1/min", "距离衰减", "E2SFCA decay",
             "care15 default; see access.e2sfca"),
    # -- housing and density (population estimates from OSM) ----------------------------------
    Standard("housing_floor_m2_per_person", 36.52, "m² per person", "城市家庭户人均住房建筑面积",
             "housing floor area per person (urban family households)",
             "第七次全国人口普查 (2020-11-01), long-form tables, 《中国人口普查年鉴-2020》: "
             "城市 36.52 m², 镇 42.29 m², 乡村 46.80 m², all family households 41.76 m² "
             "(⚠️ figures as widely reported; verify the decimals against the yearbook)",
             "gross floor area (建筑面积) per resident; a cell's mapped residential floor area "
             "(footprint × levels) ÷ this = the residents it can house. The urban figure is the "
             "smallest, so it gives the most residents per m² (the least restrictive cap)"),
    Standard("max_residents_per_ha", 1500.0, "residents per ha", "单元格人口密度上限",
             "densest plausible residential hectare",
             "care15 ceiling, not a norm (shared/standards.md §4 ⚠️): floor-area ratio 5 on a "
             "hectare of housing at 36.52 m² per person holds 50,000 / 36.52 ≈ 1,370 residents "
             "(FAR 3.5 ≈ 960; GB 50180-2018 caps new 居住街坊 at FAR ≈ 3.1 ❓); rounded up to "
             "1,500 for old areas with smaller dwellings. Hong Kong's densest neighbourhoods "
             "(Mong Kok) reach about 1,300 per ha ⚠️",
             "no 100 m cell (1 ha) of an OSM estimate holds more, nor a cell more than this × its "
             "hectares of residential land use; a ceiling for estimates only, never applied to "
             "a population layer the planner supplies (which is reported if denser)"),
)

#: All norms keyed by :attr:`Standard.key` (read-only).
STANDARDS: MappingProxyType[str, Standard] = MappingProxyType({s.key: s for s in _RAW})


def get(key: str) -> float:
    """Return the value of the standard ``key``.

    Parameters
    ----------
    key
        A key of :data:`STANDARDS` (e.g. ``"share_60plus"``).

    Returns
    -------
    float
        The standard's value, in its :attr:`Standard.unit`.

    Raises
    ------
    KeyError
        With the list of known keys.
    """
    try:
        return STANDARDS[key].value
    except KeyError:
        raise KeyError(f"unknown standard {key!r}; known: {', '.join(sorted(STANDARDS))}") from None


# ---------------------------------------------------------------------------------------
# Service categories and the facility glossary (shared/standards.md §3)
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Subtype:
    """A facility sub-type with the OSM tags and name keywords that identify it.

    ``osm_tags`` is a tuple of tag sets; a feature matches when it carries every tag of any one
    set (``None`` as a value means "any value"). ``include``/``exclude`` are substrings of the
    ``name`` (any language).
    """

    key: str
    label_zh: str
    label_en: str
    osm_tags: tuple[tuple[tuple[str, str | None], ...], ...]
    include: tuple[str, ...]
    exclude: tuple[str, ...] = ()
    counts_as_supply: bool = True


@dataclass(frozen=True)
class Category:
    """A service category (elderly care, childcare) and the age group it serves."""

    key: str
    label_zh: str
    label_en: str
    target_group: str  # column name of the group served: "pop_60plus" or "pop_0to3"
    speed_key: str  # STANDARDS key of the walking speed of that group
    coverage_target_key: str
    capacity_column: str  # "beds" or "places"
    subtypes: tuple[Subtype, ...]


_SENIOR = ("social_facility:for", "senior")

CATEGORIES: MappingProxyType[str, Category] = MappingProxyType({
    "elderly": Category(
        key="elderly", label_zh="养老服务", label_en="Elderly care",
        target_group="pop_60plus", speed_key="walk_speed_elderly_mps",
        coverage_target_key="target_elderly_coverage", capacity_column="beds",
        subtypes=(
            Subtype("care_home", "养老院/敬老院", "Care home / nursing home",
                    ((("amenity", "social_facility"), ("social_facility", "nursing_home")),
                     (("amenity", "social_facility"), ("social_facility", "assisted_living")),
                     (("amenity", "social_facility"), ("social_facility", "group_home"), _SENIOR),
                     (("amenity", "nursing_home"),)),
                    ("养老院", "敬老院", "福利院", "老年公寓", "护理院", "养护院", "颐养院",
                     "康养中心", "光荣院", "nursing home", "care home", "retirement home",
                     "elderly home", "senior home"),
                    ("儿童福利院", "养老保险", "社保", "宠物")),
            Subtype("day_care", "日间照料中心", "Adult day-care centre",
                    ((("social_facility", "day_care"), _SENIOR),
                     (("amenity", "social_facility"), ("social_facility", "day_care"))),
                    ("日间照料", "日照中心", "托老所", "老年日托", "adult day care",
                     "senior day care")),
            Subtype("home_care_centre", "居家养老服务中心", "Home/community elderly-care centre",
                    ((("social_facility", "outreach"), _SENIOR),),
                    ("居家养老", "养老服务中心", "养老服务站", "养老驿站", "为老服务", "长者服务",
                     "综合为老", "嵌入式养老", "senior centre", "senior center")),
            Subtype("canteen", "老年食堂/助餐点", "Elderly canteen / meal point", (),
                    ("老年食堂", "长者食堂", "助餐", "幸福食堂", "幸福餐桌", "老饭桌", "爱心食堂",
                     "邻里食堂")),
        ),
    ),
    "childcare": Category(
        key="childcare", label_zh="托育服务", label_en="Childcare (0–3)",
        target_group="pop_0to3", speed_key="walk_speed_childcare_mps",
        coverage_target_key="target_childcare_coverage", capacity_column="places",
        subtypes=(
            Subtype("nursery", "托育机构/托儿所", "Nursery / day care (0–3)",
                    ((("amenity", "childcare"),),
                     (("amenity", "kindergarten"), ("nursery", "yes"))),
                    ("托育", "托儿所", "托儿", "婴幼儿照护", "育婴", "托育园", "宝宝屋", "家庭托育",
                     "普惠托育", "nursery", "daycare", "day care", "crèche", "creche"),
                    ("早教",)),
            Subtype("kindergarten", "幼儿园(托班)", "Kindergarten (toddler class)",
                    ((("amenity", "kindergarten"),),),
                    ("幼儿园", "幼稚园", "托幼", "kindergarten", "päiväkoti", "daghem"),
                    ("妇幼保健", "原幼儿园", "停车场", "规划")),
            Subtype("community_point", "社区托育点", "Community childcare point", (),
                    ("社区托育", "托育点", "托育驿站")),
            Subtype("early_education", "早教中心", "Early-education centre", (),
                    ("早教", "亲子园", "早期教育"), counts_as_supply=False),
        ),
    ),
})
