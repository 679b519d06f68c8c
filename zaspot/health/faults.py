"""Fault analytics: which fault codes come up, where, how often, and how long they take to clear.

Computed on demand from the alarms raised in a window (diagnostics' `alarms` table: every
fault a station reported, opened once and cleared once) with each station's vendor and model,
and nothing is kept. MTBF and MTTR are availability's (zaspot.health.uptime: a failure is a
faulted episode of a port's uptime); they are passed in, so a repeat offender is judged by
the same failures the uptime table shows.

    codes             each code: how many alarms, on how many stations; most frequent first
    by_station        per station and code
    by_model          per vendor + model and code (stations: how many of that model raised it)
    by_vendor         per vendor and code
    repeat_offenders  stations with `repeat_offender` failures or more in the window, or one
                      code raised that often; `codes` are the station's codes, most frequent first
    modules           power-module trips per module (zaspot.store.health_reads: one alarm per trip)
    clear_times       per code: minutes from raised to cleared (mean, median, max) of the
                      cleared ones; `open` counts those not cleared yet (not in the figures)
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from typing import Any


async def analytics(store: Any, config: Any, start: float, end: float,
                    availability: dict[str, Any] | None = None) -> dict[str, Any]:
    """The fault analytics of [start, end) (`availability`: uptime.availability of the same
    window, for the failures; without it a repeat offender is one that raised a code that often)."""
    alarms = await store.alarms_raised_between(start, end)
    return {
        "start": start,
        "end": end,
        "alarms": len(alarms),
        "codes": _codes(alarms),
        "by_station": _by_station(alarms),
        "by_model": _grouped(alarms, ("vendor", "model")),
        "by_vendor": _grouped(alarms, ("vendor",)),
        "repeat_offenders": repeat_offenders(alarms, config.repeat_offender, availability),
        "modules": await store.module_trips(start, end),
        "clear_times": clear_times(alarms),
    }


def _codes(alarms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    count: Counter[str] = Counter(a["code"] for a in alarms)
    stations: dict[str, set[str]] = defaultdict(set)
    for a in alarms:
        stations[a["code"]].add(a["station_id"])
    return [{"code": code, "count": n, "stations": len(stations[code])}
            for code, n in sorted(count.items(), key=lambda item: (-item[1], item[0]))]


def _by_station(alarms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    count: Counter[tuple[str, str]] = Counter((a["station_id"], a["code"]) for a in alarms)
    return [{"station_id": sid, "code": code, "count": n}
            for (sid, code), n in sorted(count.items(), key=lambda item: (item[0][0], -item[1], item[0][1]))]


def _grouped(alarms: list[dict[str, Any]], keys: tuple[str, ...]) -> list[dict[str, Any]]:
    """Alarms per `keys` (station fields) + code, with how many stations raised them."""
    count: Counter[tuple[Any, ...]] = Counter()
    stations: dict[tuple[Any, ...], set[str]] = defaultdict(set)
    for a in alarms:
        group = (*(a[k] for k in keys), a["code"])
        count[group] += 1
        stations[group].add(a["station_id"])

    def order(item: tuple[tuple[Any, ...], int]) -> tuple[Any, ...]:
        group, n = item
        return (*(v or "" for v in group[:-1]), -n, group[-1])

    return [{**dict(zip(keys, group[:-1])), "code": group[-1], "count": n, "stations": len(stations[group])}
            for group, n in sorted(count.items(), key=order)]


def repeat_offenders(alarms: list[dict[str, Any]], threshold: int,
                     availability: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Stations with `threshold` failures or more, or one code raised `threshold` times or more;
    most failures first. `failures` is None without availability."""
    failures = ({s["station_id"]: s["failures"] for s in availability["stations"]}
                if availability is not None else {})
    codes: dict[str, Counter[str]] = defaultdict(Counter)
    for a in alarms:
        codes[a["station_id"]][a["code"]] += 1
    out: list[dict[str, Any]] = []
    for sid in sorted(set(codes) | set(failures)):
        seen = codes.get(sid, Counter())
        if (failures.get(sid) or 0) < threshold and max(seen.values(), default=0) < threshold:
            continue
        ranked = sorted(seen.items(), key=lambda item: (-item[1], item[0]))
        out.append({"station_id": sid, "failures": failures.get(sid), "alarms": sum(seen.values()),
                    "codes": [code for code, _ in ranked],
                    "repeated": [code for code, n in ranked if n >= threshold]})
    out.sort(key=lambda r: (-(r["failures"] or 0), -r["alarms"], r["station_id"]))
    return out


def clear_times(alarms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per code, the minutes its alarms took to clear; most alarms first."""
    minutes: dict[str, list[float]] = defaultdict(list)
    still_open: Counter[str] = Counter()
    for a in alarms:
        if a["cleared_at"] is None:
            still_open[a["code"]] += 1
        else:
            minutes[a["code"]].append(max(0.0, a["cleared_at"] - a["raised_at"]) / 60)
    out: list[dict[str, Any]] = []
    for code in set(minutes) | set(still_open):
        cleared = minutes.get(code, [])
        out.append({
            "code": code, "count": len(cleared) + still_open[code], "open": still_open[code],
            "mean_minutes": round(statistics.fmean(cleared), 2) if cleared else None,
            "median_minutes": round(statistics.median(cleared), 2) if cleared else None,
            "max_minutes": round(max(cleared), 2) if cleared else None,
        })
    out.sort(key=lambda r: (-r["count"], r["code"]))
    return out
