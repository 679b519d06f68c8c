"""Conditions: simpleeval expressions (compiled once, at load) and a few shorthands.

An expression sees the trigger's fields by name (`celsius`, `station_id`), `trigger`,
`station`, `fleet`, `now` and the functions in FUNCTIONS. It is never Python: no
imports, no lambdas, no attribute whose name starts with `_`, no method of a Python
object (only plain values and datetimes are reachable).
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import time as dtime
from typing import Any

import simpleeval

from zaspot.rules.durations import parse_duration
from zaspot.rules.source import Src

FUNCTIONS: dict[str, Callable[..., Any]] = {
    "abs": abs, "min": min, "max": max, "round": round, "len": len, "int": int, "float": float,
    "str": str, "bool": bool, "any": any, "all": all, "sum": sum, "sorted": sorted,
}
# Filled in per evaluation: they look at the engine's memory of this rule.
RUN_FUNCTIONS = ("rule_runs",)
_NAMES = {"True": True, "False": False, "None": None}
_CONTEXT_NODES = (ast.expr_context, ast.operator, ast.boolop, ast.cmpop, ast.unaryop, ast.comprehension)


@dataclass(frozen=True, slots=True)
class Check:
    """What one condition said, for the trace."""

    condition: str
    result: bool
    values: dict[str, Any]
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {"condition": self.condition, "result": self.result, "values": self.values}
        if self.error:
            out["error"] = self.error
        return out


class Expression:
    """One expression, parsed and vetted once; evaluated many times."""

    def __init__(self, text: str) -> None:
        """ValueError with a message for the user when it is not a valid rule expression."""
        self.text = text
        self._eval = simpleeval.EvalWithCompoundTypes(functions=dict(FUNCTIONS), names=dict(_NAMES))
        try:
            self._tree = self._eval.parse(text)
        except SyntaxError as exc:
            raise ValueError(f"bad expression {text!r}: {exc.msg}") from None
        self._vet(ast.parse(text.strip(), mode="eval"))
        # The dotted names it reads (`station.ocpp_version`): their values go in the trace.
        self._reads = [(name, self._eval.parse(name)) for name in _reads(ast.parse(text.strip(), mode="eval"))]

    def _vet(self, tree: ast.AST) -> None:
        allowed = tuple(self._eval.nodes)
        for node in ast.walk(tree):
            if isinstance(node, (ast.Expression, _CONTEXT_NODES)):
                continue
            if not isinstance(node, allowed):
                raise ValueError(f"bad expression {self.text!r}: {type(node).__name__} is not allowed")
            if isinstance(node, ast.Attribute) and (node.attr.startswith("_")
                                                    or node.attr in simpleeval.DISALLOW_METHODS):
                raise ValueError(f"bad expression {self.text!r}: attribute '{node.attr}' is not allowed")
            if isinstance(node, ast.Name) and node.id.startswith("_"):
                raise ValueError(f"bad expression {self.text!r}: name '{node.id}' is not allowed")
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and \
                    node.func.id not in FUNCTIONS and node.func.id not in RUN_FUNCTIONS:
                known = ", ".join(sorted([*FUNCTIONS, *RUN_FUNCTIONS]))
                raise ValueError(f"bad expression {self.text!r}: unknown function '{node.func.id}' (known: {known})")

    def value(self, names: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]] = {}) -> Any:
        """The expression's value; exceptions (a missing name, a type error) propagate."""
        self._eval.names = names
        self._eval.functions = {**FUNCTIONS, **functions}
        return self._eval.eval(self.text, previously_parsed=self._tree)

    def check(self, names: Mapping[str, Any], functions: Mapping[str, Callable[..., Any]] = {}) -> Check:
        values = {}
        for name, tree in self._reads:
            try:
                self._eval.names = names
                values[name] = _plain(self._eval.eval(name, previously_parsed=tree))
            except Exception:  # noqa: BLE001  (a rule's own expression may raise anything: that value is unknown)
                values[name] = None
        try:
            return Check(self.text, bool(self.value(names, functions)), values)
        except Exception as exc:  # noqa: BLE001  (a condition that cannot be evaluated is false, and says why)
            return Check(self.text, False, values, f"{type(exc).__name__}: {exc}")


def _reads(tree: ast.AST) -> list[str]:
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Attribute, ast.Name)):
            text = ast.unparse(node)
            inner = isinstance(node, ast.Name) and any(f.startswith(text + ".") for f in found)
            known = text in found or text in FUNCTIONS or text in RUN_FUNCTIONS
            if _dotted(node) and not inner and not known:
                found.append(text)
    # keep only the longest chains (`station.model`, not also `station`)
    return [f for f in found if not any(o != f and o.startswith(f + ".") for o in found) and f not in _NAMES]


def _dotted(node: ast.AST) -> bool:
    while isinstance(node, ast.Attribute):
        node = node.value
    return isinstance(node, ast.Name)


def _plain(value: Any) -> Any:
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return repr(value)[:200]


# --- shorthands ----------------------------------------------------------------


class StateCondition:
    """`{condition: state, status: Faulted, for: 10m, connector_id: 1}`: the station has
    a connector (that one, if given) in one of these statuses for at least `for`."""

    def __init__(self, statuses: list[str], for_s: float, connector_id: int | None) -> None:
        self.statuses, self.for_s, self.connector_id = statuses, for_s, connector_id
        self.text = f"state {'/'.join(statuses)}" + (f" for {for_s:g}s" if for_s else "")

    def check(self, names: Mapping[str, Any], functions: Mapping[str, Any] = {}) -> Check:
        station = names["station"]
        hits = [c for c in (station.connectors if station is not None else [])
                if c.status in self.statuses and c.status_for >= self.for_s
                and (self.connector_id is None or c.connector_id == self.connector_id)]
        values = {"statuses": list(station.statuses) if station is not None else None}
        return Check(self.text, bool(hits), values)


class TimeCondition:
    """`{condition: time, after: "22:00", before: "06:00", weekday: [sat, sun]}`."""

    DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

    def __init__(self, after: dtime | None, before: dtime | None, weekdays: list[int] | None) -> None:
        self.after, self.before, self.weekdays = after, before, weekdays
        self.text = f"time after {after} before {before}" + (f" on {weekdays}" if weekdays else "")

    def check(self, names: Mapping[str, Any], functions: Mapping[str, Any] = {}) -> Check:
        now = names["now"]
        t = now.time()
        if self.after and self.before and self.after > self.before:  # across midnight
            ok = t >= self.after or t < self.before
        else:
            ok = (self.after is None or t >= self.after) and (self.before is None or t < self.before)
        ok = ok and (self.weekdays is None or now.weekday() in self.weekdays)
        return Check(self.text, ok, {"now": now.strftime("%a %H:%M:%S")})


class Combined:
    """`{condition: and|or|not, conditions: [...]}`."""

    def __init__(self, kind: str, parts: list[Any]) -> None:
        self.kind, self.parts = kind, parts
        self.text = f"{kind}({', '.join(p.text for p in parts)})"

    def check(self, names: Mapping[str, Any], functions: Mapping[str, Any] = {}) -> Check:
        checks = [p.check(names, functions) for p in self.parts]
        results = [c.result for c in checks]
        ok = all(results) if self.kind == "and" else any(results) if self.kind == "or" else not any(results)
        return Check(self.text, ok, {c.condition: c.result for c in checks})


def compile_condition(src: Src) -> Any:
    """A string is an expression; a mapping a shorthand. RuleError with file:line."""
    if not src.is_mapping():
        text = src.plain()
        if not isinstance(text, str) or not text.strip():
            raise src.error("condition: expected an expression (text) or a mapping with 'condition:'")
        try:
            expression = Expression(text)
        except ValueError as exc:
            raise src.error(str(exc)) from None
        expression.text = text
        return expression
    items = src.items("condition")
    kind = items.get("condition")
    kind_name = kind.plain() if kind else None
    builders = {"state": _state, "time": _time, "and": _combined, "or": _combined, "not": _combined}
    if kind_name not in builders:
        raise src.error(f"condition: unknown kind {kind_name!r} (known: expression text, {', '.join(builders)})")
    return builders[kind_name](src, items, kind_name)


def _check_keys(src: Src, items: dict[str, Src], allowed: set[str]) -> None:
    for key, value in items.items():
        if key not in allowed:
            raise value.error(f"condition: unknown key '{key}' (known: {', '.join(sorted(allowed))})")


def _state(src: Src, items: dict[str, Src], kind: str) -> StateCondition:
    _check_keys(src, items, {"condition", "status", "for", "connector_id"})
    if "status" not in items:
        raise src.error("condition state: 'status' is required")
    status = items["status"].plain()
    statuses = [status] if isinstance(status, str) else status
    for_s = 0.0
    if "for" in items:
        try:
            for_s = parse_duration(items["for"].plain())
        except ValueError as exc:
            raise items["for"].error(str(exc)) from None
    connector = items["connector_id"].plain() if "connector_id" in items else None
    return StateCondition([str(s) for s in statuses], for_s, connector)


def _time(src: Src, items: dict[str, Src], kind: str) -> TimeCondition:
    _check_keys(src, items, {"condition", "after", "before", "weekday"})
    bounds = {}
    for key in ("after", "before"):
        if key in items:
            try:
                bounds[key] = dtime.fromisoformat(str(items[key].plain()))
            except ValueError:
                raise items[key].error(f"condition time: {key}: expected HH:MM or HH:MM:SS") from None
    weekdays = None
    if "weekday" in items:
        days = items["weekday"].plain()
        days = [days] if isinstance(days, str) else days
        bad = [d for d in days if str(d).lower()[:3] not in TimeCondition.DAYS]
        if bad:
            raise items["weekday"].error(f"condition time: unknown weekday {bad[0]!r} (mon … sun)")
        weekdays = [TimeCondition.DAYS.index(str(d).lower()[:3]) for d in days]
    return TimeCondition(bounds.get("after"), bounds.get("before"), weekdays)


def _combined(src: Src, items: dict[str, Src], kind: str) -> Combined:
    _check_keys(src, items, {"condition", "conditions"})
    if "conditions" not in items:
        raise src.error(f"condition {kind}: 'conditions' is required")
    return Combined(kind, [compile_condition(s) for s in items["conditions"].as_list()])
