"""Start pricing on the running app (#18): the price feed (ctx.prices) and the pricing
service (ctx.pricing: tariffs, session costs, cost messages to chargers).

Called before the EMS, which plans on ctx.prices. The feed's source is `pricing.source`,
else the EMS's `ems.prices` (zaspot before #18); the price sources are registered here
under the plugin name "pricing", after the plugins (a plugin may replace one by name).
Without a `pricing:` section only the feed runs (for the EMS), with no fallback price.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from zaspot.config import ConfigError, RawSection, decode
from zaspot.core.plugins import PluginContext, call_teardown
from zaspot.pricing import charger, needs, sources
from zaspot.pricing.config import PricingConfig, child, load
from zaspot.pricing.feed import PriceFeed
from zaspot.pricing.service import start_pricing
from zaspot.pricing.slot import currency_of
from zaspot.pricing.sources.cnb import CnbRates

_LOGGER = logging.getLogger(__name__)


async def setup(ctx: Any, commands: Any) -> Callable[[], Awaitable[None]] | None:
    """Returns the teardown (or None)."""
    raw = ctx.config.pricing
    ems_prices = child(ctx.config.ems, "prices")
    if raw is None and ems_prices is None:
        return None
    config, source_raw = load(raw) if raw is not None else (None, None)
    api = PluginContext("pricing", ctx, commands)
    sources.register(api)
    undo: list[Callable[[], Any] | None] = [api.close]

    async def teardown() -> None:
        for step in reversed(undo):
            if step is not None:  # a part that started nothing to undo
                await call_teardown(step)
        ctx.prices = ctx.pricing = None

    try:
        feed = _feed(ctx, config, source_raw, ems_prices)
        ctx.prices = feed
        await feed.start()
        undo.append(feed.stop)
        undo.append(await needs.setup(ctx))  # PLAN: each session's need and departure, for the EMS
        if config is not None:
            pricing = await start_pricing(ctx)  # COST: ctx.pricing (tariffs, session costs)
            undo.append(pricing.stop if pricing is not None else None)
            undo.append(await charger.setup(ctx, commands, config.cost_messages))  # CHARGER: prices on chargers
    except BaseException:
        await teardown()
        raise
    return teardown


def _feed(ctx: Any, config: PricingConfig | None, source_raw: RawSection | None,
          ems_prices: RawSection | None) -> PriceFeed:
    raw = source_raw if source_raw is not None else ems_prices
    source, platform = (None, "none") if raw is None else _source(ctx, raw)
    if source_raw is not None and ems_prices is not None:
        _LOGGER.warning("%s: ems.prices is not used: the prices come from pricing.source", ems_prices.location())
    if config is None:  # only ems.prices: its own unit (EUR/kWh before #18), no fallback price
        unit = getattr(getattr(source, "config", None), "unit", "") or "EUR/kWh"
        currency, fallback, refresh, rates = currency_of(unit), None, 60.0, None
    else:
        currency, fallback, refresh = config.currency, config.fallback_price, config.refresh
        rates = CnbRates(config.exchange_rates)
    return PriceFeed(ctx, source, name=getattr(source, "name", platform), currency=currency,
                     fallback_price=fallback, refresh=refresh, rates=rates)


def _source(ctx: Any, raw: RawSection) -> tuple[Any, str]:
    platform = raw.get("platform")
    if not isinstance(platform, str):
        raise ConfigError(f"{raw.location()}: {raw.where}: missing 'platform' "
                          f"(one of {', '.join(ctx.registry.names('price_source'))})")
    item = ctx.registry.get("price_source", platform)
    if item is None:
        known = ", ".join(ctx.registry.names("price_source")) or "none"
        raise ConfigError(f"{raw.location()}: {raw.where}: no price source '{platform}' (known: {known})")
    rest = raw.without("platform")
    try:
        if item.config_type is None:
            return item.obj(), platform
        return item.obj(decode(item.config_type, rest)), platform
    except ValueError as exc:
        raise ConfigError(f"{raw.location()}: {raw.where}: {exc}") from None
