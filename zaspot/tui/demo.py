"""`zaspot demo`: a server, a simulated fleet that plays faults, and the TUI, in one process.
The server prices its sessions at made-up spot prices for today and tomorrow (a `file`
price source written into its directory), so the price strip and the costs show too.

Everything lives in a temporary directory and one event loop, so quitting the TUI
stops the stations, then the server, then removes the directory: nothing is left
running. This module is the launcher; the TUI itself only talks to the API.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from pathlib import Path
from typing import Any

from zaspot.tui.app import ZaspotTui

REPO_RULES = Path(__file__).resolve().parents[2] / "rules"
FOREVER = 10**9  # simulated seconds: the scenarios run until the demo stops
PRICING = """
pricing:
  source: {{platform: file, path: {csv}}}
  currency: CZK
  fallback_price: 4.5
  tariffs:
    - {{name: standard, markup: 2.0, min: 3.0, max: 12.0, vat: 0.21}}
"""


def demo_price(hour: float) -> float:
    """A winter weekday's spot price in CZK/kWh at a local hour: two peaks and a cheap noon."""
    return round(2.6 + 1.6 * math.exp(-((hour - 8.5) / 1.2) ** 2) + 2.4 * math.exp(-((hour - 18.5) / 1.6) ** 2)
                 - 1.5 * math.exp(-((hour - 13.0) / 1.8) ** 2), 2)


def write_demo_prices(path: Path, now: float) -> None:
    """Today's and tomorrow's 15-minute periods, local time."""
    t = time.localtime(now)
    midnight = time.mktime((t.tm_year, t.tm_mon, t.tm_mday, 0, 0, 0, 0, 0, -1))
    rows = []
    for quarter in range(2 * 96):
        start = midnight + 900 * quarter
        local = time.localtime(start)
        rows.append(f"{start:.0f},{start + 900:.0f},{demo_price(local.tm_hour + local.tm_min / 60)}\n")
    path.write_text("start,end,price\n" + "".join(rows), encoding="utf-8")


class Demo:
    """Start/stop in pairs; `tui` is ready to run once `start()` returned."""

    def __init__(self, stations: int = 12, speed: float = 10.0, fault_every: float = 300.0) -> None:
        self.stations, self.speed, self.fault_every = stations, speed, fault_every
        self.tmp: tempfile.TemporaryDirectory[str] | None = None
        self.server: Any = None
        self.fleet: Any = None
        self.tui: ZaspotTui | None = None
        self._log: logging.Handler | None = None

    async def start(self) -> ZaspotTui:
        from zaspot.app import App
        from zaspot.config import load
        from zaspot.sim import Fleet

        self.tmp = tempfile.TemporaryDirectory(prefix="zaspot-demo-")
        where = Path(self.tmp.name)
        self._quiet_logging(where / "zaspot.log")
        write_demo_prices(where / "prices.csv", time.time())
        (where / "zaspot.yaml").write_text(PRICING.format(csv=where / "prices.csv"), encoding="utf-8")
        config = load(where / "zaspot.yaml")
        config.host, config.port, config.db = "127.0.0.1", 0, str(where / "zaspot.db")
        if REPO_RULES.is_dir():
            config.rules = str(REPO_RULES)
        self.server = App(config)
        await self.server.start()
        port = self.server.server.port
        self.fleet = Fleet(f"ws://127.0.0.1:{port}/ocpp", self.stations, "mixed", prefix="DEMO",
                           speed=self.speed, meter_interval=10.0, reconnect_delay=2.0)
        await self.fleet.start()
        self.fleet.start_scenario("mixed", duration=FOREVER, every=self.fault_every)
        self.tui = ZaspotTui(f"ws://127.0.0.1:{port}/api/websocket")
        return self.tui

    async def stop(self) -> None:
        if self.fleet is not None:
            await self.fleet.stop()
        if self.server is not None:
            await self.server.stop()
        if self._log is not None:
            logging.getLogger().removeHandler(self._log)
            self._log.close()
        if self.tmp is not None:
            self.tmp.cleanup()

    def _quiet_logging(self, path: Path) -> None:
        # The server shares the terminal with the TUI: its log goes to a file instead.
        self._log = logging.FileHandler(path)
        self._log.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        root = logging.getLogger()
        root.addHandler(self._log)
        root.setLevel(logging.INFO)


async def run_demo(stations: int = 12, speed: float = 10.0) -> None:
    demo = Demo(stations, speed)
    try:
        tui = await demo.start()
        await tui.run_async()
    finally:
        await demo.stop()
