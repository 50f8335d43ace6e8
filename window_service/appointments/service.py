"""The rules of appointments (预约) and remote tickets (网上取号).

Slots: per service, on the hall's working days (the official calendar plus the years the
office entered), from the hall's appointment opening to its closing, of the service's slot
length. A slot's capacity is what the admin set for the service (or what the windows serving
it can take in the slot), less the share kept for walk-in citizens. Seats are counted in one
``appointment_slot`` row per slot: a booking takes a seat with one conditional UPDATE of that
row (``booked < capacity``), which PostgreSQL serializes by the row's lock and SQLite by its
single writer, so a slot never takes more than its capacity under any concurrency.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import ApiError, conflict, invalid, not_found
from ..cases.calendar import WorkCalendar
from ..chain import snapshot
from ..halls.lookup import business_day, hall_zone
from ..halls.models import Hall, Service, Window, WindowService
from ..queue import rules
from ..queue.models import Ticket
from ..transaction import Tx
from .models import (
    Appointment,
    AppointmentPolicy,
    AppointmentSlot,
    RemoteTicket,
    ServiceAppointment,
)

BOOKED = "booked"
CANCELLED = "cancelled"
CHECKED_IN = "checked_in"
NO_SHOW = "no_show"
STATUS_LABELS = {BOOKED: "已预约", CANCELLED: "已取消", CHECKED_IN: "已签到", NO_SHOW: "爽约"}

#: 中国大陆手机号.
PHONE = re.compile(r"^1[3-9]\d{9}$")


def normalize_phone(phone: str) -> str:
    """The phone as 11 digits (spaces, dashes and a +86 prefix dropped), or 422."""
    digits = re.sub(r"[\s-]", "", phone)
    if digits.startswith("+86"):
        digits = digits[3:]
    if not PHONE.match(digits):
        raise invalid("invalid_phone", "手机号码格式不正确 (not a mainland mobile number)")
    return digits


def phone_digest(secret: str, phone: str) -> str:
    """A keyed digest of the phone: enough to recognise it again, not to read it back."""
    return hmac.new(secret.encode(), f"phone:{phone}".encode(), hashlib.sha256).hexdigest()


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}"


def mask_name(name: str) -> str:
    """张* / 欧阳** : the family name's first character, the rest hidden."""
    return name[:1] + "*" * max(1, len(name) - 1) if name else ""


def clean_name(name: str) -> str:
    name = " ".join(name.split())
    if not 1 <= len(name) <= 50:
        raise invalid("invalid_name", "请填写姓名 (name is required, at most 50 characters)")
    return name


# -- settings ---------------------------------------------------------------------------------


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


# -- booking ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Citizen:
    """Who books: the phone's digest and mask, and the address the request came from."""

    name: str
    phone_digest: str
    phone_masked: str
    address: str


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


# -- remote tickets ---------------------------------------------------------------------------

#: A remote ticket is open while the citizen can still be served with it.
OPEN_STATUSES = (rules.REMOTE, rules.WAITING, *rules.AT_WINDOW, rules.HELD)


async def remote_serial(session: AsyncSession, hall: Hall, day: date, citizen: Citizen) -> int:
    """How many remote tickets this phone took today; 409 while one of them is open."""
    rows = (
        await session.execute(
            select(Ticket.status)
            .join(RemoteTicket, RemoteTicket.ticket_id == Ticket.id)  # type: ignore[arg-type]
            .where(
                RemoteTicket.hall_id == hall.id,  # type: ignore[arg-type]
                RemoteTicket.business_day == day,  # type: ignore[arg-type]
                RemoteTicket.phone_digest == citizen.phone_digest,  # type: ignore[arg-type]
            )
        )
    ).scalars()
    statuses = list(rows)
    if any(s in OPEN_STATUSES for s in statuses):
        raise conflict(
            "remote_ticket_open",
            "该手机号今天已有未办结的网上取号 (this phone already holds an open remote ticket)",
        )
    return len(statuses)


async def remote_throttle(
    session: AsyncSession, policy: AppointmentPolicy, citizen: Citizen, now: datetime
) -> None:
    if not citizen.address:
        return
    count = (
        await session.execute(
            select(func.count()).where(
                RemoteTicket.client_address == citizen.address,  # type: ignore[arg-type]
                RemoteTicket.created_at >= now - timedelta(hours=1),  # type: ignore[arg-type, operator]
            )
        )
    ).scalar_one()
    if count >= policy.bookings_per_address_hour:
        raise ApiError(
            429, "too_many_bookings", "取号过于频繁，请稍后再试 (too many requests, try later)"
        )


def poster_code(secret: str, hall: Hall, day: date) -> str:
    """The code on the hall's check-in poster (签到二维码) for ``day``: only someone who saw
    today's poster in the hall can check a remote ticket in from the phone."""
    text = f"poster:{hall.id}:{day.isoformat()}"
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:12]


async def check_in_remote(tx: Tx, ticket: Ticket) -> bool:
    """签到: a remote ticket joins the waiting line with its queue time kept. False when it
    already waits (or was called): checking in again changes nothing."""
    if ticket.status != rules.REMOTE:
        if ticket.status in (rules.WAITING, *rules.AT_WINDOW, rules.HELD, rules.DONE):
            return False
        label = rules.STATUS_LABELS.get(ticket.status, ticket.status)
        raise conflict(
            "invalid_state", f"号票当前状态为「{label}」，不能签到 (the ticket is {ticket.status})"
        )
    before = snapshot(ticket)
    ticket.status = rules.WAITING
    # its wait (statistics, wait-target flags, fair priority) counts from here; its place in
    # the line from its queue time
    ticket.waiting_since = tx.now
    tx.audit("ticket.check_in", ticket, before=before)
    remote = (
        await tx.session.execute(
            select(RemoteTicket).where(RemoteTicket.ticket_id == ticket.id)  # type: ignore[arg-type]
        )
    ).scalar_one_or_none()
    if remote is not None:
        before_remote = snapshot(remote)
        remote.checked_in_at = tx.now
        tx.audit("remote_ticket.check_in", remote, before=before_remote)
    return True


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
