"""Plain formatting for the TUI: numbers, ages and connector statuses as short text.

No Textual here; Rich `Text` only where a colour carries meaning.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from rich.text import Text

# status -> (short label, style). Calm by default: only trouble is loud.
STATUS_STYLE: dict[str, tuple[str, str]] = {
    "Available": ("avail", "green"),
    "Preparing": ("prep", "yellow"),
    "Charging": ("chrg", "bold cyan"),
    "SuspendedEV": ("susEV", "yellow"),
    "SuspendedEVSE": ("susSE", "yellow"),
    "Finishing": ("fin", "yellow"),
    "Reserved": ("resv", "bold magenta"),
    "Occupied": ("occ", "cyan"),
    "Unavailable": ("unav", "bright_black"),
    "Faulted": ("FAULT", "bold white on red"),
    "Unknown": ("?", "bright_black"),
}

SEVERITY_STYLE = {"critical": "bold white on red", "error": "bold red", "warning": "yellow", "info": "bright_black"}


def status_text(status: str, short: bool = False) -> Text:
    label, style = STATUS_STYLE.get(status, (status, ""))
    return Text(label if short else status, style=style)


def kw(watts: float | None) -> str:
    if watts is None:
        return "–"
    return f"{watts / 1000:.1f} kW"


def kwh(wh: float | None) -> str:
    if wh is None:
        return "–"
    return f"{wh / 1000:.1f} kWh" if wh < 1e6 else f"{wh / 1e6:.2f} MWh"


def age(ts: float | None, now: float) -> str:
    """Coarse on purpose: a table of 500 'last seen' cells must not tick every second."""
    if not ts:
        return "never"
    seconds = max(0.0, now - ts)
    if seconds < 60:
        return "<1m"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def clock(ts: float | None) -> str:
    if not ts:
        return "–"
    return time.strftime("%H:%M:%S", time.localtime(ts))


def date_time(ts: float | None) -> str:
    """A card's expiry, as the card form takes it back: '2027-03-31 23:59'."""
    if not ts:
        return ""
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts))


def size(n: int | None) -> str:
    if n is None:
        return "–"
    for unit, scale in (("MB", 1 << 20), ("kB", 1 << 10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def location(key: str) -> str:
    """'connector@2/1' -> 'connector 2/1'; 'module:3' -> 'module 3'."""
    return key.replace("@", " ").replace(":", " ")


def first(row: dict[str, Any], *keys: str, default: Any = None) -> Any:
    """The first present value among `keys` (for API rows whose shape may grow)."""
    for key in keys:
        if row.get(key) is not None:
            return row[key]
    return default


def short_id(value: str | int | None) -> str:
    """2.0.1 transaction ids are UUIDs: the first block tells them apart on one screen."""
    if value is None or value == "":
        return "–"
    value = str(value)
    return value if len(value) <= 10 else value[:8] + "…"


def money(amount: float | None, currency: str = "", compact: bool = False) -> str:
    """'318.61 CZK'; compact (a fleet cell: at most nine characters with a three-letter
    currency): '52.31 CZK', '491.3 CZK', '12346 CZK', '123k CZK'."""
    if amount is None:
        return "–"
    size = abs(amount)
    text = (f"{amount:.2f}" if size < 100 or not compact else f"{amount:.1f}" if size < 1000
            else f"{amount:.0f}" if size < 99_999.5 else f"{amount / 1000:.0f}k")
    return f"{text} {currency}".rstrip()


def price(value: float | None) -> str:
    """A price per kWh in five characters or less: '1.85', '12.4', '-0.31', '123'."""
    if value is None:
        return "–"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}" if abs(value) < 100 else f"{value:.0f}"


def instant(value: Any) -> float | None:
    """UNIX seconds from epoch seconds or an ISO 8601 string (OCPI's CDR fields are ISO)."""
    if value in (None, ""):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def day_time(value: Any) -> str:
    """'05-14 13:05' local: a session's start or end."""
    ts = instant(value)
    return time.strftime("%m-%d %H:%M", time.localtime(ts)) if ts else "–"


def hours(value: float | None) -> str:
    """A duration given in hours (OCPI's total_time) as '1h05' or '35m'."""
    if value is None:
        return "–"
    minutes = round(value * 60)
    return f"{minutes // 60}h{minutes % 60:02d}" if minutes >= 60 else f"{minutes}m"


def clock_hm(value: Any) -> str:
    """'13:15' local, from epoch seconds or ISO 8601."""
    ts = instant(value)
    return time.strftime("%H:%M", time.localtime(ts)) if ts else "–"
