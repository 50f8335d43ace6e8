"""A period's tickets as the office statistics count them, read in the database's terms.

A hall-month holds tens of thousands of tickets (bench/province.py), so the database counts
them: per service · window · staff member (tickets, outcomes, green channel, holds), and
per day and quarter-hour since the epoch (``db.quarter_hours``, so the hall's local hour is
worked out once per quarter-hour). Only the minutes themselves are read ticket by ticket,
for the medians and 90th percentiles: the wait (from the start of the wait, the queue time
or a remote ticket's check-in, to the first call) and the service time (start → finish of a
served ticket), worked out in SQL (``db.minutes_between``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import minutes_between, quarter_hours
from ..queue.models import Ticket
from ..queue.rules import CANCELLED, DONE, EXPIRED, NO_SHOW
from .period import Period

_TICKETS: Any = Ticket.__table__  # type: ignore[attr-defined]
#: A service · window · staff member (each may be None).
Key = tuple[int | None, int | None, int | None]


@dataclass
class Tally:
    """The period's tickets of one service · window · staff member."""

    tickets: int = 0
    served: int = 0
    no_shows: int = 0
    cancelled: int = 0
    expired: int = 0
    green: int = 0
    holds: int = 0
    waits: list[float] = field(default_factory=list)
    services: list[float] = field(default_factory=list)


@dataclass
class Counted:
    """Tickets of a quarter-hour (``db.quarter_hours``) or a day, and their waits."""

    tickets: int = 0
    served: int = 0
    no_shows: int = 0
    waited: int = 0
    wait_total: float = 0.0

    def add(self, tickets: int, served: int, no_shows: int, waited: int, wait_total: float) -> None:
        self.tickets += tickets
        self.served += served
        self.no_shows += no_shows
        self.waited += waited
        self.wait_total += wait_total


@dataclass
class Read:
    """The period's tickets per service · window · staff member, quarter-hour and day."""

    tallies: dict[Key, Tally] = field(default_factory=dict)
    quarters: dict[int, Counted] = field(default_factory=dict)
    days: dict[date, Counted] = field(default_factory=dict)


def _count(condition: Any) -> Any:
    """SQL: how many of the group's tickets meet ``condition``."""
    return func.sum(case((condition, 1), else_=0))


async def read(
    session: AsyncSession, hall_id: int, period: Period, services: frozenset[int] | None
) -> Read:
    """The period's tickets (``services``: only these): three statements over the same range
    of the hall's day index, two of them counting in the database."""
    dialect = session.get_bind().dialect.name
    t = _TICKETS.c
    waited = minutes_between(
        func.coalesce(t.waiting_since, t.queued_at), t.first_called_at, dialect
    )
    served = minutes_between(t.started_at, t.finished_at, dialect)
    wait = case((waited < 0, literal(0.0)), else_=waited)  # never below zero (a clock set back)
    service_time = case((t.status != DONE, None), (served < 0, literal(0.0)), else_=served)
    where = [t.hall_id == hall_id, t.business_day >= period.first, t.business_day <= period.last]
    if services is not None:
        where.append(t.service_id.in_(sorted(services)))
    key = (t.service_id, t.window_id, t.staff_id)
    out = Read()

    groups = await session.execute(
        select(
            *key,
            func.count(),
            _count(t.status == DONE),
            _count(t.status == NO_SHOW),
            _count(t.status == CANCELLED),
            _count(t.status == EXPIRED),
            _count(t.green.is_(True)),
            func.coalesce(func.sum(t.holds), 0),
        )
        .where(*where)
        .group_by(*key)
    )
    for (
        service_id,
        window_id,
        staff_id,
        n,
        done,
        no_shows,
        cancelled,
        expired,
        green,
        holds,
    ) in groups.all():
        out.tallies[service_id, window_id, staff_id] = Tally(
            int(n), int(done), int(no_shows), int(cancelled), int(expired), int(green), int(holds)
        )

    moments = (
        select(
            t.business_day.label("day"),
            quarter_hours(t.queued_at, dialect).label("quarter"),
            t.status.label("status"),
            wait.label("wait"),
        )
        .where(*where)
        .subquery()
    )
    m = moments.c
    counted = await session.execute(
        select(
            m.day,
            m.quarter,
            func.count(),
            _count(m.status == DONE),
            _count(m.status == NO_SHOW),
            func.count(m.wait),
            func.coalesce(func.sum(m.wait), 0.0),
        ).group_by(m.day, m.quarter)
    )
    quarters, days = out.quarters, out.days
    for day, quarter, n, done, no_shows, n_waited, wait_total in counted.all():
        figures = (int(n), int(done), int(no_shows), int(n_waited), float(wait_total))
        by_quarter = quarters.get(quarter)
        if by_quarter is None:
            by_quarter = quarters[quarter] = Counted()
        by_quarter.add(*figures)
        by_day = days.get(day)
        if by_day is None:
            by_day = days[day] = Counted()
        by_day.add(*figures)

    minutes = await session.execute(
        select(*key, wait, service_time).where(
            *where, or_(t.first_called_at.is_not(None), t.status == DONE)
        )
    )
    tallies = out.tallies
    for service_id, window_id, staff_id, a_wait, a_service in minutes.all():
        # A ticket the hall wrote between the statements may lack its group: each statement
        # reads what is committed when it runs (a live day's figures are those of a moment).
        tally = tallies.get((service_id, window_id, staff_id))
        if tally is None:
            tally = tallies[service_id, window_id, staff_id] = Tally()
        if a_wait is not None:
            tally.waits.append(a_wait)
        if a_service is not None:
            tally.services.append(a_service)
    return out
