"""Plan files: the facilities a plan adds, moves, removes or resizes, read and checked.

A plan file is a CSV (UTF-8, UTF-8 with a BOM, or GBK/GB18030), an XLSX workbook or a GeoJSON
of points, one row per edit, applied in order. Its columns are matched as the facility list's
are (ignoring case and surrounding spaces; the first name listed wins):

=================  ==============================================================================
what               column names
=================  ==============================================================================
action             ``action``, ``操作``, ``动作``, ``变更``, ``方案``, ``edit``, ``change``
facility id        ``facility_id``, ``设施编号``, ``编号``, ``id`` (``f<row>`` of the facility
                   list, as ``facilities.csv`` of ``care15 analyze`` lists them)
category / type    the facility list's type columns (``类别``, ``类型``, ``category`` …): a
                   category (养老/elderly, 托育/childcare) or a sub-type (养老院, 幼儿园 …)
name               the facility list's name columns (``名称``, ``机构名称``, ``name`` …)
longitude          the facility list's (``经度``, ``lon``, ``lng`` …), in ``crs``
latitude           the facility list's (``纬度``, ``lat`` …), in ``crs``
capacity           ``capacity``, ``规模``, ``容量``, ``床位``/``床位数``/``beds`` (elderly care),
                   ``托位``/``托位数``/``places`` (childcare)
=================  ==============================================================================

Actions: ``add`` (新增, 新建, 增加, 添加), ``move`` (迁移, 搬迁, 移址, 移动), ``remove`` (撤销,
撤除, 关闭, 删除, 取消), ``resize`` (调整规模, 扩容, 缩减, 扩建, 调整). An add needs a category and
coordinates (its id is optional: ``plan-1``, ``plan-2`` … by default); a move needs an id and
the new coordinates; a remove an id; a resize an id and the new capacity.

:func:`read_plan` checks what the file alone can tell (unknown actions, missing coordinates or
categories, negative capacities, ids added twice, an empty file) and :func:`plan_problems`
what needs the study area (ids not in the facility list, coordinates outside the street
network's area or too far from any street). Both name the file, the row (1-based data row,
the header not counted, as the facility list's rows are counted) and the column, and say the
fix; every problem is listed at once.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from ._errors import InputError
from ._escape import FORMULA_START
from ._options import COORD_SYSTEMS
from ._tables import letters, pick_column

if TYPE_CHECKING:
    from .network import WalkNetwork

__all__ = ["ACTION_WORDS", "PLAN_COLUMNS", "plan_problems", "read_plan"]

#: The columns of :func:`read_plan`'s table (what :meth:`care15.Plan.apply` takes, and the row).
PLAN_COLUMNS = ["action", "facility_id", "category", "subtype", "name", "lon", "lat",
                "capacity", "source_row"]

#: Words of an action cell (lower case) → the action.
ACTION_WORDS: dict[str, str] = {
    **{w: "add" for w in ("add", "new", "新增", "新建", "增加", "添加", "增设")},
    **{w: "move" for w in ("move", "relocate", "迁移", "搬迁", "移址", "移动", "迁址")},
    **{w: "remove" for w in ("remove", "close", "delete", "撤销", "撤除", "关闭", "删除",
                             "取消", "拆除")},
    **{w: "resize" for w in ("resize", "capacity", "调整规模", "规模调整", "扩容", "缩减",
                             "扩建", "调整", "改扩建")},
}

_ACTION = ("action", "操作", "动作", "变更", "方案", "edit", "change")
_ID = ("facility_id", "设施编号", "编号", "id", "设施id", "facility id")
_CAPACITY = ("capacity", "规模", "容量", "capacity_places")
_FIX_ACTION = "use add, move, remove or resize (新增, 迁移, 撤销, 调整规模)"


def _columns() -> dict[str, tuple[str, ...]]:
    from .sources import facilities as fac

    return {"action": _ACTION, "facility_id": _ID, "type": fac._TYPE, "name": fac._NAME,
            "lon": fac._LON, "lat": fac._LAT, "beds": fac._BEDS,
            "places": tuple(p for p in fac._PLACES if p != "capacity"),
            "capacity": _CAPACITY}


def _text(v: Any) -> str | None:
    """A cell as text, None when empty.

    The apostrophe a spreadsheet export put before a formula character is taken off
    (``'=x`` → ``=x``, the value as the planner typed it).
    """
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    s = str(v).strip()
    if s in ("", "nan", "None"):
        return None
    if len(s) > 1 and s[0] == "'" and s[1:].startswith(FORMULA_START):
        s = s[1:]
    return s


def _number(v: Any) -> float | None:
    """A cell as a number (thousands separators allowed); NaN when not a number, None empty."""
    s = _text(v)
    if s is None:
        return None
    try:
        return float(s.replace(",", ""))
    except ValueError:
        return float("nan")


def read_plan(path: str | Path, *, crs: str = "wgs84") -> pd.DataFrame:
    r"""Read and check a plan file: the edits in order, coordinates in WGS-84.

    Parameters
    ----------
    path
        The plan file: CSV (UTF-8, UTF-8 with a BOM, GBK/GB18030), XLSX or GeoJSON points
        (see the module notes for its columns and action words).
    crs
        Coordinate system of the file's longitude and latitude: ``"wgs84"``, ``"gcj02"``
        (AMap/Tencent) or ``"bd09"`` (Baidu). A GeoJSON in EPSG:4326 is read in this system
        too (POI exports are often GCJ-02 labelled as 4326).

    Returns
    -------
    pandas.DataFrame
        :data:`PLAN_COLUMNS`: ``action`` (``add``/``move``/``remove``/``resize``),
        ``facility_id`` (None for an add without one), ``category`` and ``subtype`` (from the
        type column; None where not given), ``name``, ``lon``/``lat`` (WGS-84; NaN where
        not given), ``capacity`` (NaN where not given) and ``source_row`` (1-based data row).
        ``attrs`` holds ``path``, ``crs``, ``lon_in``/``lat_in`` (the file's numbers) and
        ``columns`` (what → ``(header, letter)`` of the file), used by :func:`plan_problems`.

    Raises
    ------
    InputError
        Listing every problem with the file, row and column: a missing or empty file, no
        action column, an unknown action, an add without a category or coordinates, a move
        without coordinates, a move/remove/resize without a facility id, a resize without a
        capacity, a capacity that is negative or not a number, swapped or out-of-range
        coordinates, an id added twice.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "方案.csv"
    >>> _ = p.write_text("操作,设施编号,类别,名称,经度,纬度,床位\n新增,,养老,新站,24.94,60.17,30\n"
    ...                  "撤销,f3,,,,,\n", encoding="utf-8-sig")
    >>> read_plan(p)[["action", "facility_id", "category", "lon", "capacity"]]
      action facility_id category    lon  capacity
    0    add        None  elderly  24.94      30.0
    1 remove          f3     None    NaN       NaN
    """
    from .chinacoords import to_wgs84
    from .sources.facilities import _read_table, classify

    p = Path(path)
    if not p.is_file():
        raise InputError(f"{p}: plan file not found")
    if crs not in COORD_SYSTEMS:
        raise InputError(f"{p}: coordinate system {crs!r} is not one of {COORD_SYSTEMS}")
    suf = p.suffix.lower()
    if suf in (".csv", ".txt", ".tsv") and \
            not p.read_bytes().lstrip(b"\xef\xbb\xbf").strip():
        raise InputError(f"{p}: the plan file is empty; give a header row and one row per "
                         "edit (操作/action, 设施编号/facility_id, 类别/category, 经度/lon, "
                         "纬度/lat, 规模/capacity)")
    df, glon, glat = _read_table(p)
    rows = np.arange(len(df)) + 1  # data rows as the file counts them, blank ones included
    keep = ~df.map(lambda v: _text(v) is None).all(axis=1).to_numpy() if len(df) else \
        np.zeros(0, bool)
    if glon is not None and glat is not None:
        keep |= np.isfinite(glon)
        glon, glat = glon[keep], glat[keep]
    df, rows = df.loc[keep].reset_index(drop=True), rows[keep]
    if len(df) == 0:
        raise InputError(f"{p}: the plan file has no edits (no data rows); give one row per "
                         "edit under the header")
    cols = list(df.columns)
    where: dict[str, tuple[str, str]] = {}
    for what, aliases in _columns().items():
        c = pick_column(cols, aliases)
        if c is not None:
            where[what] = (c, letters(cols.index(c) + 1))
    if glon is not None:
        where["lon"], where["lat"] = ("geometry x", "-"), ("geometry y", "-")
    if "action" not in where:
        raise InputError(f"{p}: no action column (looked for {', '.join(_ACTION)}); columns "
                         f"are {cols}")
    n = len(df)

    def _col(what: str) -> list[Any]:
        return df[where[what][0]].tolist() if what in where and where[what][1] != "-" \
            else [None] * n

    def _at(what: str) -> str:
        h, letter = where.get(what, (what, ""))
        return f"column {h!r}" + (f" ({letter})" if letter and letter != "-" else "")

    problems: list[tuple[int, str]] = []

    def _bad(r: int, what: str, msg: str) -> None:
        problems.append((r, f"{p}: row {r}, {_at(what)}: {msg}"))

    actions = []
    for r, v in zip(rows, _col("action"), strict=True):
        t = _text(v)
        a = ACTION_WORDS.get(t.lower()) if t is not None else None
        if a is None:
            _bad(int(r), "action", ("no action" if t is None else f"unknown action {t!r}")
                + f"; {_FIX_ACTION}")
        actions.append(a)
    ids = [_text(v) for v in _col("facility_id")]
    names = [_text(v) for v in _col("name")]
    cats: list[str | None] = []
    subs: list[str | None] = []
    for r, a, v in zip(rows, actions, _col("type"), strict=True):
        t = _text(v)
        guess = classify(t) if t is not None else None
        if t is not None and guess is None:
            _bad(int(r), "type", f"{t!r} names no category or facility kind; use 养老/elderly, "
                "托育/childcare or a sub-type such as 养老院, 日间照料中心, 托育机构, 幼儿园")
        elif a == "add" and t is None:
            _bad(int(r), "type", "an add needs a category; give 养老/elderly or 托育/childcare "
                "(or a sub-type such as 养老院, 幼儿园)")
        cats.append(guess[0] if guess else None)
        subs.append(guess[1] if guess else None)
    if glon is not None:
        lon_in, lat_in = np.asarray(glon, float), np.asarray(glat, float)
        lon_bad = np.zeros(n, bool)
        lat_bad = np.zeros(n, bool)
    else:
        lon_raw = [_number(v) for v in _col("lon")]
        lat_raw = [_number(v) for v in _col("lat")]
        lon_in = np.array([np.nan if v is None else v for v in lon_raw], float)
        lat_in = np.array([np.nan if v is None else v for v in lat_raw], float)
        lon_bad = np.array([v is not None and np.isnan(v) for v in lon_raw])
        lat_bad = np.array([v is not None and np.isnan(v) for v in lat_raw])
    for i, (r, a) in enumerate(zip(rows, actions, strict=True)):
        if a not in ("add", "move"):
            continue
        x, y = lon_in[i], lat_in[i]
        if lon_bad[i] or lat_bad[i]:
            _bad(int(r), "lon" if lon_bad[i] else "lat", "the coordinate is not a number; give "
                "longitude and latitude in degrees")
        elif not (np.isfinite(x) and np.isfinite(y)):
            if "lon" not in where or "lat" not in where:
                problems.append((int(r), f"{p}: row {r}: {_an(a)} needs coordinates but the "
                                 "file has no longitude/latitude columns (经度/纬度, lon/lat)"))
            else:
                _bad(int(r), "lon", f"{_an(a)} needs coordinates; give longitude and latitude "
                    f"(columns {where['lon'][0]!r} and {where['lat'][0]!r})")
        elif abs(y) > 90 and abs(x) <= 90:
            _bad(int(r), "lat", f"longitude and latitude look swapped ({x:g}, {y:g}); swap the "
                f"columns {where['lon'][0]!r} and {where['lat'][0]!r}")
        elif abs(x) > 180 or abs(y) > 90:
            _bad(int(r), "lon", f"({x:g}, {y:g}) are not longitude and latitude in degrees")
    caps = np.full(n, np.nan)
    for i, (r, a) in enumerate(zip(rows, actions, strict=True)):
        c = cats[i]
        order = ("beds", "capacity", "places") if c == "elderly" else \
            ("places", "capacity", "beds") if c == "childcare" else \
            ("capacity", "beds", "places")
        used, raw = None, None
        for what in order:
            if what in where and where[what][1] != "-":
                v = _number(df[where[what][0]].iloc[i])
                if v is not None:
                    used, raw = what, v
                    break
        if raw is not None and np.isnan(raw):
            _bad(int(r), used or "capacity", "the capacity is not a number; give beds (床位) or "
                "places (托位) as a number >= 0")
        elif raw is not None and raw < 0:
            _bad(int(r), used or "capacity", f"capacity {raw:g} is negative; give beds (床位) or "
                "places (托位) as a number >= 0")
        elif raw is not None:
            caps[i] = raw
        if a == "resize" and raw is None:
            _bad(int(r), "capacity", "a resize needs the new capacity; give beds (床位) or places "
                "(托位) in a capacity column (规模, 床位, 托位, capacity)")
    for i, (r, a) in enumerate(zip(rows, actions, strict=True)):
        if a in ("move", "remove", "resize") and ids[i] is None:
            _bad(int(r), "facility_id", f"{_an(a)} needs the facility_id of the facility (f<row> of "
                "the facility list, as facilities.csv of care15 analyze lists it)")
    first: dict[str, int] = {}
    for i, (r, a) in enumerate(zip(rows, actions, strict=True)):
        fid = ids[i]
        if a != "add" or fid is None:
            continue
        if fid in first:
            _bad(int(r), "facility_id", f"{fid!r} is added again (first in row "
                f"{first[fid]}); give each new facility its own id")
        else:
            first[fid] = int(r)
    if problems:
        raise InputError("cannot use the plan file:\n  - " + "\n  - ".join(
            m for _, m in sorted(problems, key=lambda t: t[0])))
    ok = np.isfinite(lon_in) & np.isfinite(lat_in)
    lon = np.full(n, np.nan)
    lat = np.full(n, np.nan)
    if ok.any():
        lon[ok], lat[ok] = to_wgs84(lon_in[ok], lat_in[ok], crs)
    out = pd.DataFrame({"action": actions, "facility_id": pd.Series(ids, dtype=object),
                        "category": pd.Series(cats, dtype=object),
                        "subtype": pd.Series(subs, dtype=object),
                        "name": pd.Series(names, dtype=object), "lon": lon, "lat": lat,
                        "capacity": caps, "source_row": rows.astype(np.int64)})
    out.attrs.update({"path": str(p), "crs": crs, "lon_in": lon_in, "lat_in": lat_in,
                      "columns": where})
    return out[PLAN_COLUMNS]


def _an(action: str) -> str:
    """``an add``, ``a move``."""
    return f"{'an' if action == 'add' else 'a'} {action}"


def plan_problems(edits: pd.DataFrame, facilities: pd.DataFrame, network: WalkNetwork, *,
                  max_access_m: float = 250.0, crs_flag: str = "--plan-crs") -> list[str]:
    """What is wrong with a plan against the study area, before it is analysed.

    Parameters
    ----------
    edits
        The plan (:func:`read_plan`).
    facilities
        The facility list the plan edits (``facility_id``).
    network
        The street network of the study area.
    max_access_m
        How far from a walkable street a facility may be (the scenario's
        ``analysis.max_access_m``).
    crs_flag
        The flag that declares the plan's coordinate system, named in the fixes.

    Returns
    -------
    list of str
        One message per problem (file, row, column, the fix), in row order: a move, remove or
        resize of an id not in the facility list (or removed by an earlier row), an add of an
        id the list has, coordinates outside the street network's area or farther than
        ``max_access_m`` from any walkable street (with the system that would fit, when
        another reading of the numbers does).
    """
    path = edits.attrs.get("path", "plan")
    where: dict[str, tuple[str, str]] = edits.attrs.get("columns", {})

    def _at(what: str) -> str:
        h, letter = where.get(what, (what, ""))
        return f"column {h!r}" + (f" ({letter})" if letter and letter != "-" else "")

    problems: list[tuple[int, str]] = []
    known = set(facilities["facility_id"].astype(str))
    listed = set(known)
    for a, fid, r in zip(edits["action"], edits["facility_id"], edits["source_row"],
                         strict=True):
        if fid is None or (isinstance(fid, float) and np.isnan(fid)):
            continue
        fid = str(fid)
        if a == "add":
            if fid in known:
                why = "the facility list has it" if fid in listed else "an earlier row adds it"
                problems.append((int(r), f"{path}: row {r}, {_at('facility_id')}: {fid!r} is "
                                 f"already a facility ({why}); give the new facility another "
                                 "id, or leave the id empty"))
            known.add(fid)
        elif fid not in known:
            why = ("an earlier row removes it" if fid in listed else
                   "not in the facility list (--facilities)")
            problems.append((int(r), f"{path}: row {r}, {_at('facility_id')}: no facility "
                             f"{fid!r} to {a} ({why}); use a facility_id of facilities.csv "
                             "(care15 analyze writes it: f<row> for row <row> of the list)"))
        elif a == "remove":
            known.discard(fid)
    pos = np.flatnonzero(edits["action"].isin(["add", "move"]).to_numpy()
                         & np.isfinite(edits["lon"].to_numpy(float)))
    if len(pos):
        far, outside = _placement(edits["lon"].to_numpy(float)[pos],
                                  edits["lat"].to_numpy(float)[pos], network, max_access_m)
        lon_in = edits.attrs.get("lon_in")
        lat_in = edits.attrs.get("lat_in")
        crs = str(edits.attrs.get("crs", "wgs84"))
        hint = ""
        bad = outside | np.isfinite(far)
        if bad.any() and lon_in is not None and lat_in is not None:
            hint = _other_reading(np.asarray(lon_in, float)[pos[bad]],
                                  np.asarray(lat_in, float)[pos[bad]], crs, network,
                                  max_access_m, crs_flag)
        fix = hint or f"check the coordinates and their system ({crs_flag} {crs})"
        w, s, e, n = network.bounds_wgs84()
        for k, i in enumerate(pos):
            r = int(edits["source_row"].iloc[i])
            x, y = (float(edits.attrs["lon_in"][i]), float(edits.attrs["lat_in"][i])) \
                if lon_in is not None else (float(edits["lon"].iloc[i]),
                                            float(edits["lat"].iloc[i]))
            if outside[k]:
                problems.append((r, f"{path}: row {r}, {_at('lon')}: ({x:.6f}, {y:.6f}) as {crs} "
                                 f"lies outside the street network's area (lon {w:.4f} to "
                                 f"{e:.4f}, lat {s:.4f} to {n:.4f} in WGS-84); {fix}"))
            elif np.isfinite(far[k]):
                problems.append((r, f"{path}: row {r}, {_at('lon')}: ({x:.6f}, {y:.6f}) as {crs} "
                                 f"is {far[k]:.0f} m from the nearest walkable street (more "
                                 f"than {max_access_m:g} m): it would serve no one; {fix}"))
    return [m for _, m in sorted(problems, key=lambda t: t[0])]


def _placement(lon: np.ndarray, lat: np.ndarray, network: WalkNetwork,
               max_access_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Per point: metres to the nearest street beyond ``max_access_m``, and whether outside.

    The distance is NaN within ``max_access_m``; outside means outside the network's area
    (its nodes' convex hull grown by ``max_access_m``).
    """
    pts = gpd.GeoSeries(shapely.points(lon, lat), crs=4326).to_crs(network.crs)
    hull = shapely.buffer(shapely.convex_hull(shapely.multipoints(
        np.column_stack([network.x, network.y]))), max_access_m)
    outside = ~shapely.contains_xy(hull, pts.x.to_numpy(), pts.y.to_numpy())
    d = np.asarray(network.snap_gdf(pts, max_access_m=np.inf).access_m, dtype=float)
    far = np.where((d > max_access_m) & ~outside, d, np.nan)
    return far, outside


def _other_reading(lon_in: np.ndarray, lat_in: np.ndarray, crs: str, network: WalkNetwork,
                   max_access_m: float, flag: str) -> str:
    """The fix when another coordinate system places every one of these points on the streets.

    ``"read as gcj02 these coordinates lie on the streets: pass --plan-crs gcj02"``, or an
    empty string.
    """
    from .chinacoords import to_wgs84

    for other in COORD_SYSTEMS:
        if other == crs:
            continue
        x, y = to_wgs84(lon_in, lat_in, other)
        far, outside = _placement(x, y, network, max_access_m)
        if not outside.any() and not np.isfinite(far).any():
            return (f"read as {other} these coordinates lie on the streets: pass {flag} "
                    f"{other}")
    return ""
