"""Prices reach rules: the EMS announces the price in force, and a `platform: price`
rule acts on it."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

from zaspot.app import App
from zaspot.config import load

RULE = """
- id: expensive_hour
  trigger:
    - platform: price
      above: 0.30
  action:
    - service: fire_event
      data: {event_type: expensive, data: {price: "{price}"}}
"""


async def test_a_price_above_the_threshold_fires_a_price_rule(tmp_path: Path):
    hour = int(time.time()) // 3600 * 3600
    rows = [f"{datetime.fromtimestamp(hour + h * 3600, UTC).isoformat()},{price}"
            for h, price in ((-1, 0.20), (0, 0.42), (1, 0.18))]
    (tmp_path / "prices.csv").write_text("start,price\n" + "\n".join(rows) + "\n")
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "price.yaml").write_text(RULE)
    config = tmp_path / "zaspot.yaml"
    config.write_text(
        f"host: 127.0.0.1\nport: 0\ndb: {tmp_path / 'z.db'}\nrules: {tmp_path / 'rules'}\nocpp: {{ping_interval: 0}}\n"
        "ems:\n  strategy: static\n  interval: 0.2\n  lease: 600\n"
        "  site: {main_breaker: 32, stations: [{id: P-1, max_current: 16}]}\n"
        f"  prices: {{platform: file, path: {tmp_path / 'prices.csv'}}}\n"
    )
    app = App(load(config))
    await app.start()  # the EMS ticks at once: read what happened from the store, not the bus
    try:
        traces: list = []
        for _ in range(50):
            traces = await app.ctx.store.rule_traces("expensive_hour", None, 5)
            if traces:
                break
            await asyncio.sleep(0.1)
    finally:
        await app.stop()
    assert traces, "the price rule never ran"
    trace = traces[0]["trace"] if "trace" in traces[0] else traces[0]
    assert trace["outcome"] == "done" and trace["trigger"]["price"] == 0.42
    assert trace["trigger"]["valid_from"] == hour
