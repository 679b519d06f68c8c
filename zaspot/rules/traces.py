"""Traces: what each run of a rule saw and did, so a user can learn why a rule did or
did not fire. The last few per rule stay in memory; every one goes to the database."""

from __future__ import annotations

import itertools
import logging
from collections import deque
from dataclasses import dataclass, field
from typing import Any

_LOGGER = logging.getLogger("zaspot.rules")
KEEP_IN_MEMORY = 20  # per rule (replay keeps them all)

# How a run ended.
DONE, CONDITIONS_FAILED, ALREADY_RUNNING, COOLDOWN, CANCELLED, QUEUE_FULL, FAILED = (
    "done", "conditions_failed", "already_running", "cooldown", "cancelled", "queue_full", "failed",
)
_IDS = itertools.count(1)


@dataclass
class Trace:
    rule_id: str
    station_id: str | None
    started: float
    trigger: dict[str, Any]
    run_id: int = field(default_factory=lambda: next(_IDS))
    conditions: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    outcome: str = DONE
    finished: float | None = None
    errors: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "rule_id": self.rule_id, "station_id": self.station_id,
            "started": self.started, "finished": self.finished, "outcome": self.outcome, "errors": self.errors,
            "trigger": self.trigger, "conditions": self.conditions, "actions": self.actions,
        }


class TraceLog:
    """Keeps traces: a ring per rule in memory, and each one in the store (if any)."""

    def __init__(self, store: Any | None, keep: int | None = KEEP_IN_MEMORY) -> None:
        self.store, self.keep = store, keep
        self.recent: dict[str, deque[Trace]] = {}

    async def record(self, trace: Trace) -> None:
        self.recent.setdefault(trace.rule_id, deque(maxlen=self.keep)).append(trace)
        if self.store is None:
            return
        try:
            await self.store.rule_trace(trace.to_dict())
        except Exception:  # a full disk must not stop the rules
            _LOGGER.exception("could not store the trace of rule %s", trace.rule_id)

    def recent_all(self) -> list[deque[Trace]]:
        return list(self.recent.values())

    def last(self, rule_id: str) -> Trace | None:
        ring = self.recent.get(rule_id)
        return ring[-1] if ring else None
