"""Candidate sites: files in any coordinate system, OSM tags, generated; cleaning with counts."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from care15._errors import DataWarning, InputError
from care15.candidates import (
    candidates_from_file,
    candidates_from_osm,
    clean_candidates,
    generated_candidates,
    water_from_osm,
)
from care15.chinacoords import from_wgs84


def test_file_gcj02_and_bad_rows(tmp_path, chengdu_net):
    nodes = chengdu_net.nodes_gdf().to_crs(4326).iloc[[10, 500, 2000]]
    lon, lat = from_wgs84(nodes.geometry.x.to_numpy(), nodes.geometry.y.to_numpy(), "gcj02")
    df = pd.DataFrame({"名称": ["闲置用房A", "社区服务中心B", "C"], "经度": lon, "纬度": lat,
                       "托位": [30, None, 20]})
    df.loc[2, "经度"] = np.nan
    p = tmp_path / "cand.xlsx"
    df.to_excel(p, index=False)
    with pytest.warns(DataWarning, match=r"rows \[3\]"):
        c = candidates_from_file(p, coords="gcj02")
    assert len(c) == 2 and c.attrs["dropped_rows"] == [3]
    assert np.allclose(c.geometry.x, nodes.geometry.x.to_numpy()[:2], atol=1e-7)
    assert list(c["capacity_places"].fillna(-1)) == [30, -1]
    with pytest.raises(InputError, match="not found"):
        candidates_from_file(tmp_path / "x.csv")


def test_clean_counts_far_water_duplicates(helsinki_net):
    nodes = helsinki_net.nodes_gdf().iloc[:5]
    x, y = nodes.geometry.x.to_numpy(), nodes.geometry.y.to_numpy()
    pts = list(shapely.points(x, y))
    pts.append(shapely.Point(x[0] + 3, y[0]))          # duplicate of the first (3 m)
    pts.append(shapely.Point(x[0] + 50_000, y[0]))     # 50 km away: far from the network
    pts.append(shapely.Point(x[1], y[1]))              # exact duplicate
    c = gpd.GeoDataFrame({"candidate_id": [f"k{i}" for i in range(len(pts))]},
                         geometry=pts, crs=helsinki_net.crs).to_crs(4326)
    water = gpd.GeoDataFrame(geometry=[shapely.Point(x[4], y[4]).buffer(5)],
                             crs=helsinki_net.crs)
    with pytest.warns(DataWarning, match="1 far from network, 1 on water, 2 duplicate"):
        out = clean_candidates(c, helsinki_net, water=water)
    assert out.attrs["dropped"] == {"far_from_network": 1, "on_water": 1, "duplicate": 2}
    assert list(out["candidate_id"]) == ["k0", "k1", "k2", "k3"]


def test_osm_and_generated(chengdu_pbf, chengdu_net):
    schools = candidates_from_osm(chengdu_pbf, {"amenity": ["school", "community_centre"]})
    assert len(schools) > 0 and schools.crs.to_epsg() == 4326
    assert schools["candidate_id"].is_unique
    w = water_from_osm(chengdu_pbf)
    assert w.crs.to_epsg() == 4326 and len(w) >= 10  # rivers and ponds of the extract
    cells = gpd.GeoDataFrame({"pop_total": [10.0]}, crs=chengdu_net.crs,
                             geometry=[shapely.box(*chengdu_net.nodes_gdf().total_bounds)])
    g = generated_candidates(chengdu_net, cells, spacing_m=500)
    xy = np.c_[g.to_crs(chengdu_net.crs).geometry.x, g.to_crs(chengdu_net.crs).geometry.y]
    cellid = np.floor(xy / 500).astype(int)
    assert len(np.unique(cellid, axis=0)) == len(g)  # one per 500 m square


def test_clean_returns_the_snap_of_the_kept_candidates(helsinki_net):
    nodes = helsinki_net.nodes_gdf().iloc[:30]
    x, y = nodes.geometry.x.to_numpy() + 7, nodes.geometry.y.to_numpy() - 3
    c = gpd.GeoDataFrame({"candidate_id": [f"k{i}" for i in range(31)]}, crs=helsinki_net.crs,
                         geometry=[*shapely.points(x, y), shapely.Point(x[0] + 9e4, y[0])])
    water = gpd.GeoDataFrame(geometry=[shapely.Point(x[5], y[5]).buffer(2)],
                             crs=helsinki_net.crs)
    out, snap = clean_candidates(c.to_crs(4326), helsinki_net, water=water, warn=False,
                                 return_snap=True)
    fresh = helsinki_net.snap_gdf(out, max_access_m=250)
    assert len(snap) == len(out) and np.array_equal(snap.edge, fresh.edge)
    assert np.allclose(snap.along_m, fresh.along_m) and np.allclose(snap.access_m,
                                                                    fresh.access_m)


def test_no_import_cycle_with_siting():
    """candidates is imported by siting, never the other way round."""
    import subprocess
    import sys

    code = "import sys, care15.candidates; print('care15.siting' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout.strip() == "False"
