"""Report scenario: what the health report costs on a synthetic year of a fleet's stored
history (zaspot.bench.health_history).

    zaspot bench --scenario report --stations 200 --days 365

It measures, on that store: the outage consumer (zaspot.health.outages.OutageLog)
catching up from the whole log, the temperature fold (zaspot.health.loadtemp), the
monthly report (zaspot.health.report.monthly, the last complete month) and each
renderer (text, csv, html).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from typing import Any

from zaspot.bench.health_history import write_history
from zaspot.config import Config
from zaspot.core.bus import EventBus
from zaspot.core.state import FleetState
from zaspot.health import render_csv, render_html, render_text
from zaspot.health import report as health_report
from zaspot.health.loadtemp import LoadTemperature
from zaspot.health.outages import INPUTS as OUTAGE_INPUTS
from zaspot.health.outages import OutageLog
from zaspot.ocpp.context import ServerContext
from zaspot.store import Store

# -- the measurements --------------------------------------------------------------------


async def _timed(figures: dict[str, Any], name: str, work: Any) -> Any:
    began = time.perf_counter()
    result = await work
    figures[name] = round(time.perf_counter() - began, 3)
    return result


async def measure(path: str, history: dict[str, Any]) -> dict[str, Any]:
    """On the written store: the outage consumer's catch-up, the temperature fold and drift
    test, the monthly report and each renderer, as a server would run them."""
    out: dict[str, Any] = {}
    store = await Store.open(path)
    try:
        ctx = ServerContext(config=Config(), store=store, bus=EventBus(), fleet=FleetState())
        for start, end, station_id, reason in history["exclusions"]:
            await store.add_exclusion(start, end, reason, station_id=station_id)
        outages = OutageLog(ctx)
        await _timed(out, "catch_up_s", outages.start())
        await outages.stop()
        out["outage_events"] = sum(history["by_type"].get(t, 0) for t in OUTAGE_INPUTS)
        out["outages"] = len(await store.outages_between(history["start"], history["end"] + 1))
        temperature = LoadTemperature(ctx)
        out["hours_folded"] = await _timed(out, "fold_s", temperature.fold(until=history["end"]))
        out["drift_events"] = len(await _timed(out, "drift_check_s", temperature.check()))
        monthly = await _timed(out, "monthly_s",
                               health_report.monthly(store, ctx.config.health, None, history["end"]))
        site = monthly["availability"]["site"]
        out.update(month=monthly["month"], ports=site["ports"], site_uptime=site["uptime"],
                   flagged=sum(1 for s in monthly["temperature"]["series"] if s.get("flagged")))
        for name, renderer in (("text", render_text), ("csv", render_csv), ("html", render_html),
                               ("html_warm", render_html)):  # the first html render imports matplotlib
            began = time.perf_counter()
            page = renderer.render(monthly)
            out[f"{name}_s"] = round(time.perf_counter() - began, 3)
            out[f"{name}_kb"] = round(len(page.encode()) / 1024, 1)
    finally:
        await store.close()
    return out


async def report(stations: int = 200, days: float = 365.0, meter_every: float = 900.0, seed: int = 19) -> dict:
    """`zaspot bench --scenario report`: the figures, as --json prints them."""
    figures: dict[str, Any] = {"scenario": "report", "stations": stations, "days": days, "meter_every": meter_every}
    with tempfile.TemporaryDirectory(prefix="zaspot-bench-report-") as workdir:
        path = os.path.join(workdir, "history.db")
        try:
            began = time.perf_counter()
            history = await asyncio.to_thread(write_history, path, stations, days, time.time() // 3600 * 3600,
                                              meter_every, seed)
            figures["history"] = {k: v for k, v in history.items() if k != "exclusions"}
            figures["history"].update(write_s=round(time.perf_counter() - began, 1),
                                      excluded=len(history["exclusions"]), db_mb=round(os.path.getsize(path) / 1e6, 1))
            figures["result"] = await measure(path, history)
        except Exception as exc:
            figures["result"] = {"failed": f"{type(exc).__name__}: {exc}"[:400]}
    return figures


def report_table(f: dict[str, Any]) -> str:
    lines = [(f"report: {f['stations']} stations x 2 connectors, {f['days']:g} days of synthetic history "
              f"(a meter value every {f['meter_every']:g} s while charging)")]
    h, r = f.get("history"), f["result"]
    if h:
        lines.append(f"history: {h['events']:,} events, {h['alarms']:,} alarms, {h['temperatures']:,} temperatures, "
                     f"{h['meter_samples']:,} meter samples, {h['sessions']:,} sessions, {h['faults']:,} faults; "
                     f"{h['db_mb']:,.0f} MB, written in {h['write_s']:g} s")
    if "failed" in r:
        lines.append(f"failed: {str(r['failed']).strip().splitlines()[-1][:200]}")
        return "\n".join(lines)
    rate = r["outage_events"] / r["catch_up_s"] if r["catch_up_s"] else 0
    lines += [(f"outage consumer catch-up: {r['outage_events']:,} events in {r['catch_up_s']:.2f} s "
               f"({rate:,.0f} events/s), {r['outages']:,} outages"),
              (f"temperature fold: {r['hours_folded']:,} hours with readings in {r['fold_s']:.2f} s; "
               f"drift check {r['drift_check_s']:.2f} s ({r['drift_events']} TemperatureDrift events)"),
              (f"report {r['month']} ({r['ports']} ports, site uptime {r['site_uptime']} %, {r['flagged']} drifting): "
               f"monthly {r['monthly_s']:.2f} s"),
              (f"render: text {r['text_s']:.3f} s ({r['text_kb']:,} KB), csv {r['csv_s']:.3f} s ({r['csv_kb']:,} KB), "
               f"html {r['html_s']:.2f} s with matplotlib's import, {r['html_warm_s']:.2f} s after "
               f"({r['html_kb']:,} KB)")]
    return "\n".join(lines)
