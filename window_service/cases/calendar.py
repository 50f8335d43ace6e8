"""Working days (工作日) of the official calendar: weekends, statutory holidays and make-up days.

The official calendar comes from the ``chinesecalendar`` package (module ``chinese_calendar``),
which knows the years the State Council had published when it was released. The administrator
enters later years (or corrects a year) per hall; those entries win over the package. A year
that neither knows is counted Monday–Friday, and every answer that relied on such a year says
so (``provisional``, 预计), so deadlines can be recomputed once the year is entered.

Counting rule (限时办结): ``n`` working days after ``start`` means the ``n``-th working day
strictly after ``start`` — counting starts the next working day. ``working_days_between(a, b)``
is its inverse: the working days in ``(a, b]``.

Use from any domain::

    cal = await load_calendar(session, hall_id)      # the package + the hall's entered years
    due = cal.add_working_days(day, 5)                # -> date
    due, provisional = cal.deadline(day, 5)           # -> Deadline(day, provisional)
    cal.working_days_between(day, today)              # -> int
    cal.is_working_day(day)                           # -> bool

The module-level functions do the same with the package alone (no database).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import NamedTuple

import chinese_calendar
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import CalendarDay, CalendarYear

#: Years the installed package has data for.
OFFICIAL_YEARS: frozenset[int] = frozenset(
    d.year for d in (*chinese_calendar.holidays, *chinese_calendar.workdays)
)
_OFFICIAL_HOLIDAYS: frozenset[date] = frozenset(chinese_calendar.holidays)
_OFFICIAL_WORKDAYS: frozenset[date] = frozenset(chinese_calendar.workdays)
#: A safety bound: no deadline counts more working days than this (about 40 years).
MAX_WORKING_DAYS = 10_000


class Deadline(NamedTuple):
    day: date
    #: The count ran through a year nobody has entered (weekdays only, 预计).
    provisional: bool


@dataclass(frozen=True)
class EnteredYear:
    """An administrator's year: holidays (False) and make-up working days (True)."""

    year: int
    days: Mapping[date, bool] = field(default_factory=dict)
    names: Mapping[date, str] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkCalendar:
    """The official calendar plus the years entered for one hall."""

    entered: Mapping[int, EnteredYear] = field(default_factory=dict)

    # -- what the calendar knows ------------------------------------------------------------
    def knows(self, year: int) -> bool:
        """Whether holidays of ``year`` are known (entered, or in the package)."""
        return year in self.entered or year in OFFICIAL_YEARS

    def known_years(self) -> list[int]:
        return sorted(set(self.entered) | OFFICIAL_YEARS)

    def last_known_year(self) -> int:
        return max(self.known_years())

    # -- single days ------------------------------------------------------------------------
    def is_working_day(self, day: date) -> bool:
        """工作日: a make-up day, or a weekday that is no holiday. Unknown years: Mon–Fri."""
        entered = self.entered.get(day.year)
        if entered is not None:
            marked = entered.days.get(day)
            if marked is not None:
                return marked
            return day.weekday() < 5
        if day.year in OFFICIAL_YEARS:
            # chinese_calendar.is_workday(day), without its per-call validation (hot loop).
            return day in _OFFICIAL_WORKDAYS or (
                day.weekday() < 5 and day not in _OFFICIAL_HOLIDAYS
            )
        return day.weekday() < 5

    def day_name(self, day: date) -> str:
        """The holiday's name or make-up day's occasion, '' for ordinary days."""
        entered = self.entered.get(day.year)
        if entered is not None:
            return entered.names.get(day, "")
        name = chinese_calendar.holidays.get(day) or chinese_calendar.workdays.get(day)
        return _HOLIDAY_NAMES.get(str(name), str(name)) if name else ""

    # -- counting ---------------------------------------------------------------------------
    def deadline(self, start: date, n: int) -> Deadline:
        """The ``n``-th working day after ``start`` (``n = 0``: ``start`` itself)."""
        if n < 0:
            raise ValueError("working days must not be negative")
        if n > MAX_WORKING_DAYS:
            raise ValueError("too many working days")
        day = start
        provisional = False
        left = n
        while left > 0:
            day += timedelta(days=1)
            if not self.knows(day.year):
                provisional = True
            if self.is_working_day(day):
                left -= 1
        return Deadline(day, provisional)

    def add_working_days(self, start: date, n: int) -> date:
        """The ``n``-th working day after ``start``; counting starts the next working day."""
        return self.deadline(start, n).day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days in ``(start, end]``; negative when ``end`` is before ``start``."""
        if end < start:
            return -self.working_days_between(end, start)
        if (end - start).days > MAX_WORKING_DAYS * 2:
            raise ValueError("range too long")
        count = 0
        day = start
        while day < end:
            day += timedelta(days=1)
            if self.is_working_day(day):
                count += 1
        return count

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return self.add_working_days(day, 1)

    def unknown_years_between(self, start: date, end: date) -> list[int]:
        """Years in ``[start, end]`` whose holidays nobody has entered."""
        lo, hi = min(start, end).year, max(start, end).year
        return [y for y in range(lo, hi + 1) if not self.knows(y)]


OFFICIAL = WorkCalendar()

_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def is_working_day(day: date, calendar: WorkCalendar | None = None) -> bool:
    return (calendar or OFFICIAL).is_working_day(day)


def add_working_days(start: date, n: int, calendar: WorkCalendar | None = None) -> date:
    return (calendar or OFFICIAL).add_working_days(start, n)


def working_days_between(start: date, end: date, calendar: WorkCalendar | None = None) -> int:
    return (calendar or OFFICIAL).working_days_between(start, end)


def build_calendar(entries: Iterable[EnteredYear]) -> WorkCalendar:
    return WorkCalendar({e.year: e for e in entries})


async def load_calendar(session: AsyncSession, hall_id: int) -> WorkCalendar:
    """The official calendar plus the hall's entered (non-voided) years."""
    years = list(
        (
            await session.execute(
                select(CalendarYear).where(
                    CalendarYear.hall_id == hall_id,  # type: ignore[arg-type]
                    CalendarYear.voided_at.is_(None),  # type: ignore[union-attr]
                )
            )
        ).scalars()
    )
    if not years:
        return OFFICIAL
    by_id = {y.id: y for y in years}
    rows = (
        await session.execute(
            select(CalendarDay).where(CalendarDay.calendar_year_id.in_(list(by_id)))  # type: ignore[attr-defined]
        )
    ).scalars()
    days: dict[int, dict[date, bool]] = {y.year: {} for y in years}
    names: dict[int, dict[date, str]] = {y.year: {} for y in years}
    for row in rows:
        year = by_id[row.calendar_year_id].year
        days[year][row.day] = row.working
        names[year][row.day] = row.name
    return build_calendar(EnteredYear(y, days[y], names[y]) for y in days)
