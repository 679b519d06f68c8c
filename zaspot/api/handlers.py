"""Operator API commands: `{"id": N, "type": <name>, …}` -> result.

Fleet and history reads, live subscriptions, and the version-neutral station
commands (`command/<name>` with `station_id` and that command's arguments).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from zaspot.api.plans import priced_plans
from zaspot.api.registry import HANDLERS, ApiError, Handler, arg, handler, limit_arg
from zaspot.core.bus import MATCH_ALL
from zaspot.core.event_catalog import event_types
from zaspot.core.events import Event

if TYPE_CHECKING:
    from zaspot.api.websocket import ApiConnection

# --- fleet ---------------------------------------------------------------------


@handler("ping")
async def ping(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    return "pong"


@handler("fleet/list")
async def fleet_list(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    live = conn.ctx.fleet.stations
    return [station_row(row, live.get(row["id"])) for row in await conn.ctx.store.stations()]


@handler("station/get")
async def station_get(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    station_id = arg(msg, "station_id")
    row = await conn.ctx.store.station(station_id)
    if row is None:
        raise ApiError("not_found", f"no station {station_id!r}")
    out = station_row(row, conn.ctx.fleet.stations.get(station_id))
    out["connectors"] = await conn.ctx.store.connectors(station_id)
    out["limits"] = conn.ctx.limits.of(station_id) if conn.ctx.limits else []
    return out


@handler("limits/get")
async def limits_get(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    """Each EVSE's limit in force, who set it, and every intent behind it (zaspot.limits)."""
    return conn.ctx.limits.of(arg(msg, "station_id"))


def station_row(row: dict[str, Any], state: Any) -> dict[str, Any]:
    """The stored row, with the live facts from their one owner, the fleet state (the row's
    last_seen is written every 10 s, its connected flag may predate a crash)."""
    out = {**row, "state": None}
    for key in ("name", "site", "notes"):  # the operator's words for it (config or station/update)
        out[key] = row.get(key) or ""
    if state is not None:
        out.update(connected=state.connected, last_seen=state.last_seen, state=state.to_dict())
    else:
        out["connected"] = False
    return out


# --- history -------------------------------------------------------------------


@handler("history/events")
async def history_events(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    return await conn.ctx.store.events(arg(msg, "station_id", str, None), arg(msg, "event_type", str, None),
                                       limit_arg(msg))


@handler("history/transactions")
async def history_transactions(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    return await conn.ctx.store.transactions(arg(msg, "station_id", str, None), limit=limit_arg(msg))


@handler("history/meter_samples")
async def history_meter_samples(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    since = arg(msg, "since", (int, float), None)
    return await conn.ctx.store.meter_samples_of(arg(msg, "station_id"), since, limit_arg(msg, 1000))


@handler("history/commands")
async def history_commands(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    return await conn.ctx.store.commands(arg(msg, "station_id", str, None), limit=limit_arg(msg))


@handler("history/frames")
async def history_frames(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    return await conn.ctx.store.frames(arg(msg, "station_id"), limit_arg(msg))


@handler("history/alarms")
async def history_alarms(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    return await conn.ctx.store.alarms(
        arg(msg, "station_id", str, None), bool(arg(msg, "open_only", bool, False)), limit_arg(msg)
    )


@handler("diagnostics/limits")
async def diagnostics_limits(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    """The temperature alarm thresholds: zaspot.yaml's `diagnostics.temperature` rules, then the
    built-in ones (the TUI colours each reading by its own location's and station model's limit)."""
    from dataclasses import asdict

    from zaspot.diagnostics.config import DEFAULT_LIMITS

    return {"temperature": [asdict(t) for t in conn.ctx.config.diagnostics.temperature],
            "defaults": [asdict(t) for t in DEFAULT_LIMITS.values()]}


# --- live events -----------------------------------------------------------------


@handler("subscribe_events")
async def subscribe_events(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    event_type = arg(msg, "event_type", str, None) or MATCH_ALL
    station_id = arg(msg, "station_id", str, None)
    if event_type != MATCH_ALL and event_type not in event_types():
        known = ", ".join(sorted(event_types()))
        raise ApiError("invalid_format", f"unknown event type {event_type!r}; known: {known}")
    sub_id = msg["id"]

    def forward(event: Event) -> None:
        if station_id is None or event.station_id == station_id:
            conn.send({"id": sub_id, "type": "event", "event": event.to_dict()})

    conn.subscriptions[sub_id] = conn.ctx.bus.listen(event_type, forward, name=f"api:{conn.user}:{sub_id}")
    return None


@handler("unsubscribe_events")
async def unsubscribe_events(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    unsubscribe = conn.subscriptions.pop(arg(msg, "subscription", int), None)
    if unsubscribe is None:
        raise ApiError("not_found", "no such subscription")
    unsubscribe()
    return None


# --- station commands ---------------------------------------------------------------

# API name -> (Commands method, {argument: type})
STATION_COMMANDS: dict[str, tuple[str, dict[str, Any]]] = {
    "reset": ("reset", {"kind": str}),
    "remote_start": ("remote_start", {"id_token": str, "evse_id": int, "connector_id": int}),
    "remote_stop": ("remote_stop", {"transaction_id": (str, int)}),
    "unlock_connector": ("unlock_connector", {"connector_id": int, "evse_id": int}),
    "change_availability": ("change_availability", {"operative": bool, "evse_id": int, "connector_id": int}),
    "trigger_message": ("trigger_message", {"message": str, "evse_id": int, "connector_id": int}),
    "get_variables": ("get_variables", {"keys": list}),
    "set_variables": ("set_variables", {"values": dict}),
    "set_power_limit": ("set_power_limit", {"kw": (int, float), "amps": (int, float), "evse_id": int,
                                            "duration_s": (int, float)}),
    "clear_power_limit": ("clear_power_limit", {"evse_id": int}),
    "data_transfer": ("data_transfer", {"vendor_id": str, "message_id": str, "data": object}),
    "raw": ("raw", {"action": str, "payload": dict}),
}


def _station_command(name: str, method: str, spec: dict[str, Any]) -> Handler:
    async def run(conn: ApiConnection, msg: dict[str, Any]) -> Any:
        station_id = arg(msg, "station_id")
        unknown = set(msg) - set(spec) - {"id", "type", "station_id"}
        if unknown:
            raise ApiError("invalid_format", f"unknown argument(s) for {name}: {', '.join(sorted(unknown))}")
        kwargs = {k: arg(msg, k, kind) for k, kind in spec.items() if k in msg}
        if "transaction_id" in kwargs:
            kwargs["transaction_id"] = str(kwargs["transaction_id"])
        try:
            outcome = await getattr(conn.commands, method)(station_id, **kwargs, source=f"operator:{conn.user}")
        except TypeError as exc:
            raise ApiError("invalid_format", f"{name}: {exc}") from None
        if not outcome.ok:
            message = outcome.error or f"station answered {outcome.status}"
            raise ApiError(outcome.reason or "rejected", message, outcome.to_dict())
        return outcome.to_dict()

    return run


for _name, (_method, _spec) in STATION_COMMANDS.items():
    HANDLERS[f"command/{_name}"] = _station_command(_name, _method, _spec)


# --- rules ---------------------------------------------------------------------------


def _rules(conn: ApiConnection) -> Any:
    from zaspot.rules import running

    rules = running(conn.ctx)
    if rules is None:
        raise ApiError("not_available", "the rules engine is not running")
    return rules


@handler("rules/list")
async def rules_list(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    rules = _rules(conn)
    out = []
    for rule_id, state in sorted(rules.engine.states.items()):
        last = rules.engine.traces.last(rule_id)
        out.append({**state.rule.summary(), "running": len(state.active),
                    "last_run": last.to_dict() if last else None})
    return {"rules": out, "errors": [str(e) for e in rules.folder.all_errors()], "folder": str(rules.folder.folder),
            "warning": rules.folder.warning}  # e.g. the folder does not exist: every rule is off


@handler("rules/reload")
async def rules_reload(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    rules = _rules(conn)
    errors = rules.folder.reload(force=True)
    return {"loaded": sorted(rules.engine.states), "errors": [str(e) for e in errors]}


@handler("history/rule_traces")
async def history_rule_traces(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    return await conn.ctx.store.rule_traces(arg(msg, "rule_id", str, None), arg(msg, "station_id", str, None),
                                            limit_arg(msg))


# --- energy management ------------------------------------------------------------


def _ems(conn: ApiConnection) -> Any:
    manager = getattr(conn.ctx, "ems", None)
    if manager is None:
        raise ApiError("not_configured", "energy management is off (no ems: section in zaspot.yaml)")
    return manager


@handler("ems/state")
async def ems_state(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    """The site's power flow and each EVSE's limit with its reason, as of the last tick."""
    return _ems(conn).state()


@handler("ems/plan")
async def ems_plan(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    """What the strategy plans (spot_price: each session's periods, and what they are expected
    to cost) and the limits sent lately."""
    manager = _ems(conn)
    notes = manager.decision.notes if manager.decision else {}
    history = await conn.ctx.store.ems_limit_log(arg(msg, "station_id", str, None), limit_arg(msg, 50))
    return {"strategy": manager.strategy_name, "plans": priced_plans(conn.ctx, notes.get("plans", {})),
            "sent": history}


@handler("ems/prices")
async def ems_prices(conn: ApiConnection, msg: dict[str, Any]) -> Any:
    return [slot.to_dict() for slot in _ems(conn).prices]
