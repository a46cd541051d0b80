"""Many regions at once on dask.distributed: ``care15 batch regions.toml``.

Each region (a district, a city) is one independent task. By default they run on a local
cluster of worker processes (``n_workers``, one thread each, no dashboard); ``--scheduler
tcp://host:port`` uses an existing cluster instead (its workers must see the same files and
the output folder). A region too large for one task is split into tiles
(:mod:`care15.tiling`) that run as tasks of their own and are reassembled exactly.

The regions file is described in :mod:`care15.regions`.

``out/<region>/`` holds the region's outputs, written by :func:`care15.pipeline.run` (the
files ``care15 analyze`` writes, byte for byte but for timings), ``error.txt`` when it failed,
and ``.done.json`` last of all: the done-marker, written atomically, with a hash of the region's scenario, the bytes of every
input file and the batch options that change results. A re-run skips a region whose marker
matches (status ``skipped``, figures taken from the marker) and re-runs a changed one.
``out/regions.csv`` has one row per region (status ``ok``/``failed``/``skipped``, the error,
headline figures, the bounding box) and ``out/index.html`` a map with a box per region, its
headline rates and a link to its own map.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import re
import sys
import time
import traceback
import uuid
from pathlib import Path
from typing import Any

import pandas as pd

from ._errors import InputError
from ._files import write_text_atomic
from .regions import BatchOptions, RegionSpec, regions_from_dict, regions_from_toml
from .scenario import _PATH_KEYS

__all__ = [
    "BATCH_FORMAT",
    "DONE_MARKER",
    "BatchOptions",
    "RegionSpec",
    "batch_report",
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
BATCH_FORMAT = 2
#: Name of the done-marker inside each region's folder.
DONE_MARKER = ".done.json"
_STATUS = ("ok", "failed", "skipped")
_STATUS_ZH = {"ok": "完成", "failed": "失败", "skipped": "跳过"}


def _error_in(error: str, lang: str) -> str:
    """A region's error (``Type: message`` on one line) in ``lang``: a user error translated.

    Parameters
    ----------
    error
        The ``error`` of the region's row (a scenario's problems, or ``Type: message``).
    lang
        ``"zh"`` or ``"en"``.

    Returns
    -------
    str
        The error in ``lang`` where the message has a translation; internal errors (a bug,
        not the input) keep their type and English text.
    """
    if lang != "zh" or re.match(r"(?!InputError|ScenarioError)\w+(?:Error|Exception): ", error):
        return error
    from ._notes import error_text

    return error_text(re.sub(r"^(?:InputError|ScenarioError): ", "", error), "zh")


def _region_line(row: dict[str, Any], lang: str) -> str:
    """The line printed when a region is done: ``name: status (seconds) error``."""
    zh = lang == "zh"
    status = _STATUS_ZH.get(row["status"], row["status"]) if zh else row["status"]
    secs = f"{row.get('seconds', 0):.1f} {'秒' if zh else 's'}"
    err = _error_in(row["error"], lang) if row.get("error") else ""
    return f"  {row['region']}: {status} ({secs})" + (f" {err}" if err else "")


def _require_distributed() -> None:
    """Raise a clear error naming the extra to install when dask.distributed is missing."""
    try:
        import distributed  # noqa: F401
    except ImportError:
        raise InputError("care15 batch needs dask.distributed: pip install 'care15[batch]'"
                         ) from None


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

    Parameters
    ----------
    spec
        The region.
    options
        The batch's options.

    Returns
    -------
    str
        Hex digest; a region whose done-marker holds the same digest is skipped.

    Raises
    ------
    InputError
        When the region has no valid scenario.
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
             "outputs": [options.lang, options.basemap, options.maps, options.figures,
                         options.offline, options.coords_out]}
    return _sha(parts)


def _write_json(obj: Any, path: Path) -> None:
    from .export import write_json

    write_json(obj, path)


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
    """A multi-line message (``invalid ...:`` and ``- a`` lines) as one line: ``invalid ...: a; b``."""
    lines = [s.strip() for s in str(msg).splitlines() if s.strip()]
    if not lines:
        return ""
    head, items = lines[0], [s[2:] if s.startswith("- ") else s for s in lines[1:]]
    return head + (" " + "; ".join(items) if items else "")


def _in_worker() -> bool:
    try:
        from distributed import get_worker

        get_worker()
    except (ImportError, ValueError):
        return False
    return True


def run_region(spec: RegionSpec, out_dir: Path | str, options: BatchOptions | None = None, *,
               input_hash: str = "") -> dict[str, Any]:
    """Run one region through :func:`care15.pipeline.run`; never raises for its own errors.

    Runs as a dask task in :func:`run_regions` (tiles then run as tasks of their own), or
    directly. The done-marker is removed first and written last, atomically.

    Parameters
    ----------
    spec
        The region.
    out_dir
        Its output folder.
    options
        The batch's options.
    input_hash
        :func:`region_input_hash` of the region, kept in the done-marker.

    Returns
    -------
    dict
        The region's row of ``regions.csv``: ``status`` ``ok`` or ``failed``, ``error``,
        headline figures, bounding box (WGS-84), ``seconds``, ``tiles``.
    """
    from .pipeline import run
    from .region import region_from_layers

    options = options or BatchOptions()
    out = Path(out_dir)
    t0 = time.perf_counter()
    row: dict[str, Any] = {"region": spec.name, "status": "failed", "error": ""}
    marker = out / DONE_MARKER
    try:
        marker.unlink(missing_ok=True)
        if spec.scenario is None:
            raise InputError(spec.error or "no valid scenario")
        sc = spec.scenario
        run_options = options.run_options(spec)
        region = None
        if spec.layers:
            region = region_from_layers(sc, cache=run_options.cache_arg,
                                        **{k: v for k, v in spec.layers.items()})
        tile_client = None
        if _in_worker():
            from distributed import worker_client

            tile_client = worker_client
        r = run(sc, out, options=run_options, region=region, tile_client=tile_client)
        net = r.region.network
        row.update({"n_nodes": net.n_nodes, "n_edges": net.n_edges, "tiles": r.tiles})
        w, s, e, n = net.bounds_wgs84()
        row.update({"west": w, "south": s, "east": e, "north": n})
        row.update(_headline(r.summary))
        row["map"] = f"{spec.name}/map.html" if "map.html" in r.files else ""
        row["status"] = "ok"
        (out / "error.txt").unlink(missing_ok=True)
    except Exception as e:
        row["error"] = _one_line(f"{type(e).__name__}: {e}")
        log.warning("region %s failed: %s", spec.name, row["error"])
        with contextlib.suppress(OSError):
            out.mkdir(parents=True, exist_ok=True)
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
    from .export import _no_formulas  # error texts quote input: no formula in a spreadsheet

    write_text_atomic(path, _no_formulas(df).to_csv(index=False), encoding="utf-8-sig")


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
    so several batches can run side by side.

    Parameters
    ----------
    n_workers
        Worker processes.
    **kwargs
        More arguments of ``distributed.LocalCluster`` (override the defaults above).

    Returns
    -------
    distributed.LocalCluster
        The running cluster (close it when done).
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

                    tqdm.write(_region_line(row, options.lang), file=sys.stderr)
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
    from .maps import index_map

    index_map(table, out)
    return table


def run_batch(regions_path: Path | str, *, out: Path | str = "out/batch",
              scheduler: str | None = None, n_workers: int = 2, verbose: bool = True,
              force: bool = False, lang: str | None = None) -> int:
    """``care15 batch``: run every region of a regions file.

    Parameters
    ----------
    regions_path
        The regions file (:mod:`care15.regions`).
    out
        Output folder: ``out/<region>/``, ``regions.csv``, ``index.html``.
    scheduler
        Address of an existing scheduler (``tcp://host:port``); default a local cluster.
    n_workers
        Worker processes of the local cluster.
    verbose
        Progress bar and a line per region.
    force
        Re-run regions whose inputs did not change.
    lang
        ``"zh"`` or ``"en"``: the language of every region's outputs and of the progress lines,
        over the regions file's ``[batch] lang`` (None: the file's, else zh).

    Returns
    -------
    int
        The exit status: 0 when every region is ``ok`` or ``skipped``, 1 when any failed (the
        others still ran; see ``out/regions.csv``).

    Raises
    ------
    InputError
        When the regions file is malformed, ``n_workers`` is below 1, ``lang`` is unknown, or
        dask.distributed is not installed (exit 2 in the command).
    """
    if n_workers < 1:
        raise InputError(f"n_workers must be at least 1, got {n_workers}")
    _require_distributed()
    specs, options = regions_from_toml(regions_path)
    if lang is not None:
        from ._options import LANGS, check_choice

        msg = check_choice(lang, LANGS, "lang")
        if msg:
            raise InputError(msg)
        options = dataclasses.replace(options, lang=lang)
    table = run_regions(specs, out, options=options, scheduler=scheduler, n_workers=n_workers,
                        verbose=verbose, force=force)
    return 1 if (table["status"] == "failed").any() else 0


def batch_report(table: pd.DataFrame, out: Path | str, lang: str = "zh") -> str:
    """The batch's result in a few lines: regions by status, the failures, where to look.

    Parameters
    ----------
    table
        The table :func:`run_regions` returns.
    out
        The batch's output folder.
    lang
        ``"zh"`` (the default, as the command's) or ``"en"``: the words, the statuses and the
        errors of the inputs (region names and paths stay as written).

    Returns
    -------
    str
        The lines, for stdout.
    """
    counts = table["status"].value_counts().to_dict()
    failed = table.loc[table["status"] == "failed"]
    csv, index = Path(out) / "regions.csv", Path(out) / "index.html"
    if lang == "zh":
        lines = [f"共 {len(table)} 个区域: " + ", ".join(f"{_STATUS_ZH[s]} {counts.get(s, 0)} 个"
                                                       for s in _STATUS)]
        lines += [f"  失败: {r['region']}: {_error_in(r['error'], lang)}"
                  for _, r in failed.iterrows()]
        lines.append(f"输出目录: {csv} 和 {index}")
    else:
        lines = [f"{len(table)} regions: " + ", ".join(f"{counts.get(s, 0)} {s}"
                                                      for s in _STATUS)]
        lines += [f"  failed: {r['region']}: {r['error']}" for _, r in failed.iterrows()]
        lines.append(f"Written to {csv} and {index}")
    return "\n".join(lines)
