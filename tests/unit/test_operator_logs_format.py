"""The log's two shapes: a text line and a JSON line carry the same station facts."""

from __future__ import annotations

import io
import logging

import orjson
import pytest

from zaspot.core.logformat import JsonFormatter, about, host_of, printable, setup, where


@pytest.fixture(autouse=True)
def _root_logger_restored():
    """setup() owns the root logger (as `zaspot run` does); give pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_a_station_line_is_one_json_object_with_the_station_fields() -> None:
    stream = io.StringIO()
    setup("info", "json", stream)
    log = logging.getLogger("zaspot.test")
    log.info("%s connected (%s)", "CP-1", where("1.6", "10.0.0.5:51234"), extra=about("CP-1", "1.6", "10.0.0.5:51234"))
    log.debug("not at info level")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("%s: handling %s failed", "CP-2", "Heartbeat", extra=about("CP-2"))
    logging.getLogger("zaspot.ocpp.websockets").info("connection open")  # websockets' own: kept out
    first, second = [orjson.loads(line) for line in stream.getvalue().splitlines()]
    assert first["message"] == "CP-1 connected (1.6, 10.0.0.5)"
    assert (first["level"], first["logger"]) == ("INFO", "zaspot.test")
    assert (first["station_id"], first["version"], first["remote"]) == ("CP-1", "1.6", "10.0.0.5")
    assert first["ts"].endswith("+00:00")
    assert second["station_id"] == "CP-2" and "version" not in second
    assert "ValueError: boom" in second["exc"]


def test_text_lines_keep_the_usual_shape() -> None:
    record = logging.LogRecord("zaspot.ocpp.station", logging.INFO, __file__, 1, "%s connected", ("CP-1",), None)
    assert JsonFormatter().format(record).startswith('{"ts":')
    stream = io.StringIO()
    setup("info", "text", stream)
    logging.getLogger("zaspot.ocpp.station").info("CP-1 connected (1.6, 10.0.0.5)", extra=about("CP-1"))
    assert stream.getvalue().rstrip().endswith("INFO zaspot.ocpp.station: CP-1 connected (1.6, 10.0.0.5)")


def test_addresses_and_what_stations_send_are_made_fit_for_one_line() -> None:
    assert host_of("10.0.0.5:51234") == "10.0.0.5"
    assert host_of("::1:51234") == "::1"
    assert host_of("10.0.0.5") == "10.0.0.5" and host_of("") == ""
    assert where("2.0.1", "10.0.0.5:1") == "2.0.1, 10.0.0.5" and where("1.6", "") == "1.6"
    assert printable("Acme\nERROR forged line") == "Acme?ERROR forged line"
    assert len(printable("x" * 500)) == 120
