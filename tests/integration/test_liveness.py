"""Is a station there, and which connection is it: real sockets, real SQLite, the app in process.

- A station that only answers WebSocket pings is online, and its last-seen time moves;
  once it stops answering it is reported offline, away since its last pong.
- A station whose old connection went half-open reconnects and is served at once; the
  old connection, dropped, leaves the station connected everywhere.
- A path without a station id is refused.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import urllib.request
from collections.abc import Callable

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.helpers import OcppClient
from zaspot.app import App
from zaspot.config import Config
from zaspot.core import events as ev
from zaspot.rules.scope import station_view


@pytest.fixture
async def make_app(tmp_path):
    """An in-process server whose OCPP config each test sets; its bus events are recorded."""
    apps = []

    async def start(**ocpp):
        config = Config(host="127.0.0.1", port=0, db=str(tmp_path / "z.db"), rules=str(tmp_path / "rules"))
        for key, value in ocpp.items():
            setattr(config.ocpp, key, value)
        app = App(config)
        await app.start()
        app.url = f"ws://127.0.0.1:{app.server.port}"  # type: ignore[attr-defined]
        app.events = []  # type: ignore[attr-defined]
        app.ctx.bus.listen("*", app.events.append, name="test-events", inline=True)
        apps.append(app)
        return app

    yield start
    for app in apps:
        await app.stop()


async def until(condition: Callable[[], object], what: str, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.02)


def of(app: App, event_type: type[ev.Event], station_id: str) -> list[ev.Event]:
    return [e for e in app.events if isinstance(e, event_type) and e.station_id == station_id]


def db_row(app: App, station_id: str) -> dict:
    con = sqlite3.connect(app.config.db)
    con.row_factory = sqlite3.Row
    try:
        return dict(con.execute("SELECT * FROM stations WHERE id = ?", (station_id,)).fetchone())
    finally:
        con.close()


def healthz(app: App) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{app.server.port}/healthz", timeout=5) as response:
        return json.loads(response.read())


async def test_a_station_that_only_answers_pings_stays_online_until_it_stops(make_app):
    period = 1.0
    app = await make_app(ping_interval=0.2, ping_timeout=60, offline_after=period)
    ws = await websockets.connect(f"{app.url}/ocpp/PINGS", subprotocols=["ocpp1.6"], ping_interval=None)
    client = OcppClient(ws)
    assert (await client.boot())[2]["status"] == "Accepted"
    booted = time.time()  # the last OCPP frame it sends
    state = app.ctx.fleet.stations["PINGS"]

    # Only pongs from here on (websockets answers the server's pings by itself).
    await until(lambda: state.last_seen >= booted + 3 * period, "last_seen to move with the pongs")
    assert not of(app, ev.StationOffline, "PINGS"), "a station answering pings was reported offline"
    assert state.online and station_view(state, time.time())["offline_for"] == 0.0

    ws.transport.pause_reading()  # it stops answering: no frame, no pong
    await until(lambda: of(app, ev.StationOffline, "PINGS"), "station_offline", timeout=10 * period)
    (offline,) = of(app, ev.StationOffline, "PINGS")
    assert offline.last_seen >= booted + 3 * period  # away since its last pong, not since its boot
    assert state.online is False
    now = time.time()
    assert station_view(state, now)["offline_for"] == pytest.approx(now - state.last_seen)
    assert station_view(state, now)["offline_for"] < now - booted - 3 * period

    ws.transport.resume_reading()  # back: it answers the next ping
    await until(lambda: of(app, ev.StationOnline, "PINGS"), "station_online", timeout=10 * period)
    assert state.online is True
    await app.ctx.liveness.flush()  # what the 10 s flush does: the pongs' time is in the database
    assert db_row(app, "PINGS")["last_seen"] >= offline.last_seen
    await ws.close()


async def test_a_reconnect_is_served_at_once_while_the_old_connection_hangs_half_open(make_app):
    app = await make_app(ping_interval=0)
    old = await OcppClient.connect(app.url, "TWIN", "1.6")
    assert (await old.boot())[2]["status"] == "Accepted"
    old_handlers = set(app.server._served)  # the old connection's task
    old.ws.transport.pause_reading()  # half-open: it will never read or answer a close

    started, before = time.monotonic(), len(app.events)
    new = await OcppClient.connect(app.url, "TWIN", "1.6")
    try:
        answer = await asyncio.wait_for(new.call("Heartbeat", {}), 5)  # resumes: it was accepted before
    except TimeoutError:
        pytest.fail("no answer in 5 s: the new connection waits for the old one to close")
    assert answer[0] == 3
    assert time.monotonic() - started < 1.0, "the new connection waited for the old one"

    # The old connection is dropped and its handler ends; it must leave the station alone.
    await asyncio.wait_for(asyncio.gather(*old_handlers), 5)
    assert (await new.call("Heartbeat", {}))[0] == 3  # still served
    assert not [e for e in app.events[before:] if isinstance(e, ev.StationDisconnected)], \
        "the replaced connection fired station_disconnected"
    assert db_row(app, "TWIN")["connected"] == 1
    assert app.ctx.fleet.stations["TWIN"].connected is True
    assert app.ctx.sessions["TWIN"].ws is not None and len(app.ctx.sessions) == 1
    assert (await asyncio.to_thread(healthz, app))["stations_connected"] == 1

    old.ws.transport.abort()
    await new.close()
    await until(lambda: of(app, ev.StationDisconnected, "TWIN"), "station_disconnected of the new one")
    assert db_row(app, "TWIN")["connected"] == 0  # the current connection still ends the station's
    assert (await asyncio.to_thread(healthz, app))["stations_connected"] == 0


async def test_paths_without_a_station_id_are_refused(make_app):
    app = await make_app(ping_interval=0)
    for path in ("/ocpp/", "/ocpp//", "//"):
        with pytest.raises(InvalidStatus) as refused:
            async with websockets.connect(f"{app.url}{path}", subprotocols=["ocpp1.6"]):
                pass
        assert refused.value.response.status_code == 404, path
        assert b"station id" in refused.value.response.body, path
    assert "ocpp" not in app.ctx.fleet.stations and not app.ctx.sessions
    assert await app.ctx.store.stations() == []
