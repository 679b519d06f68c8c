"""Uptime per charging port, station and site, with the NEVI formula (23 CFR 680.116):

    uptime = (T − (T_outage − T_excluded)) / T × 100

T is the port's time in the window, from its first status on (a port commissioned
mid-month is judged from then) and up to now; T_outage its outage time
(zaspot.health.outages); T_excluded the part of that outage inside an exclusion
(zaspot.health.exclusions). A station's and the site's uptime is Σ up minutes / Σ minutes
over their ports.

A failure is a faulted episode: a run of `faulted` outage time (one fault code after another
without the port coming back is one failure). MTTR = faulted hours / failures, MTBF = up
hours / failures (None without a failure). A station's failures are the episodes of the union
of its ports' faulted time (a fault of the whole station is one failure, not one per port),
its up hours those when none of its ports was in a counted outage; the site's are the sums
over its stations.

Everything is computed on demand from one read of each table per call, kept nowhere.

    availability() -> {"start", "end", "minutes",
                       "site": {"uptime", "ports", "below_target", "outage_minutes",
                                "excluded_minutes", "failures", "mtbf_hours", "mttr_hours"},
                       "stations": [{"station_id", "uptime", "ports", ... as the site}],
                       "ports": [{"station_id", "evse_id", "connector_id", "uptime", "minutes",
                                  ... as the site, "by_cause": {cause: minutes}}]}
    daily() -> [{"day": "2026-11-01", "start", "uptime"}]

Uptimes are percentages to 3 decimals (None: no time in the window), lists worst first.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import dataclass
from operator import itemgetter
from typing import Any

from zaspot.health import intervals as iv
from zaspot.health.calendar import day_bounds
from zaspot.health.exclusions import applies

CAUSES = ("offline", "faulted", "unavailable")


# --- one port's time ------------------------------------------------------------------------


@dataclass(slots=True)
class PortTime:
    """One port's time in a window (Unix seconds)."""

    station_id: str
    evse_id: int
    connector_id: int
    span: tuple[float, float] | None  # its time in the window; None: none
    by_cause: dict[str, float]        # outage seconds per cause
    outage: list[iv.Span]             # merged outage time
    excluded: float                   # outage seconds inside an exclusion
    counted: list[iv.Span]            # outage time that counts: outage − exclusions
    faulted: list[iv.Span]            # merged faulted time: its episodes
    seconds: float = 0.0
    outage_seconds: float = 0.0
    up: float = 0.0                   # seconds − (outage − excluded)


def port_time(key: tuple[str, int, int], first_seen: float, spans: list, windows: list[iv.Span],
              start: float, cap: float) -> PortTime:
    """`spans`: the port's outages as [cause, start, end], already cut to [start, cap]."""
    t0 = max(start, first_seen)
    if cap <= t0:
        return PortTime(*key, None, dict.fromkeys(CAUSES, 0.0), [], 0.0, [], [])
    by_cause = dict.fromkeys(CAUSES, 0.0)
    outage: list[iv.Span] = []
    faulted: list[iv.Span] = []
    for cause, s, e in sorted(spans, key=itemgetter(1)):
        s = max(s, t0)
        if e > s:  # a port's outages never overlap: one is open at a time
            outage.append((s, e))
            by_cause[cause] = by_cause.get(cause, 0.0) + e - s
            if cause == "faulted":
                faulted.append((s, e))
    outage, faulted = iv.merge(outage), iv.merge(faulted)
    excluded, counted = 0.0, outage
    if windows:
        windows = iv.merge(iv.clip(windows, t0, cap))
        excluded, counted = iv.measure(iv.intersect(outage, windows)), iv.subtract(outage, windows)
    outage_seconds = iv.measure(outage)
    return PortTime(*key, (t0, cap), by_cause, outage, excluded, counted, faulted, cap - t0, outage_seconds,
                    cap - t0 - outage_seconds + excluded)


def port_times(ports: list[dict[str, Any]], spans: dict[tuple, list], exclusions: list[dict[str, Any]],
               start: float, cap: float) -> list[PortTime]:
    out = []
    for p in ports:
        key = (p["station_id"], p["evse_id"], p["connector_id"])
        windows = [(x["start"], x["end"]) for x in exclusions if applies(x, *key)]
        out.append(port_time(key, p["first_seen"], spans.get(key, []), windows, start, cap))
    return out


# --- figures -----------------------------------------------------------------------------------


def _r(value: float | None, digits: int = 3) -> float | None:
    return None if value is None else round(value, digits)


def _uptime(up: float, seconds: float) -> float | None:
    return round(100.0 * up / seconds, 3) if seconds > 0 else None


def _reliability(up: float, faulted: list[iv.Span]) -> dict[str, Any]:
    failures = len(faulted)
    return {"failures": failures,
            "mtbf_hours": _r(up / 3600 / failures) if failures else None,
            "mttr_hours": _r(iv.measure(faulted) / 3600 / failures) if failures else None}


def port_figures(p: PortTime) -> dict[str, Any]:
    outage = p.outage_seconds
    return {"station_id": p.station_id, "evse_id": p.evse_id, "connector_id": p.connector_id,
            "uptime": _uptime(p.up, p.seconds), "minutes": _r(p.seconds / 60), "outage_minutes": _r(outage / 60),
            "excluded_minutes": _r(p.excluded / 60), **_reliability(p.up, p.faulted),
            "by_cause": {c: _r(p.by_cause.get(c, 0.0) / 60) for c in CAUSES}}


def station_figures(station_id: str, ports: list[PortTime]) -> dict[str, Any]:
    seconds = sum(p.seconds for p in ports)
    up = sum(p.up for p in ports)
    # As a unit: up while none of its ports is in a counted outage; one failure per faulted run of any.
    span = iv.union([p.span for p in ports if p.span])
    unit_up = iv.measure(span) - iv.measure(iv.union(*(p.counted for p in ports)))
    faulted = iv.union(*(p.faulted for p in ports))
    outage, excluded = sum(p.outage_seconds for p in ports), sum(p.excluded for p in ports)
    return {"station_id": station_id, "uptime": _uptime(up, seconds), "ports": len(ports),
            "outage_minutes": _r(outage / 60), "excluded_minutes": _r(excluded / 60),
            **_reliability(unit_up, faulted),
            # the raw sums the site adds up (taken out before the figures are handed on)
            "_seconds": seconds, "_up": up, "_unit_up": unit_up, "_faulted": iv.measure(faulted),
            "_outage": outage, "_excluded": excluded}


def site_figures(stations: list[dict[str, Any]], ports: list[dict[str, Any]], target: float) -> dict[str, Any]:
    failures = sum(s["failures"] for s in stations)
    up = sum(s["_unit_up"] for s in stations)
    return {"uptime": _uptime(sum(s["_up"] for s in stations), sum(s["_seconds"] for s in stations)),
            "ports": len(ports),
            "below_target": sum(1 for p in ports if p["uptime"] is not None and p["uptime"] < target),
            "outage_minutes": _r(sum(s["_outage"] for s in stations) / 60),
            "excluded_minutes": _r(sum(s["_excluded"] for s in stations) / 60),
            "failures": failures,
            "mtbf_hours": _r(up / 3600 / failures) if failures else None,
            "mttr_hours": _r(sum(s["_faulted"] for s in stations) / 3600 / failures) if failures else None}


def _worst_first(row: dict[str, Any]) -> tuple:
    return (row["uptime"] is None, row["uptime"] or 0.0, row["station_id"], row.get("evse_id", 0),
            row.get("connector_id", 0))


async def _read(store: Any, start: float, end: float, station_id: str | None,
                now: float | None) -> tuple[list[PortTime], float]:
    cap = min(end, time.time() if now is None else now)  # the future is no one's up time
    ports = [p for p in await store.health_ports()
             if p["first_seen"] < end and (station_id is None or p["station_id"] == station_id)]
    spans = await store.outage_spans(start, cap, station_id)
    exclusions = await store.exclusions_between(start, end)
    return port_times(ports, spans, exclusions, start, cap), cap


async def availability(store: Any, config: Any, start: float, end: float, station_id: str | None = None,
                       now: float | None = None) -> dict[str, Any]:
    """Uptime, outage and excluded minutes, failures, MTBF and MTTR per port, station and
    site for [start, end) (the shape is in the module's docstring); worst first."""
    times, cap = await _read(store, start, end, station_id, now)
    grouped: dict[str, list[PortTime]] = defaultdict(list)
    for p in times:
        grouped[p.station_id].append(p)
    stations = [station_figures(sid, ports) for sid, ports in grouped.items()]
    ports = sorted((port_figures(p) for p in times), key=_worst_first)
    site = site_figures(stations, ports, config.target)
    for s in stations:
        for key in [k for k in s if k.startswith("_")]:
            del s[key]
    return {"start": start, "end": end, "minutes": _r(max(cap - start, 0.0) / 60), "site": site,
            "stations": sorted(stations, key=_worst_first), "ports": ports}


async def daily(store: Any, config: Any, start: float, end: float, station_id: str | None = None,
                now: float | None = None) -> list[dict[str, Any]]:
    """The site's (or one station's) uptime per day in the health timezone:
    [{"day": "2026-11-01", "start", "uptime"}] (None for a day with no port time yet)."""
    times, _cap = await _read(store, start, end, station_id, now)
    bounds, days = day_bounds(start, end, config.zone)
    seconds = [0.0] * len(days)
    down = [0.0] * len(days)
    for p in times:
        if p.span is None:
            continue
        for k, value in enumerate(iv.split_by([p.span], bounds)):
            seconds[k] += value
        for k, value in enumerate(iv.split_by(p.counted, bounds)):
            down[k] += value
    return [{"day": day, "start": bounds[k], "uptime": _uptime(seconds[k] - down[k], seconds[k])}
            for k, day in enumerate(days)]
