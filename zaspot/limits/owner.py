"""The one owner of every EVSE's power limit: intents in, one charging profile out.

Sources never send charging profiles themselves. The EMS grants each EVSE what the
fuses allow (`grant`); operators, rules and plugins set caps (`set`, `clear`, through
Commands.set_power_limit / clear_power_limit). The owner sends the lowest active
intent as one profile per EVSE (its fixed profile id and stack level, both versions:
zaspot.ocpp.charging_profiles), remembers what the station accepted, and says so:

- `reserved(key)` is what the fuses must keep for an EVSE: the most it may draw now or
  soon (what it accepted, what is on its way, what the EMS granted). A decrease the
  station refuses, or leaves unanswered, leaves its room counted at what it accepted
  last (unknown until it accepts one: its rating), so that room is never given away.
- A decrease refused or unanswered REFUSED_AFTER times in a row opens a `LimitRefused`
  alarm (a `limit_problem` event, which diagnostics turns into the alarm); an accepted
  limit the EVSE keeps drawing above for `limits.ignored_after` seconds opens `LimitIgnored`.
- After a limit is accepted it is read back (GetCompositeSchedule) where the station
  answers it: `applied` says whether what is in force is what was sent.

Sends to different stations run concurrently, each with its own call timeout; nobody
waits for a silent station but its own EVSE's next send.
"""

from __future__ import annotations

import asyncio
import builtins
import logging
import time
from dataclasses import dataclass, field
from typing import Any

from zaspot.core.energy_events import LimitInForce, LimitProblem
from zaspot.limits.intents import EMS_PREFIX, Composed, Intent, compose, floor_tenth
from zaspot.limits.readback import read_back
from zaspot.store.publish import publish_event

_LOGGER = logging.getLogger(__name__)
Key = tuple[str, int]
REFUSED_AFTER = 3
RETRY_MAX = 60.0  # s between asks of a station that keeps refusing
IGNORED_TOLERANCE = 0.1  # 10 % over the limit, plus one amp, is still following it
WATCH_EVERY = 5.0


@dataclass
class EvseLimit:
    key: Key
    volts: float = 230.0
    phases: int = 3
    unit: str = "A"  # what the station is sent: A, or W
    rating_a: float | None = None  # counted while nothing of ours is known to be in force
    intents: dict[str, Intent] = field(default_factory=dict)
    accepted: float | None = None  # amps the station last accepted from us (None: unknown)
    accepted_source: str | None = None
    accepted_reason: str = ""
    accepted_at: float = 0.0
    pending: float | None = None  # on its way
    unconfirmed: float | None = None  # a send that timed out: the station may have taken it (answer lost)
    failures: int = 0  # refused or unanswered in a row
    failed_at: float = 0.0
    last_error: str | None = None
    applied: bool | None = None  # read back: True in force, False not, None not known
    fallback_a: float | None = None  # the EMS's safe limit, the profile's tail after its lease
    lease_s: float | None = None
    over_since: float | None = None
    problems: set[str] = field(default_factory=set)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    again: bool = False  # intents changed while a send was on its way: send once more after it

    def amps_of(self, kw: float) -> float:
        return floor_tenth(kw * 1000 / (self.volts * self.phases))

    def watts(self, amps: float) -> float:
        return floor_tenth(amps * self.volts * self.phases)

    def ems_grant(self) -> float | None:
        grants = [i.amps for s, i in self.intents.items() if s.startswith(EMS_PREFIX)]
        return max(grants) if grants else None

    def known(self, now: float) -> float:
        """The most it may draw under what we know is in force: what it accepted (its
        rating before it accepted anything of ours), or a timed-out send it may have taken.
        (A lease that runs out never raises it: a profile's tail is at most its limit.)"""
        known = self.accepted if self.accepted is not None else (self.rating_a or 0.0)
        return max(known, self.unconfirmed or 0.0)

    def reserved(self) -> float:
        return max(self.known(time.time()), self.pending or 0.0, self.ems_grant() or 0.0)

    def to_dict(self, now: float) -> dict[str, Any]:
        composed = compose(list(self.intents.values()), now)
        return {
            "station_id": self.key[0], "evse_id": self.key[1], "unit": self.unit,
            "in_force_amps": self.accepted,
            "in_force_watts": None if self.accepted is None else self.watts(self.accepted),
            "set_by": self.accepted_source, "reason": self.accepted_reason, "since": self.accepted_at or None,
            "applied": self.applied, "wanted_amps": composed.amps, "wanted_by": composed.source,
            "pending_amps": self.pending, "failures": self.failures, "error": self.last_error,
            "problems": sorted(self.problems),
            "intents": [i.to_dict() for i in sorted(self.intents.values(), key=lambda i: i.amps) if i.active(now)],
        }


class LimitOwner:
    def __init__(self, ctx: Any, commands: Any) -> None:
        self.ctx, self.commands = ctx, commands
        self.evses: dict[Key, EvseLimit] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._watch: asyncio.Task[None] | None = None

    # --- what sources call --------------------------------------------------------------

    def evse(self, station_id: str, evse_id: int) -> EvseLimit:
        key = (station_id, evse_id)
        limit = self.evses.get(key)
        if limit is None:
            limit = self.evses[key] = EvseLimit(key)
        return limit

    async def set(self, station_id: str, evse_id: int, source: str, *, amps: float | None = None,
                  kw: float | None = None, reason: str = "", duration_s: float | None = None) -> Any:
        """A cap from `source` (replacing its earlier one on this EVSE); the station's answer
        to the profile it leads to (or, when a lower intent is in force, nothing to send)."""
        if (amps is None) == (kw is None):
            return _outcome(False, error="give either kw or amps", reason="invalid_request")
        asked = amps if amps is not None else kw
        if asked is None or asked < 0 or (duration_s is not None and duration_s <= 0):
            return _outcome(False, error="a limit is >= 0 and a duration > 0", reason="invalid_request")
        limit = self.evse(station_id, evse_id)
        if kw is not None:
            if limit.unit == "A" and (station_id, evse_id) not in self._ems_keys():
                limit.unit = "W"  # asked in kW, on a station the EMS does not size: sent in W
            amps = limit.amps_of(kw)
        assert amps is not None  # given, or from kw
        until = time.time() + duration_s if duration_s else None
        limit.intents[source] = Intent(source, floor_tenth(amps), reason or source, until, kw)
        if duration_s:  # until is set
            asyncio.get_running_loop().call_later(duration_s + 0.05, self._spawn_apply, limit)
        return await self._apply(limit)

    async def clear(self, station_id: str, evse_id: int, source: str) -> Any:
        """Take `source`'s intent away (an operator clears any operator's); the next one applies."""
        limit = self.evse(station_id, evse_id)
        operator = source.startswith("operator:")  # one operator's limit replaces another's
        gone = [s for s in limit.intents if s == source or (operator and s.startswith("operator:"))]
        for s in gone:
            del limit.intents[s]
        return await self._apply(limit, by=source)

    def grant(self, station_id: str, evse_id: int, amps: float, reason: str, source: str, *, volts: float,
              phases: int, unit: str, rating_a: float, fallback_a: float, lease_s: float, renew: bool) -> None:
        """The EMS's share for an EVSE (what the fuses allow it); sent in the background, so a
        tick never waits for a station. `renew`: send again even if nothing changed (its lease)."""
        limit = self.evse(station_id, evse_id)
        limit.volts, limit.phases, limit.unit, limit.rating_a = volts, phases, unit, rating_a
        limit.fallback_a, limit.lease_s = floor_tenth(fallback_a), lease_s
        for s in [s for s in limit.intents if s.startswith(EMS_PREFIX) and s != source]:
            del limit.intents[s]  # the strategy changed: one EMS grant per EVSE
        old = limit.intents.get(source)
        limit.intents[source] = Intent(source, floor_tenth(amps), reason)
        target = compose(list(limit.intents.values()), time.time()).amps
        if renew or old is None or target != limit.accepted or limit.failures or limit.lock.locked():
            self._spawn_apply(limit)  # on its way already: what it sends may not be this any more

    def reserved(self, station_id: str, evse_id: int) -> float:
        return self.evse(station_id, evse_id).reserved()

    def holding(self, station_id: str, evse_id: int, rating_a: float) -> float:
        """What the EVSE may draw whatever it is granted next: what it accepted last (its
        rating before it accepted anything of ours), or what is on its way, if more."""
        limit = self.evse(station_id, evse_id)
        limit.rating_a = limit.rating_a if limit.rating_a is not None else rating_a
        return max(limit.known(time.time()), limit.pending or 0.0)

    def retry_due(self, station_id: str, evse_id: int, now: float, first: float) -> bool:
        """A refused or unanswered limit is asked again after `first` s, then twice as long
        each time, up to RETRY_MAX (a station that keeps refusing is not asked every tick)."""
        limit = self.evse(station_id, evse_id)
        if not limit.failures:
            return False
        return now - limit.failed_at >= min(RETRY_MAX, first * 2 ** (limit.failures - 1))

    def busy(self, station_id: str, evse_id: int) -> bool:
        return self.evse(station_id, evse_id).lock.locked()

    def forget(self, station_id: str) -> None:
        """A station that booted again lost our profiles: nothing of ours is known in force."""
        for key, limit in self.evses.items():
            if key[0] == station_id:
                limit.accepted, limit.applied, limit.accepted_source = None, None, None

    def of(self, station_id: str) -> list[dict[str, Any]]:
        now = time.time()
        return [lim.to_dict(now) for key, lim in sorted(self.evses.items()) if key[0] == station_id]

    # --- sending --------------------------------------------------------------------------

    def _spawn_apply(self, limit: EvseLimit) -> None:
        if limit.lock.locked():  # a silent station would pile up a send per tick: one follow-up will do
            limit.again = True
            return
        task = asyncio.get_running_loop().create_task(self._apply(limit), name=f"limits:{limit.key}")
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("limit send failed", exc_info=task.exception())

    async def _apply(self, limit: EvseLimit, by: str | None = None) -> Any:
        async with limit.lock:  # one send per EVSE at a time; other stations go on
            outcome = await self._send(limit, by)
            while limit.again:
                limit.again = False
                outcome = await self._send(limit, by)
            return outcome

    async def _send(self, limit: EvseLimit, by: str | None) -> Any:
        """One profile (or the clear) for what the intents compose to now, and its outcome."""
        composed = compose(list(limit.intents.values()), time.time())
        station_id, evse_id = limit.key
        if composed.amps is None:  # no intent left: our profile goes (one may be there from before a restart)
            model = self.model_settings(station_id)
            wire_evse = 0 if model is not None and model.station_wide else evse_id
            outcome = await self.commands.clear_limit(station_id, wire_evse, source=by or "limits")
            if outcome.ok:
                limit.accepted, limit.accepted_source, limit.accepted_reason = None, None, ""
            return outcome
        limit.pending = composed.amps
        try:
            outcome = await self.commands.send_limit(station_id, evse_id, self._profile(limit, composed),
                                                     source=composed.source)
        finally:
            limit.pending = None
        await self._settle(limit, composed, outcome)
        return outcome

    def model_settings(self, station_id: str) -> Any:
        """What this station's model takes (`limits.models`), or None."""
        station = self.ctx.fleet.stations.get(station_id)
        models = self.ctx.config.limits.models
        return models.get(station.model) if station is not None and station.model else None

    def _profile(self, limit: EvseLimit, composed: Composed) -> dict[str, Any]:
        """What the commands layer turns into SetChargingProfile: the limit, and with the EMS
        behind it a lease after which the safe limit (or a lower cap) takes over; shaped
        the way the station's model takes it."""
        amps = composed.amps or 0.0
        args: dict[str, Any] = {}
        model = self.model_settings(limit.key[0])
        if model is not None:
            limit.unit = model.unit or limit.unit
            args.update(stack_level=model.stack_level, station_wide=model.station_wide)
        caps = [i for s, i in limit.intents.items() if not s.startswith(EMS_PREFIX)]
        if limit.fallback_a is not None and limit.lease_s:
            # The tail is never above the limit: when a lease runs out unrenewed (zaspot gone,
            # the station silent) what may be drawn only goes down, whoever got the room meanwhile.
            tail = min([limit.fallback_a, amps, *(i.amps for i in caps if i.until is None)])
            args.update(fallback_after_s=limit.lease_s,
                        fallback=tail if limit.unit == "A" else limit.watts(tail) / 1000)
        else:
            until = [i.until for i in caps if i.amps == amps and i.until is not None]
            if until:
                args["duration_s"] = max(1, int(until[0] - time.time()))
        if limit.unit == "W":
            args["kw"] = composed.kw if composed.kw is not None else limit.watts(amps) / 1000
        else:
            args["amps"] = amps
        return args

    async def _settle(self, limit: EvseLimit, composed: Composed, outcome: Any) -> None:
        now = time.time()
        decrease = limit.accepted is None or (composed.amps or 0.0) < limit.accepted
        if outcome.ok:
            changed = (limit.accepted, limit.accepted_source) != (composed.amps, composed.source)
            limit.accepted, limit.accepted_source = composed.amps, composed.source
            limit.accepted_reason = composed.reason
            limit.accepted_at, limit.failures, limit.last_error, limit.applied = now, 0, None, None
            limit.unconfirmed = None
            await self._problem(limit, "LimitRefused", False, "")
            if changed:
                await self._announce(limit, True, None)
            model = self.model_settings(limit.key[0])
            if model is None or model.read_back:
                self._spawn(self._read_back(limit, composed.amps or 0.0))
            return
        limit.failures += 1
        limit.failed_at = now
        if outcome.reason == "timeout":  # the station may have taken it: counted until one is confirmed
            limit.unconfirmed = max(limit.unconfirmed or 0.0, composed.amps or 0.0)
        limit.last_error = outcome.error or f"station answered {outcome.status}"
        await self._announce(limit, False, limit.last_error)
        if decrease and limit.failures >= REFUSED_AFTER:
            message = (f"EVSE {limit.key[1]} refused to go down to {composed.amps:g} A {limit.failures} times "
                       f"({limit.last_error}); its room stays counted at "
                       f"{limit.accepted if limit.accepted is not None else limit.rating_a} A")
            await self._problem(limit, "LimitRefused", True, message)

    async def _read_back(self, limit: EvseLimit, amps: float) -> None:
        applied = await read_back(self.commands, limit.key[0], limit.key[1], limit.unit,
                                  amps if limit.unit == "A" else limit.watts(amps))
        if limit.accepted == amps:
            limit.applied = applied

    async def _announce(self, limit: EvseLimit, ok: bool, error: str | None) -> None:
        now = time.time()
        amps = limit.accepted
        await publish_event(self.ctx.store, self.ctx.bus, LimitInForce(
            limit.key[0], limit.key[1], amps, None if amps is None else limit.watts(amps), limit.accepted_source,
            limit.accepted_reason, ok, error,
            tuple(i.to_dict() for i in limit.intents.values() if i.active(now)), time=now))

    async def _problem(self, limit: EvseLimit, code: str, active: bool, message: str) -> None:
        if active == (code in limit.problems):
            return
        (limit.problems.add if active else limit.problems.discard)(code)
        await publish_event(self.ctx.store, self.ctx.bus,
                            LimitProblem(limit.key[0], limit.key[1], code, active, message))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro, name="limits")
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _ems_keys(self) -> builtins.set[Key]:
        return {k for k, lim in self.evses.items() if lim.ems_grant() is not None}

    # --- did it take effect -----------------------------------------------------------------

    def start(self) -> None:
        self._watch = asyncio.get_running_loop().create_task(self._watch_loop(), name="limits.watch")

    async def stop(self) -> None:
        if self._watch is not None:
            self._watch.cancel()
        for task in [self._watch, *self._tasks]:
            if task is not None:
                task.cancel()
        await asyncio.gather(*(t for t in [self._watch, *self._tasks] if t is not None), return_exceptions=True)

    async def _watch_loop(self) -> None:
        while True:
            await asyncio.sleep(WATCH_EVERY)
            try:
                await self.check_drawing(time.time())
            except Exception:
                _LOGGER.exception("limit watch failed")

    async def check_drawing(self, now: float) -> None:
        """An EVSE drawing above what it accepted, for `limits.ignored_after` s: LimitIgnored."""
        for limit in list(self.evses.values()):
            drawn = self._drawn_w(limit.key)
            over = (limit.accepted is not None and drawn is not None
                    and drawn > limit.watts(limit.accepted) * (1 + IGNORED_TOLERANCE) + limit.volts * limit.phases)
            if not over or drawn is None:
                limit.over_since = None
                await self._problem(limit, "LimitIgnored", False, "")
                continue
            limit.over_since = limit.over_since or now
            if now - limit.over_since >= self.ctx.config.limits.ignored_after:
                await self._problem(limit, "LimitIgnored", True,
                                    f"EVSE {limit.key[1]} accepted {limit.accepted:g} A but draws "
                                    f"{drawn / 1000:.1f} kW for {now - limit.over_since:.0f} s")

    def _drawn_w(self, key: Key) -> float | None:
        station = self.ctx.fleet.stations.get(key[0])
        if station is None or not station.connected:
            return None
        powers = [c.power_w for c in station.connectors.values()
                  if c.power_w is not None and (key[1] == 0 or c.evse_id == key[1])]
        return sum(powers) if powers else None


def _outcome(ok: bool, status: str | None = None, result: Any = None, error: str | None = None,
             reason: str | None = None) -> Any:
    from zaspot.ocpp.commands import Outcome  # the commands layer builds on this one

    return Outcome(ok, status, result, error, reason)
