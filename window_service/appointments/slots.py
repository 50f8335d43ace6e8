"""预约时段: a hall's appointment settings, a service's slots and the seats they offer."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..cases.calendar import WorkCalendar
from ..halls.lookup import business_day, hall_zone
from ..halls.models import Hall, Service, Window, WindowService
from .models import (
    AppointmentPolicy,
    AppointmentSlot,
    ServiceAppointment,
)


async def policy_of(session: AsyncSession, hall_id: int) -> AppointmentPolicy:
    """The hall's appointment rules (the defaults when the office never changed them)."""
    row = await session.get(AppointmentPolicy, hall_id)
    return row if row is not None else AppointmentPolicy(hall_id=hall_id)


async def service_settings(session: AsyncSession, service: Service) -> ServiceAppointment:
    assert service.id is not None
    row = await session.get(ServiceAppointment, service.id)
    return row if row is not None else ServiceAppointment(service_id=service.id)


async def slot_capacity(
    session: AsyncSession, service: Service, policy: AppointmentPolicy, cfg: ServiceAppointment
) -> int:
    """Seats a slot offers for booking: its whole capacity less the walk-in share."""
    total = cfg.capacity
    if total is None:
        windows = int(
            (
                await session.execute(
                    select(func.count())
                    .select_from(WindowService)
                    .join(Window, Window.id == WindowService.window_id)  # type: ignore[arg-type]
                    .where(
                        WindowService.service_id == service.id,  # type: ignore[arg-type]
                        Window.status != "closed",  # type: ignore[arg-type]
                    )
                )
            ).scalar_one()
        )
        total = windows * cfg.slot_minutes // max(1, service.default_service_minutes)
    return total * (100 - policy.walk_in_percent) // 100


@dataclass(frozen=True)
class Slot:
    """预约时段 in hall time."""

    start: time
    end: time
    capacity: int
    available: int

    def starts_at(self, hall: Hall, day: date) -> datetime:
        return datetime.combine(day, self.start, hall_zone(hall))

    def ends_at(self, hall: Hall, day: date) -> datetime:
        return datetime.combine(day, self.end, hall_zone(hall))


def slot_times(policy: AppointmentPolicy, minutes: int) -> list[tuple[time, time]]:
    out = []
    day = date(2000, 1, 3)
    at = datetime.combine(day, policy.opens)
    closes = datetime.combine(day, policy.closes)
    step = timedelta(minutes=minutes)
    while at + step <= closes:
        out.append((at.time(), (at + step).time()))
        at += step
    return out


def bookable_day(
    hall: Hall, policy: AppointmentPolicy, calendar: WorkCalendar, day: date, now: datetime
) -> bool:
    today = business_day(hall, now)
    if day < today or day > today + timedelta(days=policy.days_ahead):
        return False
    return calendar.is_working_day(day)


async def slots_for(
    session: AsyncSession,
    hall: Hall,
    service: Service,
    day: date,
    now: datetime,
    calendar: WorkCalendar,
) -> list[Slot]:
    """The service's slots on ``day`` with their free seats (none on closed days); slots that
    have started offer no seat."""
    assert hall.id is not None and service.id is not None
    policy = await policy_of(session, hall.id)
    cfg = await service_settings(session, service)
    if not cfg.enabled or not bookable_day(hall, policy, calendar, day, now):
        return []
    capacity = await slot_capacity(session, service, policy, cfg)
    booked: dict[time, int] = dict(
        (
            await session.execute(
                select(AppointmentSlot.start, AppointmentSlot.booked).where(
                    AppointmentSlot.service_id == service.id,  # type: ignore[arg-type]
                    AppointmentSlot.day == day,  # type: ignore[arg-type]
                )
            )
        ).all()
    )
    zone = hall_zone(hall)
    out = []
    for start, end in slot_times(policy, cfg.slot_minutes):
        started = datetime.combine(day, start, zone) <= now
        free = 0 if started else max(0, capacity - int(booked.get(start, 0)))
        out.append(Slot(start, end, capacity, free))
    return out
