"""Example EMS strategy plugin (a skeleton): share what is left under the site's limit
equally between charging stations, never giving one more than it asks for.

    plugins:
      config:
        peak_shaver:
          site_limit_kw: 40     # the grid connection
          reserve_kw: 2         # kept back for the building

The EMS calls `allocate()` on each tick with the site's other load and what each
station asks for; the strategy is a pure function of those, so it is easy to test.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from zaspot.core.plugins import PluginContext

NAME = "peak_shaver"


@dataclass
class PeakShaverConfig:
    site_limit_kw: float = 40.0
    reserve_kw: float = 0.0


CONFIG = PeakShaverConfig  # `plugins.config.peak_shaver` decodes into this


class PeakShaver:
    def __init__(self, config: PeakShaverConfig) -> None:
        if config.site_limit_kw <= 0 or config.reserve_kw < 0:
            raise ValueError("site_limit_kw must be > 0 and reserve_kw >= 0")
        self.config = config

    def allocate(self, other_load_w: float, demand_w: Mapping[str, float]) -> dict[str, float]:
        """Watts per station: equal shares of the headroom, capped by each one's demand;
        what a station does not need goes to the others."""
        headroom = max(0.0, (self.config.site_limit_kw - self.config.reserve_kw) * 1000 - other_load_w)
        budget: dict[str, float] = {}
        waiting = sorted(demand_w, key=lambda s: demand_w[s])  # smallest first frees its surplus
        for index, station in enumerate(waiting):
            share = headroom / (len(waiting) - index)
            budget[station] = min(max(0.0, demand_w[station]), share)
            headroom -= budget[station]
        return budget


async def setup(api: PluginContext, config: PeakShaverConfig) -> None:
    PeakShaver(config)  # refuse bad settings at load time, not on the first EMS tick
    api.register_strategy("peak_shaver", PeakShaver, PeakShaverConfig)
