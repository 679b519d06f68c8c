"""The control loop: one ticker that reads the sensors and the fleet, asks the strategy
(through the Controller), grants each EVSE what is really free (zaspot.ems.grants), and
publishes what it did.

It ticks every `ems.interval` seconds, and at once when a session starts or ends, a
station boots or a limit is settled, so a new car is shared in without waiting. Grants go
to the limit owner (zaspot.limits), which sends them in the background with the EVSE's
safe limit as the tail after the lease: a tick never waits for a station, and what a
station refused or left unanswered stays counted at what it last accepted.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from zaspot.core import events as ev
from zaspot.core.energy_events import EmsState, LimitChanged, LimitInForce
from zaspot.core.pricing_events import PricesFetched, SessionNeedChanged
from zaspot.ems.config import EmsConfig
from zaspot.ems.controller import Controller
from zaspot.ems.grants import Grant, GrantBook
from zaspot.ems.inputs import Sensors, Sessions
from zaspot.ems.prices.base import PriceSlot
from zaspot.ems.site import Site
from zaspot.ems.view import Decision, Snapshot

_LOGGER = logging.getLogger(__name__)
# A new need or new prices change a plan now, not a tick later.
_WAKE_ON = (ev.TransactionStarted.type, ev.TransactionEnded.type, ev.StationBooted.type, LimitInForce.type,
            SessionNeedChanged.type, PricesFetched.type)


class EmsManager:
    def __init__(self, ctx: Any, commands: Any, config: EmsConfig, site: Site, strategy_name: str,
                 controller: Controller, sensors: Sensors) -> None:
        self.ctx, self.commands, self.config, self.site = ctx, commands, config, site
        self.strategy_name, self.controller, self.sensors = strategy_name, controller, sensors
        self.book = GrantBook(site, config.deadband, config.lease)
        self.sessions = Sessions()
        self.prices: tuple[PriceSlot, ...] = ()  # the price feed's (ctx.prices) as of the last tick
        self.last: Snapshot | None = None
        self.decision: Decision | None = None
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._unsubs: list[Callable[[], None]] = []

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        bus = self.ctx.bus
        self._unsubs = [bus.listen(t, self._on_event, name="ems.manager") for t in _WAKE_ON]
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="ems.loop")

    async def stop(self) -> None:
        for unsub in self._unsubs:
            unsub()
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.sensors.close()

    async def _on_event(self, e: ev.Event) -> None:
        if isinstance(e, LimitInForce):
            await self._settled(e)
            return
        self.sessions.on_event(e)
        if isinstance(e, ev.StationBooted) and e.station_id in self.site.stations():
            self.book.forget(e.station_id)  # a rebooted station lost its profiles: send them all again
            self.ctx.limits.forget(e.station_id)
        self._wake.set()

    async def _loop(self) -> None:
        while True:
            self._wake.clear()
            try:
                await self.tick(time.time())
            except Exception:  # a bad tick is logged; the next one tries again
                _LOGGER.exception("ems tick failed")
            try:
                await asyncio.wait_for(self._wake.wait(), self.config.interval)
            except TimeoutError:
                pass

    # --- one tick --------------------------------------------------------------

    async def tick(self, now: float) -> Decision:
        readings = await self.sensors.read(now)
        await self._refresh_prices()
        states = self.sessions.states(self.site, self.ctx.fleet, self.ctx.needs)
        snap = Snapshot(now, self.site, states, readings, self.prices, self.book.amps())
        decision = self.controller.step(snap)
        self.last, self.decision = snap, decision
        limits = self.ctx.limits
        holding = {k: limits.holding(*k, spec.max_a) for k, spec in self.site.evses.items()}
        # Away, or not yet accepted (nothing but its boot may be asked of it): it keeps what it holds.
        reachable = {k for k in self.site.evses if getattr(self.ctx.sessions.get(k[0]), "accepted", False)}
        # Refused or unanswered: asked again next tick, then less and less often.
        again = {k for k in reachable if limits.retry_due(*k, now, self.config.interval)}
        for grant in self.book.plan(decision.limits, holding, now, reachable, again):
            self._grant(grant, now)
        if decision.battery_w is not None:
            await self.sensors.steer_battery(decision.battery_w)
        await self._publish(snap, decision, now)
        return decision

    def _grant(self, grant: Grant, now: float) -> None:
        spec = self.site.evses[grant.key]
        self.ctx.limits.grant(
            grant.key[0], grant.key[1], grant.amps, grant.reason, f"ems:{self.strategy_name}",
            volts=self.site.voltage, phases=len(spec.phases), unit=spec.unit, rating_a=spec.max_a,
            fallback_a=self.controller.safe[grant.key], lease_s=self.config.lease, renew=grant.renew)
        self.book.sent(grant, now)

    async def _settled(self, e: LimitInForce) -> None:
        """What the station answered to a limit on one of the site's EVSEs: kept, and told."""
        key = (e.station_id, e.evse_id)
        if key not in self.site.evses:
            return
        granted = self.book.amps().get(key)
        amps = e.amps if e.ok and e.amps is not None else (granted or 0.0)
        watts = self.site.evses[key].watts(amps, self.site.voltage)
        previous = None if e.ok else e.amps
        await self.ctx.store.ems_limit(e.station_id, e.evse_id, amps, watts, e.reason, previous, e.ok, e.error,
                                       e.time)
        self.ctx.bus.fire(LimitChanged(e.station_id, e.evse_id, amps, watts, e.reason, e.ok, previous, e.error))
        if e.ok:  # room a station gave up changes what the others may get; a refusal is asked again next tick
            self._wake.set()

    async def _refresh_prices(self) -> None:
        """The price feed's known periods (it fetches, stores and announces them: zaspot.pricing.feed)."""
        feed = self.ctx.prices
        slots = feed.slots() if feed is not None else ()
        if slots != self.prices:
            self.prices = slots
            await self.ctx.store.ems_prices([s.to_dict() for s in slots])

    # --- what others see -------------------------------------------------------

    def state(self) -> dict[str, Any]:
        """The latest tick as the API and the TUI show it."""
        snap, decision = self.last, self.decision
        if snap is None or decision is None:
            return {"strategy": self.strategy_name, "time": None, "limits": []}
        r, charging = snap.readings, {e.key for e in snap.charging}
        limits = [
            {"station_id": k[0], "evse_id": k[1], "amps": lim.amps, "reason": lim.reason, "charging": k in charging,
             "watts": round(self.site.evses[k].watts(lim.amps, self.site.voltage)),
             "sent_amps": self.book.amps().get(k), "in_force_amps": self.ctx.limits.evse(*k).accepted}
            for k, lim in decision.limits.items()
        ]
        return {
            "strategy": self.strategy_name, "time": snap.now, "grid_w": r.grid_w, "grid_a": r.grid_a,
            "pv_w": r.pv_w, "battery_soc": r.battery.soc if r.battery else None,
            "battery_w": r.battery.power_w if r.battery else None, "ev_w": round(snap.ev_w()),
            "main_breaker_a": self.site.main_breaker_a, "limits": limits, "notes": decision.notes,
            "sensor_errors": dict(self.sensors.errors),
        }

    async def _publish(self, snap: Snapshot, decision: Decision, now: float) -> None:
        state = self.state()
        self.ctx.bus.fire(EmsState(
            "", self.strategy_name, state["ev_w"], state["grid_w"], state["grid_a"], state["pv_w"],
            state["battery_soc"], state["battery_w"], tuple(state["limits"]), decision.notes, time=now))
        await self.ctx.store.ems_state(now, self.strategy_name, state)
