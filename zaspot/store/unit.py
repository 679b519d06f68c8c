"""A unit of work: every write one inbound message causes, committed as one op.

A station's message is stored whole or not at all: its rows, its meter samples and
the normalized events it gives go into one writer op, which the writer never splits
over two transactions (on its careful path a failing op rolls back alone, under its
own savepoint). The events are appended to the durable event log (the `events`
table) in that same transaction, so a crash keeps the message and its events, or
neither; the consumers (alarms, rules) read them from there after a restart.

    unit = Unit()
    unit.write(SQL, rows)                  # a plain statement
    unit.do(fn, *args)                     # fn(conn, unit, *args): reads, writes, emits
    unit.emit(event)                       # logged, and fired once committed
    results = await store.commit(unit)     # one result per `do`, in order

Meter samples are the one event the log does not keep twice: the `meter_samples`
table already is their record (and replay rebuilds their events from it).
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from typing import Any

import orjson

from zaspot.core.events import Event

from .batch import Rows, insert_rows

NOT_LOGGED = frozenset({"meter_sample"})
_EVENT = "INSERT INTO events (ts, station_id, type, data) VALUES (?, ?, ?, ?)"
# A step: a plain statement and its rows, or fn(conn, unit, *args).
Step = tuple[str, Rows, None, tuple[()]] | tuple[None, None, Callable[..., Any], tuple[Any, ...]]


def _json(value: Any) -> str:
    return orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()


class Unit:
    __slots__ = ("_given", "events", "steps")

    def __init__(self) -> None:
        self.steps: list[Step] = []
        self.events: list[Event] = []
        self._given: tuple[int, int] | None = None  # what the caller queued, before any step ran

    def write(self, sql: str, rows: Rows) -> None:
        if rows:
            self.steps.append((sql, rows, None, ()))

    def do(self, fn: Callable[..., Any], *args: Any) -> None:
        self.steps.append((None, None, fn, args))

    def emit(self, event: Event) -> None:
        self.events.append(event)

    @property
    def plain(self) -> tuple[str, Rows] | None:
        """(sql, rows) when the unit is one plain statement and nothing to log: the
        writer may then merge it with its neighbours' rows (the hot MeterValues path)."""
        if len(self.steps) != 1:
            return None
        step = self.steps[0]
        if step[0] is None:
            return None
        for e in self.events:  # a loop, not all(...): this runs for every MeterValues
            if e.type not in NOT_LOGGED:
                return None
        return step[0], step[1]


def apply_unit(c: sqlite3.Connection, unit: Unit) -> list[Any]:
    """Run a unit inside the writer's open transaction (a writer `call` op).

    A step may add steps and events to its unit (they run after it, in the same
    transaction). The writer may run an op twice (its careful path replays a batch
    that failed): each run starts again from what the caller queued."""
    if unit._given is None:
        unit._given = (len(unit.steps), len(unit.events))
    else:
        del unit.steps[unit._given[0]:]
        del unit.events[unit._given[1]:]
    results = []
    for step in unit.steps:
        if step[0] is not None:
            insert_rows(c, step[0], step[1])
        else:
            results.append(step[2](c, unit, *step[3]))
    for event in unit.events:
        if event.type in NOT_LOGGED:
            continue
        data = event.to_dict()
        del data["seq"]  # the row's id is its position; reads put it back
        seq = c.execute(_EVENT, (event.time, event.station_id, event.type, _json(data))).lastrowid
        object.__setattr__(event, "seq", seq)  # frozen: the log's position is the one field set late
    return results


# --- fault injection, for the crash tests -------------------------------------------
# ZASPOT_CRASH_AFTER_COMMIT=<event type>[:<text>]: exit at once, like kill -9, right after
# committing the first unit with such an event (whose JSON contains <text>), before any
# consumer sees it and before the station gets its answer.
_CRASH = os.environ.get("ZASPOT_CRASH_AFTER_COMMIT") or None
_CRASH_TYPE, _, _CRASH_TEXT = (_CRASH or "").partition(":")


def crash_if_asked(unit: Unit) -> None:
    if _CRASH is None:
        return
    for event in unit.events:
        if event.type == _CRASH_TYPE and _CRASH_TEXT in _json(event.to_dict()):
            os._exit(137)
