"""care15.isofield: the isochrone field, built whole or updated around a change."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from helpers import line_net

from care15 import isofield
from care15.access import nearest_facility
from care15.isochrones import isochrone_polygon, reached_segments
from care15.isofield import IsoField, PixelGrid, StreetSamples, pixel_grid
from care15.network import WalkNetwork
from care15.synthetic import grid_network


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


# --------------------------------------------------------------- compiled and numpy samplers

_SAMPLE_ARRAYS = ("edge", "along_m", "edge_start", "pixel", "by_pixel", "pixels", "pixel_start")


def _compiled_sampler():
    return pytest.importorskip(
        "care15._sample", reason="the optional compiled sampler (care15._sample) was not built "
        "here (no C compiler or Cython at install); the numpy path is then the only one")


def _assert_same_samples(net, grid):
    """The compiled and numpy samples of ``net`` on ``grid``: equal arrays, bit for bit."""
    _compiled_sampler()
    a = StreetSamples.build(net, grid, engine="numpy")
    b = StreetSamples.build(net, grid, engine="compiled")
    assert len(a.edge) > 0
    for name in _SAMPLE_ARRAYS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype, name
        np.testing.assert_array_equal(x, y, err_msg=name)
    return b


def _border_grid_net():
    """A jitter-free street grid lying on pixel borders, plus awkward edges.

    Added to the 12 × 12 grid of 60 m: zero-length edges (a node to itself; one with a
    positive edge length), a polyline with repeated vertices along a pixel border through
    pixel corners, a diagonal through pixel corners, and a curve whose edge length is longer
    than its geometry and one shorter (the metres along are scaled).
    """
    base = grid_network(12, drop_share=0.0, jitter_m=0.0)
    x, y = base.x, base.y
    n0 = 0
    n1 = 13  # one node up and right of the corner
    x0, y0 = float(x[n0]), float(y[n0])
    arc = [(x0 + 300 + 200 * np.cos(t), y0 + 300 + 200 * np.sin(t))
           for t in np.linspace(0, np.pi, 23)]
    extra = [
        (n0, n0, [(x0, y0), (x0, y0)], 0.0),
        (n1, n1, [(x[n1], y[n1]), (x[n1], y[n1]), (x[n1], y[n1])], 5.0),
        (n0, n1, [(x0, y0), (x0 + 30, y0), (x0 + 30, y0), (x0 + 60, y0), (x0 + 60, y0 + 60),
                  (x0 + 60, y0 + 60)], 120.0),
        (n0, n1, [(x0, y0), (x0 + 60, y0 + 60)], float(np.hypot(60, 60))),
        (n0, n1, arc, 1.3 * shapely.length(shapely.LineString(arc))),
        (n1, n0, arc[::-1], 0.7 * shapely.length(shapely.LineString(arc))),
    ]
    geom = np.concatenate([base.edge_geometry,
                           [shapely.LineString(c) for _, _, c, _ in extra]])
    return WalkNetwork(
        crs=base.crs, node_id=base.node_id, x=x, y=y,
        edge_u=np.r_[base.edge_u, [e[0] for e in extra]].astype(np.int32),
        edge_v=np.r_[base.edge_v, [e[1] for e in extra]].astype(np.int32),
        edge_length_m=np.r_[base.edge_length_m, [e[3] for e in extra]],
        edge_geometry=geom, source="border grid")


def test_compiled_samples_equal_numpy_on_helsinki(helsinki_net):
    net = helsinki_net
    _assert_same_samples(net, pixel_grid(net, 50.0))
    # a coarser grid aligned with 100 m cells, as an analysis lays it
    _assert_same_samples(net, pixel_grid(net, 75.0, cell_side_m=100.0,
                                         cell_origin=(float(net.x[0]), float(net.y[0]))))


def test_compiled_samples_equal_numpy_on_borders_and_zero_length_edges():
    net = _border_grid_net()
    corner = (float(net.x[0]), float(net.y[0]))
    grid = pixel_grid(net, 50.0, cell_side_m=60.0, cell_origin=corner)
    assert grid.res_m == 10.0
    smp = _assert_same_samples(net, grid)
    n_e = net.n_edges
    # a zero-length edge keeps its points, at 0 m, in its node's pixels
    counts = np.diff(smp.edge_start)
    assert counts[n_e - 6] >= 1 and counts[n_e - 5] >= 3
    assert (smp.along_m[smp.edge_start[n_e - 6]:smp.edge_start[n_e - 4]] == 0).all()
    assert counts[n_e - 5] == 3 * 4  # three points at a pixel corner
    # the grid's nodes are pixel corners: their samples are in four pixels, and the points
    # between them on a pixel border in two
    grid_part = smp.edge < n_e - 6
    _, per_point = np.unique(np.c_[smp.edge, smp.along_m][grid_part], axis=0,
                             return_counts=True)
    assert per_point.max() == 4 and (per_point == 2).any()
    # repeated vertices are dropped as segmentize drops them: one sample per half pixel
    rep = slice(smp.edge_start[n_e - 4], smp.edge_start[n_e - 3])
    assert len(np.unique(smp.along_m[rep])) == 120 // 5 + 1
    # metres along scaled to the edge length (longer or shorter than the curve), never beyond
    for e in (n_e - 2, n_e - 1):
        top = smp.along_m[smp.edge_start[e]:smp.edge_start[e + 1]].max()
        assert net.edge_length_m[e] - 1e-9 < top <= net.edge_length_m[e]
    # the numpy path on a random jittered grid, not aligned: the same too
    g2 = grid_network(40, seed=3)
    _assert_same_samples(g2, pixel_grid(g2, 50.0))


def test_compiled_samples_equal_numpy_on_chengdu(chengdu_net):
    net = chengdu_net
    _assert_same_samples(net, pixel_grid(net, 50.0))


def test_compiled_samples_on_a_grid_of_2_31_pixels_or_more():
    # int64 pixels: the compiled sampler writes them, the numpy argsort sorts them
    net = _border_grid_net()
    x0, _, _, y1 = net.bounds
    grid = PixelGrid(x0 - 10.0, y1 + 10.0, 0.5, 50_000, 50_000)
    assert grid.width * grid.height >= 2**31
    smp = _assert_same_samples(net, grid)
    assert smp.pixel.dtype == np.int64


def test_counting_sort_by_pixel_is_the_stable_argsort():
    mod = _compiled_sampler()
    rng = np.random.default_rng(1)
    for dtype, n_px in ((np.int32, 5000), (np.int64, 3000)):
        pixel = rng.integers(0, n_px, 40_000).astype(dtype)
        by, pixels, start = mod.sort_by_pixel(pixel, n_px)
        ref = isofield._sort_numpy(pixel)
        for got, want in zip((by, pixels, start), ref, strict=True):
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
    by, pixels, start = mod.sort_by_pixel(np.empty(0, dtype=np.int32), 10)
    assert len(by) == len(pixels) == 0 and start.tolist() == [0]


def test_unknown_sampling_engine_is_refused(helsinki_net):
    with pytest.raises(ValueError, match="sampling engine"):
        StreetSamples.build(helsinki_net, pixel_grid(helsinki_net, 50.0), engine="gpu")


@pytest.mark.parametrize("which", ["helsinki", "chengdu"])
def test_compiled_street_minimum_equals_numpy(which, helsinki_net, request, monkeypatch):
    """The compiled per-pixel minimum gives the numpy path's street and field exactly,
    facilities sharing an edge and sitting mid-edge included."""
    if isofield._street_pixel_min is None:
        pytest.skip("the compiled extension care15._sample was not built")
    net = helsinki_net if which == "helsinki" else request.getfixturevalue("chengdu_net")
    rng = np.random.default_rng(5)
    e = rng.choice(np.flatnonzero(net.component[net.edge_u] == 0), 12, replace=False)
    pts = shapely.line_interpolate_point(net.edge_geometry[np.r_[e, e[:3]]],
                                         np.r_[rng.uniform(0.1, 0.9, 12), [0.2, 0.5, 0.8]],
                                         normalized=True)
    fac = net.snap(shapely.get_x(pts), shapely.get_y(pts))
    grid = pixel_grid(net, 50.0)
    nd = nearest_facility(net, fac)
    got = IsoField.build(net, nd, grid, walkoff_m=50.0, limit_m=900.0)
    monkeypatch.setattr(isofield, "_street_pixel_min", None)
    want = IsoField.build(net, nd, grid, walkoff_m=50.0, limit_m=900.0)
    assert np.isfinite(want.street).sum() > 1000
    np.testing.assert_array_equal(got.street, want.street)
    np.testing.assert_array_equal(got.field_m, want.field_m)
