"""The price on the charger, both versions, against a real zaspot with `pricing:` (the
file price source): simulated stations that validate every frame strictly charge, and
- a 2.0.1 station is told its tariff in the Authorize answer, the running cost in
  CostUpdated and the final cost in the Ended answer (one that refuses CostUpdated is
  sent no more);
- a 1.6 station of a listed model gets SetUserPrice, RunningCost and FinalCost (their
  data as the OCA note defines it); one of a model not listed gets no DataTransfer;
- the final cost each is told is what `sessions/receipt` says.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.helpers import start_app
from zaspot.api.client import ZaspotClient
from zaspot.app import App
from zaspot.config import load
from zaspot.sim import SimStation
from zaspot.sim.pricing import told

pytestmark = pytest.mark.timeout(60)

SPOT = 3.0  # CZK/kWh, every quarter hour around now
TEXT = "6.05 CZK/kWh now (spot-based), incl. 21 % VAT"  # (3.0 + 2.0) * 1.21


def _config(tmp_path: Path) -> Path:
    start = int(time.time()) // 900 * 900 - 7200
    rows = [f"{datetime.fromtimestamp(start + q * 900, UTC).isoformat()},{SPOT}" for q in range(24)]
    (tmp_path / "prices.csv").write_text("start,price\n" + "\n".join(rows) + "\n")
    (tmp_path / "rules").mkdir()
    config = tmp_path / "zaspot.yaml"
    config.write_text(
        f"host: 127.0.0.1\nport: 0\ndb: {tmp_path / 'z.db'}\nrules: {tmp_path / 'rules'}\nocpp: {{ping_interval: 0}}\n"
        "pricing:\n"
        f"  source: {{platform: file, path: {tmp_path / 'prices.csv'}}}\n"
        "  currency: CZK\n  fallback_price: 4.5\n"
        "  tariffs:\n    - {name: standard, factor: 1.0, markup: 2.0, vat: 0.21}\n"
        "  cost_messages: {models_16: [CostAware16], every: 1}\n")
    return config


def _station(url: str, sid: str, protocol: str, **kw) -> SimStation:
    # 30 simulated seconds of charging per real second: the cost rises every tick
    return SimStation(sid, f"{url}/ocpp", protocol=protocol, speed=30.0, meter_interval=30.0,
                      heartbeat_interval=1000.0, reconnect_delay=1.0, validate=True, **kw)


async def _until(what, timeout: float = 20.0):
    deadline = time.monotonic() + timeout
    while not (value := what()):
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)
    return value


def _decimals_ok(value: float) -> bool:
    return round(value, 2) == value


async def test_stations_are_told_prices_and_costs_in_their_version(tmp_path: Path):
    app = App(load(_config(tmp_path)))
    await app.start()
    url = f"ws://127.0.0.1:{app.server.port}"
    s201 = _station(url, "P-201", "2.0.1")
    refuser = _station(url, "P-201-OLD", "2.0.1", features={"cost_updated": False})
    s16 = _station(url, "P-16", "1.6", model="CostAware16", features={"cost_messages": True})
    unlisted = _station(url, "P-16-OTHER", "1.6", features={"cost_messages": True})
    without = _station(url, "P-16-PLAIN", "1.6", model="CostAware16")  # listed, but it lacks them
    stations = (s201, refuser, s16, unlisted, without)
    try:
        for st in stations:
            await st.start()
        for st in stations:
            await st.wait_booted()
        tx = {st.station_id: await st.start_transaction(1, "CARD-1") for st in stations}
        assert all(tx.values())
        tx201, tx16 = tx["P-201"], str(tx["P-16"])
        assert await s16.start_transaction(2, "CARD-2", authorize=False)  # as a remote start does

        await _until(lambda: len(told(s201)["cost_updated"]) >= 2 and len(told(s16)["running_cost"].get(tx16, [])) >= 2)
        for st in stations:
            await st.stop_transaction(1)
        await s16.stop_transaction(2)
        final_16 = await _until(lambda: told(s16)["final_cost"].get(tx16))
        async with ZaspotClient(f"{url}/api/websocket") as api:
            receipt_201 = await api.command("sessions/receipt", transaction_id=tx201)
            receipt_16 = await api.command("sessions/receipt", transaction_id=tx16)
    finally:
        for st in stations:
            await st.stop()
        await app.stop()

    for st in stations:
        assert st.errors == [], st.errors  # every CALL and answer passed the strict checks

    # 2.0.1: the tariff when the card was accepted, the running cost while charging, the final at the end
    assert told(s201)["personal_message"] == TEXT
    updates = told(s201)["cost_updated"]
    assert all(u["transactionId"] == tx201 and _decimals_ok(u["totalCost"]) for u in updates)
    assert [u["totalCost"] for u in updates] == sorted({u["totalCost"] for u in updates})  # rising, no repeats
    final_201 = told(s201)["total_cost"][tx201]  # the Ended answer's, the last one it was told
    assert final_201 >= updates[-1]["totalCost"] and _decimals_ok(final_201)
    assert told(s201)["updated_message"][tx201].startswith(f"{final_201:.2f} CZK incl. VAT for ")
    assert receipt_201["total_cost"]["incl_vat"] == final_201

    # A 2.0.1 station that said NotSupported was asked once, then left alone.
    assert [a for a, _ in refuser.received].count("CostUpdated") == 1

    # 1.6, a listed model: the price, the running costs, the final cost as the note defines them
    assert told(s16)["user_price"] == {"CARD-1": TEXT, "CARD-2": TEXT}  # after Authorize, or the start
    assert [p["messageId"] for a, p in s16.received if a == "DataTransfer"].count("SetUserPrice") == 2
    running = told(s16)["running_cost"][tx16]
    assert all(r["transactionId"] == int(tx16) and r["state"] == "Charging" for r in running)
    assert all(r["chargingPrice"] == {"kWhPrice": 6.05} and _decimals_ok(r["cost"]) for r in running)
    meters = [r["meterValue"] for r in running]
    meter_start = next(p for a, p in s16.sent if a == "StartTransaction")["meterStart"]
    assert meter_start <= meters[0] < meters[-1] and meters == sorted(meters)  # the energy register, rising
    assert final_16["cost"] == receipt_16["total_cost"]["incl_vat"] >= running[-1]["cost"]
    assert final_16["priceText"].startswith(f"{final_16['cost']:.2f} CZK incl. VAT for ")

    # 1.6, a model not listed: nothing, though it would have taken them; a listed one that
    # answered UnknownVendorId: nothing after that
    assert not [a for a, _ in unlisted.received if a == "DataTransfer"]
    assert [(a, p["messageId"]) for a, p in without.received if a == "DataTransfer"] == [("DataTransfer", "SetUserPrice")]


async def test_without_pricing_chargers_are_told_nothing(tmp_path: Path):
    app = await start_app(tmp_path)
    s201 = _station(app.url, "N-201", "2.0.1")
    s16 = _station(app.url, "N-16", "1.6", model="CostAware16", features={"cost_messages": True})
    try:
        for st in (s201, s16):
            await st.start()
            await st.wait_booted()
            assert await st.start_transaction(1, "CARD-1")
        await _until(lambda: sum(a == "TransactionEvent" for a, _ in s201.sent) >= 3)  # Started, Updated, …
        for st in (s201, s16):
            await st.stop_transaction(1)
    finally:
        for st in (s201, s16):
            await st.stop()
        await app.stop()
    assert told(s201)["personal_message"] is None and told(s201)["total_cost"] == {}
    assert not [a for st in (s201, s16) for a, _ in st.received if a in ("CostUpdated", "DataTransfer")]
    assert s201.errors == s16.errors == []
