"""Gap lists: contiguous clusters of uncovered cells, and communities short of target.

Each gap also says what would close it: the best single new site for the cluster (the gap
cell, placed where its centre joins the network, that brings the most of the cluster's
uncovered target residents within the threshold on foot), how many of them it would cover and
which community it lies in. The search is one batch of compiled bounded Dijkstra runs from the
gap cells, not a loop per gap: a plain analysis sums each cell's cover as its search goes
(:func:`care15.access.cover_within`) and skips the cells whose straight-line bound cannot beat
their cluster's best so far; a :class:`care15.Plan` lists the pairs of gap cells instead
(:func:`gap_pairs`, :func:`care15.access.reach`), to search only from new gap cells after an
edit. Both give the same sites and covers, to the bit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import connected_components

from . import standards as std

if TYPE_CHECKING:
    from .network import Snapped, WalkNetwork
    from .scenario import Scenario

__all__ = ["GapPairs", "gap_clusters", "short_communities"]

GAP_COLUMNS = ["gap_id", "rank", "category", "n_cells", "uncovered_pop_total",
               "uncovered_pop_60plus", "uncovered_pop_0to3", "uncovered_target",
               "community_id", "community_name", "nearest_walk_min", "median_walk_min",
               "nearest_facility", "centroid_lon", "centroid_lat", "closing_site_cover_target",
               "closing_site_near", "closing_site_lon", "closing_site_lat", "geometry"]


@dataclass(frozen=True)
class GapPairs:
    """The pairs of gap cells within a walk of each other, kept to be reused.

    The walks between cells do not depend on the facilities: after a change of facilities
    only the cells that became gaps need new searches (:func:`gap_pairs`).

    Attributes
    ----------
    gap
        Boolean over all cells: the gap cells the pairs are among.
    rows, cols
        Positions (in the cells table) of every ordered pair of gap cells within ``limit_m``
        metres on foot, sorted by row, then column.
    limit_m
        The longest walk kept.
    """

    gap: np.ndarray
    rows: np.ndarray
    cols: np.ndarray
    limit_m: float


def gap_pairs(network: WalkNetwork, cell_snap: Snapped, gap: np.ndarray, limit_m: float,
              previous: GapPairs | None = None) -> GapPairs:
    """Every ordered pair of gap cells within ``limit_m`` on foot, reusing earlier pairs.

    Parameters
    ----------
    network
        The walking network.
    cell_snap
        Where each cell's centre joins the network (all cells).
    gap
        Boolean over all cells: the gap cells.
    limit_m
        Longest walk, metres.
    previous
        The pairs of an earlier gap set of the same cells and limit: pairs among cells that
        are still gaps are kept, and searches run only from the cells that became gaps (the
        walks are symmetric, so their reverse pairs come from the same searches). Ignored
        when it belongs to other cells or another limit.

    Returns
    -------
    GapPairs
        The pairs, as :func:`care15.access.reach` among the gap cells finds them.
    """
    from .access import reach

    gap = np.asarray(gap, dtype=bool)
    pos = np.flatnonzero(gap)
    n = len(gap)
    if previous is not None and len(previous.gap) == n and previous.limit_m == float(limit_m):
        keep = gap[previous.rows] & gap[previous.cols]
        rows, cols = previous.rows[keep], previous.cols[keep]
        added = np.flatnonzero(gap & ~previous.gap)
        if len(added):
            r = reach(network, cell_snap.subset(added), cell_snap.subset(pos), limit_m)
            ar, ac = added[r.rows], pos[r.cols]
            back = previous.gap[ac]  # towards a cell that was a gap: add the reverse pair
            rows = np.concatenate([rows, ar, ac[back]])
            cols = np.concatenate([cols, ac, ar[back]])
            order = np.argsort(rows.astype(np.int64) * n + cols, kind="stable")
            rows, cols = rows[order], cols[order]
    else:
        r = reach(network, cell_snap.subset(pos), cell_snap.subset(pos), limit_m)
        rows, cols = pos[r.rows], pos[r.cols]  # sorted by row, then column, as reach gives
    dt = np.int32 if n < 2**31 else np.int64
    return GapPairs(gap=gap.copy(), rows=rows.astype(dt), cols=cols.astype(dt),
                    limit_m=float(limit_m))


def _pair_cover(pos: np.ndarray, label: np.ndarray, target: np.ndarray,
                pairs: GapPairs) -> np.ndarray:
    """Per gap cell, the target residents of its cluster within the walk, from the pairs."""
    at = np.full(len(pairs.gap), -1, dtype=np.int64)
    at[pos] = np.arange(len(pos))
    rows, cols = at[pairs.rows], at[pairs.cols]
    same = label[rows] == label[cols]
    cover: np.ndarray = np.bincount(rows[same], weights=target[cols[same]], minlength=len(pos))
    return cover


def _cover_bound(sub: Snapped, pos: np.ndarray, weight: np.ndarray, label: np.ndarray,
                 limit_m: float, grid: tuple | None) -> np.ndarray | None:
    """Per gap cell, at least the weight its closing-site search can find (see below).

    The weights of the gap cells within ``limit_m`` of it in a straight line: a walk is never
    shorter (checked by :func:`care15.access.walks_at_least_straight`), so these sums bound
    the walking ones. On a lattice whose cells join the network from their centres, one
    convolution of the weights with a disk (cells of every cluster: a looser bound, found
    in milliseconds); otherwise a KD-tree, among cells of one cluster. None when a weight is
    negative or not finite.
    """
    w = np.asarray(weight, dtype=float)
    if len(w) == 0 or not np.isfinite(w).all() or w.min() < 0:
        return None
    r = limit_m * (1 + 1e-9) + 1e-6
    x, y = sub.x, sub.y
    if grid is not None:
        col, row, x0, y0, side = grid[0][pos], grid[1][pos], grid[2], grid[3], grid[4]
        tol = 1e-6 * side
        if (np.abs(x - (x0 + (col + 0.5) * side)).max() <= tol
                and np.abs(y - (y0 + (row + 0.5) * side)).max() <= tol):
            c0, r0 = col.min(), row.min()
            h, wd = int(row.max() - r0) + 1, int(col.max() - c0) + 1
            img = np.zeros((h, wd))
            img[row - r0, col - c0] = w
            k = int(np.ceil((r + 3 * tol) / side))
            dy, dx = np.mgrid[-k:k + 1, -k:k + 1]
            disk = (side * np.hypot(dx, dy) <= r + 3 * tol).astype(float)
            shape = (h + 2 * k, wd + 2 * k)  # the full convolution, then its centre
            full = np.fft.irfft2(np.fft.rfft2(img, shape) * np.fft.rfft2(disk, shape), shape)
            got = full[k:k + h, k:k + wd][row - r0, col - c0]
            out: np.ndarray = got + 1e-7 * w.sum() + 1e-9  # above the convolution's rounding
            return out
    from scipy.spatial import cKDTree

    ok = np.isfinite(x) & np.isfinite(y)
    at = np.flatnonzero(ok)
    tree = cKDTree(np.column_stack([x[at], y[at]]))
    m = tree.sparse_distance_matrix(tree, r, output_type="ndarray")
    i, j = at[m["i"]], at[m["j"]]
    same = label[i] == label[j]
    out = np.bincount(i[same], weights=w[j[same]], minlength=len(w))
    return out * (1 + 1e-9) + 1e-9


def _closing_sites(pos: np.ndarray, label: np.ndarray, cover: np.ndarray,
                   cell_snap: Snapped) -> pd.DataFrame:
    """Best single site per cluster among the gap cells' entry points.

    ``pos`` are the gap cells' positions among all cells, ``label`` their clusters and
    ``cover`` the target residents of its cluster each would bring within the walk. Returns
    one row per cluster label: the covered target residents of the cluster (``cover``) and
    the position in ``pos`` of the chosen cell (``cell``; -1 when no cell of the cluster is
    on the network).
    """
    cover = np.array(cover, dtype=float)
    cover[~cell_snap.ok[pos]] = -1.0  # a cell off the network cannot host a site
    # per cluster, the cell with the most cover (ties: the first cell)
    order = np.lexsort((np.arange(len(pos)), -cover, label))
    first = np.r_[True, label[order][1:] != label[order][:-1]]
    best = order[first]
    out = pd.DataFrame({"cover": np.maximum(cover[best], 0.0),
                        "cell": np.where(cover[best] >= 0, best, -1)},
                       index=label[best])
    return out


def _lattice(cells: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray, float, float, float] | None:
    """Column, row, origin and side of cells that are equal squares of one grid, else None.

    The squares must be axis-aligned, of one size and on one lattice (corners within 1e-7 of a
    side of the grid lines), each at its own position.
    """
    from .analysis import _square_grid

    geoms = cells.geometry.values
    if len(geoms) == 0:
        return None
    side = _square_grid(np.asarray(geoms))
    if side is None:
        return None
    b = shapely.bounds(np.asarray(geoms))
    x0, y0 = float(b[:, 0].min()), float(b[:, 1].min())
    fx, fy = (b[:, 0] - x0) / side, (b[:, 1] - y0) / side
    col, row = np.round(fx), np.round(fy)
    if np.abs(fx - col).max() > 1e-7 or np.abs(fy - row).max() > 1e-7:
        return None
    col, row = col.astype(np.int64), row.astype(np.int64)
    key = row * (col.max() + 1) + col
    if key.max() < 16 * len(key) + 4_000_000:  # one position per cell
        seen = np.zeros(int(key.max()) + 1, dtype=bool)
        seen[key] = True
        distinct = int(seen.sum())
    else:
        distinct = len(np.unique(key))
    if distinct != len(key):
        return None
    return col, row, x0, y0, side


def _grid_labels(col: np.ndarray, row: np.ndarray) -> np.ndarray | None:
    """Clusters of grid cells sharing an edge or a corner, numbered by their first cell.

    None when the grid spanned by the cells would be too large to label as an image.
    """
    from scipy import ndimage

    c0, r0 = col.min(), row.min()
    nc, nr = int(col.max() - c0 + 1), int(row.max() - r0 + 1)
    if nc * nr > max(64 * len(col), 4_000_000):
        return None
    img = np.zeros((nr, nc), dtype=bool)
    img[row - r0, col - c0] = True
    lab, n = ndimage.label(img, structure=np.ones((3, 3), dtype=bool))
    raw = lab[row - r0, col - c0] - 1
    _, first = np.unique(raw, return_index=True)  # every label 0..n-1 occurs
    rank = np.empty(n, dtype=np.int64)
    rank[np.argsort(first, kind="stable")] = np.arange(n)
    labels: np.ndarray = rank[raw]
    return labels


def _parts_in_order(geoms: np.ndarray) -> np.ndarray:
    """Multi-part geometries with their parts ordered by the corner of their envelopes.

    A cluster's label point (:func:`shapely.point_on_surface`) lies in its widest part, the
    first of equally wide ones: with the parts in one order (south to north, then west to
    east) it does not depend on how the union put them together.
    """
    geoms = np.asarray(geoms, dtype=object)
    multi = np.flatnonzero(shapely.get_num_geometries(geoms) > 1)
    if len(multi) == 0:
        return geoms
    parts, which = shapely.get_parts(geoms[multi], return_index=True)
    b = shapely.bounds(parts)
    order = np.lexsort((b[:, 0], b[:, 1], which))
    out = geoms.copy()
    out[multi] = shapely.multipolygons(parts[order], indices=which[order])
    return out


def _union_by_label(geoms: np.ndarray, label: np.ndarray) -> np.ndarray:
    """Coverage union of the squares of each cluster, one call per distinct cluster size."""
    order = np.argsort(label, kind="stable")
    counts = np.bincount(label)
    starts = np.cumsum(counts) - counts
    sorted_geoms = geoms[order]
    out = np.empty(len(counts), dtype=object)
    for size in np.unique(counts):
        ks = np.flatnonzero(counts == size)
        idx = starts[ks][:, None] + np.arange(size)
        out[ks] = shapely.coverage_union_all(sorted_geoms[idx], axis=1)
    return out


def gap_clusters(cells: gpd.GeoDataFrame, category: str, *, threshold_min: float,
                 network: WalkNetwork | None = None, cell_snap: Snapped | None = None,
                 speed_mps: float | None = None, method: str = "auto") -> gpd.GeoDataFrame:
    """Uncovered cells grouped into contiguous clusters (cells sharing an edge or a corner).

    A cell is a gap for ``category`` when its walking time exceeds ``threshold_min`` (or no
    facility is reachable) and it has residents of the group the category serves. Clusters
    are ranked by uncovered residents of that group, largest first.

    Parameters
    ----------
    cells
        Population cells with ``{category}_walk_min``, the population columns and, when
        available, ``community_id``/``community_name`` (:func:`care15.rates.cell_table`).
    category
        A key of :data:`care15.standards.CATEGORIES` (``"elderly"``, ``"childcare"``).
    threshold_min
        Walking minutes within which a cell counts as covered.
    network, cell_snap, speed_mps
        The walking network, where each cell's centre joins it (in the order of ``cells``)
        and the walking speed of the category's target group: with all three, each gap gets
        its closing site (see the module notes); without them the ``closing_site_*`` columns
        are empty.
    method
        How clusters are found: ``"grid"`` labels cells that are equal axis-aligned squares of
        one grid on that grid (:func:`scipy.ndimage.label`, 8-connectivity) and dissolves each
        cluster with :func:`shapely.coverage_union_all`; ``"tree"`` joins cells that touch
        through an STR-tree and dissolves with a union, for cells of any shape; ``"auto"``
        (default) uses ``"grid"`` where the cells allow it. Both give the same clusters.

    Returns
    -------
    GeoDataFrame
        One row per cluster in the cells' CRS, with :data:`GAP_COLUMNS`:
        ``nearest_walk_min`` is the shortest walk from any cell of the cluster to an existing
        facility (``inf`` when none is reachable) and ``nearest_facility`` that facility's id,
        ``community_name`` the community holding most of the cluster's uncovered residents;
        ``closing_site_cover_target`` the cluster's uncovered target residents that one new
        site at ``closing_site_lon``/``closing_site_lat`` (WGS-84) would bring within the
        threshold, ``closing_site_near`` the community the site lies in.

    Raises
    ------
    ValueError
        For an unknown ``method``.
    """
    return gap_table(cells, category, threshold_min=threshold_min, network=network,
                     cell_snap=cell_snap, speed_mps=speed_mps, method=method,
                     keep_pairs=False)[0]


def gap_table(cells: gpd.GeoDataFrame, category: str, *, threshold_min: float,
              network: WalkNetwork | None = None, cell_snap: Snapped | None = None,
              speed_mps: float | None = None, method: str = "auto",
              previous: GapPairs | None = None, keep_pairs: bool = True
              ) -> tuple[gpd.GeoDataFrame, GapPairs | None]:
    """:func:`gap_clusters`, with the pairs of gap cells its closing sites were found from.

    Parameters
    ----------
    cells, category, threshold_min, network, cell_snap, speed_mps, method
        As for :func:`gap_clusters`.
    previous
        The pairs of an earlier call on the same cells, network and speed (other facilities):
        reused by :func:`gap_pairs`, so only cells that became gaps are searched from.
    keep_pairs
        Find and return the pairs (to be reused after an edit). ``False`` without
        ``previous``: each gap cell's cover is summed during its search
        (:func:`care15.access.cover_within`, the same numbers) and no pairs are returned.

    Returns
    -------
    tuple
        The :func:`gap_clusters` table and the :class:`GapPairs` (None without a network or
        when they were not kept).

    Raises
    ------
    ValueError
        For an unknown ``method``.
    """
    if method not in ("auto", "grid", "tree"):
        raise ValueError(f"method {method!r} is not one of ('auto', 'grid', 'tree')")
    cat = std.CATEGORIES[category]
    grp = cat.target_group
    wm = cells[f"{category}_walk_min"].to_numpy()
    gap = ~(wm <= threshold_min) & (cells[grp].to_numpy() > 0)
    pos = np.flatnonzero(gap)
    use = [k for k in ("pop_total", "pop_60plus", "pop_0to3", f"{category}_walk_min",
                       f"{category}_nearest_facility", "community_id", "community_name")
           if k in cells.columns] + [cells.geometry.name]
    g = cells[use].iloc[pos].reset_index(drop=True)  # only the columns the table needs
    with_sites = network is not None and cell_snap is not None and bool(speed_mps)
    budget = threshold_min * 60.0 * speed_mps if with_sites and speed_mps else 0.0
    if len(g) == 0:
        empty = gpd.GeoDataFrame({c: [] for c in GAP_COLUMNS}, geometry="geometry",
                                 crs=cells.crs)
        return empty, (GapPairs(gap=gap.copy(), rows=np.empty(0, np.int32),
                                cols=np.empty(0, np.int32), limit_m=float(budget))
                       if with_sites and keep_pairs else None)
    grid = _lattice(cells) if method != "tree" else None
    if method == "grid" and grid is None:
        raise ValueError("method='grid' needs cells that are equal squares of one grid")
    label = _grid_labels(grid[0][pos], grid[1][pos]) if grid is not None else None
    if label is None:
        grid = None
        geoms = g.geometry.values
        tree = shapely.STRtree(geoms)
        # touching squares intersect; a small tolerance absorbs float noise at shared edges
        a, b = tree.query(shapely.buffer(geoms, 0.01), predicate="intersects")
        adj = csr_matrix((np.ones(len(a)), (a, b)), shape=(len(g), len(g)))
        _, label = connected_components(adj, directed=False)
    g["_cluster"] = label
    wm_g = g[f"{category}_walk_min"].to_numpy(dtype=float)
    near_col = f"{category}_nearest_facility"
    agg = g.groupby("_cluster").agg(
        n_cells=("pop_total", "size"), uncovered_pop_total=("pop_total", "sum"),
        uncovered_pop_60plus=("pop_60plus", "sum"), uncovered_pop_0to3=("pop_0to3", "sum"),
        nearest_walk_min=(f"{category}_walk_min", "min"),
        median_walk_min=(f"{category}_walk_min", "median"))
    if near_col in g.columns:  # the facility of the cluster's best-placed cell
        best = pd.Series(np.where(np.isnan(wm_g), np.inf, wm_g)).groupby(label).idxmin()
        agg["nearest_facility"] = pd.Series(
            np.where(np.isfinite(wm_g[best.to_numpy()]),
                     g[near_col].to_numpy()[best.to_numpy()], None), index=best.index,
            dtype=object)
    else:
        agg["nearest_facility"] = None
    agg["closing_site_cover_target"] = np.nan
    agg["closing_site_near"] = None
    agg["closing_site_lon"] = np.nan
    agg["closing_site_lat"] = np.nan
    pairs = None
    if with_sites and network is not None and cell_snap is not None:
        target = g[grp].to_numpy(dtype=float)
        cover = None
        if not keep_pairs and previous is None:  # no pairs to keep: sum as the walks go
            from .access import cover_within, walks_at_least_straight

            sub = cell_snap.subset(pos)
            bound = (_cover_bound(sub, pos, target, label, budget, grid)
                     if walks_at_least_straight(network) else None)
            cover = cover_within(network, sub, budget, target, label, bound=bound)
        if cover is None:
            pairs = gap_pairs(network, cell_snap, gap, budget, previous)
            cover = _pair_cover(pos, label, target, pairs)
        cs = _closing_sites(pos, label, cover, cell_snap).reindex(agg.index)
        agg["closing_site_cover_target"] = cs["cover"].to_numpy()
        at = cs["cell"].to_numpy()
        ok = at >= 0
        if ok.any():
            pt = gpd.GeoSeries(g.geometry.iloc[at[ok]].centroid.to_numpy(), crs=cells.crs
                               ).to_crs(4326)
            lon = np.full(len(agg), np.nan)
            lat = np.full(len(agg), np.nan)
            lon[ok], lat[ok] = pt.x.round(6).to_numpy(), pt.y.round(6).to_numpy()
            agg["closing_site_lon"], agg["closing_site_lat"] = lon, lat
            if "community_name" in g.columns:
                cid = g["community_id"].to_numpy()[at[ok]]
                nm = g["community_name"].to_numpy()[at[ok]].astype(object)
                near = np.full(len(agg), None, dtype=object)
                near[ok] = np.where(cid == "_outside", None, nm)
                agg["closing_site_near"] = near
    agg["uncovered_target"] = agg[{"pop_60plus": "uncovered_pop_60plus",
                                   "pop_0to3": "uncovered_pop_0to3"}[grp]]
    if "community_id" in g.columns:
        by = g.groupby(["_cluster", "community_id", "community_name"])[grp].sum().reset_index()
        top = by.sort_values(grp, ascending=False, kind="stable").drop_duplicates("_cluster")
        agg = agg.join(top.set_index("_cluster")[["community_id", "community_name"]])
        agg["closing_site_near"] = agg["closing_site_near"].where(
            agg["closing_site_near"].notna(), agg["community_name"].where(
                agg["community_id"] != "_outside"))
    else:
        agg["community_id"] = None
        agg["community_name"] = None
    if grid is not None:  # the squares rebuilt on the lattice share their edges exactly
        col, row, x0, y0, side = grid
        c, r = col[pos], row[pos]
        boxes = shapely.box(x0 + c * side, y0 + r * side, x0 + (c + 1) * side,
                            y0 + (r + 1) * side)
        geom = _union_by_label(boxes, label)[agg.index.to_numpy()]
    else:
        geom = g.dissolve(by="_cluster").geometry.reindex(agg.index).to_numpy()
    agg = gpd.GeoDataFrame(agg, geometry=_parts_in_order(geom), crs=cells.crs)
    cen = gpd.GeoSeries(agg.geometry.representative_point(), crs=cells.crs).to_crs(4326)
    agg["centroid_lon"] = cen.x.round(6).to_numpy()
    agg["centroid_lat"] = cen.y.round(6).to_numpy()
    agg = agg.sort_values(["uncovered_target", "uncovered_pop_total"], ascending=False,
                          kind="stable").reset_index(drop=True)
    agg["rank"] = np.arange(1, len(agg) + 1)
    agg["gap_id"] = [f"{category}-{i}" for i in agg["rank"]]
    agg["category"] = category
    return agg[GAP_COLUMNS], pairs


def short_communities(comm: pd.DataFrame, category: str, scenario: Scenario) -> pd.DataFrame:
    """Communities below the coverage target for ``category``, worst first.

    Sorted by residents short of target, then by rate. Communities
    without residents of the target group are left out (their rate is undefined).

    Parameters
    ----------
    comm
        The community table (:func:`care15.rates.community_table`).
    category
        A key of :data:`care15.standards.CATEGORIES`.
    scenario
        The scenario whose coverage threshold names the rate column.

    Returns
    -------
    pandas.DataFrame
        ``rank``, ``category``, ``community_id``, ``community_name``, ``pop_total``,
        ``target_pop`` (residents of the category's target group), ``target_coverage`` (its
        population-weighted coverage within the threshold), ``target_rate``,
        ``shortfall_people`` and ``n_facilities``: the same columns for every category, so
        that the lists of several categories stack without empty columns.
    """
    from .rates import tlabel

    cat = std.CATEGORIES[category]
    gkey = {"pop_60plus": "60plus", "pop_0to3": "0to3"}[cat.target_group]
    rate_col = f"{category}_cov{tlabel(scenario.targets.coverage_threshold_min)}_{gkey}"
    met = comm[f"{category}_target_met"]
    sel = comm.loc[met.map(lambda v: v is False or v is np.False_)]
    cols = {"community_id": "community_id", "community_name": "community_name",
            "pop_total": "pop_total", cat.target_group: "target_pop",
            rate_col: "target_coverage", f"{category}_target_rate": "target_rate",
            f"{category}_shortfall_people": "shortfall_people",
            f"{category}_n_facilities": "n_facilities"}
    out = pd.DataFrame(sel[list(cols)]).rename(columns=cols).sort_values(
        ["shortfall_people", "target_coverage"], ascending=[False, True], kind="stable")
    out.insert(0, "category", category)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)
