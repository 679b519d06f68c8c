"""De-duplication and rate limiting, so a flapping fault cannot send hundreds of messages.

Pure and clock-injected: the manager asks `admit()` once per notification.
- duplicate: the same target, title and message within `dedupe_window` seconds;
- rate limited: more than `rate_limit` notifications with one key (a rule passes its own
  key; the default is the message) within `rate_window` seconds.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from zaspot.config import NotifyPolicy
from zaspot.notify.base import Notification

ADMITTED, DUPLICATE, RATE_LIMITED = "queued", "duplicate", "rate_limited"
_PRUNE_AT = 1024  # keys kept before old ones are swept


class NotifyGate:
    def __init__(self, policy: NotifyPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.clock = clock
        self._last_sent: dict[tuple[object, ...], float] = {}
        self._recent: dict[str, deque[float]] = {}
        self.counts = {ADMITTED: 0, DUPLICATE: 0, RATE_LIMITED: 0}

    def admit(self, n: Notification) -> str:
        now = self.clock()
        verdict = self._verdict(n, now)
        self.counts[verdict] += 1
        return verdict

    def _verdict(self, n: Notification, now: float) -> str:
        p = self.policy
        same = (n.target, n.title, n.message)
        last = self._last_sent.get(same)
        if last is not None and now - last < p.dedupe_window:
            return DUPLICATE
        recent = self._recent.setdefault(n.group, deque())
        while recent and now - recent[0] >= p.rate_window:
            recent.popleft()
        if p.rate_limit and len(recent) >= p.rate_limit:
            return RATE_LIMITED
        recent.append(now)
        self._last_sent[same] = now
        if len(self._last_sent) > _PRUNE_AT or len(self._recent) > _PRUNE_AT:
            self._prune(now)
        return ADMITTED

    def _prune(self, now: float) -> None:
        p = self.policy
        self._last_sent = {k: t for k, t in self._last_sent.items() if now - t < p.dedupe_window}
        self._recent = {k: q for k, q in self._recent.items() if q and now - q[-1] < p.rate_window}
