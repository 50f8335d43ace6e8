"""The rules of appointments (预约): booking, cancelling, checking in, no-shows.

Slots and their seats are in ``slots.py``, the citizen's phone and name in ``citizens.py``,
remote tickets (网上取号) in ``remote.py``, a day's figures in ``figures.py``.

Slots: per service, on the hall's working days (the official calendar plus the years the
office entered), from the hall's appointment opening to its closing, of the service's slot
length. A slot's capacity is what the admin set for the service (or what the windows serving
it can take in the slot), less the share kept for walk-in citizens. Seats are counted in one
``appointment_slot`` row per slot: a booking takes a seat with one conditional UPDATE of that
row (``booked < capacity``), which PostgreSQL serializes by the row's lock and SQLite by its
single writer, so a slot never takes more than its capacity under any concurrency.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import ApiError, conflict, invalid, not_found
from ..cases.calendar import WorkCalendar
from ..chain import snapshot
from ..halls.lookup import hall_zone
from ..halls.models import Hall, Service
from ..queue import rules
from ..transaction import Tx
from .citizens import Citizen
from .models import (
    Appointment,
    AppointmentPolicy,
    AppointmentSlot,
)
from .slots import Slot, bookable_day, policy_of, service_settings, slot_capacity, slot_times

BOOKED = "booked"
CANCELLED = "cancelled"
CHECKED_IN = "checked_in"
NO_SHOW = "no_show"
STATUS_LABELS = {BOOKED: "已预约", CANCELLED: "已取消", CHECKED_IN: "已签到", NO_SHOW: "爽约"}


# -- booking ----------------------------------------------------------------------------------


async def _blocked_until(
    session: AsyncSession, policy: AppointmentPolicy, digest: str, now: datetime
) -> datetime | None:
    """爽约: ``no_show_limit`` no-shows within ``no_show_days`` block booking for
    ``block_days`` from the last of them."""
    since = now - timedelta(days=policy.no_show_days + policy.block_days)
    ends = sorted(
        (
            await session.execute(
                select(Appointment.ends_at).where(
                    Appointment.phone_digest == digest,  # type: ignore[arg-type]
                    Appointment.status == NO_SHOW,  # type: ignore[arg-type]
                    Appointment.ends_at >= since,  # type: ignore[arg-type, operator]
                )
            )
        ).scalars()
    )
    n = policy.no_show_limit
    window = timedelta(days=policy.no_show_days)
    until: datetime | None = None
    for i in range(n - 1, len(ends)):
        if ends[i] - ends[i - n + 1] <= window:
            end = ends[i] + timedelta(days=policy.block_days)
            if end > now:
                until = end if until is None else max(until, end)
    return until


async def _throttle(
    session: AsyncSession, policy: AppointmentPolicy, citizen: Citizen, now: datetime
) -> None:
    """黄牛: at most so many bookings per phone, and per address, within an hour (counted
    from this table; refused requests are not counted)."""
    hour_ago = now - timedelta(hours=1)
    checks: list[tuple[object, int]] = [
        (Appointment.phone_digest == citizen.phone_digest, policy.bookings_per_phone_hour)  # type: ignore[arg-type]
    ]
    if citizen.address:
        checks.append(
            (Appointment.client_address == citizen.address, policy.bookings_per_address_hour)  # type: ignore[arg-type]
        )
    for condition, limit in checks:
        count = (
            await session.execute(
                select(func.count()).where(
                    condition,  # type: ignore[arg-type]
                    Appointment.created_at >= hour_ago,  # type: ignore[arg-type, operator]
                )
            )
        ).scalar_one()
        if count >= limit:
            raise ApiError(
                429, "too_many_bookings", "预约过于频繁，请稍后再试 (too many bookings, try later)"
            )


def _active_key(service_id: int, day: date, digest: str) -> str:
    return f"{service_id}:{day.isoformat()}:{digest}"


async def _take_seat(
    session: AsyncSession, hall: Hall, service: Service, day: date, start: time, capacity: int
) -> int:
    """One seat of the slot (its counter row created on first use), or 409 ``slot_full``."""
    assert hall.id is not None and service.id is not None
    values = {"hall_id": hall.id, "service_id": service.id, "day": day, "start": start, "booked": 0}
    table = AppointmentSlot.__table__  # type: ignore[attr-defined]
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    ins = pg_insert(table) if dialect == "postgresql" else sqlite_insert(table)
    await session.execute(ins.values(values).on_conflict_do_nothing())
    c = table.c
    taken = (
        await session.execute(
            update(table)
            .where(
                c.service_id == service.id,
                c.day == day,
                c.start == start,
                c.booked < capacity,
            )
            .values(booked=c.booked + 1)
            .returning(c.id)
        )
    ).first()
    if taken is None:
        raise conflict("slot_full", "该时段已约满，请选择其他时段 (the slot is full)")
    return int(taken[0])


async def _free_seat(session: AsyncSession, slot_id: int) -> None:
    table = AppointmentSlot.__table__  # type: ignore[attr-defined]
    await session.execute(
        update(table)
        .where(table.c.id == slot_id, table.c.booked > 0)
        .values(booked=table.c.booked - 1)
    )


def _new_code() -> str:
    """预约码: 8 digits, easy to type at the kiosk."""
    return f"{secrets.randbelow(10**8):08d}"


async def book(
    tx: Tx,
    hall: Hall,
    service: Service,
    day: date,
    start: time,
    citizen: Citizen,
    calendar: WorkCalendar,
    *,
    replacing: Appointment | None = None,
) -> Appointment:
    """预约 a seat of a slot (``replacing``: the booking it moves, cancelled in the same
    transaction, so that its own day does not count against the new one)."""
    session = tx.session
    assert hall.id is not None and service.id is not None
    policy = await policy_of(session, hall.id)
    cfg = await service_settings(session, service)
    if not cfg.enabled:
        raise invalid("appointments_closed", "该事项不接受预约 (the service takes no bookings)")
    if not bookable_day(hall, policy, calendar, day, tx.now):
        raise invalid(
            "day_not_bookable", "该日期不可预约（非工作日或不在可预约范围内） (day not bookable)"
        )
    times = dict(slot_times(policy, cfg.slot_minutes))
    if start not in times:
        raise invalid("unknown_slot", "没有这个预约时段 (no such slot)")
    slot = Slot(start, times[start], 0, 0)
    starts_at, ends_at = slot.starts_at(hall, day), slot.ends_at(hall, day)
    if starts_at <= tx.now:
        raise invalid("slot_past", "该时段已开始或已过去 (the slot has already begun)")
    blocked = await _blocked_until(session, policy, citizen.phone_digest, tx.now)
    if blocked is not None:
        until = blocked.astimezone(hall_zone(hall)).date().isoformat()
        raise conflict(
            "booking_blocked",
            f"近期爽约次数过多，{until} 前不能预约 (too many no-shows; blocked until {until})",
        )
    if replacing is None:
        await _throttle(session, policy, citizen, tx.now)
    else:
        await cancel(tx, replacing, reason="rescheduled")
    key = _active_key(service.id, day, citizen.phone_digest)
    existing = (
        await session.execute(select(Appointment.id).where(Appointment.active_key == key))  # type: ignore[arg-type]
    ).first()
    if existing is not None:
        raise conflict(
            "already_booked",
            "该手机号当天已预约此事项 (this phone already has a booking for the service that day)",
        )
    capacity = await slot_capacity(session, service, policy, cfg)
    slot_id = await _take_seat(session, hall, service, day, start, capacity)
    appointment = Appointment(
        hall_id=hall.id,
        service_id=service.id,
        slot_id=slot_id,
        code=_new_code(),
        day=day,
        starts_at=starts_at,
        ends_at=ends_at,
        name=citizen.name,
        phone_masked=citizen.phone_masked,
        phone_digest=citizen.phone_digest,
        active_key=key,
        status=BOOKED,
        manage_token=secrets.token_urlsafe(24),
        client_address=citizen.address[:64],
        created_at=tx.now,
    )
    session.add(appointment)
    await session.flush()
    tx.audit("appointment.book", appointment)
    return appointment


async def by_token(session: AsyncSession, token: str, *, lock: bool = False) -> Appointment:
    if not (16 <= len(token) <= 64 and re.fullmatch(r"[A-Za-z0-9_-]+", token)):
        raise not_found("appointment", "没有这个预约 (unknown appointment)")
    stmt = select(Appointment).where(Appointment.manage_token == token)  # type: ignore[arg-type]
    if lock:
        stmt = stmt.with_for_update()
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise not_found("appointment", "没有这个预约 (unknown appointment)")
    return found


async def by_code(
    session: AsyncSession, hall_id: int, code: str, *, lock: bool = False
) -> Appointment:
    code = code.strip()
    if not re.fullmatch(r"\d{8}", code):
        raise not_found("appointment", "没有这个预约码 (unknown appointment code)")
    stmt = select(Appointment).where(
        Appointment.hall_id == hall_id,  # type: ignore[arg-type]
        Appointment.code == code,  # type: ignore[arg-type]
    )
    if lock:
        stmt = stmt.with_for_update()
    found = (await session.execute(stmt)).scalar_one_or_none()
    if found is None:
        raise not_found("appointment", "没有这个预约码 (unknown appointment code)")
    return found


async def cancel(tx: Tx, appointment: Appointment, *, reason: str = "") -> Appointment:
    """取消预约: the seat is released. Cancelling again changes nothing."""
    if appointment.status == CANCELLED:
        return appointment
    if appointment.status != BOOKED:
        label = STATUS_LABELS.get(appointment.status, appointment.status)
        raise conflict(
            "invalid_state",
            f"预约当前状态为「{label}」，不能取消 (the booking is {appointment.status})",
        )
    if appointment.starts_at <= tx.now:
        raise conflict("slot_begun", "预约时段已开始，不能取消或改约 (the slot has begun)")
    before = snapshot(appointment)
    appointment.status = CANCELLED
    appointment.active_key = None
    appointment.cancelled_at = tx.now
    await tx.session.flush()
    await _free_seat(tx.session, appointment.slot_id)
    tx.audit("appointment.cancel", appointment, before=before, reason=reason)
    return appointment


# -- check-in ---------------------------------------------------------------------------------


def check_in_priority(
    appointment: Appointment, policy: AppointmentPolicy, today: date, now: datetime
) -> str | None:
    """The ticket's priority at check-in: ``appointment`` on time (from ``early_minutes``
    before the slot's start to ``late_minutes`` after it), None later; 409 otherwise."""
    if appointment.status == CANCELLED:
        raise conflict("appointment_cancelled", "该预约已取消 (the booking was cancelled)")
    if appointment.status == NO_SHOW or (
        appointment.status == BOOKED and now >= appointment.ends_at
    ):
        raise conflict(
            "appointment_missed", "预约时段已结束，请现场取号 (the slot is over; take a ticket)"
        )
    if appointment.day != today:
        raise conflict("not_today", "不是今天的预约 (the booking is for another day)")
    opens = appointment.starts_at - timedelta(minutes=policy.early_minutes)
    if now < opens:
        raise conflict(
            "too_early",
            f"请于预约时段开始前 {policy.early_minutes} 分钟内签到 "
            f"(check in from {policy.early_minutes} minutes before the slot)",
        )
    on_time = now <= appointment.starts_at + timedelta(minutes=policy.late_minutes)
    return rules.APPOINTMENT if on_time else None


async def mark_checked_in(tx: Tx, appointment: Appointment, ticket_id: int, on_time: bool) -> None:
    if appointment.ticket_id is not None:
        return
    before = snapshot(appointment)
    appointment.status = CHECKED_IN
    appointment.checked_in_at = tx.now
    appointment.ticket_id = ticket_id
    appointment.on_time = on_time
    tx.audit("appointment.check_in", appointment, before=before)


async def mark_no_shows(tx: Tx, *, batch: int = 500) -> int:
    """爽约: bookings of the hall not checked in by the end of their slot."""
    rows = list(
        (
            await tx.session.execute(
                select(Appointment)
                .where(
                    Appointment.status == BOOKED,  # type: ignore[arg-type]
                    Appointment.ends_at <= tx.now,  # type: ignore[arg-type, operator]
                    Appointment.hall_id == tx.hall_id,  # type: ignore[arg-type]
                )
                .order_by(Appointment.id)  # type: ignore[arg-type]
                .limit(batch)
            )
        ).scalars()
    )
    for appointment in rows:
        before = snapshot(appointment)
        appointment.status = NO_SHOW
        tx.audit("appointment.no_show", appointment, before=before, reason="slot ended")
    return len(rows)


async def halls_with_due_no_shows(session: AsyncSession, now: datetime) -> Sequence[int]:
    rows = await session.execute(
        select(Appointment.hall_id)
        .where(Appointment.status == BOOKED, Appointment.ends_at <= now)  # type: ignore[arg-type, operator]
        .distinct()
    )
    return list(rows.scalars())
