"""Session costs as the TUI shows them: the running cost of a session (from `session_cost`
events and `history/sessions` rows), and the rows of a station's recent sessions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(slots=True)
class RunningCost:
    """What a running session has cost so far (`session_cost` events, `history/sessions`)."""

    cost: float  # incl. VAT
    currency: str = ""
    energy_wh: float | None = None
    tariff: str = ""


def session_key(row: dict[str, Any]) -> str:
    """A `history/sessions` row's transaction id, as events carry it."""
    return str(row.get("transaction_id") or row.get("id") or "")


def session_cost(row: dict[str, Any]) -> RunningCost:
    total = row.get("total_cost") or {}
    kwh = row.get("total_energy")
    return RunningCost(float(total.get("incl_vat") or 0.0), row.get("currency") or "",
                       kwh * 1000 if kwh is not None else None, tariff_name(row.get("tariff")))


def tariff_name(value: Any) -> str:
    """A tariff as rows name it: its name, or an object with one."""
    if isinstance(value, dict):
        value = value.get("name")
    return str(value or "")
