"""The monthly report (zaspot.health.report.monthly) as CSV: one row per port, for a
spreadsheet or a funding programme's upload. Ports in station, EVSE, connector order;
uptimes in %, an empty cell where a port has no time in the month (or no failures for
MTBF and MTTR). `uptime_12m` is the rolling 12 months ending with the month (NEVI)."""

from __future__ import annotations

import csv
import io
from typing import Any

COLUMNS = ("month", "station_id", "evse_id", "connector_id", "uptime", "uptime_12m", "minutes",
           "outage_minutes", "excluded_minutes", "failures", "mtbf_hours", "mttr_hours")


def _key(row: dict[str, Any]) -> tuple[str, int, int]:
    return row["station_id"], row["evse_id"], row["connector_id"]


def render(report: dict[str, Any]) -> str:
    month = {_key(p): p for p in report["availability"]["ports"]}
    rolling = {_key(p): p for p in report["rolling_12m"]["ports"]}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for key in sorted(set(month) | set(rolling)):
        p = month.get(key, {})
        writer.writerow([report["month"], *key, _cell(p.get("uptime")), _cell(rolling.get(key, {}).get("uptime")),
                         *(_cell(p.get(name)) for name in COLUMNS[6:])])
    return out.getvalue()


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.3f}".rstrip("0").rstrip(".")
    return value
