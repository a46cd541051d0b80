"""Many regions at once on dask.distributed: ``care15 batch regions.toml``.

Each region (a district, a city) is one independent task. By default they run on a local
cluster of worker processes (``n_workers``, one thread each, no dashboard); ``--scheduler
tcp://host:port`` uses an existing cluster instead (its workers must see the same files and
the output folder). A region too large for one task is split into tiles
(:mod:`care15.tiling`) that run as tasks of their own and are reassembled exactly.

The regions file
----------------
::

    # regions.toml: paths are relative to this file
    [batch]                        # optional, every key optional
    max_nodes_per_task = 250000    # tile a region whose network has more nodes than this...
    max_cells_per_task = 200000    # ...or more population cells
    cache = true                   # reuse parsed networks: true (default folder), false, or a folder
    lang = "zh"                    # "zh" or "en": labels of tables and maps
    basemap = "osm"                # osm | tianditu | amap | none
    maps = true                    # write each region's map.html
    offline = false                # embed the maps' JavaScript (no CDN)

    [defaults]                     # scenario keys every region starts from
    categories = ["elderly", "childcare"]
    [defaults.analysis]
    cell_size_m = 100

    [[region]]
    name = "chengdu_center"        # output folder name: letters (any script), digits, _ - . space
    scenario = "scenarios/chengdu.toml"   # a scenario file (its paths relative to it)...

    [[region]]
    name = "haidian"
    [region.area]                  # ...or the scenario inline (same keys as a scenario file);
    pbf = "osm/haidian.osm.pbf"    # inline keys override the file's, which override [defaults]
    [region.inputs]
    total_population = 120000

    [[region]]
    name = "prepared"
    max_cells_per_task = 50000     # per-region tiling limits override [batch]
    [region.layers]                # ready-made layers instead of the scenario's readers
    network = "net.npz"            # care15.cache.network_to_npz file or an OSM file
                                   # (default: the scenario's [area] pbf/osm/place/bbox)
    facilities = "facilities.geojson"   # required with [region.layers]: facility_id, category...
    cells = "cells.parquet"             # required: cell_id, pop_total, pop_60plus, pop_0to3
    communities = "communities.gpkg"    # optional: community_id, community_name (else 1 km grid)

A malformed file (unknown keys, wrong types, a region without a name, two regions with the
same name) is refused before anything runs, with every problem listed by region and key. A
region whose scenario is invalid or whose files are missing is reported as failed, with the
message, while the others run.

Outputs
-------
``out/<region>/`` holds the region's tables, ``summary.json`` and ``map.html`` (the same files
as ``care15 analyze``), ``error.txt`` when it failed, and ``.done.json`` last of all: the
done-marker, written atomically, with a hash of the region's scenario, the bytes of every
input file and the batch options that change results. A re-run skips a region whose marker
matches (status ``skipped``, figures taken from the marker) and re-runs a changed one.
``out/regions.csv`` has one row per region (status ``ok``/``failed``/``skipped``, the error,
headline figures, the bounding box) and ``out/index.html`` a map with a box per region, its
headline rates and a link to its own map.
"""

from __future__ import annotations

import contextlib
import dataclasses
import html
import json
import logging
import math
import re
import time
import traceback
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import InputError, ScenarioError
from ._files import write_text_atomic
from ._options import BASEMAPS, LANGS
from .region import Region
from .scenario import _PATH_KEYS, _SECTIONS, _TOP, Scenario, load_toml, scenario_from_dict
from .tiling import DEFAULT_MAX_CELLS, DEFAULT_MAX_NODES

__all__ = [
    "BATCH_FORMAT",
    "DONE_MARKER",
    "BatchOptions",
    "RegionSpec",
    "index_map",
    "load_region",
    "local_cluster",
    "region_input_hash",
    "regions_from_dict",
    "regions_from_toml",
    "run_batch",
    "run_region",
    "run_regions",
]

log = logging.getLogger(__name__)

#: Version of the done-marker and of what a batch run writes; a change re-runs every region.
BATCH_FORMAT = 1
#: Name of the done-marker inside each region's folder.
DONE_MARKER = ".done.json"

_BATCH_KEYS = ("max_nodes_per_task", "max_cells_per_task", "cache", "lang", "basemap", "maps",
               "offline")
_REGION_KEYS = ("name", "scenario", "layers", "max_nodes_per_task", "max_cells_per_task")
_LAYER_KEYS = ("network", "facilities", "cells", "communities")
_SCENARIO_KEYS = tuple(sorted(_TOP | set(_SECTIONS)))
_NAME = re.compile(r"^[\w\-. ]{1,100}$")
_STATUS = ("ok", "failed", "skipped")


@dataclass(frozen=True)
class BatchOptions:
    """Settings of a whole batch (the ``[batch]`` table).

    Attributes
    ----------
    max_nodes_per_task, max_cells_per_task
        Tile a region above these sizes (see :mod:`care15.tiling`).
    cache
        Read street networks through :func:`care15.cache.cached_network`.
    cache_dir
        Cache folder (None: ``$CARE15_CACHE`` or ``~/.cache/care15``).
    lang, basemap, maps, offline
        Output options, as for ``care15 analyze``.
    """

    max_nodes_per_task: int = DEFAULT_MAX_NODES
    max_cells_per_task: int = DEFAULT_MAX_CELLS
    cache: bool = True
    cache_dir: Path | None = None
    lang: str = "zh"
    basemap: str = "osm"
    maps: bool = True
    offline: bool = False


@dataclass(frozen=True)
class RegionSpec:
    """One region of a batch: its scenario (or why it has none), layers and tiling limits.

    Attributes
    ----------
    name
        Region name and output folder name.
    scenario
        The validated scenario; None when it is invalid (``error`` says why).
    error
        Why the region cannot run (invalid scenario, missing file), else None.
    layers
        Ready-made layer files (``network``, ``facilities``, ``cells``, ``communities``).
    max_nodes_per_task, max_cells_per_task
        Tiling limits of this region.
    """

    name: str
    scenario: Scenario | None
    error: str | None = None
    layers: dict[str, Path] = field(default_factory=dict)
    max_nodes_per_task: int = DEFAULT_MAX_NODES
    max_cells_per_task: int = DEFAULT_MAX_CELLS


# --------------------------------------------------------------------------- regions file

def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def _absolute(data: dict[str, Any], base: Path) -> dict[str, Any]:
    """A copy of scenario data with its path keys made absolute against ``base``."""
    out = {k: (dict(v) if isinstance(v, dict) else v) for k, v in data.items()}
    for sec, key in _PATH_KEYS:
        tab = out.get(sec)
        if isinstance(tab, dict) and isinstance(tab.get(key), str | Path):
            p = Path(tab[key]).expanduser()
            tab[key] = str(p if p.is_absolute() else base / p)
    return out


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _options(tab: Any, base: Path, where: str, problems: list[str]) -> BatchOptions:
    if tab is None:
        return BatchOptions()
    if not isinstance(tab, dict):
        problems.append(f"{where}: [batch] must be a table, got {tab!r}")
        return BatchOptions()
    kw: dict[str, Any] = {}
    for k, v in tab.items():
        if k not in _BATCH_KEYS:
            problems.append(f"{where}: [batch] {k}: unknown key; allowed: {', '.join(_BATCH_KEYS)}")
        elif k in ("max_nodes_per_task", "max_cells_per_task"):
            if not (_is_int(v) and v >= 1):
                problems.append(f"{where}: [batch] {k}: must be an integer >= 1, got {v!r}")
            else:
                kw[k] = v
        elif k == "cache":
            if isinstance(v, bool):
                kw["cache"] = v
            elif isinstance(v, str) and v:
                p = Path(v).expanduser()
                kw["cache"], kw["cache_dir"] = True, p if p.is_absolute() else base / p
            else:
                problems.append(f"{where}: [batch] cache: must be true, false or a folder, got "
                                f"{v!r}")
        elif k == "lang":
            if v not in LANGS:
                problems.append(f"{where}: [batch] lang: {v!r} is not one of {LANGS}")
            else:
                kw[k] = v
        elif k == "basemap":
            if v not in BASEMAPS:
                problems.append(f"{where}: [batch] basemap: {v!r} is not one of {BASEMAPS}")
            else:
                kw[k] = v
        elif not isinstance(v, bool):
            problems.append(f"{where}: [batch] {k}: must be true or false, got {v!r}")
        else:
            kw[k] = v
    return BatchOptions(**kw)


def regions_from_dict(data: dict[str, Any], *, base_dir: Path | str | None = None,
                      origin: str = "regions") -> tuple[list[RegionSpec], BatchOptions]:
    """Regions and batch options from parsed regions TOML (see the module docstring).

    Parameters
    ----------
    data
        The parsed file.
    base_dir
        Folder relative paths are resolved against (default: the current folder).
    origin
        Name of the file, for messages.

    Raises
    ------
    InputError
        When the file is malformed; lists every problem by region and key. Invalid scenarios
        and missing input files are not raised: they make :attr:`RegionSpec.error`.
    """
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    problems: list[str] = []
    for k in data:
        if k not in ("batch", "defaults", "region"):
            problems.append(f"{origin}: {k}: unknown top-level key; allowed: [batch], "
                            "[defaults], [[region]]")
    options = _options(data.get("batch"), base, origin, problems)
    defaults = data.get("defaults", {})
    if not isinstance(defaults, dict):
        problems.append(f"{origin}: [defaults] must be a table of scenario keys, got {defaults!r}")
        defaults = {}
    for k in defaults:
        if k not in _SCENARIO_KEYS:
            problems.append(f"{origin}: [defaults] {k}: unknown scenario key; allowed: "
                            f"{', '.join(_SCENARIO_KEYS)}")
    regions = data.get("region")
    if not isinstance(regions, list) or not regions or \
            not all(isinstance(r, dict) for r in regions):
        problems.append(f"{origin}: no regions; add one [[region]] table per region, each with "
                        "name = \"...\" and a scenario file or inline [region.area] ...")
        regions = []
    seen: dict[str, int] = {}
    raw: list[tuple[str, dict[str, Any]]] = []
    for i, r in enumerate(regions, start=1):
        name = r.get("name")
        label = f"region {i}" + (f" ({name!r})" if isinstance(name, str) else "")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{origin}: {label}: name: missing; every region needs a name "
                            "(its output folder)")
        elif not _NAME.match(name) or name.startswith(".") or name in (".", ".."):
            problems.append(f"{origin}: {label}: name: {name!r} cannot be a folder name; use "
                            "letters, digits, spaces, '_', '-', '.' (not first), at most 100")
        elif name.casefold() in seen:
            problems.append(f"{origin}: {label}: name: {name!r} is already used by region "
                            f"{seen[name.casefold()]}; names must be unique")
        else:
            seen[name.casefold()] = i
        for k, v in r.items():
            if k not in _REGION_KEYS and k not in _SCENARIO_KEYS:
                problems.append(f"{origin}: {label}: {k}: unknown key; allowed: "
                                f"{', '.join(_REGION_KEYS + _SCENARIO_KEYS)}")
            elif k == "scenario" and not (isinstance(v, str) and v):
                problems.append(f"{origin}: {label}: scenario: must be the path of a scenario "
                                f"file, got {v!r}")
            elif k in ("max_nodes_per_task", "max_cells_per_task") and \
                    not (_is_int(v) and v >= 1):
                problems.append(f"{origin}: {label}: {k}: must be an integer >= 1, got {v!r}")
            elif k == "layers":
                if not isinstance(v, dict):
                    problems.append(f"{origin}: {label}: layers: must be a table, got {v!r}")
                    continue
                for lk, lv in v.items():
                    if lk not in _LAYER_KEYS:
                        problems.append(f"{origin}: {label}: layers.{lk}: unknown key; allowed: "
                                        f"{', '.join(_LAYER_KEYS)}")
                    elif not (isinstance(lv, str) and lv):
                        problems.append(f"{origin}: {label}: layers.{lk}: must be a file path, "
                                        f"got {lv!r}")
                for need in ("facilities", "cells"):
                    if need not in v:
                        problems.append(f"{origin}: {label}: layers.{need}: missing; with "
                                        "[region.layers] give at least facilities and cells "
                                        "(or drop the table to read everything from the "
                                        "scenario)")
        raw.append((label, r))
    if problems:
        raise InputError(f"invalid regions file {origin}:\n  - " + "\n  - ".join(problems))
    specs = [_spec(label, r, defaults, base, options) for label, r in raw]
    return specs, options


def _spec(label: str, r: dict[str, Any], defaults: dict[str, Any], base: Path,
          options: BatchOptions) -> RegionSpec:
    name = r["name"]
    layers = {k: (Path(v).expanduser() if Path(v).expanduser().is_absolute() else base / v)
              for k, v in r.get("layers", {}).items()}
    limits = {k: r.get(k, getattr(options, k))
              for k in ("max_nodes_per_task", "max_cells_per_task")}
    merged = _absolute(defaults, base)
    try:
        if "scenario" in r:
            sp = Path(r["scenario"]).expanduser()
            sp = sp if sp.is_absolute() else base / sp
            data = load_toml(sp, ScenarioError, missing=f"scenario: file not found: {sp}",
                             invalid=f"scenario: {sp} is not valid TOML")
            merged = _merge(merged, _absolute(data, sp.parent))
        inline = {k: v for k, v in r.items() if k in _SCENARIO_KEYS}
        merged = _merge(merged, _absolute(inline, base))
        area = dict(merged.get("area", {})) if isinstance(merged.get("area"), dict) else None
        if area is not None and "name" not in area:
            merged["area"] = {**area, "name": name}
        elif "area" not in merged:
            merged["area"] = {"name": name}
        sc = scenario_from_dict(merged, base_dir=base, origin=label)
        missing = [f"layers.{k}: file not found: {p}" for k, p in layers.items()
                   if not p.is_file()]
        if missing:
            raise ScenarioError(f"invalid {label}:\n  - " + "\n  - ".join(missing))
        if not layers and not any(getattr(sc.area, k) is not None
                                  for k in ("pbf", "osm", "place", "bbox")):
            raise ScenarioError(f"invalid {label}: no street network: set [region.area] pbf, "
                                "osm, place or bbox, or [region.layers] network")
    except ScenarioError as e:
        msg = str(e)
        if not msg.startswith("invalid"):
            msg = f"invalid {label}: {msg}"
        return RegionSpec(name=name, scenario=None, error=msg, layers=layers, **limits)
    return RegionSpec(name=name, scenario=sc, layers=layers, **limits)


def regions_from_toml(path: Path | str) -> tuple[list[RegionSpec], BatchOptions]:
    """Read a regions file (see the module docstring); relative paths are relative to it."""
    p = Path(path)
    data = load_toml(p, InputError, missing=f"regions file not found: {p}",
                     invalid=f"{p}: not valid TOML")
    return regions_from_dict(data, base_dir=p.resolve().parent, origin=str(p))


# --------------------------------------------------------------------------- hashing, markers

def _files_of(spec: RegionSpec) -> dict[str, Path]:
    files: dict[str, Path] = {f"layers.{k}": p for k, p in spec.layers.items()}
    sc = spec.scenario
    if sc is not None:
        for sec, key in sorted(_PATH_KEYS):
            v = getattr(getattr(sc, sec), key)
            if v is not None:
                files[f"{sec}.{key}"] = Path(v)
    return files


def region_input_hash(spec: RegionSpec, options: BatchOptions) -> str:
    """SHA-256 of what a region's results depend on.

    The scenario (every value), the bytes of every input file (hashed once per file version,
    see :func:`care15.cache.file_sha256`), the tiling limits, the output options and
    :data:`BATCH_FORMAT`.
    """
    from . import __version__
    from .cache import _sha, file_sha256

    if spec.scenario is None:
        raise InputError(spec.error or f"region {spec.name!r} has no valid scenario")
    files = {k: file_sha256(p, cache_dir=options.cache_dir, remember=options.cache)
             for k, p in _files_of(spec).items()}
    parts = {"format": BATCH_FORMAT, "care15": __version__,
             "scenario": dataclasses.asdict(spec.scenario), "files": files,
             "limits": [spec.max_nodes_per_task, spec.max_cells_per_task],
             "outputs": [options.lang, options.basemap, options.maps, options.offline]}
    return _sha(parts)


def _json_default(o: Any) -> Any:
    if isinstance(o, np.generic):
        return o.item()
    if isinstance(o, Path):
        return str(o)
    return str(o)


def _clean(o: Any) -> Any:
    """JSON-safe copy: NaN/inf become None."""
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [_clean(v) for v in o]
    if isinstance(o, np.generic):
        o = o.item()
    if isinstance(o, float) and not math.isfinite(o):
        return None
    return o


def _write_json(obj: Any, path: Path) -> None:
    write_text_atomic(path, json.dumps(_clean(obj), ensure_ascii=False, indent=2,
                                        default=_json_default) + "\n")


def _read_marker(path: Path) -> dict[str, Any] | None:
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(m, dict) or m.get("format") != BATCH_FORMAT or \
            not isinstance(m.get("row"), dict) or not isinstance(m.get("input_hash"), str):
        return None
    return m


# --------------------------------------------------------------------------- one region

def _read_layer(path: Path, what: str, sc: Scenario) -> gpd.GeoDataFrame:
    suffix = "".join(path.suffixes[-1:]).lower()
    try:
        if what == "facilities" and suffix in (".csv", ".xlsx", ".xls"):
            from .sources.facilities import facilities_from_file

            return facilities_from_file(path, coords=sc.inputs.facilities_crs)
        if suffix in (".parquet", ".geoparquet"):
            gdf = gpd.read_parquet(path)
        else:
            gdf = gpd.read_file(path)
    except InputError:
        raise
    except Exception as e:
        raise InputError(f"layers.{what}: cannot read {path} as a GIS layer "
                         f"({type(e).__name__}: {e})") from e
    if gdf.crs is None:
        raise InputError(f"layers.{what}: {path} has no CRS; save it with one (e.g. EPSG:4326)")
    return gdf


def _grid_communities(bounds: tuple[float, float, float, float], crs: Any,
                      size_m: float = 1000.0) -> gpd.GeoDataFrame:
    try:
        from .communities import communities_grid

        return communities_grid(bounds, size_m=size_m, crs=crs)
    except ImportError:
        pass
    x0, y0, x1, y1 = bounds
    xs = np.arange(x0, max(x1, x0 + 1), size_m)
    ys = np.arange(y0, max(y1, y0 + 1), size_m)
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    ids = [f"grid-{i + 1}" for i in range(len(gx))]
    return gpd.GeoDataFrame({"community_id": ids, "community_name": ids},
                            geometry=shapely.box(gx, gy, gx + size_m, gy + size_m), crs=crs)


def _network_of(spec: RegionSpec, options: BatchOptions) -> Any:
    from .cache import cached_network, network_from_npz
    from .region import _network
    from .sources import osm

    sc = spec.scenario
    if sc is None:
        raise InputError(spec.error or f"region {spec.name!r} has no valid scenario")
    p = spec.layers.get("network")
    if p is None:
        return _network(sc, cache=(options.cache_dir or True) if options.cache else None)
    if p.suffix.lower() == ".npz":
        return network_from_npz(p)
    if options.cache:
        return cached_network(p, cache_dir=options.cache_dir)
    return osm.network_from_file(p)


def load_region(spec: RegionSpec, options: BatchOptions | None = None) -> Region:
    """Read a region's layers: from ``[region.layers]`` files, else as ``care15 analyze`` does.

    Without layers this is :func:`care15.region.region_from_scenario` (with the network
    cache when ``options.cache``).
    """
    options = options or BatchOptions()
    sc = spec.scenario
    if sc is None:
        raise InputError(spec.error or f"region {spec.name!r} has no valid scenario")
    if not spec.layers:
        from .region import region_from_scenario

        cache = (options.cache_dir or True) if options.cache else None
        return region_from_scenario(sc, cache=cache)
    net = _network_of(spec, options)
    fac = _read_layer(spec.layers["facilities"], "facilities", sc)
    cells = _read_layer(spec.layers["cells"], "cells", sc).to_crs(net.crs)
    notes = [f"Street network: {net.n_nodes:,} nodes, {net.n_edges:,} edges, "
             f"{net.total_length_m / 1000:,.1f} km ({net.source})."]
    if "communities" in spec.layers:
        comm = _read_layer(spec.layers["communities"], "communities", sc)
    else:
        comm = _grid_communities(net.bounds, net.crs)
        notes.append(f"Communities: none given; using a regular grid of {len(comm)} 1 km "
                     "districts.")
    return Region(name=sc.area.name, network=net, facilities=fac, cells=cells,
                  communities=comm, notes=notes)


def _in_worker() -> bool:
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


def _analyse(region: Region, spec: RegionSpec) -> tuple[Any, int]:
    from .analysis import analyze
    from .tiling import analyze_tiled, plan_tiles

    sc = spec.scenario
    if sc is None:
        raise InputError(spec.error or f"region {spec.name!r} has no valid scenario")
    plan = plan_tiles(region.network, region.facilities, region.cells, sc,
                      max_nodes=spec.max_nodes_per_task, max_cells=spec.max_cells_per_task)
    if not plan.tiled:
        return analyze(region.network, region.facilities, region.cells, region.communities,
                       sc), 1
    if _in_worker():
        from distributed import worker_client

        with worker_client() as client:
            res = analyze_tiled(region.network, region.facilities, region.cells,
                                region.communities, sc, plan=plan, client=client)
    else:
        res = analyze_tiled(region.network, region.facilities, region.cells, region.communities,
                            sc, plan=plan)
    return res, len(plan.tiles)


def _write_outputs(res: Any, region: Region, sc: Scenario, out: Path,
                   options: BatchOptions, seconds: dict[str, float]) -> dict[str, str]:
    """Tables, map and summary.json of one region (the files ``care15 analyze`` writes)."""
    summ = dict(res.summary)
    summ["study_area"] = sc.area.name
    summ["notes"] = list(region.notes) + list(res.notes)
    summ["population_report"] = region.reports.get("population")
    summ["seconds"] = {k: round(v, 2) for k, v in seconds.items()}
    summ["attribution"] = "© OpenStreetMap contributors (ODbL)"
    files: dict[str, str] = {}
    try:
        from .export import write_json, write_tables
    except ImportError:  # the export module is not there: the two files everyone needs
        comm = pd.DataFrame(res.communities.drop(columns="geometry"))
        write_text_atomic(out / "communities.csv", comm.to_csv(index=False),
                           encoding="utf-8-sig")
        files["tables"] = "communities.csv"
        _write_json(summ, out / "summary.json")
        files["summary"] = "summary.json"
        return files
    write_tables({"cells": res.cells, "communities": res.communities, "gaps": res.gaps,
                  "short_communities": res.short, "facilities": res.facilities,
                  "isochrones": res.isochrones}, out, lang=options.lang)
    files["tables"] = "communities.csv"
    if options.maps:
        from .maps import coverage_map, save_map

        m = coverage_map(cells=res.cells, communities=res.communities, isochrones=res.isochrones,
                         facilities=res.facilities, gaps=res.gaps, lang=options.lang,
                         basemap=options.basemap, tianditu_key=None, offline=options.offline,
                         title=sc.area.name)
        save_map(m, out / "map.html", offline=options.offline)
        files["map"] = "map.html"
    write_json(summ, out / "summary.json")
    files["summary"] = "summary.json"
    return files


def _headline(summ: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = {
        "n_cells": summ.get("n_cells"), "n_communities": summ.get("n_communities"),
        "residents_total": summ["residents"]["total"],
        "residents_60plus": summ["residents"]["60plus"],
        "residents_0to3": summ["residents"]["0to3"],
        "coverage_threshold_min": summ.get("coverage_threshold_min"),
    }
    for c, d in summ["categories"].items():
        row[f"{c}_n_facilities"] = d["n_facilities"]
        row[f"{c}_covered_share"] = d["target_share"]
        row[f"{c}_target"] = d["coverage_target"]
        row[f"{c}_target_met"] = d["target_met"]
        row[f"{c}_communities_meeting_target"] = d["communities_meeting_target"]
        row[f"{c}_communities_with_residents"] = d["communities_with_residents"]
        row[f"{c}_capacity_per_1000"] = d["capacity_per_1000"]
    return row


def _one_line(msg: str) -> str:
    """A multi-line message (``invalid ...:\n  - a\n  - b``) as one line: ``invalid ...: a; b``."""
    lines = [s.strip() for s in str(msg).splitlines() if s.strip()]
    if not lines:
        return ""
    head, items = lines[0], [s[2:] if s.startswith("- ") else s for s in lines[1:]]
    return head + (" " + "; ".join(items) if items else "")


def run_region(spec: RegionSpec, out_dir: Path | str, options: BatchOptions | None = None, *,
               input_hash: str = "") -> dict[str, Any]:
    """Read, analyse and write one region; never raises for the region's own errors.

    Runs as a dask task in :func:`run_regions` (tiles then run as tasks of their own), or
    directly. The done-marker is removed first and written last, atomically.

    Returns
    -------
    dict
        The region's row of ``regions.csv``: ``status`` ``ok`` or ``failed``, ``error``,
        headline figures, bounding box (WGS-84), ``seconds``, ``tiles``.
    """
    options = options or BatchOptions()
    out = Path(out_dir)
    t0 = time.perf_counter()
    row: dict[str, Any] = {"region": spec.name, "status": "failed", "error": ""}
    marker = out / DONE_MARKER
    try:
        out.mkdir(parents=True, exist_ok=True)
        marker.unlink(missing_ok=True)
        if spec.scenario is None:
            raise InputError(spec.error or "no valid scenario")
        sc = spec.scenario
        region = load_region(spec, options)
        t_read = time.perf_counter() - t0
        net = region.network
        row.update({"n_nodes": net.n_nodes, "n_edges": net.n_edges})
        w, s, e, n = net.bounds_wgs84()
        row.update({"west": w, "south": s, "east": e, "north": n})
        t1 = time.perf_counter()
        res, tiles = _analyse(region, spec)
        t_an = time.perf_counter() - t1
        row["tiles"] = tiles
        files = _write_outputs(res, region, sc, out, options,
                               {"read": t_read, "analyze": t_an,
                                "total": time.perf_counter() - t0})
        row.update(_headline(res.summary))
        row["map"] = f"{spec.name}/{files['map']}" if "map" in files else ""
        row["status"] = "ok"
        (out / "error.txt").unlink(missing_ok=True)
    except Exception as e:
        row["error"] = _one_line(f"{type(e).__name__}: {e}")
        log.warning("region %s failed: %s", spec.name, row["error"])
        with contextlib.suppress(OSError):
            write_text_atomic(out / "error.txt", traceback.format_exc())
    row["seconds"] = round(time.perf_counter() - t0, 2)
    row["out_dir"] = spec.name
    row["input_hash"] = input_hash
    if row["status"] == "ok":
        _write_json({"format": BATCH_FORMAT, "input_hash": input_hash, "row": row,
                     "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, marker)
    return row


# --------------------------------------------------------------------------- many regions

def _table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    first = ["region", "status", "error", "seconds", "tiles", "n_nodes", "n_edges", "n_cells",
             "n_communities", "residents_total", "residents_60plus", "residents_0to3",
             "coverage_threshold_min"]
    last = ["west", "south", "east", "north", "out_dir", "map", "input_hash"]
    cols = list(first)
    for r in rows:
        for k in r:
            if k not in cols and k not in last:
                cols.append(k)
    df = pd.DataFrame(rows).reindex(columns=cols + last)
    df["error"] = df["error"].fillna("")
    for c in df.columns:
        if c in ("tiles", "n_nodes", "n_edges", "n_cells", "n_communities") or c.endswith(
                ("_n_facilities", "_communities_meeting_target", "_communities_with_residents")):
            df[c] = pd.to_numeric(df[c], errors="coerce").round().astype("Int64")
    return df


def _write_table(df: pd.DataFrame, path: Path) -> None:
    write_text_atomic(path, df.to_csv(index=False), encoding="utf-8-sig")


def index_map(table: pd.DataFrame, out: Path | str, *, title: str = "care15 batch") -> Path:
    """``out/index.html``: a box per region with its headline rates and a link to its map.

    Regions without a bounding box (failed before their network was read) are listed in a
    panel with their error.
    """
    import folium

    out = Path(out)
    cats = sorted({c[: -len("_covered_share")] for c in table.columns
                   if c.endswith("_covered_share")})
    boxes = table.dropna(subset=["west", "south", "east", "north"])
    m = folium.Map(tiles="OpenStreetMap", control_scale=True)
    colours = {"all": "#1a9850", "some": "#fdae61", "none": "#d73027", "failed": "#777777"}
    for _, r in boxes.iterrows():
        status = r["status"]
        met = [r.get(f"{c}_target_met") for c in cats]
        met = [bool(v) for v in met if v is not None and not (isinstance(v, float) and
                                                             math.isnan(v))]
        key = "failed" if status == "failed" else (
            "all" if met and all(met) else "some" if any(met) else "none")
        lines = [f"<b>{html.escape(str(r['region']))}</b> ({html.escape(str(status))})"]
        for c in cats:
            share = r.get(f"{c}_covered_share")
            tgt = r.get(f"{c}_target")
            if share is not None and not (isinstance(share, float) and math.isnan(share)):
                lines.append(f"{html.escape(c)}: {float(share):.1%} within "
                             f"{r.get('coverage_threshold_min', 15):g} min"
                             + (f" (target {float(tgt):.0%})" if pd.notna(tgt) else ""))
        if status == "failed" and r.get("error"):
            lines.append(f"<span style='color:#b00'>{html.escape(str(r['error']))[:300]}</span>")
        if isinstance(r.get("map"), str) and r["map"]:
            lines.append(f"<a href='{quote(r['map'])}' target='_blank'>open the map</a>")
        popup = folium.Popup("<br>".join(lines), max_width=320)
        folium.Rectangle(bounds=[[r["south"], r["west"]], [r["north"], r["east"]]],
                         color=colours[key], weight=2, fill=True, fill_opacity=0.15,
                         tooltip=str(r["region"]), popup=popup).add_to(m)
        folium.Marker([(r["south"] + r["north"]) / 2, (r["west"] + r["east"]) / 2],
                      tooltip=str(r["region"]), popup=folium.Popup("<br>".join(lines),
                                                                   max_width=320)).add_to(m)
    if len(boxes):
        m.fit_bounds([[boxes["south"].min(), boxes["west"].min()],
                      [boxes["north"].max(), boxes["east"].max()]])
    else:
        m.location = [0, 0]
        m.options["zoom"] = 2
    n = table["status"].value_counts().to_dict()
    head = (f"<b>{html.escape(title)}</b><br>" + ", ".join(f"{n.get(s, 0)} {s}" for s in _STATUS))
    nobox = table.loc[~table.index.isin(boxes.index)]
    items = "".join(f"<li><b>{html.escape(str(r['region']))}</b>: {html.escape(str(r['status']))}"
                    f" {html.escape(str(r['error']))[:300]}</li>" for _, r in nobox.iterrows())
    panel = (f"<div style='position:fixed;top:10px;right:10px;z-index:9999;background:white;"
             f"padding:6px 10px;max-width:380px;font:13px sans-serif;border:1px solid #999'>"
             f"{head}{'<ul>' + items + '</ul>' if items else ''}</div>")
    m.get_root().html.add_child(folium.Element(panel))
    path = out / "index.html"
    write_text_atomic(path, m.get_root().render())
    return path


def _region_task(spec: RegionSpec, out_dir: str, options: BatchOptions,
                 input_hash: str) -> dict[str, Any]:
    return run_region(spec, out_dir, options, input_hash=input_hash)


def _failed(spec: RegionSpec, msg: str, out: Path) -> dict[str, Any]:
    row = {"region": spec.name, "status": "failed", "error": _one_line(msg), "seconds": 0.0,
           "out_dir": spec.name, "input_hash": ""}
    with contextlib.suppress(OSError):
        (out / spec.name).mkdir(parents=True, exist_ok=True)
        (out / spec.name / DONE_MARKER).unlink(missing_ok=True)
        write_text_atomic(out / spec.name / "error.txt", msg + "\n")
    return row


def local_cluster(n_workers: int = 2, **kwargs: Any) -> Any:
    """The local cluster batch runs start: ``n_workers`` processes of one thread on 127.0.0.1.

    The dashboard is off; the scheduler's small HTTP server (health checks) takes a free port,
    so several batches can run side by side. ``kwargs`` go to ``distributed.LocalCluster``.
    """
    from distributed import LocalCluster

    # distributed sets its own loggers to INFO; its start-up chatter is not for planners
    for name in list(logging.root.manager.loggerDict):
        if name.startswith(("distributed", "tornado")):
            logging.getLogger(name).setLevel(logging.ERROR)
    opts: dict[str, Any] = {"n_workers": n_workers, "threads_per_worker": 1, "processes": True,
                            "dashboard_address": None, "host": "127.0.0.1",
                            "silence_logs": logging.ERROR,
                            "scheduler_kwargs": {"dashboard_address": "127.0.0.1:0"}}
    opts.update(kwargs)
    return LocalCluster(**opts)


def run_regions(specs: list[RegionSpec], out: Path | str, *,
                options: BatchOptions | None = None, client: Any = None,
                scheduler: str | None = None, n_workers: int = 2, verbose: bool = True,
                force: bool = False) -> pd.DataFrame:
    """Run regions as dask tasks; write ``regions.csv`` and ``index.html``; return the table.

    Parameters
    ----------
    specs
        The regions (:func:`regions_from_toml`).
    out
        Output folder; each region writes ``out/<name>/``.
    options
        Batch options.
    client
        An existing ``distributed.Client`` to use (left open).
    scheduler
        Address of an existing scheduler (``tcp://host:port``) when no client is given.
    n_workers
        Worker processes of the local cluster started when neither is given (one thread each,
        on 127.0.0.1, no dashboard). No cluster is started when every region is skipped.
    verbose
        Progress bar and a line per region.
    force
        Re-run regions even when their done-marker matches.

    Returns
    -------
    DataFrame
        One row per region in the order given (also written to ``out/regions.csv``).
    """
    from ._progress import progress

    options = options or BatchOptions()
    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict[str, Any]] = {}
    todo: list[tuple[RegionSpec, str]] = []
    for spec in specs:
        if spec.scenario is None:
            rows[spec.name] = _failed(spec, spec.error or "invalid scenario", out)
            continue
        try:
            h = region_input_hash(spec, options)
        except InputError as e:
            rows[spec.name] = _failed(spec, f"InputError: {e}", out)
            continue
        m = _read_marker(out / spec.name / DONE_MARKER)
        if not force and m is not None and m["input_hash"] == h and m["row"].get("status") == "ok":
            rows[spec.name] = {**m["row"], "status": "skipped", "seconds": 0.0}
            log.info("%s: done already (inputs unchanged), skipped", spec.name)
            continue
        todo.append((spec, h))
    if todo:
        own: list[Any] = []
        try:
            if client is None:
                from distributed import Client

                if scheduler:
                    client = Client(scheduler)
                    own.append(client)
                else:
                    cluster = local_cluster(n_workers)
                    own.append(cluster)
                    client = Client(cluster)
                    own.append(client)
            from distributed import as_completed

            futs: dict[Any, RegionSpec] = {}
            for spec, h in todo:
                f = client.submit(_region_task, spec, str(out / spec.name), options, h,
                                  key=f"care15-region-{spec.name}-{uuid.uuid4().hex[:8]}",
                                  pure=False)
                futs[f] = spec
            for fut in progress(as_completed(list(futs)), verbose=verbose, desc="regions",
                                total=len(futs)):
                spec = futs[fut]
                try:
                    row = fut.result()
                except Exception as e:  # worker died, task cancelled...
                    row = _failed(spec, f"{type(e).__name__}: {e}", out)
                rows[spec.name] = row
                if verbose:
                    from tqdm.auto import tqdm

                    tqdm.write(f"  {spec.name}: {row['status']} ({row.get('seconds', 0):.1f} s)"
                               + (f" {row['error']}" if row.get("error") else ""))
        finally:
            # closing a local cluster makes distributed log harmless "comm closed" tracebacks
            quiet = [logging.getLogger(n) for n in ("distributed", "distributed.batched",
                                                     "distributed.core", "tornado")]
            levels = [lg.level for lg in quiet]
            for lg in quiet:
                lg.setLevel(logging.CRITICAL)
            try:
                for o in reversed(own):
                    with contextlib.suppress(Exception):
                        o.close()
            finally:
                for lg, lv in zip(quiet, levels, strict=True):
                    lg.setLevel(lv)
    table = _table([rows[s.name] for s in specs])
    _write_table(table, out / "regions.csv")
    try:
        index_map(table, out)
    except ImportError as e:  # folium missing: the table is what matters
        log.warning("index map not written (%s)", e)
    return table


def run_batch(regions_path: Path | str, *, out: Path | str = "out/batch",
              scheduler: str | None = None, n_workers: int = 2, verbose: bool = True,
              force: bool = False) -> int:
    """``care15 batch``: run every region of a regions file; returns the exit code.

    0 when every region is ``ok`` or ``skipped``, 1 when any failed (the others still ran;
    see ``out/regions.csv``). A malformed regions file raises :class:`InputError` (exit 2 in
    the command).
    """
    specs, options = regions_from_toml(regions_path)
    table = run_regions(specs, out, options=options, scheduler=scheduler, n_workers=n_workers,
                        verbose=verbose, force=force)
    if verbose:
        counts = table["status"].value_counts().to_dict()
        print(f"\n{len(table)} regions: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in _STATUS))
        for _, r in table.loc[table["status"] == "failed"].iterrows():
            print(f"  failed: {r['region']}: {r['error']}")
        print(f"Written to {Path(out) / 'regions.csv'} and {Path(out) / 'index.html'}")
    return 1 if (table["status"] == "failed").any() else 0
