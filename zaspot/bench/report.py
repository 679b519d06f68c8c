"""Plain-text tables for each scenario's figures (the --json output is the dict itself)."""
from __future__ import annotations

from .run import format_table as throughput_table


def _fmt(v, spec: str = "") -> str:
    if v is None:
        return "-"
    return format(v, spec) if spec else str(v)


def _failed(lines: list[str], name: str, r: dict) -> bool:
    if "failed" in r:
        last = (str(r["failed"]).strip().splitlines() or [""])[-1]
        lines.append(f"{name:<10} failed: {last[:200]}")
        return True
    return False


def _ratios(lines: list[str], figures: dict) -> None:
    for name, value in figures.get("ratios", {}).items():
        lines.append(f"{name}: {value:.2f}x")


def scale_table(f: dict) -> str:
    head = (f"{'target':<10} {'connected':>9} {'conn s':>7} {'RSS0 MB':>8} {'RSS1 MB':>8} {'KB/stn':>7} "
            f"{'msgs':>7} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    lines = [(f"scale: {f['stations']} stations, heartbeat + meter values every {f['interval']}s, "
              f"{f['duration']}s of traffic, OCPP {f['protocol']}"), head, "-" * len(head)]
    for name, r in f["results"].items():
        if _failed(lines, name, r):
            continue
        lines.append(f"{name:<10} {r['connected']:>9d} {_fmt(r['connect_s'], '.1f'):>7} "
                     f"{r['rss_before_kb'] / 1024:>8.1f} {r['rss_connected_kb'] / 1024:>8.1f} "
                     f"{_fmt(r['kb_per_station'], '.1f'):>7} {r['messages']:>7d} {_fmt(r['p50_ms'], '.2f'):>8} "
                     f"{_fmt(r['p99_ms'], '.2f'):>8} {r['errors']:>6d}")
    _ratios(lines, f)
    return "\n".join(lines)


def storm_table(f: dict) -> str:
    head = (f"{'target':<10} {'booted':>7} {'never':>6} {'retries':>7} {'overflows':>9} "
            f"{'p50 s':>7} {'all s':>7}")
    lines = [f"storm: {f['stations']} stations connect and boot at once, OCPP {f['protocol']}",
             head, "-" * len(head)]
    for name, r in f["results"].items():
        if _failed(lines, name, r):
            continue
        lines.append(f"{name:<10} {r['connected']:>7d} {r['never_booted']:>6d} {r['retries']:>7d} "
                     f"{r['listen_overflows']:>9d} {_fmt(r['p50_boot_s'], '.2f'):>7} "
                     f"{_fmt(r['all_booted_s'], '.2f'):>7}")
        if r.get("errors"):
            lines.append(f"{'':<10} errors: {'; '.join(r['errors'])}")
    lines.append("overflows: connections the kernel dropped for a full accept queue (retried by TCP)")
    _ratios(lines, f)
    return "\n".join(lines)


def reaction_table(f: dict) -> str:
    r = f["result"]
    lines = [(f"reaction: hot connector ({f['protocol']}) -> SetChargingProfile, {f['trials']} trials, "
              f"under {f['stations']} idle stations")]
    if _failed(lines, "zaspot", r):
        return "\n".join(lines)
    lines.append(f"reacted {r['reacted']}/{r['trials']}  p50 {_fmt(r['p50_ms'], '.2f')} ms  "
                 f"p99 {_fmt(r['p99_ms'], '.2f')} ms  max {_fmt(r['max_ms'], '.2f')} ms")
    bg = r.get("background")
    if bg:
        lines.append(f"background: {bg['connected']} connected, {bg['messages']} answered, "
                     f"p99 {_fmt(bg['p99_ms'], '.2f')} ms, {bg['errors']} errors")
    return "\n".join(lines)


def storage_table(f: dict) -> str:
    r = f["result"]
    lines = [f"storage: {f['source']}"]
    if _failed(lines, "zaspot", r):
        return "\n".join(lines)
    lines += [(f"database {r['db_bytes'] / 1e6:.1f} MB, {r['samples']} meter samples "
               f"({r['samples_per_meter_value']} per meter value) from {r['stations']} stations"),
              (f"bytes per sample: {r['bytes_per_sample']} (meter table + index), "
               f"+{r['replay_bytes_per_sample']} in the rules' replay log, {r['db_bytes_per_sample']} whole file")]
    if "bytes_per_station_day" in r:
        lines += [(f"per station-day at one meter value per {r['meter_interval_s']:.0f}s: "
                   f"{r['bytes_per_station_day'] / 1e6:.2f} MB ({r['bytes_per_station_day_with_replay'] / 1e6:.2f} MB "
                   f"with the replay log)"),
                  (f"a year of {r['fleet']} stations: {r['fleet_year_gb']} GB "
                   f"({r['fleet_year_gb_with_replay']} GB with the replay log), no retention")]
    if r.get("largest_kb"):
        lines.append("largest: " + ", ".join(f"{n} {kb} KB" for n, kb in r["largest_kb"].items()))
    return "\n".join(lines)


TABLES = {"throughput": throughput_table, "scale": scale_table, "storm": storm_table,
          "reaction": reaction_table, "storage": storage_table}


def format_figures(figures: dict) -> str:
    return TABLES[figures.get("scenario", "throughput")](figures)
