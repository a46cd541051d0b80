# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# cython: language_level=3
"""Compiled street sampling for :class:`care15.isofield.StreetSamples`.

:func:`sample_streets` does in one compiled pass what ``care15.isofield._sample_edges`` does
with shapely and numpy: each edge's polyline is densified as GEOS ``segmentize`` densifies it
(a segment longer than the tolerance is split into ``ceil(length / tolerance)`` equal pieces,
points at ``p0 + (j * piece / length) * (p1 - p0)``, consecutive repeated points dropped; a
zero-length edge keeps its points as they are); the metres along the edge are the running sum
of the point-to-point steps (``sqrt(dx * dx + dy * dy)``) over each block of ``piece`` edges
minus its value at the edge's first point, as the numpy path's cumulative sum gives them,
scaled to the edge's length and capped at it; and each point falls in its pixel, or in the two
(up to four) pixels either side of a border it lies within a millionth of a pixel of. The same
arithmetic in the same order: the samples equal the numpy path's bit for bit.

:func:`sort_by_pixel` is the stable sort of the samples by pixel, as a counting sort. Built as
an optional extension like the travel-time kernel; without it, care15 samples with numpy and
gives the same arrays. A change of the samples here (or in the numpy path) must bump
``care15.isofield.SAMPLES_VERSION``, part of their cache key.
"""

import numpy as np

from libc.math cimport INFINITY, ceil, fabs, floor, rint, sqrt
from libc.stdint cimport int32_t, int64_t, uint8_t

ctypedef fused pix_t:
    int32_t
    int64_t

ctypedef fused pos_t:
    int32_t
    int64_t


cdef Py_ssize_t _densify(const double* xy, Py_ssize_t m, bint dense, double tol,
                         double* out) noexcept nogil:
    """One edge's points into ``out`` (x, y pairs), as GEOS ``segmentize`` makes them.

    GEOS ``Densifier::densifyPoints``, with ``CoordinateSequence::add(p, false)``: a point
    equal to the last one kept is skipped. A zero-length edge keeps its points as they are.
    """
    cdef Py_ssize_t i, n = 0
    cdef int j, cnt
    cdef double x0, y0, x, y, dx, dy, seg, piece, frac
    if not dense:
        for i in range(2 * m):
            out[i] = xy[i]
        return m
    for i in range(m):
        x0 = xy[2 * i]
        y0 = xy[2 * i + 1]
        if n == 0 or out[2 * n - 2] != x0 or out[2 * n - 1] != y0:
            out[2 * n] = x0
            out[2 * n + 1] = y0
            n += 1
        if i == m - 1:
            break
        dx = xy[2 * i + 2] - x0
        dy = xy[2 * i + 3] - y0
        seg = sqrt(dx * dx + dy * dy)
        cnt = <int>ceil(seg / tol)
        # segments of at most one piece add their end point, which the next one skips
        if cnt > 1:
            piece = seg / cnt
            for j in range(1, cnt):
                frac = (j * piece) / seg
                x = x0 + frac * dx
                y = y0 + frac * dy
                if out[2 * n - 2] != x or out[2 * n - 1] != y:
                    out[2 * n] = x
                    out[2 * n + 1] = y
                    n += 1
    return n


cdef int64_t _bound(const double* xy, Py_ssize_t m, bint dense, double tol) noexcept nogil:
    """Most points :func:`_densify` makes of one edge."""
    cdef Py_ssize_t i
    cdef double dx, dy, cnt
    cdef int64_t b = 1
    if not dense or m < 2:
        return m
    for i in range(m - 1):
        dx = xy[2 * i + 2] - xy[2 * i]
        dy = xy[2 * i + 3] - xy[2 * i + 1]
        cnt = ceil(sqrt(dx * dx + dy * dy) / tol)
        b += <int64_t>cnt if cnt > 1 else 1
    return b


cdef inline int64_t _clip(double a, int64_t n) noexcept nogil:
    # numpy.clip(a, 0, n - 1), then the integer
    if a < 0:
        a = 0
    if a > n - 1:
        a = n - 1
    return <int64_t>a


cdef inline void _border(double f, int64_t n, int64_t* lo, int64_t* hi) noexcept nogil:
    """The pixel of coordinate ``f`` (in pixels), or the two pixels of a border (clipped)."""
    cdef double k = rint(f)  # round half to even, as numpy.round
    if fabs(f - k) < 1e-6:
        lo[0] = _clip(k - 1, n)
        hi[0] = _clip(k, n)
    else:
        lo[0] = _clip(floor(f), n)
        hi[0] = lo[0]


cdef int64_t _emit(const double* pt, Py_ssize_t m, int32_t edge, double scale, double length,
                   double* run, double x0, double y1, double res, int64_t width,
                   int64_t height, int64_t n, int32_t* edge_out, double* along_out,
                   int32_t* p32, int64_t* p64) noexcept nogil:
    """The samples of one edge's points ``pt``: written from ``n`` on; returns the new end.

    Metres along: the running sum ``run`` of the steps (its value at the first point is the
    edge's zero), scaled and capped. Pixels: :func:`_border` of each axis, up to four copies.
    """
    cdef Py_ssize_t i
    cdef int k, copies
    cdef double r = run[0], base, dx, dy, along, x, y
    cdef int64_t c_lo, c_hi, r_lo, r_hi, p
    cdef bint two_c
    base = r + 0.0
    r = base
    for i in range(m):
        x = pt[2 * i]
        y = pt[2 * i + 1]
        if i > 0:
            dx = x - pt[2 * i - 2]
            dy = y - pt[2 * i - 1]
            r += sqrt(dx * dx + dy * dy)
        along = (r - base) * scale
        if along > length:  # numpy.minimum (no NaN here)
            along = length
        _border((x - x0) / res, width, &c_lo, &c_hi)
        _border((y1 - y) / res, height, &r_lo, &r_hi)
        if c_lo == c_hi and r_lo == r_hi:  # off the borders: one sample
            edge_out[n] = edge
            along_out[n] = along
            if p64 != NULL:
                p64[n] = r_lo * width + c_lo
            else:
                p32[n] = <int32_t>(r_lo * width + c_lo)
            n += 1
            continue
        two_c = c_hi != c_lo
        copies = (1 + two_c) * (1 + (r_hi != r_lo))
        for k in range(copies):
            if two_c:
                p = (r_hi if k >= 2 else r_lo) * width + (c_hi if k % 2 == 1 else c_lo)
            else:
                p = (r_hi if k == 1 else r_lo) * width + c_lo
            edge_out[n] = edge
            along_out[n] = along
            if p64 != NULL:
                p64[n] = p
            else:
                p32[n] = <int32_t>p
            n += 1
    run[0] = r
    return n


def sample_streets(const double[:, ::1] xy, const int64_t[::1] coord_start,
                   const uint8_t[::1] dense, const double[::1] scale,
                   const double[::1] length, double tol, double x0, double y1, double res,
                   int64_t width, int64_t height, int64_t piece):
    """Street samples of every edge: edge, metres along, pixel, and each edge's first sample.

    Parameters
    ----------
    xy
        Every edge's coordinates, edge after edge (``shapely.get_coordinates``).
    coord_start
        ``coord_start[e]:coord_start[e + 1]`` are edge ``e``'s rows of ``xy``.
    dense
        1 where the edge is densified (its geometry's length is positive), 0 where its points
        are its samples.
    scale
        Edge length over geometry length (metres along = geometry metres times this).
    length
        Edge lengths (the cap of the metres along).
    tol
        Longest distance between consecutive points (half a pixel).
    x0, y1, res, width, height
        The pixel grid.
    piece
        The running sum of steps restarts every ``piece`` edges (as the numpy path's pieces).

    Returns
    -------
    edge : numpy.ndarray of int32
    along : numpy.ndarray of float64
    pixel : numpy.ndarray of int32 (int64 when ``width * height >= 2**31``)
    edge_start : numpy.ndarray of int64
        ``edge_start[e]:edge_start[e + 1]`` are edge ``e``'s samples.

    Notes
    -----
    The outputs are allocated for the points the edges make plus an eighth for the copies of
    points on pixel borders, grown (once, in the ratio of copies met so far) when the copies
    need more, and shrunk in place to their size at the end.
    """
    cdef Py_ssize_t n_e = max(coord_start.shape[0] - 1, 0)
    cdef Py_ssize_t e = 0, e_stop, m
    cdef int64_t total = 0, cap, need, most = 0, n = 0, done = 0
    cdef double run = 0.0
    cdef const double* pts = &xy[0, 0] if xy.shape[0] > 0 else NULL
    cdef bint big = width * height >= (<int64_t>1 << 31)
    bound_a = np.empty(n_e, dtype=np.int64)
    cdef int64_t[::1] bnd = bound_a
    with nogil:
        for e in range(n_e):
            bnd[e] = _bound(pts + 2 * coord_start[e], coord_start[e + 1] - coord_start[e],
                            dense[e] != 0, tol)
            total += bnd[e]
            if bnd[e] > most:
                most = bnd[e]
    scratch_a = np.empty(2 * most + 2)
    cdef double[::1] scr = scratch_a
    cap = total + total // 8 + 1024
    edge_a = np.empty(cap, dtype=np.int32)
    along_a = np.empty(cap, dtype=np.float64)
    pixel_a = np.empty(cap, dtype=np.int64 if big else np.int32)
    start_a = np.empty(n_e + 1, dtype=np.int64)
    cdef int64_t[::1] st = start_a
    cdef int32_t[::1] ev
    cdef double[::1] av
    cdef int32_t[::1] pv32
    cdef int64_t[::1] pv64
    cdef int32_t* p32 = NULL
    cdef int64_t* p64 = NULL
    e = 0
    while True:
        ev = edge_a
        av = along_a
        if big:
            pv64 = pixel_a
            p64 = &pv64[0]
        else:
            pv32 = pixel_a
            p32 = &pv32[0]
        e_stop = n_e
        with nogil:
            while e < n_e:
                if n + 4 * bnd[e] > cap:  # an edge on borders throughout could overflow
                    e_stop = e
                    break
                if piece > 0 and e % piece == 0:
                    run = 0.0
                st[e] = n
                done += bnd[e]
                if bnd[e] > 0:
                    m = _densify(pts + 2 * coord_start[e], coord_start[e + 1] - coord_start[e],
                                 dense[e] != 0, tol, &scr[0])
                    n = _emit(&scr[0], m, <int32_t>e, scale[e], length[e], &run, x0, y1, res,
                              width, height, n, &ev[0], &av[0], p32, p64)
                e += 1
        if e_stop == n_e:
            break
        # the rest in the ratio of samples to points so far, and a tenth more
        need = n + 4 * bnd[e] + 1024 + <int64_t>(1.1 * (total - done) * n / max(done, 1))
        edge_a = _grown(edge_a, n, need)
        along_a = _grown(along_a, n, need)
        pixel_a = _grown(pixel_a, n, need)
        cap = need
    st[n_e] = n
    ev = None
    av = None
    pv32 = None
    pv64 = None
    # shrink in place (realloc); nothing else refers to the arrays yet
    edge_a.resize(n, refcheck=False)
    along_a.resize(n, refcheck=False)
    pixel_a.resize(n, refcheck=False)
    return edge_a, along_a, pixel_a, start_a


def _grown(a, int64_t n, int64_t cap):
    """``a[:n]`` in a new array of ``cap`` elements."""
    b = np.empty(cap, dtype=a.dtype)
    b[:n] = a[:n]
    return b


def sort_by_pixel(const pix_t[::1] pixel, int64_t n_pixels):
    """The stable sort of samples by pixel, as a counting sort over the grid's pixels.

    Parameters
    ----------
    pixel
        Flat pixel of each sample (``0 <= pixel < n_pixels``).
    n_pixels
        Pixels of the grid.

    Returns
    -------
    by_pixel : numpy.ndarray of int32 (int64 from ``2**31`` samples)
        Sample positions sorted by pixel, in sample order within a pixel.
    pixels : numpy.ndarray
        The distinct pixels holding a sample, ascending (``pixel``'s dtype).
    pixel_start : numpy.ndarray of int64
        ``by_pixel[pixel_start[k]:pixel_start[k + 1]]`` are the samples of ``pixels[k]``.
    """
    cdef Py_ssize_t n = pixel.shape[0]
    cdef Py_ssize_t i
    cdef int64_t p, k = 0, run = 0, c
    cdef bint wide = n >= (<int64_t>1 << 31)
    dt = np.int64 if pix_t is int64_t else np.int32
    if n == 0:
        return (np.empty(0, dtype=np.int32), np.empty(0, dtype=dt),
                np.zeros(1, dtype=np.int64))
    # counts, then each pixel's next slot (int32 while the samples fit)
    cnt_a = np.zeros(n_pixels, dtype=np.int64 if wide else np.int32)
    by_a = np.empty(n, dtype=np.int64 if wide else np.int32)
    cdef int32_t[::1] c32
    cdef int64_t[::1] c64
    cdef int32_t[::1] b32
    cdef int64_t[::1] b64
    cdef int32_t* cnt32 = NULL
    cdef int64_t* cnt64 = NULL
    cdef int32_t* by32 = NULL
    cdef int64_t* by64 = NULL
    if wide:
        c64 = cnt_a
        b64 = by_a
        cnt64 = &c64[0]
        by64 = &b64[0]
    else:
        c32 = cnt_a
        b32 = by_a
        cnt32 = &c32[0]
        by32 = &b32[0]
    with nogil:
        for i in range(n):
            p = pixel[i]
            if wide:
                if cnt64[p] == 0:
                    k += 1
                cnt64[p] += 1
            else:
                if cnt32[p] == 0:
                    k += 1
                cnt32[p] += 1
    pixels_a = np.empty(k, dtype=dt)
    start_a = np.empty(k + 1, dtype=np.int64)
    cdef pix_t[::1] pv = pixels_a
    cdef int64_t[::1] sv = start_a
    k = 0
    with nogil:
        for p in range(n_pixels):
            c = cnt64[p] if wide else cnt32[p]
            if c:
                pv[k] = <pix_t>p
                sv[k] = run
                k += 1
                if wide:
                    cnt64[p] = run
                else:
                    cnt32[p] = <int32_t>run
                run += c
        sv[k] = run
        for i in range(n):
            p = pixel[i]
            if wide:
                by64[cnt64[p]] = i
                cnt64[p] += 1
            else:
                by32[cnt32[p]] = <int32_t>i
                cnt32[p] += 1
    return by_a, pixels_a, start_a


def street_pixel_min(const pos_t[::1] by_pixel, const int64_t[::1] pixel_start,
                     const pix_t[::1] pixels, const int32_t[::1] edge,
                     const double[::1] along, const int64_t[::1] edge_u,
                     const int64_t[::1] edge_v, const double[::1] edge_length,
                     const double[::1] dist_m, double quarter, double limit,
                     float[::1] street):
    """Per pixel, the walking metres of its nearest-to-a-facility street sample.

    For every sample ``s`` of edge ``e`` at ``along[s]`` metres from its ``u`` end,
    ``max(min(dist_m[u] + along, dist_m[v] + (length - along)) - quarter, 0)``; a pixel gets
    the smallest of its samples', or ``inf`` when that is beyond ``limit`` (as
    ``care15.isofield._sample_metres`` then ``numpy.minimum.reduceat`` give it, in the same
    arithmetic). The walks of samples on a facility's own edge are the caller's to add.

    Parameters
    ----------
    by_pixel, pixel_start, pixels
        The samples sorted by pixel (:class:`care15.isofield.StreetSamples`).
    edge, along
        Each sample's edge and metres along it.
    edge_u, edge_v, edge_length
        The network's edges.
    dist_m
        Walking metres from the nearest facility to every node.
    quarter
        A quarter pixel (metres): the street a sample stands for reaches that much nearer.
    limit
        Farther than this is not reached (``inf``).
    street
        The flat pixel array written (float32).
    """
    cdef Py_ssize_t k, j, n_pix = pixels.shape[0]
    cdef int64_t s, e
    cdef double best, d, d2, a
    with nogil:
        for k in range(n_pix):
            best = INFINITY
            for j in range(pixel_start[k], pixel_start[k + 1]):
                s = by_pixel[j]
                e = edge[s]
                a = along[s]
                d = dist_m[edge_u[e]] + a
                d2 = dist_m[edge_v[e]] + (edge_length[e] - a)
                if d2 < d:
                    d = d2
                d = d - quarter
                if d < 0.0:
                    d = 0.0
                if d < best:
                    best = d
            if not best <= limit:
                best = INFINITY
            street[pixels[k]] = <float>best
