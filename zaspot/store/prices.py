"""Store table of spot prices (zaspot.pricing.feed): every period a source gave, per kWh in
the feed's currency, kept so a restart without network still has today's and tomorrow's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .writer import Writer

_SAVE = """INSERT INTO spot_prices (source, start, end, price, unit, fetched_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (source, start) DO UPDATE SET end = excluded.end, price = excluded.price, unit = excluded.unit,
    fetched_at = excluded.fetched_at"""


class PriceStore:
    _writer: Writer

    async def _query(self, sql: str, params: tuple[Any, ...] = ()) -> list[dict[str, Any]]:  # from Reads
        raise NotImplementedError

    async def save_spot_prices(self, source: str, slots: list[dict[str, Any]], fetched_at: float) -> None:
        """Periods as `{start, end, price, unit}`; a period given again replaces the one kept."""
        await self._writer.submit(_SAVE, [(source, s["start"], s["end"], s["price"], s["unit"], fetched_at)
                                          for s in slots])

    async def spot_prices(self, source: str, since: float, until: float | None = None) -> list[dict[str, Any]]:
        """The periods of `source` ending after `since` (and starting before `until`), oldest first."""
        sql = "SELECT start, end, price, unit, fetched_at FROM spot_prices WHERE source = ? AND end > ?"
        params: tuple[Any, ...] = (source, since)
        if until is not None:
            sql, params = sql + " AND start < ?", (*params, until)
        return await self._query(sql + " ORDER BY start", params)
