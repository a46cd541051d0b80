"""The OSM population estimate on real Chinese extracts: no cell above the ceiling, the total
conserved to the bit, and the densest cells that plain weighting produced (2,000 to 10,000
residents on one hectare) gone.

The extracts are ../shared/data/osm/cn (see SOURCES.md there); the tests skip with the reason
when that folder is absent. The totals are of the order of the areas' real populations and
fit under the ceilings; a larger one must be placed all the same and said.
"""

from __future__ import annotations

import pytest
from conftest import shared_file

from care15 import standards as std
from care15.sources.population import population_from_osm

CASES = [  # file, metric CRS (UTM zone), total residents
    ("cn_chengdu_center_2018.osm.pbf", "EPSG:32648", 300_000),
    ("cn_shenzhen_longgang_2019.osm.pbf", "EPSG:32650", 200_000),
    ("cn_fujian_ninghua_2024.osm", "EPSG:32650", 80_000),
]


@pytest.mark.parametrize(("name", "crs", "total"), CASES,
                         ids=[c[0].split(".")[0] for c in CASES])
def test_no_cell_above_the_ceiling_and_total_conserved(name, crs, total):
    p = shared_file("osm", "cn", name)
    cells = population_from_osm(p, total_population=total, crs=crs, capacity_column=True)
    rep = cells.attrs["report"]
    ceiling = std.get("max_residents_per_ha")  # 100 m cells: one hectare
    assert rep["ceiling_per_cell"] == ceiling
    assert float(cells["pop_total"].sum()) == total  # exactly, not approximately
    assert rep["pop_on_grid"] == total
    assert cells["pop_total"].max() <= ceiling
    assert (cells["pop_total"] <= cells["pop_capacity"]).all()
    assert not rep["ceiling_exceeded"] and rep["residents_over_capacity"] == 0
    assert rep["warning"] is None and not rep["densest_cell_implausible"]
    assert rep["densest_cell_per_ha"] <= ceiling
    # plain weighting put thousands on one hectare; the capacities moved them
    assert rep["densest_cell_proportional_residents"] > ceiling
    assert rep["capped_cells"] > 0
    bm = rep["by_method"]
    assert sum(v["population"] for v in bm.values()) == pytest.approx(total, rel=1e-12)
    assert sum(v["cells"] for v in bm.values()) == len(cells)
    for v in bm.values():
        assert v["population"] <= v["capacity"] * (1 + 1e-9)
    # age groups by the shares
    assert cells["pop_60plus"].sum() == pytest.approx(total * std.get("share_60plus"))
    assert cells["pop_0to3"].sum() == pytest.approx(total * std.get("share_0to3"))
    assert rep["notes"] and all(isinstance(n, str) for n in rep["notes"])
    assert any(n.startswith("Densest cell:") for n in rep["notes"])


def test_total_beyond_what_the_map_can_hold_is_said():
    p = shared_file("osm", "cn", "cn_shenzhen_longgang_2019.osm.pbf")
    cells = population_from_osm(p, total_population=500_000, crs="EPSG:32650",
                                capacity_column=True)
    rep = cells.attrs["report"]
    assert float(cells["pop_total"].sum()) == 500_000
    assert rep["ceiling_exceeded"] is True and rep["densest_cell_implausible"] is True
    over = 500_000 - rep["capacity_residents"]
    assert rep["residents_over_capacity"] == pytest.approx(over)
    assert rep["densest_cell_per_ha"] > std.get("max_residents_per_ha")
    assert "Implausible density" in rep["warning"] and f"{over:,.0f}" in rep["warning"]
    # in proportion to capacity: the same multiple everywhere
    factor = 500_000 / rep["capacity_residents"]
    assert cells["pop_total"].to_numpy() == pytest.approx(
        cells["pop_capacity"].to_numpy() * factor, abs=2e-3)
