"""Example notifier plugin: every notification appended as one JSON line to a file
(an audit trail, or a feed for another tool to tail).

    notify:
      - platform: jsonl
        name: audit
        path: /var/log/zaspot/notifications.jsonl
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path

from zaspot.core.plugins import PluginContext
from zaspot.notify import Notification

NAME = "jsonl_notifier"


@dataclass
class JsonlConfig:
    path: str


class JsonlNotifier:
    def __init__(self, config: JsonlConfig) -> None:
        self.path = Path(config.path).expanduser()

    async def send(self, notification: Notification) -> None:
        line = json.dumps(notification.to_dict(), ensure_ascii=False) + "\n"
        await asyncio.to_thread(self._append, line)  # file I/O stays off the event loop

    def _append(self, line: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as f:
            f.write(line)


async def setup(api: PluginContext, config: None) -> None:
    api.register_notifier("jsonl", JsonlNotifier, JsonlConfig)
