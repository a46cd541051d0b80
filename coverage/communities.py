"""Communities (社区/街道): the units every table reports on.

From a planner's file with a name column, from OSM administrative boundaries, or a regular grid
of districts when nothing is given. Every function returns ``community_id``,
``community_name`` and polygon ``geometry``; :func:`assign_cells` gives each population cell the
community its centre lies in (``_outside`` when none), so each resident is counted in exactly
one community and community totals add up to the grid total.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from ._errors import DataWarning, InputError
from ._tables import letters, read_layer
from ._tables import pick_column as _pick

__all__ = [
    "OUTSIDE_ID",
    "OUTSIDE_NAME",
    "assign_cells",
    "communities_from_file",
    "communities_from_osm",
    "communities_grid",
    "community_report",
]

OUTSIDE_ID = "_outside"
OUTSIDE_NAME = "(outside communities / 社区范围外)"
_NAME = ("community_name", "name", "名称", "社区", "社区名称", "社区名", "街道", "街道名称",
         "居委会", "村委会", "community", "subdistrict", "name_zh", "name:zh")
_ID = ("community_id", "id", "code", "编码", "代码", "社区代码", "区划代码", "adcode")


def _clean(g: gpd.GeoDataFrame, src: str) -> gpd.GeoDataFrame:
    geom = g.geometry.to_numpy()
    missing = shapely.is_missing(geom) | shapely.is_empty(geom)
    if missing.any():
        warnings.warn(f"{src}: features {(np.flatnonzero(missing) + 1)[:20].tolist()} have no "
                      "geometry and are left out", DataWarning, stacklevel=3)
    invalid = ~missing & ~shapely.is_valid(geom)
    if invalid.any():
        warnings.warn(f"{src}: features {(np.flatnonzero(invalid) + 1)[:20].tolist()} have "
                      "invalid polygons (self-intersections?), repaired with make_valid",
                      DataWarning, stacklevel=3)
        geom = geom.copy()
        fixed = shapely.make_valid(geom[invalid])
        # keep only the polygonal part of a repaired geometry
        fixed = np.array([shapely.union_all([p for p in shapely.get_parts(f)
                                             if shapely.get_type_id(p) in (3, 6)])
                          if shapely.get_type_id(f) == 7 else f for f in fixed], dtype=object)
        geom[invalid] = fixed
    poly = np.isin(shapely.get_type_id(geom), (3, 6))
    notpoly = ~missing & ~poly
    if notpoly.any():
        warnings.warn(f"{src}: features {(np.flatnonzero(notpoly) + 1)[:20].tolist()} are not "
                      "polygons and are left out", DataWarning, stacklevel=3)
    g = g.set_geometry(geom)
    return g.loc[poly & ~missing].reset_index(drop=True)


def communities_from_file(path: str | Path, *, name_column: str | None = None,
                          id_column: str | None = None) -> gpd.GeoDataFrame:
    """Community or sub-district polygons from a GeoJSON/GeoPackage/Shapefile/GeoParquet.

    The name column is ``name_column`` or the first of ``community_name``, ``name``, ``名称``,
    ``社区``, ``街道`` … found; the id column likewise (``community_id``, ``code``, ``区划代码``),
    else ``c1``, ``c2`` … in file order. Invalid polygons are repaired (with a warning naming
    the features); features with no polygon are left out (named).

    Parameters
    ----------
    path
        The polygon layer; it must carry its CRS.
    name_column
        Column holding the community names, instead of the detected one.
    id_column
        Column holding unique community ids, instead of the detected one (ids that repeat
        are replaced by ``c1``, ``c2`` …).

    Returns
    -------
    GeoDataFrame
        ``community_id``, ``community_name`` and (Multi)Polygon geometry in EPSG:4326.

    Raises
    ------
    InputError
        When the layer is empty, has no CRS, no polygon, or no name column (or
        ``name_column`` is not one of its columns).

    Warns
    -----
    DataWarning
        For features without geometry, not polygons, or repaired.
    """
    p = Path(path)
    g = read_layer(p, what="community file")
    if len(g) == 0:
        raise InputError(f"{p}: the community layer is empty")
    if g.crs is None:
        raise InputError(f"{p}: the layer has no CRS; save it with its coordinate system")
    if g.crs.is_geographic:
        b = g.total_bounds
        if np.isfinite(b).all() and not (-180 <= b[0] <= b[2] <= 180 and -90 <= b[1] <= b[3] <= 90):
            raise InputError(
                f"{p}: coordinates reach x {b[0]:,.0f}…{b[2]:,.0f}, y {b[1]:,.0f}…{b[3]:,.0f} "
                f"but the layer says they are degrees ({g.crs.name}); they look like metres of "
                "a projected system (a GeoJSON without a CRS is read as WGS-84). Save the file "
                "with its real CRS, e.g. EPSG:4547 (CGCS2000 / 3-degree Gauss-Kruger 114°E)")
    cols = [c for c in g.columns if c != g.geometry.name]
    nc = name_column or _pick(cols, _NAME)
    if name_column and name_column not in cols:
        raise InputError(f"{p}: name column {name_column!r} not found; columns are {cols}")
    if nc is None:
        raise InputError(f"{p}: no community name column (looked for {', '.join(_NAME[:6])} …);"
                         f" columns are {cols}; name it with --community-name-column (name_column= in "
                         "Python)")
    ic = id_column or _pick([c for c in cols if c != nc], _ID)
    g = _clean(g, str(p))
    if len(g) == 0:
        raise InputError(f"{p}: no polygon features")
    names = g[nc].astype(str).where(g[nc].notna(), "").str.strip()
    ids = (g[ic].astype(str) if ic else pd.Series([f"c{i + 1}" for i in range(len(g))]))
    if ids.duplicated().any():
        ids = pd.Series([f"c{i + 1}" for i in range(len(g))])
    names = names.where(names != "", ids)
    out = gpd.GeoDataFrame({"community_id": ids.to_numpy(), "community_name": names.to_numpy()},
                           geometry=g.geometry.to_numpy(), crs=g.crs).to_crs(4326)
    return out


def communities_from_osm(path: str | Path | tuple[str, Any], *,
                         admin_levels: tuple[str, ...] = ("10", "9", "8"),
                         bounds_wgs84: tuple[float, float, float, float] | None = None
                         ) -> gpd.GeoDataFrame:
    """OSM administrative boundaries at the finest level mapped with at least two areas.

    ``path`` is an OSM file, or an online source ``("place", name)`` / ``("bbox", (w, s, e, n))``
    downloaded with osmnx (see :func:`care15.sources.osm.features`).

    China maps 街道/乡镇 at ``admin_level=8`` and 社区/村 (rarely) at 10; Europe maps
    neighbourhoods at 9-10. Returns an empty table when no level has two polygons (the caller
    falls back to :func:`communities_grid`).

    Parameters
    ----------
    path
        An OSM file, or an online source as above.
    admin_levels
        ``admin_level`` values to try, finest first.
    bounds_wgs84
        (west, south, east, north): keep only boundaries that intersect this box.

    Returns
    -------
    GeoDataFrame
        ``community_id`` (``<osm_type>/<osm_id>``), ``community_name`` (the id when unnamed)
        and (Multi)Polygon geometry in EPSG:4326; empty when no level has two polygons.
    """
    from .sources.osm import features, source_name

    f = features(path, {"boundary": ["administrative"]})
    empty = gpd.GeoDataFrame({"community_id": [], "community_name": []}, geometry=[], crs=4326)
    if len(f) == 0 or "admin_level" not in f.columns:
        return empty
    f = f.loc[np.isin(shapely.get_type_id(f.geometry.to_numpy()), (3, 6))]
    if bounds_wgs84 is not None:
        f = f.loc[f.intersects(shapely.box(*bounds_wgs84))]
    for lvl in admin_levels:
        sel = f.loc[f["admin_level"].astype(str) == lvl]
        if len(sel) >= 2:
            sel = _clean(sel.reset_index(drop=True), f"{source_name(path)} admin_level={lvl}")
            nm = sel["name"].astype(str) if "name" in sel else pd.Series([""] * len(sel))
            ids = (sel["osm_type"].astype(str) + "/" + sel["osm_id"].astype(str)).to_numpy()
            return gpd.GeoDataFrame({"community_id": ids,
                                     "community_name": np.where(nm.isin(["", "nan", "None"]),
                                                                ids, nm)},
                                    geometry=sel.geometry.to_numpy(), crs=4326)
    return empty


def communities_grid(bounds: tuple[float, float, float, float], *, size_m: float = 1000.0,
                     crs: pyproj.CRS | str | int) -> gpd.GeoDataFrame:
    """Build a regular grid of square districts over ``bounds`` (in the metric ``crs``).

    Named ``网格 A1 / Grid A1`` with a letter per row from the north and a number per column
    from the west, as on a printed map sheet.

    Parameters
    ----------
    bounds
        (minx, miny, maxx, maxy) in ``crs``.
    size_m
        Side of each square district in metres.
    crs
        The metric CRS of ``bounds`` and of the result.

    Returns
    -------
    GeoDataFrame
        ``community_id`` (``GA1``, ``GA2`` …), ``community_name`` and square polygons in
        ``crs``, covering ``bounds`` (the last row and column may reach beyond it).

    Examples
    --------
    >>> from care15.communities import communities_grid
    >>> g = communities_grid((0, 0, 1500, 900), size_m=1000, crs="EPSG:32650")
    >>> g["community_id"].tolist()
    ['GA1', 'GA2']
    """
    x0, y0, x1, y1 = bounds
    nx_ = max(1, math.ceil((x1 - x0) / size_m))
    ny = max(1, math.ceil((y1 - y0) / size_m))
    rows = []
    for r in range(ny):
        letter = letters(r + 1)
        for c in range(nx_):
            bx0 = x0 + c * size_m
            by1 = y1 - r * size_m
            rows.append((f"G{letter}{c + 1}", f"网格 {letter}{c + 1} / Grid {letter}{c + 1}",
                         shapely.box(bx0, by1 - size_m, bx0 + size_m, by1)))
    ids, names, geom = zip(*rows, strict=True)
    return gpd.GeoDataFrame({"community_id": list(ids), "community_name": list(names)},
                            geometry=list(geom), crs=crs)


def assign_cells(cells: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Add ``community_id``/``community_name``: the community containing each cell's centre.

    A centre on a shared border goes to the first community in table order; a centre outside
    every community gets ``_outside``. Each cell belongs to exactly one community, so the
    community totals add up to the grid totals.

    Parameters
    ----------
    cells
        Population cells (any CRS).
    communities
        Community polygons with ``community_id`` and ``community_name`` (any CRS).

    Returns
    -------
    GeoDataFrame
        A copy of ``cells`` (same CRS) with ``community_id`` and ``community_name``
        (:data:`OUTSIDE_ID` / :data:`OUTSIDE_NAME` outside every community).
    """
    out = cells.drop(columns=[c for c in ("community_id", "community_name") if c in cells])
    if len(out) == 0:
        out["community_id"] = pd.Series(dtype=object)
        out["community_name"] = pd.Series(dtype=object)
        return out
    comm = communities.to_crs(out.crs)
    cid = np.full(len(out), OUTSIDE_ID, dtype=object)
    cname = np.full(len(out), OUTSIDE_NAME, dtype=object)
    if len(comm):
        tree = shapely.STRtree(comm.geometry.to_numpy())
        pts = shapely.centroid(out.geometry.to_numpy())
        pi, ci = tree.query(pts, predicate="intersects")
        order = np.lexsort((ci, pi))
        pi, ci = pi[order], ci[order]
        pi, first = np.unique(pi, return_index=True)
        ci = ci[first]
        cid[pi] = comm["community_id"].to_numpy()[ci]
        cname[pi] = comm["community_name"].to_numpy()[ci]
    out["community_id"] = cid
    out["community_name"] = cname
    return out


def community_report(cells: gpd.GeoDataFrame, communities: gpd.GeoDataFrame) -> dict[str, float]:
    """How well a community layer fits the population cells: inside, outside, overlaps.

    Parameters
    ----------
    cells
        Population cells with ``pop_total`` (any CRS).
    communities
        Community polygons (any CRS).

    Returns
    -------
    dict
        ``residents`` (all), ``residents_inside`` (cells whose centre is in a community),
        ``residents_in_overlaps`` (centre in two or more; :func:`assign_cells` gives them to
        the first), ``overlapping_pairs`` (pairs of communities whose areas overlap) and
        ``cells_inside``.
    """
    comm = communities.to_crs(cells.crs)
    geoms = comm.geometry.to_numpy()
    pop = cells["pop_total"].to_numpy(float)
    out = {"residents": float(pop.sum()), "residents_inside": 0.0, "residents_in_overlaps": 0.0,
           "overlapping_pairs": 0.0, "cells_inside": 0.0}
    if len(comm) == 0 or len(cells) == 0:
        return out
    tree = shapely.STRtree(geoms)
    pi, _ = tree.query(shapely.centroid(cells.geometry.to_numpy()), predicate="intersects")
    n = np.bincount(pi, minlength=len(cells))
    a, b = tree.query(geoms, predicate="overlaps")
    out.update(residents_inside=float(pop[n > 0].sum()),
               residents_in_overlaps=float(pop[n > 1].sum()),
               overlapping_pairs=float((a < b).sum()), cells_inside=float((n > 0).sum()))
    return out
