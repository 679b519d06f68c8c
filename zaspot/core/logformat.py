"""The server's log: plain text lines or JSON lines, and what a line about a station carries.

A line about one station names it first, with its OCPP version and address:

    CP-1 connected (1.6, 10.0.0.5)

and passes the same facts as `extra=about(...)`, so the JSON lines
(`log_format: json`, `zaspot run --log-format json`) carry them as fields:

    {"ts": "2026-05-04T10:00:00.123+00:00", "level": "INFO", "logger": "zaspot.ocpp.station",
     "message": "CP-1 connected (1.6, 10.0.0.5)", "station_id": "CP-1", "version": "1.6",
     "remote": "10.0.0.5"}
"""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import IO, Any

import orjson

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
STATION_FIELDS = ("station_id", "version", "remote")
# websockets' own lines ("connection open", "connection rejected (401 …)") name no station;
# the server logs each connection and refusal itself. Its warnings and errors still pass.
WEBSOCKETS_LOGGER = "zaspot.ocpp.websockets"


def host_of(remote: str | None) -> str:
    """"10.0.0.5" of "10.0.0.5:51234" (and "::1" of "::1:51234"); a bare host stays as it is."""
    if not remote:
        return ""
    host, sep, port = remote.rpartition(":")
    return host if sep and port.isdigit() and host else remote


def printable(text: str, limit: int = 120) -> str:
    """What a station sent (a model, a close reason), safe for one log line: no control
    characters (a newline would forge a line), at most `limit` characters."""
    text = text if text.isprintable() else "".join(c if c.isprintable() else "?" for c in text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def about(station_id: str, version: str | None = None, remote: str | None = None) -> dict[str, Any]:
    """The `extra=` of a log line about one station (its fields in JSON lines)."""
    out: dict[str, Any] = {"station_id": station_id}
    if version:
        out["version"] = version
    if remote:
        out["remote"] = host_of(remote)
    return out


def where(version: str | None, remote: str | None) -> str:
    """"1.6, 10.0.0.5": what follows a station's id in parentheses."""
    return ", ".join(part for part in (version, host_of(remote)) if part)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, message, the station's fields when the
    line is about one, and the traceback (`exc`) when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in STATION_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                out[name] = value
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        elif record.stack_info:
            out["exc"] = self.formatStack(record.stack_info)
        return orjson.dumps(out, default=str).decode()


def setup(level: str = "info", fmt: str = "text", stream: IO[str] | None = None) -> None:
    """The process's logging: one handler on the root logger, text or JSON lines."""
    if fmt not in ("text", "json"):
        raise ValueError(f"log format: expected text or json, got {fmt!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(getattr(logging, level.upper()))
    quiet_websockets()


def quiet_websockets() -> None:
    logging.getLogger(WEBSOCKETS_LOGGER).setLevel(logging.WARNING)
