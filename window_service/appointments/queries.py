"""What the appointment endpoints read: a window's bookings of the day."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..halls.models import Service
from ..queue.models import Ticket
from . import service
from .models import Appointment, ServiceAppointment


async def upcoming(
    session: AsyncSession, service_ids: Collection[int], day: date, now: datetime
) -> list[tuple[Appointment, str, str | None]]:
    """The day's bookings of these services not yet over by half an hour, with the service's
    code and the ticket's number once checked in, in slot order."""
    rows = await session.execute(
        select(Appointment, Service.code, Ticket.number)
        .join(Service, Service.id == Appointment.service_id)  # type: ignore[arg-type]
        .outerjoin(Ticket, Ticket.id == Appointment.ticket_id)  # type: ignore[arg-type]
        .where(
            Appointment.service_id.in_(list(service_ids)),  # type: ignore[attr-defined]
            Appointment.day == day,  # type: ignore[arg-type]
            Appointment.status.in_((service.BOOKED, service.CHECKED_IN)),  # type: ignore[attr-defined]
            Appointment.ends_at > now - timedelta(minutes=30),  # type: ignore[arg-type, operator]
        )
        .order_by(Appointment.starts_at, Appointment.id)  # type: ignore[arg-type]
        .limit(200)
    )
    return [(a, code, number) for a, code, number in rows.all()]


async def active_services(session: AsyncSession, hall_id: int) -> list[Service]:
    """The hall's active services, in the kiosk's order."""
    stmt = (
        select(Service)
        .where(Service.hall_id == hall_id, Service.active.is_(True))  # type: ignore[arg-type, attr-defined]
        .order_by(Service.sort_order, Service.prefix)  # type: ignore[arg-type]
    )
    return list((await session.execute(stmt)).scalars())


async def bookable_services(session: AsyncSession, hall_id: int) -> list[Service]:
    """The hall's active services not switched off for booking, in the kiosk's order."""
    rows = await session.execute(
        select(Service, ServiceAppointment.enabled)
        .outerjoin(ServiceAppointment, ServiceAppointment.service_id == Service.id)  # type: ignore[arg-type]
        .where(Service.hall_id == hall_id, Service.active.is_(True))  # type: ignore[arg-type, attr-defined]
        .order_by(Service.sort_order, Service.prefix)  # type: ignore[arg-type]
    )
    return [svc for svc, enabled in rows.all() if enabled is not False]
