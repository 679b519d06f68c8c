"""Wire diagnostics into a running central system: `teardown = await setup(ctx, commands)`.

Restores open alarms and module states from the store, then listens on the bus.
After an accepted boot of a 2.0.1 station it starts that station's inventory and
monitoring task (zaspot.diagnostics.inventory) as a task of its session, once the
station reports its first connector status: a booted 2.0.1 station reports every
connector next (B01), so by then its own boot sequence is through and nothing of
ours lands in the middle of it. A station accepted before that reconnects without
booting gets its watch `resume_after` seconds after it connected.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any

from zaspot.core import events as ev
from zaspot.diagnostics import temperature
from zaspot.diagnostics.alarms import AlarmManager
from zaspot.diagnostics.interpret import Interpreter
from zaspot.diagnostics.inventory import ReportCollector, StationWatch
from zaspot.diagnostics.modules import ModuleTracker
from zaspot.diagnostics.stations import StationModels


class Diagnostics:
    def __init__(self, ctx, commands) -> None:
        self.ctx, self.commands = ctx, commands
        self.config = ctx.config.diagnostics
        self.models = StationModels()
        self.modules = ModuleTracker()
        self.reports = ReportCollector()
        self.interpreter = Interpreter(ctx, self.models, self.modules, self.reports)
        self.alarms = AlarmManager(ctx, self.config, self.models)
        self.watches: dict[str, tuple[StationWatch, asyncio.Task[Any]]] = {}
        self._booted: dict[str, Any] = {}  # station -> session booted, waiting for its first status
        # Sessions a watch was started on (weak: a closed session must not be kept alive).
        self._watched: weakref.WeakSet[Any] = weakref.WeakSet()

    async def restore(self) -> None:
        """What the store knows, into memory and the fleet state (not fired: nothing new happened)."""
        store, fleet = self.ctx.store, self.ctx.fleet
        await self.models.load(store)
        rows = await store.power_modules()
        self.modules.restore(rows)
        for r in rows:
            flags = [None if r[k] is None else bool(r[k]) for k in ("enabled", "problem", "tripped")]
            fleet.apply(ev.PowerModule(r["station_id"], r["instance"], *flags, r["celsius"]))
        for a in await self.alarms.restore():
            fleet.apply(ev.AlarmRaised(
                a.station_id, a.id, a.component, a.code, a.severity, a.message, a.evse_id,
                a.connector_id, a.instance, a.details, time=a.raised_at,
            ))

    def attach(self) -> Callable[[], None]:
        bus = self.ctx.bus
        unsubs = [
            self.models.attach(bus),
            self.interpreter.attach(),
            self.alarms.attach(),
            temperature.record(bus, self.ctx.store),
            bus.listen(ev.StationBooted.type, self.on_booted, name="diagnostics.booted"),
            bus.listen(ev.StatusChanged.type, self.on_status, name="diagnostics.first_status"),
            bus.listen(ev.StationConnected.type, self.on_connected, name="diagnostics.resumed"),
        ]
        return lambda: [u() for u in unsubs] and None

    def on_booted(self, e: ev.StationBooted) -> None:
        session = self.ctx.sessions.get(e.station_id)
        if e.registration == "Accepted" and session is not None and session.version == "2.0.1":
            self._booted[e.station_id] = session

    def on_status(self, e: ev.StatusChanged) -> None:
        # The boot was fired first and on_booted only records it, so it has run by now
        # (in a boot storm a first status may overtake it: the next one starts the watch).
        session = self._booted.pop(e.station_id, None)
        if session is None or self.ctx.sessions.get(e.station_id) is not session:
            return
        self._start_watch(e.station_id, session)

    def on_connected(self, e: ev.StationConnected) -> None:
        session = self.ctx.sessions.get(e.station_id)
        if session is not None and session.version == "2.0.1":
            session.spawn(self._resumed(e.station_id, session), "diagnostics.resume")

    async def _resumed(self, station_id: str, session: Any) -> None:
        """A 2.0.1 station that reconnects without booting (a network drop, or zaspot
        restarted) keeps its monitors, but the polling and what we know of it lived in the
        old session: start its watch again. One that reboots sends BootNotification
        first thing; the grace period leaves that case to on_booted."""
        await asyncio.sleep(self.config.resume_after)
        if session in self._watched or self._booted.get(station_id) is session:
            return
        await session.restore()  # what the store knows: was it accepted before?
        if session.accepted and self.ctx.sessions.get(station_id) is session:
            self._start_watch(station_id, session)

    def _start_watch(self, station_id: str, session: Any) -> None:
        previous = self.watches.get(station_id)
        if previous is not None:
            previous[1].cancel()  # booted again on this connection: start over
        watch = StationWatch(
            station_id, self.commands, self.config, self.ctx.config.ocpp.call_timeout, self.reports,
            lambda location: self.config.limit_for(location, self.models.model(station_id)),
            self.interpreter.readings_with_temperatures,
        )
        task = session.spawn(watch.run(), "diagnostics.inventory")
        self.watches[station_id] = (watch, task)
        self._watched.add(session)
        task.add_done_callback(lambda t: self._done(station_id, t))

    def _done(self, station_id: str, task: asyncio.Task[Any]) -> None:
        if station_id in self.watches and self.watches[station_id][1] is task:
            del self.watches[station_id]


async def setup(ctx, commands) -> Callable[[], None]:
    diagnostics = Diagnostics(ctx, commands)
    await diagnostics.restore()
    return diagnostics.attach()
