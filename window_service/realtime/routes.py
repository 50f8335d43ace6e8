"""The display websocket: ``/ws/halls/{hall}/display[?after=SEQ]``.

Snapshot (or replay from ``after``), then live events in sequence order, with a heartbeat at
least every ``ws_heartbeat_seconds``. Public and read-only; a socket opened from a signed-in
staff page also receives the payload of office events.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from ..api.errors import ApiError
from ..halls.lookup import get_hall
from ..state import AppState, app_state
from .hub import RESYNC, Outgoing, encode
from .log import events_after
from .snapshot import snapshot

MAX_REPLAY = 5000


async def _send_snapshot(ws: WebSocket, state: AppState, hall_code: str) -> int:
    async with state.db.read() as session:
        if state.db.dialect == "postgresql":
            await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
        hall = await get_hall(session, hall_code)
        message = await snapshot(session, hall, state.clock.now())
    await ws.send_text(json.dumps(message, ensure_ascii=False, separators=(",", ":")))
    return int(message["seq"])


async def _replay(
    ws: WebSocket, state: AppState, hall_id: int, after: int, until: int | None, private: bool
) -> int:
    """Send logged events with seq in (after, until]; returns the last seq sent."""
    last = after
    while True:
        async with state.db.read() as session:
            events = await events_after(session, hall_id, last, 500)
        for event in events:
            if until is not None and event.seq > until:
                return last
            item = encode(event)
            await ws.send_text(item.private_text if private else item.public_text)
            last = event.seq
        if len(events) < 500:
            return last


async def display_socket(ws: WebSocket) -> None:
    state = app_state(ws)
    hall_code = ws.path_params["hall"]
    try:
        async with state.db.read() as session:
            hall = await get_hall(session, hall_code)
    except ApiError:
        await ws.close(code=4404, reason="unknown hall")
        return
    assert hall.id is not None
    hall_id = hall.id
    try:
        principal = await state.auth.authenticate(ws)
    except ApiError:
        principal = None
    private = principal is not None and principal.is_user and principal.hall_id == hall_id
    after_raw = ws.query_params.get("after")
    after: int | None = None
    if after_raw is not None and after_raw.isdigit() and len(after_raw) < 18:
        after = int(after_raw)
    await ws.accept()
    subscriber = await state.hub.subscribe(hall_id)
    try:
        current = await state.events.last_seq(hall_id)
        if after is not None and after <= current and current - after <= MAX_REPLAY:
            last = await _replay(ws, state, hall_id, after, None, private)
        else:
            last = await _send_snapshot(ws, state, hall_code)
        heartbeat = state.settings.ws_heartbeat_seconds
        receiver = asyncio.ensure_future(_drain_incoming(ws))
        try:
            while not receiver.done():
                try:
                    item: Outgoing = await asyncio.wait_for(subscriber.queue.get(), heartbeat)
                except TimeoutError:
                    await ws.send_text(json.dumps({"type": "heartbeat", "seq": last}))
                    continue
                if item is RESYNC:
                    last = await _send_snapshot(ws, state, hall_code)
                    continue
                if item.seq <= last:
                    continue
                if item.seq > last + 1:
                    last = await _replay(ws, state, hall_id, last, item.seq - 1, private)
                await ws.send_text(item.private_text if private else item.public_text)
                last = item.seq
        finally:
            receiver.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await receiver
    except (WebSocketDisconnect, RuntimeError, ConnectionError):
        pass
    finally:
        state.hub.unsubscribe(subscriber)


async def _drain_incoming(ws: WebSocket) -> Any:
    """Displays send nothing that matters; read (and ignore) until the socket closes."""
    while True:
        message = await ws.receive()
        if message["type"] == "websocket.disconnect":
            return None


routes = [WebSocketRoute("/ws/halls/{hall}/display", display_socket)]
