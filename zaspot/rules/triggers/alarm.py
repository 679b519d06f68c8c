"""`platform: alarm` — an alarm raised or cleared (`code`, `component`, `severity`)."""

from __future__ import annotations

from zaspot.core.events import Event
from zaspot.rules.triggers.base import event_vars, listen_all
from zaspot.rules.triggers.fault import CONFIG, matcher

EVENTS = ("alarm_raised", "alarm_cleared")
__all__ = ["CONFIG", "EVENTS", "attach"]


def attach(engine, trigger, config: CONFIG):
    matches, wanted = matcher(config), f"alarm_{config.event}"

    def on_alarm(e: Event) -> None:
        if e.type == wanted and matches(e):
            trigger.fire(event_vars(e))

    return listen_all(engine, (wanted,), on_alarm)
