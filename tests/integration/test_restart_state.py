"""State survives a restart: real `zaspot run` processes on one SQLite file, raw OCPP-J
stations of both versions, and the operator API.

1. What the fleet looked like before a stop (SIGTERM) or a crash (kill -9) is what the
   next process shows before any station is back: connectors, running transactions,
   the latest energy, temperatures, open alarms, last seen; and a `station` offline rule
   fires for the station that stays away, not for those that come back.
2. A crash after a message was committed but before any consumer saw its events: the
   next process finishes the work once (one alarm, one rule run, one command), however
   the station's retry of the unanswered message lands.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import sqlite3
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
import websockets

from tests.helpers import ROOT, ZaspotProcess
from zaspot.api.client import ZaspotClient

OFFLINE_RULE = "restart_offline_log"
# Long enough that the stations which come back are back well inside it, however the
# hold is counted (from the moment they went away or from the new process's start).
HOLD_S = 4.0
GROUND_RULE = "ground_failure_inoperative"
CRASH_VARIABLE = "ZASPOT_CRASH_AFTER_COMMIT"


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def until(check: Callable[[], Awaitable[Any]], timeout: float, what: str, every: float = 0.1) -> Any:
    """Poll `check` until it returns something truthy; fail with `what` (and the last
    value seen) once the deadline has passed."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        last = await check()
        if last:
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} (not within {timeout:g} s; last seen: {last!r})")
        await asyncio.sleep(every)


def answer(action: str, payload: dict[str, Any]) -> dict[str, Any]:
    """What a well-behaved station answers to the server's CALLs."""
    if action == "GetBaseReport":
        return {"status": "NotSupported"}  # no inventory: keeps the 2.0.1 diagnostics quiet
    if action == "GetConfiguration":
        return {"configurationKey": [], "unknownKey": payload.get("key", [])}
    if action == "GetVariables":
        return {"getVariableResult": [{"attributeStatus": "UnknownVariable", "component": d["component"],
                                       "variable": d["variable"]} for d in payload.get("getVariableData", [])]}
    if action == "DataTransfer":
        return {"status": "UnknownVendorId"}
    if action == "GetLocalListVersion":
        return {"listVersion": 0}
    return {"status": "Accepted"}  # ChangeAvailability, TriggerMessage, Reset, SetChargingProfile, …


class Station:
    """A raw OCPP-J station: answers the server's CALLs, keeps what it was sent, and can
    leave a CALL of its own unanswered (the server crashed)."""

    def __init__(self, station_id: str, version: str) -> None:
        self.id, self.version = station_id, version
        self.ws: Any = None
        self.received: list[tuple[str, dict[str, Any]]] = []  # CALLs the server sent us
        self._ids = itertools.count(1)
        self._pending: dict[str, asyncio.Future[list[Any]]] = {}
        self._tasks: list[asyncio.Task[None]] = []

    async def connect(self, url: str) -> Station:
        self.ws = await websockets.connect(f"{url}/ocpp/{self.id}", subprotocols=[f"ocpp{self.version}"])
        assert self.ws.subprotocol == f"ocpp{self.version}"
        self._tasks = [asyncio.create_task(self._read())]
        return self

    async def _read(self) -> None:
        ws = self.ws
        try:
            async for message in ws:
                frame = orjson.loads(message)
                if frame[0] == 2:
                    self.received.append((frame[2], frame[3]))
                    await ws.send(orjson.dumps([3, frame[1], answer(frame[2], frame[3])]).decode())
                elif (future := self._pending.pop(frame[1], None)) is not None and not future.done():
                    future.set_result(frame)
        except websockets.ConnectionClosed:
            pass
        finally:
            for future in self._pending.values():
                if not future.done():
                    future.set_exception(ConnectionError(f"{self.id}: the connection closed before the answer"))
            self._pending.clear()

    async def send(self, action: str, payload: dict[str, Any], message_id: str | None = None) -> asyncio.Future:
        """Send a CALL; the future resolves to the server's CALLRESULT / CALLERROR frame."""
        message_id = message_id or f"{self.id}-{next(self._ids)}"
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = future
        await self.ws.send(orjson.dumps([2, message_id, action, payload]).decode())
        return future

    async def call(self, action: str, payload: dict[str, Any], timeout: float = 10) -> dict[str, Any]:
        frame = await asyncio.wait_for(await self.send(action, payload), timeout)
        assert frame[0] == 3, f"{self.id} {action}: {frame}"
        return frame[2]

    def keep_alive(self, every: float = 0.5) -> None:
        """Heartbeats, as a live station sends them (the offline watchdog stays quiet)."""

        async def beat() -> None:
            with contextlib.suppress(Exception):
                while True:
                    await asyncio.sleep(every)
                    await self.call("Heartbeat", {})

        self._tasks.append(asyncio.create_task(beat()))

    async def close(self) -> None:
        for task in self._tasks[1:]:
            task.cancel()
        if self.ws is not None:
            await self.ws.close()
        for task in self._tasks:
            with contextlib.suppress(BaseException):
                await task
        self._tasks = []

    def calls(self, action: str) -> list[dict[str, Any]]:
        return [payload for a, payload in self.received if a == action]


# --- test 1: the live fleet after a restart ------------------------------------------

# id, version, faulted (one connector/EVSE reports a fault that opens an alarm)
FLEET = [("RS16-A", "1.6", True), ("RS16-B", "1.6", False), ("RS201-A", "2.0.1", True), ("RS201-B", "2.0.1", False)]
AWAY = "RS16-B"  # stays away after the restart
FAULTED_16 = "RS16-A"


def expected_of(index: int, station_id: str, version: str, faulted: bool) -> dict[str, Any]:
    """What each station will tell the server (and the fleet must then show)."""
    energy, power = 20_000.0 + 1_000 * index, 7_000.0 + 100 * index
    if version == "1.6":
        statuses = {(0, 0): ("Available", "NoError"), (1, 1): ("Charging", "NoError"),
                    (2, 2): ("Faulted", "GroundFailure") if faulted else ("Available", "NoError")}
        temperature = 30.0 + index  # MeterValues Temperature, location Body
    else:
        statuses = {(1, 1): ("Occupied", None), (2, 1): ("Faulted", None) if faulted else ("Available", None)}
        temperature = 41.5 if faulted else 39.0  # NotifyEvent Connector/Temperature
    return {"vendor": f"Vendor-{station_id}", "model": f"Model-{station_id}", "ocpp_version": version,
            "statuses": statuses, "energy_wh": energy, "power_w": power, "temperature": temperature,
            "open_alarm_count": 1 if faulted else 0}


async def report_16(st: Station, exp: dict[str, Any]) -> str:
    boot = await st.call("BootNotification", {"chargePointVendor": exp["vendor"], "chargePointModel": exp["model"]})
    assert boot["status"] == "Accepted", boot

    async def status(connector: int) -> None:
        state, code = exp["statuses"][(connector, connector)]
        await st.call("StatusNotification", {"connectorId": connector, "status": state, "errorCode": code,
                                             "timestamp": now_iso()})

    await status(0)
    await st.call("StatusNotification", {"connectorId": 1, "status": "Preparing", "errorCode": "NoError",
                                         "timestamp": now_iso()})
    await status(2)
    started = await st.call("StartTransaction", {"connectorId": 1, "idTag": "TAG-1",
                                                 "meterStart": int(exp["energy_wh"]) - 500, "timestamp": now_iso()})
    tx_id = started["transactionId"]
    await status(1)  # Charging
    await st.call("MeterValues", {"connectorId": 1, "transactionId": tx_id, "meterValue": [{
        "timestamp": now_iso(), "sampledValue": [
            {"value": str(exp["energy_wh"]), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
            {"value": str(exp["power_w"]), "measurand": "Power.Active.Import", "unit": "W"},
            {"value": str(exp["temperature"]), "measurand": "Temperature", "location": "Body", "unit": "Celsius"},
        ]}]})
    return str(tx_id)


async def report_201(st: Station, exp: dict[str, Any]) -> str:
    boot = await st.call("BootNotification", {"chargingStation": {"vendorName": exp["vendor"], "model": exp["model"]},
                                              "reason": "PowerUp"})
    assert boot["status"] == "Accepted", boot

    async def status(evse: int, state: str) -> None:
        await st.call("StatusNotification", {"timestamp": now_iso(), "connectorStatus": state, "evseId": evse,
                                             "connectorId": 1})

    await status(1, "Available")
    await status(2, exp["statuses"][(2, 1)][0])
    tx_id = f"TX-{st.id}"
    await st.call("TransactionEvent", {
        "eventType": "Started", "timestamp": now_iso(), "triggerReason": "Authorized", "seqNo": 0,
        "transactionInfo": {"transactionId": tx_id, "chargingState": "Charging"},
        "evse": {"id": 1, "connectorId": 1}, "idToken": {"idToken": "TAG-1", "type": "ISO14443"},
        "meterValue": [{"timestamp": now_iso(), "sampledValue": [
            {"value": exp["energy_wh"] - 500, "measurand": "Energy.Active.Import.Register",
             "unitOfMeasure": {"unit": "Wh"}}]}],
    })
    await status(1, "Occupied")
    await st.call("MeterValues", {"evseId": 1, "meterValue": [{"timestamp": now_iso(), "sampledValue": [
        {"value": exp["energy_wh"], "measurand": "Energy.Active.Import.Register", "unitOfMeasure": {"unit": "Wh"}},
        {"value": exp["power_w"], "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}},
    ]}]})
    await st.call("NotifyEvent", {"generatedAt": now_iso(), "seqNo": 0, "tbc": False, "eventData": [{
        "eventId": 1, "timestamp": now_iso(), "trigger": "Periodic", "eventNotificationType": "HardWiredMonitor",
        "actualValue": str(exp["temperature"]),
        "component": {"name": "Connector", "evse": {"id": 1, "connectorId": 1}}, "variable": {"name": "Temperature"},
    }]})
    return tx_id


def connectors_of(state: dict[str, Any]) -> dict[tuple[int, int], dict[str, Any]]:
    return {(c["evse_id"], c["connector_id"]): c for c in state.get("connectors") or []}


def shows_everything(state: dict[str, Any] | None, exp: dict[str, Any], tx_id: str) -> bool:
    """The first server's live state of one station, once all it was told has landed."""
    if not state or not state.get("online"):
        return False
    connectors = connectors_of(state)
    for key, (status, code) in exp["statuses"].items():
        c = connectors.get(key)
        if c is None or c["status"] != status or (code == "GroundFailure" and c["error_code"] != code):
            return False
    main = connectors[(1, 1)]
    return (main["transaction_id"] == tx_id and main["energy_wh"] == exp["energy_wh"]
            and exp["temperature"] in state["temperatures"].values()
            and state["open_alarm_count"] == exp["open_alarm_count"] and state["vendor"] == exp["vendor"])


def restore_problems(station_id: str, before: dict[str, Any], after: dict[str, Any] | None,
                     stopped_at: float, first_frame_at: float) -> list[str]:
    """Field by field, what differs between the restarted server's state of a station and
    the first one's (online/connected must be false: it has not reconnected)."""
    if after is None:
        return [(f"{station_id} has no live state after the restart (state is None): the fleet state was not "
                 f"rebuilt from the database (before the restart it showed {before})")]
    problems = []
    for field in ("online", "connected"):
        if after.get(field) is not False:
            problems.append(f"{station_id} {field}={after.get(field)!r} before it reconnected")
    for field in ("ocpp_version", "vendor", "model", "temperatures", "open_alarm_count"):
        if after.get(field) != before[field]:
            problems.append(f"{station_id} {field}: {after.get(field)!r} after the restart, {before[field]!r} before")
    was, now = connectors_of(before), connectors_of(after)
    for key, c in was.items():
        if key not in now:
            problems.append(f"{station_id} connector (evse, connector) {key} is missing after the restart "
                            f"(it has {sorted(now)})")
            continue
        for field in ("status", "error_code", "transaction_id", "energy_wh"):
            if now[key].get(field) != c[field]:
                problems.append(f"{station_id} connector {key} {field}: {now[key].get(field)!r} after the restart, "
                                f"{c[field]!r} before")
    if set(now) - set(was):
        problems.append(f"{station_id} has connectors {sorted(set(now) - set(was))} it did not have before")
    last_seen = after.get("last_seen") or 0
    if not first_frame_at - 1 <= last_seen <= stopped_at:
        problems.append(f"{station_id} last_seen {last_seen!r} is not between its first frame ({first_frame_at:.3f}) "
                        f"and the first server's stop ({stopped_at:.3f})")
    return problems


def write_config(tmp_path: Path, rules: str, **ocpp: Any) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir()
    (folder / "rules.yaml").write_text(rules)
    lines = [f"rules: {folder}"] + (["ocpp:"] + [f"  {k}: {v}" for k, v in ocpp.items()] if ocpp else [])
    config = tmp_path / "zaspot.yaml"
    config.write_text("\n".join(lines) + "\n")
    return config


async def offline_runs(server: ZaspotProcess, since: float) -> dict[str, list[str]]:
    """station id -> outcomes of the offline rule's runs that started at or after `since`."""
    async with ZaspotClient(f"{server.url}/api/websocket") as client:
        traces = await client.command("history/rule_traces", rule_id=OFFLINE_RULE, limit=1000)
    runs: dict[str, list[str]] = {}
    for trace in traces:
        if trace["started"] >= since:
            runs.setdefault(trace["station_id"], []).append(trace["outcome"])
    return runs


@pytest.mark.timeout(120)
@pytest.mark.parametrize("stop", ["sigterm", "kill9"])
async def test_the_fleet_is_whole_after_a_restart_before_any_station_reconnects(tmp_path, stop):
    config = write_config(tmp_path, (
        f"- id: {OFFLINE_RULE}\n"
        "  trigger:\n"
        "    - platform: station\n"
        "      event: offline\n"
        f"      for: {HOLD_S:g}s\n"
        "  action:\n"
        "    - service: log\n"
        "      data: {message: \"{station_id} is offline\"}\n"
        "  mode: parallel\n"
    ), offline_after=2, heartbeat_interval=60)
    db = tmp_path / "zaspot.db"
    server = ZaspotProcess(db, config=config).start()
    stations: dict[str, Station] = {}
    try:
        expected = {sid: expected_of(i, sid, version, faulted) for i, (sid, version, faulted) in enumerate(FLEET)}
        first_frame_at: dict[str, float] = {}
        tx_ids: dict[str, str] = {}
        for sid, version, _ in FLEET:
            first_frame_at[sid] = time.time()
            stations[sid] = st = await Station(sid, version).connect(server.url)
            report = report_16 if version == "1.6" else report_201
            tx_ids[sid] = await report(st, expected[sid])
            st.keep_alive()

        async with ZaspotClient(f"{server.url}/api/websocket") as client:
            async def fleet_complete() -> dict[str, Any] | None:
                listed = {s["id"]: s for s in await client.command("fleet/list")}
                if all(sid in listed and shows_everything(listed[sid]["state"], expected[sid], tx_ids[sid])
                       for sid in expected):
                    return listed
                return None

            before = await until(fleet_complete, 10, "the first server's fleet/list never showed all four stations")
            before_get = await client.command("station/get", station_id=FAULTED_16)
        ground = connectors_of(before[FAULTED_16]["state"])[(2, 2)]
        assert (ground["status"], ground["error_code"]) == ("Faulted", "GroundFailure")

        # Stop: SIGTERM after the stations left, or kill -9 while they are connected.
        went_away = time.time()
        if stop == "sigterm":
            for st in stations.values():
                await st.close()
            assert server.stop() == 0, server.log.read_text()
        else:
            server.kill9()
            for st in stations.values():
                await st.close()
        stopped_at = time.time()

        restarted_at = time.time()
        server = ZaspotProcess(db, config=config).start()
        async with ZaspotClient(f"{server.url}/api/websocket") as client:
            async def compare() -> list[str]:
                listed = {s["id"]: s for s in await client.command("fleet/list")}
                got = await client.command("station/get", station_id=FAULTED_16)
                problems = [f"fleet/list lists {sorted(listed)}, before the restart {sorted(before)}"
                            ] if set(listed) != set(before) else []
                for sid, entry in listed.items():
                    if sid not in before:
                        continue
                    if entry.get("connected") is not False:
                        problems.append(f"fleet/list: {sid} connected={entry.get('connected')!r} before it reconnected")
                    problems += [f"fleet/list: {p}" for p in restore_problems(
                        sid, before[sid]["state"], entry["state"], stopped_at, first_frame_at[sid])]
                if got.get("connected") is not False:
                    problems.append(f"station/get: {FAULTED_16} connected={got.get('connected')!r}")
                problems += [f"station/get: {p}" for p in restore_problems(
                    FAULTED_16, before_get["state"], got["state"], stopped_at, first_frame_at[FAULTED_16])]
                stored = {c["connector_id"]: (c["status"], c["error_code"]) for c in got["connectors"]}
                if stored.get(2) != ("Faulted", "GroundFailure"):
                    problems.append(f"station/get: {FAULTED_16} stored connectors {got['connectors']}")
                return problems

            # The projection may finish building just after /healthz answers: a few tries
            # (no station has reconnected meanwhile), then whatever the last answer was.
            async def restored() -> bool:
                return not await compare()

            with contextlib.suppress(AssertionError):
                await until(restored, 3, "restored")
            problems = await compare()
        assert not problems, "after the restart, before any station reconnected:\n  " + "\n  ".join(problems)
        for sid in expected:
            assert before[sid]["state"]["open_alarm_count"] == expected[sid]["open_alarm_count"]

        # Three come back (no BootNotification: a Heartbeat, as after a server restart), one stays away.
        back = [sid for sid, _, _ in FLEET if sid != AWAY]
        for sid in back:
            st = stations[sid] = Station(sid, stations[sid].version)
            await st.connect(server.url)
            await st.call("Heartbeat", {})
            st.keep_alive()
        back_at = time.time()
        assert back_at - went_away < HOLD_S - 0.5, (
            f"the test itself was too slow: stations came back {back_at - went_away:.1f} s after they went away, "
            f"not well inside the {HOLD_S:g} s hold")

        async def away_ran() -> dict[str, list[str]] | None:
            runs = await offline_runs(server, restarted_at)
            return runs if AWAY in runs else None

        runs = await until(away_ran, HOLD_S + 8,
                           f"the offline rule never ran for {AWAY}, which stayed away after the restart")
        assert runs.get(AWAY, [None])[0] == "done", runs

        # By now the hold would have run out for the others too, had it been started for them.
        async def settled() -> dict[str, list[str]] | None:
            if time.time() < restarted_at + HOLD_S + 1.5:
                return None
            return await offline_runs(server, restarted_at)

        runs = await until(settled, HOLD_S + 5, "settled")
        assert runs == {AWAY: ["done"]}, (
            f"offline rule runs after the restart: {runs}; expected one for {AWAY} only ({', '.join(back)} came back)")
    finally:
        for st in stations.values():
            await st.close()
        server.stop()


# --- test 2: a crash between the commit and the consumers -----------------------------


def db_rows(db: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


@pytest.mark.timeout(120)
async def test_a_crash_between_the_commit_and_the_consumers_is_resumed_once(tmp_path, monkeypatch):
    config = write_config(tmp_path, (ROOT / "rules" / "ground_failure.yaml").read_text())
    db = tmp_path / "zaspot.db"
    sid = "CRASH-16"

    monkeypatch.setenv(CRASH_VARIABLE, "status_changed:GroundFailure")
    server = ZaspotProcess(db, config=config).start()
    monkeypatch.delenv(CRASH_VARIABLE)
    st = Station(sid, "1.6")
    try:
        await st.connect(server.url)
        boot = await st.call("BootNotification", {"chargePointVendor": "Acme", "chargePointModel": "Wallbox"})
        assert boot["status"] == "Accepted", boot
        await st.call("StatusNotification", {"connectorId": 1, "status": "Available", "errorCode": "NoError",
                                             "timestamp": now_iso()})
        fault = {"connectorId": 1, "status": "Faulted", "errorCode": "GroundFailure", "timestamp": now_iso()}
        unanswered = await st.send("StatusNotification", fault, message_id="fault-1")
        try:
            frame = await asyncio.wait_for(unanswered, 10)
        except ConnectionError:
            frame = None
        except TimeoutError:
            frame = "no answer and no close within 10 s"
        assert frame is None, (
            f"the server did not crash as {CRASH_VARIABLE}=status_changed:GroundFailure asked: it answered the "
            f"Faulted/GroundFailure StatusNotification with {frame!r} (is the fault-injection hook missing?)")

        async def exited() -> bool:
            return server.proc.poll() is not None

        await until(exited, 10, "the connection closed but the first server is still running")
        server.stop()  # already gone: closes its log
        await st.close()
        # The crash came where it was asked to: the message is committed, no consumer saw it.
        committed = db_rows(db, "SELECT status, error_code FROM connectors WHERE station_id = ? AND connector_id = 1",
                            sid)
        assert committed == [("Faulted", "GroundFailure")], f"connector 1 as stored before the crash: {committed}"
        early = db_rows(db, "SELECT code FROM alarms WHERE station_id = ?", sid)
        assert early == [], f"an alarm was stored before the crash, so a consumer ran first: {early}"

        # The station's frame was committed before the crash: the next process must finish its work.
        server = ZaspotProcess(db, config=config).start()
        st = Station(sid, "1.6")
        await st.connect(server.url)
        retry = await asyncio.wait_for(await st.send("StatusNotification", fault, message_id="fault-1"), 10)
        assert retry[0] == 3, f"the retried StatusNotification got {retry}"

        async def alarm_trace_command() -> tuple[int, int, int]:
            open_alarms = db_rows(db, "SELECT COUNT(*) FROM alarms WHERE station_id = ? AND connector_id = 1 "
                                      "AND code = 'GroundFailure' AND cleared_at IS NULL", sid)[0][0]
            runs = db_rows(db, "SELECT COUNT(*) FROM rule_traces WHERE rule_id = ? AND station_id = ? "
                               "AND outcome = 'done'", GROUND_RULE, sid)[0][0]
            return open_alarms, runs, len(st.calls("ChangeAvailability"))

        async def all_seen() -> tuple[int, int, int] | None:
            counts = await alarm_trace_command()
            return counts if all(counts) else None

        await until(all_seen, 15, "after the restart: (open GroundFailure alarms, rule runs, ChangeAvailability "
                                  "received) never all became non-zero")

        # Give a second alarm, rule run or command time to show up, had the retry or the
        # resumed consumers done the work again.
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            assert await alarm_trace_command() == (1, 1, 1), (
                f"(open GroundFailure alarms, '{GROUND_RULE}' runs, ChangeAvailability received) = "
                f"{await alarm_trace_command()}, expected exactly one of each")
            await asyncio.sleep(0.2)

        total = db_rows(db, "SELECT COUNT(*) FROM alarms WHERE station_id = ? AND code = 'GroundFailure'", sid)[0][0]
        assert total == 1, f"{total} GroundFailure alarm rows for {sid} (open or closed), expected one"
        outcomes = db_rows(db, "SELECT outcome FROM rule_traces WHERE rule_id = ? AND station_id = ?", GROUND_RULE, sid)
        assert outcomes == [("done",)], f"rule traces of {GROUND_RULE}: {outcomes}"
        assert st.calls("ChangeAvailability") == [{"connectorId": 1, "type": "Inoperative"}], st.received
        async with ZaspotClient(f"{server.url}/api/websocket") as client:
            listed = {s["id"]: s for s in await client.command("fleet/list")}
        state = listed[sid]["state"]
        assert state is not None and state["open_alarm_count"] == 1, f"fleet/list state of {sid}: {state}"
        assert list(state["open_alarms"].values()) == ["GroundFailure"], state["open_alarms"]
    finally:
        await st.close()
        server.stop()
