"""Planner exports: CSV (UTF-8 with BOM), XLSX, GeoJSON, GeoPackage, GeoParquet, JSON.

Every file is written to a temporary file in the target folder and renamed into place when it
is complete, so an interrupted run never leaves a half-written table behind.

Column names are stable (see :data:`COLUMN_DOCS` and :func:`column_info`, which also give the
Chinese and English headers used in XLSX and the explanation sheet). Spatial outputs are in
EPSG:4326; CSV tables of spatial rows carry ``lon``/``lat`` of a representative point (the
centroid for cells and gaps) so they open in Excel and in web maps. ``coords_out="gcj02"``
adds ``lon_gcj02``/``lat_gcj02`` for AMap/Tencent users (``bd09`` likewise for Baidu).
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._escape import FORMULA_START, spreadsheet_text
from ._files import atomic_path
from ._tables import letters
from .standards import CATEGORIES

log = logging.getLogger(__name__)

__all__ = ["COLUMN_DOCS", "FORMATS", "column_info", "write_csv", "write_geo",
           "write_json", "write_tables", "write_xlsx"]

FORMATS = ("csv", "xlsx", "geojson", "gpkg", "parquet")
#: Tables longer than this are left out of ``tables.xlsx`` (they are in CSV and GeoParquet).
XLSX_MAX_ROWS = 50_000

#: Tables written by :func:`write_tables` and their sheet titles (zh, en).
TABLE_TITLES = {
    "communities": ("社区覆盖", "Communities"),
    "cells": ("人口网格", "Population cells"),
    "gaps": ("覆盖缺口", "Gaps"),
    "short_communities": ("未达标社区", "Communities short of target"),
    "facilities": ("现有设施", "Facilities"),
    "isochrones": ("等时圈", "Isochrones"),
    "sites": ("建议新址", "Suggested sites"),
    "compounds": ("小区清单", "Compounds"),
    "short_compounds": ("未达标小区", "Compounds short of norms"),
}

_GROUP = {"total": ("全部居民", "all residents"), "60plus": ("60岁及以上", "aged 60+"),
          "0to3": ("3岁以下", "aged 0-3")}

#: Fixed columns: name -> (Chinese header, English header, explanation).
COLUMN_DOCS: dict[str, tuple[str, str, str]] = {
    "cell_id": ("网格编号", "Cell id", "Id of the square population cell (column_row of the "
                "cell-size lattice in the local metric CRS)"),
    "community_id": ("社区编号", "Community id", "Id of the community (from the community file, "
                     "OSM, or G<row><col> for grid districts); _outside = outside every community"),
    "community_name": ("社区名称", "Community", "Name of the community"),
    "pop_total": ("常住人口", "Residents", "Residents (people) in the cell or community"),
    "pop_60plus": ("60岁及以上人口", "Residents 60+", "Residents aged 60 and over"),
    "pop_0to3": ("3岁以下人口", "Residents 0-3", "Children under 3 (ages 0-2)"),
    "pop_method": ("人口估算方法", "Population method", "How the cell's residents were "
                   "estimated: raster, vector_area, vector_buildings, buildings (OSM floor "
                   "area), landuse (OSM residential land use), streets (OSM residential streets)"),
    "households": ("户数", "Households", "Residents / household size of the scenario (2.62, "
                   "7th census)"),
    "access_m": ("接入距离(米)", "Access distance (m)", "Straight-line metres from the point to "
                 "its snapped position on the nearest walkable street"),
    "on_network": ("可接入路网", "On network", "True when the point is within the scenario's "
                   "max_access_m of a walkable street"),
    "network_piece": ("路网连通分量", "Network piece", "Connected piece of the street network "
                      "(0 = largest); other pieces cannot reach facilities on piece 0"),
    "facility_id": ("设施编号", "Facility id", "f<row> for a file row, node/way id for OSM"),
    "name": ("名称", "Name", "Name as given"),
    "category": ("服务类别", "Category", "elderly (养老服务) or childcare (托育服务)"),
    "subtype": ("设施类型", "Sub-type", "care_home, day_care, home_care_centre, canteen, "
                "nursery, kindergarten, community_point, early_education"),
    "beds": ("床位", "Beds", "Elderly-care beds (床位), empty when unknown"),
    "places": ("托位", "Places", "Childcare places (托位), empty when unknown"),
    "floor_area_m2": ("建筑面积(平方米)", "Floor area (m²)", "Floor area in square metres"),
    "counts_as_supply": ("计入供给", "Counts as supply", "False for early-education centres, "
                         "which offer classes rather than full-day care"),
    "source": ("来源", "Source", "File name or OSM"),
    "source_row": ("源文件行号", "Source row", "1-based data row in the source file"),
    "lon": ("经度", "Longitude", "WGS-84 longitude (degrees)"),
    "lat": ("纬度", "Latitude", "WGS-84 latitude (degrees)"),
    "lon_gcj02": ("经度(GCJ-02)", "Longitude (GCJ-02)", "Longitude for AMap/Tencent maps"),
    "lat_gcj02": ("纬度(GCJ-02)", "Latitude (GCJ-02)", "Latitude for AMap/Tencent maps"),
    "lon_bd09": ("经度(BD-09)", "Longitude (BD-09)", "Longitude for Baidu maps"),
    "lat_bd09": ("纬度(BD-09)", "Latitude (BD-09)", "Latitude for Baidu maps"),
    "centroid_lon_gcj02": ("中心经度(GCJ-02)", "Centre longitude (GCJ-02)",
                           "Longitude of the centroid for AMap/Tencent maps"),
    "centroid_lat_gcj02": ("中心纬度(GCJ-02)", "Centre latitude (GCJ-02)",
                           "Latitude of the centroid for AMap/Tencent maps"),
    "centroid_lon_bd09": ("中心经度(BD-09)", "Centre longitude (BD-09)",
                          "Longitude of the centroid for Baidu maps"),
    "centroid_lat_bd09": ("中心纬度(BD-09)", "Centre latitude (BD-09)",
                          "Latitude of the centroid for Baidu maps"),
    "gap_id": ("缺口编号", "Gap id", "<category>-<rank>"),
    "rank": ("排名", "Rank", "1 = largest gap / first site to build"),
    "n_cells": ("网格数", "Cells", "Number of population cells"),
    "uncovered_target": ("未覆盖目标人群", "Uncovered target group", "Uncovered residents of "
                         "the category's target group (60+ for elderly care, 0-3 for childcare)"),
    "nearest_walk_min": ("最近设施步行(分钟)", "Nearest facility (min)", "Walking minutes from "
                         "the gap's best-placed cell to the nearest existing facility"),
    "median_walk_min": ("步行时间中位数(分钟)", "Median walk (min)", "Median walking minutes of "
                        "the gap's cells to the nearest facility"),
    "centroid_lon": ("中心经度", "Centre longitude", "WGS-84 longitude of the gap's centroid"),
    "centroid_lat": ("中心纬度", "Centre latitude", "WGS-84 latitude of the gap's centroid"),
    "threshold_min": ("步行时间阈值(分钟)", "Threshold (min)", "Walking-time threshold"),
    "budget_m": ("步行距离(米)", "Walking distance (m)", "Threshold × walking speed"),
    "speed_mps": ("步行速度(米/秒)", "Walking speed (m/s)", "Speed of the category's target group"),
    "area_km2": ("面积(平方公里)", "Area (km²)", "Area of the isochrone"),
    "candidate_id": ("候选点编号", "Candidate id", "Id of the candidate site"),
    "cumulative_coverage": ("累计覆盖率", "Cumulative coverage", "Population-weighted coverage "
                            "of the target group after building this site and those ranked "
                            "before it"),
    "capacity_places": ("新增托位", "New places", "Places (托位) the new site offers"),
    "nearest_existing_facility": ("最近现有设施", "Nearest existing facility",
                                  "Nearest existing facility of the category on foot"),
    "nearest_existing_walk_min": ("距现有设施步行(分钟)", "Walk to existing (min)",
                                  "Walking minutes from the site to that facility"),
}


def column_info(col: str) -> tuple[str, str, str]:
    """(Chinese header, English header, explanation) of a column, including patterned ones.

    Parameters
    ----------
    col
        A column name of care15's tables, e.g. ``pop_60plus`` or ``elderly_cov15_60plus``.

    Returns
    -------
    tuple of str
        Chinese header, English header and explanation; ``(col, col, "")`` for a column
        care15 does not know.

    Examples
    --------
    >>> from care15.export import column_info
    >>> column_info("elderly_cov15_60plus")[1]
    'Elderly care: share aged 60+ ≤15 min'
    """
    if col in COLUMN_DOCS:
        return COLUMN_DOCS[col]
    from .compounds import column_doc

    if (doc := column_doc(col)) is not None:
        return doc
    cats = "|".join(CATEGORIES)
    m = re.fullmatch(rf"({cats})_cov(\d+)_(total|60plus|0to3)", col)
    if m:
        c, t, g = CATEGORIES[m[1]], m[2], _GROUP[m[3]]
        return (f"{t}分钟{c.label_zh}覆盖率({g[0]})", f"{c.label_en}: share {g[1]} ≤{t} min",
                f"Share of {g[1]} whose walk to the nearest {c.label_en.lower()} facility is at "
                f"most {t} min (population-weighted, 0-1; empty when the community has none of "
                "that group)")
    m = re.fullmatch(rf"({cats})_overlay(\d+)", col)
    if m:
        c, t = CATEGORIES[m[1]], m[2]
        return (f"{t}分钟等时圈面积占比({c.label_zh})", f"{c.label_en}: isochrone share ≤{t} min",
                f"Share of the cell's area inside the {t}-min isochrone (the desktop-GIS "
                "overlay count)")
    m = re.fullmatch(r"newly_covered_(pop_total|pop_60plus|pop_0to3|target)", col)
    if m:
        zh, en, _ = COLUMN_DOCS.get(m[1], ("目标人群", "Target group", ""))
        return (f"新覆盖{zh}", f"Newly covered: {en}",
                f"{en} newly brought within the threshold by this site")
    m = re.fullmatch(r"uncovered_(pop_total|pop_60plus|pop_0to3)", col)
    if m:
        zh, en, _ = COLUMN_DOCS[m[1]]
        return f"未覆盖{zh}", f"Uncovered: {en}", f"{en} outside the threshold"
    m = re.fullmatch(rf"({cats})_(.+)", col)
    if m:
        c = CATEGORIES[m[1]]
        rest = m[2]
        table = {
            "walk_min": ("步行至最近设施(分钟)", "walk to nearest (min)", "Walking minutes on the "
                         "network to the nearest facility (empty = unreachable)"),
            "band": ("步行时间区间", "walk band", "≤5, ≤10, ≤15 min or beyond"),
            "covered": ("是否覆盖", "covered", "Within the coverage threshold (15 min by default)"),
            "nearest_facility": ("最近设施", "nearest facility", "facility_id of the nearest "
                                 "facility"),
            "e2sfca_per_1000": ("可达容量(每千人,E2SFCA)", "E2SFCA capacity per 1,000",
                                "Capacity-aware access: places/beds per 1,000 target residents "
                                "reachable within the threshold, distance-decayed (weights "
                                "1/0.68/0.22 for the 5/10/15-min bands)"),
            "n_facilities": ("设施数", "facilities", "Facilities inside the community"),
            "has_facility": ("社区内有设施", "has facility", "The community has at least one "
                             "facility (the community-count rate counts these)"),
            "capacity": ("容量", "capacity", "Beds (elderly) or places (childcare) inside the "
                         "community, where known"),
            "capacity_per_1000": ("每千人容量", "capacity per 1,000", "Places per 1,000 "
                                  "residents (childcare, target 4.5) or beds per 1,000 residents "
                                  "60+ (elderly)"),
            "target_rate": ("覆盖率目标", "coverage target", "Target share of the group covered"),
            "target_met": ("是否达标", "target met", "Coverage share ≥ target (empty when the "
                           "community has no residents of the group)"),
            "shortfall_people": ("未达标缺口(人)", "shortfall (people)", "Residents who would "
                                 "need to be covered to meet the target"),
            "places_target_met": ("托位达标(4.5/千人)", "places target met (4.5/1,000)",
                                  "Childcare places per 1,000 residents ≥ 4.5"),
            "area_m2_per_100_households": ("每百户养老服务面积(㎡)", "m² per 100 households",
                                           "Elderly-care floor area per 100 households "
                                           "(target 20 m²)"),
            "area_target_met": ("面积达标(20㎡/百户)", "area target met (20 m²/100 hh)",
                                "Floor area per 100 households ≥ 20 m²"),
        }
        if rest in table:
            zh, en, d = table[rest]
            return f"{c.label_zh}{zh}", f"{c.label_en}: {en}", d
    return col, col, ""


# --------------------------------------------------------------------------------------------
# atomic writing
# --------------------------------------------------------------------------------------------

def _plain(df: pd.DataFrame, coords_out: str | None = None, *,
           add_point: bool = True) -> pd.DataFrame:
    """Make a non-spatial copy with lon/lat (WGS-84) of a representative point."""
    if isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns:
        g = df.to_crs(4326) if df.crs is not None else df
        out = pd.DataFrame(g.drop(columns=g.geometry.name))
        if add_point and "lon" not in out.columns and "centroid_lon" not in out.columns \
                and len(g):
            geom = g.geometry.to_numpy()
            ok = ~(shapely.is_missing(geom) | shapely.is_empty(geom))
            lon = np.full(len(g), np.nan)
            lat = np.full(len(g), np.nan)
            if ok.any():
                pts = shapely.point_on_surface(geom[ok]) if df.crs is None else \
                    _centroids(df.loc[ok])
                lon[ok], lat[ok] = shapely.get_x(pts), shapely.get_y(pts)
            out["lon"], out["lat"] = lon, lat
    else:
        out = pd.DataFrame(df).copy()
    if coords_out and coords_out != "wgs84":
        from .chinacoords import from_wgs84

        for lo, la in (("lon", "lat"), ("centroid_lon", "centroid_lat")):
            if lo in out.columns and la in out.columns:
                x, y = from_wgs84(out[lo].to_numpy(float), out[la].to_numpy(float), coords_out)
                out[f"{lo}_{coords_out}"], out[f"{la}_{coords_out}"] = x, y
    return _rounded(out)


def _no_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Text cells that would start a formula get a leading apostrophe (OWASP, for CSV)."""
    out = df
    for c in df.columns:
        if df[c].dtype != object and not pd.api.types.is_string_dtype(df[c]):
            continue
        col = df[c]
        bad = col.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_START)).to_numpy(bool)
        if bad.any():
            if out is df:
                out = df.copy()
            out[c] = col.astype(object).where(~bad, col[bad].map(spreadsheet_text))
    return out


def _text_cells(ws: Any, plain: pd.DataFrame) -> None:
    """Store text that starts with ``=`` as text, not as a formula (openpyxl's default)."""
    for i, c in enumerate(plain.columns, start=1):
        col = plain[c]
        if col.dtype != object and not pd.api.types.is_string_dtype(col):
            continue
        rows = np.flatnonzero(col.map(lambda v: isinstance(v, str) and v.startswith("="))
                              .to_numpy(bool))
        for r in rows:
            cell = ws.cell(row=int(r) + 2, column=i)  # header on row 1
            cell.value = col.iloc[r]
            cell.data_type = "s"


def _centroids(g: gpd.GeoDataFrame) -> np.ndarray:
    """Centroids computed in the layer's (metric) CRS, returned in EPSG:4326."""
    c = gpd.GeoSeries(shapely.point_on_surface(g.geometry.to_numpy()), crs=g.crs)
    if g.crs is not None and g.crs.is_projected:
        c = gpd.GeoSeries(g.geometry.centroid, crs=g.crs)
        inside = shapely.contains(g.geometry.to_numpy(), c.to_numpy())
        c = gpd.GeoSeries(np.where(inside, c.to_numpy(),
                                   shapely.point_on_surface(g.geometry.to_numpy())), crs=g.crs)
    return c.to_crs(4326).to_numpy()


def _decimals(col: str) -> int | None:
    """Decimals kept for a float column in CSV/XLSX (full float precision is noise).

    Residents are not rounded, so that table sums match the summary exactly; spreadsheets
    show them with one decimal through a number format instead.
    """
    if col in ("lon", "lat", "centroid_lon", "centroid_lat") or col.startswith(
            ("lon_", "lat_", "centroid_lon_", "centroid_lat_")):
        return 7
    if re.search(r"(_cov\d+_|_overlay\d+$|coverage$|_rate$|^share|_share)", col):
        return 6
    if col.endswith(("_min", "_m", "_km2", "_mps", "_per_1000", "_m2_per_100_households")):
        return 3
    return None


def _xlsx_format(col: str) -> str | None:
    if re.search(r"(_cov\d+_|_overlay\d+$|coverage$|_rate$)", col):
        return "0.0%"
    if col.startswith(("pop_", "uncovered_", "newly_covered_")) or col in (
            "households", "beds", "places", "capacity_places") or col.endswith(
            ("_capacity", "_people")):
        return "#,##0.0"
    if col.endswith(("_min", "_m", "_per_1000", "_m2", "_households")):
        return "0.0"
    return None


def _rounded(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        if out[c].dtype.kind == "f":
            d = _decimals(str(c))
            if d is not None:
                out[c] = out[c].round(d)
    return out


def _json_safe(v: Any) -> Any:
    if isinstance(v, dict):
        return {str(k): _json_safe(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_safe(x) for x in v]
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating, float)):
        f = float(v)
        return None if math.isnan(f) or math.isinf(f) else f
    if isinstance(v, np.bool_):
        return bool(v)
    if isinstance(v, np.ndarray):
        return _json_safe(v.tolist())
    if isinstance(v, Path):
        return str(v)
    return v


def write_json(obj: Mapping[str, Any], path: str | Path) -> Path:
    """Write ``obj`` as UTF-8 JSON (NaN → null, NumPy scalars → Python), atomically.

    Parameters
    ----------
    obj
        A mapping of JSON-like values (NumPy scalars and arrays, paths and non-finite floats
        are converted).
    path
        The file.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(_json_safe(obj), ensure_ascii=False, indent=2),
                       encoding="utf-8")
    return path


def write_csv(df: pd.DataFrame, path: str | Path, *, coords_out: str | None = None) -> Path:
    """Write CSV in UTF-8 with BOM (Excel in a Chinese locale opens it), atomically.

    A GeoDataFrame loses its geometry and gains ``lon``/``lat`` (WGS-84) of a representative
    point; floats are rounded to the precision their column needs.

    Parameters
    ----------
    df
        The table.
    path
        The file.
    coords_out
        ``"gcj02"`` or ``"bd09"`` adds ``lon_<system>``/``lat_<system>`` columns.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        _no_formulas(_plain(df, coords_out)).to_csv(tmp, index=False, encoding="utf-8-sig")
    return path


def _to_geo4326(gdf: gpd.GeoDataFrame, coords_out: str | None) -> gpd.GeoDataFrame:
    g = gdf.to_crs(4326) if gdf.crs is not None else gdf.set_crs(4326)
    attrs = _plain(g, coords_out, add_point=False)
    for c in attrs.columns:
        if attrs[c].dtype.kind == "f":  # GeoJSON has no Infinity: unreachable = null
            attrs[c] = attrs[c].where(np.isfinite(attrs[c]))
    for c in attrs.columns:  # GDAL writes object columns of mixed types badly
        if attrs[c].dtype == object:
            attrs[c] = attrs[c].map(lambda v: None if v is None or (isinstance(v, float) and
                                                                    math.isnan(v)) else v)
    return gpd.GeoDataFrame(attrs, geometry=g.geometry.to_numpy(), crs=4326)


def write_geo(gdf: gpd.GeoDataFrame, path: str | Path, *, layer: str | None = None,
              coords_out: str | None = None, precision: int = 6) -> Path:
    """Write GeoJSON, GeoPackage (one layer) or GeoParquet by suffix, in EPSG:4326, atomically.

    GeoJSON coordinates are rounded to ``precision`` decimals (6 ≈ 0.1 m). Infinite values
    (unreachable) are written as null.

    Parameters
    ----------
    gdf
        The layer (a layer without CRS is taken as EPSG:4326).
    path
        The file: ``.geojson``/``.json``, ``.gpkg`` or ``.parquet``.
    layer
        GeoPackage layer name (default the file name); other layers of the file are kept.
    coords_out
        ``"gcj02"`` or ``"bd09"`` adds attribute columns in that system.
    precision
        Decimals of GeoJSON coordinates.

    Returns
    -------
    pathlib.Path
        ``path``.

    Raises
    ------
    ValueError
        For an unknown suffix.
    """
    path = Path(path)
    g = _to_geo4326(gdf, coords_out)
    suf = path.suffix.lower()
    if suf in (".geojson", ".json"):
        g = g.set_geometry(shapely.set_precision(g.geometry.to_numpy(), 10 ** -precision))
        with atomic_path(path) as tmp:
            g.to_file(tmp, driver="GeoJSON", layer=layer or path.stem)
    elif suf == ".parquet":
        with atomic_path(path) as tmp:
            g.to_parquet(tmp)
    elif suf == ".gpkg":
        # a GeoPackage holds several layers: rewrite into a copy, then rename
        with atomic_path(path) as tmp:
            if path.exists():
                import shutil

                shutil.copyfile(path, tmp)
            g.to_file(tmp, driver="GPKG", layer=layer or path.stem)
    else:
        raise ValueError(f"unknown spatial format {suf!r}; use .geojson, .gpkg or .parquet")
    return path


def _headers(cols: list[str], lang: str) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for c in cols:
        zh, en, _ = column_info(c)
        h = zh if lang == "zh" else en
        if h in seen:  # headers must stay unique
            seen[h] += 1
            h = f"{h} ({c})"
        else:
            seen[h] = 1
        out.append(h)
    return out


def write_xlsx(tables: Mapping[str, pd.DataFrame], path: str | Path, *, lang: str = "en",
               coords_out: str | None = None) -> Path:
    """Write one workbook: a sheet per table with Chinese or English headers, and a column sheet.

    The last sheet (``字段说明`` / ``Columns``) lists every column of every table: its stable
    name (as in CSV/GeoJSON), its Chinese and English headers, and what it means.

    Parameters
    ----------
    tables
        Sheet key (e.g. ``"gaps"``, titled from :data:`TABLE_TITLES`) → table.
    path
        The ``.xlsx`` file.
    lang
        ``"zh"`` or ``"en"``: the headers and sheet titles.
    coords_out
        ``"gcj02"`` or ``"bd09"`` adds coordinate columns in that system.

    Returns
    -------
    pathlib.Path
        ``path``.
    """
    path = Path(path)
    docs = []
    with atomic_path(path) as tmp:
        with pd.ExcelWriter(tmp, engine="openpyxl") as xw:
            for name, df in tables.items():
                plain = _plain(df, coords_out)
                for c in plain.columns:  # Excel has no timezone-aware or object-list cells
                    if plain[c].dtype == object:
                        plain[c] = plain[c].map(lambda v: v if isinstance(
                            v, (str, int, float, bool, type(None))) else str(v))
                title = TABLE_TITLES.get(name, (name, name))[0 if lang == "zh" else 1][:31]
                out = plain.copy()
                out.columns = _headers(list(plain.columns), lang)
                out.to_excel(xw, sheet_name=title, index=False)
                ws = xw.sheets[title]
                ws.freeze_panes = "A2"
                _text_cells(ws, plain)
                for i, (h, c) in enumerate(zip(out.columns, plain.columns, strict=True),
                                           start=1):
                    width = min(40, max(10, len(str(h)) * (2 if lang == "zh" else 1) + 2))
                    letter = letters(i)
                    ws.column_dimensions[letter].width = width
                    fmt = _xlsx_format(str(c))
                    if fmt and plain[c].dtype.kind == "f":
                        for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                            cell.number_format = fmt
                for c in plain.columns:
                    zh, en, d = column_info(c)
                    docs.append((title, c, zh, en, d))
            dd = pd.DataFrame(docs, columns=["表 / Table", "字段 / Column", "中文", "English",
                                             "说明 / Meaning"])
            sheet = "字段说明" if lang == "zh" else "Columns"
            dd.to_excel(xw, sheet_name=sheet, index=False)
            ws = xw.sheets[sheet]
            for i, w in enumerate((22, 34, 30, 40, 90), start=1):
                ws.column_dimensions[letters(i)].width = w
    return path


def write_tables(tables: Mapping[str, pd.DataFrame], out: str | Path, *,
                 formats: tuple[str, ...] = FORMATS, lang: str = "en",
                 coords_out: str | None = None) -> dict[str, list[Path]]:
    """Write each table in each format into ``out``; returns the paths written per table.

    ``csv``: ``<name>.csv`` (not for isochrones, which are only geometry);
    ``geojson``/``parquet``: ``<name>.geojson``/``<name>.parquet`` for spatial tables;
    ``gpkg``: every spatial table as a layer of ``care15.gpkg``;
    ``xlsx``: ``<name>.xlsx`` for gaps and sites (the files planners share) and
    ``tables.xlsx`` with every non-geometry table as a sheet plus the column sheet.

    Parameters
    ----------
    tables
        Table name (``cells``, ``communities``, ``gaps``, ``sites`` …) → table; spatial
        tables are GeoDataFrames in any CRS and are written in EPSG:4326.
    out
        The folder (created when missing).
    formats
        Any of :data:`FORMATS`.
    lang
        ``"zh"`` or ``"en"``: headers of the XLSX files.
    coords_out
        ``"gcj02"`` or ``"bd09"`` adds coordinate columns for Chinese web maps.

    Returns
    -------
    dict of str to list of pathlib.Path
        Per table, the files it was written to.

    Raises
    ------
    ValueError
        For an unknown format.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> import geopandas as gpd
    >>> import shapely
    >>> from care15.export import write_tables
    >>> gaps = gpd.GeoDataFrame({"gap_id": ["elderly-1"], "rank": [1],
    ...                          "uncovered_target": [120.0]},
    ...                         geometry=[shapely.box(0, 0, 100, 100)], crs="EPSG:32650")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     written = write_tables({"gaps": gaps}, tmp, formats=("csv", "geojson"))
    ...     print(sorted(p.name for p in written["gaps"]))
    ...     print(Path(tmp, "gaps.csv").read_text(encoding="utf-8-sig"))
    ['gaps.csv', 'gaps.geojson']
    gap_id,rank,uncovered_target,lon,lat
    elderly-1,1,120.0,112.5117041,0.000451
    <BLANKLINE>
    """
    bad = [f for f in formats if f not in FORMATS]
    if bad:
        raise ValueError(f"unknown formats {bad}; use {FORMATS}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, list[Path]] = {n: [] for n in tables}
    for name, df in tables.items():
        spatial = isinstance(df, gpd.GeoDataFrame) and df.geometry.name in df.columns
        if "csv" in formats and name != "isochrones":
            written[name].append(write_csv(df, out / f"{name}.csv", coords_out=coords_out))
        if spatial and "geojson" in formats:
            written[name].append(write_geo(df, out / f"{name}.geojson", coords_out=coords_out))
        if spatial and "parquet" in formats:
            written[name].append(write_geo(df, out / f"{name}.parquet", coords_out=coords_out))
        if spatial and "gpkg" in formats:
            written[name].append(write_geo(df, out / "care15.gpkg", layer=name,
                                           coords_out=coords_out))
        if "xlsx" in formats and name in ("gaps", "sites", "short_communities", "compounds",
                                          "short_compounds"):
            written[name].append(write_xlsx({name: df}, out / f"{name}.xlsx", lang=lang,
                                            coords_out=coords_out))
    if "xlsx" in formats and len(tables) > 1:
        sheets = {n: df for n, df in tables.items() if n != "isochrones"}
        big = [n for n, df in sheets.items() if len(df) > XLSX_MAX_ROWS]
        for n in big:  # a city's cell table: CSV/GeoParquet hold it; XLSX would take minutes
            log.warning("%s has %d rows; left out of tables.xlsx (see %s.csv)", n,
                        len(sheets[n]), n)
            del sheets[n]
        p = write_xlsx(sheets, out / "tables.xlsx", lang=lang, coords_out=coords_out)
        for n in sheets:
            written[n].append(p)
    return written
