"""The whole access analysis: travel times, isochrones, coverage tables, E2SFCA and gaps.

:func:`analyze` takes a :class:`~care15.region.Region` (a walking network, facilities,
population cells and communities) and a :class:`~care15.scenario.Scenario`, and returns a
:class:`CoverageResult` whose tables a notebook can inspect, change and pass on;
:func:`summary_table` turns its headline figures into a tidy DataFrame.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import standards as std
from ._errors import InputError
from ._progress import step
from .access import NodeDistances
from .category import CategoryAccess, category_access, field_grid, isochrone_builder
from .gaps import GAP_COLUMNS, GapPairs, gap_clusters, gap_table, short_communities
from .network import Snapped, WalkNetwork
from .rates import (
    GROUPS,
    CellGroups,
    _group_key,
    _jsonable,
    category_summary,
    cell_table,
    community_base,
    covered_shares,
    set_cell_columns,
    set_community_columns,
)
from .region import Region
from .scenario import Scenario

__all__ = [
    "CoverageResult",
    "analyze",
    "data_notes",
    "overlay_shares",
    "refresh_tables",
    "summary_table",
    "supply_mask",
]

log = logging.getLogger(__name__)


@dataclass
class CoverageResult:
    """Everything :func:`analyze` produces.

    The spatial tables are in the network's local metric CRS (``region.network.crs``, a UTM
    zone), except ``facilities``, which keep the CRS they came in (EPSG:4326 from the loaders);
    :func:`care15.export.write_tables` writes every table in EPSG:4326 (plus the planner's
    GCJ-02/BD-09 columns when asked).

    Attributes
    ----------
    cells
        Population cells with walking minutes, bands, coverage flags per category (metric CRS).
    communities
        Community table (see :mod:`care15.rates` for the column definitions; metric CRS).
    isochrones
        Dissolved isochrones, one row per category × threshold (metric CRS); made when first
        read, from the isochrone fields (``iso_builder``), when ``None`` is given.
    facilities
        Facilities with their snapping diagnostics (``access_m``, ``on_network``,
        ``network_piece``, ``community_id``), in their input CRS.
    gaps
        Gap clusters of all categories, ranked within each category (metric CRS).
    short
        Communities short of the coverage target, worst first, all categories.
    summary
        Headline figures (JSON-serialisable), including the network vs overlay comparison.
    notes
        Plain-language findings about the data (no facility, disconnected pieces, cells far
        from streets, communities without residents...).
    node_distances
        Walking metres from every network node to the nearest facility, per category (empty
        after a tiled analysis).
    cell_snap
        Where each cell centre joins the network.
    iso_builder
        Makes the isochrone table on first access (see :mod:`care15.isofield`).
    gap_pairs
        Per category, the pairs of gap cells within a walk of each other that the closing
        sites were found from (:class:`care15.gaps.GapPairs`); :func:`refresh_tables` reuses
        them. Kept by a :class:`care15.Plan` (``finish(..., keep_pairs=True)``) and by
        :func:`refresh_tables`; empty after a plain :func:`analyze` (which sums the closing
        sites' cover during the searches instead), for gaps from the on-disk cache or a tiled
        analysis.
    """

    cells: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    isochrones: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    gaps: gpd.GeoDataFrame
    short: pd.DataFrame
    summary: dict[str, Any]
    notes: list[str] = field(default_factory=list)
    node_distances: dict[str, NodeDistances] = field(default_factory=dict, repr=False)
    cell_snap: Snapped | None = field(default=None, repr=False)
    gap_pairs: dict[str, GapPairs] = field(default_factory=dict, repr=False)
    iso_builder: Callable[[], gpd.GeoDataFrame] | None = field(default=None, repr=False,
                                                               compare=False)


def _get_isochrones(self: CoverageResult) -> gpd.GeoDataFrame:
    iso = self.__dict__.get("isochrones")
    if iso is None and self.iso_builder is not None:
        iso = self.__dict__["isochrones"] = self.iso_builder()
    return iso


def _set_isochrones(self: CoverageResult, value: gpd.GeoDataFrame | None) -> None:
    self.__dict__["isochrones"] = value


# the isochrone polygons are made when first read (drawn or exported), not by analyze itself
CoverageResult.isochrones = property(_get_isochrones, _set_isochrones)


OVERLAY_VECTOR_MAX_CELLS = 5_000


def _square_grid(geoms: np.ndarray) -> float | None:
    """Side of the cells when they are equal axis-aligned squares, else None."""
    b = shapely.bounds(geoms)
    w = b[:, 2] - b[:, 0]
    h = b[:, 3] - b[:, 1]
    side = float(np.median(w)) if len(w) else 0.0
    if side <= 0 or not (np.allclose(w, side, rtol=1e-6) and np.allclose(h, side, rtol=1e-6)):
        return None
    if not np.allclose(shapely.area(geoms), side * side, rtol=1e-6):
        return None
    return side


def _overlay_raster(geoms: np.ndarray, polygon: shapely.Geometry, side: float,
                    sub: int) -> np.ndarray:
    from rasterio import features
    from rasterio.transform import from_origin

    b = shapely.bounds(geoms)
    x0, y0 = b[:, 0].min(), b[:, 1].min()
    ncol = int(np.round((b[:, 2].max() - x0) / side))
    nrow = int(np.round((b[:, 3].max() - y0) / side))
    y1 = y0 + nrow * side
    px = side / sub
    mask = features.rasterize([(polygon, 1)], out_shape=(nrow * sub, ncol * sub),
                              transform=from_origin(x0, y1, px, px), dtype="uint8")
    share: np.ndarray = mask.reshape(nrow, sub, ncol, sub).mean(axis=(1, 3))
    col = np.round((b[:, 0] - x0) / side).astype(np.int64)
    row = np.round((y1 - b[:, 3]) / side).astype(np.int64)
    return np.asarray(share[row, col], dtype=float)


def overlay_shares(cells: gpd.GeoDataFrame, polygon: shapely.Geometry, *,
                   tile_m: float = 1000.0, method: str = "auto", subpixels: int = 10) -> np.ndarray:
    """Share of each cell's area inside ``polygon`` (the desktop-GIS overlay method).

    ``method="vector"`` intersects each cell with the polygon (cut into ``tile_m`` tiles first
    so that each cell meets a small piece only): exact. ``method="raster"``, for grids of equal
    axis-aligned squares, rasterises the polygon at ``subpixels × subpixels`` samples per cell
    and averages them (zonal mean; within about 1% per cell). ``"auto"`` uses raster for
    square grids of more than 5,000 cells, vector otherwise.

    Parameters
    ----------
    cells
        Cell polygons (in the polygon's metric CRS).
    polygon
        The isochrone (or any area), in the cells' CRS.
    tile_m
        Tile side used to cut the polygon for the vector method, metres.
    method
        ``"auto"``, ``"vector"`` or ``"raster"``.
    subpixels
        Samples per cell side for the raster method.

    Returns
    -------
    numpy.ndarray
        Share in [0, 1] of each cell's area inside the polygon.

    Raises
    ------
    ValueError
        For an unknown ``method``.
    """
    geoms = cells.geometry.values
    if polygon is None or polygon.is_empty or len(geoms) == 0:
        return np.zeros(len(geoms))
    if method not in ("auto", "vector", "raster"):
        raise ValueError(f"method {method!r} is not one of ('auto', 'vector', 'raster')")
    side = _square_grid(geoms) if method != "vector" else None
    if side is not None and (method == "raster" or len(geoms) > OVERLAY_VECTOR_MAX_CELLS):
        return _overlay_raster(geoms, polygon, side, subpixels)
    x0, y0, x1, y1 = polygon.bounds
    xs = np.arange(x0, x1 + tile_m, tile_m)
    ys = np.arange(y0, y1 + tile_m, tile_m)
    gx, gy = np.meshgrid(xs[:-1], ys[:-1]) if len(xs) > 1 and len(ys) > 1 else (
        np.array([[x0]]), np.array([[y0]]))
    tiles = shapely.box(gx.ravel(), gy.ravel(), gx.ravel() + tile_m, gy.ravel() + tile_m)
    pieces = shapely.intersection(polygon, tiles)
    pieces = pieces[~shapely.is_empty(pieces)]
    tree = shapely.STRtree(pieces)
    area = shapely.area(geoms)
    # cells wholly inside one piece need no intersection
    wi, _ = tree.query(geoms, predicate="within")
    inside = np.zeros(len(geoms), dtype=bool)
    inside[wi] = True
    a, b = tree.query(geoms, predicate="intersects")
    k = ~inside[a]
    a, b = a[k], b[k]
    inter = shapely.area(shapely.intersection(geoms[a], pieces[b]))
    covered = np.bincount(a, weights=inter, minlength=len(geoms))
    covered[inside] = area[inside]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(area > 0, covered / area, 0.0)
    return np.clip(share, 0.0, 1.0)


def _assign_points(points: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> pd.DataFrame:
    if len(points) == 0:
        return pd.DataFrame({"community_id": pd.Series(dtype=object),
                             "community_name": pd.Series(dtype=object)})
    pts = points.to_crs(communities.crs)
    j = gpd.sjoin(pts[["geometry"]], communities[["community_id", "community_name", "geometry"]],
                  how="left", predicate="intersects")
    j = j[~j.index.duplicated(keep="first")]
    return pd.DataFrame({"community_id": j["community_id"].fillna("_outside").to_numpy(),
                         "community_name": j["community_name"].fillna(
                             "(outside communities / 社区范围外)").to_numpy()},
                        index=points.index)


def _snap_layers(network: WalkNetwork, cells: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
                 max_access_m: float, *, cache: bool | str | Path | None = None,
                 centres: gpd.GeoSeries | None = None) -> tuple[Snapped, Snapped]:
    """Snap cell centres and facilities to the network where pedestrians can enter it.

    Adds ``access_m``, ``on_network`` and ``network_piece`` to both frames (in place); the
    returned :class:`Snapped` carry ``snap_class``/``skipped_class`` (see care15.network).
    ``cache`` reuses the cells' snap from disk (a what-if changes facilities, not the
    population grid). ``centres``: the cells' centroids when already made.
    """
    centres = gpd.GeoDataFrame(geometry=cells.geometry.centroid if centres is None else centres,
                               crs=cells.crs)
    from .cache import cache_dir_of

    use_cache, cache_dir = cache_dir_of(cache)
    if use_cache:
        from .cache import cached_snap_gdf

        csnap = cached_snap_gdf(network, centres, max_access_m=max_access_m,
                                cache_dir=cache_dir)
    else:
        csnap = network.snap_gdf(centres, max_access_m=max_access_m)
    fsnap = network.snap_gdf(facilities, max_access_m=max_access_m) if len(facilities) \
        else network.snap(np.empty(0), np.empty(0))
    for df, sn in ((cells, csnap), (facilities, fsnap)):
        df["access_m"] = sn.access_m
        df["on_network"] = sn.ok
        df["network_piece"] = network.component_of(sn)
    return csnap, fsnap


def supply_mask(facilities: pd.DataFrame, category: str) -> np.ndarray:
    """The facilities that count as supply of a category.

    Parameters
    ----------
    facilities
        Facilities with ``category`` (and ``counts_as_supply``, True where missing).
    category
        ``"elderly"`` or ``"childcare"``.

    Returns
    -------
    numpy.ndarray
        Boolean mask over the rows.
    """
    sel: np.ndarray = (facilities["category"] == category).to_numpy()
    if "counts_as_supply" in facilities.columns:
        sel = sel & facilities["counts_as_supply"].fillna(True).astype(bool).to_numpy()
    return sel


def data_notes(network: WalkNetwork, cells: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
               csnap: Snapped, fsnap: Snapped, scenario: Scenario) -> list[str]:
    """What the snapping found about the data, in plain language (one text for every path).

    Parameters
    ----------
    network
        The walking network.
    cells
        Population cells (``pop_total``), in the order of ``csnap``.
    facilities
        Facilities (``category``, ``facility_id``, ``name``), in the order of ``fsnap``.
    csnap, fsnap
        Where the cells' centres and the facilities join the network.
    scenario
        Its categories and ``max_access_m``.

    Returns
    -------
    list of str
        Cells and facilities too far from an enterable street, disconnected pieces, points the
        entry rules moved or left on small pieces, categories without a reachable facility.
    """
    notes: list[str] = []
    max_acc = scenario.analysis.max_access_m
    off = ~csnap.ok
    if off.any():
        notes.append(f"{int(off.sum())} population cells ({cells.loc[off, 'pop_total'].sum():,.0f} "
                     f"residents) are more than {max_acc:.0f} m from any walkable street a "
                     "pedestrian can enter (tunnels and indoor ways do not count); they are not "
                     "attached across rivers or blocks and count as not covered.")
    if network.n_components > 1:
        piece = network.component_of(csnap)
        pop_piece = cells.loc[csnap.ok].groupby(piece[csnap.ok])["pop_total"].sum()
        main_share = pop_piece.get(0, 0.0) / max(cells["pop_total"].sum(), 1e-9)
        notes.append(f"The street network has {network.n_components} disconnected pieces; the "
                     f"largest holds {int((network.component == 0).sum()):,} of "
                     f"{network.n_nodes:,} nodes and {main_share:.1%} of residents.")
    names = (facilities["name"].where(facilities["name"].notna(), facilities["facility_id"])
             if "name" in facilities.columns else facilities["facility_id"]).astype(str)
    fac_off = ~fsnap.ok
    if fac_off.any():
        notes.append(f"{int(fac_off.sum())} facilities are more than {max_acc:.0f} m from any "
                     f"walkable street and are left out: "
                     f"{', '.join(names[fac_off].head(5).tolist())}")
    notes.extend(network.entry_notes(csnap, fsnap, cell_pop=cells["pop_total"].to_numpy(),
                                     facility_names=names.tolist()))
    for c in scenario.categories:
        cat = std.CATEGORIES[c]
        idx = np.flatnonzero(supply_mask(facilities, c))
        if len(idx) == 0:
            notes.append(f"No {cat.label_en.lower()} facility ({cat.label_zh}) in the data: "
                         "every resident is a gap (0% coverage).")
        elif not fsnap.subset(idx).ok.any():
            notes.append(f"None of the {len(idx)} {cat.label_en.lower()} facilities is within "
                         f"{max_acc:.0f} m of a street: every resident is a gap.")
    return notes


def _check_layers(facilities: gpd.GeoDataFrame, cells: gpd.GeoDataFrame,
                  communities: gpd.GeoDataFrame) -> None:
    problems = []
    for name, df, cols in (("facilities", facilities, ("category", "facility_id")),
                           ("population cells", cells, tuple(GROUPS.values())),
                           ("communities", communities, ("community_id", "community_name"))):
        if df.crs is None:
            problems.append(f"{name}: no CRS; set it with .set_crs(...)")
        missing = [c for c in cols if c not in df.columns]
        if missing:
            problems.append(f"{name}: missing columns {missing}; has {list(df.columns)}")
    if problems:
        raise InputError("cannot analyse:\n  - " + "\n  - ".join(problems))


def analyze(region: Region, scenario: Scenario | None = None, *, verbose: bool = False,
            cache: bool | str | Path | None = None) -> CoverageResult:
    """Run travel times, isochrones, coverage tables, E2SFCA and gap lists for a region.

    Parameters
    ----------
    region
        The study area's layers (:func:`~care15.region.region_from_scenario`, or a
        :class:`~care15.region.Region` built by hand): the walking network; facilities
        (``facility_id``, ``category``, ``subtype``, ``beds``, ``places``, ``floor_area_m2``,
        ``counts_as_supply``), population cells (``cell_id``, ``pop_total``, ``pop_60plus``,
        ``pop_0to3``) and community polygons (``community_id``, ``community_name``), each in
        any CRS.
    scenario
        Thresholds, speeds, targets; defaults to ``Scenario()``.
    verbose
        Show progress on stderr.
    cache
        ``True`` (default folder) or a folder: reuse the population cells' snap to the network
        from the on-disk cache (:mod:`care15.cache`), keyed by the network's content, the
        cells' geometry and ``max_access_m``; a what-if that changes only facilities skips it.

    Returns
    -------
    CoverageResult
        Tables in the network's metric CRS (``region.network.crs``); :mod:`care15.export`
        writes them in EPSG:4326.

    Raises
    ------
    InputError
        When a layer has no CRS, lacks a required column or has NaN or negative residents.

    Examples
    --------
    >>> import care15
    >>> sc = care15.demo_scenario()
    >>> res = care15.analyze(care15.region_from_scenario(sc), sc)
    >>> float(res.cells["pop_total"].sum())
    20000.0
    >>> 0.0 <= res.summary["categories"]["elderly"]["target_share"] <= 1.0
    True
    """
    sc = scenario or Scenario()
    prep = prepare(region, sc, verbose=verbose, cache=cache)
    acc = {c: category_access(prep.network, prep.facilities, prep.fsnap, prep.csnap, prep.cells,
                              c, sc, prep.grid, verbose=verbose) for c in sc.categories}
    return finish(prep, prep.facilities, prep.fsnap, acc, sc, verbose=verbose, cache=cache)


@dataclass
class Prepared:
    """A region's layers made ready for :func:`analyze`: in one CRS, joined, snapped.

    Attributes
    ----------
    network
        The walking network.
    cells
        Population cells in the network's CRS, with their community.
    communities
        Communities in the network's CRS.
    facilities
        Facilities (input CRS) with their community and snapping diagnostics.
    csnap, fsnap
        Where cells' centres and facilities join the network.
    grid
        The pixel grid of the isochrone fields.
    """

    network: WalkNetwork
    cells: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    facilities: gpd.GeoDataFrame
    csnap: Snapped
    fsnap: Snapped
    grid: Any


def prepare(region: Region, sc: Scenario, *, verbose: bool = False,
            cache: bool | str | Path | None = None) -> Prepared:
    """Check the layers, put them in the network's CRS, join communities and snap.

    Parameters
    ----------
    region
        The study area's layers.
    sc
        The scenario.
    verbose
        Progress on stderr.
    cache
        Reuse the cells' snap from the on-disk cache (see :func:`analyze`).

    Returns
    -------
    Prepared
        What every category's access is computed from.

    Raises
    ------
    InputError
        When a layer has no CRS, lacks a required column or has NaN or negative residents.
    """
    network, facilities = region.network, region.facilities
    cells, communities = region.cells, region.communities
    _check_layers(facilities, cells, communities)
    crs = network.crs
    cells = cells.to_crs(crs).reset_index(drop=True)
    communities = communities.to_crs(crs).reset_index(drop=True)
    facilities = facilities.reset_index(drop=True).copy()
    bad_pop = [c for c in GROUPS.values() if cells[c].isna().any() or (cells[c] < 0).any()]
    if bad_pop:
        raise InputError(f"population cells: NaN or negative values in {bad_pop}; "
                         "fix the population layer (see population_from_* loaders)")
    centres = cells.geometry.centroid  # made once: joined to communities, then snapped
    if "community_id" not in cells.columns:
        cells = pd.concat([cells, _assign_points(
            gpd.GeoDataFrame(geometry=centres, crs=crs), communities)], axis=1)
    fac_comm = _assign_points(facilities, communities)
    facilities["community_id"] = fac_comm["community_id"].to_numpy()
    facilities["community_name"] = fac_comm["community_name"].to_numpy()
    with step("snapping cells and facilities to the network", verbose=verbose):
        csnap, fsnap = _snap_layers(network, cells, facilities, sc.analysis.max_access_m,
                                    cache=cache, centres=centres)
    grid = field_grid(network, cells, sc.analysis.isochrone_walkoff_m)
    from .cache import cache_dir_of

    on, cache_dir = cache_dir_of(cache)
    if on:  # the streets sampled on this grid: once per network, kept on disk
        from .cache import cached_street_samples

        cached_street_samples(network, grid, cache_dir=cache_dir)
    return Prepared(network, cells, communities, facilities, csnap, fsnap, grid)


def finish(prep: Prepared, facilities: gpd.GeoDataFrame, fsnap: Snapped,
           acc: dict[str, CategoryAccess], sc: Scenario, *, verbose: bool = False,
           cache: bool | str | Path | None = None, snapshot: bool = False,
           keep_pairs: bool = False) -> CoverageResult:
    """The coverage tables from every category's access.

    Parameters
    ----------
    prep
        The prepared layers.
    facilities
        The facilities (those of ``prep``, or a plan's edited list), in the order of ``fsnap``.
    fsnap
        Where they join the network.
    acc
        Each category's access (:func:`care15.category.category_access`).
    sc
        The scenario.
    verbose
        Progress on stderr.
    cache
        Reuse gap clusters from the on-disk cache.
    snapshot
        Copy the isochrone fields for the result (when they will be edited, as a plan does).
    keep_pairs
        Keep the pairs of gap cells within a walk of each other on the result
        (:attr:`CoverageResult.gap_pairs`), for a plan's edits to reuse; without them the
        closing sites are summed during the searches, which is faster and gives the same
        numbers.

    Returns
    -------
    CoverageResult
        The tables, with the isochrones made on first access.
    """
    network, communities, csnap = prep.network, prep.communities, prep.csnap
    crs = network.crs
    notes = data_notes(network, prep.cells, facilities, csnap, fsnap, sc)
    for a in acc.values():
        notes.extend(a.notes)
    walk_min = {c: a.walk_min for c, a in acc.items()}
    nearest_id = {c: a.nearest_id for c, a in acc.items()}
    overlay = {c: a.overlay for c, a in acc.items()}
    e2 = {c: a.e2sfca_per_1000 for c, a in acc.items()}
    nds = {c: a.nd for c, a in acc.items()}
    cells = cell_table(prep.cells, walk_min, nearest_id, sc.thresholds_min,
                       sc.targets.coverage_threshold_min, overlay_share=overlay,
                       e2sfca_per_1000=e2)
    with step("community tables", verbose=verbose):
        comm = community_base(cells, communities, sc)
    result = CoverageResult(cells=cells, communities=comm, isochrones=None,
                            facilities=facilities, gaps=_empty_gaps(crs), short=pd.DataFrame(),
                            summary={}, notes=notes, node_distances=nds, cell_snap=csnap,
                            iso_builder=isochrone_builder(list(acc.values()), crs,
                                                          cache=cache, snapshot=snapshot))
    return _tail(result, network, sc, sc.categories, notes=notes, gap_cache=cache,
                 verbose=verbose, keep_pairs=keep_pairs)


def refresh(previous: CoverageResult, prep: Prepared, facilities: gpd.GeoDataFrame,
            fsnap: Snapped, acc: dict[str, CategoryAccess], sc: Scenario,
            changed: tuple[str, ...], *, verbose: bool = False) -> CoverageResult:
    """:func:`finish` after only the categories in ``changed`` got new access (a plan's edit).

    The other categories' cell and community columns, summary entries, gaps (and the pairs
    of gap cells their closing sites came from) and short lists are taken from
    ``previous``; the result equals :func:`finish` on the same access.

    Parameters
    ----------
    previous
        The result before the change.
    prep
        The prepared layers.
    facilities
        The facilities after the change, in the order of ``fsnap``.
    fsnap
        Where they join the network.
    acc
        Every category's access after the change.
    sc
        The scenario.
    changed
        The categories whose facilities changed.
    verbose
        Progress on stderr.

    Returns
    -------
    CoverageResult
        The tables after the change.
    """
    network, csnap = prep.network, prep.csnap
    notes = data_notes(network, prep.cells, facilities, csnap, fsnap, sc)
    for a in acc.values():
        notes.extend(a.notes)
    cells = previous.cells.copy()
    for c in changed:
        a = acc[c]
        set_cell_columns(cells, c, a.walk_min, a.nearest_id, sc.thresholds_min,
                         sc.targets.coverage_threshold_min, overlay_share=a.overlay,
                         e2sfca_per_1000=a.e2sfca_per_1000)
    base = _replace(previous, cells=cells, communities=previous.communities.copy(),
                    facilities=facilities, node_distances={c: a.nd for c, a in acc.items()},
                    isochrones=None,
                    iso_builder=isochrone_builder(list(acc.values()), network.crs))
    return _tail(base, network, sc, changed, notes=notes, gap_cache=None, verbose=verbose)


def _replace(result: CoverageResult, **changes: Any) -> CoverageResult:
    """``dataclasses.replace`` that keeps isochrones not yet made unmade."""
    if "isochrones" not in changes:
        changes["isochrones"] = result.__dict__.get("isochrones")
    return replace(result, **changes)


def _gap_clusters(cells: gpd.GeoDataFrame, category: str, *, threshold_min: float,
                  network: Any, cell_snap: Any, speed_mps: float,
                  cache: bool | str | Path | None) -> gpd.GeoDataFrame:
    """:func:`care15.gaps.gap_clusters`, through the on-disk cache when it is on."""
    from .cache import cache_dir_of, cached_gap_clusters

    on, cache_dir = cache_dir_of(cache)
    if not on:
        return gap_clusters(cells, category, threshold_min=threshold_min, network=network,
                            cell_snap=cell_snap, speed_mps=speed_mps)
    return cached_gap_clusters(cells, category, threshold_min=threshold_min, network=network,
                               cell_snap=cell_snap, speed_mps=speed_mps, cache_dir=cache_dir)


def _compare(a: dict[str, Any], b: dict[str, Any], sc: Scenario) -> dict[str, Any]:
    """Difference in covered shares between the two counting methods, per category/threshold."""
    out: dict[str, Any] = {"primary": a["coverage_method"], "other": b["coverage_method"]}
    for c in sc.categories:
        out[c] = _compare_category(a["categories"][c]["thresholds"],
                                   b["categories"][c]["thresholds"], a["coverage_method"],
                                   b["coverage_method"])
    return out


def _compare_category(ta: dict[str, Any], tb: dict[str, Any], ma: str, mb: str
                      ) -> dict[str, Any]:
    """:func:`_compare` for one category: ``ta``/``tb`` are threshold → group → share rows."""
    rows = {}
    for t in ta:
        ra, rb = ta[t], tb[t]
        rows[t] = {g: (None if ra[g]["share"] is None else
                       {ma: ra[g]["share"], mb: rb[g]["share"],
                        "difference": rb[g]["share"] - ra[g]["share"]})
                   for g in GROUPS}
    return rows


def _empty_gaps(crs: Any) -> gpd.GeoDataFrame:
    """The gap table of a category without gaps (as :func:`care15.gaps.gap_clusters`)."""
    return gpd.GeoDataFrame({c: [] for c in GAP_COLUMNS}, geometry="geometry", crs=crs)


def _category_tables(c: str, cells: gpd.GeoDataFrame, comm: gpd.GeoDataFrame,
                     groups: CellGroups, facilities: gpd.GeoDataFrame, network: WalkNetwork,
                     sc: Scenario, cell_snap: Snapped | None, residents: dict[str, float], *,
                     pairs: GapPairs | None, gap_cache: bool | str | Path | None,
                     verbose: bool, keep_pairs: bool = True) -> dict[str, Any]:
    """Everything the tables hold for one category, from cells that hold its columns.

    Writes the category's community columns into ``comm`` (in place) and returns its summary
    entry, its method comparison, its gap clusters (with their :class:`GapPairs`) and its
    communities short of target.
    """
    primary = sc.analysis.coverage_method
    other = "overlay" if primary == "network" else "network"
    set_community_columns(comm, cells, groups, facilities, sc, c, method=primary)
    summ_c = _jsonable(category_summary(cells, comm, facilities, sc, c, method=primary,
                                        residents=residents))
    cmp_c = _compare_category(summ_c["thresholds"],
                              _jsonable(covered_shares(cells, sc, c, other)), primary, other)
    t_min = sc.targets.coverage_threshold_min
    with step("gaps and their closing sites", verbose=verbose):
        if pairs is None and gap_cache not in (None, False):
            gaps, new_pairs = _gap_clusters(cells, c, threshold_min=t_min, network=network,
                                            cell_snap=cell_snap, speed_mps=sc.speed_for(c),
                                            cache=gap_cache), None
        else:
            gaps, new_pairs = gap_table(cells, c, threshold_min=t_min, network=network,
                                        cell_snap=cell_snap, speed_mps=sc.speed_for(c),
                                        previous=pairs, keep_pairs=keep_pairs)
    return {"summary": summ_c, "comparison": cmp_c, "gaps": gaps, "pairs": new_pairs,
            "short": short_communities(comm, c, sc)}


def _tail(result: CoverageResult, network: WalkNetwork, sc: Scenario, changed: tuple[str, ...],
          *, notes: list[str] | None, gap_cache: bool | str | Path | None,
          verbose: bool, keep_pairs: bool = True) -> CoverageResult:
    """The tables after the cells' category columns: communities, summary, gaps, short list.

    ``result`` holds the cell table (with every category's columns), the community table
    (its facility-independent columns, plus the columns of categories not in ``changed``),
    the facilities and, for categories not in ``changed``, their summary entries, method
    comparisons, gap rows, gap pairs and short-list rows. The categories in ``changed`` are
    computed anew; the others are taken from ``result``. ``notes`` are the notes before the
    tables (the tables add the one about communities without residents); None keeps
    ``result.notes``. ``keep_pairs``: keep the changed categories' gap pairs (see
    :func:`finish`).
    """
    cells, facilities, crs = result.cells, result.facilities, result.cells.crs
    comm = result.communities
    groups = CellGroups(cells["community_id"], comm["community_id"])
    residents = {g: float(cells[col].sum()) for g, col in GROUPS.items()}
    new = {c: _category_tables(c, cells, comm, groups, facilities, network, sc,
                               result.cell_snap, residents, pairs=result.gap_pairs.get(c),
                               gap_cache=gap_cache, verbose=verbose, keep_pairs=keep_pairs)
           for c in changed}
    if notes is None:
        notes = list(result.notes)
    else:
        empty = comm.loc[comm["pop_total"] <= 0, "community_name"].tolist()
        if empty:
            notes.append(f"{len(empty)} communities have no residents in the population data; "
                         f"their rates are undefined (shown as n/a): "
                         f"{', '.join(map(str, empty[:5]))}" + ("…" if len(empty) > 5 else ""))
    primary = sc.analysis.coverage_method
    other = "overlay" if primary == "network" else "network"
    prev = result.summary
    summ: dict[str, Any] = _jsonable({
        "coverage_method": primary, "thresholds_min": list(sc.thresholds_min),
        "coverage_threshold_min": sc.targets.coverage_threshold_min, "residents": residents,
        "n_cells": len(cells), "n_communities": len(comm), "categories": {}})
    cmp: dict[str, Any] = {"primary": primary, "other": other}
    gaps, short, pairs = [], [], {}
    for c in sc.categories:
        if c in new:
            summ["categories"][c] = new[c]["summary"]
            cmp[c] = new[c]["comparison"]
            gaps.append(new[c]["gaps"])
            short.append(new[c]["short"])
            if new[c]["pairs"] is not None:
                pairs[c] = new[c]["pairs"]
        else:
            summ["categories"][c] = prev["categories"][c]
            cmp[c] = prev["method_comparison"][c]
            g = result.gaps.loc[result.gaps["category"] == c]
            gaps.append(g.reset_index(drop=True) if len(g) else _empty_gaps(crs))
            short.append(result.short.loc[result.short["category"] == c])
            if c in result.gap_pairs:
                pairs[c] = result.gap_pairs[c]
    summ["method_comparison"] = cmp
    summ["notes"] = notes
    gaps_all = gpd.GeoDataFrame(pd.concat(gaps, ignore_index=True), geometry="geometry", crs=crs)
    short_all = pd.concat(short, ignore_index=True)
    return _replace(result, communities=comm, gaps=gaps_all, short=short_all, summary=summ,
                    notes=notes, gap_pairs=pairs)


def refresh_tables(result: CoverageResult, network: WalkNetwork, scenario: Scenario,
                   changed_category: str, *, facilities: gpd.GeoDataFrame,
                   walk_min: np.ndarray, nearest_id: np.ndarray,
                   overlay_share: dict[float, np.ndarray], e2sfca_per_1000: np.ndarray,
                   notes: list[str] | None = None,
                   isochrones: gpd.GeoDataFrame | None = None,
                   node_distances: NodeDistances | None = None,
                   verbose: bool = False) -> CoverageResult:
    """The tables of ``result`` after one category's facilities changed (a what-if).

    Only what the category affects is computed again: its cell columns, its community
    columns, its summary entry and method comparison, its gap clusters (the closing-site
    searches run only from cells that became gaps, see :func:`care15.gaps.gap_pairs`) and its
    communities short of target. Every table equals what :func:`analyze` returns for the new
    facilities (the same code makes them).

    Parameters
    ----------
    result
        The analysis before the change (:func:`analyze`, or an earlier refresh).
    network
        The walking network of that analysis.
    scenario
        Its scenario.
    changed_category
        The category whose facilities changed.
    facilities
        The new facility table as :func:`analyze` prepares it (``result.facilities``'
        columns: ``community_id``, ``community_name``, ``access_m``, ``on_network``,
        ``network_piece``), every category.
    walk_min, nearest_id
        The category's walking minutes and nearest facility id per cell, in the order of
        ``result.cells``.
    overlay_share
        Per threshold (minutes), the share of each cell's area inside the new isochrone.
    e2sfca_per_1000
        The cells' new E2SFCA capacity per 1,000 target residents.
    notes
        The notes :func:`analyze` collects before its tables (data notes and the categories'
        notes) for the new facilities; None keeps ``result.notes``.
    isochrones
        The category's new isochrone rows, put in place of its old ones when given.
    node_distances
        The category's new walking metres from every node, put in place when given.
    verbose
        Show progress on stderr.

    Returns
    -------
    CoverageResult
        A new result; ``result`` is not changed.

    Raises
    ------
    ValueError
        When ``changed_category`` is not one of the scenario's categories or an array does
        not have one value per cell.
    """
    sc = scenario
    if changed_category not in sc.categories:
        raise ValueError(f"{changed_category!r} is not one of the scenario's categories "
                         f"{sc.categories}")
    n = len(result.cells)
    arrays = [walk_min, nearest_id, e2sfca_per_1000, *overlay_share.values()]
    if any(len(a) != n for a in arrays):
        raise ValueError(f"every array needs one value per cell ({n})")
    cells = result.cells.copy()
    set_cell_columns(cells, changed_category, np.asarray(walk_min, dtype=float),
                     np.asarray(nearest_id, dtype=object), sc.thresholds_min,
                     sc.targets.coverage_threshold_min, overlay_share=overlay_share,
                     e2sfca_per_1000=np.asarray(e2sfca_per_1000, dtype=float))
    iso = result.__dict__.get("isochrones")
    builder = result.iso_builder
    if isochrones is not None:
        iso, builder = result.isochrones, None
        parts = [isochrones if c == changed_category else iso.loc[iso["category"] == c]
                 for c in sc.categories]
        iso = gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry",
                               crs=iso.crs)
    nds = dict(result.node_distances)
    if node_distances is not None:
        nds[changed_category] = node_distances
    base = replace(result, cells=cells, communities=result.communities.copy(),
                   facilities=facilities, isochrones=iso, iso_builder=builder,
                   node_distances=nds)
    return _tail(base, network, sc, (changed_category,), notes=notes, gap_cache=None,
                 verbose=verbose)


def summary_table(result: CoverageResult) -> pd.DataFrame:
    """The headline coverage figures as a tidy table: one row per category × threshold × group.

    Parameters
    ----------
    result
        The result of :func:`analyze` (or of :func:`care15.tiling.analyze_tiled`).

    Returns
    -------
    pandas.DataFrame
        Columns ``category``, ``threshold_min``, ``group`` (``total``, ``60plus``, ``0to3``),
        ``target_group`` (True for the group the category serves: 60+ for elderly care, 0-3
        for childcare), ``residents``, ``covered`` (residents within the threshold) and
        ``share`` (``covered / residents`` in [0, 1]; NaN without residents), counted by the
        scenario's coverage method (``method``).

    Examples
    --------
    >>> import care15
    >>> sc = care15.demo_scenario()
    >>> t = care15.summary_table(care15.analyze(care15.region_from_scenario(sc), sc))
    >>> list(t.columns)
    ['category', 'threshold_min', 'group', 'target_group', 'residents', 'covered', 'share', 'method']
    >>> bool(t["share"].between(0, 1).all())
    True
    """
    summ = result.summary
    rows = []
    for c, d in summ["categories"].items():
        target = _group_key(std.CATEGORIES[c].target_group)
        for t, row in d["thresholds"].items():
            for g in GROUPS:
                r = row[g]
                rows.append({"category": c, "threshold_min": float(t), "group": g,
                             "target_group": g == target, "residents": r["residents"],
                             "covered": r["covered"],
                             "share": np.nan if r["share"] is None else r["share"],
                             "method": summ["coverage_method"]})
    return pd.DataFrame(rows, columns=["category", "threshold_min", "group", "target_group",
                                       "residents", "covered", "share", "method"])
