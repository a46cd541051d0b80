"""On-disk cache: hits and misses, invalidation, corrupt and stale entries, concurrent writers."""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import shutil
import threading
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import pytest
import shapely
from conftest import PEERS

import care15.cache as cache_mod
from care15._errors import InputError
from care15.cache import (
    CACHE_ENV,
    cache_info,
    cached_network,
    cached_node_distances,
    cached_snap,
    cached_snap_gdf,
    clear_cache,
    default_cache_dir,
    file_sha256,
    network_fingerprint,
    network_from_npz,
    network_key,
    network_to_npz,
)
from care15.network import WalkNetwork
from care15.sources import osm
from care15.synthetic import grid_network


def _same(a: WalkNetwork, b: WalkNetwork) -> None:
    assert a.crs == b.crs
    assert a.source == b.source
    for k in ("node_id", "x", "y", "edge_u", "edge_v", "edge_length_m"):
        np.testing.assert_array_equal(getattr(a, k), getattr(b, k))
        assert getattr(a, k).dtype == getattr(b, k).dtype
    assert shapely.equals_exact(a.edge_geometry, b.edge_geometry, tolerance=0).all()


@pytest.fixture
def counting_reader(monkeypatch):
    """Replace network_from_pbf by a wrapper that counts its calls."""
    real = osm.network_from_pbf
    calls = []

    def reader(path, **kw):
        calls.append(Path(path))
        return real(path, **kw)

    monkeypatch.setattr(osm, "network_from_pbf", reader)
    return calls


@pytest.fixture
def pbf_copy(tmp_path, helsinki_pbf) -> Path:
    p = tmp_path / "data" / "helsinki.osm.pbf"
    p.parent.mkdir()
    shutil.copyfile(helsinki_pbf, p)
    return p


def test_miss_then_hit(tmp_path, pbf_copy, counting_reader):
    d = tmp_path / "cache"
    a = cached_network(pbf_copy, cache_dir=d)
    assert a.meta["cache"]["hit"] is False and len(counting_reader) == 1
    b = cached_network(pbf_copy, cache_dir=d)
    assert b.meta["cache"]["hit"] is True
    assert len(counting_reader) == 1  # the reader was not called again
    _same(a, b)
    assert b.meta["reader"] == "pyrosm"
    assert b.meta["cache"]["key"] == network_key(pbf_copy, cache_dir=d)
    assert cache_info(d)["networks"]["entries"] == 1
    # the cached network works like the parsed one
    assert b.n_components == a.n_components
    np.testing.assert_array_equal(b.snap([a.x[3]], [a.y[3]]).edge, a.snap([a.x[3]], [a.y[3]]).edge)
    # parameters that change the graph are part of the key
    c = cached_network(pbf_copy, cache_dir=d, crs="EPSG:3067")
    assert c.meta["cache"]["hit"] is False and len(counting_reader) == 2
    assert c.crs.to_epsg() == 3067
    assert cached_network(pbf_copy, cache_dir=d, crs="EPSG:3067").meta["cache"]["hit"]
    cached_network(pbf_copy, cache_dir=d, refresh=True)
    assert len(counting_reader) == 3


def test_walk_filter_change_invalidates(tmp_path, pbf_copy, counting_reader, monkeypatch):
    d = tmp_path / "cache"
    k1 = network_key(pbf_copy, cache_dir=d)
    monkeypatch.setattr(osm, "NOT_WALKABLE_HIGHWAY", osm.NOT_WALKABLE_HIGHWAY | {"footway"})
    assert network_key(pbf_copy, cache_dir=d) != k1
    monkeypatch.setattr(cache_mod, "WALK_FILTER_VERSION", cache_mod.WALK_FILTER_VERSION + 1)
    assert len({k1, network_key(pbf_copy, cache_dir=d)}) == 2


def test_changed_source_file_invalidates(tmp_path, pbf_copy, counting_reader):
    import pyrosm

    d = tmp_path / "cache"
    a = cached_network(pbf_copy, cache_dir=d)
    original = pbf_copy.read_bytes()
    shutil.copyfile(pyrosm.get_data("test_pbf"), pbf_copy)  # other bytes, same path
    b = cached_network(pbf_copy, cache_dir=d)
    assert b.meta["cache"]["hit"] is False and len(counting_reader) == 2
    assert b.n_nodes != a.n_nodes
    pbf_copy.write_bytes(original)  # back to the first version: its entry is still there
    c = cached_network(pbf_copy, cache_dir=d)
    assert c.meta["cache"]["hit"] is True and len(counting_reader) == 2
    _same(a, c)


def test_file_hash_is_remembered(tmp_path):
    p = tmp_path / "f.bin"
    p.write_bytes(b"abc" * 1000)
    d = tmp_path / "cache"
    h = file_sha256(p, cache_dir=d)
    assert h == hashlib.sha256(b"abc" * 1000).hexdigest()
    assert cache_info(d)["hashes"]["entries"] == 1
    cache_mod._HASHES.clear()  # a new process: the hash is read from the memo, not the file
    assert file_sha256(p, cache_dir=d) == h
    p.write_bytes(b"abcd" * 1000)
    assert file_sha256(p, cache_dir=d) == hashlib.sha256(b"abcd" * 1000).hexdigest()
    with pytest.raises(InputError, match="cannot read"):
        file_sha256(tmp_path / "missing.bin", cache_dir=d)


def _corrupt(path: Path, how: str, other: Path | None = None) -> None:
    data = bytearray(path.read_bytes())
    if how == "truncate":
        path.write_bytes(bytes(data[: len(data) // 2]))
    elif how == "flip":
        mid = len(data) // 2
        for i in range(mid, mid + 64):
            data[i] ^= 0xFF
        path.write_bytes(bytes(data))
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "garbage":
        path.write_bytes(b"not a zip file at all" * 10)
    elif how in ("version", "checksum"):
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
        if how == "version":
            arrays["_format"] = np.asarray(cache_mod.CACHE_FORMAT + 99)
        else:  # a valid zip whose arrays were changed after the checksum was taken
            arrays["x"] = arrays["x"] + 1.0
        with open(path, "wb") as f:
            np.savez(f, **arrays)
    elif how == "other_key":
        assert other is not None
        shutil.copyfile(other, path)
    else:  # pragma: no cover
        raise ValueError(how)


@pytest.mark.parametrize("how", ["truncate", "flip", "empty", "garbage", "version", "checksum",
                                 "other_key"])
def test_bad_entry_is_deleted_and_rebuilt(tmp_path, pbf_copy, counting_reader, caplog, how):
    d = tmp_path / "cache"
    a = cached_network(pbf_copy, cache_dir=d)
    entry = Path(a.meta["cache"]["file"])
    other = None
    if how == "other_key":  # an entry of the same file read in another CRS, under this name
        other = Path(cached_network(pbf_copy, cache_dir=d, crs=3067).meta["cache"]["file"])
    n = len(counting_reader)
    _corrupt(entry, how, other)
    with caplog.at_level(logging.WARNING, logger="care15.cache"):
        b = cached_network(pbf_copy, cache_dir=d)
    assert b.meta["cache"]["hit"] is False and len(counting_reader) == n + 1
    _same(a, b)
    msgs = [r.getMessage() for r in caplog.records if r.name == "care15.cache"]
    assert len(msgs) == 1 and "deleted, rebuilding" in msgs[0] and entry.name in msgs[0]
    assert ("stale" if how in ("version", "other_key") else "corrupt") in msgs[0]
    c = cached_network(pbf_copy, cache_dir=d)  # the rebuilt entry is good
    assert c.meta["cache"]["hit"] is True and len(counting_reader) == n + 1


def test_network_npz_roundtrip_and_refusal(tmp_path):
    net = grid_network(12, seed=3)
    p = network_to_npz(net, tmp_path / "g.npz")
    back = network_from_npz(p)
    _same(net, back)
    assert network_fingerprint(back) == network_fingerprint(net)
    _corrupt(p, "truncate")
    with pytest.raises(InputError, match=r"cannot use this network file|not a care15"):
        network_from_npz(p)
    with pytest.raises(InputError, match="not found"):
        network_from_npz(tmp_path / "none.npz")
    assert not list(tmp_path.glob(".*.tmp"))


def test_facility_change_reuses_network(tmp_path, pbf_copy, counting_reader, monkeypatch):
    d = tmp_path / "cache"
    runs = []
    real = cache_mod.nearest_facility

    def counted(*a, **kw):
        runs.append(1)
        return real(*a, **kw)

    monkeypatch.setattr(cache_mod, "nearest_facility", counted)
    net = cached_network(pbf_copy, cache_dir=d)
    rng = np.random.default_rng(0)
    x0, y0, x1, y1 = net.bounds
    fx, fy = rng.uniform(x0, x1, 6), rng.uniform(y0, y1, 6)
    fa = cached_snap(net, fx, fy, max_access_m=250, cache_dir=d)
    nd_a = cached_node_distances(net, fa, cache_dir=d)
    # what-if: one facility moves. The city is not parsed again, only distances recomputed
    net2 = cached_network(pbf_copy, cache_dir=d)
    fx2 = fx.copy()
    fx2[0] += 300
    fb = cached_snap(net2, fx2, fy, max_access_m=250, cache_dir=d)
    nd_b = cached_node_distances(net2, fb, cache_dir=d)
    assert len(counting_reader) == 1 and len(runs) == 2
    assert not np.array_equal(nd_a.dist_m, nd_b.dist_m)
    # the first set again: everything from the cache
    nd_a2 = cached_node_distances(net2, cached_snap(net2, fx, fy, max_access_m=250, cache_dir=d),
                                  cache_dir=d)
    assert len(runs) == 2
    ref = real(net, net.snap(fx, fy, max_access_m=250))
    np.testing.assert_array_equal(nd_a2.dist_m, ref.dist_m)
    np.testing.assert_array_equal(nd_a2.nearest, ref.nearest)
    # a limit is part of the key
    cached_node_distances(net2, fa, limit_m=500, cache_dir=d)
    assert len(runs) == 3
    info = cache_info(d)
    assert info["networks"]["entries"] == 1 and info["node_distances"]["entries"] == 3
    assert info["snaps"]["entries"] == 2


def test_cached_snaps_equal_direct(tmp_path, helsinki_net):
    import geopandas as gpd

    rng = np.random.default_rng(4)
    x0, y0, x1, y1 = helsinki_net.bounds
    x, y = rng.uniform(x0, x1, 50), rng.uniform(y0, y1, 50)
    x[:3] += 5000  # far from every street: not snapped
    s = cached_snap(helsinki_net, x, y, max_access_m=100, cache_dir=tmp_path)
    s2 = cached_snap(helsinki_net, x, y, max_access_m=100, cache_dir=tmp_path)
    ref = helsinki_net.snap(x, y, max_access_m=100)
    for k in ("edge", "along_m", "access_m", "node_u", "node_v"):
        np.testing.assert_array_equal(getattr(s, k), getattr(ref, k))
        np.testing.assert_array_equal(getattr(s2, k), getattr(ref, k))
    assert (~s.ok).any() and s.ok.any()
    gdf = gpd.GeoDataFrame(geometry=shapely.points(x, y), crs=helsinki_net.crs).to_crs(4326)
    g = cached_snap_gdf(helsinki_net, gdf, max_access_m=100, cache_dir=tmp_path)
    np.testing.assert_array_equal(g.edge, helsinki_net.snap_gdf(gdf, max_access_m=100).edge)
    assert cache_info(tmp_path)["snaps"]["entries"] == 2
    cached_snap_gdf(helsinki_net, gdf, max_access_m=100, cache_dir=tmp_path)
    assert cache_info(tmp_path)["snaps"]["entries"] == 2


def test_xml_networks_are_cached(tmp_path):
    p = PEERS / "osmnx_planet_10.068_48.135_10.071_48.137.osm"
    if not p.is_file():
        pytest.skip(f"needs {p}")
    a = cached_network(p, cache_dir=tmp_path)
    b = cached_network(p, cache_dir=tmp_path)
    assert (a.meta["cache"]["hit"], b.meta["cache"]["hit"]) == (False, True)
    assert b.meta["reader"] == "osmnx"
    _same(a, b)
    with pytest.raises(InputError, match="bbox"):
        cached_network(p, cache_dir=tmp_path, bbox=(10.0, 48.0, 10.1, 48.2))


def test_errors_and_housekeeping(tmp_path, monkeypatch):
    with pytest.raises(InputError, match="file not found"):
        cached_network(tmp_path / "none.osm.pbf", cache_dir=tmp_path)
    (tmp_path / "x.shp").write_bytes(b"x")
    with pytest.raises(InputError, match="unknown OSM file type"):
        cached_network(tmp_path / "x.shp", cache_dir=tmp_path)
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "envcache"))
    assert default_cache_dir() == tmp_path / "envcache"
    net = grid_network(6)
    cached_snap(net, [net.x[0]], [net.y[0]])  # goes to $CARE15_CACHE
    assert cache_info()["snaps"]["entries"] == 1
    assert clear_cache() == 1
    assert cache_info()["snaps"]["entries"] == 0
    with pytest.raises(ValueError, match="kind"):
        clear_cache(kind="everything")
    monkeypatch.delenv(CACHE_ENV)
    assert default_cache_dir() == Path.home() / ".cache" / "care15"


def test_region_reads_network_through_cache(tmp_path, pbf_copy, counting_reader):
    from care15.region import _network
    from care15.scenario import Area, Scenario

    sc = Scenario(area=Area(pbf=pbf_copy))
    a = _network(sc, cache=tmp_path / "c")
    b = _network(sc, cache=tmp_path / "c")
    assert len(counting_reader) == 1 and b.meta["cache"]["hit"]
    _network(sc)  # no cache: behaves as before
    assert len(counting_reader) == 2
    _same(a, b)


# ------------------------------------------------------------------ concurrent writers

def _hammer(entry: str, key: str, n: int) -> int:
    """Write the same entry ``n`` times (runs in threads and in other processes)."""
    net = grid_network(40, seed=1)
    arrays = cache_mod._network_arrays(net)
    for _ in range(n):
        cache_mod._write_entry(Path(entry), key, arrays)
    return n


def test_concurrent_writers_never_leave_half_files(tmp_path, caplog):
    entry = tmp_path / "networks" / "k.npz"
    key = "k"
    ref = grid_network(40, seed=1)
    stop = threading.Event()
    seen = {"good": 0, "missing": 0}

    def reader():
        while not stop.is_set():
            a = cache_mod._read_entry(entry, key, "network")
            if a is None:
                seen["missing"] += 1
            else:
                _same(cache_mod._network_from_arrays(a), ref)
                seen["good"] += 1

    ctx = multiprocessing.get_context("spawn")
    with caplog.at_level(logging.WARNING, logger="care15.cache"):
        readers = [threading.Thread(target=reader) for _ in range(2)]
        for t in readers:
            t.start()
        try:
            with ProcessPoolExecutor(2, mp_context=ctx) as pool:
                procs = [pool.submit(_hammer, str(entry), key, 15) for _ in range(2)]
                threads = [threading.Thread(target=_hammer, args=(str(entry), key, 15))
                           for _ in range(3)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join()
                assert [p.result() for p in procs] == [15, 15]
        finally:
            stop.set()
            for t in readers:
                t.join()
    assert not [r for r in caplog.records if r.name == "care15.cache"]  # nothing corrupt seen
    assert seen["good"] > 0
    assert not list(entry.parent.glob(".*.tmp"))  # no temporary file left behind
    _same(cache_mod._network_from_arrays(cache_mod._load_arrays(entry, key)), ref)


def test_failed_write_leaves_old_entry(tmp_path, monkeypatch):
    entry = tmp_path / "e.npz"
    cache_mod._write_entry(entry, "k", {"a": np.arange(3)})

    def boom(*a, **kw):
        raise OSError("disk full")

    monkeypatch.setattr(np, "savez", boom)
    with pytest.raises(OSError, match="disk full"):
        cache_mod._write_entry(entry, "k", {"a": np.arange(5)})
    monkeypatch.undo()
    np.testing.assert_array_equal(cache_mod._load_arrays(entry, "k")["a"], np.arange(3))
    assert not list(tmp_path.glob(".*.tmp"))


# ------------------------------------------------------------------ OSM feature layers

@pytest.fixture
def counting_features(monkeypatch):
    """Wrap the uncached feature reader to count the parses (it still parses the file)."""
    real = osm.read_features
    calls = []

    def reader(path, tags):
        calls.append(dict(tags))
        return real(path, tags)

    monkeypatch.setattr(osm, "read_features", reader)
    return calls


def _same_layer(a, b) -> None:
    import pandas as pd

    assert list(a.columns) == list(b.columns) and a.crs == b.crs
    assert a.geometry.name == b.geometry.name
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns=a.geometry.name)),
                                  pd.DataFrame(b.drop(columns=b.geometry.name)),
                                  check_exact=True)
    assert (a.geometry.to_wkb() == b.geometry.to_wkb()).all()


def test_feature_layers_miss_then_hit(tmp_path, pbf_copy, counting_features, caplog,
                                      monkeypatch):
    import pyrosm

    from care15.cache import FEATURES_VERSION, cached_features, features_key

    d = tmp_path / "cache"
    tags = {"building": True}
    direct = osm.read_features(pbf_copy, tags)
    assert len(direct) > 100 and len(counting_features) == 1
    a = cached_features(pbf_copy, tags, cache_dir=d)
    assert len(counting_features) == 2  # a miss parses
    b = cached_features(pbf_copy, tags, cache_dir=d)
    assert len(counting_features) == 2  # a hit does not
    _same_layer(direct, a)
    _same_layer(direct, b)
    assert cache_info(d)["features"]["entries"] == 1
    b.loc[0, "building"] = "changed"  # a hit is a fresh copy
    _same_layer(direct, cached_features(pbf_copy, tags, cache_dir=d))
    # other tags are another entry, also when only the values differ
    lu = cached_features(pbf_copy, {"landuse": ["residential"]}, cache_dir=d)
    assert len(counting_features) == 3 and set(lu["landuse"]) == {"residential"}
    assert features_key(pbf_copy, {"landuse": ["residential"]}, cache_dir=d) != \
        features_key(pbf_copy, {"landuse": ["residential", "retail"]}, cache_dir=d)
    # a changed file misses; the old bytes hit again
    original = pbf_copy.read_bytes()
    shutil.copyfile(pyrosm.get_data("test_pbf"), pbf_copy)
    other = cached_features(pbf_copy, tags, cache_dir=d)
    assert len(counting_features) == 4 and len(other) != len(direct)
    pbf_copy.write_bytes(original)
    cached_features(pbf_copy, tags, cache_dir=d)
    assert len(counting_features) == 4
    # a new version of the reading is another key
    k = features_key(pbf_copy, tags, cache_dir=d)
    monkeypatch.setattr(cache_mod, "FEATURES_VERSION", FEATURES_VERSION + 1)
    assert features_key(pbf_copy, tags, cache_dir=d) != k
    monkeypatch.setattr(cache_mod, "FEATURES_VERSION", FEATURES_VERSION)
    # a truncated entry is logged, deleted and rebuilt
    entry = d / "features" / f"{k}.pkl"
    entry.write_bytes(entry.read_bytes()[:-100])
    with caplog.at_level(logging.WARNING, logger="care15.cache"):
        again = cached_features(pbf_copy, tags, cache_dir=d)
    assert "corrupt" in caplog.text and len(counting_features) == 5
    _same_layer(direct, again)
    assert clear_cache(d, kind="features") == 3


def test_region_reads_osm_layers_through_cache(tmp_path, counting_features):
    import pandas as pd

    from care15.region import demo_scenario, region_from_scenario

    sc = demo_scenario()
    plain = region_from_scenario(sc)  # no cache: every layer parsed
    parsed = len(counting_features)
    assert parsed >= 4  # buildings, land use, streets, boundaries
    a = region_from_scenario(sc, cache=tmp_path / "c")
    assert len(counting_features) == 2 * parsed
    b = region_from_scenario(sc, cache=tmp_path / "c")
    assert len(counting_features) == 2 * parsed  # nothing parsed again
    assert cache_info(tmp_path / "c")["features"]["entries"] == parsed
    for r in (a, b):
        pd.testing.assert_frame_equal(pd.DataFrame(r.cells), pd.DataFrame(plain.cells),
                                      check_exact=True)
        pd.testing.assert_frame_equal(pd.DataFrame(r.communities),
                                      pd.DataFrame(plain.communities), check_exact=True)
        assert r.notes[1:] == plain.notes[1:] and r.reports == plain.reports
    osm.features_from_file(sc.area.pbf, {"building": True})  # outside: not cached
    assert len(counting_features) == 2 * parsed + 1


def test_datum_readings_cached(tmp_path, chengdu_net, monkeypatch):
    import geopandas as gpd

    from care15.cache import cached_datum_readings
    from care15.sources import facilities as fmod

    pts = chengdu_net.nodes_gdf().to_crs(4326).iloc[::max(1, chengdu_net.n_nodes // 30)]
    fac = gpd.GeoDataFrame({"lon": pts.geometry.x.to_numpy(), "lat": pts.geometry.y.to_numpy(),
                            "source": "nodes"}, geometry=pts.geometry.values, crs=4326)
    direct = fmod.check_datum_offset(fac, chengdu_net, declared="wgs84")
    calls = []
    real = fmod._datum_readings

    def counted(*a, **kw):
        calls.append(1)
        return real(*a, **kw)

    monkeypatch.setattr(fmod, "_datum_readings", counted)
    first = fmod.check_datum_offset(fac, chengdu_net, declared="wgs84", cache=tmp_path)
    second = fmod.check_datum_offset(fac, chengdu_net, declared="wgs84", cache=tmp_path)
    assert len(calls) == 1 and first == direct == second
    assert direct["suggested"] is None and direct["readings"]["wgs84"]["median_access_m"] < 1
    # moved points, or another declared system, are other entries
    lon, lat = fac["lon"].to_numpy(), fac["lat"].to_numpy()
    moved = cached_datum_readings(chengdu_net, lon + 0.005, lat, "wgs84", cache_dir=tmp_path)
    assert len(calls) == 2 and moved[0]["wgs84"]["median_access_m"] > 1
    cached_datum_readings(chengdu_net, lon, lat, "gcj02", cache_dir=tmp_path)
    assert len(calls) == 3 and cache_info(tmp_path)["datum_checks"]["entries"] == 3


# ------------------------------------------------------------------ analysis: isochrones, gaps

def _same_frames(a, b) -> None:
    import pandas as pd

    assert list(a.columns) == list(b.columns) and a.crs == b.crs
    pd.testing.assert_frame_equal(pd.DataFrame(a.drop(columns="geometry")),
                                  pd.DataFrame(b.drop(columns="geometry")), check_exact=True)
    assert (a.geometry.to_wkb() == b.geometry.to_wkb()).all()


def test_gap_clusters_cached_isochrones_from_fields(tmp_path, demo_region, monkeypatch):
    import dataclasses

    from care15 import gaps as gaps_mod
    from care15.analysis import analyze
    from care15.region import demo_scenario

    sc = demo_scenario()
    plain = analyze(demo_region, sc)
    calls = {"gaps": 0}
    real_gaps = gaps_mod.gap_clusters

    def gaps(*a, **kw):
        calls["gaps"] += 1
        return real_gaps(*a, **kw)

    monkeypatch.setattr(gaps_mod, "gap_clusters", gaps)
    n = len(sc.categories)
    first = analyze(demo_region, sc, cache=tmp_path)
    assert calls == {"gaps": n}
    second = analyze(demo_region, sc, cache=tmp_path)
    assert calls == {"gaps": n}  # read back
    for r in (first, second):
        # the isochrones come from the fields (care15.isofield), made the same way each time
        _same_frames(r.isochrones, plain.isochrones)
        _same_frames(r.gaps, plain.gaps)
        assert {k: v for k, v in r.summary.items() if k != "notes"} == \
            {k: v for k, v in plain.summary.items() if k != "notes"}
    # a what-if: one facility moved 300 m; the walking times change, so the gaps of every
    # category are recomputed, and only the moved facility's category's isochrones change
    fac = demo_region.facilities.copy()
    fac.loc[0, "lon"] = fac.loc[0, "lon"] + 0.005
    fac = fac.set_geometry(shapely.points(fac["lon"], fac["lat"]))
    moved = analyze(dataclasses.replace(demo_region, facilities=fac), sc, cache=tmp_path)
    assert calls == {"gaps": 2 * n}
    other = plain.isochrones["category"] != fac.loc[0, "category"]
    _same_frames(moved.isochrones.loc[other].reset_index(drop=True),
                 plain.isochrones.loc[other].reset_index(drop=True))
    assert not moved.isochrones.loc[~other].geometry.geom_equals(
        plain.isochrones.loc[~other].geometry).all()


def test_population_estimate_cached(tmp_path, monkeypatch):
    """The OSM population estimate is computed once per file and parameters, then read back."""
    import pandas as pd

    import care15.sources.population as population
    from care15.cache import cached_population_from_osm
    from care15.region import demo_scenario, region_from_scenario

    calls = []
    real = population.population_from_osm

    def counting(*a, **kw):
        calls.append(kw.get("total_population"))
        return real(*a, **kw)

    monkeypatch.setattr(population, "population_from_osm", counting)
    sc = demo_scenario()
    a = region_from_scenario(sc, cache=tmp_path / "c")
    b = region_from_scenario(sc, cache=tmp_path / "c")
    assert len(calls) == 1  # the second run read the cells back
    assert cache_info(tmp_path / "c")["population"]["entries"] == 1
    pd.testing.assert_frame_equal(pd.DataFrame(a.cells), pd.DataFrame(b.cells), check_exact=True)
    assert a.reports["population"] == b.reports["population"]
    assert b.cells["pop_total"].sum() == pytest.approx(sc.inputs.total_population)
    # another total is another estimate
    c = cached_population_from_osm(sc.area.pbf, cache_dir=tmp_path / "c",
                                   total_population=1000.0, crs=a.network.crs,
                                   bounds=a.network.bounds)
    assert len(calls) == 2 and c["pop_total"].sum() == pytest.approx(1000.0)
