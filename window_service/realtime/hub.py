"""The in-process hub: delivers the hall's events, in order and without gaps, to live sockets.

The event log in the database is the truth. The hub learns of new events either directly
(``publish_local``: a transaction of this process committed) or by a wake-up from another
process (``wake``: PostgreSQL NOTIFY). Whenever what it learns does not follow the last event
it delivered, it reads the missing events from the log, so a late or lost wake-up, or two
commits whose callbacks ran out of order, never lose or reorder an event.

Each subscriber has a bounded queue. One that falls too far behind is not waited for: its
queue is replaced by a single "resync" marker, and its socket sends a fresh snapshot.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..transaction import Event

log = logging.getLogger("window_service.realtime")

#: Types whose payload only signed-in staff see; others get ``{"type", "seq"}`` only.
PRIVATE_PREFIX = "office."

FetchEvents = Callable[[int, int, int], Awaitable[list[Event]]]
LastSeq = Callable[[int], Awaitable[int]]


@dataclass(frozen=True)
class Outgoing:
    seq: int
    public_text: str
    private_text: str


RESYNC = Outgoing(-1, "", "")


def encode(event: Event) -> Outgoing:
    message = event.message()
    private = json.dumps(message, ensure_ascii=False, separators=(",", ":"))
    if event.type.startswith(PRIVATE_PREFIX):
        public = json.dumps({"type": event.type, "seq": event.seq}, separators=(",", ":"))
    else:
        public = private
    return Outgoing(event.seq, public, private)


@dataclass(eq=False)
class Subscriber:
    hall_id: int
    maxsize: int
    queue: asyncio.Queue[Outgoing] = field(init=False)

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.maxsize)

    def offer(self, item: Outgoing) -> None:
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            # Too far behind: drop what is queued and tell the socket to resync.
            while not self.queue.empty():
                self.queue.get_nowait()
            self.queue.put_nowait(RESYNC)


class Hub:
    def __init__(self, fetch_events: FetchEvents, last_seq: LastSeq, queue_size: int) -> None:
        self._fetch = fetch_events
        self._last_seq = last_seq
        self._queue_size = queue_size
        self._subscribers: dict[int, set[Subscriber]] = {}
        self._delivered: dict[int, int] = {}
        self._locks: dict[int, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self.delivered_events = 0

    # -- subscribers ------------------------------------------------------------------
    async def subscribe(self, hall_id: int) -> Subscriber:
        subscriber = Subscriber(hall_id, self._queue_size)
        async with self._lock(hall_id):
            if hall_id not in self._delivered:
                self._delivered[hall_id] = await self._last_seq(hall_id)
            self._subscribers.setdefault(hall_id, set()).add(subscriber)
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        subs = self._subscribers.get(subscriber.hall_id)
        if subs is not None:
            subs.discard(subscriber)
            if not subs:
                del self._subscribers[subscriber.hall_id]
                self._delivered.pop(subscriber.hall_id, None)

    def client_count(self) -> int:
        return sum(len(s) for s in self._subscribers.values())

    def halls(self) -> list[int]:
        return list(self._subscribers)

    # -- incoming -------------------------------------------------------------------
    def publish_local(self, events: list[Event]) -> None:
        """Events this process just committed (called right after COMMIT)."""
        by_hall: dict[int, list[Event]] = {}
        for event in events:
            by_hall.setdefault(event.hall_id, []).append(event)
        for hall_id, hall_events in by_hall.items():
            if hall_id not in self._subscribers:
                continue
            last = self._delivered.get(hall_id, 0)
            if hall_events[0].seq == last + 1 and not self._lock(hall_id).locked():
                self._fan_out(hall_id, hall_events)
            else:
                self._spawn(self.catch_up(hall_id))

    def wake(self, hall_id: int, seq: int) -> None:
        """Another process committed events up to ``seq`` (a NOTIFY)."""
        if hall_id in self._subscribers and seq > self._delivered.get(hall_id, 0):
            self._spawn(self.catch_up(hall_id))

    async def catch_up(self, hall_id: int) -> None:
        """Read and deliver whatever the log has beyond what was delivered."""
        async with self._lock(hall_id):
            if hall_id not in self._subscribers:
                return
            while True:
                last = self._delivered.get(hall_id, 0)
                events = await self._fetch(hall_id, last, 500)
                if not events:
                    return
                self._fan_out(hall_id, events)
                if len(events) < 500:
                    return

    async def catch_up_all(self) -> None:
        for hall_id in self.halls():
            await self.catch_up(hall_id)

    # -- internals ------------------------------------------------------------------
    def _fan_out(self, hall_id: int, events: list[Event]) -> None:
        last = self._delivered.get(hall_id, 0)
        subscribers = self._subscribers.get(hall_id, ())
        for event in events:
            if event.seq <= last:
                continue
            if event.seq != last + 1:
                # Out of order: let the log fill the gap.
                self._spawn(self.catch_up(hall_id))
                break
            item = encode(event)
            for subscriber in subscribers:
                subscriber.offer(item)
            last = event.seq
            self.delivered_events += 1
        self._delivered[hall_id] = last

    def _lock(self, hall_id: int) -> asyncio.Lock:
        lock = self._locks.get(hall_id)
        if lock is None:
            lock = self._locks[hall_id] = asyncio.Lock()
        return lock

    def _spawn(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("event catch-up failed", exc_info=task.exception())

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        self._tasks.clear()
