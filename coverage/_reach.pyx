# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
# cython: language_level=3
"""Compiled bounded searches from many origins for :func:`care15.access.reach`.

One Dijkstra per origin (each origin seeds its edge's two ends), stopped at ``limit``, with an
indexed binary heap and a list of the nodes it touched, so that each search costs what it
reaches, not the size of the city: the arrays are cleared node by node afterwards, never
re-allocated. Returns every (origin, node, metres) reached, which the caller turns into
(origin, target) pairs. Built as an optional extension like the travel-time kernel; without
it, care15 uses the scipy path and gives the same pairs.
"""

import numpy as np

from libc.stdint cimport int32_t, int64_t
from libc.stdlib cimport free, malloc, qsort, realloc


cdef inline void _up(double* key, int32_t* node, int32_t* slot, Py_ssize_t j, double d,
                     int32_t u) noexcept nogil:
    cdef Py_ssize_t p
    while j > 0:
        p = (j - 1) >> 1
        if key[p] <= d:
            break
        key[j] = key[p]
        node[j] = node[p]
        slot[node[j]] = <int32_t>j
        j = p
    key[j] = d
    node[j] = u
    slot[u] = <int32_t>j


cdef inline void _down(double* key, int32_t* node, int32_t* slot, Py_ssize_t size, double d,
                       int32_t u) noexcept nogil:
    cdef Py_ssize_t j = 0, c
    while True:
        c = 2 * j + 1
        if c >= size:
            break
        if c + 1 < size and key[c + 1] < key[c]:
            c += 1
        if key[c] >= d:
            break
        key[j] = key[c]
        node[j] = node[c]
        slot[node[j]] = <int32_t>j
        j = c
    key[j] = d
    node[j] = u
    slot[u] = <int32_t>j


cdef inline Py_ssize_t _seed(const int64_t[::1] seed_node, const double[::1] seed_m,
                             int64_t i0, int64_t i1, double limit, double* dist, double* key,
                             int32_t* hnode, int32_t* slot, int32_t* touched,
                             Py_ssize_t* n_touched) noexcept nogil:
    """Queue one origin's seeds ``i0:i1`` on an empty heap; returns the heap's size.

    A seed beyond ``limit`` is dropped; a node seeded twice keeps the smaller distance. Every
    node queued is added to ``touched`` (``n_touched`` counts them) to be cleared later.
    """
    cdef Py_ssize_t size = 0, i
    cdef int32_t u
    cdef double d
    for i in range(i0, i1):
        u = <int32_t>seed_node[i]
        d = seed_m[i]
        if d <= limit and d < dist[u]:
            dist[u] = d
            if slot[u] == -1:
                touched[n_touched[0]] = u
                n_touched[0] += 1
                _up(key, hnode, slot, size, d, u)
                size += 1
            else:
                _up(key, hnode, slot, slot[u], d, u)
    return size


def bounded_many(const int32_t[::1] indptr, const int32_t[::1] indices,
                 const double[::1] data, const int64_t[::1] seed_ptr,
                 const int64_t[::1] seed_node, const double[::1] seed_m, double limit):
    """Every node within ``limit`` of each origin, with its metres.

    Parameters
    ----------
    indptr, indices, data
        A CSR graph with ``n`` nodes (non-negative weights).
    seed_ptr
        ``seed_ptr[k]:seed_ptr[k + 1]`` are origin ``k``'s seeds (nodes checked by the caller).
    seed_node, seed_m
        Each seed's node and starting metres.
    limit
        Longest walk kept.

    Returns
    -------
    origin : numpy.ndarray of int64
    node : numpy.ndarray of int64
    dist : numpy.ndarray of float64
        One entry per (origin, reached node).
    """
    cdef Py_ssize_t n = indptr.shape[0] - 1
    cdef Py_ssize_t n_orig = seed_ptr.shape[0] - 1
    if n <= 0 or n_orig <= 0:
        return (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0))
    cdef double* dist = <double*>malloc(n * sizeof(double))
    cdef int32_t* slot = <int32_t*>malloc(n * sizeof(int32_t))
    cdef double* key = <double*>malloc(n * sizeof(double))
    cdef int32_t* hnode = <int32_t*>malloc(n * sizeof(int32_t))
    cdef int32_t* touched = <int32_t*>malloc(n * sizeof(int32_t))
    cdef Py_ssize_t cap = 1 << 16
    cdef int64_t* out_o = <int64_t*>malloc(cap * sizeof(int64_t))
    cdef int32_t* out_n = <int32_t*>malloc(cap * sizeof(int32_t))
    cdef double* out_d = <double*>malloc(cap * sizeof(double))
    if (dist == NULL or slot == NULL or key == NULL or hnode == NULL or touched == NULL
            or out_o == NULL or out_n == NULL or out_d == NULL):
        free(dist); free(slot); free(key); free(hnode); free(touched)
        free(out_o); free(out_n); free(out_d)
        raise MemoryError("bounded_many: cannot allocate")
    cdef Py_ssize_t i, k, e, size, n_touched, n_out = 0
    cdef int32_t u, v
    cdef double d, nd
    cdef int64_t* po
    cdef int32_t* pn
    cdef double* pd
    cdef bint failed = False
    with nogil:
        for i in range(n):
            dist[i] = 1e308
            slot[i] = -1
        for k in range(n_orig):
            n_touched = 0
            size = _seed(seed_node, seed_m, seed_ptr[k], seed_ptr[k + 1], limit, dist, key,
                         hnode, slot, touched, &n_touched)
            while size > 0:
                d = key[0]
                u = hnode[0]
                slot[u] = -2
                size -= 1
                if size > 0:
                    _down(key, hnode, slot, size, key[size], hnode[size])
                if n_out == cap:
                    cap *= 2
                    po = <int64_t*>realloc(out_o, cap * sizeof(int64_t))
                    pn = <int32_t*>realloc(out_n, cap * sizeof(int32_t))
                    pd = <double*>realloc(out_d, cap * sizeof(double))
                    if po != NULL:
                        out_o = po
                    if pn != NULL:
                        out_n = pn
                    if pd != NULL:
                        out_d = pd
                    if po == NULL or pn == NULL or pd == NULL:
                        failed = True
                        break
                out_o[n_out] = k
                out_n[n_out] = u
                out_d[n_out] = d
                n_out += 1
                for e in range(indptr[u], indptr[u + 1]):
                    v = indices[e]
                    if slot[v] == -2:
                        continue
                    nd = d + data[e]
                    if nd <= limit and nd < dist[v]:
                        dist[v] = nd
                        if slot[v] == -1:
                            touched[n_touched] = v
                            n_touched += 1
                            _up(key, hnode, slot, size, nd, v)
                            size += 1
                        else:
                            _up(key, hnode, slot, slot[v], nd, v)
            for i in range(n_touched):
                dist[touched[i]] = 1e308
                slot[touched[i]] = -1
            if failed:
                break
    free(dist); free(slot); free(key); free(hnode); free(touched)
    if failed:
        free(out_o); free(out_n); free(out_d)
        raise MemoryError("bounded_many: cannot grow the output")
    o_a = np.empty(n_out, dtype=np.int64)
    n_a = np.empty(n_out, dtype=np.int64)
    d_a = np.empty(n_out)
    cdef int64_t[::1] ov = o_a
    cdef int64_t[::1] nv = n_a
    cdef double[::1] dv = d_a
    for i in range(n_out):
        ov[i] = out_o[i]
        nv[i] = out_n[i]
        dv[i] = out_d[i]
    free(out_o); free(out_n); free(out_d)
    return o_a, n_a, d_a


# ------------------------------------------------------------------ cover within a walk

cdef int _cmp_i64(const void* a, const void* b) noexcept nogil:
    cdef int64_t x = (<const int64_t*>a)[0]
    cdef int64_t y = (<const int64_t*>b)[0]
    return (x > y) - (x < y)


def cover_many(const int32_t[::1] indptr, const int32_t[::1] indices,
               const double[::1] data, const int64_t[::1] seed_ptr,
               const int64_t[::1] seed_node, const double[::1] seed_m, double limit,
               const int64_t[::1] slot_ptr, const int64_t[::1] slot_t,
               const double[::1] slot_x, const int64_t[::1] same_ptr,
               const int64_t[::1] same_t, const double[::1] weight,
               const int64_t[::1] target_label, const int64_t[::1] origin_label,
               const int64_t[::1] label_count, const double[::1] bound, double[::1] best,
               const double[::1] lower, double slack):
    """Per origin, the summed weight of the targets of its label within ``limit`` on foot.

    The search of :func:`bounded_many`; instead of listing the nodes it reaches, each origin
    counts every target of its own label once when the walk to it (a reached node's
    ``dist + slot_x``, or a straight walk along a shared edge listed in ``same_t``) is at most
    ``limit``, and sums their weights in ascending target order (as ``numpy.bincount`` of
    the sorted pairs does, so the sums are the same to the bit). A search ends early once
    every target of its label is counted (a small cluster needs a short search).

    Parameters
    ----------
    indptr, indices, data
        A CSR graph with ``n`` nodes (non-negative weights).
    seed_ptr, seed_node, seed_m
        The origins' seeds, as for :func:`bounded_many`.
    limit
        Longest walk counted.
    slot_ptr, slot_t, slot_x
        ``slot_ptr[u]:slot_ptr[u + 1]`` are node ``u``'s (target, extra metres) entries.
    same_ptr, same_t
        ``same_t[same_ptr[k]:same_ptr[k + 1]]`` are the targets origin ``k`` reaches straight
        along its own edge within ``limit``.
    weight, target_label
        Each target's weight and label.
    origin_label
        Each origin's label.
    label_count
        ``label_count[l]``: how many targets have label ``l`` (labels are ``0 ..``); a search
        stops once it has counted all of its label's targets.
    bound, best
        Optional pruning (``bound`` empty: none): ``bound[k]`` is at least origin ``k``'s
        sum, and ``best[l]`` the largest sum found so far for label ``l`` (updated here). An
        origin whose bound is below its label's best is not searched: its sum is -1.
    lower, slack
        Optional (``lower`` empty: none): ``lower[u]`` is at most the walk from node ``u`` to
        its nearest target; a node is not queued when its distance plus ``lower`` exceeds
        ``limit + slack`` (no target within ``limit`` lies beyond it; ``slack`` absorbs the
        rounding of ``lower``'s own sums).

    Returns
    -------
    numpy.ndarray of float64
        One summed weight per origin.
    """
    cdef Py_ssize_t n = indptr.shape[0] - 1
    cdef Py_ssize_t n_orig = seed_ptr.shape[0] - 1
    cdef Py_ssize_t n_t = weight.shape[0]
    cover_a = np.zeros(max(n_orig, 0))
    if n <= 0 or n_orig <= 0 or n_t <= 0:
        return cover_a
    cdef double[::1] cover = cover_a
    cdef double* dist = <double*>malloc(n * sizeof(double))
    cdef int32_t* slot = <int32_t*>malloc(n * sizeof(int32_t))
    cdef double* key = <double*>malloc(n * sizeof(double))
    cdef int32_t* hnode = <int32_t*>malloc(n * sizeof(int32_t))
    cdef int32_t* touched = <int32_t*>malloc(n * sizeof(int32_t))
    cdef char* seen = <char*>malloc(n_t * sizeof(char))
    cdef int64_t* hit = <int64_t*>malloc(n_t * sizeof(int64_t))
    if (dist == NULL or slot == NULL or key == NULL or hnode == NULL or touched == NULL
            or seen == NULL or hit == NULL):
        free(dist); free(slot); free(key); free(hnode); free(touched); free(seen); free(hit)
        raise MemoryError("cover_many: cannot allocate")
    cdef Py_ssize_t i, j, k, e, size, n_touched, n_hit
    cdef bint prune = bound.shape[0] == n_orig
    cdef bint use_lower = lower.shape[0] == n
    cdef double reach_limit = limit + slack
    cdef int32_t u, v
    cdef int64_t t, lab
    cdef double d, nd, s
    with nogil:
        for i in range(n):
            dist[i] = 1e308
            slot[i] = -1
        for i in range(n_t):
            seen[i] = 0
        for k in range(n_orig):
            lab = origin_label[k]
            if prune and bound[k] < best[lab]:  # cannot be its label's largest sum
                cover[k] = -1.0
                continue
            n_hit = 0
            for j in range(same_ptr[k], same_ptr[k + 1]):
                t = same_t[j]
                if target_label[t] == lab and not seen[t]:
                    seen[t] = 1
                    hit[n_hit] = t
                    n_hit += 1
            n_touched = 0
            size = _seed(seed_node, seed_m, seed_ptr[k], seed_ptr[k + 1], limit, dist, key,
                         hnode, slot, touched, &n_touched)
            while size > 0:
                d = key[0]
                u = hnode[0]
                slot[u] = -2
                size -= 1
                if size > 0:
                    _down(key, hnode, slot, size, key[size], hnode[size])
                for j in range(slot_ptr[u], slot_ptr[u + 1]):
                    t = slot_t[j]
                    if not seen[t] and target_label[t] == lab and d + slot_x[j] <= limit:
                        seen[t] = 1
                        hit[n_hit] = t
                        n_hit += 1
                if n_hit >= label_count[lab]:  # every target of the label is counted
                    break
                for e in range(indptr[u], indptr[u + 1]):
                    v = indices[e]
                    if slot[v] == -2:
                        continue
                    nd = d + data[e]
                    if use_lower and nd + lower[v] > reach_limit:
                        continue  # no target within the limit through v
                    if nd <= limit and nd < dist[v]:
                        dist[v] = nd
                        if slot[v] == -1:
                            touched[n_touched] = v
                            n_touched += 1
                            _up(key, hnode, slot, size, nd, v)
                            size += 1
                        else:
                            _up(key, hnode, slot, slot[v], nd, v)
            for i in range(n_touched):
                dist[touched[i]] = 1e308
                slot[touched[i]] = -1
            qsort(hit, n_hit, sizeof(int64_t), _cmp_i64)
            s = 0.0
            for i in range(n_hit):
                s = s + weight[hit[i]]
                seen[hit[i]] = 0
            cover[k] = s
            if prune and s > best[lab]:
                best[lab] = s
    free(dist); free(slot); free(key); free(hnode); free(touched); free(seen); free(hit)
    return cover_a
