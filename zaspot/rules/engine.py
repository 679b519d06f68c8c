"""The rules engine: triggers in, runs out.

It listens on the bus once, with its own queue, and hands each event to the triggers
that asked for its type (plain, synchronous checks). A trigger that fires starts a run
as a tracked task, so no rule ever blocks the socket, the bus or another rule. Each run
checks its conditions, then its mode, cooldown and the per-station action cap decide
whether and when its actions go, and its trace is recorded whatever happened.

Mode and cooldown are kept per rule and station (a `Lane`): station B's hot connector
is not in station A's cooldown, and a silent station A does not hold a `single` rule
for B. A run whose trigger has no station (time, price) is in the rule's own lane.

After a restart the engine reads the event log from its saved position (zaspot.rules
runs it as a LogConsumer): a run's trace names the event that triggered it, so an
event read again runs each rule once, and the position saved never passes an event
whose runs have not stored their traces yet.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from zaspot.core.events import Event
from zaspot.core.registry import ACTION, Registry
from zaspot.core.state import FleetState
from zaspot.rules import traces as tr
from zaspot.rules.clock import RealClock, RealScheduler
from zaspot.rules.model import Rule
from zaspot.rules.run import Run
from zaspot.rules.scope import Scope
from zaspot.rules.triggers import platforms
from zaspot.rules.triggers.base import TriggerHandle

_LOGGER = logging.getLogger("zaspot.rules")
ACTIONS_PER_STATION_PER_HOUR = 30  # across all rules: a flapping fault cannot reset a station all day
BUS_QUEUE = 10_000


class ActionCap:
    """At most `per_hour` station actions per station in any hour."""

    def __init__(self, per_hour: int, clock: Any) -> None:
        self.per_hour, self.clock = per_hour, clock
        self._sent: dict[str, deque[float]] = {}

    def allow(self, station_id: str) -> bool:
        now = self.clock.now()
        sent = self._sent.setdefault(station_id, deque())
        while sent and sent[0] <= now - 3600:
            sent.popleft()
        if len(sent) >= self.per_hour:
            return False
        sent.append(now)
        return True


@dataclass
class Lane:
    """One rule's runs for one station (None: runs whose trigger has no station)."""

    active: set[asyncio.Task[Any]] = field(default_factory=set)
    waiting: int = 0
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # `queued`: one run at a time, in order
    cooldown_until: float = 0.0
    starts: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=1000))  # (time, run id)

    def busy(self) -> int:
        return len(self.active) + self.waiting

    def runs_within(self, seconds: float, now: float, this_run: int) -> int:
        return sum(1 for t, run_id in self.starts if run_id != this_run and now - t <= seconds)


@dataclass
class RuleState:
    rule: Rule
    detach: list[Callable[[], None]] = field(default_factory=list)
    lanes: dict[str | None, Lane] = field(default_factory=dict)

    def lane(self, station_id: str | None) -> Lane:
        lane = self.lanes.get(station_id)
        if lane is None:
            lane = self.lanes[station_id] = Lane()
        return lane

    @property
    def active(self) -> set[asyncio.Task[Any]]:
        """The rule's runs whose actions are going, on every station."""
        return {task for lane in self.lanes.values() for task in lane.active}


class Engine:
    def __init__(self, fleet: FleetState, registry: Registry, *, store: Any = None, clock: Any = None,
                 scheduler: Any = None, emit: Callable[[Event], None] | None = None,
                 actions_per_hour: int = ACTIONS_PER_STATION_PER_HOUR, stale_after: float | None = None) -> None:
        self.fleet, self.registry = fleet, registry
        # Events stamped by the station (meter values, status) older than this are a
        # backlog a reconnecting station replays: kept, but they trigger nothing.
        self.stale_after = stale_after
        self.clock = clock or RealClock()
        self.scheduler = scheduler or RealScheduler()
        self.emit = emit or self.dispatch
        self.caps = ActionCap(actions_per_hour, self.clock)
        self.traces = tr.TraceLog(store)
        self.states: dict[str, RuleState] = {}
        self.stats: Counter[str] = Counter()
        self._listeners: dict[str, list[Callable[[Event], None]]] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self.on_types_changed: Callable[[set[str]], None] | None = None
        self.done: set[tuple[str, int]] = set()  # (rule, trigger seq) run before a restart
        self.catching_up = False  # events come from the log, not live (after a restart)
        # A run of an event read back from the log waits for its station to be back
        # before its actions go (right after a restart most stations are reconnecting).
        self.wait_for_station: Callable[[str], Any] | None = None
        self._in_flight: Counter[int] = Counter()  # trigger seqs of runs not yet traced

    # --- what triggers use -------------------------------------------------------------

    def listen(self, event_type: str, callback: Callable[[Event], None]) -> Callable[[], None]:
        callbacks = self._listeners.setdefault(event_type, [])
        callbacks.append(callback)
        self._types_changed()

        def unlisten() -> None:
            if callback in callbacks:
                callbacks.remove(callback)
                self._types_changed()

        return unlisten

    def needed_types(self) -> set[str]:
        """The event types some trigger listens to right now."""
        return {t for t, callbacks in self._listeners.items() if callbacks}

    def _types_changed(self) -> None:
        # The bus only queues for us what a loaded rule can use: with no meter rule,
        # the busiest events (meter values) never reach the engine at all.
        if self.on_types_changed is not None:
            self.on_types_changed(self.needed_types())

    def dispatch(self, event: Event) -> None:
        """One event to every trigger that listens for its type (from the bus, or replay)."""
        if self.stale_after is not None and self.clock.now() - event.time > self.stale_after:
            self.stats["stale_events"] += 1
            return
        for callback in [*self._listeners.get(event.type, ()), *self._listeners.get("*", ())]:
            try:
                callback(event)
            except Exception:  # one broken trigger never stops the others
                self.stats["trigger_errors"] += 1
                _LOGGER.exception("a rule trigger failed on %s", event.type)

    def platforms(self) -> dict[str, Any]:
        return platforms(self.registry)

    def service(self, name: str) -> Any:
        item = self.registry.get(ACTION, name)
        return item.obj if item is not None else None

    # --- rules in and out ----------------------------------------------------------------

    @property
    def rules(self) -> dict[str, Rule]:
        return {rule_id: s.rule for rule_id, s in self.states.items()}

    def set_rules(self, rules: list[Rule]) -> None:
        """Make `rules` the running set: unchanged Rule objects keep their state."""
        wanted = {r.id: r for r in rules}
        for rule_id, state in list(self.states.items()):
            if wanted.get(rule_id) is not state.rule:
                self._detach(self.states.pop(rule_id))
        for rule in rules:
            if rule.id not in self.states:
                self.states[rule.id] = self._attach(rule)

    def _attach(self, rule: Rule) -> RuleState:
        state = RuleState(rule)
        available = self.platforms()
        for spec in rule.triggers:
            try:
                state.detach.append(available[spec.platform].attach(self, TriggerHandle(self, rule, spec), spec.config))
            except Exception:
                _LOGGER.exception("%s: rule %s: trigger %s could not start", rule.where, rule.id, spec.platform)
        return state

    def _detach(self, state: RuleState) -> None:
        for detach in state.detach:
            try:
                detach()
            except Exception:
                _LOGGER.exception("rule %s: a trigger did not detach cleanly", state.rule.id)

    # --- runs ----------------------------------------------------------------------------

    def fire(self, rule: Rule, variables: dict[str, Any]) -> None:
        """A trigger of `rule` fired: start its run (never waits)."""
        state = self.states.get(rule.id)
        if state is None or state.rule is not rule:
            return  # a timer of a rule that was reloaded meanwhile
        seq = variables.get("seq")
        if seq is not None and (rule.id, seq) in self.done:
            self.stats["already_run"] += 1  # read again from the log after a restart
            return
        self.stats["triggered"] += 1
        now = self.clock.now()  # when it fired, not when its task gets to run (replay's clock moves on)
        if seq is not None:
            self._in_flight[seq] += 1
        late = self.catching_up
        task = asyncio.get_running_loop().create_task(self._run(state, variables, now, late), name=f"rule:{rule.id}")
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _LOGGER.error("rule run %s failed", task.get_name(), exc_info=task.exception())

    def floor(self) -> int | float:
        """The highest log position whose runs have all stored their traces."""
        return min(self._in_flight) - 1 if self._in_flight else float("inf")

    async def _run(self, state: RuleState, variables: dict[str, Any], now: float, late: bool = False) -> None:
        seq = variables.get("seq")
        try:
            station_id = variables.get("station_id")
            if late and station_id and self.wait_for_station is not None:
                await self.wait_for_station(station_id)
            await self._traced_run(state, variables, now)
        finally:
            if seq is not None:
                self._in_flight[seq] -= 1
                if self._in_flight[seq] <= 0:
                    del self._in_flight[seq]

    async def _traced_run(self, state: RuleState, variables: dict[str, Any], now: float) -> None:
        rule = state.rule
        station_id = variables.get("station_id") or None
        lane = state.lane(station_id)
        trace = tr.Trace(rule.id, station_id, now, _plain(variables))
        functions = {"rule_runs": lambda seconds=3600: lane.runs_within(seconds, now, trace.run_id)}
        scope = Scope(variables, self.fleet, now)
        checks = [c.check(scope, functions) for c in rule.conditions]
        trace.conditions = [c.to_dict() for c in checks]
        trace.outcome = self._admit(rule, lane, all(c.result for c in checks), now)
        if trace.outcome == tr.DONE:
            await self._act(rule, lane, Run(self, rule, scope, trace, functions), now)
        trace.finished = self.clock.now()
        self.stats[trace.outcome] += 1
        await self.traces.record(trace)

    def _admit(self, rule: Rule, lane: Lane, conditions_ok: bool, now: float) -> str:
        """Whether a run goes: its mode and cooldown count only this station's runs of the rule."""
        if not conditions_ok:
            return tr.CONDITIONS_FAILED
        if now < lane.cooldown_until:
            return tr.COOLDOWN
        busy = lane.busy()
        if rule.mode == "single" and busy:
            return tr.ALREADY_RUNNING
        if rule.mode in ("queued", "parallel") and busy >= rule.max_runs:
            return tr.QUEUE_FULL
        if rule.mode == "restart":
            for task in lane.active:
                task.cancel()
        return tr.DONE

    async def _act(self, rule: Rule, lane: Lane, run: Run, now: float) -> None:
        task = asyncio.current_task()
        assert task is not None  # _act runs as its own task
        lane.cooldown_until = now + rule.cooldown_s
        lane.waiting += 1
        try:
            if rule.mode == "queued":
                await lane.lock.acquire()
        finally:
            lane.waiting -= 1
        lane.active.add(task)
        lane.starts.append((now, run.trace.run_id))
        self.stats["runs"] += 1
        try:
            await run.sequence(rule.actions, "action")
        except asyncio.CancelledError:
            run.trace.outcome = tr.CANCELLED  # restarted, reloaded or shutting down
        except Exception as exc:
            run.trace.outcome = tr.FAILED
            run.step("action", error=f"{type(exc).__name__}: {exc}")
            _LOGGER.exception("rule %s failed", rule.id)
        finally:
            lane.active.discard(task)
            if rule.mode == "queued":
                lane.lock.release()

    async def idle(self) -> None:
        """Wait until every run started so far (and any they started) has finished."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def stop(self) -> None:
        self.set_rules([])
        for task in list(self._tasks):
            task.cancel()
        await self.idle()
        self.scheduler.shutdown()


def _plain(variables: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in variables.items() if v is not None or k == "station_id"}
