"""What the case endpoints read: the office's and a window's case lists."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from ..halls.models import Service
from . import deadlines as dl
from .calendar import WorkCalendar
from .models import Case


async def office_cases(
    session: AsyncSession,
    hall_id: int,
    *,
    status: str | None,
    provisional: bool | None,
    departments: Collection[int] | None,
    limit: int,
    warned_by: tuple[WorkCalendar, date, dl.WarningPolicy] | None = None,
) -> list[Case]:
    """The hall's cases of a status (``open``: every open one), newest first; with
    ``warned_by`` (calendar, today, policy) instead the accepted ones due within the warning
    horizon, soonest first and not cut to ``limit`` (the caller picks the warning level)."""
    stmt = select(Case).where(col(Case.hall_id) == hall_id)
    if warned_by is not None:
        cal, today, policy = warned_by
        stmt = stmt.where(
            col(Case.status) == dl.ACCEPTED,
            col(Case.promised_due) < dl.warning_horizon(cal, today, policy),
        )
    elif status == "open":
        stmt = stmt.where(col(Case.status).in_(dl.OPEN_STATUSES))
    elif status is not None:
        stmt = stmt.where(col(Case.status) == status)
    if provisional is not None:
        stmt = stmt.where(col(Case.provisional).is_(provisional))
    if departments is not None:
        stmt = stmt.where(col(Case.department_id).in_(list(departments)))
    if warned_by is None:
        stmt = stmt.order_by(col(Case.accepted_at).desc()).limit(limit)
    else:
        stmt = stmt.order_by(col(Case.promised_due), col(Case.id))
    return list((await session.execute(stmt)).scalars())


async def open_cases(
    session: AsyncSession, hall_id: int, departments: Collection[int] | None
) -> list[Case]:
    """Every open case of the hall (of these departments), soonest deadline first."""
    stmt = select(Case).where(col(Case.hall_id) == hall_id, col(Case.status).in_(dl.OPEN_STATUSES))
    if departments is not None:
        stmt = stmt.where(col(Case.department_id).in_(list(departments)))
    return list(
        (await session.execute(stmt.order_by(col(Case.promised_due), col(Case.id)))).scalars()
    )


async def window_open_cases(session: AsyncSession, window_id: int) -> list[Case]:
    """The open cases accepted at the window, soonest deadline first (at most 100)."""
    stmt = (
        select(Case)
        .where(col(Case.window_id) == window_id, col(Case.status).in_(dl.OPEN_STATUSES))
        .order_by(col(Case.promised_due), col(Case.id))
        .limit(100)
    )
    return list((await session.execute(stmt)).scalars())


async def service_codes(session: AsyncSession, departments: Collection[int]) -> set[str]:
    """The codes of these departments' services."""
    stmt = select(Service.code).where(col(Service.department_id).in_(list(departments)))
    return set((await session.execute(stmt)).scalars())
