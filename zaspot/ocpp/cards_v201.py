"""OCPP 2.0.1 cards: local authorization lists and the authorization cache over the wire.

Translations (SendLocalList, GetLocalListVersion, ClearCache) for zaspot.ocpp.commands,
what a card's verdict says in an idTokenInfo, and `Handlers`, the inbound messages of this
feature, mixed into SessionV201. Entries as in zaspot.ocpp.cards_v16.

A card has no token type of its own: local-list entries go as ISO14443 (RFID cards, what
stations read most), a group as a Central token.
"""

from __future__ import annotations

from typing import Any

from zaspot.ocpp.cards_v16 import utc_iso

TOKEN_TYPE = "ISO14443"


def _info(status: str, expiry: float | None, group: str | None) -> dict[str, Any]:
    info: dict[str, Any] = {"status": status}
    if expiry is not None:
        info["cacheExpiryDateTime"] = utc_iso(expiry)
    if group:
        info["groupIdToken"] = {"idToken": group, "type": "Central"}
    return info


def id_token_info(verdict: Any) -> dict[str, Any]:
    """An idTokenInfo from zaspot.cards' verdict (status, expiry, group)."""
    return _info(verdict.status, verdict.expiry, verdict.group)


def send_local_list(version: int, update_type: str, entries: list[tuple[str, dict[str, Any] | None]]
                    ) -> tuple[str, dict[str, Any]]:
    items = []
    for id_token, info in entries:
        item: dict[str, Any] = {"idToken": {"idToken": id_token, "type": TOKEN_TYPE}}
        if info is not None:
            item["idTokenInfo"] = _info(info["status"], info.get("expiry"), info.get("group"))
        items.append(item)
    payload: dict[str, Any] = {"versionNumber": version, "updateType": update_type}
    if items:  # the schema wants at least one entry when the list is there at all
        payload["localAuthorizationList"] = items
    return "SendLocalList", payload


def get_local_list_version() -> tuple[str, dict[str, Any]]:
    return "GetLocalListVersion", {}


def local_list_version(result: dict[str, Any]) -> int | None:
    """The version a station holds (0: none). A station without local lists answers the
    request with a CALLERROR instead."""
    version: int = result["versionNumber"]
    return max(version, 0)


def clear_cache() -> tuple[str, dict[str, Any]]:
    return "ClearCache", {}


class Handlers:
    """Inbound 2.0.1 messages of this feature (none: Authorize and TransactionEvent are the
    session's, which answer with id_token_info)."""
