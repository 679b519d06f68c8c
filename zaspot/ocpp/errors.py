"""Errors of the OCPP layer: what a handler raises, and what a command can end in."""

from __future__ import annotations

from typing import Any


class OcppError(Exception):
    """Raised by a handler: becomes a CALLERROR with this (version-neutral) code."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description


class CommandError(Exception):
    """A command to a station did not succeed. `reason` is a short machine name."""

    reason = "error"


class StationNotConnected(CommandError):
    reason = "not_connected"

    def __init__(self, station_id: str) -> None:
        super().__init__(f"station {station_id} is not connected")


class CallTimeout(CommandError):
    reason = "timeout"

    def __init__(self, station_id: str, action: str, timeout: float) -> None:
        super().__init__(f"station {station_id} did not answer {action} within {timeout:g} s")
        self.timeout = timeout


class CallErrorReply(CommandError):
    reason = "call_error"

    def __init__(self, code: str, description: str, details: Any = None) -> None:
        super().__init__(f"station answered CALLERROR {code}: {description}")
        self.code = code
        self.details = details


class InvalidReply(CommandError):
    reason = "invalid_reply"

    def __init__(self, action: str, description: str) -> None:
        super().__init__(f"station's {action} answer is not schema-valid: {description}")


class UnsupportedCommand(CommandError):
    reason = "unsupported"
