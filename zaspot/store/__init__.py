"""SQLite persistence: `store = await Store.open(path)` (see docs/INTERNALS.md)."""

from .store import Store
from .writer import WriterStats

__all__ = ["Store", "WriterStats"]
