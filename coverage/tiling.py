"""Tiles: one large region analysed as independent pieces, exact at the seams.

A region too large for one task (more than ``max_nodes`` network nodes or ``max_cells``
population cells) is cut into square tiles. Each tile task gets

* the population cells whose centroid lies in the tile (its *core*): each cell belongs to
  exactly one tile;
* the facilities within ``facility_halo_m`` of the core;
* every street edge (whole, never clipped) that touches the core grown by ``halo_m``.

It runs :func:`care15.analysis.analyze` on these layers; :func:`combine_tiles` puts the
cells back in their original order and recomputes everything that spans tiles (community
tables, headline figures, gap clusters, capacity-aware access, isochrone union) on the whole
region.

How wide the halo must be:
Let ``D = max(thresholds_min) × 60 × v`` with ``v`` the fastest walking speed of the scenario's
categories: the longest walk any threshold counts. A cell's walking distance is its own
off-network leg + the network path + the facility's off-network leg, all straight or along
streets, so every point of a walk of at most ``D`` metres (the cell's street point, each street
on the path, the facility's street point and the facility itself) lies within ``D`` of the
cell's centroid. Hence, for cells of the core:

1. facilities within ``D`` of the core are all present (the leg lengths are part of ``D``, so
   no extra access leg is needed for the walk itself);
2. each such facility must join the network where it would in the whole region, at its
   nearest edge: that edge lies within ``max_access_m`` of the facility, so the streets are
   kept to ``D + max_access_m`` (the facility's leg counted once more, now outside the walk:
   this is the "access leg × 2" of the halo: once inside ``D``, once for snapping at the rim).
   A cell's own nearest edge is within ``max_access_m`` of its centroid, inside that too;
3. the isochrone-overlay share of a core cell looks at its polygon (up to ``r_cell``, the
   largest centroid-to-corner distance, beyond the core) grown by the isochrone walk-off, so
   facilities are kept to ``facility_halo_m = D + isochrone_walkoff_m + r_cell`` and streets to
   ``halo_m = facility_halo_m + max_access_m``.

A walk found in a tile can only be longer than the true one (fewer streets, fewer
facilities), and a true walk of at most ``D`` lies inside the tile, so every time up to the
longest threshold is exact, and so are the flags, bands, community rates, gap lists and
E2SFCA values built on them. A facility farther than ``facility_halo_m`` is left out; a
facility between ``D`` and ``facility_halo_m`` whose best walk is beyond ``D`` cannot make any
core cell's time drop below ``D`` (the straight line is already longer).

What differs from an untiled run:
Tiled runs cap times at the halo: a walk longer than the longest threshold is not computed.
Such cells get ``{c}_walk_min = NaN`` (band ``">T"``, not covered, no nearest facility); cells
that cannot reach any facility at all (no facility on their network piece, or farther than
``max_access_m`` from a street) keep ``inf`` and the band ``"unreachable"``, as untiled. The gap
clusters' ``nearest_walk_min``/``median_walk_min`` therefore ignore the capped cells. Isochrone
polygons are the union of the tiles' polygons (each is exact, so the union is too), but
their outlines may differ from an untiled run by the simplification tolerance or, on the
raster path, by a pixel; overlay shares likewise agree to about 1%. A region that fits in one
task is not tiled at all.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import standards as std
from ._errors import InputError
from ._options import DEFAULT_MAX_CELLS, DEFAULT_MAX_NODES
from ._progress import progress
from .access import Reach, reach
from .analysis import (
    CoverageResult,
    _assign_points,
    _check_layers,
    _compare,
    _snap_layers,
    analyze,
    data_notes,
    supply_mask,
)
from .gaps import gap_clusters, short_communities
from .network import Snapped, WalkNetwork
from .rates import band_labels, community_table, e2sfca, summary, tlabel
from .region import Region
from .scenario import Scenario

__all__ = [
    "DEFAULT_MAX_CELLS",
    "DEFAULT_MAX_NODES",
    "Tile",
    "TileInput",
    "TileOutput",
    "TilePlan",
    "analyze_tile",
    "analyze_tiled",
    "combine_tiles",
    "network_subset",
    "plan_tiles",
    "tile_halo_m",
    "tile_inputs",
]

log = logging.getLogger(__name__)



@dataclass(frozen=True)
class Tile:
    """One square tile: its core box in the network CRS and what it holds."""

    index: int
    row: int
    col: int
    bounds: tuple[float, float, float, float]
    n_nodes: int
    n_cells: int
    n_facilities: int


@dataclass(frozen=True)
class TilePlan:
    """How a region is cut: the tiles to run, their side and halos (metres).

    Attributes
    ----------
    tiles
        Tiles holding cells or facilities (empty ones are not run).
    side_m
        Side of a tile's core.
    halo_m
        Streets are kept to this distance around the core.
    facility_halo_m
        Facilities are kept to this distance around the core.
    longest_walk_m
        ``D``: the longest threshold at the fastest speed; times up to it are exact.
    longest_threshold_min
        The longest threshold (times beyond it are capped in tiled runs).
    """

    tiles: list[Tile]
    side_m: float
    halo_m: float
    facility_halo_m: float
    longest_walk_m: float
    longest_threshold_min: float
    origin: tuple[float, float]
    shape: tuple[int, int]

    @property
    def tiled(self) -> bool:
        """More than one tile (a single tile runs the plain :func:`analyze`).

        Returns
        -------
        bool
            True when the plan has more than one tile.
        """
        return len(self.tiles) > 1


@dataclass
class TileInput:
    """The layers of one tile task (cells carry ``_row``, facilities ``_frow``)."""

    tile: Tile
    network: WalkNetwork
    facilities: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    scenario: Scenario
    e2sfca_categories: tuple[str, ...] = ()


@dataclass
class TileOutput:
    """What a tile task returns: its cells, isochrones and facility→cell reach pairs."""

    tile: Tile
    cells: gpd.GeoDataFrame
    isochrones: gpd.GeoDataFrame
    pairs: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = field(default_factory=dict)
    n_nodes: int = 0
    seconds: float = 0.0


def _rep_points(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """(n, 2) coordinates of each geometry's representative point (points as they are)."""
    g = gdf.geometry.values
    if len(g) == 0:
        return np.empty((0, 2))
    g = np.asarray(g, dtype=object).copy()
    not_point = shapely.get_type_id(g) != 0
    if not_point.any():
        g[not_point] = shapely.point_on_surface(g[not_point])
    out = np.full((len(g), 2), np.nan)
    ok = ~(shapely.is_missing(g) | shapely.is_empty(g))
    if ok.any():
        out[ok] = shapely.get_coordinates(g[ok])
    return out


def _centroids(gdf: gpd.GeoDataFrame) -> np.ndarray:
    """(n, 2) centroid coordinates (NaN for empty geometries)."""
    c = shapely.centroid(np.asarray(gdf.geometry.values, dtype=object))
    return np.c_[shapely.get_x(c), shapely.get_y(c)]


def _cell_radius(cells: gpd.GeoDataFrame) -> float:
    """Largest distance from a cell's centroid to one of its vertices."""
    g = np.asarray(cells.geometry.values, dtype=object)
    if len(g) == 0:
        return 0.0
    cen = shapely.get_coordinates(shapely.centroid(g))
    coords, idx = shapely.get_coordinates(g, return_index=True)
    if len(coords) == 0:
        return 0.0
    return float(np.hypot(*(coords - cen[idx]).T).max())


def tile_halo_m(scenario: Scenario, *, cell_radius_m: float | None = None) -> tuple[float, float]:
    """``(halo_m, facility_halo_m)`` for a scenario (see the module docstring).

    Parameters
    ----------
    scenario
        Thresholds, speeds, ``max_access_m`` and ``isochrone_walkoff_m`` come from it.
    cell_radius_m
        Largest centroid-to-corner distance of the population cells; by default half the
        diagonal of a ``cell_size_m`` square.

    Returns
    -------
    tuple of float
        The halo around a tile's core for cells and network, and the narrower one within which
        facilities are kept, both in metres.

    Examples
    --------
    >>> from care15.scenario import Scenario
    >>> [round(v) for v in tile_halo_m(Scenario())]  # 15 min at 0.9 m/s = 810 m
    [1181, 931]
    """
    a = scenario.analysis
    d = max(scenario.thresholds_min) * 60 * max(scenario.speed_for(c) for c in scenario.categories)
    r = a.cell_size_m * math.sqrt(2) / 2 if cell_radius_m is None else float(cell_radius_m)
    fac = d + a.isochrone_walkoff_m + r
    return fac + a.max_access_m, fac


def _tile_of(xy: np.ndarray, x0: float, y0: float, side: float, nx: int,
             ny: int) -> np.ndarray:
    """Index (row × nx + col) of the tile each point falls in; -1 for NaN points."""
    ok = np.isfinite(xy).all(axis=1)
    col = np.clip(np.floor((xy[:, 0] - x0) / side), 0, nx - 1)
    row = np.clip(np.floor((xy[:, 1] - y0) / side), 0, ny - 1)
    return np.where(ok, row * nx + col, -1).astype(np.int64)


def plan_tiles(network: WalkNetwork, facilities: gpd.GeoDataFrame, cells: gpd.GeoDataFrame,
               scenario: Scenario, *, max_nodes: int = DEFAULT_MAX_NODES,
               max_cells: int = DEFAULT_MAX_CELLS) -> TilePlan:
    """Cut the region into the fewest square tiles whose cores respect the limits.

    Tiles are never made smaller than the halo (a smaller core would hold mostly halo); when
    the limits cannot be met at that size the plan says so in the log and uses it anyway.

    Parameters
    ----------
    network, facilities, cells
        The region's layers (facilities and cells in any CRS).
    scenario
        Gives the halo (:func:`tile_halo_m`).
    max_nodes, max_cells
        Largest number of network nodes / population cells in one tile's core.

    Returns
    -------
    TilePlan
        The tiles (a single one when the region fits the limits), their side and halo.
    """
    if max_nodes < 1 or max_cells < 1:
        raise ValueError(f"max_nodes and max_cells must be >= 1, got {max_nodes}, {max_cells}")
    crs = network.crs
    cells = cells.to_crs(crs)
    cxy = _centroids(cells)
    fxy = _rep_points(facilities.to_crs(crs)) if len(facilities) else np.empty((0, 2))
    halo, fac_halo = tile_halo_m(scenario, cell_radius_m=_cell_radius(cells))
    d = max(scenario.thresholds_min) * 60 * max(scenario.speed_for(c) for c in scenario.categories)
    allx = np.concatenate([network.x, cxy[:, 0], fxy[:, 0]])
    ally = np.concatenate([network.y, cxy[:, 1], fxy[:, 1]])
    x0, y0 = float(np.nanmin(allx)), float(np.nanmin(ally))
    w = max(float(np.nanmax(allx)) - x0, 1.0)
    h = max(float(np.nanmax(ally)) - y0, 1.0)

    nxy = np.c_[network.x, network.y]
    k = 1
    while True:
        side = max(w, h) / k
        nx, ny = max(1, math.ceil(w / side)), max(1, math.ceil(h / side))
        tn, tc, tf = (_tile_of(xy, x0, y0, side, nx, ny) for xy in (nxy, cxy, fxy))
        nn = np.bincount(tn[tn >= 0], minlength=nx * ny)
        nc = np.bincount(tc[tc >= 0], minlength=nx * ny)
        if nn.max() <= max_nodes and nc.max() <= max_cells:
            break
        if max(w, h) / (k + 1) < halo:
            log.warning("tiles cannot be smaller than the %.0f m halo: using %d×%d tiles of "
                            "%.0f m holding up to %d nodes and %d cells (limits %d, %d)",
                        halo, nx, ny, side, nn.max(), nc.max(), max_nodes, max_cells)
            break
        k += 1
    nf = np.bincount(tf[tf >= 0], minlength=nx * ny)
    tiles: list[Tile] = []
    for t in np.flatnonzero((nc > 0) | (nf > 0)):
        r, c = divmod(int(t), nx)
        b = (x0 + c * side, y0 + r * side, x0 + (c + 1) * side, y0 + (r + 1) * side)
        tiles.append(Tile(index=len(tiles), row=r, col=c, bounds=b, n_nodes=int(nn[t]),
                          n_cells=int(nc[t]), n_facilities=int(nf[t])))
    return TilePlan(tiles=tiles, side_m=side, halo_m=halo, facility_halo_m=fac_halo,
                    longest_walk_m=d, longest_threshold_min=float(max(scenario.thresholds_min)),
                    origin=(x0, y0), shape=(ny, nx))


def network_subset(network: WalkNetwork, edges: np.ndarray, *,
                   source: str | None = None) -> tuple[WalkNetwork, np.ndarray]:
    """The network made of some of its edges (whole) and their end nodes.

    Parameters
    ----------
    network
        The whole network.
    edges
        Indices of the edges to keep.
    source
        Description of the sub-network (default: the network's, with the edge count).

    Returns
    -------
    tuple
        The sub-network (edges and nodes in their original order) and, for each of its
        nodes, the node's position in ``network``.
    """
    return network.subnetwork(edges, source=source)  # keeps the edges' entry classes


def _capacity(facilities: pd.DataFrame, category: str) -> np.ndarray:
    col = std.CATEGORIES[category].capacity_column
    idx = np.flatnonzero(supply_mask(facilities, category))
    if col not in facilities.columns:
        return np.full(len(idx), np.nan)
    return pd.to_numeric(facilities[col], errors="coerce").to_numpy(dtype=float)[idx]


def _prepare(network: WalkNetwork, facilities: gpd.GeoDataFrame, cells: gpd.GeoDataFrame,
             communities: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame,
                                                     gpd.GeoDataFrame]:
    _check_layers(facilities, cells, communities)
    crs = network.crs
    cells = cells.to_crs(crs).reset_index(drop=True)
    communities = communities.to_crs(crs).reset_index(drop=True)
    if "community_id" not in cells.columns:  # as analyze does, once for the whole region
        cells = pd.concat([cells, _assign_points(
            gpd.GeoDataFrame(geometry=cells.geometry.centroid, crs=crs), communities)], axis=1)
    cells = cells.copy()
    cells["_row"] = np.arange(len(cells))
    facilities = facilities.reset_index(drop=True).copy()
    facilities["_frow"] = np.arange(len(facilities))
    return facilities, cells, communities


def tile_inputs(plan: TilePlan, network: WalkNetwork, facilities: gpd.GeoDataFrame,
                cells: gpd.GeoDataFrame, communities: gpd.GeoDataFrame,
                scenario: Scenario) -> list[TileInput]:
    """Cut the layers for each tile of a plan (see the module docstring for what goes in).

    Parameters
    ----------
    plan
        The tiles (:func:`plan_tiles`).
    network
        The whole network.
    facilities, cells, communities
        The prepared layers: ``cells`` must carry ``_row`` and ``facilities`` ``_frow`` (as
        :func:`analyze_tiled` prepares them); cells are in the network CRS.
    scenario
        The scenario analysed.

    Returns
    -------
    list of TileInput
        One per tile: its sub-network, facilities, cells and communities.
    """
    crs = network.crs
    x0, y0 = plan.origin
    ny, nx = plan.shape
    cxy = _centroids(cells)
    ok = np.isfinite(cxy).all(axis=1)
    col = np.clip(np.floor((np.where(ok, cxy[:, 0], x0) - x0) / plan.side_m), 0, nx - 1)
    row = np.clip(np.floor((np.where(ok, cxy[:, 1], y0) - y0) / plan.side_m), 0, ny - 1)
    cell_tile = (row * nx + col).astype(np.int64)
    if plan.tiles:  # cells without a centroid (empty geometry) go to the first tile
        first = plan.tiles[0]
        cell_tile[~ok] = first.row * nx + first.col
    fxy = _rep_points(facilities.to_crs(crs)) if len(facilities) else np.empty((0, 2))
    _, tree = network._tree
    e2 = tuple(c for c in scenario.categories
               if np.isfinite(_capacity(facilities, c)).any())
    cap_cols = [std.CATEGORIES[c].capacity_column for c in scenario.categories]
    comm_idx = communities.sindex
    out = []
    for t in plan.tiles:
        bx0, by0, bx1, by1 = t.bounds
        h, fh = plan.halo_m, plan.facility_halo_m
        edges = tree.query(shapely.box(bx0 - h, by0 - h, bx1 + h, by1 + h), predicate="intersects")
        sub, _ = network_subset(network, edges, source=f"{network.source} tile {t.index}")
        fin = ((fxy[:, 0] >= bx0 - fh) & (fxy[:, 0] <= bx1 + fh) &
               (fxy[:, 1] >= by0 - fh) & (fxy[:, 1] <= by1 + fh)) if len(fxy) else \
            np.zeros(0, dtype=bool)
        fac = facilities.loc[fin]
        # capacity-aware access is recomputed for the whole region in combine_tiles
        fac = fac.drop(columns=[c for c in cap_cols if c in fac.columns])
        tc = cells.loc[cell_tile == t.row * nx + t.col]
        ci = comm_idx.query(shapely.box(bx0 - h, by0 - h, bx1 + h, by1 + h),
                            predicate="intersects")
        comm = communities.iloc[np.sort(ci)] if len(ci) else communities.iloc[:1]
        out.append(TileInput(tile=t, network=sub, facilities=fac, cells=tc, communities=comm,
                             scenario=scenario, e2sfca_categories=e2))
    return out


def analyze_tile(inp: TileInput) -> TileOutput:
    """Run :func:`analyze` on one tile; also return the facility→cell pairs E2SFCA needs.

    Parameters
    ----------
    inp
        The tile's layers (:func:`tile_inputs`).

    Returns
    -------
    TileOutput
        The tile's cells, isochrones and E2SFCA pairs, with its run time.
    """
    t0 = time.perf_counter()
    sc = inp.scenario
    res = analyze(Region(name=f"tile {inp.tile.index}", network=inp.network,
                         facilities=inp.facilities, cells=inp.cells,
                         communities=inp.communities), sc)
    pairs: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    rows = res.cells["_row"].to_numpy()
    for c in inp.e2sfca_categories:
        nd = res.node_distances[c]
        frow = inp.facilities["_frow"].to_numpy()[np.flatnonzero(
            supply_mask(inp.facilities.reset_index(drop=True), c))]
        if len(frow) != len(nd.sources):  # pragma: no cover - analyze changed its selection
            raise RuntimeError(f"tile {inp.tile.index}: {c} facilities do not line up "
                               f"({len(frow)} vs {len(nd.sources)})")
        limit = max(sc.thresholds_min) * 60 * sc.speed_for(c)
        if res.cell_snap is None:  # pragma: no cover - analyze always returns it
            raise RuntimeError(f"tile {inp.tile.index}: the cells' network snap is missing")
        r = reach(inp.network, nd.sources, res.cell_snap, limit)
        pairs[c] = (frow[r.rows], rows[r.cols], r.dist_m)
    iso = res.isochrones[["category", "threshold_min", "geometry"]]
    return TileOutput(tile=inp.tile, cells=res.cells, isochrones=iso, pairs=pairs,
                      n_nodes=inp.network.n_nodes, seconds=time.perf_counter() - t0)


def _notes(network: WalkNetwork, cells: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
           csnap: Snapped, fsnap: Snapped, sc: Scenario, plan: TilePlan) -> list[str]:
    """The region-wide findings analyze would report, plus what tiling changes."""
    notes = data_notes(network, cells, facilities, csnap, fsnap, sc)
    notes.append(f"Analysed in {len(plan.tiles)} tiles of {plan.side_m / 1000:.1f} km with a "
                 f"{plan.halo_m:.0f} m halo: walking times up to {tlabel(plan.longest_threshold_min)}"
                 " minutes are exact; longer ones are not computed (shown as blank, band "
                 f"'>{tlabel(plan.longest_threshold_min)}').")
    return notes


def combine_tiles(outputs: list[TileOutput], plan: TilePlan, network: WalkNetwork,
                  facilities: gpd.GeoDataFrame, cells: gpd.GeoDataFrame,
                  communities: gpd.GeoDataFrame, scenario: Scenario) -> CoverageResult:
    """Reassemble tile results into one :class:`CoverageResult` for the whole region.

    ``facilities``, ``cells`` and ``communities`` are the prepared layers given to
    :func:`tile_inputs`. Cells come back in their original order; times beyond the longest
    threshold are capped (module docstring); community tables, summary, gaps, shortfalls and
    E2SFCA are computed on the whole region; isochrones are the union of the tiles'.

    Parameters
    ----------
    outputs
        The tiles' results (:func:`analyze_tile`).
    plan
        The plan they were cut by.
    network
        The whole network.
    facilities, cells, communities
        The prepared layers given to :func:`tile_inputs`.
    scenario
        The scenario analysed.

    Returns
    -------
    CoverageResult
        The whole region's result.
    """
    sc = scenario
    crs = network.crs
    parts = [o.cells for o in outputs if len(o.cells)]
    allc = pd.concat(parts, ignore_index=True) if parts else cells.iloc[:0]
    allc = allc.sort_values("_row", kind="stable").reset_index(drop=True)
    if len(allc) != len(cells) or not np.array_equal(allc["_row"].to_numpy(),
                                                      np.arange(len(cells))):
        raise RuntimeError(f"tiles returned {len(allc)} cells for {len(cells)} in the region")
    allc = gpd.GeoDataFrame(allc.drop(columns="_row"), geometry="geometry", crs=crs)
    max_acc = sc.analysis.max_access_m
    fac = facilities.drop(columns="_frow").copy()
    fac_comm = _assign_points(fac, communities)
    fac["community_id"] = fac_comm["community_id"].to_numpy()
    fac["community_name"] = fac_comm["community_name"].to_numpy()
    csnap, fsnap = _snap_layers(network, allc, fac, max_acc)
    cpiece = allc["network_piece"].to_numpy()
    tmax = plan.longest_threshold_min
    labels = band_labels(sc.thresholds_min)
    edges = np.asarray(sc.thresholds_min, dtype=float)
    pairs_by_c: dict[str, list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
    for o in outputs:
        for c, p in o.pairs.items():
            pairs_by_c.setdefault(c, []).append(p)
    for c in sc.categories:
        idx = np.flatnonzero(supply_mask(fac, c))
        fs = fsnap.subset(idx)
        pieces = np.unique(network.component_of(fs)[fs.ok])
        reachable = csnap.ok & np.isin(cpiece, pieces)
        wm = allc[f"{c}_walk_min"].to_numpy(dtype=float)
        beyond = ~(wm <= tmax)
        wm = np.where(beyond, np.where(reachable, np.nan, np.inf), wm)
        allc[f"{c}_walk_min"] = wm
        bi = np.searchsorted(edges, wm, side="left")
        bi = np.where(np.isnan(wm), len(edges), np.where(np.isfinite(wm), bi, len(edges) + 1))
        allc[f"{c}_band"] = np.asarray(labels, dtype=object)[bi]
        allc[f"{c}_covered"] = wm <= sc.targets.coverage_threshold_min
        near = allc[f"{c}_nearest_facility"].to_numpy(dtype=object).copy()
        near[beyond] = None
        allc[f"{c}_nearest_facility"] = near
        cap = _capacity(fac, c)
        if np.isfinite(cap).any():
            # E2SFCA on the whole region: every (facility, cell) pair within reach comes from
            # the one tile that holds the cell
            ps = pairs_by_c.get(c, [])
            frow = np.concatenate([p[0] for p in ps]) if ps else np.empty(0, np.int64)
            crow = np.concatenate([p[1] for p in ps]) if ps else np.empty(0, np.int64)
            dist = np.concatenate([p[2] for p in ps]) if ps else np.empty(0)
            speed = sc.speed_for(c)
            edges_m = tuple(t * 60 * speed for t in sc.thresholds_min)
            r = Reach(np.searchsorted(idx, frow), crow, dist, (len(idx), len(allc)), edges_m[-1])
            demand = allc[std.CATEGORIES[c].target_group].to_numpy()
            allc[f"{c}_e2sfca_per_1000"] = e2sfca(r, cap, demand, edges_m) * 1000.0
        else:
            allc[f"{c}_e2sfca_per_1000"] = np.nan
    comm = community_table(allc, communities, fac, sc)
    notes = _notes(network, allc, fac, csnap, fsnap, sc, plan)
    empty = comm.loc[comm["pop_total"] <= 0, "community_name"].tolist()
    if empty:
        notes.append(f"{len(empty)} communities have no residents in the population data; "
                     f"their rates are undefined (shown as n/a): {', '.join(map(str, empty[:5]))}"
                     + ("…" if len(empty) > 5 else ""))
    summ = summary(allc, comm, fac, sc)
    other = "overlay" if sc.analysis.coverage_method == "network" else "network"
    summ_other = summary(allc, community_table(allc, communities, fac, sc, method=other), fac, sc,
                         method=other)
    summ["method_comparison"] = _compare(summ, summ_other, sc)
    summ["notes"] = notes
    summ["tiling"] = {"tiles": len(plan.tiles), "side_m": round(plan.side_m, 1),
                      "halo_m": round(plan.halo_m, 1),
                      "times_capped_beyond_min": plan.longest_threshold_min}
    gaps = [gap_clusters(allc, c, threshold_min=sc.targets.coverage_threshold_min,
                         network=network, cell_snap=csnap, speed_mps=sc.speed_for(c))
            for c in sc.categories]
    gaps_all = gpd.GeoDataFrame(pd.concat(gaps, ignore_index=True), geometry="geometry", crs=crs)
    short = pd.concat([short_communities(comm, c, sc) for c in sc.categories], ignore_index=True)
    isos = [o.isochrones for o in outputs if len(o.isochrones)]
    iso_in = pd.concat(isos, ignore_index=True) if isos else pd.DataFrame(
        columns=["category", "threshold_min", "geometry"])
    rows = []
    for c in sc.categories:
        speed = sc.speed_for(c)
        for t in sc.thresholds_min:
            sel = (iso_in["category"] == c).to_numpy() & \
                np.isclose(iso_in["threshold_min"].to_numpy(dtype=float), float(t))
            geoms = np.asarray(iso_in.loc[sel, "geometry"].values, dtype=object)
            g = shapely.union_all(geoms) if len(geoms) else shapely.MultiPolygon()
            rows.append({"category": c, "threshold_min": float(t), "budget_m": t * 60 * speed,
                         "speed_mps": speed, "area_km2": g.area / 1e6, "geometry": g})
    iso_all = gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=crs)
    return CoverageResult(cells=allc, communities=comm, isochrones=iso_all, facilities=fac,
                          gaps=gaps_all, short=short, summary=summ, notes=notes,
                          node_distances={}, cell_snap=csnap)


def analyze_tiled(region: Region, scenario: Scenario | None = None, *,
                  max_nodes: int = DEFAULT_MAX_NODES, max_cells: int = DEFAULT_MAX_CELLS,
                  client: Any = None, verbose: bool = False,
                  cache: bool | str | Path | None = None,
                  plan: TilePlan | None = None) -> CoverageResult:
    """:func:`care15.analysis.analyze`, split into tiles when the region is too large.

    Parameters
    ----------
    region
        The study area's layers, as for :func:`~care15.analysis.analyze`.
    scenario
        Thresholds, speeds, targets; defaults to ``Scenario()``.
    max_nodes, max_cells
        Largest network nodes / population cells in one tile's core (:func:`plan_tiles`).
    client
        A ``dask.distributed`` client: tiles run as its tasks (their layers are scattered
        first). Without one they run here, one after the other.
    verbose
        Show progress on stderr.
    cache
        Passed to :func:`~care15.analysis.analyze` when one tile suffices.
    plan
        A ready plan (default :func:`plan_tiles`).

    Returns
    -------
    CoverageResult
        The plain :func:`analyze` result when one tile suffices; otherwise the reassembled
        result, with walking times beyond the longest threshold capped (module docstring) and
        ``summary["tiling"]`` describing the tiles. ``node_distances`` is empty.

    Raises
    ------
    InputError
        When the population layer is empty.
    """
    network, facilities = region.network, region.facilities
    cells, communities = region.cells, region.communities
    sc = scenario or Scenario()
    if len(cells) == 0:
        raise InputError("population cells: the layer is empty; nothing to analyse")
    plan = plan or plan_tiles(network, facilities, cells, sc, max_nodes=max_nodes,
                              max_cells=max_cells)
    if not plan.tiled:
        return analyze(region, sc, verbose=verbose, cache=cache)
    fac, cel, comm = _prepare(network, facilities, cells, communities)
    inputs = tile_inputs(plan, network, fac, cel, comm, sc)
    log.info("%s: %d tiles of %.0f m (halo %.0f m)", network.source, len(inputs), plan.side_m,
             plan.halo_m)
    if client is None:
        outputs = [analyze_tile(i) for i in progress(inputs, verbose=verbose, desc="tiles",
                                                     total=len(inputs))]
    else:
        from distributed import as_completed

        futs = client.map(analyze_tile, client.scatter(inputs), pure=False)
        for _ in progress(as_completed(futs), verbose=verbose, desc="tiles", total=len(futs)):
            pass
        outputs = client.gather(futs)
    return combine_tiles(outputs, plan, network, fac, cel, comm, sc)
