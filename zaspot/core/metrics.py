"""Counters the server keeps for /metrics and the bench. Plain dict increments: hot path.

Nothing of prometheus_client runs per message: zaspot.core.metrics_page turns these into
its metric families when /metrics is scraped."""

from __future__ import annotations

import logging
from bisect import bisect_left
from collections import Counter
from collections.abc import Callable, Mapping

_LOGGER = logging.getLogger(__name__)
KINDS = ("gauge", "counter")

# Seconds from a CALL's arrival to its answer being sent (store commit included).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)


class Histogram:
    __slots__ = ("count", "counts", "total")

    def __init__(self) -> None:
        self.counts = [0] * (len(LATENCY_BUCKETS) + 1)
        self.total = 0.0
        self.count = 0

    def observe(self, seconds: float) -> None:
        self.counts[bisect_left(LATENCY_BUCKETS, seconds)] += 1
        self.total += seconds
        self.count += 1


class Metrics:
    def __init__(self) -> None:
        self.messages_in: Counter[tuple[str, str]] = Counter()
        self.messages_out: Counter[tuple[str, str]] = Counter()
        self.call_errors: Counter[tuple[str, str]] = Counter()
        self.latency: dict[tuple[str, str], Histogram] = {}
        self.frame_errors = 0
        self.schema_deviations = 0  # mended for lenient stations
        self.connections_total = 0
        self.handshakes_refused: Counter[str] = Counter()
        # Other parts publish a current value here (alarms open, rule runs, …):
        # name -> (help text, type "gauge"|"counter", read function).
        self.published: dict[str, tuple[str, str, Callable[[], float]]] = {}
        # The same with one label (a value per station, …): name -> (help, type, label, read);
        # read() gives {label value: number}, a None number is left out.
        self.labelled: dict[str, tuple[str, str, str, Callable[[], Mapping[str, float | None]]]] = {}
        # Reads that failed at a scrape, by metric name (the metric was left out of that page).
        self.read_errors: Counter[str] = Counter()
        self._failures_logged: set[str] = set()

    def count_in(self, version: str, action: str) -> None:
        self.messages_in[version, action] += 1

    def count_out(self, version: str, action: str) -> None:
        self.messages_out[version, action] += 1

    def count_error(self, version: str, code: str) -> None:
        self.call_errors[version, code] += 1

    def observe(self, version: str, action: str, seconds: float) -> None:
        histogram = self.latency.get((version, action))
        if histogram is None:
            histogram = self.latency[version, action] = Histogram()
        histogram.observe(seconds)

    def publish(self, name: str, help_text: str, read: Callable[[], float], kind: str = "gauge") -> Callable[[], None]:
        """Expose a value on /metrics; returns the function that withdraws it."""
        _check(name, kind)
        self.published[name] = (help_text, kind, read)
        return lambda: self.published.pop(name, None) and None

    def publish_labelled(self, name: str, help_text: str, label: str, read: Callable[[], Mapping[str, float | None]],
                         kind: str = "gauge") -> Callable[[], None]:
        """Expose one value per label value (`name{label="…"} value`); returns the function that withdraws it."""
        _check(name, kind)
        self.labelled[name] = (help_text, kind, label, read)
        return lambda: self.labelled.pop(name, None) and None

    def read_failed(self, name: str, error: BaseException) -> None:
        """A metric's read failed at a scrape: counted each time, logged once per name (not every scrape)."""
        self.read_errors[name] += 1
        if name not in self._failures_logged:
            self._failures_logged.add(name)
            _LOGGER.warning("/metrics leaves out %s: reading it failed (%s: %s); counted in "
                            "zaspot_metrics_errors_total, logged only this once", name, type(error).__name__, error,
                            exc_info=error)


def _check(name: str, kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"metric {name}: type {kind!r} is not one of {', '.join(KINDS)}")
    if kind == "counter" and not name.endswith("_total"):  # prometheus_client would rename it name_total
        raise ValueError(f"metric {name}: a counter's name ends in _total")
