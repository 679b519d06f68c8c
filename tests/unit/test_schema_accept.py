"""The quick yes before each validator (ocpp/schema_accept.py) never says yes where
fastjsonschema says no, says yes to valid payloads (else it only costs time), and leaves
a payload as fastjsonschema would: on every schema of both versions, a full and a
minimal valid payload, then each value of the full one broken in a dozen ways."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import fastjsonschema
import pytest

from zaspot.ocpp import schemas
from zaspot.ocpp.schema_accept import accept_source
from zaspot.ocpp.schema_codegen import inline_refs

KEYS = schemas._schema_keys()
BAD_VALUES: list[Any] = [None, 0, -1, 1.5, True, "", "x" * 3000, "Bogus.Value", "2026-02-30T10:00:00Z", [], [{}], {},
                         {"zzz": 1}]


def schema_of(key: tuple[str, str, bool]) -> dict[str, Any]:
    return inline_refs(schemas._prepare(schemas._path(key).read_bytes()))


def compiled(key: tuple[str, str, bool]) -> dict[str, Any]:
    namespace: dict[str, Any] = {}
    exec(schemas._generate(key, schemas._path(key).read_bytes()), namespace)
    return namespace


def sample(node: Any, full: bool) -> Any:
    """A value the schema accepts: every property (full) or only the required ones."""
    if not isinstance(node, dict):
        return "any"
    kind = node.get("type")
    if kind == "object":
        names = list(node.get("properties", {})) if full else node.get("required", [])
        return {name: sample(node.get("properties", {}).get(name, {}), full) for name in names}
    if kind == "array":
        count = max(node.get("minItems", 0), 2 if full else 0)
        count = min(count, node.get("maxItems", count))
        return [sample(node.get("items", {}), full) for _ in range(count)]
    if kind == "string":
        if "enum" in node:
            return node["enum"][-1]
        if node.get("format") == "date-time":
            return "2026-12-02T10:00:00.123+01:00"
        return "ab"[:node.get("maxLength", 2)] or ""
    if kind == "integer":  # an int: 2.0.1's draft-06 takes 3.0 too, the quick yes leaves that to fastjsonschema
        return int(node.get("minimum", node.get("maximum", 3)))
    if kind == "number":
        return float(node.get("minimum", 2.5))
    if kind == "boolean":
        return True
    return "any"


def paths(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield at
    if isinstance(value, dict):
        for key, item in value.items():
            yield from paths(item, (*at, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from paths(item, (*at, index))


def put(payload: Any, path: tuple[Any, ...], value: Any, delete: bool = False) -> Any:
    if not path:
        return copy.deepcopy(value)
    out = copy.deepcopy(payload)
    node = out
    for step in path[:-1]:
        node = node[step]
    if delete:
        del node[path[-1]]
    else:
        node[path[-1]] = copy.deepcopy(value)
    return out


def verdict(validate: Any, payload: Any) -> tuple[bool, Any]:
    """fastjsonschema's verdict, and the payload as it leaves it (defaults filled)."""
    payload = copy.deepcopy(payload)
    try:
        validate(payload)
    except fastjsonschema.JsonSchemaValueException:
        return False, payload
    return True, payload


def test_nearly_every_schema_gets_a_quick_yes() -> None:
    without = [key for key in KEYS if accept_source(schema_of(key)) is None]
    # Their one `uri` format is left to fastjsonschema's own check.
    assert without == [("1.6", "GetDiagnostics", False), ("1.6", "UpdateFirmware", False)]


@pytest.mark.parametrize("key", KEYS, ids=lambda k: f"{k[0]}-{k[1]}{'-response' if k[2] else ''}")
def test_the_quick_yes_agrees_with_fastjsonschema(key: tuple[str, str, bool]) -> None:
    module = compiled(key)
    validate, accept, check = module["validate"], module.get("accept"), module.get("check", module["validate"])
    if accept is None:
        pytest.skip("no quick yes for this schema")
    schema = schema_of(key)
    full, minimal = sample(schema, True), sample(schema, False)
    for good in (full, minimal):
        assert verdict(validate, good)[0], f"the test's own sample is invalid: {good}"
        assert accept(copy.deepcopy(good)) is True, f"no quick yes for a valid payload: {good}"
    tried = 0
    for path in paths(full):
        changes = [put(full, path, bad) for bad in BAD_VALUES]
        if path:
            changes.append(put(full, path, None, delete=True))
        for payload in changes:
            tried += 1
            expected, left = verdict(validate, payload)
            quick = copy.deepcopy(payload)
            try:
                said = accept(quick)
            except TypeError:  # `check` takes it for a no
                said = False
            assert not (said and not expected), f"quick yes to a payload fastjsonschema refuses: {payload}"
            if said:
                assert quick == left, "the quick yes left the payload unlike fastjsonschema would"
            ours = copy.deepcopy(payload)
            try:
                check(ours)
                ok = True
            except fastjsonschema.JsonSchemaValueException:
                ok = False
            assert ok == expected
            if ok:
                assert ours == left
    assert tried >= len(BAD_VALUES)


def test_a_missing_property_gets_its_default_as_fastjsonschema_gives_it() -> None:
    module = compiled(("2.0.1", "MeterValues", False))
    payload = {"evseId": 1, "meterValue": [{"timestamp": "2026-12-02T10:00:00Z", "sampledValue": [
        {"value": 1.0, "unitOfMeasure": {}}]}]}
    quick = copy.deepcopy(payload)
    assert module["accept"](quick) is True
    assert quick == verdict(module["validate"], payload)[1]
    assert quick["meterValue"][0]["sampledValue"][0]["unitOfMeasure"] == {"unit": "Wh", "multiplier": 0}


def test_a_refused_payload_still_gets_fastjsonschemas_error() -> None:
    with pytest.raises(schemas.SchemaError) as caught:
        schemas.validate("1.6", "MeterValues", {"connectorId": 1, "meterValue": [
            {"timestamp": "2026-12-02T10:00:00Z", "sampledValue": [{"value": "1", "unit": "kW·h"}]}]})
    assert caught.value.code == "PropertyConstraintViolation"
    assert "meterValue[0].sampledValue[0].unit" in caught.value.description
