"""The example plugins in plugins/, loaded the way a user would: named in plugins.load."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.integration.test_notify_webhook import HookServer
from tests.unit.test_plugins_loader import loaded  # noqa: F401  (fixture)
from zaspot.core.registry import ACTION, STRATEGY

EXAMPLES = ROOT / "plugins"


async def notify_and_drain(loader, message: str) -> None:
    service = loader.ctx.registry.get(ACTION, "notify").obj
    assert await service({"message": message, "title": "Depot"}) == {"status": "queued"}
    await service.manager.drain()


async def test_jsonl_notifier_appends_each_notification(loaded, tmp_path: Path) -> None:  # noqa: F811
    loader = await loaded(f"""
        plugins:
          load: [{EXAMPLES / 'jsonl_notifier.py'}]
        notify:
          - platform: jsonl
            path: {tmp_path / 'out' / 'notifications.jsonl'}
        """, {})
    await notify_and_drain(loader, "CP-7 faulted: GroundFailure")
    lines = (tmp_path / "out" / "notifications.jsonl").read_text().splitlines()
    assert [json.loads(x)["message"] for x in lines] == ["CP-7 faulted: GroundFailure"]


async def test_peak_shaver_shares_headroom_and_checks_its_section(loaded, tmp_path: Path) -> None:  # noqa: F811
    loader = await loaded(f"""
        plugins:
          load: [{EXAMPLES / 'peak_shaver.py'}]
          config:
            peak_shaver: {{site_limit_kw: 30, reserve_kw: 2}}
        """, {})
    assert loader.plugins[-1].status == "loaded"
    strategy = loader.ctx.registry.get(STRATEGY, "peak_shaver")
    shaver = strategy.obj(strategy.config_type(site_limit_kw=30, reserve_kw=2))
    # 28 kW left minus 4 kW of building load = 24 kW; A needs only 3, B and C split the rest.
    assert shaver.allocate(4000, {"A": 3000, "B": 22000, "C": 11000}) == {"A": 3000, "C": 10500, "B": 10500}
    assert shaver.allocate(40000, {"A": 3000}) == {"A": 0.0}


async def test_peak_shaver_refuses_a_bad_limit_at_load_time(loaded) -> None:  # noqa: F811
    loader = await loaded(f"""
        plugins:
          load: [{EXAMPLES / 'peak_shaver.py'}]
          config:
            peak_shaver:
              site_limit_kw: lots
        """, {})
    assert loader.plugins[-1].error.endswith(":6: plugins.config.peak_shaver.site_limit_kw: expected a number, got 'lots'")


async def test_apprise_notifier_delivers_through_an_apprise_url(loaded) -> None:  # noqa: F811
    pytest.importorskip("apprise")  # the optional extra: pip install 'zaspot[apprise]'
    with HookServer() as hook:
        loader = await loaded(f"""
            plugins:
              load: [{EXAMPLES / 'apprise_notifier.py'}]
            notify:
              - platform: apprise
                urls: ["json://{hook.url.removeprefix('http://')}/apprise"]
            """, {})
        await notify_and_drain(loader, "CP-3 back online")
        request = hook.next()
    assert request["path"] == "/apprise"
    assert (request["body"]["title"], request["body"]["message"]) == ("Depot", "CP-3 back online")
