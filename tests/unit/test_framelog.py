from zaspot.ocpp.framelog import FrameLog
from zaspot.store import Store


async def test_frames_are_kept_in_order_per_station_and_trimmed_oldest_first(tmp_path):
    store = await Store.open(tmp_path / "z.db")
    log = FrameLog(store, keep=3, stations=lambda: 2)
    for i in range(10):
        log.record("A", "in", f'[2,"{i}","Heartbeat",{{}}]')
        log.record("B", "out", f'[3,"{i}",{{}}]'.encode())
    await log.flush()
    assert [f["frame"] for f in await store.frames("A", limit=2)] == ['[2,"8","Heartbeat",{}]', '[2,"9","Heartbeat",{}]']
    newest_b = (await store.frames("B", limit=1))[0]
    assert (newest_b["direction"], newest_b["frame"]) == ("out", '[3,"9",{}]')  # bytes come back as text
    for i in range(10, 13):  # a second flush: a newer chunk per station
        log.record("A", "in", f'[2,"{i}","Heartbeat",{{}}]')
        log.record("B", "out", b"[3,\"x\",{}]")
    await log.flush()
    assert len(await store.frames("A", limit=100)) == 13
    assert log.chunks_to_keep() == round(3 * 2 / (26 / 4))  # 26 frames came in 4 chunks
    assert await store.prune_frames(2) == 2  # the two newest chunks stay
    assert [f["frame"] for f in await store.frames("A", limit=100)] == [
        '[2,"10","Heartbeat",{}]', '[2,"11","Heartbeat",{}]', '[2,"12","Heartbeat",{}]']
    await store.close()
