"""SQLite persistence: `store = await Store.open(path)` (see docs/INTERNALS.md)."""

from .batch import WriterStats
from .store import Store

__all__ = ["Store", "WriterStats"]
