"""The simulated station's cards (both versions), registered in zaspot.sim.features.

It keeps a local authorization list and its version (in `st.feature_state["local_list"]`,
which outlives reconnects and reboots, as a real station's flash does) and answers
SendLocalList, GetLocalListVersion and ClearCache as real stations do:

- a Differential whose version is not above the one it holds: VersionMismatch;
- an entry it cannot take (no id, the same id twice): Failed, and the list stays as it was;
- 1.6 GetLocalListVersion: 0 for an empty list.

Knob `features={"local_list": ...}`: True (the default); False, a station without the
feature (1.6: SendLocalList NotSupported, GetLocalListVersion -1; 2.0.1: CALLERROR
NotSupported, a message it knows but lacks); "fail": it answers Failed to every
SendLocalList (a full flash, say) and keeps what it had.
"""
from __future__ import annotations

from typing import Any

from .features import handles
from .rpc import NotImplementedAction


def local_list(st: Any) -> dict[str, Any]:
    """{"version": int, "cards": {id: info}}: what the station holds (tests read it)."""
    return st.feature_state.setdefault("local_list", {"version": 0, "cards": {}})


def _feature(st: Any) -> Any:
    return st.features.get("local_list", True)


def _apply(st: Any, version: int, update_type: str, entries: list[tuple[str | None, dict | None]]) -> str:
    held = local_list(st)
    if _feature(st) == "fail":
        return "Failed"
    if update_type == "Differential" and version <= held["version"]:
        return "VersionMismatch"
    ids = [i for i, _ in entries]
    if any(not i for i in ids) or len(set(ids)) != len(ids):
        return "Failed"
    cards = {} if update_type == "Full" else dict(held["cards"])
    for id_token, info in entries:
        if info is None:
            cards.pop(id_token, None)
        else:
            cards[id_token] = info
    held.update(version=version, cards=cards)
    return "Accepted"


@handles("1.6", "SendLocalList")
async def send_local_list_16(proto: Any, p: dict) -> tuple[dict, None]:
    if _feature(proto.st) is False:
        return {"status": "NotSupported"}, None
    entries = [(e.get("idTag"), e.get("idTagInfo")) for e in p.get("localAuthorizationList") or []]
    return {"status": _apply(proto.st, p["listVersion"], p["updateType"], entries)}, None


@handles("1.6", "GetLocalListVersion")
async def get_local_list_version_16(proto: Any, p: dict) -> tuple[dict, None]:
    if _feature(proto.st) is False:
        return {"listVersion": -1}, None
    return {"listVersion": local_list(proto.st)["version"]}, None


@handles("2.0.1", "SendLocalList")
async def send_local_list_201(proto: Any, p: dict) -> tuple[dict, None]:
    if _feature(proto.st) is False:
        raise NotImplementedAction("SendLocalList", "NotSupported")
    entries = [((e.get("idToken") or {}).get("idToken"), e.get("idTokenInfo"))
               for e in p.get("localAuthorizationList") or []]
    return {"status": _apply(proto.st, p["versionNumber"], p["updateType"], entries)}, None


@handles("2.0.1", "GetLocalListVersion")
async def get_local_list_version_201(proto: Any, p: dict) -> tuple[dict, None]:
    if _feature(proto.st) is False:
        raise NotImplementedAction("GetLocalListVersion", "NotSupported")
    return {"versionNumber": local_list(proto.st)["version"]}, None


async def _clear_cache(proto: Any, p: dict) -> tuple[dict, None]:
    st = proto.st
    st.feature_state["cache_cleared"] = st.feature_state.get("cache_cleared", 0) + 1
    return {"status": "Accepted"}, None


handles("1.6", "ClearCache")(_clear_cache)
handles("2.0.1", "ClearCache")(_clear_cache)
