"""OCPP-J framing: parse frames, build CALL / CALLRESULT / CALLERROR.

We do this ourselves rather than through `ocpp.messages.unpack` because the
library stays silent on invalid JSON, swaps NotImplemented / NotSupported and
has no notion of the 2.0.1 RpcFrameworkError. Error code *spellings* differ by
version: 1.6 keeps its published typos (FormationViolation,
OccurenceConstraintViolation); 2.0.1 spells them FormatViolation and
OccurrenceConstraintViolation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import orjson

CALL, CALLRESULT, CALLERROR = 2, 3, 4
MAX_MESSAGE_ID_LENGTH = 36
# How deep a CALL payload may nest. OCPP's own messages stay under 10 levels; free-form
# data (DataTransfer, customData) gets plenty of room, and everything we build around a
# payload (events, the store's JSON, API pushes) stays far below what orjson encodes
# (254 levels): a deeper payload would be parsed, then fail in every retry to be stored.
MAX_PAYLOAD_DEPTH = 64
_TOO_DEEP = f"CALL payload is nested deeper than {MAX_PAYLOAD_DEPTH} levels"
# The start of a CALL, to name its MessageId when the frame is too deep for the parser.
_CALL_START = re.compile(rf'\s*\[\s*2\s*,\s*"([^"\\]{{1,{MAX_MESSAGE_ID_LENGTH}}})"')

# Version-neutral error names -> what each version puts on the wire.
_SPELLING = {
    "1.6": {
        "FormatViolation": "FormationViolation",
        "OccurrenceConstraintViolation": "OccurenceConstraintViolation",
        # 1.6 has neither of these; the closest codes it defines:
        "RpcFrameworkError": "FormationViolation",
        "MessageTypeNotSupported": "FormationViolation",
    },
    "2.0.1": {},
}


def error_code(name: str, version: str) -> str:
    return _SPELLING.get(version, {}).get(name, name)


class FrameError(Exception):
    """A frame we cannot treat as a CALL. `message_id` is what the CALLERROR carries."""

    def __init__(self, code: str, description: str, message_id: str = "-1") -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.message_id = message_id


@dataclass(slots=True)
class Call:
    message_id: str
    action: str
    payload: dict[str, Any]


@dataclass(slots=True)
class CallResult:
    message_id: str
    payload: Any


@dataclass(slots=True)
class CallError:
    message_id: str
    code: str
    description: str
    details: Any


Frame = Call | CallResult | CallError


def parse(raw: str | bytes) -> Frame:
    """Parse one WebSocket text frame. Raises FrameError with a version-neutral code."""
    try:
        msg = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        if "depth limit" in str(exc):  # valid JSON, nested past the parser's 1,024 levels
            start = _CALL_START.match(raw if isinstance(raw, str) else raw[:64].decode("utf-8", "replace"))
            if start:
                raise FrameError("FormatViolation", _TOO_DEEP, start[1]) from None
        raise FrameError("RpcFrameworkError", "Frame is not valid JSON") from None
    if not isinstance(msg, list) or not msg:
        raise FrameError("RpcFrameworkError", "Frame is not a JSON array [MessageTypeId, MessageId, …]")
    kind = msg[0]
    message_id = msg[1] if len(msg) > 1 else None
    if not isinstance(message_id, str) or not message_id:
        raise FrameError("RpcFrameworkError", "MessageId missing or not a string")
    if len(message_id) > MAX_MESSAGE_ID_LENGTH:
        raise FrameError(
            "RpcFrameworkError", f"MessageId longer than {MAX_MESSAGE_ID_LENGTH} characters"
        )
    if kind == CALL:
        if len(msg) != 4 or not isinstance(msg[2], str):
            raise FrameError("FormatViolation", "CALL must be [2, MessageId, Action, Payload]", message_id)
        payload = msg[3]
        if not isinstance(payload, dict):
            raise FrameError("FormatViolation", "CALL payload must be a JSON object", message_id)
        if _too_deep(raw, payload):
            raise FrameError("FormatViolation", _TOO_DEEP, message_id)
        return Call(message_id, msg[2], payload)
    if kind == CALLRESULT:
        if len(msg) != 3:
            raise FrameError("FormatViolation", "CALLRESULT must be [3, MessageId, Payload]", message_id)
        return CallResult(message_id, msg[2])
    if kind == CALLERROR:
        if len(msg) < 4:
            raise FrameError("FormatViolation", "CALLERROR must be [4, MessageId, Code, Description, Details]",
                             message_id)
        return CallError(message_id, str(msg[2]), str(msg[3]), msg[4] if len(msg) > 4 else {})
    raise FrameError("MessageTypeNotSupported", f"MessageTypeId {kind!r} is not supported", message_id)


def _too_deep(raw: str | bytes, payload: dict[str, Any]) -> bool:
    """True if payload nests deeper than MAX_PAYLOAD_DEPTH (the payload object is level 1)."""
    # Nesting needs an opening bracket per level: a frame with few of them (almost every
    # frame) is cleared by two C-speed counts instead of a walk.
    openers = raw.count(b"[") + raw.count(b"{") if isinstance(raw, bytes) else raw.count("[") + raw.count("{")
    if openers <= MAX_PAYLOAD_DEPTH + 1:  # +1: the frame's own [
        return False
    stack: list[tuple[Any, int]] = [(payload, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_PAYLOAD_DEPTH:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False


def call(message_id: str, action: str, payload: dict[str, Any]) -> bytes:
    return orjson.dumps([CALL, message_id, action, payload])


def call_result(message_id: str, payload: dict[str, Any]) -> bytes:
    return orjson.dumps([CALLRESULT, message_id, payload])


def call_error(message_id: str, code: str, description: str, details: dict[str, Any] | None = None) -> bytes:
    # The spec caps errorDescription at 255 characters.
    return orjson.dumps([CALLERROR, message_id, code, description[:255], details or {}])
