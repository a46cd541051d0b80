"""care15.isofield: the isochrone field, built whole or updated around a change."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from helpers import line_net

from care15.access import nearest_facility
from care15.isochrones import isochrone_polygon, reached_segments
from care15.isofield import IsoField, StreetSamples, pixel_grid


def _field(net, fac, walkoff=50.0, limit=900.0, grid=None):
    grid = grid or pixel_grid(net, walkoff)
    return IsoField.build(net, nearest_facility(net, fac), grid, walkoff_m=walkoff,
                          limit_m=limit)


def test_a_street_on_a_pixel_border_reaches_the_walkoff_both_sides():
    # a 1 km street along y = 0, which the cell-aligned grid puts on a pixel border
    net = line_net({(1, 2): [(0, 0), (1000, 0)]})
    fac = net.snap(np.array([500.0]), np.array([0.0]))
    grid = pixel_grid(net, 50.0, cell_side_m=100.0, cell_origin=(0.0, 0.0))
    f = _field(net, fac, grid=grid)
    m = f.mask(900.0)
    cols = m.any(axis=0)
    rows = np.flatnonzero(m[:, np.flatnonzero(cols)[len(np.flatnonzero(cols)) // 2]])
    # 5 pixel rows of 10 m above the street and 5 below: the 50 m walk-off on both sides
    assert len(rows) == 10
    sh = f.overlay_shares(900.0, np.array([5]), np.array([round((grid.y1 - 100) / 100)]))
    assert sh[0] == 0.5


def test_field_isochrone_agrees_with_the_vector_buffer(helsinki_net):
    net = helsinki_net
    rng = np.random.default_rng(0)
    nodes = rng.choice(net.n_nodes, 8, replace=False)
    fac = net.snap(net.x[nodes] + 7.0, net.y[nodes] + 3.0)
    nd = nearest_facility(net, fac)
    f = IsoField.build(net, nd, pixel_grid(net, 50.0), walkoff_m=50.0, limit_m=1200.0)
    for budget in (300.0, 600.0, 1200.0):
        vec = isochrone_polygon(reached_segments(net, nd, budget), 50.0, method="vector")
        ras = f.polygon(budget)
        assert abs(ras.area - vec.area) / vec.area < 0.025, budget
        # the two outlines are within two pixels of each other
        assert shapely.difference(ras, shapely.buffer(vec, 20.0)).area < 1e-3 * vec.area
        assert shapely.difference(vec, shapely.buffer(ras, 20.0)).area < 1e-3 * vec.area


def test_updates_equal_a_fresh_field(helsinki_net):
    net = helsinki_net
    rng = np.random.default_rng(4)
    grid = pixel_grid(net, 50.0)
    xs = net.x[rng.choice(net.n_nodes, 6, replace=False)] + 5.0
    ys = net.y[rng.choice(net.n_nodes, 6, replace=False)] - 4.0
    fac = net.snap(xs, ys)
    nd = nearest_facility(net, fac)
    f = IsoField.build(net, nd, grid, walkoff_m=50.0, limit_m=900.0)
    for step in range(6):
        k = int(rng.integers(len(xs)))
        if step % 3 == 2:  # remove: an unsnapped point in its slot
            xs[k] = np.nan
        else:
            j = int(rng.integers(net.n_nodes))
            xs[k], ys[k] = net.x[j] + rng.normal(0, 20), net.y[j] + rng.normal(0, 20)
        new_fac = net.snap(xs, ys, max_access_m=250.0)
        new_nd = nearest_facility(net, new_fac)
        win = f.update(nd, new_nd)
        fresh = IsoField.build(net, new_nd, grid, walkoff_m=50.0, limit_m=900.0)
        np.testing.assert_array_equal(f.street, fresh.street)
        np.testing.assert_array_equal(f.field_m, fresh.field_m)
        assert win is None or (win[0].stop - win[0].start) * (win[1].stop - win[1].start) \
            < f.field_m.size
        nd = new_nd


def test_samples_cover_every_edge_once_per_pixel_border(helsinki_net):
    net = helsinki_net
    smp = StreetSamples.build(net, pixel_grid(net, 50.0))
    # every edge has samples, in edge order, along within its length
    n = np.diff(smp.edge_start)
    assert (n >= 1).all() and len(n) == net.n_edges
    assert (np.diff(smp.edge) >= 0).all()
    assert (smp.along_m >= 0).all() and (smp.along_m <= net.edge_length_m[smp.edge] + 1e-9).all()
    # no two samples of one edge more than half a pixel apart along it (plus rounding)
    same = smp.edge[1:] == smp.edge[:-1]
    gap = np.diff(smp.along_m)[same]
    scale = (net.edge_length_m / np.maximum(shapely.length(net.edge_geometry), 1e-9))[
        smp.edge[1:][same]]
    assert (gap <= smp.grid.res_m / 2 * scale + 1e-6).all()


@pytest.mark.parametrize("radius_px", [0.4, 1.0, 2.5, 4.5, 7.3])
def test_disk_min_equals_a_filter_per_row_width(radius_px):
    """The running-minimum disk filter equals scipy's per-width filters, edges included."""
    from scipy import ndimage

    from care15.isofield import _disk_min, _disk_rows

    rng = np.random.default_rng(1)
    rows = _disk_rows(radius_px)
    for shape in [(120, 97), (7, 3), (1, 1), (40, 9), (5, 40), (2, 2)]:
        p = rng.random(shape, dtype=np.float32)
        p[p < 0.4] = np.inf
        want = np.full(shape, np.inf, dtype=np.float32)
        h = shape[0]
        for dy, hw in rows:
            f = ndimage.minimum_filter1d(p, 2 * hw + 1, axis=1, mode="constant", cval=np.inf)
            if abs(dy) >= h:
                continue
            if dy >= 0:
                np.minimum(want[:h - dy], f[dy:], out=want[:h - dy])
            else:
                np.minimum(want[-dy:], f[:h + dy], out=want[-dy:])
        assert np.array_equal(_disk_min(p, rows), want), (shape, radius_px)
