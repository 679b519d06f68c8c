"""What values a config dataclass takes, declared next to its fields for the decoder in
zaspot/config.py:

    heartbeat_interval: Annotated[int, Range(1, 86400)] = 300   # a number: both ends allowed
    unknown_stations: Literal["accept", "pending", "reject"] = "accept"   # a choice

    def validate(self) -> None:        # rules between fields, called after decoding
        if self.clear_c >= self.raise_c:
            raise Invalid("clear_c", f"{num(self.clear_c)} must be below raise_c ({num(self.raise_c)})")

A module that cannot import this one at the top (an import cycle) or a dataclass declared
elsewhere takes the same ranges with `constrain(cls, field=Range(...))`.

Only YAML decoding checks: dataclasses built in Python (tests, defaults) are taken as given.
This module imports nothing from zaspot, so every config module can use it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class Range:
    """low <= value <= high."""

    low: float
    high: float

    def __contains__(self, value: object) -> bool:
        return isinstance(value, (int, float)) and self.low <= value <= self.high  # NaN is in no range

    def __str__(self) -> str:
        return f"{num(self.low)} to {num(self.high)}"


class Invalid(ValueError):
    """Raised by a config dataclass's `validate()`. `key` is the value to blame, a path inside
    the section ("lease", "site.circuits[0].fuse"); its line is the one reported (the
    section's line when the key is not in the file). None blames the whole section."""

    def __init__(self, key: str | None, message: str) -> None:
        super().__init__(message)
        self.key = key


_EXTRA: dict[tuple[type, str], tuple[Any, ...]] = {}


def constrain(cls: type, **checks: Range) -> None:
    """Ranges for fields of a dataclass that cannot carry `Annotated` hints itself; the same
    as writing `Annotated[hint, Range(...)]` on each field."""
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(checks) - names)
    if unknown:
        raise ValueError(f"{cls.__name__} has no field {', '.join(unknown)}")
    for name, check in checks.items():
        _EXTRA[cls, name] = (check,)


def extra_checks(cls: type, name: str) -> tuple[Any, ...]:
    return _EXTRA.get((cls, name), ())


def num(value: float) -> str:
    """A number as an operator writes it: 30, not 30.0."""
    return str(int(value)) if isinstance(value, (int, float)) and float(value).is_integer() else str(value)
