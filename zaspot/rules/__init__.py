"""Automation rules: YAML triggers, conditions and actions (see README, "Rules").

    runtime = await start(ctx, commands)     # in App.start, after plugins loaded
    await runtime.stop()                     # in App.stop, before plugins unload
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from zaspot.rules import services
from zaspot.rules.engine import Engine
from zaspot.rules.recorder import EventRecorder
from zaspot.rules.reload import POLL_S, RuleFolder

_LOGGER = logging.getLogger("zaspot.rules")
_RUNNING: dict[int, Rules] = {}  # id(ctx) -> its rules, for the operator API


class Rules:
    """The rules part of a running server: engine, folder watcher, event recorder."""

    def __init__(self, ctx: Any, commands: Any, folder: Path, poll_s: float) -> None:
        self.ctx = ctx
        self.engine = Engine(ctx.fleet, ctx.registry, store=ctx.store, emit=ctx.bus.fire,
                             stale_after=ctx.config.rules_stale_after or None)
        self.folder = RuleFolder(folder, self.engine, poll_s)
        self._undo = [
            services.register(ctx.registry, services.station_services(commands)),
            services.register(ctx.registry, services.local_services(ctx.bus.fire)),
        ]
        self._undo += self._publish(ctx.metrics)
        # One queue, re-aimed whenever the loaded rules need other event types.
        self._unlisten = ctx.bus.listen(sorted(self.engine.needed_types()), self.engine.dispatch, name="rules.engine")
        self.engine.on_types_changed = lambda types: self._unlisten.set_types(sorted(types))
        self.recorder = EventRecorder(ctx.bus, ctx.store)

    def _publish(self, metrics: Any) -> list[Any]:
        stats = self.engine.stats
        return [
            metrics.publish("zaspot_rules_loaded", "Rules running.", lambda: len(self.engine.states)),
            metrics.publish("zaspot_rule_errors", "Errors in rule files right now.", lambda: len(self.folder.all_errors())),
            metrics.publish("zaspot_rule_triggers_total", "Rule triggers that fired.", lambda: stats["triggered"], "counter"),
            metrics.publish("zaspot_rule_runs_total", "Rule runs whose actions ran.", lambda: stats["runs"], "counter"),
            metrics.publish("zaspot_rule_actions_total", "Rule actions taken.", lambda: stats["actions"], "counter"),
        ]

    async def stop(self) -> None:
        _RUNNING.pop(id(self.ctx), None)
        self._unlisten()
        await self.folder.stop()
        await self.engine.stop()
        await self.recorder.stop()
        for undo in reversed(self._undo):
            undo()


async def start(ctx: Any, commands: Any, poll_s: float | None = None) -> Rules:
    config = ctx.config
    folder = Path(config.rules)
    if not folder.is_absolute() and config.source not in ("", "<defaults>"):
        folder = Path(config.source).parent / folder  # relative to zaspot.yaml, like plugins/
    rules = Rules(ctx, commands, folder, POLL_S if poll_s is None else poll_s)
    rules.folder.start()
    _LOGGER.info("rules: %d running from %s", len(rules.engine.states), folder)
    _RUNNING[id(ctx)] = rules
    return rules


def running(ctx: Any) -> Rules | None:
    """The rules of the server that owns `ctx` (None before start / after stop)."""
    return _RUNNING.get(id(ctx))
