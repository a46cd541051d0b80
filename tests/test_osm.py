"""The walking rule (one definition for PBF, XML and Overpass) on hand-made tags and real files."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from conftest import shared_file

from care15.sources import osm
from care15.sources.osm import (
    WALK_RULE,
    network_from_pbf,
    network_from_xml,
    walk_reasons,
    walkable_mask,
)

# (tags, walkable, reason)
CASES = [
    ({"highway": "residential"}, True, ""),
    ({"highway": "trunk"}, True, ""),  # Chinese urban arterials: walkable as in osmnx
    ({"highway": "trunk_link"}, True, ""),
    ({"highway": "motorway"}, False, "highway"),
    ({"highway": "motorway_link", "foot": "yes"}, False, "highway"),
    ({"highway": "construction"}, False, "highway"),
    ({"highway": None}, False, "highway"),
    ({"highway": "pedestrian", "area": "yes"}, False, "area"),
    ({"highway": "footway", "foot": "no"}, False, "foot"),
    ({"highway": "service", "access": "private"}, False, "access"),
    ({"highway": "service", "access": "no"}, False, "access"),
    ({"highway": "service", "access": "private", "foot": "yes"}, True, ""),
    ({"highway": "service", "access": "no", "foot": "designated"}, True, ""),
    ({"highway": "service", "service": "private"}, False, "access"),
    ({"highway": "service", "access": "customers"}, True, ""),
    ({"highway": "primary", "motorroad": "yes"}, False, "motorroad"),
    ({"highway": "trunk", "motorroad": "yes"}, False, "motorroad"),
    ({"highway": "trunk", "sidewalk": "no"}, False, "sidewalk"),
    ({"highway": "trunk", "sidewalk": "none"}, False, "sidewalk"),
    ({"highway": "primary", "sidewalk:both": "no"}, False, "sidewalk"),
    ({"highway": "primary_link", "sidewalk:left": "no", "sidewalk:right": "none"}, False,
     "sidewalk"),
    ({"highway": "primary", "sidewalk:left": "no", "sidewalk:right": "yes"}, True, ""),
    ({"highway": "trunk", "sidewalk": "no", "foot": "yes"}, True, ""),
    ({"highway": "secondary", "sidewalk": "no"}, True, ""),  # only trunk/primary need one
    ({"highway": "trunk", "sidewalk": "both"}, True, ""),
    ({"highway": "primary", "sidewalk": "separate"}, False, "separate sidewalk"),
    ({"highway": "residential", "sidewalk:right": "separate"}, False, "separate sidewalk"),
    ({"highway": "cycleway"}, False, "cycleway"),
    ({"highway": "cycleway", "foot": "yes"}, True, ""),
    ({"highway": "cycleway", "foot": "designated"}, True, ""),
    ({"highway": "cycleway", "foot": "no"}, False, "foot"),
    ({"highway": "Trunk ", "Sidewalk": "x"}, True, ""),  # values are trimmed and lower-cased
    ({"highway": "steps"}, True, ""),
    ({"highway": "corridor"}, True, ""),  # walkable; not an entry point (see entry classes)
]


def _frame(cases):
    return pd.DataFrame([c[0] for c in cases])


def test_walk_rule_cases():
    df = _frame(CASES)
    got = walkable_mask(df)
    why = walk_reasons(df)
    for (tags, ok, reason), g, w in zip(CASES, got, why, strict=True):
        assert bool(g) == ok, tags
        assert w == reason, tags


def test_walk_rule_reads_pyrosm_json_and_osmnx_lists():
    df = pd.DataFrame({"highway": ["service", "trunk", ["trunk", "primary"], "footway"],
                       "foot": [None, None, None, None],
                       "tags": ['{"access":"private"}', '{"sidewalk":"no","name":"深南大道"}',
                                None, "not json"]})
    assert list(walkable_mask(df)) == [False, False, True, True]


def test_walk_rule_is_documented_and_cached_on_it():
    for words in ("trunk", "motorroad=yes", "foot=yes|designated", "sidewalk=no|none",
                  "access=no|private", "cycleway"):
        assert words in WALK_RULE
    assert WALK_RULE in osm.__doc__
    assert "motorway" in osm.OVERPASS_WALK_FILTER and "trunk" not in osm.OVERPASS_WALK_FILTER
    # every tag the rule reads is kept by osmnx while reading XML
    import osmnx as ox

    before = list(ox.settings.useful_tags_way)
    with osm._way_tags():
        assert set(osm.WAY_TAGS) <= set(ox.settings.useful_tags_way)
    assert ox.settings.useful_tags_way == before


def test_cache_version_bumped():
    from care15.cache import WALK_FILTER_VERSION

    assert WALK_FILTER_VERSION >= 2


@pytest.mark.parametrize("name", ["cn_shenzhen_longgang_2019", "cn_jiangxi_yingtan_2025",
                                  "cn_shanghai_jingan_roads_osmnx_2026"])
def test_pbf_and_xml_readers_give_the_same_network(name):
    """One definition: the PBF (pyrosm) and XML (osmnx) twins give the same walking network
    (the OSMnx-saved Shanghai file lists streets once per direction; pyrosm repeats them)."""
    pbf = network_from_pbf(shared_file("osm", "cn", f"{name}.osm.pbf"))
    xml = network_from_xml(shared_file("osm", "cn", f"{name}.osm"))
    assert xml.n_nodes == pbf.n_nodes and xml.n_edges == pbf.n_edges
    assert xml.total_length_m == pytest.approx(pbf.total_length_m, rel=1e-9)
    np.testing.assert_array_equal(xml.node_id, pbf.node_id)
    np.testing.assert_array_equal(np.bincount(xml.edge_class, minlength=3),
                                  np.bincount(pbf.edge_class, minlength=3))


def test_longgang_walk_rule_on_real_ways():
    """Shenzhen Longgang: trunks in, motorways and cycleways without foot out, tunnels kept."""
    import pyrosm

    p = shared_file("osm", "cn", "cn_shenzhen_longgang_2019.osm.pbf")
    _, ways = pyrosm.OSM(str(p)).get_network(network_type="all", nodes=True)
    ok = walkable_mask(ways)
    hw = ways["highway"]
    assert ok[(hw == "trunk").to_numpy()].all() and (hw == "trunk").sum() > 10
    assert not ok[hw.str.startswith("motorway").to_numpy()].any()
    cyc = (hw == "cycleway").to_numpy()
    foot_ok = ways["foot"].isin(["yes", "designated", "permissive"]).to_numpy()
    assert cyc.sum() > 100 and ok[cyc & foot_ok].all() and not ok[cyc & ~foot_ok].any()
    net = network_from_pbf(p)
    assert (net.edge_class == 2).sum() > 0  # tunnels stay in the routing graph
    walk_m = ways.loc[ok, "length"].sum()
    assert net.total_length_m == pytest.approx(walk_m, rel=0.01)


def test_overpass_path_uses_the_same_rule(monkeypatch):
    """Downloads ask Overpass for a superset and apply walkable_mask on the kept tags."""
    import networkx as nx
    import osmnx as ox
    import shapely

    seen = {}

    def fake_graph_from_bbox(bbox, **kw):
        seen.update(kw, tags=list(ox.settings.useful_tags_way))
        G = nx.MultiDiGraph(crs="EPSG:4326")
        for n, (x, y) in enumerate([(114.0, 22.0), (114.001, 22.0), (114.002, 22.0),
                                    (114.003, 22.0)]):
            G.add_node(n, x=x, y=y)

        def edge(u, v, **tags):
            geom = shapely.LineString([(G.nodes[u]["x"], G.nodes[u]["y"]),
                                       (G.nodes[v]["x"], G.nodes[v]["y"])])
            for a, b in ((u, v), (v, u)):
                G.add_edge(a, b, geometry=geom, length=100.0, osmid=u * 10 + v, **tags)

        edge(0, 1, highway="trunk")
        edge(1, 2, highway="trunk", sidewalk="no")  # dropped by the rule
        edge(2, 3, highway="footway", tunnel="yes")
        return G

    monkeypatch.setattr(ox, "graph_from_bbox", fake_graph_from_bbox)
    net = osm.network_from_bbox((114.0, 22.0, 114.01, 22.01))
    assert seen["custom_filter"] == osm.OVERPASS_WALK_FILTER and seen["simplify"] is False
    assert seen["network_type"] == "walk"
    assert set(osm.WAY_TAGS) <= set(seen["tags"])
    assert net.n_edges == 2 and sorted(net.edge_class.tolist()) == [0, 2]


def test_walk_rule_text_names_every_excluded_highway_value():
    for v in osm.NOT_WALKABLE_HIGHWAY:
        assert f"``{v}``" in WALK_RULE
