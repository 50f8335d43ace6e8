"""预约统计: a day's appointments, check-ins, no-shows, remote tickets and waits."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..queue.models import Ticket
from .models import (
    Appointment,
    RemoteTicket,
)
from .service import CANCELLED, CHECKED_IN, NO_SHOW


async def day_figures(session: AsyncSession, hall_id: int, day: date) -> dict[str, Any]:
    """预约统计 of a day: bookings, check-ins (on time), no-shows, remote tickets, and the mean
    wait (from the start of the wait, a remote ticket's check-in, to the call) of booked and
    of walk-in citizens."""
    by_status: dict[str, int] = dict(
        (
            await session.execute(
                select(Appointment.status, func.count())
                .where(Appointment.hall_id == hall_id, Appointment.day == day)  # type: ignore[arg-type]
                .group_by(Appointment.status)  # type: ignore[arg-type]
            )
        ).all()
    )
    on_time = (
        await session.execute(
            select(func.count()).where(
                Appointment.hall_id == hall_id,  # type: ignore[arg-type]
                Appointment.day == day,  # type: ignore[arg-type]
                Appointment.on_time.is_(True),  # type: ignore[union-attr]
            )
        )
    ).scalar_one()
    booked_ids = select(Appointment.ticket_id).where(
        Appointment.hall_id == hall_id,  # type: ignore[arg-type]
        Appointment.day == day,  # type: ignore[arg-type]
        Appointment.ticket_id.is_not(None),  # type: ignore[union-attr]
    )
    called = (
        await session.execute(
            select(Ticket.id, Ticket.waiting_since, Ticket.called_at).where(
                Ticket.hall_id == hall_id,  # type: ignore[arg-type]
                Ticket.business_day == day,  # type: ignore[arg-type]
                Ticket.called_at.is_not(None),  # type: ignore[union-attr]
            )
        )
    ).all()
    booked_set = set((await session.execute(booked_ids)).scalars())
    remote_rows = (
        await session.execute(
            select(RemoteTicket.ticket_id, RemoteTicket.checked_in_at).where(
                RemoteTicket.hall_id == hall_id,  # type: ignore[arg-type]
                RemoteTicket.business_day == day,  # type: ignore[arg-type]
            )
        )
    ).all()
    booked_waits: list[float] = []
    walk_in_waits: list[float] = []
    for ticket_id, waiting_since, called_at in called:
        if waiting_since is None:
            continue
        minutes = (called_at - waiting_since).total_seconds() / 60
        (booked_waits if ticket_id in booked_set else walk_in_waits).append(minutes)

    def mean(values: list[float]) -> float | None:
        return round(sum(values) / len(values), 1) if values else None

    return {
        "booked": sum(v for k, v in by_status.items() if k != CANCELLED),
        "cancelled": int(by_status.get(CANCELLED, 0)),
        "checked_in": int(by_status.get(CHECKED_IN, 0)),
        "checked_in_on_time": int(on_time),
        "no_shows": int(by_status.get(NO_SHOW, 0)),
        "remote_tickets": len(remote_rows),
        "remote_checked_in": sum(1 for _, at in remote_rows if at is not None),
        "average_wait_booked_minutes": mean(booked_waits),
        "average_wait_walk_in_minutes": mean(walk_in_waits),
    }
