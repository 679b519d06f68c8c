"""`zaspot prices [--hours N]`: the spot prices from the period in force on, through a
running zaspot's API (prices/list). A period no source had a price for shows the fallback
price, marked `fallback`."""

from __future__ import annotations

import argparse
import time
from typing import Any

from zaspot.api.client import ZaspotClient
from zaspot.api.shell import connection_options, run_client, table


def _at(ts: float, day: bool) -> str:
    return time.strftime("%Y-%m-%d %H:%M" if day else "%H:%M", time.localtime(ts))


def lines(rows: list[dict[str, Any]], now: float) -> list[str]:
    if not rows:
        return ["no prices"]
    out = []
    for r in rows:
        note = "now" if r["start"] <= now < r["end"] else ""
        if r.get("fallback"):
            note = f"{note}, fallback" if note else "fallback"
        out.append((_at(r["start"], True), _at(r["end"], False), f"{r['price']:.4f}", r["unit"], note))
    return table(("FROM", "TO", "PRICE", "UNIT", "NOTE"), out)


def _cmd_prices(args: argparse.Namespace) -> int:
    async def work(client: ZaspotClient) -> int:
        now = time.time()
        rows = await client.command("prices/list", timeout=args.timeout, since=now, until=now + args.hours * 3600)
        for text in lines(rows, now):
            print(text)
        return 0

    return run_client(args, work)


def _hours(text: str) -> float:
    value = float(text)
    if not 0 < value <= 336:
        raise argparse.ArgumentTypeError(f"{text} is not between 0 and 336 hours")
    return value


def configure(sub: Any) -> None:
    """Add `zaspot prices` to the `zaspot` parser."""
    prices = sub.add_parser("prices", help="the spot prices from now on (15-minute periods), and the fallback ones")
    prices.add_argument("--hours", type=_hours, default=24.0, help="how far ahead (default 24)")
    prices.add_argument("--timeout", type=float, default=30)
    connection_options(prices)
    prices.set_defaults(func=_cmd_prices)
