"""Store: ports, outages and exclusions (zaspot.health.outages, exclusions; #19 part 1)."""

from __future__ import annotations

from typing import Any


class HealthOutageStore:
    _writer: Any

    async def _query(self, sql: str, params: tuple = ()) -> list[dict[str, Any]]:  # from Reads
        raise NotImplementedError
