"""The district report: one self-contained HTML file that prints to A4 (``report.html``).

It puts in front of a bureau what the run found: the headline against each policy target
(met, or short by how many people or places, with the target's source), the coverage figures,
the communities, the largest gaps, the notes about the data and the method with its
definitions. Chinese or English by ``lang``; every text from the inputs is escaped; no
JavaScript, no external file (figures are embedded), so it opens and prints anywhere.
"""

from __future__ import annotations

import base64
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from . import standards as std
from ._escape import html_text

if TYPE_CHECKING:
    from .analysis import CoverageResult
    from .scenario import Scenario

__all__ = ["report_html"]

_W = {
    "zh": {"title": "一老一小15分钟服务圈评估报告", "headline": "一、结论",
           "indicator": "指标", "target": "目标", "now": "现状", "verdict": "结论",
           "source": "依据", "met": "达标", "short": "未达标", "na": "无法判定",
           "short_by": "差 {n} 人", "short_places": "差 {n} 个", "cov": "{grp}15分钟步行可达率",
           "comm_share": "有设施的社区比例", "cap_child": "每千人托位数",
           "cap_eld": "每千名老人床位数", "from_n": "(来自研究区内接入路网的 {n} 处设施中 {k} 处有容量记录)",
           "figures": "二、地图与图表", "map_link": "交互地图:map.html(可离线打开)",
           "communities": "三、社区覆盖", "gaps": "四、主要覆盖缺口",
           "notes": "五、数据说明", "method": "六、方法与定义", "name": "社区",
           "residents": "常住人口", "group": "服务人群", "facilities": "设施数",
           "shortfall": "差额(人)", "rank": "排名", "uncovered": "未覆盖服务人群",
           "nearest": "最近设施(分钟)", "where": "位置(经度, 纬度)", "more": "另有 {n} 个社区未列出,见 communities.csv",
           "pop": "人口估算", "dense": "最密网格 {d:,.0f} 人/公顷(上限 {c:,.0f})",
           "by": "按{m}放置 {s:.0%}", "60plus": "60岁以上老人", "0to3": "3岁以下婴幼儿",
           "unreach": "不可达", "attr": "地图数据 © OpenStreetMap 贡献者 (ODbL)",
           "no_gap": "无覆盖缺口。", "study": "研究区"},
    "en": {"title": "15-minute elderly-care and childcare circles: district report",
           "headline": "1. Findings", "indicator": "Indicator", "target": "Target",
           "now": "Now", "verdict": "Verdict", "source": "Source", "met": "met",
           "short": "not met", "na": "undefined", "short_by": "short by {n} people",
           "short_places": "short by {n} places", "cov": "{grp} within 15 min on foot",
           "comm_share": "communities with a facility", "cap_child": "places per 1,000 residents",
           "cap_eld": "beds per 1,000 aged 60+",
           "from_n": "(from {k} of {n} facilities with a recorded capacity)",
           "figures": "2. Maps and figures", "map_link": "Interactive map: map.html (works offline)",
           "communities": "3. Communities", "gaps": "4. Largest gaps", "notes": "5. About the data",
           "method": "6. Method and definitions", "name": "Community", "residents": "Residents",
           "group": "Served", "facilities": "Facilities", "shortfall": "Short (people)",
           "rank": "Rank", "uncovered": "Served group not covered", "nearest": "Nearest (min)",
           "where": "Where (lon, lat)", "more": "{n} more communities in communities.csv",
           "pop": "Population estimate", "dense": "densest cell {d:,.0f} residents/ha "
           "(ceiling {c:,.0f})", "by": "{s:.0%} by {m}", "60plus": "Residents aged 60+",
           "0to3": "Children under 3", "unreach": "unreachable",
           "attr": "Map data © OpenStreetMap contributors (ODbL)", "no_gap": "No gaps.",
           "study": "Study area"},
}
#: The compound section (小区) and the renumbered sections after it, when compounds were given.
_WC: dict[str, dict[str, Any]] = {
    "zh": {"compounds": "五、小区配建与出入口", "notes": "六、数据说明", "method": "七、方法与定义",
           "found": "共 {n:,} 个小区;其中 {m:,} 个({p})有实测出入口(出入口清单或 OSM),"
                    "其余按道路穿越边界处或边界上距道路最近处推测。{closed}居民先步行至出入口"
                    "(直线距离 × 绕行系数 {d:g}),再沿路网前往设施;下表同时给出不经出入口"
                    "(从小区内各点直接接入最近道路)的结果以作比较。",
           "closed": "有实测出入口的小区封闭,不作为他人穿行通道;",
           "open": "小区不封闭,允许穿行;",
           "sources": "出入口来源", "by_source": {
               "file": "出入口清单", "osm_gate": "OSM大门", "osm_entrance": "OSM出入口",
               "boundary_crossing": "道路穿越边界处(推测)",
               "nearest_street": "距道路最近的边界点(推测)", "none": "无出入口"},
           "ind": "指标", "via": "经出入口", "direct": "不经出入口",
           "cov_n": "15分钟圈内的小区", "median": "步行时间中位数(分钟)",
           "unreach": "无法到达任何设施的小区", "norm": "配建达标情况",
           "norm_v": "达标 {met:,} · 不足 {short:,} · 未知 {unknown:,} · 不适用 {exempt:,}",
           "short_total": "配建缺口合计", "m2": "平方米", "places": "托位",
           "top": "缺口最大的小区", "rank": "排名", "name": "小区", "hh": "户数",
           "min": "步行(分钟,经出入口 / 不经)", "status": "配建", "gap": "缺口",
           "st": {"met": "达标", "short": "不足", "unknown": "未知", "exempt": "不适用"},
           "none": "无未达标小区。", "more": "完整名单见 short_compounds.csv 与 compounds.csv。"},
    "en": {"compounds": "5. Residential compounds and their gates", "notes": "6. About the data",
           "method": "7. Method and definitions",
           "found": "{n:,} compounds; {m:,} ({p}) have mapped gates (a gate list or OSM), the "
                    "others' gates are inferred from the streets crossing their outline or "
                    "the outline points nearest a street. {closed}Residents walk to a gate "
                    "(straight line × detour factor {d:g}) and on over the streets; the table "
                    "also gives the walk without gates (each point of a compound joining its "
                    "nearest street) for comparison.",
           "closed": "Compounds with mapped gates are closed to through routes. ",
           "open": "Compounds are open to through routes. ",
           "sources": "Gate sources", "by_source": {
               "file": "gate list", "osm_gate": "OSM gate", "osm_entrance": "OSM entrance",
               "boundary_crossing": "street crossing (inferred)",
               "nearest_street": "nearest street (inferred)", "none": "no gate"},
           "ind": "Indicator", "via": "Via gates", "direct": "Without gates",
           "cov_n": "compounds within 15 min", "median": "median walk (min)",
           "unreach": "compounds reaching no facility", "norm": "norm",
           "norm_v": "met {met:,} · short {short:,} · unknown {unknown:,} · exempt {exempt:,}",
           "short_total": "total shortfall", "m2": "m²", "places": "places",
           "top": "Compounds furthest from the norm", "rank": "Rank", "name": "Compound",
           "hh": "Households", "min": "Walk (min, via gates / without)", "status": "Norm",
           "gap": "Shortfall",
           "st": {"met": "met", "short": "short", "unknown": "unknown", "exempt": "exempt"},
           "none": "No compound short of the norm.",
           "more": "Full lists in short_compounds.csv and compounds.csv."},
}
_METHOD_NAMES = {"buildings": ("住宅建筑面积", "residential floor area"),
                 "landuse": ("居住用地", "residential land use"),
                 "streets": ("居住街道长度", "residential streets")}
_CSS = """
@page { size: A4; margin: 14mm 12mm; }
body { font-family: "Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei",
       sans-serif; font-size: 10.5pt; color: #222; max-width: 190mm; margin: 0 auto; }
h1 { font-size: 17pt; margin: 0 0 2mm; } h2 { font-size: 13pt; margin: 7mm 0 2mm;
     border-bottom: 1px solid #999; padding-bottom: 1mm; page-break-after: avoid; }
p.sub { color: #555; margin: 0 0 4mm; } h3 { font-size: 11pt; page-break-after: avoid; }
table { border-collapse: collapse; width: 100%; margin: 2mm 0 3mm; page-break-inside: auto; }
th, td { border: 1px solid #bbb; padding: 1.2mm 1.6mm; text-align: left; vertical-align: top; }
th { background: #eef1f5; } tr { page-break-inside: avoid; }
td.n { text-align: right; white-space: nowrap; }
.met { color: #1a7f37; font-weight: bold; } .short { color: #b42318; font-weight: bold; }
.src { color: #555; font-size: 8.5pt; } figure { margin: 2mm 0; page-break-inside: avoid; }
figure img { max-width: 100%; max-height: 118mm; border: 1px solid #ddd; display: block;
             margin: 0 auto; }
td.t { white-space: nowrap; } ul { margin: 1mm 0 3mm 5mm; padding: 0; }
.small { font-size: 8.5pt; color: #555; }
"""


def _pct(v: Any) -> str:
    return "–" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{float(v):.1%}"


def _num(v: Any, nd: int = 0) -> str:
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return "–"
    return f"{float(v):,.{nd}f}"


def _verdict(met: Any, w: dict[str, str], short: str = "") -> str:
    if met is None or (isinstance(met, float) and math.isnan(met)):
        return w["na"]
    if met:
        return f'<span class="met">{w["met"]}</span>'
    return f'<span class="short">{w["short"]}</span>' + (f", {short}" if short else "")


def _source(key: str) -> str:
    s = std.STANDARDS.get(key)
    return f'<span class="src">{html_text(s.source)}</span>' if s else ""


def _headline(summary: dict[str, Any], scenario: Scenario, lang: str) -> str:
    w = _W[lang]
    rows = []
    tl = str(summary.get("coverage_threshold_min", 15)).removesuffix(".0")
    for c, d in summary["categories"].items():
        cat = std.CATEGORIES[c]
        label = d["label_zh"] if lang == "zh" else d["label_en"]
        grp = "60plus" if cat.target_group == "pop_60plus" else "0to3"
        t = d["thresholds"].get(tl) or d["thresholds"][max(d["thresholds"], key=float)]
        r = t[grp]
        short = ""
        if d["target_met"] is False and r["residents"]:
            need = math.ceil(d["coverage_target"] * r["residents"] - r["covered"])
            short = w["short_by"].format(n=f"{need:,}")
        rows.append((f"{label}: {w['cov'].format(grp=w[grp])}", f"≥ {d['coverage_target']:.0%}",
                     _pct(r["share"]), _verdict(d["target_met"], w, short),
                     _source(cat.coverage_target_key)))
        n = d.get("communities_with_residents") or 0
        has = d.get("communities_with_facility") or 0
        rate = has / n if n else None
        rows.append((f"{label}: {w['comm_share']}", f"≥ {d['coverage_target']:.0%}",
                     f"{has}/{n} ({_pct(rate)})",
                     _verdict(None if rate is None else rate >= d["coverage_target"], w),
                     _source(cat.coverage_target_key)))
        cap = d.get("capacity_per_1000")
        if cap is not None:
            tgt = d.get("capacity_target_per_1000")
            key = ("target_childcare_places_per_1000" if c == "childcare"
                   else "target_elderly_beds_per_1000_60plus")
            base = summary["residents"]["total" if c == "childcare" else "60plus"]
            short = ""
            if tgt and cap < tgt:
                short = w["short_places"].format(n=f"{math.ceil((tgt - cap) * base / 1000):,}")
            known = d.get("capacity_known_facilities")
            counted = d.get("capacity_counted_facilities", d.get("n_facilities"))
            frm = (" " + w["from_n"].format(k=known, n=counted)
                   if known is not None and counted else "")
            rows.append((f"{label}: {w['cap_child'] if c == 'childcare' else w['cap_eld']}",
                         f"≥ {tgt:g}" if tgt else "–", f"{cap:.2f}{frm}",
                         _verdict(None if not tgt else cap >= tgt, w, short), _source(key)))
    head = "".join(f"<th>{w[k]}</th>" for k in ("indicator", "target", "now", "verdict",
                                                  "source"))
    body = "".join("<tr>" + "".join(f'<td{" class=t" if i == 1 else ""}>{x}</td>'
                                     for i, x in enumerate(r)) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _figures(folder: Path | None, categories: tuple[str, ...], lang: str) -> str:
    if folder is None or not folder.is_dir():
        return ""
    out = []
    for c in categories:
        for kind in ("minutes", "coverage"):
            f = folder / f"{kind}_{c}.png"
            if f.is_file():
                data = base64.b64encode(f.read_bytes()).decode("ascii")
                out.append(f'<figure><img alt="{html_text(f.name)}" '
                           f'src="data:image/png;base64,{data}"></figure>')
    return "".join(out)


def _communities(comm: pd.DataFrame, summary: dict[str, Any], lang: str,
                 max_rows: int) -> str:
    w = _W[lang]
    cats = list(summary["categories"])
    tl = str(summary.get("coverage_threshold_min", 15)).removesuffix(".0")
    df = comm.loc[comm["pop_total"] > 0].copy()
    short_cols = [f"{c}_shortfall_people" for c in cats if f"{c}_shortfall_people" in df]
    if short_cols:
        df = df.assign(_short=df[short_cols].fillna(0).sum(axis=1)).sort_values(
            "_short", ascending=False)
    head = [w["name"], w["residents"]]
    for c in cats:
        d = summary["categories"][c]
        label = d["label_zh"] if lang == "zh" else d["label_en"]
        head += [f"{label} ≤{tl}′", f"{label} {w['shortfall']}", f"{label} {w['facilities']}"]
    rows = []
    for _, r in df.head(max_rows).iterrows():
        cells = [html_text(r["community_name"]), f'<td class="n">{_num(r["pop_total"])}']
        for c in cats:
            grp = "60plus" if std.CATEGORIES[c].target_group == "pop_60plus" else "0to3"
            rate = r.get(f"{c}_cov{tl}_{grp}")
            met = r.get(f"{c}_target_met")
            cls = "met" if met is True else ("short" if met is False else "")
            cells += [f'<td class="n"><span class="{cls}">{_pct(rate)}</span>',
                      f'<td class="n">{_num(r.get(f"{c}_shortfall_people"))}',
                      f'<td class="n">{_num(r.get(f"{c}_n_facilities"))}']
        rows.append("<tr><td>" + cells[0] + "</td>" + "".join(x + "</td>" for x in cells[1:])
                    + "</tr>")
    more = len(df) - min(len(df), max_rows)
    tail = f'<p class="small">{w["more"].format(n=more)}</p>' if more > 0 else ""
    return ("<table><tr>" + "".join(f"<th>{h}</th>" for h in head) + "</tr>" + "".join(rows)
            + "</table>" + tail)


def _gaps(gaps: pd.DataFrame, summary: dict[str, Any], lang: str, per_category: int,
          coords_out: str | None) -> str:
    w = _W[lang]
    if gaps is None or len(gaps) == 0:
        return f"<p>{w['no_gap']}</p>"
    out = []
    g = pd.DataFrame(gaps.drop(columns="geometry", errors="ignore"))
    if coords_out and coords_out != "wgs84" and "centroid_lon" in g:
        from .chinacoords import from_wgs84

        x, y = from_wgs84(g["centroid_lon"].to_numpy(float), g["centroid_lat"].to_numpy(float),
                          coords_out)
        g["centroid_lon"], g["centroid_lat"] = x, y
    for c, d in summary["categories"].items():
        sel = g.loc[g["category"] == c].sort_values("rank").head(per_category)
        if len(sel) == 0:
            continue
        label = d["label_zh"] if lang == "zh" else d["label_en"]
        where = w["where"] + (f" {coords_out.upper()}" if coords_out and coords_out != "wgs84"
                              else " WGS-84")
        head = [w["rank"], w["name"], w["uncovered"], w["nearest"], where]
        rows = []
        for _, r in sel.iterrows():
            near = r.get("nearest_walk_min")
            near_s = w["unreach"] if near is None or not math.isfinite(float(near)) \
                else _num(near, 1)
            rows.append(f'<tr><td class="n">{int(r["rank"])}</td>'
                        f'<td>{html_text(r.get("community_name"))}</td>'
                        f'<td class="n">{_num(r.get("uncovered_target"))}</td>'
                        f'<td class="n">{near_s}</td>'
                        f'<td class="n">{float(r["centroid_lon"]):.5f}, '
                        f'{float(r["centroid_lat"]):.5f}</td></tr>')
        out.append(f"<h3>{html_text(label)}</h3><table><tr>"
                   + "".join(f"<th>{h}</th>" for h in head) + "</tr>" + "".join(rows)
                   + "</table>")
    return "".join(out)


def _compounds(cs: dict[str, Any], summary: dict[str, Any], lang: str) -> str:
    """The compound section: compounds found, gates, minutes with and without them, norms."""
    w = _WC[lang]
    n = int(cs.get("compounds", 0))
    out = []
    if "with_mapped_gates" in cs:
        m = int(cs["with_mapped_gates"])
        out.append("<p>" + html_text(w["found"].format(
            n=n, m=m, p=_pct(m / n if n else None),
            closed=w["closed" if cs.get("closed_compounds") else "open"],
            d=float(cs.get("detour_factor") or std.get("compound_gate_detour_factor"))))
            + "</p>")
        src = " · ".join(f"{html_text(w['by_source'].get(k, k))} {v:,}"
                         for k, v in (cs.get("by_gate_source") or {}).items())
        out.append(f'<p class="src">{w["sources"]}: {src}</p>')
    gated = "with_mapped_gates" in cs
    for c, d in summary.get("categories", {}).items():
        cc = cs.get(c)
        if not isinstance(cc, dict):
            continue
        label = d["label_zh"] if lang == "zh" else d["label_en"]
        unit = w["m2"] if c == "elderly" else w["places"]

        def two(a: Any, b: Any) -> str:
            return (f'<td class="n">{a}</td><td class="n">{b}</td>' if gated
                    else f'<td class="n" colspan="2">{a}</td>')

        def cov(k: int) -> str:
            return f"{k:,} ({_pct(k / n if n else None)})"

        rows = [f"<tr><td>{w['cov_n']}</td>"
                + two(cov(int(cc["covered"])), cov(int(cc.get("covered_direct", 0)))) + "</tr>",
                f"<tr><td>{w['median']}</td>"
                + two(_num(cc.get("median_walk_min"), 1),
                      _num(cc.get("median_walk_min_direct"), 1)) + "</tr>",
                f"<tr><td>{w['unreach']}</td>"
                + two(_num(cc.get("unreachable")), _num(cc.get("unreachable_direct"))) + "</tr>",
                f"<tr><td>{w['norm']}</td>"
                + two(html_text(w["norm_v"].format(**{k: int(cc.get(k, 0)) for k in (
                    "met", "short", "unknown", "exempt")})), "") + "</tr>",
                f"<tr><td>{w['short_total']}</td>"
                + two(f"{_num(cc.get('shortfall'))} {unit}", "") + "</tr>"]
        head = (f"<tr><th>{w['ind']}</th><th>{w['via']}</th><th>{w['direct']}</th></tr>"
                if gated else f"<tr><th>{w['ind']}</th><th colspan=\"2\"></th></tr>")
        out.append(f"<h3>{html_text(label)}</h3><table>{head}{''.join(rows)}</table>")
        top = cc.get("top_short") or []
        if not top:
            out.append(f"<p>{w['none']}</p>")
            continue
        trs = []
        for i, r in enumerate(top, 1):
            mins = _num(r.get("walk_min"), 1) if r.get("walk_min") is not None else \
                _W[lang]["unreach"]
            if gated:
                mins += " / " + (_num(r.get("walk_min_direct"), 1)
                                 if r.get("walk_min_direct") is not None else _W[lang]["unreach"])
            trs.append(f'<tr><td class="n">{i}</td><td>{html_text(r.get("name"))}</td>'
                       f'<td class="n">{_num(r.get("households"))}</td>'
                       f'<td class="n">{mins}</td>'
                       f'<td>{w["st"].get(str(r.get("norm_status")), "")}</td>'
                       f'<td class="n">{_num(r.get("shortfall"))} {unit}</td></tr>')
        out.append(f"<p><b>{w['top']}</b></p><table><tr>"
                   + "".join(f"<th>{h}</th>" for h in (w["rank"], w["name"], w["hh"], w["min"],
                                                        w["status"], w["gap"]))
                   + "</tr>" + "".join(trs) + f'</table><p class="src">{w["more"]}</p>')
    return "".join(out)


def _notes(summary: dict[str, Any], lang: str) -> str:
    w = _W[lang]
    from ._notes import notes_in

    items = [f"<li>{html_text(n)}</li>" for n in notes_in(summary.get("notes", []), lang)]
    rep = summary.get("population_report") or {}
    by = rep.get("by_method") or {}
    parts = [w["by"].format(m=_METHOD_NAMES.get(m, (m, m))[0 if lang == "zh" else 1],
                            s=float(d.get("share_of_population", 0)))
             for m, d in by.items() if isinstance(d, dict) and d.get("cells")]
    if parts or rep.get("densest_cell_per_ha") is not None:
        line = w["pop"] + ": " + ", ".join(parts)
        if rep.get("densest_cell_per_ha") is not None:
            line += "; " + w["dense"].format(d=float(rep["densest_cell_per_ha"]),
                                             c=float(rep.get("ceiling_per_ha") or 0))
        items.insert(0, f"<li>{html_text(line)}</li>")
    return "<ul>" + "".join(items) + "</ul>"


def _method(summary: dict[str, Any], scenario: Scenario, lang: str) -> str:
    sp = [(c, scenario.speed_for(c)) for c in scenario.categories]
    th = ", ".join(f"{t:g}" for t in scenario.thresholds_min)
    if lang == "zh":
        speeds = "; ".join(f"{std.CATEGORIES[c].label_zh} {v:g} 米/秒" for c, v in sp)
        items = [
            f"步行时间 = 真实步行路网(OpenStreetMap)上的最短距离 ÷ 服务人群的步速({speeds},"
            f"来源见 standards.py)。阈值 {th} 分钟。",
            "网格或设施从最近街道上的最近点接入路网并计入这段步行;离街道超过 "
            f"{scenario.analysis.max_access_m:g} 米的网格不接入,计为未覆盖。",
            "人口加权可达率 = 住在阈值时间内可步行到达设施的该人群人数 ÷ 该人群总人数;"
            "没有该人群的社区为“不适用”,不记为 0% 或 100%。",
            "社区设施覆盖率 = 有至少一处设施的社区数 ÷ 有居民的社区数。",
            "缺口 = 相邻的未覆盖网格连成的片区,按未覆盖的服务人群人数排序。",
            f"统计方法:{summary.get('coverage_method', 'network')}"
            "(network 为按网格自身步行时间计;overlay 为等时圈面积叠加)。",
        ]
    else:
        speeds = "; ".join(f"{std.CATEGORIES[c].label_en} {v:g} m/s" for c, v in sp)
        items = [
            f"Walking time = the shortest distance on the real walking network "
            f"(OpenStreetMap) ÷ the walking speed of the group served ({speeds}; sources in "
            f"standards.py). Thresholds: {th} minutes.",
            "Cells and facilities join the network at the nearest point of the nearest street "
            f"and walk that leg too; a cell farther than {scenario.analysis.max_access_m:g} m "
            "from any street is not attached and counts as not covered.",
            "Population-weighted rate = residents of the group within the threshold ÷ all "
            "residents of that group; undefined (n/a) where a community has none.",
            "Community facility rate = communities with at least one facility ÷ communities "
            "with residents.",
            "Gaps = contiguous clusters of uncovered cells, ranked by the uncovered residents "
            "of the group served.",
            f"Counting method: {summary.get('coverage_method', 'network')} (network: each "
            "cell by its own walking time; overlay: isochrone area overlay).",
        ]
    return "<ul>" + "".join(f"<li>{html_text(x)}</li>" for x in items) + "</ul>"


#: The plan-comparison section (``care15 compare``): its title and words.
_WP: dict[str, dict[str, Any]] = {
    "zh": {"title": "方案对比", "intro": "本报告为方案实施后的状态。方案共 {n} 项变更({kinds});"
           "下表为各类服务人群在各步行时间内的覆盖率变化, 完整对比见 compare.xlsx 与 compare_map.html。",
           "kinds": {"add": "新增", "move": "迁移", "remove": "撤销", "resize": "调整规模"},
           "ind": "指标", "before": "方案前", "after": "方案后", "change": "变化",
           "people": "覆盖人数变化", "pp": "{v:+.1f} 个百分点", "cov": "{grp} {t} 分钟步行可达率",
           "edits": "方案变更", "row": "行", "action": "操作", "name": "设施",
           "cap": "规模(前 → 后)", "comm": "覆盖变化最大的社区", "community": "社区",
           "met": "达标(前 → 后)", "yes": "是", "no": "否", "none": "没有社区的覆盖率发生变化。",
           "60plus": "60岁以上老人", "0to3": "3岁以下婴幼儿"},
    "en": {"title": "Plan comparison", "intro": "This report shows the district after the "
           "plan: {n} edits ({kinds}). The table gives the change in coverage of each group "
           "served within each walking time; compare.xlsx and compare_map.html have the rest.",
           "kinds": {"add": "added", "move": "moved", "remove": "removed", "resize": "resized"},
           "ind": "Indicator", "before": "Before", "after": "After", "change": "Change",
           "people": "Residents covered, change", "pp": "{v:+.1f} points",
           "cov": "{grp} within {t} min", "edits": "Edits", "row": "Row", "action": "Action",
           "name": "Facility", "cap": "Capacity (before → after)",
           "comm": "Communities whose coverage changed most", "community": "Community",
           "met": "Target met (before → after)", "yes": "yes", "no": "no",
           "none": "No community's coverage changed.", "60plus": "Residents aged 60+",
           "0to3": "Children under 3"},
}
_ZH_NUM = "一二三四五六七八九十"


def _numbered(titles: list[str], lang: str) -> list[str]:
    """Section titles numbered in order (一、… or 1. …), whatever numbers they had."""
    import re

    out = []
    for i, t in enumerate(titles):
        bare = re.sub(r"^(?:[一二三四五六七八九十]+、|\d+\. )", "", t)
        out.append(f"{_ZH_NUM[i]}、{bare}" if lang == "zh" else f"{i + 1}. {bare}")
    return out


def _yes(v: Any, w: dict[str, Any]) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return "–"
    return w["yes"] if bool(v) else w["no"]


def _comparison(tables: dict[str, pd.DataFrame], lang: str, max_communities: int) -> str:
    """The plan-comparison section: the headline before/after, the edits, the communities."""
    w = _WP[lang]
    head = tables["compare"]
    edits = tables.get("compare_edits", pd.DataFrame())
    comm = tables.get("compare_communities", pd.DataFrame())
    counts = edits["action"].value_counts().to_dict() if len(edits) else {}
    kinds = ", ".join(f"{w['kinds'][a]} {counts[a]}" for a in w["kinds"] if a in counts)
    out = [f"<p>{html_text(w['intro'].format(n=len(edits), kinds=kinds))}</p>"]
    rows = []
    for _, r in head.loc[head["target_group"].astype(bool)].iterrows():
        cat = std.CATEGORIES[str(r["category"])]
        label = cat.label_zh if lang == "zh" else cat.label_en
        grp = "60plus" if cat.target_group == "pop_60plus" else "0to3"
        ch = r["change_coverage"]
        pp = "–" if ch is None or not math.isfinite(float(ch)) else \
            w["pp"].format(v=100 * float(ch))
        cls = "met" if math.isfinite(float(ch)) and ch > 1e-12 else (
            "short" if math.isfinite(float(ch)) and ch < -1e-12 else "")
        rows.append(f"<tr><td>{label}: {w['cov'].format(grp=w[grp], t=f'{r.threshold_min:g}')}"
                    f'</td><td class="n">{_pct(r["before_coverage"])}</td>'
                    f'<td class="n">{_pct(r["after_coverage"])}</td>'
                    f'<td class="n"><span class="{cls}">{pp}</span></td>'
                    f'<td class="n">{_num(r["change_covered_people"])}</td></tr>')
    out.append("<table><tr>" + "".join(f"<th>{w[k]}</th>" for k in (
        "ind", "before", "after", "change", "people")) + "</tr>" + "".join(rows) + "</table>")
    if len(edits):
        erows = []
        for _, r in edits.iterrows():
            ecat = std.CATEGORIES.get(str(r.get("category")))
            label = (ecat.label_zh if lang == "zh" else ecat.label_en) if ecat else ""
            erows.append(f'<tr><td class="n">{_num(r.get("plan_row"))}</td>'
                         f"<td>{w['kinds'].get(str(r['action']), html_text(r['action']))}</td>"
                         f"<td>{html_text(r.get('name'))} ({html_text(r.get('facility_id'))})"
                         f"</td><td>{html_text(label)}</td>"
                         f'<td class="n">{_num(r.get("before_capacity"))} → '
                         f'{_num(r.get("after_capacity"))}</td></tr>')
        out.append(f"<h3>{w['edits']}</h3><table><tr>" + "".join(
            f"<th>{w[k]}</th>" for k in ("row", "action", "name")) + "<th></th>"
            + f"<th>{w['cap']}</th></tr>" + "".join(erows) + "</table>")
    out.append(f"<h3>{w['comm']}</h3>")
    changed = comm.loc[comm["change_coverage"].abs() > 1e-9] if len(comm) else comm
    if len(changed) == 0:
        out.append(f"<p>{w['none']}</p>")
        return "".join(out)
    top = changed.assign(_a=changed["change_coverage"].abs()).sort_values(
        "_a", ascending=False, kind="stable").head(max_communities)
    crows = []
    for _, r in top.iterrows():
        cat = std.CATEGORIES[str(r["category"])]
        ch = float(r["change_coverage"])
        cls = "met" if ch > 0 else "short"
        crows.append(f"<tr><td>{html_text(r['community_name'])}</td>"
                     f"<td>{cat.label_zh if lang == 'zh' else cat.label_en}</td>"
                     f'<td class="n">{_pct(r["before_coverage"])}</td>'
                     f'<td class="n">{_pct(r["after_coverage"])}</td>'
                     f'<td class="n"><span class="{cls}">{w["pp"].format(v=100 * ch)}</span></td>'
                     f"<td>{_yes(r['before_target_met'], w)} → "
                     f"{_yes(r['after_target_met'], w)}</td></tr>")
    out.append("<table><tr>" + "".join(f"<th>{x}</th>" for x in (
        w["community"], "", w["before"], w["after"], w["change"], w["met"])) + "</tr>"
        + "".join(crows) + "</table>")
    return "".join(out)


def report_html(result: CoverageResult, scenario: Scenario, summary: dict[str, Any], *,
                lang: str = "zh", figures: Path | None = None, coords_out: str | None = None,
                max_communities: int = 40, gaps_per_category: int = 10,
                comparison: dict[str, pd.DataFrame] | None = None) -> str:
    """The district report as one self-contained HTML page (prints to A4 from a browser).

    Parameters
    ----------
    result
        The analysis.
    scenario
        The scenario analysed (targets, speeds, thresholds).
    summary
        The run's summary (``summary.json``: headline figures, notes, population report).
    lang
        ``"zh"`` or ``"en"``.
    figures
        Folder of the report figures (``minutes_<category>.png``, ``coverage_<category>.png``)
        to embed; None leaves them out.
    coords_out
        Also give the gaps' positions in this system (``"gcj02"``, ``"bd09"``).
    max_communities
        Communities listed (those furthest from the target first); the rest are counted.
    gaps_per_category
        Largest gaps listed per category.
    comparison
        The tables of a plan comparison (:func:`care15.compare.compare_tables`: ``compare``,
        ``compare_communities``, ``compare_edits``): the report is then of the district
        after the plan, with a section after the findings (方案对比 / Plan comparison) giving
        the coverage before and after, the edits and the communities that changed most.

    Returns
    -------
    str
        The HTML page.

    Raises
    ------
    ValueError
        For an unknown ``lang``.

    Notes
    -----
    With compounds (``summary["compounds"]``, :func:`care15.compounds.compound_summary`) a
    section on them follows the gaps: compounds found, with mapped gates, covered and median
    minutes with and without gates, the norms met and the compounds furthest from them.

    Examples
    --------
    >>> import care15
    >>> sc = care15.demo_scenario()
    >>> res = care15.analyze(care15.region_from_scenario(sc), sc)
    >>> page = care15.report.report_html(res, sc, res.summary, lang="en")
    >>> "1. Findings" in page and "<script" not in page
    True
    """
    if lang not in _W:
        raise ValueError(f"lang must be one of {tuple(_W)}, got {lang!r}")
    w = _W[lang]
    name = summary.get("study_area") or scenario.area.name
    cs = summary.get("compounds")
    compound_part = []
    if isinstance(cs, dict) and cs.get("compounds"):
        w = {**w, **{k: _WC[lang][k] for k in ("notes", "method")}}
        compound_part = [f"<h2>{_WC[lang]['compounds']}</h2>", _compounds(cs, summary, lang)]
    sections: list[tuple[str, str]] = [("headline", _headline(summary, scenario, lang))]
    if comparison is not None:
        sections.append(("plan", _comparison(comparison, lang, 15)))
    sections += [
        ("figures", f"<p>{w['map_link']}</p>"
         + _figures(figures, tuple(summary["categories"]), lang)),
        ("communities", _communities(result.communities, summary, lang, max_communities)),
        ("gaps", _gaps(result.gaps, summary, lang, gaps_per_category, coords_out))]
    if compound_part:
        sections.append(("compounds", compound_part[1]))
    sections += [("notes", _notes(summary, lang)), ("method", _method(summary, scenario, lang))]
    titles = {**w, "plan": _WP[lang]["title"], "compounds": _WC[lang]["compounds"]}
    numbered = _numbered([titles[k] for k, _ in sections], lang)
    parts = [
        f'<!DOCTYPE html><html lang="{"zh-CN" if lang == "zh" else "en"}"><head>'
        f'<meta charset="utf-8"><title>{html_text(name)} · {w["title"]}</title>'
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{w['title']}</h1>",
        f'<p class="sub">{w["study"]}: {html_text(name)} · {w["attr"]}</p>',
        *[x for t, (_, body) in zip(numbered, sections, strict=True)
          for x in (f"<h2>{t}</h2>", body)],
        "</body></html>",
    ]
    return "\n".join(parts)
