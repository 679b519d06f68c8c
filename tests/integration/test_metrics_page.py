"""/metrics on a real in-process zaspot, over HTTP, read with Prometheus' own parser: what a station
sends as an action name (quotes, backslashes, a newline) comes back exactly as a label value, for
1.6 and 2.0.1; a feature's gauge that raises is left out, counted in zaspot_metrics_errors_total
and logged once, while every other metric (the per-station health gauges too) stays on the page."""

from __future__ import annotations

import asyncio
import logging
import re
import urllib.request
from typing import Any

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from tests.helpers import OcppClient, start_app

pytestmark = pytest.mark.timeout(60)

ODD_ACTIONS = ['Fly"To"Moon', "Back\\Slash", "Two\nLines"]


def get(port: int) -> tuple[str, str]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
        return r.headers["Content-Type"], r.read().decode()


async def scrape(app: Any) -> dict[str, Any]:
    content_type, body = await asyncio.to_thread(get, app.server.port)
    assert content_type == CONTENT_TYPE_LATEST
    return {family.name: family for family in text_string_to_metric_families(body)}


async def booted_pair(app: Any) -> list[OcppClient]:
    clients = [await OcppClient.connect(app.url, "CP-1", "1.6"), await OcppClient.connect(app.url, "CP-2", "2.0.1")]
    for client in clients:
        assert (await client.boot())[2]["status"] == "Accepted"
    return clients


async def test_action_names_a_station_sends_read_back_exactly(tmp_path):
    app = await start_app(tmp_path)
    try:
        clients = await booted_pair(app)
        for client in clients:
            for action in ODD_ACTIONS:
                answer = await client.call(action, {})
                assert answer[0] == 4 and answer[2] == "NotImplemented"
        families = await scrape(app)
        for client in clients:
            await client.close()
    finally:
        await app.stop()
    received = {(s.labels["version"], s.labels["action"]) for s in families["zaspot_messages_in"].samples}
    assert {(v, a) for v in ("1.6", "2.0.1") for a in ODD_ACTIONS} <= received
    errors = {(s.labels["version"], s.labels["code"]): s.value for s in families["zaspot_call_errors"].samples}
    assert errors == {("1.6", "NotImplemented"): 3, ("2.0.1", "NotImplemented"): 3}


async def test_a_gauge_that_raises_leaves_the_rest_of_the_page_whole(tmp_path, caplog):
    app = await start_app(tmp_path)
    try:
        clients = await booted_pair(app)
        whole = await scrape(app)

        def queue_length() -> float:
            raise ConnectionError("the plugin's broker is down")

        app.ctx.metrics.publish("zaspot_plugin_queue", "A plugin's queue length.", queue_length)
        app.ctx.metrics.publish_labelled("zaspot_plugin_backlog", "A plugin's backlog per station.", "station",
                                         lambda: {sid: session.plugin_backlog  # a plugin's bug: no such attribute
                                                  for sid, session in app.ctx.sessions.items()})
        with caplog.at_level(logging.WARNING, logger="zaspot.core.metrics"):
            first, second = await scrape(app), await scrape(app)
        for client in clients:
            await client.close()
    finally:
        await app.stop()
    for page in (first, second):
        assert {name: f.type for name, f in page.items()} == {name: f.type for name, f in whole.items()}
        assert page["zaspot_stations_connected"].samples[0].value == 2
        assert {s.labels["station"] for s in page["zaspot_station_open_alarms"].samples} == {"CP-1", "CP-2"}
    errors = {s.labels["metric"]: s.value for s in second["zaspot_metrics_errors"].samples}
    assert errors == {"zaspot_plugin_queue": 2, "zaspot_plugin_backlog": 2}
    logged = [m[1] for r in caplog.records if (m := re.match(r"/metrics leaves out (\w+):", r.getMessage()))]
    assert sorted(logged) == ["zaspot_plugin_backlog", "zaspot_plugin_queue"]  # once each over two scrapes
    assert "the plugin's broker is down" in caplog.text
