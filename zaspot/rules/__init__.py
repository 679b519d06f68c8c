"""Automation rules: YAML triggers, conditions and actions (see README, "Rules").

    runtime = await start(ctx, commands)     # in App.start, after plugins loaded
    await runtime.stop()                     # in App.stop, before plugins unload
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any

from zaspot.core.consumer import LogConsumer
from zaspot.rules import services
from zaspot.rules.engine import Engine
from zaspot.rules.reload import POLL_S, RuleFolder
from zaspot.store.publish import publish_event

_LOGGER = logging.getLogger("zaspot.rules")
CONSUMER = "rules"
RESUME_WAIT = 60.0  # s a run read back from the log after a restart waits for its station
_RUNNING: dict[int, Rules] = {}  # id(ctx) -> its rules, for the operator API


class Rules:
    """The rules part of a running server: the engine (a consumer of the event log), the folder watcher."""

    def __init__(self, ctx: Any, commands: Any, folder: Path, poll_s: float) -> None:
        self.ctx = ctx
        self.engine = Engine(ctx.fleet, ctx.registry, store=ctx.store, emit=ctx.bus.fire,
                             stale_after=ctx.config.rules_stale_after or None)
        self.folder = RuleFolder(folder, self.engine, poll_s)
        self._undo = [
            services.register(ctx.registry, services.station_services(commands)),
            services.register(ctx.registry, services.local_services(
                lambda event: publish_event(ctx.store, ctx.bus, event))),
        ]
        self._undo += self._publish(ctx.metrics)
        # One queue, re-aimed whenever the loaded rules need other event types; after a
        # restart it first reads what the log holds beyond its saved position.
        self.consumer = LogConsumer(CONSUMER, ctx.bus, ctx.store, (), self.engine.dispatch,
                                    new_from=getattr(ctx, "log_start", None))
        self.consumer.floor = self.engine.floor
        self.engine.on_types_changed = lambda types: self.consumer.set_types(sorted(types))

    async def start(self) -> None:
        """Load the rules, then catch up on the log (runs already traced are not run again)."""
        self.folder.start()
        self.consumer.set_types(sorted(self.engine.needed_types()))
        saved = await self.ctx.store.position(CONSUMER)
        if saved is not None:
            self.engine.done = await self.ctx.store.rule_runs_after(saved)
        self.engine.wait_for_station = self._station_back
        self.engine.catching_up = True
        try:
            await self.consumer.start()
        finally:
            self.engine.catching_up = False

    async def _station_back(self, station_id: str) -> None:
        """Until the station is connected, or RESUME_WAIT has passed (then act anyway)."""
        deadline = time.monotonic() + RESUME_WAIT
        while station_id not in self.ctx.sessions and time.monotonic() < deadline:  # noqa: ASYNC110  (no signal for it)
            await asyncio.sleep(0.1)

    def _publish(self, metrics: Any) -> list[Any]:
        stats = self.engine.stats
        return [
            metrics.publish("zaspot_rules_loaded", "Rules running.", lambda: len(self.engine.states)),
            metrics.publish("zaspot_rule_errors", "Errors in rule files right now.",
                            lambda: len(self.folder.all_errors())),
            metrics.publish("zaspot_rule_triggers_total", "Rule triggers that fired.", lambda: stats["triggered"],
                            "counter"),
            metrics.publish("zaspot_rule_runs_total", "Rule runs whose actions ran.", lambda: stats["runs"], "counter"),
            metrics.publish("zaspot_rule_actions_total", "Rule actions taken.", lambda: stats["actions"], "counter"),
        ]

    async def stop(self) -> None:
        _RUNNING.pop(id(self.ctx), None)
        await self.folder.stop()
        await self.engine.stop()
        await self.consumer.stop()
        for undo in reversed(self._undo):
            undo()


def rules_folder(config: Any) -> Path:
    """Where a config's rules are: `rules:` relative to zaspot.yaml (like plugins/), else to the working directory."""
    folder = Path(config.rules)
    if not folder.is_absolute() and config.source not in ("", "<defaults>"):
        folder = Path(config.source).parent / folder
    return folder


async def start(ctx: Any, commands: Any, poll_s: float | None = None) -> Rules:
    folder = rules_folder(ctx.config)
    rules = Rules(ctx, commands, folder, POLL_S if poll_s is None else poll_s)
    await rules.start()
    if rules.folder.warning:
        _LOGGER.warning("%s (create it, or set rules: in zaspot.yaml)", rules.folder.warning)
    else:
        _LOGGER.info("rules: %d running from %s", len(rules.engine.states), folder)
    _RUNNING[id(ctx)] = rules
    return rules


def running(ctx: Any) -> Rules | None:
    """The rules of the server that owns `ctx` (None before start / after stop)."""
    return _RUNNING.get(id(ctx))
