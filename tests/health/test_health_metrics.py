"""/metrics gauges per station (#19 part 5), read by Prometheus' own parser from a real
in-process zaspot: each station's uptime ratio over the last 30 days, its open alarms and
its power-module trips, with HELP and TYPE; a station id with a quote and a backslash in it
(ids are user input: this one was stored by another tool) is escaped, not a broken page."""

from __future__ import annotations

import asyncio
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.health.clock import utc, virtual_clock  # noqa: F401  (the fixture)
from tests.health.test_snapshot import fault, start, stations_for, trip
from zaspot.store import Store

pytestmark = pytest.mark.timeout(60)

ODD = 'CP "7" \\ east'  # a quote and a backslash
GAUGES = ("zaspot_station_uptime_ratio", "zaspot_station_open_alarms", "zaspot_station_module_trips")


def get_metrics(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.read().decode()


async def test_metrics_has_each_stations_uptime_alarms_and_trips(tmp_path, virtual_clock):  # noqa: F811
    clock = virtual_clock  # 2026-11-01T00:00 UTC
    store = await Store.open(tmp_path / "z.db")  # a station that was there before this zaspot ran
    await store.station_connected(ODD, "1.6", None, utc("2026-11-01T00:00"))
    await store.connector_status(ODD, 1, 1, "Available", ts=utc("2026-11-01T00:00"))
    await store.close()

    app = await start(tmp_path)
    cp1, cp2 = stations_for(app)
    try:
        for st in (cp1, cp2):
            await st.start()
        await asyncio.gather(cp1.wait_booted(), cp2.wait_booted())
        clock.set(utc("2026-11-01T12:00"))
        await trip(app, cp2, 2)
        await fault(app, cp1, 2, "HighTemperature")  # still faulted: its alarm open
        clock.set(utc("2026-11-02T00:00"))  # CP-1: connector 1 up 24 h, connector 2 12 h: 36 / 48 = 0.75
        assert await app.ctx.health.snapshot.refresh()
        body = await asyncio.to_thread(get_metrics, app.server.port)
    finally:
        for st in (cp1, cp2):
            await st.stop()
        await app.stop()

    families = {f.name: f for f in text_string_to_metric_families(body)}
    for name in GAUGES:
        assert families[name].type == "gauge" and families[name].documentation
    value = {name: {s.labels["station"]: s.value for s in families[name].samples} for name in GAUGES}
    uptime, alarms, trips = (value[name] for name in GAUGES)
    assert uptime["CP-1"] == pytest.approx(0.75, abs=0.0001)
    assert uptime["CP-2"] == 1.0
    # the stored station was not connected when this zaspot started, nor since: 0 % up
    assert uptime[ODD] == 0.0
    assert alarms == {"CP-1": 1, "CP-2": 0, ODD: 0}
    assert trips == {"CP-1": 0, "CP-2": 1, ODD: 0}
    assert 'station="CP \\"7\\" \\\\ east"' in body  # escaped on the page itself
