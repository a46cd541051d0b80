"""Gap lists: contiguous clusters of uncovered cells, and communities short of target.

Each gap also says what would close it: the best single new site for the cluster (the gap
cell, placed where its centre joins the network, that brings the most of the cluster's
uncovered target residents within the threshold on foot), how many of them it would cover and
which community it lies in. The search is one batch of bounded Dijkstra runs over the gap
cells (:func:`care15.access.reach`), not a loop per gap.
"""

from __future__ import annotations

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

__all__ = ["gap_clusters", "short_communities"]

GAP_COLUMNS = ["gap_id", "rank", "category", "n_cells", "uncovered_pop_total",
               "uncovered_pop_60plus", "uncovered_pop_0to3", "uncovered_target",
               "community_id", "community_name", "nearest_walk_min", "median_walk_min",
               "nearest_facility", "centroid_lon", "centroid_lat", "closing_site_cover_target",
               "closing_site_near", "closing_site_lon", "closing_site_lat", "geometry"]


def _closing_sites(g: gpd.GeoDataFrame, pos: np.ndarray, label: np.ndarray, target: np.ndarray,
                   network: WalkNetwork, cell_snap: Snapped, budget_m: float
                   ) -> pd.DataFrame:
    """Best single site per cluster among the gap cells' entry points.

    Returns one row per cluster label: the covered target residents of the cluster
    (``cover``) and the position in ``g`` of the chosen cell (``cell``; -1 when no cell of the
    cluster is on the network).
    """
    from .access import reach

    pts = cell_snap.subset(pos)
    r = reach(network, pts, pts, budget_m)
    same = label[r.rows] == label[r.cols]
    cover = np.bincount(r.rows[same], weights=target[r.cols[same]], minlength=len(pos))
    cover[~pts.ok] = -1.0  # a cell off the network cannot host a site that reaches anyone
    # per cluster, the cell with the most cover (ties: the first cell)
    order = np.lexsort((np.arange(len(pos)), -cover, label))
    first = np.r_[True, label[order][1:] != label[order][:-1]]
    best = order[first]
    out = pd.DataFrame({"cover": np.maximum(cover[best], 0.0),
                        "cell": np.where(cover[best] >= 0, best, -1)},
                       index=label[best])
    return out


def gap_clusters(cells: gpd.GeoDataFrame, category: str, *, threshold_min: float,
                 network: WalkNetwork | None = None, cell_snap: Snapped | None = None,
                 speed_mps: float | None = None) -> gpd.GeoDataFrame:
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
    """
    cat = std.CATEGORIES[category]
    grp = cat.target_group
    wm = cells[f"{category}_walk_min"].to_numpy()
    gap = ~(wm <= threshold_min) & (cells[grp].to_numpy() > 0)
    pos = np.flatnonzero(gap)
    g = cells.iloc[pos].reset_index(drop=True)
    if len(g) == 0:
        return gpd.GeoDataFrame({c: [] for c in GAP_COLUMNS}, geometry="geometry", crs=cells.crs)
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
                     g[near_col].to_numpy()[best.to_numpy()], None), index=best.index)
    else:
        agg["nearest_facility"] = None
    agg["closing_site_cover_target"] = np.nan
    agg["closing_site_near"] = None
    agg["closing_site_lon"] = np.nan
    agg["closing_site_lat"] = np.nan
    if network is not None and cell_snap is not None and speed_mps:
        cs = _closing_sites(g, pos, label, g[grp].to_numpy(dtype=float), network, cell_snap,
                            threshold_min * 60.0 * speed_mps).reindex(agg.index)
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
    geom = g.dissolve(by="_cluster").geometry
    agg = gpd.GeoDataFrame(agg, geometry=geom.reindex(agg.index).values, crs=cells.crs)
    cen = gpd.GeoSeries(agg.geometry.representative_point(), crs=cells.crs).to_crs(4326)
    agg["centroid_lon"] = cen.x.round(6).to_numpy()
    agg["centroid_lat"] = cen.y.round(6).to_numpy()
    agg = agg.sort_values(["uncovered_target", "uncovered_pop_total"], ascending=False,
                          kind="stable").reset_index(drop=True)
    agg["rank"] = np.arange(1, len(agg) + 1)
    agg["gap_id"] = [f"{category}-{i}" for i in agg["rank"]]
    agg["category"] = category
    return agg[GAP_COLUMNS]


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
