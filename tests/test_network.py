"""WalkNetwork from every kind of OSM file, snapping to edges, and bad OSM input."""

from __future__ import annotations

import bz2

import numpy as np
import pytest
import shapely
from conftest import shared_file
from helpers import line_net

from care15._errors import InputError
from care15.sources.osm import network_from_file, network_from_pbf, network_from_xml


def _check(net, min_nodes):
    assert net.n_nodes >= min_nodes
    assert net.crs.is_projected and "UTM" in net.crs.name
    assert np.isfinite(net.x).all() and np.isfinite(net.y).all()
    assert (net.edge_length_m >= 0).all()
    # edges run from u to v: first vertex at node u, last at node v
    first = shapely.get_coordinates(shapely.get_point(net.edge_geometry, 0))
    last = shapely.get_coordinates(shapely.get_point(net.edge_geometry, -1))
    np.testing.assert_allclose(first, np.c_[net.x[net.edge_u], net.y[net.edge_u]], atol=1e-6)
    np.testing.assert_allclose(last, np.c_[net.x[net.edge_v], net.y[net.edge_v]], atol=1e-6)
    assert (net.csr != net.csr.T).nnz == 0  # undirected
    summ = net.components_summary()
    assert summ["n_nodes"].sum() == net.n_nodes and summ["n_nodes"].is_monotonic_decreasing


def test_helsinki_pbf(helsinki_net):
    _check(helsinki_net, 5000)
    assert helsinki_net.crs.to_epsg() == 32635
    assert 80_000 < helsinki_net.total_length_m < 100_000


def test_chengdu_pbf_and_xml_agree(chengdu_net):
    _check(chengdu_net, 8000)
    assert chengdu_net.crs.to_epsg() == 32648
    xml = network_from_xml(shared_file("osm", "cn", "cn_chengdu_center_2018.osm"))
    _check(xml, 3000)  # osmnx simplifies interstitial nodes away
    assert xml.total_length_m == pytest.approx(chengdu_net.total_length_m, rel=0.01)


def test_beijing_pbf():
    net = network_from_pbf(shared_file("osm", "cn", "cn_beijing_haidian_cau_2026.osm.pbf"))
    _check(net, 1000)
    assert net.crs.to_epsg() == 32650


def test_shanghai_osmnx_saved_xml():
    net = network_from_file(shared_file("osm", "cn", "cn_shanghai_jingan_roads_osmnx_2026.osm"))
    _check(net, 500)
    assert net.crs.to_epsg() == 32651


def test_oakland_bz2_xml():
    net = network_from_file(shared_file("osm", "peers", "osmnx_West-Oakland.osm.bz2"))
    _check(net, 40)


def test_disconnected_pieces_reported_not_dropped():
    net = line_net({(1, 2): [(0, 0), (100, 0)], (3, 4): [(500, 500), (600, 500)],
                    (4, 5): [(600, 500), (700, 500)]})
    assert net.n_components == 2 and net.n_nodes == 5
    assert list(net.components_summary()["n_nodes"]) == [3, 2]
    assert net.component_of(net.snap(np.array([50.0]), np.array([5.0])))[0] == 1


def test_snap_to_edge_not_node():
    net = line_net({(1, 2): [(0, 0), (1000, 0)], (2, 3): [(1000, 0), (1000, 1000)]})
    s = net.snap(np.array([400.0, 1200.0]), np.array([30.0, 500.0]), max_access_m=100)
    assert s.edge[0] == 0 and s.along_m[0] == pytest.approx(400) and s.to_v_m[0] == pytest.approx(600)
    assert s.access_m[0] == pytest.approx(30)
    assert s.edge[1] == -1 and not s.ok[1]  # 200 m from any street: not attached


def test_missing_empty_and_wrong_files(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        network_from_pbf(tmp_path / "none.osm.pbf")
    empty = tmp_path / "empty.osm.pbf"
    empty.write_bytes(b"")
    with pytest.raises(InputError, match="empty"):
        network_from_pbf(empty)
    junk = tmp_path / "junk.osm.pbf"
    junk.write_bytes(b"this is not a pbf" * 100)
    with pytest.raises(InputError, match=r"junk\.osm\.pbf"):
        network_from_pbf(junk)
    bad_xml = tmp_path / "bad.osm"
    bad_xml.write_text("<osm><node", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.osm"):
        network_from_xml(bad_xml)
    with pytest.raises(InputError, match="unknown OSM file type"):
        network_from_file(tmp_path / "x.shp")


def test_osm_with_no_walkable_ways(tmp_path):
    # two nodes and a motorway only
    p = tmp_path / "motorway.osm"
    p.write_text("""<?xml version='1.0' encoding='UTF-8'?>
<osm version="0.6"><node id="1" lat="30.66" lon="104.06" version="1"/>
<node id="2" lat="30.67" lon="104.07" version="1"/>
<node id="3" lat="30.68" lon="104.07" version="1"/>
<way id="10" version="1"><nd ref="1"/><nd ref="2"/><tag k="highway" v="motorway"/></way>
<way id="11" version="1"><nd ref="2"/><nd ref="3"/><tag k="building" v="yes"/></way>
</osm>""", encoding="utf-8")
    with pytest.raises(InputError, match="no walkable ways"):
        network_from_xml(p)
    pbz = tmp_path / "motorway.osm.bz2"
    pbz.write_bytes(bz2.compress(p.read_bytes()))
    with pytest.raises(InputError, match="no walkable ways"):
        network_from_file(pbz)
