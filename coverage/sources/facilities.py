"""Elderly-care and childcare facilities: from a planner's list or from OSM tags and names.

Every loader returns the same table (EPSG:4326):

==================  =========================================================================
``facility_id``     stable id: ``f<row>`` for a file row, ``<osm_type>/<osm_id>`` for OSM
``name``            the facility's name as given (any language)
``category``        ``elderly`` or ``childcare`` (keys of :data:`care15.standards.CATEGORIES`)
``subtype``         sub-type key, e.g. ``care_home``, ``day_care``, ``nursery``, ``kindergarten``
``beds``            elderly-care beds (床位), NaN when unknown
``places``          childcare places (托位), NaN when unknown
``floor_area_m2``   floor area (建筑面积, m²), NaN when unknown
``counts_as_supply``  False for kinds that are not full-day care (早教 early-education centres)
``source``          file name or ``OSM``
``source_row``      1-based data row in the file (header not counted); NaN for OSM
``lon``, ``lat``    WGS-84 degrees (converted from GCJ-02/BD-09 when declared)
==================  =========================================================================

Rows without a usable coordinate are left out with a :class:`~care15.DataWarning` naming
their row numbers (also in ``.attrs["dropped_rows"]``); duplicates (same name within 5 m) are
left out the same way (``.attrs["duplicate_rows"]``).
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from numpy.typing import ArrayLike

from .._errors import DataWarning, InputError
from .._tables import pick_column as _pick
from .._tables import read_layer
from ..chinacoords import COORD_SYSTEMS, to_wgs84
from ..standards import CATEGORIES, Subtype

if TYPE_CHECKING:
    from ..network import WalkNetwork

__all__ = [
    "FACILITY_COLUMNS",
    "check_datum_offset",
    "classify",
    "facilities_from_file",
    "facilities_from_osm",
    "facility_table",
]

FACILITY_COLUMNS = ["facility_id", "name", "category", "subtype", "beds", "places",
                    "floor_area_m2", "counts_as_supply", "source", "source_row", "lon", "lat",
                    "geometry"]

_LON = ("lon", "lng", "long", "longitude", "x", "经度", "wgs84_lon", "gcj02_lon", "bd09_lon")
_LAT = ("lat", "latitude", "y", "纬度", "wgs84_lat", "gcj02_lat", "bd09_lat")
_NAME = ("name", "名称", "机构名称", "设施名称", "name_zh", "name:zh", "title")
_TYPE = ("subtype", "type", "category", "类别", "类型", "设施类型", "机构类型", "kind")
_BEDS = ("beds", "床位", "床位数", "bed_count")
_PLACES = ("places", "托位", "托位数", "capacity_places", "capacity")
_AREA = ("floor_area_m2", "建筑面积", "面积", "area_m2", "floor_area", "建筑面积(m2)",
         "建筑面积（平方米）")

# category words in a type column (when it names only the category, not a sub-type)
_CATEGORY_WORDS = {
    "elderly": ("elderly", "养老", "老年", "为老", "elderly care", "senior"),
    "childcare": ("childcare", "托育", "育儿", "child care", "0-3", "0–3"),
}


def _subtypes() -> list[tuple[str, Subtype]]:
    return [(c.key, s) for c in CATEGORIES.values() for s in c.subtypes]


def classify(text: object, *,
             categories: Iterable[str] | None = None) -> tuple[str, str] | None:
    """Find the (category, subtype) a type label or name denotes.

    Tries, in order: a sub-type key (``care_home``), a sub-type label in Chinese or English
    (``日间照料中心``), a name keyword from the glossary (``托老所`` → day care; exclusions such
    as ``儿童福利院`` are honoured), then a bare category word (``养老`` → elderly, sub-type
    ``home_care_centre``; ``托育`` → childcare, ``nursery``).

    Parameters
    ----------
    text
        A type label or a facility name (any value of a table cell; None and NaN match
        nothing).
    categories
        Only consider these categories (default all of :data:`care15.standards.CATEGORIES`).

    Returns
    -------
    tuple of str or None
        ``(category, subtype)``, or None when the text names no known facility kind.

    Examples
    --------
    >>> from care15.sources.facilities import classify
    >>> classify("托老所"), classify("kindergarten"), classify("bakery")
    (('elderly', 'day_care'), ('childcare', 'kindergarten'), None)
    """
    if text is None or (isinstance(text, float) and np.isnan(text)):
        return None
    t = str(text).strip()
    if not t:
        return None
    tl = t.lower()
    allowed = set(categories) if categories is not None else set(CATEGORIES)
    subs = [(c, s) for c, s in _subtypes() if c in allowed]
    for c, s in subs:
        if tl == s.key or tl in {x.lower() for x in s.label_zh.split("/")} \
                or tl == s.label_zh.lower() or tl == s.label_en.lower():
            return c, s.key
    # name keywords: the longest matching keyword wins (幼儿园托班 → kindergarten, 托育园 → nursery)
    best: tuple[int, str, str] | None = None
    for c, s in subs:
        if any(x.lower() in tl for x in s.exclude):
            continue
        for kw in s.include:
            if kw.lower() in tl and (best is None or len(kw) > best[0]):
                best = (len(kw), c, s.key)
    if best is not None:
        return best[1], best[2]
    for c, words in _CATEGORY_WORDS.items():
        if c in allowed and any(w in tl for w in words):
            return c, CATEGORIES[c].subtypes[2 if c == "elderly" else 0].key
    return None


def _counts(subtype: str) -> bool:
    for _, s in _subtypes():
        if s.key == subtype:
            return s.counts_as_supply
    return True


def _num(df: pd.DataFrame, col: str | None, path: Path) -> np.ndarray:
    if col is None:
        return np.full(len(df), np.nan)
    raw = df[col]
    v = pd.to_numeric(raw.astype(str).str.replace(",", "").str.strip()
                      .replace({"": np.nan, "nan": np.nan, "None": np.nan}), errors="coerce")
    bad = raw.notna() & v.isna() & (raw.astype(str).str.strip() != "")
    if bad.any():
        warnings.warn(f"{path}: column {col!r} rows {(np.flatnonzero(bad) + 1).tolist()} are not "
                      "numbers and are read as unknown", DataWarning, stacklevel=3)
    v = v.to_numpy(dtype=float, copy=True)  # pandas may hand out a read-only view
    neg = v < 0
    if neg.any():
        warnings.warn(f"{path}: column {col!r} rows {(np.flatnonzero(neg) + 1).tolist()} are "
                      "negative and are read as unknown", DataWarning, stacklevel=3)
        v[neg] = np.nan
    return v


def _read_table(p: Path) -> tuple[pd.DataFrame, np.ndarray | None, np.ndarray | None]:
    """Read the attribute table, and lon/lat from the geometry for spatial formats."""
    suf = "".join(p.suffixes[-1:]).lower()
    if suf in (".geojson", ".json", ".gpkg", ".shp", ".parquet"):
        g = read_layer(p, what="facility file")
        if len(g) == 0:
            raise InputError(f"{p}: the layer is empty (no features)")
        if g.crs is None:
            raise InputError(f"{p}: the layer has no CRS; save it with its coordinate system "
                             "(GeoJSON is EPSG:4326 by definition)")
        g = g.to_crs(4326)
        geom = g.geometry.to_numpy()
        ok = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
        pts = np.full(len(g), None, dtype=object)
        pts[ok] = shapely.point_on_surface(shapely.make_valid(geom[ok]))
        lon = np.full(len(g), np.nan)
        lat = np.full(len(g), np.nan)
        lon[ok], lat[ok] = shapely.get_x(pts[ok]), shapely.get_y(pts[ok])
        return pd.DataFrame(g.drop(columns=g.geometry.name)), lon, lat
    if suf in (".csv", ".txt", ".tsv"):
        if not p.read_bytes().strip().lstrip(b"\xef\xbb\xbf").strip():
            raise InputError(f"{p}: the file is empty; export the list again with a header row "
                             "and one row per facility")
        sep = "\t" if suf == ".tsv" else None
        for enc in ("utf-8-sig", "gb18030"):
            try:
                return pd.read_csv(p, encoding=enc, sep=sep, engine="python",
                                   dtype=str, keep_default_na=False), None, None
            except UnicodeDecodeError:
                continue
            except Exception as e:
                raise InputError(f"{p}: could not read the CSV ({type(e).__name__}: {e})") from e
        raise InputError(f"{p}: the CSV is neither UTF-8 nor GB18030/GBK; save it as UTF-8")
    if suf in (".xlsx", ".xlsm", ".xls"):
        try:
            return pd.read_excel(p, dtype=str).fillna(""), None, None
        except Exception as e:
            raise InputError(f"{p}: could not read the workbook ({type(e).__name__}: {e})") from e
    raise InputError(f"{p}: unsupported file type {suf!r}; use CSV, XLSX, GeoJSON, GeoPackage "
                     "or GeoParquet")


def facilities_from_file(path: str | Path, *, coords: str = "wgs84",
                         category: str | None = None, name_column: str | None = None,
                         type_column: str | None = None) -> gpd.GeoDataFrame:
    """Read a planner's facility list (CSV, XLSX, GeoJSON, GeoPackage, GeoParquet).

    Parameters
    ----------
    path
        The file. CSV/XLSX need longitude and latitude columns (``lon``/``lng``/``经度`` and
        ``lat``/``纬度``); spatial formats carry their geometry and CRS.
    coords
        Coordinate system of the lon/lat values: ``wgs84`` (GPS, OSM), ``gcj02`` (AMap/Gaode,
        Tencent) or ``bd09`` (Baidu). For a spatial file in EPSG:4326 it says which of these
        its degrees really are (POI exports are often GCJ-02 labelled as 4326).
    category
        Treat every row as this category (``elderly``/``childcare``) when the file has no
        type column.
    name_column, type_column
        Override the detected name and type columns.

    Returns
    -------
    GeoDataFrame
        :data:`FACILITY_COLUMNS` in EPSG:4326, one row per usable facility;
        ``attrs["dropped_rows"]`` and ``attrs["duplicate_rows"]`` list the rows left out.

    Raises
    ------
    InputError
        Missing file, no rows, no coordinate columns, swapped lon/lat, unknown coordinate
        system, rows whose type cannot be recognised (their row numbers are listed).

    Warns
    -----
    DataWarning
        For rows without a usable coordinate, duplicates, and capacities that are not
        numbers.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: facility file not found")
    if coords not in COORD_SYSTEMS:
        raise InputError(f"{p}: coordinate system {coords!r} is not one of {COORD_SYSTEMS}")
    if category is not None and category not in CATEGORIES:
        raise InputError(f"category {category!r} is not one of {list(CATEGORIES)}")
    df, glon, glat = _read_table(p)
    if len(df) == 0:
        raise InputError(f"{p}: the file has no data rows")
    cols = list(df.columns)
    if glon is None:
        lon_c, lat_c = _pick(cols, _LON), _pick(cols, _LAT)
        if lon_c is None or lat_c is None:
            raise InputError(f"{p}: no longitude/latitude columns (looked for "
                             f"{'/'.join(_LON[:5])}, 经度 and {'/'.join(_LAT[:4])}, 纬度); "
                             f"columns are {cols}")
        lon = pd.to_numeric(df[lon_c], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(df[lat_c], errors="coerce").to_numpy(float)
    else:
        lon_c, lat_c = "geometry x", "geometry y"
        lon, lat = glon, glat
    fin = np.isfinite(lon) & np.isfinite(lat)
    if fin.any():
        swapped = (np.abs(lat[fin]) > 90) & (np.abs(lon[fin]) <= 90)
        if swapped.mean() > 0.5:
            raise InputError(f"{p}: longitude and latitude look swapped (values in {lat_c!r} "
                             f"exceed 90°, e.g. row {np.flatnonzero(fin)[swapped][0] + 1}); "
                             f"swap the columns {lon_c!r} and {lat_c!r}")
    bad = ~(fin & (np.abs(lon) <= 180) & (np.abs(lat) <= 90) & ~((lon == 0) & (lat == 0)))
    dropped = (np.flatnonzero(bad) + 1).tolist()
    if dropped:
        warnings.warn(f"{p}: rows {dropped} have no usable coordinate ({lon_c!r}/{lat_c!r} empty, "
                      "not a number or out of range) and are left out; fix them to include "
                      "those facilities", DataWarning, stacklevel=2)
    name_c = name_column or _pick(cols, _NAME)
    if name_column and name_column not in cols:
        raise InputError(f"{p}: name column {name_column!r} not found; columns are {cols}")
    type_c = type_column or _pick(cols, _TYPE)
    if type_column and type_column not in cols:
        raise InputError(f"{p}: type column {type_column!r} not found; columns are {cols}")
    names = (df[name_c].astype(str).replace({"nan": ""}).to_numpy() if name_c
             else np.array([""] * len(df), dtype=object))
    cat = np.empty(len(df), dtype=object)
    sub = np.empty(len(df), dtype=object)
    unknown = []
    for i in range(len(df)):  # per row of a facility list (hundreds), not per network node
        guess = None
        if type_c is not None:
            guess = classify(df[type_c].iloc[i], categories=[category] if category else None)
        if guess is None:
            guess = classify(names[i], categories=[category] if category else None)
        if guess is None and category is not None:
            guess = (category, CATEGORIES[category].subtypes[0].key)
        if guess is None:
            unknown.append(i + 1)
        else:
            cat[i], sub[i] = guess
    unknown = [r for r in unknown if r not in dropped]
    if unknown:
        raise InputError(
            f"{p}: rows {unknown[:20]}{' …' if len(unknown) > 20 else ''} have a type or name "
            f"that names no known facility kind (column {type_c!r}); use a sub-type such as "
            "养老院, 日间照料中心, 居家养老服务中心, 老年食堂, 托育机构, 幼儿园, 社区托育点, or pass "
            "category='elderly'/'childcare'")
    keep = ~bad
    lon_w, lat_w = to_wgs84(lon[keep], lat[keep], coords)
    out = facility_table(
        facility_id=[f"f{r}" for r in np.flatnonzero(keep) + 1],
        name=names[keep], category=cat[keep], subtype=sub[keep],
        beds=_num(df, _pick(cols, _BEDS), p)[keep],
        places=_num(df, _pick(cols, _PLACES), p)[keep],
        floor_area_m2=_num(df, _pick(cols, _AREA), p)[keep],
        source=p.name, source_row=np.flatnonzero(keep) + 1, lon=lon_w, lat=lat_w)
    out, dup = _drop_duplicates(out, p)
    out.attrs["dropped_rows"] = dropped
    out.attrs["duplicate_rows"] = dup
    out.attrs["coords"] = coords
    return out


def facility_table(*, facility_id: ArrayLike, name: ArrayLike, category: ArrayLike,
                   subtype: ArrayLike, beds: ArrayLike = np.nan, places: ArrayLike = np.nan,
                   floor_area_m2: ArrayLike = np.nan, source: ArrayLike = "",
                   source_row: ArrayLike = np.nan, lon: ArrayLike, lat: ArrayLike,
                   counts_as_supply: ArrayLike | None = None) -> gpd.GeoDataFrame:
    """Assemble the standard facility table (see the module docstring) from arrays.

    Every argument is one value per facility, or one value for all.

    Parameters
    ----------
    facility_id
        Stable ids.
    name
        Names as given.
    category
        Keys of :data:`care15.standards.CATEGORIES`.
    subtype
        Sub-type keys of the category.
    beds
        Elderly-care beds (NaN unknown).
    places
        Childcare places (NaN unknown).
    floor_area_m2
        Floor area in square metres (NaN unknown).
    source
        File name or ``"OSM"``.
    source_row
        1-based data row in the source file (NaN for OSM).
    lon, lat
        WGS-84 degrees.
    counts_as_supply
        Default from the sub-type (False for early-education centres).

    Returns
    -------
    GeoDataFrame
        :data:`FACILITY_COLUMNS` with point geometry in EPSG:4326.

    Examples
    --------
    >>> from care15.sources.facilities import facility_table
    >>> f = facility_table(facility_id=["f1"], name=["阳光托育园"], category=["childcare"],
    ...                    subtype=["nursery"], places=[40], lon=[104.07], lat=[30.66])
    >>> f[["facility_id", "subtype", "places", "counts_as_supply"]]
      facility_id  subtype  places  counts_as_supply
    0          f1  nursery    40.0              True
    """
    lon = np.asarray(lon, float)
    lat = np.asarray(lat, float)
    sub = np.asarray(subtype, dtype=object)
    if counts_as_supply is None:
        counts_as_supply = np.array([_counts(s) for s in sub], dtype=bool)
    df = gpd.GeoDataFrame({
        "facility_id": np.asarray(facility_id, dtype=object),
        "name": np.asarray(name, dtype=object),
        "category": np.asarray(category, dtype=object),
        "subtype": sub,
        "beds": beds, "places": places, "floor_area_m2": floor_area_m2,
        "counts_as_supply": counts_as_supply,
        "source": source, "source_row": source_row,
        "lon": lon, "lat": lat}, geometry=shapely.points(lon, lat), crs=4326)
    for c in ("beds", "places", "floor_area_m2", "source_row"):
        df[c] = df[c].astype(float)
    return df[FACILITY_COLUMNS]


def _drop_duplicates(fac: gpd.GeoDataFrame, p: Path | str,
                     tol_m: float = 5.0) -> tuple[gpd.GeoDataFrame, list[int | str]]:
    if len(fac) < 2:
        return fac, []
    # ~metres in a local equirectangular frame; exact enough for a 5 m tolerance
    y = fac["lat"].to_numpy() * 111_320.0
    x = fac["lon"].to_numpy() * 111_320.0 * np.cos(np.radians(fac["lat"].to_numpy()))
    key = pd.DataFrame({"n": fac["name"].astype(str).str.strip().str.lower().to_numpy(),
                        "c": fac["category"].to_numpy(),
                        "gx": np.round(x / tol_m).astype(np.int64),
                        "gy": np.round(y / tol_m).astype(np.int64)})
    dup = key.duplicated(keep="first").to_numpy()
    if not dup.any():
        return fac, []
    rows = [int(r) if np.isfinite(r) else str(f) for r, f in
            zip(fac["source_row"].to_numpy()[dup], fac["facility_id"].to_numpy()[dup],
                strict=True)]
    warnings.warn(f"{p}: {len(rows)} duplicate facility rows (same name and category within "
                  f"{tol_m:g} m of an earlier row) are left out: {rows[:20]}", DataWarning,
                  stacklevel=3)
    return fac.loc[~dup].reset_index(drop=True), rows


# --------------------------------------------------------------------------------------------
# OSM
# --------------------------------------------------------------------------------------------

#: Tags fetched from OSM before classification (tags first, then names).
OSM_FILTER: dict[str, Any] = {
    "amenity": ["social_facility", "nursing_home", "childcare", "kindergarten", "school",
                "community_centre", "restaurant", "fast_food", "social_centre"],
    "social_facility": True,
    "healthcare": ["nursing_home"],
}


def _tag_match(row: pd.Series,
               sets: Iterable[Iterable[tuple[str, str | None]]]) -> bool:
    for tagset in sets:
        if all((row.get(k) is not None and str(row.get(k)) != "nan")
               and (v is None or str(row.get(k)) == v) for k, v in tagset):
            return True
    return False


def facilities_from_osm(path: str | Path | tuple[str, Any], *,
                        categories: Iterable[str] | None = None) -> gpd.GeoDataFrame:
    """Care facilities in an OSM file, by tags first and then by Chinese/English name keywords.

    ``path`` is an OSM file, or an online source ``("place", name)`` / ``("bbox", (w, s, e, n))``
    downloaded with osmnx (see :func:`care15.sources.osm.features`).

    A feature counts when its tags match a sub-type of the glossary in
    :mod:`care15.standards` (``amenity=social_facility`` + ``social_facility=nursing_home``,
    ``amenity=childcare``, ``amenity=kindergarten`` …), or when its ``name``/``name:zh``/
    ``name:en`` contains one of the sub-type's keywords (``养老院``, ``托育``, ``幼儿园`` …)
    and none of its exclusions. Names win over generic tags: a ``school`` named ``…幼儿园``
    is a kindergarten; a ``kindergarten`` named ``…托育园`` is a nursery. Polygons become their
    point on surface. Chinese OSM maps few such features; pass a facility list when you have
    one.

    Parameters
    ----------
    path
        An OSM file, or an online source as above.
    categories
        Categories to look for (default all).

    Returns
    -------
    GeoDataFrame
        :data:`FACILITY_COLUMNS` in EPSG:4326; ``facility_id`` is ``<osm_type>/<osm_id>``,
        ``beds``/``places`` come from ``capacity`` (and ``beds``) tags.

    Warns
    -----
    DataWarning
        For duplicates (same name and category within 5 m), which are left out.
    """
    from .osm import features, source_name

    cats = list(categories) if categories is not None else list(CATEGORIES)
    f = features(path, OSM_FILTER)
    if len(f) == 0:
        return facility_table(facility_id=[], name=[], category=[], subtype=[], lon=[], lat=[],
                              source="OSM")
    names = pd.Series([""] * len(f), index=f.index, dtype=object)
    for k in ("name:zh", "name:en", "name"):
        if k in f.columns:
            v = f[k].astype(object).where(f[k].notna(), "")
            names = np.where(names.astype(str) != "", names.astype(str) + " " + v.astype(str),
                             v.astype(str))
            names = pd.Series(names, index=f.index)
    rows = []
    subs = [(c, s) for c, s in _subtypes() if c in cats]
    for i, (idx, r) in enumerate(f.iterrows()):  # features of a few kinds, not network nodes
        nm = str(names.iloc[i]).strip()
        by_name = classify(nm, categories=cats) if nm else None
        by_tag = None
        for c, s in subs:
            if s.osm_tags and _tag_match(r, s.osm_tags) and not any(
                    x.lower() in nm.lower() for x in s.exclude):
                by_tag = (c, s.key)
                break
        target = str(r.get("social_facility:for") or "").lower()
        if by_tag is not None and by_tag[0] == "elderly" and target not in (
                "", "nan", "none", "senior", "elderly", "aged"):
            by_tag = None  # a social facility for children, the homeless, …: not elderly care
        generic = str(r.get("amenity")) in ("school", "community_centre", "restaurant",
                                            "fast_food", "social_centre")
        guess = by_name if (by_name is not None and (generic or by_tag is None
                                                     or by_name[0] == by_tag[0])) else by_tag
        if generic and by_name is None:
            guess = None
        if guess is None:
            continue
        # social_facility without a senior/child target is ambiguous: keep it only by name
        if by_tag is None and by_name is None:
            continue
        rows.append((idx, nm, guess))
    if not rows:
        return facility_table(facility_id=[], name=[], category=[], subtype=[], lon=[], lat=[],
                              source="OSM")
    sel = f.loc[[r[0] for r in rows]]
    geom = shapely.make_valid(sel.geometry.to_numpy())
    pts = shapely.point_on_surface(geom)

    def _cap(col: str) -> np.ndarray:
        if col not in sel.columns:
            return np.full(len(sel), np.nan)
        return pd.to_numeric(sel[col], errors="coerce").to_numpy(float)

    cap = _cap("capacity")
    beds = np.where(np.array([g[0] == "elderly" for _, _, g in rows]),
                    np.where(np.isfinite(_cap("beds")), _cap("beds"), cap), np.nan)
    places = np.where(np.array([g[0] == "childcare" for _, _, g in rows]), cap, np.nan)
    out = facility_table(
        facility_id=[f"{t}/{i}" for t, i in zip(sel["osm_type"].astype(str),
                                                 sel["osm_id"].astype(str), strict=True)],
        name=[r[1] for r in rows], category=[r[2][0] for r in rows],
        subtype=[r[2][1] for r in rows], beds=beds, places=places, source="OSM",
        lon=shapely.get_x(pts), lat=shapely.get_y(pts))
    out, _ = _drop_duplicates(out, source_name(path))
    return out


# --------------------------------------------------------------------------------------------
# datum check
# --------------------------------------------------------------------------------------------

#: Directions and radii (metres) of the nearby places each point is compared with: 24
#: displacements on two rings, as far as a GCJ-02/BD-09 offset moves a point (300-700 m).
_NULL_ANGLES = np.linspace(0.0, 2.0 * np.pi, 24, endpoint=False)
_NULL_RADII = np.where(np.arange(24) % 2 == 1, 300.0, 450.0)


def _street_distances(network: WalkNetwork, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    g = gpd.GeoDataFrame(geometry=shapely.points(lon, lat), crs=4326)
    return np.asarray(network.snap_gdf(g, max_access_m=np.inf).access_m, dtype=float)


def _street_structure(network: WalkNetwork, lon: np.ndarray,
                      lat: np.ndarray) -> tuple[np.ndarray, float, float]:
    """Distances to the nearest street, and how unlike random nearby places they are.

    For each point, its distance to the nearest walkable edge is ranked among the distances
    of 24 places 300-450 m around it (``u`` in (0, 1)). Points placed with no relation to the
    streets (a list read in the wrong datum: every point moved by the same few hundred metres)
    rank uniformly; real facilities do not, whether they sit at the kerb (low ranks) or 60 m
    inside compounds (middle ranks). The Kolmogorov-Smirnov distance of the ranks from the
    uniform law measures that, and its p-value says how unlikely it is for random places.
    """
    from scipy import stats

    d = _street_distances(network, lon, lat)
    k = 111_320.0
    dx = _NULL_RADII * np.cos(_NULL_ANGLES)
    dy = _NULL_RADII * np.sin(_NULL_ANGLES)
    nlon = lon[:, None] + dx[None, :] / (k * np.cos(np.radians(lat[:, None])))
    nlat = lat[:, None] + dy[None, :] / k
    nd = _street_distances(network, nlon.ravel(), nlat.ravel()).reshape(len(lon), -1)
    u = ((nd < d[:, None]).sum(1) + 0.5 * (nd == d[:, None]).sum(1) + 0.5) / (nd.shape[1] + 1)
    r = stats.kstest(u, "uniform")
    return d, float(r.statistic), float(r.pvalue)


#: The other reading must depart from random places by this much more (Kolmogorov-Smirnov
#: distance) than the declared one, at a p-value below :data:`_DATUM_P`, to be reported.
_DATUM_MARGIN = 0.15
_DATUM_P = 0.01
#: ... and exceed the most structured of 8 decoy readings (the declared one moved 600 m) by
#: this much.
_DECOY_MARGIN = 0.05
#: Longer lists are checked on a fixed random sample of this many points.
_DATUM_SAMPLE = 400


def _datum_readings(network: WalkNetwork, lon: np.ndarray, lat: np.ndarray,
                    declared: str) -> tuple[dict[str, dict[str, float]], float]:
    """Street structure of each reading of the points, and the most structured decoy's.

    The expensive part of :func:`check_datum_offset` (25 snaps a point and reading):
    per system ``median_access_m``, ``share_within_30m``, ``street_structure`` and
    ``p_value``; then ``decoy_structure_max``.
    """
    from ..chinacoords import from_wgs84

    raw = from_wgs84(lon, lat, declared)  # the numbers of the file
    readings: dict[str, dict[str, float]] = {}
    for system in COORD_SYSTEMS:
        rlon, rlat = (lon, lat) if system == declared else to_wgs84(raw[0], raw[1], system)
        d, ks, pv = _street_structure(network, rlon, rlat)
        readings[system] = {"median_access_m": float(np.median(d)),
                            "share_within_30m": float(np.mean(d <= 30.0)),
                            "street_structure": ks, "p_value": pv}
    # decoys: the declared reading moved as far as a datum shift, in 8 other directions; a
    # reading must stand out from them too (edges of the extract and uneven street density
    # make shifted readings look structured at times)
    k = 111_320.0
    shifts = [np.c_[(to_wgs84(raw[0], raw[1], s)[0] - lon) * k * np.cos(np.radians(lat)),
                    (to_wgs84(raw[0], raw[1], s)[1] - lat) * k].mean(axis=0)
              for s in COORD_SYSTEMS if s != declared]
    decoys = []
    for a in np.linspace(0.0, 2.0 * np.pi, 8, endpoint=False) + np.pi / 8:
        v = 600.0 * np.array([np.cos(a), np.sin(a)])
        if min(np.hypot(*(v - s)) for s in shifts) < 250.0:
            continue  # too near a reading under test
        dlon = lon + v[0] / (k * np.cos(np.radians(lat)))
        decoys.append(_street_structure(network, dlon, lat + v[1] / k)[1])
    ceiling = float(max(decoys)) if decoys else 0.0
    return readings, ceiling


def check_datum_offset(facilities: gpd.GeoDataFrame, network: WalkNetwork, *,
                       declared: str = "wgs84", min_points: int = 5,
                       flag: str = "--facilities-crs",
                       cache: bool | str | Path | None = None) -> dict[str, Any] | None:
    """Warn when another coordinate system fits the street network markedly better.

    The points are read back to the numbers of the file (``declared``) and read again in each
    other system (WGS-84, GCJ-02, BD-09). For every reading the check measures the distance of
    each point to the nearest walkable edge and ranks it among 24 places 300-450 m around the
    point. A list read in the wrong datum has every point moved by the same few hundred metres,
    so its distances look like those of random places (uniform ranks); the right reading does
    not, whether the facilities sit at the kerb or 60 m inside compounds, where the median
    distance alone cannot tell the readings apart. The statistic is the Kolmogorov-Smirnov
    distance of the ranks from the uniform law (``street_structure``, 0 = like random places).

    Edges of the extract and uneven street density can make any shifted reading look
    structured, so the same statistic is computed for 8 decoys: the declared reading moved
    600 m in directions away from the readings under test (``decoy_structure_max``).

    A :class:`DataWarning` is emitted when another reading (a) departs from random places by
    at least 0.15 more than the declared one and 0.05 more than every decoy, with a p-value
    below 0.01, or (b) has a median distance less than a third of the declared one when that
    is more than 20 m (a POI export declared WGS-84 in a dense network).

    Parameters
    ----------
    facilities
        Facilities with ``lon``/``lat`` (WGS-84 as converted), or point geometry.
    network
        The walking network of the area.
    declared
        The coordinate system the list was declared in (``"wgs84"``, ``"gcj02"``,
        ``"bd09"``).
    min_points
        Fewer facilities than this are not checked. Lists longer than 400 are checked on a
        fixed random sample of 400.
    flag
        The command-line flag the warning names (``--candidates-crs`` for candidate sites).
    cache
        ``True`` (the default folder) or a folder: the readings' street structure (the
        costly part, 25 snaps a point) is kept in the on-disk cache by network and points
        (:func:`care15.cache.cached_datum_readings`); None or False: always computed.

    Returns
    -------
    dict or None
        ``declared``, ``median_access_m`` (as declared), ``other`` (the best other reading),
        ``median_access_m_other``, ``suggested`` (the system to declare, None when the
        declared one is fine) and ``readings``: per system ``median_access_m``,
        ``share_within_30m``, ``street_structure`` and ``p_value``; ``decoy_structure_max``.
        None when there are too few points or all lie outside China.

    Warns
    -----
    DataWarning
        When another reading fits the streets markedly better; it names the flag
        (``--facilities-crs``) and the ``coords`` value to declare.
    """
    from ..chinacoords import out_of_china

    if len(facilities) < min_points:
        return None
    lon = facilities["lon"].to_numpy(float) if "lon" in facilities else \
        facilities.to_crs(4326).geometry.x.to_numpy()
    lat = facilities["lat"].to_numpy(float) if "lat" in facilities else \
        facilities.to_crs(4326).geometry.y.to_numpy()
    ok = np.isfinite(lon) & np.isfinite(lat)
    lon, lat = lon[ok], lat[ok]
    if len(lon) < min_points or out_of_china(lon, lat).all():
        return None
    if len(lon) > _DATUM_SAMPLE:  # a fixed sample keeps long lists fast (25 snaps a point)
        pick = np.sort(np.random.default_rng(0).choice(len(lon), _DATUM_SAMPLE, replace=False))
        lon, lat = lon[pick], lat[pick]
    if cache is None or cache is False:
        readings, ceiling = _datum_readings(network, lon, lat, declared)
    else:
        from ..cache import cache_dir_of, cached_datum_readings

        readings, ceiling = cached_datum_readings(network, lon, lat, declared,
                                                  cache_dir=cache_dir_of(cache)[1])
    mine = readings[declared]

    def _better(r: dict[str, float]) -> bool:
        structured = (r["street_structure"] >= mine["street_structure"] + _DATUM_MARGIN
                      and r["p_value"] < _DATUM_P
                      and r["street_structure"] >= ceiling + _DECOY_MARGIN)
        closer = mine["median_access_m"] > 20 and \
            r["median_access_m"] * 3 < mine["median_access_m"]
        return structured or closer

    others = [s for s in COORD_SYSTEMS if s != declared]
    best = max(others, key=lambda s: (readings[s]["street_structure"],
                                      -readings[s]["median_access_m"]))
    suggested = best if _better(readings[best]) else None
    res: dict[str, Any] = {"declared": declared, "median_access_m": mine["median_access_m"],
                           "other": best,
                           "median_access_m_other": readings[best]["median_access_m"],
                           "suggested": suggested, "readings": readings,
                           "decoy_structure_max": ceiling}
    if suggested is not None:
        o = readings[suggested]
        src = facilities["source"].iloc[0] if "source" in facilities else "facilities"
        warnings.warn(
            f"{src}: the facilities fit the streets better read as {suggested} than as declared "
            f"({declared}): median distance to the nearest street {mine['median_access_m']:.0f} m "
            f"as declared, {o['median_access_m']:.0f} m as {suggested}; as declared they sit like "
            f"random places (street structure {mine['street_structure']:.2f}, p = "
            f"{mine['p_value']:.2g}), as {suggested} they do not ({o['street_structure']:.2f}, "
            f"p = {o['p_value']:.2g}). The list was probably exported from a Chinese web map. "
            f"Declare its coordinate system: {flag} {suggested} on the command line, "
            f"coords={suggested!r} in Python.",
            DataWarning, stacklevel=2)
    return res
