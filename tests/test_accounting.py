"""Capacity accounting (issue 10 item 6) and unreachable residents in site suggestion (item 7).

Hand-made streets with obvious answers: the street of tests/helpers.street_case (2 km, 20
populated cells, 2,000 residents), plus facilities that are unreachable or outside the area,
and a second street piece no generated candidate reaches.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from helpers import UTM, line_net, street_case

from care15.analysis import analyze
from care15.region import Region
from care15.scenario import Scenario
from care15.siting import suggest_sites


def _childcare(rows):
    fac = pd.DataFrame([{"facility_id": i, "name": n, "category": "childcare",
                         "subtype": "nursery", "beds": np.nan, "places": p,
                         "floor_area_m2": np.nan, "counts_as_supply": True}
                        for i, n, p, _ in rows])
    return gpd.GeoDataFrame(fac, geometry=[shapely.Point(*xy) for *_, xy in rows],
                            crs=UTM).to_crs(4326)


def test_capacity_counts_only_attached_facilities_inside_the_area():
    net, fac, cells, comms = street_case()
    child = _childcare([
        ("c_in", "托育园", 40.0, (700, 0)),         # on the street, inside: counts
        ("c_nocap", "托育点", np.nan, (1500, 0)),    # inside, no capacity recorded
        ("c_far", "远处托育园", 100.0, (1000, 5000)),  # 5 km from any street: unreachable
        ("c_out", "区外托育园", 60.0, (2150, 0)),     # 150 m past the street's end: outside
    ])
    fac = gpd.GeoDataFrame(pd.concat([fac, child], ignore_index=True), crs=4326)
    res = analyze(Region(name="t", network=net, facilities=fac, cells=cells,
                         communities=comms), Scenario())
    d = res.summary["categories"]["childcare"]
    # before: (40 + 100 + 60) / 2,000 residents × 1,000 = 100 托位/千人, "met"
    assert d["capacity"] == 40.0
    assert d["capacity_per_1000"] == pytest.approx(40 / 2000 * 1000)
    assert d["capacity_known_facilities"] == 1 and d["capacity_counted_facilities"] == 2
    assert d["capacity_left_out_facilities"] == 2 and d["capacity_left_out"] == 160.0
    # the community table counts the attached facility only
    m = res.communities.set_index("community_id")
    assert np.isnan(m.loc["B", "childcare_capacity"])  # only c_nocap, no capacity
    assert m.loc["A", "childcare_capacity"] == pytest.approx(40)


def test_all_facilities_outside_is_not_met():
    net, fac, cells, comms = street_case()
    child = _childcare([("o1", "区外托育园", 500.0, (1000, 5000)),
                        ("o2", "区外托育园2", 500.0, (-3000, 0))])
    fac = gpd.GeoDataFrame(pd.concat([fac, child], ignore_index=True), crs=4326)
    res = analyze(Region(name="t", network=net, facilities=fac, cells=cells,
                         communities=comms), Scenario())
    d = res.summary["categories"]["childcare"]
    assert d["capacity_per_1000"] is None and d["capacity_target_met"] is None
    assert d["capacity_counted_facilities"] == 0 and d["capacity_left_out_facilities"] == 2


def test_cli_prints_from_n_of_m(capsys):
    from care15.cli import _print_summary

    summ = {"residents": {"total": 2000, "60plus": 400, "0to3": 60},
            "categories": {"childcare": {
                "label_zh": "托育", "label_en": "Childcare", "n_facilities": 4,
                "walk_speed_mps": 0.7, "thresholds": {}, "coverage_target": 0.9,
                "target_met": False, "communities_meeting_target": 0,
                "communities_with_residents": 2, "communities_with_facility": 1,
                "capacity_per_1000": 20.0, "capacity_target_per_1000": 4.5,
                "capacity_known_facilities": 1, "capacity_counted_facilities": 2,
                "capacity_left_out_facilities": 2}}}
    from pathlib import Path

    _print_summary("t", summ, {}, "en", Path("out"))
    out = capsys.readouterr().out
    assert "from 1 of 2 facilities with a recorded capacity" in out
    assert "2 unreachable or outside the area not counted" in out


def _two_pieces():
    """The 2 km street plus a 300 m lane 1 km north that does not join it; a cell 3 km off."""
    xs = [0, 500, 1000, 1500, 2000]
    edges = {(i, i + 1): [(xs[i], 0), (xs[i + 1], 0)] for i in range(4)}
    edges[(10, 11)] = [(0, 1000), (300, 1000)]
    net = line_net(edges)
    boxes = [shapely.box(100 * k, 0, 100 * k + 100, 100) for k in range(20)]
    boxes += [shapely.box(100 * k, 1000, 100 * k + 100, 1100) for k in range(3)]  # lane
    boxes += [shapely.box(1000, 3000, 1100, 3100)]  # 3 km from any street
    cells = gpd.GeoDataFrame({"cell_id": np.arange(len(boxes)), "pop_total": 100.0,
                              "pop_60plus": 20.0, "pop_0to3": 3.0}, geometry=boxes, crs=UTM)
    comms = gpd.GeoDataFrame({"community_id": ["A"], "community_name": ["甲"]},
                             geometry=[shapely.box(-200, -200, 2200, 3200)], crs=UTM)
    fac = gpd.GeoDataFrame({"facility_id": ["e1"], "name": ["养老服务中心"],
                            "category": ["elderly"], "subtype": ["home_care_centre"],
                            "beds": [30.0], "places": [np.nan], "floor_area_m2": [np.nan],
                            "counts_as_supply": [True]},
                           geometry=[shapely.Point(0, 0)], crs=UTM).to_crs(4326)
    return net, fac, cells, comms


def test_suggest_separates_unreachable_residents_from_the_policy_shortfall():
    net, fac, cells, comms = _two_pieces()
    sc = Scenario()
    res = analyze(Region(name="t", network=net, facilities=fac, cells=cells, communities=comms),
                  sc)
    total = 24 * 20.0
    sug = suggest_sites(res, net, sc, "elderly", target=1.0)  # generated: main piece only
    u = sug.extra["unreachable"]
    assert u["on_pieces_without_candidate"] == pytest.approx(60.0)  # the 3 lane cells
    assert u["pieces_without_candidate"] == 1
    assert u["far_from_street"] == pytest.approx(20.0)  # the cell 3 km off
    assert u["share"] == pytest.approx(80 / total)
    assert sug.sites["cumulative_coverage"].iloc[-1] == pytest.approx(1 - 80 / total)
    assert f"Of the {80 / total:.1%} short: {60 / total:.1%} live on street pieces no " \
        "candidate reaches (data" in sug.message
    assert f"{20 / total:.1%} live farther than max_access_m" in sug.message
    # a candidate supplied on the lane serves its residents
    lane = gpd.GeoDataFrame({"candidate_id": ["lane"], "name": ["巷内用房"]},
                            geometry=[shapely.Point(150, 1000)], crs=UTM).to_crs(4326)
    main = gpd.GeoDataFrame({"candidate_id": ["main"], "name": ["街边用房"]},
                            geometry=[shapely.Point(1500, 0)], crs=UTM).to_crs(4326)
    both = gpd.GeoDataFrame(pd.concat([main, lane], ignore_index=True), crs=4326)
    s2 = suggest_sites(res, net, sc, "elderly", n_sites=2, candidates=both)
    row = s2.sites.set_index("candidate_id").loc["lane"]
    assert row["newly_covered_target"] == pytest.approx(60.0)
    u2 = s2.extra["unreachable"]
    assert u2["on_pieces_without_candidate"] == 0 and u2["far_from_street"] == 20.0


def test_output_coords_default_is_the_declared_system(tmp_path):
    from care15.pipeline import RunOptions, output_coords

    p = tmp_path / "f.csv"
    p.write_text("name,lon,lat\nA幼儿园,104.07,30.66\n", encoding="utf-8")
    sc = Scenario().with_(inputs__facilities=p, inputs__facilities_crs="bd09")
    assert output_coords(RunOptions(), sc) == "bd09"
    assert output_coords(RunOptions(coords_out="wgs84"), sc) == "wgs84"  # none
    assert output_coords(RunOptions(coords_out="gcj02"), sc) == "gcj02"
    assert output_coords(RunOptions(), sc, "gcj02") == "gcj02"  # the candidates' system
    assert output_coords(RunOptions(), Scenario()) == "wgs84"  # OSM facilities
    assert RunOptions().problems() == []


def test_new_site_capacity_is_a_scenario_value_printed_in_the_message():
    from care15 import standards as std

    net, fac, cells, comms = street_case(with_childcare=True)
    region = Region(name="t", network=net, facilities=fac, cells=cells, communities=comms)
    sc = Scenario()
    assert sc.analysis.new_site_places == std.get("childcare_new_site_places") == 30
    res = analyze(region, sc)
    s = suggest_sites(res, net, sc, "childcare", n_sites=1, capacity_aware=True)
    assert s.sites["capacity_places"].iloc[0] == 30
    assert "counted at 30 托位 each (analysis.new_site_places" in s.message
    sc45 = sc.with_(analysis__new_site_places=45)
    s45 = suggest_sites(analyze(region, sc45), net, sc45, "childcare", n_sites=1,
                        capacity_aware=True)
    assert s45.sites["capacity_places"].iloc[0] == 45 and "45 托位 each" in s45.message
    assert s45.extra["new_site_places"] == 45
