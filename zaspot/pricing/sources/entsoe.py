"""`platform: entsoe`: day-ahead prices from the ENTSO-E transparency platform
(document A44, XML; a free security token from your account's settings there):

    GET https://web-api.tp.entsoe.eu/api?securityToken=...&documentType=A44
        &in_Domain=10YCZ-CEPS-----N&out_Domain=10YCZ-CEPS-----N
        &periodStart=202603282300&periodEnd=202603302200
    <Publication_MarketDocument ...><TimeSeries>... <currency_Unit.name>EUR</currency_Unit.name>
      <price_Measure_Unit.name>MWH</price_Measure_Unit.name> <curveType>A03</curveType>
      <Period><timeInterval><start>2026-03-28T23:00Z</start><end>2026-03-29T22:00Z</end></timeInterval>
        <resolution>PT15M</resolution> <Point><position>1</position><price.amount>96.5</price.amount></Point> ...

Positions count periods of `resolution` (PT15M or PT60M) from the interval's start. With
curve type A03 (variable sized blocks) a position that is left out has the price of the
point before it, so missing points are filled forward up to the interval's end. Where a
document has the same time at two resolutions the finer one wins. "No matching data" (an
Acknowledgement document with reason 999) means nothing published yet.
"""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated

from zaspot.core.http_client import HttpClient
from zaspot.pricing.slot import PriceSlot
from zaspot.pricing.sources.market import check_url, day_bounds, today_and_tomorrow, with_query
from zaspot.ranges import Range

ENTSOE_URL = "https://web-api.tp.entsoe.eu/api"
# Bidding zones by their short name; an EIC code (16 characters) is taken as it is.
ZONES = {
    "CZ": "10YCZ-CEPS-----N", "SK": "10YSK-SEPS-----K", "AT": "10YAT-APG------L", "DE-LU": "10Y1001A1001A82H",
    "PL": "10YPL-AREA-----S", "HU": "10YHU-MAVIR----U", "SI": "10YSI-ELES-----O", "NL": "10YNL----------L",
    "BE": "10YBE----------2", "FR": "10YFR-RTE------C", "CH": "10YCH-SWISSGRIDZ",
}
_RESOLUTIONS = {"PT15M": 900.0, "PT30M": 1800.0, "PT60M": 3600.0}
_DIVISOR = {"MWH": 1000.0, "KWH": 1.0}


@dataclass
class EntsoeConfig:
    token: str
    zone: str = "CZ"  # a name above or an EIC code
    url: str = ENTSOE_URL
    timeout: Annotated[float, Range(1, 300)] = 30.0


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(element: ET.Element, name: str) -> ET.Element | None:
    return next((c for c in element if _local(c.tag) == name), None)


def _text(element: ET.Element, path: str) -> str:
    for name in path.split("/"):
        found = _child(element, name)
        if found is None:
            raise ValueError(f"ENTSO-E document without {path}")
        element = found
    return (element.text or "").strip()


def _time(text: str) -> float:
    return datetime.strptime(text, "%Y-%m-%dT%H:%MZ").replace(tzinfo=UTC).timestamp()


def _period(period: ET.Element, unit: str, divisor: float, fill_forward: bool) -> list[PriceSlot]:
    start, end = _time(_text(period, "timeInterval/start")), _time(_text(period, "timeInterval/end"))
    resolution = _text(period, "resolution")
    step = _RESOLUTIONS.get(resolution)
    if step is None:
        raise ValueError(f"ENTSO-E resolution {resolution} is not one of {', '.join(_RESOLUTIONS)}")
    prices = {int(_text(p, "position")): float(_text(p, "price.amount")) for p in period if _local(p.tag) == "Point"}
    count, out, price = round((end - start) / step), [], None
    for position in range(1, count + 1):
        price = prices.get(position, price if fill_forward else None)
        if price is not None:
            begins = start + (position - 1) * step
            out.append(PriceSlot(begins, begins + step, round(price / divisor, 6), unit))
    return out


def parse(text: str | bytes) -> list[PriceSlot]:
    root = ET.fromstring(text)
    kind = _local(root.tag)
    if kind == "Acknowledgement_MarketDocument":
        reason = next((r for r in root.iter() if _local(r.tag) == "Reason"), None)
        code = _text(reason, "code") if reason is not None else ""
        if code == "999":  # no matching data: not published (yet)
            return []
        why = _text(reason, "text") if reason is not None else "no reason given"
        raise ValueError(f"ENTSO-E refused the request: {why}")
    if kind != "Publication_MarketDocument":
        raise ValueError(f"not an ENTSO-E price document ({kind})")
    by_resolution: dict[float, list[PriceSlot]] = {}
    for series in (c for c in root if _local(c.tag) == "TimeSeries"):
        currency = _text(series, "currency_Unit.name").upper()
        measure = _text(series, "price_Measure_Unit.name").upper()
        if measure not in _DIVISOR:
            raise ValueError(f"ENTSO-E prices per {measure}, not per MWh")
        curve = _child(series, "curveType")
        fill = curve is None or (curve.text or "").strip() == "A03"
        for period in (c for c in series if _local(c.tag) == "Period"):
            for slot in _period(period, f"{currency}/kWh", _DIVISOR[measure], fill):
                by_resolution.setdefault(slot.end - slot.start, []).append(slot)
    return _finest(by_resolution)


def _finest(by_resolution: dict[float, list[PriceSlot]]) -> list[PriceSlot]:
    """Every slot of the finest resolution, then coarser ones only where no finer one is."""
    kept: list[PriceSlot] = []
    for step in sorted(by_resolution):
        for slot in by_resolution[step]:
            if not any(k.start < slot.end and slot.start < k.end for k in kept):
                kept.append(slot)
    return sorted(kept, key=lambda s: s.start)


class EntsoePrices:
    def __init__(self, config: EntsoeConfig) -> None:
        check_url(config.url)
        if not config.token.strip():
            raise ValueError("token is empty (ENTSO-E: My Account Settings -> Web API Security Token)")
        self.config = config
        self.area = config.zone
        self.domain = ZONES.get(config.zone.upper(), config.zone)
        if len(self.domain) != 16:
            raise ValueError(f"zone {config.zone!r} is neither one of {', '.join(ZONES)} nor a 16-character EIC code")
        self.name = f"entsoe:{config.zone}"
        self.clock = time.time  # which day is today (tests set it)
        self.http = HttpClient(config.timeout)

    async def prices(self) -> list[PriceSlot]:
        today, tomorrow = today_and_tomorrow(self.clock())
        start, end = day_bounds(today)[0], day_bounds(tomorrow)[1]
        url = with_query(self.config.url, securityToken=self.config.token, documentType="A44",
                         in_Domain=self.domain, out_Domain=self.domain,
                         periodStart=_utc(start), periodEnd=_utc(end))
        return parse((await self.http.get(url, accept="application/xml")).text())

    async def close(self) -> None:
        await self.http.aclose()


def _utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y%m%d%H%M")
