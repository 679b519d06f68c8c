"""Liveness: last-seen times written in chunks (a failed chunk waits for the next flush,
the newest time wins), the offline watchdog's decisions, and which paths name a station.
That every pong (to our ping or unsolicited) reaches the connection's on_pong is in
tests/unit/test_link.py."""

from __future__ import annotations

import sqlite3
from types import SimpleNamespace

import pytest

from zaspot.config import Config
from zaspot.core.bus import EventBus
from zaspot.core.state import FleetState, StationState
from zaspot.ocpp import liveness
from zaspot.ocpp.context import ServerContext
from zaspot.ocpp.liveness import Liveness
from zaspot.ocpp.server import station_id_from_path
from zaspot.rules.scope import station_view
from zaspot.store import Store


def context(store, config: Config | None = None) -> ServerContext:
    return ServerContext(config or Config(), store, EventBus(), FleetState())


async def test_a_big_fleet_is_written_whole_in_chunks(tmp_path):
    store = await Store.open(tmp_path / "z.db")
    try:
        seen = Liveness(context(store))
        n = 2 * liveness.CHUNK + 17
        for i in range(n):
            seen.ctx.fleet.heard(f"CP{i}", 100.0 + i)
        commits = store.stats.commits
        await seen.flush()
        assert store.stats.commits - commits == 3
        rows = await store._query("SELECT id, last_seen FROM stations")
        assert {r["id"]: r["last_seen"] for r in rows} == {f"CP{i}": 100.0 + i for i in range(n)}
    finally:
        await store.close()


async def test_only_stations_heard_since_the_last_flush_are_written(tmp_path):
    store = await Store.open(tmp_path / "z.db")
    try:
        ctx = context(store)
        seen = Liveness(ctx)
        seen.ctx.fleet.heard("A", 1.0)
        seen.ctx.fleet.heard("B", 2.0)
        await seen.flush()
        commits = store.stats.commits
        await seen.flush()  # nothing moved
        assert store.stats.commits == commits
        ctx.fleet.stations["B"].last_seen = 5.0  # what a session does per frame, and a pong
        await seen.flush()
        rows = await store._query("SELECT id, last_seen FROM stations")
        assert {r["id"]: r["last_seen"] for r in rows} == {"A": 1.0, "B": 5.0}
    finally:
        await store.close()


async def test_what_could_not_be_written_waits_for_the_next_flush(tmp_path):
    path = tmp_path / "z.db"
    store = await Store.open(path, busy_timeout_ms=20)
    other = sqlite3.connect(path, isolation_level=None)
    try:
        seen = Liveness(context(store))
        seen.ctx.fleet.heard("A", 1.0)
        seen.ctx.fleet.heard("B", 2.0)
        other.execute("BEGIN IMMEDIATE")  # the database is locked elsewhere
        with pytest.raises(sqlite3.OperationalError):
            await seen.flush()
        other.execute("ROLLBACK")
        seen.ctx.fleet.heard("B", 3.0)  # heard again meanwhile: the newer time is written
        await seen.flush()
        rows = await store._query("SELECT id, last_seen FROM stations")
        assert {r["id"]: r["last_seen"] for r in rows} == {"A": 1.0, "B": 3.0}
    finally:
        other.close()
        await store.close()


async def test_stop_flushes_what_is_left(tmp_path):
    store = await Store.open(tmp_path / "z.db")
    try:
        seen = Liveness(context(store))
        seen.start()
        seen.ctx.fleet.heard("LAST", 7.0)
        await seen.stop()
        assert (await store.station("LAST"))["last_seen"] == 7.0
    finally:
        await store.close()


def session(fleet: FleetState, station_id: str, last_seen: float) -> SimpleNamespace:
    """What the watchdog reads of a session: its id and its fleet record."""
    state = fleet.heard(station_id, last_seen)
    state.connected = state.online = True
    return SimpleNamespace(station_id=station_id, state=state)


async def test_the_watchdog_reports_a_silent_station_offline_once_and_online_when_heard_again():
    config = Config()
    config.ocpp.offline_after = 10
    ctx = context(None, config)
    fired = []
    quiet, chatty = session(ctx.fleet, "QUIET", 100.0), session(ctx.fleet, "CHATTY", 100.0)
    ctx.sessions.update(QUIET=quiet, CHATTY=chatty)
    seen = Liveness(ctx)

    chatty.state.last_seen = 105.0
    fired += seen.check(112.0)
    fired += seen.check(113.0)  # once, not per check
    assert [(e.type, e.station_id, e.last_seen) for e in fired] == [("station_offline", "QUIET", 100.0)]
    assert quiet.state.online is False and chatty.state.online is True

    ctx.fleet.heard("QUIET", 113.5)  # a pong
    fired += seen.check(114.0)
    assert [(e.type, e.station_id) for e in fired[1:]] == [("station_online", "QUIET")]
    assert quiet.state.online is True


def test_a_zero_or_tiny_offline_timeout_does_not_spin_the_watchdog():
    config = Config()
    seen = Liveness(context(None, config))
    for offline_after, heartbeat in ((0.001, 300), (0, 0), (1, 300)):
        config.ocpp.offline_after, config.ocpp.heartbeat_interval = offline_after, heartbeat
        assert seen.check_every() >= 1.0
    config.ocpp.offline_after = 0
    config.ocpp.heartbeat_interval = 300
    assert seen.check_every() == liveness.MAX_CHECK_EVERY


def test_offline_for_counts_from_when_the_station_was_last_heard_from():
    away = StationState("AWAY", connected=True, online=False, last_seen=990.0)
    assert station_view(away, 1000.0)["offline_for"] == 10.0
    here = StationState("HERE", connected=True, online=True, last_seen=10.0)  # silent, but online
    assert station_view(here, 1000.0)["offline_for"] == 0.0
    gone = StationState("GONE", connected=False, online=False, last_seen=400.0)
    assert station_view(gone, 1000.0)["offline_for"] == 600.0


@pytest.mark.parametrize("path", ["/ocpp/", "/ocpp//", "//", "/ocpp", "/", "", "/ocpp/?x=1", "/a/b/c"])
def test_paths_that_name_no_station(path):
    assert station_id_from_path(path) is None


@pytest.mark.parametrize("path, station_id", [
    ("/ocpp/CP1", "CP1"), ("/CP1", "CP1"), ("/ocpp//CP1", "CP1"), ("/ocpp/CP1/", "CP1"),
    ("//CP1", "CP1"), ("/ocpp/ocpp", "ocpp"), ("/ocpp/CP1?x=1", "CP1"),
])
def test_paths_that_name_a_station(path, station_id):
    assert station_id_from_path(path) == station_id
