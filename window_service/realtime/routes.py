"""The display websocket: ``/ws/halls/{hall}/display[?after=SEQ]``.

Protocol (public, read-only; every message is JSON with ``type`` and the hall's ``seq``):

- First a ``snapshot`` (the hall as of ``seq``), or, with ``?after=K``, every logged event with
  seq > K followed by a ``heartbeat`` carrying the last seq replayed. ``after`` beyond the
  current seq, more than ``MAX_REPLAY`` events old, or malformed gives a snapshot instead.
- Then live events in seq order, each exactly once, without gaps.
- ``heartbeat`` (``seq`` = the last seq sent, not advancing) every ``ws_heartbeat_seconds``.
- A client that falls more than ``ws_client_queue`` events behind (it does not read fast
  enough) gets a fresh ``snapshot`` in-band instead of the events it missed: a snapshot can
  therefore arrive at any time; it replaces the client's state and its seq may jump ahead.
- ``office.*`` events carry their payload only to sockets of the hall's inspectors and admins,
  and of its department heads for events of their own departments (signed in by a session
  cookie from a same-origin page, or a bearer token; see ``subscriber.Audience``); every other socket,
  window staff included, gets ``{"type", "seq"}`` only, so its seq stays contiguous.
- Close codes: 4404 unknown hall, 1011 server error, 1012 (from uvicorn) server restarting.
  Clients reconnect with ``?after=<last seq>``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC
from urllib.parse import urlsplit

from sqlalchemy import func, select
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect, WebSocketState

from ..api.dates import ascii_int
from ..api.errors import ApiError
from ..auth.principal import Principal
from ..auth.roles import ADMIN, HEAD, INSPECTOR
from ..halls.lookup import get_hall, local_time
from ..halls.models import Hall
from ..ledger import HallEvent
from ..state import AppState, app_state
from .log import events_after
from .snapshot import Snapshots
from .subscriber import PUBLIC_AUDIENCE, Audience, Subscriber, dumps, encode

log = logging.getLogger("window_service.realtime")

#: A reconnecting client further behind than this (and than today's first event) gets a
#: snapshot instead of a replay.
MAX_REPLAY = 5000


class _Socket:
    """One display connection: the socket, its subscription, and the last seq it was sent."""

    def __init__(
        self, ws: WebSocket, state: AppState, snapshots: Snapshots, hall_id: int, hall_code: str
    ) -> None:
        self.ws = ws
        self.state = state
        self.snapshots = snapshots
        self.hall_id = hall_id
        self.hall_code = hall_code
        self.audience = PUBLIC_AUDIENCE
        self.last = 0
        self.sub: Subscriber | None = None

    async def send(self, text: str) -> None:
        """Send one message; ``sending_since`` tells the hub how long a send has waited."""
        sub = self.sub
        if sub is not None:
            sub.sending_since = time.monotonic()
        try:
            await self.ws.send_text(text)  # a vanished client: WebSocketDisconnect
        finally:
            if sub is not None:
                sub.sending_since = None

    async def send_snapshot(self) -> None:
        text, seq = await self.snapshots.text(self.state, self.hall_id, self.hall_code)
        await self.send(text)
        self.last = seq

    async def replay(self, until: int | None) -> bool:
        """Send logged events after ``last`` (up to ``until``); False if too many."""
        if until is not None and until - self.last > MAX_REPLAY:
            return False
        while True:
            async with self.state.db.read() as session:
                events = await events_after(session, self.hall_id, self.last, 500)
            for event in events:
                if until is not None and event.seq > until:
                    return True
                item = encode(event)
                await self.send(self.audience.text(item))
                self.last = event.seq
            if len(events) < 500:
                return True

    async def start(self, after: int | None) -> None:
        """The first messages: a replay from ``after`` if possible, else a snapshot.

        Possible means: ``after`` is not beyond the hall's last event, and either at most
        ``MAX_REPLAY`` events back or within today's events (the contract's minimum).
        """
        if after is not None:
            current = await self.state.events.last_seq(self.hall_id)
            if after <= current and (
                current - after <= MAX_REPLAY or after >= await self.first_seq_today() - 1
            ):
                self.last = after
                await self.replay(None)
                await self.heartbeat()
                return
        await self.send_snapshot()

    async def first_seq_today(self) -> int:
        """The seq of the hall's first event of its current business day (or a huge number)."""
        async with self.state.db.read() as session:
            hall = await session.get(Hall, self.hall_id)
            assert hall is not None
            local = local_time(hall, self.state.clock.now())
            midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
            first = (
                await session.execute(
                    select(func.min(HallEvent.seq)).where(
                        HallEvent.hall_id == self.hall_id,  # type: ignore[arg-type]
                        HallEvent.created_at >= midnight.astimezone(UTC),  # type: ignore[arg-type]
                    )
                )
            ).scalar_one_or_none()
        return int(first) if first is not None else 2**62

    async def heartbeat(self) -> None:
        await self.send(dumps({"type": "heartbeat", "seq": self.last}))

    async def serve(self, after: int | None) -> None:
        """The first messages, then live events until the socket closes."""
        await self.start(after)
        await self.run()

    async def run(self) -> None:
        """Live events until the socket closes."""
        sub = self.sub
        assert sub is not None
        # Events the hub delivered before this socket's first message was read are not in
        # its buffer; fetch them from the log now rather than at the next event.
        delivered = self.state.hub.delivered(self.hall_id)
        if (
            delivered is not None
            and delivered > self.last
            and not sub.items
            and not await self.replay(delivered)
        ):
            await self.send_snapshot()
        while True:
            await sub.wait()
            if sub.closed:
                return
            if sub.resync:
                sub.resync = False
                await self.send_snapshot()
                continue
            items = sub.items
            while items and not sub.resync and not sub.closed:
                item = items.popleft()
                if item.seq <= self.last:
                    continue
                if item.seq > self.last + 1 and not await self.replay(item.seq - 1):
                    await self.send_snapshot()
                    continue
                await self.send(self.audience.text(item))
                self.last = item.seq
                if items:
                    # Let every other socket send this event before this one sends the next:
                    # a call is followed by its queue counts in the same commit, and the last
                    # of 1,000 displays should not wait for 999 sockets to send both.
                    await asyncio.sleep(0)
            if sub.heartbeat_due and not sub.closed:
                sub.heartbeat_due = False
                await self.heartbeat()


def _same_origin(ws: WebSocket) -> bool:
    """A browser page of another site must not borrow a signed-in user's cookie."""
    origin = ws.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == ws.headers.get("host", "").lower()


def audience_of(principal: Principal, hall_id: int) -> Audience:
    """Whose ``office.*`` payloads a signed-in caller's socket of ``hall_id`` reads."""
    if not principal.is_user or principal.hall_id != hall_id:
        return PUBLIC_AUDIENCE
    if principal.role in (INSPECTOR, ADMIN):
        return Audience(everything=True)
    if principal.role == HEAD and principal.department_ids:
        return Audience(departments=principal.department_ids)
    return PUBLIC_AUDIENCE


#: Close codes of the display socket (4000 + the HTTP status they stand for).
CLOSE_UNKNOWN_HALL = 4404


def _parse_after(raw: str | None) -> int | None:
    """``after`` as ASCII digits (at most 15), else None (``１２`` is not a number here)."""
    if raw is None or len(raw) > 15:
        return None
    return ascii_int(raw)


async def display_socket(ws: WebSocket, snapshots: Snapshots) -> None:
    state = app_state(ws)
    hall_code = ws.path_params["hall"]
    try:
        async with state.db.read() as session:
            hall = await get_hall(session, hall_code)
    except ApiError:
        # Closing before the handshake would answer HTTP 403; the client is told why instead.
        await ws.accept()
        await ws.close(code=CLOSE_UNKNOWN_HALL, reason="unknown hall")
        return
    assert hall.id is not None
    conn = _Socket(ws, state, snapshots, hall.id, hall_code)
    try:
        principal = await state.auth.authenticate(ws)
    except ApiError:
        principal = None
    if principal is not None and (not principal.via_session or _same_origin(ws)):
        conn.audience = audience_of(principal, hall.id)
    # An ``after`` that is not ASCII digits is no position: the socket starts with a snapshot.
    after = _parse_after(ws.query_params.get("after"))
    await ws.accept()
    try:
        conn.sub = await state.hub.subscribe(hall.id)
    except Exception:
        await ws.close(code=1011, reason="server error")
        return
    receiver = asyncio.ensure_future(_watch_disconnect(ws, conn.sub))
    # The sends run in a task of their own: a task resumed at the bottom of the ASGI stack
    # re-enters every middleware and routing frame above it (a dozen) at each wake-up, which
    # with 1,000 displays cost more CPU per call than the sends themselves (bench/display.py).
    sender = asyncio.ensure_future(conn.serve(after))
    conn.sub.task = sender  # what the hub cancels if the client stops reading
    try:
        await sender
    except asyncio.CancelledError:
        # The hub cancels a socket whose client has not read for a long time; end quietly.
        # Any other cancellation (server shutdown timing out) propagates.
        if not conn.sub.stuck:
            raise
    except (WebSocketDisconnect, ConnectionError, RuntimeError):
        pass  # the client went away mid-send
    except Exception:
        log.exception("display socket failed")
    finally:
        state.hub.unsubscribe(conn.sub)
        for task in (sender, receiver):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
    if (
        ws.application_state == WebSocketState.CONNECTED
        and ws.client_state == WebSocketState.CONNECTED
        and not conn.sub.stuck
    ):
        with contextlib.suppress(Exception):
            await ws.close(code=1001)


async def _watch_disconnect(ws: WebSocket, sub: Subscriber) -> None:
    """Displays send nothing that matters; read (and ignore) until the socket closes."""
    try:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
    finally:
        sub.close()


def display_routes(snapshots: Snapshots) -> list[BaseRoute]:
    """The display websocket, whose snapshots hold the parts registered in ``snapshots``."""

    async def endpoint(ws: WebSocket) -> None:
        await display_socket(ws, snapshots)

    return [WebSocketRoute("/ws/halls/{hall}/display", endpoint)]
