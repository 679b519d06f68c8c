"""A station back after hours offline sends its queued messages: all are served in
order and stored with the station's own timestamps, and none of the stale readings
makes a rule act; a fresh reading still does."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import orjson

from tests.helpers import OcppClient
from zaspot.app import App
from zaspot.config import Config

RULE = """
- id: hot_now
  trigger:
    - platform: temperature
      location: connector
      above: 70
  action:
    - service: set_power_limit
      data: {kw: 11}
  mode: parallel
"""


def iso(when: datetime) -> str:
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def hot_meter(tx: int, when: datetime, wh: int) -> dict:
    return {"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": iso(when), "sampledValue": [
        {"value": str(wh), "measurand": "Energy.Active.Import.Register", "unit": "Wh"},
        {"value": "85", "measurand": "Temperature", "unit": "Celsius", "location": "Outlet"}]}]}


async def test_a_backlog_is_stored_in_order_with_station_time_and_triggers_nothing(tmp_path):
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "hot.yaml").write_text(RULE)
    config = Config(host="127.0.0.1", port=0, db=str(tmp_path / "z.db"), rules=str(tmp_path / "rules"))
    config.ocpp.ping_interval = 0
    app = App(config)
    await app.start()
    try:
        client = await OcppClient.connect(f"ws://127.0.0.1:{app.server.port}", "BACKLOG", "1.6")
        await client.boot()
        offline_since = datetime.now(UTC) - timedelta(hours=6)  # back one hour ago
        start = await client.call("StartTransaction", {"connectorId": 1, "idTag": "T", "meterStart": 0,
                                                        "timestamp": iso(offline_since)})
        tx = start[2]["transactionId"]
        for i in range(300):  # five hours of minute values, sent as fast as the socket allows
            reply = await client.call("MeterValues", hot_meter(tx, offline_since + timedelta(minutes=i), 100 * i))
            assert reply[0] == 3
        stop = await client.call("StopTransaction", {"transactionId": tx, "meterStop": 30_000,
                                                      "timestamp": iso(offline_since + timedelta(minutes=300))})
        assert stop[0] == 3
        await app.ctx.bus.drain()
        await asyncio.sleep(0.2)
        assert client.inbox == []  # no rule acted on a reading an hour old or more

        samples = [s for s in await app.ctx.store.meter_samples_of("BACKLOG", limit=10_000)
                   if s["measurand"] == "Energy.Active.Import.Register"]
        assert [s["value"] for s in samples] == [100.0 * i for i in range(300)]
        assert samples[0]["ts"] == offline_since.replace(microsecond=0).timestamp()
        row = await app.ctx.store.transaction("BACKLOG", str(tx))
        assert (row["state"], row["started_at"]) == ("ended", offline_since.replace(microsecond=0).timestamp())

        # Back to the present: a hot reading now gets the limit.
        await client.ws.send(orjson.dumps([2, "now", "MeterValues", hot_meter(tx, datetime.now(UTC), 1)]).decode())
        frames = [orjson.loads(await asyncio.wait_for(client.ws.recv(), 5)) for _ in range(2)]
        calls = [f for f in frames if f[0] == 2]
        assert calls and calls[0][2] == "SetChargingProfile"
        await client.close()
    finally:
        await app.stop()
