"""The in-process hub: delivers the hall's events, in order and without gaps, to live sockets.

The event log in the database is the truth. The hub learns of new events either directly
(``publish_local``: a transaction of this process committed) or by a wake-up from another
process (``wake``: PostgreSQL NOTIFY), or by its own periodic look at the log (``poll``: the
safety net for lost wake-ups and for writers that do not publish, e.g. the CLI). Whenever what
it learns does not directly follow the last event it delivered, one catch-up worker per hall
reads the missing events from the log, so a late or lost wake-up, or two commits whose
callbacks ran out of order, never lose or reorder an event. Wake-ups that arrive while the
worker runs are coalesced into its next read.

Each subscriber (one per socket) has a bounded buffer that the socket's task drains. One that
falls more than ``queue_size`` events behind is not waited for: its buffer is dropped and it is
flagged for resync, which the socket answers with a fresh snapshot (see ``routes.py``; the
buffers and what each socket may read are in ``subscriber.py``).
Heartbeats come from one timer for all subscribers, not one per socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from ..transaction import Event
from .subscriber import Subscriber, encode

log = logging.getLogger("window_service.realtime")

#: How many events one catch-up read takes from the log.
FETCH_BATCH = 500
#: Heartbeats go out in this many rounds per interval, so 10,000 sockets never beat at once.
HEARTBEAT_ROUNDS = 8

FetchEvents = Callable[[int, int, int], Awaitable[list[Event]]]
LastSeq = Callable[[int], Awaitable[int]]


class _Hall:
    """The hub's state for one hall with at least one subscriber."""

    __slots__ = ("delivered", "hall_id", "init", "known", "subscribers", "worker")

    def __init__(self, hall_id: int) -> None:
        self.hall_id = hall_id
        self.subscribers: set[Subscriber] = set()
        #: The last seq fanned out; None until the first subscriber has read it from the log.
        self.delivered: int | None = None
        #: The highest seq anyone told us exists (may run ahead of ``delivered``).
        self.known = 0
        self.init: asyncio.Task[int] | None = None
        self.worker: asyncio.Task[None] | None = None


class Hub:
    def __init__(
        self,
        fetch_events: FetchEvents,
        last_seq: LastSeq,
        queue_size: int,
        *,
        heartbeat_seconds: float = 15.0,
        poll_seconds: float = 5.0,
    ) -> None:
        self._fetch = fetch_events
        self._last_seq = last_seq
        self._queue_size = queue_size
        self.heartbeat_seconds = max(0.05, heartbeat_seconds)
        self._poll_seconds = max(0.05, poll_seconds)
        #: A send blocked this long (the client does not read) ends its socket.
        self.stuck_seconds = max(30.0, 3 * heartbeat_seconds)
        self._halls: dict[int, _Hall] = {}
        self._background: asyncio.Task[None] | None = None
        self._closed = False
        self._joined = 0
        self.delivered_events = 0

    # -- subscribers ------------------------------------------------------------------
    async def subscribe(self, hall_id: int) -> Subscriber:
        """Register a socket. Every event after ``delivered(hall_id)`` reaches its buffer."""
        if self._closed:
            raise RuntimeError("hub closed")
        self._ensure_background()
        hall = self._halls.get(hall_id)
        if hall is None:
            hall = self._halls[hall_id] = _Hall(hall_id)
        self._joined += 1
        subscriber = Subscriber(hall_id, self._queue_size, self._joined % HEARTBEAT_ROUNDS)
        subscriber.task = asyncio.current_task()
        hall.subscribers.add(subscriber)
        if hall.delivered is None:
            if hall.init is None:
                hall.init = asyncio.ensure_future(self._last_seq(hall_id))
            init = hall.init
            try:
                start = await asyncio.shield(init)
            except BaseException:
                if hall.init is init and init.done():
                    hall.init = None  # the next subscriber tries again
                self.unsubscribe(subscriber)
                raise
            if self._halls.get(hall_id) is hall and hall.delivered is None:
                hall.delivered = start
                hall.init = None
                # Events committed while we read: the worker fetches them.
                self._kick(hall_id, hall)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        subscriber.close()
        hall = self._halls.get(subscriber.hall_id)
        if hall is None:
            return
        hall.subscribers.discard(subscriber)
        if not hall.subscribers:
            # Nobody listens: forget the hall (a running worker notices and stops).
            del self._halls[subscriber.hall_id]

    def delivered(self, hall_id: int) -> int | None:
        hall = self._halls.get(hall_id)
        return None if hall is None else hall.delivered

    def client_count(self) -> int:
        return sum(len(h.subscribers) for h in self._halls.values())

    def halls(self) -> list[int]:
        return list(self._halls)

    # -- incoming -------------------------------------------------------------------
    def publish_local(self, events: list[Event]) -> None:
        """Events this process just committed (called right after COMMIT)."""
        by_hall: dict[int, list[Event]] = {}
        for event in events:
            by_hall.setdefault(event.hall_id, []).append(event)
        for hall_id, hall_events in by_hall.items():
            hall = self._halls.get(hall_id)
            if hall is None:
                continue
            hall.known = max(hall.known, hall_events[-1].seq)
            if hall.delivered is None:
                continue  # the first subscriber is still reading; it kicks the worker
            if hall.worker is None and hall_events[0].seq == hall.delivered + 1:
                self._fan_out(hall, hall_events)
            elif hall_events[-1].seq > hall.delivered:
                self._kick(hall_id, hall)

    def wake(self, hall_id: int, seq: int) -> None:
        """Another process committed events up to ``seq`` (a NOTIFY)."""
        hall = self._halls.get(hall_id)
        if hall is None:
            return
        hall.known = max(hall.known, seq)
        if hall.delivered is not None and seq > hall.delivered:
            self._kick(hall_id, hall)

    async def poll(self) -> None:
        """Look at the log of every watched hall: the safety net for lost wake-ups."""
        for hall_id, hall in list(self._halls.items()):
            if hall.delivered is None or hall.worker is not None:
                continue
            seq = await self._last_seq(hall_id)
            self.wake(hall_id, seq)

    async def catch_up(self, hall_id: int) -> None:
        """Deliver whatever the log has beyond what was delivered, and wait until done."""
        hall = self._halls.get(hall_id)
        if hall is None or hall.delivered is None:
            return
        hall.known = max(hall.known, hall.delivered + 1)  # make the worker read at least once
        self._kick(hall_id, hall)
        worker = hall.worker
        if worker is not None:
            with contextlib.suppress(Exception):
                await asyncio.shield(worker)

    async def catch_up_all(self) -> None:
        for hall_id in self.halls():
            await self.catch_up(hall_id)

    # -- internals ------------------------------------------------------------------
    def _kick(self, hall_id: int, hall: _Hall) -> None:
        if hall.worker is None and not self._closed:
            hall.worker = asyncio.ensure_future(self._work(hall_id, hall))

    async def _work(self, hall_id: int, hall: _Hall) -> None:
        try:
            while self._halls.get(hall_id) is hall and hall.delivered is not None:
                after = hall.delivered
                events = await self._fetch(hall_id, after, FETCH_BATCH)
                if self._halls.get(hall_id) is not hall:
                    return
                if events:
                    self._fan_out(hall, events)
                if len(events) < FETCH_BATCH and hall.delivered >= hall.known:
                    return
                if not events:
                    # Told of events the log does not show (yet): stop; the poll looks again.
                    hall.known = hall.delivered
                    return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("event catch-up failed for hall %s", hall_id)
        finally:
            if hall.worker is asyncio.current_task():
                hall.worker = None

    def _fan_out(self, hall: _Hall, events: list[Event]) -> None:
        last = hall.delivered
        assert last is not None
        subscribers = hall.subscribers
        for event in events:
            if event.seq <= last:
                continue
            if event.seq != last + 1:
                break  # a gap: the worker reads the log from ``last``
            item = encode(event)
            for subscriber in subscribers:
                subscriber.offer(item)
            last = event.seq
            self.delivered_events += 1
        hall.delivered = last
        hall.known = max(hall.known, last)
        if hall.known > last:
            self._kick(hall.hall_id, hall)

    def _ensure_background(self) -> None:
        if self._background is None or self._background.done():
            self._background = asyncio.ensure_future(self._tick())

    async def _tick(self) -> None:
        """Heartbeats for every socket, stuck-socket detection, and the periodic log poll.

        Every ``heartbeat_seconds / HEARTBEAT_ROUNDS`` one round of sockets gets its beat, so
        each socket beats once per ``heartbeat_seconds`` and the work is spread out.
        """
        step = self.heartbeat_seconds / HEARTBEAT_ROUNDS
        round_ = 0
        next_beat = time.monotonic() + step
        next_poll = time.monotonic() + self._poll_seconds
        while not self._closed:
            await asyncio.sleep(max(0.005, min(next_beat, next_poll) - time.monotonic()))
            now = time.monotonic()
            if now >= next_beat:
                next_beat += step
                if next_beat < now:  # the loop was blocked: do not beat in a burst
                    next_beat = now + step
                round_ = (round_ + 1) % HEARTBEAT_ROUNDS
                for hall in list(self._halls.values()):
                    for subscriber in list(hall.subscribers):
                        if subscriber.bucket != round_:
                            continue
                        since = subscriber.sending_since
                        if since is not None and now - since > self.stuck_seconds:
                            self._drop_stuck(subscriber)
                        else:
                            subscriber.beat()
            if now >= next_poll:
                next_poll = now + self._poll_seconds
                try:
                    await self.poll()
                except Exception as exc:
                    log.warning("event log poll failed: %s", exc)

    def _drop_stuck(self, subscriber: Subscriber) -> None:
        """A client that has not read for ``stuck_seconds``: end its socket handler."""
        log.warning("display socket not reading for %.0fs; closing it", self.stuck_seconds)
        subscriber.stuck = True
        self.unsubscribe(subscriber)
        if subscriber.task is not None and not subscriber.task.done():
            subscriber.task.cancel()

    async def close(self) -> None:
        """Server shutdown: wake every socket so it ends, and stop the background work."""
        self._closed = True
        for hall in list(self._halls.values()):
            for subscriber in list(hall.subscribers):
                subscriber.close()
        tasks = [t for h in self._halls.values() for t in (h.worker, h.init) if t is not None]
        if self._background is not None:
            tasks.append(self._background)
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._halls.clear()
