"""Plain readings for the station screen: the power limit in force and event lines."""

from __future__ import annotations

from typing import Any

from zaspot.tui import format as fmt
from zaspot.tui.alarms import alarm_name, alarm_text

LIMIT_EVENTS = ("limit_in_force",)


def who(source: str | None, rule_names: dict[str, str] | None = None) -> str:
    """'rule:connector_overheat' -> 'rule “Halve power when a connector runs hot”' (its alias,
    when the server has that rule); 'operator:ops' -> 'operator ops'."""
    if not source:
        return "unknown"
    kind, _, name = source.partition(":")
    alias = (rule_names or {}).get(name) if kind == "rule" else None
    if alias:
        return f"rule “{alias}”"
    kind = {"api": "operator", "ems": "EMS", "rule": "rule"}.get(kind, kind)
    return f"{kind} {name.replace('_', ' ')}".strip()  # 'cards:local_list' -> 'cards local list'


def _amount(amps: float | None, watts: float | None, unit: str) -> str:
    if amps is None:
        return "none"
    return fmt.kw(watts) if unit == "W" and watts is not None else f"{amps:g} A"


def power_limit(limits: list[dict[str, Any]], rule_names: dict[str, str] | None = None) -> str:
    """Each EVSE's limit in force (limits/get), who set it, and the other intents behind it."""
    lines = []
    for lim in limits:
        place = "station" if not lim["evse_id"] else f"EVSE {lim['evse_id']}"
        shown = _amount(lim.get("in_force_amps"), lim.get("in_force_watts"), lim.get("unit", "A"))
        line = f"{shown} on {place}"
        if lim.get("set_by"):
            line += f", set by {who(lim['set_by'], rule_names)} at {fmt.clock(lim.get('since'))}"
        if lim.get("applied") is False and lim.get("in_force_amps") is not None:
            line += " [b red](not applied)[/]"
        if lim.get("error"):
            line += f" [red]({lim['error']})[/]"
        others = [f"{who(i['source'], rule_names)} {i['amps']:g} A" for i in lim.get("intents", [])
                  if i["source"] != lim.get("set_by")]
        if others:
            line += f"; also {', '.join(others)}"
        lines.append(line)
    return "; ".join(lines) if lines else "none"


def _module_state(e: dict[str, Any]) -> str:
    if not (e.get("problem") or e.get("tripped")):
        return "ok"
    return "TRIPPED" if e.get("tripped") else "problem"


def _command_answer(e: dict[str, Any]) -> str:
    return e.get("status") or e.get("error") or ("ok" if e.get("ok") else "failed")


def command_name(e: dict[str, Any]) -> str:
    """'set_power_limit' -> 'set power limit'; a raw CALL by its OCPP action."""
    command = e.get("command") or "?"
    return str(e.get("action") or command) if command == "raw" else str(command).replace("_", " ")


def event_line(event: dict[str, Any], rule_names: dict[str, str] | None = None) -> str:
    """One short line per event for the station's event log (temperatures: event_log.py folds them)."""
    kind = event.get("type", "?")
    where = f" {event.get('evse_id')}/{event.get('connector_id')}" if event.get("connector_id") else ""
    detail = {
        "status_changed": lambda e: f"{e.get('status')} {e.get('error_code') or ''}".strip(),
        "temperature": lambda e: f"{e.get('location')} {e.get('celsius')} °C",
        "alarm_raised": lambda e: f"[{e.get('severity')}] {alarm_text(e)}",
        "alarm_cleared": lambda e: alarm_name(e.get("code"))
                                   + (f", now {alarm_name(e['superseded_by'])}" if e.get("superseded_by") else ""),
        "power_module": lambda e: f"{e.get('instance')} {_module_state(e)}",
        "command_result": lambda e: f"{command_name(e)} -> {_command_answer(e)}"
                                    f" ({who(e.get('source'), rule_names)})",
        "fault": lambda e: f"{e.get('component')} {e.get('code')} {'active' if e.get('active') else 'cleared'}",
        "transaction_started": lambda e: f"tx {fmt.short_id(e.get('transaction_id'))} started",
        "transaction_ended": lambda e: f"tx {fmt.short_id(e.get('transaction_id'))} ended ({e.get('reason') or '-'})",
        "meter_sample": lambda e: "meter values",
        "reservation_changed": lambda e: (f"reservation {e.get('reservation_id')} for {e.get('id_token')} "
                                          f"{e.get('status')}")
                                         + (f" until {fmt.clock(e['expires_at'])}"
                                            if e.get("status") == "active" else ""),
        "firmware_status": lambda e: f"{e.get('firmware') or 'firmware'} {e.get('status')}",
        "log_status": lambda e: f"log upload {e.get('upload_id')} {e.get('status')}"
                                + (f" {e['filename']}" if e.get("filename") else ""),
        "authorization": lambda e: f"card {e.get('id_token')} {e.get('status')} (auth {e.get('mode')})",
        "local_list_synced": lambda e: (f"local list v{e.get('version')} {e.get('update_type') or ''} "
                                        f"{e.get('status') or ''}").rstrip(),
        "transaction_stale": lambda e: f"tx {fmt.short_id(e.get('transaction_id'))} closed as stale"
                                       f" ({e.get('reason') or '-'})",
        "connection_refused": lambda e: f"from {e.get('remote')}: {e.get('reason')}",
        "session_cost": lambda e: f"tx {fmt.short_id(e.get('transaction_id'))} "
                                  f"{'cost' if e.get('final') else 'so far'} "
                                  f"{fmt.money(e.get('cost'), e.get('currency') or '')}",
    }.get(kind, lambda e: "")(event)
    return f"{fmt.clock(event.get('time'))} {kind.replace('_', ' ')}{where} {detail}".rstrip()
