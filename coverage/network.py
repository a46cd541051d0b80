"""WalkNetwork: a compact walking graph (CSR adjacency in metres) with edge snapping.

The network is undirected (pedestrians ignore one-way streets). Nodes carry coordinates in a
local projected metric CRS (the UTM zone of the data); edges carry their geometry in that CRS,
oriented from ``edge_u`` to ``edge_v``, and their length in metres. Points join the network at
their nearest point on the nearest *edge*, never at the nearest node, so a facility beside a
long block is not given false access across it.

Notes
-----
Every edge carries an entry class (:attr:`WalkNetwork.edge_class`, read from the OSM tags by
:func:`care15.sources.osm.edge_entry_class`): an at-grade street (``EDGE_STREET``), a way on
another level (``EDGE_GRADE_SEPARATED``: ``bridge=*`` other than ``no``, or a non-zero
``layer``) or a way nobody can step onto from outside (``EDGE_NO_ENTRY``: ``tunnel=*``,
``covered=*``, ``indoor=*`` other than ``no``, and ``highway=corridor``). All of them stay in
the routing graph, since people walk through tunnels and over bridges; the class only decides
where a population cell or a facility may *enter* the network:

* never on an ``EDGE_NO_ENTRY`` edge;
* on a bridge or other level only when no at-grade street lies within
  :data:`GRADE_EXTRA_M` (50 m) more than it: a footbridge 3 m away does not win over the
  street 20 m away below it, but a bridge is used where the nearest at-grade street is more
  than 50 m farther;
* on a small disconnected piece (an "island", see :data:`SMALL_PIECE_JUNCTIONS`) only when no
  edge of a large piece lies within :data:`SMALL_PIECE_REACH_M` (250 m) of the point.

:attr:`Snapped.snap_class` says what each point joined and :attr:`Snapped.skipped_class` which
kind of nearer edge it was kept off, so callers can list the points still left on islands and
count the points the rules moved.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
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

__all__ = [
    "EDGE_GRADE_SEPARATED",
    "EDGE_NO_ENTRY",
    "EDGE_STREET",
    "GRADE_EXTRA_M",
    "SMALL_PIECE_JUNCTIONS",
    "SMALL_PIECE_REACH_M",
    "SNAP_CLASS_LABELS",
    "SNAP_GRADE_SEPARATED",
    "SNAP_NONE",
    "SNAP_NO_ENTRY",
    "SNAP_SMALL_PIECE",
    "SNAP_STREET",
    "CRSLike",
    "Snapped",
    "WalkNetwork",
    "network_from_edges",
]

log = logging.getLogger(__name__)

#: What a CRS may be given as: a pyproj CRS, an EPSG code, an authority string or WKT.
CRSLike = pyproj.CRS | str | int | None

#: Edge entry class: an at-grade street or path, where points may join the network.
EDGE_STREET = 0
#: Edge entry class: a bridge (``bridge=*`` not ``no``) or a way with a non-zero ``layer``.
EDGE_GRADE_SEPARATED = 1
#: Edge entry class: ``tunnel``/``covered``/``indoor`` (not ``no``) or ``highway=corridor``;
#: routed through, never entered from outside.
EDGE_NO_ENTRY = 2

#: Point class (:attr:`Snapped.snap_class`, :attr:`Snapped.skipped_class`): nothing.
SNAP_NONE = -1
#: Point class: an at-grade street of a large piece.
SNAP_STREET = 0
#: Point class: a bridge or other level of a large piece (no at-grade street near enough).
SNAP_GRADE_SEPARATED = 1
#: Point class: an edge of a small disconnected piece (no large piece within reach).
SNAP_SMALL_PIECE = 2
#: Point class (only in :attr:`Snapped.skipped_class`): a tunnel, covered or indoor way.
SNAP_NO_ENTRY = 3
#: Plain names of the point classes, for tables and messages.
SNAP_CLASS_LABELS = {SNAP_NONE: "none", SNAP_STREET: "street",
                     SNAP_GRADE_SEPARATED: "bridge or other level",
                     SNAP_SMALL_PIECE: "small disconnected piece",
                     SNAP_NO_ENTRY: "tunnel, covered or indoor way"}

#: A point joins a bridge or a way on another ``layer`` only when no at-grade street is within
#: this many metres more than it. 50 m is about the depth of a street-side building plus a
#: sidewalk: a person at a cell centre walks that far to the street below rather than climbing
#: onto a flyover or footbridge (which in the data is often right overhead).
GRADE_EXTRA_M = 50.0
#: A connected piece other than the largest is *small* (an island, R5's and OpenTripPlanner's
#: "floating subgraph") when it has fewer than this many junctions (nodes whose number of
#: distinct neighbours is not 2: crossings and dead ends). R5 removes subgraphs of fewer than
#: 40 vertices (``StreetLayer.MIN_SUBGRAPH_SIZE``), and its vertices are nearly such junctions
#: (ways are split at intersections and end at way ends only); OpenTripPlanner prunes islands
#: the same way. Junctions rather than nodes, because a PBF network keeps every OSM vertex:
#: counted so, a 3-node footbridge has 2 and the clipped fragments of Shenzhen Longgang 2 to 6,
#: while a piece of 40 junctions is a mapped compound or a few blocks, kept as a network.
SMALL_PIECE_JUNCTIONS = 40
#: A point near a small piece joins a large piece instead when one lies within this many metres
#: (and within the caller's ``max_access_m``). 250 m is care15's default longest access leg
#: (standard ``max_access_m``; R5 links points to streets within 300 m): a point that far from
#: every large piece would be unattached even if the island were not there.
SMALL_PIECE_REACH_M = 250.0


def _count_phrase(n_cells: int, n_facilities: int, residents: float | None = None) -> str:
    """Say "3 population cells (120 residents) and 1 facility", leaving out zero counts."""
    parts = []
    if n_cells:
        r = f" ({residents:,.0f} residents)" if residents is not None else ""
        parts.append(f"{n_cells} population cell{'s' if n_cells != 1 else ''}{r}")
    if n_facilities:
        parts.append(f"{n_facilities} facilit{'ies' if n_facilities != 1 else 'y'}")
    return " and ".join(parts)


def _int8_default() -> np.ndarray:
    return np.empty(0, dtype=np.int8)


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
    snap_class
        What the point joined: :data:`SNAP_STREET`, :data:`SNAP_GRADE_SEPARATED`,
        :data:`SNAP_SMALL_PIECE` or :data:`SNAP_NONE` (not snapped); without the entry rules
        (``snap(..., entry_rules=False)``) the class of the nearest edge, which may be
        :data:`SNAP_NO_ENTRY`. Filled from ``edge`` (``SNAP_STREET`` where snapped) when not
        given.
    skipped_class
        The class of a *nearer* edge the entry rules kept the point off (:data:`SNAP_NO_ENTRY`,
        :data:`SNAP_GRADE_SEPARATED`, :data:`SNAP_SMALL_PIECE`), or :data:`SNAP_NONE` when the
        point joined the nearest edge: the points the rules moved.
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
    snap_class: np.ndarray = field(default_factory=_int8_default)
    skipped_class: np.ndarray = field(default_factory=_int8_default)

    def __post_init__(self) -> None:
        """Fill the point classes when they were not given."""
        n = len(self.edge)
        if len(self.snap_class) != n:
            object.__setattr__(self, "snap_class", np.where(
                np.asarray(self.edge) >= 0, SNAP_STREET, SNAP_NONE).astype(np.int8))
        if len(self.skipped_class) != n:
            object.__setattr__(self, "skipped_class", np.full(n, SNAP_NONE, dtype=np.int8))

    @property
    def moved(self) -> np.ndarray:
        """Points the entry rules kept off a nearer edge.

        Returns
        -------
        numpy.ndarray
            Boolean mask, True where :attr:`skipped_class` is set.
        """
        return np.asarray(self.skipped_class != SNAP_NONE)

    @property
    def ok(self) -> np.ndarray:
        """Points attached to the network.

        Returns
        -------
        numpy.ndarray
            Boolean mask, True where ``edge >= 0``.
        """
        return self.edge >= 0

    def __len__(self) -> int:
        """Number of points."""
        return len(self.edge)

    def subset(self, mask: np.ndarray) -> Snapped:
        """Select some of the snapped points.

        Parameters
        ----------
        mask
            Boolean mask or index array over the points.

        Returns
        -------
        Snapped
            The selected points, every array subset alike.
        """
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
    meta
        Reader, path, load time and other facts about the build (JSON-serialisable).
    edge_class
        Entry class of each edge (int8): :data:`EDGE_STREET`, :data:`EDGE_GRADE_SEPARATED` or
        :data:`EDGE_NO_ENTRY`; all ``EDGE_STREET`` when not given.
    parent_edge_entry
        For a part cut from a larger network (:meth:`subnetwork`): each edge's
        :attr:`edge_entry` in that network, so that a piece cut by the part's border is not
        taken for a small island. ``None`` for a whole network.
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
    edge_class: np.ndarray = field(default_factory=_int8_default)
    parent_edge_entry: np.ndarray | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        """Check the edge classes (all streets when not given)."""
        ne = len(self.edge_u)
        ec = np.asarray(self.edge_class)
        if len(ec) == 0 and ne:
            ec = np.full(ne, EDGE_STREET, dtype=np.int8)
        if len(ec) != ne:
            raise InputError(f"{self.source or 'network'}: edge_class has {len(ec)} entries "
                             f"for {ne} edges")
        bad = ~np.isin(ec, (EDGE_STREET, EDGE_GRADE_SEPARATED, EDGE_NO_ENTRY))
        if bad.any():
            raise InputError(f"{self.source or 'network'}: edge_class holds codes other than "
                             f"{EDGE_STREET}, {EDGE_GRADE_SEPARATED}, {EDGE_NO_ENTRY}: "
                             f"{sorted(set(ec[bad].tolist()))[:5]}")
        self.edge_class = ec.astype(np.int8, copy=False)
        if self.parent_edge_entry is not None and len(self.parent_edge_entry) != ne:
            raise InputError(f"{self.source or 'network'}: parent_edge_entry has "
                             f"{len(self.parent_edge_entry)} entries for {ne} edges")

    @property
    def n_nodes(self) -> int:
        """Number of nodes.

        Returns
        -------
        int
            The node count.
        """
        return len(self.node_id)

    @property
    def n_edges(self) -> int:
        """Number of edges.

        Returns
        -------
        int
            The edge count.
        """
        return len(self.edge_u)

    def __repr__(self) -> str:
        """Sizes, length, pieces, CRS and source in one line."""
        return (f"WalkNetwork({self.n_nodes:,} nodes, {self.n_edges:,} edges, "
                f"{self.total_length_m / 1000:,.1f} km, {self.n_components} components, "
                f"crs={self.crs.to_string()}, source={self.source!r})")

    @property
    def total_length_m(self) -> float:
        """Total street length.

        Returns
        -------
        float
            Sum of the edge lengths in metres.
        """
        return float(self.edge_length_m.sum())

    @cached_property
    def csr(self) -> sp.csr_matrix:
        """Symmetric adjacency matrix of the network.

        Returns
        -------
        scipy.sparse.csr_matrix
            An n × n matrix; the values are the lengths in metres of the shortest of
            parallel edges.
        """
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
        """Connected piece of each node.

        Returns
        -------
        numpy.ndarray
            Component label per node; 0 is the largest piece.
        """
        n, labels = connected_components(self.csr, directed=False)
        sizes = np.bincount(labels, minlength=n)
        rank = np.empty(n, dtype=np.int32)
        rank[np.argsort(-sizes, kind="stable")] = np.arange(n, dtype=np.int32)
        out: np.ndarray = rank[labels]
        return out

    @property
    def n_components(self) -> int:
        """Number of connected pieces.

        Returns
        -------
        int
            The number of components (0 for an empty network).
        """
        return int(self.component.max()) + 1 if self.n_nodes else 0

    def components_summary(self) -> pd.DataFrame:
        """One row per connected piece, largest first.

        Returns
        -------
        pandas.DataFrame
            ``component``, ``n_nodes``, ``n_junctions`` (nodes with other than two distinct
            neighbours), ``length_m`` (street metres) and ``small`` (an island by
            :data:`SMALL_PIECE_JUNCTIONS`).
        """
        comp = self.component
        nodes = np.bincount(comp)
        length = np.bincount(comp[self.edge_u], weights=self.edge_length_m, minlength=len(nodes))
        junctions = self._junctions_per_piece
        return pd.DataFrame({"component": np.arange(len(nodes)), "n_nodes": nodes,
                             "n_junctions": junctions, "length_m": length,
                             "small": self.small_piece})

    @cached_property
    def _junctions_per_piece(self) -> np.ndarray:
        csr = self.csr
        degree = np.diff(csr.indptr)  # distinct neighbours (self-loops and parallels dropped)
        out: np.ndarray = np.bincount(self.component, weights=(degree != 2).astype(float),
                                      minlength=self.n_components).astype(np.int64)
        return out

    @cached_property
    def small_piece(self) -> np.ndarray:
        """Whether each connected piece is a small island.

        A piece is small when it is not the largest and has fewer than
        :data:`SMALL_PIECE_JUNCTIONS` junctions.

        Returns
        -------
        numpy.ndarray
            One bool per component label.
        """
        small: np.ndarray = self._junctions_per_piece < SMALL_PIECE_JUNCTIONS
        if len(small):
            small[0] = False
        return small

    @cached_property
    def edge_entry(self) -> np.ndarray:
        """Point class an edge gives to the points that join it.

        Returns
        -------
        numpy.ndarray
            One int8 per edge: :data:`SNAP_NO_ENTRY` for tunnels and indoor ways, else
            :data:`SNAP_SMALL_PIECE` on a small piece, else :data:`SNAP_GRADE_SEPARATED` for
            bridges and other layers, else :data:`SNAP_STREET`.
        """
        if self.parent_edge_entry is not None:
            return np.asarray(self.parent_edge_entry, dtype=np.int8)
        kind = np.full(self.n_edges, SNAP_STREET, dtype=np.int8)
        kind[self.edge_class == EDGE_GRADE_SEPARATED] = SNAP_GRADE_SEPARATED
        if self.n_edges:
            kind[self.small_piece[self.component[self.edge_u]]] = SNAP_SMALL_PIECE
        kind[self.edge_class == EDGE_NO_ENTRY] = SNAP_NO_ENTRY
        return kind

    @cached_property
    def _tree(self) -> tuple[np.ndarray, shapely.STRtree]:
        return np.arange(self.n_edges), shapely.STRtree(self.edge_geometry)

    @cached_property
    def _near_radius_m(self) -> float:
        """Half-side of the box first searched for a point's nearest edge (:func:`_nearest`).

        Half the median edge length, within 5–100 m: in a street grid nearly every point has
        an edge that close, and the box holds only a handful of edges.
        """
        if self.n_edges == 0:
            return 5.0
        return float(np.clip(0.5 * np.median(self.edge_length_m), 5.0, 100.0))

    @cached_property
    def _class_trees(self) -> dict[int, tuple[np.ndarray, shapely.STRtree]]:
        """Edge indices and an STRtree for each entry class (:attr:`edge_entry`)."""
        out = {}
        for k in (SNAP_STREET, SNAP_GRADE_SEPARATED, SNAP_SMALL_PIECE, SNAP_NO_ENTRY):
            idx = np.flatnonzero(self.edge_entry == k)
            if len(idx):
                out[k] = (idx, shapely.STRtree(self.edge_geometry[idx]))
        return out

    def to_local(self, gdf: gpd.GeoDataFrame | gpd.GeoSeries) -> gpd.GeoDataFrame | gpd.GeoSeries:
        """Project a layer into the network CRS, refusing data without a CRS.

        Parameters
        ----------
        gdf
            Any layer with a CRS.

        Returns
        -------
        geopandas.GeoDataFrame or geopandas.GeoSeries
            The layer in :attr:`crs`.

        Raises
        ------
        InputError
            When the layer has no CRS.
        """
        if gdf.crs is None:
            raise InputError("layer has no CRS; set it with .set_crs('EPSG:4326') "
                             "(or the CRS it was made in) before joining it to the network")
        return gdf.to_crs(self.crs)

    def snap(self, x: np.ndarray, y: np.ndarray, *, max_access_m: float = np.inf,
             entry_rules: bool = True, grade_extra_m: float = GRADE_EXTRA_M,
             small_piece_reach_m: float = SMALL_PIECE_REACH_M) -> Snapped:
        """Join points (in the network CRS) to the network where a pedestrian can enter it.

        Each point joins the nearest point of the nearest edge it may enter (see the module
        notes): never a tunnel, covered or indoor way; a bridge or other level only when no
        at-grade street is within ``grade_extra_m`` more; a small disconnected piece only when
        no large piece is within ``small_piece_reach_m``.

        Parameters
        ----------
        x, y
            Coordinates in :attr:`crs`.
        max_access_m
            Longest off-network leg; farther points get ``edge == -1``.
        entry_rules
            ``False`` joins the nearest edge of any kind (the behaviour before the entry rules;
            for comparisons).
        grade_extra_m
            Extra metres a point walks to an at-grade street rather than join a bridge or a
            way on another layer.
        small_piece_reach_m
            Largest distance to a large piece that wins over a nearer small piece.

        Returns
        -------
        Snapped
            One entry per point; :attr:`Snapped.snap_class` and
            :attr:`Snapped.skipped_class` tell what it joined and what it was kept off.
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
        rows_f = np.flatnonzero(finite)
        radius = self._near_radius_m
        if not entry_rules:  # the nearest edge of any kind
            eidx, tree = self._tree
            ii, tt, _ = _nearest(tree, pts[finite], x[finite], y[finite], md, radius)
            near_edge = np.full(n, -1, dtype=np.int64)
            near_edge[rows_f[ii]] = eidx[tt]
            return self._snapped(near_edge, x, y, access)
        best_e: dict[int, np.ndarray] = {}
        best_d: dict[int, np.ndarray] = {}
        for k in (SNAP_STREET, SNAP_GRADE_SEPARATED, SNAP_SMALL_PIECE, SNAP_NO_ENTRY):
            e_k = np.full(n, -1, dtype=np.int64)
            d_k = np.full(n, np.inf)
            if k in self._class_trees:
                eidx, tree = self._class_trees[k]
                ii, tt, dd = _nearest(tree, pts[finite], x[finite], y[finite], md, radius)
                e_k[rows_f[ii]] = eidx[tt]
                d_k[rows_f[ii]] = dd
            best_e[k], best_d[k] = e_k, d_k
        # the nearest edge of any kind (what the rules may skip): the nearest of the classes',
        # each class queried once (one tree per class, no tree of every edge)
        order = (SNAP_STREET, SNAP_GRADE_SEPARATED, SNAP_SMALL_PIECE, SNAP_NO_ENTRY)
        d_all = np.column_stack([best_d[k] for k in order])
        pick = np.argmin(d_all, axis=1)
        near_d = d_all[np.arange(n), pick]
        near_edge = np.column_stack([best_e[k] for k in order])[np.arange(n), pick]
        near_edge[~np.isfinite(near_d)] = -1
        d0, d1, d2 = best_d[SNAP_STREET], best_d[SNAP_GRADE_SEPARATED], best_d[SNAP_SMALL_PIECE]
        # large pieces: at grade unless only a bridge/other level is nearer by > grade_extra_m
        use_street = np.isfinite(d0) & (d0 <= d1 + grade_extra_m)
        large_e = np.where(use_street, best_e[SNAP_STREET], best_e[SNAP_GRADE_SEPARATED])
        large_d = np.where(use_street, d0, d1)
        large_k = np.where(use_street, SNAP_STREET, SNAP_GRADE_SEPARATED)
        use_large = np.isfinite(large_d) & ((large_d <= small_piece_reach_m)
                                            | ~np.isfinite(d2) | (large_d <= d2))
        use_small = ~use_large & np.isfinite(d2)
        edge = np.where(use_large, large_e, np.where(use_small, best_e[SNAP_SMALL_PIECE], -1))
        snap_class = np.where(use_large, large_k,
                              np.where(use_small, SNAP_SMALL_PIECE, SNAP_NONE)).astype(np.int8)
        chosen_d = np.where(use_large, large_d, np.where(use_small, d2, np.inf))
        # a nearer edge was passed over (ties within a millimetre are not a move)
        moved = (near_edge >= 0) & (edge != near_edge) & (near_d < chosen_d - 1e-3)
        skipped = np.where(moved, self.edge_entry[np.maximum(near_edge, 0)],
                           SNAP_NONE).astype(np.int8)
        return self._snapped(edge, x, y, access, snap_class, skipped)

    def _snapped(self, edge: np.ndarray, x: np.ndarray, y: np.ndarray, access: np.ndarray,
                 snap_class: np.ndarray | None = None,
                 skipped: np.ndarray | None = None) -> Snapped:
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
        if snap_class is None:  # nearest edge of any kind: report what it is
            snap_class = np.where(ok, self.edge_entry[np.where(ok, edge, 0)],
                                  SNAP_NONE).astype(np.int8)
        if skipped is None:
            skipped = np.full(len(edge), SNAP_NONE, dtype=np.int8)
        return Snapped(edge=edge, along_m=along, to_u_m=along, to_v_m=length - along,
                       access_m=access, node_u=nu, node_v=nv, x=x, y=y,
                       snap_class=snap_class, skipped_class=skipped)

    def snap_gdf(self, gdf: gpd.GeoDataFrame | gpd.GeoSeries, *,
                 max_access_m: float = np.inf, entry_rules: bool = True) -> Snapped:
        """Snap the representative points of a layer (any CRS) to the network.

        Points are used as they are, other geometries by a point on their surface; empty
        geometries are not snapped.

        Parameters
        ----------
        gdf
            The layer, with a CRS.
        max_access_m
            Longest off-network leg in metres; farther points get ``edge == -1``.
        entry_rules
            Apply the entry rules of :meth:`snap` (``False``: nearest edge of any kind).

        Returns
        -------
        Snapped
            One entry per row of ``gdf``.
        """
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
        return self.snap(xy[:, 0], xy[:, 1], max_access_m=max_access_m, entry_rules=entry_rules)

    def component_of(self, snapped: Snapped) -> np.ndarray:
        """Connected piece of each snapped point.

        Parameters
        ----------
        snapped
            Points snapped to this network.

        Returns
        -------
        numpy.ndarray
            Component label (0 = largest piece) per point, -1 when not snapped.
        """
        out: np.ndarray = np.where(snapped.ok, self.component[np.maximum(snapped.node_u, 0)], -1)
        return out

    def subnetwork(self, edges: np.ndarray, *,
                   source: str | None = None) -> tuple[WalkNetwork, np.ndarray]:
        """The network made of some of its edges (whole) and their end nodes.

        The part keeps each edge's entry class and the entry rules of the whole network
        (:attr:`edge_entry`): a point snapped to the part joins the same edge as on the whole,
        as long as the part holds every edge within reach of the point.

        Parameters
        ----------
        edges
            Edge indices (any order, repeats allowed).
        source
            Name of the part; by default the network's.

        Returns
        -------
        sub : WalkNetwork
            The part, edges and nodes in their original order.
        nodes : numpy.ndarray
            For each node of the part, its position in this network.
        """
        e = np.unique(np.asarray(edges, dtype=np.int64))
        nodes = np.unique(np.concatenate([self.edge_u[e], self.edge_v[e]]))
        sub = WalkNetwork(crs=self.crs, node_id=self.node_id[nodes], x=self.x[nodes],
                          y=self.y[nodes],
                          edge_u=np.searchsorted(nodes, self.edge_u[e]).astype(np.int32),
                          edge_v=np.searchsorted(nodes, self.edge_v[e]).astype(np.int32),
                          edge_length_m=self.edge_length_m[e],
                          edge_geometry=self.edge_geometry[e],
                          source=self.source if source is None else source,
                          meta={"parent": self.source}, edge_class=self.edge_class[e],
                          parent_edge_entry=self.edge_entry[e])
        return sub, nodes

    def entry_notes(self, cells: Snapped, facilities: Snapped, *, cell_pop: np.ndarray,
                    facility_names: Sequence[str], max_listed: int = 20) -> list[str]:
        """Plain-language notes on where the entry rules moved points and what is left on islands.

        Parameters
        ----------
        cells
            Population cells snapped to this network.
        facilities
            Facilities snapped to this network.
        cell_pop
            Residents per cell (same order as ``cells``).
        facility_names
            Name of each facility (same order as ``facilities``), used to list the ones left on
            small pieces.
        max_listed
            Most facilities named in a note; the rest are counted.

        Returns
        -------
        list of str
            Zero, one or two notes: how many points were kept off a nearer tunnel, bridge or
            small piece, and which facilities and how many cells still lie on small pieces.
        """
        pop = np.asarray(cell_pop, dtype=float)
        names = [str(n) for n in facility_names]

        notes = []
        why = {SNAP_NO_ENTRY: "a tunnel, covered or indoor way",
               SNAP_GRADE_SEPARATED: f"a bridge or other level (an at-grade street within "
                                     f"{GRADE_EXTRA_M:.0f} m more)",
               SNAP_SMALL_PIECE: f"a small disconnected piece (a larger piece within "
                                 f"{SMALL_PIECE_REACH_M:.0f} m)"}
        mc, mf = cells.moved, facilities.moved
        if mc.any() or mf.any():
            parts = []
            for k, text in why.items():
                nc = int((cells.skipped_class == k).sum())
                nf = int((facilities.skipped_class == k).sum())
                if nc or nf:
                    parts.append(f"{_count_phrase(nc, nf)} next to {text}")
            moved = _count_phrase(int(mc.sum()), int(mf.sum()), float(pop[mc].sum()))
            notes.append(f"{moved} joined the nearest street a pedestrian can enter instead of "
                         "a nearer way: " + "; ".join(parts) + ".")
        sc = cells.snap_class == SNAP_SMALL_PIECE
        sf = facilities.snap_class == SNAP_SMALL_PIECE
        if sc.any() or sf.any():
            piece = self.component_of(facilities)
            idx = np.flatnonzero(sf)
            listed = ", ".join(f"{names[i]} (piece {int(piece[i])})" for i in idx[:max_listed])
            more = f" and {len(idx) - max_listed} more" if len(idx) > max_listed else ""
            who = f": {listed}{more}" if len(idx) else ""
            left = _count_phrase(int(sc.sum()), len(idx), float(pop[sc].sum()))
            notes.append(f"{left} could only be joined to small disconnected street pieces "
                         f"(fewer than {SMALL_PIECE_JUNCTIONS} junctions, no larger piece within "
                         f"{SMALL_PIECE_REACH_M:.0f} m); they reach and are reached only within "
                         f"their piece, so check the street data there{who}.")
        return notes

    def nodes_gdf(self) -> gpd.GeoDataFrame:
        """Nodes as a GeoDataFrame in the network CRS.

        Returns
        -------
        geopandas.GeoDataFrame
            ``node_id``, ``component`` and point geometry.
        """
        return gpd.GeoDataFrame({"node_id": self.node_id, "component": self.component},
                                geometry=shapely.points(self.x, self.y), crs=self.crs)

    def edges_gdf(self) -> gpd.GeoDataFrame:
        """Edges as a GeoDataFrame in the network CRS.

        Returns
        -------
        geopandas.GeoDataFrame
            ``u``, ``v`` (OSM node ids), ``length_m``, ``edge_class`` (entry class) and
            ``entry`` (the point class the edge gives, see :attr:`edge_entry`).
        """
        return gpd.GeoDataFrame({"u": self.node_id[self.edge_u], "v": self.node_id[self.edge_v],
                                 "length_m": self.edge_length_m, "edge_class": self.edge_class,
                                 "entry": self.edge_entry},
                                geometry=self.edge_geometry, crs=self.crs)

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """Bounding box of the nodes in the network CRS.

        Returns
        -------
        tuple of float
            (minx, miny, maxx, maxy) in metres.
        """
        return (float(self.x.min()), float(self.y.min()), float(self.x.max()), float(self.y.max()))

    def bounds_wgs84(self) -> tuple[float, float, float, float]:
        """Bounding box of the nodes in WGS-84.

        Returns
        -------
        tuple of float
            (west, south, east, north) in EPSG:4326 degrees.
        """
        t = pyproj.Transformer.from_crs(self.crs, 4326, always_xy=True)
        lon, lat = t.transform(self.x, self.y)
        return (float(np.min(lon)), float(np.min(lat)), float(np.max(lon)), float(np.max(lat)))


def _first_nearest(rows: np.ndarray, items: np.ndarray, dist: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per row, its nearest item (ties: the lowest item), rows ascending."""
    order = np.lexsort((items, dist, rows))
    rows, items, dist = rows[order], items[order], dist[order]
    first = np.ones(len(rows), dtype=bool)
    first[1:] = rows[1:] != rows[:-1]
    return rows[first], items[first], dist[first]


def _nearest(tree: shapely.STRtree, pts: np.ndarray, x: np.ndarray, y: np.ndarray,
             max_distance: float | None, radius_m: float
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest geometry of ``tree`` to each point: (point, geometry, distance) positions.

    First every geometry whose envelope meets a box of half-side ``radius_m`` around the
    point is measured, and a point whose nearest one lies within ``radius_m`` is done: any
    nearer geometry would meet the box too. The others (no geometry that close) ask the
    tree's nearest-neighbour search. Of equally near geometries the lowest position wins.
    Points farther than ``max_distance`` from every geometry are left out.
    """
    r = radius_m if max_distance is None else min(radius_m, max_distance)
    n = len(pts)
    if n == 0 or len(tree.geometries) == 0:
        return (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0))
    pi, ti = tree.query(shapely.box(x - r, y - r, x + r, y + r))
    d = shapely.distance(pts[pi], tree.geometries[ti])
    near = d <= r
    bp, bt, bd = _first_nearest(pi[near], ti[near], d[near])
    rest = np.ones(n, dtype=bool)
    rest[bp] = False
    far = np.flatnonzero(rest)
    if len(far):
        (fi, ft), fd = tree.query_nearest(pts[far], max_distance=max_distance,
                                          all_matches=True, return_distance=True)
        fp, ft, fd = _first_nearest(far[fi], ft, fd)
        rows = np.concatenate([bp, fp])
        order = np.argsort(rows, kind="stable")
        return (rows[order], np.concatenate([bt, ft])[order],
                np.concatenate([bd, fd])[order])
    return bp, bt, bd


def network_from_edges(edges: gpd.GeoDataFrame, *, u: str = "u", v: str = "v",
                       crs: CRSLike = None, source: str = "",
                       meta: dict[str, Any] | None = None,
                       edge_class: str | None = None) -> WalkNetwork:
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
    meta
        Facts about the build kept in :attr:`WalkNetwork.meta`.
    edge_class
        Column holding each edge's entry class (:data:`EDGE_STREET`,
        :data:`EDGE_GRADE_SEPARATED`, :data:`EDGE_NO_ENTRY`); all at-grade streets when
        ``None``. :func:`care15.sources.osm.edge_entry_class` derives it from OSM tags.

    Returns
    -------
    WalkNetwork
        The undirected network in the metric CRS.

    Raises
    ------
    InputError
        When the layer has no CRS, no rows, or ``edge_class`` names a missing column.
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
    if edge_class is not None and edge_class not in edges.columns:
        raise InputError(f"{source or 'edges'}: no column {edge_class!r} of edge entry classes; "
                         f"columns are {list(edges.columns)}")
    eclass = (edges[edge_class].to_numpy().astype(np.int8) if edge_class is not None
              else np.full(len(edges), EDGE_STREET, dtype=np.int8))
    uid = edges[u].to_numpy().astype(np.int64)
    vid = edges[v].to_numpy().astype(np.int64)
    # the same street twice (pyrosm repeats ways an OSMnx-saved file lists once per direction):
    # one edge, so lengths and counts do not depend on the reader
    dup = pd.DataFrame({"a": np.minimum(uid, vid), "b": np.maximum(uid, vid),
                        "ln": np.round(shapely.length(geom), 9)}).duplicated().to_numpy()
    if dup.any():
        log.info("%s: dropped %d repeated edges (same ends and length)", source, int(dup.sum()))
        keep = ~dup
        geom, eclass, uid, vid = geom[keep], eclass[keep], uid[keep], vid[keep]
        edges = edges.loc[keep]
    if crs is None:
        crs = gpd.GeoSeries(shapely.centroid(geom[:: max(1, len(geom) // 2000)]),
                            crs=edges.crs).estimate_utm_crs()
    crs = pyproj.CRS.from_user_input(crs)
    local = gpd.GeoSeries(geom, crs=edges.crs).to_crs(crs).values
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
                       source=source, meta=dict(meta or {}), edge_class=eclass)
