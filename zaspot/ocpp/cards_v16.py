"""OCPP 1.6 cards: local authorization lists and the authorization cache over the wire.

Translations (SendLocalList, GetLocalListVersion, ClearCache) for zaspot.ocpp.commands,
what a card's verdict says in an idTagInfo, and `Handlers`, the inbound messages of this
feature, mixed into SessionV16.

A local-list entry is version-neutral: `(id_token, info)`, info None for a removed card
(an entry without idTagInfo), else a dict with `status`, `expiry` (UNIX s) and `group`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

MAX_ID_TAG = 20  # a 1.6 idTag (and parentIdTag) is at most 20 characters


def utc_iso(ts: float) -> str:
    """UNIX seconds as OCPP writes a time: ISO 8601, UTC, with a Z."""
    moment = datetime.fromtimestamp(ts, UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


def _info(status: str, expiry: float | None, group: str | None) -> dict[str, Any]:
    info: dict[str, Any] = {"status": "Invalid" if status == "Unknown" else status}
    if expiry is not None:
        info["expiryDate"] = utc_iso(expiry)
    if group and len(group) <= MAX_ID_TAG:
        info["parentIdTag"] = group
    return info


def id_tag_info(verdict: Any) -> dict[str, Any]:
    """An idTagInfo from zaspot.cards' verdict (status, expiry, group); unknown is Invalid."""
    return _info(verdict.status, verdict.expiry, verdict.group)


def send_local_list(version: int, update_type: str, entries: list[tuple[str, dict[str, Any] | None]]
                    ) -> tuple[str, dict[str, Any]]:
    items = []
    for id_token, info in entries:
        if len(id_token) > MAX_ID_TAG:  # no 1.6 station can be shown such a card anyway
            continue
        item: dict[str, Any] = {"idTag": id_token}
        if info is not None:
            item["idTagInfo"] = _info(info["status"], info.get("expiry"), info.get("group"))
        items.append(item)
    payload: dict[str, Any] = {"listVersion": version, "updateType": update_type}
    if items:
        payload["localAuthorizationList"] = items
    return "SendLocalList", payload


def get_local_list_version() -> tuple[str, dict[str, Any]]:
    return "GetLocalListVersion", {}


def local_list_version(result: dict[str, Any]) -> int | None:
    """The version a station holds (0: an empty list); None: it has no local list (-1)."""
    version = result["listVersion"]
    return None if version < 0 else version


def clear_cache() -> tuple[str, dict[str, Any]]:
    return "ClearCache", {}


class Handlers:
    """Inbound 1.6 messages of this feature (none: Authorize and the transactions are the
    session's, which answer with id_tag_info)."""
