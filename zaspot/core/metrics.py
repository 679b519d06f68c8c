"""Counters the server keeps for /metrics and the bench. Plain dict increments: hot path."""

from __future__ import annotations

from collections import Counter


class Metrics:
    def __init__(self) -> None:
        self.messages_in: Counter[tuple[str, str]] = Counter()
        self.messages_out: Counter[tuple[str, str]] = Counter()
        self.call_errors: Counter[tuple[str, str]] = Counter()
        self.frame_errors = 0
        self.connections_total = 0
        self.handshakes_refused: Counter[str] = Counter()

    def count_in(self, version: str, action: str) -> None:
        self.messages_in[version, action] += 1

    def count_out(self, version: str, action: str) -> None:
        self.messages_out[version, action] += 1

    def count_error(self, version: str, code: str) -> None:
        self.call_errors[version, code] += 1
