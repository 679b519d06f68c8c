"""Operator API: station/update: a station's name, site and notes.

One owner: the stations table (name, site, notes). The config's `stations:` entries write
what they set there at every start (the config wins for what it sets); `station/update`
writes the rest, and fleet/list and station/get show them next to the id.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zaspot.api.handlers import station_row
from zaspot.api.registry import ApiError, handler
from zaspot.store.publish import publish
from zaspot.store.security import STATION_TEXT_FIELDS, rename_station
from zaspot.store.unit import Unit

if TYPE_CHECKING:
    from zaspot.api.websocket import ApiConnection

MAX_LENGTH = {"name": 80, "site": 80, "notes": 2000}


def _fields(msg: dict[str, Any]) -> dict[str, str]:
    """The fields given, stripped ("" clears one); ApiError invalid_format for a bad one."""
    out = {}
    for key in STATION_TEXT_FIELDS:
        value = msg.get(key)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ApiError("invalid_format", f"'{key}' must be text")
        value = value.strip()
        if len(value) > MAX_LENGTH[key]:
            raise ApiError("invalid_format", f"'{key}' is longer than {MAX_LENGTH[key]} characters")
        if key != "notes" and not value.isprintable():
            raise ApiError("invalid_format", f"'{key}' must be one line of printable text")
        out[key] = value
    if not out:
        raise ApiError("invalid_format", "give at least one of 'name', 'site', 'notes'")
    return out


@handler("station/update")
async def station_update(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    station_id = msg.get("station_id")
    if not isinstance(station_id, str) or not station_id:
        raise ApiError("invalid_format", "missing 'station_id'")
    fields = _fields(msg)
    unit = Unit()
    unit.do(rename_station, station_id, fields)
    [known] = await publish(conn.ctx.store, conn.ctx.bus, unit)
    if not known:
        raise ApiError("not_found", f"no station {station_id!r} (name one before it connects under `stations:` "
                                    "in the config)")
    row = await conn.ctx.store.station(station_id)
    assert row is not None  # known: published just now
    return station_row(row, conn.ctx.fleet.stations.get(station_id))
