"""`platform: fault` (diagnostics' Fault reports) and `platform: alarm` (alarms opened and
closed): `event: raised | cleared`, `code`, `component`, `severity`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from zaspot.core.events import Fault
from zaspot.rules.triggers.base import event_vars, listen_all, one_or_many

EVENTS = ("fault",)


@dataclass
class CONFIG:
    event: Literal["raised", "cleared"] = "raised"
    code: Any = None
    component: Any = None
    severity: Any = None


def matcher(config: CONFIG):
    codes, components = one_or_many(config.code), one_or_many(config.component)
    severities = one_or_many(config.severity)

    def matches(e: Any) -> bool:
        return ((codes is None or e.code in codes) and (components is None or e.component in components)
                and (severities is None or e.severity in severities))

    return matches


def attach(engine, trigger, config: CONFIG):
    matches, raised = matcher(config), config.event == "raised"

    def on_fault(e: Fault) -> None:
        if e.active is raised and matches(e):
            trigger.fire(event_vars(e))

    return listen_all(engine, EVENTS, on_fault)
