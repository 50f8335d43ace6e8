"""The display's first message: the hall as it is now, with the sequence number it is as of.

The hub knows no domain. A snapshot's own fields are ``type``, ``seq``, the hall's name and
notice, and the hall's time; every other field comes from a part that a domain registers
(``app.py``'s ``SNAPSHOT_PARTS``): a function of the session, the hall, the time and the seq
that returns the fields it adds. Each part reads in the snapshot's one read transaction, so
together they show the hall as of ``seq``.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ..halls.lookup import get_hall, local_time
from ..halls.models import Hall
from ..state import AppState
from .log import last_seq
from .subscriber import dumps

#: A domain's part of the snapshot: ``part(session, hall, now, seq)`` → the fields it adds.
SnapshotPart = Callable[[AsyncSession, Hall, datetime, int], Awaitable[Mapping[str, Any]]]

#: A snapshot of a hall is reused for other sockets for this long if its seq still holds.
CACHE_SECONDS = 1.0


async def snapshot(
    session: AsyncSession, hall: Hall, now: datetime, parts: Iterable[SnapshotPart]
) -> dict[str, Any]:
    assert hall.id is not None
    seq = await last_seq(session, hall.id)
    message: dict[str, Any] = {
        "type": "snapshot",
        "seq": seq,
        "hall": {"code": hall.code, "name": hall.name, "notice": hall.notice},
        "now": local_time(hall, now).isoformat(),
    }
    for part in parts:
        message.update(await part(session, hall, now, seq))
    return message


class Snapshots:
    """The registered parts, and the last snapshot text of each hall (reused for a second)."""

    def __init__(self, parts: Iterable[SnapshotPart] = ()) -> None:
        self._parts: list[SnapshotPart] = list(parts)
        self._cache: dict[int, tuple[float, int, str]] = {}

    def register(self, part: SnapshotPart) -> None:
        self._parts.append(part)

    async def text(self, state: AppState, hall_id: int, hall_code: str) -> tuple[str, int]:
        """The hall's snapshot as JSON text, and its seq."""
        now = time.monotonic()
        cached = self._cache.get(hall_id)
        if cached is not None and now - cached[0] < CACHE_SECONDS:
            if cached[1] == state.hub.delivered(hall_id):
                return cached[2], cached[1]
        async with state.db.read() as session:
            if state.db.dialect == "postgresql":
                await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            hall = await get_hall(session, hall_code)
            message = await snapshot(session, hall, state.clock.now(), self._parts)
        seq = int(message["seq"])
        text = dumps(message)
        self._cache[hall_id] = (now, seq, text)
        return text, seq
