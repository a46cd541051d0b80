"""One category's access: travel times, isochrone field, overlay shares and E2SFCA.

:func:`category_access` computes, for the facilities of one category (elderly care or
childcare), everything the coverage tables need: walking minutes and the nearest facility of
every population cell, the isochrone field (:class:`care15.isofield.IsoField`) with the
cells' overlay shares, and the E2SFCA capacity per 1,000 target residents. :func:`care15.analyze`
builds one per category; :class:`care15.plan.Plan` keeps them and updates the one an edit
touches (:meth:`CategoryAccess.update`), which gives the same numbers as building it again.

Facilities sit in *slots*: the category's facilities in table order, then the ones a plan
adds. A removed facility keeps its slot, unsnapped, so the labels of the others stay valid.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from dataclasses import field as dc_field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd

from . import standards as std
from ._progress import step
from .access import NodeDistances, Reach, cell_distances, nearest_facility, reach
from .isofield import IsoField, PixelGrid, pixel_grid

if TYPE_CHECKING:
    from collections.abc import Callable

    from .network import Snapped, WalkNetwork
    from .scenario import Scenario

__all__ = ["CategoryAccess", "category_access", "field_grid", "isochrone_builder"]


def _square_side(cells: gpd.GeoDataFrame) -> tuple[float, tuple[float, float]] | None:
    from .analysis import _square_grid

    if len(cells) == 0:
        return None
    geoms = cells.geometry.values
    side = _square_grid(geoms)
    if side is None:
        return None
    b = geoms[0].bounds
    return side, (b[0], b[1])


def field_grid(network: WalkNetwork, cells: gpd.GeoDataFrame, walkoff_m: float) -> PixelGrid:
    """The pixel grid of a region's isochrone fields, aligned with square cells.

    Parameters
    ----------
    network
        The walking network.
    cells
        Population cells in the network's CRS.
    walkoff_m
        Walk-off buffer (metres).

    Returns
    -------
    PixelGrid
        Aligned with the cells when they are equal squares on one grid.
    """
    sq = _square_side(cells)
    if sq is None:
        return pixel_grid(network, walkoff_m)
    side, origin = sq
    return pixel_grid(network, walkoff_m, cell_side_m=side, cell_origin=origin)


def _cell_blocks(cells: gpd.GeoDataFrame, grid: PixelGrid) -> tuple[np.ndarray, np.ndarray]:
    """Each square cell's column and row, in cells, from the grid's top-left corner."""
    import shapely

    side = float(grid.cell_side_m or 1.0)
    b = shapely.bounds(cells.geometry.values)
    col = np.round((b[:, 0] - grid.x0) / side).astype(np.int64)
    row = np.round((grid.y1 - b[:, 3]) / side).astype(np.int64)
    return col, row


@dataclass
class CategoryAccess:
    """Access to the facilities of one category (see the module notes).

    Attributes
    ----------
    category
        ``"elderly"`` or ``"childcare"``.
    speed_mps
        Walking speed of the group served.
    thresholds_min
        The scenario's thresholds (minutes).
    slots
        The facilities, snapped (a removed one unsnapped).
    slot_id
        ``facility_id`` of each slot.
    capacity
        Capacity of each slot (beds or places; NaN unknown).
    nd
        Walking metres from every node to the nearest slot.
    iso
        The isochrone field.
    walk_min
        Minutes from each cell to the nearest facility (``inf`` unreachable).
    nearest_id
        That facility's id (None unreachable).
    overlay
        Per threshold, the share of each cell's area inside the isochrone.
    e2sfca_per_1000
        Capacity per 1,000 target residents within reach (NaN when no capacity is known).
    reach
        Slot × cell walking metres within the longest threshold (for E2SFCA; None when no
        capacity is known).
    notes
        Findings about the data (facilities only on small pieces, thresholds beyond the
        network).
    """

    category: str
    speed_mps: float
    thresholds_min: tuple[float, ...]
    slots: Snapped
    slot_id: np.ndarray
    capacity: np.ndarray
    nd: NodeDistances
    iso: IsoField
    walk_min: np.ndarray
    nearest_id: np.ndarray
    overlay: dict[float, np.ndarray]
    e2sfca_per_1000: np.ndarray
    reach: Reach | None = None
    notes: list[str] = dc_field(default_factory=list)

    @property
    def budgets_m(self) -> tuple[float, ...]:
        """Walking metres of each threshold.

        Returns
        -------
        tuple of float
            ``threshold × 60 × speed``.
        """
        return tuple(t * 60 * self.speed_mps for t in self.thresholds_min)


def _cell_side_state(cells: gpd.GeoDataFrame, grid: PixelGrid
                     ) -> tuple[np.ndarray, np.ndarray] | None:
    if grid.cell_side_m is None:
        return None
    return _cell_blocks(cells, grid)


def _overlay(fld: IsoField, cells: gpd.GeoDataFrame, budgets: dict[float, float],
             blocks: tuple[np.ndarray, np.ndarray] | None) -> dict[float, np.ndarray]:
    """Overlay shares per threshold: block means on aligned grids, polygons otherwise."""
    if blocks is not None:
        return {t: fld.overlay_shares(b, *blocks) for t, b in budgets.items()}
    from .analysis import overlay_shares

    return {t: overlay_shares(cells, fld.polygon(b)) for t, b in budgets.items()}


def _minutes(nd: NodeDistances, csnap: Snapped, slot_id: np.ndarray, speed: float
             ) -> tuple[np.ndarray, np.ndarray]:
    d, who = cell_distances(nd, csnap)
    wm = d / speed / 60.0
    near: np.ndarray
    if len(slot_id):
        near = np.asarray(np.where(who >= 0, slot_id[np.maximum(who, 0)], None))
    else:
        near = np.full(len(d), None, dtype=object)
    return wm, np.asarray(near, dtype=object)


def _e2sfca(network: WalkNetwork, slots: Snapped, capacity: np.ndarray, csnap: Snapped,
            demand: np.ndarray, budgets: tuple[float, ...], r: Reach | None
            ) -> tuple[np.ndarray, Reach | None]:
    from .rates import e2sfca

    if not np.isfinite(capacity).any():
        return np.full(len(demand), np.nan), r
    if r is None:
        r = reach(network, slots, csnap, budgets[-1])
    return e2sfca(r, capacity, demand, budgets) * 1000.0, r


def _data_notes(network: WalkNetwork, fs: Snapped, nd: NodeDistances, category: str,
                thresholds_min: tuple[float, ...], speed: float) -> list[str]:
    from .rates import tlabel

    notes = []
    cat = std.CATEGORIES[category]
    pieces_fac = set(network.component_of(fs)[fs.ok].tolist())
    if fs.ok.any() and 0 not in pieces_fac:
        notes.append(f"All {cat.label_en.lower()} facilities sit on small network pieces "
                     f"{sorted(pieces_fac)} that are not connected to the main street "
                     "network: most residents cannot reach them.")
    fin = nd.dist_m[np.isfinite(nd.dist_m)]
    for t in thresholds_min:
        budget = t * 60 * speed
        if len(fin) and fin.max() <= budget and network.n_nodes > 1:
            notes.append(f"{category}: the {tlabel(t)}-minute circle ({budget:.0f} m at {speed} "
                         "m/s) already reaches every street the facilities connect to; the "
                         "threshold is beyond the network's extent, so facilities outside "
                         "the extract are not seen and edge areas may be under-covered.")
            break
    return notes


def category_access(network: WalkNetwork, facilities: pd.DataFrame, fsnap: Snapped,
                    csnap: Snapped, cells: gpd.GeoDataFrame, category: str,
                    scenario: Scenario, grid: PixelGrid, *, verbose: bool = False
                    ) -> CategoryAccess:
    """Everything the tables need about one category's facilities.

    Parameters
    ----------
    network
        The walking network.
    facilities
        All facilities (``facility_id``, ``category``, the capacity columns), in the order
        of ``fsnap``.
    fsnap
        Where the facilities join the network.
    csnap
        Where the cells' centres join the network.
    cells
        Population cells (the category's target group column), in the network's CRS.
    category
        ``"elderly"`` or ``"childcare"``.
    scenario
        Thresholds, speeds and the walk-off.
    grid
        The pixel grid of the isochrone fields (:func:`field_grid`).
    verbose
        Progress on stderr.

    Returns
    -------
    CategoryAccess
        The category's access.
    """
    from .analysis import supply_mask

    cat = std.CATEGORIES[category]
    speed = scenario.speed_for(category)
    idx = np.flatnonzero(supply_mask(facilities, category))
    fs = fsnap.subset(idx)
    ids = facilities["facility_id"].to_numpy()[idx].astype(object)
    cap = facilities[cat.capacity_column].to_numpy(dtype=float)[idx] \
        if cat.capacity_column in facilities.columns else np.full(len(idx), np.nan)
    budgets = tuple(t * 60 * speed for t in scenario.thresholds_min)
    with step(f"{category}: network travel times", verbose=verbose):
        nd = nearest_facility(network, fs)
        wm, near = _minutes(nd, csnap, ids, speed)
    with step(f"{category}: isochrones", verbose=verbose):
        fld = IsoField.build(network, nd, grid, walkoff_m=scenario.analysis.isochrone_walkoff_m,
                             limit_m=budgets[-1])
    with step(f"{category}: overlay shares", verbose=verbose):
        overlay = _overlay(fld, cells, dict(zip(map(float, scenario.thresholds_min), budgets,
                                                strict=True)), _cell_side_state(cells, grid))
    with step(f"{category}: capacity-aware access (E2SFCA)", verbose=verbose):
        e2, r = _e2sfca(network, fs, cap, csnap, cells[cat.target_group].to_numpy(), budgets,
                        None)
    return CategoryAccess(category, speed, tuple(scenario.thresholds_min), fs, ids, cap, nd,
                          fld, wm, near, overlay, e2, r,
                          _data_notes(network, fs, nd, category, scenario.thresholds_min, speed))


def update_access(acc: CategoryAccess, network: WalkNetwork, slots: Snapped,
                  slot_id: np.ndarray, capacity: np.ndarray, changed: np.ndarray,
                  csnap: Snapped, cells: gpd.GeoDataFrame, *, moved: bool = True
                  ) -> CategoryAccess:
    """The category's access after the slots at ``changed`` were added, moved or removed.

    Only what the edit can touch is recomputed: a warm-started search from the changed
    facilities (:func:`care15.access.update_nearest`), the isochrone field's pixels around
    the streets whose distances changed, and the changed facilities' E2SFCA catchments. The
    result equals :func:`category_access` on the edited facilities.

    Parameters
    ----------
    acc
        The access before the edit (its field is updated in place and handed over).
    network
        The walking network.
    slots
        The slots after the edit (``len(slots) >= len(acc.slots)``).
    slot_id
        Their facility ids.
    capacity
        Their capacities.
    changed
        Slot positions added, moved or removed (an empty array for a capacity change only).
    csnap
        Where the cells' centres join the network.
    cells
        Population cells (the category's target group column).
    moved
        False when only capacities changed (no search, no field update).

    Returns
    -------
    CategoryAccess
        The access after the edit.
    """
    from .access import update_nearest

    cat = std.CATEGORIES[acc.category]
    budgets = acc.budgets_m
    demand = cells[cat.target_group].to_numpy()
    if not moved:
        e2, r = _e2sfca(network, slots, capacity, csnap, demand, budgets, acc.reach)
        return replace(acc, slots=slots, slot_id=slot_id, capacity=capacity,
                       e2sfca_per_1000=e2, reach=r)
    nd = update_nearest(network, acc.nd, slots, changed)
    wm, near = _minutes(nd, csnap, slot_id, acc.speed_mps)
    acc.iso.update(acc.nd, nd)
    blocks = _cell_side_state(cells, acc.iso.grid)
    overlay = _overlay(acc.iso, cells,
                       dict(zip(map(float, acc.thresholds_min), budgets, strict=True)), blocks)
    r = acc.reach
    if r is not None:
        keep = ~np.isin(r.rows, changed)
        add = reach(network, slots.subset(changed), csnap, budgets[-1])
        r = Reach(np.concatenate([r.rows[keep], changed[add.rows]]),
                  np.concatenate([r.cols[keep], add.cols]),
                  np.concatenate([r.dist_m[keep], add.dist_m]),
                  (len(slots), r.shape[1]), r.limit_m)
    e2, r = _e2sfca(network, slots, capacity, csnap, demand, budgets, r)
    return replace(acc, slots=slots, slot_id=slot_id, capacity=capacity, nd=nd,
                   walk_min=wm, nearest_id=near, overlay=overlay, e2sfca_per_1000=e2, reach=r,
                   notes=_data_notes(network, slots, nd, acc.category, acc.thresholds_min,
                                     acc.speed_mps))


def _iso_rows(acc: CategoryAccess, fields: np.ndarray) -> list[dict[str, Any]]:
    fld = replace(acc.iso, field_m=fields)
    rows = []
    for t, b in zip(acc.thresholds_min, acc.budgets_m, strict=True):
        g = fld.polygon(b)
        rows.append({"category": acc.category, "threshold_min": float(t), "budget_m": b,
                     "speed_mps": acc.speed_mps, "area_km2": g.area / 1e6, "geometry": g})
    return rows


def isochrone_builder(accs: list[CategoryAccess], crs: Any, *,
                      cache: bool | str | Path | None = None, snapshot: bool = True
                      ) -> Callable[[], gpd.GeoDataFrame]:
    """A function that makes the isochrone table of these categories when first asked.

    With ``snapshot`` the fields are copied now, so later edits of a plan do not change this
    result; :func:`care15.analyze`, whose fields nothing edits, does not copy them.

    Parameters
    ----------
    accs
        The categories' access.
    crs
        The network's CRS.
    cache
        ``True`` or a folder: read each category's polygons from the on-disk cache, keyed by
        the network, the snapped facilities and the parameters
        (:func:`care15.cache.cached_field_isochrones`), and store them on a miss.
    snapshot
        Copy the fields (a plan edits them in place).

    Returns
    -------
    callable
        Returns a GeoDataFrame with one row per category × threshold (``category``,
        ``threshold_min``, ``budget_m``, ``speed_mps``, ``area_km2``, geometry).
    """
    from .cache import cache_dir_of

    on, cache_dir = cache_dir_of(cache)
    snap = [(a, a.iso.field_m.copy() if snapshot else a.iso.field_m) for a in accs]
    cols = ["category", "threshold_min", "budget_m", "speed_mps", "area_km2", "geometry"]

    def one(a: CategoryAccess, f: np.ndarray) -> gpd.GeoDataFrame:
        """One category's rows, through the cache when it is on.

        Parameters
        ----------
        a
            The category's access.
        f
            Its field, as copied when the builder was made.

        Returns
        -------
        geopandas.GeoDataFrame
            The category's isochrone rows.
        """

        def compute() -> gpd.GeoDataFrame:
            """Vectorise the category's field at each threshold.

            Returns
            -------
            geopandas.GeoDataFrame
                One row per threshold.
            """
            return gpd.GeoDataFrame(pd.DataFrame(_iso_rows(a, f), columns=cols),
                                    geometry="geometry", crs=crs)

        if not on:
            return compute()
        from .cache import _SNAP_FIELDS, cached_field_isochrones, network_fingerprint

        key = (network_fingerprint(a.iso.network), a.category, repr(a.iso.grid),
               *[np.asarray(getattr(a.slots, k)) for k in _SNAP_FIELDS],
               [repr(t) for t in a.thresholds_min], repr(a.speed_mps), repr(a.iso.walkoff_m),
               repr(a.iso.limit_m))
        return cached_field_isochrones(key, compute, cache_dir=cache_dir)

    def build() -> gpd.GeoDataFrame:
        """Every category's rows.

        Returns
        -------
        geopandas.GeoDataFrame
            The isochrone table.
        """
        parts = [one(a, f) for a, f in snap]
        if not parts:
            return gpd.GeoDataFrame(pd.DataFrame({c: [] for c in cols}), geometry="geometry",
                                    crs=crs)
        return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry",
                                crs=crs)

    return build
