"""Allowed values of care15's string options, defined once.

The CLI, scenario and batch files, :func:`care15.run` and the map builders share them; the
module is pure Python, so ``care15 --help`` stays fast.
"""

from __future__ import annotations

__all__ = [
    "BASEMAPS",
    "COORD_SYSTEMS",
    "COVERAGE_METHODS",
    "DEFAULT_MAX_CELLS",
    "DEFAULT_MAX_NODES",
    "FLAGS",
    "LANGS",
    "check_choice",
]

#: Coordinate systems of input and output lon/lat: WGS-84, GCJ-02 (AMap, Tencent), BD-09 (Baidu).
COORD_SYSTEMS = ("wgs84", "gcj02", "bd09")
#: Map backgrounds: OpenStreetMap tiles, 天地图 (needs a key), AMap (GCJ-02 tiles), none.
BASEMAPS = ("osm", "tianditu", "amap", "none")
#: Languages of labels, table headers and console messages.
LANGS = ("zh", "en")
#: How a cell counts as covered: its own network walking time, or isochrone area overlay.
COVERAGE_METHODS = ("network", "overlay")
#: Scenario keys → the ``care15`` command-line flag that sets them (named in messages).
FLAGS = {"area.pbf": "--pbf", "area.osm": "--osm", "area.place": "--place",
         "inputs.facilities": "--facilities", "inputs.facilities_crs": "--facilities-crs",
         "inputs.population": "--population", "inputs.population_column": "--population-column",
         "inputs.total_population": "--total-population", "inputs.communities": "--communities",
         "inputs.community_name_column": "--community-name-column",
         "analysis.coverage_method": "--method"}
#: Default largest number of network nodes in one tile's core (:mod:`care15.tiling`).
DEFAULT_MAX_NODES = 250_000
#: Default largest number of population cells in one tile.
DEFAULT_MAX_CELLS = 200_000


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
