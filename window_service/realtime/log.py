"""Reading the hall's event log."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import Database
from ..ledger import HallEvent, HallLedger
from ..transaction import Event


async def events_after(session: AsyncSession, hall_id: int, after: int, limit: int) -> list[Event]:
    rows = await session.execute(
        select(HallEvent)
        .where(HallEvent.hall_id == hall_id, HallEvent.seq > after)  # type: ignore[arg-type]
        .order_by(HallEvent.seq)  # type: ignore[arg-type]
        .limit(limit)
    )
    return [Event(e.hall_id, e.seq, e.type, e.payload) for e in rows.scalars()]


async def last_seq(session: AsyncSession, hall_id: int) -> int:
    value = (
        await session.execute(
            select(HallLedger.last_event_seq).where(HallLedger.hall_id == hall_id)  # type: ignore[call-overload]
        )
    ).scalar_one_or_none()
    return int(value or 0)


class EventLog:
    """The hub's view of the log, through short read transactions."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def fetch(self, hall_id: int, after: int, limit: int) -> list[Event]:
        async with self._db.read() as session:
            return await events_after(session, hall_id, after, limit)

    async def last_seq(self, hall_id: int) -> int:
        async with self._db.read() as session:
            return await last_seq(session, hall_id)
