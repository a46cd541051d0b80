"""Network walking distances: nearest facility for every node and cell, and bounded reach.

Distances are computed in metres and divided by the walking speed of the group a category
serves (:meth:`care15.scenario.Scenario.speed_for`), so one shortest-path search serves any
speed.

Notes
-----
How points join the network: a facility or a population cell is snapped to the nearest point of
the nearest edge (:meth:`WalkNetwork.snap`). Its walking distance to a network node is the
straight off-network leg (``access_m``) plus the distance along its edge to either end. Two
points on the same edge may also walk straight along it. These rules are exact for the network
model; the reference test checks them against networkx Dijkstra on a graph that contains the
snapped points as nodes.

Engines: one multi-source shortest-path search per category gives every node its distance to
the nearest facility and which facility it is. Each facility seeds the two ends of its edge
with the distances above. Three engines give the same numbers: ``"bucket"``, care15's own
search with a bucket queue (Delta-stepping, buckets four median edges wide) and
``"compiled"`` (alias ``"heap"``), its Dijkstra with an indexed 4-ary heap, both in
``coverage/_dijkstra.pyx`` (built at install when a C compiler is present); and ``"scipy"``,
``scipy.sparse.csgraph.dijkstra`` with ``min_only=True`` over the graph augmented with one
virtual node per facility. :data:`ENGINE` names the default (a compiled one when it was built).
:func:`update_nearest` redoes only the part of a search that a few added, moved or removed
facilities change (a warm start of the compiled search). Bounded searches from many origins
(:func:`reach`) run in chunks with ``limit=`` and return a sparse matrix.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp
import shapely
from scipy.sparse.csgraph import dijkstra

from .network import Snapped, WalkNetwork

try:
    from ._dijkstra import multi_source as _multi_source
    from ._dijkstra import multi_source_bucket as _multi_source_bucket
except ImportError:  # the optional extension was not built (no C compiler at install)
    _multi_source = None
    _multi_source_bucket = None
try:
    from ._reach import bounded_many as _bounded_many
    from ._reach import cover_many as _cover_many
except ImportError:  # as above: reach() then uses scipy's Dijkstra on local subgraphs
    _bounded_many = None
    _cover_many = None

#: The default engine of :func:`nearest_facility`: ``"bucket"`` when the extension was built,
#: else ``"scipy"``.
ENGINE: str = "bucket" if _multi_source is not None else "scipy"
#: The engines available here (``"heap"`` is also accepted, as another name of ``"compiled"``).
ENGINES: tuple[str, ...] = (("bucket", "compiled", "scipy") if _multi_source is not None
                            else ("scipy",))

__all__ = [
    "ENGINE",
    "ENGINES",
    "NodeDistances",
    "Reach",
    "cell_distances",
    "nearest_facility",
    "reach",
    "update_nearest",
]


@dataclass(frozen=True)
class NodeDistances:
    """Distance from every network node to the nearest of a set of sources.

    Attributes
    ----------
    dist_m
        Metres to the nearest source (``inf`` when no source is reachable).
    nearest
        Position of that source in the source list (-1 when unreachable).
    sources
        The snapped sources (facilities).
    """

    dist_m: np.ndarray
    nearest: np.ndarray
    sources: Snapped


def _augmented(network: WalkNetwork, pts: Snapped) -> tuple[sp.csr_matrix, np.ndarray]:
    """Graph with one extra node per snapped point, joined to its edge's two ends (directed).

    The extra nodes are appended after the network's, so their rows go at the end of the CSR
    arrays as they are: no re-sorting of the city's edges (this keeps the travel-time stage at
    one Dijkstra's cost). A point on a zero-length edge (both ends the same node) gets one
    entry, the shorter, so no row holds duplicates.
    """
    n = network.n_nodes
    base = network.csr
    k = len(pts)
    virt = n + np.arange(k)
    ok = pts.ok
    u, v = pts.node_u, pts.node_v
    wu = pts.access_m + pts.to_u_m
    wv = pts.access_m + pts.to_v_m
    same = ok & (u == v)
    deg = np.where(ok, np.where(same, 1, 2), 0)
    indptr = np.concatenate([base.indptr, base.indptr[-1] + np.cumsum(deg)])
    first_w = np.where(same, np.minimum(wu, wv), wu)
    cols = np.column_stack([u, v]).ravel()
    ws = np.column_stack([first_w, wv]).ravel()
    keep = np.column_stack([ok, ok & ~same]).ravel()
    indices = np.concatenate([base.indices, cols[keep]]).astype(base.indices.dtype, copy=False)
    data = np.concatenate([base.data, ws[keep]])
    # note: scipy.csgraph treats explicitly stored zeros of sparse input as edges
    g = sp.csr_matrix((data, indices, indptr.astype(base.indptr.dtype, copy=False)),
                      shape=(n + k, n + k))
    return g, virt


def nearest_facility(network: WalkNetwork, facilities: Snapped, *,
                     limit_m: float = np.inf, engine: str | None = None) -> NodeDistances:
    """Multi-source Dijkstra: metres from every node to its nearest facility.

    Parameters
    ----------
    network
        The walking network.
    facilities
        Facilities snapped to the network; unsnapped ones (``edge == -1``) are ignored.
    limit_m
        Stop searching beyond this distance (nodes farther get ``inf``).
    engine
        ``"bucket"``, ``"compiled"`` (or ``"heap"``) or ``"scipy"`` (same distances; the
        nearest facility may differ only between equidistant ones); ``None`` uses
        :data:`ENGINE`.

    Returns
    -------
    NodeDistances
        Metres from each node to its nearest facility (``inf`` beyond ``limit_m`` or on
        another network piece) and that facility's position in ``facilities`` (-1 if none).

    Raises
    ------
    ValueError
        For an unknown ``engine``, or facilities snapped to another network.
    RuntimeError
        When a compiled engine is asked for but the extension was not built.

    Examples
    --------
    A 300 m street of three 100 m edges, with a facility 10 m off the middle one:

    >>> import geopandas as gpd
    >>> import numpy as np
    >>> import shapely
    >>> from care15.access import nearest_facility
    >>> from care15.network import network_from_edges
    >>> xy = [(0, 0), (100, 0), (200, 0), (300, 0)]
    >>> edges = gpd.GeoDataFrame({"u": [1, 2, 3], "v": [2, 3, 4]},
    ...                          geometry=[shapely.LineString(xy[i:i + 2]) for i in range(3)],
    ...                          crs="EPSG:32650")
    >>> net = network_from_edges(edges, crs="EPSG:32650")
    >>> fac = net.snap(np.array([150.0]), np.array([10.0]))
    >>> nd = nearest_facility(net, fac)
    >>> nd.dist_m
    array([160.,  60.,  60., 160.])
    >>> nd.nearest.tolist()
    [0, 0, 0, 0]
    """
    engine = _engine(engine)
    n = network.n_nodes
    if not facilities.ok.any():
        return NodeDistances(np.full(n, np.inf), np.full(n, -1, dtype=np.int64), facilities)
    if engine != "scipy":
        return _nearest_compiled(network, facilities, float(limit_m), engine=engine)
    g, virt = _augmented(network, facilities)
    src = virt[facilities.ok]
    dist, _, origin = dijkstra(g, directed=True, indices=src, min_only=True,
                               return_predecessors=True, limit=limit_m)
    dist = dist[:n]
    origin = origin[:n].astype(np.int64)
    nearest = np.where(origin >= 0, origin - n, -1)
    return NodeDistances(dist, nearest, facilities)


def _engine(engine: str | None) -> str:
    """The engine to use: :data:`ENGINE` for ``None``, ``"compiled"`` for ``"heap"``; checked."""
    engine = ENGINE if engine is None else engine
    if engine == "heap":
        engine = "compiled"
    if engine not in ("bucket", "compiled", "scipy"):
        raise ValueError(f"engine must be 'bucket', 'compiled' (or 'heap') or 'scipy', "
                         f"not {engine!r}")
    if engine != "scipy" and _multi_source is None:
        raise RuntimeError(f"the {engine!r} engine was not built (no C compiler when care15 was "
                           "installed); use engine='scipy' or reinstall with a compiler")
    return engine


#: Each network's bucket width (see :func:`_bucket_width`) and longest edge, found once.
_WIDTHS: weakref.WeakKeyDictionary[WalkNetwork, tuple[float, float]] = (
    weakref.WeakKeyDictionary())


def _bucket_width(network: WalkNetwork) -> float:
    """Bucket width of the ``"bucket"`` engine: four times the median edge length.

    Nodes in a bucket of width Delta are processed in the order they joined it, not by
    distance, so an edge shorter than Delta can improve a node of the bucket being emptied,
    which is then processed again; narrow buckets avoid that, wide ones mean fewer buckets and
    a first-in first-out sweep that stays in memory order (the seeds join in node order). On
    street networks re-processing stays rare well beyond one edge. Measured with
    ``benchmarks/bench_kernels.py --widths`` (thread CPU time, medians of 11 interleaved
    rounds): on every real extract each width from 2 to 8 median edges was within 11% of the
    fastest width tried (0.25 to 32 medians); on the 250,000-node grid 4 medians was 6% faster
    than 1 median and 8 medians 16%. Zero-length edges are left out; the median is taken over
    at most ~20,000 evenly spaced edges (the CSR order, by node), plenty for a width.
    """
    return _widths(network)[0]


def _widths(network: WalkNetwork) -> tuple[float, float]:
    """The bucket width and the longest edge of ``network`` (found once per network)."""
    got = _WIDTHS.get(network)
    if got is None:
        data = network.csr.data
        step = max(1, data.size // 20_000)
        pos = data[::step]
        pos = pos[pos > 0]
        got = (4.0 * float(np.median(pos)) if pos.size else 1.0,
               float(data.max()) if data.size else 0.0)
        _WIDTHS[network] = got
    return got


def _seeds(facilities: Snapped, which: np.ndarray, n_nodes: int
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Seeds of the facilities at positions ``which`` (snapped ones): both ends of the edge."""
    ok = which[facilities.ok[which]]
    node = np.concatenate([facilities.node_u[ok], facilities.node_v[ok]]).astype(np.int64)
    if node.size and (node.min() < 0 or node.max() >= n_nodes):
        raise ValueError("snapped facilities refer to nodes outside the network; snap them "
                         "again with this network's WalkNetwork.snap")
    seed_m = np.concatenate([facilities.access_m[ok] + facilities.to_u_m[ok],
                             facilities.access_m[ok] + facilities.to_v_m[ok]]).astype(float)
    label = np.concatenate([ok, ok]).astype(np.int64)
    return node, seed_m, label


def _run(network: WalkNetwork, engine: str, node: np.ndarray, seed_m: np.ndarray,
         label: np.ndarray, limit_m: float, dist0: np.ndarray | None = None,
         label0: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """One compiled search (``engine`` "bucket" or "compiled") from the given seeds."""
    g = network.csr
    args = (g.indptr.astype(np.int32, copy=False), g.indices.astype(np.int32, copy=False),
            np.ascontiguousarray(g.data, dtype=float), node, seed_m, label, limit_m)
    out: tuple[np.ndarray, np.ndarray]
    if engine == "bucket":
        width, wmax = _widths(network)
        out = _multi_source_bucket(*args, width, dist0, label0, wmax)
    else:
        out = _multi_source(*args, dist0, label0)
    return out


def _nearest_compiled(network: WalkNetwork, facilities: Snapped, limit_m: float, *,
                      engine: str = "compiled") -> NodeDistances:
    """:func:`nearest_facility` with a compiled kernel: each facility seeds its edge's ends."""
    node, seed_m, label = _seeds(facilities, np.arange(len(facilities)), network.n_nodes)
    dist, nearest = _run(network, engine, node, seed_m, label, limit_m)
    return NodeDistances(dist, nearest, facilities)


def update_nearest(network: WalkNetwork, nd: NodeDistances, sources: Snapped,
                   changed: np.ndarray, *, limit_m: float = np.inf,
                   engine: str | None = None) -> NodeDistances:
    """Nearest facility after a few facilities were added, moved or removed (a what-if edit).

    Only the part of the search that the edit can change is redone: the nodes whose nearest
    facility was a changed one are cleared, each is given the best distance through a
    neighbour that was not cleared, the changed facilities that are snapped seed their edge's
    two ends (and so do unchanged ones whose end was cleared), and a search warm-started from
    the previous distances spreads only where it shortens a node's walk. The answer is the one
    :func:`nearest_facility` gives for ``sources``: the same distances (the same floating-point
    sums, so equal bit for bit) and the same nearest facility except between equidistant ones.

    Parameters
    ----------
    network
        The walking network.
    nd
        ``nearest_facility(network, old_sources, limit_m=limit_m)`` for the sources before the
        edit (``nd.sources``).
    sources
        The sources after the edit, snapped to ``network``: the same points at the same
        positions as ``nd.sources`` except at the positions in ``changed``. An added source is
        appended at the end, a moved one keeps its position with its new snap, and a removed
        one keeps its position unsnapped (``edge == -1``; ``ok`` False), so positions, and the
        labels in :attr:`NodeDistances.nearest`, stay valid.
    changed
        Positions (int array) of the added, moved and removed sources. Positions past the end
        of ``nd.sources`` count as changed whether listed or not; repeats are allowed.
    limit_m
        The ``limit_m`` that ``nd`` was computed with.
    engine
        ``"bucket"`` or ``"compiled"`` (``"heap"``): the warm-started search, which runs on
        the heap kernel for both (it touches few nodes, where the bucket kernel's fixed cost
        of a pass over every node and edge would outweigh its gain); ``"scipy"`` recomputes
        everything with :func:`nearest_facility`. ``None`` uses :data:`ENGINE`.

    Returns
    -------
    NodeDistances
        As ``nearest_facility(network, sources, limit_m=limit_m)``; ``nd`` is not changed.

    Raises
    ------
    ValueError
        When ``sources`` is shorter than ``nd.sources``, a position in ``changed`` is out of
        range, a source not listed in ``changed`` differs from the one in ``nd.sources``, or
        ``nd`` does not have one entry per network node.

    Notes
    -----
    Why it is exact: a node whose nearest facility did not change keeps a distance that is
    still the distance to the nearest *unchanged* facility, and along every edge out of it the
    old distances already satisfy ``d[v] <= d[u] + w`` or ``v`` was cleared and re-seeded
    through it. So the only improvements still to make start at the new seeds, and the search
    from them ends at the least solution of the same equations a full search solves. This
    relies on :attr:`WalkNetwork.csr` being symmetric (an undirected network): a cleared
    node's neighbours along its row are also the nodes with an edge into it.

    Examples
    --------
    On the street of :func:`nearest_facility`'s example, a second facility is added near the
    first node:

    >>> import geopandas as gpd
    >>> import numpy as np
    >>> import shapely
    >>> from care15.access import nearest_facility, update_nearest
    >>> from care15.network import network_from_edges
    >>> xy = [(0, 0), (100, 0), (200, 0), (300, 0)]
    >>> edges = gpd.GeoDataFrame({"u": [1, 2, 3], "v": [2, 3, 4]},
    ...                          geometry=[shapely.LineString(xy[i:i + 2]) for i in range(3)],
    ...                          crs="EPSG:32650")
    >>> net = network_from_edges(edges, crs="EPSG:32650")
    >>> nd = nearest_facility(net, net.snap(np.array([150.0]), np.array([10.0])))
    >>> both = net.snap(np.array([150.0, 10.0]), np.array([10.0, 0.0]))
    >>> new = update_nearest(net, nd, both, np.array([1]))
    >>> new.dist_m
    array([ 10.,  60.,  60., 160.])
    >>> new.nearest.tolist()
    [1, 0, 0, 0]
    """
    engine = _engine(engine)
    old = nd.sources
    n_old, n_new = len(old), len(sources)
    n = network.n_nodes
    if n_new < n_old:
        raise ValueError(f"sources has {n_new} points, fewer than the {n_old} of nd.sources: "
                         "a removed source keeps its position, unsnapped (edge == -1)")
    if nd.dist_m.shape != (n,) or nd.nearest.shape != (n,):
        raise ValueError(f"nd has {nd.dist_m.shape[0]} nodes, the network {n}: it was "
                         "computed on another network")
    changed = np.asarray(changed, dtype=np.int64).ravel()
    if changed.size and (changed.min() < 0 or changed.max() >= n_new):
        raise ValueError(f"changed positions must be in 0..{n_new - 1}, got "
                         f"{changed.min()}..{changed.max()}")
    is_changed = np.zeros(n_new + 1, dtype=bool)  # the extra False is for label -1
    is_changed[changed] = True
    is_changed[n_old:n_new] = True
    kept = np.flatnonzero(~is_changed[:n_old])
    for f in ("edge", "node_u", "node_v", "along_m", "access_m"):
        a, b = getattr(old, f)[kept], getattr(sources, f)[kept]
        same = a == b
        if a.dtype.kind == "f":
            same |= np.isnan(a) & np.isnan(b)
        if not same.all():
            raise ValueError(f"source {kept[np.argmin(same)]} differs from nd.sources ({f}) "
                             "but is not in changed")
    if engine == "scipy" or not sources.ok.any():
        return nearest_facility(network, sources, limit_m=limit_m, engine=engine)
    # clear the nodes whose nearest source changed
    reset = is_changed[nd.nearest]
    r = np.flatnonzero(reset)
    dist0 = np.array(nd.dist_m, dtype=float)
    label0 = np.array(nd.nearest, dtype=np.int64)
    dist0[r] = np.inf
    label0[r] = -1
    # re-seed each cleared node through its neighbours that were not cleared (symmetric csr:
    # the row of a node lists the nodes with an edge into it, with the same lengths)
    g = network.csr
    start = g.indptr[r].astype(np.int64)
    cnt = g.indptr[r + 1].astype(np.int64) - start
    tot = int(cnt.sum())
    edge = np.repeat(start - np.cumsum(cnt) + cnt, cnt) + np.arange(tot)
    nbr = g.indices[edge]
    ok_nbr = ~reset[nbr] & np.isfinite(dist0[nbr])
    node_a = np.repeat(r, cnt)[ok_nbr]
    m_a = dist0[nbr[ok_nbr]] + g.data[edge[ok_nbr]]
    lab_a = label0[nbr[ok_nbr]]
    # the changed sources seed their edge's ends; so do unchanged ones at a cleared end
    node_b, m_b, lab_b = _seeds(sources, np.arange(n_new), n)
    keep_b = is_changed[lab_b] | reset[node_b]
    node = np.concatenate([node_a.astype(np.int64), node_b[keep_b]])
    seed_m = np.concatenate([m_a.astype(float), m_b[keep_b]])
    label = np.concatenate([lab_a, lab_b[keep_b]])
    # the heap kernel even for the "bucket" engine: a warm start touches few nodes, and the
    # bucket kernel's fixed costs (a pass over all edges and nodes) would outweigh its gain
    dist, nearest = _run(network, "compiled", node, seed_m, label, float(limit_m), dist0,
                         label0)
    return NodeDistances(dist, nearest, sources)


def cell_distances(nd: NodeDistances, cells: Snapped) -> tuple[np.ndarray, np.ndarray]:
    """Metres from each snapped cell to its nearest facility, and which facility.

    The cell walks its off-network leg, then along its edge to either end (or straight along
    the edge to a facility on the same edge). Cells not snapped get ``inf`` and -1.

    Parameters
    ----------
    nd
        Node distances to the facilities (:func:`nearest_facility`).
    cells
        Population cells (or any points) snapped to the same network.

    Returns
    -------
    dist_m : numpy.ndarray
        Metres from each cell to its nearest facility (``inf`` when none is reachable).
    nearest : numpy.ndarray
        Position of that facility in ``nd.sources`` (-1 when none is reachable).

    Examples
    --------
    On the street of :func:`nearest_facility`'s example, one cell beside the facility's edge
    and one beside the first edge:

    >>> import geopandas as gpd
    >>> import numpy as np
    >>> import shapely
    >>> from care15.access import cell_distances, nearest_facility
    >>> from care15.network import network_from_edges
    >>> xy = [(0, 0), (100, 0), (200, 0), (300, 0)]
    >>> edges = gpd.GeoDataFrame({"u": [1, 2, 3], "v": [2, 3, 4]},
    ...                          geometry=[shapely.LineString(xy[i:i + 2]) for i in range(3)],
    ...                          crs="EPSG:32650")
    >>> net = network_from_edges(edges, crs="EPSG:32650")
    >>> nd = nearest_facility(net, net.snap(np.array([150.0]), np.array([10.0])))
    >>> cells = net.snap(np.array([170.0, 40.0]), np.array([-5.0, 3.0]))
    >>> dist_m, nearest = cell_distances(nd, cells)
    >>> dist_m  # 5 m to the street, 20 m along it, 10 m to the door; 3 + 60 + 60 m
    array([ 35., 123.])
    >>> nearest.tolist()
    [0, 0]
    """
    m = len(cells)
    out = np.full(m, np.inf)
    who = np.full(m, -1, dtype=np.int64)
    ok = cells.ok
    if ok.any():
        u, v = cells.node_u[ok], cells.node_v[ok]
        du = nd.dist_m[u] + cells.to_u_m[ok]
        dv = nd.dist_m[v] + cells.to_v_m[ok]
        best = np.minimum(du, dv)
        out[ok] = best + cells.access_m[ok]
        who[ok] = np.where(du <= dv, nd.nearest[u], nd.nearest[v])
        who[ok & ~np.isfinite(out)] = -1
    # same-edge shortcut
    f = nd.sources
    fok = np.flatnonzero(f.ok)
    if len(fok) and ok.any():
        fe = pd.DataFrame({"edge": f.edge[fok], "fid": fok, "f_along": f.along_m[fok],
                           "f_acc": f.access_m[fok]})
        cidx = np.flatnonzero(ok)
        ce = pd.DataFrame({"edge": cells.edge[cidx], "cid": cidx, "c_along": cells.along_m[cidx],
                           "c_acc": cells.access_m[cidx]})
        j = ce.merge(fe, on="edge", how="inner")
        if len(j):
            j["d"] = (np.abs(j["c_along"] - j["f_along"]) + j["c_acc"] + j["f_acc"])
            j = j.sort_values("d", kind="stable").drop_duplicates("cid")
            cid = j["cid"].to_numpy()
            d = j["d"].to_numpy()
            better = d < out[cid]
            out[cid[better]] = d[better]
            who[cid[better]] = j["fid"].to_numpy()[better]
    return out, who


@dataclass(frozen=True)
class Reach:
    """Sparse origin × target walking distances, kept only within a limit.

    ``rows``/``cols``/``dist_m`` list every (origin, target) pair within ``limit_m``; a pair at
    distance 0 is kept (a sparse matrix of distances could not tell it from "not reached").

    Attributes
    ----------
    rows
        Origin positions, one per reached pair.
    cols
        Target positions, one per reached pair.
    dist_m
        Walking metres of each pair.
    shape
        (number of origins, number of targets).
    limit_m
        The longest walk kept.
    """

    rows: np.ndarray
    cols: np.ndarray
    dist_m: np.ndarray
    shape: tuple[int, int]
    limit_m: float

    def to_csr(self, values: np.ndarray | None = None) -> sp.csr_matrix:
        """Build a CSR matrix of ``values`` (default 1.0 = reached) at the reached pairs.

        Parameters
        ----------
        values
            One value per pair, in the order of :attr:`rows`.

        Returns
        -------
        scipy.sparse.csr_matrix
            Origins × targets.
        """
        vals = np.ones(len(self.rows)) if values is None else np.asarray(values, dtype=float)
        return sp.csr_matrix((vals, (self.rows, self.cols)), shape=self.shape)

    def within(self, limit_m: float) -> Reach:
        """Keep the pairs within a shorter limit.

        Parameters
        ----------
        limit_m
            The new limit in metres (at most :attr:`limit_m` to be meaningful).

        Returns
        -------
        Reach
            The pairs with ``dist_m <= limit_m``.
        """
        k = self.dist_m <= limit_m
        return Reach(self.rows[k], self.cols[k], self.dist_m[k], self.shape, limit_m)


def _slots(network: WalkNetwork, targets: Snapped) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR-like index from node to (target, extra metres) pairs."""
    ok = np.flatnonzero(targets.ok)
    node = np.concatenate([targets.node_u[ok], targets.node_v[ok]])
    tgt = np.concatenate([ok, ok])
    extra = np.concatenate([targets.to_u_m[ok] + targets.access_m[ok],
                            targets.to_v_m[ok] + targets.access_m[ok]])
    order = np.argsort(node, kind="stable")
    node, tgt, extra = node[order], tgt[order], extra[order]
    indptr = np.zeros(network.n_nodes + 1, dtype=np.int64)
    np.add.at(indptr, node + 1, 1)
    return np.cumsum(indptr), tgt, extra


def _ranges(start: np.ndarray, stop: np.ndarray) -> np.ndarray:
    """Concatenated ``arange(start[i], stop[i])`` without a Python loop."""
    n = stop - start
    tot = int(n.sum())
    if tot == 0:
        return np.empty(0, dtype=np.int64)
    out: np.ndarray = np.arange(tot, dtype=np.int64) + np.repeat(stop - np.cumsum(n), n)
    return out


def _expand_to_targets(r: np.ndarray, node: np.ndarray, dn: np.ndarray, indptr: np.ndarray,
                       slot_t: np.ndarray, slot_x: np.ndarray, limit_m: float
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(origin, node, metres) reached → (origin, target, metres) within the limit."""
    cnt = indptr[node + 1] - indptr[node]
    pos = _ranges(indptr[node], indptr[node + 1])
    tot = np.repeat(dn, cnt) + slot_x[pos]
    keep = tot <= limit_m
    return np.repeat(r, cnt)[keep], slot_t[pos[keep]], tot[keep]


@dataclass(frozen=True)
class _TargetsByEdge:
    """Snapped targets sorted by edge, for the walks straight along a shared edge."""

    targets: Snapped
    tok: np.ndarray
    edge: np.ndarray

    @classmethod
    def of(cls, targets: Snapped) -> _TargetsByEdge:
        tok = np.flatnonzero(targets.ok)
        tok = tok[np.argsort(targets.edge[tok], kind="stable")]
        return cls(targets, tok, targets.edge[tok])

    def pairs(self, origins: Snapped, ids: np.ndarray, limit_m: float
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(position in ``ids``, target, metres) of the origins' same-edge walks."""
        lo = np.searchsorted(self.edge, origins.edge[ids], side="left")
        hi = np.searchsorted(self.edge, origins.edge[ids], side="right")
        r = np.repeat(np.arange(len(ids)), hi - lo)
        t = self.tok[_ranges(lo, hi)]
        tg = self.targets
        d = (np.abs(origins.along_m[ids][r] - tg.along_m[t]) + origins.access_m[ids][r]
             + tg.access_m[t])
        keep = d <= limit_m
        return r[keep], t[keep], d[keep]


def _min_per_pair(rows: np.ndarray, cols: np.ndarray, dist: np.ndarray, n_targets: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The shortest walk of each (origin, target) pair, in (origin, target) order."""
    if len(rows) == 0:
        return (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0))
    key = rows.astype(np.int64) * max(n_targets, 1) + cols
    order = np.argsort(key)
    key = key[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    start = np.flatnonzero(first)
    dist = np.minimum.reduceat(dist[order], start)
    return (rows[order][start].astype(np.int64), cols[order][start].astype(np.int64), dist)


def _edge_end_seeds(pts: Snapped, ids: np.ndarray
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The compiled searches' seeds of points ``ids``: both ends of each one's edge.

    Returns ``seed_ptr`` (two seeds per point), ``seed_node`` and ``seed_m`` (the walk off
    the network plus the walk along the edge to that end).
    """
    k = len(ids)
    node = np.column_stack([pts.node_u[ids], pts.node_v[ids]]).ravel().astype(np.int64)
    metres = np.column_stack([pts.access_m[ids] + pts.to_u_m[ids],
                              pts.access_m[ids] + pts.to_v_m[ids]]).ravel().astype(float)
    return np.arange(0, 2 * k + 1, 2, dtype=np.int64), node, metres


def _reach_compiled(network: WalkNetwork, origins: Snapped, oks: np.ndarray,
                    targets: Snapped, limit_m: float, *, chunk: int, verbose: bool
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`reach` with the compiled kernel, ``chunk`` origins at a time.

    Each chunk's pairs (over the streets and straight along a shared edge) are reduced to
    their shortest walk before the next chunk, so memory holds the answer and one chunk; the
    chunks come in origin order, so the answer needs no sorting at the end.
    """
    from ._progress import progress

    assert _bounded_many is not None
    nt = len(targets)
    indptr, slot_t, slot_x = _slots(network, targets)
    g = network.csr
    ip = g.indptr.astype(np.int32, copy=False)
    ix = g.indices.astype(np.int32, copy=False)
    dt = np.ascontiguousarray(g.data, dtype=float)
    same_edge = _TargetsByEdge.of(targets)
    oks = np.sort(oks)
    rows_l: list[np.ndarray] = []
    cols_l: list[np.ndarray] = []
    dist_l: list[np.ndarray] = []
    starts = range(0, len(oks), chunk)
    for s in progress(starts, verbose=verbose, desc="reach", total=len(starts)):
        ids = oks[s:s + chunk]
        o, node, dn = _bounded_many(ip, ix, dt, *_edge_end_seeds(origins, ids),
                                    float(limit_m))
        r, t, d = _expand_to_targets(o, node, dn, indptr, slot_t, slot_x, limit_m)
        r2, t2, d2 = same_edge.pairs(origins, ids, limit_m)
        r, t, d = (np.concatenate([r, r2]), np.concatenate([t, t2]), np.concatenate([d, d2]))
        r, t, d = _min_per_pair(r, t, d, nt)
        rows_l.append(ids[r])
        cols_l.append(t)
        dist_l.append(d)
    if not rows_l:
        return (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0))
    return (np.concatenate(rows_l).astype(np.int64), np.concatenate(cols_l).astype(np.int64),
            np.concatenate(dist_l))


def walks_at_least_straight(network: WalkNetwork) -> bool:
    """Whether no walk on ``network`` is shorter than the straight line between its ends.

    True when every edge weight is at least the straight distance between its nodes and
    every edge's length at least the length of its geometry (so the part of an edge walked
    from a snapped point is at least as long as the line to the node), within 1e-9. Then a
    walk between two snapped points, with its legs off the network, is at least the
    straight distance between the points, and a straight-line sum bounds a walking one
    (:func:`cover_within`'s ``bound``). Kept on the network.

    Parameters
    ----------
    network
        The walking network.

    Returns
    -------
    bool
        Whether straight distances bound walks from below.
    """
    got = network.__dict__.get("_walks_at_least_straight")
    if got is None:
        g = network.csr
        rows = np.repeat(np.arange(network.n_nodes), np.diff(g.indptr))
        chord = np.hypot(network.x[rows] - network.x[g.indices],
                         network.y[rows] - network.y[g.indices])
        geom = shapely.length(np.asarray(network.edge_geometry))
        got = bool((g.data >= chord * (1 - 1e-9) - 1e-9).all()
                   and (network.edge_length_m >= geom * (1 - 1e-9) - 1e-9).all())
        network.__dict__["_walks_at_least_straight"] = got
    return bool(got)


def cover_within(network: WalkNetwork, points: Snapped, limit_m: float, weight: np.ndarray,
                 label: np.ndarray, *, bound: np.ndarray | None = None, chunk: int = 2048,
                 verbose: bool = False) -> np.ndarray | None:
    """For each point, the summed weight of the points of its label within a walk.

    What ``np.bincount`` of :func:`reach` among the same points gives, restricted to pairs
    of one label (each point counts itself when it is on the network), without listing the
    pairs: one compiled bounded search per point that adds up the weights as it reaches
    them, in the order the pairs would be summed (the same sums to the bit). A search does
    not enter a node from which no point is within the walk (each node's walk to its nearest
    point comes from one multi-source search first).

    Parameters
    ----------
    network
        The walking network.
    points
        Snapped points (origins and targets at once, e.g. the gap cells).
    limit_m
        Longest walk counted, metres.
    weight
        One weight per point.
    label
        One non-negative integer label per point; only points of the same label count.
    bound
        Optional: per point, a number at least its sum (e.g. the weights within the limit in
        a straight line, when :func:`walks_at_least_straight`). Only each label's largest
        sum is then wanted: the point of each label with the largest bound is searched
        first, then the others, and a point whose bound is below the largest sum
        of its label found so far is not searched (its sum is -1). The largest sums and the
        points holding them are those of the full search.
    chunk
        Points per kernel call (progress steps).
    verbose
        Show a progress bar.

    Returns
    -------
    numpy.ndarray or None
        One sum per point (0 for a point off the network, -1 for one left out by
        ``bound``); None when the compiled kernel was not built (use :func:`reach` then).
    """
    from ._progress import progress

    if _cover_many is None:
        return None
    n = len(points)
    out = np.zeros(n)
    oks = np.flatnonzero(points.ok)
    if len(oks) == 0:
        return out
    indptr, slot_t, slot_x = _slots(network, points)
    g = network.csr
    ip = g.indptr.astype(np.int32, copy=False)
    ix = g.indices.astype(np.int32, copy=False)
    dt = np.ascontiguousarray(g.data, dtype=float)
    same_edge = _TargetsByEdge.of(points)
    w = np.ascontiguousarray(weight, dtype=float)
    lab = np.ascontiguousarray(label, dtype=np.int64)
    if len(lab) and lab.min() < 0:
        raise ValueError("cover_within: labels must be non-negative integers")
    on = np.flatnonzero(points.ok)
    count = np.bincount(lab[on], minlength=int(lab.max()) + 1 if len(lab) else 0
                        ).astype(np.int64)  # a search may stop once it has counted these
    sp_ = indptr.astype(np.int64, copy=False)
    st_ = slot_t.astype(np.int64, copy=False)
    sx_ = np.ascontiguousarray(slot_x, dtype=float)
    best = np.full(len(count), -1.0)  # per label, the largest sum found so far
    # each node's walk to its nearest point: a search need not go where no point is in reach
    lower = nearest_facility(network, points, limit_m=float(limit_m)).dist_m
    lower = np.ascontiguousarray(lower, dtype=float)
    slack = 1e-6 * (float(limit_m) + 1.0)  # far above the rounding of either search's sums
    if bound is not None:
        bnd = np.asarray(bound, dtype=float)
        # first the point of each label with the largest bound (a high sum to prune with)
        by = oks[np.lexsort((oks, -bnd[oks], lab[oks]))]
        lead = by[np.r_[True, lab[by][1:] != lab[by][:-1]]]
        rest = np.ones(n, dtype=bool)
        rest[lead] = False
        oks = oks[rest[oks]]
    else:
        bnd = np.empty(0)
        lead = np.empty(0, dtype=np.int64)
    # nearby points one after another (strips a quarter of the walk high, west to east), so
    # that each search finds much of the last one's nodes in the cache (1.7-2x faster than the
    # cells' row order on the 250k grid); the sums do not depend on the order
    step = max(limit_m / 4.0, 1.0)
    oks = oks[np.lexsort((points.x[oks], np.floor(points.y[oks] / step)))]
    oks = np.concatenate([lead, oks])
    starts = range(0, len(oks), chunk)
    for s in progress(starts, verbose=verbose, desc="cover", total=len(starts)):
        ids = oks[s:s + chunk]
        k = len(ids)
        r2, t2, _ = same_edge.pairs(points, ids, limit_m)  # r2 ascending
        same_ptr = np.searchsorted(r2, np.arange(k + 1)).astype(np.int64)
        out[ids] = _cover_many(ip, ix, dt, *_edge_end_seeds(points, ids), float(limit_m), sp_, st_, sx_, same_ptr,
                               np.ascontiguousarray(t2, dtype=np.int64), w, lab,
                               np.ascontiguousarray(lab[ids]), count,
                               np.ascontiguousarray(bnd[ids]) if len(bnd) else bnd, best,
                               lower, slack)
    return out


def _local(network: WalkNetwork, pts: Snapped, limit_m: float) -> np.ndarray:
    """Nodes within the bounding box of ``pts`` grown by ``limit_m``.

    A walk of at most ``limit_m`` metres never leaves that box (a network path is never
    shorter than the straight line), so searches restricted to it are exact.
    """
    x0, x1 = np.nanmin(pts.x) - limit_m, np.nanmax(pts.x) + limit_m
    y0, y1 = np.nanmin(pts.y) - limit_m, np.nanmax(pts.y) + limit_m
    return np.flatnonzero((network.x >= x0) & (network.x <= x1) &
                          (network.y >= y0) & (network.y <= y1))


def reach(network: WalkNetwork, origins: Snapped, targets: Snapped, limit_m: float, *,
          chunk: int | None = None, verbose: bool = False, engine: str | None = None) -> Reach:
    """All (origin, target) pairs within ``limit_m`` metres on foot, as sparse triples.

    With the compiled kernel (``care15._reach``), one bounded Dijkstra per origin that
    touches only the nodes it reaches. Without it, bounded Dijkstra searches run from the
    origins in spatially sorted chunks, each on the subgraph of nodes within ``limit_m`` of
    the chunk's origins (exact: a walk of that length cannot leave it). Either way memory and
    time grow with the reached area, not the city. Pairs on the same edge may also walk
    straight along it.

    Parameters
    ----------
    network
        The walking network.
    origins, targets
        Snapped points (e.g. facilities or candidate sites, and population cells).
    limit_m
        Longest walk kept, in metres.
    chunk
        Origins per kernel call (default 1,024 compiled, 64 on scipy).
    verbose
        Show a progress bar.
    engine
        ``"scipy"`` forces the scipy path (the same pairs); default the compiled kernel when
        it was built.

    Returns
    -------
    Reach
        Every (origin, target) pair within ``limit_m``, with its shortest walk in metres.

    Examples
    --------
    >>> import geopandas as gpd
    >>> import numpy as np
    >>> import shapely
    >>> from care15.access import reach
    >>> from care15.network import network_from_edges
    >>> xy = [(0, 0), (100, 0), (200, 0), (300, 0)]
    >>> edges = gpd.GeoDataFrame({"u": [1, 2, 3], "v": [2, 3, 4]},
    ...                          geometry=[shapely.LineString(xy[i:i + 2]) for i in range(3)],
    ...                          crs="EPSG:32650")
    >>> net = network_from_edges(edges, crs="EPSG:32650")
    >>> sites = net.snap(np.array([0.0]), np.array([0.0]))
    >>> cells = net.snap(np.array([50.0, 150.0, 250.0]), np.array([0.0, 0.0, 0.0]))
    >>> r = reach(net, sites, cells, 200.0)
    >>> r.rows.tolist(), r.cols.tolist(), r.dist_m.tolist()
    ([0, 0], [0, 1], [50.0, 150.0])
    """
    from ._progress import progress

    n = network.n_nodes
    no, nt = len(origins), len(targets)
    oks = np.flatnonzero(origins.ok)
    rows_l: list[np.ndarray] = []
    cols_l: list[np.ndarray] = []
    dist_l: list[np.ndarray] = []
    if len(oks) and targets.ok.any() and _bounded_many is not None and engine != "scipy":
        rows, cols, dist = _reach_compiled(network, origins, oks, targets, limit_m,
                                           chunk=chunk or 1024, verbose=verbose)
        return Reach(rows, cols, dist, (no, nt), float(limit_m))
    if len(oks) and targets.ok.any():
        indptr, slot_t, slot_x = _slots(network, targets)
        chunk = chunk or 64
        # spatial order: cells of about limit_m, row by row, so a chunk covers a small area
        step = max(float(limit_m), 1.0)
        gx = np.floor(origins.x[oks] / step)
        gy = np.floor(origins.y[oks] / step)
        oks = oks[np.lexsort((gx, gy))]
        base = network.csr
        starts = range(0, len(oks), chunk)
        for s in progress(starts, verbose=verbose, desc="reach", total=len(starts)):
            ids = oks[s:s + chunk]
            sub = origins.subset(ids)
            local = _local(network, sub, limit_m)
            pos_of = np.full(n, -1, dtype=np.int64)
            pos_of[local] = np.arange(len(local))
            g_local = base[local][:, local]
            m = len(local)
            k = len(ids)
            # origins joined to their edge ends, in local numbering
            w_u = sub.access_m + sub.to_u_m
            w_v = sub.access_m + sub.to_v_m
            lu, lv = pos_of[sub.node_u], pos_of[sub.node_v]
            coo = g_local.tocoo()
            virt = m + np.arange(k)
            rows = np.concatenate([coo.row, virt, virt])
            cols = np.concatenate([coo.col, lu, lv])
            w = np.concatenate([coo.data, w_u, w_v])
            good = cols >= 0
            g = sp.csr_matrix((w[good], (rows[good], cols[good])), shape=(m + k, m + k))
            if g.nnz != good.sum():  # both ends the same node: keep the shorter join
                df = pd.DataFrame({"r": rows[good], "c": cols[good], "w": w[good]})
                df = df.groupby(["r", "c"], sort=False)["w"].min()
                g = sp.csr_matrix((df.to_numpy(), (df.index.get_level_values(0),
                                                   df.index.get_level_values(1))),
                                  shape=(m + k, m + k))
            d = dijkstra(g, directed=True, indices=virt, limit=limit_m)[:, :m]
            r, lnode = np.nonzero(np.isfinite(d))
            r, t, dt = _expand_to_targets(r, local[lnode], d[r, lnode], indptr, slot_t,
                                          slot_x, limit_m)
            rows_l.append(ids[r])
            cols_l.append(t)
            dist_l.append(dt)
        r, t, dt = _TargetsByEdge.of(targets).pairs(origins, oks, limit_m)
        rows_l.append(oks[r])
        cols_l.append(t)
        dist_l.append(dt)
    if rows_l:
        rows, cols, dist = _min_per_pair(np.concatenate(rows_l), np.concatenate(cols_l),
                                         np.concatenate(dist_l), nt)
    else:
        rows = cols = np.empty(0, dtype=np.int64)
        dist = np.empty(0)
    return Reach(rows, cols, dist, (no, nt), float(limit_m))
