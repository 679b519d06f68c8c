"""What an action's `pick` fields offer, read from the server when its modal opens."""

from __future__ import annotations

from typing import Any

from zaspot.tui import format as fmt
from zaspot.tui.actions import Action

# action name -> what the operator is told when there is nothing to pick
NOTHING_TO_PICK = {
    "cancel_reservation": "{station} has no active reservation.",
    "update_firmware": "No firmware files on the server yet: add one with `zaspot firmware add FILE`.",
}


def reservation_label(r: dict[str, Any]) -> str:
    evse, conn = r.get("evse_id"), r.get("connector_id")
    where = ("the station" if not evse and not conn
             else f"{evse or conn}" + (f"/{conn}" if evse and conn and conn != evse else ""))
    return f"{r['id']}: {where} for {r.get('id_token')} until {fmt.clock(r.get('expires_at'))}"


def firmware_label(f: dict[str, Any]) -> str:
    return f"{f['name']} ({fmt.size(f.get('size'))}, added {fmt.date_time(f.get('added_at'))})"


async def pick_options(feed: Any, action: Action, station_id: str) -> dict[str, list[tuple[str, Any]]]:
    if action.name == "cancel_reservation":
        rows = await feed.command("reservations/list", station_id=station_id, active_only=True)
        return {"reservation_id": [(reservation_label(r), r["id"]) for r in rows if r.get("status") == "active"]}
    if action.name == "update_firmware":
        files = await feed.command("firmware/list")
        return {"firmware": [(firmware_label(f), f["name"]) for f in files]}
    return {}
