"""A period's tickets as the office statistics count them, read in the database's terms.

A hall-month holds tens of thousands of tickets (bench/province.py), so nothing here reads a
ticket's moments: the wait (from the start of the wait, the queue time or a remote ticket's
check-in, to the first call) and the service time (start → finish of a served ticket) come
as minutes worked out in SQL (``db.minutes_between``) and the hour as a quarter-hour since
the epoch (``db.quarter_hours``), and the tickets are tallied per service · window · staff
member, quarter-hour and day in one pass (``read``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import case, func, literal, select
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

    def add(self, status: str, wait: float | None) -> None:
        self.tickets += 1
        if status == DONE:
            self.served += 1
        elif status == NO_SHOW:
            self.no_shows += 1
        if wait is not None:
            self.waited += 1
            self.wait_total += wait


@dataclass
class Read:
    """The period's tickets per service · window · staff member, quarter-hour and day."""

    tallies: dict[Key, Tally] = field(default_factory=dict)
    quarters: dict[int, Counted] = field(default_factory=dict)
    days: dict[date, Counted] = field(default_factory=dict)


async def read(
    session: AsyncSession, hall_id: int, period: Period, services: frozenset[int] | None
) -> Read:
    """The period's tickets (``services``: only these), in one pass over them."""
    dialect = session.get_bind().dialect.name
    t = _TICKETS.c
    since = func.coalesce(t.waiting_since, t.queued_at)
    waited = minutes_between(since, t.first_called_at, dialect)
    served = minutes_between(t.started_at, t.finished_at, dialect)
    where = [t.hall_id == hall_id, t.business_day >= period.first, t.business_day <= period.last]
    if services is not None:
        where.append(t.service_id.in_(sorted(services)))
    rows = await session.execute(
        select(
            t.service_id,
            t.window_id,
            t.staff_id,
            t.status,
            t.green,
            t.holds,
            # never below zero (a clock set back)
            case((waited < 0, literal(0.0)), else_=waited),
            case((t.status != DONE, None), (served < 0, literal(0.0)), else_=served),
            t.business_day,
            quarter_hours(t.queued_at, dialect),
        ).where(*where)
    )
    out = Read()
    tallies, quarters, days = out.tallies, out.quarters, out.days
    for (
        service_id,
        window_id,
        staff_id,
        status,
        green,
        holds,
        wait,
        service_time,
        day,
        quarter,
    ) in rows.all():
        key = (service_id, window_id, staff_id)
        tally = tallies.get(key)
        if tally is None:
            tally = tallies[key] = Tally()
        tally.tickets += 1
        if status == DONE:
            tally.served += 1
        elif status == NO_SHOW:
            tally.no_shows += 1
        elif status == CANCELLED:
            tally.cancelled += 1
        elif status == EXPIRED:
            tally.expired += 1
        if green:
            tally.green += 1
        if holds:
            tally.holds += holds
        if wait is not None:
            tally.waits.append(wait)
        if service_time is not None:
            tally.services.append(service_time)
        by_quarter = quarters.get(quarter)
        if by_quarter is None:
            by_quarter = quarters[quarter] = Counted()
        by_quarter.add(status, wait)
        by_day = days.get(day)
        if by_day is None:
            by_day = days[day] = Counted()
        by_day.add(status, wait)
    return out
