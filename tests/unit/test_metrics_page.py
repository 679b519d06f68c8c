"""The /metrics page as prometheus_client renders it from zaspot's Metrics (zaspot/core/metrics_page.py),
read back with Prometheus' own parser: label values and help texts with quotes, backslashes and
newlines come back exactly; a metric whose read fails is left out of that scrape, counted in
zaspot_metrics_errors_total and logged once, and the rest of the page is whole."""

from __future__ import annotations

import logging
import re

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from zaspot.core.metrics import Metrics
from zaspot.core.metrics_page import render

ODD = ['CP "7"', "back\\slash", "two\nlines", 'all "of\\ them\n"', "\\n not a newline", "Ústí ⚡"]
SERVER = {"zaspot_stations_connected": ("Stations with an open OCPP connection.", "gauge", lambda: 2)}


def scrape(metrics: Metrics) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Every sample on the page: family -> {sorted labels (with the sample name): value}."""
    body, content_type = render(metrics, SERVER)
    assert content_type == CONTENT_TYPE_LATEST
    return {family.name: {(("__name__", s.name), *sorted(s.labels.items())): s.value for s in family.samples}
            for family in text_string_to_metric_families(body.decode())}


def busy_metrics() -> Metrics:
    m = Metrics()
    m.connections_total = 3
    m.count_in("1.6", "BootNotification")
    m.count_in("2.0.1", "Heartbeat")
    m.count_out("2.0.1", "Reset")
    m.count_error("1.6", "NotImplemented")
    m.observe("1.6", "BootNotification", 0.003)
    m.handshakes_refused["wrong_password"] += 2
    m.publish("zaspot_rules_loaded", "Rules running.", lambda: 7)
    m.publish("zaspot_rule_runs_total", "Rule runs whose actions ran.", lambda: 5, "counter")
    m.publish_labelled("zaspot_station_open_alarms", "Alarms open on each station now.", "station",
                       lambda: {"CP-1": 1, "CP-2": 0, "CP-3": None})
    return m


def test_label_values_with_quotes_backslashes_and_newlines_parse_back_exactly():
    m = Metrics()
    for action in ODD:
        m.count_in("1.6", action)
        m.observe("2.0.1", action, 0.02)
    m.publish_labelled("zaspot_station_uptime_ratio", 'Share "up" \\ of the\nlast 30 days.', "station",
                       lambda: {station: i / 10 for i, station in enumerate(ODD)})
    body = render(m, {})[0].decode()
    families = {f.name: f for f in text_string_to_metric_families(body)}

    assert {s.labels["action"] for s in families["zaspot_messages_in"].samples} == set(ODD)
    uptime = families["zaspot_station_uptime_ratio"]
    assert {s.labels["station"]: s.value for s in uptime.samples} == {st: i / 10 for i, st in enumerate(ODD)}
    assert uptime.documentation == 'Share "up" \\ of the\nlast 30 days.'
    counts = {s.labels["action"]: s.value for s in families["zaspot_call_duration_seconds"].samples
              if s.name == "zaspot_call_duration_seconds_count"}
    assert counts == dict.fromkeys(ODD, 1)
    assert len(body.splitlines()) == sum(1 + len(f.samples) + 1 for f in families.values())  # no line broken


def test_every_metric_keeps_its_name_type_and_labels():
    page = scrape(busy_metrics())
    types = {f.name: f.type for f in text_string_to_metric_families(render(busy_metrics(), SERVER)[0].decode())}
    assert types == {
        "zaspot_stations_connected": "gauge", "zaspot_connections": "counter", "zaspot_frame_errors": "counter",
        "zaspot_schema_deviations": "counter", "zaspot_messages_in": "counter", "zaspot_messages_out": "counter",
        "zaspot_call_errors": "counter", "zaspot_call_duration_seconds": "histogram", "zaspot_rules_loaded": "gauge",
        "zaspot_rule_runs": "counter", "zaspot_station_open_alarms": "gauge", "zaspot_handshakes_refused": "counter",
        "zaspot_metrics_errors": "counter",
    }
    assert page["zaspot_stations_connected"] == {(("__name__", "zaspot_stations_connected"),): 2}
    assert page["zaspot_messages_in"] == {
        (("__name__", "zaspot_messages_in_total"), ("action", "BootNotification"), ("version", "1.6")): 1,
        (("__name__", "zaspot_messages_in_total"), ("action", "Heartbeat"), ("version", "2.0.1")): 1,
    }
    assert page["zaspot_call_errors"] == {
        (("__name__", "zaspot_call_errors_total"), ("code", "NotImplemented"), ("version", "1.6")): 1}
    assert page["zaspot_rule_runs"] == {(("__name__", "zaspot_rule_runs_total"),): 5}
    assert page["zaspot_station_open_alarms"] == {  # CP-3 has no figure: left out
        (("__name__", "zaspot_station_open_alarms"), ("station", "CP-1")): 1,
        (("__name__", "zaspot_station_open_alarms"), ("station", "CP-2")): 0,
    }
    buckets = {dict(k)["le"]: v for k, v in page["zaspot_call_duration_seconds"].items()
               if dict(k)["__name__"].endswith("_bucket")}
    assert (buckets["0.0025"], buckets["0.005"], buckets["+Inf"]) == (0, 1, 1)
    refused = {dict(k)["reason"]: v for k, v in page["zaspot_handshakes_refused"].items()}
    assert refused["wrong_password"] == 2 and refused["backoff"] == 0  # every reason, 0 too
    assert page["zaspot_metrics_errors"] == {}


def test_a_gauge_that_fails_is_left_out_counted_and_logged_once(caplog):
    whole = scrape(busy_metrics())
    m = busy_metrics()

    def broken() -> float:
        raise RuntimeError("plugin's backend is down")

    m.publish("zaspot_plugin_queue", "A plugin's queue length.", broken)
    m.publish("zaspot_plugin_nothing", "A read that gives no number.", lambda: None)  # not a number
    m.publish_labelled("zaspot_plugin_per_station", "A plugin's per-station figure.", "station",
                       lambda: {"CP-1": 1, "CP-2": "lots"})  # one value not a number
    m.publish_labelled("zaspot_plugin_lookup", "A per-station read that raises.", "station", lambda: {}["nope"])
    m.publish("zaspot_stations_connected", "A plugin's second copy of a built-in.", lambda: 99)  # once on a page
    failing = ("zaspot_plugin_lookup", "zaspot_plugin_nothing", "zaspot_plugin_per_station", "zaspot_plugin_queue",
               "zaspot_stations_connected")

    with caplog.at_level(logging.WARNING, logger="zaspot.core.metrics"):
        for scrapes in (1, 2, 3):
            page = scrape(m)
            errors = page.pop("zaspot_metrics_errors")
            assert errors == {(("__name__", "zaspot_metrics_errors_total"), ("metric", name)): scrapes
                              for name in failing}
            assert page == {name: samples for name, samples in whole.items() if name != "zaspot_metrics_errors"}
    logged = [re.match(r"/metrics leaves out (\w+):", r.getMessage()) for r in caplog.records]
    assert sorted(match[1] for match in logged if match) == list(failing)  # once each, not once per scrape
    assert "plugin's backend is down" in caplog.text


def test_a_gauge_that_recovers_is_back_on_the_next_scrape():
    m = Metrics()
    readings = iter([ZeroDivisionError, 4.0])

    def flaky() -> float:
        value = next(readings)
        if isinstance(value, type):
            raise value("flaky")
        return value

    m.publish("zaspot_plugin_flaky", "Sometimes there.", flaky)
    assert "zaspot_plugin_flaky" not in scrape(m)
    assert scrape(m)["zaspot_plugin_flaky"] == {(("__name__", "zaspot_plugin_flaky"),): 4.0}


def test_publish_refuses_what_the_page_could_not_show_as_named():
    m = Metrics()
    with pytest.raises(ValueError, match="a counter's name ends in _total"):
        m.publish("zaspot_plugin_runs", "Runs.", lambda: 1, "counter")  # prometheus_client would rename it
    with pytest.raises(ValueError, match="type 'summary' is not one of gauge, counter"):
        m.publish_labelled("zaspot_plugin_x", "X.", "station", dict, "summary")
    assert m.published == {} and m.labelled == {}


def test_withdrawn_metrics_leave_the_page():
    m = Metrics()
    withdraw = m.publish("zaspot_plugin_queue", "Queue.", lambda: 1)
    withdraw_labelled = m.publish_labelled("zaspot_plugin_by_station", "By station.", "station", lambda: {"A": 1})
    assert {"zaspot_plugin_queue", "zaspot_plugin_by_station"} <= scrape(m).keys()
    withdraw()
    withdraw_labelled()
    assert not {"zaspot_plugin_queue", "zaspot_plugin_by_station"} & scrape(m).keys()


async def test_the_page_is_written_off_the_loop_from_values_read_on_it(monkeypatch):
    """With thousands of stations' gauges, writing the page takes tens of ms: a thread writes
    it, from values read on the loop before any of them can change."""
    import threading

    from zaspot.core import metrics_page

    metrics = busy_metrics()
    seen: list[str] = []
    write = metrics_page.generate_latest

    def spying(registry):
        seen.append(threading.current_thread().name)
        return write(registry)

    monkeypatch.setattr(metrics_page, "generate_latest", spying)
    reads: list[str] = []
    server = {"zaspot_stations_connected": ("Stations.", "gauge",
                                            lambda: reads.append(threading.current_thread().name) or 7)}
    body, content_type = await metrics_page.render_off_loop(metrics, server)
    assert (body, content_type) == render(metrics, server)
    assert reads[0] == threading.main_thread().name and seen[0] != threading.main_thread().name
    assert b"zaspot_stations_connected 7.0" in body
