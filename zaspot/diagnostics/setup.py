"""Wire diagnostics into a running central system: `teardown = await setup(ctx, commands)`.

Restores open alarms and module states from the store, then consumes the event log
(zaspot.core.consumer): what stations reported (statuses, device events, temperatures,
boots) in, faults, alarms, module states and temperatures out, each input's outputs
committed in one unit with the consumer's position. A crash between a station's
commit and the alarm it causes therefore delays the alarm to the next start; it
never loses it, and never opens it twice.
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
from zaspot.core.consumer import LogConsumer
from zaspot.core.energy_events import LimitProblem
from zaspot.core.health_events import TemperatureDrift
from zaspot.diagnostics.alarms import AlarmManager
from zaspot.diagnostics.interpret import Interpreter
from zaspot.diagnostics.inventory import ReportCollector, StationWatch
from zaspot.diagnostics.modules import ModuleTracker
from zaspot.diagnostics.readings import Reading
from zaspot.diagnostics.stations import StationModels
from zaspot.store.eventlog import save_position
from zaspot.store.publish import publish
from zaspot.store.unit import Unit

CONSUMER = "diagnostics"
INPUTS = (ev.StatusChanged.type, ev.DeviceEvent.type, ev.Temperature.type, ev.StationBooted.type,
          LimitProblem.type, TemperatureDrift.type)


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
            enabled, problem, tripped = (None if r[k] is None else bool(r[k])
                                         for k in ("enabled", "problem", "tripped"))
            fleet.apply(ev.PowerModule(r["station_id"], r["instance"], enabled, problem, tripped, r["celsius"]))
        open_alarms = await store.open_alarms()
        self.interpreter.restore(open_alarms)
        for a in self.alarms.restore(open_alarms):
            fleet.apply(ev.AlarmRaised(
                a.station_id, a.id, a.component, a.code, a.severity, a.message, a.evse_id,
                a.connector_id, a.instance, a.details, time=a.raised_at,
            ))

    async def attach(self) -> Callable[[], Any]:
        bus = self.ctx.bus
        consumer = LogConsumer(CONSUMER, bus, self.ctx.store, INPUTS, self.handle, new_from=self.ctx.log_start)
        await consumer.start()  # what was committed but not yet interpreted, first
        unsubs = [
            bus.listen(ev.StationBooted.type, self.on_booted, name="diagnostics.booted"),
            bus.listen(ev.StatusChanged.type, self.on_status, name="diagnostics.first_status"),
            bus.listen(ev.StationConnected.type, self.on_connected, name="diagnostics.resumed"),
        ]

        async def detach() -> None:
            for u in unsubs:
                u()
            await consumer.stop()

        return detach

    async def handle(self, e: ev.Event) -> None:
        """One logged input: what it means, committed with this consumer's position."""
        unit = Unit()
        if isinstance(e, ev.StatusChanged):
            self.interpreter.on_status(e, unit)
        elif isinstance(e, ev.DeviceEvent):
            self.interpreter.on_device_event(e, unit)
        elif isinstance(e, ev.StationBooted):
            self.models.booted(e)
        elif isinstance(e, LimitProblem):
            unit.emit(limit_fault(e))
        elif isinstance(e, TemperatureDrift):
            unit.emit(drift_fault(e))
        self._alarms(([e] if e.type == ev.Temperature.type else []) + list(unit.events), unit)
        if e.seq is not None:
            save_position(unit, CONSUMER, e.seq)
        await self._commit(unit)

    async def polled(self, station_id: str, readings: list[Reading], source: str) -> None:
        """Readings we asked for (GetVariables): nothing has stored their temperatures yet."""
        unit = Unit()
        self.interpreter.readings(station_id, readings, source, unit, temperatures=True)
        self._alarms(list(unit.events), unit)
        await self._commit(unit)

    def _alarms(self, derived: list[ev.Event], unit: Unit) -> None:
        for d in derived:
            if isinstance(d, ev.Fault):
                self.alarms.on_fault(d, unit)
            elif isinstance(d, ev.Temperature):
                self.alarms.on_temperature(d, unit)

    async def _commit(self, unit: Unit) -> None:
        if not unit.steps and not unit.events:
            return
        try:
            await publish(self.ctx.store, self.ctx.bus, unit)
        except Exception:
            # Not stored: what memory holds of open alarms may be ahead of the store now.
            self.alarms.restore(await self.ctx.store.open_alarms(), replace=True)
            raise

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
            self.polled,
        )
        task = session.spawn(watch.run(), "diagnostics.inventory")
        self.watches[station_id] = (watch, task)
        self._watched.add(session)
        task.add_done_callback(lambda t: self._done(station_id, t))

    def _done(self, station_id: str, task: asyncio.Task[Any]) -> None:
        if station_id in self.watches and self.watches[station_id][1] is task:
            del self.watches[station_id]


def limit_fault(e: LimitProblem) -> ev.Fault:
    """A limit a station refuses or ignores, as the fault its alarm opens and closes on."""
    return ev.Fault(e.station_id, f"limits:{e.code}", "evse", e.code, e.active, "error",
                    e.evse_id, 0, None, None, e.message or None, "limits", time=e.time)


def drift_fault(e: TemperatureDrift) -> ev.Fault:
    """A temperature per ampere risen past its baseline (zaspot.health.drift) as the fault its
    `TemperatureDrift` alarm opens and closes on: wear, a loose contact or a failing fan."""
    info = (f"{e.current:.3f} °C/A against a baseline of {e.baseline:.3f} °C/A (+{e.rise_pct:.0f}%)"
            if e.active else None)
    origin = f"health:drift:{e.location}:{e.evse_id}/{e.connector_id}:{e.instance or ''}"
    return ev.Fault(e.station_id, origin, e.component, "TemperatureDrift", e.active, "warning", e.evse_id,
                    e.connector_id, e.instance, None, info, "health", time=e.time)


async def setup(ctx, commands) -> Callable[[], Any]:
    diagnostics = Diagnostics(ctx, commands)
    await diagnostics.restore()
    return await diagnostics.attach()
