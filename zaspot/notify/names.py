"""Stations by their names in notifications: "Lobby left (CP-1) has been offline" where the
message said "CP-1 has been offline".

A notification is about a station when its data names one (`station_id`) or its message
mentions exactly one station id. Then `{station_name}` and `{site}` left in its message or
title (a rule's template renders the fields it knows; these it leaves) are filled, and its
data carries `station_id`, `station_name` and `site` for webhooks. Every mention of a named
station's id becomes "name (id)", unless the name is written there already.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from typing import Any

from zaspot.notify.base import Notification

Names = Mapping[str, tuple[str, str]]  # station id -> (name, site)
_AROUND = r"[A-Za-z0-9_\-]"  # a mention of CP-1 is not part of CP-10 or XCP-1 ("CP-1:" is CP-1)


def _mention(station_id: str) -> re.Pattern[str]:
    return re.compile(f"(?<!{_AROUND}){re.escape(station_id)}(?!{_AROUND})")


def _mentioned(text: str, names: Names) -> list[str]:
    return [sid for sid in names if sid in text and _mention(sid).search(text)]


def _label(text: str, names: Names, station_id: str | None) -> str:
    name, site = names.get(station_id, ("", "")) if station_id else ("", "")
    if station_id:
        text = text.replace("{station_name}", name or station_id).replace("{site}", site)
    for sid in _mentioned(text, names):
        named = names[sid][0]
        if named and named not in text:
            def label(_: re.Match[str], shown: str = f"{named} ({sid})") -> str:
                return shown  # a function, so a backslash in a name is not read as an escape

            text = _mention(sid).sub(label, text)
    return text


def with_names(n: Notification, names: Names, station_id: str | None = None) -> Notification:
    """`n` with its station named (see the module's docstring)."""
    if station_id is None:
        found = _mentioned(n.message + " " + (n.title or ""), names)
        station_id = found[0] if len(found) == 1 else None
    if not names and station_id is None:
        return n
    changes: dict[str, Any] = {"message": _label(n.message, names, station_id)}
    if n.title:
        changes["title"] = _label(n.title, names, station_id)
    if station_id:
        name, site = names.get(station_id, ("", ""))
        changes["data"] = {"station_id": station_id, "station_name": name or station_id, "site": site,
                           **(n.data or {})}
    return dataclasses.replace(n, **changes)
