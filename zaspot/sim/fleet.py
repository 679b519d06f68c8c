"""Fleet: start and stop many simulated stations together (demo, simulate, tests)."""
from __future__ import annotations

import asyncio

from .station import SimStation


class Fleet:
    """N stations named <prefix>001.. ; protocol "1.6", "2.0.1" or "mixed" (alternating).

    Every `dc_every`-th station is DC with `modules` power modules, the rest AC.
    Extra keyword arguments go to every SimStation (speed, meter_interval, ...).
    """

    def __init__(self, url: str, stations: int = 10, protocol: str = "mixed",
                 prefix: str = "SIM", dc_every: int = 3, modules: int = 4, seed: int = 1, **kw):
        if protocol not in ("1.6", "2.0.1", "mixed"):
            raise ValueError(f"protocol must be 1.6, 2.0.1 or mixed, not {protocol!r}")
        self.stations: list[SimStation] = []
        for i in range(stations):
            proto = protocol if protocol != "mixed" else ("1.6", "2.0.1")[i % 2]
            dc = dc_every > 0 and i % dc_every == dc_every - 1
            self.stations.append(SimStation(
                f"{prefix}{i + 1:03d}", url, protocol=proto, kind="dc" if dc else "ac",
                modules=modules if dc else 0, seed=seed + i, **kw))

    def __iter__(self):
        return iter(self.stations)

    def __len__(self) -> int:
        return len(self.stations)

    def __getitem__(self, i: int) -> SimStation:
        return self.stations[i]

    async def start(self, stagger: float = 0.0) -> None:
        for st in self.stations:
            await st.start()
            if stagger:
                await asyncio.sleep(stagger)

    async def wait_booted(self, timeout: float = 30.0) -> None:
        await asyncio.gather(*(st.wait_booted(timeout) for st in self.stations))

    def start_scenario(self, name: str, **kw) -> None:
        """Run a scenario on every station that supports it (module_trip: DC only)."""
        for st in self.stations:
            if name == "module_trip" and not st.modules:
                continue
            st.start_scenario(name, **kw)

    async def stop(self) -> None:
        await asyncio.gather(*(st.stop() for st in self.stations), return_exceptions=True)

    async def __aenter__(self) -> Fleet:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()
