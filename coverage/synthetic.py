"""Generated street grids and populations for benchmarks and scale tests.

Real OSM extracts are small; the benchmarks also need city-sized networks (250,000 and
1,000,000 nodes). A grid with a little jitter and some streets removed is a fair stand-in for
a dense Chinese city's walking network at that size.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from .network import WalkNetwork

__all__ = ["grid_cells_population", "grid_network"]


def grid_network(n_side: int, *, spacing_m: float = 60.0, drop_share: float = 0.1,
                 jitter_m: float = 5.0, lon0: float = 104.0, lat0: float = 30.6,
                 seed: int = 0) -> WalkNetwork:
    """Build an ``n_side × n_side`` street grid in UTM (Chengdu's zone by default).

    ``drop_share`` of the streets are removed at random (blocks, gated compounds) and nodes
    are jittered by up to ``jitter_m``. Built directly as arrays (no GeoDataFrame round trip).

    Parameters
    ----------
    n_side
        Nodes per side.
    spacing_m
        Distance between neighbouring nodes before jitter.
    drop_share
        Share of streets removed at random.
    jitter_m
        Largest shift of a node along each axis.
    lon0, lat0
        WGS-84 position of the south-west corner; it also picks the UTM zone.
    seed
        Seed of the random generator (same seed, same network).

    Returns
    -------
    WalkNetwork
        ``n_side**2`` nodes and straight edges in the UTM zone of ``lon0``.

    Examples
    --------
    >>> from care15.synthetic import grid_network
    >>> net = grid_network(10, drop_share=0.0, jitter_m=0.0)
    >>> net.n_nodes, net.n_edges, round(net.total_length_m)
    (100, 180, 10800)
    """
    rng = np.random.default_rng(seed)
    crs = pyproj.CRS.from_user_input(32600 + int((lon0 + 180) // 6) + 1)
    x0, y0 = pyproj.Transformer.from_crs(4326, crs, always_xy=True).transform(lon0, lat0)
    ii, jj = np.meshgrid(np.arange(n_side), np.arange(n_side), indexing="ij")
    node = (ii * n_side + jj).ravel()
    x = x0 + jj.ravel() * spacing_m + rng.uniform(-jitter_m, jitter_m, node.size)
    y = y0 + ii.ravel() * spacing_m + rng.uniform(-jitter_m, jitter_m, node.size)
    right = node[(jj.ravel() < n_side - 1)]
    up = node[(ii.ravel() < n_side - 1)]
    u = np.concatenate([right, up])
    v = np.concatenate([right + 1, up + n_side])
    keep = rng.random(len(u)) >= drop_share
    u, v = u[keep], v[keep]
    geom = shapely.linestrings(np.stack([np.c_[x[u], y[u]], np.c_[x[v], y[v]]], axis=1))
    length = np.hypot(x[v] - x[u], y[v] - y[u])
    return WalkNetwork(crs=crs, node_id=node.astype(np.int64), x=x, y=y,
                       edge_u=u.astype(np.int32), edge_v=v.astype(np.int32),
                       edge_length_m=length, edge_geometry=geom,
                       source=f"grid {n_side}x{n_side}")


def grid_cells_population(net: WalkNetwork, n_cells: int, *, cell_size_m: float = 100.0,
                          seed: int = 0, share_60plus: float = 0.187,
                          share_0to3: float = 0.03) -> gpd.GeoDataFrame:
    """``n_cells`` populated square cells at random grid positions inside the network's extent.

    Parameters
    ----------
    net
        The network whose bounds hold the cells.
    n_cells
        Number of cells (at most the number of grid positions in the bounds).
    cell_size_m
        Side of each cell.
    seed
        Seed of the random generator.
    share_60plus, share_0to3
        Shares of residents aged 60+ and under 3.

    Returns
    -------
    GeoDataFrame
        ``cell_id``, ``pop_total`` (gamma-distributed, mean 120), ``pop_60plus``,
        ``pop_0to3`` and square polygons in the network CRS.
    """
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = net.bounds
    nx_ = max(1, int((x1 - x0) // cell_size_m))
    ny_ = max(1, int((y1 - y0) // cell_size_m))
    n_cells = min(n_cells, nx_ * ny_)
    pick = rng.choice(nx_ * ny_, size=n_cells, replace=False)
    cx = x0 + (pick % nx_) * cell_size_m
    cy = y0 + (pick // nx_) * cell_size_m
    pop = rng.gamma(2.0, 60.0, n_cells)
    df = pd.DataFrame({"cell_id": pick.astype(np.int64), "pop_total": pop,
                       "pop_60plus": pop * share_60plus, "pop_0to3": pop * share_0to3})
    return gpd.GeoDataFrame(df, geometry=shapely.box(cx, cy, cx + cell_size_m, cy + cell_size_m),
                            crs=net.crs)
