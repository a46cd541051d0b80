"""Coverage tables: per cell and per community, population-weighted and community-count rates.

The columns, for a category ``c`` (also defined in the README):

``{c}_walk_min``
    Network walking minutes from a population cell to the nearest facility of category ``c``:
    (off-network leg + network distance + the facility's own off-network leg) ÷ the walking
    speed of the group ``c`` serves (older residents for elderly care, a parent with a small
    child for childcare). ``inf`` when no facility can be reached (other network piece, no
    facility, or the cell is farther than ``max_access_m`` from any street).
``{c}_cov{T}_{g}`` (population-weighted rate)
    Share of residents of group ``g`` (``total``, ``60plus``, ``0to3``) in the community who
    live within ``T`` minutes: Σ covered residents ÷ Σ residents. With the default ``network``
    method a cell is covered when its own walking time is ≤ T; with the ``overlay`` method
    (what a desktop GIS does) a cell counts by the share of its area inside the isochrone
    polygon. NaN when the community has no residents of that group (never 0 or 100%).
``{c}_has_facility`` (community-count rate)
    The community polygon contains at least one facility of category ``c``. The share of
    communities with a facility is the 社区…设施覆盖率 many plans report.
``{c}_capacity_per_1000``
    Childcare: 托位 per 1,000 residents (target 4.5). Elderly care: beds per 1,000 residents
    60+. Sum over the facilities inside the community with a known capacity; NaN when none is
    known.
``{c}_target_met`` / ``{c}_shortfall_people``
    Whether ``{c}_cov{T*}_{target group}`` reaches the scenario's coverage target (T* =
    ``targets.coverage_threshold_min``), and how many more residents of the target group
    would need to be covered to reach it (0 when met; NaN when the group is empty).
``{c}_e2sfca_per_1000``
    Enhanced two-step floating catchment access: capacity (beds or 托位) per 1,000 target
    residents reachable on foot, with step weights by walking-time band (see
    :func:`e2sfca`).

All rates lie in [0, 1].
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import standards as std
from .access import Reach

if TYPE_CHECKING:
    from .scenario import Scenario

__all__ = [
    "E2SFCA_WEIGHTS",
    "GROUPS",
    "band_labels",
    "cell_table",
    "community_table",
    "counted_facilities",
    "e2sfca",
    "summary",
    "tlabel",
]

#: population groups and their columns
GROUPS: dict[str, str] = {"total": "pop_total", "60plus": "pop_60plus", "0to3": "pop_0to3"}

#: E2SFCA step weights for the 1st, 2nd, 3rd threshold band (Luo & Qi 2009, Health & Place
#: 15(4): 1100–1107, weights 1.00 / 0.68 / 0.22 from a Gaussian with β chosen so that the
#: weight at the outer zone edge is 0.01).
E2SFCA_WEIGHTS: tuple[float, ...] = (1.0, 0.68, 0.22)


def tlabel(t: float) -> str:
    """Threshold as it appears in column names: 15 → "15", 7.5 → "7.5".

    Parameters
    ----------
    t
        Threshold in minutes.

    Returns
    -------
    str
        The label: whole numbers without a decimal point.

    Examples
    --------
    >>> from care15.rates import tlabel
    >>> tlabel(15.0), tlabel(7.5)
    ('15', '7.5')
    """
    return str(int(t)) if float(t).is_integer() else str(t)


def band_labels(thresholds_min: tuple[float, ...]) -> list[str]:
    """Band names: ["≤5", "≤10", "≤15", ">15", "unreachable"].

    Parameters
    ----------
    thresholds_min
        Thresholds in minutes, ascending.

    Returns
    -------
    list of str
        One label per threshold, then the band beyond the last and ``"unreachable"``.
    """
    return [f"≤{tlabel(t)}" for t in thresholds_min] + [f">{tlabel(thresholds_min[-1])}",
                                                         "unreachable"]


def _bands(walk_min: np.ndarray, thresholds_min: tuple[float, ...]) -> np.ndarray:
    labels = np.array(band_labels(thresholds_min), dtype=object)
    idx = np.searchsorted(np.asarray(thresholds_min, dtype=float), walk_min, side="left")
    idx = np.where(np.isfinite(walk_min), idx, len(thresholds_min) + 1)
    return labels[idx]


def cell_table(cells: gpd.GeoDataFrame, walk_min: dict[str, np.ndarray],
               nearest_id: dict[str, np.ndarray], thresholds_min: tuple[float, ...],
               coverage_threshold_min: float, *,
               overlay_share: dict[str, dict[float, np.ndarray]] | None = None,
               e2sfca_per_1000: dict[str, np.ndarray] | None = None) -> gpd.GeoDataFrame:
    """Add per-category walking minutes, bands and coverage flags to the cell grid.

    Parameters
    ----------
    cells
        Population cells (``pop_total``, ``pop_60plus``, ``pop_0to3``, community columns).
    walk_min
        Minutes to the nearest facility per category (``inf`` unreachable).
    nearest_id
        ``facility_id`` of that facility per category (``None`` unreachable).
    thresholds_min
        Thresholds for the bands.
    coverage_threshold_min
        The threshold of the ``{c}_covered`` flag.
    overlay_share
        Per category and threshold, the share of each cell's area inside the isochrone.
    e2sfca_per_1000
        Per category, the cells' E2SFCA capacity per 1,000 target residents (:func:`e2sfca`).

    Returns
    -------
    GeoDataFrame
        A copy of ``cells`` (same CRS) with ``{c}_walk_min``, ``{c}_band``, ``{c}_covered``,
        ``{c}_nearest_facility`` per category, and ``{c}_overlay{T}`` and
        ``{c}_e2sfca_per_1000`` when given.
    """
    out = cells.copy()
    for c, wm in walk_min.items():
        set_cell_columns(out, c, wm, nearest_id[c], thresholds_min, coverage_threshold_min,
                         overlay_share=(overlay_share or {}).get(c),
                         e2sfca_per_1000=(e2sfca_per_1000 or {}).get(c))
    return out


def set_cell_columns(cells: pd.DataFrame, category: str, walk_min: np.ndarray,
                     nearest_id: np.ndarray, thresholds_min: tuple[float, ...],
                     coverage_threshold_min: float, *,
                     overlay_share: dict[float, np.ndarray] | None = None,
                     e2sfca_per_1000: np.ndarray | None = None) -> None:
    """Write (or overwrite, in place and in their places) one category's cell columns.

    Parameters
    ----------
    cells
        The cell table, changed in place.
    category
        The category ``c`` of the ``{c}_*`` columns.
    walk_min, nearest_id
        The category's walking minutes and nearest facility ids, one per cell.
    thresholds_min, coverage_threshold_min
        As for :func:`cell_table`.
    overlay_share
        Per threshold, the share of each cell's area inside the isochrone.
    e2sfca_per_1000
        The cells' E2SFCA capacity per 1,000 target residents.
    """
    c = category
    cells[f"{c}_walk_min"] = walk_min
    cells[f"{c}_band"] = _bands(walk_min, thresholds_min)
    cells[f"{c}_covered"] = walk_min <= coverage_threshold_min
    # object dtype whatever the ids (pandas would infer str, or object when all are None)
    cells[f"{c}_nearest_facility"] = pd.Series(np.asarray(nearest_id, dtype=object),
                                               index=cells.index, dtype=object)
    if overlay_share:
        for t, share in overlay_share.items():
            cells[f"{c}_overlay{tlabel(t)}"] = share
    if e2sfca_per_1000 is not None:
        cells[f"{c}_e2sfca_per_1000"] = e2sfca_per_1000


def counted_facilities(facilities: gpd.GeoDataFrame, category: str,
                       cells: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The facilities of ``category`` whose capacity counts towards the study area.

    A facility counts when it is full-day supply (``counts_as_supply``), was attached to the
    walking network (``on_network``, set by the analysis: within ``max_access_m`` of a
    walkable street) and lies inside the study area (the extent of ``cells``). Facilities left
    out as unreachable or outside the area serve none of the area's residents, so their places
    or beds are not part of the area's capacity per 1,000.

    Parameters
    ----------
    facilities
        Facilities with ``category`` (and, after the analysis, ``on_network``).
    category
        ``"elderly"`` or ``"childcare"``.
    cells
        The population cells that make up the study area; None: no area test.

    Returns
    -------
    GeoDataFrame
        The rows of ``facilities`` that count (same columns and CRS).

    Examples
    --------
    >>> from care15.sources.facilities import facility_table
    >>> f = facility_table(facility_id=["a", "b"], name=["A", "B"],
    ...                    category=["childcare"] * 2, subtype=["nursery"] * 2,
    ...                    places=[40, 60], lon=[104.07, 104.08], lat=[30.66, 30.67])
    >>> f["on_network"] = [True, False]
    >>> counted_facilities(f, "childcare")["facility_id"].tolist()
    ['a']
    """
    keep = np.array(facilities["category"] == category, dtype=bool)  # a writable copy
    if "counts_as_supply" in facilities.columns:
        keep &= np.array(facilities["counts_as_supply"].fillna(True), dtype=bool)
    if "on_network" in facilities.columns:
        keep &= np.array(facilities["on_network"].fillna(False), dtype=bool)
    if cells is not None and len(cells) and keep.any() and facilities.crs is not None \
            and cells.crs is not None:
        x0, y0, x1, y1 = cells.total_bounds
        pts = facilities.geometry[keep].to_crs(cells.crs)
        inside = np.zeros(len(facilities), dtype=bool)
        inside[np.flatnonzero(keep)] = ((pts.x >= x0) & (pts.x <= x1) & (pts.y >= y0)
                                        & (pts.y <= y1)).to_numpy()
        keep &= inside
    out: gpd.GeoDataFrame = facilities.loc[keep]
    return out


def community_table(cells: gpd.GeoDataFrame, communities: gpd.GeoDataFrame,
                    facilities: gpd.GeoDataFrame, scenario: Scenario, *,
                    method: str | None = None) -> gpd.GeoDataFrame:
    """Per-community residents, rates, facilities, capacity and targets.

    Parameters
    ----------
    cells
        The output of :func:`cell_table`, with ``community_id`` (``_outside`` for cells
        outside every community).
    communities
        Community polygons with ``community_id`` and ``community_name``.
    facilities
        Facilities with ``category`` and ``community_id`` (``_outside`` when outside every
        community), and the capacity columns of :data:`care15.standards.CATEGORIES`.
    scenario
        Categories, thresholds, targets and household size.
    method
        ``"network"`` (a cell counts when its walk is within the threshold) or ``"overlay"``
        (by the share of its area inside the isochrone); default the scenario's.

    Returns
    -------
    GeoDataFrame
        One row per community (plus ``_outside`` when cells lie outside every community), in
        the communities' CRS, with the columns of the module docstring.

    Raises
    ------
    ValueError
        For an unknown ``method``.
    """
    method = _method(method, scenario)
    comm = community_base(cells, communities, scenario)
    groups = CellGroups(cells["community_id"], comm["community_id"])
    for c in scenario.categories:
        set_community_columns(comm, cells, groups, facilities, scenario, c, method=method)
    return gpd.GeoDataFrame(comm, geometry="geometry", crs=communities.crs)


def _method(method: str | None, scenario: Scenario) -> str:
    method = method or scenario.analysis.coverage_method
    if method not in ("network", "overlay"):
        raise ValueError(f"method {method!r} is not one of ('network', 'overlay')")
    return method


class CellGroups:
    """Cells grouped by community, for sums per community row.

    Parameters
    ----------
    cell_key
        Each cell's ``community_id``.
    community_ids
        The community table's ``community_id`` column (a sum is mapped to every row with the
        id, as :meth:`pandas.Series.map` would).
    """

    def __init__(self, cell_key: pd.Series, community_ids: pd.Series) -> None:
        codes, uniques = pd.factorize(cell_key)
        self.codes = codes
        self.n_groups = len(uniques)
        self.row_group = pd.Index(uniques).get_indexer(community_ids)

    def sums(self, values: np.ndarray, *, min_count: int = 0) -> np.ndarray:
        """Per-community sums of the columns of ``values`` (cells × k), NaN for no cell.

        The sums are pandas' group sums (compensated, in cell order), as ``groupby().sum()``
        by ``community_id`` gives them.

        Parameters
        ----------
        values
            One row per cell, one column per quantity.
        min_count
            As for :meth:`pandas.core.groupby.DataFrameGroupBy.sum`.

        Returns
        -------
        numpy.ndarray
            One row per community row, one column per quantity.
        """
        by = pd.DataFrame(values).groupby(self.codes).sum(min_count=min_count)
        per_group = by.reindex(np.arange(self.n_groups)).to_numpy(dtype=float)
        out = np.full((len(self.row_group), per_group.shape[1]), np.nan)
        ok = self.row_group >= 0
        out[ok] = per_group[self.row_group[ok]]
        return out


def community_base(cells: gpd.GeoDataFrame, communities: gpd.GeoDataFrame,
                   scenario: Scenario) -> gpd.GeoDataFrame:
    """The community table's columns that do not depend on facilities.

    Parameters
    ----------
    cells, communities, scenario
        As for :func:`community_table`.

    Returns
    -------
    GeoDataFrame
        ``community_id``, ``community_name``, geometry, residents per group and households
        (plus ``_outside`` when cells lie outside every community).
    """
    comm = communities[["community_id", "community_name", "geometry"]].copy()
    if (cells["community_id"] == "_outside").any() and "_outside" not in set(comm.community_id):
        extra = gpd.GeoDataFrame({"community_id": ["_outside"],
                                  "community_name": ["(outside communities / 社区范围外)"],
                                  "geometry": [shapely.Polygon()]}, crs=comm.crs)
        comm = pd.concat([comm, extra.to_crs(comm.crs)], ignore_index=True)
    key = cells["community_id"]
    pops = cells.groupby(key)[list(GROUPS.values())].sum()
    comm = comm.merge(pops, left_on="community_id", right_index=True, how="left")
    for col in GROUPS.values():
        comm[col] = comm[col].fillna(0.0)
    comm["households"] = comm["pop_total"] / scenario.analysis.household_size
    out: gpd.GeoDataFrame = comm
    return out


def _shares(cells: pd.DataFrame, category: str, t: float, method: str) -> np.ndarray:
    """Each cell's covered share within ``t`` minutes by the counting method."""
    if method == "network":
        share: np.ndarray = (cells[f"{category}_walk_min"].to_numpy() <= t).astype(float)
    else:
        share = cells[f"{category}_overlay{tlabel(t)}"].to_numpy(dtype=float)
    return share


def set_community_columns(comm: pd.DataFrame, cells: pd.DataFrame, groups: CellGroups,
                          facilities: gpd.GeoDataFrame, scenario: Scenario, category: str, *,
                          method: str | None = None) -> None:
    """Write (or overwrite, in place and in their places) one category's community columns.

    Parameters
    ----------
    comm
        The community table (:func:`community_base` or an earlier :func:`community_table`),
        changed in place.
    cells
        The cell table with the category's columns (:func:`cell_table`).
    groups
        ``cells`` grouped by ``comm``'s communities.
    facilities, scenario
        As for :func:`community_table`.
    category
        The category ``c`` of the ``{c}_*`` columns.
    method
        As for :func:`community_table`.
    """
    method = _method(method, scenario)
    c = category
    cat = std.CATEGORIES[c]
    ts = scenario.thresholds_min
    pop = {g: cells[col].to_numpy(dtype=float) for g, col in GROUPS.items()}
    block = np.column_stack([pop[g] * _shares(cells, c, t, method) for t in ts for g in GROUPS])
    cov = np.nan_to_num(groups.sums(block), nan=0.0)
    tot = {g: comm[col].to_numpy(dtype=float) for g, col in GROUPS.items()}
    k = 0
    for t in ts:
        for g in GROUPS:
            with np.errstate(invalid="ignore"):
                comm[f"{c}_cov{tlabel(t)}_{g}"] = np.clip(
                    cov[:, k] / np.where(tot[g] > 0, tot[g], np.nan), 0, 1)
            k += 1
    fc = facilities.loc[facilities["category"] == c]
    if "counts_as_supply" in fc.columns:
        fc = fc.loc[fc["counts_as_supply"].astype(bool)]
    n = fc.groupby("community_id").size()
    comm[f"{c}_n_facilities"] = comm["community_id"].map(n).fillna(0).astype(int)
    comm[f"{c}_has_facility"] = comm[f"{c}_n_facilities"] > 0
    capcol = cat.capacity_column
    fcap = counted_facilities(facilities, c)  # attached to the network, full-day supply
    cap = fcap.groupby("community_id")[capcol].sum(min_count=1) if capcol in fcap \
        else pd.Series()
    comm[f"{c}_capacity"] = comm["community_id"].map(cap).astype(float)
    # 托位 per 1,000 residents (national target); beds per 1,000 residents 60+
    per = comm["pop_total"] if c == "childcare" else comm["pop_60plus"]
    comm[f"{c}_capacity_per_1000"] = (comm[f"{c}_capacity"] / per.where(per > 0) * 1000)
    tgt_col = f"{c}_cov{tlabel(scenario.targets.coverage_threshold_min)}_" + \
        _group_key(cat.target_group)
    target = scenario.coverage_target(c)
    grp = comm[cat.target_group]
    rate = comm[tgt_col]
    comm[f"{c}_target_rate"] = target
    comm[f"{c}_target_met"] = pd.Series(
        np.where(rate.isna(), None, rate >= target - 1e-12), index=comm.index, dtype=object)
    short = np.ceil(np.maximum(target * grp - rate * grp, 0) - 1e-9)
    comm[f"{c}_shortfall_people"] = np.where(rate.isna(), np.nan, np.maximum(short, 0))
    if f"{c}_e2sfca_per_1000" in cells.columns:
        w = cells[cat.target_group].to_numpy(dtype=float)
        val = cells[f"{c}_e2sfca_per_1000"].to_numpy(dtype=float)
        num = groups.sums((val * w)[:, None], min_count=1)[:, 0]
        den = groups.sums(np.where(np.isnan(val), np.nan, w)[:, None])[:, 0]
        comm[f"{c}_e2sfca_per_1000"] = num / np.where(den > 0, den, np.nan)
    if c == "childcare":
        comm["childcare_places_target_met"] = _met(
            comm["childcare_capacity_per_1000"], scenario.targets.childcare_places_per_1000)
    if c == "elderly":
        area = fcap.groupby("community_id")["floor_area_m2"].sum(min_count=1) \
            if "floor_area_m2" in fcap else pd.Series(dtype=float)
        hh = comm["households"]
        comm["elderly_area_m2_per_100_households"] = (
            comm["community_id"].map(area).astype(float) / hh.where(hh > 0) * 100)
        comm["elderly_area_target_met"] = _met(
            comm["elderly_area_m2_per_100_households"],
            scenario.targets.elderly_area_m2_per_100_households)


def _met(value: pd.Series, target: float) -> pd.Series:
    return pd.Series(np.where(value.isna(), None, value >= target), index=value.index,
                     dtype=object)


def _group_key(col: str) -> str:
    return {v: k for k, v in GROUPS.items()}[col]


def e2sfca(reach: Reach, supply: np.ndarray, demand: np.ndarray,
           thresholds_m: tuple[float, ...],
           weights: tuple[float, ...] = E2SFCA_WEIGHTS) -> np.ndarray:
    """Enhanced two-step floating catchment area access (Luo & Qi 2009).

    Step 1, for each facility j: ``R_j = S_j / Σ_i P_i W(d_ij)`` over demand cells within the
    catchment. Step 2, for each cell i: ``A_i = Σ_j R_j W(d_ij)``. ``W`` is a step function:
    ``weights[k]`` for ``thresholds_m[k-1] < d ≤ thresholds_m[k]``, 0 beyond the last.

    Parameters
    ----------
    reach
        Facility × cell walking distances (metres) within the largest threshold.
    supply
        Capacity of each facility (NaN or 0 contribute nothing).
    demand
        Target-group residents of each cell.
    thresholds_m
        Band edges in metres (threshold minutes × 60 × speed).
    weights
        One weight per band.

    Returns
    -------
    numpy.ndarray
        Supply per unit of demand reachable from each cell (multiply by 1,000 for "per 1,000
        residents"). 0 where nothing is reachable.

    Raises
    ------
    ValueError
        When there are fewer ``weights`` than bands.

    Examples
    --------
    One facility of 10 places; two cells of 100 residents, 200 m and 400 m away, in the first
    and second of two bands (weights 1 and 0.5):

    >>> import numpy as np
    >>> from care15.access import Reach
    >>> from care15.rates import e2sfca
    >>> r = Reach(rows=np.array([0, 0]), cols=np.array([0, 1]),
    ...           dist_m=np.array([200.0, 400.0]), shape=(1, 2), limit_m=600.0)
    >>> e2sfca(r, np.array([10.0]), np.array([100.0, 100.0]), (300.0, 600.0), (1.0, 0.5))
    array([0.06666667, 0.03333333])
    """
    if len(weights) < len(thresholds_m):
        raise ValueError(f"need one weight per band: {len(thresholds_m)} bands, "
                         f"{len(weights)} weights")
    edges = np.asarray(thresholds_m, dtype=float)
    band = np.searchsorted(edges, reach.dist_m, side="left")
    wts = np.asarray(weights, dtype=float)
    w = np.where(band < len(edges), wts[np.minimum(band, len(edges) - 1)], 0.0)
    s = np.nan_to_num(np.asarray(supply, dtype=float), nan=0.0)
    p = np.nan_to_num(np.asarray(demand, dtype=float), nan=0.0)
    weighted_demand = np.bincount(reach.rows, weights=p[reach.cols] * w, minlength=reach.shape[0])
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(weighted_demand > 0, s / weighted_demand, 0.0)
    return np.bincount(reach.cols, weights=r[reach.rows] * w, minlength=reach.shape[1])


def summary(cells: gpd.GeoDataFrame, comm: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
            scenario: Scenario, *, method: str | None = None) -> dict[str, Any]:
    """Headline figures for the whole area (JSON-serialisable).

    For each category: facilities, residents by group, covered residents and share by group
    for each threshold (population-weighted), communities with residents, communities with a
    facility (count-based rate), communities meeting the coverage target, capacity per 1,000.

    Parameters
    ----------
    cells
        The output of :func:`cell_table`.
    comm
        The output of :func:`community_table`.
    facilities
        Facilities with ``category`` and the capacity columns.
    scenario
        Categories, thresholds and targets.
    method
        ``"network"`` or ``"overlay"``, as for :func:`community_table`; default the
        scenario's.

    Returns
    -------
    dict
        ``coverage_method``, ``thresholds_min``, ``coverage_threshold_min``, ``residents`` per
        group, ``n_cells``, ``n_communities`` and ``categories``: per category, a dict with
        ``thresholds`` → label → group → ``residents``/``covered``/``share``, and the
        community and capacity figures. NaN and infinity become None.

    Raises
    ------
    ValueError
        For an unknown ``method``.
    """
    method = _method(method, scenario)
    out: dict[str, Any] = {"coverage_method": method,
                           "thresholds_min": list(scenario.thresholds_min),
                           "coverage_threshold_min": scenario.targets.coverage_threshold_min,
                           "residents": {g: float(cells[col].sum()) for g, col in GROUPS.items()},
                           "n_cells": len(cells), "n_communities": len(comm),
                           "categories": {}}
    for c in scenario.categories:
        out["categories"][c] = category_summary(cells, comm, facilities, scenario, c,
                                                method=method, residents=out["residents"])
    jsonable: dict[str, Any] = _jsonable(out)
    return jsonable


def covered_shares(cells: pd.DataFrame, scenario: Scenario, category: str, method: str
                   ) -> dict[str, dict[str, Any]]:
    """Residents, covered residents and share per threshold label and group, for one category.

    Parameters
    ----------
    cells
        The cell table (:func:`cell_table`).
    scenario
        Its thresholds.
    category
        The category.
    method
        ``"network"`` or ``"overlay"``.

    Returns
    -------
    dict
        Threshold label → group → ``residents``/``covered``/``share`` (None without
        residents), as in :func:`summary`.
    """
    out: dict[str, dict[str, Any]] = {}
    for t in scenario.thresholds_min:
        share = _shares(cells, category, t, method)
        row: dict[str, Any] = {}
        for g, col in GROUPS.items():
            pop = cells[col].to_numpy(dtype=float)
            tot = float(pop.sum())
            cov = float((pop * share).sum())
            row[g] = {"residents": tot, "covered": cov,
                      "share": (min(1.0, cov / tot) if tot > 0 else None)}
        out[tlabel(t)] = row
    return out


def category_summary(cells: gpd.GeoDataFrame, comm: gpd.GeoDataFrame,
                     facilities: gpd.GeoDataFrame, scenario: Scenario, category: str, *,
                     method: str | None = None,
                     residents: dict[str, float] | None = None) -> dict[str, Any]:
    """The headline figures of one category (the ``categories`` entry of :func:`summary`).

    Parameters
    ----------
    cells, comm, facilities, scenario
        As for :func:`summary`.
    category
        The category.
    method
        As for :func:`summary`.
    residents
        Residents per group of the whole area (``summary()["residents"]``); summed from
        ``cells`` when None.

    Returns
    -------
    dict
        As in :func:`summary` (not yet JSON-cleaned: NaN stays NaN).
    """
    method = _method(method, scenario)
    c = category
    if residents is None:
        residents = {g: float(cells[col].sum()) for g, col in GROUPS.items()}
    inhabited = comm["pop_total"] > 0
    cat = std.CATEGORIES[c]
    fc = facilities.loc[facilities["category"] == c]
    d: dict[str, Any] = {"label_zh": cat.label_zh, "label_en": cat.label_en,
                         "walk_speed_mps": scenario.speed_for(c),
                         "n_facilities": len(fc), "thresholds": {}}
    shares = covered_shares(cells, scenario, c, method)
    for t in scenario.thresholds_min:
        tl = tlabel(t)
        row: dict[str, Any] = shares[tl]
        rate = comm.loc[inhabited, f"{c}_cov{tl}_{_group_key(cat.target_group)}"]
        row["communities_meeting_target"] = int((rate >= scenario.coverage_target(c)).sum())
        d["thresholds"][tl] = row
    n_inh = int(inhabited.sum())
    has = int(comm.loc[inhabited, f"{c}_has_facility"].sum())
    met = comm.loc[inhabited, f"{c}_target_met"]
    d["communities_with_residents"] = n_inh
    d["communities_with_facility"] = has
    d["community_facility_rate"] = has / n_inh if n_inh else None
    d["communities_meeting_target"] = int((met == True).sum())  # noqa: E712
    d["coverage_target"] = scenario.coverage_target(c)
    grp = cat.target_group
    tl = tlabel(scenario.targets.coverage_threshold_min)
    tgt_share = d["thresholds"][tl][_group_key(grp)]["share"]
    d["target_share"] = tgt_share
    d["target_met"] = None if tgt_share is None else bool(tgt_share >= d["coverage_target"])
    capcol = cat.capacity_column
    counted = counted_facilities(facilities, c, cells)
    known = counted[capcol].notna().to_numpy() if capcol in counted else \
        np.zeros(len(counted), dtype=bool)
    cap = counted[capcol].sum(min_count=1) if capcol in counted else np.nan
    base = residents["total" if c == "childcare" else "60plus"]
    d["capacity"] = None if pd.isna(cap) else float(cap)
    d["capacity_per_1000"] = (None if pd.isna(cap) or base <= 0 else float(cap / base * 1000))
    # "from N of M facilities with a recorded capacity": M attached inside the area
    d["capacity_known_facilities"] = int(known.sum())
    d["capacity_counted_facilities"] = len(counted)
    left = fc.loc[~fc.index.isin(counted.index)]
    if "counts_as_supply" in left.columns:
        left = left.loc[left["counts_as_supply"].fillna(True).astype(bool)]
    d["capacity_left_out_facilities"] = len(left)
    d["capacity_left_out"] = float(left[capcol].sum()) if capcol in left else 0.0
    if c == "childcare":
        d["capacity_target_per_1000"] = scenario.targets.childcare_places_per_1000
    else:
        d["capacity_target_per_1000"] = scenario.targets.elderly_beds_per_1000_60plus
    d["capacity_target_met"] = (None if d["capacity_per_1000"] is None
                                else d["capacity_per_1000"] >= d["capacity_target_per_1000"])
    return d


def _jsonable(o: Any) -> Any:
    if isinstance(o, dict):
        return {str(k): _jsonable(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_jsonable(v) for v in o]
    if isinstance(o, np.generic):
        o = o.item()
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return o
