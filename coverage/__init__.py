"""care15: walking access to elderly-care and childcare services (一老一小 15分钟服务圈)."""

from . import standards
from ._errors import DataWarning, InputError, ScenarioError
from .network import Snapped, WalkNetwork, network_from_edges
from .scenario import Scenario, scenario_from_dict, scenario_from_toml

__version__ = "0.1.0"

__all__ = [
    "DataWarning",
    "InputError",
    "Scenario",
    "ScenarioError",
    "Snapped",
    "WalkNetwork",
    "network_from_edges",
    "scenario_from_dict",
    "scenario_from_toml",
    "standards",
]
