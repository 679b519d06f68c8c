"""Durations as users write them: `30s`, `10m`, `1h30m`, `2d`, `00:05:00`, or seconds."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|sec|min|s|m|h|d|w)")
_CLOCK = re.compile(r"^(\d+):(\d{2})(?::(\d{2}))?$")


def parse_duration(value: object) -> float:
    """Seconds; ValueError with a message that says what is accepted."""
    if isinstance(value, bool):
        raise ValueError(f"bad duration {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"bad duration {value!r}: it cannot be negative")
        return float(value)
    text = str(value).strip().lower().replace(" ", "")
    clock = _CLOCK.match(text)
    if clock:
        hours, minutes, seconds = clock.groups()
        return int(hours) * 3600 + int(minutes) * 60 + int(seconds or 0)
    pos, total = 0, 0.0
    for match in _PART.finditer(text):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    if not text or pos != len(text):
        raise ValueError(f"bad duration {value!r} (examples: 30s, 10m, 1h30m, 00:05:00)")
    return total


def format_duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:g}s"
    if seconds < 3600:
        return f"{seconds / 60:g}m"
    return f"{seconds / 3600:g}h"
