"""Built-in EMS strategies, registered through the plugin API like anyone else's."""

from zaspot.ems.strategies.active_load_management import ActiveLoadManagement, AlmConfig
from zaspot.ems.strategies.dynamic_load_balancing import DlbConfig, DynamicLoadBalancing
from zaspot.ems.strategies.full_ems import FullEms, FullEmsConfig
from zaspot.ems.strategies.pv_surplus import PvConfig, PvSurplus
from zaspot.ems.strategies.spot_price import SpotConfig, SpotPrice
from zaspot.ems.strategies.static import Static, StaticConfig

BUILTIN: dict[str, tuple[type, type]] = {
    "static": (Static, StaticConfig),
    "dynamic_load_balancing": (DynamicLoadBalancing, DlbConfig),
    "active_load_management": (ActiveLoadManagement, AlmConfig),
    "pv_surplus": (PvSurplus, PvConfig),
    "full_ems": (FullEms, FullEmsConfig),
    "spot_price": (SpotPrice, SpotConfig),
}
