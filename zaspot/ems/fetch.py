"""What the JSON sensors and sources share: a dotted path into an answer.

(The HTTP itself is zaspot.core.http_client: one httpx client per sensor or source.)"""

from __future__ import annotations

from typing import Any


def pick(data: Any, path: str) -> Any:
    """`a.b.0.c` -> data["a"]["b"][0]["c"]; KeyError with the path when it is not there."""
    for part in path.split(".") if path else ():
        try:
            data = data[int(part)] if isinstance(data, list) else data[part]
        except (KeyError, IndexError, ValueError, TypeError):
            raise KeyError(f"no '{part}' in the answer (path {path})") from None
    return data
