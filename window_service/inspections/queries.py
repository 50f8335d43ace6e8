"""What the inspection endpoints read: sheet versions, visits, notices and plans of a hall."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.models import User
from ..auth.roles import STAFF
from .models import Inspection, InspectionNotice, InspectionTemplate, VisitPlan


async def template_versions(
    session: AsyncSession, hall_id: int, code: str
) -> list[InspectionTemplate]:
    """Every stored version of the hall's scoring sheet ``code``, oldest first."""
    stmt = (
        select(InspectionTemplate)
        .where(
            InspectionTemplate.hall_id == hall_id,  # type: ignore[arg-type]
            InspectionTemplate.code == code,  # type: ignore[arg-type]
        )
        .order_by(InspectionTemplate.version)  # type: ignore[arg-type]
    )
    return list((await session.execute(stmt)).scalars())


async def user_named(session: AsyncSession, hall_id: int, username: str) -> User | None:
    stmt = select(User).where(User.username == username, User.hall_id == hall_id)  # type: ignore[arg-type]
    return (await session.execute(stmt)).scalar_one_or_none()


async def staff(session: AsyncSession, hall_id: int) -> list[User]:
    """The hall's window staff accounts, by username."""
    stmt = (
        select(User)
        .where(User.hall_id == hall_id, User.role == STAFF)  # type: ignore[arg-type]
        .order_by(User.username)  # type: ignore[arg-type]
    )
    return list((await session.execute(stmt)).scalars())


async def inspections(
    session: AsyncSession,
    hall_id: int,
    window_id: int | None,
    departments: frozenset[int] | None,
    limit: int,
) -> list[Inspection]:
    """The hall's visits (of a window; of these departments), newest first."""
    stmt = select(Inspection).where(Inspection.hall_id == hall_id)  # type: ignore[arg-type]
    if window_id is not None:
        stmt = stmt.where(Inspection.window_id == window_id)  # type: ignore[arg-type]
    if departments is not None:
        stmt = stmt.where(Inspection.department_id.in_(list(departments)))  # type: ignore[attr-defined]
    stmt = stmt.order_by(Inspection.visited_at.desc(), Inspection.id.desc()).limit(limit)  # type: ignore[attr-defined, union-attr]
    return list((await session.execute(stmt)).scalars())


async def notices(
    session: AsyncSession, hall_id: int, departments: frozenset[int] | None
) -> list[InspectionNotice]:
    """The hall's notices (of these departments), newest first."""
    stmt = select(InspectionNotice).where(InspectionNotice.hall_id == hall_id)  # type: ignore[arg-type]
    if departments is not None:
        stmt = stmt.where(InspectionNotice.department_id.in_(list(departments)))  # type: ignore[attr-defined]
    return list((await session.execute(stmt.order_by(InspectionNotice.id.desc()))).scalars())  # type: ignore[union-attr]


async def plans(session: AsyncSession, hall_id: int) -> list[VisitPlan]:
    """The hall's last 52 visit plans, newest first."""
    stmt = (
        select(VisitPlan)
        .where(VisitPlan.hall_id == hall_id)  # type: ignore[arg-type]
        .order_by(VisitPlan.id.desc())  # type: ignore[union-attr]
        .limit(52)
    )
    return list((await session.execute(stmt)).scalars())
