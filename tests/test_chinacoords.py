"""GCJ-02 / BD-09 conversion against the published vectors and an independent implementation."""

from __future__ import annotations

import numpy as np
import prcoords
import pytest

from care15.chinacoords import (
    bd09_to_gcj02,
    from_wgs84,
    gcj02_to_bd09,
    gcj02_to_wgs84,
    to_wgs84,
    wgs84_to_gcj02,
)

# (wgs lat, wgs lon, gcj lat, gcj lon): the test vectors published with eviltransform
VECTORS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]


def _metres(lon1, lat1, lon2, lat2):
    k = 111_320.0
    return np.hypot((np.asarray(lon1) - lon2) * k * np.cos(np.radians(lat2)),
                    (np.asarray(lat1) - lat2) * k)


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), VECTORS)
def test_forward_matches_published_vectors(wlat, wlon, glat, glon):
    x, y = wgs84_to_gcj02(wlon, wlat)
    assert abs(x - glon) < 1e-9 and abs(y - glat) < 1e-9


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), VECTORS)
def test_inverse_under_a_millimetre(wlat, wlon, glat, glon):
    x, y = gcj02_to_wgs84(glon, glat)
    assert _metres(x, y, wlon, wlat) < 1e-3


def test_against_prcoords_on_random_points_in_china():
    rng = np.random.default_rng(1)
    lon = rng.uniform(75, 134, 300)
    lat = rng.uniform(19, 53, 300)
    gx, gy = wgs84_to_gcj02(lon, lat)
    bx, by = gcj02_to_bd09(gx, gy)
    for i in range(0, 300, 7):
        ref = prcoords.wgs_gcj(prcoords.Coords(lat[i], lon[i]))
        assert _metres(gx[i], gy[i], ref.lon, ref.lat) < 0.01
        refb = prcoords.gcj_bd(ref)
        assert _metres(bx[i], by[i], refb.lon, refb.lat) < 0.01
        back = prcoords.bd_wgs_bored(prcoords.Coords(by[i], bx[i]))
        wx, wy = to_wgs84(bx[i], by[i], "bd09")
        assert _metres(wx, wy, back.lon, back.lat) < 0.05
        assert _metres(wx, wy, lon[i], lat[i]) < 0.05  # round trip BD-09 -> WGS-84 < 5 cm


def test_round_trips_and_shift_size():
    lon, lat = np.array([104.0658, 116.3975]), np.array([30.6599, 39.9087])  # Chengdu, Beijing
    gx, gy = from_wgs84(lon, lat, "gcj02")
    shift = _metres(gx, gy, lon, lat)
    assert np.all((shift > 200) & (shift < 800))  # the familiar few-hundred-metre offset
    x, y = to_wgs84(*from_wgs84(lon, lat, "bd09"), "bd09")
    assert np.all(_metres(x, y, lon, lat) < 0.01)
    bx, by = bd09_to_gcj02(*gcj02_to_bd09(gx, gy))
    assert np.all(_metres(bx, by, gx, gy) < 0.01)


def test_no_shift_outside_china_and_bad_system():
    x, y = to_wgs84(24.94, 60.17, "gcj02")  # Helsinki
    assert (float(x), float(y)) == (24.94, 60.17)
    with pytest.raises(ValueError, match="unknown coordinate system"):
        to_wgs84(1, 2, "utm")
