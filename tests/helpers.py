"""Small builders shared by tests (hand-made graphs with obvious answers)."""

from __future__ import annotations

import geopandas as gpd
import shapely

from care15.network import WalkNetwork, network_from_edges

UTM = "EPSG:32650"


def line_net(coords_by_edge: dict, crs: str = UTM) -> WalkNetwork:
    """Network from ``{(u, v): [(x, y), ...]}`` in a metric CRS."""
    rows = [{"u": u, "v": v, "geometry": shapely.LineString(c)}
            for (u, v), c in coords_by_edge.items()]
    return network_from_edges(gpd.GeoDataFrame(rows, crs=crs), crs=crs)


def street_case(with_childcare: bool = False):
    """A 2 km street with 20 populated cells, three communities (one empty), 1–2 facilities.

    Returns ``(network, facilities, cells, communities)``; the expected rates are worked out in
    tests/test_analysis.py.
    """
    import numpy as np
    import pandas as pd

    xs = [0, 500, 1000, 1500, 2000]
    net = line_net({(i, i + 1): [(xs[i], 0), (xs[i + 1], 0)] for i in range(4)})
    cells = gpd.GeoDataFrame({
        "cell_id": np.arange(20), "pop_total": 100.0, "pop_60plus": 20.0, "pop_0to3": 3.0,
    }, geometry=[shapely.box(100 * k, 0, 100 * k + 100, 100) for k in range(20)], crs=UTM)
    comms = gpd.GeoDataFrame({
        "community_id": ["A", "B", "C"], "community_name": ["甲社区", "乙社区", "空社区"],
    }, geometry=[shapely.box(-100, -200, 1000, 200), shapely.box(1000, -200, 2000, 200),
                 shapely.box(3000, -200, 4000, 200)], crs=UTM)
    fac = pd.DataFrame({"facility_id": ["e1"], "name": ["养老服务中心"], "category": ["elderly"],
                        "subtype": ["home_care_centre"], "beds": [30.0], "places": [np.nan],
                        "floor_area_m2": [500.0], "counts_as_supply": [True]})
    geoms = [shapely.Point(0, 0)]
    if with_childcare:
        fac.loc[1] = ["c1", "托育园", "childcare", "nursery", np.nan, 40.0, np.nan, True]
        geoms.append(shapely.Point(2000, 0))
    fac = gpd.GeoDataFrame(fac, geometry=geoms, crs=UTM).to_crs(4326)
    return net, fac, cells, comms
