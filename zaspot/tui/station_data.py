"""Plain readings for the station screen: the power limit in force and event lines."""

from __future__ import annotations

from typing import Any

from zaspot.tui import format as fmt

LIMIT_COMMANDS = ("set_power_limit", "clear_power_limit")


def _find(obj: Any, key: str) -> Any:
    """The first value under `key` anywhere in nested dicts/lists (profile shapes differ by version)."""
    if isinstance(obj, dict):
        if key in obj:
            return obj[key]
        obj = list(obj.values())
    if isinstance(obj, list):
        for item in obj:
            found = _find(item, key)
            if found is not None:
                return found
    return None


def who(source: str | None) -> str:
    """'rule:connector_overheat' -> 'rule connector_overheat'; 'api:ops' -> 'operator ops'."""
    if not source:
        return "unknown"
    kind, _, name = source.partition(":")
    kind = {"api": "operator", "ems": "EMS", "rule": "rule"}.get(kind, kind)
    return f"{kind} {name}".strip()


def power_limit(commands: list[dict[str, Any]]) -> str:
    """The limit the last accepted set/clear command left in force (commands newest first)."""
    for cmd in commands:
        if cmd.get("command") not in LIMIT_COMMANDS or not cmd.get("ok"):
            continue
        by = f"set by {who(cmd.get('source'))} at {fmt.clock(cmd.get('done_at') or cmd.get('sent_at'))}"
        if cmd["command"] == "clear_power_limit":
            return f"none (cleared by {who(cmd.get('source'))} at {fmt.clock(cmd.get('done_at'))})"
        payload = cmd.get("payload") or {}
        limit = _find(payload, "chargingSchedulePeriod")
        value = limit[0].get("limit") if isinstance(limit, list) and limit else None
        unit = _find(payload, "chargingRateUnit") or "W"
        where = _find(payload, "evseId")
        where = _find(payload, "connectorId") if where is None else where
        place = "station" if not where else f"EVSE {where}"
        shown = fmt.kw(value) if unit == "W" and value is not None else f"{value} {unit}"
        return f"{shown} on {place}, {by}"
    return "none"


def event_line(event: dict[str, Any]) -> str:
    """One short line per event for the station's event log."""
    kind = event.get("type", "?")
    where = f" {event.get('evse_id')}/{event.get('connector_id')}" if event.get("connector_id") else ""
    detail = {
        "status_changed": lambda e: f"{e.get('status')} {e.get('error_code') or ''}".strip(),
        "temperature": lambda e: f"{e.get('location')} {e.get('celsius')} °C",
        "alarm_raised": lambda e: f"[{e.get('severity')}] {e.get('code')}: {e.get('message')}",
        "alarm_cleared": lambda e: f"{e.get('code')} cleared"
                                   + (f", now {e['superseded_by']}" if e.get("superseded_by") else ""),
        "power_module": lambda e: f"module {e.get('instance')} {'ok' if not (e.get('problem') or e.get('tripped')) else 'TRIPPED' if e.get('tripped') else 'problem'}",
        "command_result": lambda e: f"{e.get('command')} -> {e.get('status') or e.get('error') or ('ok' if e.get('ok') else 'failed')} ({who(e.get('source'))})",
        "fault": lambda e: f"{e.get('component')} {e.get('code')} {'active' if e.get('active') else 'cleared'}",
        "transaction_started": lambda e: f"tx {e.get('transaction_id')} started",
        "transaction_ended": lambda e: f"tx {e.get('transaction_id')} ended ({e.get('reason') or '-'})",
        "meter_sample": lambda e: "meter values",
    }.get(kind, lambda e: "")(event)
    return f"{fmt.clock(event.get('time'))} {kind}{where} {detail}".rstrip()
