"""Direct sends from the fan-out (``_Socket.send_now``) against a fake server send.

An idle display socket gets each event written by the hub's fan-out itself, without a wake-up
of its task. When the client does not read, the server's send waits (uvicorn waits for the TCP
buffer to drain); then the socket's task must finish that send before anything else, later
events queue in its buffer, a backlog past the limit becomes a snapshot, and a client that
has gone away ends the socket. Events must leave in order, each exactly once.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any

import pytest

from tests.test_realtime_hub import FakeLog
from window_service.realtime import routes
from window_service.realtime.direct import SERVER_SEND
from window_service.realtime.hub import Hub


class Wire:
    """The server's send for one socket: records what it sends; a full TCP buffer makes it wait."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, int]] = []
        self.writable = asyncio.Event()
        self.writable.set()
        self.gone = False

    async def send(self, message: dict[str, Any]) -> None:
        await self.writable.wait()  # as uvicorn's send does
        if self.gone:
            raise OSError("client disconnected")  # uvicorn's ClientDisconnected is an OSError
        body = json.loads(message["text"])
        self.sent.append((body["type"], body["seq"]))


async def open_socket(
    hub: Hub, wire: Wire, monkeypatch: pytest.MonkeyPatch
) -> tuple[routes._Socket, asyncio.Task[None]]:
    async def snapshot_text(state: Any, hall_id: int, code: str) -> tuple[str, int]:
        seq = hub.delivered(hall_id) or 0
        return json.dumps({"type": "snapshot", "seq": seq}), seq

    monkeypatch.setattr(routes, "_snapshot_text", snapshot_text)
    ws = SimpleNamespace(scope={SERVER_SEND: wire.send})
    socket = routes._Socket(ws, SimpleNamespace(hub=hub), 1, "demo")  # type: ignore[arg-type]
    socket.sub = await hub.subscribe(1)
    socket.last = hub.delivered(1) or 0  # as if its snapshot had been sent
    task = asyncio.ensure_future(socket.run())
    await asyncio.sleep(0.05)  # the hub's first read of the log is over; the socket is idle
    return socket, task


@pytest.fixture
async def hall() -> AsyncIterator[tuple[FakeLog, Hub]]:
    log = FakeLog()
    hub = Hub(log.fetch, log.last_seq, 3, heartbeat_seconds=60)  # a buffer of 3 events
    yield log, hub
    await hub.close()


async def test_an_idle_socket_sends_from_the_fan_out_without_waking_its_task(
    hall: tuple[FakeLog, Hub], monkeypatch: pytest.MonkeyPatch
) -> None:
    log, hub = hall
    wire = Wire()
    socket, task = await open_socket(hub, wire, monkeypatch)
    hub.publish_local(log.add(5))
    # Written during publish_local itself: no task switch happened in between, and more
    # events than the buffer holds went out without a snapshot.
    assert wire.sent == [("queue", n) for n in range(1, 6)]
    assert socket.last == 5 and not socket.sub.items  # type: ignore[union-attr]
    assert not task.done()


async def test_a_send_that_waits_is_finished_first_and_later_events_follow_in_order(
    hall: tuple[FakeLog, Hub], monkeypatch: pytest.MonkeyPatch
) -> None:
    log, hub = hall
    wire = Wire()
    socket, _task = await open_socket(hub, wire, monkeypatch)
    hub.publish_local(log.add(1))
    wire.writable.clear()  # the client stops reading
    hub.publish_local(log.add(1))  # this send now waits
    hub.publish_local(log.add(3))  # these go to the buffer
    await asyncio.sleep(0.05)
    assert wire.sent == [("queue", 1)]
    assert socket.sub.sending_since is not None  # type: ignore[union-attr]
    wire.writable.set()  # the client reads again
    await asyncio.sleep(0.05)
    assert wire.sent == [("queue", n) for n in range(1, 6)]
    hub.publish_local(log.add(1))  # idle again: direct once more
    assert wire.sent[-1] == ("queue", 6)
    assert socket.sub.sending_since is None  # type: ignore[union-attr]


async def test_a_backlog_behind_a_waiting_send_becomes_a_snapshot(
    hall: tuple[FakeLog, Hub], monkeypatch: pytest.MonkeyPatch
) -> None:
    log, hub = hall
    wire = Wire()
    await open_socket(hub, wire, monkeypatch)
    wire.writable.clear()
    hub.publish_local(log.add(1))  # waits
    hub.publish_local(log.add(10))  # more than the buffer holds
    wire.writable.set()
    await asyncio.sleep(0.05)
    assert wire.sent == [("queue", 1), ("snapshot", 11)]
    hub.publish_local(log.add(1))
    assert wire.sent[-1] == ("queue", 12)


async def test_a_client_gone_mid_send_ends_the_socket(
    hall: tuple[FakeLog, Hub], monkeypatch: pytest.MonkeyPatch
) -> None:
    log, hub = hall
    wire = Wire()
    _socket, task = await open_socket(hub, wire, monkeypatch)
    wire.gone = True
    hub.publish_local(log.add(1))  # fails inside the fan-out; the hub goes on
    with pytest.raises(routes.WebSocketDisconnect):
        await asyncio.wait_for(task, 5)
    wire.writable.clear()
    wire.gone = False
    # A waiting send whose socket is cancelled (the hub's stuck-socket check) is closed.
    socket, task = await open_socket(hub, wire, monkeypatch)
    hub.publish_local(log.add(1))
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert socket._unfinished is None
