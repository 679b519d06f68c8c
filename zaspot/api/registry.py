"""The operator API's registry: every type's handler by name, and the error a handler
raises for a clear refusal. Handler modules (handlers.py, cards.py, …) register with
`@handler("cards/list")` when imported (zaspot/api/catalog.py imports them all); the
connection (websocket.py) looks them up here.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

# (connection, message) -> result; the connection is a zaspot.api.websocket.ApiConnection
Handler = Callable[[Any, dict[str, Any]], Awaitable[Any]]
HANDLERS: dict[str, Handler] = {}


class ApiError(Exception):
    def __init__(self, code: str, message: str, result: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.result = result


def handler(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[name] = fn
        return fn

    return register


def arg(msg: dict[str, Any], key: str, kind: type | tuple[type, ...] = str, default: Any = ...) -> Any:
    value = msg.get(key, default)
    if value is ...:
        raise ApiError("invalid_format", f"missing '{key}'")
    if value is not None and value is not default and not isinstance(value, kind):
        raise ApiError("invalid_format", f"'{key}' has the wrong type")
    return value


def limit_arg(msg: dict[str, Any], default: int = 100) -> int:
    return max(1, min(int(arg(msg, "limit", int, default)), 10_000))
