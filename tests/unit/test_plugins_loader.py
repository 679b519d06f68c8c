"""The plugin loader in-process: each route, config sections with file:line errors,
and a broken plugin that is reported and leaves nothing behind."""

from __future__ import annotations

import textwrap
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from zaspot.config import load
from zaspot.core.bus import EventBus
from zaspot.core.plugin_loader import PluginLoader
from zaspot.core.registry import ACTION, NOTIFIER, STRATEGY
from zaspot.core.state import FleetState
from zaspot.ocpp.commands import Commands
from zaspot.ocpp.context import ServerContext
from zaspot.store import Store

GOOD = '''
from dataclasses import dataclass
NAME = "{name}"

@dataclass
class Settings:
    greeting: str = "hi"

CONFIG = Settings

async def setup(api, config):
    api.register_action("{name}_greet", lambda data: config.greeting)
    return lambda: api.logger.info("bye")
'''


@pytest.fixture
async def loaded(tmp_path: Path) -> AsyncIterator:
    """Write files, load a zaspot.yaml from tmp_path, return the loader; torn down after."""
    made: list[tuple[PluginLoader, Store, EventBus]] = []

    async def run(yaml_text: str, files: dict[str, str]) -> PluginLoader:
        for rel, text in files.items():
            (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
            (tmp_path / rel).write_text(textwrap.dedent(text))
        (tmp_path / "zaspot.yaml").write_text(textwrap.dedent(yaml_text))
        store, bus = await Store.open(":memory:"), EventBus()
        ctx = ServerContext(load(tmp_path / "zaspot.yaml"), store, bus, FleetState())
        loader = PluginLoader(ctx, Commands(ctx))
        made.append((loader, store, bus))
        await loader.load_all()
        return loader

    yield run
    for loader, store, bus in made:
        await loader.unload_all()
        await bus.close()
        await store.close()


def by_name(loader: PluginLoader) -> dict:
    return {p.name: p for p in loader.plugins}


async def test_folder_and_config_routes_load_in_order(loaded, tmp_path: Path) -> None:
    loader = await loaded(
        """
        plugins:
          load: [./extra/from_path.py]
          config:
            from_folder: {greeting: hello}
        """,
        {"plugins/from_folder.py": GOOD.format(name="from_folder"),
         "plugins/_private.py": "raise SystemExit('never imported')",
         "plugins/test_from_folder.py": "raise SystemExit('never imported')",
         "extra/from_path.py": GOOD.format(name="from_path")},
    )
    assert [(p.name, p.source, p.status) for p in loader.plugins] == [
        ("notify", "builtin", "loaded"), ("from_folder", "folder", "loaded"), ("from_path", "config", "loaded")]
    greet = loader.ctx.registry.get(ACTION, "from_folder_greet")
    assert greet.owner == "from_folder" and greet.obj({}) == "hello"


async def test_a_module_named_in_config_is_imported(loaded) -> None:
    loader = await loaded("plugins:\n  load: [zaspot.notify.log]\n", {})
    assert by_name(loader)["log"].error == "no `async def setup(api, config)` in the module"


async def test_a_bad_plugin_section_reports_file_and_line(loaded, tmp_path: Path) -> None:
    loader = await loaded(
        """
        plugins:
          config:
            from_folder:
              greeting: [not, text]
        """,
        {"plugins/from_folder.py": GOOD.format(name="from_folder")},
    )
    info = by_name(loader)["from_folder"]
    assert info.status == "failed"
    assert info.error == f"{tmp_path / 'zaspot.yaml'}:5: plugins.config.from_folder.greeting: expected a single value"


async def test_a_plugin_failing_in_setup_leaves_nothing_registered(loaded, tmp_path: Path) -> None:
    loader = await loaded("", {"plugins/half.py": """
        async def setup(api, config):
            api.register_strategy("half_done", object)
            api.listen("status_changed", lambda e: None)
            raise RuntimeError("device not found")
        """})
    info = by_name(loader)["half"]
    assert info.status == "failed"
    assert info.error == f"{tmp_path / 'plugins' / 'half.py'}:5: RuntimeError: device not found"
    assert loader.ctx.registry.get(STRATEGY, "half_done") is None
    assert not loader.ctx.bus.has_listeners("status_changed")


async def test_a_name_taken_by_another_plugin_is_refused(loaded) -> None:
    loader = await loaded("", {"plugins/webhook_clone.py": """
        from zaspot.notify.webhook import WebhookNotifier
        async def setup(api, config):
            api.register_notifier("webhook", WebhookNotifier)
        """})
    assert by_name(loader)["webhook_clone"].error == "notifier 'webhook' is already registered by plugin 'notify'"
    assert loader.ctx.registry.get(NOTIFIER, "webhook").owner == "notify"


async def test_unclaimed_sections_and_bad_notify_entries_are_warnings(loaded, tmp_path: Path) -> None:
    loader = await loaded(
        """
        plugins:
          config:
            ghost: {a: 1}
        notify:
          - platform: webhook
            name: ops
            url: http://127.0.0.1:9/x
            timeout: soon
          - platform: telegram
        """, {})
    cfg = tmp_path / "zaspot.yaml"
    assert loader.problems == [f"{cfg}:4: plugins.config.ghost: no plugin named 'ghost' was found"]
    assert by_name(loader)["notify"].warnings == [
        f"{cfg}:9: notify[0].timeout: expected a number, got 'soon'",
        f"{cfg}:10: notify[1]: unknown platform 'telegram' (known: log, webhook)",
    ]


async def test_teardown_undoes_registrations(loaded) -> None:
    loader = await loaded("", {"plugins/p.py": GOOD.format(name="p")})
    await loader.unload_all()
    assert loader.ctx.registry.get(ACTION, "p_greet") is None
    assert loader.ctx.registry.get(ACTION, "notify") is None
