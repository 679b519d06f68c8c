"""`platform: log` — notifications as log lines (the default when `notify:` is empty)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from zaspot.notify.base import Notification

_LOGGER = logging.getLogger("zaspot.notify")


@dataclass
class LogConfig:
    level: Literal["debug", "info", "warning", "error"] = "warning"


class LogNotifier:
    def __init__(self, config: LogConfig) -> None:
        self.level = getattr(logging, config.level.upper())

    async def send(self, notification: Notification) -> None:
        title = f"{notification.title}: " if notification.title else ""
        _LOGGER.log(self.level, "%s%s", title, notification.message)
