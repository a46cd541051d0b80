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

__all__ = ["error_text", "note_text", "notes_in", "translate", "translate_or_none"]

_Fill = Callable[[dict[str, str]], "str | None"]

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

# ---- user errors (InputError / ScenarioError messages, argparse's messages) -----------------
# An error is translated line by line (:func:`error_text`); a line ``<key>: <problem>`` is the
# key kept as written (a file, a flag, a scenario key) and the problem translated, so that the
# problems below are written without the file or key that leads them.

def _c(template: str, *parts: str, **subs: Callable[[str], str]) -> _Fill:
    """A filler whose groups ``parts`` are messages themselves: None when one has no translation."""

    def fill(g: dict[str, str]) -> str | None:
        vals = {k: ("" if v is None else v) for k, v in g.items()}
        for k in parts:
            if vals[k]:
                zh = translate_or_none(vals[k])
                if zh is None:
                    return None
                vals[k] = zh
        for k, f in subs.items():
            vals[k] = f(vals.get(k, ""))
        return template.format(**vals)

    return fill


_KEYS = [(r"^region (\d+)", r"区域 \1"), (r"^regions file ", "区域文件 "),
         (r"^the OSM population estimate", "OSM 人口估算"), (r"^population cells$", "人口网格"),
         (r"^scenario\b", "场景"), (r"^compounds$", "小区")]


def _key(s: str) -> str:
    """The key that leads an error line: kept as written, but for a few English words."""
    for pat, rep in _KEYS:
        s = re.sub(pat, rep, s)
    return s


def _list(s: str) -> str:
    """``a, b, c`` (allowed keys or values) → ``a、b、c``, the Chinese enumeration comma."""
    return s.replace(", ", "、")


def _or(s: str) -> str:
    """``a, b or c`` / ``a and b`` → ``a, b 或 c`` / ``a 和 b`` (lists of names)."""
    return re.sub(r" and ", " 和 ", re.sub(r" or ", " 或 ", s))


_TOML = [(r"Invalid value", "值无效(文本要加英文引号, 例如 name = \"成都\")"),
         (r"Expected '=' after a key in a key/value pair", "键后应为 '='"),
         (r"Expected '\]' at the end of a table declaration", "表头末尾应为 ']'"),
         (r"Expected '\]\]' at the end of an array declaration", "数组表头末尾应为 ']]'"),
         (r"Cannot declare (?P<k>.+) twice", "{k} 重复声明"),
         (r"Cannot overwrite a value", "不能覆盖已有的值(同一个键写了两次?)"),
         (r"Unterminated string", "字符串缺少结束引号"),
         (r"Unclosed array", "数组缺少闭合的 ']'"),
         (r"Unclosed inline table", "内联表缺少闭合的 '}}'"),
         (r"Invalid statement", "无效的语句"),
         (r"Illegal character (?P<k>.+)", "非法字符 {k}"),
         (r"Found invalid character (?P<k>.+)", "发现无效字符 {k}"),
         (r"Invalid initial character for a key part", "键的首字符无效"),
         (r"Unescaped '\\' in a string", "字符串中有未转义的 '\\'(Windows 路径请改用 / 或单引号)"),
         (r"Expected (?P<k>'.*')", "应为 {k}")]


def _toml(s: str) -> str:
    """The reason and place of a TOML error (``Invalid value (at line 3, column 8)``), in Chinese."""
    m = re.fullmatch(r"(?P<msg>.+) \(at (?:line (?P<l>\d+), column (?P<c>\d+)|(?P<end>end of "
                     r"document))\)", s, re.DOTALL)
    if m is None:
        return s
    where = "文件末尾" if m["end"] else f"第 {m['l']} 行第 {m['c']} 列"
    for pat, zh in _TOML:
        w = re.fullmatch(pat, m["msg"])
        if w is not None:
            return f"{where}: {zh.format(**w.groupdict())}"
    return f"{where}: {m['msg']}"


_TYPES = {"int": "整数", "float": "数值", "Path": "路径"}
_KINDS_ZH = {"text": "文本", "a file path (text)": "文件路径(文本)", "a number": "数字",
             "[west, south, east, north] (four numbers)": "[west, south, east, north](四个数字)",
             "a list of text values": "文本列表", "a list of numbers": "数字列表",
             "a table": "表"}

_ERROR_RULES: list[tuple[str, _Fill]] = [
    # heads of multi-line errors ("cannot start:" then "  - …" lines)
    (r"cannot start:", _t("无法开始:")),
    (r"invalid options:", _t("选项有误:")),
    (r"cannot analyse:", _t("无法分析:")),
    (r"invalid scenario:", _t("场景有误:")),
    (r"invalid (?P<w>regions file .+|region \d+ \(.*\)|[^:\n]+):",
     _t("{w} 有误:", w=_key)),
    (r"invalid (?P<w>region \d+ \(.*?\)|[^:\n]+): (?P<rest>.+)", _c("{w} 有误: {rest}", "rest",
                                                                  w=_key)),
    # files in general (_files.py, _tables.py, the readers)
    (r"(?P<what>facility |population raster |candidate |compound |network |community |"
     r"scenario |regions |gate |plan )?file not found(?P<p>: .+)?",
     lambda g: {"plan ": "找不到方案文件",
                "gate ": "找不到出入口文件", "facility ": "找不到设施清单文件", "population raster ": "找不到人口栅格文件",
                "candidate ": "找不到候选点文件", "compound ": "找不到小区文件",
                "network ": "找不到路网文件", "community ": "找不到社区文件",
                "scenario ": "找不到场景文件", "regions ": "找不到区域文件"}.get(
                    g["what"] or "", "找不到文件") + (g["p"] or "")),
    (r"is a folder, not a file: (?P<p>.+)", _t("是文件夹而不是文件: {p}")),
    (r"file not found; give the path of an OSM extract \((?P<k>.+)\)",
     _t("找不到文件; 请给出 OSM 数据文件的路径({k})")),
    (r"the file is empty; download the extract again", _t("文件为空; 请重新下载该数据")),
    (r"the file is empty; export the list again with a header row and one row per facility",
     _t("文件为空; 请重新导出清单: 一行表头, 每处设施一行")),
    (r"the (?P<w>gate )?file has no (?:data )?rows",
     lambda g: ("出入口文件" if g["w"] else "文件") + "没有数据行"),
    (r"the (?P<w>population |compound |community )?layer is empty(?: \(no features\))?",
     lambda g: {"population ": "人口", "compound ": "小区", "community ": "社区"}.get(
         g["w"] or "", "") + "图层为空(没有要素)"),
    (r"no polygon features", _t("没有多边形要素")),
    (r"(?:the layer has )?no CRS; save (?:it|the layer) with its coordinate system"
     r"(?P<g> \(GeoJSON is EPSG:4326 by definition\))?",
     lambda g: "图层没有坐标系(CRS); 请连同坐标系一起保存"
               + ("(GeoJSON 按定义为 EPSG:4326)" if g["g"] else "")),
    (r"the edge layer has no CRS", _t("道路图层没有坐标系(CRS)")),
    (r"(?P<p>.+) has no CRS; save it with one \(e\.g\. EPSG:4326\)",
     _t("{p} 没有坐标系(CRS); 请连同坐标系一起保存(例如 EPSG:4326)")),
    (r"no CRS; set it with \.set_crs\(\.\.\.\)", _t("没有坐标系(CRS); 请用 .set_crs(...) 设置")),
    (r"layer has no CRS; set it with \.set_crs\('EPSG:4326'\) \(or the CRS it was made in\) "
     r"before joining it to the network",
     _t("图层没有坐标系(CRS); 接入路网前请用 .set_crs('EPSG:4326')(或其原本的坐标系)设置")),
    (r"could not read the (?P<w>CSV|workbook|layer) \((?P<e>.+)\)",
     lambda g: "无法读取" + {"CSV": " CSV 文件", "workbook": "工作簿", "layer": "图层"}[g["w"]]
               + f"({g['e']})"),
    (r"cannot read (?P<p>.+) as a GIS layer \((?P<e>.+)\)",
     _t("无法把 {p} 读作 GIS 图层({e})")),
    (r"cannot read the file \((?P<e>.+)\)", _t("无法读取文件({e})")),
    (r"the CSV is neither UTF-8 nor GB18030/GBK; save it as UTF-8",
     _t("CSV 文件的编码既不是 UTF-8 也不是 GB18030/GBK; 请另存为 UTF-8")),
    (r"unsupported file type (?P<s>'.*?'); use (?P<l>.+)",
     _t("不支持的文件类型 {s}; 请使用 {l}", l=_or)),
    (r"coordinate system (?P<c>'.*?') is not one of (?P<l>.+)",
     _t("坐标系 {c} 不是 {l} 之一")),
    (r"category (?P<c>'.*?') is not one of (?P<l>.+)", _t("类别 {c} 不是 {l} 之一")),
    (r"(?P<v>'.*?') is not one of (?P<l>.+)", _t("{v} 不是 {l} 之一", l=_or)),
    (r"no longitude/latitude columns(?: found)? \(looked for (?P<a>.+?) and (?P<b>.+?)\); "
     r"columns(?: are|:) (?P<cols>\[.*\])(?P<poly>\. A polygon layer \(GeoJSON, GeoPackage\) "
     r"carries its own geometry)?",
     lambda g: f"找不到经度/纬度列(查找了 {g['a']} 和 {g['b']}); 文件中的列为 {g['cols']}"
               + ("。多边形图层(GeoJSON、GeoPackage)自带几何形状" if g["poly"] else "")),
    (r"longitude and latitude look swapped \(values in (?P<c>'.*?') exceed 90°"
     r"(?:, e\.g\. row (?P<r>\d+))?\); swap the columns (?P<a>'.*?') and (?P<b>'.*?')",
     lambda g: f"经度和纬度似乎填反了(列 {g['c']} 的值超过 90°"
               + (f", 例如第 {g['r']} 行" if g["r"] else "")
               + f"); 请交换列 {g['a']} 和 {g['b']}"),
    (r"(?P<w>name|type|population) column (?P<c>'.*?') not found; columns are (?P<cols>.+)",
     lambda g: {"name": "名称", "type": "类型", "population": "人口"}[g["w"]]
               + f"列 {g['c']} 不存在; 文件中的列为 {g['cols']}"),
    (r"rows (?P<rows>\[.*?\])(?P<more> …)? have a type or name that names no known facility "
     r"kind \(column (?P<c>.+?)\); use a sub-type such as (?P<k>.+?), or pass "
     r"category='elderly'/'childcare'",
     _t("第 {rows}{more} 行的类型或名称不是已知的设施种类(列 {c}); 请使用 {k} 等子类型, "
        "或指定 category='elderly'/'childcare'", rows=_rows)),
    (rf"no usable facility row \((?P<n>{_N}) rows without a usable coordinate or category\); "
     r"fix the list, or pass --allow-empty to analyse a district with no facility",
     _t("没有可用的设施行({n} 行缺少可用的坐标或类别); 请修正清单, 或用 --allow-empty "
        "分析没有设施的片区")),
    (r"no usable facility row \(the list is empty\); fix the list, or pass --allow-empty to "
     r"analyse a district with no facility",
     _t("没有可用的设施行(清单为空); 请修正清单, 或用 --allow-empty 分析没有设施的片区")),
    (r"no facility list and no OSM file to look for facilities in; set inputs\.facilities "
     r"\(--facilities FILE\)",
     _t("没有设施清单, 也没有可从中查找设施的 OSM 文件; 请设置 inputs.facilities"
        "(--facilities FILE)")),
    (r"coordinates reach x (?P<x>\S+)(?:, y (?P<y>\S+))? but the layer says they are degrees "
     r"\((?P<crs>.+?)\); they look like metres of (?:a projected system(?: \(a GeoJSON without a "
     r"CRS is read as WGS-84\))?)\. Save the file with its real CRS(?P<eg>, e\.g\. .+)?",
     lambda g: f"坐标范围 x {g['x']}" + (f", y {g['y']}" if g["y"] else "")
               + f", 但图层声明为经纬度({g['crs']}); 看起来是投影坐标系的米"
               + "(没有坐标系的 GeoJSON 按 WGS-84 读取)。请以真实坐标系保存文件"
               + (g["eg"].replace(", e.g. ", ", 例如 ") if g["eg"] else "")),
    (r"--compounds-crs (?P<c>\S+) applies to lon/lat degrees, but the layer is in (?P<crs>.+)",
     _t("--compounds-crs {c} 只适用于经纬度, 但该图层的坐标系是 {crs}")),
    (r"no row has a usable geometry; check the coordinate columns",
     _t("没有一行有可用的几何形状; 请检查坐标列")),
    (r"no community name column \(looked for (?P<l>.+?)\); columns are (?P<cols>\[.*\]); name "
     r"it with --community-name-column \(name_column= in Python\)",
     _t("找不到社区名称列(查找了 {l}); 文件中的列为 {cols}; 请用 --community-name-column 指定"
        "(Python 中用 name_column=)")),
    (rf"none of its (?P<n>{_N}) communities covers any populated cell of the study area; check "
     r"that it is the same district and that its coordinate system is declared right \(a GCJ-02 "
     r"or metre layer read as WGS-84\?\)",
     _t("其 {n} 个社区都不覆盖研究区内有人口的网格; 请确认是同一片区, 且坐标系声明正确"
        "(是否把 GCJ-02 或米制图层当作 WGS-84 读取?)")),
    # compound gates (gates.py)
    (r"rows (?P<rows>\[.*?\]) name a compound that is not unique \((?P<n>.+)\); give "
     r"compound_id instead",
     _t("第 {rows} 行所指的小区名称不唯一({n}); 请改用 compound_id", rows=_rows)),
    (r"no compound column \(looked for (?P<a>.+) or (?P<b>.+?)\); columns are (?P<cols>\[.*\])",
     _t("找不到小区列(查找了 {a} 或 {b}); 文件中的列为 {cols}")),
    (r"rows (?P<rows>\[.*?\]) name a compound (?P<w>id|name) that is not among the compounds "
     r"\((?P<ex>.+)\); check the compound (?P=w) column (?P<c>'.*?')",
     lambda g: f"第 {_rows(g['rows'])} 行的小区" + ("编号" if g["w"] == "id" else "名称")
               + f"不在小区表中({g['ex']}); 请检查列 {g['c']}"),
    (r"no longitude/latitude columns \(经度/纬度, lon/lat\); columns are (?P<cols>\[.*\])",
     _t("找不到经度/纬度列(经度/纬度, lon/lat); 文件中的列为 {cols}")),
    (r"rows (?P<rows>\[.*?\]) have no usable coordinate", _t("第 {rows} 行没有可用坐标", rows=_rows)),
    (rf"rows (?P<rows>\[.*?\]) lie more than (?P<m>{_F}) m from the outline of their compound "
     r"\(read as (?P<c>\w+)\)(?:; read as (?P<alt>\w+) most of them lie on their compound's "
     r"outline: pass coords=(?P<a2>'\w+')|(?P<check>; check the coordinates and the compound "
     r"column))",
     lambda g: f"第 {_rows(g['rows'])} 行距所属小区边界超过 {g['m']} 米(按 {g['c']} 读取)"
               + (f"; 按 {g['alt']} 读取时大多位于小区边界上: 请指定 coords={g['a2']}"
                  if g["alt"] else "; 请检查坐标和小区列")),
    (rf"rows (?P<rows>\[.*?\]) are gates more than (?P<m>{_F}) m from any walkable street; move "
     r"them to the street they open onto",
     _t("第 {rows} 行的出入口距任何步行道路超过 {m} 米; 请移到其所通向的道路上", rows=_rows)),
    (r"no 'compound_id' column; columns are (?P<cols>\[.*\])",
     _t("没有 'compound_id' 列; 现有列 {cols}")),
    (r"compound_id values repeat: (?P<v>\[.*\])", _t("compound_id 有重复值: {v}")),
    (r"the layer has no CRS", _t("图层没有坐标系(CRS)")),
    (r"gates name compounds that are not in the compound table: (?P<v>\[.*\])",
     _t("出入口所指的小区不在小区表中: {v}")),
    (r"give the OSM file \(path\) or the ways", _t("请提供 OSM 文件(path)或道路(ways)")),
    # Python API arguments (a script's mistakes)
    (r"population raster not found", _t("找不到人口栅格文件")),
    (r"cell size must be positive, got (?P<v>.+)", _t("网格大小必须为正, 实际为 {v}")),
    (r"weight must be 'area' or 'buildings', got (?P<v>.+)",
     _t("weight 必须是 'area' 或 'buildings', 实际为 {v}")),
    (r"weight='buildings' needs a buildings layer with floor_area_m2",
     _t("weight='buildings' 需要带 floor_area_m2 的建筑图层")),
    (r"floor area per resident must be positive, got (?P<v>.+)",
     _t("人均建筑面积必须为正, 实际为 {v}")),
    (r"the ceiling in residents per hectare must be positive, got (?P<v>.+)",
     _t("每公顷居民上限必须为正, 实际为 {v}")),
    (r"target must be a coverage rate in \(0, 1\], got (?P<v>.+)",
     _t("target 必须是 (0, 1] 之间的覆盖率, 实际为 {v}")),
    (r"capacity_aware=True is for childcare \(托位\), not (?P<c>'.*?'); use category='childcare'",
     _t("capacity_aware=True 用于托育托位, 不适用于 {c}; 请用 category='childcare'")),
    (r"model='(?P<m>\w+)' (?:\(maximal covering\) )?needs (?P<what>a number of sites p >= 1|a "
     r"coverage rate target in \(0, 1\]|a number of sites p or a coverage rate target)"
     r"(?:, got (?P<v>.+))?",
     lambda g: f"model='{g['m']}' 需要" + {
         "a number of sites p >= 1": "不小于 1 的站点数 p",
         "a coverage rate target in (0, 1]": "(0, 1] 之间的覆盖率目标 target",
         "a number of sites p or a coverage rate target": "站点数 p 或覆盖率目标 target"}[g["what"]]
     + (f", 实际为 {g['v']}" if g["v"] else "")),
    (r"demand must be >= 0", _t("需求(demand)必须不小于 0")),
    (r"coverage matrix has (?P<a>\d+) demand columns but demand has (?P<b>\d+) values",
     _t("覆盖矩阵有 {a} 个需求列, 但 demand 有 {b} 个值")),
    # output folder (_files.py)
    (r"another care15 run \(process (?P<pid>\d+)\) is writing this folder; wait for it to "
     r"finish, or choose another (?P<flag>\S+)",
     _t("另一个 care15 运行(进程 {pid})正在写入该文件夹; 请等待其完成, 或另选 {flag}")),
    (r"another care15 run is writing this folder; choose another (?P<flag>\S+)",
     _t("另一个 care15 运行正在写入该文件夹; 请另选 {flag}")),
    (r"is a file, not a folder; give a folder for the outputs",
     _t("这是文件而不是文件夹; 请给出存放输出的文件夹")),
    (r"cannot create (?P<p>.+) \((?P<e>.+)\); choose another (?P<flag>\S+)",
     _t("无法创建 {p}({e}); 请另选 {flag}")),
    (r"the folder (?P<p>.+) is not writable; choose another (?P<flag>\S+)",
     _t("文件夹 {p} 不可写; 请另选 {flag}")),
    # OSM files (sources/osm.py, cache.py)
    (r"could not read it as an OSM PBF file \((?P<e>.+)\); check it is an \.osm\.pbf extract "
     r"\(for \.osm XML use network_from_xml\)",
     _t("无法作为 OSM PBF 文件读取({e}); 请确认它是 .osm.pbf 数据(.osm XML 请用 "
        "network_from_xml)")),
    (r"could not read it as OSM XML \((?P<e>.+)\); for \.osm\.pbf use network_from_pbf",
     _t("无法作为 OSM XML 读取({e}); .osm.pbf 请用 network_from_pbf")),
    (r"no walkable ways in this file; it holds no highway=\* ways \(is it a POI-only or "
     r"building-only extract\?\)",
     _t("文件中没有可步行的道路; 其中没有 highway=* 道路(是否只含兴趣点或建筑?)")),
    (r"no walkable ways \(every highway=\* way is a motorway, private, foot=no or otherwise "
     r"closed to pedestrians; see WALK_RULE\)",
     _t("没有可步行的道路(所有 highway=* 道路都是高速公路、私人道路、foot=no 或不对行人开放; "
        "见 WALK_RULE)")),
    (r"no walkable ways \(the graph has no edges\)", _t("没有可步行的道路(路网图没有边)")),
    (r"no walkable ways after removing motorways, private and foot=no ways",
     _t("去掉高速公路、私人道路和 foot=no 道路后没有可步行的道路")),
    (r"no walkable ways \(the layer of streets is empty\); check the file covers a built-up area "
     r"and has highway=\* ways",
     _t("没有可步行的道路(道路图层为空); 请确认文件覆盖建成区且含 highway=* 道路")),
    (r"unknown OSM file type; expected \.osm\.pbf, \.osm or \.osm\.bz2",
     _t("未知的 OSM 文件类型; 应为 .osm.pbf、.osm 或 .osm.bz2")),
    (r"could not read features \((?P<e>.+)\)", _t("无法读取要素({e})")),
    (r"osmnx\.(?P<fn>.+?) failed(?: \((?P<e>.+?)\))?; this needs internet access to Overpass"
     r"(?: and Nominatim)?; offline, pass an OSM file \(--pbf or --osm\)",
     lambda g: f"osmnx.{g['fn']} 失败" + (f"({g['e']})" if g["e"] else "")
               + "; 这需要能访问 Overpass 的网络; 离线时请提供 OSM 文件(--pbf 或 --osm)"),
    (r"(?P<m>osmnx\..+? failed; this needs internet access to Overpass; offline, pass an OSM "
     r"file \(--pbf or --osm\)) \((?P<e>.+)\)", _c("{m}({e})", "m")),
    (r"unknown online OSM source (?P<k>'.*?'); use one of (?P<l>.+)",
     _t("未知的在线 OSM 数据源 {k}; 请使用 {l} 之一")),
    (r"bbox= clipping is only supported for \.osm\.pbf files",
     _t("bbox= 裁剪只支持 .osm.pbf 文件")),
    (r"cannot use this network file, it is (?P<e>.+); save it again with "
     r"care15\.cache\.network_to_npz",
     _t("无法使用该路网文件({e}); 请用 care15.cache.network_to_npz 重新保存")),
    (r"not a care15 network file \((?P<e>.+)\)", _t("不是 care15 路网文件({e})")),
    (r"cache folder (?P<d>.+) cannot be created \((?P<e>.+)\); set (?P<env>\w+) to a writable "
     r"folder, or run without the cache \(--no-cache on the command line, cache=False or "
     r"cache_dir= in Python\)",
     _t("无法创建缓存文件夹 {d}({e}); 请把 {env} 设为可写的文件夹, 或不用缓存运行"
        "(命令行用 --no-cache, Python 中用 cache=False 或 cache_dir=)")),
    # population (sources/population.py, region.py)
    (r"not a readable raster \((?P<e>.+)\)", _t("不是可读取的栅格({e})")),
    (r"the raster has no CRS; set one \(e\.g\. gdal_edit\.py -a_srs EPSG:4326\) before using it",
     _t("栅格没有坐标系(CRS); 使用前请设置(例如 gdal_edit.py -a_srs EPSG:4326)")),
    (r"the raster does not overlap the study area", _t("栅格与研究区不重叠")),
    (rf"(?P<n>{_N}) pixels have negative population \(first at row (?P<r>\d+), column "
     r"(?P<c>\d+): (?P<v>.+?)\); declare the nodata value or fix the raster",
     _t("{n} 个像元的人口为负(第一个在第 {r} 行、第 {c} 列: {v}); 请声明 nodata 值或修正栅格")),
    (r"column (?P<c>'.*?') is negative in rows (?P<rows>\[.*?\]); population cannot be negative",
     _t("列 {c} 第 {rows} 行为负数; 人口不能为负", rows=_rows)),
    (r"total population must be a positive number, got (?P<v>.+)",
     _t("总人口必须是正数, 实际为 {v}")),
    (r"no residential buildings, residential land use or residential streets to place residents "
     r"on; pass a population layer instead \(--population\)",
     _t("没有可安置居民的住宅建筑、居住用地或居住街道; 请改为提供人口图层(--population)")),
    (r"no residential buildings, residential land use or residential streets inside the study "
     r"area; pass a population layer \(--population\)",
     _t("研究区内没有住宅建筑、居住用地或居住街道; 请提供人口图层(--population)")),
    (r"a vector population layer needs inputs\.population_column \(or --population-column\)",
     _t("矢量人口图层需要 inputs.population_column(或 --population-column)")),
    (r"a vector population layer needs its column: pass --population-column NAME "
     r"\(inputs\.population_column\)",
     _t("矢量人口图层需要指定人口列: 请用 --population-column NAME(inputs.population_column)")),
    (r"no population: set inputs\.population to a population file \(--population FILE\) or, "
     r"with an OSM file, inputs\.total_population to a total to distribute "
     r"\(--total-population N\)",
     _t("没有人口数据: 请把 inputs.population 设为人口文件(--population FILE), 或在有 OSM 文件时"
        "把 inputs.total_population 设为要分配的总人口(--total-population N)")),
    (r"no population: pass a population file \(--population FILE\), with an OSM file a total to "
     r"distribute \(--total-population N\), or compounds with their households "
     r"\(--compounds FILE\|osm\)",
     _t("没有人口数据: 请提供人口文件(--population FILE), 或在有 OSM 文件时提供要分配的总人口"
        "(--total-population N), 或提供带户数的小区(--compounds FILE|osm)")),
    (r"no residents in the study area \(empty, all nodata, zero or text values, or outside the "
     r"network's extent\); check the file, its column \(--population-column\) and its coordinate "
     r"system, or pass --allow-empty",
     _t("研究区内没有居民(为空、全为 nodata、零或文本值, 或在路网范围之外); 请检查文件、"
        "其人口列(--population-column)和坐标系, 或使用 --allow-empty")),
    (r"NaN or negative values in (?P<c>.+?); fix the population layer \(see population_from_\* "
     r"loaders\)", _t("{c} 中有 NaN 或负值; 请修正人口图层(见 population_from_* 读取函数)")),
    (r"the layer is empty; nothing to analyse", _t("图层为空; 没有可分析的内容")),
    (r"missing columns (?P<m>\[.*?\]); has (?P<h>\[.*\])", _t("缺少列 {m}; 现有列 {h}")),
    (rf"a (?P<s>{_F}) m grid over these bounds has (?P<n>{_N}) cells; use a larger cell size",
     _t("该范围上的 {s} 米网格有 {n} 个; 请用更大的网格")),
    # street network and study area (region.py, pipeline.py)
    (r"scenario names no street network: set \[area\] pbf, osm, place or bbox \(or pass "
     r"--pbf/--osm/--place\)",
     _t("场景没有指定路网: 请设置 [area] pbf、osm、place 或 bbox(或使用 --pbf/--osm/--place)")),
    (r"no street network: pass --pbf FILE, --osm FILE or --place NAME \(or set \[area\] pbf, "
     r"osm, place or bbox in the scenario file\)",
     _t("没有路网: 请用 --pbf FILE、--osm FILE 或 --place NAME(或在场景文件中设置 [area] pbf、"
        "osm、place 或 bbox)")),
    (r"no street network: set \[region\.area\] pbf, osm, place or bbox, or \[region\.layers\] "
     r"network",
     _t("没有路网: 请设置 [region.area] pbf、osm、place 或 bbox, 或 [region.layers] network")),
    # scenario keys (scenario.py)
    (r"give only one of pbf, osm, place, bbox \(got (?P<g>.+)\)",
     _t("pbf、osm、place、bbox 只能给一个(给了 {g})")),
    (r"expected \[west, south, east, north\] with west<east, south<north; got (?P<b>.+)",
     _t("应为 [west, south, east, north], 且 west<east、south<north; 实际为 {b}")),
    (r"must be > 0, got (?P<v>.+)", _t("必须大于 0, 实际为 {v}")),
    (r"must be a number > 0, got (?P<v>.+)", _t("必须是大于 0 的数, 实际为 {v}")),
    (r"must be an integer >= 1, got (?P<v>.+)", _t("必须是不小于 1 的整数, 实际为 {v}")),
    (r"(?P<k>n_workers|n_sites) must be at least 1, got (?P<v>.+)",
     _t("{k} 至少为 1, 实际为 {v}")),
    (r"must be at least 1(?:, got (?P<v>.+)| \(worker processes of the local cluster\))?",
     lambda g: "至少为 1" + (f", 实际为 {g['v']}" if g["v"] else "")),
    (r"give at least one of (?P<l>.+)", _t("至少给出 {l} 之一", l=_list)),
    (r"unknown category (?P<c>'.*?'); allowed: (?P<l>.+)", _t("未知类别 {c}; 可用: {l}", l=_list)),
    (r"give at least one threshold in minutes, e\.g\. \[5, 10, 15\]",
     _t("至少给出一个以分钟计的阈值, 例如 [5, 10, 15]")),
    (r"(?P<t>\S+) is not allowed; each threshold must be > 0 and <= 120 minutes",
     _t("不允许 {t}; 每个阈值必须大于 0 且不超过 120 分钟")),
    (r"must be increasing and distinct, got (?P<v>.+)", _t("必须递增且互不相同, 实际为 {v}")),
    (r"(?P<v>\S+) m/s is not allowed; walking speeds must be in \[0\.1, 3\.0\] m/s",
     _t("不允许 {v} m/s; 步速必须在 [0.1, 3.0] m/s 之间")),
    (r"(?P<v>\S+) is not a share; allowed range is \[0, 1\]", _t("{v} 不是比例; 取值范围为 [0, 1]")),
    (r"share_60plus \+ share_0to3 exceed 1", _t("share_60plus 与 share_0to3 之和超过 1")),
    (r"(?P<v>\S+) is not allowed; a coverage target is a share in \(0, 1\]",
     _t("不允许 {v}; 覆盖率目标是 (0, 1] 之间的比例")),
    (r"(?P<v>\S+) must be one of thresholds_min (?P<l>\[.*\])",
     _t("{v} 必须是 thresholds_min {l} 之一")),
    (r"(?P<v>.+?) is not allowed; must be in \[(?P<lo>[^,]+), (?P<hi>[^\]]+)\]",
     _t("不允许 {v}; 必须在 [{lo}, {hi}] 之间")),
    (r"(?P<v>\S+) is not a year; allowed range is \[1900, 2100\]",
     _t("{v} 不是年份; 取值范围为 [1900, 2100]")),
    (r"(?P<v>\S+) is not a year \(0 = assess every existing compound\)",
     _t("{v} 不是年份(0 = 评估所有现有小区)")),
    (r"compounds\.file = 'osm' \(--compounds osm\) needs an OSM source: set \[area\] pbf, osm, "
     r"place or bbox",
     _t("compounds.file = 'osm'(--compounds osm)需要 OSM 数据源: 请设置 [area] pbf、osm、place "
        "或 bbox")),
    (r"compounds\.population = 'yes' needs compounds\.file \(--compounds\)",
     _t("compounds.population = 'yes' 需要 compounds.file(--compounds)")),
    (r"--compounds osm needs an OSM source \(--pbf, --osm or --place\)",
     _t("--compounds osm 需要 OSM 数据源(--pbf、--osm 或 --place)")),
    (r"no compound gives households or residents; population cannot come from the compounds "
     r"\(set compounds\.population = 'no' and give a population file or a total\)",
     _t("没有小区给出户数或居民数; 人口无法取自小区(请设置 compounds.population = 'no', "
        "并提供人口文件或总人口)")),
    (r"expected (?P<w>.+), got (?P<v>.+?)(?: \((?P<t>\w+)\))?",
     lambda g: f"应为{_KINDS_ZH.get(g['w'], g['w'])}, 实际为 {g['v']}"
               + (f"({g['t']})" if g["t"] else "")),
    (r"unknown (?P<w>scenario |top-level )?key(?:; allowed: (?P<l>.+))?",
     lambda g: {"scenario ": "未知的场景键", "top-level ": "未知的顶层键"}.get(g["w"] or "",
                                                                     "未知的键")
               + (f"; 可用: {_list(g['l'])}" if g["l"] else "")),
    (r"(?P<p>(?:(?!: ).)+?) is not valid TOML(?: \((?P<e>.+)\))?",
     lambda g: f"{g['p']} 不是有效的 TOML" + (f"({_toml(g['e'])})" if g["e"] else "")),
    (r"(?P<p>(?:(?!: ).)+?):? not valid TOML(?: \((?P<e>.+)\))?",
     lambda g: f"{g['p']}: 不是有效的 TOML" + (f"({_toml(g['e'])})" if g["e"] else "")),
    # command line checks (cli.py, pipeline.py RunOptions)
    (r"a coverage rate in \(0, 1\], e\.g\. 0\.9 for 90%",
     _t("应为 (0, 1] 之间的覆盖率, 例如 0.9 表示 90%")),
    (r"must be a positive number of seconds", _t("必须是正的秒数")),
    (r"--capacity-aware is for childcare places \(托位\), not --category (?P<c>\w+); use "
     r"--category childcare",
     _t("--capacity-aware 用于托育托位, 不适用于 --category {c}; 请用 --category childcare")),
    (r"not among the scenario's categories (?P<l>\[.*\])", _t("不在场景的类别 {l} 中")),
    (r"basemap 'tianditu' needs a 天地图 key \(tianditu_key\)",
     _t("天地图底图需要天地图 key(tianditu_key)")),
    (r"care15 batch needs dask\.distributed: pip install 'care15\[batch\]'",
     _t("care15 batch 需要 dask.distributed: pip install 'care15[batch]'")),
    # siting and candidates
    (r"none of the (?P<n>\d+) candidate sites is usable: (?P<d>.+?) \(more than (?P<m>[\d.]+) m "
     r"from a street, on water, or duplicates\)",
     _t("{n} 个候选点都不可用: {d}(距道路超过 {m} 米、位于水面或重复)", d=_dropped_dict)),
    (r"no candidate sites: pass candidates \(e\.g\. from care15\.candidates\.candidates_from_file\) "
     r"with points inside the study area",
     _t("没有候选点: 请提供研究区内的候选点(例如用 care15.candidates.candidates_from_file 读取)")),
    (r"a spatial layer carries its own CRS; --candidates-crs \(coords=(?P<c>'.*?') in Python\) "
     r"applies only to the lon/lat columns of CSV/XLSX files",
     _t("空间图层自带坐标系; --candidates-crs(Python 中 coords={c})只适用于 CSV/XLSX 文件的"
        "经纬度列")),
    # regions file (regions.py)
    (r"no regions; add one \[\[region\]\] table per region, each with name = \"\.\.\.\" and a "
     r"scenario file or inline \[region\.area\] \.\.\.",
     _t("没有区域; 请为每个区域加一个 [[region]] 表, 各含 name = \"...\" 以及场景文件或内联的 "
        "[region.area] ...")),
    (r"\[(?P<t>batch|defaults)\] must be a table(?P<w> of scenario keys)?, got (?P<v>.+)",
     lambda g: f"[{g['t']}] 必须是" + ("场景键的" if g["w"] else "") + f"表, 实际为 {g['v']}"),
    (r"must be a table, got (?P<v>.+)", _t("必须是表, 实际为 {v}")),
    (r"must be true or false, got (?P<v>.+)", _t("必须是 true 或 false, 实际为 {v}")),
    (r"must be true, false or a folder, got (?P<v>.+)",
     _t("必须是 true、false 或文件夹, 实际为 {v}")),
    (r"must be a file path, got (?P<v>.+)", _t("必须是文件路径, 实际为 {v}")),
    (r"must be the path of a scenario file, got (?P<v>.+)", _t("必须是场景文件的路径, 实际为 {v}")),
    (r"missing(?P<rest>; with \[region\.layers\] give at least facilities and cells \(or drop "
     r"the table to read everything from the scenario\))?",
     lambda g: "缺失" + ("; 使用 [region.layers] 时至少给出 facilities 和 cells(或删去该表, "
                         "全部从场景读取)" if g["rest"] else "")),
    (r"(?P<n>'.*?') cannot be a folder name; use letters, digits, spaces, '_', '-', '\.' "
     r"\(not first\), at most 100",
     _t("{n} 不能用作文件夹名; 请用字母、数字、空格、'_'、'-'、'.'(不能开头), 至多 100 个字符")),
    (r"(?P<n>'.*?') is the name of a file the batch writes \((?P<l>.+)\); choose another name",
     _t("{n} 是批量运行要写入的文件名({l}); 请另取名称")),
    (r"(?P<n>'.*?') is already used by region (?P<i>\d+); names must be unique",
     _t("{n} 已被区域 {i} 使用; 名称不能重复")),
    # argparse (cli.py prints them through this table under --lang zh)
    (r"unrecognized arguments: (?P<a>.+)", _t("无法识别的参数: {a}")),
    (r"the following arguments are required: (?P<a>.+)", _t("缺少必需的参数: {a}")),
    (r"argument (?P<a>[^:]+): (?P<rest>.+)", _c("参数 {a}: {rest}", "rest")),
    (r"invalid choice: (?P<v>.+?) \(choose from (?P<l>.+)\)", _t("无效的取值: {v}(可选: {l})")),
    (r"invalid (?P<t>\w+) value: (?P<v>.+)",
     lambda g: f"无效的{_TYPES.get(g['t'], g['t'] + ' 值')}: {g['v']}"),
    (r"expected (?P<n>one|at most one|at least one|\d+) arguments?",
     lambda g: "需要" + {"one": "一个", "at most one": "至多一个", "at least one": "至少一个"}.get(
         g["n"], f" {g['n']} 个") + "参数值"),
    (r"not allowed with argument (?P<a>.+)", _t("不能与参数 {a} 同时使用")),
    (r"one of the arguments (?P<a>.+) is required", _t("参数 {a} 中必须给出一个")),
    (r"ambiguous option: (?P<o>\S+) could match (?P<m>.+)", _t("选项 {o} 有歧义, 可能是 {m}")),
    (r"ignored explicit argument (?P<a>.+)", _t("忽略了多余的参数值 {a}")),
    # a line "<key>: <problem>" (a file, a flag, a scenario key, a region): the key as written
    (r"(?P<k>[^:\n]+?): (?P<rest>.+)", _c("{k}: {rest}", "rest", k=_key)),
]


#: (pattern, Chinese) pairs; the first full match wins. Patterns name their groups.
_RULES: list[tuple[str, _Fill]] = [
    # ---- plan files (planfile.py, compare.py) ------------------------------------------------
    (r"cannot use the plan file:", _t("无法使用方案文件:")),
    (r"the plan file is empty; give a header row and one row per edit \((?P<c>.+)\)",
     _t("方案文件为空; 请给出一行表头, 每项变更一行({c})")),
    (r"the plan file has no edits \(no data rows\); give one row per edit under the header",
     _t("方案文件中没有变更(没有数据行); 请在表头下每项变更写一行")),
    (r"no action column \(looked for (?P<l>.+?)\); columns are (?P<cols>\[.*\])",
     _t("找不到操作列(查找了 {l}); 文件中的列为 {cols}")),
    (r"row (?P<r>\d+), column (?P<c>'.*?')(?: \((?P<l>[A-Z]+)\))?: (?P<rest>.+)",
     _c("第 {r} 行, 列 {c}{l}: {rest}", "rest", l=lambda v: f"(第 {v} 列)" if v else "")),
    (r"row (?P<r>\d+): (?P<rest>.+)", _c("第 {r} 行: {rest}", "rest")),
    (r"(?P<w>no action|unknown action (?P<v>'.*?')); use add, move, remove or resize "
     r"\(新增, 迁移, 撤销, 调整规模\)",
     lambda g: ("没有操作" if g["v"] is None else f"未知的操作 {g['v']}")
               + "; 请用 新增、迁移、撤销 或 调整规模(add、move、remove、resize)"),
    (r"(?P<v>'.*?') names no category or facility kind; use 养老/elderly, 托育/childcare or a "
     r"sub-type such as (?P<k>.+)",
     _t("{v} 不是已知的类别或设施种类; 请用 养老/elderly、托育/childcare 或 {k} 等子类型")),
    (r"an add needs a category; give 养老/elderly or 托育/childcare \(or a sub-type such as "
     r"(?P<k>.+)\)",
     _t("新增须给出类别; 请填 养老/elderly 或 托育/childcare(或 {k} 等子类型)")),
    (r"the coordinate is not a number; give longitude and latitude in degrees",
     _t("坐标不是数字; 请以度为单位给出经度和纬度")),
    (r"an? (?P<a>add|move) needs coordinates but the file has no longitude/latitude columns "
     r"\(经度/纬度, lon/lat\)",
     lambda g: ("新增" if g["a"] == "add" else "迁移") + "须给出坐标, 但文件中没有经度/纬度列"
               "(经度/纬度, lon/lat)"),
    (r"an? (?P<a>add|move) needs coordinates; give longitude and latitude \(columns "
     r"(?P<x>'.*?') and (?P<y>'.*?')\)",
     lambda g: ("新增" if g["a"] == "add" else "迁移")
               + f"须给出坐标; 请填写经度和纬度(列 {g['x']} 和 {g['y']})"),
    (r"longitude and latitude look swapped \((?P<v>[-\d.e+]+, [-\d.e+]+)\); swap the columns "
     r"(?P<a>'.*?') and (?P<b>'.*?')",
     _t("经度和纬度似乎填反了({v}); 请交换列 {a} 和 {b}")),
    (r"\((?P<v>[-\d.e+]+, [-\d.e+]+)\) are not longitude and latitude in degrees",
     _t("({v}) 不是以度为单位的经纬度")),
    (r"the capacity is not a number; give beds \(床位\) or places \(托位\) as a number >= 0",
     _t("规模不是数字; 请以不小于 0 的数字给出床位或托位")),
    (r"capacity (?P<v>\S+) is negative; give beds \(床位\) or places \(托位\) as a number >= 0",
     _t("规模 {v} 为负数; 请以不小于 0 的数字给出床位或托位")),
    (r"a resize needs the new capacity; give beds \(床位\) or places \(托位\) in a capacity "
     r"column \((?P<c>.+)\)",
     _t("调整规模须给出新的规模; 请在规模列({c})中填写床位或托位")),
    (r"an? (?P<a>move|remove|resize) needs the facility_id of the facility \(f<row> of the "
     r"facility list, as facilities\.csv of care15 analyze lists it\)",
     lambda g: {"move": "迁移", "remove": "撤销", "resize": "调整规模"}[g["a"]]
               + "须给出设施编号 facility_id(设施清单第 <行> 行为 f<行>, 见 care15 analyze 写出的 "
               "facilities.csv)"),
    (r"(?P<v>'.*?') is added again \(first in row (?P<r>\d+)\); give each new facility its own "
     r"id",
     _t("{v} 被重复新增(首次在第 {r} 行); 请为每处新设施给出不同的编号")),
    (r"(?P<v>'.*?') is already a facility \((?P<w>the facility list has it|an earlier row adds "
     r"it)\); give the new facility another id, or leave the id empty",
     lambda g: f"{g['v']} 已是现有设施(" + ("设施清单中已有" if g["w"].startswith("the")
                                         else "前面的行已新增")
               + "); 请为新设施另取编号, 或留空"),
    (r"no facility (?P<v>'.*?') to (?P<a>move|remove|resize) \((?P<w>not in the facility list "
     r"\(--facilities\)|an earlier row removes it)\); use a facility_id of facilities\.csv "
     r"\(care15 analyze writes it: f<row> for row <row> of the list\)",
     lambda g: "没有可" + {"move": "迁移", "remove": "撤销", "resize": "调整规模"}[g["a"]]
               + f"的设施 {g['v']}("
               + ("不在设施清单中(--facilities)" if g["w"].startswith("not") else "前面的行已撤销")
               + "); 请使用 facilities.csv 中的 facility_id(由 care15 analyze 写出: 清单第 <行> "
               "行为 f<行>)"),
    (r"\((?P<v>[^)]*)\) as (?P<crs>\w+) lies outside the street network's area \(lon "
     r"(?P<w>\S+) to (?P<e>\S+), lat (?P<s>\S+) to (?P<n>\S+) in WGS-84\); (?P<fix>.+)",
     lambda g: f"({g['v']}) 按 {g['crs']} 读取位于路网范围之外(WGS-84 经度 {g['w']} 至 "
               f"{g['e']}, 纬度 {g['s']} 至 {g['n']}); {_plan_fix(g['fix'])}"),
    (rf"\((?P<v>[^)]*)\) as (?P<crs>\w+) is (?P<d>{_F}) m from the nearest walkable street "
     rf"\(more than (?P<m>{_F}) m\): it would serve no one; (?P<fix>.+)",
     lambda g: f"({g['v']}) 按 {g['crs']} 读取距最近的步行道路 {g['d']} 米(超过 {g['m']} 米): "
               f"不能服务任何居民; {_plan_fix(g['fix'])}"),
    (r"applying the plan", _t("应用方案")),
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
    (rf"(?P<t>\w+) has (?P<n>{_N}) rows; left out of tables\.xlsx and GeoJSON \(see "
     r"(?P=t)\.csv and (?P=t)\.parquet\)",
     _t("{t} 有 {n} 行, 未写入 tables.xlsx 和 GeoJSON(见 {t}.csv 和 {t}.parquet)")),
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
    (r"(?P<c>\w+): overlay shares", _t("{c}: 等时圈叠加面积比例", c=_cat)),
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
    *_ERROR_RULES,
]


def _plan_fix(s: str) -> str:
    """The fix of a plan row placed off the streets, in Chinese."""
    m = re.fullmatch(r"read as (?P<o>\w+) these coordinates lie on the streets: pass "
                     r"(?P<f>\S+) (?P=o)", s)
    if m:
        return f"按 {m['o']} 读取时这些坐标位于道路上: 请指定 {m['f']} {m['o']}"
    m = re.fullmatch(r"check the coordinates and their system \((?P<f>\S+) (?P<c>\w+)\)", s)
    if m:
        return f"请检查坐标及其坐标系({m['f']} {m['c']})"
    return s


def _compound_names(s: str) -> str:
    """``甲 (A), 乙 (B) and 3 more`` → ``甲 (A)、乙 (B) 等另外 3 个``."""
    m = re.fullmatch(r"(?P<list>.*?)(?: and (?P<k>[\d,]+) more)?", s.strip(), re.DOTALL)
    if m is None:
        return s
    out = m["list"].replace(", ", "、")
    return out + (f" 等另外 {m['k']} 个" if m["k"] else "")
_COMPILED = [(re.compile(p, re.DOTALL), f) for p, f in _RULES]
#: When a list, :func:`translate_or_none` appends the index of each rule that answers (a
#: composite's parts too): the tests use it to prove every rule has an example.
_TRACE: list[int] | None = None


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
    for i, (pat, fill) in enumerate(_COMPILED):
        m = pat.fullmatch(s)
        if m is not None:
            out = fill(m.groupdict())
            if out is not None:  # None: a composite whose parts are not all known
                if _TRACE is not None:
                    _TRACE.append(i)
                return out
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


def error_text(message: str, lang: str) -> str:
    r"""A user error (an :class:`~care15.InputError`'s message) for the console in ``lang``.

    Translated line by line: the head of a list (``cannot start:``) and each ``  - …`` item
    on its own, the item marks kept. A line the table does not know stays English (the
    message is never lost).

    Parameters
    ----------
    message
        The English message, as care15 or argparse wrote it.
    lang
        ``"zh"`` or ``"en"`` (English returns ``message`` as it is).

    Returns
    -------
    str
        The message in ``lang`` where a translation exists.

    Examples
    --------
    >>> print(error_text("cannot start:\n  - --sites 0: must be at least 1", "zh"))
    无法开始:
      - --sites 0: 至少为 1
    """
    if lang != "zh":
        return message
    out = []
    for line in message.split("\n"):
        m = re.fullmatch(r"(\s*(?:- )?)(.*?)(\s*)", line, re.DOTALL)
        lead, body, tail = (m[1], m[2], m[3]) if m else ("", line, "")
        try:
            zh = translate_or_none(body) if body else None
        except Exception:  # a faulty rule must not hide the user's error
            zh = None
        out.append(lead + (body if zh is None else zh) + tail)
    return "\n".join(out)
