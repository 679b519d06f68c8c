"""`platform: file`: prices from a CSV or JSON file (read again when it changes).

CSV: a header `start,price` (optionally `end`), start as ISO 8601 (`2024-05-01T13:00:00+02:00`)
or epoch seconds, price per kWh. JSON: a list of `{"start": ..., "end": ..., "price": ...}`.
A slot without `end` lasts until the next one starts (the last one: an hour). Prices are
in `unit`; without one, in `pricing.currency` (EUR without a `pricing:` section).
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from zaspot.pricing.slot import PriceSlot


@dataclass
class FileConfig:
    path: str
    unit: str = ""  # "" = per kWh in pricing.currency; "EUR/kWh" is converted to it


def _time(value: Any) -> float:
    if isinstance(value, (int, float)) or (isinstance(value, str) and value.replace(".", "", 1).isdigit()):
        return float(value)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()


def parse(text: str, suffix: str, unit: str = "EUR/kWh") -> list[PriceSlot]:
    rows = json.loads(text) if suffix == ".json" else list(csv.DictReader(io.StringIO(text)))
    starts = [(_time(r["start"]), r) for r in rows]
    starts.sort(key=lambda item: item[0])
    out = []
    for i, (start, row) in enumerate(starts):
        end = _time(row["end"]) if row.get("end") not in (None, "") else (
            starts[i + 1][0] if i + 1 < len(starts) else start + 3600)
        out.append(PriceSlot(start, end, float(row["price"]), unit))
    return out


class FilePrices:
    def __init__(self, config: FileConfig) -> None:
        self.config = config
        self.path = Path(config.path).expanduser()
        self.name = "file"
        self._cache: tuple[float, list[PriceSlot]] | None = None

    async def prices(self) -> list[PriceSlot]:
        mtime = self.path.stat().st_mtime
        if self._cache is None or self._cache[0] != mtime:
            slots = parse(self.path.read_text(encoding="utf-8"), self.path.suffix.lower(), self.config.unit)
            self._cache = (mtime, slots)
        return self._cache[1]
