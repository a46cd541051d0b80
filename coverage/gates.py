"""Compound gates: where the residents of a residential compound (小区) reach the streets.

A Chinese residential compound is usually walled, and its residents leave it through a few
gates. This module finds the gates of each compound and measures walking distances through
them.

Gates (:func:`compound_gates`), in this order of preference for each compound:

1. ``file``: a planner's gate list (CSV/XLSX/GeoJSON …) naming each gate's compound by id or
   name, in any coordinate system of :mod:`care15.chinacoords`;
2. ``osm_gate`` / ``osm_entrance``: OSM nodes tagged ``barrier=gate`` or ``entrance=*`` within
   :data:`GATE_NEAR_M` (20 m) of the compound's outline (of the nearest outline when several
   are that near);
3. ``boundary_crossing``: where an at-grade walkable street crosses the outline (a street
   that enters the compound has a way in), merged within :data:`CROSSING_MERGE_M`;
4. ``nearest_street``: failing all of these, the point of the outline nearest a street in
   each quarter around the compound (said so in the notes).

The first kind a compound has is used alone: a compound with mapped gates (file or OSM) uses
only those. Each gate joins the walking network like any point (:meth:`WalkNetwork.snap`, with
the entry rules: never a tunnel, a bridge only where no street is near).

Walking distances (:func:`gate_distances`): a resident of a compound walks from home (a
building, a population cell's centre or the compound's representative point) to one of the
compound's gates, straight-line distance × :data:`DETOUR_FACTOR`, then over the network to the
nearest facility; the best gate wins. A facility inside the resident's own compound is also
reached directly (straight line × the detour factor). Points outside every compound join the
network as usual.

Closed compounds (``closed_compounds=True``, the default): a compound with mapped gates is
closed to everyone else. The network edges inside it (lying within its outline and with their
middle more than :data:`INSIDE_MARGIN_M` inside it) are removed from the routing network, so
no route crosses the compound; edges on the outline and the stubs from the outline to the
street stay, so the gates remain on the network. A facility on the inner paths of a closed
compound is reached through that compound's gates: along the inner paths from a gate that
joins them, else straight × detour from the gate. The compound's own residents are not
hindered: they walk to their gates in any case.

In a run (``care15 analyze --compounds …``): :func:`region_gates` finds the gates when the
region is read (``--gates FILE`` / ``compounds.gates``, else OSM and the fallbacks) and
:func:`care15.compounds.compound_table_for` measures each compound's residents through them
(:func:`compound_minutes`, summed up by :func:`minutes_by_compound`): the compound table
(小区清单) gives the minutes through the gates, the direct minutes, the gate used and the gate
source, and judges the norms on the gate minutes. ``--open-compounds`` (``compounds.closed =
false``) leaves every compound open to through routes; ``compounds.detour_factor`` replaces
:data:`DETOUR_FACTOR`.

Limits: the walk between a home and a gate is a straight line × a detour factor, not the
compound's inner paths (these are often not mapped); a public street mapped inside a gated compound's outline is closed
with it unless the caller keeps it (``keep_edges``); gates are open to all at all hours; only
compounds with mapped gates are closed (an outline with only crossings is taken as open).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from . import standards as std
from ._errors import InputError
from ._tables import pick_column
from .access import cell_distances, nearest_facility
from .chinacoords import COORD_SYSTEMS, to_wgs84
from .network import EDGE_STREET, Snapped, WalkNetwork

__all__ = [
    "COMPOUND_GRID_M",
    "CROSSING_MERGE_M",
    "DETOUR_FACTOR",
    "FILE_GATE_MAX_M",
    "GATE_COLUMNS",
    "GATE_NEAR_M",
    "GATE_STREET_MAX_M",
    "INSIDE_MARGIN_M",
    "MAPPED_SOURCES",
    "PUBLIC_HIGHWAY",
    "SHARED_WALL_M",
    "GateNetwork",
    "compound_gates",
    "compound_minutes",
    "compound_points",
    "compound_summary",
    "gate_distances",
    "gate_network",
    "minutes_by_compound",
    "osm_gate_nodes",
    "points_in_compounds",
    "public_street_edges",
    "region_gates",
]

log = logging.getLogger(__name__)

#: Walking distance inside a compound ÷ straight-line distance (home to gate): the standard
#: ``compound_gate_detour_factor`` (1.3, an assumption with its rationale in
#: :mod:`care15.standards`); a scenario sets its own (``compounds.detour_factor``).
DETOUR_FACTOR = std.get("compound_gate_detour_factor")
#: An OSM ``barrier=gate`` / ``entrance=*`` node is a gate of every compound whose outline lies
#: within this many metres (standard ``compound_gate_near_m``).
GATE_NEAR_M = std.get("compound_gate_near_m")
#: An OSM gate node near several compounds' outlines belongs to the nearest one, and to the
#: others only when their outline is within this many metres more (a wall shared by both).
SHARED_WALL_M = 1.0
#: A gate from a file farther than this from its compound's outline is refused (the usual sign
#: of a wrong coordinate system; standard ``compound_file_gate_max_m``).
FILE_GATE_MAX_M = std.get("compound_file_gate_max_m")
#: A gate farther than this from every street cannot be used: a file gate is refused, an OSM
#: gate is left out with a note, a fallback point is not taken (``compound_gate_street_max_m``).
GATE_STREET_MAX_M = std.get("compound_gate_street_max_m")
#: Street crossings of one compound's outline closer than this are one gate (a road and its
#: sidewalk, a way split at the wall).
CROSSING_MERGE_M = 15.0
#: Spacing of the outline points tried by the ``nearest_street`` fallback.
BOUNDARY_STEP_M = 25.0
#: An edge is inside a closed compound when it lies within the outline (grown by this margin)
#: and its middle lies more than this margin inside the outline.
INSIDE_MARGIN_M = 2.0
#: Spacing of the resident points laid over a compound when no buildings are given (each
#: point stands for an equal share of the compound's area).
COMPOUND_GRID_M = 50.0
#: Gate sources that make a compound *mapped* (and so closed to through routes).
MAPPED_SOURCES = ("file", "osm_gate", "osm_entrance")
#: ``highway`` values of public streets: never closed with a compound they run through, even
#: when mapped inside its outline (:func:`public_street_edges`). ``residential``, ``service``,
#: ``living_street`` and paths inside a gated compound are its own ways and are closed.
PUBLIC_HIGHWAY = ("trunk", "trunk_link", "primary", "primary_link", "secondary",
                  "secondary_link", "tertiary", "tertiary_link", "unclassified")
#: Columns of the gate table.
GATE_COLUMNS = ["compound_id", "gate_id", "source", "source_row", "street_m", "geometry"]

_ID_COLS = ("compound_id", "小区编号", "小区id", "小区ID", "compound", "community_id")
_NAME_COLS = ("compound_name", "小区名称", "小区", "name", "名称")


def _local_compounds(compounds: gpd.GeoDataFrame, network: WalkNetwork) -> gpd.GeoDataFrame:
    """Compounds in the network CRS with a fresh index; checks the id column."""
    if "compound_id" not in compounds.columns:
        raise InputError(f"compounds: no 'compound_id' column; columns are "
                         f"{list(compounds.columns)}")
    ids = compounds["compound_id"].astype(str)
    dup = ids[ids.duplicated()].unique().tolist()
    if dup:
        raise InputError(f"compounds: compound_id values repeat: {dup[:10]}")
    out = network.to_local(compounds)
    assert isinstance(out, gpd.GeoDataFrame)
    out = out.reset_index(drop=True)
    out["compound_id"] = ids.to_numpy()
    return out


def _is_area(geom: np.ndarray) -> np.ndarray:
    t = shapely.get_type_id(geom)
    return np.asarray((t == 3) | (t == 6))


def _gate_table(cidx: np.ndarray, x: np.ndarray, y: np.ndarray, source: np.ndarray,
                row: np.ndarray, comp: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"compound_idx": cidx.astype(np.int64),
                             "compound_id": comp["compound_id"].to_numpy()[cidx],
                             "source": source, "source_row": row},
                            geometry=shapely.points(x, y), crs=crs)


def osm_gate_nodes(path: str | Path) -> gpd.GeoDataFrame:
    """The ``barrier=gate`` and ``entrance=*`` nodes of an OSM file.

    Parameters
    ----------
    path
        ``.osm.pbf`` or ``.osm`` extract (read with :func:`care15.sources.osm.features`).

    Returns
    -------
    geopandas.GeoDataFrame
        Points in EPSG:4326 with ``osm_id``, ``barrier`` and ``entrance`` (empty strings where
        a tag is absent).
    """
    from .sources.osm import features

    f = features(path, {"barrier": ["gate"], "entrance": True})
    f = f.loc[shapely.get_type_id(f.geometry.values) == 0].reset_index(drop=True)
    out = gpd.GeoDataFrame({"osm_id": f["osm_id"] if "osm_id" in f.columns else np.arange(len(f))},
                           geometry=f.geometry.values, crs=4326)
    for k in ("barrier", "entrance"):
        out[k] = (f[k].fillna("").astype(str).to_numpy() if k in f.columns
                  else np.full(len(f), "", dtype=object))
    return out


def public_street_edges(network: WalkNetwork, path: str | Path | None = None, *,
                        ways: gpd.GeoDataFrame | None = None) -> np.ndarray:
    """Which network edges belong to a public street (:data:`PUBLIC_HIGHWAY`).

    Parameters
    ----------
    network
        The walking network.
    path
        The OSM file the network was read from; its ``highway`` ways of the public classes are
        read with :func:`care15.sources.osm.features`.
    ways
        Instead of ``path``: the public street lines (any CRS).

    Returns
    -------
    numpy.ndarray
        Boolean mask over the edges: True for an edge lying along a public street (within
        1 m of one along its whole length). Pass it as ``keep_edges`` to :func:`gate_network`.
    """
    if ways is None:
        if path is None:
            raise InputError("public_street_edges: give the OSM file (path) or the ways")
        from .sources.osm import features

        ways = features(path, {"highway": list(PUBLIC_HIGHWAY)})
    keep = np.zeros(network.n_edges, dtype=bool)
    if not len(ways) or not network.n_edges:
        return keep
    w = ways.to_crs(network.crs).geometry.values
    w = w[np.isin(shapely.get_type_id(w), (1, 5))]
    if len(w):
        ie, _ = shapely.STRtree(shapely.buffer(w, 1.0)).query(network.edge_geometry,
                                                              predicate="within")
        keep[ie] = True
    return keep


def _file_gates(path: str | Path, comp: gpd.GeoDataFrame, crs: Any,
                coords: str) -> gpd.GeoDataFrame:
    """Gates of a planner's file, each matched to a compound by id or name."""
    from .sources.facilities import _LAT, _LON, _read_table

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: gate file not found")
    if coords not in COORD_SYSTEMS:
        raise InputError(f"{p}: coordinate system {coords!r} is not one of {COORD_SYSTEMS}")
    df, glon, glat = _read_table(p)
    if len(df) == 0:
        raise InputError(f"{p}: the gate file has no data rows")
    cols = list(df.columns)
    rows = np.arange(1, len(df) + 1)
    id_c, name_c = pick_column(cols, _ID_COLS), pick_column(cols, _NAME_COLS)
    if id_c is not None:
        key = df[id_c].astype(str).str.strip().to_numpy()
        lookup = {c: i for i, c in enumerate(comp["compound_id"].astype(str))}
        what = "compound id"
    elif name_c is not None and "name" in comp.columns:
        key = df[name_c].astype(str).str.strip().to_numpy()
        names = comp["name"].astype(str).str.strip()
        twice = names[names.duplicated()].unique().tolist()
        lookup = {n: i for i, n in enumerate(names) if n not in twice}
        hit = [r for r, k in zip(rows, key, strict=True) if k in twice]
        if hit:
            raise InputError(f"{p}: rows {hit[:20]} name a compound that is not unique "
                             f"({sorted(set(key[np.asarray(hit) - 1]))[:5]}); give "
                             "compound_id instead")
        what = "compound name"
    else:
        raise InputError(f"{p}: no compound column (looked for {', '.join(_ID_COLS)} or "
                         f"{', '.join(_NAME_COLS)}); columns are {cols}; add one naming each "
                         "gate's compound (--gates)")
    cidx = np.array([lookup.get(k, -1) for k in key], dtype=np.int64)
    unknown = rows[cidx < 0]
    if len(unknown):
        ex = ", ".join(repr(k) for k in key[cidx < 0][:5])
        raise InputError(f"{p}: rows {unknown[:20].tolist()} name a {what} that is not among "
                         f"the compounds ({ex}); check the {what} column "
                         f"{id_c or name_c!r}")
    lon_c, lat_c = pick_column(cols, _LON), pick_column(cols, _LAT)
    if glon is None:
        if lon_c is None or lat_c is None:
            raise InputError(f"{p}: no longitude/latitude columns (经度/纬度, lon/lat); "
                             f"columns are {cols}; add them (in the system of --gates-crs)")
        lon = pd.to_numeric(df[lon_c], errors="coerce").to_numpy(float)
        lat = pd.to_numeric(df[lat_c], errors="coerce").to_numpy(float)
    else:
        lon, lat = glon, glat
    bad = ~(np.isfinite(lon) & np.isfinite(lat) & (np.abs(lon) <= 180) & (np.abs(lat) <= 90))
    if bad.any():
        where = f"columns {lon_c!r}, {lat_c!r}" if glon is None else "geometry"
        raise InputError(f"{p}: rows {rows[bad][:20].tolist()} have no usable coordinate "
                         f"({where})")

    def local_xy(system: str) -> tuple[np.ndarray, np.ndarray]:
        lw, bw = to_wgs84(lon, lat, system)
        g = gpd.GeoSeries(shapely.points(lw, bw), crs=4326).to_crs(crs)
        return shapely.get_x(g.values), shapely.get_y(g.values)

    def off_m(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        geom = comp.geometry.values[cidx]
        target = np.where(_is_area(geom), shapely.boundary(geom), geom)
        return np.asarray(shapely.distance(shapely.points(x, y), target))

    x, y = local_xy(coords)
    far = off_m(x, y) > FILE_GATE_MAX_M
    if far.any():
        hint = ""
        for alt in COORD_SYSTEMS:
            if alt != coords and (off_m(*local_xy(alt))[far] <= FILE_GATE_MAX_M).mean() > 0.5:
                hint = (f"; read as {alt} most of them lie on their compound's outline: pass "
                        f"--gates-crs {alt} (compounds.gates_crs = {alt!r})")
                break
        raise InputError(f"{p}: rows {rows[far][:20].tolist()} lie more than "
                         f"{FILE_GATE_MAX_M:.0f} m from the outline of their compound (read as "
                         f"{coords}){hint or '; check the coordinates and the compound column'}")
    return _gate_table(cidx, x, y, np.full(len(df), "file", dtype=object), rows, comp, crs)


def _osm_gates(nodes: gpd.GeoDataFrame, comp: gpd.GeoDataFrame, crs: Any) -> gpd.GeoDataFrame:
    """OSM gate and entrance nodes within :data:`GATE_NEAR_M` of a compound's outline."""
    geom = comp.geometry.values
    area = np.flatnonzero(_is_area(geom))
    if nodes.crs is None:
        raise InputError("gate nodes: the layer has no CRS")
    n = nodes.to_crs(crs)
    pts = n.geometry.values
    is_pt = shapely.get_type_id(pts) == 0
    barrier = (n["barrier"].fillna("").astype(str).to_numpy() if "barrier" in n.columns
               else np.full(len(n), ""))
    entrance = (n["entrance"].fillna("").astype(str).to_numpy() if "entrance" in n.columns
                else np.full(len(n), ""))
    kind = np.where(barrier == "gate", "osm_gate",
                    np.where((entrance != "") & (entrance != "no"), "osm_entrance", ""))
    use = np.flatnonzero(is_pt & (kind != ""))
    empty = _gate_table(np.empty(0, np.int64), np.empty(0), np.empty(0),
                        np.empty(0, dtype=object), np.empty(0), comp, crs)
    if not len(use) or not len(area):
        return empty
    tree = shapely.STRtree(shapely.boundary(geom[area]))
    ip, ic = tree.query(pts[use], predicate="dwithin", distance=GATE_NEAR_M)
    if not len(ip):
        return empty
    # a node near several outlines belongs to the nearest (to all of them on a shared wall)
    d = np.asarray(shapely.distance(pts[use][ip], shapely.boundary(geom[area][ic])))
    nearest = pd.Series(d).groupby(ip).transform("min").to_numpy()
    near = d <= nearest + SHARED_WALL_M
    ip, ic = ip[near], ic[near]
    k = use[ip]
    osm_id = (n["osm_id"].to_numpy() if "osm_id" in n.columns else np.arange(len(n)))[k]
    return _gate_table(area[ic], shapely.get_x(pts[k]), shapely.get_y(pts[k]), kind[k],
                       osm_id, comp, crs)


def _merge_close(cidx: np.ndarray, x: np.ndarray, y: np.ndarray,
                 merge_m: float) -> np.ndarray:
    """Positions of points to keep: one per compound and ``merge_m`` grid square."""
    key = pd.DataFrame({"c": cidx, "gx": np.floor(x / merge_m), "gy": np.floor(y / merge_m)})
    return np.flatnonzero(~key.duplicated().to_numpy())


def _crossing_gates(network: WalkNetwork, comp: gpd.GeoDataFrame,
                    which: np.ndarray) -> gpd.GeoDataFrame:
    """Points where an at-grade walkable street crosses the outline of the given compounds."""
    geom = comp.geometry.values
    which = which[_is_area(geom[which])]
    crs = network.crs
    if not len(which) or not network.n_edges:
        return _gate_table(np.empty(0, np.int64), np.empty(0), np.empty(0),
                           np.empty(0, dtype=object), np.empty(0), comp, crs)
    street = np.flatnonzero(network.edge_class == EDGE_STREET)
    eg = network.edge_geometry[street]
    tree = shapely.STRtree(eg)
    bnd = shapely.boundary(geom[which])
    ib, ie = tree.query(bnd, predicate="intersects")
    poly = geom[which[ib]]
    e = eg[ie]
    # a crossing is a point of the outline where a street goes in (an edge reaching more than
    # the margin inside) and out (an edge reaching beyond the margin outside): one edge through
    # the outline, or two edges meeting at a node on it
    inner = shapely.buffer(poly, -INSIDE_MARGIN_M)
    outer = shapely.buffer(poly, INSIDE_MARGIN_M)
    goes_in = np.asarray(shapely.intersects(e, inner))
    goes_out = ~np.asarray(shapely.within(e, outer))
    use = goes_in | goes_out
    ib, e, goes_in, goes_out = ib[use], e[use], goes_in[use], goes_out[use]
    cut = shapely.intersection(e, bnd[ib])
    parts, src = shapely.get_parts(cut, return_index=True)
    pt = shapely.get_type_id(parts) == 0
    parts, src = parts[pt], src[pt]
    cidx = which[ib[src]]
    x, y = shapely.get_x(parts), shapely.get_y(parts)
    key = pd.DataFrame({"c": cidx, "x": np.round(x, 1), "y": np.round(y, 1),
                        "i": goes_in[src], "o": goes_out[src]})
    both = key.groupby(["c", "x", "y"])[["i", "o"]].transform("any")
    keep_pt = (both["i"] & both["o"]).to_numpy()
    cidx, x, y = cidx[keep_pt], x[keep_pt], y[keep_pt]
    keep = _merge_close(cidx, x, y, CROSSING_MERGE_M)
    return _gate_table(cidx[keep], x[keep], y[keep],
                       np.full(len(keep), "boundary_crossing", dtype=object),
                       np.full(len(keep), np.nan), comp, crs)


def _nearest_street_gates(network: WalkNetwork, comp: gpd.GeoDataFrame,
                          which: np.ndarray) -> gpd.GeoDataFrame:
    """Per quarter around each compound, the outline point nearest a street (within reach)."""
    geom = comp.geometry.values[which]
    area = _is_area(geom)
    bnd = np.where(area, shapely.boundary(geom), None)
    per = np.where(area, shapely.length(bnd), 0.0)
    n_pts = np.where(area, np.maximum(np.ceil(per / BOUNDARY_STEP_M), 4), 1).astype(np.int64)
    g = np.repeat(np.arange(len(which)), n_pts)
    k = np.arange(len(g)) - np.repeat(np.cumsum(n_pts) - n_pts, n_pts)
    pts = np.empty(len(g), dtype=object)
    a = area[g]
    pts[a] = shapely.line_interpolate_point(bnd[g[a]], (k[a] / n_pts[g[a]]) * per[g[a]])
    pts[~a] = shapely.point_on_surface(geom[g[~a]])
    x, y = shapely.get_x(pts), shapely.get_y(pts)
    s = network.snap(x, y, max_access_m=GATE_STREET_MAX_M)
    c = shapely.centroid(geom)
    ang = np.arctan2(y - shapely.get_y(c)[g], x - shapely.get_x(c)[g])
    quarter = np.floor((ang + np.pi) / (np.pi / 2)).astype(np.int64) % 4
    d = pd.DataFrame({"g": g, "q": quarter, "d": s.access_m, "i": np.arange(len(g))})
    d = d.loc[s.ok].sort_values(["g", "q", "d"]).drop_duplicates(["g", "q"])
    i = d["i"].to_numpy()
    return _gate_table(which[g[i]], x[i], y[i], np.full(len(i), "nearest_street", dtype=object),
                       np.full(len(i), np.nan), comp, network.crs)


def compound_gates(compounds: gpd.GeoDataFrame, network: WalkNetwork, *,
                   gates_file: str | Path | None = None, coords: str = "wgs84",
                   osm_nodes: gpd.GeoDataFrame | None = None,
                   crossings: bool = True) -> gpd.GeoDataFrame:
    """The gates of each compound: from a file, from OSM, street crossings, else nearest streets.

    Parameters
    ----------
    compounds
        Compounds (``compound_id``, optional ``name``, Polygon/MultiPolygon or Point geometry)
        in any CRS.
    network
        The walking network; gates are checked against it and reported in its CRS.
    gates_file
        A gate list (CSV, XLSX, GeoJSON …) with a compound id column (``compound_id``,
        ``小区编号``) or a compound name column (``小区名称``, ``name``) and longitude/latitude
        columns (``经度``/``纬度``, ``lon``/``lat``).
    coords
        Coordinate system of the file's lon/lat: ``wgs84``, ``gcj02`` or ``bd09``.
    osm_nodes
        OSM nodes with ``barrier`` and ``entrance`` columns (:func:`osm_gate_nodes`).
    crossings
        Use street crossings of the outline as gates of compounds without mapped gates.

    Returns
    -------
    geopandas.GeoDataFrame
        :data:`GATE_COLUMNS` in the network CRS (``source_row``: the file row, or the OSM
        node id; ``street_m``: the gate's distance to the street it joins), plus
        ``compound_idx`` (row of the compound). ``attrs["notes"]`` holds plain-language notes
        (fallback gates, gates left out, compounds without a gate) and ``attrs["counts"]`` the
        number of compounds by the kind of gate they got.

    Raises
    ------
    InputError
        A gate file naming unknown compounds, with unusable coordinates, gates far from their
        compound (wrong coordinate system) or far from every street; compounds without
        ``compound_id`` or with repeated ids.
    """
    comp = _local_compounds(compounds, network)
    crs = network.crs
    n = len(comp)
    notes: list[str] = []
    parts = []
    if gates_file is not None:
        fg = _file_gates(gates_file, comp, crs, coords)
        s = network.snap(shapely.get_x(fg.geometry.values), shapely.get_y(fg.geometry.values),
                         max_access_m=GATE_STREET_MAX_M)
        if not s.ok.all():
            raise InputError(f"{Path(gates_file)}: rows {fg['source_row'][~s.ok].tolist()[:20]} "
                             f"are gates more than {GATE_STREET_MAX_M:.0f} m from any walkable "
                             "street; move them to the street they open onto")
        parts.append(fg)
    if osm_nodes is not None and len(osm_nodes):
        og = _osm_gates(osm_nodes, comp, crs)
        if gates_file is not None:  # a compound with gates in the file uses only those
            og = og.loc[~og["compound_idx"].isin(parts[0]["compound_idx"])]
        parts.append(og)
    have = np.zeros(n, dtype=bool)
    for p in parts:
        have[p["compound_idx"].to_numpy()] = True
    if crossings:
        cg = _crossing_gates(network, comp, np.flatnonzero(~have))
        parts.append(cg)
        have[cg["compound_idx"].to_numpy()] = True
    rest = np.flatnonzero(~have)
    if len(rest):
        ng = _nearest_street_gates(network, comp, rest)
        parts.append(ng)
        have[ng["compound_idx"].to_numpy()] = True
        k = ng["compound_idx"].nunique()
        if k:
            names = _names(comp, np.unique(ng["compound_idx"].to_numpy()))
            notes.append(f"{k} compound{'s' if k != 1 else ''} have no mapped gate and no street "
                         f"crossing their outline; their residents are taken to leave by the "
                         f"outline points nearest a street (nearest_street): {names}. Map their "
                         "gates (barrier=gate) or give a gate file to replace this guess.")
    gates = pd.concat(parts, ignore_index=True) if parts else _gate_table(
        np.empty(0, np.int64), np.empty(0), np.empty(0), np.empty(0, dtype=object),
        np.empty(0), comp, crs)
    gates = gpd.GeoDataFrame(gates, geometry="geometry", crs=crs)
    s = network.snap(shapely.get_x(gates.geometry.values), shapely.get_y(gates.geometry.values),
                     max_access_m=GATE_STREET_MAX_M)
    gates["street_m"] = s.access_m
    far = ~s.ok
    if far.any():
        notes.append(f"{int(far.sum())} OSM gate or entrance nodes lie more than "
                     f"{GATE_STREET_MAX_M:.0f} m from any walkable street and are left out "
                     f"(nodes {gates['source_row'][far].astype('Int64').tolist()[:10]}).")
        gates = gates.loc[~far]
    gates = gates.sort_values(["compound_idx", "source"], kind="stable").reset_index(drop=True)
    gates["gate_id"] = (gates["compound_id"].astype(str) + "/g"
                        + (gates.groupby("compound_idx").cumcount() + 1).astype(str))
    none = np.setdiff1d(np.arange(n), gates["compound_idx"].to_numpy())
    if len(none):
        notes.append(f"{len(none)} compounds have no street within {GATE_STREET_MAX_M:.0f} m of "
                     f"their outline and no gate: {_names(comp, none)}; their residents are "
                     "joined to the nearest street directly.")
    first = gates.drop_duplicates("compound_idx")
    gates = gates[["compound_idx", *GATE_COLUMNS]]
    gates.attrs["notes"] = notes
    gates.attrs["counts"] = {**first["source"].value_counts().to_dict(), "none": len(none)}
    return gates


def _names(comp: gpd.GeoDataFrame, idx: np.ndarray, most: int = 10) -> str:
    name = comp["name"].fillna("").astype(str) if "name" in comp.columns else None
    out = []
    for i in idx[:most]:
        cid = str(comp["compound_id"].iat[i])
        nm = name.iat[i] if name is not None else ""
        out.append(f"{nm} ({cid})" if nm and nm != cid else cid)
    more = f" and {len(idx) - most} more" if len(idx) > most else ""
    return ", ".join(out) + more


@dataclass(eq=False)
class GateNetwork:
    """The routing network with closed compounds taken out, and the gates joined to it.

    Attributes
    ----------
    network
        The routing network: the input network less the edges inside closed compounds (same
        nodes, so node indices match the input's).
    base
        The input network.
    compounds
        The compounds in the network CRS (fresh index).
    gates
        The gate table (:func:`compound_gates`) of usable gates.
    gate_snap
        The gates snapped to :attr:`network`.
    closed
        Per compound, True when it is closed to through routes.
    removed_edges
        Indices (in :attr:`base`) of the edges taken out.
    interior
        The edges taken out as a network of their own (same nodes as :attr:`base`): the inner
        paths of the closed compounds, along which a facility inside one is reached from its
        gates. ``None`` when nothing was taken out.
    """

    network: WalkNetwork
    base: WalkNetwork
    compounds: gpd.GeoDataFrame
    gates: gpd.GeoDataFrame
    gate_snap: Snapped
    closed: np.ndarray
    removed_edges: np.ndarray
    interior: WalkNetwork | None = None


def gate_network(network: WalkNetwork, compounds: gpd.GeoDataFrame, gates: gpd.GeoDataFrame, *,
                 closed_compounds: bool = True,
                 keep_edges: np.ndarray | None = None) -> GateNetwork:
    """Close the compounds with mapped gates to through routes and join the gates.

    Parameters
    ----------
    network
        The walking network.
    compounds
        The compounds (any CRS) the gates were found for.
    gates
        Their gates (:func:`compound_gates`).
    closed_compounds
        Take the edges inside compounds with mapped gates (:data:`MAPPED_SOURCES`) out of the
        routing network.
    keep_edges
        Boolean mask over the network's edges that are never taken out (public streets that
        run through a compound).

    Returns
    -------
    GateNetwork
        The routing network and the gates snapped to it.
    """
    comp = _local_compounds(compounds, network)
    known = set(comp["compound_id"])
    bad = sorted(set(gates["compound_id"].astype(str)) - known)
    if bad:
        raise InputError(f"gates name compounds that are not in the compound table: {bad[:10]}")
    cidx = comp.reset_index().set_index("compound_id")["index"]
    gates = gates.copy()
    gates["compound_idx"] = cidx.loc[gates["compound_id"].astype(str)].to_numpy()
    closed = np.zeros(len(comp), dtype=bool)
    if closed_compounds:
        mapped = gates.loc[gates["source"].isin(MAPPED_SOURCES), "compound_idx"].to_numpy()
        closed[mapped] = True
        closed &= _is_area(comp.geometry.values)
    removed = np.empty(0, dtype=np.int64)
    net = network
    interior = None
    if closed.any() and network.n_edges:
        which = np.flatnonzero(closed)
        poly = comp.geometry.values[which]
        inner = shapely.buffer(poly, -INSIDE_MARGIN_M)
        outer = shapely.buffer(poly, INSIDE_MARGIN_M)
        eg = network.edge_geometry
        ie, ip = shapely.STRtree(outer).query(eg, predicate="within")
        mid = shapely.line_interpolate_point(eg[ie], 0.5, normalized=True)
        inside = np.asarray(shapely.contains(inner[ip], mid))
        drop = np.zeros(network.n_edges, dtype=bool)
        drop[ie[inside]] = True
        if keep_edges is not None:
            drop &= ~np.asarray(keep_edges, dtype=bool)
        removed = np.flatnonzero(drop)
        net = _edge_part(network, ~drop, "closed compounds")
        if len(removed):
            interior = _edge_part(network, drop, "inner paths of closed compounds")
    g = gates.to_crs(network.crs)
    snap = net.snap(shapely.get_x(g.geometry.values), shapely.get_y(g.geometry.values),
                    max_access_m=GATE_STREET_MAX_M)
    return GateNetwork(network=net, base=network, compounds=comp,
                       gates=g.reset_index(drop=True), gate_snap=snap, closed=closed,
                       removed_edges=removed, interior=interior)


def _edge_part(network: WalkNetwork, keep: np.ndarray, what: str) -> WalkNetwork:
    """The network with only the ``keep`` edges and all nodes (node indices unchanged)."""
    return WalkNetwork(crs=network.crs, node_id=network.node_id, x=network.x, y=network.y,
                       edge_u=network.edge_u[keep], edge_v=network.edge_v[keep],
                       edge_length_m=network.edge_length_m[keep],
                       edge_geometry=network.edge_geometry[keep],
                       source=f"{network.source} ({what})", meta={"parent": network.source},
                       edge_class=network.edge_class[keep],
                       parent_edge_entry=network.edge_entry[keep])


def points_in_compounds(points: gpd.GeoDataFrame, compounds: gpd.GeoDataFrame) -> np.ndarray:
    """Which compound each point lies in.

    Parameters
    ----------
    points
        Points (any CRS), e.g. population cell centres or residential buildings.
    compounds
        Compounds (any CRS) with ``compound_id``.

    Returns
    -------
    numpy.ndarray
        The ``compound_id`` of the compound holding each point (the first one where outlines
        overlap), ``None`` outside every compound.
    """
    pts = points.to_crs(compounds.crs).geometry.values
    pts = np.where(shapely.get_type_id(pts) == 0, pts, shapely.point_on_surface(pts))
    geom = compounds.geometry.values
    area = np.flatnonzero(_is_area(geom))
    out = np.full(len(pts), None, dtype=object)
    if len(area):
        ip, ic = shapely.STRtree(geom[area]).query(pts, predicate="within")
        first = np.unique(ip, return_index=True)[1]
        out[ip[first]] = compounds["compound_id"].astype(str).to_numpy()[area[ic[first]]]
    return out


def compound_points(compounds: gpd.GeoDataFrame, *, buildings: gpd.GeoDataFrame | None = None,
                    spacing_m: float = COMPOUND_GRID_M) -> gpd.GeoDataFrame:
    """Where a compound's residents live: its buildings, else a grid over its area.

    Parameters
    ----------
    compounds
        Compounds with ``compound_id`` in a metric CRS.
    buildings
        Residential buildings (any CRS); a ``floor_area_m2`` column weights them. Compounds
        holding none get the grid.
    spacing_m
        Grid spacing in metres; a compound too small for a grid point gets one point on its
        surface.

    Returns
    -------
    geopandas.GeoDataFrame
        Points in the compounds' CRS with ``compound_id``, ``weight`` (floor area, or 1 per
        grid point) and ``kind`` (``"building"``, ``"grid"``).
    """
    crs = compounds.crs
    geom = compounds.geometry.values
    ids = compounds["compound_id"].astype(str).to_numpy()
    parts = []
    covered = np.zeros(len(compounds), dtype=bool)
    if buildings is not None and len(buildings):
        b = buildings.to_crs(crs)
        bp = shapely.point_on_surface(b.geometry.values)
        cid = points_in_compounds(gpd.GeoDataFrame(geometry=bp, crs=crs), compounds)
        inb = np.array([c is not None for c in cid], dtype=bool)
        w = (pd.to_numeric(b["floor_area_m2"], errors="coerce").fillna(1.0).to_numpy()
             if "floor_area_m2" in b.columns else np.ones(len(b)))
        parts.append(gpd.GeoDataFrame({"compound_id": cid[inb], "weight": w[inb],
                                       "kind": "building"}, geometry=bp[inb], crs=crs))
        covered = np.isin(ids, cid[inb].astype(str))
    area = _is_area(geom) & ~covered
    a = np.flatnonzero(area)
    if len(a):
        b = shapely.bounds(geom[a])
        x0 = np.floor(b[:, 0] / spacing_m) * spacing_m + spacing_m / 2
        y0 = np.floor(b[:, 1] / spacing_m) * spacing_m + spacing_m / 2
        nx = np.maximum(np.ceil((b[:, 2] - x0) / spacing_m), 1).astype(np.int64)
        ny = np.maximum(np.ceil((b[:, 3] - y0) / spacing_m), 1).astype(np.int64)
        cnt = nx * ny
        g = np.repeat(np.arange(len(a)), cnt)
        k = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
        x = x0[g] + (k % nx[g]) * spacing_m
        y = y0[g] + (k // nx[g]) * spacing_m
        inside = shapely.contains_xy(geom[a][g], x, y)
        g, x, y = g[inside], x[inside], y[inside]
        empty = np.setdiff1d(np.arange(len(a)), g)
        pe = shapely.point_on_surface(geom[a][empty])
        g = np.concatenate([g, empty])
        x = np.concatenate([x, shapely.get_x(pe)])
        y = np.concatenate([y, shapely.get_y(pe)])
        parts.append(gpd.GeoDataFrame({"compound_id": ids[a][g], "weight": 1.0, "kind": "grid"},
                                      geometry=shapely.points(x, y), crs=crs))
    rest = np.flatnonzero(~_is_area(geom) & ~covered)  # point compounds: the point
    if len(rest):
        parts.append(gpd.GeoDataFrame({"compound_id": ids[rest], "weight": 1.0, "kind": "grid"},
                                      geometry=shapely.point_on_surface(geom[rest]), crs=crs))
    if not parts:
        return gpd.GeoDataFrame({"compound_id": [], "weight": [], "kind": []},
                                geometry=[], crs=crs)
    return gpd.GeoDataFrame(pd.concat(parts, ignore_index=True), geometry="geometry", crs=crs)


def compound_summary(minutes: pd.DataFrame, weight: np.ndarray | None = None, *,
                     threshold_min: float | None = None) -> pd.DataFrame:
    """Per compound: mean minutes and share of its residents' points within the threshold.

    Parameters
    ----------
    minutes
        The per-point table of :func:`compound_minutes`.
    weight
        Weight of each point (``compound_points``' ``weight``); equal weights by default.
    threshold_min
        Minutes of the circle; by default the standard 15.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``compound_id``: ``points`` and, per category ``c``, ``c_walk_min`` and
        ``c_walk_min_direct`` (weighted means over the points that reach a facility) and
        ``c_share_15min`` and ``c_share_15min_direct`` (weighted share of points within the
        threshold).
    """
    thr = std.get("threshold_15_min") if threshold_min is None else float(threshold_min)
    w = np.ones(len(minutes)) if weight is None else np.asarray(weight, dtype=float)
    m = minutes.loc[minutes["compound_id"].notna()]
    w = w[minutes["compound_id"].notna().to_numpy()]
    cats = [c[: -len("_walk_min")] for c in m.columns if c.endswith("_walk_min")]
    df = pd.DataFrame({"compound_id": m["compound_id"].to_numpy(), "w": w, "n": 1})
    for c in cats:
        for suf in ("", "_direct"):
            v = m[f"{c}_walk_min{suf}"].to_numpy(dtype=float)
            fin = np.isfinite(v)
            df[f"{c}_wm{suf}"] = np.where(fin, v * w, 0.0)
            df[f"{c}_wf{suf}"] = np.where(fin, w, 0.0)
            df[f"{c}_in{suf}"] = np.where(v <= thr, w, 0.0)
    s = df.groupby("compound_id").sum(numeric_only=True)
    out = pd.DataFrame({"points": s["n"]}, index=s.index)
    for c in cats:
        for suf in ("", "_direct"):
            out[f"{c}_walk_min{suf}"] = s[f"{c}_wm{suf}"] / s[f"{c}_wf{suf}"].where(
                s[f"{c}_wf{suf}"] > 0)
            out[f"{c}_share_{thr:g}min{suf}"] = s[f"{c}_in{suf}"] / s["w"]
    return out


def _pairs(a_group: np.ndarray, b_group: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """All (i, j) with ``a_group[i] == b_group[j] >= 0``, vectorised."""
    ok_b = np.flatnonzero(b_group >= 0)
    order = ok_b[np.argsort(b_group[ok_b], kind="stable")]
    sorted_g = b_group[order]
    ok_a = np.flatnonzero(a_group >= 0)
    start = np.searchsorted(sorted_g, a_group[ok_a], "left")
    stop = np.searchsorted(sorted_g, a_group[ok_a], "right")
    cnt = stop - start
    i = np.repeat(ok_a, cnt)
    off = np.arange(cnt.sum()) - np.repeat(np.cumsum(cnt) - cnt, cnt)
    j = order[np.repeat(start, cnt) + off]
    return i, j


def _best(i: np.ndarray, d: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Per i (0..n-1): the smallest d and the pair position giving it (-1 when none)."""
    best = np.full(n, np.inf)
    arg = np.full(n, -1, dtype=np.int64)
    if len(i):
        order = np.lexsort((d, i))
        first = np.ones(len(order), dtype=bool)
        first[1:] = i[order][1:] != i[order][:-1]
        pick = order[first]
        best[i[pick]] = d[pick]
        arg[i[pick]] = pick
    return best, arg


def _compound_index(gn: GateNetwork, ids: np.ndarray) -> np.ndarray:
    lookup = {c: k for k, c in enumerate(gn.compounds["compound_id"])}
    return np.array([lookup.get(c, -1) if c is not None else -1 for c in ids], dtype=np.int64)


def gate_distances(gn: GateNetwork, facilities: gpd.GeoDataFrame,
                   points: gpd.GeoDataFrame | None = None, *,
                   detour: float = DETOUR_FACTOR,
                   max_access_m: float | None = None) -> pd.DataFrame:
    """Metres from each resident point to the nearest facility, through the compound gates.

    Parameters
    ----------
    gn
        The routing network and gates (:func:`gate_network`).
    facilities
        Facilities of one category (any CRS, points or areas).
    points
        Resident points (any CRS): buildings, cell centres. A ``compound_id`` column says
        which compound each lies in (``None`` for none); without it, it is worked out from
        the outlines. By default, one point per compound (a point on its surface).
    detour
        Walking distance ÷ straight-line distance inside a compound.
    max_access_m
        Longest off-network leg of facilities and of points outside compounds (default: the
        standard ``max_access_m``).

    Returns
    -------
    pandas.DataFrame
        One row per point: ``compound_id``, ``dist_m`` (``inf`` when nothing is reachable),
        ``via`` (``"gate"``, ``"inside"`` for a facility in the same compound, ``"street"``
        for points outside compounds or in compounds without gates, ``"none"``),
        ``gate_id``, ``walk_in_m`` (home to gate), ``facility`` (row of ``facilities``, -1).
    """
    max_access = std.get("max_access_m") if max_access_m is None else float(max_access_m)
    net, comp = gn.network, gn.compounds
    crs = net.crs
    if points is None:
        geom = comp.geometry.values
        points = gpd.GeoDataFrame({"compound_id": comp["compound_id"].to_numpy()},
                                  geometry=shapely.point_on_surface(geom), crs=crs)
    pl = points.to_crs(crs)
    pg = pl.geometry.values
    pg = np.where(shapely.get_type_id(pg) == 0, pg, shapely.point_on_surface(pg))
    px, py = shapely.get_x(pg), shapely.get_y(pg)
    pcid = (pl["compound_id"].to_numpy(dtype=object) if "compound_id" in pl.columns
            else points_in_compounds(pl, comp))
    pcid = np.array([None if (c is None or (isinstance(c, float) and np.isnan(c))) else str(c)
                     for c in pcid], dtype=object)
    pc = _compound_index(gn, pcid)
    npts = len(pl)

    fl = facilities.to_crs(crs)
    fg = fl.geometry.values
    fg = np.where(shapely.get_type_id(fg) == 0, fg, shapely.point_on_surface(fg))
    fx, fy = shapely.get_x(fg), shapely.get_y(fg)
    fc_all = _compound_index(gn, points_in_compounds(
        gpd.GeoDataFrame(geometry=fg, crs=crs), comp))
    in_closed = (fc_all >= 0) & gn.closed[np.maximum(fc_all, 0)]

    gs = gn.gate_snap
    gc = gn.gates["compound_idx"].to_numpy().astype(np.int64)
    gc = np.where(gs.ok, gc, -1)
    gx = shapely.get_x(gn.gates.geometry.values)
    gy = shapely.get_y(gn.gates.geometry.values)

    # sources: facilities on the routing network as they are; a facility on the inner paths
    # of a closed compound at that compound's gates, with the walk in from the gate along the
    # inner paths where the gate joins them, else straight × detour
    inner = np.zeros(len(fl), dtype=bool)
    s_base = None
    if in_closed.any() and gn.interior is not None:
        s_base = gn.base.snap(fx, fy, max_access_m=max_access)
        inner = in_closed & np.isin(s_base.edge, gn.removed_edges)
    open_f = np.flatnonzero(~inner)
    s_open = net.snap(fx[open_f], fy[open_f], max_access_m=max_access)
    inner_f = np.flatnonzero(inner)
    via_paths = np.zeros(len(gc), dtype=bool)
    parts = [(s_open, np.zeros(len(open_f)), open_f)]
    if len(inner_f) and s_base is not None and gn.interior is not None:
        nd_in = nearest_facility(gn.interior, s_base.subset(inner_f))
        gd_in, gw_in = cell_distances(nd_in, gs)
        f_in = np.where(gw_in >= 0, inner_f[np.maximum(gw_in, 0)], -1)
        via_paths = (f_in >= 0) & (gc >= 0) & (fc_all[np.maximum(f_in, 0)] == gc)
        vg = np.flatnonzero(via_paths)
        parts.append((gs.subset(vg), gd_in[vg], f_in[vg]))
    fi, gi = _pairs(np.where(inner, fc_all, -1), np.where(via_paths, -1, gc))
    walk_in = detour * np.hypot(fx[fi] - gx[gi], fy[fi] - gy[gi])
    parts.append((gs.subset(gi), walk_in, fi))
    seeds = _concat_snapped([p[0] for p in parts], np.concatenate([p[1] for p in parts]))
    seed_fac = np.concatenate([p[2] for p in parts]).astype(np.int64)
    nd = nearest_facility(net, seeds)

    # gates: metres to the nearest facility
    gd, gw = cell_distances(nd, gs)
    gfac = np.where(gw >= 0, seed_fac[np.maximum(gw, 0)], -1)

    dist = np.full(npts, np.inf)
    via = np.full(npts, "none", dtype=object)
    gate_id = np.full(npts, None, dtype=object)
    walk = np.full(npts, np.nan)
    fac = np.full(npts, -1, dtype=np.int64)

    # residents of compounds with gates: home -> gate -> network
    pi, gj = _pairs(pc, gc)
    leg = detour * np.hypot(px[pi] - gx[gj], py[pi] - gy[gj])
    best, arg = _best(pi, gd[gj] + leg, npts)
    hit = np.isfinite(best)
    dist[hit] = best[hit]
    via[hit] = "gate"
    gate_id[hit] = gn.gates["gate_id"].to_numpy()[gj[arg[hit]]]
    walk[hit] = leg[arg[hit]]
    fac[hit] = gfac[gj[arg[hit]]]
    gated = np.zeros(npts, dtype=bool)
    gated[pi] = True  # has at least one gate, reachable or not

    # a facility in the resident's own compound: straight walk inside
    qi, fj = _pairs(pc, fc_all)
    inside_d = detour * np.hypot(px[qi] - fx[fj], py[qi] - fy[fj])
    ib, iarg = _best(qi, inside_d, npts)
    better = ib < dist
    dist[better] = ib[better]
    via[better] = "inside"
    gate_id[better] = None
    walk[better] = np.nan
    fac[better] = fj[iarg[better]]

    # everyone else joins the routing network directly
    other = np.flatnonzero(~gated & ~better)
    if len(other):
        so = net.snap(px[other], py[other], max_access_m=max_access)
        od, ow = cell_distances(nd, so)
        ok = np.isfinite(od)
        dist[other[ok]] = od[ok]
        via[other[ok]] = "street"
        fac[other[ok]] = seed_fac[ow[ok]]
    return pd.DataFrame({"compound_id": pcid, "dist_m": dist, "via": via, "gate_id": gate_id,
                         "walk_in_m": walk, "facility": fac}, index=pl.index)


def _concat_snapped(sets: list[Snapped], extra_access: np.ndarray) -> Snapped:
    """Snapped sets as one, with ``extra_access`` metres added to each off-network leg."""
    fields = {k: np.concatenate([getattr(s, k) for s in sets])
              for k in sets[0].__dataclass_fields__}
    fields["access_m"] = fields["access_m"] + extra_access
    return Snapped(**fields)


def compound_minutes(network: WalkNetwork, compounds: gpd.GeoDataFrame,
                     gates: gpd.GeoDataFrame, facilities: gpd.GeoDataFrame, *,
                     points: gpd.GeoDataFrame | None = None, closed_compounds: bool = True,
                     speeds: dict[str, float] | None = None,
                     detour: float = DETOUR_FACTOR,
                     keep_edges: np.ndarray | None = None,
                     max_access_m: float | None = None) -> pd.DataFrame:
    """Walking minutes per resident point for each facility category, with and without gates.

    Parameters
    ----------
    network
        The walking network.
    compounds
        Compounds with ``compound_id`` (any CRS).
    gates
        Their gates (:func:`compound_gates`).
    facilities
        Facilities with a ``category`` column (``elderly``, ``childcare``), any CRS.
    points
        Resident points (see :func:`gate_distances`); by default a grid over each compound
        (:func:`compound_points`).
    closed_compounds
        Close compounds with mapped gates to through routes (see :func:`gate_network`).
    speeds
        Walking speed (m/s) per category; by default the standards' speed of the group each
        category serves.
    detour
        Walking distance ÷ straight-line distance inside a compound.
    keep_edges
        Edges never closed (see :func:`gate_network`).
    max_access_m
        Longest off-network leg of facilities and of points joining the streets directly
        (default: the standard ``max_access_m``).

    Returns
    -------
    pandas.DataFrame
        ``compound_id`` and, per category ``c``: ``c_walk_min`` (through the gates),
        ``c_walk_min_direct`` (joining the nearest street, no gates, no closed compounds),
        ``c_via``, ``c_gate_id`` and, when the facilities have a ``facility_id``,
        ``c_facility_id`` (the facility reached through the gates); ``weight`` when the
        points have one.
        ``attrs["seconds"]`` holds the run time, ``attrs["closed_compounds"]`` and
        ``attrs["removed_edges"]`` what the closing took out.
    """
    import time

    from .standards import CATEGORIES

    t0 = time.perf_counter()
    max_access = std.get("max_access_m") if max_access_m is None else float(max_access_m)
    gn = gate_network(network, compounds, gates, closed_compounds=closed_compounds,
                      keep_edges=keep_edges)
    if points is None:
        points = compound_points(gn.compounds)
    pl = points.to_crs(network.crs)
    pxy = shapely.get_coordinates(np.where(shapely.get_type_id(pl.geometry.values) == 0,
                                           pl.geometry.values,
                                           shapely.point_on_surface(pl.geometry.values)))
    direct_snap = network.snap(pxy[:, 0], pxy[:, 1], max_access_m=max_access)
    out: pd.DataFrame | None = None
    cats = [c for c in pd.unique(facilities["category"].astype(str))]
    for cat in cats:
        speed = ((speeds or {}).get(cat)
                 or std.get(CATEGORIES[cat].speed_key if cat in CATEGORIES
                            else "walk_speed_default_mps"))
        f = facilities.loc[facilities["category"].astype(str) == cat]
        r = gate_distances(gn, f, pl, detour=detour, max_access_m=max_access)
        if out is None:
            out = pd.DataFrame({"compound_id": r["compound_id"].to_numpy()}, index=pl.index)
        fsn = network.snap_gdf(f, max_access_m=max_access)
        dd, _ = cell_distances(nearest_facility(network, fsn), direct_snap)
        out[f"{cat}_walk_min"] = r["dist_m"].to_numpy() / speed / 60.0
        out[f"{cat}_walk_min_direct"] = dd / speed / 60.0
        out[f"{cat}_via"] = r["via"].to_numpy()
        out[f"{cat}_gate_id"] = r["gate_id"].to_numpy()
        if "facility_id" in f.columns:
            fid = f["facility_id"].astype(str).to_numpy()
            k = r["facility"].to_numpy()
            ids = np.full(len(k), None, dtype=object)
            if len(fid):
                ids[k >= 0] = fid[k[k >= 0]]
            out[f"{cat}_facility_id"] = ids
    if out is None:
        out = pd.DataFrame({"compound_id": points_in_compounds(pl, gn.compounds)}, index=pl.index)
    if "weight" in pl.columns:
        out["weight"] = pl["weight"].to_numpy()
    out.attrs["seconds"] = time.perf_counter() - t0
    out.attrs["closed_compounds"] = int(gn.closed.sum())
    out.attrs["removed_edges"] = len(gn.removed_edges)
    return out


def _weighted_mode(cid: np.ndarray, key: np.ndarray, w: np.ndarray) -> pd.Series:
    """Per compound, the key value carrying the largest weight (ties: the first in order)."""
    ok = pd.notna(key)
    if not ok.any():
        return pd.Series(dtype=object)
    d = pd.DataFrame({"c": cid[ok], "k": key[ok], "w": w[ok]})
    s = d.groupby(["c", "k"], sort=True)["w"].sum().reset_index()
    s = s.sort_values(["c", "w"], ascending=[True, False], kind="stable").drop_duplicates("c")
    return pd.Series(s["k"].to_numpy(), index=s["c"].to_numpy(), dtype=object)


def minutes_by_compound(minutes: pd.DataFrame, gates: gpd.GeoDataFrame,
                        compound_ids: pd.Index | np.ndarray, *,
                        threshold_min: float) -> pd.DataFrame:
    """One row per compound from the per-point minutes of :func:`compound_minutes`.

    Parameters
    ----------
    minutes
        Per resident point: ``compound_id``, ``weight`` (optional) and per category ``c``
        ``c_walk_min``, ``c_walk_min_direct``, ``c_via``, ``c_gate_id``, ``c_facility_id``.
    gates
        The gate table (:func:`compound_gates`): the gate source of each compound.
    compound_ids
        The compounds, in the order of the result.
    threshold_min
        The coverage threshold (minutes).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``compound_id``: ``gate_source`` (the kind of gate the compound got: ``file``,
        ``osm_gate``, ``osm_entrance``, ``boundary_crossing``, ``nearest_street``, ``none``),
        ``gates_mapped`` (file or OSM gates), ``gates`` (number) and per category ``c``:
        ``c_walk_min`` and ``c_walk_min_direct`` (weighted means over the compound's resident
        points that reach a facility; ``inf`` when none does), ``c_share_covered`` (weighted
        share of the points within the threshold through the gates), ``c_gate_id`` (the gate
        most of the residents leave by to that facility) and ``c_nearest_facility`` (the
        facility most of them reach).
    """
    ids = pd.Index(np.asarray(compound_ids).astype(str), name="compound_id")
    out = pd.DataFrame(index=ids)
    g = pd.DataFrame({"c": gates["compound_id"].astype(str).to_numpy(),
                      "s": gates["source"].astype(str).to_numpy()})
    first = g.drop_duplicates("c").set_index("c")["s"]
    out["gate_source"] = first.reindex(ids).fillna("none").to_numpy(dtype=object)
    out["gates_mapped"] = np.isin(out["gate_source"].to_numpy(), MAPPED_SOURCES)
    out["gates"] = g["c"].value_counts().reindex(ids).fillna(0).astype(int).to_numpy()
    m = minutes.loc[minutes["compound_id"].notna()]
    cid = m["compound_id"].astype(str).to_numpy()
    w = m["weight"].to_numpy(float) if "weight" in m.columns else np.ones(len(m))
    wsum = pd.Series(w).groupby(cid).sum().reindex(ids)
    cats = [c[: -len("_walk_min")] for c in m.columns if c.endswith("_walk_min")]
    for c in cats:
        for suf in ("", "_direct"):
            v = m[f"{c}_walk_min{suf}"].to_numpy(float)
            fin = np.isfinite(v)
            num = pd.Series(np.where(fin, v * w, 0.0)).groupby(cid).sum().reindex(ids)
            den = pd.Series(np.where(fin, w, 0.0)).groupby(cid).sum().reindex(ids)
            mean = (num / den.where(den > 0)).to_numpy(float)
            # points but none reaches a facility: unreachable (inf); no point at all: NaN
            mean = np.where(np.isnan(mean) & wsum.notna().to_numpy(), np.inf, mean)
            out[f"{c}_walk_min{suf}"] = mean
        v = m[f"{c}_walk_min"].to_numpy(float)
        within = pd.Series(np.where(v <= threshold_min, w, 0.0)).groupby(cid).sum().reindex(ids)
        out[f"{c}_share_covered"] = (within / wsum.where(wsum > 0)).to_numpy(float)
        gid: np.ndarray = np.full(len(m), None, dtype=object)
        if f"{c}_gate_id" in m and f"{c}_via" in m:
            via_gate = m[f"{c}_via"].to_numpy() == "gate"
            gid[via_gate] = m[f"{c}_gate_id"].to_numpy(dtype=object)[via_gate]
        out[f"{c}_gate_id"] = _weighted_mode(cid, gid, w).reindex(ids).to_numpy(dtype=object)
        if f"{c}_facility_id" in m:
            fid = m[f"{c}_facility_id"].to_numpy(dtype=object)
            out[f"{c}_nearest_facility"] = _weighted_mode(cid, fid, w).reindex(ids).to_numpy(
                dtype=object)
    return out


def region_gates(compounds: gpd.GeoDataFrame, network: WalkNetwork, osm_file: Any, *,
                 gates_file: str | Path | None = None, coords: str = "wgs84",
                 closed_compounds: bool = True, notes: list[str] | None = None,
                 reports: dict[str, Any] | None = None
                 ) -> tuple[gpd.GeoDataFrame, np.ndarray | None]:
    """The gates of a region's compounds and the public streets never closed with them.

    Parameters
    ----------
    compounds
        The region's compounds (``compound_id``), any CRS.
    network
        The walking network.
    osm_file
        The OSM source (file path or online source) for ``barrier=gate`` / ``entrance=*``
        nodes and the public streets; None: neither.
    gates_file
        A planner's gate list (``compounds.gates``, ``--gates``).
    coords
        Coordinate system of the gate list (``--gates-crs``).
    closed_compounds
        Whether compounds with mapped gates will be closed: only then are the public streets
        read.
    notes
        Plain-language notes, appended to.
    reports
        ``gates`` added: compounds by the kind of gate, gates by source.

    Returns
    -------
    tuple
        The gate table (:func:`compound_gates`) and the ``keep_edges`` mask of
        :func:`public_street_edges` (None when nothing is closed or there is no OSM source).
    """
    nodes = osm_gate_nodes(osm_file) if osm_file is not None else None
    gates = compound_gates(compounds, network, gates_file=gates_file, coords=coords,
                           osm_nodes=nodes)
    keep = None
    mapped = gates.loc[gates["source"].isin(MAPPED_SOURCES), "compound_id"].nunique()
    if closed_compounds and mapped and osm_file is not None:
        keep = public_street_edges(network, osm_file)
    counts = {str(k): int(v) for k, v in gates.attrs["counts"].items()}
    n = len(compounds)
    if notes is not None:
        src = (f"{Path(gates_file).name}" if gates_file is not None else "OSM gates/entrances")
        notes.append(f"Compound gates: {len(gates)} gates; {mapped} of {n} compounds "
                     f"({mapped / max(n, 1):.0%}) have mapped gates ({src}), "
                     f"{counts.get('boundary_crossing', 0)} use the street crossings of their "
                     f"outline, {counts.get('nearest_street', 0)} the nearest streets, "
                     f"{counts.get('none', 0)} none; residents walk to a gate (straight line × "
                     "detour factor) and on over the streets; compounds with mapped gates are "
                     + ("closed to through routes." if closed_compounds
                        else "open to through routes (--open-compounds)."))
        notes.extend(gates.attrs["notes"])
    if reports is not None:
        reports["gates"] = {"gates": len(gates), "compounds_by_gate_kind": counts,
                            "gates_by_source": {str(k): int(v) for k, v in
                                                gates["source"].value_counts().items()},
                            "compounds_with_mapped_gates": int(mapped),
                            "closed_compounds": bool(closed_compounds)}
    return gates, keep
