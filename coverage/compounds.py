"""Residential compounds (小区): a layer, a population source and per-compound norms.

Chinese plans set elderly-care and childcare norms per compound and per household
(:mod:`care15.standards`, seeds 000-003): every new residential area (新建居住区) provides at
least 20 m² of elderly-care floor area per 100 households (曲靖: 25 m²) in sites of at least
200 m², and at least 10 childcare places per 1,000 residents at 8 m² per place; existing areas
are completed to 20 m² and 8 places per 1,000.

Every loader returns the same table (EPSG:4326 from the loaders; the region's metric CRS once
in a :class:`~care15.region.Region`):

========================  ===================================================================
``compound_id``           stable id: ``cp<row>`` for a file row (1-based data row) or the
                          file's own unique id column, ``<osm_type>/<osm_id>`` for OSM
``name``                  the compound's name (小区名称); the id when the source has none
``households``            households (户数); NaN when unknown
``residents``             residents: the file's column, else households × household size
``households_estimated``  True when households come from residents or from OSM floor area
``build_year``            build year (Int64, NA when unknown)
``kind``                  ``new`` / ``existing`` (from a new/existing column, else the build
                          year against ``new_from_year``); NA when unknown
``source``                ``file`` or ``osm``
``geometry``              Polygon/MultiPolygon, or Point when the file has only a point
========================  ===================================================================

plus ``pop_60plus``/``pop_0to3`` when the file has age counts, and ``source_row``.

Notes
-----
Serving facilities: a facility of a category *serves* a compound when (a) it lies inside the
compound's polygon, or (b) the compound has no facility of that category inside and it is the
compound's nearest facility on foot, reached within the coverage threshold (15 min at the
category's walking speed). A point compound (a list with coordinates only) has no inside and
is served by (b) only. A facility serving several compounds has its floor area (elderly care)
or places (childcare) split between them in proportion to their households (elderly) or
residents (childcare), so no square metre or place is counted twice. Only facilities that
count as supply (not 早教 centres) serve.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import standards as std
from ._errors import DataWarning, InputError
from ._tables import pick_column as _pick
from ._tables import read_layer
from .chinacoords import COORD_SYSTEMS, to_wgs84

if TYPE_CHECKING:
    from .access import NodeDistances
    from .network import WalkNetwork
    from .region import Region
    from .scenario import Scenario, Shares

__all__ = [
    "COMPOUND_COLUMNS",
    "COMPOUND_COLUMN_DOCS",
    "check_compound_datum",
    "column_doc",
    "compound_gaps",
    "compound_minutes",
    "compound_norms",
    "compound_overlaps",
    "compound_population",
    "compound_table",
    "compound_table_for",
    "compounds_from_file",
    "compounds_from_osm",
    "population_from_compounds",
    "region_compounds",
]

COMPOUND_COLUMNS = ["compound_id", "name", "households", "residents", "households_estimated",
                    "build_year", "kind", "source", "geometry"]

_NAME = ("name", "小区名称", "小区", "名称", "小区名", "项目名称", "楼盘名称", "compound",
         "compound_name", "name_zh", "name:zh")
_ID = ("compound_id", "id", "编号", "小区编号", "小区代码", "code")
_HOUSEHOLDS = ("households", "户数", "总户数", "住户数", "居民户数", "household", "hh")
_RESIDENTS = ("residents", "常住人口", "居住人口", "人口", "人数", "人口数", "population",
              "pop_total")
_YEAR = ("build_year", "建成年份", "建成年代", "竣工年份", "建成时间", "竣工时间", "建筑年代",
         "年份", "year_built", "year")
_KIND = ("kind", "新旧", "小区类型", "新建/既有", "新建或既有", "类型", "status")
_AGES = {"pop_60plus": ("pop_60plus", "60岁以上", "60岁及以上", "60岁以上人口", "老年人口"),
         "pop_0to3": ("pop_0to3", "3岁以下", "0-3岁", "3岁以下人口", "婴幼儿")}
_NEW_WORDS = ("new", "新建", "新", "新小区", "在建")
_OLD_WORDS = ("existing", "old", "既有", "已建", "已建成", "老旧", "老旧小区", "老", "旧",
              "retrofit", "改造")


# --------------------------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------------------------

def _rows(mask: np.ndarray) -> list[int]:
    return (np.flatnonzero(mask) + 1).tolist()


def _short(rows: list[Any], n: int = 20) -> str:
    return f"{rows[:n]}{' …' if len(rows) > n else ''}"


def _years(raw: pd.Series | None, n: int, src: str) -> np.ndarray:
    """Build years as floats (NaN unknown); text and future or implausible years are reported."""
    out = np.full(n, np.nan)
    if raw is None:
        return out
    txt = raw.astype(str).str.strip()
    blank = raw.isna().to_numpy() | txt.isin(["", "nan", "None", "<NA>"]).to_numpy()
    got = pd.to_numeric(txt.str.extract(r"((?:18|19|20|21)\d\d)")[0], errors="coerce")
    y = got.to_numpy(float)
    text = ~blank & ~np.isfinite(y)
    if text.any():
        warnings.warn(f"{src}: build year of rows {_short(_rows(text))} is not a year "
                      f"(e.g. {txt[text].iloc[0]!r}) and is read as unknown", DataWarning,
                      stacklevel=3)
    this_year = date.today().year
    bad = np.isfinite(y) & ((y > this_year) | (y < 1900))
    if bad.any():
        warnings.warn(f"{src}: build year of rows {_short(_rows(bad))} lies in the future or "
                      f"before 1900 (e.g. {int(y[bad][0])}) and is read as unknown", DataWarning,
                      stacklevel=3)
    out[np.isfinite(y) & ~bad] = y[np.isfinite(y) & ~bad]
    return out


def _kinds(raw: pd.Series | None, years: np.ndarray, new_from_year: float,
           src: str) -> np.ndarray:
    """``new``/``existing`` from a flag column, else from the build year; None when unknown."""
    kind = np.full(len(years), None, dtype=object)
    fin = np.isfinite(years)
    kind[fin & (years >= new_from_year)] = "new"
    kind[fin & (years < new_from_year)] = "existing"
    if raw is not None:
        t = raw.astype(str).str.strip().str.lower()
        new = t.isin([w.lower() for w in _NEW_WORDS]).to_numpy()
        old = t.isin([w.lower() for w in _OLD_WORDS]).to_numpy()
        other = ~new & ~old & ~t.isin(["", "nan", "none", "<na>"]).to_numpy()
        if other.any():
            warnings.warn(f"{src}: new/existing flag of rows {_short(_rows(other))} is neither "
                          f"new (新建) nor existing (既有/老旧) (e.g. {t[other].iloc[0]!r}); the "
                          "build year decides there", DataWarning, stacklevel=3)
        kind[new] = "new"
        kind[old] = "existing"
    return kind


def _transform(geom: np.ndarray, coords: str) -> np.ndarray:
    """Geometries in GCJ-02/BD-09 degrees → WGS-84 degrees (vertex by vertex)."""
    if coords == "wgs84" or len(geom) == 0:
        return geom

    def _f(xy: np.ndarray) -> np.ndarray:
        lon, lat = to_wgs84(xy[:, 0], xy[:, 1], coords)
        return np.column_stack([lon, lat])

    return np.asarray(shapely.transform(geom, _f), dtype=object)


def _read(p: Path, coords: str) -> tuple[pd.DataFrame, np.ndarray]:
    """Attribute table and WGS-84 geometry (None where missing) of a compound file."""
    from .sources.facilities import _LAT, _LON, _read_table

    suf = p.suffix.lower()
    if suf in (".geojson", ".json", ".gpkg", ".shp", ".parquet"):
        g = read_layer(p, what="compound file")
        if len(g) == 0:
            raise InputError(f"{p}: the compound layer is empty (no features)")
        if g.crs is None:
            raise InputError(f"{p}: the layer has no CRS; save it with its coordinate system "
                             "(GeoJSON is EPSG:4326 by definition)")
        b = g.total_bounds
        if g.crs.is_geographic and np.isfinite(b).all() and not (
                -180 <= b[0] <= b[2] <= 180 and -90 <= b[1] <= b[3] <= 90):
            raise InputError(f"{p}: coordinates reach x {b[0]:,.0f}…{b[2]:,.0f} but the layer "
                             f"says they are degrees ({g.crs.name}); they look like metres of a "
                             "projected system. Save the file with its real CRS")
        if coords != "wgs84" and not g.crs.is_geographic:
            raise InputError(f"{p}: --compounds-crs {coords} applies to lon/lat degrees, but "
                             f"the layer is in {g.crs.name}")
        g = g.to_crs(4326)
        geom = g.geometry.to_numpy().copy()
        missing = shapely.is_missing(geom) | shapely.is_empty(geom)
        geom[missing] = None
        geom[~missing] = _transform(geom[~missing], coords)
        return pd.DataFrame(g.drop(columns=g.geometry.name)), geom
    df, _, _ = _read_table(p)
    cols = list(df.columns)
    lon_c, lat_c = _pick(cols, _LON), _pick(cols, _LAT)
    if lon_c is None or lat_c is None:
        raise InputError(f"{p}: no longitude/latitude columns (looked for lon/lng/经度 and "
                         f"lat/纬度); columns are {cols}. A polygon layer (GeoJSON, GeoPackage) "
                         "carries its own geometry")
    lon = pd.to_numeric(df[lon_c], errors="coerce").to_numpy(float)
    lat = pd.to_numeric(df[lat_c], errors="coerce").to_numpy(float)
    fin = np.isfinite(lon) & np.isfinite(lat)
    if fin.any() and ((np.abs(lat[fin]) > 90) & (np.abs(lon[fin]) <= 90)).mean() > 0.5:
        raise InputError(f"{p}: longitude and latitude look swapped (values in {lat_c!r} "
                         f"exceed 90°); swap the columns {lon_c!r} and {lat_c!r}")
    ok = fin & (np.abs(lon) <= 180) & (np.abs(lat) <= 90) & ~((lon == 0) & (lat == 0))
    geom = np.full(len(df), None, dtype=object)
    wl, wa = to_wgs84(lon[ok], lat[ok], coords)
    geom[ok] = shapely.points(wl, wa)
    return df, geom


def compounds_from_file(path: str | Path, *, coords: str = "wgs84",
                        name_column: str | None = None,
                        household_size: float | None = None,
                        new_from_year: float | None = None) -> gpd.GeoDataFrame:
    """Read a planner's compound list: CSV/XLSX with a point, or GeoJSON/GPKG with polygons.

    Columns are found by name (Chinese or English): name (``小区名称``/``名称``/``name``),
    households (``户数``/``households``), residents (``常住人口``/``人口``/``residents``),
    build year (``建成年份``/``建成年代``/``build_year``; ``2005年`` and ``2005-06`` read as
    2005), a new/existing flag (``新旧``/``kind``: 新建/new, 既有/老旧/existing), age counts
    (``60岁以上``/``pop_60plus``, ``3岁以下``/``pop_0to3``) and an id (``编号``/``id``).

    Parameters
    ----------
    path
        The file.
    coords
        Coordinate system of the lon/lat degrees: ``wgs84``, ``gcj02`` (AMap AOI exports) or
        ``bd09``; for a spatial file in EPSG:4326 it says which of these its degrees really are.
    name_column
        The name column, instead of the detected one.
    household_size
        Persons per household (default the 7th census's 2.62): residents = households × it
        when the file has no residents column, households = residents ÷ it when it has only
        residents.
    new_from_year
        Compounds built in or after this year are ``new`` (default
        ``compound_new_from_year``, 2023).

    Returns
    -------
    GeoDataFrame
        :data:`COMPOUND_COLUMNS` (plus ``source_row`` and age counts when given) in
        EPSG:4326; ``attrs["dropped_rows"]`` (no geometry), ``attrs["no_households_rows"]``
        and ``attrs["overlapping_pairs"]``.

    Raises
    ------
    InputError
        Missing or unreadable file, unknown coordinate system, no coordinate columns, no row
        with a geometry.

    Warns
    -----
    DataWarning
        Rows without geometry (left out; those that name households are counted), rows
        without households or residents, build years that are text or in the future,
        negative counts, overlapping compounds.
    """
    from .sources.facilities import _num

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: compound file not found")
    if coords not in COORD_SYSTEMS:
        raise InputError(f"{p}: coordinate system {coords!r} is not one of {COORD_SYSTEMS}")
    hsize = household_size or std.get("household_size")
    new_from = new_from_year or std.get("compound_new_from_year")
    df, geom = _read(p, coords)
    if len(df) == 0:
        raise InputError(f"{p}: the file has no data rows")
    cols = [str(c) for c in df.columns]
    if name_column and name_column not in cols:
        raise InputError(f"{p}: name column {name_column!r} not found; columns are {cols}")
    name_c = name_column or _pick(cols, _NAME)
    hh_c, res_c = _pick(cols, _HOUSEHOLDS), _pick(cols, _RESIDENTS)
    year_c, kind_c, id_c = _pick(cols, _YEAR), _pick(cols, _KIND), _pick(cols, _ID)
    hh = _num(df, hh_c, p)
    res = _num(df, res_c, p)
    missing = np.array([g is None for g in geom])
    if not missing.all():
        bad = ~missing.copy()
        bad[~missing] = ~shapely.is_valid(geom[~missing].astype(object))
        if bad.any():
            geom[bad] = shapely.make_valid(geom[bad].astype(object))
    hh = np.where(hh > 0, hh, np.nan)  # 0 households: none given
    res = np.where(res > 0, res, np.nan)
    no_count = ~np.isfinite(hh) & ~np.isfinite(res)
    dropped = _rows(missing)
    if dropped:
        named = _rows(missing & ~no_count)
        warnings.warn(f"{p}: rows {_short(dropped)} have no usable geometry (coordinates empty, "
                      "not numbers or out of range) and are left out"
                      + (f"; rows {_short(named)} of them name households or residents that "
                         "cannot be placed" if named else ""), DataWarning, stacklevel=2)
    if missing.all():
        raise InputError(f"{p}: no row has a usable geometry; check the coordinate columns")
    no_hh = _rows(no_count & ~missing)
    if no_hh:
        warnings.warn(f"{p}: rows {_short(no_hh)} give neither households ({hh_c or '户数'}) nor "
                      "residents; their norms are reported as unknown and they add no residents",
                      DataWarning, stacklevel=2)
    est = ~np.isfinite(hh) & np.isfinite(res)
    households = np.where(np.isfinite(hh), hh, res / hsize)
    residents = np.where(np.isfinite(res), res, hh * hsize)
    years = _years(df[year_c] if year_c else None, len(df), str(p))
    kind = _kinds(df[kind_c] if kind_c else None, years, new_from, str(p))
    rows = np.arange(1, len(df) + 1)
    ids = df[id_c].astype(str).str.strip() if id_c else None
    if ids is None or ids.duplicated().any() or ids.isin(["", "nan"]).any():
        ids = pd.Series([f"cp{r}" for r in rows])
    names = (df[name_c].astype(str).where(df[name_c].notna(), "").str.strip()
             .replace({"nan": ""}) if name_c else pd.Series([""] * len(df)))
    names = names.where(names != "", ids)
    data: dict[str, Any] = {
        "compound_id": ids.to_numpy(), "name": names.to_numpy(), "households": households,
        "residents": residents, "households_estimated": est,
        "build_year": pd.array(np.where(np.isfinite(years), years, np.nan), dtype="Float64")
        .round().astype("Int64"),
        "kind": kind, "source": "file", "source_row": rows}
    for key, names_ in _AGES.items():
        c = _pick(cols, names_)
        if c is not None:
            data[key] = np.nan_to_num(_num(df, c, p))
    out = gpd.GeoDataFrame(data, geometry=list(geom), crs=4326)
    out = out.loc[~missing].reset_index(drop=True)
    out.attrs.update(dropped_rows=dropped, no_households_rows=no_hh, coords=coords,
                     source_file=p.name)
    out.attrs["overlapping_pairs"] = compound_overlaps(out, src=p.name)
    return out


def compound_overlaps(compounds: gpd.GeoDataFrame, *, src: str = "compounds",
                      min_share: float = 0.05, warn: bool = True) -> list[tuple[str, str]]:
    """Pairs of compounds whose polygons overlap by more than ``min_share`` of the smaller one.

    Parameters
    ----------
    compounds
        Compounds with ``compound_id`` and ``name`` (any CRS; points never overlap).
    src
        Name of the source, for the warning.
    min_share
        Smallest shared area, as a share of the smaller polygon, that counts (slivers of
        digitising do not).
    warn
        Emit a :class:`~care15.DataWarning` naming the first pairs.

    Returns
    -------
    list of tuple of str
        ``(compound_id, compound_id)`` pairs.
    """
    if len(compounds) < 2:
        return []
    g = compounds if compounds.crs is None or not compounds.crs.is_geographic else \
        compounds.to_crs(compounds.estimate_utm_crs())
    geom = g.geometry.to_numpy()
    poly = np.isin(shapely.get_type_id(geom), (3, 6))
    idx = np.flatnonzero(poly)
    if len(idx) < 2:
        return []
    tree = shapely.STRtree(geom[idx])
    a, b = tree.query(geom[idx], predicate="intersects")
    keep = a < b
    a, b = idx[a[keep]], idx[b[keep]]
    if len(a) == 0:
        return []
    shared = shapely.area(shapely.intersection(geom[a], geom[b]))
    small = np.minimum(shapely.area(geom[a]), shapely.area(geom[b]))
    hit = shared > min_share * np.maximum(small, 1e-9)
    ids = g["compound_id"].to_numpy()
    names = g["name"].to_numpy()
    pairs = [(str(ids[i]), str(ids[j])) for i, j in zip(a[hit], b[hit], strict=True)]
    if pairs and warn:
        shown = ", ".join(f"{names[i]} / {names[j]}" for i, j in
                          list(zip(a[hit], b[hit], strict=True))[:5])
        warnings.warn(f"{src}: {len(pairs)} pairs of compounds overlap ({shown}"
                      f"{' …' if len(pairs) > 5 else ''}); a facility inside both serves both, "
                      "and residents placed from both are counted twice where the polygons "
                      "repeat one another", DataWarning, stacklevel=2)
    return pairs


def compounds_from_osm(source: Any, *, crs: Any, household_size: float | None = None,
                       buildings: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Compounds from OSM: ``landuse=residential`` polygons and named ``place=neighbourhood``.

    Households are estimated: the residential floor area of the buildings whose centre lies
    in the compound (footprint × levels, :func:`care15.sources.population.
    osm_residential_buildings`; a building in nested compounds counts in the smallest) ÷ the
    7th census's 36.52 m² per urban resident (``housing_floor_m2_per_person``) ÷ the household
    size; a compound without mapped buildings takes its area × the default floor-area ratio
    (1.5). ``households_estimated`` is True for every row.

    Parameters
    ----------
    source
        An OSM file or an online source (see :func:`care15.sources.osm.features`).
    crs
        Metric CRS of the result.
    household_size
        Persons per household (default 2.62).
    buildings
        Residential buildings with ``floor_area_m2`` (read from ``source`` when omitted).

    Returns
    -------
    GeoDataFrame
        :data:`COMPOUND_COLUMNS` plus ``floor_area_m2`` and ``households_basis``
        (``buildings`` or ``landuse area``) in ``crs``; ``attrs["overlapping_pairs"]``.
    """
    from .sources.osm import features, source_name
    from .sources.population import DEFAULT_FLOOR_AREA_RATIO, osm_residential_buildings

    hsize = household_size or std.get("household_size")
    f = features(source, {"landuse": ["residential"], "place": ["neighbourhood"]})
    if len(f):
        geom = f.geometry.to_numpy()
        poly = np.isin(shapely.get_type_id(geom), (3, 6))
        lu = f["landuse"].astype(str).to_numpy() == "residential" if "landuse" in f else \
            np.zeros(len(f), bool)
        named = f["name"].notna().to_numpy() if "name" in f else np.zeros(len(f), bool)
        f = f.loc[poly & (lu | named)].reset_index(drop=True)
    if len(f) == 0:
        empty = gpd.GeoDataFrame({c: [] for c in COMPOUND_COLUMNS[:-1]}, geometry=[], crs=crs)
        empty.attrs["overlapping_pairs"] = []
        return empty
    f = f.to_crs(crs)
    geom = shapely.make_valid(f.geometry.to_numpy())
    if buildings is None:
        buildings, _ = osm_residential_buildings(source, crs, residential_areas=geom)
    b = buildings.to_crs(crs)
    fa = b["floor_area_m2"].to_numpy(float)
    floor: np.ndarray = np.zeros(len(f))
    if len(b):
        tree = shapely.STRtree(geom)
        bi, ci = tree.query(shapely.centroid(b.geometry.to_numpy()), predicate="intersects")
        area = shapely.area(geom)
        order = np.lexsort((area[ci], bi))  # per building, the smallest compound first
        bi, ci = bi[order], ci[order]
        bi, first = np.unique(bi, return_index=True)
        floor = np.bincount(ci[first], weights=fa[bi], minlength=len(f))
    per_person = std.get("housing_floor_m2_per_person")
    by_land = floor <= 0
    floor = np.where(by_land, shapely.area(geom) * DEFAULT_FLOOR_AREA_RATIO, floor)
    # the OSM estimate's ceiling: no more residents than the densest plausible hectare
    cap = shapely.area(geom) / 1e4 * std.get("max_residents_per_ha")
    residents = np.minimum(floor / per_person, cap)
    capped = floor / per_person > cap
    nm = f["name"] if "name" in f else pd.Series([None] * len(f))
    ids = (f["osm_type"].astype(str) + "/" + f["osm_id"].astype(str)).to_numpy()
    names = np.where(nm.isna().to_numpy(), ids, nm.astype(str).to_numpy())
    out = gpd.GeoDataFrame({
        "compound_id": ids, "name": names, "households": residents / hsize,
        "residents": residents, "households_estimated": True,
        "build_year": pd.array([pd.NA] * len(f), dtype="Int64"),
        "kind": np.full(len(f), None, dtype=object), "source": "osm",
        "floor_area_m2": floor,
        "households_basis": np.where(by_land, "landuse area", "buildings")},
        geometry=geom, crs=crs)
    out.attrs["overlapping_pairs"] = compound_overlaps(out, src=source_name(source), warn=False)
    out.attrs["capped"] = int(capped.sum())
    _BUILDINGS.clear()
    key = (source_name(source), str(crs), len(f))
    _BUILDINGS[key] = b
    out.attrs["buildings_key"] = key  # which buildings placed these compounds' residents
    return out


#: The residential buildings the last OSM compound layer was estimated from (one entry), so
#: placing its residents does not read the OSM file again.
_BUILDINGS: dict[tuple[str, str, int], gpd.GeoDataFrame] = {}


def check_compound_datum(compounds: gpd.GeoDataFrame, network: WalkNetwork, *,
                         declared: str = "wgs84") -> dict[str, Any] | None:
    """Warn when the compounds fit the streets better in another datum (GCJ-02 as WGS-84).

    A point inside each compound (its point on surface, or the point itself) is put through
    the facilities' test (:func:`care15.sources.facilities.check_datum_offset`), which ranks
    each point's distance to the nearest walkable street among places 300-450 m around it, in
    each reading of the coordinates. Compound interiors sit at a typical distance from the
    streets that bound them (on the Chengdu extract: a street-structure statistic of 0.40 read
    right, 0.06 read in the wrong datum); points along the outlines separate the readings less
    (0.19 against 0.07), so they are not used.

    Parameters
    ----------
    compounds
        Compounds (any CRS).
    network
        The walking network.
    declared
        The coordinate system the compound file was declared in.

    Returns
    -------
    dict or None
        The check's readings (see ``check_datum_offset``); None for fewer than 5 compounds.

    Warns
    -----
    DataWarning
        When another reading fits markedly better; it names ``--compounds-crs``.
    """
    from .sources.facilities import check_datum_offset

    if len(compounds) == 0:
        return None
    p = shapely.point_on_surface(compounds.to_crs(4326).geometry.to_numpy())
    src = compounds.attrs.get("source_file", "compounds")
    pt = pd.DataFrame({"lon": shapely.get_x(p), "lat": shapely.get_y(p), "source": src})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        res = check_datum_offset(pt, network, declared=declared, flag="--compounds-crs")
    for w in caught:
        msg = str(w.message).replace("the facilities fit", "the compounds fit") \
            .replace("The list was", "The compounds were")
        warnings.warn(msg, w.category if issubclass(w.category, Warning) else DataWarning,
                      stacklevel=2)
    return res


# --------------------------------------------------------------------------------------------
# population
# --------------------------------------------------------------------------------------------

def population_from_compounds(compounds: gpd.GeoDataFrame, *, crs: Any,
                              cell_size_m: float = 100.0, shares: Shares | None = None,
                              buildings: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Residents of the compounds on the population grid, totals conserved.

    Each compound's ``residents`` (households × household size when the file gave only
    households) are placed on its residential buildings by floor area when ``buildings`` is
    given and the compound holds some, else spread over its area; a point compound puts them at
    its point (:func:`care15.sources.population.population_from_vector`). Age counts of the
    file are used when present, else the scenario's shares. Residents outside every compound
    are not counted: this is the compounds' population, an alternative to a raster or the OSM
    estimate.

    Parameters
    ----------
    compounds
        Compounds with ``residents`` (any CRS).
    crs
        Metric CRS of the grid.
    cell_size_m
        Cell side.
    shares
        Age shares when the compounds have no age counts.
    buildings
        Residential buildings with ``floor_area_m2`` to place residents on.

    Returns
    -------
    GeoDataFrame
        Populated cells; ``attrs["report"]`` says ``source`` = ``compounds``, ``pop_read``,
        ``pop_on_grid``, ``compounds_used``, ``compounds_without_residents`` and
        ``households_estimated`` (compounds whose households are estimates).

    Raises
    ------
    InputError
        When no compound has residents.
    """
    from .sources.population import population_from_vector

    res = compounds["residents"].to_numpy(float)
    use = np.isfinite(res) & (res > 0)
    if not use.any():
        raise InputError("compounds: no compound gives households or residents; population "
                         "cannot come from the compounds (set compounds.population = 'no' and "
                         "give a population file or a total)")
    g = compounds.loc[use, ["residents", "geometry"]
                      + [c for c in _AGES if c in compounds.columns]].reset_index(drop=True)
    ages = {c: c for c in _AGES if c in g.columns}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)  # the loader reported the rows already
        cells = population_from_vector(g, column="residents", crs=crs, cell_size_m=cell_size_m,
                                       shares=shares,
                                       weight="buildings" if buildings is not None and len(
                                           buildings) else "area",
                                       buildings=buildings, age_columns=ages or None)
    rep = dict(cells.attrs.get("report") or {})
    est = compounds["households_estimated"].to_numpy(bool)
    rep.update(source="compounds", method=f"compounds ({rep.get('method', '')})",
               compounds_used=int(use.sum()), compounds_without_residents=int((~use).sum()),
               households_estimated=int((est & use).sum()))
    rep.setdefault("notes", [])
    rep["notes"] = [f"Population from {int(use.sum())} compounds: {rep['pop_read']:,.0f} "
                    "residents (households × household size where no residents column), placed "
                    "on their residential buildings or area; residents outside compounds are not "
                    "counted" + (f"; {int((est & use).sum())} compounds' households are "
                                 "estimates" if (est & use).any() else "") + "."] + rep["notes"]
    cells["pop_method"] = "compounds"
    cells.attrs["report"] = rep
    return cells


# --------------------------------------------------------------------------------------------
# minutes and norms
# --------------------------------------------------------------------------------------------

def compound_norms(scenario: Scenario | None = None) -> pd.DataFrame:
    """The per-compound norms in force, with their sources.

    Parameters
    ----------
    scenario
        Its ``[compounds]`` values win (a city's own norms); default the standards.

    Returns
    -------
    DataFrame
        ``key``, ``value``, ``unit``, ``label_zh``, ``label_en``, ``source`` (the standard's
        source, or ``scenario`` when the scenario changed the value).

    Examples
    --------
    >>> from care15.compounds import compound_norms
    >>> float(compound_norms().set_index("key").loc["childcare_places_per_1000_new", "value"])
    10.0
    """
    from .scenario import Compounds

    c = scenario.compounds if scenario is not None else Compounds()
    rows = []
    for key, std_key in (("elderly_m2_per_100_households_new",
                          "compound_elderly_m2_per_100_households_new"),
                         ("elderly_m2_per_100_households_existing",
                          "compound_elderly_m2_per_100_households_existing"),
                         ("elderly_site_min_m2", "compound_elderly_site_min_m2"),
                         ("childcare_places_per_1000_new",
                          "compound_childcare_places_per_1000_new"),
                         ("childcare_places_per_1000_existing",
                          "compound_childcare_places_per_1000_existing"),
                         ("childcare_m2_per_place", "compound_childcare_m2_per_place"),
                         ("new_from_year", "compound_new_from_year")):
        s = std.STANDARDS[std_key]
        v = float(getattr(c, key))
        rows.append((key, v, s.unit, s.label_zh, s.label_en,
                     s.source if v == s.value else f"scenario (standard {s.value:g}: {s.source})"))
    return pd.DataFrame(rows, columns=["key", "value", "unit", "label_zh", "label_en", "source"])


def compound_minutes(compounds: gpd.GeoDataFrame, network: WalkNetwork,
                     facilities: gpd.GeoDataFrame, scenario: Scenario, *,
                     node_distances: Mapping[str, NodeDistances] | None = None) -> pd.DataFrame:
    """Walking minutes from each compound to the nearest facility of each category.

    The compound's representative point (a point inside its polygon) is snapped to the
    nearest walkable street, whatever the distance (``access_m`` reports it), and walks the
    network from there. Compounds with gates can be measured from their gates instead
    (:mod:`care15.gates`); :func:`compound_table` takes either.

    Parameters
    ----------
    compounds
        Compounds with ``compound_id`` (any CRS).
    network
        The walking network.
    facilities
        Facilities (``category``, ``facility_id``, ``counts_as_supply``; any CRS).
    scenario
        Categories and walking speeds.
    node_distances
        Per category, node distances to the supply facilities in table order (as
        :attr:`care15.analysis.CoverageResult.node_distances`); computed when missing.

    Returns
    -------
    DataFrame
        Indexed by ``compound_id``: ``access_m`` and per category ``{c}_walk_min`` (inf when
        unreachable) and ``{c}_nearest_facility``.
    """
    from .access import cell_distances, nearest_facility
    from .analysis import supply_mask

    snap = network.snap_gdf(compounds, max_access_m=np.inf)
    out = pd.DataFrame({"access_m": snap.access_m},
                       index=pd.Index(compounds["compound_id"].astype(str), name="compound_id"))
    fac = facilities.reset_index(drop=True)
    for c in scenario.categories:
        idx = np.flatnonzero(supply_mask(fac, c)) if len(fac) else np.array([], int)
        nd = (node_distances or {}).get(c)
        if nd is None or len(nd.sources) != len(idx):
            fs = network.snap_gdf(fac.iloc[idx], max_access_m=scenario.analysis.max_access_m) \
                if len(idx) else network.snap(np.empty(0), np.empty(0))
            nd = nearest_facility(network, fs)
        d, who = cell_distances(nd, snap)
        fid = fac["facility_id"].astype(str).to_numpy()[idx] if len(idx) else \
            np.array([], dtype=object)
        out[f"{c}_walk_min"] = d / scenario.speed_for(c) / 60.0
        out[f"{c}_nearest_facility"] = np.asarray(
            [fid[w] if w >= 0 else None for w in who], dtype=object)
    return out


def _as_frame(minutes: pd.DataFrame | Mapping[str, pd.Series], ids: pd.Index,
              categories: tuple[str, ...]) -> pd.DataFrame:
    if isinstance(minutes, pd.DataFrame):
        m = minutes.copy()
    else:
        m = pd.DataFrame({f"{c}_walk_min": s for c, s in minutes.items() if c in categories})
    m.index = m.index.astype(str)
    return m.reindex(ids)


def _status(value: np.ndarray, norm: np.ndarray, base: np.ndarray, unknown_sites: np.ndarray,
            exempt: np.ndarray) -> np.ndarray:
    """Met / short / unknown / exempt per compound."""
    st = np.where(value >= norm - 1e-9, "met", np.where(unknown_sites > 0, "unknown", "short"))
    st = np.where(~(np.isfinite(base) & (base > 0)), "unknown", st)
    return np.asarray(np.where(exempt, "exempt", st), dtype=object)


def compound_table(compounds: gpd.GeoDataFrame, minutes: pd.DataFrame | Mapping[str, pd.Series],
                   facilities: gpd.GeoDataFrame, scenario: Scenario) -> gpd.GeoDataFrame:
    """The compound table (小区清单): minutes, coverage and the norms met or short, by how much.

    For each compound and category: the walking minutes to the nearest facility and whether
    the coverage threshold (15 min) holds; the facilities serving it (inside it, else its
    nearest within the threshold; each facility's floor area or places shared between the
    compounds it serves by households or residents, see the module docstring); and against the
    norm of its kind (``new`` by build year ≥ ``new_from_year`` or the file's flag, else
    ``existing``, which also applies when the kind is unknown): elderly-care floor area per
    100 households and childcare places per 1,000 residents, the shortfall in m² and places,
    and flags for serving elderly sites under 200 m² and childcare sites under 8 m² per place.

    A status is ``met``, ``short`` (by the shortfall), ``unknown`` (households or residents
    unknown, or short only because a serving facility's floor area or places are not given) or
    ``exempt`` (an existing compound built before ``retrofit_from_year``, as Ningxia assesses
    only areas built after 2014).

    Parameters
    ----------
    compounds
        Compounds (:data:`COMPOUND_COLUMNS`, any CRS).
    minutes
        Per compound: a DataFrame indexed by ``compound_id`` with ``{c}_walk_min`` (and
        ``{c}_nearest_facility``) as :func:`compound_minutes` returns, or ``{category: Series
        of minutes indexed by compound_id}`` (e.g. measured from the gates). Without a nearest
        facility, only facilities inside a compound serve it.
    facilities
        Facilities with ``facility_id``, ``category``, ``floor_area_m2``, ``places`` (any
        CRS).
    scenario
        Categories, the coverage threshold and the ``[compounds]`` norms.

    Returns
    -------
    GeoDataFrame
        One row per compound in the compounds' CRS; the columns are described in
        :data:`COMPOUND_COLUMN_DOCS`.
    """
    from .analysis import supply_mask

    cfg = scenario.compounds
    comp = compounds.reset_index(drop=True)
    ids = pd.Index(comp["compound_id"].astype(str))
    m = _as_frame(minutes, ids, scenario.categories)
    crs = comp.crs
    fac = facilities.reset_index(drop=True)
    fac = fac.to_crs(crs) if len(fac) and crs is not None and fac.crs is not None else fac
    out = pd.DataFrame({k: comp[k].to_numpy() for k in COMPOUND_COLUMNS[:-1] if k in comp})
    kind = comp["kind"].astype(object).where(comp["kind"].notna(), None).to_numpy()
    norm_kind = np.where(kind == "new", "new", "existing")
    out["norm_kind"] = norm_kind
    year = comp["build_year"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
    exempt = (norm_kind == "existing") & (cfg.retrofit_from_year > 0) & np.isfinite(year) \
        & (year < cfg.retrofit_from_year)
    hh = comp["households"].to_numpy(float)
    res = comp["residents"].to_numpy(float)
    geom = comp.geometry.to_numpy()
    poly = np.isin(shapely.get_type_id(geom), (3, 6))
    thr = scenario.targets.coverage_threshold_min
    n = len(comp)
    for col in ("gate_source", "gates_mapped", "gates"):  # measured through the gates
        if col in m:
            out[col] = m[col].to_numpy()
    all_met = np.ones(n, bool)
    for c in scenario.categories:
        wm = m[f"{c}_walk_min"].to_numpy(float) if f"{c}_walk_min" in m else np.full(n, np.nan)
        out[f"{c}_walk_min"] = wm
        out[f"{c}_covered"] = wm <= thr
        if f"{c}_walk_min_direct" in m:
            wd = m[f"{c}_walk_min_direct"].to_numpy(float)
            out[f"{c}_walk_min_direct"] = wd
            out[f"{c}_covered_direct"] = wd <= thr
            out[f"{c}_share_covered"] = m[f"{c}_share_covered"].to_numpy(float)
            out[f"{c}_gate_id"] = m[f"{c}_gate_id"].to_numpy(object) \
                if f"{c}_gate_id" in m else np.full(n, None, dtype=object)
        near = m[f"{c}_nearest_facility"].to_numpy(object) \
            if f"{c}_nearest_facility" in m else np.full(n, None, dtype=object)
        out[f"{c}_nearest_facility"] = near
        sel = np.flatnonzero(supply_mask(fac, c)) if len(fac) else np.array([], int)
        f = fac.iloc[sel]
        fid = f["facility_id"].astype(str).to_numpy()
        pairs: list[tuple[int, int]] = []  # (facility position in f, compound)
        n_inside = np.zeros(n, int)
        if len(f) and poly.any():
            tree = shapely.STRtree(geom[poly])
            fi, ki = tree.query(f.geometry.to_numpy(), predicate="intersects")
            ki = np.flatnonzero(poly)[ki]
            pairs += list(zip(fi.tolist(), ki.tolist(), strict=True))
            n_inside = np.bincount(ki, minlength=n)
        inside = n_inside > 0
        pos = {v: i for i, v in enumerate(fid)}
        for k in np.flatnonzero(~inside & (wm <= thr)):
            if near[k] is not None and str(near[k]) in pos:
                pairs.append((pos[str(near[k])], int(k)))
        out[f"{c}_sites_inside"] = n_inside
        weight = np.nan_to_num(hh if c == "elderly" else res)
        cap_col = "floor_area_m2" if c == "elderly" else "places"
        cap = f[cap_col].to_numpy(float) if cap_col in f else np.full(len(f), np.nan)
        area = f["floor_area_m2"].to_numpy(float) if "floor_area_m2" in f else \
            np.full(len(f), np.nan)
        places = f["places"].to_numpy(float) if "places" in f else np.full(len(f), np.nan)
        got: np.ndarray = np.zeros(n)
        unknown: np.ndarray = np.zeros(n, int)
        small: np.ndarray = np.zeros(n, int)
        serving: list[list[str]] = [[] for _ in range(n)]
        if pairs:
            pf = np.array([p[0] for p in pairs])
            pk = np.array([p[1] for p in pairs])
            tot = np.bincount(pf, weights=weight[pk], minlength=len(f))
            cnt = np.bincount(pf, minlength=len(f))
            share = np.where(tot[pf] > 0, weight[pk] / np.where(tot[pf] > 0, tot[pf], 1),
                             1.0 / cnt[pf])
            known = np.isfinite(cap[pf])
            got = np.bincount(pk, weights=np.where(known, cap[pf] * share, 0.0), minlength=n)
            unknown = np.bincount(pk, weights=(~known).astype(float), minlength=n).astype(int)
            if c == "elderly":
                flag = np.isfinite(area[pf]) & (area[pf] < cfg.elderly_site_min_m2)
            else:
                flag = np.isfinite(area[pf]) & np.isfinite(places[pf]) & (places[pf] > 0) \
                    & (area[pf] / np.where(places[pf] > 0, places[pf], 1)
                       < cfg.childcare_m2_per_place)
            small = np.bincount(pk, weights=flag.astype(float), minlength=n).astype(int)
            for a_, k in zip(pf, pk, strict=True):
                serving[k].append(fid[a_])
        out[f"{c}_serving"] = [";".join(s) if s else None for s in serving]
        if c == "elderly":
            norm = np.where(norm_kind == "new", cfg.elderly_m2_per_100_households_new,
                            cfg.elderly_m2_per_100_households_existing)
            base = hh
            value = got / np.where(hh > 0, hh, np.nan) * 100
            need = norm * hh / 100
            out["elderly_area_m2"] = got
            out["elderly_area_unknown_sites"] = unknown
            out["elderly_area_m2_per_100_households"] = value
            out["elderly_norm_m2_per_100_households"] = norm
            out["elderly_area_shortfall_m2"] = np.maximum(need - got, 0)
            out["elderly_sites_under_min_m2"] = small
        else:
            norm = np.where(norm_kind == "new", cfg.childcare_places_per_1000_new,
                            cfg.childcare_places_per_1000_existing)
            base = res
            value = got / np.where(res > 0, res, np.nan) * 1000
            need = norm * res / 1000
            out["childcare_places"] = got
            out["childcare_places_unknown_sites"] = unknown
            out["childcare_places_per_1000"] = value
            out["childcare_norm_places_per_1000"] = norm
            out["childcare_places_shortfall"] = np.ceil(np.maximum(need - got, 0) - 1e-9)
            out["childcare_sites_under_m2_per_place"] = small
        st = _status(np.nan_to_num(value, nan=-1.0), norm, base, unknown, exempt)
        out[f"{c}_norm_status"] = st
        all_met &= np.isin(st, ("met", "exempt"))
        sfx = "_shortfall_m2" if c == "elderly" else "_shortfall"
        col = f"{'elderly_area' if c == 'elderly' else 'childcare_places'}{sfx}"
        out[col] = np.where(np.isin(st, ("met", "exempt")), 0.0,
                            np.where(np.isfinite(base) & (base > 0), out[col], np.nan))
    out["norms_met"] = all_met
    g = gpd.GeoDataFrame(out, geometry=geom, crs=crs)
    g.attrs["summary"] = compound_summary(g, scenario)
    if isinstance(minutes, pd.DataFrame) and "removed_edges" in minutes.attrs:  # via gates
        g.attrs["summary"]["compounds_closed"] = int(minutes.attrs["closed_compounds"])
        g.attrs["summary"]["edges_closed"] = int(minutes.attrs["removed_edges"])
        g.attrs["summary"]["resident_points"] = int(minutes.attrs["points"])
    return g


def compound_summary(table: pd.DataFrame, scenario: Scenario, *, top: int = 10
                     ) -> dict[str, Any]:
    """Headline figures of a compound table: compounds, covered, meeting each norm.

    Parameters
    ----------
    table
        A :func:`compound_table`.
    scenario
        Its categories.
    top
        Compounds listed in ``top_short``.

    Returns
    -------
    dict
        ``compounds``, ``households`` (sum of known), ``households_estimated`` (rows) and per
        category ``covered``, ``met``, ``short``, ``unknown``, ``exempt``, ``shortfall`` (m²
        of elderly-care floor area or childcare places), ``median_walk_min`` (over reachable
        compounds) and ``unreachable`` (compounds reaching no facility). Measured through the
        gates, also ``with_mapped_gates``, ``mapped_gates_share``, ``by_gate_source``,
        ``closed_compounds``, ``detour_factor`` (and, from :func:`compound_table` given gate
        minutes, ``compounds_closed``, ``edges_closed`` and ``resident_points``) and per
        category ``covered_direct``,
        ``median_walk_min_direct``, ``unreachable_direct``, ``covered_rate`` and
        ``covered_rate_direct`` (shares of the compounds); ``top_short``: the ``top``
        compounds short of the norm or outside the circle, largest shortfall first
        (``compound_id``, ``name``, ``households``, ``walk_min``, ``walk_min_direct``,
        ``covered``, ``norm_status``, ``shortfall``; None for unknown or unreachable).
    """
    out: dict[str, Any] = {"compounds": len(table),
                           "households": float(np.nansum(table["households"].to_numpy(float))),
                           "households_estimated": int(table["households_estimated"].sum())}
    gated = "gate_source" in table
    if gated:
        src = table["gate_source"].astype(str)
        out["with_mapped_gates"] = int(table["gates_mapped"].astype(bool).sum())
        out["mapped_gates_share"] = (out["with_mapped_gates"] / len(table)) if len(table) \
            else None
        out["by_gate_source"] = {str(k): int(v) for k, v in src.value_counts().items()}
        out["closed_compounds"] = bool(scenario.compounds.closed)
        out["detour_factor"] = float(scenario.compounds.detour_factor)
    for c in scenario.categories:
        st = table[f"{c}_norm_status"]
        sf = "elderly_area_shortfall_m2" if c == "elderly" else "childcare_places_shortfall"
        wm = table[f"{c}_walk_min"].to_numpy(float)
        out[c] = {"covered": int(table[f"{c}_covered"].sum()),
                  **{s: int((st == s).sum()) for s in ("met", "short", "unknown", "exempt")},
                  "shortfall": float(np.nansum(table[sf].to_numpy(float))),
                  "median_walk_min": float(np.median(wm[np.isfinite(wm)]))
                  if np.isfinite(wm).any() else None,
                  "unreachable": int(np.isinf(wm).sum())}
        if gated and f"{c}_walk_min_direct" in table:
            wd = table[f"{c}_walk_min_direct"].to_numpy(float)
            out[c]["covered_direct"] = int(table[f"{c}_covered_direct"].sum())
            out[c]["median_walk_min_direct"] = (float(np.median(wd[np.isfinite(wd)]))
                                                if np.isfinite(wd).any() else None)
            out[c]["unreachable_direct"] = int(np.isinf(wd).sum())
            out[c]["covered_rate"] = out[c]["covered"] / len(table) if len(table) else None
            out[c]["covered_rate_direct"] = (out[c]["covered_direct"] / len(table)
                                             if len(table) else None)
        out[c]["top_short"] = _top_short(table, c, top)
    return out


def _top_short(table: pd.DataFrame, c: str, top: int) -> list[dict[str, Any]]:
    """The ``top`` compounds furthest from a category's norm or circle, as plain records."""
    sf = "elderly_area_shortfall_m2" if c == "elderly" else "childcare_places_shortfall"
    sel = (table[f"{c}_norm_status"] == "short").to_numpy() \
        | ~table[f"{c}_covered"].astype(bool).to_numpy()
    t = pd.DataFrame(table.loc[sel]).sort_values([sf, f"{c}_walk_min"], ascending=[False, False],
                                                 na_position="last").head(top)

    def num(v: Any) -> float | None:
        return float(v) if v is not None and np.isfinite(float(v)) else None

    return [{"compound_id": str(r["compound_id"]), "name": str(r["name"]),
             "households": num(r["households"]), "walk_min": num(r[f"{c}_walk_min"]),
             "walk_min_direct": num(r.get(f"{c}_walk_min_direct")),
             "covered": bool(r[f"{c}_covered"]), "norm_status": str(r[f"{c}_norm_status"]),
             "shortfall": num(r[sf])} for _, r in t.iterrows()]


def compound_gaps(table: pd.DataFrame, scenario: Scenario) -> pd.DataFrame:
    """The compound-level gap list: compounds short of a norm or outside the 15-minute circle.

    One row per compound and category where the norm is ``short`` or the nearest facility is
    beyond the coverage threshold, ranked within each category by the shortfall (m² of
    elderly-care floor area, or childcare places), then by walking minutes.

    Parameters
    ----------
    table
        A :func:`compound_table`.
    scenario
        Its categories.

    Returns
    -------
    DataFrame
        ``category``, ``rank``, ``compound_id``, ``name``, ``households``, ``residents``,
        ``norm_kind``, ``compound_walk_min``, ``compound_covered``, ``norm_status``,
        ``shortfall`` and ``shortfall_unit`` (``m²`` or ``places``).

    Examples
    --------
    >>> import pandas as pd
    >>> from care15.compounds import compound_gaps
    >>> from care15.scenario import Scenario
    >>> t = pd.DataFrame({"compound_id": ["A", "B"], "name": ["甲", "乙"],
    ...                   "households": [100.0, 200.0], "residents": [262.0, 524.0],
    ...                   "norm_kind": ["existing", "new"],
    ...                   "elderly_walk_min": [3.0, 20.0], "elderly_covered": [True, False],
    ...                   "elderly_norm_status": ["met", "short"],
    ...                   "elderly_area_shortfall_m2": [0.0, 40.0]})
    >>> compound_gaps(t, Scenario(categories=("elderly",)))[["compound_id", "shortfall"]]
      compound_id  shortfall
    0           B       40.0
    """
    frames = []
    for c in scenario.categories:
        sf = "elderly_area_shortfall_m2" if c == "elderly" else "childcare_places_shortfall"
        if f"{c}_norm_status" not in table:
            continue
        st = table[f"{c}_norm_status"]
        sel = (st == "short").to_numpy() | ~table[f"{c}_covered"].astype(bool).to_numpy()
        g = pd.DataFrame({"category": c, "compound_id": table["compound_id"],
                          "name": table["name"], "households": table["households"],
                          "residents": table["residents"], "norm_kind": table["norm_kind"],
                          "compound_walk_min": table[f"{c}_walk_min"],
                          "compound_covered": table[f"{c}_covered"], "norm_status": st,
                          "shortfall": table[sf], "shortfall_unit": "m²" if c == "elderly"
                          else "places"}).loc[sel]
        g = g.sort_values(["shortfall", "compound_walk_min"], ascending=[False, False],
                          na_position="last")
        g.insert(1, "rank", np.arange(1, len(g) + 1))
        frames.append(g)
    cols = ["category", "rank", "compound_id", "name", "households", "residents", "norm_kind",
            "compound_walk_min", "compound_covered", "norm_status", "shortfall",
            "shortfall_unit"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=cols)


def compound_table_for(result: Any, region: Region, scenario: Scenario) -> gpd.GeoDataFrame:
    """The compound table of an analysed region: minutes through the gates when it has them.

    With ``region.gates`` (found when the region was read, :func:`care15.gates.region_gates`)
    each compound's residents (its OSM residential buildings, weighted by floor area, else a
    50 m grid over its area) walk to a gate (straight line × ``compounds.detour_factor``) and
    on over the streets, with the compounds that have mapped gates closed to through routes
    unless ``compounds.closed`` is false (:func:`care15.gates.compound_minutes`). A compound's
    minutes are the weighted mean over its residents' points; the direct minutes (each point
    joining its nearest street, no gate, nothing closed) stand beside them, and the norms are
    judged on the gate minutes. Without gates, the compound's representative point joins the
    nearest street (:func:`compound_minutes`).

    Parameters
    ----------
    result
        The :class:`~care15.analysis.CoverageResult` (its facilities and node distances).
    region
        The region, with ``compounds``.
    scenario
        The scenario.

    Returns
    -------
    GeoDataFrame
        :func:`compound_table` of ``region.compounds``.
    """
    comp = region.compounds
    gates = getattr(region, "gates", None)
    if gates is None:
        mins = compound_minutes(comp, region.network, result.facilities, scenario,
                                node_distances=result.node_distances)
    else:
        mins = gate_minutes_for(comp, region.network, gates, result.facilities, scenario,
                                keep_edges=getattr(region, "gate_keep_edges", None))
    return compound_table(comp, mins, result.facilities, scenario)


def gate_minutes_for(compounds: gpd.GeoDataFrame, network: WalkNetwork,
                     gates: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame,
                     scenario: Scenario, *, keep_edges: np.ndarray | None = None
                     ) -> pd.DataFrame:
    """Per compound, minutes to the supply facilities of each category through its gates.

    Parameters
    ----------
    compounds
        Compounds (``compound_id``) in the network's CRS.
    network
        The walking network.
    gates
        Their gates (:func:`care15.gates.compound_gates`).
    facilities
        Facilities (``category``, ``facility_id``, ``counts_as_supply``; any CRS).
    scenario
        Categories, speeds, coverage threshold, ``max_access_m`` and ``[compounds]``
        (``closed``, ``detour_factor``).
    keep_edges
        Public street edges never closed (:func:`care15.gates.public_street_edges`).

    Returns
    -------
    DataFrame
        :func:`care15.gates.minutes_by_compound`: indexed by ``compound_id``, ``gate_source``,
        ``gates_mapped``, ``gates`` and per category ``{c}_walk_min`` (through the gates),
        ``{c}_walk_min_direct``, ``{c}_share_covered``, ``{c}_gate_id`` and
        ``{c}_nearest_facility``. ``attrs`` carries ``closed_compounds``, ``removed_edges``
        and ``points``.
    """
    from .analysis import supply_mask
    from .gates import compound_minutes as through_gates
    from .gates import compound_points, minutes_by_compound

    cfg = scenario.compounds
    fac = facilities.reset_index(drop=True)
    parts = [fac.loc[supply_mask(fac, c)].assign(category=c) for c in scenario.categories
             if len(fac)]
    sup = pd.concat(parts, ignore_index=True) if parts else fac.iloc[:0]
    sup = gpd.GeoDataFrame(sup, geometry="geometry", crs=facilities.crs)
    # the OSM compounds' residential buildings, when they are still at hand
    buildings = _BUILDINGS.get(compounds.attrs.get("buildings_key"))
    comp = compounds.to_crs(network.crs)
    points = compound_points(comp, buildings=buildings)
    per_point = through_gates(network, comp, gates, sup, points=points,
                              closed_compounds=cfg.closed,
                              speeds={c: scenario.speed_for(c) for c in scenario.categories},
                              detour=cfg.detour_factor, keep_edges=keep_edges,
                              max_access_m=scenario.analysis.max_access_m)
    out = minutes_by_compound(per_point, gates, comp["compound_id"].astype(str).to_numpy(),
                              threshold_min=scenario.targets.coverage_threshold_min)
    for c in scenario.categories:  # a category with no supply facility: nothing reached
        for col in (f"{c}_walk_min", f"{c}_walk_min_direct"):
            if col not in out:
                out[col] = np.inf
        if f"{c}_share_covered" not in out:
            out[f"{c}_share_covered"] = 0.0
    out.attrs.update(closed_compounds=int(per_point.attrs.get("closed_compounds", 0)),
                     removed_edges=int(per_point.attrs.get("removed_edges", 0)),
                     points=len(points))
    return out


# --------------------------------------------------------------------------------------------
# region
# --------------------------------------------------------------------------------------------

def region_compounds(sc: Scenario, network: WalkNetwork, osm_file: Any, notes: list[str],
                     reports: dict[str, Any]) -> gpd.GeoDataFrame | None:
    """The compounds a scenario names, in the network's CRS, checked against the streets.

    Parameters
    ----------
    sc
        The scenario (``compounds.file``: a path or ``"osm"``).
    network
        The walking network (its CRS; the datum check).
    osm_file
        The OSM source, for ``"osm"``.
    notes
        Plain-language notes, appended to.
    reports
        Reports, ``compounds`` added (counts, dropped rows, overlaps, datum check).

    Returns
    -------
    GeoDataFrame or None
        None when the scenario names no compounds.

    Raises
    ------
    InputError
        For ``"osm"`` without an OSM source, or an unreadable file.
    """
    from .sources.osm import source_name

    c = sc.compounds
    if c.file is None:
        return None
    hsize = sc.analysis.household_size
    if str(c.file) == "osm":
        if osm_file is None:
            raise InputError("--compounds osm needs an OSM source (--pbf, --osm or --place)")
        comp = compounds_from_osm(osm_file, crs=network.crs, household_size=hsize)
        rep: dict[str, Any] = {"source": f"OSM ({source_name(osm_file)})", "compounds": len(comp),
                               "named": int((comp["name"] != comp["compound_id"]).sum()),
                               "overlapping_pairs": len(comp.attrs["overlapping_pairs"])}
        notes.append(f"Compounds from OSM: {len(comp)} residential areas ({rep['named']} named); "
                     f"households estimated from residential floor area ÷ "
                     f"{std.get('housing_floor_m2_per_person')} m² per resident ÷ {hsize} persons "
                     "per household"
                     + (f" ({comp.attrs['capped']} capped at "
                        f"{std.get('max_residents_per_ha'):,.0f} residents per ha)"
                        if comp.attrs["capped"] else "") + ".")
    else:
        comp = compounds_from_file(c.file, coords=c.crs, household_size=hsize,
                                   new_from_year=c.new_from_year)
        rep = {"source": Path(c.file).name, "compounds": len(comp),
               "dropped_rows": comp.attrs["dropped_rows"],
               "no_households_rows": comp.attrs["no_households_rows"],
               "overlapping_pairs": len(comp.attrs["overlapping_pairs"])}
        datum = check_compound_datum(comp, network, declared=c.crs)
        if datum is not None:
            rep["datum_check"] = datum
        comp = comp.to_crs(network.crs)
        notes.append(f"Compounds from {Path(c.file).name}: {len(comp)}"
                     + (f" ({len(rep['dropped_rows'])} rows without geometry left out)"
                        if rep["dropped_rows"] else "")
                     + (f"; {len(rep['no_households_rows'])} without households"
                        if rep["no_households_rows"] else "") + ".")
    if rep["overlapping_pairs"]:
        notes.append(f"Compounds: {rep['overlapping_pairs']} pairs overlap.")
    reports["compounds"] = rep
    return comp


def compound_population(sc: Scenario, compounds: gpd.GeoDataFrame | None, network: WalkNetwork,
                        osm_file: Any, notes: list[str] | None = None
                        ) -> gpd.GeoDataFrame | None:
    """Population cells from the compounds when the scenario asks for them, else None.

    ``compounds.population``: ``"yes"`` always; ``"auto"`` when the scenario gives neither a
    population file nor a total to distribute; ``"no"`` never. Residents go onto the OSM
    residential buildings inside the compounds when there is an OSM file.

    Parameters
    ----------
    sc
        The scenario.
    compounds
        The region's compounds (or None).
    network
        The walking network (CRS and extent).
    osm_file
        The OSM source for buildings (or None).
    notes
        Plain-language notes; the population's note is appended when the compounds are used.

    Returns
    -------
    GeoDataFrame or None
        Cells as :func:`population_from_compounds` returns, or None.
    """
    from .sources.population import osm_residential_buildings

    mode = sc.compounds.population
    if compounds is None or mode == "no" or (
            mode == "auto" and (sc.inputs.population is not None
                                or sc.inputs.total_population is not None)):
        return None
    from .sources.osm import source_name

    buildings = None
    key = (source_name(osm_file), str(network.crs), len(compounds)) if osm_file is not None \
        else None
    if key is not None and key in _BUILDINGS and (compounds["source"] == "osm").all():
        buildings = _BUILDINGS[key]
    elif osm_file is not None:
        poly = compounds.geometry.to_numpy()
        poly = poly[np.isin(shapely.get_type_id(poly), (3, 6))]
        buildings, _ = osm_residential_buildings(osm_file, network.crs, residential_areas=poly)
    cells = population_from_compounds(compounds, crs=network.crs,
                                      cell_size_m=sc.analysis.cell_size_m, shares=sc.shares,
                                      buildings=buildings)
    if notes is not None:
        notes.append(cells.attrs["report"]["notes"][0])
    return cells


# --------------------------------------------------------------------------------------------
# column sheet
# --------------------------------------------------------------------------------------------

_STATUS = ("met (达标), short (不足: see the shortfall), unknown (未知: households/residents "
           "unknown, or short only because a serving site's capacity is not given), exempt "
           "(不适用: existing compound built before compounds.retrofit_from_year)")

#: Compound-table columns: name -> (Chinese header, English header, explanation).
COMPOUND_COLUMN_DOCS: dict[str, tuple[str, str, str]] = {
    "compound_id": ("小区编号", "Compound id", "cp<row> for a file row (or the file's id), "
                    "<osm_type>/<osm_id> for OSM"),
    "households": ("户数", "Households", "Households (户数) of the compound; empty when unknown"),
    "residents": ("常住人口", "Residents", "Residents: the file's column, else households × "
                  "household size (2.62)"),
    "households_estimated": ("户数为估算", "Households estimated", "True when households come "
                             "from residents or from OSM residential floor area"),
    "build_year": ("建成年份", "Build year", "Build year; empty when unknown"),
    "kind": ("新建/既有", "Kind", "new (新建) or existing (既有), from the file's flag or the "
             "build year against compounds.new_from_year; empty when unknown"),
    "norm_kind": ("适用标准", "Norm applied", "new or existing: the norms the compound is "
                  "checked against (existing when the kind is unknown)"),
    "elderly_serving": ("服务本小区的养老设施", "Elderly-care facilities serving it",
                        "facility_id of the facilities inside the compound, else its nearest "
                        "within the coverage threshold"),
    "childcare_serving": ("服务本小区的托育设施", "Childcare facilities serving it",
                          "facility_id of the facilities inside the compound, else its nearest "
                          "within the coverage threshold"),
    "elderly_sites_inside": ("小区内养老设施数", "Elderly-care sites inside",
                             "Elderly-care facilities inside the compound polygon"),
    "childcare_sites_inside": ("小区内托育设施数", "Childcare sites inside",
                               "Childcare facilities inside the compound polygon"),
    "elderly_area_m2": ("养老服务面积(㎡)", "Elderly-care floor area (m²)", "Floor area of the "
                        "serving facilities, each shared between the compounds it serves by "
                        "households"),
    "elderly_area_unknown_sites": ("面积未知的养老设施数", "Elderly sites, area unknown",
                                   "Serving elderly-care facilities whose floor area is not given"),
    "elderly_area_m2_per_100_households": ("每百户养老服务面积(㎡)", "m² per 100 households",
                                           "Elderly-care floor area per 100 households"),
    "elderly_norm_m2_per_100_households": ("每百户面积标准(㎡)", "Norm, m² per 100 households",
                                           "20 m² (seeds 000, 001, 002 existing), 25 m² in "
                                           "曲靖 new compounds (seed 002) when set"),
    "elderly_area_shortfall_m2": ("养老服务面积缺口(㎡)", "Elderly-care shortfall (m²)",
                                  "Floor area missing to meet the norm (0 when met)"),
    "elderly_sites_under_min_m2": ("不足200㎡的养老设施数", "Elderly sites under 200 m²",
                                   "Serving elderly-care sites smaller than "
                                   "compounds.elderly_site_min_m2 (seed 000: 每处不少于200㎡)"),
    "elderly_norm_status": ("养老配建达标情况", "Elderly-care norm", _STATUS),
    "childcare_places": ("托位", "Childcare places", "Places of the serving facilities, each "
                         "shared between the compounds it serves by residents"),
    "childcare_places_unknown_sites": ("托位未知的托育设施数", "Childcare sites, places unknown",
                                       "Serving childcare facilities whose places are not given"),
    "childcare_places_per_1000": ("每千人托位", "Places per 1,000 residents",
                                  "Childcare places per 1,000 residents of the compound"),
    "childcare_norm_places_per_1000": ("每千人托位标准", "Norm, places per 1,000",
                                       "10 for new compounds, 8 for existing (seed 000)"),
    "childcare_places_shortfall": ("托位缺口", "Places shortfall",
                                   "Places missing to meet the norm (0 when met)"),
    "childcare_sites_under_m2_per_place": ("每托位面积不足8㎡的托育设施数",
                                           "Childcare sites under 8 m² per place",
                                           "Serving sites whose floor area ÷ places is below "
                                           "compounds.childcare_m2_per_place (seed 000)"),
    "childcare_norm_status": ("托育配建达标情况", "Childcare norm", _STATUS),
    "norms_met": ("全部达标", "All norms met", "Every norm met (or exempt)"),
    "gate_source": ("出入口来源", "Gate source", "Where the compound's gates come from: file "
                    "(the gate list), osm_gate / osm_entrance (mapped in OSM), boundary_crossing "
                    "(inferred: streets crossing the outline), nearest_street (inferred: the "
                    "outline points nearest a street), none"),
    "gates_mapped": ("出入口为实测", "Gates mapped", "True when the gates come from the gate "
                     "list or OSM (file, osm_gate, osm_entrance), False when inferred"),
    "gates": ("出入口数", "Gates", "Number of the compound's gates used"),
    "elderly_walk_min_direct": ("不经出入口步行至养老设施(分钟)",
                                "Elderly care, walk without gates (min)",
                                "Minutes when each resident joins the nearest street directly "
                                "(no gates, no compound closed): for comparison"),
    "childcare_walk_min_direct": ("不经出入口步行至托育设施(分钟)",
                                  "Childcare, walk without gates (min)",
                                  "Minutes when each resident joins the nearest street directly "
                                  "(no gates, no compound closed): for comparison"),
    "elderly_covered_direct": ("不经出入口养老在15分钟圈内", "Elderly, within without gates",
                               "The direct walk is within the coverage threshold"),
    "childcare_covered_direct": ("不经出入口托育在15分钟圈内", "Childcare, within without gates",
                                 "The direct walk is within the coverage threshold"),
    "elderly_share_covered": ("养老15分钟圈内居民比例", "Elderly, share of residents within",
                              "Share of the compound's residents (points weighted by floor area) "
                              "within the threshold through the gates"),
    "childcare_share_covered": ("托育15分钟圈内居民比例", "Childcare, share of residents within",
                                "Share of the compound's residents (points weighted by floor "
                                "area) within the threshold through the gates"),
    "elderly_gate_id": ("前往养老设施所用出入口", "Gate used (elderly care)",
                        "The gate most of the compound's residents leave by for elderly care"),
    "childcare_gate_id": ("前往托育设施所用出入口", "Gate used (childcare)",
                          "The gate most of the compound's residents leave by for childcare"),
    "compound_walk_min": ("步行至最近设施(分钟)", "Walk to nearest (min)", "Walking minutes "
                          "from the compound to the nearest facility of the category"),
    "compound_covered": ("是否在15分钟圈内", "Within the circle", "The nearest facility is "
                         "within the coverage threshold (15 min)"),
    "norm_status": ("配建达标情况", "Norm", _STATUS),
    "shortfall": ("缺口", "Shortfall", "m² of elderly-care floor area or childcare places "
                  "missing to meet the compound's norm (0 when only the walk is too long)"),
    "shortfall_unit": ("缺口单位", "Unit", "m² (elderly care) or places (childcare)"),
    "households_basis": ("户数估算依据", "Households basis", "OSM estimate from residential "
                         "buildings' floor area, or from the land-use area × 1.5"),
}


def column_doc(col: str) -> tuple[str, str, str] | None:
    """(Chinese header, English header, explanation) of a compound-table column, or None.

    Parameters
    ----------
    col
        A column name.

    Returns
    -------
    tuple of str or None
        The headers and explanation; None for a column this module does not define.
    """
    return COMPOUND_COLUMN_DOCS.get(col)
