"""Population grids from rasters, vector layers and OSM; totals conserved at every step."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import rasterio
import shapely
from rasterio.transform import from_origin

from care15._errors import DataWarning, InputError
from care15.scenario import Shares
from care15.sources.population import (
    grid_cells,
    population_from_osm,
    population_from_raster,
    population_from_vector,
)

UTM48 = "EPSG:32648"  # Chengdu


def _tif(path, data, *, crs="EPSG:4326", nodata=-99999.0, x0=104.05, y0=30.70, res=0.001):
    with rasterio.open(path, "w", driver="GTiff", height=data.shape[0], width=data.shape[1],
                       count=1, dtype="float32", crs=crs, nodata=nodata,
                       transform=from_origin(x0, y0, res, res)) as dst:
        dst.write(data.astype("float32"), 1)
    return path


def test_raster_conserves_totals(tmp_path):
    rng = np.random.default_rng(0)
    data = rng.gamma(2.0, 30.0, (40, 50))
    data[5, 5] = -99999.0  # nodata
    p = _tif(tmp_path / "worldpop.tif", data)
    total = data[data >= 0].sum()
    cells = population_from_raster(p, crs=UTM48, cell_size_m=100)
    rep = cells.attrs["report"]
    assert rep["pop_read"] == pytest.approx(total, rel=1e-6)
    assert cells["pop_total"].sum() == pytest.approx(total, rel=1e-6)  # far inside 0.1%
    assert cells["pop_60plus"].sum() == pytest.approx(total * Shares().share_60plus, rel=1e-6)
    assert (cells["pop_method"] == "raster").all() and cells.crs.to_epsg() == 32648
    # clipped to a study area: what lies outside is reported, grid + outside = read
    b = cells.total_bounds
    half = (b[0], b[1], (b[0] + b[2]) / 2, b[3])
    part = population_from_raster(p, crs=UTM48, cell_size_m=100, bounds=half)
    r2 = part.attrs["report"]
    assert 0 < part["pop_total"].sum() < total
    assert part["pop_total"].sum() + r2["pop_outside_area"] == pytest.approx(r2["pop_read"],
                                                                             rel=1e-9)


def test_raster_bad_inputs(tmp_path):
    data = np.ones((4, 4))
    data[2, 3] = -5
    with pytest.raises(InputError, match=r"negative population.*row 2, column 3"):
        population_from_raster(_tif(tmp_path / "neg.tif", data), crs=UTM48)
    with pytest.raises(InputError, match="not found"):
        population_from_raster(tmp_path / "none.tif", crs=UTM48)
    (tmp_path / "junk.tif").write_bytes(b"not a tiff")
    with pytest.raises(InputError, match="not a readable raster"):
        population_from_raster(tmp_path / "junk.tif", crs=UTM48)
    with rasterio.open(tmp_path / "nocrs.tif", "w", driver="GTiff", height=2, width=2, count=1,
                       dtype="float32") as dst:
        dst.write(np.ones((1, 2, 2), "float32"))
    with pytest.raises(InputError, match="no CRS"):
        population_from_raster(tmp_path / "nocrs.tif", crs=UTM48)


def _blocks(n=30, seed=1):
    rng = np.random.default_rng(seed)
    x = 104.05 + rng.uniform(0, 0.03, n)
    y = 30.65 + rng.uniform(0, 0.03, n)
    geom = [shapely.box(a, b, a + rng.uniform(0.001, 0.004), b + rng.uniform(0.001, 0.004))
            for a, b in zip(x, y, strict=True)]
    pop = rng.integers(100, 5000, n).astype(float)
    return gpd.GeoDataFrame({"人口": pop, "60岁以上": np.round(pop * 0.2),
                             "pop_0to3": np.round(pop * 0.03)}, geometry=geom, crs=4326)


def test_vector_by_area_conserves_every_group(tmp_path):
    g = _blocks()
    p = tmp_path / "blocks.gpkg"
    g.to_file(p)
    cells = population_from_vector(p, column="人口", crs=UTM48, cell_size_m=100)
    for col, src in (("pop_total", "人口"), ("pop_60plus", "60岁以上"), ("pop_0to3", "pop_0to3")):
        assert cells[col].sum() == pytest.approx(g[src].sum(), rel=1e-9)
    assert cells.attrs["report"]["age_groups_from"] == "columns"
    # a single block spreads by area: a cell fully inside holds area share of its residents
    one = g.iloc[[0]].copy()
    c1 = population_from_vector(one, column="人口", crs=UTM48, cell_size_m=100)
    a = one.to_crs(UTM48).area.item()
    assert c1["pop_total"].max() <= one["人口"].item() * min(1.0, 10_000 / a) * 1.0001


def test_vector_by_building_floor_area(tmp_path):
    blk = gpd.GeoDataFrame({"pop": [1000.0, 400.0]},
                           geometry=[shapely.box(0, 0, 400, 400), shapely.box(400, 0, 800, 400)],
                           crs=UTM48)
    bld = gpd.GeoDataFrame({"floor_area_m2": [3000.0, 1000.0]},
                           geometry=[shapely.box(10, 10, 40, 40), shapely.box(210, 210, 240, 240)],
                           crs=UTM48)
    cells = population_from_vector(blk, column="pop", crs=UTM48, cell_size_m=100,
                                   weight="buildings", buildings=bld)
    assert cells["pop_total"].sum() == pytest.approx(1400.0)
    by_id = dict(zip(cells["cell_id"], cells["pop_total"], strict=True))
    assert by_id["0_0"] == pytest.approx(750.0) and by_id["2_2"] == pytest.approx(250.0)
    # the second block has no building: spread by area over its 16 cells
    assert by_id["4_0"] == pytest.approx(400.0 / 16)


def test_vector_points_and_bad_rows(tmp_path):
    pts = gpd.GeoDataFrame({"pop": [10.0, np.nan, 30.0]},
                           geometry=shapely.points([[0, 0], [150, 150], [250, 50]]), crs=UTM48)
    with pytest.warns(DataWarning, match=r"rows \[2\]"):
        cells = population_from_vector(pts, column="pop", crs=UTM48)
    assert cells["pop_total"].sum() == pytest.approx(40.0)
    with pytest.raises(InputError, match=r"column 'people' not found.*pop"):
        population_from_vector(pts, column="people", crs=UTM48)
    neg = pts.assign(pop=[1.0, -2.0, 3.0])
    with pytest.raises(InputError, match=r"negative in rows \[2\]"):
        population_from_vector(neg, column="pop", crs=UTM48)
    bow = gpd.GeoDataFrame({"pop": [100.0]}, crs=UTM48,
                           geometry=[shapely.Polygon([(0, 0), (200, 200), (200, 0), (0, 200)])])
    with pytest.warns(DataWarning, match="invalid"):
        c = population_from_vector(bow, column="pop", crs=UTM48)
    assert c["pop_total"].sum() == pytest.approx(100.0)
    with pytest.raises(InputError, match="empty"):
        population_from_vector(pts.iloc[:0], column="pop", crs=UTM48)
    with pytest.raises(InputError, match="no CRS"):
        population_from_vector(pts.set_crs(None, allow_override=True), column="pop", crs=UTM48)


@pytest.mark.parametrize("name", ["cn_chengdu_center_2018.osm.pbf",
                                  "cn_beijing_haidian_cau_2026.osm.pbf"])
def test_osm_estimate_conserves_the_total(name):
    from conftest import shared_file

    from care15.sources.osm import network_from_pbf

    p = shared_file("osm", "cn", name)
    net = network_from_pbf(p)
    cells = population_from_osm(p, total_population=123_456, crs=net.crs, bounds=net.bounds)
    rep = cells.attrs["report"]
    assert cells["pop_total"].sum() == pytest.approx(123_456, rel=1e-9)
    bm = rep["by_method"]
    assert sum(v["population"] for v in bm.values()) == pytest.approx(123_456, rel=1e-9)
    assert set(cells["pop_method"]) <= {"buildings", "landuse", "streets"}
    # sparse Chinese OSM: the fallbacks carry residents too
    assert bm["landuse"]["population"] + bm["streets"]["population"] > 0
    assert bm["buildings"]["cells"] > 0


def test_osm_estimate_helsinki_and_errors(helsinki_pbf, helsinki_net):
    cells = population_from_osm(helsinki_pbf, total_population=20_000, crs=helsinki_net.crs,
                                bounds=helsinki_net.bounds)
    assert cells["pop_total"].sum() == pytest.approx(20_000)
    assert cells.attrs["report"]["by_method"]["buildings"]["share_of_population"] > 0.3
    with pytest.raises(InputError, match="positive"):
        population_from_osm(helsinki_pbf, total_population=0, crs=helsinki_net.crs)


def test_grid_alignment():
    g = grid_cells((150, 50, 420, 260), 100, UTM48)
    assert len(g) == 4 * 3 and g["cell_id"].iloc[0] == "1_0"
    x0, y0, _, _ = g.total_bounds
    assert (x0, y0) == (100, 0)


def test_layer_sources_report_their_densest_cell():
    # a point carrying a whole district's 5,000 residents: kept (the planner's data), but said
    pts = gpd.GeoDataFrame({"pop": [5000.0, 300.0]},
                           geometry=shapely.points([[50, 50], [250, 50]]), crs=UTM48)
    rep = population_from_vector(pts, column="pop", crs=UTM48).attrs["report"]
    assert rep["densest_cell_residents"] == pytest.approx(5000)
    assert rep["densest_cell_per_ha"] == pytest.approx(5000) and rep["ceiling_per_ha"] == 1500
    assert rep["densest_cell_implausible"] is True
    assert "5,000 per ha" in rep["warning"] and rep["warning"] in rep["notes"]
    # 200 m cells: 5,000 residents on 4 ha is plausible
    rep2 = population_from_vector(pts, column="pop", crs=UTM48,
                                  cell_size_m=200).attrs["report"]
    assert rep2["densest_cell_per_ha"] == pytest.approx(5000 / 4)
    assert rep2["warning"] is None and rep2["densest_cell_implausible"] is False


def test_raster_reports_its_densest_cell(tmp_path):
    data = np.full((10, 10), 20.0)
    cells = population_from_raster(_tif(tmp_path / "flat.tif", data), crs=UTM48)
    rep = cells.attrs["report"]
    assert rep["densest_cell_residents"] == pytest.approx(cells["pop_total"].max())
    assert rep["warning"] is None and rep["notes"][0].startswith("Densest cell:")
