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
from .isochrones import isochrones as isochrones_from_facilities
from .network import Snapped, WalkNetwork, network_from_edges
from .region import Region, demo_scenario, region_from_scenario
from .scenario import Scenario, scenario_from_dict, scenario_from_toml
from .sources.osm import (
    features_from_file,
    network_from_bbox,
    network_from_file,
    network_from_pbf,
    network_from_place,
    network_from_polygon,
    network_from_xml,
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
    "cell_distances",
    "demo_scenario",
    "features_from_file",
    "gaps",
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
    "rates",
    "reach",
    "region_from_scenario",
    "scenario_from_dict",
    "scenario_from_toml",
    "standards",
]
