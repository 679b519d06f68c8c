"""From what the strategy wants to what each EVSE is granted: room is given only when free.

The strategy's limits fit the fuses if every station did as told at once. Stations
don't: one refuses a decrease, one is silent, one takes its time. So an EVSE *holds*
what it may draw now: what it last accepted (its rating, before it accepted anything
of ours) or what is on its way to it, whichever is more. A decrease is granted at
once (it only lowers what may be drawn, once accepted); a rise only from the room that
every fuse on the EVSE's path has left after what all the others hold or are granted.
Every grant is rounded down to a tenth of an amp. So at every moment, whatever the
stations answer:

    for every circuit and phase:  sum over its EVSEs of max(holding, granted) <= fuse - margin

A rise smaller than `deadband_a` is not worth a message (unless it resumes a paused
EVSE); a grant is renewed when half its lease is gone, and sent again while the station
refuses it or leaves it unanswered (`again`). Pure: the manager and the site simulator
both run it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from zaspot.core.rounding import floor_tenth
from zaspot.ems.site import Key, Site
from zaspot.ems.view import Limit

EPS = 1e-9


@dataclass(frozen=True, slots=True)
class Grant:
    key: Key
    amps: float
    reason: str
    previous: float | None
    renew: bool = False  # nothing changed, but the lease is half gone


@dataclass
class GrantBook:
    site: Site
    deadband_a: float = 1.0
    lease_s: float = 900.0
    granted: dict[Key, tuple[float, float]] = field(default_factory=dict)  # key -> (amps, when)

    def plan(self, wanted: dict[Key, Limit], holding: dict[Key, float], now: float,
             reachable: set[Key] | None = None, again: set[Key] | None = None) -> list[Grant]:
        """The grants to send now (decreases first). `holding`: what each EVSE may draw
        whatever it is granted now; `reachable`: the EVSEs a grant can be sent to (a
        station that is away keeps its grant and what it holds); `again`: the EVSEs whose
        last limit was refused or left unanswered, asked again even if nothing changed."""
        site = self.site
        new: dict[Key, float] = {}
        for key in site.evses:
            # Never granted yet: it may draw what it holds, so anything up to that is no rise.
            old = self.granted[key][0] if key in self.granted else holding.get(key, 0.0)
            want = floor_tenth(max(0.0, wanted[key].amps)) if key in wanted else 0.0
            if reachable is not None and key not in reachable:
                new[key] = self.granted[key][0] if key in self.granted else 0.0
            else:
                new[key] = min(want, old)
        used = self._used(holding, new)
        rises = [k for k in site.evses if (reachable is None or k in reachable)
                 and k in wanted and floor_tenth(wanted[k].amps) > new[k] + EPS]
        rises.sort(key=lambda k: (-site.evses[k].priority, new[k], k))
        for key in rises:
            spec = site.evses[key]
            mine = max(holding.get(key, 0.0), new[key])
            room = min(site.capacity()[c][p] - used[c][p] + mine for c in spec.path for p in spec.phases)
            amps = floor_tenth(min(wanted[key].amps, room))
            if amps < spec.min_a - EPS or amps <= new[key] + EPS:
                continue  # an EV offered less than its minimum cannot charge: it waits
            if new[key] > 0 and amps - new[key] < self.deadband_a - EPS:
                continue  # not worth a message
            for c in spec.path:
                for p in spec.phases:
                    used[c][p] += max(holding.get(key, 0.0), amps) - mine
            new[key] = amps
        return self._changes(wanted, new, now, again or set(), reachable)

    def _used(self, holding: dict[Key, float], new: dict[Key, float]) -> dict[str, list[float]]:
        used = {c: [0.0] * self.site.phases for c in self.site.circuits}
        for key, spec in self.site.evses.items():
            amps = max(holding.get(key, 0.0), new[key])
            for c in spec.path:
                for p in spec.phases:
                    used[c][p] += amps
        return used

    def _changes(self, wanted: dict[Key, Limit], new: dict[Key, float], now: float, again: set[Key],
                 reachable: set[Key] | None) -> list[Grant]:
        out = []
        for key, amps in new.items():
            if reachable is not None and key not in reachable:
                continue  # away: it keeps its grant, and nothing can be sent to it
            prev = self.granted.get(key)
            reason = wanted[key].reason if key in wanted and floor_tenth(wanted[key].amps) <= amps + EPS \
                else "waiting for room a station still holds"
            if prev is None or abs(prev[0] - amps) > EPS:
                out.append(Grant(key, amps, reason, prev[0] if prev else None))
            elif key in again or now - prev[1] >= self.lease_s / 2:
                out.append(Grant(key, amps, reason, amps, renew=True))
        return sorted(out, key=lambda g: g.amps - (g.previous if g.previous is not None else g.amps))

    def sent(self, grant: Grant, now: float) -> None:
        self.granted[grant.key] = (grant.amps, now)

    def forget(self, station_id: str) -> None:
        for key in [k for k in self.granted if k[0] == station_id]:
            del self.granted[key]

    def amps(self) -> dict[Key, float]:
        return {k: a for k, (a, _) in self.granted.items()}
