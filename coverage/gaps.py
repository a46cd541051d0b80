"""Gap lists: contiguous clusters of uncovered cells, and communities short of target."""

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
    from .scenario import Scenario

__all__ = ["gap_clusters", "short_communities"]

GAP_COLUMNS = ["gap_id", "rank", "category", "n_cells", "uncovered_pop_total",
               "uncovered_pop_60plus", "uncovered_pop_0to3", "uncovered_target",
               "community_id", "community_name", "nearest_walk_min", "median_walk_min",
               "centroid_lon", "centroid_lat", "geometry"]


def gap_clusters(cells: gpd.GeoDataFrame, category: str, *, threshold_min: float) -> gpd.GeoDataFrame:
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

    Returns
    -------
    GeoDataFrame
        One row per cluster in the cells' CRS, with :data:`GAP_COLUMNS`:
        ``nearest_walk_min`` is the shortest walk from any cell of the cluster to an existing
        facility (``inf`` when none is reachable), ``community_name`` the community holding
        most of the cluster's uncovered residents.
    """
    cat = std.CATEGORIES[category]
    grp = cat.target_group
    wm = cells[f"{category}_walk_min"].to_numpy()
    gap = ~(wm <= threshold_min) & (cells[grp].to_numpy() > 0)
    g = cells.loc[gap].reset_index(drop=True)
    if len(g) == 0:
        return gpd.GeoDataFrame({c: [] for c in GAP_COLUMNS}, geometry="geometry", crs=cells.crs)
    geoms = g.geometry.values
    tree = shapely.STRtree(geoms)
    # touching squares intersect; a small tolerance absorbs float noise at shared edges
    a, b = tree.query(shapely.buffer(geoms, 0.01), predicate="intersects")
    adj = csr_matrix((np.ones(len(a)), (a, b)), shape=(len(g), len(g)))
    _, label = connected_components(adj, directed=False)
    g["_cluster"] = label
    agg = g.groupby("_cluster").agg(
        n_cells=("pop_total", "size"), uncovered_pop_total=("pop_total", "sum"),
        uncovered_pop_60plus=("pop_60plus", "sum"), uncovered_pop_0to3=("pop_0to3", "sum"),
        nearest_walk_min=(f"{category}_walk_min", "min"),
        median_walk_min=(f"{category}_walk_min", "median"))
    agg["uncovered_target"] = agg[{"pop_60plus": "uncovered_pop_60plus",
                                   "pop_0to3": "uncovered_pop_0to3"}[grp]]
    if "community_id" in g.columns:
        by = g.groupby(["_cluster", "community_id", "community_name"])[grp].sum().reset_index()
        top = by.sort_values(grp, ascending=False, kind="stable").drop_duplicates("_cluster")
        agg = agg.join(top.set_index("_cluster")[["community_id", "community_name"]])
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

    Sorted by residents short of target (``{c}_shortfall_people``), then by rate. Communities
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
        ``rank``, ``category``, ``community_id``, ``community_name``, ``pop_total``, the
        target group's residents, its coverage rate, the target rate, the shortfall in
        residents and the number of facilities.
    """
    from .rates import tlabel

    cat = std.CATEGORIES[category]
    gkey = {"pop_60plus": "60plus", "pop_0to3": "0to3"}[cat.target_group]
    rate_col = f"{category}_cov{tlabel(scenario.targets.coverage_threshold_min)}_{gkey}"
    met = comm[f"{category}_target_met"]
    sel = comm.loc[met.map(lambda v: v is False or v is np.False_)]
    cols = ["community_id", "community_name", "pop_total", cat.target_group, rate_col,
            f"{category}_target_rate", f"{category}_shortfall_people",
            f"{category}_n_facilities"]
    out = pd.DataFrame(sel[cols]).sort_values(
        [f"{category}_shortfall_people", rate_col], ascending=[False, True], kind="stable")
    out.insert(0, "category", category)
    out.insert(0, "rank", np.arange(1, len(out) + 1))
    return out.reset_index(drop=True)
