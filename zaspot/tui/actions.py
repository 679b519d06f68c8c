"""Station actions the operator can take from the keyboard or the command palette.

Plain data: what each action asks for, its API command and how it reads back.
The confirmation modal renders `fields`; `arguments()` turns the answers into the
command's arguments, or raises ValueError with a message the modal shows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from zaspot.tui.model import Station


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: str
    kind: str = "int"  # int | float | str | choice
    choices: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Action:
    name: str
    key: str
    title: str
    command: str
    fields: tuple[Field, ...] = ()
    fixed: tuple[tuple[str, Any], ...] = ()
    danger: bool = False


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
           (Field("operative", "Make it", "choice", ("Inoperative", "Operative")), EVSE)),
)
BY_NAME = {a.name: a for a in ACTIONS}


def defaults(action: Action, st: Station | None) -> dict[str, str]:
    """Sensible answers for the modal, from what the station looks like now."""
    outlets = st.outlets if st else []
    free = next((c for c in outlets if c.status == "Available" and not c.transaction_id), None)
    busy = next((c for c in outlets if c.transaction_id), None)
    target = busy or (outlets[0] if outlets else None)
    values = {
        "kw": "11",
        "evse_id": "0" if EVSE in action.fields else str((free or target).evse_id if (free or target) else 1),
        "connector_id": str(target.connector_id if target else 1),
        "id_token": "ZASPOT-OPS",
        "transaction_id": busy.transaction_id if busy else "",
        "operative": "Inoperative" if st and any(c.status != "Unavailable" for c in outlets) else "Operative",
    }
    if action.name == "unlock" and target:
        values["evse_id"] = str(target.evse_id)
    return {f.name: values.get(f.name, "") for f in action.fields}


def arguments(action: Action, answers: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = dict(action.fixed)
    for f in action.fields:
        raw = answers.get(f.name, "").strip()
        if not raw:
            raise ValueError(f"{f.label}: required")
        try:
            out[f.name] = {"int": int, "float": float}.get(f.kind, str)(raw)
        except ValueError:
            raise ValueError(f"{f.label}: expected a {'whole ' if f.kind == 'int' else ''}number, got {raw!r}") from None
        if f.kind == "choice":
            out[f.name] = raw == "Operative"
        if f.kind == "float" and out[f.name] <= 0:
            raise ValueError(f"{f.label}: must be above 0")
    return out


def summary(action: Action, station_id: str, args: dict[str, Any]) -> str:
    shown = ", ".join(f"{k}={v}" for k, v in args.items() if k != "kind")
    return f"{action.title} on {station_id}" + (f" ({shown})" if shown else "")


def outcome_text(action: Action, station_id: str, result: Any) -> str:
    status = result.get("status") if isinstance(result, dict) else None
    return f"{station_id}: {action.title.lower()} — {status or 'done'}"
