"""OCPP JSON-schema checks against the schemas shipped in the `ocpp` package.

Used by the simulator tests (and optionally by SimStation(validate=True)) so every
frame the simulator sends or answers is proven valid, not assumed valid.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

import fastjsonschema
import ocpp

_ROOT = Path(ocpp.__file__).parent


def _schema_path(version: str, action: str, response: bool) -> Path:
    if version == "1.6":
        name = f"{action}Response.json" if response else f"{action}.json"
        return _ROOT / "v16" / "schemas" / name
    name = f"{action}Response.json" if response else f"{action}Request.json"
    return _ROOT / "v201" / "schemas" / name


@functools.cache
def _validator(version: str, action: str, response: bool):
    path = _schema_path(version, action, response)
    schema = json.loads(path.read_text(encoding="utf-8"))
    return fastjsonschema.compile(schema)


def validate(version: str, action: str, payload: dict, response: bool = False) -> None:
    """Raise fastjsonschema.JsonSchemaException (or FileNotFoundError) if invalid."""
    _validator(version, action, response)(payload)


def validate_request(version: str, action: str, payload: dict) -> None:
    validate(version, action, payload, response=False)


def validate_response(version: str, action: str, payload: dict) -> None:
    validate(version, action, payload, response=True)
