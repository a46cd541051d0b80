"""Every output of one region from a scenario: the ``run`` stage.

:func:`run` is the one code path from inputs to files. It reads the region the scenario names
(:func:`~care15.region.region_from_scenario`, unless a ready :class:`~care15.region.Region` is
given), analyses it (in tiles when it is too large for one pass, see :mod:`care15.tiling`) and
writes every output: the tables (CSV, XLSX, GeoJSON, GeoPackage, GeoParquet), the map, the
report figures and ``summary.json`` with the notes about the data. ``care15 analyze``,
``care15 demo``, ``care15 batch``, the notebooks and the tests all call it.

The outputs are written into a staging folder beside ``out`` that replaces ``out`` whole when
the run succeeds (:func:`care15._files.staged_folder`): an interrupted or failed run leaves the
previous complete run in place, never a mixture.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._errors import DataWarning, InputError
from ._files import check_out_folder, output_lock, staged_folder
from ._options import (
    BASEMAPS,
    COORD_SYSTEMS,
    DEFAULT_MAX_CELLS,
    DEFAULT_MAX_NODES,
    LANGS,
    check_choice,
)
from .scenario import Scenario

if TYPE_CHECKING:
    from .analysis import CoverageResult
    from .region import Region
    from .siting import SiteSuggestion

__all__ = [
    "RunOptions",
    "RunResult",
    "SuggestRunResult",
    "input_problems",
    "output_coords",
    "read_region",
    "run",
    "run_suggest",
]

log = logging.getLogger(__name__)

#: Attribution every map, table and figure made from OSM data carries.
ATTRIBUTION = "© OpenStreetMap contributors (ODbL)"


@dataclass(frozen=True)
class RunOptions:
    """How :func:`run` reads and writes: output language, map background, cache, tiling.

    Attributes
    ----------
    lang
        ``"zh"`` or ``"en"``: labels of maps, table headers and figures.
    basemap
        ``"osm"``, ``"tianditu"`` (needs ``tianditu_key``), ``"amap"`` (GCJ-02 tiles; every
        layer is shifted to match) or ``"none"``.
    tianditu_key
        The 天地图 (Tianditu) key for ``basemap="tianditu"``.
    offline
        Embed the map's JavaScript and CSS (default): the maps open without internet, with
        the walking network drawn for orientation when tiles cannot load. False links
        Leaflet from a CDN (smaller files).
    coords_out
        Also write lon/lat in this system in the tables (``lon_gcj02``, ``centroid_lon_bd09``
        …); files stay in WGS-84. None (default): the system the facility list (or, for
        :func:`run_suggest`, the candidates) was declared in, so a planner's GCJ-02 list
        comes back in GCJ-02; ``"wgs84"``: no extra columns.
    cache
        Reuse parsed networks and cell snaps from the on-disk cache: True (default folder,
        ``$CARE15_CACHE`` or ``~/.cache/care15``), False, or a folder.
    maps
        Write ``map.html``.
    figures
        Write the report figures (``figures/*.png``).
    report
        Write the district report (``report.html``, printable to A4).
    max_nodes_per_task, max_cells_per_task
        Analyse a region in tiles above these sizes (:mod:`care15.tiling`).
    verbose
        Progress on stderr.
    allow_empty
        Analyse a facility list without a usable row or a population without residents
        instead of refusing them.
    parallel_writes
        Write the map and the figures in a forked process while this one writes the tables
        (POSIX with two or more CPUs; otherwise one after the other). The command line turns
        it on; it stays off by default for notebooks and batch workers, where forking a
        process with threads (Jupyter's, dask's) is unsafe. The files are the same.
    """

    lang: str = "zh"
    basemap: str = "osm"
    tianditu_key: str | None = None
    offline: bool = True
    coords_out: str | None = None
    cache: bool | Path = True
    maps: bool = True
    figures: bool = True
    report: bool = True
    max_nodes_per_task: int = DEFAULT_MAX_NODES
    max_cells_per_task: int = DEFAULT_MAX_CELLS
    verbose: bool = False
    allow_empty: bool = False
    parallel_writes: bool = False

    def problems(self) -> list[str]:
        """Every invalid value, as messages naming the option and what is allowed.

        Returns
        -------
        list of str
            Empty when the options are valid.
        """
        p = [m for m in (check_choice(self.lang, LANGS, "lang"),
                         check_choice(self.basemap, BASEMAPS, "basemap"),
                         None if self.coords_out is None else
                         check_choice(self.coords_out, COORD_SYSTEMS, "coords_out")) if m]
        if self.basemap == "tianditu" and not self.tianditu_key:
            p.append("basemap 'tianditu' needs a 天地图 key (tianditu_key)")
        for k in ("max_nodes_per_task", "max_cells_per_task"):
            v = getattr(self, k)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                p.append(f"{k}: must be an integer >= 1, got {v!r}")
        return p

    @property
    def cache_arg(self) -> bool | Path | None:
        """The cache argument of the stage functions.

        Returns
        -------
        bool or Path or None
            True or the folder when caching is on, None when it is off.
        """
        return None if self.cache is False else self.cache


@dataclass
class RunResult:
    """What :func:`run` produced.

    Attributes
    ----------
    out
        The output folder (absolute).
    files
        The files written, relative to ``out``, sorted.
    summary
        The content of ``summary.json``.
    result
        The analysis (tables in the network's metric CRS).
    region
        The layers that were analysed.
    tiles
        Number of tiles the region was analysed in (1: in one pass).
    """

    out: Path
    files: list[str]
    summary: dict[str, Any]
    result: CoverageResult
    region: Region
    tiles: int = 1
    seconds: dict[str, float] = field(default_factory=dict)


@contextlib.contextmanager
def data_warnings_as_notes() -> Iterator[list[str]]:
    """Collect data warnings (dropped rows, datum offsets, repaired geometries) as notes.

    Other warnings pass on unchanged.

    Yields
    ------
    list of str
        Filled with the distinct messages of the :class:`~care15._errors.DataWarning` s
        raised inside the block, when it ends.
    """
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield notes
    for w in caught:
        if issubclass(w.category, DataWarning):
            msg = str(w.message)
            if msg not in notes:
                notes.append(msg)
        elif not issubclass(w.category, DeprecationWarning | PendingDeprecationWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def input_problems(scenario: Scenario) -> list[str]:
    """What can be checked about a scenario's inputs before any work starts.

    Parameters
    ----------
    scenario
        The scenario to run.

    Returns
    -------
    list of str
        One message per problem, naming the file, the scenario key and the command-line flag
        (empty when nothing is wrong): no street network, no population source, a vector
        population layer without its column. Missing files are refused when the scenario is
        made (:class:`~care15.scenario.Scenario` checks them).
    """
    p: list[str] = []
    a, i = scenario.area, scenario.inputs
    if all(getattr(a, k) is None for k in ("pbf", "osm", "place", "bbox")):
        p.append("no street network: pass --pbf FILE, --osm FILE or --place NAME (or set "
                 "[area] pbf, osm, place or bbox in the scenario file)")
    from_compounds = scenario.compounds.file is not None and scenario.compounds.population != "no"
    if i.population is None and not i.total_population and not from_compounds:
        p.append("no population: pass a population file (--population FILE), with an OSM "
                 "file a total to distribute (--total-population N), or compounds with their "
                 "households (--compounds FILE|osm)")
    if i.population is not None and Path(i.population).suffix.lower() not in (
            ".tif", ".tiff", ".vrt", ".img") and not i.population_column:
        p.append(f"--population {i.population}: a vector population layer needs its column: "
                 "pass --population-column NAME (inputs.population_column)")
    return p


def map_options(scenario: Scenario) -> dict[str, Any]:
    """The scenario's thresholds and targets, as :func:`care15.maps.coverage_map` takes them.

    Parameters
    ----------
    scenario
        The scenario analysed.

    Returns
    -------
    dict
        ``thresholds``, ``coverage_threshold`` and ``targets`` (per category).
    """
    return {"thresholds": list(scenario.thresholds_min),
            "coverage_threshold": int(scenario.targets.coverage_threshold_min),
            "targets": {c: scenario.coverage_target(c) for c in scenario.categories}}


def output_coords(options: RunOptions, scenario: Scenario, declared: str | None = None) -> str:
    """The coordinate system the tables also carry: ``coords_out``, else the input's.

    Parameters
    ----------
    options
        The run's options (``coords_out`` None: as the input).
    scenario
        The scenario (``inputs.facilities_crs``, the facility list's declared system).
    declared
        Another input's declared system that wins over the facility list's (the candidates'
        of :func:`run_suggest`), when it is not WGS-84.

    Returns
    -------
    str
        ``"wgs84"`` (no extra columns), ``"gcj02"`` or ``"bd09"``.
    """
    if options.coords_out is not None:
        return options.coords_out
    if declared not in (None, "wgs84"):
        return str(declared)
    if scenario.inputs.facilities is not None:
        return scenario.inputs.facilities_crs or "wgs84"
    return "wgs84"


def _analyse(region: Region, scenario: Scenario, options: RunOptions,
             tile_client: Callable[[], contextlib.AbstractContextManager[Any]] | None
             ) -> tuple[CoverageResult, int]:
    from .analysis import analyze
    from .tiling import analyze_tiled, plan_tiles

    plan = plan_tiles(region.network, region.facilities, region.cells, scenario,
                      max_nodes=options.max_nodes_per_task,
                      max_cells=options.max_cells_per_task)
    if not plan.tiled:
        return analyze(region, scenario, verbose=options.verbose, cache=options.cache_arg), 1
    with tile_client() if tile_client is not None else contextlib.nullcontext() as client:
        res = analyze_tiled(region, scenario, client=client, verbose=options.verbose,
                            plan=plan)
    return res, len(plan.tiles)


def _write(stage: Path, res: CoverageResult, region: Region, scenario: Scenario,
           options: RunOptions) -> dict[str, float]:
    """Tables, map and figures of one region into ``stage``; seconds per kind of output.

    With ``options.parallel_writes`` the map and figures are drawn in a forked process while
    this one writes the tables (:class:`_Forked`); if that process fails they are drawn here
    again, so an error is raised as it would be without the fork.
    """
    from .export import write_tables

    t: dict[str, float] = {}
    t0 = time.perf_counter()
    tables = {"cells": res.cells, "communities": res.communities, "gaps": res.gaps,
              "short_communities": res.short, "facilities": res.facilities,
              "isochrones": res.isochrones}
    if getattr(region, "compounds", None) is not None:  # before the fork: the map shows them
        from .compounds import compound_gaps, compound_table_for

        tables["compounds"] = compound_table_for(res, region, scenario)
        tables["short_compounds"] = compound_gaps(tables["compounds"], scenario)
        res.summary["compounds"] = tables["compounds"].attrs["summary"]
    compounds = tables.get("compounds")
    visuals = None
    if (options.maps or options.figures) and options.parallel_writes and _can_fork():
        visuals = _Forked(lambda: _write_visuals(stage, res, region, scenario, options,
                                                 compounds))
    try:
        write_tables(tables, stage, lang=options.lang,
                     coords_out=output_coords(options, scenario))
        t["tables"] = time.perf_counter() - t0
        done = visuals.join() if visuals is not None else None
    finally:
        if visuals is not None:
            visuals.stop()
    if done is None:
        done = _write_visuals(stage, res, region, scenario, options, compounds)
    t.update(done)
    return t


def _write_visuals(stage: Path, res: CoverageResult, region: Region, scenario: Scenario,
                   options: RunOptions, compounds: Any = None) -> dict[str, float]:
    """The map and the figures of one region into ``stage``; seconds of each."""
    t: dict[str, float] = {}
    if options.maps:
        t0 = time.perf_counter()
        from .maps import coverage_map, save_map

        m = coverage_map(cells=res.cells, communities=res.communities, isochrones=res.isochrones,
                         facilities=res.facilities, gaps=res.gaps, lang=options.lang,
                         basemap=options.basemap, tianditu_key=options.tianditu_key,
                         offline=options.offline, title=scenario.area.name,
                         streets=region.network, compounds=compounds,
                         gates=getattr(region, "gates", None), **map_options(scenario))
        save_map(m, stage / "map.html", offline=options.offline)
        t["map"] = time.perf_counter() - t0
    if options.figures:
        t0 = time.perf_counter()
        from .figures import report_figures

        report_figures(res, scenario, stage / "figures", lang=options.lang, streets=region.network)
        t["figures"] = time.perf_counter() - t0
    return t


def _can_fork() -> bool:
    """Whether a forked process would run safely beside this one.

    It needs ``os.fork``, two CPUs, and no other thread alive in this process (a thread
    holding a lock at the fork would leave the child waiting for it forever).
    """
    import threading

    if not hasattr(os, "fork") or threading.active_count() > 1:
        return False
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS: no affinity call
        cpus = os.cpu_count() or 1
    return cpus >= 2


def _die_with_parent(parent: int) -> None:
    """In a forked child: be killed when the parent dies (Linux).

    A run killed with SIGKILL then leaves no orphan still writing into its staging folder.
    """
    try:
        import ctypes
        import signal

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the child finishes its files and exits
        return
    if os.getppid() != parent:  # the parent died before the request took effect
        os._exit(1)


class _Forked:
    """A function run in a forked child process; :meth:`join` returns its JSON-able result.

    The child inherits the parent's memory (the analysis, copy-on-write: nothing is pickled),
    writes its result or its error to a pipe and leaves with ``os._exit`` (no clean-up of
    the parent's run: the staged folder, the lock). :meth:`join` returns None when the child
    failed, was killed or was interrupted; the caller then does the work itself.
    """

    def __init__(self, fn: Callable[[], dict[str, float]]) -> None:
        import json

        read, write = os.pipe()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()
        parent = os.getpid()
        pid = os.fork()
        if pid == 0:  # the child
            _die_with_parent(parent)
            os.close(read)
            code = 1
            try:
                payload = json.dumps({"ok": fn()})
                code = 0
            except BaseException as e:  # reported to the parent, which redoes the work
                payload = json.dumps({"error": f"{type(e).__name__}: {e}"})
            try:
                with os.fdopen(write, "w", encoding="utf-8") as f:
                    f.write(payload)
                for stream in (sys.stdout, sys.stderr):
                    stream.flush()
            finally:
                os._exit(code)
        os.close(write)
        self.pid: int | None = pid
        self.read = read

    def join(self) -> dict[str, float] | None:
        """Wait for the child; its result, or None when it failed (logged).

        Returns
        -------
        dict or None
            The function's result, or None.
        """
        import json

        read, self.read = self.read, -1  # the file object owns (and closes) it now
        with os.fdopen(read, "r", encoding="utf-8") as f:
            data = f.read()
        assert self.pid is not None
        _, status = os.waitpid(self.pid, 0)
        self.pid = None
        try:
            got = json.loads(data) if data else {}
        except ValueError:
            got = {}
        if os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0 and "ok" in got:
            return {str(k): float(v) for k, v in got["ok"].items()}
        log.info("drawing the map and figures beside the tables failed (%s); drawing them "
                 "again", got.get("error") or f"exit status {status}")
        return None

    def stop(self) -> None:
        """End the child if it still runs (the parent was interrupted or failed)."""
        if self.pid is None:
            return
        import signal

        with contextlib.suppress(OSError):
            os.kill(self.pid, signal.SIGTERM)
        with contextlib.suppress(OSError):
            os.waitpid(self.pid, 0)
        self.pid = None
        if self.read >= 0:
            with contextlib.suppress(OSError):
                os.close(self.read)
            self.read = -1


def run(scenario: Scenario, out: str | Path, *, options: RunOptions | None = None,
        region: Region | None = None, notes: list[str] | None = None,
        extra: dict[str, Any] | None = None,
        tile_client: Callable[[], contextlib.AbstractContextManager[Any]] | None = None
        ) -> RunResult:
    """Read, analyse and write every output of one region into ``out``.

    Parameters
    ----------
    scenario
        What to analyse (area, inputs, thresholds, speeds, targets).
    out
        Output folder. Its previous contents are replaced whole when the run succeeds and
        kept when it fails.
    options
        Output language, map background, cache, tiling limits, progress (default
        ``RunOptions()``).
    region
        Ready layers to analyse instead of reading what the scenario names.
    notes
        Notes about the inputs found before the run (kept in ``summary.json``).
    extra
        More keys for ``summary.json`` (e.g. the demo's note about its data).
    tile_client
        A callable returning a context manager that yields a ``dask.distributed`` client,
        used only when the region is analysed in tiles (``care15 batch`` passes
        ``distributed.worker_client``).

    Returns
    -------
    RunResult
        The files written, the summary, the analysis and the region.

    Raises
    ------
    InputError
        For invalid options, an output folder that cannot be written or is being written by
        another run, and any input the readers and the analysis refuse. Nothing is written
        to ``out`` then.

    Examples
    --------
    >>> import tempfile, care15
    >>> r = care15.run(care15.demo_scenario(), tempfile.mkdtemp() + "/demo",
    ...                options=care15.RunOptions(maps=False, figures=False, cache=False))
    >>> "summary.json" in r.files and "communities.csv" in r.files
    True
    >>> round(r.summary["residents"]["total"])
    20000
    """
    options = options or RunOptions()
    problems = options.problems()
    if problems:
        raise InputError("invalid options:\n  - " + "\n  - ".join(problems))
    out = check_out_folder(out)
    with output_lock(out):
        return _run_locked(scenario, out, options, region, notes, extra, tile_client)


def read_region(scenario: Scenario, options: RunOptions) -> Region:
    """The region the scenario names, read as the run's options say (cache, progress, empty).

    Parameters
    ----------
    scenario
        The scenario.
    options
        Its :class:`RunOptions`.

    Returns
    -------
    Region
        The study area's layers (:func:`care15.region.region_from_scenario`).
    """
    from .region import region_from_scenario

    return region_from_scenario(scenario, verbose=options.verbose, cache=options.cache_arg,
                                allow_empty=options.allow_empty)


def _run_locked(scenario: Scenario, out: Path, options: RunOptions, region: Region | None,
                notes: list[str] | None, extra: dict[str, Any] | None,
                tile_client: Callable[[], contextlib.AbstractContextManager[Any]] | None
                ) -> RunResult:
    """:func:`run` while holding the output folder's lock."""
    t0 = time.perf_counter()
    with data_warnings_as_notes() as data_notes:
        if region is None:
            region = read_region(scenario, options)
        t_read = time.perf_counter() - t0
        t1 = time.perf_counter()
        res, tiles = _analyse(region, scenario, options, tile_client)
    t_an = time.perf_counter() - t1
    summ: dict[str, Any] = dict(res.summary)
    summ["study_area"] = scenario.area.name
    summ["notes"] = list(notes or []) + data_notes + list(region.notes) + list(res.notes)
    pop_report = region.reports.get("population") or {}
    summ["population_report"] = pop_report or None
    if pop_report.get("warning"):  # an implausible density or a total beyond the housing
        summ["notes"].append(str(pop_report["warning"]))
    from ._notes import notes_in

    summ["notes_zh"] = notes_in(summ["notes"], "zh")
    summ["attribution"] = ATTRIBUTION
    summ["coords_out"] = output_coords(options, scenario)
    if tiles > 1:
        summ["tiles"] = tiles
    summ.update(extra or {})
    t2 = time.perf_counter()
    with staged_folder(out, locked=True) as stage:
        parts = _write(stage, res, region, scenario, options)
        if "compounds" in res.summary:  # the compound table's headline figures (_write)
            summ["compounds"] = res.summary["compounds"]
        if options.report:
            t3 = time.perf_counter()
            from ._files import write_text_atomic
            from .report import report_html

            write_text_atomic(stage / "report.html", report_html(
                res, scenario, summ, lang=options.lang,
                coords_out=output_coords(options, scenario),
                figures=stage / "figures" if options.figures else None))
            parts["report"] = time.perf_counter() - t3
        seconds = {"read": round(t_read, 2), "analyze": round(t_an, 2),
                   **{k: round(v, 2) for k, v in parts.items()},
                   "write": round(time.perf_counter() - t2, 2),
                   "total": round(time.perf_counter() - t0, 2)}
        summ["seconds"] = seconds
        from .export import write_json

        write_json(summ, stage / "summary.json")
        files = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
    return RunResult(out=out, files=files, summary=summ, result=res, region=region, tiles=tiles,
                     seconds=seconds)


@dataclass
class SuggestRunResult:
    """What :func:`run_suggest` produced.

    Attributes
    ----------
    out
        The output folder (absolute).
    files
        The files written, relative to ``out``, sorted.
    suggestion
        The sites and the solver's report (:func:`care15.siting.suggest_sites`).
    result
        The analysis of the existing facilities the sites add to.
    info
        The content of ``sites_summary.json``.
    """

    out: Path
    files: list[str]
    suggestion: SiteSuggestion
    result: CoverageResult
    info: dict[str, Any]


def run_suggest(scenario: Scenario, out: str | Path, *, category: str,
                n_sites: int | None = None, target: float | None = None,
                candidates: str | Path | None = None, candidates_crs: str = "wgs84",
                exact: bool = False, time_limit_s: float = 60.0, capacity_aware: bool = False,
                options: RunOptions | None = None,
                demand: str | None = None) -> SuggestRunResult:
    """Analyse a region and suggest sites for new facilities; write the sites and their map.

    Parameters
    ----------
    scenario
        What to analyse.
    out
        Output folder (replaced whole when the run succeeds, as for :func:`run`).
    category
        ``"elderly"`` or ``"childcare"``.
    n_sites
        Number of new sites (maximal covering); or give ``target``.
    target
        Coverage rate to reach with the fewest sites, in (0, 1].
    candidates
        Candidate sites file (CSV, XLSX, GeoJSON); default: generated from the network.
    candidates_crs
        Coordinate system of the candidates' lon/lat.
    exact
        Solve exactly with HiGHS instead of the greedy solver.
    time_limit_s
        Solver time limit in seconds.
    capacity_aware
        Childcare: sites have places (assignment model).
    options
        Output options (default ``RunOptions()``).
    demand
        ``"cells"`` (population cells) or ``"compounds"`` (residential compounds reached
        through their gates, see :func:`care15.siting.compound_cover`). Default: compounds
        when the scenario names compounds (``compounds.file``, ``--compounds``), since a
        planner with a 小区 list reads the norms per compound; cells otherwise.

    Returns
    -------
    SuggestRunResult
        The sites, the analysis, the summary and the files written.

    Raises
    ------
    InputError
        For invalid options or inputs; nothing is written to ``out`` then.
    """
    options = options or RunOptions()
    problems = options.problems()
    if demand not in (None, "cells", "compounds"):
        problems.append(f"demand {demand!r}: one of 'cells', 'compounds'")
    if demand == "compounds" and scenario.compounds.file is None:
        problems.append("demand 'compounds' (--demand compounds) needs residential compounds "
                        "(--compounds FILE|osm)")
    if demand != "cells" and capacity_aware and scenario.compounds.file is not None:
        problems.append("--capacity-aware (托位 assignment) works on cell demand only: add "
                        "--demand cells")
    if problems:
        raise InputError("invalid options:\n  - " + "\n  - ".join(problems))
    out = check_out_folder(out)
    with output_lock(out):
        return _suggest_locked(scenario, out, category, n_sites, target, candidates,
                               candidates_crs, exact, time_limit_s, capacity_aware, options,
                               demand)


def _suggest_locked(scenario: Scenario, out: Path, category: str, n_sites: int | None,
                    target: float | None, candidates: str | Path | None, candidates_crs: str,
                    exact: bool, time_limit_s: float, capacity_aware: bool,
                    options: RunOptions, demand: str | None = None) -> SuggestRunResult:
    """:func:`run_suggest` while holding the output folder's lock."""
    from .candidates import candidates_from_file, water_from_osm
    from .export import write_json, write_tables
    from .maps import coverage_map, save_map
    from .siting import suggest_sites

    with data_warnings_as_notes() as data_notes:
        region = read_region(scenario, options)
        res, _ = _analyse(region, scenario, options, None)
        cand = None
        water = None
        if candidates is not None:
            cand = candidates_from_file(candidates, coords=candidates_crs)
            from .sources.facilities import check_datum_offset

            check_datum_offset(cand.assign(source=Path(candidates).name), region.network,
                               declared=candidates_crs, flag="--candidates-crs")
            osm_file = scenario.area.pbf or scenario.area.osm
            if osm_file is not None:
                water = water_from_osm(osm_file)
        if demand is None:
            demand = "compounds" if region.compounds is not None else "cells"
        gates = None
        if demand == "compounds" and region.compounds is not None:
            from .gates import compound_gates, osm_gate_nodes

            osm_src = scenario.area.pbf or scenario.area.osm
            nodes = osm_gate_nodes(osm_src) if osm_src is not None else None
            gates = compound_gates(region.compounds, region.network, osm_nodes=nodes)
        sug = suggest_sites(res, region.network, scenario, category, n_sites=n_sites,
                            target=target, candidates=cand, exact=exact,
                            time_limit_s=time_limit_s, verbose=options.verbose,
                            capacity_aware=capacity_aware, water=water, demand=demand,
                            compounds=region.compounds, gates=gates)
    notes = data_notes + list(region.notes) + list(res.notes)
    info = {"category": category, "solver": sug.solver, "status": sug.status,
            "objective": sug.objective, "bound": sug.bound, "gap": sug.gap,
            "message": sug.message, "message_zh": sug.message_zh, "n_sites": len(sug.sites),
            "notes": notes,
            "unreachable": sug.extra.get("unreachable"),
            "new_site_places": sug.extra.get("new_site_places"),
            "demand": demand,
            "attribution": ATTRIBUTION}
    if gates is not None:
        notes += list(gates.attrs.get("notes", []))
    from ._notes import notes_in

    info["notes_zh"] = notes_in(notes, "zh")
    coords_out = output_coords(options, scenario, candidates_crs if candidates else None)
    info["coords_out"] = coords_out
    with staged_folder(out, locked=True) as stage:
        write_tables({"sites": sug.sites}, stage, formats=("csv", "geojson", "xlsx"),
                     lang=options.lang, coords_out=coords_out)
        if options.maps:
            m = coverage_map(cells=res.cells, communities=res.communities,
                             isochrones=res.isochrones, facilities=res.facilities, gaps=res.gaps,
                             sites=sug.sites, sites_area=sug.added_area, lang=options.lang,
                             basemap=options.basemap, tianditu_key=options.tianditu_key,
                             offline=options.offline, title=scenario.area.name,
                             streets=region.network, **map_options(scenario))
            save_map(m, stage / "sites_map.html", offline=options.offline)
        write_json(info, stage / "sites_summary.json")
        files = sorted(p.relative_to(stage).as_posix() for p in stage.rglob("*") if p.is_file())
    return SuggestRunResult(out=out, files=files, suggestion=sug, result=res, info=info)
