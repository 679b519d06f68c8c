"""What a notifier is: one `async send(notification)` that raises when it could not deliver."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True, slots=True)
class Notification:
    message: str
    title: str | None = None
    target: tuple[str, ...] | None = None  # notifier names; None = every notifier
    data: Mapping[str, Any] | None = None
    key: str | None = None  # groups variants of one alert for rate limiting
    time: float = field(default_factory=time.time)

    @property
    def group(self) -> str:
        return self.key or self.message

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "title": self.title, "target": list(self.target or ()) or None,
                "data": dict(self.data) if self.data is not None else None, "key": self.key, "time": self.time}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> Notification:
        """From a rule action's `data:` or an API command; ValueError names the bad field."""
        message = data.get("message")
        if not isinstance(message, str) or not message:
            raise ValueError("notify: 'message' must be non-empty text")
        for name in ("title", "key"):
            if data.get(name) is not None and not isinstance(data[name], str):
                raise ValueError(f"notify: '{name}' must be text")
        target = data.get("target")
        if isinstance(target, str):
            target = (target,)
        elif target is not None:
            if not isinstance(target, (list, tuple)) or not all(isinstance(t, str) for t in target):
                raise ValueError("notify: 'target' must be a notifier name or a list of names")
            target = tuple(target)
        extra = data.get("data")
        if extra is not None and not isinstance(extra, Mapping):
            raise ValueError("notify: 'data' must be a mapping")
        return cls(message, data.get("title"), target, extra, data.get("key"))


@runtime_checkable
class Notifier(Protocol):
    async def send(self, notification: Notification) -> None:
        """Deliver, or raise. Retries are the notifier's own business; the manager
        only guarantees that a slow or failing notifier never holds up another."""
