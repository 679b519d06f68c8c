"""An accelerated November 2026 on a real in-process zaspot with two simulated stations,
CP-1 (OCPP 1.6, connectors 1 and 2) and CP-2 (OCPP 2.0.1, EVSEs 1 and 2): scripted drops,
faults with codes, an Unavailable period partly inside the config's maintenance window and
a restart of zaspot in the middle. Uptime, outage and excluded minutes, failures, MTBF and
MTTR from uptime.availability() are compared with the figures worked out by hand below.

The virtual clock (tests/health/clock.py) jumps to each scripted moment; the real seconds
the script takes after each jump (a few tens of ms; a restart about a second) are the
tolerance the figures are compared with.
"""

from __future__ import annotations

import pytest

from tests.health.clock import utc, virtual_clock  # noqa: F401  (the fixture)
from tests.helpers import free_port, until
from zaspot.app import App
from zaspot.config import Config
from zaspot.health import calendar, uptime
from zaspot.health.config import HealthConfig, MaintenanceWindow
from zaspot.sim.station import SimStation

pytestmark = pytest.mark.timeout(60)

MINUTES = 0.05  # 3 s: what the script's real time adds to a figure in minutes
HOURS = 0.01


def health_config() -> HealthConfig:
    window = MaintenanceWindow("2026-11-10T08:00", "2026-11-10T12:00", "connector swap", ["CP-2"])
    return HealthConfig(timezone="UTC", target=99.0, maintenance=[window])


async def start(tmp_path, port: int) -> App:
    config = Config(host="127.0.0.1", port=port, db=str(tmp_path / "z.db"), rules=str(tmp_path / "rules"))
    config.ocpp.ping_interval = 0
    config.ocpp.offline_after = 604800  # 7 days: the clock's jumps alone never make a station offline
    config.health = health_config()
    app = App(config)
    await app.start()
    return app


class Script:
    def __init__(self, app: App, clock) -> None:
        self.app, self.clock = app, clock

    async def rows(self, station_id: str, cause: str, since: float) -> list[dict]:
        rows = await self.app.ctx.store.outages_between(0, 2e9, station_id)
        return [r for r in rows if r["cause"] == cause and r["started"] >= since - 1]

    async def opened(self, station_id: str, cause: str, since: float, ports: int) -> list[dict]:
        async def check():
            rows = [r for r in await self.rows(station_id, cause, since) if r["ended"] is None]
            return rows if len(rows) == ports else None
        return await until(check)

    async def closed(self, station_id: str, cause: str, since: float, ports: int) -> list[dict]:
        async def check():
            rows = [r for r in await self.rows(station_id, cause, since) if r["ended"] is not None]
            return rows if len(rows) >= ports else None
        return await until(check)

    async def drop(self, station: SimStation, at: str, back: str, ports: int = 2) -> None:
        """The station drops its WebSocket at `at` and connects again at `back`."""
        since = utc(at)
        self.clock.set(since)
        await station.go_offline(86400)
        await self.opened(station.station_id, "offline", since, ports)
        self.clock.set(utc(back))
        station.come_back()
        await self.closed(station.station_id, "offline", since, ports)
        await station.wait_booted()

    async def fault(self, station: SimStation, connector: int, code: str, at: str) -> None:
        self.clock.set(utc(at))
        await station.proto.report_problem(connector, code, True)
        await until(lambda: self._port_open(station.station_id, connector, "faulted"))

    async def recover(self, station: SimStation, connector: int, at: str) -> None:
        self.clock.set(utc(at))
        await station.proto.report_problem(connector, "NoError", False)
        await until(lambda: self._port_up(station.station_id, connector))

    async def _port_open(self, station_id: str, evse: int, cause: str) -> bool:
        rows = await self.app.ctx.store.outages_between(0, 2e9, station_id)
        return any(r["evse_id"] == evse and r["cause"] == cause and r["ended"] is None for r in rows)

    async def _port_up(self, station_id: str, evse: int) -> bool:
        rows = await self.app.ctx.store.outages_between(0, 2e9, station_id)
        return not any(r["evse_id"] == evse and r["ended"] is None for r in rows)


async def test_a_month_of_drops_faults_maintenance_and_a_restart_gives_the_hand_computed_figures(
        tmp_path, virtual_clock):  # noqa: F811
    clock = virtual_clock  # 2026-11-01T00:00 UTC
    port = free_port()
    app = await start(tmp_path, port)
    url = f"ws://127.0.0.1:{port}/ocpp"
    # Heartbeats every real second keep each station's last-seen time on the virtual clock.
    cp1 = SimStation("CP-1", url, "1.6", connectors=2, heartbeat_interval=1, reconnect_delay=0.2, validate=True)
    cp2 = SimStation("CP-2", url, "2.0.1", connectors=2, heartbeat_interval=1, reconnect_delay=0.2, validate=True)
    stations = (cp1, cp2)
    script = Script(app, clock)
    try:
        for st in stations:
            await st.start()
        for st in stations:
            await st.wait_booted()
        await until(lambda: _ports(app, 4))

        # 11-03 10:00-13:00  CP-1 drops its WebSocket: both its ports offline 180 min
        await script.drop(cp1, "2026-11-03T10:00", "2026-11-03T13:00")
        # 11-05 08:00-10:30  CP-1 connector 1 GroundFailure: 150 min, failure 1 of c1
        await script.fault(cp1, 1, "GroundFailure", "2026-11-05T08:00")
        await script.recover(cp1, 1, "2026-11-05T10:30")
        # 11-10 06:00-10:00  CP-2 EVSE 1 Unavailable (ChangeAvailability Inoperative): 240 min,
        #                    of which 08:00-10:00 = 120 min inside the maintenance window (excluded)
        clock.set(utc("2026-11-10T06:00"))
        assert (await app.commands.change_availability("CP-2", False, evse_id=1)).ok
        await until(lambda: script._port_open("CP-2", 1, "unavailable"))
        clock.set(utc("2026-11-10T10:00"))
        assert (await app.commands.change_availability("CP-2", True, evse_id=1)).ok
        await until(lambda: script._port_up("CP-2", 1))
        # 11-12 14:00-17:00  CP-2 EVSE 2 Faulted (2.0.1 has no error code: "Faulted"): 180 min
        await script.fault(cp2, 2, "GroundFailure", "2026-11-12T14:00")
        await script.recover(cp2, 2, "2026-11-12T17:00")

        # 11-15 12:00-12:30  zaspot stops (every station's connection closes) and starts again
        #                    on the same database half an hour later: all 4 ports offline 30 min
        clock.set(utc("2026-11-15T12:00"))
        await app.stop()
        clock.set(utc("2026-11-15T12:30"))
        app = script.app = await start(tmp_path, port)
        for sid in ("CP-1", "CP-2"):
            await script.closed(sid, "offline", utc("2026-11-15T12:00"), 2)

        # 11-20 09:00-09:45  CP-1 connector 2 HighTemperature: 45 min, failure 1 of c2
        # 11-20 09:30-10:00  CP-1 connector 1 GroundFailure:   30 min, failure 2 of c1
        #                    (the station as a unit: one failure, 09:00-10:00 = 60 min)
        await script.fault(cp1, 2, "HighTemperature", "2026-11-20T09:00")
        await script.fault(cp1, 1, "GroundFailure", "2026-11-20T09:30")
        await script.recover(cp1, 2, "2026-11-20T09:45")
        await script.recover(cp1, 1, "2026-11-20T10:00")
        # 11-27 02:00-06:00  CP-2 drops its WebSocket: both its ports offline 240 min
        await script.drop(cp2, "2026-11-27T02:00", "2026-11-27T06:00")

        clock.set(utc("2026-12-01T00:10"))
        store, config = app.ctx.store, app.ctx.config.health
        start_, end = calendar.month_bounds("2026-11", config.zone)
        figures = await uptime.availability(store, config, start_, end)
        rolling = await uptime.availability(store, config, *calendar.rolling_bounds("2026-11", config.zone))
        days = {d["day"]: d["uptime"] for d in await uptime.daily(store, config, start_, end)}
        outages = await store.outages_between(start_, end)
    finally:
        for st in stations:
            await st.stop()
        await app.stop()

    ports = {(p["station_id"], p["evse_id"]): p for p in figures["ports"]}
    stations_ = {s["station_id"]: s for s in figures["stations"]}
    site = figures["site"]
    # Every port was seen first at 11-01 00:00: T = 30 days = 43,200 min each.
    for p in figures["ports"]:
        assert p["minutes"] == pytest.approx(43200, abs=MINUTES)

    # CP-1 c1: offline 180 + 30 = 210, faulted 150 + 30 = 180 -> outage 390, excluded 0
    #   uptime (43200 - 390) / 43200 = 99.097 %; 2 failures; MTTR 180 / 2 = 90 min = 1.5 h;
    #   MTBF (43200 - 390) min = 713.5 h / 2 = 356.75 h
    _port(ports["CP-1", 1], 99.097, 390, 0, {"offline": 210, "faulted": 180, "unavailable": 0}, 2, 356.75, 1.5)
    # CP-1 c2: offline 210, faulted 45 -> outage 255; uptime 42945 / 43200 = 99.410 %;
    #   1 failure; MTTR 0.75 h; MTBF 42945 min = 715.75 h
    _port(ports["CP-1", 2], 99.410, 255, 0, {"offline": 210, "faulted": 45, "unavailable": 0}, 1, 715.75, 0.75)
    # CP-2 EVSE 1: offline 30 + 240 = 270, unavailable 240 (120 excluded) -> outage 510, excluded 120;
    #   uptime (43200 - (510 - 120)) / 43200 = 42810 / 43200 = 99.097 %; no failure
    _port(ports["CP-2", 1], 99.097, 510, 120, {"offline": 270, "faulted": 0, "unavailable": 240}, 0, None, None)
    # CP-2 EVSE 2: offline 270, faulted 180 -> outage 450; uptime 42750 / 43200 = 98.958 %
    #   (below the 99 % target); 1 failure; MTTR 3 h; MTBF 42750 min = 712.5 h
    _port(ports["CP-2", 2], 98.958, 450, 0, {"offline": 270, "faulted": 180, "unavailable": 0}, 1, 712.5, 3.0)

    # CP-1: (86400 - 645) / 86400 = 99.253 %. As a unit: faulted 08:00-10:30 and 09:00-10:00
    #   = 2 failures, 150 + 60 = 210 min -> MTTR 1.75 h; down (offline 210 + faulted 210) = 420 min,
    #   up 43200 - 420 = 42780 min = 713 h -> MTBF 356.5 h
    _station(stations_["CP-1"], 99.253, 645, 0, 2, 356.5, 1.75)
    # CP-2: outage 510 + 450 = 960, excluded 120: (86400 - 840) / 86400 = 99.028 %. As a unit:
    #   1 failure of 180 min -> MTTR 3 h; down offline 270 + unavailable 06:00-08:00 120 + faulted 180
    #   = 570 min, up 42630 min = 710.5 h -> MTBF 710.5 h
    _station(stations_["CP-2"], 99.028, 960, 120, 1, 710.5, 3.0)
    assert [s["station_id"] for s in figures["stations"]] == ["CP-2", "CP-1"]  # worst first
    assert figures["ports"][0]["station_id"] == "CP-2" and figures["ports"][0]["evse_id"] == 2

    # Site: (172800 - (1605 - 120)) / 172800 = 171315 / 172800 = 99.141 %; 3 failures of
    #   210 + 180 = 390 min -> MTTR 2.167 h; MTBF (713 + 710.5) / 3 = 474.5 h; 1 port below 99 %
    assert site["uptime"] == pytest.approx(99.141, abs=0.002)
    assert (site["ports"], site["below_target"], site["failures"]) == (4, 1, 3)
    assert site["outage_minutes"] == pytest.approx(1605, abs=4 * MINUTES)
    assert site["excluded_minutes"] == pytest.approx(120, abs=MINUTES)
    assert site["mttr_hours"] == pytest.approx(390 / 60 / 3, abs=HOURS)
    assert site["mtbf_hours"] == pytest.approx(474.5, abs=HOURS)

    # The 12 months to November: the ports exist since November 1, so the same figures.
    assert rolling["site"]["uptime"] == site["uptime"]
    assert rolling["ports"] == figures["ports"]
    # Days: 11-03 CP-1's two ports down 180 min of 4 x 1440: (5760 - 360) / 5760 = 93.75 %;
    #   11-15 all four ports 30 min: (5760 - 120) / 5760 = 97.917 %; 11-10 CP-2 EVSE 1 down
    #   06:00-08:00 (counted) = 120 min: 97.917 %; 11-30 nothing: 100 %
    assert days["2026-11-03"] == pytest.approx(93.75, abs=0.002)
    assert days["2026-11-15"] == pytest.approx(97.917, abs=0.002)
    assert days["2026-11-10"] == pytest.approx(97.917, abs=0.002)
    assert days["2026-11-30"] == 100.0 and len(days) == 30

    # The rows: causes, codes and details as the script made them.
    def kinds(sid, evse):
        return [(o["cause"], o["code"], o["detail"]) for o in outages if (o["station_id"], o["evse_id"]) == (sid, evse)]
    offline = ("offline", None, "disconnected")
    assert kinds("CP-1", 1) == [offline, ("faulted", "GroundFailure", None), offline, ("faulted", "GroundFailure", None)]
    assert kinds("CP-1", 2) == [offline, offline, ("faulted", "HighTemperature", None)]
    assert kinds("CP-2", 1) == [("unavailable", None, None), offline, offline]
    assert kinds("CP-2", 2) == [("faulted", "Faulted", None), offline, offline]
    assert all(o["ended"] is not None for o in outages)


async def _ports(app: App, count: int) -> bool:
    return len(await app.ctx.store.health_ports()) == count


def _port(p, uptime_, outage, excluded, by_cause, failures, mtbf, mttr) -> None:
    assert p["uptime"] == pytest.approx(uptime_, abs=0.002), p
    assert p["outage_minutes"] == pytest.approx(outage, abs=2 * MINUTES), p
    assert p["excluded_minutes"] == pytest.approx(excluded, abs=MINUTES), p
    for cause, minutes in by_cause.items():
        assert p["by_cause"][cause] == pytest.approx(minutes, abs=2 * MINUTES), (cause, p)
    assert p["failures"] == failures, p
    for key, value in (("mtbf_hours", mtbf), ("mttr_hours", mttr)):
        assert (p[key] is None) if value is None else p[key] == pytest.approx(value, abs=HOURS), (key, p)


def _station(s, uptime_, outage, excluded, failures, mtbf, mttr) -> None:
    assert s["uptime"] == pytest.approx(uptime_, abs=0.002), s
    assert s["ports"] == 2
    assert s["outage_minutes"] == pytest.approx(outage, abs=4 * MINUTES), s
    assert s["excluded_minutes"] == pytest.approx(excluded, abs=MINUTES), s
    assert s["failures"] == failures, s
    assert s["mtbf_hours"] == pytest.approx(mtbf, abs=HOURS), s
    assert s["mttr_hours"] == pytest.approx(mttr, abs=HOURS), s

