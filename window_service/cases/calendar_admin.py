"""Entering a year's holidays and make-up days (节假日安排), and reminding the office to.

The State Council publishes next year's holidays each autumn; ``chinesecalendar`` may lag.
The administrator enters the year for the hall: every holiday and every make-up working day.
Entering a year again voids the earlier entry (kept, with a reason). Deadlines of open cases,
and of decided cases that were provisional, are recomputed at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..api.errors import invalid
from ..chain import snapshot
from ..halls.lookup import business_day
from ..halls.models import Hall, Service
from ..transaction import Tx
from . import deadlines as dl
from .calendar import OFFICIAL_YEARS, WorkCalendar, load_calendar
from .models import CalendarDay, CalendarYear, Case
from .service import recompute_hall

#: How far ahead the office is reminded: the longest legal limit plus this many working days.
REMINDER_MARGIN_WORKING_DAYS = 20


@dataclass(frozen=True)
class DayEntry:
    day: date
    name: str = ""


def validate_year(year: int, holidays: list[DayEntry], workdays: list[DayEntry]) -> None:
    problems: list[str] = []
    seen: set[date] = set()
    for entry in [*holidays, *workdays]:
        if entry.day.year != year:
            problems.append(f"{entry.day.isoformat()} 不在 {year} 年 (not in {year})")
        if entry.day in seen:
            problems.append(f"{entry.day.isoformat()} 重复 (listed twice)")
        seen.add(entry.day)
    for entry in workdays:
        if entry.day.weekday() < 5:
            problems.append(
                f"{entry.day.isoformat()} 是工作日，调休上班日应为周六或周日 "
                "(make-up days are Saturdays or Sundays)"
            )
    if not holidays:
        problems.append("至少录入一个法定节假日 (enter at least one holiday)")
    if problems:
        raise invalid("invalid_calendar", "；".join(problems[:10]))


async def enter_year(
    tx: Tx,
    hall: Hall,
    year: int,
    holidays: list[DayEntry],
    workdays: list[DayEntry],
    note: str,
) -> tuple[CalendarYear, int]:
    """Store a year for the hall, void the earlier entry, recompute deadlines.

    Returns the entry and how many cases' deadlines changed.
    """
    assert hall.id is not None
    validate_year(year, holidays, workdays)
    session = tx.session
    earlier = (
        await session.execute(
            select(CalendarYear).where(
                col(CalendarYear.hall_id) == hall.id,
                col(CalendarYear.year) == year,
                col(CalendarYear.voided_at).is_(None),
            )
        )
    ).scalars()
    for old in earlier:
        before = snapshot(old)
        old.voided_at = tx.now
        old.void_reason = "重新录入 (entered again)"
        tx.audit("calendar.void", old, before=before, reason=old.void_reason)
    entry = CalendarYear(
        hall_id=hall.id, year=year, note=note, entered_at=tx.now, entered_by_id=tx.actor.user_id
    )
    session.add(entry)
    await session.flush()
    assert entry.id is not None
    for h in holidays:
        session.add(CalendarDay(calendar_year_id=entry.id, day=h.day, working=False, name=h.name))
    for w in workdays:
        session.add(CalendarDay(calendar_year_id=entry.id, day=w.day, working=True, name=w.name))
    await session.flush()
    tx.audit_raw(
        "calendar.enter",
        "calendar_year",
        str(entry.id),
        after={
            "year": year,
            "holidays": [h.day.isoformat() for h in holidays],
            "workdays": [w.day.isoformat() for w in workdays],
            "note": note,
        },
    )
    cal = await load_calendar(session, hall.id)
    changed = await recompute_hall(tx, hall, cal, reason=f"{year} 年节假日已录入")
    tx.emit("office.calendar", year=year, recomputed=changed)
    return entry, changed


@dataclass
class CalendarStatus:
    official_years: list[int]
    entered_years: list[int]
    #: Years deadlines reach (or soon may reach) that nobody has entered: enter them.
    missing_years: list[int]
    provisional_cases: int
    message: str | None


async def calendar_status(session: AsyncSession, hall: Hall, now: datetime) -> CalendarStatus:
    """What the calendar knows and which years the administrator should enter."""
    assert hall.id is not None
    cal = await load_calendar(session, hall.id)
    today = business_day(hall, now)
    longest = max(
        [
            s.legal_days
            for s in (
                await session.execute(select(Service).where(col(Service.hall_id) == hall.id))
            ).scalars()
        ]
        or [0]
    )
    horizon = cal.add_working_days(today, longest + REMINDER_MARGIN_WORKING_DAYS)
    missing = set(cal.unknown_years_between(today, horizon))
    provisional = list(
        (
            await session.execute(
                select(Case).where(
                    col(Case.hall_id) == hall.id,
                    col(Case.provisional).is_(True),
                    col(Case.status).in_(dl.OPEN_STATUSES),
                )
            )
        ).scalars()
    )
    for case in provisional:
        missing |= set(cal.unknown_years_between(case.accepted_day, case.legal_due))
    missing_years = sorted(missing)
    message = None
    if missing_years:
        years = "、".join(str(y) for y in missing_years)
        count = f"，{len(provisional)} 件办件为预计期限" if provisional else ""
        message = (
            f"请录入 {years} 年的法定节假日和调休安排：跨入该年度的办件期限目前按周一至周五预计"
            f"{count} (enter the holidays of {years}; deadlines there are provisional)"
        )
    return CalendarStatus(
        official_years=sorted(OFFICIAL_YEARS),
        entered_years=sorted(y for y in _entered(cal)),
        missing_years=missing_years,
        provisional_cases=len(provisional),
        message=message,
    )


def _entered(cal: WorkCalendar) -> list[int]:
    return list(cal.entered)
