"""Regions of a batch from a regions TOML file: ``care15 batch regions.toml``.

The regions file::

    # regions.toml: paths are relative to this file
    [batch]                        # optional, every key optional
    max_nodes_per_task = 250000    # tile a region whose network has more nodes than this...
    max_cells_per_task = 200000    # ...or more population cells
    cache = true                   # reuse parsed networks: true (default folder), false, or a folder
    lang = "zh"                    # "zh" or "en": labels of tables and maps
    basemap = "osm"                # osm | tianditu | amap | none
    maps = true                    # write each region's map.html
    figures = true                 # write each region's report figures
    coords_out = "gcj02"           # also lon/lat in gcj02 or bd09 (default: as the facility
                                   # list was declared; "wgs84": no extra columns)
    offline = true                 # embed the maps' JavaScript (default; false: link a CDN)

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
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import InputError, ScenarioError
from ._options import (
    BASEMAPS,
    COORD_SYSTEMS,
    DEFAULT_MAX_CELLS,
    DEFAULT_MAX_NODES,
    LANGS,
    check_choice,
)
from .scenario import _PATH_KEYS, _SECTIONS, _TOP, Scenario, load_toml, scenario_from_dict

if TYPE_CHECKING:
    from .pipeline import RunOptions

__all__ = ["BatchOptions", "RegionSpec", "regions_from_dict", "regions_from_toml"]

_BATCH_KEYS = ("max_nodes_per_task", "max_cells_per_task", "cache", "lang", "basemap", "maps",
               "figures", "offline", "coords_out")
_CHOICES = {"lang": LANGS, "basemap": BASEMAPS, "coords_out": COORD_SYSTEMS}
_REGION_KEYS = ("name", "scenario", "layers", "max_nodes_per_task", "max_cells_per_task")
_LAYER_KEYS = ("network", "facilities", "cells", "communities")
_SCENARIO_KEYS = tuple(sorted(_TOP | set(_SECTIONS)))
_NAME = re.compile(r"^[\w\-. ]{1,100}$")
#: names of the files a batch writes beside the regions' folders; no region may take them
RESERVED_NAMES = ("regions.csv", "index.html")


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
    lang, basemap, maps, figures, offline, coords_out
        Output options, as for ``care15 analyze`` (:class:`care15.pipeline.RunOptions`).
    """

    max_nodes_per_task: int = DEFAULT_MAX_NODES
    max_cells_per_task: int = DEFAULT_MAX_CELLS
    cache: bool = True
    cache_dir: Path | None = None
    lang: str = "zh"
    basemap: str = "osm"
    maps: bool = True
    figures: bool = True
    offline: bool = True
    coords_out: str | None = None

    def run_options(self, spec: RegionSpec, *, verbose: bool = False) -> RunOptions:
        """The options of :func:`care15.pipeline.run` for one region of the batch.

        Parameters
        ----------
        spec
            The region (its tiling limits).
        verbose
            Progress on stderr.

        Returns
        -------
        RunOptions
            The batch's output options, cache and the region's tiling limits.
        """
        from .pipeline import RunOptions

        return RunOptions(lang=self.lang, basemap=self.basemap, offline=self.offline,
                          coords_out=self.coords_out, maps=self.maps, figures=self.figures,
                          cache=(self.cache_dir or True) if self.cache else False,
                          max_nodes_per_task=spec.max_nodes_per_task,
                          max_cells_per_task=spec.max_cells_per_task, verbose=verbose)


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
        elif k in _CHOICES:
            msg = check_choice(v, _CHOICES[k], f"{where}: [batch] {k}")
            if msg:
                problems.append(msg)
            else:
                kw[k] = v
        elif not isinstance(v, bool):
            problems.append(f"{where}: [batch] {k}: must be true or false, got {v!r}")
        else:
            kw[k] = v
    return BatchOptions(**kw)


def _name_problems(name: Any, i: int, seen: dict[str, int], where: str) -> list[str]:
    """A region's name must make a folder, unique and not a file the batch writes."""
    if not isinstance(name, str) or not name.strip():
        return [f"{where}: name: missing; every region needs a name (its output folder)"]
    if not _NAME.match(name) or name.startswith(".") or name in (".", ".."):
        return [f"{where}: name: {name!r} cannot be a folder name; use letters, digits, "
                "spaces, '_', '-', '.' (not first), at most 100"]
    if name.casefold() in RESERVED_NAMES:
        return [f"{where}: name: {name!r} is the name of a file the batch writes "
                f"({', '.join(RESERVED_NAMES)}); choose another name"]
    if name.casefold() in seen:
        return [f"{where}: name: {name!r} is already used by region "
                f"{seen[name.casefold()]}; names must be unique"]
    seen[name.casefold()] = i
    return []


def _layers_problems(v: Any, where: str) -> list[str]:
    """``[region.layers]``: known keys, file paths, at least facilities and cells."""
    if not isinstance(v, dict):
        return [f"{where}: layers: must be a table, got {v!r}"]
    p = []
    for lk, lv in v.items():
        if lk not in _LAYER_KEYS:
            p.append(f"{where}: layers.{lk}: unknown key; allowed: {', '.join(_LAYER_KEYS)}")
        elif not (isinstance(lv, str) and lv):
            p.append(f"{where}: layers.{lk}: must be a file path, got {lv!r}")
    p += [f"{where}: layers.{need}: missing; with [region.layers] give at least facilities "
          "and cells (or drop the table to read everything from the scenario)"
          for need in ("facilities", "cells") if need not in v]
    return p


def _region_key_problems(k: str, v: Any, where: str) -> list[str]:
    """One key of a ``[[region]]`` table."""
    if k not in _REGION_KEYS and k not in _SCENARIO_KEYS:
        return [f"{where}: {k}: unknown key; allowed: {', '.join(_REGION_KEYS + _SCENARIO_KEYS)}"]
    if k == "scenario" and not (isinstance(v, str) and v):
        return [f"{where}: scenario: must be the path of a scenario file, got {v!r}"]
    if k in ("max_nodes_per_task", "max_cells_per_task") and not (_is_int(v) and v >= 1):
        return [f"{where}: {k}: must be an integer >= 1, got {v!r}"]
    if k == "layers":
        return _layers_problems(v, where)
    return []


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

    Returns
    -------
    tuple
        The regions (:class:`RegionSpec`, in the file's order) and the :class:`BatchOptions`.

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
        where = f"{origin}: {label}"
        problems += _name_problems(name, i, seen, where)
        for k, v in r.items():
            problems += _region_key_problems(k, v, where)
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
    """Read a regions file (see the module docstring); relative paths are relative to it.

    Parameters
    ----------
    path
        The regions TOML file.

    Returns
    -------
    tuple
        The regions (:class:`RegionSpec`) and the :class:`BatchOptions`.

    Raises
    ------
    InputError
        When the file is missing, does not parse or is malformed.
    """
    p = Path(path)
    data = load_toml(p, InputError, missing=f"regions file not found: {p}",
                     invalid=f"{p}: not valid TOML")
    return regions_from_dict(data, base_dir=p.resolve().parent, origin=str(p))
