"""Population grids: square cells with ``pop_total``, ``pop_60plus`` and ``pop_0to3``.

Three sources, one output (in the requested metric CRS, populated cells only):

:func:`population_from_raster`
    A gridded count such as a WorldPop GeoTIFF. Every source pixel is split into 4 × 4
    sub-points carrying a sixteenth of its count, reprojected and summed into the cells, so
    totals are conserved exactly whatever the two grids' alignment and CRS.
:func:`population_from_vector`
    Polygons (census blocks, communities, a grid) or points with a population column, moved
    onto the grid by area (``weight="area"``) or by residential building floor area
    (``weight="buildings"``, falling back to area inside polygons without buildings).
:func:`population_from_osm`
    An estimate from OSM when the planner has only a total: each cell is weighted by the
    first measure it has of, in order, (1) residential building floor area (footprint ×
    levels), (2) residential land-use area × a floor-area ratio, (3) residential street
    length × a floor-area equivalent per metre; the ratios of (2) and (3) to (1) are
    calibrated on the cells where the measures overlap. No cell receives more than it can
    house: its residential floor area ÷ the 7th census's 36.52 m² per urban resident
    (standard ``housing_floor_m2_per_person``), and at most 1,500 residents per hectare
    (``max_residents_per_ha``) of residential land use, or of the cell where only streets are
    known. What one method cannot house goes to the next (buildings → land use → streets),
    placed by water-filling; a total beyond every capacity is placed in proportion to capacity
    and reported as exceeding the ceiling. The report says which method weighted how many
    cells, how much area and how many residents, what was moved, and the densest cell.

Age groups come from columns when the source has them, else from the scenario's shares.
Every function puts its bookkeeping in ``cells.attrs["report"]``: the population read, placed
on the grid, and left outside the study area, so conservation can be checked, and the densest
cell (``densest_cell_per_ha``) with a ``warning`` when it is above the ceiling.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .. import standards as std
from .._errors import DataWarning, InputError
from .._tables import pick_column as _pick
from .._tables import read_layer
from ..scenario import Shares

if TYPE_CHECKING:
    from .osm import OnlineSource

__all__ = [
    "DEFAULT_BUILDING_LEVELS",
    "DEFAULT_FLOOR_AREA_RATIO",
    "DEFAULT_FLOOR_M2_PER_STREET_M",
    "CRSLike",
    "grid_cells",
    "osm_residential_buildings",
    "population_from_osm",
    "population_from_raster",
    "population_from_vector",
]

#: Levels assumed for a residential building without ``building:levels``: detached houses 1,
#: other residential buildings the median of the mapped levels in the file (this value when
#: none is mapped). An assumption, reported.
DEFAULT_BUILDING_LEVELS = 3
#: Floor area per m² of residential land use when no cell has both (FAR of a mid-rise block).
DEFAULT_FLOOR_AREA_RATIO = 1.5
#: Floor area per metre of residential street when no cell has both: 2 × 40 m of frontage
#: depth at the default floor-area ratio.
DEFAULT_FLOOR_M2_PER_STREET_M = 80 * DEFAULT_FLOOR_AREA_RATIO

#: A coordinate reference system as pyproj and geopandas accept it: a ``pyproj.CRS``, an
#: ``"EPSG:32650"``-style string or WKT, or an EPSG code.
CRSLike: TypeAlias = pyproj.CRS | str | int

_HOUSE_TYPES = {"house", "detached", "semidetached_house", "bungalow", "farm", "cabin",
                "static_caravan"}
_RESIDENTIAL_TYPES = _HOUSE_TYPES | {"residential", "apartments", "terrace", "dormitory",
                                     "flats", "hut", "townhouse"}
_NON_RESIDENTIAL = {"commercial", "industrial", "retail", "office", "warehouse", "school",
                    "university", "college", "hospital", "church", "cathedral", "chapel",
                    "mosque", "temple", "public", "civic", "government", "train_station",
                    "transportation", "garage", "garages", "parking", "service", "shed", "roof",
                    "kindergarten", "hotel", "stadium", "sports_hall", "supermarket",
                    "construction", "ruins", "greenhouse", "barn", "hangar", "kiosk",
                    "toilets", "bridge", "museum", "fire_station", "carport", "pavilion"}
_AGE_COLUMNS = {
    "pop_60plus": ("pop_60plus", "pop60", "pop_60", "60岁以上", "60岁及以上", "老年人口"),
    "pop_0to3": ("pop_0to3", "pop0_3", "pop_0_3", "0-3岁", "3岁以下", "婴幼儿"),
}


def grid_cells(bounds: tuple[float, float, float, float], cell_size_m: float,
               crs: CRSLike | None) -> gpd.GeoDataFrame:
    """Square cells of ``cell_size_m`` covering ``bounds`` (in ``crs``), aligned to the origin.

    Cells are aligned to multiples of the cell size so grids of neighbouring areas (and tiles)
    line up; ``cell_id`` is ``"{col}_{row}"`` of that global lattice.

    Parameters
    ----------
    bounds
        ``(xmin, ymin, xmax, ymax)`` in ``crs``.
    cell_size_m
        Cell side in the units of ``crs`` (metres for a metric CRS).
    crs
        The CRS of ``bounds`` and of the cells (``None``: none set).

    Returns
    -------
    geopandas.GeoDataFrame
        One row per cell: ``cell_id`` and the square.

    Raises
    ------
    InputError
        A non-positive cell size, or more than 20 million cells.
    """
    if cell_size_m <= 0:
        raise InputError(f"cell size must be positive, got {cell_size_m}")
    x0, y0, x1, y1 = bounds
    i0, j0 = math.floor(x0 / cell_size_m), math.floor(y0 / cell_size_m)
    i1, j1 = math.ceil(x1 / cell_size_m), math.ceil(y1 / cell_size_m)
    n = (i1 - i0) * (j1 - j0)
    if n > 20_000_000:
        raise InputError(f"a {cell_size_m:g} m grid over these bounds has {n:,} cells; use a "
                         "larger cell size")
    gi, gj = np.meshgrid(np.arange(i0, i1), np.arange(j0, j1))
    return _cells_from_index(gi.ravel(), gj.ravel(), cell_size_m, crs)


def _cells_from_index(ii: np.ndarray, jj: np.ndarray, size: float,
                      crs: CRSLike | None) -> gpd.GeoDataFrame:
    geom = shapely.box(ii * size, jj * size, (ii + 1) * size, (jj + 1) * size)
    return gpd.GeoDataFrame({"cell_id": [f"{i}_{j}" for i, j in zip(ii, jj, strict=True)]},
                            geometry=geom, crs=crs)


def _bin_points(x: np.ndarray, y: np.ndarray, w: dict[str, np.ndarray], size: float,
                bounds: tuple[float, float, float, float] | None
                ) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray], float]:
    """Sum weights of points into lattice cells; returns (ii, jj, sums, weight outside bounds)."""
    inside = np.isfinite(x) & np.isfinite(y)
    if bounds is not None:
        bx0, by0, bx1, by1 = bounds
        inside &= (x >= bx0) & (x <= bx1) & (y >= by0) & (y <= by1)
    first = next(iter(w.values()))
    outside = float(first[~inside].sum())
    i = np.floor(x[inside] / size).astype(np.int64)
    j = np.floor(y[inside] / size).astype(np.int64)
    if len(i) == 0:
        return (np.array([], np.int64), np.array([], np.int64),
                {k: np.array([]) for k in w}, outside)
    key = (i - i.min()) * (j.max() - j.min() + 1) + (j - j.min())
    uk, inv = np.unique(key, return_inverse=True)
    sums = {k: np.bincount(inv, weights=v[inside], minlength=len(uk)) for k, v in w.items()}
    ui = uk // (j.max() - j.min() + 1) + i.min()
    uj = uk % (j.max() - j.min() + 1) + j.min()
    return ui, uj, sums, outside


def _finish(ii: np.ndarray, jj: np.ndarray, sums: dict[str, np.ndarray], size: float,
            crs: CRSLike, shares: Shares, method: str | np.ndarray, report: dict[str, Any]
            ) -> gpd.GeoDataFrame:
    cells = _cells_from_index(ii, jj, size, crs)
    cells["pop_total"] = sums["pop_total"]
    for col, share in (("pop_60plus", shares.share_60plus), ("pop_0to3", shares.share_0to3)):
        cells[col] = sums[col] if col in sums else sums["pop_total"] * share
    cells["pop_method"] = method
    keep = cells["pop_total"].to_numpy() > 0
    cells = cells.loc[keep].reset_index(drop=True)
    report["pop_on_grid"] = float(cells["pop_total"].sum())
    report["cells"] = len(cells)
    report["cell_size_m"] = size
    report["age_groups_from"] = "columns" if "pop_60plus" in sums else "scenario shares"
    per_ha = std.get("max_residents_per_ha")
    report["ceiling_per_ha"] = per_ha
    report.update(_densest(cells, size, per_ha))
    report["notes"] = [f"Densest cell: {report['densest_cell_residents']:,.0f} residents "
                       f"({report['densest_cell_per_ha']:,.0f} per ha)."]
    if report["densest_cell_implausible"]:
        report["warning"] = (
            f"Implausible density: the densest cell holds "
            f"{report['densest_cell_residents']:,.0f} residents "
            f"({report['densest_cell_per_ha']:,.0f} per ha), above the {per_ha:,.0f} per ha "
            "that care15 takes as the densest plausible housing; check the population layer "
            "(units, double counting, points carrying a whole district).")
        report["notes"].append(report["warning"])
    cells.attrs["report"] = report
    return cells


# --------------------------------------------------------------------------------------------
# raster
# --------------------------------------------------------------------------------------------

def population_from_raster(path: str | Path, *, crs: CRSLike, cell_size_m: float = 100.0,
                           bounds: tuple[float, float, float, float] | None = None,
                           shares: Shares | None = None, band: int = 1,
                           subdivide: int = 4) -> gpd.GeoDataFrame:
    """Build population cells from a gridded count (e.g. a WorldPop GeoTIFF of people per pixel).

    Parameters
    ----------
    path
        A raster of counts (not densities) with a CRS.
    crs
        The metric CRS of the output grid (the network's).
    cell_size_m
        Output cell size.
    bounds
        Study-area bounds in ``crs``; pixels outside are left out and counted in the report.
    shares
        Age shares (the raster carries totals only).
    band
        Band of counts.
    subdivide
        Each pixel is split into ``subdivide²`` sub-points before reprojection.

    Returns
    -------
    geopandas.GeoDataFrame
        Populated cells (``cell_id``, ``pop_total``, ``pop_60plus``, ``pop_0to3``,
        ``pop_method`` = ``"raster"``); ``attrs["report"]`` has ``pop_read``,
        ``pop_on_grid``, ``pop_outside_area`` and the densest cell (``densest_cell_residents``,
        ``densest_cell_per_ha``, ``densest_cell_implausible``, ``warning``, ``notes``).

    Raises
    ------
    InputError
        Missing/unreadable file, no CRS, negative counts (the first pixel is named).
    """
    import rasterio
    from rasterio.windows import from_bounds

    shares = shares or Shares()
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: population raster not found")
    try:
        src = rasterio.open(p)
    except Exception as e:
        raise InputError(f"{p}: not a readable raster ({type(e).__name__}: {e})") from e
    with src:
        if src.crs is None:
            raise InputError(f"{p}: the raster has no CRS; set one (e.g. gdal_edit.py -a_srs "
                             "EPSG:4326) before using it")
        to_src = pyproj.Transformer.from_crs(crs, src.crs, always_xy=True)
        if bounds is not None:
            bx = np.linspace(bounds[0], bounds[2], 21)
            by = np.linspace(bounds[1], bounds[3], 21)
            gx, gy = np.meshgrid(bx, by)
            sx, sy = to_src.transform(gx.ravel(), gy.ravel())
            win = from_bounds(min(sx), min(sy), max(sx), max(sy), src.transform)
            c0, r0 = math.floor(win.col_off) - 1, math.floor(win.row_off) - 1
            c1 = math.ceil(win.col_off + win.width) + 1
            r1 = math.ceil(win.row_off + win.height) + 1
            c0, r0 = max(c0, 0), max(r0, 0)
            c1, r1 = min(c1, src.width), min(r1, src.height)
            if c1 <= c0 or r1 <= r0:
                raise InputError(f"{p}: the raster does not overlap the study area")
            win = rasterio.windows.Window(c0, r0, c1 - c0, r1 - r0)
        else:
            win = rasterio.windows.Window(0, 0, src.width, src.height)
        arr = src.read(band, window=win, masked=True).astype(float)
        tr = src.window_transform(win)
        nodata = src.nodata
    data = arr.filled(np.nan)
    nan_undeclared = int(np.isnan(arr.data).sum()) if nodata is None else 0
    if nan_undeclared:
        warnings.warn(f"{p}: {nan_undeclared} pixels are NaN without a declared nodata value; "
                      "read as no population", DataWarning, stacklevel=2)
    neg = np.isfinite(data) & (data < 0)
    if neg.any():
        r, c = np.argwhere(neg)[0]
        raise InputError(f"{p}: {int(neg.sum())} pixels have negative population (first at "
                         f"row {int(r + win.row_off)}, column {int(c + win.col_off)}: "
                         f"{data[r, c]:g}); declare the nodata value or fix the raster")
    data = np.where(np.isfinite(data), data, 0.0)
    rows, cols = np.nonzero(data > 0)
    vals = data[rows, cols]
    total_read = float(vals.sum())
    k = max(1, int(subdivide))
    off = (np.arange(k) + 0.5) / k
    oc, orr = np.meshgrid(off, off)
    cc = (cols[:, None] + oc.ravel()[None, :]).ravel()
    rr = (rows[:, None] + orr.ravel()[None, :]).ravel()
    px = tr.c + cc * tr.a + rr * tr.b
    py = tr.f + cc * tr.d + rr * tr.e
    w = np.repeat(vals / (k * k), k * k)
    tx, ty = pyproj.Transformer.from_crs(
        pyproj.CRS.from_user_input(src.crs.to_wkt()), crs, always_xy=True).transform(px, py)
    ii, jj, sums, outside = _bin_points(np.asarray(tx), np.asarray(ty), {"pop_total": w},
                                        cell_size_m, bounds)
    report = {"source": p.name, "method": "raster", "pop_read": total_read,
              "pop_outside_area": outside}
    return _finish(ii, jj, sums, cell_size_m, crs, shares, "raster", report)


# --------------------------------------------------------------------------------------------
# vector
# --------------------------------------------------------------------------------------------

def _read_layer(path: str | Path | gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, str]:
    if isinstance(path, gpd.GeoDataFrame):
        return path, "GeoDataFrame"
    return read_layer(path, what="population layer"), Path(path).name


def population_from_vector(path: str | Path | gpd.GeoDataFrame, *, column: str, crs: CRSLike,
                           cell_size_m: float = 100.0, shares: Shares | None = None,
                           weight: str = "area", buildings: gpd.GeoDataFrame | None = None,
                           age_columns: dict[str, str] | None = None) -> gpd.GeoDataFrame:
    """Move a population layer (polygons or points) onto square cells, conserving totals.

    Parameters
    ----------
    path
        A vector file (or GeoDataFrame) with a CRS and a population column.
    column
        The column of residents.
    crs
        Metric CRS of the output grid.
    cell_size_m
        Output cell size.
    shares
        Age shares used when the layer has no age columns.
    weight
        ``"area"``: a polygon's residents are spread by the share of its area in each cell.
        ``"buildings"``: by the residential floor area (``floor_area_m2`` of ``buildings``)
        in each cell, falling back to area in polygons with no building.
    buildings
        Residential buildings with ``floor_area_m2`` (see :func:`osm_residential_buildings`).
    age_columns
        Columns of residents aged 60+ and 0-3 (``{"pop_60plus": "...", "pop_0to3": "..."}``);
        found by name when omitted (``pop_60plus``, ``60岁以上``, ``pop_0to3``, ``3岁以下`` …),
        otherwise the scenario shares apply.

    Returns
    -------
    geopandas.GeoDataFrame
        Populated cells (``pop_method`` = ``"vector_area"`` or ``"vector_buildings"``);
        ``attrs["report"]`` as for :func:`population_from_raster`, plus
        ``pop_without_geometry``.

    Raises
    ------
    InputError
        Missing column, no CRS, an empty layer, negative population (rows named).
    """
    shares = shares or Shares()
    g, name = _read_layer(path)
    if len(g) == 0:
        raise InputError(f"{name}: the population layer is empty (no features)")
    if g.crs is None:
        raise InputError(f"{name}: the layer has no CRS; save it with its coordinate system")
    if column not in g.columns:
        raise InputError(f"{name}: population column {column!r} not found; columns are "
                         f"{[c for c in g.columns if c != g.geometry.name]}")
    if weight not in ("area", "buildings"):
        raise InputError(f"weight must be 'area' or 'buildings', got {weight!r}")
    if weight == "buildings" and buildings is None:
        raise InputError("weight='buildings' needs a buildings layer with floor_area_m2")
    cols = {"pop_total": column}
    for key, names in _AGE_COLUMNS.items():
        c = (age_columns or {}).get(key) or _pick(g.columns, names)
        if c is not None:
            cols[key] = c
    vals = {}
    for key, c in cols.items():
        v = pd.to_numeric(g[c], errors="coerce").to_numpy(float)
        nan = np.flatnonzero(~np.isfinite(v)) + 1
        if len(nan):
            warnings.warn(f"{name}: column {c!r} has no number in rows {nan[:20].tolist()}; "
                          "those rows count as 0 residents", DataWarning, stacklevel=2)
            v = np.where(np.isfinite(v), v, 0.0)
        neg = np.flatnonzero(v < 0) + 1
        if len(neg):
            raise InputError(f"{name}: column {c!r} is negative in rows {neg[:20].tolist()}; "
                             "population cannot be negative")
        vals[key] = v
    g = g.to_crs(crs)
    geom = g.geometry.to_numpy()
    missing = shapely.is_missing(geom) | shapely.is_empty(geom)
    if missing.any():
        lost = float(vals["pop_total"][missing].sum())
        warnings.warn(f"{name}: rows {(np.flatnonzero(missing) + 1)[:20].tolist()} have no "
                      f"geometry; their {lost:,.0f} residents cannot be placed", DataWarning,
                      stacklevel=2)
    invalid = ~missing & ~shapely.is_valid(geom)
    if invalid.any():
        warnings.warn(f"{name}: rows {(np.flatnonzero(invalid) + 1)[:20].tolist()} have invalid "
                      "geometries, repaired with make_valid", DataWarning, stacklevel=2)
        geom = geom.copy()
        geom[invalid] = shapely.make_valid(geom[invalid])
    total_read = float(vals["pop_total"].sum())
    tid = shapely.get_type_id(geom)
    is_area = ~missing & np.isin(tid, (3, 6, 7))
    is_point = ~missing & ~is_area
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    ws: dict[str, list[np.ndarray]] = {k: [] for k in vals}
    # points (and lines): all residents at the representative point
    if is_point.any():
        pts = shapely.point_on_surface(geom[is_point])
        xs.append(shapely.get_x(pts))
        ys.append(shapely.get_y(pts))
        for k in vals:
            ws[k].append(vals[k][is_point])
    if is_area.any():
        idx = np.flatnonzero(is_area)
        polys = geom[idx]
        x0, y0, x1, y1 = shapely.total_bounds(polys)
        grid = grid_cells((x0, y0, x1, y1), cell_size_m, crs)
        tree = shapely.STRtree(grid.geometry.to_numpy())
        pi, gi = tree.query(polys, predicate="intersects")
        inter = shapely.intersection(polys[pi], grid.geometry.to_numpy()[gi])
        a = shapely.area(inter)
        wgt = a.copy()
        if weight == "buildings" and buildings is not None:
            b = buildings.to_crs(crs)
            bc = shapely.centroid(b.geometry.to_numpy())
            fa = b["floor_area_m2"].to_numpy(float)
            # floor area of buildings in each (polygon, cell) piece
            ptree = shapely.STRtree(inter)
            bi, ki = ptree.query(bc, predicate="intersects")
            bi, first = np.unique(bi, return_index=True)  # a building counts once
            ki = ki[first]
            fl = np.bincount(ki, weights=fa[bi], minlength=len(inter))
            has_b = np.bincount(pi, weights=fl, minlength=len(polys)) > 0
            wgt = np.where(has_b[pi], fl, a)
        den = np.bincount(pi, weights=wgt, minlength=len(polys))
        zero = den <= 0  # degenerate polygons: fall back to area, then to the point
        if zero.any():
            wgt = np.where(zero[pi], a, wgt)
            den = np.bincount(pi, weights=wgt, minlength=len(polys))
        frac = np.where(den[pi] > 0, wgt / np.where(den[pi] > 0, den[pi], 1), 0.0)
        c = shapely.centroid(grid.geometry.to_numpy()[gi])
        xs.append(shapely.get_x(c))
        ys.append(shapely.get_y(c))
        for k in vals:
            ws[k].append(vals[k][idx][pi] * frac)
        degenerate = den <= 0
        if degenerate.any():  # zero-area polygons: at their point
            pts = shapely.point_on_surface(polys[degenerate])
            xs.append(shapely.get_x(pts))
            ys.append(shapely.get_y(pts))
            for k in vals:
                ws[k].append(vals[k][idx][degenerate])
    x = np.concatenate(xs) if xs else np.array([])
    y = np.concatenate(ys) if ys else np.array([])
    w = {k: np.concatenate(v) if v else np.array([]) for k, v in ws.items()}
    ii, jj, sums, outside = _bin_points(x, y, w, cell_size_m, None)
    report = {"source": name, "method": f"vector by {weight}", "pop_read": total_read,
              "pop_outside_area": outside,
              "pop_without_geometry": float(vals["pop_total"][missing].sum())}
    return _finish(ii, jj, sums, cell_size_m, crs, shares, f"vector_{weight}", report)


# --------------------------------------------------------------------------------------------
# OSM estimate
# --------------------------------------------------------------------------------------------

def _levels(b: gpd.GeoDataFrame) -> tuple[np.ndarray, dict[str, Any]]:
    lv = np.full(len(b), np.nan)
    for c in ("building:levels", "levels"):
        if c in b.columns:
            v = pd.to_numeric(b[c].astype(str).str.extract(r"(\d+(?:\.\d+)?)")[0],
                              errors="coerce").to_numpy(float)
            lv = np.where(np.isfinite(lv), lv, v)
    lv = np.where((lv > 0) & (lv < 200), lv, np.nan)
    known = np.isfinite(lv)
    typ = b["building"].astype(str).str.lower().to_numpy() if "building" in b else \
        np.array(["yes"] * len(b))
    med = float(np.median(lv[known])) if known.any() else float(DEFAULT_BUILDING_LEVELS)
    house = np.isin(typ, list(_HOUSE_TYPES))
    lv = np.where(known, lv, np.where(house, 1.0, med))
    return lv, {"buildings_with_levels": int(known.sum()), "levels_assumed": med}


def osm_residential_buildings(path: str | Path | OnlineSource, crs: CRSLike,
                              residential_areas: np.ndarray | None = None
                              ) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    """Residential buildings of an OSM file with ``floor_area_m2`` = footprint × levels.

    Counted: buildings tagged with a residential type (``apartments``, ``house``,
    ``residential`` …) anywhere, and generic ``building=yes`` inside residential land use
    (``residential_areas``, polygons in ``crs``). Non-residential types, and buildings with
    ``amenity``/``shop``/``office`` tags, are left out.

    Parameters
    ----------
    path
        An OSM file, or an online source ``("place", name)`` / ``("bbox", (w, s, e, n))``
        downloaded with osmnx (see :func:`care15.sources.osm.features`).
    crs
        Metric CRS of the result.
    residential_areas
        Residential land-use polygons (shapely, in ``crs``) inside which generic buildings
        count as residential.

    Returns
    -------
    buildings : geopandas.GeoDataFrame
        Footprints with ``floor_area_m2``, in ``crs``.
    info : dict
        ``buildings_in_file``, ``residential_buildings``, ``buildings_with_levels`` and
        ``levels_assumed`` (levels of a building without ``building:levels``).
    """
    from .osm import features

    b = features(path, {"building": True})
    info: dict[str, Any] = {"buildings_in_file": len(b)}
    if len(b) == 0:
        return gpd.GeoDataFrame({"floor_area_m2": []}, geometry=[], crs=crs), info
    b = b.to_crs(crs)
    geom = b.geometry.to_numpy()
    area_type = np.isin(shapely.get_type_id(geom), (3, 6))
    b = b.loc[area_type].reset_index(drop=True)
    typ = b["building"].astype(str).str.lower().to_numpy()
    used = np.zeros(len(b), bool)
    for c in ("amenity", "shop", "office", "tourism"):
        if c in b.columns:
            used |= b[c].notna().to_numpy() & (b[c].astype(str) != "nan").to_numpy()
    res_type = np.isin(typ, list(_RESIDENTIAL_TYPES))
    generic = ~res_type & ~np.isin(typ, list(_NON_RESIDENTIAL)) & ~used
    in_res = np.zeros(len(b), bool)
    if residential_areas is not None and len(residential_areas) and generic.any():
        tree = shapely.STRtree(residential_areas)
        bi, _ = tree.query(shapely.centroid(b.geometry.to_numpy()[generic]),
                           predicate="intersects")
        gi = np.flatnonzero(generic)
        in_res[gi[np.unique(bi)]] = True
    keep = (res_type & ~used) | (generic & in_res)
    b = b.loc[keep].reset_index(drop=True)
    lv, linfo = _levels(b)
    b["floor_area_m2"] = shapely.area(shapely.make_valid(b.geometry.to_numpy())) * lv
    info.update(linfo)
    info["residential_buildings"] = len(b)
    return b[["floor_area_m2", "geometry"]], info


def population_from_osm(path: str | Path | OnlineSource, *, total_population: float,
                        crs: CRSLike, cell_size_m: float = 100.0, shares: Shares | None = None,
                        bounds: tuple[float, float, float, float] | None = None,
                        floor_m2_per_resident: float | None = None,
                        max_residents_per_ha: float | None = None,
                        capacity_column: bool = False) -> gpd.GeoDataFrame:
    """Distribute a known total (e.g. a census figure) over cells by what OSM maps.

    Each cell is weighted by the first measure it has (residential building floor area, else
    residential land use × a floor-area ratio, else residential street length × floor area per
    metre; the ratios calibrated on cells with both measures, see the module docstring), and
    the total is split between the three methods by their summed weights. No cell receives
    more than its capacity:

    - a cell weighted by buildings houses at most its residential floor area ÷
      ``floor_m2_per_resident`` (7th census, 城市家庭户人均住房建筑面积),
    - a cell weighted by land use at most ``max_residents_per_ha`` × its hectares of
      residential land use,
    - a cell weighted by streets at most ``max_residents_per_ha`` × the cell's hectares,

    and no cell more than ``max_residents_per_ha`` × the cell's hectares (the ceiling). Inside a
    method the residents are placed by water-filling: in proportion to the weights, cells at
    capacity kept at capacity and the rest shared among the others, the fill level solved
    exactly (sorted saturation levels, no iteration over cells). What a method cannot house
    goes to the next one (buildings → land use → streets), never onto full cells; what the
    streets cannot house fills spare capacity left in cells of the other methods. Only when
    the total exceeds every cell's capacity are the residents placed in proportion to
    capacity, and then the report says by how much the ceiling is exceeded (``warning``).

    Parameters
    ----------
    path
        An OSM file, or an online source ``("place", name)`` / ``("bbox", (w, s, e, n))``
        downloaded with osmnx (see :func:`care15.sources.osm.features`).
    total_population
        Residents to distribute (positive).
    crs
        Metric CRS of the output grid (the network's).
    cell_size_m
        Cell side in metres.
    shares
        Age shares for ``pop_60plus`` and ``pop_0to3`` (default: the national census shares).
    bounds
        The study area in ``crs``; by default the extent of the file's residential features.
    floor_m2_per_resident
        Housing floor area per resident, m²; default the standard
        ``housing_floor_m2_per_person`` (36.52, urban households, 7th census).
    max_residents_per_ha
        The ceiling, residents per hectare; default the standard ``max_residents_per_ha``
        (1,500).
    capacity_column
        Add ``pop_capacity``, the residents each cell can house by its method (left out by
        default: the exported tables document a fixed set of columns).

    Returns
    -------
    geopandas.GeoDataFrame
        Cells with residents: ``cell_id``, ``pop_total``, ``pop_60plus``, ``pop_0to3``
        (``pop_total`` × the shares), ``pop_method`` (``"buildings"``, ``"landuse"`` or
        ``"streets"``), and ``pop_capacity`` when ``capacity_column`` is set. The
        total is conserved: ``pop_total.sum() == total_population`` to the last bit or two.
        ``attrs["report"]`` is a JSON-ready dict:

        ``source``, ``method``, ``pop_read``, ``pop_on_grid``, ``pop_outside_area``, ``cells``,
        ``cell_size_m``, ``age_groups_from``
            Bookkeeping shared with the other sources.
        ``by_method``
            Per method (``buildings``, ``landuse``, ``streets``): ``cells``, ``area_km2``
            (their cells' area), ``population``, ``share_of_population``, ``capacity``
            (residents its cells can house), ``capped_cells`` (cells at capacity),
            ``received_from_previous`` (residents the previous method could not house),
            ``moved_to_next`` (residents this method could not house, passed on).
        ``floor_area_ratio``, ``floor_area_ratio_from``, ``floor_m2_per_street_m``, ``floor_m2_per_street_m_from``
            The calibration of land use and streets against buildings.
        ``floor_m2_per_resident``
            Housing floor area per resident used for building capacity, m².
        ``residential_floor_area_m2``
            Mapped residential floor area in the cells.
        ``ceiling_per_ha``, ``ceiling_per_cell``
            The ceiling, residents per hectare and per cell of this size.
        ``capacity_residents``
            Residents all cells can house under these rules.
        ``capped_cells``
            Cells holding their full capacity (all methods).
        ``moved_to_next_method``
            ``{"buildings": n, "landuse": n, "streets": n}``: residents each method could not
            house; the streets' go to spare capacity of the other methods' cells.
        ``placed_in_spare_capacity``
            Residents the streets could not house, placed in other cells' spare capacity.
        ``ceiling_exceeded``, ``residents_over_capacity``
            Whether the total exceeds ``capacity_residents`` (the capacities and the ceiling
            cannot all hold), and by how many residents.
        ``densest_cell_residents``, ``densest_cell_per_ha``, ``densest_cell_id``, ``densest_cell_method``
            The densest cell after capping.
        ``densest_cell_proportional_residents``
            The densest cell under plain proportional weighting (no capacity), for comparison.
        ``densest_cell_implausible``
            ``True`` when the densest cell is above the ceiling (only possible when the total
            exceeds ``capacity_residents``).
        ``warning``
            A plain-language text when the total exceeds ``capacity_residents`` (whether or
            not a cell passes the ceiling: cells of buildings may only pass their floor area),
            else ``None``.
        ``notes``
            Plain-language English sentences for the console: method shares, what was moved
            and why, the densest cell, the ceiling.
        ``standards_used``
            ``{standard key: source}`` of the two norms.
        ``buildings_in_file``, ``residential_buildings``, ``buildings_with_levels``, ``levels_assumed``, ``residential_landuse_polygons``, ``residential_street_km``
            What the file maps.

    Raises
    ------
    InputError
        Non-positive total, non-positive housing floor area or ceiling, or a file with no
        residential buildings, land use or streets.
    """
    from .osm import features, source_name

    shares = shares or Shares()
    if not (total_population and total_population > 0 and math.isfinite(total_population)):
        raise InputError(f"total population must be a positive number, got {total_population!r}")
    m2_pp = std.get("housing_floor_m2_per_person") if floor_m2_per_resident is None \
        else float(floor_m2_per_resident)
    per_ha = std.get("max_residents_per_ha") if max_residents_per_ha is None \
        else float(max_residents_per_ha)
    if not (m2_pp > 0 and math.isfinite(m2_pp)):
        raise InputError(f"floor area per resident must be positive, got {m2_pp!r}")
    if not (per_ha > 0 and math.isfinite(per_ha)):
        raise InputError(f"the ceiling in residents per hectare must be positive, got {per_ha!r}")
    p: Path | OnlineSource = path if isinstance(path, tuple) else Path(path)
    name = source_name(path)
    lu = features(p, {"landuse": ["residential"]})
    lu = lu.to_crs(crs) if len(lu) else lu
    lu_geom = lu.geometry.to_numpy() if len(lu) else np.array([], dtype=object)
    if len(lu_geom):
        lu_geom = shapely.make_valid(lu_geom[np.isin(shapely.get_type_id(lu_geom), (3, 6))])
    bld, binfo = osm_residential_buildings(p, crs, lu_geom)
    st = features(p, {"highway": ["residential", "living_street"]})
    st_geom = st.to_crs(crs).geometry.to_numpy() if len(st) else np.array([], dtype=object)
    if len(st_geom):
        st_geom = st_geom[np.isin(shapely.get_type_id(st_geom), (1, 5))]
    if bounds is None:
        parts = [g for g in (bld.geometry.to_numpy(), lu_geom, st_geom) if len(g)]
        if not parts:
            raise InputError(f"{name}: no residential buildings, residential land use or "
                             "residential streets to place residents on; pass a population "
                             "layer instead (--population)")
        x0, y0, x1, y1 = (float(v) for v in shapely.total_bounds(np.concatenate(parts)))
        bounds = (x0, y0, x1, y1)
    size = cell_size_m
    grid = grid_cells(bounds, size, crs)
    n = len(grid)
    gx0 = math.floor(bounds[0] / size)
    gy0 = math.floor(bounds[1] / size)
    ny = math.ceil(bounds[3] / size) - gy0
    nx_ = math.ceil(bounds[2] / size) - gx0

    def _index(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        i = np.floor(x / size).astype(np.int64) - gx0
        j = np.floor(y / size).astype(np.int64) - gy0
        ok = (i >= 0) & (i < nx_) & (j >= 0) & (j < ny)
        return np.where(ok, j * nx_ + i, -1)

    # meshgrid order in grid_cells: rows of constant j, so index = j * nx + i
    # (1) floor area per cell, by building centroid
    floor: np.ndarray = np.zeros(n)
    if len(bld):
        c = shapely.centroid(bld.geometry.to_numpy())
        k = _index(shapely.get_x(c), shapely.get_y(c))
        ok = k >= 0
        floor = np.bincount(k[ok], weights=bld["floor_area_m2"].to_numpy()[ok], minlength=n)
    # (2) residential land-use area per cell
    land: np.ndarray = np.zeros(n)
    gboxes = grid.geometry.to_numpy()
    if len(lu_geom):
        tree = shapely.STRtree(gboxes)
        li, gi = tree.query(lu_geom, predicate="intersects")
        a = shapely.area(shapely.intersection(lu_geom[li], gboxes[gi]))
        land = np.bincount(gi, weights=a, minlength=n)
        # overlapping land-use polygons must not count twice
        land = np.minimum(land, size * size)
    # (3) residential street length per cell
    street: np.ndarray = np.zeros(n)
    if len(st_geom):
        tree = shapely.STRtree(gboxes)
        si, gi = tree.query(st_geom, predicate="intersects")
        ln = shapely.length(shapely.intersection(st_geom[si], gboxes[gi]))
        street = np.bincount(gi, weights=ln, minlength=n)
    # calibration on cells where the measures overlap
    both_l = (floor > 0) & (land > 0)
    far = float(floor[both_l].sum() / land[both_l].sum()) if both_l.sum() >= 5 \
        else DEFAULT_FLOOR_AREA_RATIO
    both_s = (floor > 0) & (street > 0)
    per_m = float(floor[both_s].sum() / street[both_s].sum()) if both_s.sum() >= 5 \
        else DEFAULT_FLOOR_M2_PER_STREET_M
    tier = np.full(n, -1, dtype=np.int64)
    w = np.zeros(n)
    m1 = floor > 0
    m2 = ~m1 & (land > 0)
    m3 = ~m1 & ~m2 & (street > 0)
    w[m1] = floor[m1]
    w[m2] = land[m2] * far
    w[m3] = street[m3] * per_m
    tier[m1], tier[m2], tier[m3] = 0, 1, 2
    if w.sum() <= 0:
        raise InputError(f"{name}: no residential buildings, residential land use or residential "
                         "streets inside the study area; pass a population layer (--population)")
    keep = w > 0
    cells = grid.loc[keep].reset_index(drop=True)
    w, tier, floor, land = w[keep], tier[keep], floor[keep], land[keep]
    # what each cell can house
    cell_ha = size * size / 1e4
    ceiling = per_ha * cell_ha
    cap = np.full(len(w), ceiling)
    cap[tier == 0] = np.minimum(floor[tier == 0] / m2_pp, ceiling)
    cap[tier == 1] = np.minimum(land[tier == 1] / 1e4 * per_ha, ceiling)
    total = float(total_population)
    pop, flow = _allocate(total, w, cap, tier)
    method = np.array(_METHODS, dtype=object)[tier]
    cells["pop_total"] = pop
    cells["pop_60plus"] = pop * shares.share_60plus
    cells["pop_0to3"] = pop * shares.share_0to3
    cells["pop_method"] = method
    if capacity_column:
        cells["pop_capacity"] = cap
    full = pop >= cap - 2 * _UNIT  # at capacity, to the rounding of _conserve
    cell_area_km2 = size * size / 1e6
    by_method: dict[str, dict[str, float | int]] = {}
    for t, meth in enumerate(_METHODS):
        m = tier == t
        by_method[meth] = {"cells": int(m.sum()),
                           "area_km2": round(float(m.sum()) * cell_area_km2, 3),
                           "population": float(pop[m].sum()),
                           "share_of_population": float(pop[m].sum() / total),
                           "capacity": float(cap[m].sum()),
                           "capped_cells": int((full & m).sum()),
                           "received_from_previous": flow["received"][t],
                           "moved_to_next": flow["moved"][t]}
    proportional = total * w / w.sum()
    report: dict[str, Any] = {
        "source": name, "method": "osm estimate", "pop_read": total,
        "pop_on_grid": float(cells["pop_total"].sum()), "pop_outside_area": 0.0,
        "cells": len(cells), "cell_size_m": size, "age_groups_from": "scenario shares",
        "by_method": by_method, "floor_area_ratio": far,
        "floor_area_ratio_from": "calibrated" if both_l.sum() >= 5 else "default",
        "floor_m2_per_street_m": per_m,
        "floor_m2_per_street_m_from": "calibrated" if both_s.sum() >= 5 else "default",
        "floor_m2_per_resident": m2_pp,
        "residential_floor_area_m2": float(floor.sum()),
        "ceiling_per_ha": per_ha, "ceiling_per_cell": ceiling,
        "capacity_residents": float(cap.sum()),
        "capped_cells": int(full.sum()),
        "moved_to_next_method": dict(zip(_METHODS, flow["moved"], strict=True)),
        "placed_in_spare_capacity": flow["spare"],
        "ceiling_exceeded": flow["over"] > 0,
        "residents_over_capacity": flow["over"],
        "densest_cell_proportional_residents": float(proportional.max()),
        **binfo, "residential_landuse_polygons": len(lu_geom),
        "residential_street_km": float(street.sum() / 1000),
        "standards_used": {k: std.STANDARDS[k].source
                           for k in ("housing_floor_m2_per_person", "max_residents_per_ha")},
    }
    report.update(_densest(cells, size, per_ha))
    report["notes"] = _osm_notes(report, total)
    if report["densest_cell_implausible"] or report["ceiling_exceeded"]:
        what = (f"Implausible density: the densest cell holds "
                f"{report['densest_cell_residents']:,.0f} residents "
                f"({report['densest_cell_per_ha']:,.0f} per ha), above the ceiling of "
                f"{per_ha:,.0f} per ha." if report["densest_cell_implausible"] else
                f"Overcrowded estimate: every cell holds "
                f"{total / report['capacity_residents']:.2f} times what its housing can hold "
                f"(at {m2_pp:g} m² per person and at most {per_ha:,.0f} per ha).")
        report["warning"] = (
            f"{what} The total of {total:,.0f} is more than the housing OSM maps here can hold "
            f"({report['capacity_residents']:,.0f}) by {flow['over']:,.0f} residents; check the "
            "total and the study area, or pass a population layer (--population).")
        report["notes"].append(report["warning"])
    cells.attrs["report"] = report
    return cells


_METHODS = ("buildings", "landuse", "streets")


def _water_fill(amount: float, weight: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Place ``amount`` in proportion to ``weight`` with no cell above ``capacity``.

    The answer is ``min(capacity, level × weight)`` with the level at which it sums to
    ``amount``: cells saturate in order of ``capacity / weight``, so with those ratios sorted the
    placed amount at each ratio is a cumulative sum, and the level lies between two of them
    (exact, vectorised). Cells of zero weight or capacity get nothing; an ``amount`` above the
    total capacity fills every cell (the caller places the rest).
    """
    x = np.zeros(len(weight))
    ok = (weight > 0) & (capacity > 0)
    if amount <= 0 or not ok.any():
        return x
    wt, cp = weight[ok], capacity[ok]
    if amount >= cp.sum():
        x[ok] = cp
        return x
    ratio = cp / wt
    order = np.argsort(ratio, kind="stable")
    r, c, wo = ratio[order], cp[order], wt[order]
    full_before = np.concatenate(([0.0], np.cumsum(c)[:-1]))  # capacity of cells 0..k-1
    weight_from = np.cumsum(wo[::-1])[::-1]  # weight of cells k..end
    placed_at = full_before + r * weight_from  # placed when the level reaches r[k]
    k = min(int(np.searchsorted(placed_at, amount, side="left")), len(r) - 1)
    level = (amount - full_before[k]) / weight_from[k]
    out = np.empty(len(r))
    out[order] = np.minimum(c, level * wo)
    x[ok] = out
    return x


def _allocate(total: float, weight: np.ndarray, capacity: np.ndarray, tier: np.ndarray
              ) -> tuple[np.ndarray, dict[str, Any]]:
    """Split ``total`` between the methods by weight, then cap and cascade (see the caller)."""
    n_t = len(_METHODS)
    wsum = np.array([weight[tier == t].sum() for t in range(n_t)])
    share = total * wsum / wsum.sum()
    x = np.zeros(len(weight))
    carry = 0.0
    received, moved = [], []
    for t in range(n_t):
        m = tier == t
        want = float(share[t]) + carry
        put = min(want, float(capacity[m].sum()))
        if m.any():
            x[m] = _water_fill(put, weight[m], capacity[m])
        received.append(carry)
        carry = max(want - put, 0.0)
        moved.append(carry)
    spare = 0.0
    if carry > 0:  # the streets' cells are full: spare capacity of the other cells
        room = np.maximum(capacity - x, 0.0)
        add = _water_fill(min(carry, float(room.sum())), weight, room)
        x += add
        spare = float(add.sum())
        carry = max(carry - spare, 0.0)
    over = 0.0
    if carry > total * 1e-12:  # every cell is full: in proportion to capacity, reported
        over = max(total - float(capacity.sum()), 0.0)
        x = capacity * (total / capacity.sum())
    return _conserve(x, total, capacity), {"received": received, "moved": moved, "spare": spare,
                                           "over": over}


#: Residents are held in whole multiples of this fraction, so that sums of up to 2**42
#: residents are exact in floating point whatever the order of summation (numpy, pandas,
#: bottleneck): the total is conserved to the last bit, not merely to rounding.
_UNIT = 2.0 ** -10


def _conserve(x: np.ndarray, total: float, capacity: np.ndarray) -> np.ndarray:
    """Round ``x`` to multiples of :data:`_UNIT` that add up to ``total`` exactly.

    Every cell is rounded down, and the units lost are given back below the cells'
    capacities: every cell with room gets up to ``L`` units (the largest ``L`` that does not
    give back too many, found by bisection), and the few left over go one each to the cells
    with room and the largest remainders. When no cell has room (a total above every
    capacity) they go one each by remainder. A total that is not itself a multiple of the unit
    leaves its sub-unit residue on the largest cell (exact to the last bit for numpy's sum).
    """
    if len(x) == 0:
        return x
    scaled = np.maximum(x, 0.0) / _UNIT
    units = np.floor(scaled)
    by_remainder = np.argsort(-(scaled - units), kind="stable")
    total_units = math.floor(total / _UNIT)
    missing = int(total_units - units.sum())
    room = np.maximum(np.floor(capacity / _UNIT) - units, 0.0)
    if 0 < missing <= room.sum():
        lo, hi = 0, int(room.max())  # S(L) = sum(min(room, L)) <= missing holds at lo
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if np.minimum(room, mid).sum() <= missing:
                lo = mid
            else:
                hi = mid
        units += np.minimum(room, lo)
        left = int(total_units - units.sum())
        if left > 0:
            more = by_remainder[room[by_remainder] > lo][:left]
            units[more] += 1
    elif missing > 0:
        units += missing // len(x)
        units[by_remainder[: missing % len(x)]] += 1
    elif missing < 0:  # x added up to more than the total (by rounding): take from the largest
        units[np.argsort(-units)[: -missing]] -= 1
    out = units * _UNIT
    residue = total - total_units * _UNIT
    if residue:
        out[int(np.argmax(out))] += residue
    return out


def _densest(cells: gpd.GeoDataFrame, size: float, per_ha: float) -> dict[str, Any]:
    """Find the densest cell, its density, and whether it is above the ceiling."""
    if len(cells) == 0:
        return {"densest_cell_residents": 0.0, "densest_cell_per_ha": 0.0,
                "densest_cell_id": None, "densest_cell_method": None,
                "densest_cell_implausible": False, "warning": None}
    pop = cells["pop_total"].to_numpy(float)
    i = int(np.argmax(pop))
    ha = size * size / 1e4
    return {"densest_cell_residents": float(pop[i]),
            "densest_cell_per_ha": float(pop[i] / ha),
            "densest_cell_id": str(cells["cell_id"].iloc[i]),
            "densest_cell_method": str(cells["pop_method"].iloc[i]),
            "densest_cell_implausible": bool(pop[i] / ha > per_ha * (1 + 1e-9)),
            "warning": None}


_LABELS = {"buildings": "residential buildings", "landuse": "residential land use",
           "streets": "residential street length"}


def _n(count: int, noun: str) -> str:
    """Format ``"1 cell"`` / ``"2,000 cells"``."""
    return f"{count:,} {noun}" + ("" if count == 1 else "s")


def _osm_notes(rep: dict[str, Any], total: float) -> list[str]:
    """Plain-language notes on how the OSM estimate placed the total."""
    bm = rep["by_method"]
    per_ha, m2_pp = rep["ceiling_per_ha"], rep["floor_m2_per_resident"]
    notes = ["Residents placed by " + ", ".join(
        f"{_LABELS[k]} {v['share_of_population']:.1%} ({_n(v['cells'], 'cell')})"
        for k, v in bm.items() if v["cells"]) + "."]
    b, lu, st = bm["buildings"], bm["landuse"], bm["streets"]
    moved = rep["moved_to_next_method"]
    if moved["buildings"] > 0:
        went = " and then ".join(_LABELS[k] for k in ("landuse", "streets")
                                 if bm[k]["received_from_previous"] > 0 and bm[k]["cells"])
        notes.append(
            f"Mapped residential buildings ({rep['residential_floor_area_m2']:,.0f} m² of floor "
            f"area) can house {b['capacity']:,.0f} residents at {m2_pp:g} m² per person; "
            f"{moved['buildings']:,.0f} more than that fell to them by weight and were placed "
            f"by {went or 'spare capacity elsewhere'} instead.")
    mapped = b["capacity"] + lu["capacity"]
    if total > mapped and (b["cells"] or lu["cells"]):
        notes.append(
            f"The total of {total:,.0f} exceeds what mapped residential buildings and land use "
            f"can house ({mapped:,.0f}) by {total - mapped:,.0f} residents "
            f"({(total - mapped) / total:.1%})" + (
                "; those can only live in cells known by residential street length "
                f"({_n(st['cells'], 'cell')})." if st["cells"] else "."))
    elif moved["landuse"] > 0:
        notes.append(
            f"Residential land use holds at most {per_ha:,.0f} residents per hectare; "
            f"{moved['landuse']:,.0f} residents it could not hold were placed by street length.")
    if rep["placed_in_spare_capacity"] > 0:
        notes.append(
            f"Cells known only by residential streets hold at most {rep['ceiling_per_cell']:,.0f} "
            f"residents each; {rep['placed_in_spare_capacity']:,.0f} residents they could not "
            "hold were placed in spare capacity of cells weighted by buildings or land use.")
    if rep["ceiling_exceeded"]:
        over = rep["residents_over_capacity"]
        notes.append(
            f"The total cannot be placed under the ceilings: all cells together hold "
            f"{rep['capacity_residents']:,.0f}, {over:,.0f} residents ({over / total:.1%}) fewer "
            f"than the total, so every cell was filled in proportion to its capacity and holds "
            f"{total / rep['capacity_residents']:.2f} times it.")
    if rep["capped_cells"]:
        verb = "holds its" if rep["capped_cells"] == 1 else "hold their"
        notes.append(f"{_n(rep['capped_cells'], 'cell')} {verb} full capacity (" + ", ".join(
            f"{v['capped_cells']:,} by {k}" for k, v in bm.items() if v["capped_cells"]) + ").")
        if not rep["ceiling_exceeded"] and rep["capped_cells"] >= 0.5 * rep["cells"]:
            notes.append(
                f"{rep['capped_cells']:,} of {rep['cells']:,} cells are full: the total is "
                f"{total / rep['capacity_residents']:.0%} of what the housing OSM maps here can "
                "hold, so where residents live follows the map's capacities more than its "
                "weights; a population layer would be more reliable.")
    notes.append(
        f"Densest cell: {rep['densest_cell_residents']:,.0f} residents "
        f"({rep['densest_cell_per_ha']:,.0f} per ha, by {rep['densest_cell_method']}); "
        f"ceiling {per_ha:,.0f} per ha (care15 assumption), housing {m2_pp:g} m² of floor area "
        "per person (7th census, urban households). Plain weighting without capacities would "
        f"have put {rep['densest_cell_proportional_residents']:,.0f} in the densest cell.")
    return notes
