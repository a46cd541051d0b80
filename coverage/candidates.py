"""Candidate sites for new service points: from a planner's file, OSM tags, or generated.

Every source returns a GeoDataFrame in EPSG:4326 with ``candidate_id``, ``name``,
``capacity_places`` (托位, NaN unknown), ``source`` and point geometry. :func:`clean_candidates`
drops candidates far from the street network, on water or duplicated, reporting how many in
``.attrs["dropped"]`` and a :class:`~care15._errors.DataWarning`.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, overload

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import DataWarning, InputError
from ._tables import pick_column as _pick

if TYPE_CHECKING:
    from .network import Snapped, WalkNetwork

__all__ = [
    "candidates_from_file",
    "candidates_from_osm",
    "clean_candidates",
    "generated_candidates",
    "water_from_osm",
]

_LON = ("lon", "lng", "longitude", "x", "经度")
_LAT = ("lat", "latitude", "y", "纬度")
_NAME = ("name", "名称", "地点", "候选点")
_CAP = ("capacity_places", "places", "托位", "托位数", "capacity")


def candidates_from_file(path: str | Path, *, coords: str = "wgs84") -> gpd.GeoDataFrame:
    """Read candidate sites from CSV, XLSX or GeoJSON (lon/lat in WGS-84, GCJ-02 or BD-09).

    Rows without a usable coordinate are reported by row number (DataWarning) and dropped;
    their numbers are in ``.attrs["dropped_rows"]``.

    Parameters
    ----------
    path
        The file: CSV/XLSX with longitude and latitude columns (``lon``/``lng``/``经度`` and
        ``lat``/``纬度``), or a spatial layer (GeoJSON, GeoPackage, Shapefile) with its CRS.
        A name column (``name``/``名称``) and a places column (``capacity_places``/``托位``)
        are picked up when present.
    coords
        Coordinate system of the lon/lat columns: ``"wgs84"``, ``"gcj02"`` or ``"bd09"``
        (CSV/XLSX only; a spatial layer carries its own CRS).

    Returns
    -------
    GeoDataFrame
        Candidates in EPSG:4326 with ``candidate_id`` (``k<row>``), ``name``,
        ``capacity_places``, ``source`` (the file name) and point geometry.

    Raises
    ------
    InputError
        When the file is missing, empty, of an unknown type, has no CRS or no lon/lat
        columns, or ``coords`` is given for a spatial layer.
    """
    from .chinacoords import to_wgs84

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: candidate file not found")
    suf = p.suffix.lower()
    if suf in (".geojson", ".json", ".gpkg", ".shp"):
        g = gpd.read_file(p)
        if g.crs is None:
            raise InputError(f"{p}: no CRS; save the layer with its coordinate system")
        g = g.to_crs(4326)
        df = pd.DataFrame(g.drop(columns="geometry"))
        pts = g.geometry.representative_point()
        df["_lon"], df["_lat"] = pts.x.to_numpy(), pts.y.to_numpy()
        lon_c: str | None = "_lon"
        lat_c: str | None = "_lat"
        if coords != "wgs84":
            raise InputError(f"{p}: a spatial layer carries its own CRS; --candidates-crs "
                             f"(coords={coords!r} in Python) applies only to the lon/lat columns "
                             "of CSV/XLSX files")
    elif suf in (".csv", ".txt"):
        try:
            df = pd.read_csv(p, encoding="utf-8-sig")
        except UnicodeDecodeError:
            df = pd.read_csv(p, encoding="gbk")
        lon_c, lat_c = _pick(list(df.columns), _LON), _pick(list(df.columns), _LAT)
    elif suf in (".xlsx", ".xlsm"):
        df = pd.read_excel(p)
        lon_c, lat_c = _pick(list(df.columns), _LON), _pick(list(df.columns), _LAT)
    else:
        raise InputError(f"{p}: unsupported file type {suf!r}; use CSV, XLSX or GeoJSON")
    if len(df) == 0:
        raise InputError(f"{p}: the file has no rows")
    if lon_c is None or lat_c is None:
        raise InputError(f"{p}: no longitude/latitude columns found (looked for "
                         f"{'/'.join(_LON)} and {'/'.join(_LAT)}); columns: {list(df.columns)}")
    lon = pd.to_numeric(df[lon_c], errors="coerce").to_numpy(dtype=float)
    lat = pd.to_numeric(df[lat_c], errors="coerce").to_numpy(dtype=float)
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    rows = (np.flatnonzero(bad) + 1).tolist()
    if rows:
        warnings.warn(f"{p}: rows {rows} have no usable coordinate and are left out; fix "
                      f"columns {lon_c!r}/{lat_c!r}", DataWarning, stacklevel=2)
    ok = ~bad
    lon, lat = to_wgs84(lon[ok], lat[ok], coords)
    name_c = _pick(list(df.columns), _NAME)
    cap_c = _pick(list(df.columns), _CAP)
    out = gpd.GeoDataFrame({
        "candidate_id": [f"k{i}" for i in np.flatnonzero(ok) + 1],
        "name": df.loc[ok, name_c].astype(str).to_numpy() if name_c else "",
        "capacity_places": (pd.to_numeric(df.loc[ok, cap_c], errors="coerce").to_numpy(float)
                            if cap_c else np.nan),
        "source": p.name}, geometry=shapely.points(lon, lat), crs=4326)
    out.attrs["dropped_rows"] = rows
    return out


def candidates_from_osm(path: str | Path | tuple[str, Any],
                        tags: dict[str, Any]) -> gpd.GeoDataFrame:
    """OSM features a planner names by tag, e.g. ``{"amenity": ["community_centre"]}``.

    Parameters
    ----------
    path
        An OSM file, or an online source ``("place", name)`` / ``("bbox", (w, s, e, n))``
        (see :func:`care15.sources.osm.features`).
    tags
        OSM tags to select, as in osmnx: key → list of values, or ``True`` for any value.

    Returns
    -------
    GeoDataFrame
        Candidates in EPSG:4326 (a representative point of each feature) with
        ``candidate_id`` (``osm<type letter><id>``), ``name``, ``capacity_places`` (NaN) and
        ``source`` = ``"osm"``.
    """
    from .sources.osm import features

    f = features(path, tags)
    pts = f.geometry.representative_point() if len(f) else gpd.GeoSeries([], crs=4326)
    names = f["name"].fillna("").astype(str).to_numpy() if "name" in f else ""
    return gpd.GeoDataFrame({"candidate_id": [f"osm{t[0]}{i}" for t, i in
                                              zip(f.get("osm_type", pd.Series(dtype=str)).astype(str),
                                                  f.get("osm_id", pd.Series(dtype=str)),
                                                  strict=True)],
                             "name": names, "capacity_places": np.nan, "source": "osm"},
                            geometry=pts.values, crs=4326)


def water_from_osm(path: str | Path | tuple[str, Any]) -> gpd.GeoDataFrame:
    """Water polygons of an OSM file (``natural=water``, ``waterway=riverbank``, reservoirs).

    Parameters
    ----------
    path
        An OSM file, or an online source as for :func:`candidates_from_osm`.

    Returns
    -------
    GeoDataFrame
        Valid (Multi)Polygons in EPSG:4326, for ``water=`` of :func:`clean_candidates`.
    """
    from .sources.osm import features

    f = features(path, {"natural": ["water"], "waterway": ["riverbank"],
                                  "landuse": ["reservoir", "basin"], "water": True})
    if len(f) == 0:
        return gpd.GeoDataFrame(geometry=[], crs=4326)
    geom = f.geometry.to_numpy()
    poly = np.isin(shapely.get_type_id(geom), (3, 6))
    return gpd.GeoDataFrame(geometry=shapely.make_valid(geom[poly]), crs=4326)


def generated_candidates(network: WalkNetwork, cells: gpd.GeoDataFrame, *,
                         spacing_m: float = 200.0, populated_only: bool = True
                         ) -> gpd.GeoDataFrame:
    """Network nodes thinned to one per ``spacing_m`` square, inside populated cells.

    Only nodes of the largest network piece are used (a site on a small piece reaches few).

    Parameters
    ----------
    network
        The walking network.
    cells
        Population cells (any CRS) with ``pop_total``.
    spacing_m
        Side of the squares (in the network CRS) that keep one node each.
    populated_only
        Keep only nodes inside cells with residents.

    Returns
    -------
    GeoDataFrame
        Candidates in EPSG:4326 with ``candidate_id`` (``g1``, ``g2`` …), ``name`` (empty),
        ``capacity_places`` (NaN) and ``source`` = ``"generated"``.
    """
    pts = gpd.GeoDataFrame(geometry=shapely.points(network.x, network.y), crs=network.crs)
    pts = pts.loc[network.component == 0] if network.n_components > 1 else pts
    if populated_only and len(cells):
        c = cells.loc[cells["pop_total"] > 0, ["geometry"]].to_crs(network.crs)
        j = gpd.sjoin(pts, c, predicate="intersects", how="inner")
        pts = pts.loc[np.unique(j.index)]
    xy = np.c_[pts.geometry.x, pts.geometry.y]
    key = np.floor(xy / spacing_m).astype(np.int64)
    _, first = np.unique(key, axis=0, return_index=True)
    pts = pts.iloc[np.sort(first)]
    out = gpd.GeoDataFrame({"candidate_id": [f"g{i + 1}" for i in range(len(pts))],
                            "name": "", "capacity_places": np.nan, "source": "generated"},
                           geometry=pts.geometry.values, crs=network.crs).to_crs(4326)
    return out


@overload
def clean_candidates(candidates: gpd.GeoDataFrame, network: WalkNetwork, *,
                     max_access_m: float = ..., water: gpd.GeoDataFrame | None = ...,
                     duplicate_m: float = ..., warn: bool = ...,
                     return_snap: Literal[False] = ...) -> gpd.GeoDataFrame:
    ...  # numpydoc ignore=GL08


@overload
def clean_candidates(candidates: gpd.GeoDataFrame, network: WalkNetwork, *,
                     max_access_m: float = ..., water: gpd.GeoDataFrame | None = ...,
                     duplicate_m: float = ..., warn: bool = ...,
                     return_snap: Literal[True]) -> tuple[gpd.GeoDataFrame, Snapped]:
    ...  # numpydoc ignore=GL08


def clean_candidates(candidates: gpd.GeoDataFrame, network: WalkNetwork, *,
                     max_access_m: float = 250.0, water: gpd.GeoDataFrame | None = None,
                     duplicate_m: float = 10.0, warn: bool = True, return_snap: bool = False
                     ) -> gpd.GeoDataFrame | tuple[gpd.GeoDataFrame, Snapped]:
    """Drop candidates far from the network, on water, or within ``duplicate_m`` of another.

    The counts are in ``.attrs["dropped"]`` and, with ``warn``, reported in one DataWarning.

    Parameters
    ----------
    candidates
        Candidate points (any CRS) with ``candidate_id``.
    network
        The walking network.
    max_access_m
        Candidates farther than this from every walkable edge are dropped.
    water
        Water polygons (any CRS); candidates within them are dropped.
    duplicate_m
        Of candidates in the same ``duplicate_m`` square (network CRS), the first is kept.
    warn
        Report the counts in a :class:`~care15._errors.DataWarning`.
    return_snap
        Also return the kept candidates' :class:`~care15.network.Snapped` positions, so
        callers need not snap them again.

    Returns
    -------
    GeoDataFrame or tuple of GeoDataFrame and Snapped
        The kept candidates in EPSG:4326 (index reset), with ``attrs["dropped"]`` counting
        ``far_from_network``, ``on_water`` and ``duplicate``; with ``return_snap``,
        ``(candidates, snapped)``.

    Warns
    -----
    DataWarning
        With ``warn``, when any candidate is dropped.
    """
    c = candidates.to_crs(network.crs).reset_index(drop=True)
    dropped = {"far_from_network": 0, "on_water": 0, "duplicate": 0}
    snap = network.snap_gdf(c, max_access_m=max_access_m)
    dropped["far_from_network"] = int((~snap.ok).sum())
    keep = np.flatnonzero(snap.ok)  # positions in the snapped array of the rows kept so far
    c = c.iloc[keep].reset_index(drop=True)
    if water is not None and len(water) and len(c):
        w = water.to_crs(network.crs)
        j = gpd.sjoin(c[["geometry"]], w[["geometry"]], predicate="within", how="inner")
        on = np.unique(j.index)
        dropped["on_water"] = len(on)
        dry = np.setdiff1d(np.arange(len(c)), on)
        c, keep = c.iloc[dry].reset_index(drop=True), keep[dry]
    if len(c):
        key = np.floor(np.c_[c.geometry.x, c.geometry.y] / duplicate_m).astype(np.int64)
        _, first = np.unique(key, axis=0, return_index=True)
        dropped["duplicate"] = len(c) - len(first)
        first = np.sort(first)
        c, keep = c.iloc[first].reset_index(drop=True), keep[first]
    if warn and any(dropped.values()):
        warnings.warn("candidates dropped: " + ", ".join(f"{v} {k.replace('_', ' ')}"
                                                          for k, v in dropped.items() if v),
                      DataWarning, stacklevel=2)
    out = c.to_crs(4326)
    out.attrs["dropped"] = dropped
    return (out, snap.subset(keep)) if return_snap else out
