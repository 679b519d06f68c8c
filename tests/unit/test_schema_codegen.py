"""The validators zaspot compiles (refs inlined, string enums as set lookups:
ocpp/schema_codegen.py) judge every payload as fastjsonschema's own code for the
schema does: same verdict, and for a bad payload the same path, message and rule,
which is what the station reads in its CALLERROR."""

from __future__ import annotations

import copy
import re
from typing import Any

import fastjsonschema
import pytest

from zaspot.ocpp import schemas
from zaspot.ocpp.schema_codegen import inline_refs, set_lookups

MV16 = {"connectorId": 1, "transactionId": 7, "meterValue": [{"timestamp": "2026-03-01T10:00:00Z", "sampledValue": [
    {"value": "12.5", "measurand": "Energy.Active.Import.Register", "unit": "kWh", "context": "Sample.Periodic"},
    {"value": "7200", "measurand": "Power.Active.Import", "unit": "W", "phase": "L1", "location": "Outlet"}]}]}
MV201 = {"evseId": 1, "meterValue": [{"timestamp": "2026-03-01T10:00:00Z", "sampledValue": [
    {"value": 12.5, "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "kWh", "multiplier": 0}},
    {"value": 7200, "measurand": "Power.Active.Import", "phase": "L1", "location": "Outlet",
     "customData": {"vendorId": "acme"}}]}]}

# (path into the payload, the value put there; None for the key removed)
BREAKS: list[tuple[tuple[Any, ...], Any]] = [
    ((), None),
    (("meterValue", 0, "sampledValue", 1, "measurand"), "Energy.Bogus"),
    (("meterValue", 0, "sampledValue", 1, "measurand"), 7),
    (("meterValue", 0, "sampledValue", 1, "phase"), "L4"),
    (("meterValue", 0, "sampledValue", 1, "location"), ""),
    (("meterValue", 0, "sampledValue", 0, "context"), "Sample.Sometimes"),
    (("meterValue", 0, "sampledValue", 0, "value"), None),
    (("meterValue", 0, "sampledValue", 0, "extra"), 1),
    (("meterValue", 0, "timestamp"), "2026-02-30T10:00:00Z"),
    (("meterValue", 0, "sampledValue"), []),
    (("meterValue",), {}),
]
BREAKS_16 = [(("meterValue", 0, "sampledValue", 0, "unit"), "kW·h"), (("connectorId",), "1")]
BREAKS_201 = [(("meterValue", 0, "sampledValue", 0, "unitOfMeasure", "unit"), "x" * 21),
              (("meterValue", 0, "sampledValue", 1, "customData"), {"vendor": "acme"}), (("evseId",), 1.5)]


def broken(payload: dict[str, Any], path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    out = copy.deepcopy(payload)
    node = out
    for step in path[:-1]:
        node = node[step]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return out


def plain_validator(version: str, action: str) -> Any:
    """fastjsonschema's own validator for the schema, untouched."""
    return fastjsonschema.compile(schemas._prepare(schemas._path((version, action, False)).read_bytes()))


def outcome(check: Any, payload: Any) -> Any:
    try:
        check(payload)
    except fastjsonschema.JsonSchemaValueException as exc:
        # A set of extra property names prints in the hash's order: compare it sorted.
        message = re.sub(r"\{[^{}]*\}", lambda m: str(sorted(m.group(0)[1:-1].split(", "))), exc.message)
        return exc.name, message, exc.rule
    return "valid"


@pytest.mark.parametrize(("version", "payload", "extra"), [("1.6", MV16, BREAKS_16), ("2.0.1", MV201, BREAKS_201)])
def test_meter_values_errors_are_fastjsonschemas(version: str, payload: dict[str, Any], extra: list[Any]) -> None:
    plain, ours = plain_validator(version, "MeterValues"), schemas.validator(version, "MeterValues", False)
    assert outcome(ours, payload) == outcome(plain, payload) == "valid"
    for path, value in BREAKS + extra:
        bad = broken(payload, path, value)
        assert outcome(ours, bad) == outcome(plain, bad) != "valid", (path, value)


def test_a_deep_enum_error_names_its_place() -> None:
    bad = broken(MV201, ("meterValue", 0, "sampledValue", 1, "measurand"), "Energy.Bogus")
    with pytest.raises(schemas.SchemaError) as err:
        schemas.validate("2.0.1", "MeterValues", bad)
    assert err.value.code == "PropertyConstraintViolation"
    assert err.value.description.startswith("meterValue[0].sampledValue[1].measurand: must be one of ['Current.Export'")


def test_the_shaping_only_touches_what_it_knows() -> None:
    schema = {"definitions": {"Loop": {"type": "object", "properties": {"next": {"$ref": "#/definitions/Loop"}}}},
              "type": "object", "properties": {"head": {"$ref": "#/definitions/Loop"}, "far": {"$ref": "x.json#/a"}}}
    inlined = inline_refs(schema)
    assert inlined["properties"]["head"]["properties"]["next"] == {"$ref": "#/definitions/Loop"}  # a cycle stays a ref
    assert inlined["properties"]["far"] == {"$ref": "x.json#/a"}
    mixed = "NoneType = type(None)\n    if not (isinstance(v, str) and v == 'a' or v is None):\n"
    assert set_lookups(mixed) == mixed  # not only strings: left as generated


@pytest.mark.parametrize("key", [("2.0.1", "GetVariables", False), ("2.0.1", "SetVariables", False),
                                 ("2.0.1", "GetVariables", True)])
def test_a_payload_comes_out_of_validation_as_fastjsonschema_leaves_it(key: tuple[str, str, bool]) -> None:
    """fastjsonschema fills in defaults: the shaped validator fills in the same ones, no more
    (inlining a ref once added the default of the enum it names to every GetVariables we sent)."""
    version, action, response = key
    schema = schemas._prepare(schemas._path(key).read_bytes())
    samples = {
        "GetVariables": {"getVariableData": [{"component": {"name": "EVSE"}, "variable": {"name": "Power"}}]},
        "SetVariables": {"setVariableData": [{"attributeValue": "1", "component": {"name": "EVSE"},
                                              "variable": {"name": "Power"}}]},
    }
    if response:
        payload = {"getVariableResult": [{"attributeStatus": "Accepted", "component": {"name": "EVSE"},
                                          "variable": {"name": "Power"}}]}
    else:
        payload = samples[action]
    theirs, ours = copy.deepcopy(payload), copy.deepcopy(payload)
    fastjsonschema.compile(schema)(theirs)
    schemas.validate(version, action, ours, response=response)
    assert ours == theirs
