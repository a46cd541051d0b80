"""Isochrones as a walking-distance field on one fixed pixel grid, updated in place.

Instead of one polygon per category and threshold, :class:`IsoField` keeps, for each pixel of
a grid laid once over the network, the walking metres from the nearest facility to the nearest
reached street point within the walk-off distance. Every isochrone of a category is then a
threshold of the same field (``field <= budget_m``), and an edit that moves, adds or removes a
facility redraws only the pixels whose streets changed, plus a walk-off around them.

How the field is built:

1. Each street is sampled every half pixel, once per network and grid
   (:class:`StreetSamples`, kept on the network object; made by the compiled
   ``care15._sample`` kernel when it was built, else with shapely and numpy: the same arrays).
2. A sample at ``s`` metres along edge ``(u, v)`` of length ``L`` is ``min(d(u) + s,
   d(v) + L - s)`` metres from the nearest facility, or ``access + |s - along|`` from a
   facility on that very edge (the stretch a facility reaches along its own street).
3. A pixel's *street value* is the smallest of its samples (``inf`` without a street).
4. The field is the smallest street value within the walk-off disk around the pixel (a
   minimum filter over a disk, computed as one-dimensional running minima of each disk row,
   van Herk/Gil-Werman, so its cost does not grow with the walk-off).

A pixel is inside the ``B``-metre isochrone when a street point reached within ``B`` lies
within the walk-off of it: the raster method of :mod:`care15.isochrones` (the same disk of
radius walk-off minus a quarter pixel), computed for every threshold at once. The polygons are
made only when drawn or exported (:meth:`IsoField.polygon`).

When the population cells are equal squares on one grid, the pixel grid is aligned with them
(an integer number of pixels per cell side), so each cell's overlay share is the mean of its
block of pixels (:meth:`IsoField.overlay_shares`).
"""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import shapely

from .access import _ranges

try:
    from ._sample import sample_streets as _sample_streets
    from ._sample import sort_by_pixel as _sort_by_pixel
    from ._sample import street_pixel_min as _street_pixel_min
except ImportError:  # the optional extension was not built: the streets are sampled with numpy
    _sample_streets = None
    _sort_by_pixel = None
    _street_pixel_min = None

if TYPE_CHECKING:
    from .access import NodeDistances
    from .network import Snapped, WalkNetwork

__all__ = ["SAMPLER", "SAMPLES_VERSION", "IsoField", "PixelGrid", "StreetSamples", "pixel_grid"]

#: How :meth:`StreetSamples.build` samples the streets by default: ``"compiled"`` (the
#: optional ``care15._sample`` extension) when it was built, else ``"numpy"``. Both give the
#: same arrays.
SAMPLER: str = "compiled" if _sample_streets is not None else "numpy"
#: Version of the street sampling (either path), part of the samples' cache key: bump it when
#: the samples change.
SAMPLES_VERSION = 2

#: Largest pixel grid (pixels) before the resolution is coarsened, as in the raster isochrones.
MAX_PIXELS = 12_000_000
#: Street samples whose walking metres are computed at once when a field is built.
SAMPLES_PER_PIECE = 1 << 20
#: Edges sampled at once by the numpy path (bounded memory while the streets are sampled); the
#: compiled path restarts its running sum of steps at the same edges, to give the same metres.
EDGES_PER_PIECE = 50_000
#: Largest grid (pixels) on which the compiled path sorts the samples by pixel with a counting
#: sort (one int32 count per pixel: no more memory than one field of the grid); larger grids
#: use numpy's stable argsort.
COUNTING_SORT_PIXELS = 4 * MAX_PIXELS


@dataclass(frozen=True)
class PixelGrid:
    """A north-up pixel grid in the network's metric CRS.

    Attributes
    ----------
    x0, y1
        West and north edges of the grid (metres).
    res_m
        Pixel side (metres).
    width, height
        Columns and rows.
    cell_side_m
        Side of the population cells the grid is aligned with (``None`` when not aligned).
    """

    x0: float
    y1: float
    res_m: float
    width: int
    height: int
    cell_side_m: float | None = None

    @property
    def shape(self) -> tuple[int, int]:
        """Rows and columns.

        Returns
        -------
        tuple of int
            ``(height, width)``.
        """
        return self.height, self.width


def _walkoff_radius_px(walkoff_m: float, res_m: float) -> float:
    """Disk radius in pixels: the walk-off minus a quarter pixel (see care15.isochrones)."""
    return (max(walkoff_m, 0.01) - res_m / 4) / res_m


def pixel_grid(network: WalkNetwork, walkoff_m: float, *,
               cell_side_m: float | None = None,
               cell_origin: tuple[float, float] | None = None) -> PixelGrid:
    """The grid an :class:`IsoField` of ``network`` lives on.

    Pixels are a fifth of the walk-off (at least 5 m), coarsened when the network's extent
    would need more than :data:`MAX_PIXELS`. With ``cell_side_m`` and ``cell_origin`` (the
    corner of any population cell), the pixel side divides the cell side and the grid's edges
    fall on cell edges, so that cell blocks are whole pixels.

    Parameters
    ----------
    network
        The walking network.
    walkoff_m
        Walk-off buffer (metres).
    cell_side_m
        Side of square population cells to align with.
    cell_origin
        ``(x, y)`` of a corner of one of those cells.

    Returns
    -------
    PixelGrid
        Covering the network plus the walk-off and three pixels.
    """
    res = max(5.0, walkoff_m / 5)
    x0, y0, x1, y1 = network.bounds
    pad = walkoff_m + 3 * res
    x0, y0, x1, y1 = x0 - pad, y0 - pad, x1 + pad, y1 + pad
    n_px = (x1 - x0) * (y1 - y0) / res**2
    if n_px > MAX_PIXELS:
        res *= float(np.sqrt(n_px / MAX_PIXELS))
    if cell_side_m and cell_origin is not None:
        sub = max(1, round(cell_side_m / res))
        res = cell_side_m / sub
        ox, oy = cell_origin
        x0 = ox + np.floor((x0 - ox) / cell_side_m) * cell_side_m
        y1 = oy + np.ceil((y1 - oy) / cell_side_m) * cell_side_m
        x1 = ox + np.ceil((x1 - ox) / cell_side_m) * cell_side_m
        y0 = oy + np.floor((y0 - oy) / cell_side_m) * cell_side_m
    w = max(1, int(np.ceil((x1 - x0) / res - 1e-9)))
    h = max(1, int(np.ceil((y1 - y0) / res - 1e-9)))
    return PixelGrid(float(x0), float(y1), float(res), w, h,
                     cell_side_m if cell_side_m and cell_origin is not None else None)


@dataclass(frozen=True)
class StreetSamples:
    """Points every half pixel along every street, with the pixel each falls in.

    Attributes
    ----------
    grid
        The pixel grid.
    edge
        Edge of each sample (samples are in edge order).
    along_m
        Metres along the edge from its ``u`` end (in the units of ``edge_length_m``).
    edge_start
        ``edge_start[e]:edge_start[e + 1]`` are edge ``e``'s samples.
    pixel
        Flat pixel index of each sample.
    by_pixel
        Sample positions sorted by pixel (stable).
    pixels
        The distinct pixels holding a sample, ascending.
    pixel_start
        ``by_pixel[pixel_start[k]:pixel_start[k + 1]]`` are the samples of ``pixels[k]``.
    """

    grid: PixelGrid
    edge: np.ndarray
    along_m: np.ndarray
    edge_start: np.ndarray
    pixel: np.ndarray
    by_pixel: np.ndarray
    pixels: np.ndarray
    pixel_start: np.ndarray

    @classmethod
    def build(cls, network: WalkNetwork, grid: PixelGrid, *,
              engine: str | None = None) -> StreetSamples:
        """Sample every edge of ``network`` on ``grid``.

        Parameters
        ----------
        network
            The walking network.
        grid
            The pixel grid (covering the network).
        engine
            ``"compiled"`` (the ``care15._sample`` extension: one pass over the coordinates
            and a counting sort by pixel) or ``"numpy"`` (shapely's ``segmentize`` and numpy,
            in pieces of :data:`EDGES_PER_PIECE` edges, and a stable argsort); default
            :data:`SAMPLER`. The compiled path also falls back to numpy on edges that are not
            all LineStrings. Both give the same arrays.

        Returns
        -------
        StreetSamples
            The samples.
        """
        engine = engine or SAMPLER
        if engine not in ("compiled", "numpy"):
            raise ValueError(f"unknown sampling engine {engine!r}: 'compiled' or 'numpy'")
        if engine == "compiled" and _sample_streets is None:
            raise ValueError("the compiled sampler (care15._sample) was not built here")
        geoms = np.asarray(network.edge_geometry, dtype=object)
        if engine == "compiled" and len(geoms) and \
                (shapely.get_type_id(geoms) == shapely.GeometryType.LINESTRING).all():
            idx, along, pixel, edge_start = _compiled_samples(network, grid)
        else:
            idx, along, pixel, edge_start = _numpy_samples(network, grid)
        n_px = grid.width * grid.height
        if engine == "compiled" and _sort_by_pixel is not None and n_px <= COUNTING_SORT_PIXELS:
            by_pixel, pixels, pixel_start = _sort_by_pixel(pixel, n_px)
        else:
            by_pixel, pixels, pixel_start = _sort_numpy(pixel)
        return cls(grid, idx, along, edge_start, pixel, by_pixel, pixels, pixel_start)

    def of_edges(self, edges: np.ndarray) -> np.ndarray:
        """Positions of the samples of some edges.

        Parameters
        ----------
        edges
            Edge indices (distinct).

        Returns
        -------
        numpy.ndarray
            Sample positions.
        """
        return _ranges(self.edge_start[edges], self.edge_start[edges + 1])

    def of_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """Positions of every sample in some pixels.

        Parameters
        ----------
        pixels
            Flat pixel indices that hold samples (distinct).

        Returns
        -------
        numpy.ndarray
            Sample positions (grouped by pixel, in the order of ``pixels``).
        """
        k = np.searchsorted(self.pixels, pixels)
        return self.by_pixel[_ranges(self.pixel_start[k], self.pixel_start[k + 1])]


def _numpy_samples(network: WalkNetwork, grid: PixelGrid
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every edge's samples with numpy: edge, metres along, pixel, each edge's first sample."""
    n_e = network.n_edges
    parts = [_sample_edges(network, grid, e0, min(e0 + EDGES_PER_PIECE, n_e))
             for e0 in range(0, n_e, EDGES_PER_PIECE)]
    if parts:
        idx = np.concatenate([q[0] for q in parts])
        along = np.concatenate([q[1] for q in parts])
        pixel = np.concatenate([q[2] for q in parts])
    else:
        idx = np.empty(0, dtype=np.int32)
        along = np.empty(0)
        pixel = np.empty(0, dtype=np.int32)
    del parts
    edge_start = np.concatenate([[0], np.cumsum(np.bincount(idx, minlength=n_e))])
    return idx, along, pixel, edge_start.astype(np.int64)


def _sort_numpy(pixel: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The samples in stable order of pixel, the distinct pixels and where each one starts."""
    pos_t = np.int64 if len(pixel) >= 2**31 else np.int32
    by_pixel = np.argsort(pixel, kind="stable").astype(pos_t)
    sorted_px = pixel[by_pixel]
    first = np.flatnonzero(np.r_[True, sorted_px[1:] != sorted_px[:-1]]) if len(pixel) \
        else np.empty(0, dtype=np.int64)
    return by_pixel, sorted_px[first], np.append(first, len(pixel)).astype(np.int64)


def _compiled_samples(network: WalkNetwork, grid: PixelGrid
                      ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Every edge's samples with the compiled kernel (the arrays of :func:`_numpy_samples`).

    The edges' own coordinates go in (one ``get_coordinates`` call); the kernel densifies
    them as GEOS ``segmentize`` does and keeps the numpy path's running sum per piece of
    :data:`EDGES_PER_PIECE` edges, so the arrays are equal bit for bit.
    """
    assert _sample_streets is not None
    geoms = np.asarray(network.edge_geometry, dtype=object)
    n_e = len(geoms)
    xy, where = shapely.get_coordinates(geoms, return_index=True)
    coord_start = np.zeros(n_e + 1, dtype=np.int64)
    np.cumsum(np.bincount(where, minlength=n_e), out=coord_start[1:])
    del where
    glen = shapely.length(geoms)
    length = np.asarray(network.edge_length_m, dtype=float)
    scale = length / np.maximum(glen, 1e-12)
    edge, along, pixel, edge_start = _sample_streets(
        np.ascontiguousarray(xy, dtype=float), coord_start, (glen > 0).view(np.uint8),
        np.ascontiguousarray(scale), np.ascontiguousarray(length), grid.res_m / 2, grid.x0,
        grid.y1, grid.res_m, grid.width, grid.height, EDGES_PER_PIECE)
    return edge, along, pixel, edge_start


def _sample_edges(network: WalkNetwork, grid: PixelGrid, e0: int, e1: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Samples of edges ``e0:e1``: edge (int32), metres along it, flat pixel.

    Every half pixel along each edge (``shapely.segmentize``; a zero-length edge keeps its
    points); the metres along are the running sum of the steps over the piece minus its value
    at the edge's first point, scaled to ``edge_length_m`` and capped at it; a point on a
    pixel border is drawn into the pixels on both sides (a street along a cell edge must not
    pull the walk-off to one side). ``care15._sample.sample_streets`` does the same
    arithmetic in the same order: keep the two in step (and bump :data:`SAMPLES_VERSION`).
    """
    geoms = np.asarray(network.edge_geometry[e0:e1], dtype=object)
    dense = geoms.copy()
    # a zero-length edge (its points repeated) cannot be segmentized: it is its own sample
    long = shapely.length(geoms) > 0
    dense[long] = shapely.segmentize(geoms[long], grid.res_m / 2)
    xy, idx64 = shapely.get_coordinates(dense, return_index=True)
    del dense
    idx = idx64.astype(np.int32)
    del idx64
    same = np.zeros(len(xy), dtype=bool)
    same[1:] = idx[1:] == idx[:-1]
    step = np.zeros(len(xy))
    dx, dy = np.diff(xy[:, 0]), np.diff(xy[:, 1])
    step[1:] = np.where(same[1:], np.sqrt(dx * dx + dy * dy), 0.0)
    del dx, dy
    cum = np.cumsum(step)
    first = np.flatnonzero(~same)
    cum -= np.repeat(cum[first], np.diff(np.append(first, len(xy))))
    length = np.asarray(network.edge_length_m[e0:e1], dtype=float)
    scale = length / np.maximum(shapely.length(geoms), 1e-12)
    # metres along the edge, in the units of edge_length_m
    along = np.minimum(cum * scale[idx], length[idx])
    c_lo, c_hi = _border_pixels((xy[:, 0] - grid.x0) / grid.res_m, grid.width)
    r_lo, r_hi = _border_pixels((grid.y1 - xy[:, 1]) / grid.res_m, grid.height)
    two = c_hi != c_lo
    copies = (1 + two) * (1 + (r_hi != r_lo))
    if (copies == 1).all():  # no point on a border: one sample each
        col, row = c_lo, r_lo
    else:
        rep = np.repeat(np.arange(len(copies), dtype=np.int32), copies)
        k = (np.arange(len(rep), dtype=np.int32)
             - np.repeat((np.cumsum(copies) - copies).astype(np.int32), copies))
        two_c = two[rep]
        col = np.where(two_c & (k % 2 == 1), c_hi[rep], c_lo[rep])
        rk = np.where(two_c, k // 2, k)
        row = np.where(rk == 1, r_hi[rep], r_lo[rep])
        idx, along = idx[rep], along[rep]
    big = grid.width * grid.height >= 2**31
    pixel = row.astype(np.int64 if big else np.int32) * grid.width + col
    return (idx + np.int32(e0)).astype(np.int32), along, pixel


def _border_pixels(f: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Pixel index of coordinates ``f`` (in pixels): the two pixels when on a border.

    A point within a millionth of a pixel of a border lies in the pixels on both sides (low,
    high); elsewhere both are the pixel it is in. Clipped to ``0 .. n - 1``.
    """
    k = np.round(f)
    on = np.abs(f - k) < 1e-6
    lo = np.where(on, k - 1, np.floor(f))
    hi = np.where(on, k, lo)
    return (np.clip(lo, 0, n - 1).astype(np.int32), np.clip(hi, 0, n - 1).astype(np.int32))


def street_samples(network: WalkNetwork, grid: PixelGrid) -> StreetSamples:
    """The network's street samples on ``grid``, made once per network and grid.

    Parameters
    ----------
    network
        The walking network (the samples are kept on it).
    grid
        The pixel grid.

    Returns
    -------
    StreetSamples
        Shared by every field on this grid.
    """
    store: dict[PixelGrid, StreetSamples] = network.__dict__.setdefault("_street_samples", {})
    if grid not in store:
        store.clear()  # one grid per network at a time keeps memory bounded
        store[grid] = StreetSamples.build(network, grid)
    return store[grid]


def _sample_metres(samples: StreetSamples, pos: np.ndarray, network: WalkNetwork,
                   nd: NodeDistances, fac: _EdgeFacilities) -> np.ndarray:
    """Walking metres from the nearest facility to the samples at ``pos``."""
    e = samples.edge[pos]
    s = samples.along_m[pos]
    L = network.edge_length_m[e]
    d = np.minimum(nd.dist_m[network.edge_u[e]] + s, nd.dist_m[network.edge_v[e]] + (L - s))
    # a sample stands for the street a quarter pixel either side of it: its nearest point
    d = np.maximum(d - samples.grid.res_m / 4, 0.0)
    if len(fac.edge):
        # samples on a facility's own edge: the stretch it reaches along that street
        on_fac = np.zeros(network.n_edges, dtype=bool)
        on_fac[fac.edge] = True
        hit = np.flatnonzero(on_fac[e])
        if len(hit):
            lo = np.searchsorted(fac.edge, e[hit], side="left")
            hi = np.searchsorted(fac.edge, e[hit], side="right")
            sh = s[hit]
            quarter = samples.grid.res_m / 4
            best = d[hit]
            for j in range(int((hi - lo).max())):  # facilities sharing one edge: a few
                f = lo + j
                has = f < hi
                fj = np.where(has, f, lo)
                dd = fac.access_m[fj] + np.maximum(np.abs(sh - fac.along_m[fj]) - quarter, 0.0)
                best = np.where(has, np.minimum(best, dd), best)
            d[hit] = best
    return d


def _compiled_street(samples: StreetSamples, network: WalkNetwork, nd: NodeDistances,
                     fac: _EdgeFacilities, limit_m: float, street: np.ndarray) -> None:
    """:func:`_sample_metres` and the per-pixel minimum in compiled code, into ``street``.

    The compiled pass takes every sample's walk through its edge's ends; the samples on a
    facility's own edge (a few) then add their walks straight along that edge, as
    :func:`_sample_metres` does. Each pixel's value is the smallest of its samples' (float32
    rounding keeps the order, so the two steps give the numpy path's values exactly).
    """
    assert _street_pixel_min is not None
    _street_pixel_min(samples.by_pixel, samples.pixel_start, samples.pixels, samples.edge,
                      samples.along_m, network.edge_u.astype(np.int64, copy=False),
                      network.edge_v.astype(np.int64, copy=False),
                      np.ascontiguousarray(network.edge_length_m, dtype=float),
                      np.ascontiguousarray(nd.dist_m, dtype=float),
                      samples.grid.res_m / 4, float(limit_m), street)
    if len(fac.edge):
        pos = samples.of_edges(np.unique(fac.edge))
        d = _sample_metres(samples, pos, network, nd, fac)
        d[d > limit_m] = np.inf
        np.minimum.at(street, samples.pixel[pos], d.astype(np.float32))


@dataclass(frozen=True)
class _EdgeFacilities:
    """Snapped facilities sorted by edge: ``edge``, ``along_m``, ``access_m``."""

    edge: np.ndarray
    along_m: np.ndarray
    access_m: np.ndarray

    @classmethod
    def of(cls, src: Snapped) -> _EdgeFacilities:
        ok = np.flatnonzero(src.ok)
        order = ok[np.lexsort((src.access_m[ok], src.along_m[ok], src.edge[ok]))]
        return cls(src.edge[order].astype(np.int64), src.along_m[order].astype(float),
                   src.access_m[order].astype(float))

    def edges_differing(self, other: _EdgeFacilities) -> np.ndarray:
        """Edges whose facilities (position along, access) differ between the two lists."""
        rows = np.concatenate([np.column_stack([self.edge, self.along_m, self.access_m]),
                               np.column_stack([other.edge, other.along_m, other.access_m])])
        sign = np.concatenate([np.ones(len(self.edge)), -np.ones(len(other.edge))])
        if len(rows) == 0:
            return np.empty(0, dtype=np.int64)
        uniq, inv = np.unique(rows, axis=0, return_inverse=True)
        net = np.bincount(inv.ravel(), weights=sign, minlength=len(uniq))
        return np.unique(uniq[net != 0, 0].astype(np.int64))


def _disk_rows(radius_px: float) -> list[tuple[int, int]]:
    """Half-widths of the disk's rows: ``(dy, half_width)`` for every row it covers."""
    k = int(np.floor(radius_px))
    rows = []
    for dy in range(-k, k + 1):
        hw = int(np.floor(np.sqrt(max(radius_px**2 - dy * dy, 0.0)) + 1e-9))
        rows.append((dy, hw))
    return rows


def _disk_min(p: np.ndarray, rows: list[tuple[int, int]]) -> np.ndarray:
    """Minimum of ``p`` over a disk around each pixel (``inf`` beyond the array).

    The running minimum along the rows grows one pixel each side at a time (two shifted
    :func:`numpy.minimum` calls per pixel of width, exact); each row of the disk then takes
    the running minimum of its half-width, shifted by its row offset.
    """
    out = np.full(p.shape, np.inf, dtype=p.dtype)
    h = p.shape[0]
    by_width: dict[int, list[int]] = {}
    for dy, hw in rows:
        by_width.setdefault(hw, []).append(dy)
    f = p.copy()
    cur = 0  # f[:, x] = min(p[:, x - cur:x + cur + 1])
    for hw in sorted(by_width):
        while cur < hw:
            cur += 1
            np.minimum(f[:, cur:], p[:, :-cur], out=f[:, cur:])
            np.minimum(f[:, :-cur], p[:, cur:], out=f[:, :-cur])
        for dy in by_width[hw]:  # out[r] = min(out[r], f[r + dy])
            if abs(dy) >= h:
                continue
            if dy >= 0:
                np.minimum(out[:h - dy], f[dy:], out=out[:h - dy])
            else:
                np.minimum(out[-dy:], f[:h + dy], out=out[-dy:])
    return out


@dataclass
class IsoField:
    """The walking-distance field of one category's facilities (see the module notes).

    Attributes
    ----------
    network
        The walking network.
    samples
        Its street samples on the grid.
    walkoff_m
        Walk-off buffer (metres).
    limit_m
        Distances beyond this are ``inf`` (the longest threshold's budget).
    street
        Per pixel, the walking metres of its nearest-to-a-facility street sample (float32).
    field_m
        Per pixel, the smallest street value within the walk-off (float32): the field.
    """

    network: WalkNetwork
    samples: StreetSamples
    walkoff_m: float
    limit_m: float
    street: np.ndarray = field(repr=False)
    field_m: np.ndarray = field(repr=False)

    @property
    def grid(self) -> PixelGrid:
        """The pixel grid.

        Returns
        -------
        PixelGrid
            Shared with the samples.
        """
        return self.samples.grid

    @classmethod
    def build(cls, network: WalkNetwork, nd: NodeDistances, grid: PixelGrid, *,
              walkoff_m: float, limit_m: float) -> IsoField:
        """The field of the facilities behind ``nd``.

        Parameters
        ----------
        network
            The walking network.
        nd
            Node distances to the facilities (searched at least to ``limit_m``).
        grid
            The pixel grid (:func:`pixel_grid`).
        walkoff_m
            Walk-off buffer (metres).
        limit_m
            The longest budget; farther streets count as not reached.

        Returns
        -------
        IsoField
            The field.
        """
        samples = street_samples(network, grid)
        fac = _EdgeFacilities.of(nd.sources)
        street = np.full(grid.height * grid.width, np.inf, dtype=np.float32)
        if _street_pixel_min is not None and len(samples.pixels):
            _compiled_street(samples, network, nd, fac, limit_m, street)
            street = street.reshape(grid.shape)
            rows = _disk_rows(_walkoff_radius_px(walkoff_m, grid.res_m))
            return cls(network, samples, walkoff_m, limit_m, street, _disk_min(street, rows))
        ps = samples.pixel_start
        # in pieces of about a million samples, whole pixels each: bounded memory on a city
        cut = np.unique(np.searchsorted(ps, np.arange(0, int(ps[-1]), SAMPLES_PER_PIECE)))
        cut = np.append(cut[cut < len(samples.pixels)], len(samples.pixels))
        for k0, k1 in itertools.pairwise(cut):
            pos = samples.by_pixel[ps[k0]:ps[k1]]
            d = _sample_metres(samples, pos, network, nd, fac)
            d[d > limit_m] = np.inf
            street[samples.pixels[k0:k1]] = np.minimum.reduceat(d, ps[k0:k1] - ps[k0])
        street = street.reshape(grid.shape)
        rows = _disk_rows(_walkoff_radius_px(walkoff_m, grid.res_m))
        return cls(network, samples, walkoff_m, limit_m, street, _disk_min(street, rows))

    def update(self, old: NodeDistances, new: NodeDistances) -> tuple[slice, slice] | None:
        """Redraw the pixels the change from ``old`` to ``new`` distances touches.

        Parameters
        ----------
        old
            Node distances the field was built or last updated with.
        new
            Node distances after the edit (the same network; the sources may differ).

        Returns
        -------
        tuple of slice or None
            The window of the field that was recomputed (rows, columns), or None when
            nothing changed.
        """
        net, smp = self.network, self.samples
        dn = old.dist_m != new.dist_m
        # distances beyond the limit count as not reached either way
        dn &= np.minimum(old.dist_m, new.dist_m) <= self.limit_m
        changed_e = dn[net.edge_u] | dn[net.edge_v]
        old_fe = _EdgeFacilities.of(old.sources)
        new_fe = _EdgeFacilities.of(new.sources)
        changed_e[new_fe.edges_differing(old_fe)] = True
        edges = np.flatnonzero(changed_e)
        if len(edges) == 0:
            return None
        pix = np.unique(smp.pixel[smp.of_edges(edges)])
        pos = smp.of_pixels(pix)
        d = _sample_metres(smp, pos, net, new, new_fe)
        d[d > self.limit_m] = np.inf
        counts = np.diff(smp.pixel_start[np.searchsorted(smp.pixels, pix)[:, None]
                                         + np.array([0, 1])], axis=1).ravel()
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        flat = self.street.reshape(-1)
        flat[pix] = np.minimum.reduceat(d, starts).astype(np.float32)
        g = self.grid
        rows = _disk_rows(_walkoff_radius_px(self.walkoff_m, g.res_m))
        k = max(hw for _, hw in rows) if rows else 0
        k = max(k, max(abs(dy) for dy, _ in rows) if rows else 0)
        r, c = np.divmod(pix, g.width)
        r0, r1 = max(int(r.min()) - k, 0), min(int(r.max()) + k + 1, g.height)
        c0, c1 = max(int(c.min()) - k, 0), min(int(c.max()) + k + 1, g.width)
        # the field of the window needs the streets a walk-off beyond it
        R0, R1 = max(r0 - k, 0), min(r1 + k, g.height)
        C0, C1 = max(c0 - k, 0), min(c1 + k, g.width)
        sub = _disk_min(self.street[R0:R1, C0:C1], rows)
        self.field_m[r0:r1, c0:c1] = sub[r0 - R0:r1 - R0, c0 - C0:c1 - C0]
        return slice(r0, r1), slice(c0, c1)

    def mask(self, budget_m: float) -> np.ndarray:
        """Pixels inside the ``budget_m`` isochrone.

        Parameters
        ----------
        budget_m
            Walking metres.

        Returns
        -------
        numpy.ndarray
            Boolean raster (the grid's shape).
        """
        return np.asarray(self.field_m <= np.float32(budget_m))

    def polygon(self, budget_m: float, *, simplify_m: float = 2.0) -> shapely.Geometry:
        """The ``budget_m`` isochrone as a (Multi)Polygon in the network CRS.

        Parameters
        ----------
        budget_m
            Walking metres.
        simplify_m
            Douglas-Peucker tolerance (at least half a pixel), as in
            :func:`care15.isochrones.isochrone_polygon`.

        Returns
        -------
        shapely.Geometry
            Empty MultiPolygon when nothing is reached.
        """
        from rasterio import features
        from rasterio.transform import from_origin

        m = self.mask(budget_m)
        rows = np.flatnonzero(m.any(axis=1))
        if len(rows) == 0:
            return shapely.MultiPolygon()
        cols = np.flatnonzero(m.any(axis=0))
        r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
        g = self.grid
        win = m[r0:r1, c0:c1]
        tr = from_origin(g.x0 + c0 * g.res_m, g.y1 - r0 * g.res_m, g.res_m, g.res_m)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", PendingDeprecationWarning)
            shapes = [shapely.geometry.shape(s) for s, _ in
                      features.shapes(win.astype(np.uint8), mask=win, transform=tr)]
        geom = shapely.multipolygons(shapes)
        geom = shapely.simplify(geom, max(simplify_m, g.res_m / 2), preserve_topology=False)
        if not shapely.is_valid(geom):
            parts = shapely.get_parts(shapely.make_valid(geom))
            geom = shapely.union_all(parts[np.isin(shapely.get_type_id(parts), (3, 6))])
        return geom

    def area_km2(self, budget_m: float) -> float:
        """Area of the ``budget_m`` isochrone's pixels.

        Parameters
        ----------
        budget_m
            Walking metres.

        Returns
        -------
        float
            Square kilometres.
        """
        return float(np.count_nonzero(self.field_m <= np.float32(budget_m))) \
            * self.grid.res_m**2 / 1e6

    def overlay_shares(self, budget_m: float, cell_col: np.ndarray,
                       cell_row: np.ndarray) -> np.ndarray:
        """Share of each square cell's pixels inside the ``budget_m`` isochrone.

        Parameters
        ----------
        budget_m
            Walking metres.
        cell_col, cell_row
            Each cell's column and row in cell units from the grid's top-left corner (the
            grid must be aligned with the cells: ``grid.cell_side_m`` set).

        Returns
        -------
        numpy.ndarray
            Share in [0, 1] per cell; 0 for cells outside the grid.
        """
        g = self.grid
        if g.cell_side_m is None:
            raise ValueError("the pixel grid is not aligned with square cells")
        sub = round(g.cell_side_m / g.res_m)
        nr, nc = g.height // sub, g.width // sub
        m = self.mask(budget_m)[:nr * sub, :nc * sub]
        blocks = m.reshape(nr, sub, nc, sub).sum(axis=(1, 3), dtype=np.int64)
        inside = (cell_col >= 0) & (cell_col < nc) & (cell_row >= 0) & (cell_row < nr)
        out = np.zeros(len(cell_col))
        out[inside] = blocks[cell_row[inside], cell_col[inside]] / float(sub * sub)
        return out
