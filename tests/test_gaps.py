"""Gap lists: clusters, what would close them, and whole-people rounding of delivered tables."""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from care15._rounding import largest_remainder


def test_largest_remainder_keeps_sums_and_stays_within_one():
    rng = np.random.default_rng(7)
    for n in (1, 2, 7, 100, 5000):
        v = rng.gamma(0.7, 40.0, n)
        r = largest_remainder(v)
        assert r.dtype.kind == "i"
        assert int(r.sum()) == round(v.sum())
        assert np.abs(r - v).max() < 1.0
    # the numbers: a community of 235.2069 residents and 89.77 households
    assert largest_remainder(np.array([235.2069, 89.77, 10.0231])).tolist() == [235, 90, 10]
    # whole numbers stay, zeros stay zero, and ties go to the first rows
    assert largest_remainder(np.array([3.0, 0.0, 5.0])).tolist() == [3, 0, 5]
    assert largest_remainder(np.array([0.5, 0.5, 0.5, 0.5])).tolist() == [1, 1, 0, 0]
    # a chosen total, NaN kept as missing
    r = largest_remainder(np.array([1.5, np.nan, 2.5]), total=5)
    assert np.isnan(r[1]) and np.nansum(r) == 5
    with pytest.raises(ValueError):
        largest_remainder(np.array([-1.0, 2.0]))
    with pytest.raises(ValueError):
        largest_remainder(np.array([1.2, 2.2]), total=9)


def test_closing_site_columns(demo_result):
    g = demo_result.gaps
    assert {"closing_site_cover_target", "closing_site_near", "closing_site_lon",
            "closing_site_lat", "nearest_facility"} <= set(g.columns)
    n = g["closing_site_cover_target"].to_numpy(float)
    m = g["uncovered_target"].to_numpy(float)
    assert (n <= m + 1e-9).all() and (n > 0).all()
    assert g["closing_site_near"].notna().all()
    # the site lies inside its gap
    pts = gpd.GeoSeries(shapely.points(g["closing_site_lon"], g["closing_site_lat"]),
                        crs=4326).to_crs(g.crs)
    assert shapely.intersects(g.geometry.buffer(1.0).to_numpy(), pts.to_numpy()).all()


def test_building_the_closing_site_covers_what_the_gap_list_says(demo_region, demo_result):
    """The what-if: add a facility where the gap list says; N of its residents get covered."""
    from care15.analysis import analyze
    from care15.region import demo_scenario

    sc = demo_scenario()
    t = sc.targets.coverage_threshold_min
    for cat in ("elderly", "childcare"):
        gaps = demo_result.gaps
        gap = gaps.loc[gaps["category"] == cat].iloc[0]
        fac = demo_region.facilities
        row = fac.loc[fac["category"] == cat].iloc[[0]].copy()
        row["facility_id"] = "new"
        row["name"] = "新址"
        row = row.set_geometry(gpd.GeoSeries([shapely.Point(gap["closing_site_lon"],
                                                            gap["closing_site_lat"])],
                                             crs=4326, index=row.index).to_crs(fac.crs))
        region = dataclasses.replace(demo_region, facilities=pd.concat([fac, row],
                                                                       ignore_index=True))
        after = analyze(region, sc)
        cells = demo_result.cells
        in_gap = shapely.intersects(gap.geometry.buffer(-1.0), cells.geometry.to_numpy())
        was_gap = in_gap & ~(cells[f"{cat}_walk_min"].to_numpy() <= t)
        grp = {"elderly": "pop_60plus", "childcare": "pop_0to3"}[cat]
        newly = after.cells[f"{cat}_walk_min"].to_numpy() <= t + 1e-9
        covered = float(cells.loc[was_gap & newly, grp].sum())
        assert covered == pytest.approx(gap["closing_site_cover_target"], rel=1e-6), cat
