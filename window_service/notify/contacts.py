"""Keeping, moving and erasing the numbers alerts go to (only while a gateway is configured).

The callers (booking, remote tickets, check-in) write these in their own transaction; nothing
here emits an event or an audit record: the number is not a business record, and it must
never reach the chain or a screen.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from .models import AlertContact

_TABLE = AlertContact.__table__  # type: ignore[attr-defined]


async def keep(
    session: AsyncSession,
    hall_id: int,
    day: date,
    phone: str,
    now: datetime,
    *,
    ticket_id: int | None = None,
    appointment_id: int | None = None,
) -> None:
    """Keep ``phone`` for the alerts of a ticket or an appointment until ``day`` ends."""
    session.add(
        AlertContact(
            hall_id=hall_id,
            ticket_id=ticket_id,
            appointment_id=appointment_id,
            business_day=day,
            phone=phone,
            created_at=now,
        )
    )
    await session.flush()


async def move(
    session: AsyncSession, old_appointment_id: int, new_appointment_id: int, day: date
) -> None:
    """改约: the number follows the booking to its new slot (and day)."""
    await session.execute(
        update(_TABLE)
        .where(_TABLE.c.appointment_id == old_appointment_id, _TABLE.c.erased_at.is_(None))
        .values(appointment_id=new_appointment_id, business_day=day)
    )


async def attach(session: AsyncSession, appointment_id: int, ticket_id: int, day: date) -> None:
    """签到: the appointment's number now follows its ticket."""
    await session.execute(
        update(_TABLE)
        .where(
            _TABLE.c.appointment_id == appointment_id,
            _TABLE.c.ticket_id.is_(None),
            _TABLE.c.erased_at.is_(None),
        )
        .values(ticket_id=ticket_id, business_day=day)
    )


async def erase_for_appointment(session: AsyncSession, appointment_id: int, now: datetime) -> None:
    """A cancelled booking: its number is not needed any more."""
    await session.execute(
        update(_TABLE)
        .where(_TABLE.c.appointment_id == appointment_id, _TABLE.c.erased_at.is_(None))
        .values(phone=None, erased_at=now)
    )


async def erase_before(session: AsyncSession, hall_id: int, today: date, now: datetime) -> int:
    """Erase every number of the hall kept for a business day before ``today``."""
    result = await session.execute(
        update(_TABLE)
        .where(
            _TABLE.c.hall_id == hall_id,
            _TABLE.c.business_day < today,
            _TABLE.c.erased_at.is_(None),
        )
        .values(phone=None, erased_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
