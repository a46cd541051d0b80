"""Small builders shared by tests (hand-made graphs with obvious answers)."""

from __future__ import annotations

import geopandas as gpd
import shapely

from coverage.network import WalkNetwork, network_from_edges

UTM = "EPSG:32650"


def line_net(coords_by_edge: dict, crs: str = UTM) -> WalkNetwork:
    """Network from ``{(u, v): [(x, y), ...]}`` in a metric CRS."""
    rows = [{"u": u, "v": v, "geometry": shapely.LineString(c)}
            for (u, v), c in coords_by_edge.items()]
    return network_from_edges(gpd.GeoDataFrame(rows, crs=crs), crs=crs)
