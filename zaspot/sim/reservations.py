"""The simulated station's reservations (both versions), registered in zaspot.sim.features.

ReserveNow is answered as real stations do: Accepted on an Available connector (which
then goes Reserved), Occupied when it is in use or held by another reservation,
Faulted, Unavailable (inoperative). A reservation ends when its expiry date passes
(1.6: the connector is Available again; 2.0.1: ReservationStatusUpdate Expired, then
Available), when it is cancelled (CancelReservation: Accepted for a known id, else
Rejected), or when a transaction starts on it with its card: that transaction names
it (1.6 StartTransaction / 2.0.1 TransactionEvent `reservationId`, see `claim`).

Knob `features={"reservations": False}`: a station that does not do reservations
(Rejected); `"callerror"`: one that does not know the message (CALLERROR).
A reservation for any connector (1.6 connector 0, 2.0.1 without evseId) holds the
first free one.
"""
from __future__ import annotations

import asyncio
import time
from datetime import datetime
from typing import Any

from .features import handles
from .rpc import NotImplementedAction

_IN_USE = ("Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing", "Occupied", "Reserved")


def _held(st: Any) -> dict[int, dict]:
    """reservation id -> {"cid", "id_tag"}: what this station holds."""
    return st.feature_state.setdefault("reservations", {})


def _seconds_until(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() - time.time()


def _verdict(st: Any, cid: int, reservation_id: int) -> str:
    c = st.connectors[cid]
    if c.status == "Faulted":
        return "Faulted"
    if c.status == "Unavailable" or st.availability == "Unavailable":
        return "Unavailable"
    mine = _held(st).get(reservation_id)
    if mine is not None and mine["cid"] == cid:
        return "Accepted"  # the same reservation again: replaced
    if cid in st.transactions or c.status in _IN_USE:
        return "Occupied"
    return "Accepted"


def _refusal(proto: Any) -> dict | None:
    knob = proto.st.features.get("reservations", True)
    if knob == "callerror":
        raise NotImplementedAction("ReserveNow")
    return None if knob else {"status": "Rejected"}


async def _reserve(proto: Any, cid: int | None, reservation_id: int, id_tag: str, expiry: str):
    st = proto.st
    refused = _refusal(proto)
    if refused:
        return refused, None
    if not cid:  # any connector: the first free one
        cid = st.free_connector()
        if cid is None:
            return {"status": "Occupied"}, None
    if cid not in st.connectors:
        return {"status": "Rejected"}, None
    verdict = _verdict(st, cid, reservation_id)
    if verdict != "Accepted":
        return {"status": verdict}, None
    entry = {"cid": cid, "id_tag": id_tag}  # a reservation with a known id replaces it
    _held(st)[reservation_id] = entry
    st.connectors[cid].status = "Reserved"

    async def after() -> None:
        st.spawn(_expire_at(proto, reservation_id, entry, _seconds_until(expiry)))
        await proto.send_status(cid, "Reserved")

    return {"status": "Accepted"}, after


def _drop(st: Any, reservation_id: int) -> dict | None:
    """Forget a reservation; its entry, or None."""
    return _held(st).pop(reservation_id, None)


async def _free(proto: Any, cid: int) -> None:
    c = proto.st.connectors[cid]
    if c.status == "Reserved":
        c.status = "Available"
        await proto.send_status(cid, "Available")


async def _expire_at(proto: Any, reservation_id: int, entry: dict, seconds: float) -> None:
    """The station's own clock runs the reservation out (wall time: an expiry date), unless
    it was used, cancelled or replaced meanwhile."""
    await asyncio.sleep(max(seconds, 0.0))
    if _held(proto.st).get(reservation_id) is not entry:
        return
    _drop(proto.st, reservation_id)
    if proto.version == "2.0.1":
        await proto.st.call("ReservationStatusUpdate", {"reservationId": reservation_id,
                                                        "reservationUpdateStatus": "Expired"})
    await _free(proto, entry["cid"])


async def _cancel(proto: Any, reservation_id: int):
    entry = _drop(proto.st, reservation_id)
    if entry is None:
        return {"status": "Rejected"}, None
    return {"status": "Accepted"}, lambda: _free(proto, entry["cid"])


def claim(st: Any, cid: int, id_tag: str) -> int | None:
    """A transaction starts on `cid` with `id_tag`: the reservation it uses (now ended), if any."""
    for reservation_id, entry in list(_held(st).items()):
        if entry["cid"] == cid and entry["id_tag"] == id_tag:
            _drop(st, reservation_id)
            return reservation_id
    return None


@handles("1.6", "ReserveNow")
async def on_reserve_now_16(proto: Any, p: dict):
    return await _reserve(proto, p["connectorId"], p["reservationId"], p["idTag"], p["expiryDate"])


@handles("1.6", "CancelReservation")
async def on_cancel_reservation_16(proto: Any, p: dict):
    return await _cancel(proto, p["reservationId"])


@handles("2.0.1", "ReserveNow")
async def on_reserve_now_201(proto: Any, p: dict):
    return await _reserve(proto, p.get("evseId"), p["id"], p["idToken"]["idToken"], p["expiryDateTime"])


@handles("2.0.1", "CancelReservation")
async def on_cancel_reservation_201(proto: Any, p: dict):
    return await _cancel(proto, p["reservationId"])
