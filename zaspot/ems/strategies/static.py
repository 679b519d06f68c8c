"""`static`: every EVSE gets a fixed current that fits its circuits even if all charge at once."""

from __future__ import annotations

from dataclasses import dataclass

from zaspot.ems.allocate import Limits, allocate
from zaspot.ems.view import Decision, Limit, Snapshot, demand


@dataclass
class StaticConfig:
    current: float | None = None  # A per EVSE; default: the worst-case fair share


class Static:
    needs: frozenset[str] = frozenset()

    def __init__(self, config: StaticConfig) -> None:
        if config.current is not None and config.current < 0:
            raise ValueError("current must be >= 0")
        self.config = config

    def decide(self, snap: Snapshot) -> Decision:
        # Everyone counted as charging, so nothing changes when cars come and go.
        demands = [demand(e, min(e.spec.max_a, self.config.current or e.spec.max_a)) for e in snap.evses]
        amps = allocate(demands, Limits(snap.site.capacity(), volts=snap.site.voltage))
        return Decision({k: Limit(a, "static") for k, a in amps.items()})
