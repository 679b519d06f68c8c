"""The price strip over the alarms: the spot price of the last hour and the coming periods,
one bar per 15 minutes, the current period marked, cheap ones green and dear ones red;
the price now (spot, and the driver price of the default tariff) beside it.

Read from `prices/list` and `prices/now` when connected and again on `price_updated` or
`prices_fetched` (no fast polling); it moves on with the clock between them. A server
without prices (older, or no `pricing:`) shows no strip at all.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.text import Text
from textual.widget import Widget

from zaspot.tui import format as fmt

PRICE_EVENTS = ("price_updated", "prices_fetched")
PERIOD = 900  # one bar: 15 minutes
PAST = 4  # bars of the last hour before the current one, for context
AHEAD = 96  # at most 24 h ahead
BAR_ROWS = 3  # at most; a short terminal gets fewer (the strip is one line shorter per row)
BLOCKS = " ▁▂▃▄▅▆▇█"
GUTTER = 6  # the scale's labels left of the bars
LEGEND = 34  # the price now, cheapest and dearest, right of the bars
STYLE = {"cheap": "green", "normal": "yellow", "dear": "bold red", "past": "bright_black", "fallback": "bright_black",
         "unknown": "bright_black"}
PAST_SECONDS = (PAST + 1) * PERIOD  # what is read: from the first bar on, up to the last known period


@dataclass(frozen=True, slots=True)
class Period:
    start: float
    end: float
    price: float
    fallback: bool = False


def periods(rows: list[dict[str, Any]] | None) -> list[Period]:
    """`prices/list` rows (start/end as epoch seconds or ISO 8601), sorted; bad rows dropped."""
    out = []
    for r in rows or []:
        start, end = fmt.instant(r.get("start")), fmt.instant(r.get("end"))
        if start is None or end is None or not isinstance(r.get("price"), (int, float)):
            continue
        out.append(Period(start, end, float(r["price"]), bool(r.get("fallback"))))
    return sorted(out, key=lambda p: p.start)


def period_at(known: list[Period], ts: float) -> Period | None:
    i = bisect.bisect_right([p.start for p in known], ts) - 1
    return known[i] if i >= 0 and known[i].start <= ts < known[i].end else None


@dataclass(slots=True)
class Column:
    start: float
    period: Period | None
    kind: str = "normal"  # cheap | normal | dear | past | fallback | unknown


def columns(known: list[Period], now: float, count: int) -> list[Column]:
    """`count` bars from an hour before the current period on; coloured by where the coming
    periods' prices lie between the window's cheapest and dearest (thirds)."""
    first = (now // PERIOD) * PERIOD - PAST * PERIOD
    cols = [Column(first + i * PERIOD, period_at(known, first + i * PERIOD)) for i in range(count)]
    ahead = [c.period.price for c in cols[PAST:] if c.period and not c.period.fallback]
    lo, hi = (min(ahead), max(ahead)) if ahead else (0.0, 0.0)
    third = (hi - lo) / 3
    for i, c in enumerate(cols):
        if c.period is None:
            c.kind = "unknown"
        elif i < PAST:
            c.kind = "past"
        elif c.period.fallback:
            c.kind = "fallback"
        elif third and c.period.price <= lo + third:
            c.kind = "cheap"
        elif third and c.period.price >= hi - third:
            c.kind = "dear"
    return cols


def chart_lines(cols: list[Column], bar_rows: int = BAR_ROWS) -> list[Text]:
    """`bar_rows` lines of bars (from zero, or from the lowest price when one is negative),
    the scale at their left, then the time axis with ▲ under the current period. A period
    without a price is a dot."""
    prices = [c.period.price for c in cols if c.period]
    if not prices:
        return [Text() for _ in range(bar_rows + 1)]
    base, top = min(0.0, min(prices)), max(prices)
    span = (top - base) or 1.0
    steps = bar_rows * (len(BLOCKS) - 1)
    heights = [None if c.period is None else max(1, round((c.period.price - base) / span * steps)) for c in cols]
    lines = []
    for row in reversed(range(bar_rows)):
        label = fmt.price(top) if row == bar_rows - 1 else fmt.price(base) if row == 0 else ""
        line = Text(f"{label:>{GUTTER - 1}} ", style="bright_black")
        for i, (c, h) in enumerate(zip(cols, heights)):
            fill = 0 if h is None else min(len(BLOCKS) - 1, max(0, h - row * (len(BLOCKS) - 1)))
            char = "·" if h is None and row == 0 else BLOCKS[fill]  # no price known (yet) for this period
            line.append(char, style=STYLE[c.kind] + (" on grey30" if i == PAST else ""))
        lines.append(line)
    lines.append(Text(" " * GUTTER, style="bright_black") + axis(cols))
    return lines


def axis(cols: list[Column]) -> Text:
    """Even hours labelled ('14:00'), never over the ▲ of the current period."""
    chars = [" "] * len(cols)
    for i, c in enumerate(cols):
        t = time.localtime(c.start)
        label = time.strftime("%H:%M", t)
        if t.tm_min == 0 and t.tm_hour % 2 == 0 and i + len(label) <= len(cols) and not i <= PAST < i + len(label):
            chars[i:i + len(label)] = label
    if len(cols) > PAST:
        chars[PAST] = "▲"
    text = Text("".join(chars), style="bright_black")
    text.stylize("bold white", PAST, PAST + 1)
    return text


def legend_lines(cols: list[Column], now_info: dict[str, Any] | None, unit: str,
                 bar_rows: int = BAR_ROWS) -> list[Text]:
    """The price now (spot, and the driver price of the default tariff if the server gives
    it), then the coming periods' cheapest and dearest."""
    current = cols[PAST].period if len(cols) > PAST else None
    lines = [Text.assemble(("now  ", "bold"), (fmt.price(current.price) if current else "–", "bold"),
                           f" {unit} spot" + (" (fallback)" if current and current.fallback else ""))]
    info = now_info or {}
    if isinstance(info.get("driver_price"), (int, float)):
        tariff = f" ({info['tariff']})" if info.get("tariff") else ""
        lines.append(Text(f"     {fmt.price(info['driver_price'])} driver price{tariff}"))
    ahead = [(c, c.period) for c in cols[PAST:] if c.period and not c.period.fallback]
    for word, pick in (("min", min), ("max", max)):
        if ahead:
            c, period = pick(ahead, key=lambda known: known[1].price)
            lines.append(Text(f"{word}  {fmt.price(period.price)} at {when(c.start, cols[PAST].start)}",
                              style=STYLE["cheap" if word == "min" else "dear"]))
    return lines[:bar_rows + 1]


def summary_line(cols: list[Column], now_info: dict[str, Any] | None) -> str:
    """The legend in one line, for a narrow strip: 'now 3.08 spot · driver 7.42 · min 1.10 at 13:00 · max …'."""
    current = cols[PAST].period if len(cols) > PAST else None
    parts = [f"now {fmt.price(current.price) if current else '–'} spot"]
    driver = (now_info or {}).get("driver_price")
    if isinstance(driver, (int, float)):
        parts.append(f"driver {fmt.price(driver)}")
    ahead = [(c, c.period) for c in cols[PAST:] if c.period and not c.period.fallback]
    if ahead:
        for word, pick in (("min", min), ("max", max)):
            c, period = pick(ahead, key=lambda known: known[1].price)
            parts.append(f"{word} {fmt.price(period.price)} at {when(c.start, cols[PAST].start)}")
    return " · ".join(parts)


def when(ts: float, now: float) -> str:
    """'13:00' today, 'tomorrow 13:00', else '11-27 13:00' (local)."""
    day, today = time.localtime(ts), time.localtime(now)
    hm = time.strftime("%H:%M", day)
    if (day.tm_year, day.tm_yday) == (today.tm_year, today.tm_yday):
        return hm
    tomorrow = time.localtime(time.mktime((today.tm_year, today.tm_mon, today.tm_mday + 1, 12, 0, 0, 0, 0, -1)))
    if (day.tm_year, day.tm_yday) == (tomorrow.tm_year, tomorrow.tm_yday):
        return f"tomorrow {hm}"
    return time.strftime("%m-%d %H:%M", day)


class PricePane(Widget):
    """The strip; `show()` gives it what the server said, `render()` draws it for now."""

    def __init__(self, clock: Callable[[], float], **kw: Any) -> None:
        super().__init__(**kw)
        self.clock = clock
        self.known: list[Period] = []
        self.now_info: dict[str, Any] | None = None
        self.unit = ""

    def on_mount(self) -> None:
        self.display = False
        self.set_interval(15.0, self.refresh)  # the current period moves on without an event

    def show(self, rows: list[dict[str, Any]] | None, now_info: dict[str, Any] | None) -> None:
        """None or no periods: the server has no prices, and the strip is hidden."""
        self.known = periods(rows)
        self.now_info = now_info if isinstance(now_info, dict) else None
        currency = (self.now_info or {}).get("currency")
        self.unit = next((str(r["unit"]) for r in rows or [] if r.get("unit")), f"{currency}/kWh" if currency else "")
        self.display = bool(self.known)
        self._titles()
        self.refresh()

    def on_resize(self) -> None:
        self._titles()

    @property
    def _legend_fits(self) -> bool:
        return self.content_size.width >= GUTTER + 48 + LEGEND

    @property
    def _bar_rows(self) -> int:
        return max(1, min(BAR_ROWS, self.content_size.height - 1))

    def _titles(self) -> None:
        """The title, short enough for its width; without room for the legend beside the bars,
        the price now and the coming cheapest and dearest go under them, on the border."""
        until = max((p.end for p in self.known if not p.fallback), default=None)
        unit = f" ({self.unit})" if self.unit else ""
        known = f"known until {fmt.day_time(until)}" if until else ""
        if self._legend_fits:
            self.border_title = f"Prices{unit} · 15 minutes a bar" + (f", {known}" if known else "") \
                + " · ▲ now · green cheap, red dear"
            self.border_subtitle = ""
            return
        self.border_title = f"Prices{unit} · ▲ now" + (f" · {known}" if known else "")
        self.border_subtitle = summary_line(columns(self.known, self.clock(), PAST + AHEAD), self.now_info)

    def render(self) -> Text:
        width = self.content_size.width
        room = width - GUTTER - (LEGEND + 2 if self._legend_fits else 0)
        cols = columns(self.known, self.clock(), max(PAST + 1, min(PAST + AHEAD, room)))
        chart = chart_lines(cols, self._bar_rows)
        legend = legend_lines(cols, self.now_info, self.unit, self._bar_rows) if self._legend_fits else []
        out = Text()
        for i, line in enumerate(chart):
            if i:
                out.append("\n")
            out.append_text(line)
            if i < len(legend):
                out.append("  ")
                out.append_text(legend[i])
        return out
