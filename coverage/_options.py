"""Allowed values of care15's string options: one definition for the CLI, scenario and batch
files, :func:`care15.run` and the map builders (pure Python, so ``care15 --help`` stays fast)."""

from __future__ import annotations

__all__ = ["BASEMAPS", "COORD_SYSTEMS", "COVERAGE_METHODS", "LANGS", "check_choice"]

#: Coordinate systems of input and output lon/lat: WGS-84, GCJ-02 (AMap, Tencent), BD-09 (Baidu).
COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")
#: Map backgrounds: OpenStreetMap tiles, 天地图 (needs a key), AMap (GCJ-02 tiles), none.
BASEMAPS = ("osm", "tianditu", "amap", "none")
#: Languages of labels, table headers and console messages.
LANGS = ("zh", "en")
#: How a cell counts as covered: its own network walking time, or isochrone area overlay.
COVERAGE_METHODS = ("network", "overlay")


def check_choice(value: object, allowed: tuple[str, ...], what: str) -> str | None:
    """A message when ``value`` is not one of ``allowed``, else None.

    Parameters
    ----------
    value
        The value given.
    allowed
        The allowed values.
    what
        How the option is named in the message (``"--basemap"``, ``"[batch] basemap"``).

    Returns
    -------
    str or None
        ``"<what>: 'x' is not one of 'a', 'b'"``, or None when the value is allowed.

    Examples
    --------
    >>> check_choice("osm", BASEMAPS, "--basemap") is None
    True
    >>> check_choice("google", BASEMAPS, "--basemap")
    "--basemap: 'google' is not one of 'osm', 'tianditu', 'amap', 'none'"
    """
    if isinstance(value, str) and value in allowed:
        return None
    return f"{what}: {value!r} is not one of {', '.join(map(repr, allowed))}"
