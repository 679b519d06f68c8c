"""The Czech National Bank's daily exchange rates (`denni_kurz.txt`), to turn a market's
EUR prices into `pricing.currency`:

    27.03.2026 #61
    země|měna|množství|kód|kurz
    EMU|euro|1|EUR|24,325
    Japonsko|jen|100|JPY|16,218

Each rate is CZK for `množství` units, with a decimal comma. The bank fixes them every
working day at 14:30; asked for a date it answers the rates valid on it (a weekend's are
Friday's; a date not fixed yet gets the latest). A period is converted at the rate for its
own day; the rates of a day are kept once the bank has fixed that day's (or the day is past).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime

from zaspot.core.http_client import HttpClient
from zaspot.pricing.sources.market import with_query

_LOGGER = logging.getLogger(__name__)

CNB_URL = ("https://www.cnb.cz/cs/financni-trhy/devizovy-trh/kurzy-devizoveho-trhu/"
           "kurzy-devizoveho-trhu/denni_kurz.txt")


@dataclass(frozen=True, slots=True)
class Rates:
    day: date  # the day the bank fixed them
    czk: dict[str, float]  # currency code -> CZK for one unit

    def rate(self, source: str, target: str) -> float:
        """How many `target` one `source` buys (CZK is the bank's own: 1)."""
        return self._per_unit(source) / self._per_unit(target)

    def _per_unit(self, code: str) -> float:
        if code == "CZK":
            return 1.0
        try:
            return self.czk[code]
        except KeyError:
            raise ValueError(f"the Czech National Bank has no rate for {code} on {self.day:%d.%m.%Y}") from None


def parse(text: str) -> Rates:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if len(lines) < 3 or "|" not in lines[1]:
        raise ValueError("not the Czech National Bank's daily rates (expected a date line, a header and rates)")
    try:
        day = datetime.strptime(lines[0].split()[0], "%d.%m.%Y").date()
    except ValueError:
        raise ValueError(f"the Czech National Bank's rates start with {lines[0][:40]!r}, not a date") from None
    czk: dict[str, float] = {}
    for number, line in enumerate(lines[2:], start=3):
        cells = line.split("|")
        if len(cells) != 5:
            raise ValueError(f"line {number} of the Czech National Bank's rates has {len(cells)} fields, not 5")
        _, _, amount, code, rate = cells
        try:
            czk[code.strip().upper()] = float(rate.replace(",", ".")) / int(amount)
        except (ValueError, ZeroDivisionError):
            raise ValueError(f"line {number} of the Czech National Bank's rates: bad amount or rate {line!r}") from None
    return Rates(day, czk)


Fetch = Callable[[str], Awaitable[str]]


class CnbRates:
    """The rates per day, fetched from `url?date=DD.MM.YYYY` once per day asked for."""

    def __init__(self, url: str = CNB_URL, timeout: float = 10.0, fetch: Fetch | None = None) -> None:
        self.url, self.timeout = url, timeout
        self._fetch = fetch or self._get
        self._days: dict[date, Rates] = {}
        self.http = HttpClient(timeout)

    async def _get(self, url: str) -> str:
        return (await self.http.get(url, accept="text/plain")).text()

    async def close(self) -> None:
        await self.http.aclose()

    async def rates(self, day: date) -> Rates:
        rates = self._days.get(day)
        if rates is None:
            rates = parse(await self._fetch(with_query(self.url, date=f"{day:%d.%m.%Y}")))
            if rates.day == day or day < date.today():  # else asked again: today's may be fixed by then
                if len(self._days) > 60:  # a process that runs for months keeps only the recent days
                    self._days.pop(min(self._days))
                self._days[day] = rates
            _LOGGER.debug("CNB rates for %s (fixed %s): EUR %s CZK", day, rates.day, rates.czk.get("EUR"))
        return rates

    async def rate(self, source: str, target: str, day: date) -> float:
        return 1.0 if source == target else (await self.rates(day)).rate(source, target)
