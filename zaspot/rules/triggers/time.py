"""`platform: time` — `at: "03:00"` (or a list), `cron: "*/5 * * * *"`, or `every: 10m`.

Time triggers have no station: actions pick theirs with `target: {where: …}`.
Runs on apscheduler triggers (zaspot.rules.scheduler), so replay can step through them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time as dtime
from typing import Any

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from zaspot.rules.durations import parse_duration

EVENTS = ()


@dataclass
class CONFIG:
    at: Any = None
    cron: str | None = None
    every: Any = None


def check(config) -> str | None:
    given = [k for k in ("at", "cron", "every") if getattr(config, k) is not None]
    if len(given) != 1:
        return "time: give exactly one of 'at', 'cron', 'every'"
    try:
        schedules(config)
    except ValueError as exc:
        return f"time: {exc}"
    return None


def schedules(config: CONFIG) -> list[Any]:
    """apscheduler triggers; ValueError for a bad time, cron line or duration."""
    if config.every is not None:
        seconds = parse_duration(config.every)
        if seconds <= 0:
            raise ValueError("every: must be more than 0")
        return [IntervalTrigger(seconds=seconds)]
    if config.cron is not None:
        return [CronTrigger.from_crontab(config.cron)]
    out = []
    for at in config.at if isinstance(config.at, list) else [config.at]:
        if isinstance(at, int):  # YAML 1.1 reads 03:00 unquoted as sexagesimal 180
            at = f"{at // 60:02d}:{at % 60:02d}"
        try:
            t = dtime.fromisoformat(str(at))
        except ValueError:
            raise ValueError(f"at: expected HH:MM or HH:MM:SS, got {at!r}") from None
        out.append(CronTrigger(hour=t.hour, minute=t.minute, second=t.second))
    return out


def attach(engine, trigger, config: CONFIG):
    removes = [engine.scheduler.add(s, lambda when: trigger.fire({"now_s": when})) for s in schedules(config)]
    return lambda: [r() for r in removes] and None
