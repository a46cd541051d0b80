"""care15: walking access to elderly-care and childcare services (一老一小 15分钟服务圈).

The public API re-exports the stage modules and a few entry points::

    import coverage as c15
    sc = c15.demo_scenario()
    region = c15.region_from_scenario(sc)
    res = c15.analyze(region.network, region.facilities, region.cells, region.communities, sc)
"""

from . import access, gaps, isochrones, rates, standards
from ._errors import Care15Warning, DataWarning, InputError, ScenarioError
from .access import cell_distances, nearest_facility, reach
from .analysis import CoverageResult, analyze
from .chinacoords import from_wgs84, to_wgs84
from .communities import (
    assign_cells,
    communities_from_file,
    communities_from_osm,
    communities_grid,
)
from .export import write_tables
from .isochrones import isochrones as isochrones_from_facilities
from .maps import coverage_map, save_map
from .network import Snapped, WalkNetwork, network_from_edges
from .region import Region, demo_scenario, region_from_scenario
from .scenario import Scenario, scenario_from_dict, scenario_from_toml
from .siting import suggest_sites
from .sources.facilities import facilities_from_file, facilities_from_osm
from .sources.osm import (
    features_from_file,
    network_from_bbox,
    network_from_file,
    network_from_pbf,
    network_from_place,
    network_from_polygon,
    network_from_xml,
)
from .sources.population import (
    grid_cells,
    population_from_osm,
    population_from_raster,
    population_from_vector,
)

__version__ = "0.1.0"

__all__ = [
    "Care15Warning",
    "CoverageResult",
    "DataWarning",
    "InputError",
    "Region",
    "Scenario",
    "ScenarioError",
    "Snapped",
    "WalkNetwork",
    "access",
    "analyze",
    "assign_cells",
    "cell_distances",
    "communities_from_file",
    "communities_from_osm",
    "communities_grid",
    "coverage_map",
    "demo_scenario",
    "facilities_from_file",
    "facilities_from_osm",
    "features_from_file",
    "from_wgs84",
    "gaps",
    "grid_cells",
    "isochrones",
    "isochrones_from_facilities",
    "nearest_facility",
    "network_from_bbox",
    "network_from_edges",
    "network_from_file",
    "network_from_pbf",
    "network_from_place",
    "network_from_polygon",
    "network_from_xml",
    "population_from_osm",
    "population_from_raster",
    "population_from_vector",
    "rates",
    "reach",
    "region_from_scenario",
    "save_map",
    "scenario_from_dict",
    "scenario_from_toml",
    "standards",
    "suggest_sites",
    "to_wgs84",
    "write_tables",
]
