"""The online path (osmnx by place name) end to end, with Overpass answered from a real file.

Tests cannot reach the internet, so osmnx's download functions are pointed at osmnx's own XML
reader on the Beijing Haidian extract: the same data Overpass would return for that area, read
by the same library. Everything after the download is the code planners run online.
"""

from __future__ import annotations

import osmnx as ox
import pytest
from conftest import shared_file

from care15.region import region_from_scenario
from care15.scenario import Area, Inputs, Scenario
from care15.sources.facilities import facilities_from_osm
from care15.sources.osm import features_online


@pytest.fixture
def overpass_from_file(monkeypatch):
    xml = shared_file("osm", "cn", "cn_beijing_haidian_cau_2026.osm")
    calls = []

    def features_from_place(place, tags):
        calls.append(("features", place))
        return ox.features_from_xml(xml, tags=tags)

    def graph_from_place(place, **kw):
        calls.append(("graph", place, kw.get("network_type")))
        return ox.graph_from_xml(xml, bidirectional=True, simplify=kw.get("simplify", True),
                                 retain_all=kw.get("retain_all", True))

    monkeypatch.setattr(ox, "features_from_place", features_from_place)
    monkeypatch.setattr(ox, "graph_from_place", graph_from_place)
    return xml, calls


def test_place_name_end_to_end(overpass_from_file):
    xml, calls = overpass_from_file
    place = "海淀区清河街道, 北京市"
    sc = Scenario(area=Area(name="清河", place=place), inputs=Inputs(total_population=30_000))
    region = region_from_scenario(sc)
    assert ("graph", place, "walk") in calls and ("features", place) in calls
    from care15.sources.osm import network_from_xml

    assert region.network.n_nodes == network_from_xml(xml).n_nodes
    # the same kindergartens as from the file
    assert sorted(region.facilities["facility_id"]) == sorted(facilities_from_osm(xml)["facility_id"])
    assert region.cells["pop_total"].sum() == pytest.approx(30_000)
    assert region.reports["population"]["source"] == f"place:{place}"


def test_unknown_online_source():
    from care15._errors import InputError

    with pytest.raises(InputError, match="unknown online OSM source"):
        features_online(("city", "x"), {"amenity": True})
