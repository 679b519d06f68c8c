"""A small HTTP GET for sensors and price sources: urllib in a worker thread, so the
event loop never waits on a slow meter and zaspot needs no HTTP client library."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from typing import Any


def _get(url: str, headers: dict[str, str], timeout: float) -> Any:
    request = urllib.request.Request(url, headers={"Accept": "application/json", **headers})
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 (the user's own URL)
        return json.loads(response.read())


async def get_json(url: str, headers: dict[str, str] | None = None, timeout: float = 5.0) -> Any:
    return await asyncio.to_thread(_get, url, headers or {}, timeout)


def pick(data: Any, path: str) -> Any:
    """`a.b.0.c` -> data["a"]["b"][0]["c"]; KeyError with the path when it is not there."""
    for part in path.split(".") if path else ():
        try:
            data = data[int(part)] if isinstance(data, list) else data[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise KeyError(f"no '{part}' in the answer (path {path})") from None
    return data
