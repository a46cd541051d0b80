"""The OSM estimate's capacities: floor area ÷ housing per person, a ceiling per hectare,
overflow to the next method, and totals conserved to the last bit.

Hand-made cases whose answer is obvious: arrays for the water-filling itself, and a small OSM
file laid out on the UTM 48N lattice (one apartment block, three hectares of residential land
use, a residential street through three cells).
"""

from __future__ import annotations

import json

import numpy as np
import pyproj
import pytest

from care15.sources.population import _allocate, _water_fill, population_from_osm

UTM48 = "EPSG:32648"
X0, Y0 = 400_000.0, 3_390_000.0  # a 100 m lattice corner near Chengdu


# --------------------------------------------------------------------------------------------
# water-filling and the cascade, on arrays
# --------------------------------------------------------------------------------------------

def test_water_fill_caps_and_shares_the_rest():
    w = np.array([1.0, 1.0, 1.0, 1.0])
    c = np.array([10.0, 100.0, 100.0, 100.0])
    # 25 each would put 25 on a cell that holds 10: the other three share the 15
    assert _water_fill(100.0, w, c) == pytest.approx([10, 30, 30, 30])
    # below every capacity: plain proportional
    assert _water_fill(20.0, np.array([1.0, 3.0]), np.array([50.0, 50.0])) == \
        pytest.approx([5, 15])
    # two levels of saturation
    x = _water_fill(250.0, np.array([4.0, 2.0, 1.0, 1.0]), np.array([40.0, 70.0, 200.0, 200.0]))
    assert x == pytest.approx([40, 70, 70, 70])
    # more than fits: every cell full (the caller places the rest)
    assert _water_fill(1e6, w, c) == pytest.approx(c)
    # zero weight gets nothing
    assert _water_fill(5.0, np.array([0.0, 1.0]), np.array([10.0, 10.0])) == pytest.approx([0, 5])


def test_water_fill_large_random_is_exact_and_capped():
    rng = np.random.default_rng(3)
    w = rng.gamma(0.5, 1.0, 100_000)
    c = rng.uniform(1, 1500, 100_000)
    x = _water_fill(0.7 * c.sum(), w, c)
    assert x.sum() == pytest.approx(0.7 * c.sum(), rel=1e-12)
    assert (x <= c * (1 + 1e-12)).all()
    # one level: every cell below capacity holds level × weight
    free = x < c * (1 - 1e-9)
    level = x[free] / w[free]
    assert level.max() == pytest.approx(level.min(), rel=1e-9)
    assert (c[~free] / w[~free] <= level.max() * (1 + 1e-9)).all()


def test_cascade_buildings_to_landuse_to_streets():
    # tiers 0 buildings, 1 land use, 2 streets; equal weights, total 900 → 300 per method
    w = np.array([1.0, 1.0, 1.0])
    tier = np.array([0, 1, 2])
    x, flow = _allocate(900.0, w, np.array([100.0, 1000.0, 1000.0]), tier)
    assert x.tolist() == [100.0, 500.0, 300.0]  # 200 moved from buildings to land use
    assert flow["moved"] == [200.0, 0.0, 0.0] and flow["received"] == [0.0, 200.0, 0.0]
    x, flow = _allocate(900.0, w, np.array([100.0, 250.0, 1000.0]), tier)
    assert x.tolist() == [100.0, 250.0, 550.0]  # and on to the streets
    assert flow["moved"] == [200.0, 250.0, 0.0] and flow["over"] == 0
    # the streets cannot hold their share: spare capacity of the other methods, by weight
    x, flow = _allocate(900.0, w, np.array([1000.0, 1000.0, 100.0]), tier)
    assert x.tolist() == [400.0, 400.0, 100.0]
    assert flow["moved"] == [0.0, 0.0, 200.0] and flow["spare"] == 200.0
    # nothing fits: proportional to capacity, the excess reported
    x, flow = _allocate(900.0, w, np.array([100.0, 200.0, 300.0]), tier)
    assert x.tolist() == [150.0, 300.0, 450.0] and flow["over"] == 300.0
    # a method without cells passes on what it receives
    x, flow = _allocate(600.0, np.array([1.0, 1.0]), np.array([100.0, 1000.0]),
                        np.array([0, 2]))
    assert x.tolist() == [100.0, 500.0] and flow["moved"] == [200.0, 200.0, 0.0]


@pytest.mark.parametrize("total", [1.0, 123_456.0, 4_140_304.0, 9_999_999.0, 1234.5678])
def test_cascade_conserves_the_total_to_the_bit(total):
    rng = np.random.default_rng(int(total) % 97)
    n = 20_000
    w = rng.gamma(1.0, 1.0, n)
    c = rng.uniform(1, 1500, n)
    tier = rng.integers(0, 3, n)
    x, flow = _allocate(total, w, c, tier)
    assert float(x.sum()) == total and float(np.add.reduce(x.tolist())) == total
    import pandas as pd

    assert float(pd.Series(x).sum()) == total
    if flow["over"] == 0:
        assert (x <= c).all()


# --------------------------------------------------------------------------------------------
# a hand-made OSM file
# --------------------------------------------------------------------------------------------

def _osm(path, ways):
    """Write an OSM XML file of closed or open ways given in UTM 48N metres."""
    to_ll = pyproj.Transformer.from_crs(UTM48, 4326, always_xy=True)
    nodes, out = [], []
    for wid, (coords, tags) in enumerate(ways, start=1000):
        refs = []
        for x, y in coords:
            if refs and (x, y) == coords[0] and len(coords) > 2:
                refs.append(refs[0])
                continue
            lon, lat = to_ll.transform(x, y)
            nodes.append(f'<node id="{len(nodes) + 1}" lat="{lat:.9f}" lon="{lon:.9f}" '
                         'version="1"/>')
            refs.append(len(nodes))
        nds = "".join(f'<nd ref="{r}"/>' for r in refs)
        tg = "".join(f'<tag k="{k}" v="{v}"/>' for k, v in tags.items())
        out.append(f'<way id="{wid}" version="1">{nds}{tg}</way>')
    path.write_text("<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n"
                    + "\n".join(nodes + out) + "\n</osm>\n", encoding="utf-8")
    return path


def _box(x0, y0, x1, y1):
    return [(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]


@pytest.fixture(scope="module")
def block_town(tmp_path_factory):
    """Cell (0, 0): a 4-storey apartment block of 50 × 40 m (8,000 m² of floor area, houses
    219 at 36.52 m²). Cells (1..3, 0): residential land use filling them but a metre at the
    edges (no slivers in the neighbours after the round trip through degrees): 0.9702, 0.98
    and 0.9702 ha. Cells (0..2, 2): a residential street, 95 + 100 + 95 m."""
    p = tmp_path_factory.mktemp("osm") / "block_town.osm"
    return _osm(p, [
        (_box(X0 + 20, Y0 + 30, X0 + 70, Y0 + 70),
         {"building": "apartments", "building:levels": "4"}),
        (_box(X0 + 101, Y0 + 1, X0 + 399, Y0 + 99), {"landuse": "residential"}),
        ([(X0 + 5, Y0 + 250), (X0 + 295, Y0 + 250)], {"highway": "residential"}),
    ])


def _by_cell(cells):
    return dict(zip(cells["cell_id"], cells["pop_total"], strict=True))


def _ids():
    i0, j0 = int(X0 // 100), int(Y0 // 100)
    return (f"{i0}_{j0}", [f"{i0 + k}_{j0}" for k in (1, 2, 3)],
            [f"{i0 + k}_{j0 + 2}" for k in (0, 1, 2)])


def test_building_cap_binds_and_overflow_goes_to_land_use(block_town):
    b_id, land_ids, street_ids = _ids()
    # without a binding capacity (1 m² per person): plain proportional weighting
    free = population_from_osm(block_town, total_population=5000, crs=UTM48,
                               floor_m2_per_resident=1.0)
    f = _by_cell(free)
    assert set(f) == {b_id, *land_ids, *street_ids}
    assert free.attrs["report"]["capped_cells"] == 0
    cells = population_from_osm(block_town, total_population=5000, crs=UTM48)
    rep = cells.attrs["report"]
    c = _by_cell(cells)
    floor = rep["residential_floor_area_m2"]
    assert floor == pytest.approx(8000, rel=1e-4)
    cap_b = floor / 36.52
    assert c[b_id] == pytest.approx(cap_b, abs=2e-3)  # the block holds what it can house
    moved = f[b_id] - cap_b
    assert rep["moved_to_next_method"]["buildings"] == pytest.approx(moved, abs=2e-3)
    assert rep["moved_to_next_method"]["landuse"] == 0
    f_land = sum(f[k] for k in land_ids)
    for k in land_ids:  # land use takes the overflow by its weight (area)
        assert c[k] == pytest.approx(f[k] * (f_land + moved) / f_land, abs=2e-3)
    for k in street_ids:  # the streets are untouched
        assert c[k] == pytest.approx(f[k], abs=2e-3)
    assert float(cells["pop_total"].sum()) == 5000.0
    assert cells["pop_60plus"].sum() == pytest.approx(5000 * 0.187)
    assert cells["pop_0to3"].sum() == pytest.approx(5000 * 0.03)
    bm = rep["by_method"]
    assert bm["buildings"]["capped_cells"] == 1 and rep["capped_cells"] == 1
    assert bm["buildings"]["capacity"] == pytest.approx(cap_b)
    assert bm["landuse"]["received_from_previous"] == pytest.approx(moved, abs=2e-3)
    assert bm["landuse"]["capacity"] == pytest.approx(1500 * (0.9702 + 0.98 + 0.9702), rel=1e-5)
    assert bm["streets"]["capacity"] == 4500
    assert sum(v["population"] for v in bm.values()) == pytest.approx(5000)
    assert rep["ceiling_per_cell"] == 1500 and rep["ceiling_per_ha"] == 1500
    assert not rep["ceiling_exceeded"] and rep["warning"] is None
    assert rep["densest_cell_residents"] == pytest.approx(max(c.values()))
    assert rep["densest_cell_per_ha"] == pytest.approx(max(c.values()))
    assert rep["densest_cell_method"] == "landuse"
    assert rep["densest_cell_proportional_residents"] == pytest.approx(max(f.values()))
    assert any("Mapped residential buildings" in n and "219 residents" in n
               for n in rep["notes"])
    json.dumps(rep)  # summary.json carries it


def test_land_use_full_overflow_goes_to_streets(block_town):
    b_id, land_ids, street_ids = _ids()
    cells = population_from_osm(block_town, total_population=8800, crs=UTM48,
                                capacity_column=True)
    rep = cells.attrs["report"]
    c = _by_cell(cells)
    cap_b = rep["residential_floor_area_m2"] / 36.52
    assert c[b_id] == pytest.approx(cap_b, abs=2e-3)
    cap = dict(zip(cells["cell_id"], cells["pop_capacity"], strict=True))
    for k, ha in zip(land_ids, (0.9702, 0.98, 0.9702), strict=True):
        assert cap[k] == pytest.approx(1500 * ha, rel=1e-5)
        assert c[k] == pytest.approx(cap[k], abs=2e-3)  # land use full: 1,500 per hectare
    cap_l = rep["by_method"]["landuse"]["capacity"]
    streets = np.array([c[k] for k in street_ids])
    assert streets.sum() == pytest.approx(8800 - cap_b - cap_l, abs=5e-3)
    assert streets / streets.sum() == pytest.approx(np.array([95, 100, 95]) / 290, rel=1e-4)
    assert rep["moved_to_next_method"]["landuse"] > 0
    assert rep["by_method"]["streets"]["received_from_previous"] == \
        pytest.approx(rep["moved_to_next_method"]["landuse"])
    assert max(c.values()) <= 1500 and float(cells["pop_total"].sum()) == 8800.0
    assert any("exceeds what mapped residential buildings and land use can house" in n
               for n in rep["notes"])
    assert rep["capped_cells"] == 4 and rep["warning"] is None
    # 200 more: the 100 m street cell would pass 1,500; it stops there, the others share
    more = _by_cell(population_from_osm(block_town, total_population=9000, crs=UTM48))
    assert more[street_ids[1]] == pytest.approx(1500, abs=2e-3)
    assert more[street_ids[0]] == pytest.approx(more[street_ids[2]], abs=2e-3)
    assert more[street_ids[0]] == pytest.approx((9000 - cap_b - cap_l - 1500) / 2, abs=5e-3)


def test_total_beyond_every_ceiling_is_placed_and_said(block_town):
    cells = population_from_osm(block_town, total_population=20_000, crs=UTM48,
                                capacity_column=True)
    rep = cells.attrs["report"]
    cap = rep["capacity_residents"]
    assert cap == pytest.approx(8000 / 36.52 + 1500 * 2.9204 + 4500, rel=1e-4)
    assert float(cells["pop_total"].sum()) == 20_000.0
    assert rep["ceiling_exceeded"] is True
    assert rep["residents_over_capacity"] == pytest.approx(20_000 - cap)
    # proportional to capacity: every cell holds the same multiple of it
    ratio = cells["pop_total"] / cells["pop_capacity"]
    assert ratio.to_numpy() == pytest.approx(20_000 / cap, rel=1e-6)
    assert rep["densest_cell_per_ha"] == pytest.approx(1500 * 20_000 / cap, rel=1e-6)
    assert rep["densest_cell_implausible"] is True
    assert "above the ceiling of 1,500 per ha" in rep["warning"]
    assert f"{20_000 - cap:,.0f}" in rep["warning"]
    assert rep["warning"] in rep["notes"]


def test_ceiling_and_floor_area_can_be_set(block_town):
    # 镇 households' 42.29 m² and a 400 per ha ceiling: 189 + 1,168 + 1,200 fit 2,500
    cells = population_from_osm(block_town, total_population=2500, crs=UTM48,
                                max_residents_per_ha=400, floor_m2_per_resident=42.29)
    rep = cells.attrs["report"]
    assert cells["pop_total"].max() <= 400 and float(cells["pop_total"].sum()) == 2500.0
    assert rep["ceiling_per_cell"] == 400 and rep["floor_m2_per_resident"] == 42.29
    assert rep["by_method"]["buildings"]["capacity"] == pytest.approx(8000 / 42.29, rel=1e-4)
    assert not rep["ceiling_exceeded"]
    # 200 m cells: the ceiling scales with the cell's hectares
    big = population_from_osm(block_town, total_population=3000, crs=UTM48, cell_size_m=200)
    assert big.attrs["report"]["ceiling_per_cell"] == 6000
    with pytest.raises(Exception, match="positive"):
        population_from_osm(block_town, total_population=3000, crs=UTM48,
                             max_residents_per_ha=0)
    # the capacity column only on request: exported tables document a fixed set of columns
    assert "pop_capacity" not in big.columns


def test_only_buildings_over_their_floor_area_is_said(tmp_path):
    # one 8,000 m² block houses 219; 400 residents stay below 1,500 per ha, but not below the
    # floor area: said all the same
    p = _osm(tmp_path / "block.osm", [(_box(X0 + 20, Y0 + 30, X0 + 70, Y0 + 70),
                                       {"building": "apartments", "building:levels": "4"})])
    cells = population_from_osm(p, total_population=400, crs=UTM48)
    rep = cells.attrs["report"]
    assert float(cells["pop_total"].sum()) == 400.0 and len(cells) == 1
    assert rep["ceiling_exceeded"] is True and rep["densest_cell_implausible"] is False
    assert rep["residents_over_capacity"] == pytest.approx(400 - 8000 / 36.52, rel=1e-4)
    assert rep["warning"].startswith("Overcrowded estimate: every cell holds 1.83 times")
