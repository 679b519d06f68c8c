"""The `ems:` section of zaspot.yaml, decoded at startup with `file:line` errors.

    ems:
      strategy: active_load_management   # or static, dynamic_load_balancing, pv_surplus,
                                         # full_ems, spot_price, or a plugin's strategy
      interval: 2            # s between control-loop ticks (also on every session start/stop)
      deadband: 1            # A: smaller rises are not sent
      lease: 900             # s: a limit falls back to the safe one unless renewed
      stale_after: 30        # s: older sensor data counts as missing -> safe limits
      fallback_reserve: 16   # A per phase left for the building in the safe limits
      site: {...}            # see zaspot/ems/site.py
      sensors:
        site_meter: {platform: http_json, url: ..., power: ..., currents: [...]}
        pv: {platform: simulated}
      prices: {platform: file, path: prices.csv}
      config: {mode: fair}   # the strategy's own settings
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zaspot.config import ConfigError, RawSection, decode
from zaspot.ems.site import Site, SiteEntry, SiteError, build_site


@dataclass
class EmsConfig:
    site: SiteEntry
    strategy: str = "dynamic_load_balancing"
    interval: float = 5.0
    deadband: float = 1.0
    lease: float = 900.0
    stale_after: float = 30.0
    fallback_reserve: float = 0.0
    safe_current: float | None = None  # A cap on every EVSE's safe limit
    sensors: dict[str, RawSection] = field(default_factory=dict)
    prices: RawSection | None = None
    config: RawSection | None = None

    def __post_init__(self) -> None:
        if self.interval <= 0 or self.deadband < 0 or self.lease < 2 * self.interval or self.stale_after <= 0:
            # TypeError: the config decoder reports it as `file:line: message`.
            raise TypeError("need interval > 0, deadband >= 0, lease >= 2 x interval, stale_after > 0")


def load(raw: RawSection) -> tuple[EmsConfig, Site]:
    config = decode(EmsConfig, raw)
    try:
        return config, build_site(config.site)
    except SiteError as exc:
        raise ConfigError(f"{raw.location()}: {raw.where}.site: {exc}") from None


def platform_of(raw: RawSection) -> tuple[str, RawSection]:
    """`{platform: x, ...}` -> ("x", the rest)."""
    platform = raw.get("platform")
    if not isinstance(platform, str):
        raise ConfigError(f"{raw.location()}: {raw.where}: missing 'platform'")
    return platform, raw.without("platform")
