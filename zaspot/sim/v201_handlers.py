"""Answers of the simulated 2.0.1 station to calls from the CSMS.

Each on_<Action>(proto, payload) returns (response, after); see rpc.Handler.
"""
from __future__ import annotations

from .meter import now_iso

TRIGGERABLE = {"BootNotification", "Heartbeat", "MeterValues", "StatusNotification", "TransactionEvent"}


def limit_w(profile: dict) -> float | None:
    """First period's limit in W; A limits are converted with 3 phases."""
    sched = profile["chargingSchedule"][0]
    periods = sched.get("chargingSchedulePeriod") or []
    if not periods:
        return None
    limit = float(periods[0]["limit"])
    if sched.get("chargingRateUnit") == "A":
        return limit * 230.0 * periods[0].get("numberPhases", 3)
    return limit


async def on_Reset(proto, p):
    if p.get("evseId"):
        return {"status": "Rejected"}, None
    return {"status": "Accepted"}, lambda: proto.st.reboot("ImmediateReset")


async def on_RequestStartTransaction(proto, p):
    st = proto.st
    cid = p.get("evseId") or st.free_connector()
    if cid not in st.connectors or cid in st.transactions \
            or st.connectors[cid].status in ("Faulted", "Unavailable"):
        return {"status": "Rejected"}, None
    if "chargingProfile" in p:
        st.connectors[cid].limit_w = limit_w(p["chargingProfile"])
    return {"status": "Accepted"}, lambda: st.spawn(st.start_transaction(
        cid, p["idToken"]["idToken"], authorize=False, remote_start_id=p["remoteStartId"]))


async def on_RequestStopTransaction(proto, p):
    st = proto.st
    cid = next((k for k, t in st.transactions.items() if t["id"] == p["transactionId"]), None)
    if cid is None:
        return {"status": "Rejected"}, None
    return {"status": "Accepted"}, lambda: st.spawn(st.stop_transaction(cid, "Remote"))


async def on_UnlockConnector(proto, p):
    st, cid = proto.st, p["evseId"]
    if cid not in st.connectors or p["connectorId"] != 1:
        return {"status": "UnknownConnector"}, None
    if cid in st.transactions:
        return {"status": "OngoingAuthorizedTransaction"}, None
    return {"status": "Unlocked"}, None


async def on_ChangeAvailability(proto, p):
    st = proto.st
    new = "Available" if p["operationalStatus"] == "Operative" else "Unavailable"
    evse = (p.get("evse") or {}).get("id")
    targets = [evse] if evse else list(st.connectors)
    if any(t not in st.connectors for t in targets):
        return {"status": "Rejected"}, None
    if any(t in st.transactions for t in targets):
        return {"status": "Scheduled"}, None

    async def apply():
        if not evse:
            st.availability = new
        for t in targets:
            st.connectors[t].status = new
            await proto.send_status(t, new)
    return {"status": "Accepted"}, apply


async def on_GetVariables(proto, p):
    return {"getVariableResult": [proto.dm.get(item) for item in p["getVariableData"]]}, None


async def on_SetVariables(proto, p):
    return {"setVariableResult": [proto.dm.set(item) for item in p["setVariableData"]]}, None


async def on_TriggerMessage(proto, p):
    what = p["requestedMessage"]
    if what not in TRIGGERABLE:
        return {"status": "NotImplemented"}, None
    evse = (p.get("evse") or {}).get("id")
    if evse is not None and evse not in proto.st.connectors:
        return {"status": "Rejected"}, None
    if what == "TransactionEvent" and not proto.st.transactions:
        return {"status": "Rejected"}, None
    return {"status": "Accepted"}, lambda: _triggered(proto, what, evse)


async def _triggered(proto, what: str, evse: int | None) -> None:
    st = proto.st
    cids = [evse] if evse else list(st.connectors)
    if what == "BootNotification":
        await st.call("BootNotification", {**proto.boot_payload(), "reason": "Triggered"})
    elif what == "Heartbeat":
        await st.call("Heartbeat", {})
    elif what == "StatusNotification":
        for c in cids:
            await proto.send_status(c, st.connectors[c].status)
    elif what in ("MeterValues", "TransactionEvent"):
        for c in cids:
            if what == "MeterValues" or c in st.transactions:
                await proto.meter(c, "Trigger")


async def on_SetChargingProfile(proto, p):
    st, evse, prof = proto.st, p["evseId"], p["chargingProfile"]
    if evse != 0 and evse not in st.connectors:
        return {"status": "Rejected"}, None
    return await st.take_profile(evse, prof["id"], prof, limit_w(prof)), None


async def on_ClearChargingProfile(proto, p):
    if not proto.st.profiles:
        return {"status": "Unknown"}, None
    proto.st.clear_limits()
    return {"status": "Accepted"}, None


async def on_GetCompositeSchedule(proto, p):
    st, evse = proto.st, p["evseId"]
    if evse != 0 and evse not in st.connectors:
        return {"status": "Rejected"}, None
    unit = p.get("chargingRateUnit", "W")
    limit = st.limit_for(evse)
    value = limit / (3 * 230.0) if unit == "A" else limit
    return {"status": "Accepted", "schedule": {
        "evseId": evse, "duration": p["duration"], "scheduleStart": now_iso(),
        "chargingRateUnit": unit,
        "chargingSchedulePeriod": [{"startPeriod": 0, "limit": round(value, 1)}]}}, None


async def on_GetBaseReport(proto, p):
    data = proto.dm.report(p["reportBase"])
    return {"status": "Accepted"}, lambda: _send_report(proto, p["requestId"], data)


async def _send_report(proto, request_id: int, data: list[dict], page: int = 10) -> None:
    pages = [data[i:i + page] for i in range(0, len(data), page)] or [[]]
    for seq, chunk in enumerate(pages):
        msg = {"requestId": request_id, "generatedAt": now_iso(), "seqNo": seq,
               "tbc": seq < len(pages) - 1}
        if chunk:
            msg["reportData"] = chunk
        await proto.st.call("NotifyReport", msg)


async def on_SetVariableMonitoring(proto, p):
    results = []
    for item in p["setMonitoringData"]:
        status, var = proto.dm._match(item["component"], item["variable"])
        mid = item.get("id") or (len(proto.monitors) + 1)
        if var is not None and proto.st.accept_monitors:
            proto.monitors[mid] = item
            status = "Accepted"
        elif var is not None:
            status = "Rejected"
        results.append({"status": status, "type": item["type"],
                        "severity": item["severity"], "component": item["component"],
                        "variable": item["variable"], "id": mid})
    return {"setMonitoringResult": results}, None


async def on_DataTransfer(proto, p):
    return {"status": "Accepted", "data": "ok"}, None
