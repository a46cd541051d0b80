"""WalkNetwork: a compact walking graph (CSR adjacency in metres) with edge snapping.

The network is undirected (pedestrians ignore one-way streets). Nodes carry coordinates in a
local projected metric CRS (the UTM zone of the data); edges carry their geometry in that CRS,
oriented from ``edge_u`` to ``edge_v``, and their length in metres. Points join the network at
their nearest point on the nearest *edge*, never at the nearest node, so a facility beside a
long block is not given false access across it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import connected_components

from ._errors import InputError

__all__ = ["Snapped", "WalkNetwork", "network_from_edges", "network_from_graph"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Snapped:
    """Points joined to a :class:`WalkNetwork` at the nearest point of the nearest edge.

    All arrays have one entry per input point. Points farther than ``max_access_m`` from every
    edge have ``edge == -1`` and NaN distances: they are reported, not attached.

    Attributes
    ----------
    edge
        Index of the nearest edge, or -1.
    along_m
        Distance along the edge from its ``u`` end to the snapped point.
    to_u_m, to_v_m
        Distances along the edge from the snapped point to its ``u`` and ``v`` ends.
    access_m
        The off-network leg: straight-line distance from the point to the edge.
    node_u, node_v
        The edge's end nodes (-1 when not snapped).
    x, y
        Input coordinates in the network CRS.
    """

    edge: np.ndarray
    along_m: np.ndarray
    to_u_m: np.ndarray
    to_v_m: np.ndarray
    access_m: np.ndarray
    node_u: np.ndarray
    node_v: np.ndarray
    x: np.ndarray
    y: np.ndarray

    @property
    def ok(self) -> np.ndarray:
        """Mask of points attached to the network."""
        return self.edge >= 0

    def __len__(self) -> int:
        return len(self.edge)

    def subset(self, mask: np.ndarray) -> Snapped:
        """The snapped points selected by a boolean mask or index array."""
        return Snapped(**{k: getattr(self, k)[mask] for k in self.__dataclass_fields__})


@dataclass(eq=False)
class WalkNetwork:
    """Undirected walking graph in a local metric CRS.

    Build it with :func:`care15.sources.osm.network_from_pbf`, ``network_from_xml``,
    ``network_from_place`` or :func:`network_from_edges`.

    Attributes
    ----------
    crs
        The local projected CRS (metres) of ``x``, ``y`` and ``edge_geometry``.
    node_id
        Original (OSM) node ids.
    x, y
        Node coordinates in ``crs``.
    edge_u, edge_v
        End-node indices (positions in ``node_id``) of each edge.
    edge_length_m
        Edge lengths in metres (the geometry length in ``crs``).
    edge_geometry
        Edge LineStrings in ``crs``, oriented from ``edge_u`` to ``edge_v``.
    source
        Where the network came from (file name or query), for messages.
    """

    crs: pyproj.CRS
    node_id: np.ndarray
    x: np.ndarray
    y: np.ndarray
    edge_u: np.ndarray
    edge_v: np.ndarray
    edge_length_m: np.ndarray
    edge_geometry: np.ndarray
    source: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def n_nodes(self) -> int:
        """Number of nodes."""
        return len(self.node_id)

    @property
    def n_edges(self) -> int:
        """Number of edges."""
        return len(self.edge_u)

    def __repr__(self) -> str:
        return (f"WalkNetwork({self.n_nodes:,} nodes, {self.n_edges:,} edges, "
                f"{self.total_length_m / 1000:,.1f} km, {self.n_components} components, "
                f"crs={self.crs.to_string()}, source={self.source!r})")

    @property
    def total_length_m(self) -> float:
        """Total street length in metres."""
        return float(self.edge_length_m.sum())

    @cached_property
    def csr(self) -> sp.csr_matrix:
        """Symmetric CSR adjacency (n × n) whose values are the shortest parallel edge lengths."""
        u, v, w = self.edge_u, self.edge_v, self.edge_length_m
        keep = u != v
        u, v, w = u[keep], v[keep], w[keep]
        rows = np.concatenate([u, v])
        cols = np.concatenate([v, u])
        data = np.concatenate([w, w])
        # keep the shortest of parallel edges (coo->csr would sum them)
        order = np.lexsort((data, cols, rows))
        rows, cols, data = rows[order], cols[order], data[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = (rows[1:] != rows[:-1]) | (cols[1:] != cols[:-1])
        rows, cols, data = rows[first], cols[first], data[first]
        # zero-length edges (duplicate nodes) stay: scipy.csgraph treats explicitly stored
        # zeros of sparse input as edges
        n = self.n_nodes
        return sp.csr_matrix((data, (rows, cols)), shape=(n, n))

    @cached_property
    def component(self) -> np.ndarray:
        """Connected-component label of each node; 0 is the largest component."""
        n, labels = connected_components(self.csr, directed=False)
        sizes = np.bincount(labels, minlength=n)
        rank = np.empty(n, dtype=np.int32)
        rank[np.argsort(-sizes, kind="stable")] = np.arange(n, dtype=np.int32)
        return rank[labels]

    @property
    def n_components(self) -> int:
        """Number of connected pieces."""
        return int(self.component.max()) + 1 if self.n_nodes else 0

    def components_summary(self) -> pd.DataFrame:
        """One row per connected piece: nodes and street length (largest first)."""
        comp = self.component
        nodes = np.bincount(comp)
        length = np.bincount(comp[self.edge_u], weights=self.edge_length_m, minlength=len(nodes))
        return pd.DataFrame({"component": np.arange(len(nodes)), "n_nodes": nodes,
                             "length_m": length})

    @cached_property
    def _tree(self) -> shapely.STRtree:
        return shapely.STRtree(self.edge_geometry)

    def to_local(self, gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoDataFrame | gpd.GeoSeries:
        """Project a GeoDataFrame into the network CRS, refusing data without a CRS."""
        if gdf.crs is None:
            raise InputError("layer has no CRS; set it with .set_crs('EPSG:4326') "
                             "(or the CRS it was made in) before joining it to the network")
        return gdf.to_crs(self.crs)

    def snap(self, x: np.ndarray, y: np.ndarray, *, max_access_m: float = np.inf) -> Snapped:
        """Join points (in the network CRS) to the nearest point of the nearest edge.

        Parameters
        ----------
        x, y
            Coordinates in :attr:`crs`.
        max_access_m
            Longest off-network leg; farther points get ``edge == -1``.
        """
        x = np.asarray(x, dtype=float)
        y = np.asarray(y, dtype=float)
        n = len(x)
        edge = np.full(n, -1, dtype=np.int64)
        access = np.full(n, np.nan)
        if n == 0 or self.n_edges == 0:
            return self._snapped(edge, x, y, access)
        pts = shapely.points(x, y)
        finite = np.isfinite(x) & np.isfinite(y)
        md = None if not np.isfinite(max_access_m) else float(max_access_m)
        idx_in, idx_tree = self._tree.query_nearest(
            pts[finite], max_distance=md, all_matches=False, return_distance=False)
        rows = np.flatnonzero(finite)[idx_in]
        edge[rows] = idx_tree
        return self._snapped(edge, x, y, access)

    def _snapped(self, edge: np.ndarray, x: np.ndarray, y: np.ndarray,
                 access: np.ndarray) -> Snapped:
        ok = edge >= 0
        along = np.full(len(edge), np.nan)
        if ok.any():
            g = self.edge_geometry[edge[ok]]
            p = shapely.points(x[ok], y[ok])
            along[ok] = shapely.line_locate_point(g, p)
            access[ok] = shapely.distance(g, p)
        length = np.where(ok, self.edge_length_m[np.where(ok, edge, 0)], np.nan)
        along = np.clip(along, 0, length)
        nu = np.where(ok, self.edge_u[np.where(ok, edge, 0)], -1)
        nv = np.where(ok, self.edge_v[np.where(ok, edge, 0)], -1)
        return Snapped(edge=edge, along_m=along, to_u_m=along, to_v_m=length - along,
                       access_m=access, node_u=nu, node_v=nv, x=x, y=y)

    def snap_gdf(self, gdf: gpd.GeoDataFrame | gpd.GeoSeries, *,
                 max_access_m: float = np.inf) -> Snapped:
        """Snap the representative points of a GeoDataFrame (any CRS) to the network."""
        geom = self.to_local(gdf)
        geom = geom.geometry if isinstance(geom, gpd.GeoDataFrame) else geom
        pts = geom.values
        if len(pts):
            not_point = shapely.get_type_id(pts) != 0
            if not_point.any():
                pts = pts.copy()
                pts[not_point] = shapely.point_on_surface(pts[not_point])
        xy = shapely.get_coordinates(pts) if len(pts) else np.empty((0, 2))
        if len(xy) != len(pts):  # empty geometries
            xs = np.array([p.x if p is not None and not p.is_empty else np.nan for p in pts])
            ys = np.array([p.y if p is not None and not p.is_empty else np.nan for p in pts])
            xy = np.column_stack([xs, ys])
        return self.snap(xy[:, 0], xy[:, 1], max_access_m=max_access_m)

    def component_of(self, snapped: Snapped) -> np.ndarray:
        """Component label of each snapped point (-1 when not snapped)."""
        return np.where(snapped.ok, self.component[np.maximum(snapped.node_u, 0)], -1)

    def nodes_gdf(self) -> gpd.GeoDataFrame:
        """Nodes as a GeoDataFrame in the network CRS."""
        return gpd.GeoDataFrame({"node_id": self.node_id, "component": self.component},
                                geometry=shapely.points(self.x, self.y), crs=self.crs)

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """Edges as a GeoDataFrame in the network CRS."""
        return gpd.GeoDataFrame({"u": self.node_id[self.edge_u], "v": self.node_id[self.edge_v],
                                 "length_m": self.edge_length_m},
                                geometry=self.edge_geometry, crs=self.crs)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(minx, miny, maxx, maxy) of the nodes in the network CRS."""
        return (float(self.x.min()), float(self.y.min()), float(self.x.max()), float(self.y.max()))

    def bounds_wgs84(self) -> tuple[float, float, float, float]:
        """(west, south, east, north) of the nodes in EPSG:4326."""
        t = pyproj.Transformer.from_crs(self.crs, 4326, always_xy=True)
        lon, lat = t.transform(self.x, self.y)
        return (float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat)))


def network_from_edges(edges: gpd.GeoDataFrame, *, u: str = "u", v: str = "v",
                       crs: pyproj.CRS | str | int | None = None, source: str = "",
                       meta: dict[str, Any] | None = None) -> WalkNetwork:
    """Build a :class:`WalkNetwork` from edge LineStrings with end-node ids.

    Parameters
    ----------
    edges
        One row per street segment between two nodes, with LineString geometry running from
        node ``u`` to node ``v`` (reversed geometries are detected and flipped).
    u, v
        Columns holding the end-node ids.
    crs
        Target metric CRS; by default the UTM zone estimated from the data.
    source
        Name of the input, used in messages.
    """
    if edges.crs is None:
        raise InputError(f"{source or 'edges'}: the edge layer has no CRS")
    if len(edges) == 0:
        raise InputError(f"{source or 'edges'}: no walkable ways (the layer of streets is empty); "
                         "check the file covers a built-up area and has highway=* ways")
    geom = edges.geometry.values
    types = shapely.get_type_id(geom)
    if (types == 5).any():  # MultiLineString: merge parts
        merged = shapely.line_merge(geom[types == 5])
        geom = geom.copy()
        geom[types == 5] = merged
        types = shapely.get_type_id(geom)
    good = (types == 1) & ~shapely.is_empty(geom)
    if not good.all():
        log.warning("%s: dropped %d edges with no usable LineString geometry", source,
                    int((~good).sum()))
    edges = edges.loc[good]
    geom = geom[good]
    if crs is None:
        crs = gpd.GeoSeries(shapely.centroid(geom[:: max(1, len(geom) // 2000)]),
                            crs=edges.crs).estimate_utm_crs()
    crs = pyproj.CRS.from_user_input(crs)
    local = gpd.GeoSeries(geom, crs=edges.crs).to_crs(crs).values
    uid = edges[u].to_numpy().astype(np.int64)
    vid = edges[v].to_numpy().astype(np.int64)
    node_id, inv = np.unique(np.concatenate([uid, vid]), return_inverse=True)
    ne = len(uid)
    eu = inv[:ne].astype(np.int32)
    ev = inv[ne:].astype(np.int32)
    first = shapely.get_point(local, 0)
    last = shapely.get_point(local, -1)
    # orientation: first vertex should be u's end; use a consistent node position estimate
    fx, fy = shapely.get_x(first), shapely.get_y(first)
    lx, ly = shapely.get_x(last), shapely.get_y(last)
    x = np.full(len(node_id), np.nan)
    y = np.full(len(node_id), np.nan)
    x[eu], y[eu] = fx, fy  # provisional
    # provisional node positions (as u: first vertex, else as v: last vertex); an edge whose
    # geometry fits its nodes better reversed is flipped so that it runs from u to v
    x2 = x.copy()
    y2 = y.copy()
    missing = np.isnan(x2[ev])
    x2[ev[missing]], y2[ev[missing]] = lx[missing], ly[missing]
    du = np.hypot(fx - x2[eu], fy - y2[eu]) + np.hypot(lx - x2[ev], ly - y2[ev])
    df = np.hypot(lx - x2[eu], ly - y2[eu]) + np.hypot(fx - x2[ev], fy - y2[ev])
    flip = df < du
    if flip.any():
        local = local.copy()
        local[flip] = shapely.reverse(local[flip])
        fx, fy, lx, ly = (np.where(flip, lx, fx), np.where(flip, ly, fy),
                          np.where(flip, fx, lx), np.where(flip, fy, ly))
    x[:] = np.nan
    y[:] = np.nan
    x[ev], y[ev] = lx, ly
    x[eu], y[eu] = fx, fy
    length = shapely.length(local)
    return WalkNetwork(crs=crs, node_id=node_id, x=x, y=y, edge_u=eu, edge_v=ev,
                       edge_length_m=length.astype(float), edge_geometry=local,
                       source=source, meta=dict(meta or {}))


def network_from_graph(G: Any, *, source: str = "", crs: Any = None) -> WalkNetwork:
    """Build a :class:`WalkNetwork` from an OSMnx/networkx MultiDiGraph (walk filter applied).

    Edges without a ``geometry`` attribute get a straight line between their nodes. Both
    directions of a street collapse into one undirected edge.
    """
    import osmnx as ox

    from .sources.osm import walkable_mask

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
    edges = gpd.GeoDataFrame(edges.loc[keep, ["u", "v", "geometry"]], geometry="geometry",
                             crs=nodes.crs)
    return network_from_edges(edges, source=source, crs=crs)
