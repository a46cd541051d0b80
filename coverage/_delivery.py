"""Tables as a planning bureau receives them: whole people, no ``inf``, values in its language.

The analysis keeps exact floats; :mod:`care15.export` passes its tables through here on the
way out:

* :func:`annotated` adds facility names beside facility ids, the reachability state of a gap
  (``nearest_state``) and each gap's closing action in the table's language, and marks cells
  of a category that has no facility at all (band ``no_facility`` instead of ``unreachable``);
* :func:`whole_people` rounds residents and households to integers by largest remainder
  (rows add up to the rounded total; within a table of several categories, per category) and
  blanks infinite minutes;
* :func:`localised` translates category, sub-type, band, method and yes/no values for XLSX;
* :func:`community_summary` picks the planner's columns of the community table.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np
import pandas as pd

from ._rounding import largest_remainder
from .standards import CATEGORIES

__all__ = ["PEOPLE_COLUMNS", "annotated", "cell_sheet", "community_summary", "localised",
           "whole_people"]

#: Columns counted in whole people (or households) in CSV and XLSX.
PEOPLE_COLUMNS = ("pop_total", "pop_60plus", "pop_0to3", "households", "uncovered_pop_total",
                  "uncovered_pop_60plus", "uncovered_pop_0to3", "uncovered_target",
                  "newly_covered_pop_total", "newly_covered_pop_60plus",
                  "newly_covered_pop_0to3", "newly_covered_target", "target_pop")

_GROUP_ZH = {"pop_60plus": "60岁及以上老人", "pop_0to3": "3岁以下儿童"}
_GROUP_EN = {"pop_60plus": "residents aged 60+", "pop_0to3": "children under 3"}

_STATE = {"reachable": ("可达", "reachable"), "unreachable": ("不可达", "unreachable"),
          "no_facility": ("无该类设施", "no facility of this category")}
_METHOD = {"raster": ("栅格人口", "population raster"),
           "vector_area": ("矢量面积分配", "vector, by area"),
           "vector_buildings": ("矢量按建筑分配", "vector, by buildings"),
           "buildings": ("OSM建筑面积", "OSM building floor area"),
           "landuse": ("OSM居住用地", "OSM residential land use"),
           "streets": ("OSM居住街道", "OSM residential streets")}
_OUTSIDE = ("社区范围外", "outside communities")
# compound (小区) tables: norm verdicts, kinds and where the gates come from
_NORM_STATUS = {"met": ("达标", "met"), "short": ("不足", "short"), "unknown": ("未知", "unknown"),
                "exempt": ("不适用", "exempt")}
_COMPOUND_KIND = {"new": ("新建", "new"), "existing": ("既有", "existing")}
_GATE_SOURCE = {"file": ("出入口清单", "gate list"), "osm_gate": ("OSM大门", "OSM gate"),
                "osm_entrance": ("OSM出入口", "OSM entrance"),
                "boundary_crossing": ("道路穿越边界处(推测)", "street crossing the outline (inferred)"),
                "nearest_street": ("距道路最近的边界点(推测)", "outline point nearest a street (inferred)"),
                "none": ("无", "none")}
_COMPOUND_VALUES = {"norm_status": _NORM_STATUS, "norm_kind": _COMPOUND_KIND,
                    "kind": _COMPOUND_KIND, "gate_source": _GATE_SOURCE,
                    "shortfall_unit": {"m²": ("平方米", "m²"), "places": ("托位", "places")},
                    "households_basis": {"buildings": ("住宅建筑面积", "buildings"),
                                         "landuse area": ("居住用地面积", "landuse area")}}
_BOOL_SUFFIXES = ("_covered", "_has_facility", "_target_met", "_covered_direct")
_BOOL_COLUMNS = ("on_network", "counts_as_supply", "gates_mapped", "norms_met",
                 "households_estimated")


def _supply_categories(facilities: pd.DataFrame | None) -> set[str] | None:
    if facilities is None or "category" not in facilities.columns:
        return None
    sel = facilities
    if "counts_as_supply" in sel.columns:
        sel = sel.loc[sel["counts_as_supply"].fillna(True).astype(bool)]
    return set(sel["category"].dropna().astype(str))


def _facility_names(facilities: pd.DataFrame | None) -> dict[str, str]:
    if facilities is None or "facility_id" not in facilities.columns \
            or "name" not in facilities.columns:
        return {}
    names = facilities["name"].where(facilities["name"].notna(), None)
    return {str(i): str(n) for i, n in zip(facilities["facility_id"], names, strict=True)
            if n is not None and str(n).strip()}


def _insert_after(df: pd.DataFrame, after: str, col: str, values: object) -> None:
    if col in df.columns:
        df[col] = values
    else:
        df.insert(int(df.columns.get_loc(after)) + 1, col, values)


def closing_action(cover: float, total: float, near: object, category: str, lang: str) -> str:
    """The sentence that says what would close a gap, in ``lang``.

    Parameters
    ----------
    cover
        Target residents of the gap one new site would cover (N, whole people).
    total
        Uncovered target residents of the gap (M, whole people).
    near
        Where the site would go (community or street name), or None.
    category
        ``"elderly"`` or ``"childcare"``.
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        E.g. ``在网格 A2附近新增1处养老服务设施，可覆盖该片区 308/308 名60岁及以上老人``.
    """
    cat = CATEGORIES.get(category)
    grp = cat.target_group if cat else "pop_60plus"
    place = None if near is None or (isinstance(near, float) and np.isnan(near)) \
        or not str(near).strip() else str(near)
    n, m = int(cover), int(total)
    if lang == "zh":
        label = cat.label_zh if cat else ""
        if n <= 0:
            return "单处新址无法覆盖该片区居民(网格距可进入的道路过远或路网不连通)"
        where = f"在{place}附近" if place else "在该片区内"
        return f"{where}新增1处{label}设施，可覆盖该片区 {n}/{m} 名{_GROUP_ZH[grp]}"
    label = {"elderly": "elderly-care", "childcare": "childcare"}.get(category, "new")
    if n <= 0:
        return ("no single new site reaches these residents (cells far from an enterable "
                "street or on a disconnected piece of the network)")
    where = f" near {place}" if place else " inside the gap"
    return f"1 {label} site{where} would cover {n} of {m} {_GROUP_EN[grp]}"


def annotated(tables: Mapping[str, pd.DataFrame], lang: str) -> dict[str, pd.DataFrame]:
    """Add facility names, reachability states and gap closing actions (copies; floats kept).

    Parameters
    ----------
    tables
        Table name → table, as given to :func:`care15.export.write_tables`; the
        ``facilities`` table, when present, supplies names and tells which categories have
        no facility at all.
    lang
        Language of the closing-action text.

    Returns
    -------
    dict of str to pandas.DataFrame
        The tables, each a copy with the added columns.
    """
    fac = tables.get("facilities")
    names = _facility_names(fac)
    supply = _supply_categories(fac)
    out: dict[str, pd.DataFrame] = {}
    for name, df in tables.items():
        d = df.copy()
        for c in list(d.columns):
            m = re.fullmatch(r"(?:\w+?_)?nearest(?:_existing)?_facility", str(c))
            if m and fac is not None:
                vals = d[c].map(lambda v: names.get(str(v)) if v is not None else None)
                _insert_after(d, c, f"{c}_name", vals.astype(object))
        if supply is not None:  # a category without any facility: not "unreachable"
            for cat in CATEGORIES:
                band = f"{cat}_band"
                if band in d.columns and cat not in supply:
                    d[band] = d[band].where(d[band] != "unreachable", "no_facility")
        if "nearest_walk_min" in d.columns and "category" in d.columns:
            wm = d["nearest_walk_min"].to_numpy(dtype=float)
            state = np.where(np.isfinite(wm), "reachable", "unreachable").astype(object)
            if supply is not None:
                state[~d["category"].astype(str).isin(supply).to_numpy()] = "no_facility"
            _insert_after(d, "nearest_walk_min", "nearest_state", state)
        out[name] = d
    return out


def _round_group(d: pd.DataFrame, cols: list[str], by: np.ndarray | None) -> None:
    for c in cols:
        v = d[c].to_numpy(dtype=float)
        r = np.full(len(v), np.nan)
        groups = [np.arange(len(v))] if by is None else \
            [np.flatnonzero(by == k) for k in pd.unique(by)]
        for idx in groups:
            r[idx] = largest_remainder(np.clip(v[idx], 0.0, None))
        d[c] = pd.array(np.where(np.isnan(r), 0, r).astype(np.int64), dtype="Int64")
        d.loc[np.isnan(r), c] = pd.NA


def whole_people(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """Residents and households as whole numbers that add up; infinite minutes blank.

    Every column of :data:`PEOPLE_COLUMNS` is rounded by largest remainder within its table
    (within each category when the table has a ``category`` column, so that the gaps of one
    category add up to that category's uncovered residents). ``short_communities`` takes the
    community table's rounded figures, so the two tables agree. ``uncovered_target`` is the
    rounded figure of the category's group; ``closing_site_cover_target`` is rounded and never
    exceeds it; ``*_shortfall_people`` are whole already.

    Parameters
    ----------
    tables
        Table name → table.

    Returns
    -------
    dict of str to pandas.DataFrame
        Copies with ``Int64`` people columns (empty where the value was NaN) and NaN in place
        of ±inf in every float column.
    """
    out: dict[str, pd.DataFrame] = {}
    comm = None
    for name in sorted(tables, key=lambda n: n == "short_communities"):
        d = tables[name].copy()
        for c in d.columns:
            if d[c].dtype.kind == "f":
                v = d[c].to_numpy()
                if np.isinf(v).any():
                    d[c] = np.where(np.isinf(v), np.nan, v)
        cols = [c for c in PEOPLE_COLUMNS if c in d.columns and c != "uncovered_target"
                and d[c].dtype.kind in "fiu"]
        if name == "short_communities" and comm is not None and "community_id" in d.columns:
            look = comm.set_index("community_id")
            for c in cols:
                if c in look.columns:
                    d[c] = pd.array(look[c].reindex(d["community_id"]).to_numpy(),
                                    dtype="Int64")
                    d.loc[tables[name][c].isna().to_numpy(), c] = pd.NA
            cols = [c for c in cols if c not in look.columns]
            if "target_pop" in cols and "category" in d.columns:  # the category's group
                grp = d["category"].map(lambda k: CATEGORIES[k].target_group
                                        if k in CATEGORIES else None)
                if all(g in look.columns for g in grp.dropna().unique()):
                    vals = [look[g].get(i, pd.NA) if g else pd.NA
                            for g, i in zip(grp, d["community_id"], strict=True)]
                    d["target_pop"] = pd.array(vals, dtype="Int64")
                    cols.remove("target_pop")
        by = d["category"].astype(str).to_numpy() if "category" in d.columns else None
        _round_group(d, cols, by)
        if "uncovered_target" in d.columns and by is not None:
            grp = pd.Series(by).map(lambda k: CATEGORIES[k].target_group.replace(
                "pop_", "uncovered_pop_") if k in CATEGORIES else None)
            if all(g in d.columns for g in grp.dropna().unique()):
                vals = [d[g].iloc[i] if g else pd.NA for i, g in enumerate(grp)]
                d["uncovered_target"] = pd.array(vals, dtype="Int64")
            else:
                _round_group(d, ["uncovered_target"], by)
        elif "uncovered_target" in d.columns:
            _round_group(d, ["uncovered_target"], by)
        if "closing_site_cover_target" in d.columns and "uncovered_target" in d.columns:
            exact_n = d["closing_site_cover_target"].to_numpy(dtype=float)
            exact_m = tables[name]["uncovered_target"].to_numpy(dtype=float)
            m = d["uncovered_target"].to_numpy(dtype=float, na_value=np.nan)
            # a site covering the whole gap covers M, whatever the rounding of M
            n = np.where(exact_n >= exact_m * (1 - 1e-9), m, np.fmin(np.round(exact_n), m))
            d["closing_site_cover_target"] = pd.array(
                np.where(np.isnan(n), 0, n).astype(np.int64), dtype="Int64")
            d.loc[np.isnan(n), "closing_site_cover_target"] = pd.NA
        for c in d.columns:
            if str(c).endswith("shortfall_people") and d[c].dtype.kind == "f":
                v = d[c].to_numpy()
                d[c] = pd.array(np.where(np.isnan(v), 0, np.round(v)).astype(np.int64),
                                dtype="Int64")
                d.loc[np.isnan(v), c] = pd.NA
        if name == "communities":
            comm = d
        out[name] = d
    return {n: out[n] for n in tables}


def with_actions(tables: Mapping[str, pd.DataFrame], lang: str) -> dict[str, pd.DataFrame]:
    """Add ``closing_action`` to gap tables, from their whole-people figures.

    Parameters
    ----------
    tables
        Tables after :func:`whole_people` (N and M as whole people).
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    dict of str to pandas.DataFrame
        The tables; those with ``closing_site_cover_target`` gain ``closing_action``.
    """
    out = dict(tables)
    for name, d in tables.items():
        need = {"closing_site_cover_target", "uncovered_target", "category"}
        if not need <= set(d.columns):
            continue
        d = d.copy()
        near = d["closing_site_near"] if "closing_site_near" in d.columns else \
            pd.Series(None, index=d.index)
        acts = [None if pd.isna(n) else closing_action(n, 0 if pd.isna(m) else m, p, str(c),
                                                        lang)
                for n, m, p, c in zip(d["closing_site_cover_target"], d["uncovered_target"],
                                      near, d["category"], strict=True)]
        _insert_after(d, "closing_site_cover_target", "closing_action", pd.Series(
            acts, index=d.index, dtype=object))
        out[name] = d
    return out


def _value_map(col: str, lang: str) -> dict[str, str] | None:
    i = 0 if lang == "zh" else 1
    if col == "category":
        return {k: (c.label_zh, c.label_en)[i] for k, c in CATEGORIES.items()}
    if col == "subtype":
        return {s.key: (s.label_zh, s.label_en)[i] for c in CATEGORIES.values()
                for s in c.subtypes}
    if col == "nearest_state":
        return {k: v[i] for k, v in _STATE.items()}
    if col == "pop_method":
        return {k: v[i] for k, v in _METHOD.items()}
    key = "norm_status" if col.endswith("norm_status") else col
    if key in _COMPOUND_VALUES:
        return {k: v[i] for k, v in _COMPOUND_VALUES[key].items()}
    return None


def _band(v: object, lang: str) -> object:
    if not isinstance(v, str):
        return v
    if v in _STATE:
        return _STATE[v][0 if lang == "zh" else 1]
    return f"{v}分钟" if lang == "zh" else f"{v} min"


def localised(df: pd.DataFrame, lang: str) -> pd.DataFrame:
    """Category, sub-type, band, state, method and yes/no values in the table's language.

    Parameters
    ----------
    df
        A delivered table (stable English keys such as ``elderly``, ``home_care_centre``).
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    pandas.DataFrame
        A copy whose coded values read as words: ``养老服务``/``Elderly care``,
        ``居家养老服务中心``, ``不可达``/``unreachable``, ``是``/``否`` (``yes``/``no``);
        unknown codes pass unchanged.
    """
    d = df.copy()
    yes, no = ("是", "否") if lang == "zh" else ("yes", "no")
    for c in d.columns:
        col = str(c)
        vm = _value_map(col, lang)
        if vm is not None:
            d[c] = d[c].map(lambda v, vm=vm: vm.get(v, v) if isinstance(v, str) else v)
        elif col.endswith("_band"):
            d[c] = d[c].map(lambda v: _band(v, lang))
        elif col.endswith(_BOOL_SUFFIXES) or col in _BOOL_COLUMNS:
            s = d[c]
            if s.dtype.kind in "bfiu" or s.dtype == object:
                d[c] = s.map(lambda v: None if v is None or (isinstance(v, float) and np.isnan(v))
                             or v is pd.NA else (yes if bool(v) else no)).astype(object)
    if "community_id" in d.columns and "community_name" in d.columns:
        outside = (d["community_id"] == "_outside").to_numpy()
        if outside.any():
            d.loc[outside, "community_name"] = _OUTSIDE[0 if lang == "zh" else 1]
    return d


def community_summary(comm: pd.DataFrame, threshold_min: float | None = None) -> pd.DataFrame:
    """The community columns a planner reads first, per category of the table.

    Parameters
    ----------
    comm
        The full community table (:func:`care15.rates.community_table`).
    threshold_min
        The coverage threshold whose rate is shown; default 15 when the table has it, else
        its longest.

    Returns
    -------
    pandas.DataFrame
        ``community_name``, ``pop_total``, ``households``, the target groups' residents and,
        per category, coverage of its target group within the threshold, target met,
        shortfall (people), facilities, capacity, capacity per 1,000 and E2SFCA access; then
        ``community_id``. Cross-group rates (elderly-care coverage of under-3s) stay in the
        detail sheet.
    """
    cols = [c for c in ("community_name", "pop_total", "households") if c in comm.columns]
    cats = [k for k in CATEGORIES if f"{k}_target_met" in comm.columns
            or any(str(c).startswith(f"{k}_cov") for c in comm.columns)]
    cols += [CATEGORIES[k].target_group for k in cats
             if CATEGORIES[k].target_group in comm.columns]
    for k in cats:
        g = CATEGORIES[k].target_group.replace("pop_", "")
        ts = sorted({float(m[1]) for c in comm.columns
                     if (m := re.fullmatch(rf"{k}_cov(\d+(?:\.\d+)?)_{g}", str(c)))})
        t = threshold_min if threshold_min is not None else (15.0 if 15.0 in ts else
                                                            (ts[-1] if ts else None))
        rate = None
        if t is not None:
            lab = str(int(t)) if float(t).is_integer() else str(t)
            rate = f"{k}_cov{lab}_{g}"
        for c in (rate, f"{k}_target_met", f"{k}_shortfall_people", f"{k}_n_facilities",
                  f"{k}_capacity", f"{k}_capacity_per_1000", f"{k}_e2sfca_per_1000"):
            if c is not None and c in comm.columns and c not in cols:
                cols.append(c)
    if "community_id" in comm.columns:
        cols.append("community_id")
    return comm[cols]


def cell_sheet(cells: pd.DataFrame) -> pd.DataFrame:
    """The cell columns the workbook shows; every column stays in CSV and GeoParquet.

    Parameters
    ----------
    cells
        The delivered cell table (with ``lon``/``lat`` and any ``lon_<system>`` columns).

    Returns
    -------
    pandas.DataFrame
        ``cell_id``, ``community_name``, the residents and, per category, walking minutes,
        band, covered, the nearest facility's id and name, E2SFCA access; then the
        coordinates. Snapping diagnostics and isochrone-overlay shares are left to the CSV,
        which halves the time Excel files take to write for a city.
    """
    cols = [c for c in ("cell_id", "community_name", "pop_total", "pop_60plus", "pop_0to3")
            if c in cells.columns]
    for k in CATEGORIES:
        cols += [c for c in (f"{k}_walk_min", f"{k}_band", f"{k}_covered",
                             f"{k}_nearest_facility", f"{k}_nearest_facility_name",
                             f"{k}_e2sfca_per_1000") if c in cells.columns]
    cols += [str(c) for c in cells.columns if str(c).startswith(("lon", "lat"))]
    return cells[cols]
