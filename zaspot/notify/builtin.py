"""The built-in notify plugin: the `log` and `webhook` platforms, the `notify` service for
rules and the `notify` API command, and the notifiers listed under `notify:`.

It uses the same plugin API as everyone else; notifiers are built once every plugin is
set up, so a platform from a plugin in `plugins/` works in `notify:` too.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import yaml

from zaspot.config import ConfigError, RawSection, decode
from zaspot.core.plugins import PluginContext, PluginError
from zaspot.core.registry import NOTIFIER
from zaspot.notify.base import Notification
from zaspot.notify.log import LogConfig, LogNotifier
from zaspot.notify.manager import NotifyManager
from zaspot.notify.names import with_names
from zaspot.notify.webhook import WebhookConfig, WebhookNotifier

NAME = "notify"


async def setup(api: PluginContext, config: None) -> Any:
    api.register_notifier("log", LogNotifier, LogConfig)
    api.register_notifier("webhook", WebhookNotifier, WebhookConfig)
    manager = NotifyManager(api.config.notify_policy)
    service = NotifyService(manager, api.store)
    api.register_action("notify", service)
    api.register_api_command("notify", service)

    async def build() -> None:
        entries = api.config.notify or [RawSection("<defaults>", yaml.compose("platform: log"), "notify[0]")]
        for index, raw in enumerate(entries):
            try:
                name, notifier = _build_one(api, raw, index)
                manager.add(name, notifier)
            except (ConfigError, PluginError, ValueError) as exc:
                where = f"{raw.location()}: notify[{index}]"
                api.warn(str(exc) if isinstance(exc, ConfigError) else f"{where}: {exc}")
        manager.start()

    api.after_setup(build)
    return manager.close


class NotifyService:
    """`service: notify` in rules and `{"type": "notify"}` in the API. Returns once queued.

    Stations are named in what it sends (zaspot.notify.names): `station_id` in the data
    says which station a notification is about, when its message mentions none or several."""

    def __init__(self, manager: NotifyManager, store: Any = None) -> None:
        self.manager = manager  # reachable through the registry, for stats
        self.store = store

    async def __call__(self, data: Mapping[str, Any]) -> dict[str, str]:
        notification = Notification.from_data(data)
        station_id = data.get("station_id")
        if station_id is not None and not isinstance(station_id, str):
            raise ValueError("notify: 'station_id' must be text")
        if self.store is not None:
            try:
                names = await self.store.station_names()
            except Exception:  # a notification is never lost for want of a name
                logging.getLogger("zaspot.notify").exception("could not read station names")
                names = {}
            notification = with_names(notification, names, station_id or None)
        return {"status": self.manager.submit(notification)}


def _build_one(api: PluginContext, raw: RawSection, index: int) -> tuple[str, Any]:
    platform = raw.get("platform")
    known = api.registry.names(NOTIFIER)
    if not isinstance(platform, str):
        raise PluginError(f"'platform' is required (one of {', '.join(known)})")
    registered = api.registry.get(NOTIFIER, platform)
    if registered is None:
        raise PluginError(f"unknown platform '{platform}' (known: {', '.join(known)})")
    name = raw.get("name") or platform
    section = raw.without("platform", "name")
    if registered.config_type is not None:
        settings = decode(registered.config_type, section)
    else:
        settings = yaml.safe_load(yaml.serialize(section.node)) if section.node is not None else {}
    return str(name), registered.obj(settings)
