"""The display websocket against a real uvicorn server: snapshot, order, replay, resync."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from tests.support.client import KIOSK, login
from tests.support.realtime import Served, display, serve
from window_service.db import utcnow
from window_service.realtime import routes


@pytest.fixture
async def served(db_url: str, tmp_path: Path):
    async with serve(db_url, tmp_path, ws_heartbeat_seconds=0.5) as s:
        yield s


async def take(s: Served, service: str = "hukou") -> dict:
    r = await s.http.post("/api/v1/halls/demo/tickets", json={"service": service}, headers=KIOSK)
    assert r.status_code == 201, r.text
    return r.json()


async def call(s: Served, headers: dict, window: int = 1) -> dict:
    r = await s.http.post(f"/api/v1/windows/{window}/call-next", headers=headers)
    assert r.status_code == 200, r.text
    return r.json()


def assert_contiguous(messages: list[dict], start: int) -> None:
    seqs = [m["seq"] for m in messages if m["type"] != "heartbeat"]
    assert seqs == list(range(start + 1, start + 1 + len(seqs))), seqs


async def test_snapshot_shows_windows_calls_and_queues(served: Served) -> None:
    await take(served)
    await take(served)
    await take(served, "qiye")
    w1 = await login(served.http, "w1")
    await call(served, w1)
    async with display(served.ws_url) as d:
        snap = await d.next()
    assert snap["type"] == "snapshot"
    assert snap["seq"] == await served.state.events.last_seq(1)
    window1 = next(w for w in snap["windows"] if w["number"] == 1)
    assert window1["status"] == "open"
    assert window1["current"]["ticket"] == "A001"
    assert next(w for w in snap["windows"] if w["number"] == 2)["current"] is None
    assert snap["waiting"]["A"] == 1 and snap["waiting"]["C"] == 1 and snap["waiting"]["B"] == 0
    [recent] = snap["recent_calls"]
    assert recent["ticket"] == "A001" and recent["window"] == 1 and recent["recall"] is False
    assert recent["text"] == "请A001号到1号窗口办理"
    assert recent["seq"] <= snap["seq"]


async def test_live_events_are_contiguous_across_calls_recalls_and_queue_changes(
    served: Served,
) -> None:
    w1 = await login(served.http, "w1")
    async with display(served.ws_url) as d:
        snap = await d.next()
        first = await take(served)
        await take(served)
        await call(served, w1)
        assert (await served.http.post("/api/v1/windows/1/recall", headers=w1)).status_code == 200
        no_show = await served.http.post(f"/api/v1/tickets/{first['id']}/no-show", headers=w1)
        assert no_show.status_code == 200
        await call(served, w1)
        assert (await served.http.post("/api/v1/windows/1/pause", headers=w1)).status_code == 200
        await d.until(lambda m: m["type"] == "window" and m["status"] == "paused")
    events = [m for m in d.received[1:] if m["type"] != "heartbeat"]
    assert_contiguous(events, snap["seq"])
    calls = [m for m in events if m["type"] == "call"]
    assert [(c["ticket"], c["recall"]) for c in calls] == [
        ("A001", False),
        ("A001", True),
        ("A002", False),
    ]
    assert calls[2]["text"] == "请A002号到1号窗口办理" and calls[2]["window"] == 1
    assert calls[2]["service"] == "hukou" and calls[2]["at"]
    queues = [m["waiting"] for m in events if m["type"] == "queue"]
    assert queues == [{"A": 1}, {"A": 2}, {"A": 1}, {"A": 0}]
    assert {"type": "ticket", "ticket": "A001", "status": "no_show"}.items() <= next(
        m for m in events if m["type"] == "ticket"
    ).items()


async def test_replay_after_k_then_live(served: Served) -> None:
    w1 = await login(served.http, "w1")
    async with display(served.ws_url) as d:
        k = (await d.next())["seq"]
    for _ in range(3):
        await take(served)
    await call(served, w1)  # call + queue
    n = k + 5
    async with display(f"{served.ws_url}?after={k}") as d:
        replayed = [await d.next() for _ in range(5)]
        assert [m["seq"] for m in replayed] == list(range(k + 1, n + 1))
        assert replayed[3]["type"] == "call" and replayed[3]["ticket"] == "A001"
        caught_up = await d.next(heartbeats=True)
        assert caught_up == {"type": "heartbeat", "seq": n}
        await served.http.post("/api/v1/windows/1/recall", headers=w1)
        live = await d.next()
        assert live["seq"] == n + 1 and live["type"] == "call" and live["recall"] is True


async def test_after_beyond_current_or_too_old_gives_snapshot(
    served: Served, monkeypatch: pytest.MonkeyPatch
) -> None:
    queue = ("queue", {"change": "test", "ticket": None, "waiting": {}})
    yesterday = await served.emit(queue, queue, queue, at=utcnow() - timedelta(days=1))
    for _ in range(4):
        await take(served)
    async with display(served.ws_url) as d:
        current = (await d.next())["seq"]
    for after in (str(current + 10), "abc", "-1", "99999999999999999999"):
        async with display(f"{served.ws_url}?after={after}") as d:
            message = await d.next()
            assert message["type"] == "snapshot" and message["seq"] == current
    monkeypatch.setattr(routes, "MAX_REPLAY", 2)
    # More than MAX_REPLAY back and before today: a snapshot.
    async with display(f"{served.ws_url}?after={yesterday[0]}") as d:
        assert (await d.next())["type"] == "snapshot"
    # More than MAX_REPLAY back but all of today: replayed.
    async with display(f"{served.ws_url}?after={yesterday[-1]}") as d:
        replayed = [(await d.next())["seq"] for _ in range(4)]
    assert replayed == list(range(yesterday[-1] + 1, current + 1))
    async with display(f"{served.ws_url}?after={current - 2}") as d:
        assert [(await d.next())["seq"] for _ in range(2)] == [current - 1, current]


async def test_reconnect_with_last_seq_receives_every_missed_call(served: Served) -> None:
    w1, w3 = await login(served.http, "w1"), await login(served.http, "w3")
    for _ in range(2):
        await take(served)
        await take(served, "budongchan")
    async with display(served.ws_url) as d:
        last = (await d.next())["seq"]
        await call(served, w1)
        last = (await d.until(lambda m: m["type"] == "queue"))["seq"]
    # Disconnected: two windows call, one recalls.
    await call(served, w3, 3)
    await served.http.post("/api/v1/windows/3/recall", headers=w3)
    first = (await served.http.get("/api/v1/windows/1/queue", headers=w1)).json()
    assert [t["number"] for t in first] == ["A002"]
    async with display(f"{served.ws_url}?after={last}") as d:
        heartbeat = await d.until(lambda m: m["type"] in ("heartbeat", "snapshot"), heartbeats=True)
    assert heartbeat["type"] == "heartbeat"
    missed = [m for m in d.received if m["type"] != "heartbeat"]
    assert_contiguous(missed, last)
    assert [(m["ticket"], m["window"], m["recall"]) for m in missed if m["type"] == "call"] == [
        ("B001", 3, False),
        ("B001", 3, True),
    ]


async def test_heartbeat_carries_the_last_seq(served: Served) -> None:
    await take(served)
    async with display(served.ws_url) as d:
        seq = (await d.next())["seq"]
        beat = await d.next(heartbeats=True)
        assert beat == {"type": "heartbeat", "seq": seq}
        await take(served)
        assert (await d.next())["seq"] == seq + 1
        beat = await d.next(heartbeats=True)
        assert beat == {"type": "heartbeat", "seq": seq + 1}


async def test_client_too_far_behind_gets_a_snapshot_and_stays_consistent(
    db_url: str, tmp_path: Path
) -> None:
    async with serve(db_url, tmp_path, ws_client_queue=3) as s:
        async with display(s.ws_url) as slow, display(s.ws_url) as other:
            start = (await slow.next())["seq"]
            await other.next()
            # A burst of 12 events while neither socket task can run: both buffers overflow.
            burst = [("queue", {"change": "burst", "ticket": None, "waiting": {}})] * 12
            seqs = await s.emit(*burst)
            assert seqs == list(range(start + 1, start + 13))
            resync = await slow.next()
            assert resync["type"] == "snapshot" and resync["seq"] == start + 12
            await take(s)
            live = await slow.next()
            assert live["type"] == "queue" and live["seq"] == start + 13
            assert live["waiting"] == {"A": 1}
            # Three events fit the buffer: delivered as events, no snapshot.
            await s.emit(*burst[:3])
            assert [(await slow.next())["seq"] for _ in range(3)] == [
                start + 14,
                start + 15,
                start + 16,
            ]
            other_msgs = [await other.next() for _ in range(5)]
            assert [m["type"] for m in other_msgs] == ["snapshot"] + ["queue"] * 4
        seqs = [m["seq"] for m in slow.received]
        assert seqs == sorted(seqs)


async def test_office_payload_only_for_signed_in_staff(served: Served) -> None:
    office = await login(served.http, "office")
    async with (
        display(served.ws_url) as anonymous,
        display(served.ws_url, additional_headers=office) as staff,
    ):
        seq = (await anonymous.next())["seq"]
        await staff.next()
        await served.emit(("office.overdue", {"case": "2026-0001", "level": "red"}))
        await take(served)
        assert await anonymous.next() == {"type": "office.overdue", "seq": seq + 1}
        assert (await anonymous.next())["seq"] == seq + 2
        assert await staff.next() == {
            "type": "office.overdue",
            "seq": seq + 1,
            "case": "2026-0001",
            "level": "red",
        }


async def test_unknown_hall_is_refused(served: Served) -> None:
    """Closed with 4404 (not an HTTP 403 handshake refusal), so the client knows why."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    url = served.url.replace("http", "ws") + "/ws/halls/nohall/display"
    async with connect(url, open_timeout=15) as ws:
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(ws.recv(), 10)
    assert ws.close_code == 4404


async def test_many_sockets_come_and_go_without_leaking(served: Served) -> None:
    hub = served.state.hub
    async with display(served.ws_url) as keeper:
        await keeper.next()
        for _ in range(3):
            async with asyncio.TaskGroup() as group:
                tasks = [group.create_task(_open_and_read(served.ws_url)) for _ in range(20)]
            assert all(t.result()["type"] == "snapshot" for t in tasks)
        for _ in range(100):
            if hub.client_count() == 1:
                break
            await asyncio.sleep(0.05)
        assert hub.client_count() == 1
    for _ in range(100):
        if hub.client_count() == 0:
            break
        await asyncio.sleep(0.05)
    assert hub.client_count() == 0 and hub.halls() == []


async def _open_and_read(url: str) -> dict:
    async with display(url) as d:
        return await d.next()


async def test_sockets_opened_during_a_stream_of_changes_miss_nothing(served: Served) -> None:
    """Snapshot/replay and live events race; every socket must still see N+1, N+2, … exactly."""
    done = asyncio.Event()

    async def kiosk() -> None:
        for _ in range(16):
            await take(served)
        done.set()

    async def watcher(after: int | None, delay: float) -> tuple[int | None, list[dict]]:
        await asyncio.sleep(delay)
        url = served.ws_url if after is None else f"{served.ws_url}?after={after}"
        async with display(url) as d:
            await d.next(heartbeats=True)
            await done.wait()
            final = await served.state.events.last_seq(1)
            if d.received[-1]["seq"] != final:
                await d.until(lambda m: m["seq"] == final, heartbeats=True)
        return after, d.received

    async with display(served.ws_url) as first:
        start = (await first.next())["seq"]
    watchers = [watcher(None if i % 2 else start, i * 0.03) for i in range(12)]
    _, *results = await asyncio.gather(kiosk(), *watchers)
    final = await served.state.events.last_seq(1)
    assert final == start + 16
    for after, received in results:
        last = after
        for message in received:
            if message["type"] == "snapshot":
                last = message["seq"]
            elif message["type"] == "heartbeat":
                assert message["seq"] == last
            else:
                assert last is not None and message["seq"] == last + 1, received
                last = message["seq"]
        assert last == final
