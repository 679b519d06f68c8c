"""Reservations end to end, both versions: a real server, simulated stations that answer
as real ones do, the operator API and the `zaspot` shell commands.

A reservation is made (the connector shows Reserved and the fleet says which
reservation holds it), used by a transaction with the card (used, linked to it), or
runs out (expired, the connector Available again); a refusal is one clear line; a
cancel frees the connector."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from tests.helpers import ROOT, start_app
from zaspot.api.client import ApiError, ZaspotClient
from zaspot.sim import SimStation

CARD = "RESV0001"


async def until(check: Callable[[], Awaitable[Any]], what: str, timeout: float = 10.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.fixture
async def site(tmp_path):
    app = await start_app(tmp_path, "resv.db")
    stations = {v: SimStation(f"R-{v}", f"{app.url}/ocpp", v, meter_interval=3600, validate=True, seed=3)
                for v in ("1.6", "2.0.1")}
    for st in stations.values():
        await st.start()
    for st in stations.values():
        await st.wait_booted()
    client = await ZaspotClient(f"{app.url}/api/websocket").connect()
    yield app, stations, client
    await client.close()
    for st in stations.values():
        await st.stop()
    await app.stop()


def where(version: str, n: int) -> dict[str, int]:
    """EVSE n as each version names it."""
    return {"connector_id": n} if version == "1.6" else {"evse_id": n}


def connector(app, station_id: str, n: int) -> Any:
    return app.ctx.fleet.stations[station_id].connector(n, n if station_id.endswith("1.6") else 1)


async def reservation(client: ZaspotClient, reservation_id: int) -> dict[str, Any]:
    [row] = [r for r in await client.command("reservations/list") if r["id"] == reservation_id]
    return row


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_reservation_is_made_then_used_and_another_expires(site, version):
    app, stations, client = site
    st = stations[version]
    sid = st.station_id

    made = await client.command("reservations/make", station_id=sid, id_token=CARD, minutes=5, **where(version, 1))
    assert made["status"] == "active" and made["evse_id"] == 1 and made["id_token"] == CARD
    assert made["expires_at"] == pytest.approx(time.time() + 300, abs=10)

    async def reserved() -> bool:
        state = (await client.command("station/get", station_id=sid))["state"]
        [c] = [c for c in state["connectors"] if c["evse_id"] == 1]
        return c["status"] == "Reserved" and c["reservation_id"] == made["id"]

    await until(reserved, "connector 1 Reserved, held by the reservation")

    tx = await st.start_transaction(1, CARD)  # the card arrives: the station names the reservation
    used = await until(lambda: _status(client, made["id"], "used"), "the reservation used")
    assert used["transaction_id"] == str(tx)
    stored = sqlite3.connect(app.config.db).execute(
        "SELECT reservation_id FROM transactions WHERE station_id = ? AND tx_key = ?", (sid, str(tx))).fetchone()
    assert stored == (made["id"],)
    assert connector(app, sid, 1).reservation_id is None

    short = await client.command("reservations/make", station_id=sid, id_token=CARD, expires_in=1.0,
                                 **where(version, 2))
    assert short["status"] == "active"
    await until(lambda: _connector_is(app, sid, 2, "Reserved"), "connector 2 Reserved")
    await until(lambda: _status(client, short["id"], "expired"), "the short reservation expired")
    await until(lambda: _connector_is(app, sid, 2, "Available"), "connector 2 Available again")
    assert connector(app, sid, 2).reservation_id is None
    changes = [(e["data"]["reservation_id"], e["data"]["status"])
               for e in reversed(await client.command("history/events", station_id=sid,
                                                      event_type="reservation_changed"))]
    assert changes == [(made["id"], "active"), (made["id"], "used"), (short["id"], "active"),
                       (short["id"], "expired")]
    assert [r["id"] for r in await client.command("reservations/list", station_id=sid, active_only=True)] == []
    await st.stop_transaction(1)


async def _status(client: ZaspotClient, reservation_id: int, status: str) -> dict[str, Any] | None:
    row = await reservation(client, reservation_id)
    return row if row["status"] == status else None


async def _connector_is(app, station_id: str, n: int, status: str) -> bool:
    return connector(app, station_id, n).status == status


def zaspot(app, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    env.pop("ZASPOT_TOKEN", None)
    return subprocess.run([sys.executable, "-m", "zaspot", *args, "--url", f"{app.url}/api/websocket"],
                          capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_the_shell_reserves_refuses_lists_and_cancels(site, version):
    app, stations, client = site
    st = stations[version]
    sid = st.station_id
    await st.start_transaction(1, "OTHER001")
    flag = "--connector" if version == "1.6" else "--evse"

    refused = await asyncio.to_thread(zaspot, app, "reserve", sid, "--card", CARD, flag, "1")
    assert (refused.returncode, refused.stdout, refused.stderr) == (
        1, "", "zaspot: rejected: station answered Occupied\n")
    where_ = "connector 2" if version == "1.6" else "EVSE 2"
    made = await asyncio.to_thread(zaspot, app, "reserve", sid, "--card", CARD, flag, "2", "--minutes", "30")
    assert made.returncode == 0, made.stderr
    assert made.stdout.startswith(f"reservation 2  {sid} {where_}  card {CARD}  active until "), made.stdout
    await until(lambda: _connector_is(app, sid, 2, "Reserved"), "connector 2 Reserved")

    listed = await asyncio.to_thread(zaspot, app, "reservations", "--station", sid)
    lines = listed.stdout.splitlines()
    assert lines[0].split() == ["ID", "STATION", "WHERE", "CARD", "STATUS", "EXPIRES", "DETAIL"]
    assert [line.split()[:6] for line in lines[1:]] == [["2", sid, *where_.split(), CARD, "active"]]

    cancelled = await asyncio.to_thread(zaspot, app, "reservations", "cancel", "2")
    assert cancelled.stdout == f"reservation 2  {sid} {where_}  card {CARD}  cancelled\n", cancelled.stderr
    await until(lambda: _connector_is(app, sid, 2, "Available"), "connector 2 Available after the cancel")
    everything = [(r["id"], r["status"], r["station_status"]) for r in await client.command("reservations/list")]
    assert everything == [(2, "cancelled", "Accepted"), (1, "rejected", "Occupied")]
    again = await asyncio.to_thread(zaspot, app, "reservations", "cancel", "2")
    assert (again.returncode, again.stderr) == (1, "zaspot: not_found: no active reservation 2 (it is cancelled)\n")
    await st.stop_transaction(1)


async def test_the_card_s_group_goes_with_it_and_a_blocked_card_gets_no_reservation(site):
    _app, stations, client = site
    await client.command("cards/add", id_token="FLEET001", group="FLEET")
    await client.command("cards/add", id_token="BLOCKED1")
    await client.command("cards/block", id_token="BLOCKED1")
    for version, st in stations.items():
        await client.command("reservations/make", station_id=st.station_id, id_token="FLEET001",
                             **where(version, 1))
        sent = await st.wait_for_call("ReserveNow")
        if version == "1.6":
            assert (sent["idTag"], sent["parentIdTag"]) == ("FLEET001", "FLEET")
        else:
            assert sent["groupIdToken"]["idToken"] == "FLEET" and sent["idToken"]["idToken"] == "FLEET001"
        with pytest.raises(ApiError) as blocked:
            await client.command("reservations/make", station_id=st.station_id, id_token="BLOCKED1",
                                 **where(version, 2))
        assert (blocked.value.code, blocked.value.message) == ("rejected", "card BLOCKED1 is Blocked")
        assert [a for a, _ in st.received].count("ReserveNow") == 1  # the blocked card's never left


async def test_stations_without_reservations_and_bad_requests_get_clear_answers(tmp_path):
    app = await start_app(tmp_path, "resv-no.db")
    plain = SimStation("NO-16", f"{app.url}/ocpp", "1.6", meter_interval=3600, features={"reservations": False})
    unknown = SimStation("NO-201", f"{app.url}/ocpp", "2.0.1", meter_interval=3600,
                         features={"reservations": "callerror"})
    client = None
    try:
        for st in (plain, unknown):
            await st.start()
            await st.wait_booted()
        client = await ZaspotClient(f"{app.url}/api/websocket").connect()
        with pytest.raises(ApiError) as refused:
            await client.command("reservations/make", station_id="NO-16", id_token=CARD, connector_id=1)
        assert (refused.value.code, refused.value.message) == ("rejected", "station answered Rejected")
        with pytest.raises(ApiError) as not_known:
            await client.command("reservations/make", station_id="NO-201", id_token=CARD, evse_id=1)
        assert not_known.value.code == "call_error" and "NotImplemented" in not_known.value.message
        with pytest.raises(ApiError) as connector_only:
            await client.command("reservations/make", station_id="NO-201", id_token=CARD, connector_id=1)
        assert connector_only.value.code == "invalid_format" and "EVSE" in connector_only.value.message
        with pytest.raises(ApiError) as away:
            await client.command("reservations/make", station_id="NOPE", id_token=CARD)
        assert away.value.code == "not_connected"
        with pytest.raises(ApiError) as forever:
            await client.command("reservations/make", station_id="NO-16", id_token=CARD, minutes=0)
        assert forever.value.code == "invalid_format"
        rows = [(r["station_id"], r["status"]) for r in await client.command("reservations/list")]
        assert rows == [("NO-201", "rejected"), ("NO-16", "rejected")]  # what was asked, and what became of it
    finally:
        if client is not None:
            await client.close()
        for st in (plain, unknown):
            await st.stop()
        await app.stop()


async def test_at_start_what_ran_out_is_expired_and_what_was_being_asked_is_rejected(tmp_path):
    app = await start_app(tmp_path, "resv-restart.db")
    st = SimStation("RS-16", f"{app.url}/ocpp", "1.6", meter_interval=3600)
    await st.start()
    await st.wait_booted()
    made = await app.ctx.reservations.make("RS-16", CARD, connector_id=1, minutes=60)
    await st.stop()
    await app.stop()
    db = sqlite3.connect(app.config.db)  # the hour passed while the server was down
    with db:
        db.execute("UPDATE reservations SET expires_at = ? WHERE id = ?", (time.time() - 1, made["id"]))
        # and one it was asking the station about when it stopped
        db.execute("INSERT INTO reservations (station_id, evse_id, connector_id, id_token, expires_at, status, "
                   "created_at, updated_at) VALUES ('RS-16', 2, 2, ?, ?, 'pending', 0, 0)", (CARD, time.time() + 60))
    db.close()

    app = await start_app(tmp_path, "resv-restart.db")
    try:
        rows = [(r["id"], r["status"]) for r in await app.ctx.reservations.list()]
        assert rows == [(made["id"] + 1, "rejected"), (made["id"], "expired")]
        assert app.ctx.fleet.stations["RS-16"].connector(1, 1).reservation_id is None
    finally:
        await app.stop()
