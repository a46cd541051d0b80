"""On-disk cache of parsed walking networks, snapped points and node distances.

Reading a city's OSM extract is the slow part of a what-if: changing a facility list should
not re-parse the streets. :func:`cached_network` keeps each parsed :class:`WalkNetwork` in one
``.npz`` file, and :func:`cached_features` each OSM feature layer (the population estimate's
buildings, land use and streets, administrative boundaries, OSM facilities: the same key with
the tags instead of the CRS and box) in one pickle, keyed by

* the SHA-256 of the input file's bytes (streamed; the hash itself is remembered per
  ``(path, size, mtime, inode)`` so an unchanged file is not read again),
* the reader (pyrosm for ``.osm.pbf``, osmnx for ``.osm``/``.osm.bz2``) and its version,
* the requested CRS and clipping box,
* :data:`WALK_FILTER_VERSION` and a fingerprint of the walkability rule and network builders
  (their source code and the tag sets), so a changed filter never reuses an old graph,
* :data:`CACHE_FORMAT`.

:func:`cached_snap`, :func:`cached_snap_gdf` and :func:`cached_node_distances` key on a content
fingerprint of the network (:func:`network_fingerprint`) plus a hash of the points (facility
coordinates, snapped positions) and the parameters that change the answer (``max_access_m``,
``limit_m``). Node distances are stored in metres, so a changed walking speed reuses them.

Where the files go:
``cache_dir=`` when given, else ``$CARE15_CACHE``, else ``~/.cache/care15``. Inside it:
``networks/``, ``snaps/``, ``node_distances/`` (one ``<key>.npz`` per entry), ``features/``
(OSM feature layers, one ``<key>.pkl`` each), ``population/`` (the OSM population estimate,
:func:`cached_population_from_osm`), ``isochrones/``, ``gaps/``, ``datum_checks/`` and
``hashes/`` (remembered file hashes). :func:`clear_cache` removes them; :func:`cache_info`
counts them.

Safety:
Every entry is written to a temporary file in the same folder and moved into place with
``os.replace``, so readers see the old file or the new one, never half of one; concurrent
writers of the same entry simply replace each other with complete files. Each entry stores
its format version, its full key and a SHA-256 checksum of its arrays. An entry that is stale
(key or version mismatch) or corrupt (truncated, bad checksum, unreadable) is logged, deleted
and rebuilt, never used. A file rewritten in place with the same size and timestamp would not
be re-hashed: touch it or call :func:`clear_cache`.

Examples
--------
>>> import pyrosm, tempfile
>>> from care15.cache import cached_network
>>> d = tempfile.mkdtemp()
>>> net = cached_network(pyrosm.get_data("test_pbf"), cache_dir=d)   # parsed, then stored
>>> again = cached_network(pyrosm.get_data("test_pbf"), cache_dir=d)  # read from the cache
>>> again.meta["cache"]["hit"], again.n_nodes == net.n_nodes
(True, True)
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import json
import logging
import os
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from ._errors import InputError
from ._files import atomic_file
from .access import NodeDistances, nearest_facility
from .network import Snapped, WalkNetwork

if TYPE_CHECKING:
    from .isofield import PixelGrid, StreetSamples

__all__ = [
    "CACHE_ENV",
    "CACHE_FORMAT",
    "FEATURES_VERSION",
    "WALK_FILTER_VERSION",
    "cache_dir_of",
    "cache_info",
    "cached_datum_readings",
    "cached_features",
    "cached_gap_clusters",
    "cached_isochrones",
    "cached_network",
    "cached_node_distances",
    "cached_population_from_osm",
    "cached_snap",
    "cached_snap_gdf",
    "cached_street_samples",
    "clear_cache",
    "default_cache_dir",
    "features_key",
    "file_sha256",
    "network_fingerprint",
    "network_from_npz",
    "network_key",
    "network_to_npz",
    "resolve_cache_dir",
]

log = logging.getLogger(__name__)

#: Environment variable naming the cache folder.
CACHE_ENV = "CARE15_CACHE"
#: Layout version of the cache entries; bump it when the stored arrays change.
CACHE_FORMAT = 2
#: Version of the OSM feature layers (:func:`cached_features`); bump it when their reading
#: changes in a way the source fingerprint cannot see.
FEATURES_VERSION = 1
#: Version of the walkability rule and network builders; bump it when their meaning changes
#: in a way the source fingerprint cannot see (e.g. a change inside pyrosm's use).
WALK_FILTER_VERSION = 2
#: Version of the snapping rules (:meth:`care15.network.WalkNetwork.snap`); bump it when a
#: point may join another edge than before (2: equally near edges, the lowest index wins).
SNAP_VERSION = 2

_KINDS = ("networks", "features", "snaps", "node_distances", "datum_checks", "isochrones",
          "gaps", "population", "street_samples", "hashes")
_CHUNK = 1 << 20
_HASHES: dict[tuple[str, int, int, int], str] = {}
_HASH_LOCK = threading.Lock()
_FINGERPRINTS: weakref.WeakKeyDictionary[WalkNetwork, str] = weakref.WeakKeyDictionary()
_SNAP_FIELDS = ("edge", "along_m", "to_u_m", "to_v_m", "access_m", "node_u", "node_v", "x", "y",
                "snap_class", "skipped_class")


# --------------------------------------------------------------------------- folders, hashes

def default_cache_dir() -> Path:
    """``$CARE15_CACHE`` when set, else ``~/.cache/care15``.

    Returns
    -------
    Path
        The default cache folder (not created).
    """
    env = os.environ.get(CACHE_ENV)
    return Path(env).expanduser() if env else Path.home() / ".cache" / "care15"


def resolve_cache_dir(cache_dir: Path | str | None = None) -> Path:
    """The cache folder to use (created if missing): ``cache_dir`` or :func:`default_cache_dir`.

    Parameters
    ----------
    cache_dir
        A folder, or None for the default.

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    InputError
        When the folder cannot be created (names ``$CARE15_CACHE`` and ``--no-cache``).
    """
    d = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    try:
        d.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise InputError(f"cache folder {d} cannot be created ({e}); set {CACHE_ENV} to a "
                         "writable folder, or run without the cache (--no-cache on the command "
                         "line, cache=False or cache_dir= in Python)") from e
    return d


def cache_dir_of(cache: bool | str | Path | None) -> tuple[bool, Path | str | None]:
    """Whether a stage's ``cache`` argument turns the cache on, and its folder.

    Parameters
    ----------
    cache
        ``True`` (the default folder), a folder, or ``False``/``None`` (off).

    Returns
    -------
    tuple
        ``(on, cache_dir)``; ``cache_dir`` is None for the default folder.
    """
    if cache is None or cache is False:
        return False, None
    if cache is True:
        return True, None
    return True, cache


def _sha(*parts: Any) -> str:
    h = hashlib.sha256()
    for p in parts:
        if isinstance(p, np.ndarray):
            a = np.ascontiguousarray(p)
            h.update(f"{a.dtype.str}{a.shape}".encode())
            h.update(a.reshape(-1).view(np.uint8).tobytes() if a.dtype != object else
                     json.dumps(a.tolist(), default=str).encode())
        elif isinstance(p, bytes):
            h.update(p)
        else:
            h.update(json.dumps(p, sort_keys=True, default=str).encode())
        h.update(b"\x00")
    return h.hexdigest()


def file_sha256(path: Path | str, *, cache_dir: Path | str | None = None,
                remember: bool = True) -> str:
    """SHA-256 of a file's bytes, read in 1 MiB chunks and remembered per (path, size, mtime).

    The remembered hash lives in memory and in ``<cache>/hashes/``, so an unchanged file is
    hashed once, not at every run.

    Parameters
    ----------
    path
        The file.
    cache_dir
        Cache folder (see :func:`resolve_cache_dir`).
    remember
        Also read and write the remembered hashes on disk (in memory they always are).

    Returns
    -------
    str
        Hex digest.
    """
    p = Path(path).expanduser()
    try:
        st = p.stat()
    except OSError as e:
        raise InputError(f"{p}: cannot read the file ({e})") from e
    ident = (str(p.resolve()), st.st_size, st.st_mtime_ns, st.st_ino)
    with _HASH_LOCK:
        known = _HASHES.get(ident)
    if known:
        return known
    memo = resolve_cache_dir(cache_dir) / "hashes" / f"{_sha(list(ident))}.txt" if remember \
        else None
    if memo is not None:
        with contextlib.suppress(OSError, UnicodeDecodeError):
            txt = memo.read_text(encoding="ascii").strip()
            if len(txt) == 64 and all(c in "0123456789abcdef" for c in txt):
                with _HASH_LOCK:
                    _HASHES[ident] = txt
                return txt
    h = hashlib.sha256()
    with open(p, "rb") as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
    digest = h.hexdigest()
    with _HASH_LOCK:
        _HASHES[ident] = digest
    if memo is not None:
        with contextlib.suppress(OSError):
            _atomic_write_bytes(memo, digest.encode("ascii"))
    return digest


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_file(path, "wb") as f:
        f.write(data)


# --------------------------------------------------------------------------- entries

def _checksum(arrays: Mapping[str, np.ndarray]) -> str:
    return _sha(*[x for k in sorted(arrays) for x in (k, arrays[k])])


def _write_entry(path: Path, key: str, arrays: Mapping[str, np.ndarray]) -> None:
    """Write one entry atomically: temp file in the same folder, fsync, os.replace."""
    payload = {k: np.asarray(v) for k, v in arrays.items()}
    header = {"_format": np.asarray(CACHE_FORMAT, dtype=np.int64), "_key": np.asarray(key),
              "_checksum": np.asarray(_checksum(payload))}
    with atomic_file(path, "wb") as f:
        np.savez(f, **payload, **header)  # type: ignore[arg-type]  # numpy's stub: **kwds


class _BadEntry(Exception):
    """A cache entry that must not be used; the message says why."""


def _load_arrays(path: Path, key: str | None) -> dict[str, np.ndarray]:
    """Read and verify an entry; raises :class:`_BadEntry` when it is stale or corrupt."""
    try:
        with np.load(path, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    except Exception as e:  # BadZipFile, zlib/CRC errors, EOFError, ValueError, OSError...
        raise _BadEntry(f"corrupt: unreadable ({type(e).__name__}: {e})") from e
    for k in ("_format", "_key", "_checksum"):
        if k not in arrays:
            raise _BadEntry(f"corrupt: no {k[1:]} field")
    fmt = int(arrays.pop("_format"))
    stored_key = str(arrays.pop("_key"))
    stored_sum = str(arrays.pop("_checksum"))
    if fmt != CACHE_FORMAT:
        raise _BadEntry(f"stale: format version {fmt}, expected {CACHE_FORMAT}")
    if key is not None and stored_key != key:
        raise _BadEntry("stale: its key does not match the inputs")
    if _checksum(arrays) != stored_sum:
        raise _BadEntry("corrupt: checksum mismatch")
    return arrays


def _read_entry(path: Path, key: str, kind: str) -> dict[str, np.ndarray] | None:
    """The verified arrays of an entry, or None on a miss; bad entries are logged and deleted."""
    try:
        ino = path.stat().st_ino
    except FileNotFoundError:
        return None
    try:
        return _load_arrays(path, key)
    except _BadEntry as e:
        log.warning("care15 cache: %s entry %s is %s; deleted, rebuilding", kind, path.name, e)
        with contextlib.suppress(OSError):
            if path.stat().st_ino == ino:  # not a fresh file another process just put there
                path.unlink()
        return None


def _entry_path(cache_dir: Path | str | None, kind: str, key: str) -> Path:
    return resolve_cache_dir(cache_dir) / kind / f"{key}.npz"


# --------------------------------------------------------------------------- networks

def _network_arrays(network: WalkNetwork) -> dict[str, np.ndarray]:
    wkb = shapely.to_wkb(network.edge_geometry)
    lengths = np.fromiter((len(b) for b in wkb), dtype=np.int64, count=len(wkb))
    offsets = np.zeros(len(wkb) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    blob = np.frombuffer(b"".join(wkb), dtype=np.uint8) if len(wkb) else np.empty(0, np.uint8)
    meta = {k: v for k, v in network.meta.items() if k != "cache"}
    return {"node_id": np.asarray(network.node_id), "x": np.asarray(network.x, dtype=float),
            "y": np.asarray(network.y, dtype=float), "edge_u": np.asarray(network.edge_u),
            "edge_v": np.asarray(network.edge_v),
            "edge_length_m": np.asarray(network.edge_length_m, dtype=float),
            "edge_class": np.asarray(network.edge_class, dtype=np.int8),
            "geometry_wkb": blob, "geometry_offsets": offsets,
            "crs_wkt": np.asarray(network.crs.to_wkt()), "source": np.asarray(network.source),
            "meta_json": np.asarray(json.dumps(meta, default=str))}


def _network_from_arrays(a: Mapping[str, np.ndarray]) -> WalkNetwork:
    blob = a["geometry_wkb"].tobytes()
    off = a["geometry_offsets"]
    parts = np.empty(len(off) - 1, dtype=object)
    parts[:] = [blob[s:e] for s, e in zip(off[:-1].tolist(), off[1:].tolist(), strict=True)]
    geom = shapely.from_wkb(parts) if len(parts) else np.empty(0, dtype=object)
    return WalkNetwork(crs=pyproj.CRS.from_wkt(str(a["crs_wkt"])), node_id=a["node_id"],
                       x=a["x"], y=a["y"], edge_u=a["edge_u"], edge_v=a["edge_v"],
                       edge_length_m=a["edge_length_m"], edge_geometry=geom,
                       source=str(a["source"]), meta=json.loads(str(a["meta_json"])),
                       edge_class=a["edge_class"] if "edge_class" in a else np.empty(0, np.int8))


def network_to_npz(network: WalkNetwork, path: Path | str) -> Path:
    """Save a network to one ``.npz`` file (atomically; geometry as WKB, CRS as WKT).

    The file carries a format version and a checksum; read it back with
    :func:`network_from_npz`.

    Parameters
    ----------
    network
        The network.
    path
        The ``.npz`` file.

    Returns
    -------
    Path
        ``path``.
    """
    p = Path(path)
    _write_entry(p, f"file:{p.name}", _network_arrays(network))
    return p


def network_from_npz(path: Path | str) -> WalkNetwork:
    """Read a network saved by :func:`network_to_npz` (or a cache entry).

    Parameters
    ----------
    path
        The ``.npz`` file.

    Returns
    -------
    WalkNetwork
        The network as it was saved.

    Raises
    ------
    InputError
        When the file is missing, truncated, of another format version or fails its checksum.
    """
    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: network file not found")
    try:
        arrays = _load_arrays(p, None)
        net = _network_from_arrays(arrays)
    except _BadEntry as e:
        raise InputError(f"{p}: cannot use this network file, it is {e}; save it again with "
                         "care15.cache.network_to_npz") from None
    except Exception as e:
        raise InputError(f"{p}: not a care15 network file ({type(e).__name__}: {e})") from e
    return net


def _reader_of(path: Path) -> str:
    name = str(path).lower()
    if name.endswith(".pbf"):
        return "pyrosm"
    if name.endswith((".osm", ".osm.bz2", ".xml")):
        return "osmnx"
    raise InputError(f"{path}: unknown OSM file type; expected .osm.pbf, .osm or .osm.bz2")


@functools.lru_cache(maxsize=16)
def _version(mod: str) -> str:
    try:
        from importlib.metadata import version

        return version(mod)
    except Exception:
        return "?"


@functools.lru_cache(maxsize=64)
def _code_fingerprint(*objs: Any) -> str:
    parts = []
    for o in objs:
        try:
            parts.append(inspect.getsource(o))
        except (OSError, TypeError):
            parts.append(f"{getattr(o, '__module__', '?')}.{getattr(o, '__qualname__', o)!r}")
    return _sha(*parts)


def network_key(path: Path | str, *, crs: Any = None,
                bbox: tuple[float, float, float, float] | None = None,
                cache_dir: Path | str | None = None) -> str:
    """The cache key of the network parsed from an OSM file with these parameters.

    Parameters
    ----------
    path
        The OSM file (its bytes are hashed).
    crs
        Metric CRS passed to the reader.
    bbox
        (west, south, east, north) a PBF is clipped to.
    cache_dir
        Cache folder (default ``$CARE15_CACHE`` or ``~/.cache/care15``).

    Returns
    -------
    str
        Hex digest of the file's bytes, the parameters, the reader and its version, and the
        walking filter's version.
    """
    from . import network as netmod
    from .sources import osm

    p = Path(path)
    reader = _reader_of(p)
    fn = osm.network_from_pbf if reader == "pyrosm" else osm.network_from_xml
    parts = {
        "kind": "network", "format": CACHE_FORMAT, "file_sha256": file_sha256(p, cache_dir=cache_dir),
        "reader": reader, "reader_version": _version(reader), "shapely": shapely.__version__,
        "crs": None if crs is None else pyproj.CRS.from_user_input(crs).to_wkt(),
        "bbox": None if bbox is None else [float(v) for v in bbox],
        "walk_filter_version": WALK_FILTER_VERSION,
        "walk_filter": [sorted(osm.NOT_WALKABLE_HIGHWAY), sorted(osm.NO_FOOT)],
        "code": _code_fingerprint(osm.walkable_mask, osm.walk_reasons, osm.edge_entry_class,
                                  fn, netmod.network_from_edges,
                                  osm.network_from_graph),
    }
    return _sha(parts)


def cached_network(path: Path | str, *, cache_dir: Path | str | None = None, crs: Any = None,
                   bbox: tuple[float, float, float, float] | None = None,
                   refresh: bool = False) -> WalkNetwork:
    """The walking network of an OSM file, parsed once and then read from the cache.

    Parameters
    ----------
    path
        ``.osm.pbf`` (read with :func:`care15.sources.osm.network_from_pbf`) or ``.osm`` /
        ``.osm.bz2`` (:func:`care15.sources.osm.network_from_xml`).
    cache_dir
        Cache folder (default ``$CARE15_CACHE`` or ``~/.cache/care15``).
    crs
        Metric CRS passed to the reader (default: the local UTM zone).
    bbox
        (west, south, east, north) to clip a PBF to.
    refresh
        Parse again and replace the entry.

    Returns
    -------
    WalkNetwork
        ``meta["cache"]`` says ``hit`` (read from the cache) or not, the ``key`` and ``file``.
    """
    from .sources import osm

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: file not found; give the path of an OSM extract "
                         "(.osm.pbf, .osm, .osm.bz2)")
    t0 = time.perf_counter()
    key = network_key(p, crs=crs, bbox=bbox, cache_dir=cache_dir)
    entry = _entry_path(cache_dir, "networks", key)
    if not refresh:
        arrays = _read_entry(entry, key, "network")
        if arrays is not None:
            try:
                net = _network_from_arrays(arrays)
            except Exception as e:  # arrays passed the checksum but cannot be rebuilt
                log.warning("care15 cache: network entry %s cannot be rebuilt (%s: %s); deleted, "
                            "rebuilding", entry.name, type(e).__name__, e)
                with contextlib.suppress(OSError):
                    entry.unlink()
            else:
                net.meta["cache"] = {"hit": True, "key": key, "file": str(entry),
                                     "seconds": round(time.perf_counter() - t0, 4)}
                log.info("%s: street network read from the cache (%.2f s)", p.name,
                         time.perf_counter() - t0)
                return net
    if _reader_of(p) == "pyrosm":
        net = osm.network_from_pbf(p, crs=crs, bbox=bbox)
    else:
        if bbox is not None:
            raise InputError(f"{p}: bbox= clipping is only supported for .osm.pbf files")
        net = osm.network_from_xml(p, crs=crs)
    try:
        _write_entry(entry, key, _network_arrays(net))
    except OSError as e:  # a full or read-only disk must not stop the analysis
        log.warning("care15 cache: could not store the network of %s (%s)", p.name, e)
    net.meta["cache"] = {"hit": False, "key": key, "file": str(entry),
                         "seconds": round(time.perf_counter() - t0, 4)}
    return net


# --------------------------------------------------------------------------- feature layers

def features_key(path: Path | str, tags: Mapping[str, Any], *,
                 cache_dir: Path | str | None = None) -> str:
    """The cache key of the OSM features matching ``tags`` in a file.

    Parameters
    ----------
    path
        The OSM file (its bytes are hashed).
    tags
        The osmnx-style filter, as given to :func:`care15.sources.osm.features_from_file`.
    cache_dir
        Cache folder (default ``$CARE15_CACHE`` or ``~/.cache/care15``).

    Returns
    -------
    str
        Hex digest of the file's bytes, the tags, the reader and its version, the feature
        reader's source code and :data:`FEATURES_VERSION`.
    """
    from .sources import osm

    p = Path(path)
    reader = _reader_of(p)
    parts = {
        "kind": "features", "format": CACHE_FORMAT, "features_version": FEATURES_VERSION,
        "file_sha256": file_sha256(p, cache_dir=cache_dir), "reader": reader,
        "reader_version": _version(reader), "geopandas": gpd.__version__,
        "shapely": shapely.__version__,
        "tags": {str(k): (True if v is True else [str(x) for x in np.atleast_1d(v)])
                 for k, v in tags.items()},
        "code": _code_fingerprint(osm.read_features, osm._tidy_features, osm._osmnx_features),
    }
    return _sha(parts)


def _features_payload(gdf: gpd.GeoDataFrame) -> bytes:
    """A feature layer as pickle bytes: the attribute table and the geometries as WKB."""
    import pickle

    gcol = gdf.geometry.name
    frame = pd.DataFrame(gdf.drop(columns=gcol))
    wkb = shapely.to_wkb(np.asarray(gdf.geometry.values, dtype=object))
    crs = None if gdf.crs is None else gdf.crs.to_wkt()
    return pickle.dumps({"frame": frame, "wkb": wkb, "geometry": gcol, "crs": crs,
                         "columns": list(gdf.columns), "attrs": dict(gdf.attrs)},
                        protocol=pickle.HIGHEST_PROTOCOL)


def _features_from_payload(payload: bytes) -> gpd.GeoDataFrame:
    import pickle

    d = pickle.loads(payload)
    frame = d["frame"]
    frame[d["geometry"]] = shapely.from_wkb(d["wkb"])
    gdf = gpd.GeoDataFrame(frame, geometry=d["geometry"], crs=d["crs"])
    gdf = gdf[d["columns"]]
    gdf.attrs.update(d["attrs"])
    return gdf


def _write_blob(path: Path, key: str, payload: bytes) -> None:
    """A pickled entry: format, key and checksum first, then the payload."""
    import pickle

    head = pickle.dumps({"_format": CACHE_FORMAT, "_key": key,
                         "_checksum": hashlib.sha256(payload).hexdigest()})
    with atomic_file(path, "wb") as f:
        f.write(len(head).to_bytes(8, "little"))
        f.write(head)
        f.write(payload)


def _read_blob(path: Path, key: str, kind: str) -> bytes | None:
    """The verified payload of a pickled entry, or None; bad entries are logged and deleted."""
    import pickle

    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    try:
        try:
            data = path.read_bytes()
            n = int.from_bytes(data[:8], "little")
            head = pickle.loads(data[8:8 + n])
            payload = data[8 + n:]
            fmt, stored_key, stored_sum = head["_format"], head["_key"], head["_checksum"]
        except Exception as e:
            raise _BadEntry(f"corrupt: unreadable ({type(e).__name__}: {e})") from e
        if fmt != CACHE_FORMAT:
            raise _BadEntry(f"stale: format version {fmt}, expected {CACHE_FORMAT}")
        if stored_key != key:
            raise _BadEntry("stale: its key does not match the inputs")
        if hashlib.sha256(payload).hexdigest() != stored_sum:
            raise _BadEntry("corrupt: checksum mismatch")
    except _BadEntry as e:
        log.warning("care15 cache: %s entry %s is %s; deleted, rebuilding", kind, path.name, e)
        with contextlib.suppress(OSError):
            if path.stat().st_ino == st.st_ino:
                path.unlink()
        return None
    return payload


def cached_features(path: Path | str, tags: Mapping[str, Any], *,
                    cache_dir: Path | str | None = None,
                    refresh: bool = False) -> gpd.GeoDataFrame:
    """OSM features matching ``tags`` in a file, parsed once and then read from the cache.

    The layer (:func:`care15.sources.osm.read_features`: the population estimate's buildings,
    land use and streets, administrative boundaries, OSM facilities) is stored as a pickle of
    its attribute table with the geometries as WKB, keyed by :func:`features_key`. A changed
    file, other tags, another reader version or a change of the reading code miss.

    Parameters
    ----------
    path
        ``.osm.pbf``, ``.osm`` or ``.osm.bz2`` file.
    tags
        An osmnx-style filter: ``{"building": True}``.
    cache_dir
        Cache folder (default ``$CARE15_CACHE`` or ``~/.cache/care15``).
    refresh
        Parse again and replace the entry.

    Returns
    -------
    geopandas.GeoDataFrame
        The same table as :func:`care15.sources.osm.read_features` returns (a fresh copy).
    """
    from .sources import osm

    p = Path(path)
    if not p.is_file():
        return osm.read_features(p, dict(tags))  # its own "file not found" error
    t0 = time.perf_counter()
    key = features_key(p, tags, cache_dir=cache_dir)
    entry = resolve_cache_dir(cache_dir) / "features" / f"{key}.pkl"
    if not refresh:
        payload = _read_blob(entry, key, "features")
        if payload is not None:
            try:
                gdf = _features_from_payload(payload)
            except Exception as e:
                log.warning("care15 cache: features entry %s cannot be rebuilt (%s: %s); "
                            "deleted, rebuilding", entry.name, type(e).__name__, e)
                with contextlib.suppress(OSError):
                    entry.unlink()
            else:
                log.info("%s: %s read from the cache (%.2f s)", p.name, sorted(tags),
                         time.perf_counter() - t0)
                return gdf
    gdf = osm.read_features(p, dict(tags))
    try:
        _write_blob(entry, key, _features_payload(gdf))
    except OSError as e:
        log.warning("care15 cache: could not store OSM features of %s (%s)", p.name, e)
    except Exception as e:  # a layer pickle cannot hold: use it uncached
        log.warning("care15 cache: OSM features of %s not cached (%s: %s)", p.name,
                    type(e).__name__, e)
    return gdf


# --------------------------------------------------------------------------- snaps, distances

def network_fingerprint(network: WalkNetwork) -> str:
    """SHA-256 of a network's content (CRS, nodes, edges, lengths, edge coordinates).

    Remembered per network object (networks are not modified in place by care15).

    Parameters
    ----------
    network
        The network.

    Returns
    -------
    str
        Hex digest.
    """
    fp = _FINGERPRINTS.get(network)
    if fp is None:
        coords, idx = (shapely.get_coordinates(network.edge_geometry, return_index=True)
                       if network.n_edges else (np.empty((0, 2)), np.empty(0, np.int64)))
        fp = _sha(network.crs.to_wkt(), np.asarray(network.node_id), np.asarray(network.x),
                  np.asarray(network.y), np.asarray(network.edge_u), np.asarray(network.edge_v),
                  np.asarray(network.edge_length_m), coords, idx,
                  np.asarray(network.edge_entry, dtype=np.int8))
        _FINGERPRINTS[network] = fp
    return fp


def _snapped_arrays(s: Snapped, prefix: str = "") -> dict[str, np.ndarray]:
    return {prefix + k: np.asarray(getattr(s, k)) for k in _SNAP_FIELDS}


def _snapped_from(a: Mapping[str, np.ndarray], prefix: str = "") -> Snapped:
    return Snapped(**{k: a[prefix + k] for k in _SNAP_FIELDS})


def _cached(kind: str, key: str, cache_dir: Path | str | None,
            build: Callable[[], dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    entry = _entry_path(cache_dir, kind, key)
    arrays = _read_entry(entry, key, kind)
    if arrays is not None:
        return arrays
    arrays = build()
    try:
        _write_entry(entry, key, arrays)
    except OSError as e:
        log.warning("care15 cache: could not store a %s entry (%s)", kind, e)
    return arrays


def cached_snap(network: WalkNetwork, x: np.ndarray, y: np.ndarray, *,
                max_access_m: float = np.inf,
                cache_dir: Path | str | None = None) -> Snapped:
    """:meth:`WalkNetwork.snap` of points (network CRS), cached by network and coordinates.

    Parameters
    ----------
    network
        The network.
    x, y
        Coordinates in the network's CRS, metres.
    max_access_m
        Longest access leg; points farther from any street are not attached.
    cache_dir
        Cache folder (default ``$CARE15_CACHE`` or ``~/.cache/care15``).

    Returns
    -------
    Snapped
        As :meth:`WalkNetwork.snap` returns it.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    key = _sha("snap", CACHE_FORMAT, SNAP_VERSION, network_fingerprint(network), x, y,
               float(max_access_m))
    a = _cached("snaps", key, cache_dir,
                lambda: _snapped_arrays(network.snap(x, y, max_access_m=max_access_m)))
    return _snapped_from(a)


def cached_snap_gdf(network: WalkNetwork, gdf: gpd.GeoDataFrame | gpd.GeoSeries, *,
                    max_access_m: float = np.inf,
                    cache_dir: Path | str | None = None) -> Snapped:
    """:meth:`WalkNetwork.snap_gdf`, cached by network, geometries (as WKB) and ``max_access_m``.

    Parameters
    ----------
    network
        The network.
    gdf
        Points (or polygons, snapped at their centroid) in any CRS.
    max_access_m
        Longest access leg; points farther from any street are not attached.
    cache_dir
        Cache folder (default ``$CARE15_CACHE`` or ``~/.cache/care15``).

    Returns
    -------
    Snapped
        As :meth:`WalkNetwork.snap_gdf` returns it.
    """
    local = network.to_local(gdf)
    geom = local.geometry.values if isinstance(local, gpd.GeoDataFrame) else local.values
    wkb = shapely.to_wkb(np.asarray(geom, dtype=object))
    key = _sha("snap_gdf", CACHE_FORMAT, SNAP_VERSION, network_fingerprint(network), b"".join(
        len(b).to_bytes(8, "little") + b for b in wkb), float(max_access_m))
    a = _cached("snaps", key, cache_dir,
                lambda: _snapped_arrays(network.snap_gdf(gdf, max_access_m=max_access_m)))
    return _snapped_from(a)


def cached_node_distances(network: WalkNetwork, facilities: Snapped, *,
                          limit_m: float = np.inf,
                          cache_dir: Path | str | None = None) -> NodeDistances:
    """:func:`care15.access.nearest_facility`, cached by network, facilities and limit.

    The key holds the network fingerprint, every array of the snapped facilities (so moved,
    added or removed facilities miss) and ``limit_m``. Distances are in metres: any walking
    speed reuses the entry.

    Parameters
    ----------
    network
        The network.
    facilities
        The facilities' snapped positions.
    limit_m
        Search no farther than this, metres.
    cache_dir
        Cache folder (default ``$CARE15_CACHE`` or ``~/.cache/care15``).

    Returns
    -------
    NodeDistances
        As :func:`care15.access.nearest_facility` returns it.
    """
    key = _sha("node_distances", CACHE_FORMAT, network_fingerprint(network),
               *[np.asarray(getattr(facilities, k)) for k in _SNAP_FIELDS], float(limit_m))

    def build() -> dict[str, np.ndarray]:
        """Compute the entry's arrays (on a cache miss).

        Returns
        -------
        dict
            ``dist_m`` and ``nearest`` of :func:`care15.access.nearest_facility`.
        """
        nd = nearest_facility(network, facilities, limit_m=limit_m)
        return {"dist_m": nd.dist_m, "nearest": nd.nearest}

    a = _cached("node_distances", key, cache_dir, build)
    return NodeDistances(dist_m=a["dist_m"], nearest=a["nearest"], sources=facilities)


def cached_datum_readings(network: WalkNetwork, lon: np.ndarray, lat: np.ndarray,
                          declared: str, *, cache_dir: Path | str | None = None
                          ) -> tuple[dict[str, dict[str, float]], float]:
    """The street structure of a facility list's readings, cached by network and points.

    The costly part of :func:`care15.sources.facilities.check_datum_offset` (25 snaps a point
    and reading, then a Kolmogorov-Smirnov test), keyed by the network fingerprint, the
    points' WGS-84 coordinates, the declared system and the source of the check and of the
    snapping; the verdict and its warning are drawn from it at every run.

    Parameters
    ----------
    network
        The walking network.
    lon, lat
        The points (WGS-84 as converted from ``declared``; the sample the check uses).
    declared
        The coordinate system the list was declared in.
    cache_dir
        Cache folder (default ``$CARE15_CACHE`` or ``~/.cache/care15``).

    Returns
    -------
    readings : dict
        Per system ``median_access_m``, ``share_within_30m``, ``street_structure`` and
        ``p_value``.
    decoy_structure_max : float
        The most structured decoy reading.
    """
    from .sources import facilities as fmod

    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    key = _sha("datum_check", CACHE_FORMAT, network_fingerprint(network), lon, lat,
               str(declared), _code_fingerprint(fmod._datum_readings, fmod._street_structure,
                                                fmod._street_distances, WalkNetwork.snap,
                                                WalkNetwork.snap_gdf),
               _version("scipy"))

    def build() -> dict[str, np.ndarray]:
        """Compute the entry (on a cache miss).

        Returns
        -------
        dict
            ``json``: the readings and the decoys' maximum as JSON.
        """
        readings, ceiling = fmod._datum_readings(network, lon, lat, declared)
        return {"json": np.asarray(json.dumps({"readings": readings, "ceiling": ceiling}))}

    d = json.loads(str(_cached("datum_checks", key, cache_dir, build)["json"]))
    return d["readings"], float(d["ceiling"])


@functools.lru_cache(maxsize=8)
def _module_fingerprint(*names: str) -> str:
    import importlib

    parts = []
    for n in names:
        try:
            parts.append(inspect.getsource(importlib.import_module(n)))
        except (OSError, TypeError):
            parts.append(n)
    return _sha(*parts)


def cached_isochrones(network: WalkNetwork, facilities: Snapped,
                      thresholds_min: tuple[float, ...], speed_mps: float, *,
                      walkoff_m: float = 50.0, category: str = "",
                      nd: NodeDistances | None = None, method: str = "auto",
                      cache_dir: Path | str | None = None) -> gpd.GeoDataFrame:
    """:func:`care15.isochrones.isochrones`, cached by network, facilities and parameters.

    Dissolving the reached streets is the slow part of an analysis; a run with the same
    network, facilities, thresholds, speed, walk-off and method reads the polygons back (as
    WKB, exact). The key holds the network fingerprint, every array of the snapped
    facilities, the parameters, whether ``nd`` was given, the shapely version and the source
    of :mod:`care15.isochrones` and :mod:`care15.access`.

    Parameters
    ----------
    network
        The walking network.
    facilities
        Facilities of one category, snapped.
    thresholds_min
        Walking minutes, e.g. (5, 10, 15).
    speed_mps
        Walking speed (m/s) of the group served.
    walkoff_m
        Buffer around the reached streets.
    category
        Label written to the ``category`` column.
    nd
        Precomputed :func:`care15.access.nearest_facility` result of ``facilities`` (without
        a limit), reused on a miss.
    method
        ``"auto"``, ``"vector"`` or ``"raster"``.
    cache_dir
        Cache folder (default ``$CARE15_CACHE`` or ``~/.cache/care15``).

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`care15.isochrones.isochrones` returns it.
    """
    import pickle

    from .isochrones import isochrones

    key = _sha("isochrones", CACHE_FORMAT, network_fingerprint(network),
               *[np.asarray(getattr(facilities, k)) for k in _SNAP_FIELDS],
               [repr(t) for t in thresholds_min], repr(speed_mps), repr(walkoff_m),
               str(category), str(method), nd is None, shapely.__version__,
               _module_fingerprint("care15.isochrones", "care15.access"))
    entry = resolve_cache_dir(cache_dir) / "isochrones" / f"{key}.pkl"
    payload = _read_blob(entry, key, "isochrones")
    if payload is not None:
        try:
            rows = pickle.loads(payload)
            geoms = shapely.from_wkb([r.pop("geometry") for r in rows])
            for r, g in zip(rows, geoms, strict=True):
                r["geometry"] = g
            return gpd.GeoDataFrame(pd.DataFrame(rows), geometry="geometry", crs=network.crs)
        except Exception as e:
            log.warning("care15 cache: isochrones entry %s cannot be rebuilt (%s: %s); "
                        "rebuilding", entry.name, type(e).__name__, e)
    iso = isochrones(network, facilities, thresholds_min, speed_mps, walkoff_m=walkoff_m,
                     category=category, nd=nd, method=method)
    rows = [{k: (shapely.to_wkb(v) if k == "geometry" else v) for k, v in r.items()}
            for r in iso.to_dict("records")]
    try:
        _write_blob(entry, key, pickle.dumps(rows, protocol=pickle.HIGHEST_PROTOCOL))
    except OSError as e:
        log.warning("care15 cache: could not store isochrones (%s)", e)
    return iso


def cached_street_samples(network: WalkNetwork, grid: PixelGrid, *,
                          cache_dir: Path | str | None = None) -> StreetSamples:
    """The network's street samples on an isochrone grid (:mod:`care15.isofield`), cached.

    Sampling every street every half pixel and sorting the samples by pixel is the part of
    the isochrone fields that depends on the network alone; a run on the same network and
    grid reads the arrays back (exact) and keeps them on the network for the fields of every
    category. The key holds :data:`care15.isofield.SAMPLES_VERSION`, the network fingerprint,
    the grid and the source of :mod:`care15.isofield` (the compiled and numpy samplers give the
    same arrays, so which one made an entry does not matter).

    Parameters
    ----------
    network
        The walking network.
    grid
        The pixel grid (:func:`care15.isofield.pixel_grid`).
    cache_dir
        Cache folder (default ``$CARE15_CACHE`` or ``~/.cache/care15``).

    Returns
    -------
    StreetSamples
        The samples (also kept on ``network``).
    """
    import io

    from .isofield import SAMPLES_VERSION, StreetSamples, street_samples

    store = network.__dict__.setdefault("_street_samples", {})
    if grid in store:
        return store[grid]
    key = _sha("street_samples", CACHE_FORMAT, SAMPLES_VERSION, network_fingerprint(network),
               repr(grid), np.__version__, shapely.__version__,
               _module_fingerprint("care15.isofield"))
    entry = resolve_cache_dir(cache_dir) / "street_samples" / f"{key}.npz"
    payload = _read_blob(entry, key, "street_samples")
    names = ("edge", "along_m", "edge_start", "pixel", "by_pixel", "pixels", "pixel_start")
    if payload is not None:
        try:
            with np.load(io.BytesIO(payload)) as z:
                smp = StreetSamples(grid, *(z[k] for k in names))
            store.clear()
            store[grid] = smp
            return smp
        except Exception as e:
            log.warning("care15 cache: street samples entry %s cannot be read (%s: %s); "
                        "rebuilding", entry.name, type(e).__name__, e)
    smp = street_samples(network, grid)
    buf = io.BytesIO()
    np.savez(buf, **{k: getattr(smp, k) for k in names})
    try:
        _write_blob(entry, key, buf.getvalue())
    except OSError as e:
        log.warning("care15 cache: could not store street samples (%s)", e)
    return smp


def cached_field_isochrones(key_parts: tuple[Any, ...], compute: Callable[[], gpd.GeoDataFrame],
                            *, cache_dir: Path | str | None = None) -> gpd.GeoDataFrame:
    """One category's isochrone polygons made from its field, cached by what the field is of.

    Parameters
    ----------
    key_parts
        What determines the field: the network fingerprint is added to these (the snapped
        facilities, thresholds, speed, walk-off and grid, as
        :func:`care15.category.isochrone_builder` gives them).
    compute
        Makes the polygons on a miss.
    cache_dir
        Cache folder (default ``$CARE15_CACHE`` or ``~/.cache/care15``).

    Returns
    -------
    geopandas.GeoDataFrame
        The category's isochrone rows.
    """
    key = _sha("field_isochrones", CACHE_FORMAT, *key_parts, shapely.__version__,
               _module_fingerprint("care15.isofield", "care15.access", "care15.category"))
    return _layer_through_cache("isochrones", key, cache_dir, "isochrones", compute)


def _frame_digest(gdf: gpd.GeoDataFrame) -> str:
    """SHA-256 of a layer's columns (names, dtypes, values), geometry (WKB) and CRS."""
    frame = pd.DataFrame(gdf.drop(columns=gdf.geometry.name))
    h = pd.util.hash_pandas_object(frame, index=True).to_numpy() if len(frame.columns) else \
        np.arange(len(frame))
    return _sha([str(c) for c in gdf.columns], [str(t) for t in gdf.dtypes], h,
                b"".join(len(b).to_bytes(8, "little") + b
                         for b in shapely.to_wkb(np.asarray(gdf.geometry.values, dtype=object))),
                None if gdf.crs is None else gdf.crs.to_wkt())


def cached_gap_clusters(cells: gpd.GeoDataFrame, category: str, *, threshold_min: float,
                        network: WalkNetwork | None = None, cell_snap: Any = None,
                        speed_mps: float | None = None,
                        cache_dir: Path | str | None = None) -> gpd.GeoDataFrame:
    """:func:`care15.gaps.gap_clusters`, cached by the cells' content and the parameters.

    The key holds a digest of every column, the geometry (WKB) and the CRS of ``cells``, the
    category, the threshold, the shapely and geopandas versions and the source of
    :mod:`care15.gaps`: a changed facility list changes the walking times and so the key.

    Parameters
    ----------
    cells
        Population cells as :func:`care15.gaps.gap_clusters` takes them.
    category
        A key of :data:`care15.standards.CATEGORIES`.
    threshold_min
        Walking minutes within which a cell counts as covered.
    network, cell_snap, speed_mps
        As :func:`care15.gaps.gap_clusters` takes them (for each gap's closing site); part of
        the key.
    cache_dir
        Cache folder (default ``$CARE15_CACHE`` or ``~/.cache/care15``).

    Returns
    -------
    geopandas.GeoDataFrame
        As :func:`care15.gaps.gap_clusters` returns it.
    """
    from .gaps import gap_clusters

    snap = ([np.asarray(getattr(cell_snap, k)) for k in _SNAP_FIELDS]  # by value, as for
            if cell_snap is not None else ["-"])                     # the isochrones' key
    key = _sha("gaps", CACHE_FORMAT, _frame_digest(cells), str(category), repr(threshold_min),
               shapely.__version__, gpd.__version__, _module_fingerprint("care15.gaps"),
               network_fingerprint(network) if network is not None else "-",
               *snap, repr(speed_mps))
    return _layer_through_cache("gaps", key, cache_dir, "gap clusters", lambda: gap_clusters(
        cells, category, threshold_min=threshold_min, network=network, cell_snap=cell_snap,
        speed_mps=speed_mps))


def _layer_through_cache(kind: str, key: str, cache_dir: Path | str | None, what: str,
                         compute: Callable[[], gpd.GeoDataFrame]) -> gpd.GeoDataFrame:
    """A layer read from the ``kind`` entry ``key``, else computed and stored (WKB pickle)."""
    entry = resolve_cache_dir(cache_dir) / kind / f"{key}.pkl"
    payload = _read_blob(entry, key, kind)
    if payload is not None:
        try:
            return _features_from_payload(payload)
        except Exception as e:
            log.warning("care15 cache: %s entry %s cannot be rebuilt (%s: %s); rebuilding",
                        kind, entry.name, type(e).__name__, e)
    out = compute()
    try:
        _write_blob(entry, key, _features_payload(out))
    except OSError as e:
        log.warning("care15 cache: could not store %s (%s)", what, e)
    except Exception as e:  # attrs a pickle cannot hold: use it uncached
        log.warning("care15 cache: %s not cached (%s: %s)", what, type(e).__name__, e)
    return out


def cached_population_from_osm(path: Path | str, *, cache_dir: Path | str | None = None,
                               **kwargs: Any) -> gpd.GeoDataFrame:
    """:func:`care15.sources.population.population_from_osm` of a file, cached.

    Weighting Harbin's 15,000 cells by the buildings, land use and streets mapped in them
    takes 1.4 s (the layers themselves come from :func:`cached_features`); a run with the
    same file and parameters reads the cells back. The key holds the file's SHA-256, every
    parameter (the CRS as WKT), the shapely and geopandas versions and the source of the
    population, OSM and standards modules.

    Parameters
    ----------
    path
        The OSM file.
    cache_dir
        Cache folder (default ``$CARE15_CACHE`` or ``~/.cache/care15``).
    **kwargs
        Passed to :func:`~care15.sources.population.population_from_osm` (``total_population``,
        ``crs``, ``cell_size_m``, ``shares``, ``bounds``...).

    Returns
    -------
    geopandas.GeoDataFrame
        The cells, with the estimate's report in ``attrs``.
    """
    from pyproj import CRS

    from .sources.population import population_from_osm

    p = Path(path)
    if not p.is_file():
        return population_from_osm(p, **kwargs)  # its own "file not found" error
    params = {k: (CRS.from_user_input(v).to_wkt() if k == "crs" and v is not None else repr(v))
              for k, v in sorted(kwargs.items())}
    key = _sha("population_osm", CACHE_FORMAT, file_sha256(p, cache_dir=cache_dir), params,
               shapely.__version__, gpd.__version__,
               _module_fingerprint("care15.sources.population", "care15.sources.osm",
                                   "care15.standards"))
    return _layer_through_cache("population", key, cache_dir, "the population estimate",
                                lambda: population_from_osm(p, **kwargs))


# --------------------------------------------------------------------------- housekeeping

def clear_cache(cache_dir: Path | str | None = None, *, kind: str | None = None) -> int:
    """Delete cache entries.

    Parameters
    ----------
    cache_dir
        Cache folder (default ``$CARE15_CACHE`` or ``~/.cache/care15``).
    kind
        One of ``networks``, ``features``, ``snaps``, ``node_distances``, ``datum_checks``,
        ``isochrones``, ``gaps``, ``hashes``; default all.

    Returns
    -------
    int
        Number of files removed.

    Raises
    ------
    ValueError
        For an unknown ``kind``.
    """
    if kind is not None and kind not in _KINDS:
        raise ValueError(f"kind {kind!r} is not one of {_KINDS}")
    d = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    n = 0
    for k in (kind,) if kind else _KINDS:
        sub = d / k
        if not sub.is_dir():
            continue
        for f in sub.iterdir():
            if f.is_file():
                with contextlib.suppress(FileNotFoundError):
                    f.unlink()
                    n += 1
    if kind in (None, "hashes"):
        with _HASH_LOCK:
            _HASHES.clear()
    return n


def cache_info(cache_dir: Path | str | None = None) -> dict[str, dict[str, int]]:
    """Entries and bytes per kind of cache entry.

    Parameters
    ----------
    cache_dir
        Cache folder (default ``$CARE15_CACHE`` or ``~/.cache/care15``).

    Returns
    -------
    dict
        ``{"networks": {"entries": 3, "bytes": 12345}, ...}``.
    """
    d = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    out: dict[str, dict[str, int]] = {}
    for k in _KINDS:
        files = [f for f in (d / k).iterdir() if f.is_file() and not f.name.startswith(".")] \
            if (d / k).is_dir() else []
        out[k] = {"entries": len(files), "bytes": sum(f.stat().st_size for f in files)}
    return out
