"""Actions the operator can take from the keyboard or the command palette.

Plain data: what each action asks for, its API command and how it reads back.
The confirmation modal renders `fields`; `arguments()` turns the answers into the
command's arguments, or raises ValueError with a message the modal shows.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from zaspot.tui import format as fmt
from zaspot.tui.model import Station


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: str
    # int | float | str | time (a local date [and time]) | choice (one of `choices`, as text)
    # | switch (`choices` = (off, on), as a bool) | pick (one of the options given when the modal opens)
    kind: str = "int"
    choices: tuple[str, ...] = ()
    optional: bool = False  # empty: sent as None (a card's group, note, expiry)


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    key: str
    title: str
    command: str
    fields: tuple[Field, ...] = ()
    fixed: tuple[tuple[str, Any], ...] = ()
    danger: bool = False
    station_arg: str = "station_id"  # how the command names its station: station_id | station_ids | "" (it doesn't)


EVSE = Field("evse_id", "EVSE (0 = whole station)")
ACTIONS: tuple[Action, ...] = (
    Action("reset_soft", "r", "Soft reset", "command/reset", fixed=(("kind", "soft"),)),
    Action("reset_hard", "R", "Hard reset", "command/reset", fixed=(("kind", "hard"),), danger=True),
    Action("set_limit", "l", "Set power limit", "command/set_power_limit", (Field("kw", "Limit in kW", "float"), EVSE)),
    Action("clear_limit", "L", "Clear power limit", "command/clear_power_limit", (EVSE,)),
    Action("remote_start", "t", "Remote start", "command/remote_start",
           (Field("evse_id", "EVSE"), Field("id_token", "Id token", "str"))),
    Action("remote_stop", "x", "Remote stop", "command/remote_stop", (Field("transaction_id", "Transaction", "str"),)),
    Action("unlock", "u", "Unlock connector", "command/unlock_connector",
           (Field("evse_id", "EVSE"), Field("connector_id", "Connector"))),
    Action("availability", "v", "Change availability", "command/change_availability",
           (Field("operative", "Make it", "switch", ("Inoperative", "Operative")), EVSE)),
    Action("reserve", "b", "Reserve a connector", "reservations/make",
           (Field("evse_id", "EVSE (the connector on 1.6; 0 = any)"), Field("id_token", "For the card", "str"),
            Field("minutes", "For how many minutes"))),
    Action("cancel_reservation", "B", "Cancel a reservation", "reservations/cancel",
           (Field("reservation_id", "Reservation", "pick"),), station_arg=""),
    Action("update_firmware", "U", "Update firmware", "firmware/update",
           (Field("firmware", "Firmware file (zaspot firmware add FILE puts one here)", "pick"),),
           danger=True, station_arg="station_ids"),
    Action("fetch_logs", "g", "Fetch logs", "logs/fetch",
           (Field("log_type", "Which log", "choice", ("diagnostics", "security")),)),
)
BY_NAME = {a.name: a for a in ACTIONS}

CARD_FORM = Action("card_add", "a", "Add or change a card", "cards/add", (
    Field("id_token", "Card id (the id tag the station reads)", "str"),
    Field("status", "Status", "choice", ("Accepted", "Blocked", "Expired")),
    Field("expiry", "Expires (YYYY-MM-DD [HH:MM], local; empty: never)", "time", optional=True),
    Field("group", "Group (1.6 parentIdTag, 2.0.1 groupIdToken)", "str", optional=True),
    Field("driver", "Driver", "str", optional=True),
    Field("note", "Note", "str", optional=True),
), station_arg="")
CARD_REMOVE = Action("card_remove", "d", "Remove card", "cards/remove", danger=True, station_arg="")


def defaults(action: Action, st: Station | None) -> dict[str, str]:
    """Sensible answers for the modal, from what the station looks like now."""
    outlets = st.outlets if st else []
    free = next((c for c in outlets if c.status == "Available" and not c.transaction_id), None)
    busy = next((c for c in outlets if c.transaction_id), None)
    target = busy or (outlets[0] if outlets else None)
    chosen = free or target
    values = {
        "kw": "11",
        "evse_id": "0" if EVSE in action.fields else str(chosen.evse_id if chosen else 1),
        "connector_id": str(target.connector_id if target else 1),
        "id_token": "" if action.name == "reserve" else "ZASPOT-OPS",
        "transaction_id": (busy.transaction_id or "") if busy else "",
        "operative": "Inoperative" if st and any(c.status != "Unavailable" for c in outlets) else "Operative",
        "minutes": "15",
        "log_type": "diagnostics",
    }
    if action.name == "unlock" and target:
        values["evse_id"] = str(target.evse_id)
    return {f.name: values.get(f.name, "") for f in action.fields}


RESETS = ("reset_soft", "reset_hard")


def what_stops(action: Action, st: Station | None) -> str:
    """What a reset ends, said before it is confirmed ('2 sessions will end: 1 (tx 41), 2 (tx 42)'),
    from the station's running transactions. A 2.0.1 soft reset (OnIdle) waits for them instead."""
    if action.name not in RESETS or st is None:
        return ""
    running = [c for c in st.outlets if c.transaction_id]
    if not running:
        return "No session is running."
    n = len(running)
    sessions = f"{n} session{'s' if n != 1 else ''}"
    where = ", ".join(f"{c.label} (tx {fmt.short_id(c.transaction_id)})" for c in running)
    if st.ocpp_version == "2.0.1" and action.name == "reset_soft":
        return f"{sessions} running ({where}): the station resets once {'they end' if n > 1 else 'it ends'}."
    return f"{sessions} will end: {where}."


def card_answers(card: dict[str, Any] | None) -> dict[str, str]:
    """The card form filled in from a card (to change it), or empty (a new one)."""
    card = card or {}
    status = card.get("stored_status") or card.get("status") or "Accepted"  # the one set, not the effective one
    return {"id_token": card.get("id_token") or "", "status": status, "expiry": fmt.date_time(card.get("expiry")),
            "group": card.get("group") or "", "driver": card.get("driver") or "", "note": card.get("note") or ""}


def parse_time(raw: str) -> float:
    """'2027-03-31' (end of that day) or '2027-03-31 18:00', local time -> UNIX seconds."""
    for pattern, end_of_day in (("%Y-%m-%d %H:%M", False), ("%Y-%m-%d", True)):
        try:
            t = time.strptime(raw, pattern)
        except ValueError:
            continue
        ts = time.mktime(t)
        return ts + 86399 if end_of_day else ts
    raise ValueError(f"expected YYYY-MM-DD or YYYY-MM-DD HH:MM, got {raw!r}")


def _value(f: Field, raw: Any) -> Any:
    if f.kind == "pick":
        return raw
    if f.kind == "switch":
        return raw == f.choices[-1]
    if f.kind == "time":
        return parse_time(raw)
    try:
        value = {"int": int, "float": float}.get(f.kind, str)(raw)
    except ValueError:
        raise ValueError(f"expected a {'whole ' if f.kind == 'int' else ''}number, got {raw!r}") from None
    if f.kind in ("int", "float") and f.name in ("kw", "minutes") and value <= 0:
        raise ValueError("must be above 0")
    return value


def arguments(action: Action, answers: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = dict(action.fixed)
    for f in action.fields:
        raw = answers.get(f.name)
        raw = raw.strip() if isinstance(raw, str) else raw
        if raw in (None, ""):
            if not f.optional:
                raise ValueError(f"{f.label}: required")
            out[f.name] = None
            continue
        try:
            out[f.name] = _value(f, raw)
        except ValueError as exc:
            raise ValueError(f"{f.label}: {exc}") from None
    return out


def target_args(action: Action, station_id: str) -> dict[str, Any]:
    """The command's station argument, named as that command names it."""
    if action.station_arg == "station_ids":
        return {"station_ids": [station_id]}
    return {action.station_arg: station_id} if action.station_arg else {}


def summary(action: Action, station_id: str, args: dict[str, Any]) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in args.items() if k != "kind")
    return f"{action.title} on {station_id}" + (f" ({shown})" if shown else "")


def outcome_text(action: Action, station_id: str, result: Any) -> str:
    result = result if isinstance(result, dict) else {}
    if action.name == "reserve" and result.get("id") is not None:
        return (f"{station_id}: reservation {result['id']} for {result.get('id_token')} "
                f"until {fmt.clock(result.get('expires_at'))} — {result.get('status') or 'made'}")
    if action.name == "cancel_reservation":
        return f"{station_id}: reservation {result.get('id', '')} — {result.get('status') or 'cancelled'}"
    if action.name == "update_firmware":
        updates = result.get("updates") or [{}]
        return (f"{station_id}: firmware update (rollout {result.get('rollout_id', '?')}) — "
                f"{updates[0].get('status') or 'started'}")
    if action.name == "fetch_logs":
        return f"{station_id}: log upload {result.get('id', '')} — {result.get('status') or 'asked'}"
    return f"{station_id}: {action.title.lower()} — {result.get('status') or 'done'}"
