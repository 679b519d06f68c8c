"""The README's TUI screenshots, taken from the shipped demo: `python docs/screenshots.py`.

It runs what `zaspot demo` runs (zaspot.tui.demo.Demo: a server with the repo's rules/, the
simulated mixed fleet playing its faults, made-up spot prices), adds four cards (one
blocked, one past its expiry), waits until the fleet has shown what the screenshots are for
(open alarms, a rule run, a tripped power module, a session's cost) and saves:

    docs/tui-fleet.svg     the fleet
    docs/tui-station.svg   the DC station with the most going on
    docs/tui-cards.svg     the cards screen
    docs/tui-small.svg     the fleet in an 80×24 terminal

tests/tui/test_readme_screens.py checks that every rule and alarm they show exists.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from zaspot.api.client import ZaspotClient  # noqa: E402  (after the path: run from a clone)
from zaspot.tui.app import ZaspotTui  # noqa: E402
from zaspot.tui.cards_screen import CardsScreen  # noqa: E402
from zaspot.tui.demo import Demo  # noqa: E402
from zaspot.tui.fleet_table import FleetTable  # noqa: E402
from zaspot.tui.station_screen import StationScreen  # noqa: E402

DOCS = ROOT / "docs"
WIDE, SMALL = (160, 46), (80, 24)
DAY = 86400
CARDS = [  # as `zaspot cards add` adds them (README: "Cards and who may charge")
    {"id_token": "04A1B2C3", "driver": "Eva Novak", "group": "FLEET"},
    {"id_token": "DRIVER-7", "driver": "Jan Dvořák", "group": "FLEET", "note": "night shift", "days": 30},
    {"id_token": "GUEST-112", "note": "hotel guest, room 112", "days": -1},
    {"id_token": "LOST-0042", "driver": "Petr Král", "group": "FLEET", "note": "reported lost", "blocked": True},
]


async def until(pilot: Any, check: Callable[[], Any], what: str, limit: float) -> None:
    end = time.monotonic() + limit
    while not check():
        if time.monotonic() > end:
            raise SystemExit(f"screenshots: the demo never showed {what} in {limit:g} s")
        await pilot.pause(0.2)


async def add_cards(url: str) -> None:
    async with ZaspotClient(url) as api:
        for card in CARDS:
            expiry = time.time() + card["days"] * DAY if "days" in card else None
            await api.command("cards/add", id_token=card["id_token"], driver=card.get("driver"),
                              group=card.get("group"), note=card.get("note"), expiry=expiry)
            if card.get("blocked"):
                await api.command("cards/block", id_token=card["id_token"])


def busiest_dc(tui: ZaspotTui) -> str | None:
    """The DC station with a tripped module or the most open alarms, then the most power."""
    dc = [st for st in tui.model.stations.values() if st.modules]
    if not dc:
        return None
    best = max(dc, key=lambda st: (st.modules_ok is not None and st.modules_ok[0] < st.modules_ok[1],
                                   len(st.open_alarms), st.power_w or 0.0))
    return best.station_id


async def take(tui: ZaspotTui, pilot: Any, limit: float) -> None:
    table = tui.query_one(FleetTable)
    model = tui.model
    await until(pilot, lambda: table.row_count == len(model.stations) > 0 and all(
        st.online for st in model.stations.values()), "every station online", limit)
    await until(pilot, lambda: model.alarms.open_count() >= 2 and tui.query_one("#rules").row_count
                and any(st.running_cost for st in model.stations.values())
                and any(st.modules_ok and st.modules_ok[0] < st.modules_ok[1] for st in model.stations.values()),
                "two open alarms, a rule run, a session's cost and a tripped module", limit)
    await pilot.pause(1.0)
    tui.save_screenshot("tui-fleet.svg", str(DOCS))

    station = busiest_dc(tui)
    table.move_cursor(row=table.get_row_index(station))
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(tui.screen, StationScreen), "the station screen", 10)
    screen = tui.screen
    await until(pilot, lambda: screen.events.entries and "…" not in str(screen.query_one("#session").render()),
                f"{station}'s events and its limit", 10)
    await pilot.pause(1.0)
    tui.save_screenshot("tui-station.svg", str(DOCS))
    await pilot.press("escape")

    await pilot.press("c")
    await until(pilot, lambda: isinstance(tui.screen, CardsScreen) and tui.screen.query_one("#cards").row_count == 4,
                "the four cards", 10)
    await pilot.pause(1.0)
    tui.save_screenshot("tui-cards.svg", str(DOCS))
    await pilot.press("escape")

    await pilot.resize_terminal(*SMALL)
    await pilot.pause(1.0)
    tui.save_screenshot("tui-small.svg", str(DOCS))


async def main(speed: float, limit: float) -> None:
    demo = Demo(stations=12, speed=speed)
    try:
        tui = await demo.start()
        await add_cards(tui.url)
        async with tui.run_test(size=WIDE) as pilot:
            await take(tui, pilot, limit)
    finally:
        await demo.stop()
    print("screenshots: " + ", ".join(f"docs/tui-{n}.svg" for n in ("fleet", "station", "cards", "small")))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--speed", type=float, default=30.0, help="the demo's simulated seconds per second (30)")
    parser.add_argument("--wait", type=float, default=240.0, help="seconds to wait for the faults to play (240)")
    args = parser.parse_args()
    asyncio.run(main(args.speed, args.wait))
