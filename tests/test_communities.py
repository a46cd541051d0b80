"""Community polygons from files, OSM and grids; each cell in exactly one community."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely

from care15._errors import DataWarning, InputError
from care15.communities import (
    OUTSIDE_ID,
    assign_cells,
    communities_from_file,
    communities_from_osm,
    communities_grid,
)
from care15.sources.population import grid_cells

UTM = "EPSG:32648"


def test_file_with_chinese_names_and_a_broken_polygon(tmp_path):
    g = gpd.GeoDataFrame(
        {"社区名称": ["玉林社区", "芳草社区", "空"], "区划代码": ["510107001", "510107002", "x"]},
        geometry=[shapely.box(0, 0, 500, 500),
                  shapely.Polygon([(500, 0), (1000, 500), (1000, 0), (500, 500)]),  # bow-tie
                  None], crs=UTM)
    p = tmp_path / "c.gpkg"
    g.to_file(p)
    with pytest.warns(DataWarning) as rec:
        c = communities_from_file(p)
    msgs = " ".join(str(w.message) for w in rec)
    assert "invalid" in msgs and "no geometry" in msgs
    assert list(c["community_name"]) == ["玉林社区", "芳草社区"]
    assert list(c["community_id"]) == ["510107001", "510107002"]
    assert c.crs.to_epsg() == 4326 and c.geometry.is_valid.all()


def test_file_errors(tmp_path):
    g = gpd.GeoDataFrame({"foo": [1]}, geometry=[shapely.box(0, 0, 1, 1)], crs=UTM)
    g.to_file(tmp_path / "n.gpkg")
    with pytest.raises(InputError, match=r"no community name column.*foo"):
        communities_from_file(tmp_path / "n.gpkg")
    with pytest.raises(InputError, match="not found"):
        communities_from_file(tmp_path / "missing.geojson")
    with pytest.warns(UserWarning, match="'crs' was not provided"):  # the bad file on purpose
        g.set_crs(None, allow_override=True).assign(name="a").to_file(tmp_path / "nocrs.gpkg")
    with pytest.raises(InputError, match="no CRS"):
        communities_from_file(tmp_path / "nocrs.gpkg")


def test_grid_and_assignment_conserve_people():
    comm = communities_grid((0, 0, 2500, 1800), size_m=1000, crs=UTM)
    assert len(comm) == 3 * 2 and comm["community_id"].iloc[0] == "GA1"
    assert comm["community_name"].iloc[0] == "网格 A1 / Grid A1"
    cells = grid_cells((-300, -300, 2800, 2000), 100, UTM)
    cells["pop_total"] = np.arange(len(cells), dtype=float)
    out = assign_cells(cells, comm)
    assert len(out) == len(cells)
    assert out["pop_total"].sum() == cells["pop_total"].sum()
    by = out.groupby("community_id")["pop_total"].sum()
    assert by.sum() == cells["pop_total"].sum()
    # centres beyond the grid of districts are outside every community
    assert (out.loc[out.geometry.centroid.x < 0, "community_id"] == OUTSIDE_ID).all()


def test_osm_boundaries_or_empty(chengdu_pbf):
    c = communities_from_osm(chengdu_pbf)
    assert list(c.columns[:2]) == ["community_id", "community_name"]
    if len(c):
        assert c.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()


def test_community_layer_checks(tmp_path, demo_region):
    """Metres read as degrees, overlaps and layers that miss the study area are said plainly."""
    import json

    import care15
    from care15.communities import community_report

    # a GeoJSON in metres without a CRS: read as WGS-84 by the GeoJSON rules, refused
    feat = {"type": "Feature", "properties": {"name": "甲社区"},
            "geometry": {"type": "Polygon", "coordinates": [[[500000, 3300000], [501000, 3300000],
                                                             [501000, 3301000], [500000, 3300000]]]}}
    p = tmp_path / "metres.geojson"
    p.write_text(json.dumps({"type": "FeatureCollection", "features": [feat]}), encoding="utf-8")
    with pytest.raises(InputError, match="look like metres"):
        communities_from_file(p)
    # two overlapping halves of the demo area: residents in the overlap are counted
    cells = demo_region.cells
    w, s_, e, n = cells.to_crs(4326).total_bounds
    mid = (w + e) / 2
    halves = gpd.GeoDataFrame({"community_id": ["a", "b"], "community_name": ["西", "东"]},
                              geometry=[shapely.box(w - 1, s_ - 1, mid + (e - w) / 4, n + 1),
                                        shapely.box(mid - (e - w) / 4, s_ - 1, e + 1, n + 1)],
                              crs=4326)
    rep = community_report(cells, halves)
    assert rep["overlapping_pairs"] == 1 and 0 < rep["residents_in_overlaps"] < rep["residents"]
    assert rep["residents_inside"] == pytest.approx(rep["residents"])
    halves.to_file(tmp_path / "halves.geojson")
    sc = care15.demo_scenario(inputs__communities=tmp_path / "halves.geojson")
    region = care15.region_from_scenario(sc)
    assert any("pairs of communities in halves.geojson overlap" in x for x in region.notes)
    # communities somewhere else entirely: refused, naming the flag
    far = halves.assign(geometry=halves.translate(xoff=60))
    far.to_file(tmp_path / "far.geojson")
    with pytest.raises(InputError, match=r"\(--communities\): none of its 2 communities"):
        care15.region_from_scenario(care15.demo_scenario(inputs__communities=tmp_path /
                                                         "far.geojson"))
