"""Travel-time kernels: bucket queue vs 4-ary heap on every real extract, and warm updates.

Run by hand (not part of the test suite):

    python benchmarks/bench_kernels.py                 # every .osm.pbf in ../shared/data/osm + grid
    python benchmarks/bench_kernels.py --widths        # the bucket width (Delta) against speed
    python benchmarks/bench_kernels.py --update        # one facility moved: warm update vs full
    python benchmarks/bench_kernels.py --samples       # street samples: compiled vs numpy
    python benchmarks/bench_kernels.py --rounds 7 --grid 200

Every network gets one facility per 125 nodes (2,000 on the 250,000-node grid), at random
points near its main piece, snapped as care15 snaps facilities, and a 900 m limit (15 min at
1 m/s). Both kernels must give the same distances (1e-9 relative; in practice bit for bit) and
the same nearest facility except between equidistant ones: each differing label is checked to
be a tie with a single-facility search. Timings are medians of interleaved rounds (every
kernel once per round, in a new random order each round) in one process; parsed networks are not cached
anywhere.

``--samples`` times :meth:`care15.isofield.StreetSamples.build` (every street sampled every half
pixel, the samples sorted by pixel) with the compiled sampler and with the numpy one, on the
generated region of ``--grid``² nodes (``bench_what_if.grid_region``, its cell-aligned field
grid, as ``care15 analyze`` lays it) and on every real extract (``pixel_grid`` of a 50 m
walk-off), checks that both give the same arrays bit for bit, and reports each one's peak
traced memory (tracemalloc, one extra run each after the timed rounds).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from care15 import access
from care15.access import nearest_facility, update_nearest
from care15.network import Snapped, WalkNetwork
from care15.synthetic import grid_network

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "osm"
BUDGET = 900.0


def facilities(net: WalkNetwork, n_fac: int, seed: int = 0) -> Snapped:
    """``n_fac`` random points within 50 m of random nodes of the main piece, snapped."""
    rng = np.random.default_rng(seed)
    main = np.flatnonzero(net.component == 0)
    at = rng.choice(main, size=min(n_fac, main.size), replace=False)
    return net.snap(net.x[at] + rng.uniform(-50, 50, at.size),
                    net.y[at] + rng.uniform(-50, 50, at.size))


def ties_ok(net: WalkNetwork, fac: Snapped, a: access.NodeDistances,
            b: access.NodeDistances, limit: float) -> int:
    """Check that nodes with different labels are ties; return how many differ."""
    diff = np.flatnonzero(a.nearest != b.nearest)
    for lab in np.unique(np.r_[a.nearest[diff], b.nearest[diff]]):
        one = fac.subset(np.arange(len(fac)) == lab)  # same position, others unsnapped
        alone = nearest_facility(net, one, limit_m=limit, engine="compiled")
        mine = diff[(a.nearest[diff] == lab) | (b.nearest[diff] == lab)]
        np.testing.assert_allclose(alone.dist_m[mine], a.dist_m[mine], rtol=1e-9)
    return int(diff.size)


CPU: dict[str, float] = {}  # median thread CPU seconds of the last timed() runs


def timed(runs: dict[str, Callable[[], object]], rounds: int
          ) -> tuple[dict[str, float], dict[str, object]]:
    """Median wall seconds of each run over interleaved rounds, and each run's last result.

    The median thread CPU seconds go to :data:`CPU`: on a shared machine they leave out the
    time the process waited for a core.
    """
    times: dict[str, list[float]] = {k: [] for k in runs}
    cpu: dict[str, list[float]] = {k: [] for k in runs}
    out: dict[str, object] = {}
    keys = list(runs)
    shuffle = np.random.default_rng(12345)
    for _ in range(rounds):
        for k in shuffle.permutation(keys):  # no method always runs after the same one
            fn = runs[k]
            c = time.thread_time()
            t = time.perf_counter()
            out[k] = fn()
            times[k].append(time.perf_counter() - t)
            cpu[k].append(time.thread_time() - c)
    CPU.clear()
    CPU.update({k: statistics.median(v) for k, v in cpu.items()})
    return {k: statistics.median(v) for k, v in times.items()}, out


def compare(name: str, net: WalkNetwork, rounds: int) -> None:
    """One table row: bucket vs heap kernel on ``net``, checked to agree."""
    n_fac = max(20, net.n_nodes // 125)
    fac = facilities(net, n_fac)
    _ = net.csr, access._bucket_width(net)  # built once, as in a real run
    t, out = timed({
        "bucket": lambda: nearest_facility(net, fac, limit_m=BUDGET, engine="bucket"),
        "heap": lambda: nearest_facility(net, fac, limit_m=BUDGET, engine="compiled"),
    }, rounds)
    a, b = out["bucket"], out["heap"]
    assert isinstance(a, access.NodeDistances) and isinstance(b, access.NodeDistances)
    assert np.array_equal(np.isfinite(a.dist_m), np.isfinite(b.dist_m)), f"{name}: reach"
    fin = np.isfinite(b.dist_m)
    np.testing.assert_allclose(a.dist_m[fin], b.dist_m[fin], rtol=1e-9)
    bitwise = np.array_equal(a.dist_m, b.dist_m)
    n_tie = ties_ok(net, fac, a, b, BUDGET)
    print(f"| {name} | {net.n_nodes:,} | {int(fac.ok.sum()):,} | "
          f"{access._bucket_width(net):.1f} | {t['heap'] * 1e3:,.2f} | "
          f"{t['bucket'] * 1e3:,.2f} | {t['heap'] / t['bucket']:.2f}× | "
          f"{CPU['heap'] * 1e3:,.2f} | {CPU['bucket'] * 1e3:,.2f} | "
          f"{'yes' if bitwise else 'no'} | {n_tie} |", flush=True)


def widths(name: str, net: WalkNetwork, rounds: int) -> None:
    """Kernel time against the bucket width, in multiples of the median edge length."""
    from care15._dijkstra import multi_source_bucket

    fac = facilities(net, max(20, net.n_nodes // 125))
    node, seed_m, label = access._seeds(fac, np.arange(len(fac)), net.n_nodes)
    g = net.csr
    args = (g.indptr.astype(np.int32), g.indices.astype(np.int32), g.data, node, seed_m,
            label, BUDGET)
    med = access._bucket_width(net) / 4  # the median edge length
    factors = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 32.0)
    timed({f"{f:g}": (lambda f=f: multi_source_bucket(*args, med * f)) for f in factors},
          rounds)
    t = dict(CPU)  # thread CPU time: steadier than wall time on a shared machine
    best = min(t.values())
    print(f"| {name} | {med:.1f} | " + " | ".join(
        f"{t[f'{f:g}'] * 1e3:,.2f}" + ("*" if t[f"{f:g}"] == best else "") for f in factors)
        + " |", flush=True)


def warm_update(side: int, n_fac: int, rounds: int) -> None:
    """One facility moved on the grid: :func:`update_nearest` vs a full search."""
    net = grid_network(side)
    rng = np.random.default_rng(1)
    x0, y0, x1, y1 = net.bounds
    x = rng.uniform(x0, x1, n_fac)
    y = rng.uniform(y0, y1, n_fac)
    before = net.snap(x, y)
    x2, y2 = x.copy(), y.copy()
    x2[7] += 400.0  # facility 7 moves 400 m east
    after = net.snap(x2, y2)
    ch = np.array([7])
    _ = net.csr, access._bucket_width(net)
    nd = nearest_facility(net, before, limit_m=BUDGET)
    t, out = timed({
        "full bucket": lambda: nearest_facility(net, after, limit_m=BUDGET, engine="bucket"),
        "full heap": lambda: nearest_facility(net, after, limit_m=BUDGET, engine="compiled"),
        "warm update": lambda: update_nearest(net, nd, after, ch, limit_m=BUDGET),
    }, rounds)
    ref = out["full heap"]
    assert isinstance(ref, access.NodeDistances)
    for k in ("warm update", "full bucket"):
        got = out[k]
        assert isinstance(got, access.NodeDistances)
        np.testing.assert_array_equal(got.dist_m, ref.dist_m)
    print(f"grid {side}×{side} ({net.n_nodes:,} nodes), {n_fac:,} facilities, one moved "
          f"400 m, {BUDGET:.0f} m limit; medians of {rounds} interleaved rounds:")
    for k, v in t.items():
        print(f"  {k:14s} {v * 1e3:8.2f} ms  (thread CPU {CPU[k] * 1e3:8.2f} ms)")
    print(f"  the warm update is {t['full bucket'] / t['warm update']:.0f}× faster than a full "
          f"bucket search, {t['full heap'] / t['warm update']:.0f}× than a full heap one")


def samples(name: str, net: WalkNetwork, grid: object, rounds: int) -> None:
    """One table row: compiled vs numpy street samples of ``net`` on ``grid``."""
    import tracemalloc

    from care15.isofield import PixelGrid, StreetSamples

    assert isinstance(grid, PixelGrid)
    runs = {e: (lambda e=e: StreetSamples.build(net, grid, engine=e))
            for e in ("numpy", "compiled")}
    t, out = timed(runs, rounds)
    a, b = out["numpy"], out["compiled"]
    assert isinstance(a, StreetSamples) and isinstance(b, StreetSamples)
    for k in ("edge", "along_m", "edge_start", "pixel", "by_pixel", "pixels", "pixel_start"):
        x, y = getattr(a, k), getattr(b, k)
        assert x.dtype == y.dtype and np.array_equal(x, y), f"{name}: {k} differs"
    del out, a
    peak = {}
    for e, fn in runs.items():
        tracemalloc.start()
        fn()
        peak[e] = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    print(f"| {name} | {net.n_edges:,} | {len(b.edge):,} | {grid.width}×{grid.height} "
          f"{grid.res_m:g} m | {t['numpy']:.3f} | {t['compiled']:.3f} | "
          f"{t['numpy'] / t['compiled']:.1f}× | {CPU['numpy']:.3f} | {CPU['compiled']:.3f} | "
          f"yes | {peak['numpy']:,.0f} | {peak['compiled']:,.0f} |", flush=True)


def networks(side: int) -> list[tuple[str, Callable[[], WalkNetwork]]]:
    """Every real extract that loads, then the grid (built lazily, one at a time)."""
    from care15.sources.osm import network_from_pbf

    out: list[tuple[str, Callable[[], WalkNetwork]]] = []
    for p in sorted(SHARED.rglob("*.osm.pbf")):
        out.append((p.name.removesuffix(".osm.pbf"), lambda p=p: network_from_pbf(p)))
    out.append((f"grid {side}×{side}", lambda: grid_network(side)))
    return out


def main() -> None:
    """Run the comparison asked for on the command line."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--grid", type=int, default=500, help="grid side (500: 250,000 nodes)")
    ap.add_argument("--widths", action="store_true")
    ap.add_argument("--update", action="store_true")
    ap.add_argument("--samples", action="store_true")
    a = ap.parse_args()
    if a.samples:
        from bench_what_if import grid_region

        from care15.category import field_grid
        from care15.isofield import pixel_grid

        print(f"street samples (StreetSamples.build): numpy vs compiled sampler, medians of "
              f"{a.rounds} interleaved rounds; peak traced MB of one more run each")
        print("| network | edges | samples | grid | numpy s | compiled s | numpy / compiled | "
              "numpy CPU s | compiled CPU s | bit-equal | numpy peak MB | compiled peak MB |")
        print("|---|---:|---:|---|---:|---:|---:|---:|---:|---|---:|---:|")
        reg = grid_region(a.grid ** 2)
        samples(f"grid_region({a.grid ** 2:,})", reg.network,
                field_grid(reg.network, reg.cells, 50.0), a.rounds)
        del reg
        for name, load in networks(a.grid)[:-1]:
            try:
                net = load()
            except Exception as e:  # an extract pyrosm cannot read: say so and go on
                print(f"| {name} | could not load: {type(e).__name__}: {str(e)[:80]} |")
                continue
            samples(name, net, pixel_grid(net, 50.0), a.rounds)
        return
    if a.update:
        warm_update(a.grid, 2000 * a.grid ** 2 // 250_000, a.rounds)
        return
    if a.widths:
        print(f"bucket kernel thread CPU ms against the width, in median edge lengths "
              f"(medians of {a.rounds} interleaved rounds; * fastest)")
        print("| network | median edge m | 0.25 | 0.5 | 1 | 2 | 4 | 8 | 32 |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    else:
        print(f"bucket vs heap kernel, nearest facility within {BUDGET:.0f} m, medians of "
              f"{a.rounds} interleaved rounds")
        print("| network | nodes | facilities | width m | heap ms | bucket ms | heap / bucket | "
              "heap CPU ms | bucket CPU ms | bit-equal | labels differing (ties) |")
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|")
    for name, load in networks(a.grid):
        try:
            net = load()
        except Exception as e:  # an extract pyrosm cannot read: say so and go on
            print(f"| {name} | could not load: {type(e).__name__}: {str(e)[:80]} |")
            continue
        (widths if a.widths else compare)(name, net, a.rounds)


if __name__ == "__main__":
    main()
