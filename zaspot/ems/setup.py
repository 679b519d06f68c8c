"""Wire the EMS into a running central system: `teardown = await setup(ctx, commands)`,
called only when zaspot.yaml has an `ems:` section.

Built-in strategies and sensors are registered through the plugin API under the plugin
name "ems" (after the plugins from plugins/, so a plugin may replace a built-in by name).
The strategy and sensors named in the config are then built from the registry, whoever
registered them. Prices come from the price feed (ctx.prices, zaspot.pricing), which
reads `ems.prices` when there is no `pricing.source`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from zaspot.config import ConfigError, RawSection, decode
from zaspot.core.plugins import PluginContext
from zaspot.ems import builtin
from zaspot.ems.config import load, platform_of
from zaspot.ems.controller import Controller, safe_limits
from zaspot.ems.inputs import Sensors
from zaspot.ems.manager import EmsManager


async def setup(ctx: Any, commands: Any) -> Callable[[], Awaitable[None]]:
    config, site = load(ctx.config.ems)
    api = PluginContext("ems", ctx, commands)
    builtin.register(api)
    try:
        raw = config.config or RawSection(ctx.config.source, None, "ems.config")
        strategy = _build(ctx, "strategy", config.strategy, raw)
        sensors = {kind: _sensor(ctx, kind, raw) for kind, raw in config.sensors.items()}
        if not callable(getattr(strategy, "decide", None)):
            raise ConfigError(f"{ctx.config.source}: ems.strategy: '{config.strategy}' has no decide(snapshot) "
                              "(see zaspot/ems/strategies/base.py)")
    except BaseException:
        await api.close()
        raise
    for sensor in sensors.values():
        if hasattr(sensor, "bind"):
            sensor.bind(ctx.fleet, site)
    safe = safe_limits(site, config.fallback_reserve, config.safe_current)
    manager = EmsManager(ctx, commands, config, site, config.strategy, Controller(site, strategy, safe),
                         Sensors(sensors, config.stale_after))
    ctx.ems = manager  # read by the ems/* API commands
    manager.start()

    async def teardown() -> None:
        await manager.stop()
        await api.close()
        ctx.ems = None

    return teardown


def _build(ctx: Any, kind: str, name: str, raw: RawSection) -> Any:
    item = ctx.registry.get(kind, name)
    if item is None:
        known = ", ".join(ctx.registry.names(kind)) or "none"
        raise ConfigError(f"{raw.location()}: {raw.where}: no {kind.replace('.', ' ')} '{name}' (known: {known})")
    settings = decode(item.config_type, raw) if item.config_type is not None else None
    try:
        return item.obj(settings) if item.config_type is not None else item.obj()
    except ValueError as exc:
        raise ConfigError(f"{raw.location()}: {raw.where}: {exc}") from None


def _sensor(ctx: Any, kind: str, raw: RawSection) -> Any:
    if kind not in builtin.SENSOR_KINDS:
        kinds = ", ".join(builtin.SENSOR_KINDS)
        raise ConfigError(f"{raw.location()}: {raw.where}: sensor kind must be one of {kinds}")
    platform, rest = platform_of(raw)
    return _build(ctx, f"sensor.{kind}", platform, rest)
