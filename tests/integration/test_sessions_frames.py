"""Session costs through a real server from exact OCPP frames, so every number is known:
a 1.6 session on a locked tariff with a session fee and an idle fee, a 2.0.1 session priced
per period whose EVSE also sends meter values that name no transaction. The final cost is
in memory when the station gets the answer to its stop; the stored one and the printed
receipt are the hand-computed ones; the listing's filters."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers import ROOT, OcppClient
from zaspot.api.client import ApiError, ZaspotClient
from zaspot.app import App
from zaspot.config import load

pytestmark = pytest.mark.timeout(60)

DAY = (int(time.time()) // 86400 - 1) * 86400  # yesterday 00:00 UTC: the feed keeps a week of periods
SPOTS = {"10:00": 2.0, "10:15": 4.0, "10:30": 3.0, "10:45": 1.0}  # CZK/kWh, yesterday (UTC)


def at(hhmm: str) -> float:
    hours, minutes = map(int, hhmm.split(":"))
    return DAY + hours * 3600 + minutes * 60


def iso(hhmm: str) -> str:
    return datetime.fromtimestamp(at(hhmm), UTC).isoformat().replace("+00:00", "Z")


def _config(tmp_path: Path) -> Path:
    (tmp_path / "prices.csv").write_text("start,end,price\n" + "".join(
        f"{at(t):.0f},{at(t) + 900:.0f},{p}\n" for t, p in SPOTS.items()))
    (tmp_path / "rules").mkdir()
    config = tmp_path / "zaspot.yaml"
    config.write_text(f"""
host: 127.0.0.1
port: 0
db: {tmp_path / 'z.db'}
rules: {tmp_path / 'rules'}
ocpp: {{ping_interval: 0}}
pricing:
  source: {{platform: file, path: {tmp_path / 'prices.csv'}}}
  currency: CZK
  fallback_price: 4.5
  tariffs:
    - {{name: locked, markup: 1, vat: 0.2, pricing: locked, session_fee: 3, idle_fee_per_minute: 0.5,
        idle_grace_minutes: 5, card_groups: [LOCK]}}
    - {{name: standard, markup: 1, vat: 0.2}}
""")
    return config


def energy(wh: float, context: str = "Sample.Periodic", version: str = "1.6") -> list[dict]:
    if version == "1.6":
        return [{"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh", "context": context}]
    return [{"value": wh, "measurand": "Energy.Active.Import.Register", "context": context}]


async def _until(check, timeout: float = 10.0):
    deadline = time.monotonic() + timeout
    while not (value := await check()):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)
    return value


async def _session_16(app: App) -> tuple[str, object]:
    """1.6, card LOCK-1 (the locked tariff): 1000 Wh at 10:10, 3000 at 10:20, 5000 at 10:30, stopped at 10:50."""
    cp = await OcppClient.connect(app.url, "F-16", "1.6")
    try:
        await cp.boot()
        started = await cp.call("StartTransaction", {"connectorId": 1, "idTag": "LOCK-1", "meterStart": 1000,
                                                     "timestamp": iso("10:10")})
        tx = started[2]["transactionId"]
        for t, wh in (("10:20", 3000), ("10:30", 5000)):
            await cp.call("MeterValues", {"connectorId": 1, "transactionId": tx,
                                          "meterValue": [{"timestamp": iso(t), "sampledValue": energy(wh)}]})
        await cp.call("StopTransaction", {"transactionId": tx, "meterStop": 5000, "timestamp": iso("10:50"),
                                          "reason": "EVDisconnected"})
        return str(tx), app.ctx.pricing.cost_of("F-16", str(tx))  # read the moment the answer is in
    finally:
        await cp.close()


async def _session_201(app: App) -> tuple[str, object]:
    """2.0.1, a card without a group (standard, per period): 0 Wh at 10:10, 2000 at 10:20, an EVSE
    sample naming no transaction 3000 at 10:25, ended at 10:30 with 4000."""
    cp = await OcppClient.connect(app.url, "F-201", "2.0.1")
    tx = "tx-201"

    def event(kind: str, seq: int, t: str, wh: float, trigger: str, **extra) -> dict:
        return {"eventType": kind, "timestamp": iso(t), "triggerReason": trigger, "seqNo": seq,
                "transactionInfo": {"transactionId": tx, "chargingState": "Charging", **extra.pop("info", {})},
                "evse": {"id": 1, "connectorId": 1},
                "meterValue": [{"timestamp": iso(t), "sampledValue": energy(wh, version="2.0.1")}], **extra}

    try:
        await cp.boot()
        await cp.call("TransactionEvent", event("Started", 0, "10:10", 0, "Authorized",
                                                idToken={"idToken": "GUEST-1", "type": "ISO14443"}))
        await cp.call("TransactionEvent", event("Updated", 1, "10:20", 2000, "MeterValuePeriodic"))
        await cp.call("MeterValues", {"evseId": 1, "meterValue": [
            {"timestamp": iso("10:25"), "sampledValue": energy(3000, version="2.0.1")}]})
        await cp.call("TransactionEvent", event("Ended", 2, "10:30", 4000, "EVCommunicationLost",
                                                info={"stoppedReason": "EVDisconnected"}))
        return tx, app.ctx.pricing.cost_of("F-201", tx)
    finally:
        await cp.close()


async def _zaspot(url: str, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "zaspot", *args, "--url", f"{url}/api/websocket",
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env=dict(os.environ, PYTHONPATH=str(ROOT), TZ="UTC"))
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    return proc.returncode, out.decode(), err.decode()


async def test_hand_computed_sessions_through_the_server(tmp_path: Path):
    app = App(load(_config(tmp_path)))
    await app.start()
    app.url = f"ws://127.0.0.1:{app.server.port}"
    try:
        async with ZaspotClient(f"{app.url}/api/websocket") as api:
            await api.command("cards/add", id_token="LOCK-1", group="LOCK")
            tx16, told16 = await _session_16(app)
            tx201, told201 = await _session_201(app)
            r16 = await _until(lambda: _stored_final(app, api, "F-16", tx16))
            r201 = await _until(lambda: _stored_final(app, api, "F-201", tx201))
            by_card = await api.command("history/sessions", id_token="LOCK-1")
            by_station = await api.command("history/sessions", station_id="F-201")
            later = await api.command("history/sessions", since=at("10:11"))
            earlier = await api.command("history/sessions", until=datetime.fromtimestamp(at("10:10"), UTC)
                                        .isoformat())
            with pytest.raises(ApiError) as bad:
                await api.command("history/sessions", since="yesterday")
            printed = await _zaspot(app.url, "sessions", "receipt", tx16)
            # A 2.0.1 station whose own transaction id is the 1.6 one's: a receipt needs the station
            cp = await OcppClient.connect(app.url, "F-201B", "2.0.1")
            await cp.boot()
            await cp.call("TransactionEvent", {"eventType": "Started", "timestamp": iso("10:40"), "seqNo": 0,
                                               "triggerReason": "CablePluggedIn", "transactionInfo": {"transactionId": tx16},
                                               "evse": {"id": 1, "connectorId": 1}})
            await cp.close()
            with pytest.raises(ApiError) as twice:
                await api.command("sessions/receipt", transaction_id=tx16)
            theirs = await api.command("sessions/receipt", transaction_id=tx16, station_id="F-201B")
            ambiguous = await _zaspot(app.url, "sessions", "receipt", tx16)
            named = await _zaspot(app.url, "sessions", "receipt", tx16, "--station", "F-16")
    finally:
        await app.stop()

    # 1.6, locked at the spot of 10:10 (2.00): every kWh at (2 + 1) * 1.2 = 3.60. 4 kWh: 1 in
    # 10:00-10:15 (10:10-10:15 of 10:10-10:20's 2 kWh), 3 in 10:15-10:30 -> 4 * 3 = 12.00;
    # session fee 3.00; full at 10:30, unplugged at 10:50: 20 min idle, 5 free, 15 * 0.50 = 7.50;
    # 12 + 3 + 7.5 = 22.50 before VAT, * 1.2 = 27.00
    assert [(p["energy_wh"], p["spot"], p["price"]) for p in r16["periods"]] == [(1000, 2.0, 3.6), (3000, 2.0, 3.6)]
    assert (r16["tariff"], r16["total_energy"], r16["session_fee_excl_vat"], r16["idle_fee_excl_vat"]) == (
        "locked", 4.0, 3.0, 7.5)
    assert (r16["session_fee"], r16["idle_fee"]) == (3.6, 9.0)  # with VAT, as on the receipt
    assert r16["total_cost"] == {"excl_vat": 22.5, "incl_vat": 27.0}
    assert (r16["idle_minutes"], r16["total_parking_time"], r16["total_time"]) == (20.0, 0.3333, 0.6667)
    # 2.0.1, per period: 10:10-10:20's 2 kWh half in each quarter; 10:20-10:25 (the sample naming
    # no transaction) and 10:25-10:30 1 kWh each in 10:15-10:30 -> 1 kWh at (2 + 1) = 3.00 and
    # 3 kWh at (4 + 1) = 15.00 -> 18.00, * 1.2 = 21.60
    assert [(p["energy_wh"], p["spot"], p["price"]) for p in r201["periods"]] == [(1000, 2.0, 3.6), (3000, 4.0, 6.0)]
    assert (r201["tariff"], r201["total_cost"]) == ("standard", {"excl_vat": 18.0, "incl_vat": 21.6})

    # What was in memory when each station had its answer is the final, stored cost
    assert told16.final and (told16.excl_vat, told16.incl_vat) == (22.5, 27.0)
    assert told201.final and (told201.excl_vat, told201.incl_vat) == (18.0, 21.6)

    assert [r["id"] for r in by_card] == [tx16] and [r["id"] for r in by_station] == [tx201]
    assert later == [] and {r["id"] for r in earlier} == set()  # both started at 10:10: not after 10:11, not before 10:10
    assert bad.value.code == "invalid_format" and "'since' must be epoch seconds" in bad.value.message

    assert twice.value.code == "invalid_format"
    assert twice.value.message == f"transaction {tx16} is on F-16, F-201B: say which station (station_id)"
    assert (theirs["station_id"], theirs["state"], theirs["total_energy"]) == ("F-201B", "active", 0.0)
    assert ambiguous[0] == 1 and ambiguous[2].startswith("zaspot: invalid_format: transaction ")
    assert named[:2] == printed[:2]

    day = time.strftime("%Y-%m-%d", time.gmtime(DAY))
    code, text, err = printed
    assert code == 0, err
    assert text == f"""\
Transaction {tx16} at F-16, EVSE 1, card LOCK-1 (ended)
Started   {day} 10:10:00 UTC
Ended     {day} 10:50:00 UTC
Duration  40 min
Energy    4.000 kWh
Tariff    locked: spot x 1 + 1, + 20 % VAT, locked at the start

PERIOD                      KWH    SPOT CZK/KWH  PRICE CZK/KWH  COST
{day} 10:00-10:15 UTC  1.000  2.00          3.60           3.60
{day} 10:15-10:30 UTC  3.000  2.00          3.60           10.80

Energy                14.40
Session fee            3.60
Idle 20 min (5 free)   9.00
Total                 27.00 CZK
  of which VAT 20 %    4.50
  before VAT          22.50
"""


async def _stored_final(app: App, api: ZaspotClient, station_id: str, tx: str) -> dict | None:
    saved = await app.ctx.store.stored_cost(station_id, tx)
    if not saved or not saved["final"]:
        return None
    return await api.command("sessions/receipt", transaction_id=tx)
