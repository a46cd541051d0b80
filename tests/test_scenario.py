"""Scenario files: defaults from the standards, and bad scenarios fail at load time."""

from __future__ import annotations

import pytest

from care15 import standards as std
from care15.scenario import Scenario, ScenarioError, scenario_from_toml


def write(tmp_path, text, name="s.toml"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_defaults_come_from_standards():
    s = Scenario()
    assert s.thresholds_min == (5.0, 10.0, 15.0)
    assert s.speeds.default_mps == std.get("walk_speed_default_mps")
    assert s.speed_for("elderly") == std.get("walk_speed_elderly_mps")
    assert s.shares.share_60plus == std.get("share_60plus")
    assert s.targets.childcare_places_per_1000 == 4.5
    assert all(st.source for st in std.STANDARDS.values())


def test_full_toml_round_trip(tmp_path):
    (tmp_path / "f.csv").write_text("name,lon,lat\n", encoding="utf-8")
    p = write(tmp_path, """
categories = ["elderly"]
thresholds_min = [5, 15]
[area]
name = "成都"
bbox = [104.04, 30.65, 104.13, 30.73]
[inputs]
facilities = "f.csv"
facilities_crs = "gcj02"
total_population = 250000
[speeds]
elderly_mps = 0.7
[shares]
share_60plus = 0.2
[targets]
elderly_coverage = 0.95
""")
    s = scenario_from_toml(p)
    assert s.area.name == "成都" and s.categories == ("elderly",)
    assert s.thresholds_min == (5.0, 15.0)
    assert s.inputs.facilities == tmp_path / "f.csv"
    assert s.speed_for("elderly") == 0.7 and s.coverage_target("elderly") == 0.95
    import dataclasses

    with pytest.raises(dataclasses.FrozenInstanceError):
        s.categories = ()  # type: ignore[misc]


@pytest.mark.parametrize("text, expect", [
    ("colour = 'red'", "colour: unknown key"),
    ("[speeds]\nelderly_mps = -1", "speeds.elderly_mps: -1 m/s is not allowed"),
    ("thresholds_min = [0, 15]", "thresholds_min: 0 is not allowed"),
    ("[shares]\nshare_60plus = 1.2", "shares.share_60plus: 1.2 is not a share"),
    ("[inputs]\nfacilities = 'nope.csv'", "inputs.facilities (--facilities): file not found"),
    ("[inputs]\nfacilities_crs = 'baidu'", "facilities_crs: 'baidu' is not one of"),
    ("categories = ['schools']", "unknown category 'schools'"),
    ("[speeds]\nfast = 2", "speeds.fast: unknown key; allowed: childcare_mps, default_mps"),
    ("[area]\npbf = 'x.pbf'\nplace = 'Chengdu'", "give only one of pbf, osm, place, bbox"),
    ("[targets]\ncoverage_threshold_min = 12", "must be one of thresholds_min"),
    # wrong types: named with the key, the value and the type expected, never a traceback
    ("[inputs]\ntotal_population = '二万'",
     "inputs.total_population: expected a number, got '二万' (str)"),
    ("[inputs]\ntotal_population = true",
     "inputs.total_population: expected a number, got True (bool)"),
    ("thresholds_min = [5, '10', 15]", "thresholds_min: expected a list of numbers"),
    ("[area]\npbf = 5", "area.pbf: expected a file path (text), got 5 (int)"),
    ("categories = [['elderly']]", "categories: expected a list of text values"),
    ("[area]\nname = 2024", "area.name: expected text, got 2024 (int)"),
])
def test_bad_scenarios_name_the_key(tmp_path, text, expect):
    with pytest.raises(ScenarioError, match=None) as e:
        scenario_from_toml(write(tmp_path, text))
    assert expect in str(e.value)
    assert "s.toml" in str(e.value)


def test_all_problems_reported_at_once(tmp_path):
    with pytest.raises(ScenarioError) as e:
        scenario_from_toml(write(tmp_path, "[speeds]\nelderly_mps = 0\n[shares]\nshare_0to3 = 2"))
    assert "elderly_mps" in str(e.value) and "share_0to3" in str(e.value)


def test_missing_and_broken_files(tmp_path):
    with pytest.raises(ScenarioError, match="scenario file not found"):
        scenario_from_toml(tmp_path / "none.toml")
    with pytest.raises(ScenarioError, match="not valid TOML"):
        scenario_from_toml(write(tmp_path, "[area\nname="))


def test_with_changes_validates():
    s = Scenario().with_(speeds__elderly_mps=0.9, thresholds_min=(10.0, 15.0))
    assert s.speeds.elderly_mps == 0.9
    with pytest.raises(ScenarioError):
        Scenario().with_(speeds__elderly_mps=-0.5)
