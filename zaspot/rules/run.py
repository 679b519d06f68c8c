"""One run of one rule: its names, its trace, and the actions it takes."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from zaspot.rules.scope import Scope
from zaspot.rules.traces import Trace

if TYPE_CHECKING:
    from zaspot.rules.actions import Action
    from zaspot.rules.engine import Engine
    from zaspot.rules.model import Rule


class Run:
    def __init__(self, engine: Engine, rule: Rule, scope: Scope, trace: Trace,
                 functions: Mapping[str, Callable[..., Any]]) -> None:
        self.engine, self.rule, self.scope, self.trace, self.functions = engine, rule, scope, trace, functions

    def step(self, path: str, **details: Any) -> None:
        self.trace.actions.append({"path": path, **details})

    async def sequence(self, actions: list[Action], path: str) -> None:
        for index, action in enumerate(actions):
            await action.run(self, f"{path}[{index}]")

    async def call(self, path: str, service: str, fn: Callable[..., Any], data: dict[str, Any],
                   station_id: str | None = None) -> None:
        """Call one service and record what it did. A failing action is recorded and the
        run goes on: a rule that could not reset a station should still notify.
        A service marked `wants_rule_id` is told which rule calls it (in `data`)."""
        shown = {k: v for k, v in data.items() if k != "rule_id"}
        if getattr(fn, "wants_rule_id", False):
            data = {**data, "rule_id": self.rule.id}
        if station_id is not None and not self.engine.caps.allow(station_id):
            self.step(path, service=service, data=shown, error="capped",
                      reason=f"over {self.engine.caps.per_hour} rule actions for {station_id} in the last hour")
            return
        started = time.monotonic()
        try:
            result = await fn(data)
        except Exception as exc:  # noqa: BLE001  (a service's failure belongs in the trace, not in the log only)
            self.step(path, service=service, data=shown, error=f"{type(exc).__name__}: {exc}",
                      took=round(time.monotonic() - started, 3))
            self.trace.errors += 1
            return
        if hasattr(result, "to_dict"):
            result = result.to_dict()
        ok = not (isinstance(result, Mapping) and result.get("ok") is False)
        self.trace.errors += not ok
        self.step(path, service=service, data=shown, result=result, ok=ok, took=round(time.monotonic() - started, 3))
        self.engine.stats["actions"] += 1
