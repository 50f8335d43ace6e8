"""Fair priority (公平叫号): whom a window calls next.

Green-channel tickets (绿色通道) and on-time appointments (预约) go first, then queue time,
across the services the window serves. But a stream of green tickets must not starve ordinary
citizens: after ``hall.priority_streak_limit`` *(default 3)* green calls in a row at a window,
while an ordinary ticket the window could call has waited longer than its service's wait
target, the window calls the oldest such ticket (by queue time) and the streak starts again.

A wait counts from ``Ticket.waiting_since`` (a remote ticket's check-in, else its queue time);
a ticket transferred to a named window (``target_window_id``) is called at that window only.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..halls.lookup import business_day
from ..halls.models import Hall, Service, Window
from . import rules
from .models import Ticket, TicketEvent


def callable_at(window_id: int) -> Any:
    """The tickets a window may call: those not transferred to another named window."""
    return or_(
        Ticket.target_window_id.is_(None),  # type: ignore[union-attr]
        Ticket.target_window_id == window_id,  # type: ignore[arg-type]
    )


def past_wait_target(services: Sequence[Service], now: datetime) -> Any:
    """Tickets that have waited longer than their service's wait target by ``now``."""
    return or_(
        *(
            and_(
                Ticket.service_id == svc.id,  # type: ignore[arg-type]
                Ticket.waiting_since < now - timedelta(minutes=svc.wait_target_minutes),  # type: ignore[operator, arg-type]
            )
            for svc in services
        )
    )


async def green_streak(session: AsyncSession, window_id: int, limit: int) -> int:
    """How many of the window's latest calls in a row were green (counted up to ``limit``)."""
    if limit <= 0:
        return 0
    rows = await session.execute(
        select(Ticket.green)
        .join(TicketEvent, TicketEvent.ticket_id == Ticket.id)  # type: ignore[arg-type]
        .where(
            TicketEvent.window_id == window_id,  # type: ignore[arg-type]
            TicketEvent.action == "called",  # type: ignore[arg-type]
        )
        .order_by(TicketEvent.id.desc())  # type: ignore[union-attr]
        .limit(limit)
    )
    streak = 0
    for (green,) in rows.all():
        if not green:
            break
        streak += 1
    return streak


async def next_ticket(
    session: AsyncSession, hall: Hall, window: Window, services: Sequence[Service], now: datetime
) -> Ticket | None:
    """The ticket ``window`` calls now, locked (SKIP LOCKED on PostgreSQL), or None."""
    assert window.id is not None
    if not services:
        return None
    lock = session.bind is not None and session.bind.dialect.name == "postgresql"
    line: list[Any] = [
        Ticket.hall_id == hall.id,  # type: ignore[arg-type]
        Ticket.service_id.in_([s.id for s in services]),  # type: ignore[attr-defined]
        Ticket.status == rules.WAITING,  # type: ignore[arg-type]
        Ticket.business_day == business_day(hall, now),  # type: ignore[arg-type]
        callable_at(window.id),
    ]
    first = (
        select(Ticket)
        .where(*line)
        .order_by(Ticket.green.desc(), Ticket.queued_at, Ticket.id)  # type: ignore[attr-defined, arg-type]
        .limit(1)
    )
    if lock:
        first = first.with_for_update(skip_locked=True)
    ticket = (await session.execute(first)).scalar_one_or_none()
    if ticket is None or not ticket.green:
        return ticket
    limit = hall.priority_streak_limit
    if limit > 0 and await green_streak(session, window.id, limit) < limit:
        return ticket
    overdue = (
        select(Ticket)
        .where(*line, Ticket.green.is_(False), past_wait_target(services, now))  # type: ignore[attr-defined]
        .order_by(Ticket.queued_at, Ticket.id)  # type: ignore[arg-type]
        .limit(1)
    )
    if lock:
        overdue = overdue.with_for_update(skip_locked=True)
    return (await session.execute(overdue)).scalar_one_or_none() or ticket
