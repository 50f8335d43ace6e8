"""A display that stops reading, against a fake websocket (the hub runs on a fake log).

When the client does not read, the server's send waits (uvicorn waits for the TCP buffer to
drain). Later events queue in the socket's buffer and follow in order once it reads again; a
backlog past the limit becomes one snapshot; a client that has gone away ends the socket; one
that does not read for too long is dropped by the hub. Events leave in order, each once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.support.realtime import FakeLog
from window_service.realtime import routes
from window_service.realtime.hub import Hub


class Wire:
    """A socket's sending side: records what it sends; a full TCP buffer makes it wait."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int]] = []
        self.writable = asyncio.Event()
        self.writable.set()
        self.gone = False

    async def send_text(self, text: str) -> None:
        await self.writable.wait()  # as uvicorn's send does
        if self.gone:
            raise WebSocketDisconnect(code=1006)  # what Starlette makes of a vanished client
        body = json.loads(text)
        self.sent.append((body["type"], body["seq"]))


class FakeSnapshots:
    def __init__(self, hub: Hub) -> None:
        self.hub = hub

    async def text(self, state: Any, hall_id: int, code: str) -> tuple[str, int]:
        seq = self.hub.delivered(hall_id) or 0
        return json.dumps({"type": "snapshot", "seq": seq}), seq


async def open_socket(hub: Hub, wire: Wire) -> tuple[routes._Socket, asyncio.Task[None]]:
    socket = routes._Socket(wire, SimpleNamespace(hub=hub), FakeSnapshots(hub), 1, "demo")  # type: ignore[arg-type]
    socket.sub = await hub.subscribe(1)
    socket.last = hub.delivered(1) or 0  # as if its snapshot had been sent
    task = asyncio.ensure_future(socket.run())
    socket.sub.task = task  # as display_socket does
    await asyncio.sleep(0.05)  # the hub's first read of the log is over; the socket is idle
    return socket, task


async def settle() -> None:
    await asyncio.sleep(0.05)


@pytest.fixture
async def hall() -> AsyncIterator[tuple[FakeLog, Hub]]:
    log = FakeLog()
    hub = Hub(log.fetch, log.last_seq, 3, heartbeat_seconds=60)  # a buffer of 3 events
    yield log, hub
    await hub.close()


async def test_events_behind_a_waiting_send_follow_in_order(
    hall: tuple[FakeLog, Hub],
) -> None:
    log, hub = hall
    wire = Wire()
    socket, task = await open_socket(hub, wire)
    hub.publish_local(log.add(1))
    await settle()
    assert wire.sent == [("queue", 1)]
    wire.writable.clear()  # the client stops reading
    hub.publish_local(log.add(1))  # this send now waits
    await settle()
    hub.publish_local(log.add(3))  # these go to the buffer
    await settle()
    assert wire.sent == [("queue", 1)]
    assert socket.sub.sending_since is not None  # type: ignore[union-attr]
    wire.writable.set()  # the client reads again
    await settle()
    assert wire.sent == [("queue", n) for n in range(1, 6)]
    assert socket.sub.sending_since is None  # type: ignore[union-attr]
    assert not task.done()


async def test_a_backlog_behind_a_waiting_send_becomes_a_snapshot(
    hall: tuple[FakeLog, Hub],
) -> None:
    log, hub = hall
    wire = Wire()
    await open_socket(hub, wire)
    wire.writable.clear()
    hub.publish_local(log.add(1))  # waits
    await settle()
    hub.publish_local(log.add(10))  # more than the buffer holds
    wire.writable.set()
    await settle()
    assert wire.sent == [("queue", 1), ("snapshot", 11)]
    hub.publish_local(log.add(1))
    await settle()
    assert wire.sent[-1] == ("queue", 12)


async def test_a_client_gone_mid_send_ends_the_socket(hall: tuple[FakeLog, Hub]) -> None:
    log, hub = hall
    wire = Wire()
    _socket, task = await open_socket(hub, wire)
    wire.gone = True
    hub.publish_local(log.add(1))  # the hub goes on; the socket's task ends
    with pytest.raises(WebSocketDisconnect):
        await asyncio.wait_for(task, 5)


async def test_a_client_that_never_reads_is_dropped() -> None:
    log = FakeLog()
    hub = Hub(log.fetch, log.last_seq, 3, heartbeat_seconds=0.08)  # a round every 10 ms
    hub.stuck_seconds = 0.2
    try:
        wire = Wire()
        socket, task = await open_socket(hub, wire)
        wire.writable.clear()
        hub.publish_local(log.add(1))
        with pytest.raises(asyncio.CancelledError):
            await asyncio.wait_for(task, 5)
        assert socket.sub.stuck and hub.client_count() == 0  # type: ignore[union-attr]
    finally:
        await hub.close()
