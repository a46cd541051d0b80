"""The datum check on the real Chengdu extract: GCJ-02/BD-09 lists declared right and wrong.

The points are real places of the extract: street-side ones, and "compound" ones 45-75 m
from the nearest walkable street (facilities inside 小区, where the median distance to the
streets is no smaller than that of random places, so a median test cannot see the shift).
"""

from __future__ import annotations

import warnings

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from care15._errors import DataWarning
from care15.chinacoords import from_wgs84
from care15.sources.facilities import check_datum_offset, facilities_from_file

BOUNDS = (104.0421, 30.6528, 104.1296, 30.7279)  # the extract's <bounds>


def _places(net, lo_m, hi_m, n, seed):
    """``n`` real places of the Chengdu extract ``lo_m``-``hi_m`` m from the nearest street."""
    rng = np.random.default_rng(seed)
    lon = rng.uniform(BOUNDS[0], BOUNDS[2], 3000)
    lat = rng.uniform(BOUNDS[1], BOUNDS[3], 3000)
    d = net.snap_gdf(gpd.GeoDataFrame(geometry=shapely.points(lon, lat), crs=4326)).access_m
    sel = np.flatnonzero((d >= lo_m) & (d <= hi_m))[:n]
    assert len(sel) == n
    return lon[sel], lat[sel]


def _list(tmp_path, lon, lat, system, name):
    x, y = from_wgs84(lon, lat, system)
    p = tmp_path / f"{name}.csv"
    pd.DataFrame({"名称": [f"{name}{i}幼儿园" for i in range(len(x))], "经度": x,
                  "纬度": y}).to_csv(p, index=False, encoding="utf-8-sig")
    return p


def _quiet(f, net, declared):
    with warnings.catch_warnings():
        warnings.simplefilter("error", DataWarning)
        return check_datum_offset(f, net, declared=declared)


@pytest.fixture(scope="module")
def compound(chengdu_net):
    return _places(chengdu_net, 45, 75, 30, seed=3)


def test_chengdu_compound_gcj02_declared_wgs84_warns(tmp_path, chengdu_net, compound):
    """The issue's case: points ~60 m off streets, shifted ~360 m by GCJ-02, declared WGS-84."""
    p = _list(tmp_path, *compound, "gcj02", "gcj")
    f = facilities_from_file(p, coords="wgs84")
    with pytest.warns(DataWarning, match=r"--facilities-crs gcj02.*coords='gcj02'"):
        res = check_datum_offset(f, chengdu_net, declared="wgs84")
    r = res["readings"]
    # the medians cannot tell: as declared the points are *closer* to the streets
    assert r["wgs84"]["median_access_m"] < r["gcj02"]["median_access_m"]
    assert res["suggested"] == "gcj02"
    assert r["gcj02"]["street_structure"] > r["wgs84"]["street_structure"] + 0.15
    # declared right: no warning
    ok = _quiet(facilities_from_file(p, coords="gcj02"), chengdu_net, "gcj02")
    assert ok["suggested"] is None
    assert 45 <= ok["median_access_m"] <= 75


def test_chengdu_bd09(tmp_path, chengdu_net, compound):
    p = _list(tmp_path, *compound, "bd09", "bd")
    with pytest.warns(DataWarning, match=r"--facilities-crs bd09"):
        res = check_datum_offset(facilities_from_file(p, coords="wgs84"), chengdu_net)
    assert res["suggested"] == "bd09"
    ok = _quiet(facilities_from_file(p, coords="bd09"), chengdu_net, "bd09")
    assert ok["suggested"] is None


@pytest.mark.parametrize("system", ["wgs84", "gcj02", "bd09"])
def test_chengdu_street_side_declared_right_no_alarm(tmp_path, chengdu_net, system):
    lon, lat = _places(chengdu_net, 0, 20, 20, seed=5)
    p = _list(tmp_path, lon, lat, system, "street")
    res = _quiet(facilities_from_file(p, coords=system), chengdu_net, system)
    assert res["suggested"] is None and res["median_access_m"] < 20


def test_chengdu_street_side_wgs84_declared_gcj02_warns(tmp_path, chengdu_net):
    lon, lat = _places(chengdu_net, 0, 20, 20, seed=5)
    p = _list(tmp_path, lon, lat, "wgs84", "gps")
    with pytest.warns(DataWarning, match="--facilities-crs wgs84"):
        res = check_datum_offset(facilities_from_file(p, coords="gcj02"), chengdu_net,
                                 declared="gcj02")
    assert res["suggested"] == "wgs84"


def test_candidates_list_names_its_own_flag(tmp_path, chengdu_net, compound):
    from care15.candidates import candidates_from_file

    p = _list(tmp_path, *compound, "gcj02", "cand")
    cand = candidates_from_file(p, coords="wgs84")
    with pytest.warns(DataWarning, match=r"--candidates-crs gcj02.*coords='gcj02'"):
        res = check_datum_offset(cand.assign(source=p.name), chengdu_net,
                                 flag="--candidates-crs")
    assert res["suggested"] == "gcj02"
