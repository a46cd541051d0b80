"""The whole access analysis: travel times, isochrones, coverage tables, E2SFCA and gaps.

:func:`analyze` takes plain layers (a :class:`~care15.network.WalkNetwork`, facilities,
population cells, communities) and a :class:`~care15.scenario.Scenario`, and returns a
:class:`CoverageResult` whose tables a notebook can inspect, change and pass on.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import standards as std
from ._errors import InputError
from ._progress import step
from .access import NodeDistances, cell_distances, nearest_facility, reach
from .gaps import gap_clusters, short_communities
from .isochrones import isochrones
from .network import Snapped, WalkNetwork
from .rates import GROUPS, cell_table, community_table, e2sfca, summary, tlabel
from .scenario import Scenario

__all__ = ["CoverageResult", "analyze", "overlay_shares"]

log = logging.getLogger(__name__)


@dataclass
class CoverageResult:
    """Everything :func:`analyze` produces.

    Attributes
    ----------
    cells
        Population cells with walking minutes, bands, coverage flags per category.
    communities
        Community table (see :mod:`care15.rates` for the column definitions).
    isochrones
        Dissolved isochrones, one row per category × threshold.
    facilities
        Facilities with their snapping diagnostics (``access_m``, ``on_network``,
        ``network_piece``, ``community_id``).
    gaps
        Gap clusters of all categories, ranked within each category.
    short
        Communities short of the coverage target, worst first, all categories.
    summary
        Headline figures (JSON-serialisable), including the network vs overlay comparison.
    notes
        Plain-language findings about the data (no facility, disconnected pieces, cells far
        from streets, communities without residents...).
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
    share = mask.reshape(nrow, sub, ncol, sub).mean(axis=(1, 3))
    col = np.round((b[:, 0] - x0) / side).astype(np.int64)
    row = np.round((y1 - b[:, 3]) / side).astype(np.int64)
    return share[row, col]


def overlay_shares(cells: gpd.GeoDataFrame, polygon: shapely.Geometry, *,
                   tile_m: float = 1000.0, method: str = "auto", subpixels: int = 10) -> np.ndarray:
    """Share of each cell's area inside ``polygon`` (the desktop-GIS overlay method).

    ``method="vector"`` intersects each cell with the polygon (cut into ``tile_m`` tiles first
    so that each cell meets a small piece only): exact. ``method="raster"``, for grids of equal
    axis-aligned squares, rasterises the polygon at ``subpixels × subpixels`` samples per cell
    and averages them (zonal mean; within about 1% per cell). ``"auto"`` uses raster for
    square grids of more than 5,000 cells, vector otherwise.
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
                 max_access_m: float, *, cache: bool | str | Path | None = None
                 ) -> tuple[Snapped, Snapped]:
    """Snap cell centres and facilities to the network where pedestrians can enter it.

    Adds ``access_m``, ``on_network`` and ``network_piece`` to both frames (in place); the
    returned :class:`Snapped` carry ``snap_class``/``skipped_class`` (see care15.network).
    ``cache`` reuses the cells' snap from disk (a what-if changes facilities, not the
    population grid).
    """
    centres = gpd.GeoDataFrame(geometry=cells.geometry.centroid, crs=cells.crs)
    if cache is not None and cache is not False:
        from .cache import cached_snap_gdf

        csnap = cached_snap_gdf(network, centres, max_access_m=max_access_m,
                                cache_dir=None if cache is True else cache)
    else:
        csnap = network.snap_gdf(centres, max_access_m=max_access_m)
    fsnap = network.snap_gdf(facilities, max_access_m=max_access_m) if len(facilities) \
        else network.snap(np.empty(0), np.empty(0))
    for df, sn in ((cells, csnap), (facilities, fsnap)):
        df["access_m"] = sn.access_m
        df["on_network"] = sn.ok
        df["network_piece"] = network.component_of(sn)
    return csnap, fsnap


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


def analyze(network: WalkNetwork, facilities: gpd.GeoDataFrame, cells: gpd.GeoDataFrame,
            communities: gpd.GeoDataFrame, scenario: Scenario | None = None, *,
            verbose: bool = False,
            cache: bool | str | Path | None = None) -> CoverageResult:
    """Run travel times, isochrones, coverage tables, E2SFCA and gap lists.

    Parameters
    ----------
    network
        The walking network.
    facilities
        Facilities (``facility_id``, ``category``, ``subtype``, ``beds``, ``places``,
        ``floor_area_m2``, ``counts_as_supply``), any CRS.
    cells
        Population cells (``cell_id``, ``pop_total``, ``pop_60plus``, ``pop_0to3``), any CRS.
    communities
        Community polygons (``community_id``, ``community_name``), any CRS.
    scenario
        Thresholds, speeds, targets; defaults to :class:`Scenario()`.
    verbose
        Show progress.
    cache
        ``True`` (default folder) or a folder: reuse the population cells' snap to the network
        from the on-disk cache (:mod:`care15.cache`), keyed by the network's content, the
        cells' geometry and ``max_access_m``; a what-if that changes only facilities skips it.

    Returns
    -------
    CoverageResult
    """
    sc = scenario or Scenario()
    _check_layers(facilities, cells, communities)
    notes: list[str] = []
    crs = network.crs
    cells = cells.to_crs(crs).reset_index(drop=True)
    communities = communities.to_crs(crs).reset_index(drop=True)
    facilities = facilities.reset_index(drop=True).copy()
    bad_pop = [c for c in GROUPS.values() if cells[c].isna().any() or (cells[c] < 0).any()]
    if bad_pop:
        raise InputError(f"population cells: NaN or negative values in {bad_pop}; "
                         "fix the population layer (see population_from_* loaders)")
    if "community_id" not in cells.columns:
        cells = pd.concat([cells, _assign_points(
            gpd.GeoDataFrame(geometry=cells.geometry.centroid, crs=crs), communities)], axis=1)
    fac_comm = _assign_points(facilities, communities)
    facilities["community_id"] = fac_comm["community_id"].to_numpy()
    facilities["community_name"] = fac_comm["community_name"].to_numpy()

    max_acc = sc.analysis.max_access_m
    with step("snapping cells and facilities to the network", verbose=verbose):
        csnap, fsnap_all = _snap_layers(network, cells, facilities, max_acc, cache=cache)
    off = ~csnap.ok
    if off.any():
        notes.append(f"{int(off.sum())} population cells ({cells.loc[off, 'pop_total'].sum():,.0f} "
                     f"residents) are more than {max_acc:.0f} m from any walkable street a "
                     "pedestrian can enter (tunnels and indoor ways do not count); they are not "
                     "attached across rivers or blocks and count as not covered.")
    if network.n_components > 1:
        pop_piece = cells.loc[csnap.ok].groupby("network_piece")["pop_total"].sum()
        main_share = pop_piece.get(0, 0.0) / max(cells["pop_total"].sum(), 1e-9)
        notes.append(f"The street network has {network.n_components} disconnected pieces; the "
                     f"largest holds {int((network.component == 0).sum()):,} of "
                     f"{network.n_nodes:,} nodes and {main_share:.1%} of residents.")
    fac_off = ~fsnap_all.ok
    if fac_off.any():
        names = facilities.loc[fac_off, "name"].astype(str).head(5).tolist()
        notes.append(f"{int(fac_off.sum())} facilities are more than {max_acc:.0f} m from any "
                     f"walkable street and are left out: {', '.join(names)}")
    fac_names = (facilities["name"].where(facilities["name"].notna(), facilities["facility_id"])
                 if "name" in facilities.columns else facilities["facility_id"])
    notes.extend(network.entry_notes(csnap, fsnap_all, cell_pop=cells["pop_total"].to_numpy(),
                                     facility_names=fac_names.astype(str).tolist()))

    walk_min: dict[str, np.ndarray] = {}
    nearest_id: dict[str, np.ndarray] = {}
    overlay: dict[str, dict[float, np.ndarray]] = {}
    e2: dict[str, np.ndarray] = {}
    iso_frames = []
    nds: dict[str, NodeDistances] = {}
    for c in sc.categories:
        cat = std.CATEGORIES[c]
        speed = sc.speed_for(c)
        sel = (facilities["category"] == c).to_numpy()
        if "counts_as_supply" in facilities.columns:
            sel = sel & facilities["counts_as_supply"].fillna(True).astype(bool).to_numpy()
        idx = np.flatnonzero(sel)
        fs = fsnap_all.subset(idx)
        if len(idx) == 0:
            notes.append(f"No {cat.label_en.lower()} facility ({cat.label_zh}) in the data: "
                         "every resident is a gap (0% coverage).")
        elif not fs.ok.any():
            notes.append(f"None of the {len(idx)} {cat.label_en.lower()} facilities is within "
                         f"{max_acc:.0f} m of a street: every resident is a gap.")
        with step(f"{c}: network travel times", verbose=verbose):
            nd = nearest_facility(network, fs)
            nds[c] = nd
            d, who = cell_distances(nd, csnap)
        pieces_fac = set(network.component_of(fs)[fs.ok].tolist())
        if fs.ok.any() and 0 not in pieces_fac:
            notes.append(f"All {cat.label_en.lower()} facilities sit on small network pieces "
                         f"{sorted(pieces_fac)} that are not connected to the main street "
                         "network: most residents cannot reach them.")
        wm = d / speed / 60.0
        walk_min[c] = wm
        fid = facilities["facility_id"].to_numpy()[idx] if len(idx) else np.array([], dtype=object)
        nearest_id[c] = np.where(who >= 0, fid[np.maximum(who, 0)] if len(fid) else None, None)
        fin = nd.dist_m[np.isfinite(nd.dist_m)]
        for t in sc.thresholds_min:
            budget = t * 60 * speed
            if len(fin) and fin.max() <= budget and network.n_nodes > 1:
                notes.append(f"{c}: the {tlabel(t)}-minute circle ({budget:.0f} m at {speed} m/s) "
                             "already reaches every street the facilities connect to; the "
                             "threshold is beyond the network's extent, so facilities outside "
                             "the extract are not seen and edge areas may be under-covered.")
                break
        with step(f"{c}: isochrones", verbose=verbose):
            iso = isochrones(network, fs, sc.thresholds_min, speed,
                             walkoff_m=sc.analysis.isochrone_walkoff_m, category=c, nd=nd)
        iso_frames.append(iso)
        overlay[c] = {float(t): overlay_shares(cells, g)
                      for t, g in zip(iso["threshold_min"], iso.geometry, strict=True)}
        cap = facilities[cat.capacity_column].to_numpy(dtype=float)[idx] \
            if cat.capacity_column in facilities.columns else np.full(len(idx), np.nan)
        if np.isfinite(cap).any():
            with step(f"{c}: capacity-aware access (E2SFCA)", verbose=verbose):
                edges_m = tuple(t * 60 * speed for t in sc.thresholds_min)
                r = reach(network, fs, csnap, edges_m[-1])
                a = e2sfca(r, cap, cells[cat.target_group].to_numpy(), edges_m)
                e2[c] = a * 1000.0
        else:
            e2[c] = np.full(len(cells), np.nan)
    cells = cell_table(cells, walk_min, nearest_id, sc.thresholds_min,
                       sc.targets.coverage_threshold_min, overlay_share=overlay,
                       e2sfca_per_1000=e2)
    with step("community tables", verbose=verbose):
        comm = community_table(cells, communities, facilities, sc)
    empty = comm.loc[comm["pop_total"] <= 0, "community_name"].tolist()
    if empty:
        notes.append(f"{len(empty)} communities have no residents in the population data; "
                     f"their rates are undefined (shown as n/a): {', '.join(map(str, empty[:5]))}"
                     + ("…" if len(empty) > 5 else ""))
    summ = summary(cells, comm, facilities, sc)
    other = "overlay" if sc.analysis.coverage_method == "network" else "network"
    comm_other = community_table(cells, communities, facilities, sc, method=other)
    summ_other = summary(cells, comm_other, facilities, sc, method=other)
    summ["method_comparison"] = _compare(summ, summ_other, sc)
    summ["notes"] = notes
    gaps = [gap_clusters(cells, c, threshold_min=sc.targets.coverage_threshold_min)
            for c in sc.categories]
    gaps_all = gpd.GeoDataFrame(pd.concat(gaps, ignore_index=True), geometry="geometry", crs=crs)
    short = pd.concat([short_communities(comm, c, sc) for c in sc.categories], ignore_index=True)
    iso_all = gpd.GeoDataFrame(pd.concat(iso_frames, ignore_index=True), geometry="geometry",
                               crs=crs)
    return CoverageResult(cells=cells, communities=comm, isochrones=iso_all,
                          facilities=facilities, gaps=gaps_all, short=short, summary=summ,
                          notes=notes, node_distances=nds, cell_snap=csnap)


def _compare(a: dict[str, Any], b: dict[str, Any], sc: Scenario) -> dict[str, Any]:
    """Difference in covered shares between the two counting methods, per category/threshold."""
    out: dict[str, Any] = {"primary": a["coverage_method"], "other": b["coverage_method"]}
    for c in sc.categories:
        rows = {}
        for t in a["categories"][c]["thresholds"]:
            ra = a["categories"][c]["thresholds"][t]
            rb = b["categories"][c]["thresholds"][t]
            rows[t] = {g: (None if ra[g]["share"] is None else
                           {a["coverage_method"]: ra[g]["share"], b["coverage_method"]:
                            rb[g]["share"], "difference": rb[g]["share"] - ra[g]["share"]})
                       for g in GROUPS}
        out[c] = rows
    return out
