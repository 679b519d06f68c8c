"""The monthly report (zaspot.health.report.monthly) as text for a terminal: `zaspot report`.

Site first, then what needs attention: stations worst first, ports below target, the
outages and maintenance windows, the fault codes, repeat offenders, module trips and drifting connectors. Times are
in the report's timezone; a figure without data is "-".
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from zaspot.api.shell import table

MAX_OUTAGES = 40  # the longest ones; the API (reports/outages) and the HTML report have every one
MAX_CODES = 15


def pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}%"


def num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def port(row: dict[str, Any]) -> str:
    """'1' for a 1.6 connector (EVSE = connector), '1/2' for a 2.0.1 EVSE and connector."""
    evse, connector = row.get("evse_id"), row.get("connector_id")
    return str(connector) if evse == connector else f"{evse}/{connector}"


def render(report: dict[str, Any]) -> str:
    zone = ZoneInfo(report["timezone"])
    lines = _heading(report, zone)
    for section in (_stations, _below_target, _outages, _excluded, _codes, _repeat_offenders, _modules, _drifting):
        lines += ["", *section(report, zone)]
    return "\n".join(lines) + "\n"


def _when(ts: float | None, zone: ZoneInfo) -> str:
    return "open" if ts is None else datetime.fromtimestamp(ts, zone).strftime("%Y-%m-%d %H:%M")


def _heading(report: dict[str, Any], zone: ZoneInfo) -> list[str]:
    site = report["availability"]["site"]
    rolling = report["rolling_12m"]["site"]
    month = datetime.strptime(report["month"], "%Y-%m").strftime("%B %Y")
    so_far = f" (so far, to {_when(report['end'], zone)})" if report.get("partial") else ""
    return [
        f"Fleet health, {month}{so_far}, {report['timezone']}; target {report['target']:g}% uptime per port",
        f"generated {_when(report['generated_at'], zone)}",
        "",
        (f"Site uptime {pct(site['uptime'])} (12 months {pct(rolling['uptime'])}); {site['ports']} ports, "
         f"{site['below_target']} below target"),
        (f"Outages {num(site['outage_minutes'])} min, excluded {num(site['excluded_minutes'])} min; "
         f"failures {site['failures']}, MTBF {num(site['mtbf_hours'])} h, MTTR {num(site['mttr_hours'], 2)} h"),
    ]


def _stations(report: dict[str, Any], zone: ZoneInfo) -> list[str]:
    stations = report["availability"]["stations"]
    if not stations:
        return ["Stations: none had time in this month"]
    rolling = {s["station_id"]: s["uptime"] for s in report["rolling_12m"]["stations"]}
    rows = [[s["station_id"], pct(s["uptime"]), pct(rolling.get(s["station_id"])), s["ports"], s["failures"],
             num(s["mtbf_hours"]), num(s["mttr_hours"], 2), num(s["outage_minutes"]), num(s["excluded_minutes"])]
            for s in stations]
    return ["Stations, worst first",
            *table(["STATION", "UPTIME", "12 MONTHS", "PORTS", "FAILURES", "MTBF H", "MTTR H", "OUTAGE MIN",
                    "EXCLUDED MIN"], rows)]


def _below_target(report: dict[str, Any], zone: ZoneInfo) -> list[str]:
    target = report["target"]
    below = [p for p in report["availability"]["ports"] if p["uptime"] is not None and p["uptime"] < target]
    if not below:
        return [f"Ports below {target:g}%: none"]
    rows = [[p["station_id"], port(p), pct(p["uptime"]), num(p["outage_minutes"]), num(p["excluded_minutes"]),
             *(num(p["by_cause"].get(cause)) for cause in ("offline", "faulted", "unavailable"))] for p in below]
    return [f"Ports below {target:g}%",
            *table(["STATION", "PORT", "UPTIME", "OUTAGE MIN", "EXCLUDED MIN", "OFFLINE", "FAULTED", "UNAVAILABLE"],
                   rows)]


def _outages(report: dict[str, Any], zone: ZoneInfo) -> list[str]:
    outages = report["outages"]
    if not outages:
        return ["Outages: none"]
    shown = sorted(sorted(outages, key=lambda o: -o["minutes"])[:MAX_OUTAGES], key=lambda o: o["started"])
    rows = [[o["station_id"], port(o), o["cause"], o.get("code") or o.get("detail") or "", _when(o["started"], zone),
             _when(o["ended"], zone), num(o["minutes"])] for o in shown]
    more = len(outages) - len(shown)
    return [f"Outages ({len(outages)})" + (f", the {len(shown)} longest" if more else ""),
            *table(["STATION", "PORT", "CAUSE", "WHY", "FROM", "TO", "MINUTES"], rows)]


def _excluded(report: dict[str, Any], zone: ZoneInfo) -> list[str]:
    windows = report.get("exclusions") or []
    if not windows:
        return ["Maintenance windows: none"]
    rows = [[where(w), _when(w["start"], zone), _when(w["end"], zone), w["source"], w["reason"]] for w in windows]
    return ["Maintenance windows (not counted against uptime)",
            *table(["WHERE", "FROM", "TO", "SOURCE", "REASON"], rows)]


def where(window: dict[str, Any]) -> str:
    """What an exclusion covers: 'site', 'CP-1', 'CP-1 EVSE 1' or 'CP-1 1/2'."""
    if window.get("station_id") is None:
        return "site"
    if window.get("evse_id") is None:
        return window["station_id"]
    if window.get("connector_id") is None:
        return f"{window['station_id']} EVSE {window['evse_id']}"
    return f"{window['station_id']} {port(window)}"


def _codes(report: dict[str, Any], zone: ZoneInfo) -> list[str]:
    faults = report["faults"]
    if not faults["codes"]:
        return ["Fault codes: no alarms"]
    clears = {c["code"]: c for c in faults["clear_times"]}
    rows = []
    for c in faults["codes"][:MAX_CODES]:
        cleared = clears.get(c["code"], {})
        rows.append([c["code"], c["count"], c["stations"], num(cleared.get("median_minutes")),
                     num(cleared.get("max_minutes")), cleared.get("open", 0)])
    return ["Top fault codes",
            *table(["CODE", "ALARMS", "STATIONS", "MEDIAN CLEAR MIN", "MAX CLEAR MIN", "OPEN"], rows)]


def _repeat_offenders(report: dict[str, Any], zone: ZoneInfo) -> list[str]:
    offenders = report["faults"]["repeat_offenders"]
    if not offenders:
        return ["Repeat offenders: none"]
    counts = {(r["station_id"], r["code"]): r["count"] for r in report["faults"]["by_station"]}
    rows = [[r["station_id"], "-" if r["failures"] is None else r["failures"],
             ", ".join(f"{code} x{counts.get((r['station_id'], code), 0)}" for code in r["codes"])]
            for r in offenders]
    return ["Repeat offenders", *table(["STATION", "FAILURES", "CODES"], rows)]


def _modules(report: dict[str, Any], zone: ZoneInfo) -> list[str]:
    modules = report["faults"]["modules"]
    if not modules:
        return ["Power-module trips: none"]
    return ["Power-module trips",
            *table(["STATION", "MODULE", "TRIPS"], [[m["station_id"], m["instance"], m["trips"]] for m in modules])]


def _rise(value: float | None) -> str:
    return "-" if value is None else f"{value:+.0f}%"


def _drifting(report: dict[str, Any], zone: ZoneInfo) -> list[str]:
    flagged = [s for s in (report.get("temperature") or {}).get("series", []) if s.get("flagged")]
    if not flagged:
        return ["Temperature drift: no connector or module flagged"]
    rows = [[s["station_id"], port(s) if not s.get("instance") else f"module {s['instance']}", s["location"],
             num(s["baseline"], 3), num(s["current"], 3), _rise(s["rise_pct"])] for s in flagged]
    return ["Temperature drift (°C per A)",
            *table(["STATION", "WHERE", "LOCATION", "BASELINE", "NOW", "RISE"], rows)]
