"""The OCPP schemas are compiled when zaspot starts, all of them (both versions, both
directions), so a station's first message of a kind compiles nothing on the event loop;
what was compiled is kept in the cache folder for the next start."""

from __future__ import annotations

import asyncio
from pathlib import Path

import fastjsonschema
import ocpp
import orjson
import pytest

from tests.helpers import OcppClient, start_app
from zaspot.ocpp import schemas
from zaspot.ocpp.schemas import SchemaError

_FOLDERS = [Path(ocpp.__file__).parent / v / "schemas" for v in ("v16", "v201")]
EVERY_SCHEMA = sum(len(list(folder.glob("*.json"))) for folder in _FOLDERS)  # 78 + 128 in ocpp 2.x


@pytest.fixture
def compilations(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every schema compiled from now on (by zaspot's validators or by fastjsonschema.compile)."""
    seen: list[str] = []
    generate, compile_schema = schemas._generate, fastjsonschema.compile

    def counted_generate(key: schemas.Key, text: bytes):
        seen.append(f"{key[0]} {key[1]}{' response' if key[2] else ''}")
        return generate(key, text)

    def counted_compile(definition, *args, **kwargs):
        seen.append(str(definition.get("title", "a schema")))
        return compile_schema(definition, *args, **kwargs)

    monkeypatch.setattr(schemas, "_generate", counted_generate)
    monkeypatch.setattr(fastjsonschema, "compile", counted_compile)
    return seen


async def answer(client: OcppClient, action: str, payload: dict) -> list:
    """Answer the server's next `action` CALL (refusing what it asks on its own before)."""
    while True:
        frame = orjson.loads(await asyncio.wait_for(client.ws.recv(), 10))
        if frame[2] == action:
            await client.ws.send(orjson.dumps([3, frame[1], payload]).decode())
            return frame
        await client.ws.send(orjson.dumps([4, frame[1], "NotSupported", "", {}]).decode())


async def test_after_start_a_first_remote_start_compiles_no_schema(tmp_path, monkeypatch, compilations):
    monkeypatch.setattr(schemas, "_validators", {})  # as in a new process: none compiled yet
    app = await start_app(tmp_path)
    try:
        assert len(schemas._validators) == EVERY_SCHEMA
        compilations.clear()  # what the start did (nothing when the cache had them)
        for version, station in (("2.0.1", "CP-2"), ("1.6", "CP-1")):
            client = await OcppClient.connect(app.url, station, version)
            await client.boot()
            started = asyncio.create_task(app.commands.remote_start(station, "DRIVER-7", evse_id=1))
            call = await answer(client, "RequestStartTransaction" if version == "2.0.1" else "RemoteStartTransaction",
                                {"status": "Accepted"})
            assert (await started).ok, call
            await client.close()
    finally:
        await app.stop()
    assert compilations == []


def test_the_compiled_schemas_are_kept_for_the_next_start(tmp_path, monkeypatch, compilations):
    monkeypatch.setattr(schemas, "_validators", {})
    first = schemas.compile_all(tmp_path)
    assert (first.source, first.validators, len(compilations)) == ("compiled", EVERY_SCHEMA, EVERY_SCHEMA)
    assert first.cache is not None and first.cache.parent == tmp_path

    monkeypatch.setattr(schemas, "_validators", {})  # the next start
    compilations.clear()
    second = schemas.compile_all(tmp_path)
    assert (second.source, second.validators, compilations) == ("cache", EVERY_SCHEMA, [])
    with pytest.raises(SchemaError) as refused:  # a validator from the cache refuses what a compiled one does
        schemas.validate("2.0.1", "RequestStartTransaction", {"idToken": {"idToken": "X", "type": "Central"}})
    assert (refused.value.code, refused.value.description) == (
        "OccurrenceConstraintViolation", "payload: must contain ['remoteStartId'] properties")
    schemas.validate("2.0.1", "RequestStartTransaction",
                     {"idToken": {"idToken": "X", "type": "Central"}, "remoteStartId": 1})

    first.cache.write_bytes(b"\x00 not marshal data")  # damaged: compiled again, and kept again
    monkeypatch.setattr(schemas, "_validators", {})
    third = schemas.compile_all(tmp_path)
    assert third.source == "compiled" and third.cache == first.cache
    assert len(schemas._validators) == EVERY_SCHEMA


def test_a_cache_folder_that_cannot_be_written_only_costs_the_compile(tmp_path, monkeypatch):
    few = (("1.6", "Heartbeat", False), ("2.0.1", "Heartbeat", True))
    monkeypatch.setattr(schemas, "_schema_keys", lambda: few)
    monkeypatch.setattr(schemas, "_validators", {})
    blocked = tmp_path / "cache"
    blocked.write_text("a file where the folder would be")
    done = schemas.compile_all(blocked)
    assert (done.source, done.validators, done.cache) == ("compiled", 2, None)
    schemas.validate("1.6", "Heartbeat", {})
    with pytest.raises(SchemaError):
        schemas.validate("2.0.1", "Heartbeat", {"currentTime": 5}, response=True)
