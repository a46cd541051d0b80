"""Chinese text for care15's English notes, console messages and progress labels.

The notes about the data (``summary.json`` ``notes``) are written in English by the modules
that find them and stay English there, as stable text a script can match. This module turns
each of them into Chinese for the ``--lang zh`` console and ``report.html``: a table of regular
expressions, one per kind of note, each with its Chinese template. The same table covers the
messages care15 logs while it runs (cache hits, ways left out) and the labels of its progress
lines, so that one run prints one language.

A text no pattern matches is returned unchanged by :func:`translate`; :func:`translate_or_none`
says so with None (the tests use it to prove every note care15 emits has a translation).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["note_text", "notes_in", "translate", "translate_or_none"]

_Fill = Callable[[dict[str, str]], str]

_CATEGORY = {"elderly": "养老服务", "childcare": "托育服务",
             "elderly care": "养老服务", "childcare (0–3)": "托育服务"}

_WHY = {"a tunnel, covered or indoor way": "隧道、有顶或室内通道",
        "a bridge or other level": "桥梁或其他层面的道路",
        "a small disconnected piece": "不连通的小片路网"}


def _cat(s: str) -> str:
    """The Chinese label of a category key or English label (lower case)."""
    return _CATEGORY.get(s.strip().lower(), s)


def _rows(s: str) -> str:
    """``[3, 7]`` → ``3, 7`` (row lists are printed as Python lists)."""
    return s.strip().strip("[]")


def _count(s: str) -> str:
    """``3 population cells (1,644 residents) and 2 facilities`` in Chinese."""
    m = re.fullmatch(r"(?:(?P<nc>[\d,]+) population cells?(?: \((?P<r>[\d,]+) residents\))?)?"
                     r"(?: and )?(?:(?P<nf>[\d,]+) facilit(?:y|ies))?", s.strip())
    if m is None or not (m["nc"] or m["nf"]):
        return s
    parts = []
    if m["nc"]:
        parts.append(f"{m['nc']} 个人口网格" + (f"({m['r']} 人)" if m["r"] else ""))
    if m["nf"]:
        parts.append(f"{m['nf']} 处设施")
    return "和 ".join(parts)


def _entry_parts(s: str) -> str:
    """The "; "-separated reasons of the entry note: ``N cells next to a tunnel …``."""
    out = []
    for part in s.split("; "):
        m = re.fullmatch(r"(?P<who>.+?) next to (?P<why>[^(]+?)(?: \((?P<detail>.+)\))?",
                         part.strip())
        if m is None:
            out.append(part)
            continue
        why = _WHY.get(m["why"], m["why"])
        detail = m["detail"] or ""
        d = re.fullmatch(r"an at-grade street within ([\d.,]+) m more", detail)
        if d:
            why += f"(平面道路只远 {d[1]} 米以内)"
        d = re.fullmatch(r"a larger piece within ([\d.,]+) m", detail)
        if d:
            why += f"({d[1]} 米内有更大的路网)"
        out.append(f"{_count(m['who'])}邻近{why}")
    return "; ".join(out)


def _pieces_who(s: str) -> str:
    """``: name (piece 3), other (piece 5) and 2 more`` in Chinese."""
    if not s:
        return ""
    s = re.sub(r" \(piece (\d+)\)", r"(第 \1 片)", s)
    s = re.sub(r" and (\d+) more$", r" 等, 另有 \1 处", s)
    return s


def _dropped(s: str) -> str:
    """``2 far from network, 1 on water`` (candidate counts) in Chinese."""
    names = {"far from network": "距道路过远", "on water": "位于水面", "duplicate": "重复"}
    out = []
    for part in s.split(", "):
        m = re.fullmatch(r"([\d,]+) (.+)", part.strip())
        out.append(f"{names.get(m[2], m[2])} {m[1]} 处" if m else part)
    return ", ".join(out)


def _dropped_dict(s: str) -> str:
    """``{'far_from_network': 2, 'on_water': 0, 'duplicate': 1}`` in Chinese."""
    pairs = re.findall(r"'(\w+)': (\d+)", s)
    if not pairs:
        return s
    return _dropped(", ".join(f"{v} {k.replace('_', ' ')}" for k, v in pairs))


def _t(template: str, **subs: Callable[[str], str]) -> _Fill:
    """A filler: ``template`` formatted with the match's groups, some passed through ``subs``."""

    def fill(g: dict[str, str]) -> str:
        vals = {k: ("" if v is None else v) for k, v in g.items()}
        for k, f in subs.items():
            vals[k] = f(vals.get(k, ""))
        return template.format(**vals)

    return fill


def _density(s: str) -> str:
    """A sentence that is itself a note (or a progress label), translated on its own."""
    return translate(s.strip(), "zh")


_N = r"[\d,]+"
_F = r"[\d,.]+"
_PCT = r"[\d.]+%"

#: (pattern, Chinese) pairs; the first full match wins. Patterns name their groups.
_RULES: list[tuple[str, _Fill]] = [
    # ---- region.py -------------------------------------------------------------------------
    (rf"Street network: (?P<n>{_N}) nodes, (?P<e>{_N}) edges, (?P<km>{_F}) km "
     r"\((?P<src>.+?)(?P<hit>; parsed earlier, read from the cache)?\)\.",
     lambda g: f"路网: {g['n']} 个节点, {g['e']} 条路段, 共 {g['km']} 公里({g['src']}"
               + ("; 此前已解析, 读取自缓存" if g["hit"] else "") + ")。"),
    (rf"Communities: the OSM administrative areas leave (?P<r>{_N}) residents \((?P<p>{_PCT})\) "
     rf"outside; they are reported in (?P<k>{_N}) grid districts of (?P<s>{_F}) m \(the parts no "
     r"OSM area covers\)\.",
     _t("社区: OSM 行政区以外还有 {r} 名居民({p}); 他们按 {k} 个 {s} 米网格片区统计"
        "(OSM 行政区未覆盖的部分)。")),
    (rf"(?P<n>{_N}) rows of (?P<f>.+) had no usable coordinate and were left out: rows "
     r"(?P<rows>.+)",
     _t("{f} 中有 {n} 行没有可用坐标, 未计入: 第 {rows} 行", rows=_rows)),
    (rf"Facilities from OSM tags and names: (?P<n>{_N}) found\.",
     _t("设施取自 OSM 标签和名称: 共找到 {n} 处。")),
    (rf"Communities: (?P<n>{_N}) OSM administrative areas\.",
     _t("社区: {n} 个 OSM 行政区。")),
    (rf"Communities: no boundaries given or mapped; using a regular grid of (?P<n>{_N}) "
     rf"districts of (?P<s>{_F}) m\.",
     _t("社区: 未提供社区边界, OSM 中也没有; 改用 {n} 个 {s} 米规则网格片区。")),
    (rf"Communities: none given; using a regular grid of (?P<n>{_N}) 1 km districts\.",
     _t("社区: 未提供; 改用 {n} 个 1 公里规则网格片区。")),
    (rf"(?P<n>{_N}) pairs of communities in (?P<f>.+) overlap; (?P<r>{_N}) residents "
     rf"\((?P<p>{_PCT})\) live where two or more overlap and are counted in the first one only\.",
     _t("{f} 中有 {n} 对社区相互重叠; {r} 名居民({p})住在重叠处, 只计入第一个社区。")),
    (rf"(?P<r>{_N}) residents \((?P<p>{_PCT})\) live outside every community of (?P<f>.+); the "
     r"community table lists them in a row of their own, '\(outside communities / 社区范围外\)'\.",
     _t("{r} 名居民({p})不在 {f} 的任何社区内; 社区表单列一行 '(outside communities / "
        "社区范围外)'。")),
    # ---- analysis.py / tiling.py -------------------------------------------------------------
    (rf"(?P<n>{_N}) population cells \((?P<r>{_N}) residents\) are more than (?P<m>{_F}) m from "
     r"any walkable street a pedestrian can enter \(tunnels and indoor ways do not count\); they "
     r"are not attached across rivers or blocks and count as not covered\.",
     _t("{n} 个人口网格({r} 人)距任何行人可进入的步行道路超过 {m} 米(隧道和室内通道不算); "
        "不跨河流或街区接入路网, 计为未覆盖。")),
    (rf"The street network has (?P<n>{_N}) disconnected pieces; the largest holds (?P<a>{_N}) of "
     rf"(?P<b>{_N}) nodes and (?P<p>{_PCT}) of residents\.",
     _t("路网由 {n} 个互不连通的部分组成; 最大的部分含 {b} 个节点中的 {a} 个, 以及 {p} 的居民。")),
    (rf"(?P<n>{_N}) facilities are more than (?P<m>{_F}) m from any walkable street and are left "
     r"out: (?P<names>.*)",
     _t("{n} 处设施距任何步行道路超过 {m} 米, 未计入: {names}")),
    (r"No (?P<en>.+?) facility \((?P<zh>.+?)\) in the data: every resident is a gap "
     r"\(0% coverage\)\.",
     _t("数据中没有{zh}设施: 所有居民都是缺口(覆盖率 0%)。")),
    (rf"None of the (?P<n>{_N}) (?P<c>.+?) facilities is within (?P<m>{_F}) m of a street: every "
     r"resident is a gap\.",
     _t("{n} 处{c}设施都不在道路 {m} 米以内: 所有居民都是缺口。", c=_cat)),
    (r"All (?P<c>.+?) facilities sit on small network pieces (?P<p>\[.*?\]) that are not "
     r"connected to the main street network: most residents cannot reach them\.",
     _t("所有{c}设施都位于未与主路网相连的小片路网 {p} 上: 大多数居民无法到达。", c=_cat)),
    (rf"(?P<c>\w+): the (?P<t>{_F})-minute circle \((?P<m>{_F}) m at (?P<v>{_F}) m/s\) already "
     r"reaches every street the facilities connect to; the threshold is beyond the network's "
     r"extent, so facilities outside the extract are not seen and edge areas may be "
     r"under-covered\.",
     _t("{c}: {t} 分钟步行圈({m} 米, 步速 {v} m/s)已到达设施所连的全部道路; 阈值超出路网范围, "
        "数据范围外的设施无法计入, 边缘地区的覆盖可能被低估。", c=_cat)),
    (rf"(?P<n>{_N}) communities have no residents in the population data; their rates are "
     r"undefined \(shown as n/a\): (?P<names>.*)",
     _t("{n} 个社区在人口数据中没有居民, 覆盖率无法计算(显示为 n/a): {names}")),
    (rf"Analysed in (?P<n>{_N}) tiles of (?P<km>{_F}) km with a (?P<h>{_F}) m halo: walking "
     rf"times up to (?P<t>{_F}) minutes are exact; longer ones are not computed \(shown as blank, "
     rf"band '>(?P<t2>{_F})'\)\.",
     _t("分 {n} 块分析, 每块 {km} 公里, 外扩 {h} 米: {t} 分钟以内的步行时间是精确的; 更长的不计算"
        "(显示为空, 分段 '>{t2}')。")),
    # ---- network.py entry notes -------------------------------------------------------------
    (r"(?P<who>.+?) joined the nearest street a pedestrian can enter instead of a nearer way: "
     r"(?P<parts>.+)\.",
     _t("{who}接入了行人可进入的最近道路, 而不是更近的道路: {parts}。",
        who=_count, parts=_entry_parts)),
    (rf"(?P<who>.+?) could only be joined to small disconnected street pieces \(fewer than "
     rf"(?P<j>{_N}) junctions, no larger piece within (?P<m>{_F}) m\); they reach and are reached "
     r"only within their piece, so check the street data there(?P<list>: .+)?\.",
     _t("{who}只能接入不连通的小片路网(少于 {j} 个路口, {m} 米内没有更大的路网); "
        "它们只在所在小片内可达, 请检查该处道路数据{list}。", who=_count, list=_pieces_who)),
    # ---- population (summary notes and the report) -----------------------------------------
    (rf"Implausible density: the densest cell holds (?P<r>{_N}) residents \((?P<d>{_N}) per ha\), "
     rf"above the (?P<c>{_N}) per ha that care15 takes as the densest plausible housing; check the "
     r"population layer \(units, double counting, points carrying a whole district\)\.",
     _t("人口密度不合理: 最密网格有 {r} 人(每公顷 {d} 人), 超过 care15 认为住房最密的合理值 "
        "每公顷 {c} 人; 请检查人口图层(单位、重复计数、代表整个街道的点)。")),
    (rf"Implausible density: the densest cell holds (?P<r>{_N}) residents \((?P<d>{_N}) per ha\), "
     rf"above the ceiling of (?P<c>{_N}) per ha\.",
     _t("人口密度不合理: 最密网格有 {r} 人(每公顷 {d} 人), 超过上限每公顷 {c} 人。")),
    (rf"Overcrowded estimate: every cell holds (?P<x>{_F}) times what its housing can hold "
     rf"\(at (?P<m2>{_F}) m² per person and at most (?P<c>{_N}) per ha\)\.",
     _t("估算过于拥挤: 每个网格的人数是其住房容量的 {x} 倍(按人均 {m2} 平方米、每公顷至多 {c} 人)。")),
    (rf"(?P<what>.+\.) The total of (?P<t>{_N}) is more than the housing OSM maps here can hold "
     rf"\((?P<cap>{_N})\) by (?P<o>{_N}) residents; check the total and the study area, or pass a "
     r"population layer \(--population\)\.",
     _t("{what} 总人口 {t} 比 OSM 在此绘出的住房能容纳的人数({cap})多 {o} 人; 请检查总人口和研究区, "
        "或提供人口图层(--population)。", what=_density)),
    (rf"Densest cell: (?P<r>{_N}) residents \((?P<d>{_N}) per ha\)\.",
     _t("最密网格: {r} 人(每公顷 {d} 人)。")),
    # ---- data warnings (DataWarning messages) -----------------------------------------------
    (r"(?P<f>.+?): column (?P<c>'.*?') rows (?P<rows>\[.*?\]) are not numbers and are read as "
     r"unknown",
     _t("{f}: 列 {c} 第 {rows} 行不是数字, 按未知处理", rows=_rows)),
    (r"(?P<f>.+?): column (?P<c>'.*?') rows (?P<rows>\[.*?\]) are negative and are read as "
     r"unknown",
     _t("{f}: 列 {c} 第 {rows} 行为负数, 按未知处理", rows=_rows)),
    (r"(?P<f>.+?): rows (?P<rows>\[.*?\]) have no usable coordinate \((?P<lon>'.*?')/"
     r"(?P<lat>'.*?') empty, not a number or out of range\) and are left out; fix them to include "
     r"those facilities",
     _t("{f}: 第 {rows} 行没有可用坐标({lon}/{lat} 为空、不是数字或超出范围), 未计入; "
        "修正后这些设施才会计入", rows=_rows)),
    (rf"(?P<f>.+?): (?P<n>{_N}) duplicate facility rows \(same name and category within "
     rf"(?P<m>{_F}) m of an earlier row\) are left out: (?P<rows>\[.*?\])",
     _t("{f}: {n} 行重复设施(名称和类别相同, 距前面某行 {m} 米以内)未计入: 第 {rows} 行",
        rows=_rows)),
    (r"(?P<f>.+?): the facilities fit the streets better read as (?P<s>\w+) than as declared "
     rf"\((?P<d>\w+)\): median distance to the nearest street (?P<a>{_F}) m as declared, "
     rf"(?P<b>{_F}) m as (?P=s); as declared they sit like random places \(street structure "
     r"(?P<x>[-\d.e]+), p = (?P<p>[-\d.e]+)\), as (?P=s) they do not \((?P<y>[-\d.e]+), p = "
     r"(?P<q>[-\d.e]+)\)\. The list was probably exported from a Chinese web map\. Declare its "
     r"coordinate system: (?P<flag>\S+) (?P=s) on the command line, coords='(?P=s)' in Python\.",
     _t("{f}: 这些设施按 {s} 读取比按声明的 {d} 更贴合道路: 按声明读取时到最近道路的距离中位数 "
        "{a} 米, 按 {s} 为 {b} 米; 按声明读取时它们像随机分布的点(道路结构 {x}, p = {p}), "
        "按 {s} 则不是({y}, p = {q})。该清单可能导出自国内网络地图。请声明其坐标系: 命令行用 "
        "{flag} {s}, Python 中用 coords='{s}'。")),
    (r"(?P<f>.+?): features (?P<rows>\[.*?\]) have no geometry and are left out",
     _t("{f}: 第 {rows} 个要素没有几何形状, 未计入", rows=_rows)),
    (r"(?P<f>.+?): features (?P<rows>\[.*?\]) have invalid polygons \(self-intersections\?\), "
     r"repaired with make_valid",
     _t("{f}: 第 {rows} 个要素的多边形无效(自相交?), 已用 make_valid 修复", rows=_rows)),
    (r"(?P<f>.+?): features (?P<rows>\[.*?\]) are not polygons and are left out",
     _t("{f}: 第 {rows} 个要素不是多边形, 未计入", rows=_rows)),
    (rf"(?P<f>.+?): (?P<n>{_N}) pixels are NaN without a declared nodata value; read as no "
     r"population",
     _t("{f}: {n} 个像元为 NaN 且未声明 nodata 值; 按无人口处理")),
    (r"(?P<f>.+?): column (?P<c>'.*?') has no number in rows (?P<rows>\[.*?\]); those rows count "
     r"as 0 residents",
     _t("{f}: 列 {c} 第 {rows} 行没有数字; 这些行按 0 人计", rows=_rows)),
    (rf"(?P<f>.+?): rows (?P<rows>\[.*?\]) have no geometry; their (?P<r>{_N}) residents cannot "
     r"be placed",
     _t("{f}: 第 {rows} 行没有几何形状; 其中 {r} 名居民无法落位", rows=_rows)),
    (r"(?P<f>.+?): rows (?P<rows>\[.*?\]) have invalid geometries, repaired with make_valid",
     _t("{f}: 第 {rows} 行几何形状无效, 已用 make_valid 修复", rows=_rows)),
    (r"(?P<f>.+?): rows (?P<rows>\[.*?\]) have no usable coordinate and are left out; fix "
     r"columns (?P<lon>'.*?')/(?P<lat>'.*?')",
     _t("{f}: 第 {rows} 行没有可用坐标, 未计入; 请修正列 {lon}/{lat}", rows=_rows)),
    (r"candidates dropped: (?P<d>.+)", _t("未采用的候选点: {d}", d=_dropped)),
    (r"basemap 'tianditu' needs a Tianditu \(天地图\) key \(--tianditu-key, free at "
     r"console\.tianditu\.gov\.cn\); falling back to OpenStreetMap",
     _t("天地图底图需要天地图 key(--tianditu-key, 可在 console.tianditu.gov.cn 免费申请); "
        "改用 OpenStreetMap 底图")),
    (r"no Chinese \(CJK\) font found for matplotlib; labels fall back to English\. Install one, "
     r"e\.g\. `apt-get install fonts-noto-cjk`",
     _t("matplotlib 找不到中文字体; 图表标注改用英文。请安装中文字体, 例如 "
        "`apt-get install fonts-noto-cjk`")),
    # ---- log messages while running -------------------------------------------------------
    (rf"(?P<f>.+?): (?P<a>{_N}) of (?P<b>{_N}) ways are not walkable \((?P<why>.*)\)",
     _t("{f}: {b} 条道路(way)中 {a} 条不可步行({why})")),
    (rf"(?P<f>.+?): (?P<tags>\[.*?\]) read from the cache \((?P<s>{_F}) s\)",
     _t("{f}: OSM 要素 {tags} 读取自缓存({s} 秒)")),
    (rf"(?P<f>.+?): street network read from the cache \((?P<s>{_F}) s\)",
     _t("{f}: 路网读取自缓存({s} 秒)")),
    (rf"(?P<f>.+?): dropped (?P<n>{_N}) repeated edges \(same ends and length\)",
     _t("{f}: 删去 {n} 条重复路段(端点和长度相同)")),
    (rf"(?P<f>.+?): dropped (?P<n>{_N}) edges with no usable LineString geometry",
     _t("{f}: 删去 {n} 条没有可用线几何的路段")),
    (r"(?P<f>.+?): done already \(inputs unchanged\), skipped",
     _t("{f}: 输入未变, 已完成, 跳过")),
    (r"region (?P<f>.+?) failed: (?P<e>.*)", _t("区域 {f} 失败: {e}")),
    (rf"(?P<t>\w+) has (?P<n>{_N}) rows; left out of tables\.xlsx \(see (?P=t)\.csv\)",
     _t("{t} 有 {n} 行, 未写入 tables.xlsx(见 {t}.csv)")),
    (r"candidates left out: (?P<d>\{.*\})", _t("未采用的候选点: {d}", d=_dropped_dict)),
    (rf"asked for (?P<n>{_N}) sites but only (?P<k>{_N}) candidates; suggesting at most "
     rf"(?P<k2>{_N})",
     _t("要求 {n} 个站点, 但只有 {k} 个候选点; 至多建议 {k2} 个")),
    (r"care15 cache: (?P<rest>.*)", _t("care15 缓存: {rest}")),
    (rf"(?P<f>.+?): (?P<n>{_N}) tiles of (?P<m>{_F}) m \(halo (?P<h>{_F}) m\)",
     _t("{f}: 分 {n} 块, 每块 {m} 米(外扩 {h} 米)")),
    (rf"tiles cannot be smaller than the (?P<h>{_F}) m halo: using (?P<nx>\d+)×(?P<ny>\d+) tiles "
     rf"of (?P<s>{_F}) m holding up to (?P<nn>{_N}) nodes and (?P<nc>{_N}) cells \(limits "
     rf"(?P<ln>{_N}), (?P<lc>{_N})\)",
     _t("分块不能小于 {h} 米外扩: 改用 {nx}×{ny} 块、每块 {s} 米, 每块至多 {nn} 个节点和 {nc} 个"
        "网格(上限 {ln}, {lc})")),
    # ---- progress labels -------------------------------------------------------------------
    (r"reading the street network", _t("读取路网")),
    (r"reading facilities", _t("读取设施")),
    (r"building the population grid", _t("生成人口网格")),
    (r"reading communities", _t("读取社区")),
    (r"snapping cells and facilities to the network", _t("人口网格和设施接入路网")),
    (r"(?P<c>\w+): network travel times", _t("{c}: 路网步行时间", c=_cat)),
    (r"(?P<c>\w+): isochrones", _t("{c}: 等时圈", c=_cat)),
    (r"(?P<c>\w+): capacity-aware access \(E2SFCA\)", _t("{c}: 考虑容量的可达性(E2SFCA)", c=_cat)),
    (r"community tables", _t("社区统计表")),
    (r"gaps and their closing sites", _t("缺口片区及补缺选点")),
    (r"reading compounds", _t("读取小区")),
    (r"reach", _t("可达范围")),
    (r"tiles", _t("分块")),
    (r"regions", _t("区域")),
    (r"suggesting sites", _t("选址")),
    (r"(?P<d>.+) took (?P<s>[\d.]+) s", _t("{d} 用时 {s} 秒", d=_density)),
    # ---- residential compounds (小区) and their gates (care15.compounds, care15.gates) -------
    (rf"Compounds from OSM: (?P<n>{_N}) residential areas \((?P<k>{_N}) named\); households "
     rf"estimated from residential floor area ÷ (?P<f>{_F}) m² per resident ÷ (?P<h>{_F}) "
     rf"persons per household(?: \((?P<c>{_N}) capped at (?P<cap>{_N}) residents per ha\))?\.",
     lambda g: (f"小区来自 OSM: {g['n']} 个居住用地({g['k']} 个有名称); 户数按住宅建筑面积 ÷ "
                f"人均 {g['f']} 平方米 ÷ 户均 {g['h']} 人估算"
                + (f"({g['c']} 个按每公顷 {g['cap']} 人封顶)" if g.get("c") else "") + "。")),
    (rf"Compounds from (?P<f>.+?): (?P<n>{_N})(?: \((?P<d>{_N}) rows without geometry left "
     rf"out\))?(?:; (?P<h>{_N}) without households)?\.",
     lambda g: (f"小区来自 {g['f']}: {g['n']} 个"
                + (f"({g['d']} 行无坐标, 未采用)" if g.get("d") else "")
                + (f"; {g['h']} 个无户数" if g.get("h") else "") + "。")),
    (rf"Compounds: (?P<n>{_N}) pairs overlap\.", _t("小区: {n} 对相互重叠。")),
    (rf"Compound gates: (?P<g>{_N}) gates; (?P<m>{_N}) of (?P<n>{_N}) compounds \((?P<p>\d+)%\) "
     r"have mapped gates \((?P<src>.+?)\), "
     rf"(?P<x>{_N}) use the street crossings of their outline, (?P<s>{_N}) the nearest streets, "
     rf"(?P<z>{_N}) none; residents walk to a gate \(straight line × detour factor\) and on "
     r"over the streets; compounds with mapped gates are (?P<how>closed to through routes|open "
     r"to through routes \(--open-compounds\))\.",
     lambda g: (f"小区出入口: 共 {g['g']} 个; {g['n']} 个小区中 {g['m']} 个({g['p']}%)有实测出入口"
                f"({'OSM 大门/出入口' if g['src'] == 'OSM gates/entrances' else g['src']}), "
                f"{g['x']} 个以道路穿越边界处为出入口, {g['s']} 个以边界上距道路最近处为出入口, "
                f"{g['z']} 个无出入口; 居民先步行至出入口(直线距离 × 绕行系数), 再沿路网前往设施; "
                + ("有实测出入口的小区封闭, 不作为他人穿行通道。" if g["how"].startswith("closed")
                   else "有实测出入口的小区不封闭, 允许穿行(--open-compounds)。"))),
    (rf"(?P<n>{_N}) compounds? have no mapped gate and no street crossing their outline; their "
     r"residents are taken to leave by the outline points nearest a street \(nearest_street\): "
     r"(?P<names>.+)\. Map their gates \(barrier=gate\) or give a gate file to replace this "
     r"guess\.",
     _t("{n} 个小区既无实测出入口, 也无道路穿越其边界; 按边界上距道路最近处作为出入口"
        "(nearest_street): {names}。请在 OSM 中标注其出入口(barrier=gate)或提供出入口清单"
        "(--gates)以替代此推测。", names=lambda v: _compound_names(v))),
    (rf"(?P<n>{_N}) compounds have no street within (?P<m>{_F}) m of their outline and no gate: "
     r"(?P<names>.+); their residents are joined to the nearest street directly\.",
     _t("{n} 个小区边界 {m} 米内无道路且无出入口: {names}; 其居民直接接入最近道路。",
        names=lambda v: _compound_names(v))),
    (rf"(?P<n>{_N}) OSM gate or entrance nodes lie more than (?P<m>{_F}) m from any walkable "
     r"street and are left out \(nodes (?P<ids>\[.*?\])\)\.",
     _t("{n} 个 OSM 大门/出入口节点距可步行道路超过 {m} 米, 未采用(节点 {ids})。")),
    (rf"Population from (?P<n>{_N}) compounds: (?P<r>{_N}) residents \(households × household "
     r"size where no residents column\), placed on their residential buildings or area; "
     rf"residents outside compounds are not counted(?:; (?P<e>{_N}) compounds' households are "
     r"estimates)?\.",
     lambda g: (f"人口来自 {g['n']} 个小区: {g['r']} 人(无人口列时按户数 × 户均人数), 分配到其住宅"
                f"建筑或用地上; 小区以外的居民不计" + (f"; {g['e']} 个小区的户数为估算" if g.get("e")
                                            else "") + "。")),
    (r"(?P<f>.+?): build year of rows (?P<rows>\[.*?\](?: …)?) is not a year \(e\.g\. "
     r"(?P<v>.+)\) and is read as unknown",
     _t("{f}: 第 {rows} 行的建成年份不是年份(如 {v}), 按未知处理", rows=_rows)),
    (r"(?P<f>.+?): build year of rows (?P<rows>\[.*?\](?: …)?) lies in the future or before "
     r"1900 \(e\.g\. (?P<v>\d+)\) and is read as unknown",
     _t("{f}: 第 {rows} 行的建成年份晚于今年或早于1900年(如 {v}), 按未知处理", rows=_rows)),
    (r"(?P<f>.+?): rows (?P<rows>\[.*?\](?: …)?) give neither households \((?P<c>.+?)\) nor "
     r"residents; their norms are reported as unknown and they add no residents",
     _t("{f}: 第 {rows} 行既无户数({c})也无人口; 其配建达标情况为未知, 不计入人口", rows=_rows)),
    (r"finding compound gates", _t("识别小区出入口")),
]


def _compound_names(s: str) -> str:
    """``甲 (A), 乙 (B) and 3 more`` → ``甲 (A)、乙 (B) 等另外 3 个``."""
    m = re.fullmatch(r"(?P<list>.*?)(?: and (?P<k>[\d,]+) more)?", s.strip(), re.DOTALL)
    if m is None:
        return s
    out = m["list"].replace(", ", "、")
    return out + (f" 等另外 {m['k']} 个" if m["k"] else "")
_COMPILED = [(re.compile(p, re.DOTALL), f) for p, f in _RULES]


def translate_or_none(text: str) -> str | None:
    """The Chinese of one English note or console message, None when no pattern matches.

    Parameters
    ----------
    text
        The English text, as care15 wrote it.

    Returns
    -------
    str or None
        The Chinese text, or None when the table has no pattern for ``text``.

    Examples
    --------
    >>> translate_or_none("Communities: 12 OSM administrative areas.")
    '社区: 12 个 OSM 行政区。'
    >>> translate_or_none("something care15 never says") is None
    True
    """
    s = text.strip()
    for pat, fill in _COMPILED:
        m = pat.fullmatch(s)
        if m is not None:
            return fill(m.groupdict())
    return None


def translate(text: str, lang: str = "zh") -> str:
    """``text`` in ``lang``: Chinese when the table knows it, else unchanged.

    Parameters
    ----------
    text
        An English note, console message or progress label.
    lang
        ``"zh"`` or ``"en"`` (English returns ``text`` as it is).

    Returns
    -------
    str
        The text in ``lang`` where a translation exists.
    """
    if lang != "zh":
        return text
    zh = translate_or_none(text)
    return text if zh is None else zh


def note_text(text: str, lang: str) -> str:
    """One note for display in ``lang`` (alias of :func:`translate` for readability).

    Parameters
    ----------
    text
        The note's stable English text.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        The note in ``lang``.
    """
    return translate(text, lang)


def notes_in(notes: Iterable[Any], lang: str) -> list[str]:
    """Every note of ``notes`` in ``lang``.

    Parameters
    ----------
    notes
        The English notes (``summary.json`` ``notes``).
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    list of str
        The notes in ``lang``, in the same order.
    """
    return [translate(str(n), lang) for n in notes]
