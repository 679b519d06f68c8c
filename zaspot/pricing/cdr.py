"""Charge detail records: a session's row named like OCPI's CDR (so a billing system can
import it), its receipt (the row with its periods and fees), and the CSV export.

    {"id": "12", "station_id": "CP-1", "evse_id": 1, "connector_id": 1, "id_token": "04A1B2C3",
     "start_date_time": "2026-05-04T14:10:00Z", "end_date_time": "2026-05-04T15:15:00Z",
     "total_energy": 12.345 (kWh), "total_time": 1.0833 (h), "total_parking_time": 0.25 (h, idle
     after charging), "total_cost": {"excl_vat": 80.0, "incl_vat": 96.8}, "currency": "CZK",
     "tariff": "standard", "state": "active" | "ended" | "stale", "final": true}
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

from zaspot.pricing.cost import Cost
from zaspot.pricing.tariff import Tariff

CSV_FIELDS = ("id", "station_id", "evse_id", "connector_id", "id_token", "start_date_time", "end_date_time",
              "total_energy", "total_time", "total_parking_time", "total_cost_excl_vat", "total_cost_incl_vat",
              "currency", "tariff", "state")


def iso(ts: float | None) -> str | None:
    """RFC 3339 in UTC, as OCPI has it."""
    if ts is None:
        return None
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _state(row: dict[str, Any]) -> str:
    return {"active": "active", "stale": "stale"}.get(row["state"], "ended")


def cost_view(row: dict[str, Any], live: Cost | None) -> dict[str, Any] | None:
    """A session's cost as one dict: the live one from memory (a running session, or a final
    one not stored yet), else the stored columns."""
    if live is not None and (row["state"] == "active" or not row.get("final")):
        return live.to_dict()
    if row.get("tariff") is None:
        return None  # no cost kept: before pricing was set up, or without a `pricing:` section
    detail = row.get("detail") or {}
    return {**detail, "tariff": row["tariff"], "currency": row["currency"], "energy_wh": row["energy_wh"],
            "excl_vat": row["cost_excl_vat"], "incl_vat": row["cost_incl_vat"], "final": bool(row["final"]),
            "periods": row.get("periods") or []}


def cdr_row(row: dict[str, Any], live: Cost | None, now: float) -> dict[str, Any]:
    """A row of PricingStore.sessions() as a CDR; `live` is ctx.pricing.cost_of() for it."""
    cost = cost_view(row, live)
    start = row["started_at"]
    end = row["stopped_at"] if row["state"] != "active" else None
    if cost is not None:
        energy_wh = cost["energy_wh"]
    elif row["meter_start_wh"] is not None and row["meter_stop_wh"] is not None:
        energy_wh = row["meter_stop_wh"] - row["meter_start_wh"]
    else:
        energy_wh = None
    return {
        "id": row["tx_key"], "session_id": row["session_id"], "station_id": row["station_id"],
        "evse_id": row["evse_id"], "connector_id": row["connector_id"], "id_token": row["id_token"],
        "start_date_time": iso(start), "end_date_time": iso(end),
        "total_energy": None if energy_wh is None else round(energy_wh / 1000, 3),
        "total_time": round(max(0.0, (end if end is not None else now) - start) / 3600, 4),
        "total_parking_time": None if cost is None else round(cost.get("idle_minutes", 0.0) / 60, 4),
        "total_cost": None if cost is None else {"excl_vat": cost["excl_vat"], "incl_vat": cost["incl_vat"]},
        "currency": None if cost is None else cost["currency"],
        "tariff": None if cost is None else cost["tariff"],
        "state": _state(row), "final": bool(cost and cost.get("final")),
        "started_at": start, "stopped_at": end,
    }


def receipt(row: dict[str, Any], live: Cost | None, now: float) -> dict[str, Any]:
    """The CDR with what it is made of: each period, the fees, the VAT, the tariff's formula."""
    out = cdr_row(row, live, now)
    cost = cost_view(row, live) or {}
    terms = row.get("terms")  # stored when the session was taken up, so also for a running one
    vat = cost.get("vat") or 0.0
    fees = {"session_fee": cost.get("session_fee", 0.0), "idle_fee": cost.get("idle_fee", 0.0)}
    out.update(
        periods=cost.get("periods", []), vat=cost.get("vat"),
        # with VAT like each period's `cost` (and `..._excl_vat` before it)
        **{name: round(fee * (1 + vat), 6) for name, fee in fees.items()},
        **{f"{name}_excl_vat": fee for name, fee in fees.items()},
        idle_minutes=cost.get("idle_minutes", 0.0), charging_ended_at=cost.get("charging_ended_at"),
        tariff_text=Tariff.from_terms(terms).describe() if terms else None,
        idle_grace_minutes=(terms or {}).get("idle_grace_minutes"),
        idle_fee_per_minute=(terms or {}).get("idle_fee_per_minute"),
    )
    return out


def to_csv(rows: list[dict[str, Any]]) -> str:
    """CDR rows as CSV, a header line first (OCPI's names; cost split before and with VAT)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for r in rows:
        total = r.get("total_cost") or {}
        flat = {**r, "total_cost_excl_vat": total.get("excl_vat"), "total_cost_incl_vat": total.get("incl_vat")}
        writer.writerow(["" if flat.get(f) is None else flat[f] for f in CSV_FIELDS])
    return buffer.getvalue()
