"""The ``care15`` command: parse and check the arguments, call the run stage, print the result.

``demo``, ``analyze`` and ``batch`` go through :func:`care15.pipeline.run` (batch schedules its
calls on Dask), ``suggest`` through :func:`care15.pipeline.run_suggest`, ``compare`` through
:func:`care15.compare.run_compare`. Results go to stdout;
progress, notes and errors to stderr. A user's mistake exits with status 2 and a message that
names the file, flag or key and the fix; an internal error prints its traceback and asks for a
report (``--debug`` shows tracebacks for every error).

The stages are imported only when a command runs, so ``care15 --help`` answers at once.
"""

from __future__ import annotations

import argparse
import logging
import math
import sys
import traceback
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from ._errors import InputError
from ._options import BASEMAPS, COORD_SYSTEMS, COVERAGE_METHODS, LANGS

if TYPE_CHECKING:
    from .pipeline import RunOptions, RunResult
    from .scenario import Scenario

__all__ = ["build_parser", "main"]

log = logging.getLogger("care15")

#: The console's language while the arguments are parsed: argparse reports a mistake before
#: ``--lang`` is known, so :func:`main` reads it from the arguments first (zh by default).
_ARGV_LANG = ["zh"]


def _argv_lang(argv: list[str]) -> str:
    """The language the arguments ask for: ``en`` with ``--lang en``/``--lang=en``, else zh."""
    lang = "zh"
    for i, a in enumerate(argv):
        if a == "--":
            break
        if a == "--lang" and i + 1 < len(argv):
            lang = argv[i + 1]
        elif a.startswith("--lang="):
            lang = a.split("=", 1)[1]
    return "en" if lang == "en" else "zh"


class _Parser(argparse.ArgumentParser):
    """argparse's parser whose mistakes speak the console's language.

    "unrecognized arguments", "invalid choice" and the like; the sub-command parsers are made
    of this class too.
    """

    def error(self, message: str) -> NoReturn:
        """Print the usage and the mistake in the console's language; exit with status 2.

        Parameters
        ----------
        message
            argparse's English message.
        """
        if _ARGV_LANG[0] != "zh":
            super().error(message)
        from ._notes import error_text

        self._print_message(f"用法: {self.prog} …; 全部选项见 {self.prog} -h\n", sys.stderr)
        self.exit(2, f"{self.prog}: 错误: {error_text(message, 'zh')}\n")

#: Where ``care15 demo`` copies its map when ``--out`` is not given (the project's maps/).
DEMO_MAP = Path("maps") / "demo_map.html"
DEMO_OUT = Path("out/demo")

EXAMPLES = {
    "care15": """examples:
  care15 demo
  care15 analyze --pbf chengdu.osm.pbf --facilities 设施.xlsx --facilities-crs gcj02 \\
      --total-population 250000 --out out/chengdu
  care15 suggest --demo --category childcare --sites 3 --out out/sites
""",
    "demo": """examples:
  care15 demo                       # out/demo/ and maps/demo_map.html, offline
  care15 demo --lang en --out /tmp/demo --basemap none --offline
""",
    "analyze": """examples:
  care15 analyze --pbf chengdu.osm.pbf --facilities 设施.xlsx --facilities-crs gcj02 \\
      --total-population 250000 --out out/chengdu
  care15 analyze --scenario my_district.toml --lang en --coords-out gcj02
  care15 analyze --osm district.osm --facilities f.csv --population pop.tif --quiet
""",
    "suggest": """examples:
  care15 suggest --demo --category elderly --sites 3 --out out/sites
  care15 suggest --demo --category childcare --target 0.9 --exact --out out/target
  care15 suggest --pbf f.osm.pbf --facilities f.csv --facilities-crs gcj02 \\
      --total-population 250000 --category childcare --sites 5 --candidates 空置用房.xlsx
""",
    "compare": """examples:
  care15 compare --demo --plan 方案.csv --out out/plan
  care15 compare --pbf chengdu.osm.pbf --facilities 设施.xlsx --facilities-crs gcj02 \\
      --total-population 250000 --plan 新增与迁移.xlsx --out out/plan
  care15 compare --scenario district.toml --plan plan.csv --plan-crs bd09 --lang en

plan file columns (one row per edit, applied in order):
  操作/action      新增/add, 迁移/move, 撤销/remove, 调整规模/resize
  设施编号/facility_id   the facility to move, remove or resize (f<row>, see facilities.csv)
  类别/category    养老/elderly, 托育/childcare or a sub-type (养老院, 幼儿园 …), for an add
  名称/name, 经度/lon, 纬度/lat (new place of an add or move), 床位/托位/规模/capacity
""",
    "batch": """examples:
  care15 batch regions.toml --out out/province
  care15 batch regions.toml --workers 4 --force --lang en
  care15 batch regions.toml --scheduler tcp://10.0.0.5:8786
""",
}


class _VersionAction(argparse.Action):
    """``--version``: names the travel-time engine, imported only when asked."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings=option_strings, dest=dest, default=default, nargs=0,
                         help=help)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        print(_version())
        parser.exit()


def _version() -> str:
    """``care15 X.Y.Z (travel-time engine: compiled|scipy)``."""
    from importlib.metadata import PackageNotFoundError, version

    from .access import ENGINE

    try:
        v = version("care15")
    except PackageNotFoundError:  # run from a source tree that was not installed
        v = "(not installed)"
    return f"care15 {v} (travel-time engine: {ENGINE})"


def _parser(sub: Any, name: str, help: str) -> argparse.ArgumentParser:
    p: argparse.ArgumentParser = sub.add_parser(
        name, help=help, description=help, epilog=EXAMPLES[name],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    return p


def _add_console(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("console")
    q = g.add_mutually_exclusive_group()
    q.add_argument("-q", "--quiet", action="store_true",
                   help="no progress on stderr (notes and errors are still shown)")
    q.add_argument("-v", "--verbose", action="store_true",
                   help="more detail on stderr: stage timings, third-party messages")
    g.add_argument("--debug", action="store_true",
                   help="show the traceback of every error, not only of internal ones")


def _add_common(p: argparse.ArgumentParser, *, demo: bool = False) -> None:
    if not demo:
        g = p.add_argument_group("inputs")
        g.add_argument("--scenario", type=Path, help="scenario TOML file")
        src = g.add_mutually_exclusive_group()
        src.add_argument("--pbf", type=Path, help="OSM .osm.pbf extract")
        src.add_argument("--osm", type=Path, help="OSM .osm / .osm.bz2 XML file")
        src.add_argument("--place", help="place name to download with osmnx (needs internet)")
        g.add_argument("--facilities", type=Path, help="facility list (CSV, XLSX, GeoJSON)")
        g.add_argument("--facilities-crs", choices=COORD_SYSTEMS,
                       help="coordinate system of the facility list's lon/lat (default wgs84)")
        g.add_argument("--population", type=Path, help="population raster or vector layer")
        g.add_argument("--population-column", help="population column of a vector layer")
        g.add_argument("--total-population", type=float,
                       help="total residents to distribute over OSM buildings (no population file)")
        g.add_argument("--communities", type=Path, help="community/sub-district polygons")
        g.add_argument("--community-name-column", help="name column of the community file")
        g.add_argument("--compounds", metavar="FILE|osm",
                       help="residential compounds (小区): a list (CSV/XLSX with a point, "
                            "GeoJSON/GPKG with polygons; households, build year) or 'osm' for "
                            "OSM residential areas; adds the compound table (小区清单)")
        g.add_argument("--compounds-crs", choices=COORD_SYSTEMS,
                       help="coordinate system of the compound file (default wgs84)")
        g.add_argument("--gates", type=Path, metavar="FILE",
                       help="the compounds' gates (出入口): CSV/XLSX/GeoJSON naming each gate's "
                            "compound (compound_id or 小区名称) with lon/lat; default: OSM gates "
                            "and entrances, street crossings of the outline, else the nearest "
                            "streets")
        g.add_argument("--gates-crs", choices=COORD_SYSTEMS,
                       help="coordinate system of the gate file (default wgs84)")
        g.add_argument("--open-compounds", action="store_true", default=None,
                       help="let through routes cross compounds with mapped gates (default: "
                            "they are closed; compounds.closed)")
    o = p.add_argument_group("analysis and output")
    o.add_argument("--out", type=Path, default=None,
                   help=f"output folder (default {DEMO_OUT if demo else Path('out')})")
    o.add_argument("--method", choices=COVERAGE_METHODS,
                   help="count a cell as covered by its network time (default) or by isochrone "
                        "area overlay")
    o.add_argument("--lang", choices=LANGS, default="zh",
                   help="language of the console (progress, results, notes), map, tables and "
                        "report")
    o.add_argument("--basemap", choices=BASEMAPS, default="osm", help="map background")
    o.add_argument("--tianditu-key", help="天地图 key for --basemap tianditu")
    cdn = o.add_mutually_exclusive_group()
    cdn.add_argument("--offline", action="store_true",
                     help="embed the map's JavaScript and CSS (the default: maps open without "
                          "internet; the walking network is drawn when tiles cannot load)")
    cdn.add_argument("--cdn", action="store_true",
                     help="link Leaflet from a CDN instead of embedding it (smaller maps that "
                          "need internet)")
    o.add_argument("--coords-out", choices=COORD_SYSTEMS, default=None,
                   help="also write lon/lat of tables in this system: gcj02 for AMap/Tencent, "
                        "bd09 for Baidu, wgs84 for none (files stay in WGS-84); default: the "
                        "system of --facilities-crs (or --candidates-crs)")
    o.add_argument("--allow-empty", action="store_true",
                   help="analyse a facility list with no usable row or a population with no "
                        "resident instead of stopping")
    o.add_argument("--no-cache", action="store_true",
                   help="parse the OSM file again instead of reusing the parsed network cached "
                        "on disk ($CARE15_CACHE or ~/.cache/care15)")
    _add_console(p)


def _scenario(args: argparse.Namespace) -> Scenario:
    """The scenario of ``--scenario`` (or the defaults) with the flags applied."""
    from .scenario import Scenario, scenario_from_toml

    sc = scenario_from_toml(args.scenario) if getattr(args, "scenario", None) else Scenario()
    area: dict[str, Any] = {}
    for k in ("pbf", "osm", "place"):
        v = getattr(args, k, None)
        if v is not None:
            area = {"pbf": None, "osm": None, "place": None, "bbox": None, k: v}
            area["name"] = v if k == "place" else Path(v).name.split(".")[0]
    inputs: dict[str, Any] = {}
    for k in ("facilities", "facilities_crs", "population", "population_column",
              "total_population", "communities", "community_name_column"):
        v = getattr(args, k, None)
        if v is not None:
            inputs[k] = v
    changes: dict[str, Any] = {}
    if area:
        changes["area"] = replace(sc.area, **area)
    if inputs:
        changes["inputs"] = replace(sc.inputs, **inputs)
    if getattr(args, "method", None):
        changes["analysis"] = replace(sc.analysis, coverage_method=args.method)
    comp: dict[str, Any] = {k: v for k, v in (("file", getattr(args, "compounds", None)),
                              ("crs", getattr(args, "compounds_crs", None)),
                              ("gates", getattr(args, "gates", None)),
                              ("gates_crs", getattr(args, "gates_crs", None)),
                              ("closed", False if getattr(args, "open_compounds", None)
                               else None)) if v is not None}
    if comp:
        if comp.get("file") not in (None, "osm"):
            comp["file"] = Path(comp["file"])
        changes["compounds"] = replace(sc.compounds, **comp)
    return replace(sc, **changes) if changes else sc


def _options(args: argparse.Namespace) -> RunOptions:
    from .pipeline import RunOptions

    return RunOptions(lang=args.lang, basemap=args.basemap, tianditu_key=args.tianditu_key,
                      offline=not args.cdn, coords_out=args.coords_out,
                      cache=not args.no_cache, verbose=not args.quiet,
                      allow_empty=args.allow_empty, parallel_writes=True)


def _check(problems: list[str]) -> None:
    """Raise one InputError listing every problem found before the work starts."""
    if problems:
        raise InputError("cannot start:\n  - " + "\n  - ".join(problems))


def _out_problem(out: Path) -> list[str]:
    from ._files import check_out_folder

    try:
        check_out_folder(out)
    except InputError as e:
        return [str(e)]
    return []


def _pct(v: float | None, zh: bool = False) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "无居民" if zh else "n/a"
    return f"{v:.1%}"


def _print_summary(name: str, summ: dict[str, Any], n_gaps: dict[str, int], lang: str,
                   out: Path) -> None:
    """The headline figures on stdout; the notes about the data on stderr."""
    zh = lang == "zh"
    res = summ["residents"]
    print(f"{'研究区' if zh else 'Study area'}: {name}")
    print(("常住人口 {t:,.0f}, 60岁以上 {o:,.0f}, 3岁以下 {k:,.0f}" if zh else
           "Residents {t:,.0f}, aged 60+ {o:,.0f}, under 3 {k:,.0f}").format(
        t=res["total"], o=res["60plus"], k=res["0to3"]))
    _print_population(summ.get("population_report") or {}, zh)
    for c, d in summ["categories"].items():
        label = d["label_zh"] if zh else d["label_en"]
        grp = "60plus" if c == "elderly" else "0to3"
        gl = ("60岁以上" if grp == "60plus" else "3岁以下") if zh else \
            ("aged 60+" if grp == "60plus" else "under 3")
        shares = ", ".join(f"≤{t} {'分钟' if zh else 'min'} {_pct(r[grp]['share'], zh)}"
                           for t, r in d["thresholds"].items())
        print(f"\n{label}: {d['n_facilities']} {'处设施' if zh else 'facilities'}, "
              f"{'步速' if zh else 'walking'} {d['walk_speed_mps']} m/s")
        print(f"  {gl} {'步行可达' if zh else 'within'}: {shares}")
        tgt = d["coverage_target"]
        met = d["target_met"]
        verdict = ("无法判定" if met is None else ("达标" if met else "未达标")) if zh else \
            ("n/a" if met is None else ("met" if met else "NOT met"))
        print(("  目标 {t:.0%}: {v}; 达标社区 {m}/{n}; 有设施的社区 {h}/{n}" if zh else
               "  target {t:.0%}: {v}; communities meeting it {m}/{n}; with a facility {h}/{n}")
              .format(t=tgt, v=verdict, m=d["communities_meeting_target"],
                      n=d["communities_with_residents"], h=d["communities_with_facility"]))
        if d.get("capacity_per_1000") is not None:
            unit = ("托位/千人" if c == "childcare" else "床位/千名老人") if zh else \
                ("places per 1,000 residents" if c == "childcare" else "beds per 1,000 aged 60+")
            print(f"  {d['capacity_per_1000']:.2f} {unit} "
                  f"({'目标' if zh else 'target'} {d['capacity_target_per_1000']}; "
                  + _capacity_basis(d, zh) + ")")
        elif d.get("capacity_left_out_facilities"):
            print("  " + _capacity_basis(d, zh))
        print(f"  {'缺口片区' if zh else 'gap clusters'}: {n_gaps.get(c, 0)}")
    _print_notes(summ.get("notes", []), lang)
    print(f"\n{'输出目录' if zh else 'Written to'}: {out}")


def _capacity_basis(d: dict[str, Any], zh: bool) -> str:
    """"from N of M facilities with a recorded capacity" and what was left out."""
    n, m = d.get("capacity_known_facilities", 0), d.get("capacity_counted_facilities", 0)
    left = d.get("capacity_left_out_facilities", 0)
    if m == 0:
        s = ("研究区内没有接入路网的设施, 容量不计" if zh else
             "no facility attached to the network inside the area: no capacity counted")
    else:
        s = (f"来自研究区内接入路网的 {m} 处设施中 {n} 处有容量记录" if zh else
             f"from {n} of {m} facilities with a recorded capacity")
    if left:
        s += (f"; {left} 处不可达或在研究区外, 不计" if zh else
              f"; {left} unreachable or outside the area not counted")
    return s


_METHODS = {"buildings": ("住宅建筑面积", "residential floor area"),
            "landuse": ("居住用地", "residential land use"),
            "streets": ("居住街道长度", "residential streets")}


def _print_population(rep: dict[str, Any], zh: bool) -> None:
    """How the residents were placed: method shares and the densest cell (a result: stdout)."""
    by = {m: d for m, d in (rep.get("by_method") or {}).items()
          if isinstance(d, dict) and d.get("cells")}
    if by:
        parts = ", ".join(f"{_METHODS.get(m, (m, m))[0 if zh else 1]} "
                          f"{d.get('share_of_population', 0):.0%}" for m, d in by.items())
        print(f"  {'人口按' if zh else 'placed by'} {parts}")
    dense = rep.get("densest_cell_per_ha")
    if dense is not None:
        ceiling = rep.get("ceiling_per_ha")
        print(("  最密网格 {d:,.0f} 人/公顷" if zh else "  densest cell {d:,.0f} residents/ha")
              .format(d=dense) + (f" ({'上限' if zh else 'ceiling'} {ceiling:,.0f})"
                                  if ceiling else ""))


def _print_notes(notes: list[str], lang: str) -> None:
    """The notes about the data on stderr, one line each, in ``lang``."""
    from ._notes import notes_in

    for n in notes_in(notes, lang):
        log.warning("! %s", n)


def _cmd_demo(args: argparse.Namespace) -> int:
    from .pipeline import run
    from .region import demo_scenario

    sc = demo_scenario()
    if args.method:
        sc = sc.with_(analysis__coverage_method=args.method)
    out = args.out or DEMO_OUT
    options = _options(args)
    _check(options.problems() + _out_problem(out))
    note = ("Demo facilities are illustrative stand-ins placed at real OSM features of central "
            "Helsinki; population is an OSM-based estimate of "
            f"{sc.inputs.total_population:,.0f} residents.")
    note_zh = ("演示设施是放在赫尔辛基中心区真实 OSM 地物上的示意点; 人口是基于 OSM 估算的 "
               f"{sc.inputs.total_population:,.0f} 名居民。")
    r = run(sc, out, options=options, extra={"demo_note": note, "demo_note_zh": note_zh})
    if args.out is None and "map.html" in r.files:  # the project's maps/ folder, as README says
        from ._files import atomic_path

        with atomic_path(DEMO_MAP) as tmp:
            tmp.write_bytes((r.out / "map.html").read_bytes())
    _print_run(r, args.lang)
    return 0


def _print_run(r: RunResult, lang: str) -> None:
    """The run's headline figures on stdout, its notes on stderr."""
    gaps = r.result.gaps
    n_gaps = gaps.groupby("category").size().to_dict() if len(gaps) else {}
    _print_summary(r.summary["study_area"], r.summary, n_gaps, lang, r.out)


def _cmd_analyze(args: argparse.Namespace) -> int:
    from .pipeline import input_problems, run

    sc = _scenario(args)
    out = args.out or Path("out")
    options = _options(args)
    _check(options.problems() + input_problems(sc) + _out_problem(out))
    _print_run(run(sc, out, options=options), args.lang)
    return 0


def _cmd_suggest(args: argparse.Namespace) -> int:
    from .pipeline import input_problems, run_suggest
    from .region import demo_scenario

    sc = demo_scenario() if args.demo else _scenario(args)
    if args.demo and getattr(args, "compounds", None) is not None:  # a 小区 list on the demo
        cfile = args.compounds if args.compounds == "osm" else Path(args.compounds)
        sc = replace(sc, compounds=replace(sc.compounds, file=cfile,
                                           crs=args.compounds_crs or sc.compounds.crs))
    out = args.out or Path("out")
    options = _options(args)
    problems = options.problems() + ([] if args.demo else input_problems(sc)) + \
        _out_problem(out)
    if args.demand == "compounds" and sc.compounds.file is None:
        problems.append("--demand compounds needs residential compounds: add --compounds "
                        "FILE|osm")
    if args.capacity_aware and sc.compounds.file is not None and args.demand != "cells":
        problems.append("--capacity-aware (托位 assignment) works on cell demand only: add "
                        "--demand cells")
    if args.sites is not None and args.sites < 1:
        problems.append(f"--sites {args.sites}: must be at least 1")
    if args.target is not None and not 0 < args.target <= 1:
        problems.append(f"--target {args.target}: a coverage rate in (0, 1], e.g. 0.9 for 90%")
    if not (math.isfinite(args.time_limit) and args.time_limit > 0):
        problems.append(f"--time-limit {args.time_limit}: must be a positive number of seconds")
    if args.candidates is not None and not Path(args.candidates).is_file():
        problems.append(f"--candidates {args.candidates}: file not found")
    if args.capacity_aware and args.category != "childcare":
        problems.append(f"--capacity-aware is for childcare places (托位), not --category "
                        f"{args.category}; use --category childcare")
    if args.category not in sc.categories:
        problems.append(f"--category {args.category}: not among the scenario's categories "
                        f"{list(sc.categories)}")
    _check(problems)
    r = run_suggest(sc, out, category=args.category, n_sites=args.sites, target=args.target,
                    candidates=args.candidates,
                    candidates_crs=args.candidates_crs or "wgs84", exact=args.exact,
                    time_limit_s=args.time_limit, capacity_aware=args.capacity_aware,
                    options=options, demand=args.demand)
    sug = r.suggestion
    zh = args.lang == "zh"
    _print_notes(r.info["notes"], args.lang)
    print(sug.message_in(args.lang))
    if len(sug.sites):
        sites = sug.sites
        co = r.info.get("coords_out", "wgs84")
        if co != "wgs84":  # the planner's system, to paste into AMap/Baidu
            from .chinacoords import from_wgs84

            sites = sites.copy()
            x, y = from_wgs84(sites["lon"].to_numpy(float), sites["lat"].to_numpy(float), co)
            sites[f"lon_{co}"], sites[f"lat_{co}"] = x.round(6), y.round(6)
        cols = [c for c in ("rank", "community_name", "lon", "lat", f"lon_{co}", f"lat_{co}",
                            "newly_covered_compounds", "newly_covered_target",
                            "cumulative_coverage")
                if c in sites.columns]
        table = sites[cols].head(20)
        if zh:
            table = table.rename(columns=_zh_headers(cols))
        print(table.to_string(index=False))
    print(f"\n{'输出目录' if zh else 'Written to'}: {r.out}")
    return 0


def _zh_headers(cols: list[str]) -> dict[str, str]:
    """Chinese headers of the sites table, from the tables' column dictionary."""
    from .export import column_info

    return {c: column_info(c)[0] for c in cols}


def _plan_lines(e: InputError) -> list[str]:
    """The problems of a plan file's error (the items of its list), to join the others."""
    lines = str(e).splitlines()
    if len(lines) > 1 and lines[0].endswith(":"):
        return [ln.strip().removeprefix("- ") for ln in lines[1:]]
    return [str(e)]


def _cmd_compare(args: argparse.Namespace) -> int:
    from .compare import run_compare
    from .pipeline import input_problems
    from .planfile import read_plan
    from .region import demo_scenario

    sc = demo_scenario() if args.demo else _scenario(args)
    out = args.out or Path("out")
    options = _options(args)
    problems = options.problems() + ([] if args.demo else input_problems(sc)) + \
        _out_problem(out)
    crs = args.plan_crs or sc.inputs.facilities_crs or "wgs84"
    edits = None
    try:
        edits = read_plan(args.plan, crs=crs)
    except InputError as e:
        problems += _plan_lines(e)
    _check(problems)
    assert edits is not None
    r = run_compare(sc, edits, out, plan_crs=crs, options=options)
    zh = args.lang == "zh"
    _print_notes(r.summary["notes"], args.lang)
    print(f"{'研究区' if zh else 'Study area'}: {sc.area.name}")
    n = r.summary["edits"]
    kinds = {"add": ("新增", "added"), "move": ("迁移", "moved"), "remove": ("撤销", "removed"),
             "resize": ("调整规模", "resized")}
    print(("方案: " if zh else "Plan: ") + ", ".join(
        f"{kinds[k][0]} {n[k]} 处" if zh else f"{n[k]} {kinds[k][1]}"
        for k in kinds if k in n))
    for line in r.summary["lines_zh" if zh else "lines"]:
        print(line)
    cells = r.summary["changed_cells"]
    print(("覆盖变化的网格: 新覆盖 {a}, 失去覆盖 {b}" if zh else
           "Cells whose coverage changes: {a} newly covered, {b} newly uncovered").format(
        a=cells.get("newly_covered", 0), b=cells.get("newly_uncovered", 0)))
    print(f"\n{'输出目录' if zh else 'Written to'}: {r.out}")
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    if args.workers < 1:
        raise InputError(f"--workers {args.workers}: must be at least 1 (worker processes of "
                         "the local cluster)")
    from .batch import _require_distributed, batch_report, regions_from_toml, run_regions

    _require_distributed()
    specs, options = regions_from_toml(args.regions)
    if args.lang is None:  # the regions file's [batch] lang (zh when it has none)
        args.lang = options.lang
        _configure_logging(args)
    else:  # --lang: the console, the report and every region's outputs
        options = replace(options, lang=args.lang)
    table = run_regions(specs, args.out, options=options, scheduler=args.scheduler,
                        n_workers=args.workers, verbose=not args.quiet, force=args.force)
    print(batch_report(table, args.out, lang=args.lang))
    return 1 if (table["status"] == "failed").any() else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``care15``.

    Returns
    -------
    argparse.ArgumentParser
        With the sub-commands ``demo``, ``analyze``, ``suggest``, ``compare`` and
        ``batch``.
    """
    p = _Parser(
        prog="care15",
        description="15-minute walking access to elderly care and childcare (一老一小15分钟服务圈)",
        epilog=EXAMPLES["care15"], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action=_VersionAction,
                   help="show the version and the travel-time engine, then exit")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    d = _parser(sub, "demo", "run the whole analysis offline on the embedded data")
    _add_common(d, demo=True)
    d.set_defaults(func=_cmd_demo)
    a = _parser(sub, "analyze", "analyse a study area from a scenario file or flags")
    _add_common(a)
    a.set_defaults(func=_cmd_analyze)
    s = _parser(sub, "suggest", "suggest sites for new service points")
    _add_common(s)
    g = s.add_argument_group("sites")
    g.add_argument("--demo", action="store_true", help="use the embedded demo data")
    g.add_argument("--category", choices=("elderly", "childcare"), default="elderly")
    n = g.add_mutually_exclusive_group()
    n.add_argument("--sites", type=int, help="number of new sites (maximal covering)")
    n.add_argument("--target", type=float, help="coverage rate to reach, e.g. 0.9")
    g.add_argument("--candidates", type=Path, help="candidate sites (CSV, XLSX, GeoJSON)")
    g.add_argument("--candidates-crs", choices=COORD_SYSTEMS)
    g.add_argument("--exact", action="store_true", help="solve exactly with HiGHS (MILP)")
    g.add_argument("--capacity-aware", action="store_true",
                   help="childcare: sites have 托位 capacities (assignment model)")
    g.add_argument("--time-limit", type=float, default=60.0, help="solver time limit, seconds")
    g.add_argument("--demand", choices=("cells", "compounds"),
                   help="what new sites must reach: population cells, or residential compounds "
                   "(小区) through their gates; default: compounds when --compounds is given, "
                   "else cells")
    s.set_defaults(func=_cmd_suggest)
    c = _parser(sub, "compare", "compare a plan (facilities added, moved, removed, resized) "
                "with the base: before/after tables, a difference map, the report")
    _add_common(c)
    g = c.add_argument_group("plan")
    g.add_argument("--demo", action="store_true", help="use the embedded demo data as the base")
    g.add_argument("--plan", type=Path, required=True, metavar="FILE",
                   help="the plan file (CSV, XLSX or GeoJSON; one row per edit: 操作/action, "
                        "设施编号/facility_id, 类别/category, 经度/纬度, 规模/capacity)")
    g.add_argument("--plan-crs", choices=COORD_SYSTEMS,
                   help="coordinate system of the plan file's lon/lat (default: that of "
                        "--facilities-crs, else wgs84)")
    c.set_defaults(func=_cmd_compare)
    b = _parser(sub, "batch", "run many regions on dask.distributed")
    b.add_argument("regions", type=Path, help="regions TOML file")
    b.add_argument("--out", type=Path, default=Path("out/batch"),
                   help="output folder (default %(default)s)")
    b.add_argument("--scheduler", help="address of an existing scheduler, tcp://host:port")
    b.add_argument("--workers", type=int, default=2, help="workers of the local cluster")
    b.add_argument("--force", action="store_true",
                   help="run every region again, even those whose inputs did not change")
    b.add_argument("--lang", choices=LANGS, default=None,
                   help="language of the console, the batch report and every region's outputs "
                        "(default: [batch] lang of the regions file, else zh)")
    _add_console(b)
    b.set_defaults(func=_cmd_batch)
    return p


class _Notes(logging.Formatter):
    """care15's messages in the console's language; warnings as one-line notes."""

    def __init__(self, fmt: str, lang: str) -> None:
        super().__init__(fmt)
        self.lang = lang

    def format(self, record: logging.LogRecord) -> str:
        from ._notes import translate

        msg = super().format(record)
        if self.lang != "en" and record.name.startswith("care15"):
            msg = translate(msg, self.lang)
        return " ".join(msg.split()) if record.levelno >= logging.WARNING else msg


#: Loggers of the libraries care15 uses; their chatter is shown only with ``-v``.
THIRD_PARTY_LOGGERS = ("pyogrio", "fiona", "rasterio", "osmnx", "distributed", "matplotlib",
                       "pyrosm", "numexpr", "tornado", "fontTools", "PIL", "pulp", "highspy",
                       "dask", "shapely", "urllib3", "asyncio", "bokeh", "numba")


def _third_party_chatter(record: logging.LogRecord) -> bool:
    """False for what another library said, relayed by care15 (e.g. "osmnx says: …")."""
    return " says: " not in str(record.msg)


def _show_warning(lang: str, verbose: bool) -> Any:
    """A ``warnings.showwarning`` for the command: care15's warnings as one-line notes.

    A care15 warning raised outside the stages that collect them (e.g. while drawing the
    figures) is printed as a note in the console's language; other libraries' warnings
    (matplotlib's missing glyphs, pandas' future changes) are shown only with ``-v``.
    """
    from ._errors import Care15Warning
    from ._notes import translate

    def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
             file: Any = None, line: str | None = None) -> None:
        if issubclass(category, Care15Warning):
            log.warning("! %s", translate(str(message), lang))
        elif verbose:
            logging.getLogger("care15.warnings").debug(
                "%s: %s (%s:%d)", category.__name__, " ".join(str(message).split()),
                Path(filename).name, lineno)

    return show


def _configure_logging(args: argparse.Namespace) -> None:
    import warnings

    from ._progress import set_lang

    verbose = bool(getattr(args, "verbose", False))
    lang = getattr(args, "lang", None) or "zh"
    set_lang(lang)
    level = logging.DEBUG if verbose else (
        logging.WARNING if getattr(args, "quiet", False) else logging.INFO)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Notes("%(message)s", lang))
    if not verbose:
        handler.addFilter(_third_party_chatter)
    care = logging.getLogger("care15")
    care.handlers[:] = [handler]
    care.setLevel(level)
    care.propagate = False
    third = logging.DEBUG if verbose else logging.ERROR
    for noisy in THIRD_PARTY_LOGGERS:
        logging.getLogger(noisy).setLevel(third)
    if verbose:  # other libraries' records, marked with their logger's name
        root = logging.getLogger()
        if not root.handlers:
            h = logging.StreamHandler(sys.stderr)
            h.setFormatter(logging.Formatter("[%(name)s] %(levelname)s: %(message)s"))
            root.addHandler(h)
    warnings.showwarning = _show_warning(lang, verbose)
    _quiet_pyrosm(verbose)


def _quiet_pyrosm(verbose: bool) -> None:
    """Show pyrosm's own read bar and "Reading … took 00:02" line only with ``-v``.

    care15 says itself that it reads the street network (and how long it took); pyrosm's line
    would come in English in the middle of it. Its errors are still shown. pyrosm is not
    imported here (a second of start-up on a run whose network comes from the cache): the
    setting applies when care15 first imports it to parse a file.
    """
    from .sources import osm

    osm.PYROSM_VERBOSE = verbose
    osm._PYROSM_SET.clear()
    if "pyrosm" in sys.modules:  # imported already (a test, a notebook): apply it now
        osm._pyrosm()


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``care15`` console script.

    Parameters
    ----------
    argv
        The arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        The exit status: 0 success, 1 a batch region or an internal error failed, 2 a user
        mistake (message on stderr), 130 interrupted.
    """
    import warnings

    from ._progress import console_lang, set_lang

    _ARGV_LANG[0] = _argv_lang(sys.argv[1:] if argv is None else list(argv))
    args = build_parser().parse_args(argv)
    shown, lang, unraisable = warnings.showwarning, console_lang(), sys.unraisablehook

    def quiet_interrupt(u: Any) -> None:
        """Deliver again a Ctrl-C that Python swallowed; other unraisables as before.

        Parameters
        ----------
        u
            What :data:`sys.unraisablehook` receives.
        """
        # Ctrl-C landing inside an import lock's callback is swallowed by Python with an
        # "Exception ignored" traceback: deliver it again, so that the run stops and
        # _dispatch says so once
        if u.exc_type is not None and issubclass(u.exc_type, KeyboardInterrupt):
            import signal

            signal.raise_signal(signal.SIGINT)
            return
        unraisable(u)

    sys.unraisablehook = quiet_interrupt
    try:
        return _dispatch(args)
    finally:  # main() called in a Python session leaves the session as it found it
        warnings.showwarning = shown
        sys.unraisablehook = unraisable
        set_lang(lang)


def _dispatch(args: argparse.Namespace) -> int:
    """Run the command; errors become an exit status and a message on stderr."""
    debug = getattr(args, "debug", False)
    try:
        _configure_logging(args)  # imports pyrosm: Ctrl-C may land here already
        return int(args.func(args) or 0)
    except InputError as e:
        if debug:
            traceback.print_exc()
        print(_error_line(str(e), _lang_of(args)), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("care15: 已中断; 输出文件夹中仍是上一次完整运行的结果(或为空), 没有本次运行的文件"
              if _lang_of(args) == "zh" else
              "care15: interrupted; the output folder still holds the previous complete run "
              "(or nothing), none of this run's files", file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        print("care15: 内部错误: 这是 care15 的缺陷, 不是您的数据或选项有误; 请连同所运行的命令和上面的"
              "错误回溯一起报告" if _lang_of(args) == "zh" else
              "care15: internal error: this is a bug in care15, not in your data or options; "
              "please report it with the command you ran and the traceback above",
              file=sys.stderr)
        return 1


def _lang_of(args: argparse.Namespace) -> str:
    """The console's language: ``--lang``, else what the arguments said (zh by default)."""
    lang = getattr(args, "lang", None) or _ARGV_LANG[0]
    return "en" if lang == "en" else "zh"


def _error_line(message: str, lang: str) -> str:
    """``care15: error: …`` in ``lang``; a message with no translation keeps its English text.

    Parameters
    ----------
    message
        The error's English message (file names, rows, columns and flags kept as written).
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        The line (or lines) for stderr.
    """
    if lang != "zh":
        return f"care15: error: {message}"
    from ._notes import error_text

    return f"care15: 错误: {error_text(message, 'zh')}"


if __name__ == "__main__":
    sys.exit(main())
