"""ctx.health: the parts of fleet health that run with the server.

    outages      zaspot.health.outages.OutageLog: a consumer of the event log that keeps
                 each port's state and outages (the one owner of outage intervals)
    temperature  zaspot.health.loadtemp.LoadTemperature: folds temperature against current
                 per port and day, then runs the drift test (TemperatureDrift events)
    snapshot     zaspot.health.snapshot.Snapshot: each station's recent uptime, open alarms
                 and trips, refreshed every `health.refresh` s for /metrics and the TUI

Reports (zaspot.health.report) read the store on demand; they keep nothing of their own.
"""

from __future__ import annotations

from typing import Any

from zaspot.health.exclusions import load_config
from zaspot.health.loadtemp import LoadTemperature
from zaspot.health.outages import OutageLog
from zaspot.health.snapshot import Snapshot


class HealthService:
    def __init__(self, ctx: Any) -> None:
        self.ctx = ctx
        self.config = ctx.config.health
        self.outages = OutageLog(ctx)
        self.temperature = LoadTemperature(ctx)
        self.snapshot = Snapshot(ctx)

    async def start(self) -> None:
        await load_config(self.ctx.store, self.config)  # the config's maintenance windows, as they are now
        await self.outages.start()
        await self.temperature.start()
        await self.snapshot.start()

    async def stop(self) -> None:
        await self.snapshot.stop()
        await self.temperature.stop()
        await self.outages.stop()
