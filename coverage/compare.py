"""Plan comparison: a base and a plan file in, before/after tables, a difference map out.

``care15 compare`` and :func:`run_compare` read the study area once, check the plan file
against it (:mod:`care15.planfile`: every problem with its row and column, before the
analysis), analyse the base and apply the plan's edits with :class:`care15.Plan` (which
recomputes only what each edit reaches), then write into the output folder, through the same
staging folder and lock as :func:`care15.run`:

* ``compare.csv`` — the headline: per category × threshold × group, the residents, those
  covered and the coverage before and after the plan and the change;
* ``compare_communities.csv`` — per community and category: coverage of the group served
  within the coverage threshold before and after, the change, target met before and after,
  shortfall before and after;
* ``compare_cells.csv`` / ``.geojson`` — the cells whose coverage the plan changes (newly
  covered, newly uncovered) with their residents and walking minutes before and after;
* ``compare_edits.csv`` — the edits as applied: row of the plan file, action, facility,
  where it was and where it is, capacity before and after;
* ``compare.xlsx`` — the four tables as sheets with Chinese (or English) headers and a sheet
  explaining every column;
* ``compare_map.html`` — the difference map (offline): newly covered cells green, newly
  uncovered red, the added, moved, removed and resized facilities with their own marks;
* ``report.html`` — the district report of the state after the plan, with a 方案对比 / Plan
  comparison section;
* and everything ``care15 analyze`` writes, for the state after the plan (``communities.csv``,
  ``gaps.csv``, ``map.html``, ``summary.json`` …): the run stage's writer is reused, so the
  folder reads like an analysis of the planned district; ``compare_summary.json`` holds the
  comparison's headline figures.

Tables with coordinates are in WGS-84 and also in the plan's system (``lon_gcj02`` …) when the
plan file (``--plan-crs``) or, failing that, the facility list was declared in GCJ-02 or BD-09.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import standards as std
from ._errors import InputError
from ._files import check_out_folder, output_lock, staged_folder
from ._progress import step
from .pipeline import (
    ATTRIBUTION,
    RunOptions,
    _write,
    data_warnings_as_notes,
    map_options,
    output_coords,
    read_region,
)
from .planfile import plan_problems, read_plan

if TYPE_CHECKING:
    from .analysis import CoverageResult
    from .plan import PlanDiff
    from .region import Region
    from .scenario import Scenario

__all__ = ["COMPARE_COLUMN_DOCS", "CompareResult", "column_doc", "compare_tables",
           "read_plan", "run_compare"]

log = logging.getLogger(__name__)

_PEOPLE = ("; whole people in CSV/XLSX", "；CSV/XLSX 中为整数")

#: The comparison tables' own columns: (Chinese header, English header, meaning, 中文说明).
COMPARE_COLUMN_DOCS: dict[str, tuple[str, str, str, str]] = {
    "group": ("人群", "Group", "Residents counted: total (all residents), 60plus (aged 60 and "
              "over), 0to3 (under 3)", "统计的人群: total 全部居民, 60plus 60岁及以上, 0to3 3岁以下"),
    "target_group": ("服务人群", "Group served", "True for the group the category serves (60+ "
                     "for elderly care, 0-3 for childcare)",
                     "是否为该类服务的对象人群(养老服务为60岁及以上, 托育服务为3岁以下)"),
    "pop_group": ("人群人数", "Residents of the group", "Residents of the group in the study "
                  "area" + _PEOPLE[0], "研究区内该人群的人数" + _PEOPLE[1]),
    "before_covered_people": ("方案前覆盖人数", "Covered before", "Residents of the group "
                              "within the threshold before the plan" + _PEOPLE[0],
                              "方案实施前在时间阈值内的该人群人数" + _PEOPLE[1]),
    "after_covered_people": ("方案后覆盖人数", "Covered after", "Residents of the group within "
                             "the threshold after the plan" + _PEOPLE[0],
                             "方案实施后在时间阈值内的该人群人数" + _PEOPLE[1]),
    "change_covered_people": ("覆盖人数变化", "Change in covered", "After minus before "
                              "(negative: residents the plan leaves uncovered)" + _PEOPLE[0],
                              "方案后减方案前(负数表示方案使这些居民失去覆盖)" + _PEOPLE[1]),
    "before_coverage": ("方案前覆盖率", "Coverage before", "Share of the group within the "
                        "threshold before the plan (population-weighted, 0-1)",
                        "方案实施前该人群在时间阈值内的比例(按人口加权, 0-1)"),
    "after_coverage": ("方案后覆盖率", "Coverage after", "Share of the group within the "
                       "threshold after the plan (population-weighted, 0-1)",
                       "方案实施后该人群在时间阈值内的比例(按人口加权, 0-1)"),
    "change_coverage": ("覆盖率变化", "Change in coverage", "After minus before, as a share "
                        "(0.05 = 5 percentage points)", "方案后减方案前的覆盖率(0.05 = 5 个百分点)"),
    "before_target_met": ("方案前是否达标", "Target met before", "The community's coverage of "
                          "the group served reaches the target before the plan (empty without "
                          "residents of the group)", "方案实施前社区服务人群覆盖率是否达到目标"
                          "(社区无该人群时为空)"),
    "after_target_met": ("方案后是否达标", "Target met after", "The same after the plan",
                         "方案实施后社区服务人群覆盖率是否达到目标(社区无该人群时为空)"),
    "before_shortfall_people": ("方案前缺口(人)", "Shortfall before (people)", "Residents of "
                                "the group served who would need to be covered to meet the "
                                "target, before the plan", "方案实施前达到目标还需覆盖的服务人群人数"),
    "after_shortfall_people": ("方案后缺口(人)", "Shortfall after (people)", "The same after the "
                               "plan", "方案实施后达到目标还需覆盖的服务人群人数"),
    "status": ("覆盖变化", "Change", "newly_covered: within the coverage threshold after the "
               "plan, not before; newly_uncovered: the reverse",
               "新覆盖: 方案后在覆盖时间阈值内而方案前不在; 失去覆盖: 相反"),
    "before_walk_min": ("方案前步行(分钟)", "Walk before (min)", "Walking minutes to the nearest "
                        "facility of the category before the plan (empty = unreachable)",
                        "方案实施前步行到最近该类设施的时间(分钟; 空 = 不可达)"),
    "after_walk_min": ("方案后步行(分钟)", "Walk after (min)", "Walking minutes to the nearest "
                       "facility of the category after the plan (empty = unreachable)",
                       "方案实施后步行到最近该类设施的时间(分钟; 空 = 不可达)"),
    "plan_row": ("方案文件行号", "Plan row", "1-based data row of the plan file (header not "
                 "counted)", "在方案文件中的数据行号(从1开始, 不含表头)"),
    "action": ("操作", "Action", "add, move, remove or resize (新增, 迁移, 撤销, 调整规模)",
               "操作: 新增、迁移、撤销或调整规模(CSV 中为 add、move、remove、resize)"),
    "before_capacity": ("原规模", "Capacity before", "Beds (elderly care) or places "
                        "(childcare) before the edit; empty when unknown or new",
                        "变更前的床位(养老)或托位(托育); 未知或新增时为空"),
    "after_capacity": ("新规模", "Capacity after", "Beds or places after the edit; empty when "
                       "unknown or removed", "变更后的床位或托位; 未知或撤销时为空"),
    "before_lon": ("原经度", "Longitude before", "WGS-84 longitude of the facility before the "
                   "edit (empty for an add)", "变更前设施的 WGS-84 经度(新增时为空)"),
    "before_lat": ("原纬度", "Latitude before", "WGS-84 latitude of the facility before the "
                   "edit", "变更前设施的 WGS-84 纬度"),
}
for _s, _zh, _what in (("gcj02", "GCJ-02", "AMap/Tencent"), ("bd09", "BD-09", "Baidu")):
    for _k, _w in (("lon", ("经度", "longitude")), ("lat", ("纬度", "latitude"))):
        COMPARE_COLUMN_DOCS[f"before_{_k}_{_s}"] = (
            f"原{_w[0]}({_zh})", f"{_w[1].capitalize()} before ({_zh})",
            f"{_w[1].capitalize()} before the edit for {_what} maps",
            f"变更前的 {_zh} {_w[0]}, 用于{'高德/腾讯' if _s == 'gcj02' else '百度'}地图")

_VALUES = {"status": {"newly_covered": ("新覆盖", "newly covered"),
                      "newly_uncovered": ("失去覆盖", "newly uncovered")},
           "action": {"add": ("新增", "add"), "move": ("迁移", "move"),
                      "remove": ("撤销", "remove"), "resize": ("调整规模", "resize")},
           "group": {"total": ("全部居民", "all residents"), "60plus": ("60岁及以上", "aged 60+"),
                     "0to3": ("3岁以下", "aged 0-3")}}


def column_doc(col: str) -> tuple[str, str, str, str] | None:
    """(Chinese header, English header, meaning, Chinese meaning) of a comparison column.

    Parameters
    ----------
    col
        A column name.

    Returns
    -------
    tuple of str or None
        The headers and meanings; None for a column this module does not define.
    """
    return COMPARE_COLUMN_DOCS.get(col)


@dataclass
class CompareResult:
    """What :func:`run_compare` produced.

    Attributes
    ----------
    out
        The output folder (absolute).
    files
        The files written, relative to ``out``, sorted.
    diff
        The before/after figures (:class:`care15.PlanDiff`).
    before, after
        The analyses of the base and of the district after the plan.
    tables
        The comparison tables as written to CSV (``compare``, ``compare_communities``,
        ``compare_cells``, ``compare_edits``).
    summary
        The content of ``compare_summary.json``.
    region
        The layers analysed.
    """

    out: Path
    files: list[str]
    diff: PlanDiff
    before: CoverageResult
    after: CoverageResult
    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any]
    region: Region
    seconds: dict[str, float] = field(default_factory=dict)


def _cap_col(category: object) -> str | None:
    c = std.CATEGORIES.get(str(category))
    return c.capacity_column if c is not None else None


def _state(fac: gpd.GeoDataFrame) -> dict[str, dict[str, Any]]:
    """facility_id → where and what it is (WGS-84), from a facility table."""
    g = fac.to_crs(4326) if fac.crs is not None else fac
    out: dict[str, dict[str, Any]] = {}
    for i, r in enumerate(g.itertuples(index=False)):  # the facility list: hundreds of rows
        d = r._asdict()
        col = _cap_col(d.get("category"))
        geom = g.geometry.iloc[i]
        out[str(d["facility_id"])] = {
            "name": d.get("name"), "category": d.get("category"), "subtype": d.get("subtype"),
            "capacity": float(d[col]) if col and col in d and pd.notna(d[col]) else np.nan,
            "lon": float(geom.x) if geom is not None else np.nan,
            "lat": float(geom.y) if geom is not None else np.nan,
            "community_name": d.get("community_name")}
    return out


def edit_table(edits: pd.DataFrame, applied: list[dict[str, Any]],
               before: gpd.GeoDataFrame, after: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The edits as applied: what each facility was and became, one point per edit.

    Parameters
    ----------
    edits
        The plan (:func:`care15.planfile.read_plan`).
    applied
        :attr:`care15.Plan.edits` after applying it (one entry per row, ids filled in).
    before, after
        The facility tables before and after the plan.

    Returns
    -------
    GeoDataFrame
        ``plan_row``, ``action``, ``facility_id``, ``name``, ``category``, ``subtype``,
        ``community_name``, ``before_capacity``, ``after_capacity``, ``lon``/``lat`` (after;
        empty for a removal), ``before_lon``/``before_lat``; point geometry (EPSG:4326) where
        the facility is after the edit, or was, for a removal.
    """
    state = _state(before)
    final = _state(after)
    rows = []
    for e, log_e in zip(edits.to_dict("records"), applied, strict=True):
        a, fid = log_e["action"], str(log_e["facility_id"])
        old = state.get(fid)
        if a == "add":
            new = {"name": e.get("name") or fid, "category": log_e["category"],
                   "subtype": e.get("subtype"), "capacity": e.get("capacity", np.nan),
                   "lon": e["lon"], "lat": e["lat"]}
        elif a == "remove":
            new = None
        else:
            new = dict(old or {})
            if a == "move":
                new.update(lon=e["lon"], lat=e["lat"])
            else:
                new["capacity"] = e.get("capacity", np.nan)
        if new is None:
            state.pop(fid, None)
        else:
            state[fid] = new
        src = new or old or {}
        where = final.get(fid, old or {})
        rows.append({"plan_row": e.get("source_row"), "action": a, "facility_id": fid,
                     "name": src.get("name"), "category": src.get("category"),
                     "subtype": src.get("subtype"),
                     "community_name": where.get("community_name"),
                     "before_capacity": (old or {}).get("capacity", np.nan),
                     "after_capacity": np.nan if new is None else new.get("capacity", np.nan),
                     "lon": np.nan if new is None else new["lon"],
                     "lat": np.nan if new is None else new["lat"],
                     "before_lon": (old or {}).get("lon", np.nan),
                     "before_lat": (old or {}).get("lat", np.nan)})
    t = pd.DataFrame(rows, columns=["plan_row", "action", "facility_id", "name", "category",
                                    "subtype", "community_name", "before_capacity",
                                    "after_capacity", "lon", "lat", "before_lon",
                                    "before_lat"])
    for c in ("before_capacity", "after_capacity", "lon", "lat", "before_lon", "before_lat"):
        t[c] = pd.to_numeric(t[c], errors="coerce").astype(float)
    x = np.where(np.isfinite(t["lon"]), t["lon"], t["before_lon"])
    y = np.where(np.isfinite(t["lat"]), t["lat"], t["before_lat"])
    return gpd.GeoDataFrame(t, geometry=shapely.points(x, y), crs=4326)


def compare_tables(diff: PlanDiff, before: CoverageResult, after: CoverageResult,
                   edits: gpd.GeoDataFrame, scenario: Scenario) -> dict[str, pd.DataFrame]:
    """The comparison's tables, with stable column names (see :data:`COMPARE_COLUMN_DOCS`).

    Parameters
    ----------
    diff
        The before/after figures (:meth:`care15.Plan.diff`).
    before, after
        The two analyses.
    edits
        The edits as applied (:func:`edit_table`).
    scenario
        The scenario both were run with.

    Returns
    -------
    dict of str to pandas.DataFrame
        ``compare`` (headline), ``compare_communities`` (communities that have residents,
        per category, largest change first), ``compare_cells`` (GeoDataFrame, metric CRS)
        and ``compare_edits`` (GeoDataFrame, EPSG:4326).
    """
    h = diff.headline
    res = h["residents"].to_numpy(float)
    head = pd.DataFrame({
        "category": h["category"], "threshold_min": h["threshold_min"], "group": h["group"],
        "target_group": h["target_group"].astype(bool), "pop_group": np.round(res),
        "before_covered_people": np.round(np.nan_to_num(h["before"].to_numpy(float)) * res),
        "after_covered_people": np.round(np.nan_to_num(h["after"].to_numpy(float)) * res),
        "before_coverage": h["before"], "after_coverage": h["after"],
        "change_coverage": h["change"]})
    head.insert(7, "change_covered_people",
                head["after_covered_people"] - head["before_covered_people"])
    parts = []
    for c in scenario.categories:
        grp = std.CATEGORIES[c].target_group
        sel = diff.communities.loc[diff.communities["category"] == c]
        b = before.communities.set_index("community_id")
        a = after.communities.set_index("community_id")
        ids = sel["community_id"].to_numpy()
        short = f"{c}_shortfall_people"
        t = pd.DataFrame({
            "category": c, "community_name": sel["community_name"].to_numpy(),
            "target_pop": a[grp].reindex(ids).to_numpy(float) if grp in a.columns else np.nan,
            "before_coverage": sel["before"].to_numpy(float),
            "after_coverage": sel["after"].to_numpy(float),
            "change_coverage": sel["change"].to_numpy(float),
            "before_target_met": sel["target_met_before"].to_numpy(object),
            "after_target_met": sel["target_met_after"].to_numpy(object),
            "before_shortfall_people": (b[short].reindex(ids).to_numpy(float)
                                        if short in b.columns else np.nan),
            "after_shortfall_people": (a[short].reindex(ids).to_numpy(float)
                                       if short in a.columns else np.nan),
            "community_id": ids})
        t = t.loc[t["target_pop"].fillna(0).to_numpy() > 0]
        t = t.assign(_k=-t["change_coverage"].abs().fillna(0)).sort_values(
            "_k", kind="stable").drop(columns="_k")
        parts.append(t)
    comm = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    cells = diff.cells.rename(columns={"walk_min_before": "before_walk_min",
                                       "walk_min_after": "after_walk_min"})
    comm_of = after.cells.set_index("cell_id")["community_id"] \
        if "community_id" in after.cells.columns else None
    names = after.communities.set_index("community_id")["community_name"]
    if comm_of is not None and len(cells):
        cid = comm_of.reindex(cells["cell_id"]).to_numpy()
        cells.insert(2, "community_name", names.reindex(cid).to_numpy())
    cells = cells[[c for c in ("category", "cell_id", "community_name", "status",
                               "pop_total", "pop_60plus", "pop_0to3", "before_walk_min",
                               "after_walk_min", "geometry") if c in cells.columns]]
    return {"compare": head, "compare_communities": comm, "compare_cells": cells,
            "compare_edits": edits}


def _edits_out(edits: gpd.GeoDataFrame, coords_out: str) -> pd.DataFrame:
    """The edit table as CSV/XLSX take it: no geometry, old position in ``coords_out`` too."""
    t = pd.DataFrame(edits.drop(columns="geometry"))
    if coords_out != "wgs84":
        from .chinacoords import from_wgs84

        x, y = from_wgs84(t["before_lon"].to_numpy(float), t["before_lat"].to_numpy(float),
                          coords_out)
        t[f"before_lon_{coords_out}"], t[f"before_lat_{coords_out}"] = \
            np.round(x, 7), np.round(y, 7)
    for c in ("lon", "lat", "before_lon", "before_lat"):
        t[c] = t[c].round(7)
    return t


def _localised(tables: dict[str, pd.DataFrame], lang: str) -> dict[str, pd.DataFrame]:
    """The comparison's own coded values (status, action, group, yes/no) in ``lang``."""
    i = 0 if lang == "zh" else 1
    yes, no = ("是", "否") if lang == "zh" else ("yes", "no")
    out = {}
    for name, df in tables.items():
        d = df.copy()
        for col, vm in _VALUES.items():
            if col in d.columns:
                d[col] = d[col].map(lambda v, vm=vm: vm[v][i] if v in vm else v)
        if "target_group" in d.columns:
            d["target_group"] = d["target_group"].map(lambda v: yes if v else no)
        out[name] = d
    return out


def write_compare(tables: dict[str, pd.DataFrame], out: Path, *, lang: str,
                  coords_out: str) -> list[Path]:
    """Write the comparison tables: CSV each, GeoJSON of the changed cells, ``compare.xlsx``.

    Parameters
    ----------
    tables
        :func:`compare_tables`.
    out
        The folder.
    lang
        ``"zh"`` or ``"en"``: headers and values of the workbook.
    coords_out
        Also give coordinates in this system (``"gcj02"``, ``"bd09"``; ``"wgs84"``: none).

    Returns
    -------
    list of pathlib.Path
        The files written.
    """
    from .export import write_tables, write_xlsx

    plain = {**tables, "compare_edits": _edits_out(tables["compare_edits"], coords_out)}
    written = write_tables(plain, out, formats=("csv", "geojson"), lang=lang,
                           coords_out=coords_out)
    files = sorted({p for ps in written.values() for p in ps})
    files.append(write_xlsx(_localised(plain, lang), out / "compare.xlsx", lang=lang,
                            coords_out=coords_out))
    return files


def _headline_lines(head: pd.DataFrame, comm: pd.DataFrame, scenario: Scenario,
                    lang: str) -> list[str]:
    """One line per category: the group served within the coverage threshold, before → after."""
    zh = lang == "zh"
    t = float(scenario.targets.coverage_threshold_min)
    out = []
    for c in scenario.categories:
        cat = std.CATEGORIES[c]
        sel = head.loc[(head["category"] == c) & head["target_group"]
                       & (head["threshold_min"] == t)]
        if len(sel) == 0:
            continue
        r = sel.iloc[0]
        grp = ("60岁以上" if cat.target_group == "pop_60plus" else "3岁以下") if zh else \
            ("aged 60+" if cat.target_group == "pop_60plus" else "under 3")

        def pct(v: Any) -> str:
            return ("无居民" if zh else "n/a") if v is None or not np.isfinite(v) else f"{v:.1%}"

        ch = float(r["change_coverage"]) if np.isfinite(r["change_coverage"]) else 0.0
        n = int(r["change_covered_people"])
        cm = comm.loc[comm["category"] == c] if len(comm) else comm
        mb = int(cm["before_target_met"].fillna(False).astype(bool).sum()) if len(cm) else 0
        ma = int(cm["after_target_met"].fillna(False).astype(bool).sum()) if len(cm) else 0
        if zh:
            out.append(f"{cat.label_zh}: {grp} {t:g} 分钟步行可达 {pct(r['before_coverage'])} → "
                       f"{pct(r['after_coverage'])} ({100 * ch:+.1f} 个百分点, {n:+,} 人); "
                       f"达标社区 {mb} → {ma}/{len(cm)}")
        else:
            out.append(f"{cat.label_en}: {grp} within {t:g} min {pct(r['before_coverage'])} → "
                       f"{pct(r['after_coverage'])} ({100 * ch:+.1f} points, {n:+,} residents); "
                       f"communities meeting the target {mb} → {ma} of {len(cm)}")
    return out


def run_compare(scenario: Scenario, plan: str | Path | pd.DataFrame, out: str | Path, *,
                plan_crs: str | None = None, options: RunOptions | None = None,
                region: Region | None = None) -> CompareResult:
    r"""Analyse a district before and after a plan; write the comparison into ``out``.

    Parameters
    ----------
    scenario
        The base: area, inputs, thresholds, speeds, targets.
    plan
        The plan file (CSV, XLSX, GeoJSON; see :mod:`care15.planfile`), or its table
        (:func:`care15.planfile.read_plan`).
    out
        Output folder; its previous contents are replaced whole when the run succeeds and
        kept when it fails.
    plan_crs
        Coordinate system of the plan file's lon/lat (default: the facility list's,
        ``inputs.facilities_crs``, else WGS-84).
    options
        Output language, map background, cache, progress (default ``RunOptions()``).
    region
        Ready layers instead of reading what the scenario names.

    Returns
    -------
    CompareResult
        The tables, the two analyses, the files written.

    Raises
    ------
    InputError
        For invalid options, an output folder that cannot be written, inputs the readers
        refuse and every problem of the plan file (listed at once, with rows and columns),
        before the analysis; nothing is written to ``out`` then.

    Examples
    --------
    >>> import tempfile, pathlib, care15
    >>> from care15.compare import run_compare
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (d / "plan.csv").write_text("action,facility_id,category,lon,lat,capacity\n"
    ...                                 "add,,elderly,24.9380,60.1720,40\nremove,f1,,,,\n")
    >>> r = run_compare(care15.demo_scenario(), d / "plan.csv", d / "out",
    ...                 options=care15.RunOptions(maps=False, figures=False))
    >>> sorted(f for f in r.files if f.startswith("compare"))[:3]
    ['compare.csv', 'compare.xlsx', 'compare_cells.csv']
    >>> list(r.tables["compare_edits"]["action"])
    ['add', 'remove']
    """
    options = options or RunOptions()
    problems = options.problems()
    if problems:
        raise InputError("invalid options:\n  - " + "\n  - ".join(problems))
    crs = plan_crs or scenario.inputs.facilities_crs or "wgs84"
    edits = plan if isinstance(plan, pd.DataFrame) else read_plan(plan, crs=crs)
    out = check_out_folder(out)
    with output_lock(out):
        return _compare_locked(scenario, edits, out, options, region, crs)


def _compare_locked(scenario: Scenario, edits: pd.DataFrame, out: Path, options: RunOptions,
                    region: Region | None, crs: str) -> CompareResult:
    """:func:`run_compare` while holding the output folder's lock."""
    from ._notes import notes_in
    from .plan import Plan

    t0 = time.perf_counter()
    with data_warnings_as_notes() as data_notes:
        if region is None:
            region = read_region(scenario, options)
        problems = plan_problems(edits, region.facilities, region.network,
                                 max_access_m=scenario.analysis.max_access_m)
        if problems:
            raise InputError("cannot use the plan file:\n  - " + "\n  - ".join(problems))
        t_read = time.perf_counter() - t0
        t1 = time.perf_counter()
        plan = Plan(region, scenario, verbose=options.verbose, cache=options.cache_arg)
        with step("applying the plan", verbose=options.verbose):
            plan.apply(edits)
            after = plan.result()
            diff = plan.diff()
    t_an = time.perf_counter() - t1
    coords_out = output_coords(options, scenario, crs)
    etab = edit_table(edits, plan.edits, plan.base.facilities, after.facilities)
    tables = compare_tables(diff, plan.base, after, etab, scenario)
    notes = data_notes + list(region.notes) + list(after.notes)
    summ: dict[str, Any] = dict(after.summary)
    summ.update(study_area=scenario.area.name, notes=notes,
                population_report=region.reports.get("population") or None)
    summ["notes_zh"] = notes_in(notes, "zh")
    summ.update(attribution=ATTRIBUTION, coords_out=coords_out,
                plan={"file": edits.attrs.get("path"), "crs": crs, "edits": len(etab)})
    head = tables["compare"]
    csumm: dict[str, Any] = {
        "study_area": scenario.area.name, "plan_file": edits.attrs.get("path"),
        "plan_crs": crs, "coords_out": coords_out,
        "coverage_threshold_min": scenario.targets.coverage_threshold_min,
        "edits": etab["action"].value_counts().to_dict(),
        "headline": head.to_dict("records"),
        "changed_cells": tables["compare_cells"]["status"].value_counts().to_dict()
        if len(tables["compare_cells"]) else {},
        "lines": _headline_lines(head, tables["compare_communities"], scenario, "en"),
        "lines_zh": _headline_lines(head, tables["compare_communities"], scenario, "zh"),
        "notes": notes, "notes_zh": summ["notes_zh"], "attribution": ATTRIBUTION}
    t2 = time.perf_counter()
    with staged_folder(out, locked=True) as stage:
        parts = _write(stage, after, region, scenario, options)
        t3 = time.perf_counter()
        write_compare(tables, stage, lang=options.lang, coords_out=coords_out)
        parts["compare_tables"] = time.perf_counter() - t3
        if options.maps:
            t3 = time.perf_counter()
            from .maps import coverage_map, save_map

            m = coverage_map(communities=after.communities, facilities=after.facilities,
                             gaps=after.gaps, changes=tables["compare_cells"], edits=etab,
                             lang=options.lang,
                             basemap=options.basemap, tianditu_key=options.tianditu_key,
                             offline=options.offline, title=scenario.area.name,
                             streets=region.network, **map_options(scenario))
            save_map(m, stage / "compare_map.html", offline=options.offline)
            parts["compare_map"] = time.perf_counter() - t3
        if options.report:
            t3 = time.perf_counter()
            from ._files import write_text_atomic
            from .report import report_html

            write_text_atomic(stage / "report.html", report_html(
                after, scenario, summ, lang=options.lang, coords_out=coords_out,
                figures=stage / "figures" if options.figures else None, comparison=tables))
            parts["report"] = time.perf_counter() - t3
        seconds = {"read": round(t_read, 2), "analyze_and_apply": round(t_an, 2),
                   **{k: round(v, 2) for k, v in parts.items()},
                   "write": round(time.perf_counter() - t2, 2),
                   "total": round(time.perf_counter() - t0, 2)}
        summ["seconds"] = csumm["seconds"] = seconds
        from .export import write_json

        write_json(summ, stage / "summary.json")
        write_json(csumm, stage / "compare_summary.json")
        files = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
    return CompareResult(out=out, files=files, diff=diff, before=plan.base, after=after,
                         tables=tables, summary=csumm, region=region, seconds=seconds)
