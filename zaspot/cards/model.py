"""A card (an id token) and the checks of what an operator types for one."""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from zaspot.ocpp.cards_v16 import utc_iso

STATUSES = ("Accepted", "Blocked", "Expired")
MAX_ID = 36  # 2.0.1 idToken; a 1.6 idTag is at most 20 (longer ones stay off 1.6 local lists)
MAX_GROUP = 20  # 1.6 parentIdTag
MAX_TEXT = 200  # driver, note


class CardError(ValueError):
    """A card field an operator got wrong, phrased for them."""


@dataclass(frozen=True, slots=True)
class Card:
    id_token: str
    status: str = "Accepted"
    expiry: float | None = None  # UNIX seconds; past it an Accepted card is Expired
    group: str | None = None
    driver: str | None = None
    note: str | None = None
    updated_at: float = 0.0
    list_version: int = 0  # the local-list version of its last change

    def effective_status(self, now: float | None = None) -> str:
        if self.status == "Accepted" and self.expiry is not None and self.expiry <= (now or time.time()):
            return "Expired"
        return self.status

    def to_dict(self, now: float | None = None) -> dict[str, Any]:
        """What the API gives: `status` is the effective one, `stored_status` the one set."""
        return {"id_token": self.id_token, "status": self.effective_status(now), "stored_status": self.status,
                "expiry": self.expiry, "group": self.group, "driver": self.driver, "note": self.note,
                "updated_at": self.updated_at, "version": self.list_version}

    def changed(self, **fields: Any) -> Card:
        return dataclasses.replace(self, **fields)


def parse_status(value: Any) -> str:
    """accepted | blocked | expired, in any case."""
    if isinstance(value, str):
        for status in STATUSES:
            if value.strip().lower() == status.lower():
                return status
    raise CardError(f"status must be accepted, blocked or expired, not {value!r}")


def parse_expiry(value: Any) -> float | None:
    """None or "" (no expiry), UNIX seconds, a date (YYYY-MM-DD: midnight UTC, when it
    expires) or an ISO 8601 time (UTC unless it says otherwise)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise CardError(f"expiry must be a date (YYYY-MM-DD) or an ISO 8601 time, not {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if not isinstance(value, str):
        raise CardError(f"expiry must be a date (YYYY-MM-DD) or an ISO 8601 time, not {value!r}")
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise CardError(f"expiry must be a date (YYYY-MM-DD) or an ISO 8601 time, not {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def iso(ts: float | None) -> str | None:
    """UNIX seconds as OCPP writes a time: ISO 8601 UTC with a Z."""
    return None if ts is None else utc_iso(ts)


def readable_expiry(ts: float | None) -> str:
    """A date when it is midnight UTC (what `--expiry 2027-01-31` gives), else ISO; "" for none."""
    if ts is None:
        return ""
    moment = datetime.fromtimestamp(ts, UTC)
    if (moment.hour, moment.minute, moment.second, moment.microsecond) == (0, 0, 0, 0):
        return moment.strftime("%Y-%m-%d")
    return iso(ts) or ""


def _text(value: Any, name: str, limit: int) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise CardError(f"{name} must be text, not {value!r}")
    value = value.strip()
    if len(value) > limit:
        raise CardError(f"{name} is longer than {limit} characters")
    return value or None


def check_id(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise CardError("a card needs an id_token")
    value = value.strip()
    if len(value) > MAX_ID:
        raise CardError(f"id_token {value!r} is longer than {MAX_ID} characters")
    if any(c.isspace() or c in ",\"" for c in value):
        raise CardError(f"id_token {value!r} has a space, a comma or a quote")
    return value


def build(fields: dict[str, Any], old: Card | None = None) -> Card:
    """A card from what an operator gave (API fields), over `old` when it exists:
    what is not given is kept (a new card: Accepted, no expiry, no group)."""
    id_token = check_id(fields.get("id_token"))
    card = old or Card(id_token)
    changes: dict[str, Any] = {}
    if fields.get("status") is not None:
        changes["status"] = parse_status(fields["status"])
    if "expiry" in fields:
        changes["expiry"] = parse_expiry(fields["expiry"])
    if "group" in fields:
        changes["group"] = _text(fields["group"], "group", MAX_GROUP)
        if changes["group"] and any(c.isspace() for c in changes["group"]):
            raise CardError(f"group {changes['group']!r} has a space")
    for name in ("driver", "note"):
        if name in fields:
            changes[name] = _text(fields[name], name, MAX_TEXT)
    return card.changed(**changes)
