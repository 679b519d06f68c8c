"""Where a writer op's outcome goes: a future the caller awaits, or a `Then` that hands
it to a function on the loop (store/writer.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from .batch import Outcome

_LOGGER = logging.getLogger("zaspot.store.writer")

Done = Callable[[Any, BaseException | None], None]  # (result, None) or (None, the error)


class Then:
    """An op's outcome handed to `fn(result, error)` when its batch is resolved, on the
    loop, in queue order: a future's place in an op, with nobody awaiting it."""

    __slots__ = ("_done", "fn")

    def __init__(self, fn: Done) -> None:
        self.fn = fn
        self._done = False

    def done(self) -> bool:
        return self._done

    def set_result(self, result: Any) -> None:
        self._call(result, None)

    def set_exception(self, error: BaseException) -> None:
        self._call(None, error)

    def _call(self, result: Any, error: BaseException | None) -> None:
        self._done = True
        try:
            self.fn(result, error)
        except Exception:  # its own bug: the other ops of the batch still hear of theirs
            _LOGGER.exception("a write's follow-up failed")


def settle(future: Outcome, result: Any, error: BaseException | None) -> None:
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)
