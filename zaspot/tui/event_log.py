"""The station screen's event list: one line per event that changed something, with a run
of temperature readings folded into one line (the latest value of each place and how many
readings), so a station that reports every ten seconds does not push everything else out.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from rich.text import Text

from zaspot.diagnostics.config import TemperatureLimit
from zaspot.tui import format as fmt
from zaspot.tui.temps import celsius, reading_key

MAX_LINES = 300
FOLDED = "temperature"


@dataclass(slots=True)
class Entry:
    event: dict[str, Any]
    count: int = 1
    readings: dict[str, float] = field(default_factory=dict)  # a temperature run: place -> its latest °C


class EventLines:
    """Oldest first. `add()` says whether it appended a line or changed the last one."""

    def __init__(self, line: Callable[[dict[str, Any]], str], limit: Callable[[str], TemperatureLimit | None],
                 max_lines: int = MAX_LINES) -> None:
        self.line, self.limit = line, limit
        self.entries: deque[Entry] = deque(maxlen=max_lines)

    def add(self, event: dict[str, Any]) -> bool:
        """True: a new line; False: the last line (a temperature run) now says more."""
        if event.get("type") != FOLDED:
            self.entries.append(Entry(event))
            return True
        key = reading_key(event)
        last = self.entries[-1] if self.entries else None
        if last is not None and last.event.get("type") == FOLDED:
            last.event, last.count = event, last.count + 1
            last.readings.pop(key, None)  # the latest reading of a place goes last
            last.readings[key] = float(event.get("celsius") or 0.0)
            return False
        self.entries.append(Entry(event, readings={key: float(event.get("celsius") or 0.0)}))
        return True

    def render(self, entry: Entry) -> Text:
        if entry.event.get("type") != FOLDED:
            return Text(self.line(entry.event))
        out = Text(f"{fmt.clock(entry.event.get('time'))} temperature ")
        if entry.count > 1:
            out.append(f"×{entry.count} ", style="bright_black")
        for i, (key, value) in enumerate(reversed(entry.readings.items())):  # the newest first
            out.append(", " if i else "")
            out.append(f"{fmt.location(key)} ").append_text(celsius(value, self.limit(key)))
        return out

    def lines(self) -> list[Text]:
        return [self.render(e) for e in self.entries]

    @property
    def last(self) -> Text | None:
        return self.render(self.entries[-1]) if self.entries else None
