"""The /metrics page, rendered by prometheus_client from zaspot's own counters.

Kept apart from zaspot.core.metrics so the hot path and the shell commands never import
prometheus_client. Each scrape builds a registry of zaspot's own (not the global one) with
one collector that reads Metrics as it is at that moment, on the event loop that also
increments it, so no lock is needed. A metric whose read fails (a plugin's gauge that
raises, a value that is not a number, a name already on the page) is left out of that
scrape and counted in zaspot_metrics_errors_total{metric="…"}; the rest of the page renders.

    body, content_type = render(metrics, {"zaspot_stations_connected": (help, "gauge", read)})
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping, Sequence
from functools import partial
from itertools import accumulate

from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from zaspot.core.connection_events import REFUSAL_REASONS
from zaspot.core.metrics import LATENCY_BUCKETS, Histogram, Metrics

# name -> (help text, "gauge" | "counter", read function): one value, no labels.
Readings = Mapping[str, tuple[str, str, Callable[[], float]]]

LATENCY = "zaspot_call_duration_seconds"
ERRORS = "zaspot_metrics_errors_total"
_BOUNDS = (*(str(bound) for bound in LATENCY_BUCKETS), "+Inf")


def render(metrics: Metrics, server: Readings) -> tuple[bytes, str]:
    """The page and its content type; `server` are values the context holds (stations connected, …)."""
    return page(list(MetricsCollector(metrics, server).collect()))


async def render_off_loop(metrics: Metrics, server: Readings) -> tuple[bytes, str]:
    """render(), with the values read on the loop (where they change) and the text written in
    a thread: with thousands of stations' gauges the writing takes tens of ms."""
    return await asyncio.to_thread(page, list(MetricsCollector(metrics, server).collect()))


def page(families: list[Metric]) -> tuple[bytes, str]:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Read(families))
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Read(Collector):
    """Families read already: the page is written from them, whatever changes meanwhile."""

    def __init__(self, families: list[Metric]) -> None:
        self.families = families

    def collect(self) -> Iterator[Metric]:
        return iter(self.families)


class MetricsCollector(Collector):
    def __init__(self, metrics: Metrics, server: Readings) -> None:
        self.metrics = metrics
        self.server = server

    def collect(self) -> Iterator[Metric]:
        on_page: set[str] = set()
        for name, build in self._families():
            family = self._read(name, build, on_page)
            if family is not None:
                yield family
        yield self._errors()  # last: it counts this scrape's failures too

    def _families(self) -> Iterator[tuple[str, Callable[[], Metric]]]:
        m = self.metrics
        for name, (help_text, kind, read) in (*self.server.items(), *_own(m).items()):
            yield name, partial(_single, name, help_text, kind, read)
        for name, help_text, label, counts in (
            ("zaspot_messages_in_total", "CALLs received from stations.", "action", m.messages_in),
            ("zaspot_messages_out_total", "CALLs sent to stations.", "action", m.messages_out),
            ("zaspot_call_errors_total", "CALLERRORs sent to stations.", "code", m.call_errors),
        ):
            yield name, partial(_by_version, name, help_text, label, counts)
        yield LATENCY, partial(_latency, m.latency)
        for name, (help_text, kind, read) in sorted(m.published.items()):
            yield name, partial(_single, name, help_text, kind, read)
        for name, (help_text, kind, label, read_all) in sorted(m.labelled.items()):
            yield name, partial(_by_label, name, help_text, kind, label, read_all)
        yield "zaspot_handshakes_refused_total", partial(_refused, m.handshakes_refused)

    def _read(self, name: str, build: Callable[[], Metric], on_page: set[str]) -> Metric | None:
        try:
            family = build()
            if family.name in on_page:
                raise ValueError(f"{name} is on the page already")
        except Exception as error:  # noqa: BLE001 (any failure of one metric's read; logged once in read_failed)
            self.metrics.read_failed(name, error)
            return None
        on_page.add(family.name)
        return family

    def _errors(self) -> Metric:
        family = CounterMetricFamily(ERRORS, "Reads of a metric that failed; it was left out of that scrape.",
                                     labels=["metric"])
        for name, count in sorted(self.metrics.read_errors.items()):
            family.add_metric([name], count)
        return family


def _own(m: Metrics) -> dict[str, tuple[str, str, Callable[[], float]]]:
    return {
        "zaspot_connections_total": ("OCPP connections accepted since start.", "counter",
                                     lambda: m.connections_total),
        "zaspot_frame_errors_total": ("Frames that could not be parsed as OCPP-J.", "counter",
                                      lambda: m.frame_errors),
        "zaspot_schema_deviations_total": ("Schema breaks mended for lenient stations.", "counter",
                                           lambda: m.schema_deviations),
    }


def _family(name: str, help_text: str, kind: str, labels: Sequence[str]) -> GaugeMetricFamily | CounterMetricFamily:
    if kind == "gauge":
        return GaugeMetricFamily(name, help_text, labels=labels)
    if kind == "counter" and name.endswith("_total"):  # else prometheus_client would rename it name_total
        return CounterMetricFamily(name, help_text, labels=labels)
    raise ValueError(f"{name}: not a gauge, nor a counter named …_total ({kind!r})")


def _single(name: str, help_text: str, kind: str, read: Callable[[], float]) -> Metric:
    family = _family(name, help_text, kind, ())
    family.add_metric([], float(read()))
    return family


def _by_label(name: str, help_text: str, kind: str, label: str,
              read_all: Callable[[], Mapping[str, float | None]]) -> Metric:
    family = _family(name, help_text, kind, (label,))
    for key, value in sorted(read_all().items()):
        if value is not None:  # no figure for this one (yet)
            family.add_metric([str(key)], float(value))
    return family


def _by_version(name: str, help_text: str, label: str, counts: Mapping[tuple[str, str], int]) -> Metric:
    family = CounterMetricFamily(name, help_text, labels=("version", label))
    for (version, key), count in sorted(counts.items()):
        family.add_metric([version, key], count)
    return family


def _latency(latency: Mapping[tuple[str, str], Histogram]) -> Metric:
    family = HistogramMetricFamily(LATENCY, "Time from a station's CALL to our answer, store commit included.",
                                   labels=("version", "action"))
    for (version, action), histogram in sorted(latency.items()):
        family.add_metric([version, action], list(zip(_BOUNDS, accumulate(histogram.counts))), histogram.total)
    return family


def _refused(refused: Mapping[str, int]) -> Metric:
    family = CounterMetricFamily("zaspot_handshakes_refused_total", "Refused WebSocket handshakes by reason.",
                                 labels=("reason",))
    for reason, count in sorted({**dict.fromkeys(REFUSAL_REASONS, 0), **refused}.items()):  # every reason, 0 too
        family.add_metric([reason], count)
    return family
