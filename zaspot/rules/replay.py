"""`zaspot rules test`: recorded events through the rules, on a virtual clock, with
every station command and notification captured instead of sent.

The fleet state is rebuilt from the same events, so conditions see what they would
have seen; `for:` holds, delays and time triggers run on the events' own time.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from zaspot.core.event_catalog import rebuild as rebuild_event
from zaspot.core.events import Event
from zaspot.core.registry import ACTION
from zaspot.core.state import FleetState
from zaspot.ocpp.commands import Outcome
from zaspot.rules import traces as tr
from zaspot.rules.catalog import offline_registry
from zaspot.rules.clock import VirtualClock, VirtualScheduler
from zaspot.rules.engine import Engine
from zaspot.rules.loader import Loader, RuleError, check_paths
from zaspot.rules.triggers import platforms
from zaspot.store.rules import read_events

NOT_SENT = "not sent (replay)"
# What trigger platforms read, from the event log (meter samples from their own table).
RECORDED = (
    "station_connected", "station_disconnected", "station_offline", "station_online", "station_booted",
    "status_changed", "temperature", "meter_sample", "transaction_started", "transaction_ended",
    "fault", "power_module", "alarm_raised", "alarm_cleared", "price_updated", "rule_event",
)


class DryRunCommands:
    """Stands in for zaspot.ocpp.commands.Commands: every command succeeds, nothing is sent."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)

        async def command(*args: Any, **kwargs: Any) -> Outcome:
            return Outcome(True, NOT_SENT)

        return command


async def _notify(data: Mapping[str, Any]) -> Any:
    return {"status": NOT_SENT}


@dataclass
class ReplayReport:
    events: int = 0
    first: float | None = None
    last: float | None = None
    traces: list[tr.Trace] = field(default_factory=list)
    errors: list[RuleError] = field(default_factory=list)

    @property
    def fired(self) -> list[tr.Trace]:
        return [t for t in self.traces if t.outcome == tr.DONE]


def rebuild(row: Mapping[str, Any]) -> Event | None:
    """A stored event back into its dataclass (None for a type this build does not know)."""
    return rebuild_event(row["type"], row["data"])


async def replay(rule_paths: Iterable[str | Path], db: str, since: float | None = None) -> ReplayReport:
    report = ReplayReport()
    rows = list(read_events(db, since, RECORDED))
    clock = VirtualClock(since or (rows[0]["ts"] if rows else 0.0))
    fleet = FleetState()
    engine: Engine | None = None

    def emit(event: Event) -> None:  # fire_event stays inside the replay
        assert engine is not None
        engine.dispatch(event)

    registry = offline_registry(DryRunCommands(), emit, _notify)
    engine = Engine(fleet, registry, clock=clock, scheduler=VirtualScheduler(clock), emit=emit)
    engine.traces.keep = None  # every run, not the last few
    loader = Loader(platforms(registry), lambda name: (registry.get(ACTION, name) or _Missing).obj)
    rules, report.errors = check_paths(rule_paths, loader)
    if report.errors:
        return report
    engine.set_rules(rules)
    for row in rows:
        event = rebuild(row)
        if event is None:
            continue
        clock.advance(row["ts"])
        await engine.idle()
        try:
            fleet.apply(event)
        except KeyError:
            pass  # a type the fleet state does not track
        engine.dispatch(event)
        await engine.idle()
        report.events += 1
        report.first = report.first or row["ts"]
        report.last = row["ts"]
    await engine.stop()
    report.traces = sorted((t for ring in engine.traces.recent_all() for t in ring), key=lambda t: t.started)
    return report


class _Missing:
    obj = None


def format_report(report: ReplayReport) -> list[str]:
    """What a user reads: one block per run that would have acted, then a summary."""
    lines = []
    for trace in report.fired:
        when = datetime.fromtimestamp(trace.started).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{when}  {trace.rule_id}  {trace.station_id or '-'}  ({trace.trigger.get('platform')})")
        for step in trace.actions:
            if "service" in step:
                data = ", ".join(f"{k}={v}" for k, v in step.get("data", {}).items() if k != "station_id")
                verdict = step.get("error") or "would send"
                lines.append(f"    {step['service']}({data}) -> {verdict}")
            elif "delay" in step:
                lines.append(f"    delay {step['delay']:g}s")
    counts: dict[str, dict[str, int]] = {}
    for trace in report.traces:
        per = counts.setdefault(trace.rule_id, {})
        per[trace.outcome] = per.get(trace.outcome, 0) + 1
    span = ""
    if report.first is not None and report.last is not None:
        first, last = datetime.fromtimestamp(report.first), datetime.fromtimestamp(report.last)
        span = f" from {first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M}"
    lines.append(f"{report.events} events replayed{span}; nothing was sent.")
    for rule_id, per in sorted(counts.items()):
        lines.append(f"  {rule_id}: " + ", ".join(f"{n} {outcome}" for outcome, n in sorted(per.items())))
    return lines
