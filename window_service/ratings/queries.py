"""What the ratings endpoints read: who a head may see before publication, the publications."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.models import User
from ..auth.roles import STAFF
from ..halls.models import Department, Hall, Window
from ..inspections.service import window_departments
from .models import RatingPublication, RatingRow


async def department_keys(
    session: AsyncSession, hall: Hall, subject: str, department_ids: frozenset[int]
) -> set[str]:
    """The rating keys a department head may see before publication: their departments',
    and the windows and staff members of those departments (by the window's department)."""
    assert hall.id is not None
    if subject == "department":
        depts = (
            await session.execute(select(Department).where(Department.hall_id == hall.id))  # type: ignore[arg-type]
        ).scalars()
        return {d.code for d in depts if d.id in department_ids}
    of_window = await window_departments(session, hall.id)
    windows = {
        w.id: w
        for w in (await session.execute(select(Window).where(Window.hall_id == hall.id))).scalars()  # type: ignore[arg-type]
    }
    own = {wid for wid, dept in of_window.items() if dept in department_ids}
    if subject == "window":
        return {str(windows[wid].number) for wid in own if wid in windows}
    users = (
        await session.execute(
            select(User).where(User.hall_id == hall.id, User.role == STAFF)  # type: ignore[arg-type]
        )
    ).scalars()
    return {u.username for u in users if u.window_id in own}


async def publications(
    session: AsyncSession, hall_id: int | None
) -> tuple[list[RatingPublication], dict[int, int]]:
    """The hall's publications, newest first, and how many rows each froze (by id)."""
    pubs = list(
        (
            await session.execute(
                select(RatingPublication)
                .where(RatingPublication.hall_id == hall_id)  # type: ignore[arg-type]
                .order_by(
                    RatingPublication.published_at.desc(),  # type: ignore[attr-defined]
                    RatingPublication.version.desc(),  # type: ignore[attr-defined]
                )
            )
        ).scalars()
    )
    counts: dict[int, int] = dict(
        (
            await session.execute(
                select(RatingRow.publication_id, func.count())  # type: ignore[call-overload]
                .where(RatingRow.publication_id.in_([p.id for p in pubs]))  # type: ignore[attr-defined]
                .group_by(RatingRow.publication_id)
            )
        ).all()
    )
    return pubs, counts
