"""Chinese web-map coordinate systems: GCJ-02 ("Mars" coordinates) and BD-09 (Baidu).

Chinese web maps (AMap/Gaode, Tencent, Baidu) and the POI exports planners take from them carry
coordinates shifted by the published GCJ-02 obfuscation, and Baidu adds its own BD-09 shift on
top. OSM and every other layer care15 reads are in WGS-84, so a facility list from a Chinese map
must be converted before it is snapped, or every point lands 300-700 m off.

The forward transformation WGS-84 → GCJ-02 is the published algorithm (Krasovsky 1940 ellipsoid,
as in the widely used ``eviltransform`` implementations); its inverse has no closed form and is
solved by fixed-point iteration to 1e-10 degrees (about 0.01 mm). BD-09 ↔ GCJ-02 is Baidu's
published rotation. Outside mainland China's rough bounding box no shift is applied, as in the
reference implementations.

All functions are vectorised over NumPy arrays and take and return (longitude, latitude).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._options import COORD_SYSTEMS

__all__ = [
    "COORD_SYSTEMS",
    "bd09_to_gcj02",
    "from_wgs84",
    "gcj02_to_bd09",
    "gcj02_to_wgs84",
    "out_of_china",
    "to_wgs84",
    "wgs84_to_gcj02",
]

_A = 6378245.0  # Krasovsky 1940 semi-major axis, metres
_EE = 0.00669342162296594323  # its first eccentricity squared
_X_PI = np.pi * 3000.0 / 180.0  # Baidu's rotation constant


def _arr(v: ArrayLike) -> np.ndarray:
    return np.asarray(v, dtype=float)


def out_of_china(lon: ArrayLike, lat: ArrayLike) -> np.ndarray:
    """Test whether points lie outside the box in which GCJ-02 applies (no shift there).

    Parameters
    ----------
    lon, lat
        Longitude and latitude in degrees.

    Returns
    -------
    numpy.ndarray
        Boolean, True outside mainland China's rough bounding box.
    """
    lon, lat = _arr(lon), _arr(lat)
    return (lon < 72.004) | (lon > 137.8347) | (lat < 0.8293) | (lat > 55.8271)


def _transform_lat(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(y * np.pi) + 40.0 * np.sin(y / 3.0 * np.pi)) * 2.0 / 3.0
    r += (160.0 * np.sin(y / 12.0 * np.pi) + 320.0 * np.sin(y * np.pi / 30.0)) * 2.0 / 3.0
    return r


def _transform_lon(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    r = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    r += (20.0 * np.sin(6.0 * x * np.pi) + 20.0 * np.sin(2.0 * x * np.pi)) * 2.0 / 3.0
    r += (20.0 * np.sin(x * np.pi) + 40.0 * np.sin(x / 3.0 * np.pi)) * 2.0 / 3.0
    r += (150.0 * np.sin(x / 12.0 * np.pi) + 300.0 * np.sin(x / 30.0 * np.pi)) * 2.0 / 3.0
    return r


def _delta(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    dlat = _transform_lat(lon - 105.0, lat - 35.0)
    dlon = _transform_lon(lon - 105.0, lat - 35.0)
    radlat = lat / 180.0 * np.pi
    magic = 1.0 - _EE * np.sin(radlat) ** 2
    sqrtmagic = np.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1.0 - _EE)) / (magic * sqrtmagic) * np.pi)
    dlon = (dlon * 180.0) / (_A / sqrtmagic * np.cos(radlat) * np.pi)
    return dlon, dlat


def wgs84_to_gcj02(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """WGS-84 → GCJ-02 (the published forward transformation).

    Parameters
    ----------
    lon, lat
        WGS-84 longitude and latitude in degrees.

    Returns
    -------
    lon, lat : numpy.ndarray
        GCJ-02 longitude and latitude (unchanged outside China).
    """
    lon, lat = _arr(lon), _arr(lat)
    dlon, dlat = _delta(lon, lat)
    out = out_of_china(lon, lat)
    return np.where(out, lon, lon + dlon), np.where(out, lat, lat + dlat)


def gcj02_to_wgs84(lon: ArrayLike, lat: ArrayLike, *, tol_deg: float = 1e-10,
                   max_iter: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → WGS-84 by fixed-point iteration of the forward transformation.

    Converges to ``tol_deg`` (1e-10° ≈ 0.01 mm) in a handful of iterations: the shift varies
    slowly, so each step removes about three orders of magnitude of the error.

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude in degrees.
    tol_deg
        Stop when the forward transformation of the estimate is this close to the input.
    max_iter
        Most iterations.

    Returns
    -------
    lon, lat : numpy.ndarray
        WGS-84 longitude and latitude.
    """
    glon, glat = _arr(lon), _arr(lat)
    wlon, wlat = glon.copy(), glat.copy()
    for _ in range(max_iter):
        flon, flat = wgs84_to_gcj02(wlon, wlat)
        elon, elat = flon - glon, flat - glat
        wlon = wlon - elon
        wlat = wlat - elat
        if np.all(np.abs(elon) < tol_deg) and np.all(np.abs(elat) < tol_deg):
            break
    return wlon, wlat


def gcj02_to_bd09(lon: ArrayLike, lat: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """GCJ-02 → BD-09 (Baidu's published rotation and offset).

    Parameters
    ----------
    lon, lat
        GCJ-02 longitude and latitude in degrees.

    Returns
    -------
    lon, lat : numpy.ndarray
        BD-09 longitude and latitude.
    """
    x, y = _arr(lon), _arr(lat)
    z = np.sqrt(x * x + y * y) + 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) + 0.000003 * np.cos(x * _X_PI)
    return z * np.cos(theta) + 0.0065, z * np.sin(theta) + 0.006


def bd09_to_gcj02(lon: ArrayLike, lat: ArrayLike, *, tol_deg: float = 1e-11,
                  max_iter: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """BD-09 → GCJ-02: Baidu's published inverse, refined by fixed-point iteration.

    The published closed-form inverse is off by up to ~5 cm; a few iterations against the
    forward rotation make the round trip exact to ``tol_deg``.

    Parameters
    ----------
    lon, lat
        BD-09 longitude and latitude in degrees.
    tol_deg
        Stop when the forward rotation of the estimate is this close to the input.
    max_iter
        Most iterations.

    Returns
    -------
    lon, lat : numpy.ndarray
        GCJ-02 longitude and latitude.
    """
    blon, blat = _arr(lon), _arr(lat)
    x, y = blon - 0.0065, blat - 0.006
    z = np.sqrt(x * x + y * y) - 0.00002 * np.sin(y * _X_PI)
    theta = np.arctan2(y, x) - 0.000003 * np.cos(x * _X_PI)
    gx, gy = z * np.cos(theta), z * np.sin(theta)
    for _ in range(max_iter):
        fx, fy = gcj02_to_bd09(gx, gy)
        ex, ey = fx - blon, fy - blat
        gx, gy = gx - ex, gy - ey
        if np.all(np.abs(ex) < tol_deg) and np.all(np.abs(ey) < tol_deg):
            break
    return gx, gy


def _check(system: str) -> str:
    s = str(system).lower().replace("-", "").replace("_", "")
    s = {"wgs": "wgs84", "epsg4326": "wgs84", "gcj": "gcj02", "mars": "gcj02",
         "bd": "bd09", "baidu": "bd09"}.get(s, s)
    if s not in COORD_SYSTEMS:
        raise ValueError(f"unknown coordinate system {system!r}; use one of {COORD_SYSTEMS}")
    return s


def to_wgs84(lon: ArrayLike, lat: ArrayLike, system: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert (lon, lat) declared in ``system`` (wgs84, gcj02, bd09) to WGS-84.

    Parameters
    ----------
    lon, lat
        Longitude and latitude in degrees, in ``system``.
    system
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"`` (aliases such as ``"GCJ-02"``, ``"mars"``,
        ``"baidu"`` and ``"EPSG:4326"`` are accepted).

    Returns
    -------
    lon, lat : numpy.ndarray
        WGS-84 longitude and latitude (copies for ``"wgs84"``).

    Raises
    ------
    ValueError
        For an unknown ``system``.

    Examples
    --------
    A point in central Chengdu as AMap shows it (GCJ-02), back to WGS-84:

    >>> import numpy as np
    >>> from care15.chinacoords import to_wgs84
    >>> lon, lat = to_wgs84([104.068207], [30.654778], "gcj02")
    >>> np.round(lon, 4), np.round(lat, 4)
    (array([104.0657]), array([30.6572]))
    """
    s = _check(system)
    lon, lat = _arr(lon), _arr(lat)
    if s == "wgs84":
        return lon.copy(), lat.copy()
    if s == "bd09":
        lon, lat = bd09_to_gcj02(lon, lat)
    return gcj02_to_wgs84(lon, lat)


def from_wgs84(lon: ArrayLike, lat: ArrayLike, system: str) -> tuple[np.ndarray, np.ndarray]:
    """Convert WGS-84 (lon, lat) to ``system`` (for AMap/Baidu basemaps and exports).

    Parameters
    ----------
    lon, lat
        WGS-84 longitude and latitude in degrees.
    system
        ``"wgs84"``, ``"gcj02"`` or ``"bd09"`` (aliases as for :func:`to_wgs84`).

    Returns
    -------
    lon, lat : numpy.ndarray
        Longitude and latitude in ``system`` (copies for ``"wgs84"``).

    Raises
    ------
    ValueError
        For an unknown ``system``.

    Examples
    --------
    Central Chengdu moves about 350 m in GCJ-02; Paris, outside China, does not move:

    >>> import numpy as np
    >>> from care15.chinacoords import from_wgs84
    >>> lon, lat = from_wgs84([104.0657, 2.35], [30.6572, 48.85], "gcj02")
    >>> np.round(lon, 6).tolist(), np.round(lat, 6).tolist()
    ([104.068207, 2.35], [30.654778, 48.85])
    """
    s = _check(system)
    lon, lat = _arr(lon), _arr(lat)
    if s == "wgs84":
        return lon.copy(), lat.copy()
    glon, glat = wgs84_to_gcj02(lon, lat)
    return (glon, glat) if s == "gcj02" else gcj02_to_bd09(glon, glat)
