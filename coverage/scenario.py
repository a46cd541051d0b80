"""Scenario: the study area, inputs, categories, thresholds, speeds, shares and targets.

A scenario is a TOML file or the same thing as a frozen :class:`Scenario`. Every default comes
from :mod:`care15.standards`. Validation happens once, at load time, and reports every
problem with the key and what is allowed::

    [area]
    name = "成都 中心城区"
    pbf = "chengdu.osm.pbf"          # or osm = "...osm" or place = "..." or bbox = [w, s, e, n]

    [inputs]
    facilities = "facilities.csv"     # optional; OSM facilities when absent
    facilities_crs = "gcj02"          # wgs84 | gcj02 | bd09
    population = "pop.tif"            # optional; raster or vector layer
    total_population = 250000         # for the OSM-based estimate when no population file
    communities = "shequ.geojson"
    community_name_column = "name"

    categories = ["elderly", "childcare"]
    thresholds_min = [5, 10, 15]

    [speeds]
    default_mps = 1.0
    elderly_mps = 0.8
    childcare_mps = 0.9

    [shares]
    share_60plus = 0.187
    share_0to3 = 0.03

    [targets]
    elderly_coverage = 0.9

    [analysis]
    cell_size_m = 100

    [compounds]                       # residential compounds (小区); optional
    file = "小区.xlsx"                 # or "osm" for OSM residential areas
    crs = "gcj02"
    population = "auto"               # auto | yes | no: residents from the compounds' households
    new_from_year = 2023              # built in or after: new (新建) norms; before: existing
    elderly_m2_per_100_households_new = 25   # a city's own value (曲靖)
    gates = "出入口.xlsx"             # the compounds' gates (出入口); default: OSM gates, street
    gates_crs = "gcj02"               #   crossings of the outline, else the nearest streets
    closed = true                     # compounds with mapped gates are closed to through routes
    detour_factor = 1.3               # walk inside a compound ÷ straight line (home to gate)
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from . import standards as std
from ._errors import ScenarioError
from ._options import COORD_SYSTEMS, COVERAGE_METHODS, FLAGS

__all__ = [
    "Analysis",
    "Area",
    "Compounds",
    "Inputs",
    "Scenario",
    "Shares",
    "Speeds",
    "Targets",
    "scenario_from_dict",
    "scenario_from_toml",
]



@dataclass(frozen=True)
class Area:
    """Study area: a name and exactly one network source (or none for a Python-built region)."""

    name: str = "study area"
    pbf: Path | None = None
    osm: Path | None = None
    place: str | None = None
    bbox: tuple[float, float, float, float] | None = None  # west, south, east, north (WGS-84)


@dataclass(frozen=True)
class Inputs:
    """Optional input files; when absent, OSM data and estimates stand in."""

    facilities: Path | None = None
    facilities_crs: str = "wgs84"
    population: Path | None = None
    population_column: str | None = None
    total_population: float | None = None
    communities: Path | None = None
    community_name_column: str | None = None


@dataclass(frozen=True)
class Speeds:
    """Walking speeds in metres per second."""

    default_mps: float = std.get("walk_speed_default_mps")
    elderly_mps: float = std.get("walk_speed_elderly_mps")
    childcare_mps: float = std.get("walk_speed_childcare_mps")


@dataclass(frozen=True)
class Shares:
    """Age-group shares used when the population data have no age columns."""

    share_60plus: float = std.get("share_60plus")
    share_0to3: float = std.get("share_0to3")


@dataclass(frozen=True)
class Targets:
    """Policy targets (see :mod:`care15.standards` for their sources)."""

    elderly_coverage: float = std.get("target_elderly_coverage")
    childcare_coverage: float = std.get("target_childcare_coverage")
    childcare_places_per_1000: float = std.get("target_childcare_places_per_1000")
    elderly_beds_per_1000_60plus: float = std.get("target_elderly_beds_per_1000_60plus")
    elderly_area_m2_per_100_households: float = std.get(
        "target_elderly_area_m2_per_100_households")
    coverage_threshold_min: float = std.get("threshold_15_min")


@dataclass(frozen=True)
class Analysis:
    """Technical settings."""

    cell_size_m: float = std.get("cell_size_m")
    max_access_m: float = std.get("max_access_m")
    isochrone_walkoff_m: float = std.get("isochrone_walkoff_m")
    coverage_method: str = "network"
    household_size: float = std.get("household_size")
    enrolment_rate: float = std.get("childcare_enrolment_rate")
    new_site_places: float = std.get("childcare_new_site_places")


@dataclass(frozen=True)
class Compounds:
    """Residential compounds (小区) and their per-compound norms (see :mod:`care15.compounds`).

    ``file`` is a planner's list (CSV/XLSX with a point, GeoJSON/GPKG with polygons) or
    ``"osm"`` for OSM residential areas; ``population`` says whether residents come from the
    compounds' households (``"auto"``: when no population file and no total is given). The
    norms default to :mod:`care15.standards` (seeds 000-003); a city sets its own here.

    Gates (:mod:`care15.gates`): ``gates`` is a planner's gate list (出入口; CSV/XLSX/GeoJSON
    naming each gate's compound, lon/lat in ``gates_crs``); without it the gates come from
    OSM (``barrier=gate``, ``entrance=*``), the street crossings of each outline, else the
    nearest streets. Residents walk from home to a gate (straight line × ``detour_factor``,
    default the standard ``compound_gate_detour_factor`` 1.3) and on over the streets.
    ``closed`` (default True): compounds with mapped gates (file or OSM) are closed to through
    routes, so nobody else walks across them (``--open-compounds`` sets it False).
    """

    file: Path | str | None = None
    crs: str = "wgs84"
    population: str = "auto"
    new_from_year: float = std.get("compound_new_from_year")
    retrofit_from_year: float = 0.0
    elderly_m2_per_100_households_new: float = std.get(
        "compound_elderly_m2_per_100_households_new")
    elderly_m2_per_100_households_existing: float = std.get(
        "compound_elderly_m2_per_100_households_existing")
    elderly_site_min_m2: float = std.get("compound_elderly_site_min_m2")
    childcare_places_per_1000_new: float = std.get("compound_childcare_places_per_1000_new")
    childcare_places_per_1000_existing: float = std.get(
        "compound_childcare_places_per_1000_existing")
    childcare_m2_per_place: float = std.get("compound_childcare_m2_per_place")
    gates: Path | str | None = None
    gates_crs: str = "wgs84"
    closed: bool = True
    detour_factor: float = std.get("compound_gate_detour_factor")


@dataclass(frozen=True)
class Scenario:
    """Everything one analysis needs, validated and immutable.

    Examples
    --------
    >>> from care15 import Scenario
    >>> s = Scenario()
    >>> s.thresholds_min
    (5, 10, 15)
    >>> s.speed_for("elderly")
    0.8
    """

    area: Area = field(default_factory=Area)
    inputs: Inputs = field(default_factory=Inputs)
    categories: tuple[str, ...] = ("elderly", "childcare")
    thresholds_min: tuple[float, ...] = (
        std.get("threshold_5_min"), std.get("threshold_10_min"), std.get("threshold_15_min"))
    speeds: Speeds = field(default_factory=Speeds)
    shares: Shares = field(default_factory=Shares)
    targets: Targets = field(default_factory=Targets)
    analysis: Analysis = field(default_factory=Analysis)
    compounds: Compounds = field(default_factory=Compounds)

    def __post_init__(self) -> None:
        """Validate every field; raise one :class:`ScenarioError` listing all problems."""
        problems = _validate(self)
        if problems:
            raise ScenarioError("invalid scenario:\n  - " + "\n  - ".join(problems))

    def speed_for(self, category: str) -> float:
        """Walking speed (m/s) of the group a category serves.

        Parameters
        ----------
        category
            ``"elderly"``, ``"childcare"`` or another category (the default speed).

        Returns
        -------
        float
            Metres per second.
        """
        return {"elderly": self.speeds.elderly_mps,
                "childcare": self.speeds.childcare_mps}.get(category, self.speeds.default_mps)

    def coverage_target(self, category: str) -> float:
        """Target share of the served group living within :attr:`Targets.coverage_threshold_min`.

        Parameters
        ----------
        category
            ``"elderly"`` or ``"childcare"``.

        Returns
        -------
        float
            A rate in (0, 1].
        """
        return {"elderly": self.targets.elderly_coverage,
                "childcare": self.targets.childcare_coverage}[category]

    def with_(self, **changes: Any) -> Scenario:
        """Return a copy with top-level fields or dotted ``section__field`` keys replaced.

        Parameters
        ----------
        **changes
            ``categories=...``, ``thresholds_min=...`` or ``<section>__<field>=value``.

        Returns
        -------
        Scenario
            The new, validated scenario.

        Examples
        --------
        >>> Scenario().with_(speeds__elderly_mps=0.7).speeds.elderly_mps
        0.7
        """
        top: dict[str, Any] = {}
        nested: dict[str, dict[str, Any]] = {}
        for k, v in changes.items():
            if "__" in k:
                sec, key = k.split("__", 1)
                nested.setdefault(sec, {})[key] = v
            else:
                top[k] = v
        for sec, kv in nested.items():
            top[sec] = replace(getattr(self, sec), **kv)
        return replace(self, **top)


def _is_num(v: object) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


#: kinds of value a scenario key takes: how to check it and how to say it
_KINDS: dict[str, tuple[Any, str]] = {
    "str": (lambda v: isinstance(v, str), "text"),
    "path": (lambda v: isinstance(v, str | Path), "a file path (text)"),
    "bool": (lambda v: isinstance(v, bool), "true or false"),
    "num": (_is_num, "a number"),
    "bbox": (lambda v: isinstance(v, list | tuple) and len(v) == 4 and all(map(_is_num, v)),
             "[west, south, east, north] (four numbers)"),
    "strs": (lambda v: isinstance(v, list | tuple) and all(isinstance(x, str) for x in v),
             "a list of text values"),
    "nums": (lambda v: isinstance(v, list | tuple) and all(map(_is_num, v)),
             "a list of numbers"),
}
_OPTIONAL = {("area", "pbf"), ("area", "osm"), ("area", "place"), ("area", "bbox"),
             ("inputs", "facilities"), ("inputs", "population"), ("inputs", "population_column"),
             ("inputs", "total_population"), ("inputs", "communities"),
             ("inputs", "community_name_column"), ("compounds", "file"),
             ("compounds", "gates")}


def _kind(section: str | None, key: str) -> str:
    if section is None:
        return {"categories": "strs", "thresholds_min": "nums"}[key]
    if section == "area":
        return {"name": "str", "pbf": "path", "osm": "path", "place": "str", "bbox": "bbox"}[key]
    if section == "inputs":
        return {"facilities": "path", "population": "path", "communities": "path",
                "total_population": "num"}.get(key, "str")
    if section == "compounds":
        return {"file": "path", "crs": "str", "population": "str", "gates": "path",
                "gates_crs": "str", "closed": "bool"}.get(key, "num")
    return "str" if (section, key) == ("analysis", "coverage_method") else "num"


def _type_problem(section: str | None, key: str, value: object) -> str | None:
    """A message when ``value`` has the wrong type for the key, else None."""
    if value is None and (section, key) in _OPTIONAL:
        return None
    ok, what = _KINDS[_kind(section, key)]
    if ok(value):
        return None
    name = key if section is None else f"{section}.{key}"
    return f"{name}: expected {what}, got {value!r} ({type(value).__name__})"


def _validate(s: Scenario) -> list[str]:
    """Every problem of a scenario: types first (the value checks assume them), then values."""
    p: list[str] = [m for m in (_type_problem(None, k, getattr(s, k)) for k in sorted(_TOP)) if m]
    for sec in _SECTIONS:
        for f in fields(_SECTIONS[sec]):
            m = _type_problem(sec, f.name, getattr(getattr(s, sec), f.name))
            if m:
                p.append(m)
    if p:
        return p
    return (_area_inputs_problems(s) + _list_problems(s) + _rate_problems(s)
            + _analysis_problems(s.analysis) + _compound_problems(s))


def _area_inputs_problems(s: Scenario) -> list[str]:
    """One network source, files that exist, a sane box, a known datum, a positive total."""
    p: list[str] = []
    sources = [k for k in ("pbf", "osm", "place", "bbox") if getattr(s.area, k) is not None]
    if len(sources) > 1:
        p.append(f"area: give only one of pbf, osm, place, bbox (got {', '.join(sources)})")
    for sec, key in sorted(_PATH_KEYS):
        path = getattr(getattr(s, sec), key)
        if path is not None and not Path(path).is_file():
            what = "is a folder, not a file" if Path(path).is_dir() else "file not found"
            p.append(f"{sec}.{key} ({FLAGS[f'{sec}.{key}']}): {what}: {path}")
    b = s.area.bbox
    if b is not None and (len(b) != 4 or not (b[0] < b[2] and b[1] < b[3])):
        p.append("area.bbox: expected [west, south, east, north] with west<east, "
                 f"south<north; got {list(b)}")
    if s.inputs.facilities_crs not in COORD_SYSTEMS:
        p.append(f"inputs.facilities_crs: {s.inputs.facilities_crs!r} is not one of {COORD_SYSTEMS}")
    if s.inputs.total_population is not None and not s.inputs.total_population > 0:
        p.append(f"inputs.total_population: must be > 0, got {s.inputs.total_population}")
    return p


def _list_problems(s: Scenario) -> list[str]:
    """Known categories; thresholds in (0, 120] minutes, increasing and distinct."""
    p: list[str] = []
    if not s.categories:
        p.append("categories: give at least one of " + ", ".join(std.CATEGORIES))
    p += [f"categories: unknown category {c!r}; allowed: {', '.join(std.CATEGORIES)}"
          for c in s.categories if c not in std.CATEGORIES]
    if not s.thresholds_min:
        p.append("thresholds_min: give at least one threshold in minutes, e.g. [5, 10, 15]")
    p += [f"thresholds_min: {t:g} is not allowed; each threshold must be > 0 and <= 120 minutes"
          for t in s.thresholds_min if not 0 < t <= 120]
    if list(s.thresholds_min) != sorted(set(s.thresholds_min)):
        p.append(f"thresholds_min: must be increasing and distinct, got {list(s.thresholds_min)}")
    return p


def _rate_problems(s: Scenario) -> list[str]:
    """Walking speeds, age shares and targets within their ranges."""
    p = [f"speeds.{f.name}: {v!r} m/s is not allowed; walking speeds must be in [0.1, 3.0] m/s"
         for f in fields(Speeds) if not 0.1 <= (v := getattr(s.speeds, f.name)) <= 3.0]
    p += [f"shares.{f.name}: {v!r} is not a share; allowed range is [0, 1]"
          for f in fields(Shares) if not 0 <= (v := getattr(s.shares, f.name)) <= 1]
    if s.shares.share_60plus + s.shares.share_0to3 > 1:
        p.append("shares: share_60plus + share_0to3 exceed 1")
    t = s.targets
    p += [f"targets.{n}: {v!r} is not allowed; a coverage target is a share in (0, 1]"
          for n in ("elderly_coverage", "childcare_coverage") if not 0 < (v := getattr(t, n)) <= 1]
    p += [f"targets.{n}: must be a number > 0, got {v!r}"
          for n in ("childcare_places_per_1000", "elderly_beds_per_1000_60plus",
                    "elderly_area_m2_per_100_households", "coverage_threshold_min")
          if not (v := getattr(t, n)) > 0]
    if s.thresholds_min and t.coverage_threshold_min not in s.thresholds_min:
        p.append(f"targets.coverage_threshold_min: {t.coverage_threshold_min} must be one of "
                 f"thresholds_min {list(s.thresholds_min)}")
    return p


def _analysis_problems(a: Analysis) -> list[str]:
    """Technical settings within their ranges; a known counting method."""
    p = [f"analysis.{name}: {v!r} is not allowed; must be in [{lo}, {hi}]"
         for name, lo, hi in (("cell_size_m", 10, 2000), ("max_access_m", 1, 5000),
                              ("isochrone_walkoff_m", 0, 500), ("household_size", 1, 10),
                              ("enrolment_rate", 0, 1), ("new_site_places", 1, 1000))
         if not lo <= (v := getattr(a, name)) <= hi]
    if a.coverage_method not in COVERAGE_METHODS:
        p.append(f"analysis.coverage_method: {a.coverage_method!r} is not one of {COVERAGE_METHODS}")
    return p


def _compound_problems(s: Scenario) -> list[str]:
    """A compound file that exists (or ``osm`` with an OSM source), known options, sane norms."""
    c = s.compounds
    p: list[str] = []
    if c.file is not None and str(c.file) != "osm" and not Path(c.file).is_file():
        what = "is a folder, not a file" if Path(c.file).is_dir() else "file not found"
        p.append(f"compounds.file (--compounds): {what}: {c.file}")
    if str(c.file) == "osm" and all(getattr(s.area, k) is None
                                    for k in ("pbf", "osm", "place", "bbox")):
        p.append("compounds.file = 'osm' (--compounds osm) needs an OSM source: set [area] "
                 "pbf, osm, place or bbox")
    if c.crs not in COORD_SYSTEMS:
        p.append(f"compounds.crs (--compounds-crs): {c.crs!r} is not one of {COORD_SYSTEMS}")
    if c.population not in ("auto", "yes", "no"):
        p.append(f"compounds.population: {c.population!r} is not one of 'auto', 'yes', 'no'")
    if c.population == "yes" and c.file is None:
        p.append("compounds.population = 'yes' needs compounds.file (--compounds)")
    p += [f"compounds.{n}: {v!r} is not a year; allowed range is [1900, 2100]"
          for n in ("new_from_year",) if not 1900 <= (v := getattr(c, n)) <= 2100]
    if not (c.retrofit_from_year == 0 or 1900 <= c.retrofit_from_year <= 2100):
        p.append(f"compounds.retrofit_from_year: {c.retrofit_from_year!r} is not a year "
                 "(0 = assess every existing compound)")
    p += [f"compounds.{f.name}: must be a number > 0, got {v!r}" for f in fields(Compounds)
          if f.name.startswith(("elderly_", "childcare_")) and not (v := getattr(c, f.name)) > 0]
    if c.gates is not None:
        if c.file is None:
            p.append("compounds.gates (--gates): a gate file needs the compounds it opens "
                     "(compounds.file, --compounds)")
        if not Path(c.gates).is_file():
            what = "is a folder, not a file" if Path(c.gates).is_dir() else "file not found"
            p.append(f"compounds.gates (--gates): {what}: {c.gates}")
    if c.gates_crs not in COORD_SYSTEMS:
        p.append(f"compounds.gates_crs (--gates-crs): {c.gates_crs!r} is not one of "
                 f"{COORD_SYSTEMS}")
    if not isinstance(c.closed, bool):
        p.append(f"compounds.closed: must be true or false, got {c.closed!r}")
    if not 1.0 <= c.detour_factor <= 3.0:
        p.append(f"compounds.detour_factor: {c.detour_factor!r} is not in [1, 3] (walking "
                 "distance inside a compound ÷ straight line; the standard is "
                 f"{std.get('compound_gate_detour_factor'):g})")
    return p


_SECTIONS = {"area": Area, "inputs": Inputs, "speeds": Speeds, "shares": Shares,
             "targets": Targets, "analysis": Analysis, "compounds": Compounds}
_TOP = {"categories", "thresholds_min"}
_PATH_KEYS = {("area", "pbf"), ("area", "osm"), ("inputs", "facilities"),
              ("inputs", "population"), ("inputs", "communities")}


def scenario_from_dict(data: dict[str, Any], *, base_dir: Path | str | None = None,
                       origin: str = "scenario") -> Scenario:
    """Build a :class:`Scenario` from nested dicts (the parsed TOML).

    Parameters
    ----------
    data
        The parsed file: ``categories``, ``thresholds_min`` and the sections ``[area]``,
        ``[inputs]``, ``[speeds]``, ``[shares]``, ``[targets]``, ``[analysis]``,
        ``[compounds]``.
    base_dir
        Folder relative paths are resolved against (default: the current folder).
    origin
        Name of the source, for messages.

    Returns
    -------
    Scenario
        The validated scenario.

    Raises
    ------
    ScenarioError
        Listing every unknown key, wrong type (with the key, the value and the type
        expected) and bad value at once.
    """
    base = Path(base_dir) if base_dir is not None else Path.cwd()
    problems: list[str] = []
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if key in _TOP:
            msg = _type_problem(None, key, value)
            if msg:
                problems.append(msg)
                continue
            kwargs[key] = tuple(float(v) if key == "thresholds_min" and isinstance(v, int | float)
                                and not isinstance(v, bool) else v for v in value)
        elif key in _SECTIONS:
            cls = _SECTIONS[key]
            if not isinstance(value, dict):
                problems.append(f"[{key}]: expected a table, got {value!r}")
                continue
            allowed = {f.name for f in fields(cls)}
            sec: dict[str, Any] = {}
            for k, v in value.items():
                if k not in allowed:
                    problems.append(f"{key}.{k}: unknown key; allowed: {', '.join(sorted(allowed))}")
                    continue
                msg = _type_problem(key, k, v)
                if msg:
                    problems.append(msg)
                    continue
                if (key, k) in _PATH_KEYS or (key, k) == ("compounds", "gates") or (
                        (key, k) == ("compounds", "file") and v != "osm"):
                    pth = Path(v)
                    v = pth if pth.is_absolute() else (base / pth)
                if key == "area" and k == "bbox":
                    v = tuple(v)
                sec[k] = v
            kwargs[key] = cls(**sec)
        else:
            problems.append(f"{key}: unknown key; allowed: "
                            + ", ".join(sorted(_TOP | set(_SECTIONS))))
    if problems:
        raise ScenarioError(f"invalid {origin}:\n  - " + "\n  - ".join(problems))
    try:
        return Scenario(**kwargs)
    except ScenarioError as e:
        raise ScenarioError(str(e).replace("invalid scenario", f"invalid {origin}", 1)) from None


def load_toml(path: Path, error: type[Exception], *, missing: str,
              invalid: str) -> dict[str, Any]:
    """Parse a UTF-8 TOML file.

    Parameters
    ----------
    path
        The file.
    error
        Exception class raised for a missing or invalid file.
    missing
        Message when the file does not exist.
    invalid
        Message when it does not parse (the parser's reason is appended).

    Returns
    -------
    dict
        The parsed document.
    """
    if not path.is_file():
        raise error(missing)
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise error(f"{invalid} ({e})") from None


def scenario_from_toml(path: Path | str) -> Scenario:
    """Read and validate a scenario TOML file; relative paths are relative to the file.

    Parameters
    ----------
    path
        The scenario file (UTF-8 TOML; see the module docstring for its keys).

    Returns
    -------
    Scenario
        The validated scenario.

    Raises
    ------
    ScenarioError
        When the file is missing, does not parse or has invalid keys, types or values.
    """
    path = Path(path)
    data = load_toml(path, ScenarioError, missing=f"scenario file not found: {path}",
                     invalid=f"{path}: not valid TOML")
    return scenario_from_dict(data, base_dir=path.parent, origin=f"scenario {path}")
