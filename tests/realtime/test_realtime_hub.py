"""The hub on its own (a fake log): order, gaps, coalesced wake-ups, overflow, failures."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.realtime import FakeLog
from window_service.realtime.hub import Hub


def seqs(sub) -> list[int]:
    out = [item.seq for item in sub.items]
    sub.items.clear()
    return out


async def settle(hub: Hub) -> None:
    for _ in range(50):
        await asyncio.sleep(0.01)


async def test_out_of_order_commits_and_late_wakeups_are_delivered_in_order() -> None:
    log = FakeLog()
    log.add(2)
    hub = Hub(log.fetch, log.last_seq, 100, heartbeat_seconds=60)
    try:
        sub = await hub.subscribe(1)
        e3, e4 = log.add(2)
        hub.publish_local([e4])  # commit callbacks ran out of order
        hub.publish_local([e3])
        await settle(hub)
        assert seqs(sub) == [3, 4]
        log.add(3)  # committed elsewhere
        for seq in (5, 6, 7):
            hub.wake(1, seq)
        await settle(hub)
        assert seqs(sub) == [5, 6, 7]
        assert log.fetches <= 3  # wake-ups coalesce into one worker
        hub.publish_local(log.add(1))  # the fast path: no read
        assert seqs(sub) == [8]
    finally:
        await hub.close()


async def test_events_committed_while_the_first_socket_subscribes_are_not_lost() -> None:
    log = FakeLog()
    hub = Hub(log.fetch, log.last_seq, 100, heartbeat_seconds=60)
    try:
        joining = asyncio.ensure_future(hub.subscribe(1))
        await asyncio.sleep(0)
        hub.publish_local(log.add(1))  # while the hub reads the last seq
        sub = await joining
        await settle(hub)
        assert hub.delivered(1) == 1
        assert seqs(sub) in ([1], [])  # in the buffer, or before its start (snapshot has it)
    finally:
        await hub.close()


async def test_overflow_flags_resync_and_drops_the_backlog() -> None:
    log = FakeLog()
    hub = Hub(log.fetch, log.last_seq, 3, heartbeat_seconds=60)
    try:
        sub = await hub.subscribe(1)
        await settle(hub)
        hub.publish_local(log.add(5))
        assert sub.resync
        assert seqs(sub) == [5]  # after the drop, what came next
    finally:
        await hub.close()


async def test_a_failed_first_read_does_not_poison_the_hall() -> None:
    log = FakeLog()
    hub = Hub(log.fetch, log.last_seq, 10, heartbeat_seconds=60)
    try:
        log.fail_last_seq = True
        with pytest.raises(ConnectionError):
            await hub.subscribe(1)
        log.fail_last_seq = False
        sub = await hub.subscribe(1)
        hub.publish_local(log.add(1))
        await settle(hub)
        assert seqs(sub) == [1]
    finally:
        await hub.close()


async def test_leaving_sockets_free_the_hall_and_heartbeats_reach_everyone() -> None:
    log = FakeLog()
    hub = Hub(log.fetch, log.last_seq, 10, heartbeat_seconds=0.08)
    try:
        subs = [await hub.subscribe(1) for _ in range(20)]
        await asyncio.sleep(0.3)
        assert all(s.heartbeat_due for s in subs)
        for s in subs:
            hub.unsubscribe(s)
        assert hub.halls() == [] and hub.client_count() == 0
    finally:
        await hub.close()
