"""Schema validation with the JSON schemas shipped in the `ocpp` package.

Each schema is compiled to Python by fastjsonschema the first time it is used
and cached, so validation runs inline on the event loop: no thread hop per
message (the `ocpp` library sends every message to a thread pool).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import fastjsonschema
import ocpp

_SCHEMA_ROOT = Path(ocpp.__file__).parent
_DIRS = {"1.6": "v16", "2.0.1": "v201"}

Validator = Callable[[Any], Any]

# fastjsonschema rule -> version-neutral OCPP error name (rpc.error_code spells it).
_RULE_TO_ERROR = {
    "required": "OccurrenceConstraintViolation",
    "minItems": "OccurrenceConstraintViolation",
    "maxItems": "OccurrenceConstraintViolation",
    "type": "TypeConstraintViolation",
    "maxLength": "TypeConstraintViolation",  # CiString20Type etc. are data types
    "minLength": "TypeConstraintViolation",
    "additionalProperties": "FormatViolation",
}


class SchemaError(Exception):
    def __init__(self, code: str, description: str) -> None:
        super().__init__(description)
        self.code = code
        self.description = description


def _schema_name(version: str, action: str, response: bool) -> str:
    if response:
        return f"{action}Response"
    return action if version == "1.6" else f"{action}Request"


@functools.cache
def known_actions(version: str) -> frozenset[str]:
    """Every action the version defines, in either direction."""
    folder = _SCHEMA_ROOT / _DIRS[version] / "schemas"
    names = set()
    for path in folder.glob("*.json"):
        stem = path.stem
        if stem.endswith("Response"):
            names.add(stem[: -len("Response")])
        elif stem.endswith("Request"):
            names.add(stem[: -len("Request")])
        else:
            names.add(stem)
    return frozenset(names)


def _strip_multiple_of(node: Any) -> Any:
    # 1.6 charging-schedule numbers carry multipleOf 0.1, which binary floats
    # fail (21.4 / 0.1 = 213.99999999999997). We round those values ourselves.
    if isinstance(node, dict):
        return {k: _strip_multiple_of(v) for k, v in node.items() if k != "multipleOf"}
    if isinstance(node, list):
        return [_strip_multiple_of(v) for v in node]
    return node


@functools.cache
def validator(version: str, action: str, response: bool) -> Validator | None:
    path = _SCHEMA_ROOT / _DIRS[version] / "schemas" / f"{_schema_name(version, action, response)}.json"
    if not path.exists():
        return None
    schema = _strip_multiple_of(json.loads(path.read_text(encoding="utf-8-sig")))
    schema.pop("$id", None)
    return fastjsonschema.compile(schema)


def validate(version: str, action: str, payload: Any, *, response: bool = False) -> None:
    """Raise SchemaError (with a version-neutral error name) if payload is invalid."""
    check = validator(version, action, response)
    if check is None:
        raise SchemaError("NotImplemented", f"No schema for {action}")
    try:
        check(payload)
    except fastjsonschema.JsonSchemaValueException as exc:
        code = _RULE_TO_ERROR.get(exc.rule or "", "PropertyConstraintViolation")
        where = (exc.name or "").removeprefix("data").lstrip(".") or "payload"
        raise SchemaError(code, f"{where}: {exc.message.removeprefix(exc.name or '').strip()}") from None
