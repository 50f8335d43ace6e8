"""Turning cases into what the API and pages show (hall time, warnings at read time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import chinese_calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..auth.models import User
from ..halls.lookup import business_day, local_time
from ..halls.models import Department, Hall, Service, Window
from ..queue.models import Ticket
from . import deadlines as dl
from .calendar import OFFICIAL, OFFICIAL_YEARS, WorkCalendar
from .models import CalendarDay, CalendarYear, Case, CaseEvent, CorrectionNotice
from .responsibility import ACTION_LABELS, ticket_chain
from .schemas import (
    CalendarDayOut,
    CalendarYearOut,
    CaseDetailOut,
    CaseEventOut,
    CaseOut,
    ChainOut,
    NoticeOut,
    PublicCaseOut,
)


def mask_name(name: str) -> str:
    """张三 → 张*, 张小三 → 张*三, 欧阳小明 → 欧**明: enough for the applicant to recognise."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def due_text(hall: Hall, day_due: object, at_due: datetime | None) -> str:
    if at_due is not None:
        return local_time(hall, at_due).isoformat()
    return str(day_due)


@dataclass
class Lookups:
    services: dict[int, Service]
    departments: dict[int, Department]
    windows: dict[int, Window]
    users: dict[int, User]
    tickets: dict[int, Ticket]


async def lookups(session: AsyncSession, hall: Hall, cases: list[Case]) -> Lookups:
    services = {
        s.id: s
        for s in (
            await session.execute(select(Service).where(col(Service.hall_id) == hall.id))
        ).scalars()
        if s.id is not None
    }
    departments = {
        d.id: d
        for d in (
            await session.execute(select(Department).where(col(Department.hall_id) == hall.id))
        ).scalars()
        if d.id is not None
    }
    windows = {
        w.id: w
        for w in (
            await session.execute(select(Window).where(col(Window.hall_id) == hall.id))
        ).scalars()
        if w.id is not None
    }
    user_ids = {c.first_responder_id for c in cases} | {c.accepted_by_id for c in cases}
    user_ids.discard(None)
    users = {
        u.id: u
        for u in (await session.execute(select(User).where(col(User.id).in_(user_ids)))).scalars()
        if u.id is not None
    }
    ticket_ids = {c.ticket_id for c in cases if c.ticket_id}
    tickets = {
        t.id: t
        for t in (
            await session.execute(select(Ticket).where(col(Ticket.id).in_(ticket_ids)))
        ).scalars()
        if t.id is not None
    }
    return Lookups(services, departments, windows, users, tickets)


def _username(lk: Lookups, user_id: int | None) -> str | None:
    user = lk.users.get(user_id) if user_id else None
    return user.username if user else None


def _staff_label(lk: Lookups, user_id: int | None) -> str:
    user = lk.users.get(user_id) if user_id else None
    if user is None:
        return ""
    name = user.display_name or user.username
    return f"{name}（工号 {user.staff_no}）" if user.staff_no else name


def case_out(
    hall: Hall,
    case: Case,
    lk: Lookups,
    cal: WorkCalendar,
    now: datetime,
    policy: dl.WarningPolicy,
    *,
    base_url: str = "",
    notices: int = 0,
    breaches: int = 0,
) -> CaseOut:
    """The case as staff see it; a stopped clock shows the deadlines as if resumed today."""
    today = business_day(hall, now)
    shown = dl.dues_of(cal, hall, case, today)
    warning = dl.warning_of(cal, hall, case, now, policy)
    svc = lk.services[case.service_id]
    window = lk.windows.get(case.window_id) if case.window_id else None
    ticket = lk.tickets.get(case.ticket_id) if case.ticket_id else None
    base = base_url.rstrip("/")
    return CaseOut(
        receipt_no=case.receipt_no,
        check_code=case.check_code,
        service=svc.code,
        service_name=svc.name,
        department=lk.departments[case.department_id].name,
        accepted_at=local_time(hall, case.accepted_at).isoformat(),
        promised_due=due_text(hall, shown.promised_due, shown.promised_due_at),
        legal_due=due_text(hall, shown.legal_due, shown.legal_due_at),
        promised_days=case.promised_days,
        legal_days=case.legal_days,
        status=case.status,
        status_label=dl.STATUS_LABELS.get(case.status, case.status),
        warning=warning,  # type: ignore[arg-type]
        warning_label=dl.WARNING_LABELS.get(warning) if warning else None,
        working_days_left=(
            cal.working_days_between(today, shown.promised_due)
            if case.status in dl.OPEN_STATUSES
            else None
        ),
        provisional=shown.provisional,
        clock_stopped=case.status == dl.CORRECTION,
        stopped_days=case.stopped_days + dl.ongoing_stop(cal, case, today),
        extension_days=case.extension_days,
        first_responder=_username(lk, case.first_responder_id),
        accepted_by=_username(lk, case.accepted_by_id),
        accepted_by_label=_staff_label(lk, case.accepted_by_id),
        window=window.number if window else None,
        ticket=ticket.number if ticket else None,
        applicant_name=case.applicant_name,
        applicant_phone=case.applicant_phone,
        decided_at=local_time(hall, case.decided_at).isoformat() if case.decided_at else None,
        decision_reason=case.decision_reason,
        on_time=dl.decided_on_time(case),
        correction_notices=notices,
        breaches=breaches,
        receipt_url=f"{base}/cases/{case.receipt_no}/receipt",
        lookup_url=f"{base}/lookup?receipt_no={case.receipt_no}",
    )


def public_out(
    hall: Hall, case: Case, lk: Lookups, cal: WorkCalendar, now: datetime
) -> PublicCaseOut:
    """What a citizen with the check code may see: status and deadlines, the name masked."""
    shown = dl.dues_of(cal, hall, case, business_day(hall, now))
    svc = lk.services[case.service_id]
    return PublicCaseOut(
        receipt_no=case.receipt_no,
        service_name=svc.name,
        department=lk.departments[case.department_id].name,
        applicant_name=mask_name(case.applicant_name),
        accepted_at=local_time(hall, case.accepted_at).date().isoformat(),
        promised_due=due_text(hall, shown.promised_due, shown.promised_due_at),
        legal_due=due_text(hall, shown.legal_due, shown.legal_due_at),
        provisional=shown.provisional,
        status=case.status,
        status_label=dl.STATUS_LABELS.get(case.status, case.status),
        clock_stopped=case.status == dl.CORRECTION,
    )


async def notices_of(session: AsyncSession, case: Case) -> list[CorrectionNotice]:
    return list(
        (
            await session.execute(
                select(CorrectionNotice)
                .where(col(CorrectionNotice.case_id) == case.id)
                .order_by(col(CorrectionNotice.seq))
            )
        ).scalars()
    )


async def notice_counts(session: AsyncSession, cases: list[Case]) -> dict[int, tuple[int, int]]:
    if not cases:
        return {}
    out: dict[int, tuple[int, int]] = {}
    rows = await session.execute(
        select(CorrectionNotice).where(col(CorrectionNotice.case_id).in_([c.id for c in cases]))
    )
    for n in rows.scalars():
        total, breaches = out.get(n.case_id, (0, 0))
        out[n.case_id] = (total + 1, breaches + (1 if n.breach else 0))
    return out


async def case_detail(
    session: AsyncSession,
    hall: Hall,
    case: Case,
    cal: WorkCalendar,
    now: datetime,
    policy: dl.WarningPolicy,
    *,
    base_url: str = "",
) -> CaseDetailOut:
    lk = await lookups(session, hall, [case])
    notices = await notices_of(session, case)
    events = list(
        (
            await session.execute(
                select(CaseEvent)
                .where(col(CaseEvent.case_id) == case.id)
                .order_by(col(CaseEvent.id))
            )
        ).scalars()
    )
    staff_ids = {n.issued_by_id for n in notices} | {e.staff_id for e in events}
    staff_ids.discard(None)
    users = {
        u.id: u
        for u in (await session.execute(select(User).where(col(User.id).in_(staff_ids)))).scalars()
    }
    lk.users.update({k: v for k, v in users.items() if k is not None})
    base = base_url.rstrip("/")
    out = case_out(
        hall,
        case,
        lk,
        cal,
        now,
        policy,
        base_url=base_url,
        notices=len(notices),
        breaches=sum(1 for n in notices if n.breach),
    )
    chain = None
    ticket = lk.tickets.get(case.ticket_id) if case.ticket_id else None
    if ticket is not None:
        c = await ticket_chain(session, hall, ticket)
        chain = ChainOut(
            ticket=ticket.number,
            first_responder=c.first_responder,
            touched=c.touched,
            steps=c.steps,
        )
    return CaseDetailOut(
        **out.model_dump(),
        notices=[
            NoticeOut(
                notice_no=n.notice_no,
                seq=n.seq,
                materials=list(n.materials),
                issued_at=local_time(hall, n.issued_at).isoformat(),
                issued_by=_username(lk, n.issued_by_id),
                issued_by_label=_staff_label(lk, n.issued_by_id),
                window=lk.windows[n.window_id].number if n.window_id in lk.windows else None,
                breach=n.breach,
                resumed_at=local_time(hall, n.resumed_at).isoformat() if n.resumed_at else None,
                stopped_days=n.stopped_days,
                notice_url=f"{base}/cases/{case.receipt_no}/notices/{n.seq}",
            )
            for n in notices
        ],
        events=[
            CaseEventOut(
                at=local_time(hall, e.at).isoformat(),
                action=e.action,
                label=ACTION_LABELS.get(e.action, e.action),
                staff=_username(lk, e.staff_id),
                window=lk.windows[e.window_id].number if e.window_id in lk.windows else None,
                detail=dict(e.detail),
            )
            for e in events
        ],
        chain=chain,
    )


async def year_out(session: AsyncSession, hall: Hall, year: int) -> CalendarYearOut:
    """The days of ``year`` that differ from Monday–Friday, and where they come from."""
    entry = (
        await session.execute(
            select(CalendarYear).where(
                col(CalendarYear.hall_id) == hall.id,
                col(CalendarYear.year) == year,
                col(CalendarYear.voided_at).is_(None),
            )
        )
    ).scalar_one_or_none()
    if entry is not None:
        days = (
            await session.execute(
                select(CalendarDay)
                .where(col(CalendarDay.calendar_year_id) == entry.id)
                .order_by(col(CalendarDay.day))
            )
        ).scalars()
        return CalendarYearOut(
            year=year,
            source="entered",
            entered_at=local_time(hall, entry.entered_at).isoformat(),
            note=entry.note,
            days=[CalendarDayOut(date=d.day, working=d.working, name=d.name) for d in days],
        )
    if year in OFFICIAL_YEARS:
        official = sorted(
            [d for d in chinese_calendar.holidays if d.year == year and d.weekday() < 5]
            + [d for d in chinese_calendar.workdays if d.year == year]
        )
        return CalendarYearOut(
            year=year,
            source="official",
            entered_at=None,
            note="chinesecalendar",
            days=[
                CalendarDayOut(
                    date=d, working=OFFICIAL.is_working_day(d), name=OFFICIAL.day_name(d)
                )
                for d in official
            ],
        )
    return CalendarYearOut(year=year, source="none", entered_at=None, note="", days=[])


async def cases_out(
    session: AsyncSession,
    hall: Hall,
    cases: list[Case],
    cal: WorkCalendar,
    now: datetime,
    policy: dl.WarningPolicy,
    base: str,
) -> list[CaseOut]:
    """Cases as the lists show them, with their notices and breaches counted in one read."""
    lk = await lookups(session, hall, cases)
    counts = await notice_counts(session, cases)
    return [
        case_out(
            hall,
            c,
            lk,
            cal,
            now,
            policy,
            base_url=base,
            notices=counts.get(c.id or 0, (0, 0))[0],
            breaches=counts.get(c.id or 0, (0, 0))[1],
        )
        for c in cases
    ]
