"""The TUI's alarms: one book owns them (the top line's count, the alarms pane's rows and
count, each station's alarms cell all read it), and their names in words.

Loaded from `history/alarms` (every open alarm, and the recent ones), kept current by
`alarm_raised` and `alarm_cleared`. A server without that command: the open alarms the
fleet state lists (their codes only).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

KEEP_CLEARED = 200  # cleared alarms kept for the pane; open ones are always kept

# An alarm code (zaspot's diagnostics, OCPP 1.6 error codes, the limit owner, the drift test)
# in words. A code not here (a vendor's techCode) is shown as the station sent it.
ALARM_NAMES = {
    "GroundFailure": "Ground failure",
    "OverCurrentFailure": "Overcurrent",
    "HighTemperature": "High temperature",
    "OverVoltage": "Overvoltage",
    "UnderVoltage": "Undervoltage",
    "PowerSwitchFailure": "Power switch failure",
    "ConnectorLockFailure": "Connector lock failure",
    "PowerMeterFailure": "Power meter failure",
    "ReaderFailure": "Card reader failure",
    "InternalError": "Internal error",
    "ResetFailure": "Reset failure",
    "EVCommunicationError": "EV communication error",
    "WeakSignal": "Weak signal",
    "LocalListConflict": "Local list conflict",
    "OtherError": "Other error",
    "Tripped": "Tripped",
    "Problem": "Problem",
    "Faulted": "Faulted, no reason given",
    "OverTemperature": "Over temperature",
    "LimitRefused": "Power limit refused",
    "LimitIgnored": "Power limit ignored",
    "TemperatureDrift": "Temperature drift",
}


def alarm_name(code: str | None) -> str:
    return ALARM_NAMES.get(code or "", code or "?")


def alarm_text(alarm: dict[str, Any]) -> str:
    """'Ground failure · connector 1': the name, then where and what else the message says
    (the raw code left out of it)."""
    code = alarm.get("code") or ""
    message = str(alarm.get("message") or "")
    if code:
        message = re.sub(rf"(?<!\w){re.escape(code)}(?!\w)", "", message)
    detail = re.sub(r"\s{2,}", " ", message).strip(" :")
    detail = re.sub(r":\s*$", "", detail)
    return f"{alarm_name(code)} · {detail}" if detail else alarm_name(code)


def is_open(alarm: dict[str, Any]) -> bool:
    return not alarm.get("cleared_at")


class AlarmBook:
    """Every alarm the TUI knows, by id."""

    def __init__(self) -> None:
        self.rows: dict[int, dict[str, Any]] = {}

    def load(self, alarms: list[dict[str, Any]] | None, fleet_rows: Sequence[dict[str, Any]] = ()) -> None:
        """`alarms`: history/alarms rows (None: the server has none; the fleet state's open
        alarms then). A superseded alarm is the same fault as the one that replaced it: no row."""
        self.rows = {}
        if alarms is None:
            for row in fleet_rows:
                for alarm_id, code in ((row.get("state") or {}).get("open_alarms") or {}).items():
                    self.rows[int(alarm_id)] = {"id": int(alarm_id), "station_id": row["id"], "code": code}
            return
        for a in alarms:
            if not a.get("superseded_by"):
                self.rows[int(a["id"])] = a
        self._prune()

    def raised(self, e: dict[str, Any]) -> None:
        self.rows[e["alarm_id"]] = {**e, "id": e["alarm_id"], "raised_at": e.get("time")}
        self._prune()

    def cleared(self, e: dict[str, Any]) -> None:
        if e.get("superseded_by"):  # the same fault, now under its specific code: one row for it
            self.rows.pop(e["alarm_id"], None)
            return
        alarm = self.rows.setdefault(e["alarm_id"], {**e, "id": e["alarm_id"]})
        alarm["cleared_at"] = e.get("time") or alarm.get("raised_at") or 1.0

    def open_count(self) -> int:
        return sum(1 for a in self.rows.values() if is_open(a))

    def open_of(self, station_id: str) -> dict[int, str]:
        """A station's open alarms: id -> code."""
        return {i: a.get("code") or "" for i, a in self.rows.items()
                if is_open(a) and a.get("station_id") == station_id}

    def ordered(self) -> list[dict[str, Any]]:
        """Open alarms first, newest first; then the cleared ones, newest first."""
        return sorted(self.rows.values(), key=lambda a: (not is_open(a), -(a.get("raised_at") or 0), -int(a["id"])))

    def _prune(self) -> None:
        cleared = [a for a in self.ordered() if not is_open(a)]
        for a in cleared[KEEP_CLEARED:]:
            del self.rows[int(a["id"])]
