"""The drift test on °C per ampere: an EWMA control chart per series (TemperatureDrift).

Per series (a port's connector, cable, inlet or EVSE temperature; a power module's) and
complete day, the slope of temperature on current that day (°C per A, least squares on
the day's sums from zaspot.health.loadtemp). A day counts when it has `min_samples`
pairs and its current varies by at least `min_current_spread` A (standard deviation): a
day at one current says nothing per ampere.

The first `baseline_days` (m) days that count are the series' baseline: their mean μ and a
standard deviation σ, the largest of the days' spread, their own regressions' standard
error (many pairs each: a steadier estimate of the noise than m days are) and SIGMA_FLOOR
of μ (a few quiet days would otherwise set a limit ordinary noise crosses). Each later day
moves the EWMA z_t = λ·slope + (1 − λ)·z_{t−1} (z_0 = μ; λ = `smoothing`); the series is
flagged while z_t is above the upper control limit
μ + L·σ·sqrt(λ/(2 − λ)·(1 − (1 − λ)^(2t)) + 1/m)   (L = `limit_sigmas`).
The textbook limit has no 1/m: it takes μ as known, but here μ is the mean of m noisy days.
In simulation (24 pairs a day, 0.5 °C of noise, 7 baseline days) the textbook limit with
a 5 % floor flagged 68 of 300 steady connectors within six months; this one flagged none,
and a rise from 0.30 to 0.45 °C/A over two weeks about a week after it began. Only a rise
is wear: a falling slope is not flagged.

check() commits a TemperatureDrift event for each series whose flag differs from what the
alarms say (the store's open `TemperatureDrift` alarms, and drift events diagnostics has
not handled yet): the alarm opens once, clears when the EWMA is back under the limit, and a
restart repeats nothing.
"""

from __future__ import annotations

import math
import statistics
import time
from typing import Any

from zaspot.core.health_events import TemperatureDrift
from zaspot.diagnostics.setup import CONSUMER as DIAGNOSTICS
from zaspot.health.calendar import day_of
from zaspot.health.config import DriftConfig, HealthConfig
from zaspot.store.health_temps import FOLD_MARK
from zaspot.store.publish import publish
from zaspot.store.unit import Unit

CODE = "TemperatureDrift"
SIGMA_FLOOR = 0.10  # of the baseline's |μ|: a smaller change per ampere is not told from day-to-day noise
MIN_SIGMA = 0.001  # °C per A, for a baseline near zero

AlarmKey = tuple[str, str, str | None, int, int]  # station, component, instance, evse, connector


def day_fit(row: dict[str, Any], config: DriftConfig) -> tuple[float, float] | None:
    """(°C per A, its standard error) of one day's sums, or None when the day says too little."""
    n = row["n"]
    if n < max(config.min_samples, 2):
        return None
    mean_i, mean_t = row["sum_i"] / n, row["sum_t"] / n
    var_i = row["sum_ii"] / n - mean_i * mean_i
    if var_i <= 1e-9 or math.sqrt(var_i) < config.min_current_spread:
        return None
    cov = row["sum_it"] / n - mean_i * mean_t
    slope = cov / var_i
    residual = max(row["sum_tt"] / n - mean_t * mean_t - slope * cov, 0.0) * n / (n - 2) if n > 2 else 0.0
    return slope, math.sqrt(residual / (n * var_i))


def chart(fits: list[tuple[str, float, float]], config: DriftConfig) -> dict[str, Any]:
    """The control chart of one series' days (day, slope, standard error; oldest first):
    baseline, current (the latest EWMA), rise_pct, flagged, and the days with their EWMA
    and limit (None in the baseline days)."""
    days = [{"day": day, "slope": round(slope, 4), "ewma": None, "limit": None} for day, slope, _ in fits]
    out: dict[str, Any] = {"baseline": None, "current": None, "rise_pct": None, "flagged": False, "days": days}
    m = config.baseline_days
    if len(fits) < m:
        return out
    base = [slope for _, slope, _ in fits[:m]]
    mu = statistics.fmean(base)
    noise = math.sqrt(statistics.fmean([se * se for _, _, se in fits[:m]]))
    sigma = max(statistics.stdev(base), noise, SIGMA_FLOOR * abs(mu), MIN_SIGMA)
    lam, width = config.smoothing, config.limit_sigmas * sigma
    z, flagged = mu, False
    for t, (entry, (_, slope, _)) in enumerate(zip(days[m:], fits[m:]), 1):
        z = lam * slope + (1 - lam) * z
        limit = mu + width * math.sqrt(lam / (2 - lam) * (1 - (1 - lam) ** (2 * t)) + 1 / m)
        entry["ewma"], entry["limit"] = round(z, 4), round(limit, 4)
        flagged = z > limit
    monitored = len(fits) > m
    out.update(baseline=round(mu, 4), current=round(z, 4) if monitored else None, flagged=flagged,
               rise_pct=round((z - mu) / abs(mu) * 100, 1) if monitored and mu else None)
    return out


async def summary(store: Any, config: HealthConfig, station_id: str | None = None) -> dict[str, Any]:
    """Every series' chart over its complete days (the day being folded is left out),
    flagged first:
    {"series": [{"station_id", "evse_id", "connector_id", "location", "instance", "baseline",
                 "current", "rise_pct", "flagged", "days": [{"day", "slope", "ewma", "limit"}]}]}"""
    upto = await store.health_mark(FOLD_MARK)
    if upto is None:
        return {"series": []}
    grouped: dict[tuple, list[dict[str, Any]]] = {}
    for row in await store.temperature_load_days(station_id, before_day=day_of(upto, config.zone)):
        key = (row["station_id"], row["evse_id"], row["connector_id"], row["location"], row["instance"])
        grouped.setdefault(key, []).append(row)
    series = []
    for (station, evse, connector, location, instance), day_rows in grouped.items():
        fits = [(r["day"], *fit) for r in day_rows if (fit := day_fit(r, config.drift)) is not None]
        series.append({"station_id": station, "evse_id": evse, "connector_id": connector, "location": location,
                       "instance": instance or None, **chart(fits, config.drift)})
    series.sort(key=lambda s: (not s["flagged"], s["station_id"], s["evse_id"], s["connector_id"],
                               s["location"], s["instance"] or ""))
    return {"series": series}


def _alarm_key(station_id: str, component: str, instance: str | None, evse_id: int, connector_id: int) -> AlarmKey:
    return (station_id, component, instance or None, evse_id, connector_id)


def _event_key(e: TemperatureDrift) -> AlarmKey:
    return _alarm_key(e.station_id, e.component, e.instance, e.evse_id, e.connector_id)


async def alarmed(store: Any) -> dict[AlarmKey, bool]:
    """What the alarms say of each series: its open TemperatureDrift alarm, then the drift
    events committed that diagnostics has not turned into alarms yet (in log order)."""
    state = {_alarm_key(a["station_id"], a["component"], a["instance"], a["evse_id"], a["connector_id"]): True
             for a in await store.open_alarms() if a["code"] == CODE}
    seq = await store.position(DIAGNOSTICS) or 0
    while pending := await store.log_after(seq, [TemperatureDrift.type]):
        for e in pending:
            state[_event_key(e)] = e.active
            seq = e.seq
    return state


def _event(s: dict[str, Any], active: bool, now: float) -> TemperatureDrift:
    return TemperatureDrift(s["station_id"], s["location"], active, s["evse_id"], s["connector_id"], s["instance"],
                            s["baseline"] or 0.0, s["current"] or 0.0, s["rise_pct"] or 0.0, time=now)


async def check(ctx: Any) -> list[TemperatureDrift]:
    """Flags against alarms: the TemperatureDrift events that change them, committed in one
    unit of work (diagnostics opens and clears the alarms from the log)."""
    series = (await summary(ctx.store, ctx.config.health))["series"]
    state = await alarmed(ctx.store)
    now = time.time()
    changes, seen = [], set()
    for s in series:
        e = _event(s, s["flagged"], now)
        seen.add(_event_key(e))
        if state.get(_event_key(e), False) != s["flagged"]:
            changes.append(e)
    for (station, component, instance, evse, connector), active in state.items():
        if active and (station, component, instance, evse, connector) not in seen:  # its series is gone
            changes.append(TemperatureDrift(station, component, False, evse, connector, instance, time=now))
    if changes:
        unit = Unit()
        for e in changes:
            unit.emit(e)
        await publish(ctx.store, ctx.bus, unit)
    return changes
