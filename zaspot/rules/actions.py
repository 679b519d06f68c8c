"""Actions: compiled once from a rule's `action:` list, run by the engine for each run.

    - service: set_power_limit            # a registered service (built-in or a plugin's)
      target: {connector_id: 2}           # default: the triggering station / connector
      data: {kw: 11, duration: 30m}       # strings are templates: "{station_id} at {celsius} °C"
    - delay: 30s
    - if: "celsius > 80"                  # a condition or a list of them
      then: [...]
      else: [...]
    - choose:
        - conditions: [...]
          sequence: [...]
      default: [...]
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from zaspot.rules.conditions import Expression, compile_condition
from zaspot.rules.durations import parse_duration
from zaspot.rules.source import RuleError, Src
from zaspot.rules.templates import compile_data, render_data

if TYPE_CHECKING:
    from zaspot.rules.run import Run

_TARGET_KEYS = {"station_id", "evse_id", "connector_id", "where"}


class Action:
    line: int

    def describe(self) -> str:
        raise NotImplementedError

    async def run(self, run: Run, path: str) -> None:
        raise NotImplementedError


class ServiceCall(Action):
    def __init__(self, service: str, data: Any, target: dict[str, Any] | None, line: int) -> None:
        self.service, self.data, self.target, self.line = service, data, target, line

    def describe(self) -> str:
        return f"service {self.service}"

    async def run(self, run: Run, path: str) -> None:
        fn = run.engine.service(self.service)
        values = run.scope.template_values()
        data = render_data(self.data, values) or {}
        if fn is None:
            run.step(path, service=self.service, error=f"service '{self.service}' is not loaded")
            return
        if getattr(fn, "target", None) is None:
            await run.call(path, self.service, fn, {**data, "rule_id": run.rule.id}
                           if self.service == "fire_event" else data)
            return
        targets = self._targets(run, values)
        if not targets:
            run.step(path, service=self.service, result="no target station")
        for target in targets:
            await run.call(path, self.service, fn, {**target, **data}, station_id=target["station_id"])

    def _targets(self, run: Run, values: Mapping[str, Any]) -> list[dict[str, Any]]:
        target = self.target or {}
        if "where" in target:
            where: Expression = target["where"]
            ids = [sid for sid in sorted(run.engine.fleet.stations)
                   if where.check(run.scope.with_station(sid), run.functions).result]
            return [{"station_id": sid, "evse_id": 0, "connector_id": 0} for sid in ids]
        explicit = render_data(target, values)
        station_id = explicit.get("station_id") or run.scope.get("station_id")
        if not station_id:
            return []
        same = station_id == run.scope.get("station_id")
        connector = explicit.get("connector_id", run.scope.get("connector_id") if same else 0) or 0
        evse = explicit.get("evse_id", run.scope.get("evse_id") if same else connector) or connector
        return [{"station_id": station_id, "evse_id": int(evse), "connector_id": int(connector)}]


class Delay(Action):
    def __init__(self, seconds: float, line: int) -> None:
        self.seconds, self.line = seconds, line

    def describe(self) -> str:
        return f"delay {self.seconds:g}s"

    async def run(self, run: Run, path: str) -> None:
        started = time.monotonic()
        await run.engine.clock.sleep(self.seconds)
        run.step(path, delay=self.seconds, waited=round(time.monotonic() - started, 3))


class Branch(Action):
    """`if/then/else` and `choose/default`: the first option whose conditions all hold."""

    def __init__(self, options: list[tuple[list[Any], list[Action]]], default: list[Action], line: int,
                 kind: str) -> None:
        self.options, self.default, self.line, self.kind = options, default, line, kind

    def describe(self) -> str:
        return f"{self.kind} ({len(self.options)} option{'s' if len(self.options) != 1 else ''})"

    async def run(self, run: Run, path: str) -> None:
        for index, (conditions, actions) in enumerate(self.options):
            checks = [c.check(run.scope, run.functions) for c in conditions]
            if all(c.result for c in checks):
                run.step(path, branch=index, checks=[c.to_dict() for c in checks])
                await run.sequence(actions, f"{path}.{'then' if self.kind == 'if' else f'choose[{index}]'}")
                return
        run.step(path, branch="default" if self.default else None)
        await run.sequence(self.default, f"{path}.{'else' if self.kind == 'if' else 'default'}")


# --- compiling --------------------------------------------------------------------


def compile_actions(src: Src, known_service: Callable[[str], Any]) -> list[Action]:
    """RuleError (file:line) for an unknown service, a bad duration, a bad template, …"""
    return [compile_action(item, known_service) for item in src.as_list()]


def compile_action(src: Src, known_service: Callable[[str], Any]) -> Action:
    items = src.items("action")
    for key, builder in (("service", _service), ("delay", _delay), ("if", _if), ("choose", _choose)):
        if key in items:
            return builder(src, items, known_service)
    raise src.error("action: expected one of 'service:', 'delay:', 'if:', 'choose:'")


def _only(items: dict[str, Src], allowed: set[str], what: str) -> None:
    for key, value in items.items():
        if key not in allowed:
            raise value.error(f"{what}: unknown key '{key}' (known: {', '.join(sorted(allowed))})")


def _service(src: Src, items: dict[str, Src], known_service: Callable[[str], Any]) -> Action:
    _only(items, {"service", "data", "target", "alias"}, "action")
    name = items["service"].plain()
    fn = known_service(name) if isinstance(name, str) else None
    if fn is None:
        raise items["service"].error(f"unknown service {name!r}")
    data = items["data"].plain() if "data" in items else {}
    if not isinstance(data, dict):
        raise items["data"].error(f"service {name}: data must be a mapping")
    keys = getattr(fn, "keys", None)
    bad = [k for k in data if keys is not None and k not in keys]
    if bad and keys is not None:
        raise items["data"].error(f"service {name}: unknown data key '{bad[0]}' (known: {', '.join(sorted(keys))})")
    try:
        compiled = compile_data(data)
        if "duration" in data and "{" not in str(data["duration"]):
            parse_duration(data["duration"])
    except ValueError as exc:
        raise items["data"].error(f"service {name}: {exc}") from None
    return ServiceCall(name, compiled, _target(items.get("target"), name), src.line)


def _target(src: Src | None, service: str) -> dict[str, Any] | None:
    if src is None:
        return None
    target = src.items(f"service {service}: target")
    _only(target, _TARGET_KEYS, f"service {service}: target")
    out: dict[str, Any] = {k: v.plain() for k, v in target.items() if k != "where"}
    if "where" in target:
        try:
            out["where"] = Expression(str(target["where"].plain()))
        except ValueError as exc:
            raise target["where"].error(str(exc)) from None
    try:
        return compile_data(out)
    except ValueError as exc:
        raise src.error(f"service {service}: target: {exc}") from None


def _delay(src: Src, items: dict[str, Src], known_service: Callable[[str], Any]) -> Action:
    _only(items, {"delay", "alias"}, "action")
    try:
        return Delay(parse_duration(items["delay"].plain()), src.line)
    except ValueError as exc:
        raise items["delay"].error(str(exc)) from None


def _conditions(src: Src) -> list[Any]:
    return [compile_condition(c) for c in src.as_list()]


def _if(src: Src, items: dict[str, Src], known_service: Callable[[str], Any]) -> Action:
    _only(items, {"if", "then", "else", "alias"}, "action")
    if "then" not in items:
        raise src.error("if: 'then' is required")
    then = compile_actions(items["then"], known_service)
    other = compile_actions(items["else"], known_service) if "else" in items else []
    return Branch([(_conditions(items["if"]), then)], other, src.line, "if")


def _choose(src: Src, items: dict[str, Src], known_service: Callable[[str], Any]) -> Action:
    _only(items, {"choose", "default", "alias"}, "action")
    options = []
    for option in items["choose"].as_list():
        parts = option.items("choose")
        _only(parts, {"conditions", "sequence"}, "choose")
        if "sequence" not in parts:
            raise option.error("choose: each option needs 'sequence'")
        conditions = _conditions(parts["conditions"]) if "conditions" in parts else []
        options.append((conditions, compile_actions(parts["sequence"], known_service)))
    default = compile_actions(items["default"], known_service) if "default" in items else []
    return Branch(options, default, src.line, "choose")


__all__ = ["Action", "RuleError", "compile_actions"]
