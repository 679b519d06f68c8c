"""Leniency for real-world chargers that break the schemas in small ways.

Strict is the default. A station (or a station model) marked lenient gets its
payload repaired instead of a CALLERROR when the break is one we can mend
without guessing: a string longer than allowed (cut), a number sent as a
string or the other way round (converted), an enum value in the wrong case,
an unknown field (dropped). Every repair is reported back as a deviation so
the operator sees exactly what the station got wrong.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import fastjsonschema

from zaspot.ocpp import schemas

MAX_REPAIRS = 20  # a payload broken in more places than this is not "small"


@dataclass(frozen=True, slots=True)
class Deviation:
    path: str
    rule: str
    original: Any
    repaired: Any

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "rule": self.rule, "original": self.original, "repaired": self.repaired}


def _fix(rule: str, value: Any, definition: dict[str, Any]) -> tuple[bool, Any]:
    if rule == "maxLength" and isinstance(value, str):
        return True, value[: definition["maxLength"]]
    if rule == "type":
        wanted = definition.get("type")
        if wanted in ("number", "integer") and isinstance(value, str):
            try:
                number = float(value)
            except ValueError:
                return False, value
            if wanted == "integer":
                return number.is_integer(), int(number)
            return True, number
        if wanted == "string" and isinstance(value, (int, float)) and not isinstance(value, bool):
            return True, str(value)
    if rule == "enum" and isinstance(value, str):
        matches = [v for v in definition.get("enum", ()) if isinstance(v, str) and v.lower() == value.lower()]
        if len(matches) == 1:
            return True, matches[0]
    return False, value


def _locate(payload: Any, path: list[Any]) -> tuple[Any, Any]:
    """(container, key) of the value at a fastjsonschema path (which starts with 'data')."""
    parent, key = None, None
    node = payload
    for step in path[1:]:
        parent, key = node, int(step) if isinstance(node, list) else step
        node = node[key]
    return parent, key


def repair(version: str, action: str, payload: dict[str, Any], *,
           response: bool = False) -> tuple[dict[str, Any], list[Deviation]]:
    """Return a schema-valid copy of payload and the deviations mended, or raise SchemaError."""
    check = schemas.validator(version, action, response)
    if check is None:
        raise schemas.SchemaError("NotImplemented", f"No schema for {action}")
    fixed = copy.deepcopy(payload)
    deviations: list[Deviation] = []
    for _ in range(MAX_REPAIRS):
        try:
            check(fixed)
            return fixed, deviations
        except fastjsonschema.JsonSchemaValueException as exc:
            deviation = _repair_one(fixed, exc)
            if deviation is None:
                break
            deviations.append(deviation)
    schemas.validate(version, action, fixed, response=response)  # raises the real error
    return fixed, deviations


def _repair_one(payload: dict[str, Any], exc: fastjsonschema.JsonSchemaValueException) -> Deviation | None:
    path = list(exc.path or [])
    where = ".".join(str(p) for p in path[1:]) or "payload"
    definition = exc.definition if isinstance(exc.definition, dict) else {}
    if exc.rule == "additionalProperties" and isinstance(exc.value, dict):
        known = set(definition.get("properties", {}))
        extra = sorted(k for k in exc.value if k not in known)
        if not extra:
            return None
        for key in extra:
            exc.value.pop(key)
        return Deviation(where, "additionalProperties", extra, None)
    parent, key = _locate(payload, path)
    if parent is None:
        return None
    ok, value = _fix(exc.rule or "", exc.value, definition)
    if not ok:
        return None
    parent[key] = value
    return Deviation(where, exc.rule or "", exc.value, value)
