"""The documentation: docstring examples run, and the README says what the code does.

The Examples sections of the public API run as doctests (on the embedded demo data). The
README's tables of accepted input columns and facility types, and its walking rule, are
generated from the code below; ``python tests/test_docs.py`` rewrites them in README.md.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
import re
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

import care15

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"

MODULES = sorted(
    ["care15", *(f"care15.{m.name}" for m in pkgutil.iter_modules(care15.__path__)
                 if m.name not in ("_shadow", "_dijkstra")),
     *(f"care15.sources.{m.name}" for m in pkgutil.iter_modules(care15.sources.__path__))])


def _doctests() -> list[doctest.DocTest]:
    finder = doctest.DocTestFinder(exclude_empty=True)
    tests = []
    for name in MODULES:
        mod = importlib.import_module(name)
        tests += [t for t in finder.find(mod, name) if t.examples
                  and (t.name == name or t.name.startswith(name + "."))]
    return sorted(tests, key=lambda t: t.name)


DOCTESTS = _doctests()


def test_the_main_entry_points_have_examples():
    names = {t.name for t in DOCTESTS}
    for entry in ("care15.analysis.analyze", "care15.analysis.summary_table",
                  "care15.pipeline.run", "care15.maps.coverage_map"):
        assert entry in names, entry


@pytest.mark.parametrize("test", DOCTESTS, ids=[t.name for t in DOCTESTS])
def test_docstring_examples(test, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    res = runner.summarize(verbose=False)
    assert res.failed == 0, f"{res.failed} of {res.attempted} examples failed in {test.name}"


# --------------------------------------------------------------------------------------------
# README sections generated from the code
# --------------------------------------------------------------------------------------------

#: What each coordinate system of ``--facilities-crs`` is (the keys must be COORD_SYSTEMS).
CRS_WORDS = {"wgs84": "WGS-84: GPS, OpenStreetMap, most GIS files (the default)",
             "gcj02": "GCJ-02 (火星坐标): AMap/Gaode (高德), Tencent (腾讯) maps",
             "bd09": "BD-09: Baidu maps (百度)"}


def _names(names: tuple[str, ...] | list[str]) -> str:
    return ", ".join(f"`{n}`" for n in names)


def inputs_markdown() -> str:
    """The README's tables of accepted input columns, facility types and coordinate systems."""
    from care15 import candidates
    from care15 import communities as comm
    from care15._options import COORD_SYSTEMS
    from care15.sources import facilities as fac
    from care15.sources import population as pop
    from care15.standards import CATEGORIES, STANDARDS

    out = ["**Facility list** (`--facilities`: CSV, TSV, XLSX, or GeoJSON, GeoPackage, Shapefile or "
           "GeoParquet points, whose geometry replaces the longitude and latitude columns):", "",
           "| what | column names |", "|---|---|"]
    for what, names in (("name", fac._NAME), ("type", fac._TYPE), ("longitude", fac._LON),
                        ("latitude", fac._LAT), ("beds (床位, elderly care)", fac._BEDS),
                        ("places (托位, childcare)", fac._PLACES),
                        ("floor area (m²)", fac._AREA)):
        out.append(f"| {what} | {_names(names)} |")
    out += ["", "Longitude and latitude are required (rows without them are left out and "
            "listed); a type column is optional: without one, or where it names no kind, the "
            "name is read for the keywords below.", "",
            "**Coordinate systems** of the facility list (`--facilities-crs`, also "
            "`--candidates-crs` and `--coords-out`):", "", "| value | system |", "|---|---|"]
    assert tuple(CRS_WORDS) == tuple(COORD_SYSTEMS)
    out += [f"| `{k}` | {v} |" for k, v in CRS_WORDS.items()]
    out += ["", "**Facility types.** A type cell matches a sub-type by its key, its Chinese "
            "label (either half of 养老院/敬老院) or its English label; otherwise the type, then "
            "the name, is searched for the keywords (the longest match wins; a name containing "
            "an exclusion never matches that sub-type):", "",
            "| category | sub-type | 中文 | English | keywords in a type or name | "
            "not when it contains |", "|---|---|---|---|---|---|"]
    for c in CATEGORIES.values():
        for s in c.subtypes:
            note = "" if s.counts_as_supply else " (listed, not counted as supply)"
            out.append(f"| {c.key} ({c.label_zh}) | `{s.key}`{note} | {s.label_zh} | "
                       f"{s.label_en} | {'、'.join(s.include)} | {'、'.join(s.exclude) or '—'} |")
    words = []
    for ws in fac._CATEGORY_WORDS.values():
        found = fac.classify(ws[0])
        assert found is not None, ws[0]
        cat, sub = found
        words.append(f"{'、'.join(ws)} → {cat} (`{sub}`)")
    out += ["", "A type that names only the category counts as its most general sub-type: "
            + "; ".join(words) + ".", "",
            "**Population** (`--population`): a raster (`.tif`, `.tiff`, `.vrt`, `.img`) of "
            "residents per pixel, or a vector layer whose population column is named with "
            "`--population-column`; or no file and `--total-population N`, spread over OSM "
            "housing. Age-group columns of a vector layer, when present:", "",
            "| group | column names |", "|---|---|"]
    for key, names in pop._AGE_COLUMNS.items():
        out.append(f"| `{key}` | {_names(names)} |")
    s60, s03 = STANDARDS["share_60plus"], STANDARDS["share_0to3"]
    out += ["", f"Without them, the scenario's shares apply: {s60.value:.1%} aged 60+ and "
            f"{s03.value:.1%} under 3 by default ({s60.source}; `[shares]` in a scenario "
            "file).", "",
            "**Communities** (`--communities`: GeoJSON, GeoPackage, Shapefile or GeoParquet "
            "polygons):", "", "| what | column names |", "|---|---|",
            f"| name (or `--community-name-column`) | {_names(comm._NAME)} |",
            f"| id (optional) | {_names(comm._ID)} |", "",
            "**Candidate sites** for `care15 suggest --candidates` (CSV, XLSX or GeoJSON; "
            "`--candidates-crs` as above):", "", "| what | column names |", "|---|---|",
            f"| name | {_names(candidates._NAME)} |",
            f"| longitude | {_names(candidates._LON)} |",
            f"| latitude | {_names(candidates._LAT)} |",
            f"| places the site would offer | {_names(candidates._CAP)} |"]
    return "\n".join(out)


def walk_rule_markdown() -> str:
    """The walking rule as the README quotes it (Markdown code spans instead of reST)."""
    from care15.sources.osm import WALK_RULE

    return WALK_RULE.replace("``", "`").rstrip()


#: The planner-facing columns of the gap list and of the short-community list the README
#: explains, with their unit (headers and meanings come from care15.export.column_info).
GAP_COLUMNS = {"rank": "—", "uncovered_target": "people", "community_name": "—",
               "nearest_walk_min": "minutes", "nearest_state": "—", "nearest_facility": "id",
               "nearest_facility_name": "—", "closing_site_cover_target": "people",
               "closing_site_near": "—", "closing_site_lon": "degrees (WGS-84)",
               "closing_site_lat": "degrees (WGS-84)", "closing_action": "—"}
SHORT_COLUMNS = {"category": "—", "target_pop": "people",
                 "target_coverage": "share 0–1", "target_rate": "share 0–1",
                 "shortfall_people": "people", "n_facilities": "count"}


def output_columns_markdown() -> str:
    """The README's tables of the gap list's and the short-community list's columns."""
    from care15.export import _PEOPLE_NOTE, column_info

    def table(cols: dict[str, str]) -> list[str]:
        rows = ["| column | 中文 (header under `--lang zh`) | English | meaning | unit |",
                "|---|---|---|---|---|"]
        for c, unit in cols.items():
            zh, en, meaning = column_info(c)
            assert meaning, c
            meaning = meaning.replace(_PEOPLE_NOTE, "")  # said once, below the tables
            rows.append(f"| `{c}` | {zh} | {en} | {meaning} | {unit} |")
        return rows

    return "\n".join(
        ["**Gap list** (`gaps.csv`, `gaps.xlsx`, `gaps.geojson`: one row per cluster of "
         "uncovered cells, largest first, per category):", "", *table(GAP_COLUMNS), "",
         "**Communities short of the target** (`short_communities.csv`: the lists of every "
         "category stacked, with the same columns for each):", "", *table(SHORT_COLUMNS), "",
         "Counts of people are whole in CSV/XLSX (largest-remainder rounding, so rows add up "
         "to the total) and fractional in GeoJSON/GeoPackage/GeoParquet."])


BLOCKS: dict[str, Callable[[], str]] = {"inputs": inputs_markdown,
                                        "walk-rule": walk_rule_markdown,
                                        "output-columns": output_columns_markdown}


def _block(name: str) -> re.Pattern[str]:
    return re.compile(rf"(<!-- generated:{name} -->\n)(.*?)(<!-- /generated:{name} -->)", re.S)


def render(text: str) -> str:
    """README text with every generated block replaced by what the code says now."""
    for name, make in BLOCKS.items():
        text, n = _block(name).subn(lambda m, f=make: m[1] + f() + "\n" + m[3], text)
        assert n == 1, f"README.md has no generated:{name} block"
    return text


@pytest.mark.parametrize("name", list(BLOCKS))
def test_readme_generated_blocks_match_the_code(name):
    text = README.read_text(encoding="utf-8")
    m = _block(name).search(text)
    assert m, f"README.md lost its <!-- generated:{name} --> markers"
    assert m[2].rstrip("\n") == BLOCKS[name](), \
        f"README.md's {name} table differs from the code; run python tests/test_docs.py"


def test_readme_lists_every_facility_type_and_input_column():
    from care15.sources import facilities as fac
    from care15.standards import CATEGORIES

    text = README.read_text(encoding="utf-8")
    for c in CATEGORIES.values():
        for s in c.subtypes:
            assert f"`{s.key}`" in text and s.label_zh in text
    for names in (fac._NAME, fac._TYPE, fac._LON, fac._LAT, fac._BEDS, fac._PLACES):
        assert all(f"`{n}`" in text for n in names)
    for crs in CRS_WORDS:
        assert f"`{crs}`" in text


def test_readme_output_columns_are_what_a_run_writes(tmp_path):
    """The columns the README explains are in the files the demo writes; notes_zh too."""
    import json

    import pandas as pd

    from care15.pipeline import RunOptions

    care15.run(care15.demo_scenario(), tmp_path / "o",
               options=RunOptions(maps=False, figures=False, report=False, lang="en"))
    for name, cols in (("gaps", GAP_COLUMNS), ("short_communities", SHORT_COLUMNS)):
        have = pd.read_csv(tmp_path / "o" / f"{name}.csv", encoding="utf-8-sig", nrows=1).columns
        assert set(cols) <= set(have), (name, set(cols) - set(have))
    summ = json.loads((tmp_path / "o" / "summary.json").read_text(encoding="utf-8"))
    assert len(summ["notes_zh"]) == len(summ["notes"]) > 0
    text = README.read_text(encoding="utf-8")
    assert "`notes_zh`" in text and "`notes`" in text


def _code_blocks(text: str) -> list[str]:
    return re.findall(r"^ *```[a-z]*\n(.*?)^ *```", text, re.S | re.M)


def test_readme_has_exactly_the_two_setup_commands():
    blocks = _code_blocks(README.read_text(encoding="utf-8"))
    setup = [b.strip() for b in blocks if re.search(r"\b(venv|pip install)\b", b)]
    assert setup == [
        'python3 -m venv .venv && . .venv/bin/activate && pip install -e . && care15 demo',
        'python3 -m venv .venv && . .venv/bin/activate && pip install -q -e ".[test]" '
        '&& python -m pytest -q']
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert setup[1] in ci.splitlines(), "CI must run the README's test command verbatim"


def test_readme_cites_no_issue_numbers():
    text = README.read_text(encoding="utf-8")
    assert not re.search(r"\bissues?\s*#?\d|(?<![\w&])#\d", text, re.I)


def test_readme_shows_the_demo_screenshot():
    text = README.read_text(encoding="utf-8")
    m = re.search(r"!\[[^\]]*\]\(([^)]+\.png)\)", text)
    assert m, "README.md shows no screenshot"
    png = ROOT / m[1]
    assert png.is_file()
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) < 300_000


def test_benchmark_tables_live_in_benchmarks_readme():
    text = README.read_text(encoding="utf-8")
    assert "benchmarks/README.md" in text
    assert "|---:|" not in text, "benchmark tables belong in benchmarks/README.md"
    bench = (ROOT / "benchmarks" / "README.md").read_text(encoding="utf-8")
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        assert f"benchmarks/{script.name}" in bench, script.name
    assert not re.search(r"\bissues?\s*#?\d", bench, re.I)


if __name__ == "__main__":  # rewrite the generated blocks of README.md
    new = render(README.read_text(encoding="utf-8"))
    README.write_text(new, encoding="utf-8")
    print(f"rewrote the generated blocks of {README}", file=sys.stderr)
