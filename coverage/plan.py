"""What-if plans: add, move, remove or resize facilities and see the tables change at once.

A :class:`Plan` analyses a region once (as :func:`care15.analyze` does) and keeps what the
analysis is made of: each category's node distances, isochrone field, overlay shares and
E2SFCA catchments (:class:`care15.category.CategoryAccess`). An edit recomputes only the
category it touches, and within it only what the edit can reach: a warm-started search from
the changed facility (:func:`care15.access.update_nearest`), the isochrone pixels around the
streets whose walking distances changed (:meth:`care15.isofield.IsoField.update`) and the
changed facility's E2SFCA catchment. The tables that follow are then rebuilt. Every result
equals :func:`care15.analyze` run on the edited facility list (``tests/test_plan.py`` checks
this over random sequences of edits).

Examples
--------
>>> import care15
>>> sc = care15.demo_scenario()
>>> plan = care15.Plan(care15.region_from_scenario(sc), sc)
>>> fid = plan.add_facility("elderly", 24.945, 60.165, name="新站点")
>>> d = plan.diff()
>>> bool((d.headline["after"] >= d.headline["before"] - 1e-12).all())
True
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import standards as std
from ._errors import InputError
from .analysis import (
    CoverageResult,
    Prepared,
    _assign_points,
    finish,
    prepare,
    refresh,
    summary_table,
)
from .category import CategoryAccess, category_access, update_access
from .network import Snapped

if TYPE_CHECKING:
    from .region import Region
    from .scenario import Scenario

__all__ = ["EDIT_ACTIONS", "Plan", "PlanDiff", "plan_diff"]

log = logging.getLogger(__name__)

#: The kinds of edit a plan file may hold, with their Chinese names.
EDIT_ACTIONS = {"add": "新增", "move": "迁移", "remove": "撤销", "resize": "调整规模"}


def _cat_key(category: str) -> str:
    key = str(category).strip().lower()
    if key not in std.CATEGORIES:
        raise InputError(f"category {category!r} is not one of {sorted(std.CATEGORIES)}")
    return key


def _concat_snapped(a: Snapped, b: Snapped) -> Snapped:
    return Snapped(**{k: np.concatenate([getattr(a, k), getattr(b, k)])
                      for k in a.__dataclass_fields__})


def _set_snapped(a: Snapped, pos: int, b: Snapped) -> Snapped:
    """A copy of ``a`` with point ``pos`` replaced by the one point of ``b``."""
    out = {}
    for k in a.__dataclass_fields__:
        arr = getattr(a, k).copy()
        arr[pos] = getattr(b, k)[0]
        out[k] = arr
    return Snapped(**out)


def _unsnapped() -> Snapped:
    nan = np.array([np.nan])
    return Snapped(edge=np.array([-1]), along_m=nan, to_u_m=nan, to_v_m=nan, access_m=nan,
                   node_u=np.array([-1]), node_v=np.array([-1]), x=nan, y=nan)


@dataclass(frozen=True)
class PlanDiff:
    """Before/after figures of a plan against its base.

    Attributes
    ----------
    headline
        One row per category × threshold × group: ``before``, ``after``, ``change`` (shares
        of residents within the threshold, in [0, 1]).
    communities
        One row per community × category: target-group coverage within the coverage
        threshold before and after, the change, and whether the target is met before/after.
    cells
        Per category, the cells whose coverage changed: ``status`` ``"newly_covered"`` or
        ``"newly_uncovered"``, with their residents (metric CRS).
    edits
        The edits applied, in order.
    """

    headline: pd.DataFrame
    communities: pd.DataFrame
    cells: gpd.GeoDataFrame
    edits: pd.DataFrame


@dataclass
class Plan:
    """A base analysis and the edits made to its facilities (see the module notes).

    ``Plan(region, scenario)`` analyses the base at once.

    Attributes
    ----------
    region
        The study area's layers (:func:`care15.region_from_scenario`).
    scenario
        The scenario; defaults to ``Scenario()``.
    verbose
        Progress on stderr while the base is analysed.
    cache
        On-disk cache for the cells' snap (see :func:`care15.analyze`).
    base
        The analysis before any edit.
    edits
        The edits applied so far (``action``, ``facility_id``, ``category``, ``lon``, ``lat``,
        ``capacity``).
    """

    region: Region
    scenario: Scenario | None = None
    verbose: bool = False
    cache: bool | str | Path | None = None
    base: CoverageResult = field(init=False, repr=False)
    edits: list[dict[str, Any]] = field(init=False, default_factory=list)

    def __post_init__(self) -> None:
        """Analyse the base."""
        from .scenario import Scenario

        sc = self.scenario or Scenario()
        self.scenario = sc
        self._prep: Prepared = prepare(self.region, sc, verbose=self.verbose, cache=self.cache)
        p = self._prep
        self._facilities: gpd.GeoDataFrame = p.facilities.copy()
        self._fsnap: Snapped = p.fsnap
        self._acc: dict[str, CategoryAccess] = {
            c: category_access(p.network, p.facilities, p.fsnap, p.csnap, p.cells, c, sc,
                               p.grid, verbose=self.verbose) for c in sc.categories}
        self.base = finish(p, self._facilities, self._fsnap, self._acc, sc,
                           verbose=self.verbose, snapshot=True, keep_pairs=True)
        self._result: CoverageResult | None = self.base
        self._last: CoverageResult = self.base
        self._dirty: set[str] = set()
        self._counter = itertools.count(1)

    # -- the edits ---------------------------------------------------------------------------

    @property
    def facilities(self) -> gpd.GeoDataFrame:
        """The facility list after the edits (a copy).

        Returns
        -------
        GeoDataFrame
            As :attr:`CoverageResult.facilities`.
        """
        return self._facilities.copy()

    def _row(self, facility_id: str) -> int:
        ids = self._facilities["facility_id"].astype(str).to_numpy()
        hit = np.flatnonzero(ids == str(facility_id))
        if len(hit) == 0:
            raise InputError(f"no facility with facility_id {facility_id!r} in the plan")
        return int(hit[0])

    def _point(self, lon: float, lat: float, crs: str) -> shapely.Point:
        from .chinacoords import to_wgs84

        if not (np.isfinite(lon) and np.isfinite(lat)):
            raise InputError(f"lon/lat must be numbers, got {lon!r}, {lat!r}")
        if crs.lower() in ("wgs84", "epsg:4326", "4326"):
            x, y = float(lon), float(lat)
        else:
            xs, ys = to_wgs84(np.array([lon], dtype=float), np.array([lat], dtype=float),
                              crs.lower())
            x, y = float(xs[0]), float(ys[0])
        pt = gpd.GeoSeries([shapely.Point(x, y)], crs=4326).to_crs(self._facilities.crs)
        return pt.iloc[0]

    def _snap(self, geom: shapely.Point) -> Snapped:
        net = self._prep.network
        return net.snap_gdf(gpd.GeoSeries([geom], crs=self._facilities.crs),
                            max_access_m=self.scenario.analysis.max_access_m)  # type: ignore[union-attr]

    def _slot_of(self, category: str, facility_id: str) -> int:
        # a removed facility keeps its (unsnapped) slot; an id added again gets a later one
        hit = np.flatnonzero(self._acc[category].slot_id.astype(str) == str(facility_id))
        return int(hit[-1])

    def _counts(self, row: int) -> bool:
        fac = self._facilities
        return "counts_as_supply" not in fac.columns or bool(
            pd.Series(fac["counts_as_supply"]).fillna(True).astype(bool).iloc[row])

    def _diagnostics(self, geom: shapely.Point, sn: Snapped) -> dict[str, Any]:
        """The columns analyze adds to a facility: snapping and community."""
        net = self._prep.network
        pt = gpd.GeoDataFrame(geometry=[geom], crs=self._facilities.crs)
        cm = _assign_points(pt, self._prep.communities)
        return {"access_m": float(sn.access_m[0]), "on_network": bool(sn.ok[0]),
                "network_piece": net.component_of(sn)[0],
                "community_id": cm["community_id"].iloc[0],
                "community_name": cm["community_name"].iloc[0]}

    def _fill_row(self, row: int, geom: shapely.Point, sn: Snapped) -> None:
        fac = self._facilities
        for k, v in self._diagnostics(geom, sn).items():
            fac.loc[fac.index[row], k] = v

    def add_facility(self, category: str, lon: float, lat: float, *, crs: str = "wgs84",
                     facility_id: str | None = None, name: str | None = None,
                     capacity: float | None = None, subtype: str | None = None) -> str:
        """Add a facility.

        Parameters
        ----------
        category
            ``"elderly"`` or ``"childcare"``.
        lon, lat
            Where, in ``crs``.
        crs
            ``"wgs84"``, ``"gcj02"`` (Amap/Tencent) or ``"bd09"`` (Baidu).
        facility_id
            Its id (default ``plan-1``, ``plan-2`` …); must be new.
        name
            Its name.
        capacity
            Beds (elderly) or places (childcare).
        subtype
            Its subtype (a key of the category's subtypes), when known.

        Returns
        -------
        str
            The facility's id.

        Raises
        ------
        InputError
            For an unknown category, a duplicate id or coordinates that are not numbers.
        """
        c = _cat_key(category)
        fid = str(facility_id) if facility_id is not None else f"plan-{next(self._counter)}"
        ids = set(self._facilities["facility_id"].astype(str))
        while facility_id is None and fid in ids:
            fid = f"plan-{next(self._counter)}"
        if fid in ids:
            raise InputError(f"facility_id {fid!r} is already in the plan; choose another id")
        geom = self._point(lon, lat, crs)
        cat = std.CATEGORIES[c]
        row: dict[str, Any] = {"facility_id": fid, "category": c, "name": name or fid,
                               "geometry": geom}
        if "counts_as_supply" in self._facilities.columns:
            row["counts_as_supply"] = True
        if subtype is not None:
            row["subtype"] = subtype
        row[cat.capacity_column] = np.nan if capacity is None else float(capacity)
        sn = self._snap(geom)
        row.update(self._diagnostics(geom, sn))
        # the list's own columns only (a list without names gets none)
        row = {k: v for k, v in row.items()
               if k in self._facilities.columns or k in ("facility_id", "category")}
        new = gpd.GeoDataFrame([row], geometry="geometry", crs=self._facilities.crs)
        new = new.astype({k: self._facilities[k].dtype for k in new.columns
                          if k in self._facilities.columns and k != "geometry"
                          and not (new[k].isna().all() and self._facilities[k].dtype != object)})
        self._facilities = gpd.GeoDataFrame(
            pd.concat([self._facilities, new], ignore_index=True), geometry="geometry",
            crs=self._facilities.crs)
        self._fsnap = _concat_snapped(self._fsnap, sn)
        acc = self._acc.get(c)
        if acc is not None:
            slots = _concat_snapped(acc.slots, sn)
            self._update(c, slots, np.append(acc.slot_id, fid).astype(object),
                         np.append(acc.capacity, row[cat.capacity_column]),
                         np.array([len(acc.slots)]))
        self._log("add", fid, c, lon, lat, crs, capacity)
        return fid

    def move_facility(self, facility_id: str, lon: float, lat: float, *,
                      crs: str = "wgs84") -> None:
        """Move a facility.

        Parameters
        ----------
        facility_id
            Which facility.
        lon, lat
            Its new place, in ``crs``.
        crs
            ``"wgs84"``, ``"gcj02"`` or ``"bd09"``.

        Raises
        ------
        InputError
            For an unknown facility or coordinates that are not numbers.
        """
        r = self._row(facility_id)
        geom = self._point(lon, lat, crs)
        fac = self._facilities
        fac.loc[fac.index[r], "geometry"] = geom
        sn = self._snap(geom)
        self._fsnap = _set_snapped(self._fsnap, r, sn)
        self._fill_row(r, geom, sn)
        c = str(fac["category"].iloc[r])
        acc = self._acc.get(c)
        if acc is not None and self._counts(r):
            k = self._slot_of(c, facility_id)
            self._update(c, _set_snapped(acc.slots, k, sn), acc.slot_id, acc.capacity,
                         np.array([k]))
        self._log("move", facility_id, c, lon, lat, crs, None)

    def remove_facility(self, facility_id: str) -> None:
        """Remove a facility.

        Parameters
        ----------
        facility_id
            Which facility.

        Raises
        ------
        InputError
            For an unknown facility.
        """
        r = self._row(facility_id)
        fac = self._facilities
        c = str(fac["category"].iloc[r])
        counts = self._counts(r)
        keep = np.arange(len(fac)) != r
        self._facilities = fac.iloc[keep].reset_index(drop=True)
        self._fsnap = self._fsnap.subset(keep)
        acc = self._acc.get(c)
        if acc is not None and counts:
            k = self._slot_of(c, facility_id)
            cap = acc.capacity.copy()
            cap[k] = np.nan
            self._update(c, _set_snapped(acc.slots, k, _unsnapped()), acc.slot_id, cap,
                         np.array([k]))
        self._log("remove", facility_id, c, None, None, None, None)

    def set_capacity(self, facility_id: str, capacity: float | None) -> None:
        """Change a facility's capacity (beds or places; None for unknown).

        Parameters
        ----------
        facility_id
            Which facility.
        capacity
            The new capacity.

        Raises
        ------
        InputError
            For an unknown facility or a negative capacity.
        """
        if capacity is not None and not (np.isfinite(capacity) and capacity >= 0):
            raise InputError(f"capacity must be a number of beds or places >= 0, "
                             f"not {capacity!r}")
        r = self._row(facility_id)
        fac = self._facilities
        c = str(fac["category"].iloc[r])
        col = std.CATEGORIES[c].capacity_column
        value = np.nan if capacity is None else float(capacity)
        if col not in fac.columns:
            fac[col] = np.nan
        fac.loc[fac.index[r], col] = value
        acc = self._acc.get(c)
        if acc is not None and self._counts(r):
            k = self._slot_of(c, facility_id)
            cap = acc.capacity.copy()
            cap[k] = value
            self._acc[c] = update_access(acc, self._prep.network, acc.slots, acc.slot_id, cap,
                                         np.empty(0, dtype=np.int64), self._prep.csnap,
                                         self._prep.cells, moved=False)
        self._log("resize", facility_id, c, None, None, None, capacity)

    def apply(self, edits: pd.DataFrame) -> None:
        """Apply a table of edits in order (a plan file, see :func:`care15.planfile.read_plan`).

        Parameters
        ----------
        edits
            Columns ``action`` (``add``, ``move``, ``remove``, ``resize``), ``facility_id``,
            and as the action needs ``category``, ``lon``/``lat`` (WGS-84), ``name``,
            ``capacity`` and ``subtype``.

        Raises
        ------
        InputError
            For an unknown action, naming the row.
        """
        for i, e in enumerate(edits.to_dict("records"), start=1):
            act = str(e.get("action", "")).strip().lower()
            fid = e.get("facility_id")
            fid = None if fid is None or (isinstance(fid, float) and np.isnan(fid)) else str(fid)
            cap = e.get("capacity")
            cap = None if cap is None or (isinstance(cap, float) and np.isnan(cap)) else cap
            try:
                if act == "add":
                    sub = e.get("subtype")
                    name = e.get("name")
                    self.add_facility(str(e["category"]), float(e["lon"]), float(e["lat"]),
                                      facility_id=fid, name=name if isinstance(name, str)
                                      and name else None, capacity=cap,
                                      subtype=sub if isinstance(sub, str) and sub else None)
                elif act == "move" and fid is not None:
                    self.move_facility(fid, float(e["lon"]), float(e["lat"]))
                elif act == "remove" and fid is not None:
                    self.remove_facility(fid)
                elif act == "resize" and fid is not None:
                    self.set_capacity(fid, None if cap is None else float(cap))
                else:
                    raise InputError(f"action {act!r} needs a facility_id and is one of "
                                     f"{list(EDIT_ACTIONS)}")
            except InputError as err:
                raise InputError(f"plan row {i}: {err}") from None

    def _update(self, c: str, slots: Snapped, slot_id: np.ndarray, cap: np.ndarray,
                changed: np.ndarray) -> None:
        p = self._prep
        self._acc[c] = update_access(self._acc[c], p.network, slots, slot_id, cap, changed,
                                     p.csnap, p.cells)
        self._result = None

    def _log(self, action: str, fid: str, c: str, lon: float | None, lat: float | None,
             crs: str | None, capacity: float | None) -> None:
        # every edit touches its category's tables (facility counts even when not supply)
        self._dirty.add(c)
        self._result = None
        self.edits.append({"action": action, "action_zh": EDIT_ACTIONS[action],
                           "facility_id": fid, "category": c, "lon": lon, "lat": lat,
                           "crs": crs, "capacity": capacity})

    # -- results -----------------------------------------------------------------------------

    def result(self) -> CoverageResult:
        """The analysis with every edit so far.

        Returns
        -------
        CoverageResult
            As :func:`care15.analyze` returns for the edited facility list; its isochrone
            polygons are made when first read.
        """
        if self._result is None:
            sc = self.scenario
            assert sc is not None
            changed = tuple(c for c in sc.categories if c in self._dirty)
            self._result = refresh(self._last, self._prep, self._facilities.copy(),
                                   self._fsnap, dict(self._acc), sc, changed)
            self._last = self._result
            self._dirty.clear()
        return self._result

    def diff(self) -> PlanDiff:
        """Before/after figures of the edits against the base.

        Returns
        -------
        PlanDiff
            Headline shares, community coverage and the cells whose coverage changed.
        """
        return plan_diff(self.base, self.result(), self.scenario,  # type: ignore[arg-type]
                         pd.DataFrame(self.edits))


def plan_diff(before: CoverageResult, after: CoverageResult, scenario: Scenario,
              edits: pd.DataFrame | None = None) -> PlanDiff:
    """Compare two analyses of the same cells and communities.

    Parameters
    ----------
    before, after
        The two results (e.g. a plan's base and its result).
    scenario
        The scenario both were run with.
    edits
        The edits between them (kept as given).

    Returns
    -------
    PlanDiff
        Headline, community and cell changes.
    """
    from .rates import tlabel

    a, b = summary_table(before), summary_table(after)
    keys = ["category", "threshold_min", "group"]
    head = a[[*keys, "target_group", "residents", "share"]].rename(columns={"share": "before"})
    head["after"] = b["share"].to_numpy()
    head["change"] = head["after"] - head["before"]
    t = scenario.targets.coverage_threshold_min
    rows = []
    for c in scenario.categories:
        gkey = {"pop_60plus": "60plus", "pop_0to3": "0to3"}[std.CATEGORIES[c].target_group]
        col = f"{c}_cov{tlabel(t)}_{gkey}"
        met = f"{c}_target_met"
        x = before.communities[["community_id", "community_name", col, met]].rename(
            columns={col: "before", met: "target_met_before"})
        y = after.communities[["community_id", col, met]].rename(
            columns={col: "after", met: "target_met_after"})
        m = x.merge(y, on="community_id", how="outer")
        m.insert(0, "category", c)
        m["change"] = m["after"] - m["before"]
        rows.append(m)
    comm = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame()
    parts = []
    for c in scenario.categories:
        cb = before.cells[f"{c}_covered"].to_numpy(dtype=bool)
        ca = after.cells[f"{c}_covered"].to_numpy(dtype=bool)
        ch = cb != ca
        if ch.any():
            g = after.cells.loc[ch, ["cell_id", "pop_total", "pop_60plus", "pop_0to3",
                                     "geometry"]].copy()
            g.insert(0, "category", c)
            g["status"] = np.where(ca[ch], "newly_covered", "newly_uncovered")
            g["walk_min_before"] = before.cells[f"{c}_walk_min"].to_numpy()[ch]
            g["walk_min_after"] = after.cells[f"{c}_walk_min"].to_numpy()[ch]
            parts.append(g)
    cols = ["category", "cell_id", "pop_total", "pop_60plus", "pop_0to3", "status",
            "walk_min_before", "walk_min_after", "geometry"]
    cells = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True)[cols] if parts else
                             pd.DataFrame({k: [] for k in cols}), geometry="geometry",
                             crs=after.cells.crs)
    return PlanDiff(head, comm, cells, edits if edits is not None else pd.DataFrame())

