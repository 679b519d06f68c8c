"""`zaspot bench`: same load against zaspot, the ocpp-library baseline and an echo server."""
from __future__ import annotations

import argparse
import json

from .run import TARGETS, format_table, run_bench


def configure(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("bench", help="load test: msgs/s and latency vs a plain ocpp-library CSMS",
                              description=__doc__)
    p.add_argument("--stations", type=int, default=50, help="simulated stations (default 50)")
    p.add_argument("--duration", type=float, default=10.0, help="seconds of load per target (default 10)")
    p.add_argument("--protocol", choices=("1.6", "2.0.1", "mixed"), default="1.6")
    p.add_argument("--target", choices=(*TARGETS, "all"), default="all",
                   help="which central system to measure (default all, in one run)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    p.set_defaults(func=run)
    return p


def run(args) -> int:
    if args.stations < 1 or args.duration <= 0:
        print("bench: --stations must be >= 1 and --duration > 0")
        return 2
    targets = list(TARGETS) if args.target == "all" else [args.target]
    figures = run_bench(stations=args.stations, duration=args.duration,
                        protocol=args.protocol, targets=targets)
    print(json.dumps(figures, indent=2) if args.json else format_table(figures))
    return 1 if any("failed" in r for r in figures["results"].values()) else 0
