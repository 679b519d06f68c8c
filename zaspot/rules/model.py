"""A loaded rule: what the loader builds and the engine runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

MODES = ("single", "restart", "queued", "parallel")


@dataclass(frozen=True, slots=True)
class TriggerSpec:
    platform: str
    config: Any  # the platform's CONFIG dataclass, decoded
    for_s: float | None  # hold time: the condition must stay true this long
    index: int
    line: int
    id: str | None = None  # `id:` of the trigger, for conditions (`trigger.id == 'hot'`)


@dataclass(slots=True)
class Rule:
    id: str
    file: str
    line: int
    triggers: list[TriggerSpec]
    conditions: list[Any]  # each has .text and .check(names, functions) -> Check
    actions: list[Any]  # zaspot.rules.actions.Action
    alias: str = ""
    description: str = ""
    mode: str = "single"
    max_runs: int = 10  # queued / parallel: how many may wait or run at once
    cooldown_s: float = 0.0
    source: dict[str, Any] = field(default_factory=dict)  # the rule as written (for the API)

    @property
    def where(self) -> str:
        return f"{self.file}:{self.line}"

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id, "alias": self.alias, "file": self.file, "line": self.line, "mode": self.mode,
            "cooldown_s": self.cooldown_s, "triggers": [t.platform for t in self.triggers],
            "conditions": [c.text for c in self.conditions], "actions": [a.describe() for a in self.actions],
        }
