"""`zaspot simulate`: a fleet of simulated stations against a running central system."""
from __future__ import annotations

import argparse
import asyncio
import logging

from .faults import SCENARIOS
from .fleet import Fleet


def configure(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("simulate", help="simulate OCPP 1.6 / 2.0.1 stations",
                              description=__doc__)
    p.add_argument("--url", default="ws://127.0.0.1:9000/ocpp",
                   help="central system endpoint; station ids are appended (default %(default)s)")
    p.add_argument("--stations", type=int, default=10, help="number of stations (default 10)")
    p.add_argument("--protocol", choices=("1.6", "2.0.1", "mixed"), default="mixed")
    p.add_argument("--scenario", choices=SCENARIOS, default="charging",
                   help="charging (default): cars come and go; a fault name adds that fault once "
                        "per station; mixed: random faults from time to time")
    p.add_argument("--duration", type=float, default=None,
                   help="stop after S real seconds (default: run until Ctrl-C)")
    p.add_argument("--speed", type=float, default=1.0, help="simulated seconds per real second")
    p.add_argument("--dc-every", type=int, default=3, help="every Nth station is DC (0: none)")
    p.add_argument("--modules", type=int, default=4, help="power modules per DC station")
    p.add_argument("--meter-interval", type=float, default=30.0, help="simulated seconds")
    p.add_argument("--prefix", default="SIM", help="station id prefix (default SIM -> SIM001...)")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    if args.stations < 1 or args.speed <= 0:
        print("simulate: --stations must be >= 1 and --speed > 0")
        return 2
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    try:
        return asyncio.run(simulate(args))
    except KeyboardInterrupt:
        return 0


async def simulate(args) -> int:
    fleet = Fleet(args.url, args.stations, args.protocol, prefix=args.prefix,
                  dc_every=args.dc_every, modules=args.modules, speed=args.speed,
                  meter_interval=args.meter_interval)
    long_run = 10 ** 9  # scenarios' own clock; --duration below is what ends the run
    await fleet.start(stagger=0.01)
    try:
        try:
            await fleet.wait_booted(timeout=30)
            print(f"simulate: {len(fleet)} stations booted at {args.url}", flush=True)
        except TimeoutError:
            down = [s.station_id for s in fleet if not s.booted.is_set()]
            print(f"simulate: not booted after 30s: {', '.join(down[:10])}"
                  f"{' ...' if len(down) > 10 else ''} (still retrying)", flush=True)
        if args.scenario in ("charging", "mixed"):
            fleet.start_scenario(args.scenario, duration=long_run)
        elif args.scenario != "none":
            fleet.start_scenario("charging", duration=long_run)
            fleet.start_scenario(args.scenario)
        await asyncio.sleep(args.duration if args.duration is not None else long_run)
    finally:
        await fleet.stop()
    errors = sum(len(s.errors) for s in fleet)
    print(f"simulate: done, {sum(len(s.sent) for s in fleet)} messages sent, {errors} errors")
    return 0
