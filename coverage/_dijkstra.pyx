# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# cython: language_level=3
"""Compiled multi-source Dijkstra for :func:`care15.access.nearest_facility`.

Two searches over a CSR graph from many seeded nodes (each with a starting distance and a
label), answering the same question as ``scipy.sparse.csgraph.dijkstra(..., min_only=True)``
over a graph with one virtual node per source:

* :func:`multi_source` -- Dijkstra with an indexed 4-ary heap (decrease-key, so the heap never
  holds more than the frontier);
* :func:`multi_source_bucket` -- a single-threaded bucket queue (Delta-stepping): nodes are kept
  in buckets of width ``delta`` by distance, the buckets are emptied in order and a node
  improved again inside the bucket being emptied is simply processed again, so the distances
  are exact for any non-negative float weights (the same floating-point sums as Dijkstra's).

Both take optional starting arrays ``dist0``/``label0`` (a warm start: the search improves a
previous answer from new seeds, see :func:`care15.access.update_nearest`). Built as an optional
extension: without a C compiler, care15 uses the scipy search and gives the same numbers.
"""

import numpy as np

from libc.math cimport INFINITY
from libc.stdint cimport INT64_MAX, int32_t, int64_t
from libc.stdlib cimport free, malloc, realloc


cdef inline void _place(double* key, int32_t* node, int32_t* slot, Py_ssize_t j, double d,
                        int32_t u) noexcept nogil:
    key[j] = d
    node[j] = u
    slot[u] = <int32_t>j


cdef inline void _sift_up(double* key, int32_t* node, int32_t* slot, Py_ssize_t j, double d,
                          int32_t u) noexcept nogil:
    """Put (d, u) at slot j or above, moving larger parents down."""
    cdef Py_ssize_t p
    while j > 0:
        p = (j - 1) >> 2
        if key[p] <= d:
            break
        _place(key, node, slot, j, key[p], node[p])
        j = p
    _place(key, node, slot, j, d, u)


cdef inline void _sift_down(double* key, int32_t* node, int32_t* slot, Py_ssize_t size,
                            double d, int32_t u) noexcept nogil:
    """Put (d, u) at the root or below, moving the smallest of four children up."""
    cdef Py_ssize_t j = 0, c, cmin, c_end, i
    cdef double best
    while True:
        c = 4 * j + 1
        if c >= size:
            break
        cmin = c
        best = key[c]
        c_end = c + 4
        if c_end > size:
            c_end = size
        for i in range(c + 1, c_end):
            if key[i] < best:
                best = key[i]
                cmin = i
        if best >= d:
            break
        _place(key, node, slot, j, best, node[cmin])
        j = cmin
    _place(key, node, slot, j, d, u)


cdef inline Py_ssize_t _push(double* key, int32_t* node, int32_t* slot, Py_ssize_t size,
                             double d, int32_t u) noexcept nogil:
    """Queue u at distance d (or lower its key if queued); returns the new heap size."""
    if slot[u] < 0:
        _sift_up(key, node, slot, size, d, u)
        return size + 1
    _sift_up(key, node, slot, slot[u], d, u)
    return size


def _start(Py_ssize_t n, dist0, label0):
    """Fresh output arrays: copies of ``dist0``/``label0``, or all ``inf``/-1."""
    if (dist0 is None) != (label0 is None):
        raise ValueError("give both dist0 and label0, or neither")
    if dist0 is None:
        return np.full(n, np.inf), np.full(n, -1, dtype=np.int64)
    dist_a = np.array(dist0, dtype=np.float64, order="C", copy=True)
    label_a = np.array(label0, dtype=np.int64, order="C", copy=True)
    if dist_a.shape != (n,) or label_a.shape != (n,):
        raise ValueError(f"dist0 and label0 must have one entry per node ({n})")
    return dist_a, label_a


def multi_source(const int32_t[::1] indptr, const int32_t[::1] indices, const double[::1] data,
                 const int64_t[::1] seed_node, const double[::1] seed_m,
                 const int64_t[::1] seed_label, double limit, dist0=None, label0=None):
    """Distances and labels of the nearest seed for every node (indexed 4-ary heap).

    Parameters
    ----------
    indptr, indices, data
        A CSR graph with ``n`` nodes (directed; non-negative weights).
    seed_node, seed_m, seed_label
        Seeds: a node (0 <= node < n, checked by the caller), its starting distance and the
        label a node reached from it receives. A node seeded twice keeps the smaller distance.
    limit
        Nodes farther than this stay at ``inf`` with label -1 (or at their ``dist0``).
    dist0, label0
        Optional warm start: every node's distance and label before the search (copied, never
        changed). The search then only improves them: a seed is queued where it is shorter
        than ``dist0`` and an edge is relaxed where it shortens its end. For an exact answer
        every edge ``(u, v)`` with ``u`` not seeded must already satisfy
        ``dist0[v] <= dist0[u] + w`` (within ``limit``), and every ``dist0`` must be the length
        of a real walk from a seed or ``inf``.

    Returns
    -------
    dist : numpy.ndarray of float64
    label : numpy.ndarray of int64
    """
    cdef Py_ssize_t n = indptr.shape[0] - 1
    dist_a, label_a = _start(max(n, 0), dist0, label0)
    if n <= 0:
        return dist_a, label_a
    cdef double[::1] dist = dist_a
    cdef int64_t[::1] label = label_a
    # slot[u]: -1 never queued, -2 settled, >= 0 its place in the heap
    cdef int32_t* slot = <int32_t*>malloc(n * sizeof(int32_t))
    cdef double* key = <double*>malloc(n * sizeof(double))
    cdef int32_t* node = <int32_t*>malloc(n * sizeof(int32_t))
    if slot == NULL or key == NULL or node == NULL:
        free(slot)
        free(key)
        free(node)
        raise MemoryError("multi_source: cannot allocate the heap")
    cdef Py_ssize_t size = 0, i, e
    cdef double d, nd
    cdef int32_t u, v
    with nogil:
        for i in range(n):
            slot[i] = -1
        for i in range(seed_node.shape[0]):
            u = <int32_t>seed_node[i]
            d = seed_m[i]
            if d < dist[u] and d <= limit:
                dist[u] = d
                label[u] = seed_label[i]
                size = _push(key, node, slot, size, d, u)
        while size > 0:
            d = key[0]
            u = node[0]
            slot[u] = -2
            size -= 1
            if size > 0:  # the last entry goes to the root and sinks
                _sift_down(key, node, slot, size, key[size], node[size])
            for e in range(indptr[u], indptr[u + 1]):
                v = indices[e]
                if slot[v] == -2:
                    continue
                nd = d + data[e]
                if nd < dist[v] and nd <= limit:
                    dist[v] = nd
                    label[v] = label[u]
                    size = _push(key, node, slot, size, nd, v)
    free(slot)
    free(key)
    free(node)
    return dist_a, label_a


cdef struct _State:
    # one node's state in the bucket search, together so that a relaxation touches one line
    double dist
    int32_t label
    int32_t bucket  # the bucket it waits in, or -1 when not queued


cdef inline int _bpush(int32_t** items, Py_ssize_t* size, Py_ssize_t* cap, Py_ssize_t b,
                       int32_t v) noexcept nogil:
    """Append v to bucket b (a growable array); returns -1 when memory runs out."""
    cdef Py_ssize_t c
    cdef int32_t* p
    if size[b] == cap[b]:
        c = 2 * cap[b] if cap[b] else 64
        p = <int32_t*>realloc(items[b], c * sizeof(int32_t))
        if p == NULL:
            return -1
        items[b] = p
        cap[b] = c
    items[b][size[b]] = v
    size[b] += 1
    return 0


def multi_source_bucket(const int32_t[::1] indptr, const int32_t[::1] indices,
                        const double[::1] data, const int64_t[::1] seed_node,
                        const double[::1] seed_m, const int64_t[::1] seed_label, double limit,
                        double delta, dist0=None, label0=None, double wmax=-1.0):
    """Distances and labels of the nearest seed for every node (bucket queue, Delta-stepping).

    Same inputs, outputs and warm start as :func:`multi_source`, the same distances (bit for
    bit: each is the smallest of the same floating-point sums) and the same labels except
    between equidistant seeds.

    Parameters
    ----------
    indptr, indices, data
        A CSR graph with ``n`` nodes (directed; non-negative weights, zeros allowed).
    seed_node, seed_m, seed_label
        Seeds: a node (0 <= node < n, checked by the caller), its starting distance and its
        label (0 <= label < 2**31). A node seeded twice keeps the smaller distance.
    limit
        Nodes farther than this stay at ``inf`` with label -1 (or at their ``dist0``).
    delta
        Bucket width (> 0). Node ``u`` waits in bucket ``floor(dist[u] / delta)``; the buckets
        are emptied in order, and a node improved again while its own bucket is being emptied
        (through an edge shorter than ``delta``) is processed again, so every width gives the
        exact answer. Narrow buckets mean stepping through many nearly empty ones, wide ones
        mean processing some nodes twice; a few median edge lengths balance the two. A
        width so narrow that the buckets would not fit (more than 2**16 between an edge's ends,
        or 10**9 in all) is widened.
    dist0, label0
        Optional warm start, as in :func:`multi_source`.
    wmax
        The longest edge (``data.max()``), when the caller knows it; by default (< 0) the
        kernel finds it. A value below the true longest edge gives wrong answers.

    Returns
    -------
    dist : numpy.ndarray of float64
    label : numpy.ndarray of int64

    Notes
    -----
    Seeds are queued when their bucket comes up, in node order within a bucket: nodes of one
    bucket are then processed roughly in memory order, which is much kinder to the cache than
    the random order of the facilities.
    """
    if not (delta > 0 and delta < np.inf):
        raise ValueError(f"delta must be a positive finite width, not {delta!r}")
    cdef Py_ssize_t n = indptr.shape[0] - 1
    dist_a, label_a = _start(max(n, 0), dist0, label0)
    cdef Py_ssize_t ns = seed_node.shape[0]
    if n <= 0 or ns == 0:
        return dist_a, label_a
    if n >= 2**31 - 1:
        raise ValueError("multi_source_bucket: too many nodes for 32-bit node numbers")
    cdef double[::1] dist = dist_a
    cdef int64_t[::1] label = label_a
    cdef double far = -1.0, d
    cdef Py_ssize_t e, i
    with nogil:
        if wmax < 0:
            wmax = 0.0
            for e in range(data.shape[0]):
                if data[e] > wmax:
                    wmax = data[e]
        for i in range(ns):  # the farthest seed that may be queued (not NaN, not inf)
            d = seed_m[i]
            if d <= limit and d > far and d < INFINITY:
                far = d
    if far < 0:
        return dist_a, label_a
    # the farthest a queued node can be: a seed, then at most n - 1 edges
    far += (n - 1) * wmax
    if limit < far:
        far = limit
    cdef double inv = 1.0 / delta
    if wmax * inv > 65536:
        inv = 65536 / wmax
    if far * inv > 1e9:
        inv = 1e9 / far
    # a relaxation from bucket b lands in bucket b .. b + wmax / delta + 1 (+1 for rounding):
    # that many buckets, used cyclically, hold everything queued
    cdef Py_ssize_t nb = <Py_ssize_t>(wmax * inv + 3.0)
    # seeds by bucket, then by node; those beyond the limit last
    key_a = np.empty(ns, dtype=np.int64)
    cdef int64_t[::1] key = key_a
    with nogil:
        for i in range(ns):
            d = seed_m[i]
            if d <= far:
                key[i] = <int64_t>(d * inv) * n + seed_node[i]
            else:
                key[i] = INT64_MAX
    order_a = np.argsort(key_a, kind="stable")
    cdef int64_t[::1] order = order_a
    cdef _State* st = <_State*>malloc(n * sizeof(_State))
    cdef int32_t** items = <int32_t**>malloc(nb * sizeof(int32_t*))
    cdef Py_ssize_t* bsize = <Py_ssize_t*>malloc(nb * sizeof(Py_ssize_t))
    cdef Py_ssize_t* bcap = <Py_ssize_t*>malloc(nb * sizeof(Py_ssize_t))
    if st == NULL or items == NULL or bsize == NULL or bcap == NULL:
        free(st)
        free(items)
        free(bsize)
        free(bcap)
        raise MemoryError("multi_source_bucket: cannot allocate the buckets")
    cdef Py_ssize_t j, s = 0, pending = 0, slot
    cdef int32_t cur = 0, b, u, v, lu
    cdef double nd
    cdef int failed = 0
    cdef _State* sv
    with nogil:
        for i in range(n):
            st[i].dist = dist[i]
            st[i].label = <int32_t>label[i]
            st[i].bucket = -1
        for i in range(nb):
            items[i] = NULL
            bsize[i] = 0
            bcap[i] = 0
        while failed == 0:
            if pending == 0:  # nothing queued: jump to the next useful seed's bucket
                while s < ns and not (seed_m[order[s]] < st[seed_node[order[s]]].dist
                                      and seed_m[order[s]] <= far):
                    s += 1
                if s >= ns or not seed_m[order[s]] <= far:
                    break
                b = <int32_t>(seed_m[order[s]] * inv)
                if b > cur:  # the buckets skipped hold only stale entries, skipped as any
                    cur = b
            # queue the seeds whose bucket has come up
            while s < ns:
                i = order[s]
                d = seed_m[i]
                if not d <= far or <int32_t>(d * inv) > cur:
                    break  # seeds beyond the limit come last
                s += 1
                u = <int32_t>seed_node[i]
                if d < st[u].dist:
                    st[u].dist = d
                    st[u].label = <int32_t>seed_label[i]
                    if st[u].bucket != cur:
                        if st[u].bucket < 0:
                            pending += 1
                        st[u].bucket = cur
                        if _bpush(items, bsize, bcap, cur % nb, u) < 0:
                            failed = 1
                            break
            # empty bucket cur; nodes it improves below its upper edge join it at the end
            slot = cur % nb
            j = 0
            while j < bsize[slot] and failed == 0:
                u = items[slot][j]
                j += 1
                if st[u].bucket != cur:
                    continue  # a stale entry: u moved to a lower bucket and was done there
                st[u].bucket = -1
                pending -= 1
                d = st[u].dist
                lu = st[u].label
                for e in range(indptr[u], indptr[u + 1]):
                    v = indices[e]
                    nd = d + data[e]
                    sv = &st[v]
                    if nd < sv.dist and nd <= limit:
                        sv.dist = nd
                        sv.label = lu
                        b = <int32_t>(nd * inv)
                        if sv.bucket != b:
                            if sv.bucket < 0:
                                pending += 1
                            sv.bucket = b
                            if _bpush(items, bsize, bcap, b % nb, v) < 0:
                                failed = 1
                                break
            bsize[slot] = 0
            cur += 1
        for i in range(n):
            dist[i] = st[i].dist
            label[i] = st[i].label
    for i in range(nb):
        free(items[i])
    free(st)
    free(items)
    free(bsize)
    free(bcap)
    if failed:
        raise MemoryError("multi_source_bucket: cannot grow a bucket")
    return dist_a, label_a
