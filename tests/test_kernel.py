"""The compiled kernels: bucket queue against heap on graphs built to be awkward, warm starts."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.csgraph import dijkstra

_dijkstra = pytest.importorskip("care15._dijkstra",
                                reason="the compiled kernel is not built here (no C compiler)")


def _graph(rng, n, m):
    """Random directed CSR graph with zero, tiny, ordinary and long edges (no duplicates)."""
    r = rng.integers(0, n, m)
    c = rng.integers(0, n, m)
    w = rng.choice([0.0, 1e-9, 0.3, 1.0, 7.5, 60.0, 2000.0], m) * rng.uniform(0.5, 1.5, m)
    key = np.unique(r * n + c, return_index=True)[1]
    g = sp.csr_matrix((w[key], (r[key], c[key])), shape=(n, n))
    g.sort_indices()
    return g


def _csr_args(g):
    return g.indptr.astype(np.int32), g.indices.astype(np.int32), np.asarray(g.data, float)


def _labels_are_nearest(g, seeds, limit, dist, label):
    """Every labelled node is exactly as far from the seeds of its label alone (ties allowed)."""
    node, seed_m, lab = seeds
    assert np.array_equal(label >= 0, np.isfinite(dist))
    for L in np.unique(label[label >= 0]):
        k = lab == L
        alone, _ = _dijkstra.multi_source(*_csr_args(g), node[k], seed_m[k], lab[k], limit)
        np.testing.assert_array_equal(alone[label == L], dist[label == L])


@pytest.mark.parametrize("seed", range(40))
def test_bucket_equals_heap_on_awkward_graphs(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(1, 80))
    g = _graph(rng, n, int(rng.integers(0, 5 * n)))
    k = int(rng.integers(0, 8))
    # several seeds per node, seeds at 0, beyond the limit and at inf
    node = rng.integers(0, n, k).astype(np.int64)
    seed_m = rng.choice([0.0, 0.0, 0.5, 3.0, 80.0, 5000.0, np.inf], k)
    lab = rng.integers(0, 4, k).astype(np.int64)
    for limit in (np.inf, 0.0, 5.0, 100.0):
        want, _ = _dijkstra.multi_source(*_csr_args(g), node, seed_m, lab, limit)
        for delta in (1e-12, 0.01, 1.0, 37.0, 1e12):
            got, glab = _dijkstra.multi_source_bucket(*_csr_args(g), node, seed_m, lab, limit,
                                                      delta)
            np.testing.assert_array_equal(got, want)  # the same sums, bit for bit
            _labels_are_nearest(g, (node, seed_m, lab), limit, got, glab)
            # the longest edge given by the caller (as care15.access does): the same answer
            wmax = float(g.data.max()) if g.nnz else 0.0
            again = _dijkstra.multi_source_bucket(*_csr_args(g), node, seed_m, lab, limit,
                                                  delta, wmax=wmax)
            np.testing.assert_array_equal(again[0], got)
            np.testing.assert_array_equal(again[1], glab)
        assert (want[np.isfinite(want)] <= limit).all()


def test_bucket_agrees_with_scipy():
    rng = np.random.default_rng(11)
    n = 300
    g = _graph(rng, n, 1500)
    g.data += 0.1  # no stored zeros, whose meaning for scipy depends on the input format
    node = rng.integers(0, n, 6).astype(np.int64)
    seed_m = rng.uniform(0.1, 20, 6)
    # scipy: one virtual node joined to each seed by its starting distance
    row = sp.csr_matrix((seed_m, (np.zeros(6, int), node)), shape=(1, n))
    aug = sp.bmat([[g, sp.csr_matrix((n, 1))], [row, sp.csr_matrix((1, 1))]], format="csr")
    want = dijkstra(aug, directed=True, indices=n)[:n]
    got, _ = _dijkstra.multi_source_bucket(*_csr_args(g), node, seed_m,
                                           np.arange(6, dtype=np.int64), np.inf, 5.0)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("kernel", ["heap", "bucket"])
def test_warm_start_finishes_a_search_and_leaves_its_inputs_alone(kernel):
    rng = np.random.default_rng(3)
    n = 400
    g = _graph(rng, n, 2400)
    g.data = rng.uniform(1.0, 10.0, g.nnz)
    g = g.maximum(g.T).tocsr()  # symmetric, as a walking network
    g.sort_indices()
    node = rng.integers(0, n, 12).astype(np.int64)
    seed_m = rng.uniform(0, 30, 12)
    lab = np.arange(12, dtype=np.int64)

    def run(*a, **kw):
        if kernel == "heap":
            return _dijkstra.multi_source(*a, **kw)
        return _dijkstra.multi_source_bucket(*a[:7], 4.0, *a[7:], **kw)

    for limit in (np.inf, 40.0):
        first, flab = run(*_csr_args(g), node[:8], seed_m[:8], lab[:8], limit)
        d0, l0 = first.copy(), flab.copy()
        # the other four seeds added to the first search's answer
        warm, wlab = run(*_csr_args(g), node[8:], seed_m[8:], lab[8:], limit,
                         dist0=first, label0=flab)
        cold, clab = run(*_csr_args(g), node, seed_m, lab, limit)
        np.testing.assert_array_equal(warm, cold)
        np.testing.assert_array_equal(wlab, clab)  # random distances: no ties
        np.testing.assert_array_equal(first, d0)  # the start arrays were copied
        np.testing.assert_array_equal(flab, l0)
        assert (wlab != flab).any()


def test_bad_arguments_are_refused():
    g = sp.csr_matrix(np.array([[0, 1.0], [1.0, 0]]))
    args = (*_csr_args(g), np.array([0]), np.array([0.0]), np.array([0]), np.inf)
    with pytest.raises(ValueError, match="delta"):
        _dijkstra.multi_source_bucket(*args, 0.0)
    with pytest.raises(ValueError, match="delta"):
        _dijkstra.multi_source_bucket(*args, np.nan)
    with pytest.raises(ValueError, match="both"):
        _dijkstra.multi_source(*args, dist0=np.zeros(2))
    with pytest.raises(ValueError, match="one entry per node"):
        _dijkstra.multi_source_bucket(*args, 1.0, np.zeros(3), np.zeros(3, dtype=np.int64))
