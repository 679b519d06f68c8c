"""`zaspot bench`: zaspot against a plain `ocpp`-library central system, a plain Node.js
`ocpp-rpc` one (installed with npm into ~/.cache/zaspot the first time; needs Node.js 18+)
a bare echo server and the floor (zaspot's WebSocket stack with nothing on it) in the
same run, one scenario at a time:

  throughput  N stations alternate MeterValues and Heartbeat as fast as answered (--mix: one
              of them only); answers a second, p99 and each server's CPU per message
  scale       N idle stations, a heartbeat and a meter value each per --interval; memory per station
  storm       N stations connect and boot at once; time until all are accepted
  reaction    a hot-connector reading until the rule's SetChargingProfile, under N idle stations
  storage     bytes per stored meter sample, per station-day, a year of a 200-station fleet
  report      a synthetic year of stored history: the outage consumer's catch-up, the monthly
              health report and its text, csv and html renderers
"""
from __future__ import annotations

import argparse
import json

from .load import MIXES
from .report import format_figures
from .report_scenario import report_table
from .scenarios import SCENARIOS, failures, run_scenario
from .servers import TARGETS

DEFAULT_STATIONS = {"throughput": 50, "scale": 15000, "storm": 5000, "reaction": 0, "storage": 20, "report": 200}


def configure(subparsers) -> argparse.ArgumentParser:
    p = subparsers.add_parser("bench", help="load test: zaspot vs plain ocpp and ocpp-rpc CSMSs, same run",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--scenario", choices=tuple(SCENARIOS), default="throughput")
    p.add_argument("--stations", type=int, default=None,
                   help="stations (default: throughput 50, scale 15000, storm 5000, reaction 0 in the "
                        "background, storage 20, report 200)")
    p.add_argument("--duration", type=float, default=None,
                   help="seconds of load: per target (throughput, default 10); of traffic (scale, default --interval)")
    p.add_argument("--rounds", type=int, default=1,
                   help="throughput: the targets take turns this many times; figures pool the rounds (default 1)")
    p.add_argument("--interval", type=float, default=60.0,
                   help="scale/reaction: seconds between a station's heartbeats and between its meter values")
    p.add_argument("--mix", choices=tuple(MIXES), default="alternate",
                   help="throughput: what each station sends, MeterValues and Heartbeat in turn (default) "
                        "or one of them only")
    p.add_argument("--protocol", choices=("1.6", "2.0.1", "mixed"), default="1.6")
    p.add_argument("--target", choices=(*TARGETS, "all"), default="all",
                   help=("throughput/scale/storm: which central system (default all that apply, in one run: "
                         "throughput all four, node only where Node.js is; scale and storm zaspot and baseline)"))
    p.add_argument("--load-procs", type=int, default=0,
                   help="scale/storm/reaction: load processes (default one per 4,000 stations)")
    p.add_argument("--trials", type=int, default=200, help="reaction: hot readings timed (default 200)")
    p.add_argument("--messages", type=int, default=300, help="storage: MeterValues per station (default 300)")
    p.add_argument("--db", help="storage: measure this database instead of a synthetic run")
    p.add_argument("--days", type=float, default=365.0, help="report: days of synthetic history (default 365)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON instead of a table")
    p.set_defaults(func=run)
    return p


def scenario_kwargs(args) -> dict:
    n = DEFAULT_STATIONS[args.scenario] if args.stations is None else args.stations
    if args.scenario == "throughput":
        return {"stations": n, "duration": args.duration or 10.0, "protocol": args.protocol,
                "targets": list(TARGETS) if args.target == "all" else [args.target], "rounds": args.rounds,
                "mix": args.mix}
    targets = ["zaspot", "baseline"] if args.target == "all" else [args.target]
    if args.scenario == "scale":
        return {"stations": n, "interval": args.interval, "duration": args.duration, "protocol": args.protocol,
                "targets": targets, "procs": args.load_procs}
    if args.scenario == "storm":
        return {"stations": n, "protocol": args.protocol, "targets": targets, "procs": args.load_procs}
    if args.scenario == "reaction":
        return {"trials": args.trials, "stations": n, "protocol": args.protocol, "interval": args.interval,
                "procs": args.load_procs}
    if args.scenario == "report":
        return {"stations": n, "days": args.days}
    return {"stations": n, "messages": args.messages, "db": args.db}


def run(args) -> int:
    if (args.stations is not None and args.stations < 0) or (args.duration is not None and args.duration <= 0) \
            or args.interval <= 0 or args.rounds < 1 or args.days <= 0:
        print("bench: --stations must be >= 0, --duration, --interval and --days > 0, --rounds >= 1")
        return 2
    figures = run_scenario(args.scenario, **scenario_kwargs(args))
    table = report_table if args.scenario == "report" else format_figures
    print(json.dumps(figures, indent=2) if args.json else table(figures))
    return 1 if failures(_asked(figures, args.target)) else 0


def _asked(figures: dict, target: str) -> dict:
    """The figures whose failures count: with --target all, a target that could not be
    had on this machine (the Node baseline without Node.js) is a note in the table, not
    a failed run."""
    if target != "all" or "results" not in figures:
        return figures
    return {**figures, "results": {t: r for t, r in figures["results"].items() if not r.get("unavailable")}}
