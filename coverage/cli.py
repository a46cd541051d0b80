"""The ``care15`` command: ``demo``, ``analyze``, ``suggest`` and ``batch``."""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import shutil
import sys
import time
import warnings
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from ._errors import InputError
from ._options import BASEMAPS, COORD_SYSTEMS
from .scenario import Scenario, scenario_from_toml

__all__ = ["main"]

log = logging.getLogger("care15")


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
    o = p.add_argument_group("analysis and output")
    o.add_argument("--out", type=Path, default=Path("out/demo" if demo else "out"),
                   help="output folder (default %(default)s)")
    o.add_argument("--method", choices=("network", "overlay"),
                   help="count a cell as covered by its network time (default) or by isochrone "
                        "area overlay")
    o.add_argument("--lang", choices=("zh", "en"), default="zh", help="labels of map and tables")
    o.add_argument("--basemap", choices=BASEMAPS, default="osm", help="map background")
    o.add_argument("--tianditu-key", help="天地图 key for --basemap tianditu")
    o.add_argument("--offline", action="store_true",
                   help="embed the map's JavaScript and CSS (no CDN; opens on an intranet)")
    o.add_argument("--coords-out", choices=COORD_SYSTEMS, default="wgs84",
                   help="also write lon/lat of tables in this system: gcj02 for AMap/Tencent, "
                        "bd09 for Baidu (files stay in WGS-84)")
    o.add_argument("--no-cache", action="store_true",
                   help="parse the OSM file again instead of reusing the parsed network cached "
                        "on disk ($CARE15_CACHE or ~/.cache/care15)")
    o.add_argument("--quiet", action="store_true", help="no progress output")


def _scenario(args: argparse.Namespace, base: Scenario | None = None) -> Scenario:
    sc = base or (scenario_from_toml(args.scenario) if getattr(args, "scenario", None)
                  else Scenario())
    area: dict[str, Any] = {}
    for k in ("pbf", "osm", "place"):
        v = getattr(args, k, None)
        if v is not None:
            area = {"pbf": None, "osm": None, "place": None, "bbox": None, k: v}
            if k != "place":
                area["name"] = Path(v).name.split(".")[0]
            else:
                area["name"] = v
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
    return replace(sc, **changes) if changes else sc


def _pct(v: float | None) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:.1%}"


def _print_summary(name: str, summ: dict[str, Any], n_gaps: dict[str, int], lang: str,
                   out: Path) -> None:
    zh = lang == "zh"
    res = summ["residents"]
    print()
    print(f"{'研究区' if zh else 'Study area'}: {name}")
    print(("常住人口 {t:,.0f}, 60岁以上 {o:,.0f}, 3岁以下 {k:,.0f}" if zh else
           "Residents {t:,.0f}, aged 60+ {o:,.0f}, under 3 {k:,.0f}").format(
        t=res["total"], o=res["60plus"], k=res["0to3"]))
    for c, d in summ["categories"].items():
        label = d["label_zh"] if zh else d["label_en"]
        grp = "60plus" if c == "elderly" else "0to3"
        gl = ("60岁以上" if grp == "60plus" else "3岁以下") if zh else \
            ("aged 60+" if grp == "60plus" else "under 3")
        shares = ", ".join(f"≤{t} min {_pct(r[grp]['share'])}" for t, r in d["thresholds"].items())
        print(f"\n{label}: {d['n_facilities']} {'处设施' if zh else 'facilities'}, "
              f"{'步速' if zh else 'walking'} {d['walk_speed_mps']} m/s")
        print(f"  {gl} {'步行可达' if zh else 'within'}: {shares}")
        tgt = d["coverage_target"]
        met = d["target_met"]
        verdict = ("n/a" if met is None else ("达标" if met else "未达标")) if zh else \
            ("n/a" if met is None else ("met" if met else "NOT met"))
        print(("  目标 {t:.0%}: {v}; 达标社区 {m}/{n}; 有设施的社区 {h}/{n}" if zh else
               "  target {t:.0%}: {v}; communities meeting it {m}/{n}; with a facility {h}/{n}")
              .format(t=tgt, v=verdict, m=d["communities_meeting_target"],
                      n=d["communities_with_residents"], h=d["communities_with_facility"]))
        if d.get("capacity_per_1000") is not None:
            unit = ("托位/千人" if c == "childcare" else "床位/千名老人") if zh else \
                ("places per 1,000 residents" if c == "childcare" else "beds per 1,000 aged 60+")
            print(f"  {d['capacity_per_1000']:.2f} {unit} "
                  f"({'目标' if zh else 'target'} {d['capacity_target_per_1000']})")
        print(f"  {'缺口片区' if zh else 'gap clusters'}: {n_gaps.get(c, 0)}")
    for n in summ.get("notes", []):
        print(f"! {n}")
    print(f"\n{'输出目录' if zh else 'Written to'}: {out}")


@contextlib.contextmanager
def _data_warnings_as_notes() -> Iterator[list[str]]:
    """Collect data warnings (dropped rows, datum offsets, repaired geometries) as notes.

    They are printed with the summary and kept in ``summary.json``; other warnings pass on.
    """
    from ._errors import DataWarning

    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield notes
    for w in caught:
        if issubclass(w.category, DataWarning):
            msg = str(w.message)
            if msg not in notes:
                notes.append(msg)
        elif not issubclass(w.category, (DeprecationWarning, PendingDeprecationWarning)):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _map_options(sc: Scenario) -> dict[str, Any]:
    return {"thresholds": list(sc.thresholds_min),
            "coverage_threshold": int(sc.targets.coverage_threshold_min),
            "targets": {c: sc.coverage_target(c) for c in sc.categories}}


def run_analysis(sc: Scenario, args: argparse.Namespace, *, demo: bool = False) -> dict[str, Any]:
    """Read the region, analyse it and write every output; returns the summary."""
    from .analysis import analyze
    from .export import write_tables
    from .maps import coverage_map, save_map
    from .region import region_from_scenario

    verbose = not args.quiet
    t0 = time.perf_counter()
    with _data_warnings_as_notes() as data_notes:
        region = region_from_scenario(sc, verbose=verbose, cache=not args.no_cache)
        t_read = time.perf_counter() - t0
        t1 = time.perf_counter()
        res = analyze(region.network, region.facilities, region.cells, region.communities, sc,
                      verbose=verbose, cache=not args.no_cache)
    t_an = time.perf_counter() - t1
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    summ = dict(res.summary)
    summ["study_area"] = sc.area.name
    summ["notes"] = data_notes + region.notes + res.notes
    summ["population_report"] = region.reports.get("population")
    summ["seconds"] = {"read": round(t_read, 2), "analyze": round(t_an, 2)}
    summ["attribution"] = "© OpenStreetMap contributors (ODbL)"
    if demo:
        summ["demo_note"] = ("Demo facilities are illustrative stand-ins placed at real OSM "
                             "features of central Helsinki; population is an OSM-based estimate "
                             f"of {sc.inputs.total_population:,.0f} residents.")
    from .export import write_json

    write_tables({"cells": res.cells, "communities": res.communities, "gaps": res.gaps,
                  "short_communities": res.short, "facilities": res.facilities,
                  "isochrones": res.isochrones}, out, lang=args.lang,
                 coords_out=args.coords_out)
    m = coverage_map(cells=res.cells, communities=res.communities, isochrones=res.isochrones,
                     facilities=res.facilities, gaps=res.gaps, lang=args.lang,
                     basemap=args.basemap, tianditu_key=args.tianditu_key,
                     offline=args.offline, title=sc.area.name,
                     **_map_options(sc))
    from .figures import report_figures

    report_figures(res, sc, out / "figures", lang=args.lang)
    map_path = out / "map.html"
    save_map(m, map_path, offline=args.offline)
    if demo:
        Path("maps").mkdir(exist_ok=True)
        shutil.copyfile(map_path, Path("maps") / "demo_map.html")
    summ["seconds"]["total"] = round(time.perf_counter() - t0, 2)
    write_json(summ, out / "summary.json")
    n_gaps = res.gaps.groupby("category").size().to_dict() if len(res.gaps) else {}
    _print_summary(sc.area.name, summ, n_gaps, args.lang, out)
    return summ


def _cmd_demo(args: argparse.Namespace) -> int:
    from .region import demo_scenario

    sc = demo_scenario()
    if args.method:
        sc = sc.with_(analysis__coverage_method=args.method)
    run_analysis(sc, args, demo=True)
    return 0


def _cmd_analyze(args: argparse.Namespace) -> int:
    sc = _scenario(args)
    run_analysis(sc, args)
    return 0


def _cmd_suggest(args: argparse.Namespace) -> int:
    from .analysis import analyze
    from .export import write_json, write_tables
    from .maps import coverage_map, save_map
    from .region import demo_scenario, region_from_scenario
    from .siting import suggest_sites

    sc = demo_scenario() if args.demo else _scenario(args)
    verbose = not args.quiet
    with _data_warnings_as_notes() as data_notes:
        region = region_from_scenario(sc, verbose=verbose, cache=not args.no_cache)
        res = analyze(region.network, region.facilities, region.cells, region.communities, sc,
                      verbose=verbose, cache=not args.no_cache)
    cand = None
    if args.candidates is not None:
        from .candidates import candidates_from_file

        cand = candidates_from_file(args.candidates, coords=args.candidates_crs or "wgs84")
    water = None
    osm_file = sc.area.pbf or sc.area.osm
    if cand is not None and osm_file is not None:
        from .candidates import water_from_osm

        water = water_from_osm(osm_file)
    sug = suggest_sites(res, region.network, sc, args.category, n_sites=args.sites,
                        target=args.target, candidates=cand, exact=args.exact,
                        time_limit_s=args.time_limit, verbose=verbose,
                        capacity_aware=args.capacity_aware, water=water)
    out: Path = args.out
    out.mkdir(parents=True, exist_ok=True)
    write_tables({"sites": sug.sites}, out, formats=("csv", "geojson", "xlsx"), lang=args.lang,
                 coords_out=args.coords_out)
    m = coverage_map(cells=res.cells, communities=res.communities, isochrones=res.isochrones,
                     facilities=res.facilities, gaps=res.gaps, sites=sug.sites,
                     sites_area=sug.added_area, lang=args.lang, basemap=args.basemap,
                     tianditu_key=args.tianditu_key, offline=args.offline, title=sc.area.name,
                     **_map_options(sc))
    save_map(m, out / "sites_map.html", offline=args.offline)
    info = {"category": args.category, "solver": sug.solver, "status": sug.status,
            "objective": sug.objective, "bound": sug.bound, "gap": sug.gap,
            "message": sug.message, "n_sites": len(sug.sites),
            "notes": data_notes + region.notes + res.notes}
    write_json(info, out / "sites_summary.json")
    zh = args.lang == "zh"
    for n in data_notes:
        print(f"! {n}")
    print(f"\n{sug.message}")
    if len(sug.sites):
        cols = [c for c in ("rank", "community_name", "lon", "lat", "newly_covered_target",
                            "cumulative_coverage") if c in sug.sites.columns]
        print(sug.sites[cols].head(20).to_string(index=False))
    print(f"\n{'输出目录' if zh else 'Written to'}: {out}")
    return 0


def _cmd_batch(args: argparse.Namespace) -> int:
    from .batch import run_batch

    return run_batch(args.regions, out=args.out, scheduler=args.scheduler,
                     n_workers=args.workers, verbose=not args.quiet)


def _version() -> str:
    """``care15 X.Y.Z (travel-time engine: compiled|scipy)``."""
    from importlib.metadata import PackageNotFoundError, version

    from .access import ENGINE

    try:
        v = version("care15")
    except PackageNotFoundError:  # run from a source tree that was not installed
        v = "(not installed)"
    return f"care15 {v} (travel-time engine: {ENGINE})"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of ``care15``."""
    p = argparse.ArgumentParser(
        prog="care15",
        description="15-minute walking access to elderly care and childcare (一老一小15分钟服务圈)")
    p.add_argument("--version", action="version", version=_version())
    sub = p.add_subparsers(dest="command", required=True)
    d = sub.add_parser("demo", help="run the whole analysis offline on the embedded data")
    _add_common(d, demo=True)
    d.set_defaults(func=_cmd_demo)
    a = sub.add_parser("analyze", help="analyse a study area from a scenario file or flags")
    _add_common(a)
    a.set_defaults(func=_cmd_analyze)
    s = sub.add_parser("suggest", help="suggest sites for new service points")
    _add_common(s)
    s.add_argument("--demo", action="store_true", help="use the embedded demo data")
    s.add_argument("--category", choices=("elderly", "childcare"), default="elderly")
    n = s.add_mutually_exclusive_group()
    n.add_argument("--sites", type=int, help="number of new sites (maximal covering)")
    n.add_argument("--target", type=float, help="coverage rate to reach, e.g. 0.9")
    s.add_argument("--candidates", type=Path, help="candidate sites (CSV, XLSX, GeoJSON)")
    s.add_argument("--candidates-crs", choices=COORD_SYSTEMS)
    s.add_argument("--exact", action="store_true", help="solve exactly with HiGHS (MILP)")
    s.add_argument("--capacity-aware", action="store_true",
                   help="childcare: sites have 托位 capacities (assignment model)")
    s.add_argument("--time-limit", type=float, default=60.0, help="solver time limit, seconds")
    s.set_defaults(func=_cmd_suggest)
    b = sub.add_parser("batch", help="run many regions on dask.distributed")
    b.add_argument("regions", type=Path, help="regions TOML file")
    b.add_argument("--out", type=Path, default=Path("out/batch"))
    b.add_argument("--scheduler", help="address of an existing scheduler, tcp://host:port")
    b.add_argument("--workers", type=int, default=2, help="workers of the local cluster")
    b.add_argument("--quiet", action="store_true")
    b.set_defaults(func=_cmd_batch)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``care15`` console script."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING if getattr(args, "quiet", False) else logging.INFO,
                        format="%(message)s")
    for noisy in ("pyogrio", "fiona", "rasterio", "osmnx", "distributed", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    try:
        return int(args.func(args) or 0)
    except InputError as e:
        print(f"care15: error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("care15: interrupted; outputs already written are complete, nothing is half-written",
              file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())

