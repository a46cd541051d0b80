"""care15: walking access to elderly-care and childcare services (一老一小 15分钟服务圈).

The public API re-exports the stage modules and a few entry points; they are imported on
first use, so ``import care15`` (and ``care15 --help``) stays fast.

Examples
--------
>>> import care15
>>> sc = care15.demo_scenario()
>>> region = care15.region_from_scenario(sc)
>>> res = care15.analyze(region, sc)
>>> table = care15.summary_table(res)
>>> sorted(table["category"].unique())
['childcare', 'elderly']
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if __name__ != "care15":  # the source folder imported as `coverage`: hand that name back
    from ._shadow import step_aside

    step_aside(__name__, __path__[0])

__version__ = "0.1.0"

#: public name → module that defines it (imported on first access)
_EXPORTS: dict[str, str] = {
    "Care15Warning": "_errors",
    "DataWarning": "_errors",
    "InputError": "_errors",
    "ScenarioError": "_errors",
    "cell_distances": "access",
    "nearest_facility": "access",
    "reach": "access",
    "CoverageResult": "analysis",
    "analyze": "analysis",
    "summary_table": "analysis",
    "from_wgs84": "chinacoords",
    "to_wgs84": "chinacoords",
    "assign_cells": "communities",
    "communities_from_file": "communities",
    "communities_from_osm": "communities",
    "communities_grid": "communities",
    "write_tables": "export",
    "isochrones_from_facilities": "isochrones",
    "coverage_map": "maps",
    "save_map": "maps",
    "Snapped": "network",
    "WalkNetwork": "network",
    "network_from_edges": "network",
    "Region": "region",
    "demo_scenario": "region",
    "region_from_scenario": "region",
    "Plan": "plan",
    "PlanExplorer": "explorer",
    "PlanDiff": "plan",
    "plan_diff": "plan",
    "read_plan": "planfile",
    "run_compare": "compare",
    "RunOptions": "pipeline",
    "RunResult": "pipeline",
    "run": "pipeline",
    "Scenario": "scenario",
    "scenario_from_dict": "scenario",
    "scenario_from_toml": "scenario",
    "suggest_sites": "siting",
    "facilities_from_file": "sources.facilities",
    "facilities_from_osm": "sources.facilities",
    "features_from_file": "sources.osm",
    "network_from_bbox": "sources.osm",
    "network_from_file": "sources.osm",
    "network_from_pbf": "sources.osm",
    "network_from_place": "sources.osm",
    "network_from_polygon": "sources.osm",
    "network_from_xml": "sources.osm",
    "grid_cells": "sources.population",
    "population_from_osm": "sources.population",
    "population_from_raster": "sources.population",
    "population_from_vector": "sources.population",
}

#: stage modules reachable as attributes (``care15.rates``)
_MODULES = ("access", "analysis", "batch", "cache", "candidates", "chinacoords", "communities",
            "category", "compare", "explorer", "export", "figures", "gaps", "isochrones",
            "isofield", "maps", "network", "pipeline", "plan", "planfile", "rates",
            "region", "regions", "report", "scenario", "siting", "sources", "standards", "tiling")

__all__ = [
    "Care15Warning",
    "CoverageResult",
    "DataWarning",
    "InputError",
    "Plan",
    "PlanDiff",
    "PlanExplorer",
    "Region",
    "RunOptions",
    "RunResult",
    "Scenario",
    "ScenarioError",
    "Snapped",
    "WalkNetwork",
    "__version__",
    "access",
    "analysis",
    "analyze",
    "assign_cells",
    "batch",
    "cache",
    "candidates",
    "category",
    "cell_distances",
    "chinacoords",
    "communities",
    "communities_from_file",
    "communities_from_osm",
    "communities_grid",
    "compare",
    "coverage_map",
    "demo_scenario",
    "explorer",
    "export",
    "facilities_from_file",
    "facilities_from_osm",
    "features_from_file",
    "figures",
    "from_wgs84",
    "gaps",
    "grid_cells",
    "isochrones",
    "isochrones_from_facilities",
    "isofield",
    "maps",
    "nearest_facility",
    "network",
    "network_from_bbox",
    "network_from_edges",
    "network_from_file",
    "network_from_pbf",
    "network_from_place",
    "network_from_polygon",
    "network_from_xml",
    "pipeline",
    "plan",
    "plan_diff",
    "planfile",
    "population_from_osm",
    "population_from_raster",
    "population_from_vector",
    "rates",
    "reach",
    "read_plan",
    "region",
    "region_from_scenario",
    "regions",
    "report",
    "run",
    "run_compare",
    "save_map",
    "scenario",
    "scenario_from_dict",
    "scenario_from_toml",
    "siting",
    "sources",
    "standards",
    "suggest_sites",
    "summary_table",
    "tiling",
    "to_wgs84",
    "write_tables",
]


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        mod = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        attr = "isochrones" if name == "isochrones_from_facilities" else name
        value = getattr(mod, attr)
    elif name in _MODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__


if TYPE_CHECKING:  # the names as mypy and editors see them
    from . import (
        access,
        analysis,
        batch,
        cache,
        candidates,
        category,
        chinacoords,
        communities,
        compare,
        explorer,
        export,
        figures,
        gaps,
        isochrones,
        isofield,
        maps,
        network,
        pipeline,
        plan,
        planfile,
        rates,
        region,
        regions,
        report,
        scenario,
        siting,
        sources,
        standards,
        tiling,
    )
    from ._errors import Care15Warning, DataWarning, InputError, ScenarioError
    from .access import cell_distances, nearest_facility, reach
    from .analysis import CoverageResult, analyze, summary_table
    from .chinacoords import from_wgs84, to_wgs84
    from .communities import (
        assign_cells,
        communities_from_file,
        communities_from_osm,
        communities_grid,
    )
    from .compare import run_compare
    from .explorer import PlanExplorer
    from .export import write_tables
    from .isochrones import isochrones as isochrones_from_facilities
    from .maps import coverage_map, save_map
    from .network import Snapped, WalkNetwork, network_from_edges
    from .pipeline import RunOptions, RunResult, run
    from .plan import Plan, PlanDiff, plan_diff
    from .planfile import read_plan
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
