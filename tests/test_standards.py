"""Norms as data with their sources: every standard has a unit and a source, and get() names
the known keys when asked for an unknown one."""

from __future__ import annotations

import pytest

from care15 import standards as std


def test_every_standard_has_unit_labels_and_source():
    assert len(std.STANDARDS) == len({s.key for s in std.STANDARDS.values()})
    for key, s in std.STANDARDS.items():
        assert s.key == key and s.unit and s.label_zh and s.label_en and s.source, key
        assert s.value == std.get(key)


def test_get_unknown_key_lists_the_known_ones():
    with pytest.raises(KeyError, match=r"unknown standard 'nope'.*housing_floor_m2_per_person"):
        std.get("nope")


def test_housing_floor_area_per_person_from_the_7th_census():
    fa = std.STANDARDS["housing_floor_m2_per_person"]
    assert fa.value == 36.52 and fa.unit == "m² per person"
    assert fa.label_zh == "城市家庭户人均住房建筑面积"
    assert "第七次全国人口普查" in fa.source and "中国人口普查年鉴-2020" in fa.source
    # the other settlement types are recorded beside it, and how certain the figures are
    for v in ("42.29", "46.80", "41.76", "⚠️"):
        assert v in fa.source


def test_density_ceiling_and_its_reasoning():
    ceil = std.STANDARDS["max_residents_per_ha"]
    fa = std.get("housing_floor_m2_per_person")
    assert ceil.value == 1500 and ceil.unit == "residents per ha"
    # FAR 5 on a hectare at the census floor area per person, rounded up by less than 10 %
    assert 50_000 / fa < ceil.value < 1.1 * 50_000 / fa
    assert "1,370" in ceil.source and "not a norm" in ceil.source


def test_module_is_read_only():
    with pytest.raises(TypeError):
        std.STANDARDS["x"] = std.STANDARDS["share_60plus"]  # type: ignore[index]
