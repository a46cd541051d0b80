"""Isochrones follow the streets and include partly reached edges."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from helpers import line_net

from care15.access import nearest_facility
from care15.isochrones import (
    isochrone_polygon,
    isochrones,
    per_facility_isochrones,
    reached_segments,
)


@pytest.fixture
def cross_net():
    # a straight street 0..1000 m along x, and a far parallel street across a "river" (no link)
    return line_net({(1, 2): [(0, 0), (500, 0)], (2, 3): [(500, 0), (1000, 0)],
                     (4, 5): [(0, 300), (1000, 300)]})


def test_partly_reached_edges(cross_net):
    net = cross_net
    fac = net.snap(np.array([0.0]), np.array([0.0]))
    nd = nearest_facility(net, fac)
    segs = reached_segments(net, nd, 700.0)
    total = shapely.union_all(segs).length  # overlapping pieces (facility edge) count once
    assert total == pytest.approx(700.0)  # edge 1-2 whole, edge 2-3 first 200 m
    assert max(shapely.bounds(segs)[:, 2]) == pytest.approx(700.0)


def test_facility_mid_edge_reaches_both_ways(cross_net):
    net = cross_net
    fac = net.snap(np.array([250.0]), np.array([20.0]))  # 20 m off the first edge
    nd = nearest_facility(net, fac)
    segs = reached_segments(net, nd, 120.0)  # 100 m left after the access leg
    merged = shapely.line_merge(shapely.union_all(segs))
    assert shapely.length(merged) == pytest.approx(200.0)
    x0, _, x1, _ = merged.bounds
    assert (x0, x1) == (pytest.approx(150.0), pytest.approx(350.0))


def test_isochrone_does_not_cross_to_unlinked_street(cross_net):
    net = cross_net
    fac = net.snap(np.array([500.0]), np.array([0.0]))
    iso = isochrones(net, fac, (5, 15), 1.0, walkoff_m=50)
    assert list(iso.threshold_min) == [5.0, 15.0]
    poly15 = iso.geometry.iloc[1]
    assert not poly15.intersects(shapely.Point(500, 300))  # a hull would swallow it
    assert poly15.contains(shapely.Point(100, 40))
    assert iso.geometry.iloc[0].area < poly15.area
    # 5 min at 1 m/s = 300 m each way, 50 m walk-off: area ≈ 600×100 + π·50²
    assert iso.geometry.iloc[0].area == pytest.approx(600 * 100 + np.pi * 50**2, rel=0.02)


def test_per_facility(cross_net):
    fac = cross_net.snap(np.array([0.0, 1000.0]), np.array([0.0, 300.0]))
    iso = per_facility_isochrones(cross_net, fac, 5, 1.0, facility_ids=np.array(["a", "b"]))
    assert list(iso.facility) == ["a", "b"]
    assert not iso.geometry.iloc[0].intersects(iso.geometry.iloc[1])


def test_no_facilities_gives_empty_polygons(cross_net):
    fac = cross_net.snap(np.array([]), np.array([]))
    iso = isochrones(cross_net, fac, (5, 10, 15), 1.0)
    assert iso.geometry.is_empty.all() and (iso.area_km2 == 0).all()


def test_raster_and_vector_agree_on_helsinki(helsinki_net):
    net = helsinki_net
    rng = np.random.default_rng(5)
    x0, y0, x1, y1 = net.bounds
    fac = net.snap(rng.uniform(x0, x1, 6), rng.uniform(y0, y1, 6), max_access_m=250)
    v = isochrones(net, fac, (5, 10), 1.0, method="vector")
    r = isochrones(net, fac, (5, 10), 1.0, method="raster")
    for gv, gr in zip(v.geometry, r.geometry, strict=True):
        assert gr.area == pytest.approx(gv.area, rel=0.03)  # default 10 m pixels
        assert gv.symmetric_difference(gr).area < 0.06 * gv.area
    fine = isochrone_polygon(reached_segments(net, nearest_facility(net, fac), 600.0), 50.0,
                             method="raster", resolution_m=5.0)
    assert fine.area == pytest.approx(v.geometry.iloc[1].area, rel=0.015)
    with pytest.raises(ValueError, match="method 'hull' is not one of"):
        isochrones(net, fac, (5,), 1.0, method="hull")
