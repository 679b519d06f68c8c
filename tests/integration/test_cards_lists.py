"""Local authorization lists, end to end with simulated stations of both versions: the
list reaches the station and its version is kept (not sent again after a reconnect when
equal), a change goes as a differential, a big list in steps, a station without the
feature is marked and left alone, a refusal is tried again."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.test_cards import station, until
from zaspot.api.client import ZaspotClient
from zaspot.cards import locallist
from zaspot.sim.cards import local_list
from zaspot.sim.station import SimStation

VERSIONS = pytest.mark.parametrize("version", ["1.6", "2.0.1"])


def _sent(st: SimStation, action: str = "SendLocalList") -> list[dict[str, Any]]:
    return [p for a, p in st.received if a == action]


def _kind(payload: dict[str, Any]) -> tuple[str, int, int]:
    version = payload.get("listVersion", payload.get("versionNumber"))
    return payload["updateType"], version, len(payload.get("localAuthorizationList") or [])


async def _row(api: ZaspotClient, station_id: str) -> dict[str, Any] | None:
    return next((r for r in await api.command("cards/lists") if r["station_id"] == station_id), None)


@VERSIONS
async def test_a_local_list_reaches_the_station_and_its_version_is_kept(app, version):
    async with ZaspotClient(f"{app.url}/api/websocket") as api:
        await api.command("cards/add", id_token="CARD-A", group="FLEET")
        await api.command("cards/add", id_token="CARD-B", driver="Jan")
        st = await station(app.url, f"LIST-{version}", version)
        try:
            await until(lambda: local_list(st)["version"] == 2)
            assert sorted(local_list(st)["cards"]) == ["CARD-A", "CARD-B"]
            assert [_kind(p) for p in _sent(st)] == [("Full", 2, 2)]
            # the station has it; the server keeps its answer a moment later
            row = await until(lambda: _at_version(api, st.station_id, 2))
            assert (row["version"], row["supported"], row["error"], row["in_step"]) == (2, True, None, True)

            # back after a dropped connection, without a boot: asked, and left as it is
            asked, synced_at = len(_sent(st, "GetLocalListVersion")), row["synced_at"]
            await st.go_offline(0)
            await until(lambda: len(_sent(st, "GetLocalListVersion")) > asked)
            await until(lambda: _synced_after(api, st.station_id, synced_at))
            assert len(_sent(st)) == 1 and st.boot_count == 1

            # a change: only it goes, as a differential
            await api.command("cards/block", id_token="CARD-A")
            await until(lambda: local_list(st)["version"] == 3)
            assert [_kind(p) for p in _sent(st)][1:] == [("Differential", 3, 1)]
            info = local_list(st)["cards"]["CARD-A"]
            assert info["status"] == "Blocked"
            await api.command("cards/remove", id_token="CARD-B")  # a removal: an entry with no info
            await until(lambda: local_list(st)["version"] == 4)
            assert sorted(local_list(st)["cards"]) == ["CARD-A"]
            synced = await api.command("history/events", station_id=st.station_id, event_type="local_list_synced")
            assert [(e["data"]["update_type"], e["data"]["version"], e["data"]["status"]) for e in reversed(synced)] \
                == [("Full", 2, "Accepted"), ("Differential", 3, "Accepted"), ("Differential", 4, "Accepted")]
        finally:
            await st.stop()


async def _at_version(api: ZaspotClient, station_id: str, version: int) -> dict[str, Any] | None:
    row = await _row(api, station_id)
    return row if row is not None and row["version"] == version else None


async def _synced_after(api: ZaspotClient, station_id: str, when: float) -> bool:
    row = await _row(api, station_id)
    return row is not None and row["synced_at"] > when


@VERSIONS
async def test_a_big_list_goes_in_steps_and_a_mismatch_gets_the_whole_list(app, version, monkeypatch):
    monkeypatch.setattr(locallist, "ENTRIES_PER_MESSAGE", 2)
    csv = "id_token,status\n" + "".join(f"C{i},accepted\n" for i in range(1, 6))
    async with ZaspotClient(f"{app.url}/api/websocket") as api:
        assert await api.command("cards/import", csv=csv) == {"added": 5, "updated": 0}
        st = await station(app.url, f"BIG-{version}", version)
        try:
            await until(lambda: local_list(st)["version"] == 5)
            assert [_kind(p) for p in _sent(st)] == [("Full", 2, 2), ("Differential", 4, 2), ("Differential", 5, 1)]
            assert len(local_list(st)["cards"]) == 5

            local_list(st)["version"] = 99  # someone else gave it a list: our differential will not fit
            await api.command("cards/block", id_token="C3")
            await until(lambda: local_list(st)["version"] == 6)
            assert [_kind(p) for p in _sent(st)][3:] == [
                ("Differential", 6, 1), ("Full", 2, 2), ("Differential", 5, 2), ("Differential", 6, 1)]
            assert local_list(st)["cards"]["C3"]["status"] == "Blocked" and len(local_list(st)["cards"]) == 5
        finally:
            await st.stop()


@VERSIONS
async def test_a_station_without_local_lists_is_marked_and_left_alone_until_it_boots(app, version):
    async with ZaspotClient(f"{app.url}/api/websocket") as api:
        await api.command("cards/add", id_token="CARD-A")
        st = await station(app.url, f"NOLIST-{version}", version, features={"local_list": False})
        try:
            row = await until(lambda: _unsupported(api, st.station_id))
            assert row["version"] is None and "no local authorization list" in row["error"]
            assert _sent(st) == []  # asked its version, told it has none: nothing sent
            calls = len(st.received)
            await api.command("cards/add", id_token="CARD-B")
            lists = app.ctx.cards.lists
            assert st.station_id not in lists._running and len(st.received) == calls  # not even asked

            st.features["local_list"] = True  # a firmware update brought the feature; it boots
            await st.reboot()
            await until(lambda: local_list(st)["version"] == 2)
            assert (await _row(api, st.station_id))["supported"] is True
        finally:
            await st.stop()


async def _unsupported(api: ZaspotClient, station_id: str) -> dict[str, Any] | None:
    row = await _row(api, station_id)
    return row if row is not None and row["supported"] is False else None


@VERSIONS
async def test_a_refused_list_is_tried_again_and_a_sync_says_what_went(app, version):
    async with ZaspotClient(f"{app.url}/api/websocket") as api:
        await api.command("cards/add", id_token="CARD-A")
        st = await station(app.url, f"FULL-{version}", version, features={"local_list": "fail"})
        try:
            row = await until(lambda: _errored(api, st.station_id))
            assert row["error"] == "station answered Failed" and row["supported"] is True
            assert st.station_id in app.ctx.cards.lists._retries  # it will be tried again later
            st.features["local_list"] = True
            [report] = await api.command("cards/sync", station_id=st.station_id)
            assert (report["status"], report["version"]) == ("sent", 1)
            assert [(s["update_type"], s["version"], s["status"]) for s in report["sent"]] == [("Full", 1, "Accepted")]
            assert (await _row(api, st.station_id))["error"] is None
            assert st.station_id not in app.ctx.cards.lists._retries
            [again] = await api.command("cards/sync", station_id=st.station_id)
            assert (again["status"], again["sent"]) == ("in_step", [])
        finally:
            await st.stop()


async def _errored(api: ZaspotClient, station_id: str) -> dict[str, Any] | None:
    row = await _row(api, station_id)
    return row if row is not None and row["error"] else None
