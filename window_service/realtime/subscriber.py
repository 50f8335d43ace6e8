"""What a socket receives from the hub: each event encoded once (``Outgoing``), who reads an
``office.*`` payload (``Audience``), and the socket's bounded buffer (``Subscriber``): one
that falls more than its size behind drops its backlog and is flagged for resync.
"""

from __future__ import annotations

import asyncio
import json
from collections import deque
from dataclasses import dataclass

from ..transaction import Event

#: Types whose payload only the office sees (``Audience``); others get ``{"type", "seq"}``.
PRIVATE_PREFIX = "office."


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One event, encoded once for every socket (public and office forms)."""

    seq: int
    public_text: str
    private_text: str
    #: The department an ``office.*`` event concerns (None: the whole hall).
    department_id: int | None = None


@dataclass(frozen=True, slots=True)
class Audience:
    """Who reads a socket's ``office.*`` payloads (效能办 data: ratings, cases, applicants).

    The hall's inspectors and admins read them all (``everything``); a department head those
    of their own departments; anyone else (window staff, displays, the public) reads
    ``{"type", "seq"}`` only. An ``office.*`` event naming no department is not a head's.
    """

    everything: bool = False
    departments: frozenset[int] = frozenset()

    def text(self, item: Outgoing) -> str:
        if item.private_text is item.public_text or self.everything:
            return item.private_text
        if item.department_id is not None and item.department_id in self.departments:
            return item.private_text
        return item.public_text


#: The audience of a socket that reads no ``office.*`` payload.
PUBLIC_AUDIENCE = Audience()


def dumps(message: object) -> str:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


def encode(event: Event) -> Outgoing:
    private = dumps(event.message())
    if event.type.startswith(PRIVATE_PREFIX):
        public = dumps({"type": event.type, "seq": event.seq})
        return Outgoing(event.seq, public, private, event.department_id)
    return Outgoing(event.seq, private, private)


class Subscriber:
    """A socket's view of the hub: a bounded buffer of events plus flags, and one waiter."""

    __slots__ = (
        "_waiter",
        "bucket",
        "closed",
        "hall_id",
        "heartbeat_due",
        "items",
        "maxsize",
        "resync",
        "sending_since",
        "stuck",
        "task",
    )

    def __init__(self, hall_id: int, maxsize: int, bucket: int = 0) -> None:
        self.hall_id = hall_id
        self.maxsize = max(1, maxsize)
        #: Which heartbeat round this socket belongs to (spreads the beats over time).
        self.bucket = bucket
        self.items: deque[Outgoing] = deque()
        self.resync = False
        self.heartbeat_due = False
        self.closed = False
        #: Set by the socket while a send is in progress (monotonic seconds), else None.
        self.sending_since: float | None = None
        #: Set by the hub when a send has been blocked too long; the socket then ends.
        self.stuck = False
        self.task: asyncio.Task[object] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def offer(self, item: Outgoing) -> None:
        if self.closed:
            return
        if len(self.items) >= self.maxsize:
            # Too far behind: drop the backlog; the socket sends a fresh snapshot instead.
            self.items.clear()
            self.resync = True
        else:
            self.items.append(item)
        self._wake()

    def beat(self) -> None:
        self.heartbeat_due = True
        self._wake()

    def close(self) -> None:
        self.closed = True
        self._wake()

    def has_work(self) -> bool:
        return bool(self.items) or self.resync or self.heartbeat_due or self.closed

    async def wait(self) -> None:
        """Until there is something to do (an event, a resync, a heartbeat, or closing)."""
        while not self.has_work():
            waiter = asyncio.get_running_loop().create_future()
            self._waiter = waiter
            try:
                await waiter
            finally:
                self._waiter = None

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)
