"""What the feedback endpoints read: ratings, appeals and rectifications of a hall."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import ApiError
from ..auth.models import User
from ..halls.models import Department, Service, Window
from ..queue.models import Ticket
from .models import Feedback, FeedbackAppeal, Rectification

#: Rows of a hall by id, per kind ("users", "windows", "services", "departments").
Names = dict[str, dict[int, Any]]


async def names(session: AsyncSession, hall_id: int) -> Names:
    """Users, windows, services and departments of the hall by id (for the outputs)."""
    out: Names = {}
    for key, model in (
        ("users", User),
        ("windows", Window),
        ("services", Service),
        ("departments", Department),
    ):
        stmt = select(model).where(model.hall_id == hall_id)  # type: ignore[attr-defined, arg-type]
        out[key] = {row.id: row for row in (await session.execute(stmt)).scalars()}  # type: ignore[attr-defined]
    return out


async def ratings(
    session: AsyncSession,
    hall_id: int,
    *,
    departments: frozenset[int] | None = None,
    flagged: bool | None = None,
    voided: bool | None = None,
    bad: bool | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 200,
) -> list[tuple[Feedback, str]]:
    """The hall's ratings with their ticket numbers, newest first."""
    stmt = (
        select(Feedback, Ticket.number)
        .join(Ticket, Ticket.id == Feedback.ticket_id)  # type: ignore[arg-type]
        .where(Feedback.hall_id == hall_id)  # type: ignore[arg-type]
    )
    if departments is not None:
        stmt = stmt.where(Feedback.department_id.in_(list(departments)))  # type: ignore[attr-defined]
    if flagged is not None:
        stmt = stmt.where(Feedback.flagged.is_(flagged))  # type: ignore[attr-defined]
    if voided is not None:
        stmt = stmt.where(Feedback.voided.is_(voided))  # type: ignore[attr-defined]
    if bad is True:
        stmt = stmt.where(Feedback.rating <= 2)  # type: ignore[arg-type, operator]
    elif bad is False:
        stmt = stmt.where(Feedback.rating > 2)  # type: ignore[arg-type, operator]
    if since is not None and until is not None:
        stmt = stmt.where(Feedback.created_at >= since, Feedback.created_at < until)  # type: ignore[arg-type, operator]
    stmt = stmt.order_by(Feedback.created_at.desc(), Feedback.id.desc()).limit(limit)  # type: ignore[attr-defined, union-attr]
    return [(fb, number) for fb, number in (await session.execute(stmt)).all()]


async def flagged(session: AsyncSession, hall_id: int, status: str) -> list[tuple[Feedback, str]]:
    """可疑评价 of the hall (``pending``, ``reviewed`` or ``all``), oldest first."""
    stmt = (
        select(Feedback, Ticket.number)
        .join(Ticket, Ticket.id == Feedback.ticket_id)  # type: ignore[arg-type]
        .where(Feedback.hall_id == hall_id, Feedback.flagged.is_(True))  # type: ignore[arg-type, attr-defined]
    )
    if status == "pending":
        stmt = stmt.where(Feedback.review == "")  # type: ignore[arg-type]
    elif status == "reviewed":
        stmt = stmt.where(Feedback.review != "")  # type: ignore[arg-type]
    stmt = stmt.order_by(Feedback.created_at, Feedback.id).limit(1000)  # type: ignore[arg-type]
    return [(fb, number) for fb, number in (await session.execute(stmt)).all()]


async def rectification_of(session: AsyncSession, feedback_ids: Sequence[int]) -> dict[int, int]:
    """The rectification opened for each of these ratings, by rating."""
    stmt = select(Rectification.feedback_id, Rectification.id).where(  # type: ignore[call-overload]
        Rectification.feedback_id.in_(list(feedback_ids))  # type: ignore[union-attr]
    )
    return dict((await session.execute(stmt)).all())


async def appeal_status_of(session: AsyncSession, feedback_ids: Sequence[int]) -> dict[int, str]:
    """The latest appeal's status of each of these ratings, by rating."""
    stmt = (
        select(FeedbackAppeal.feedback_id, FeedbackAppeal.status)  # type: ignore[call-overload]
        .where(FeedbackAppeal.feedback_id.in_(list(feedback_ids)))  # type: ignore[attr-defined]
        .order_by(FeedbackAppeal.id)
    )
    return dict((await session.execute(stmt)).all())


async def appeals(
    session: AsyncSession, hall_id: int, status: str, departments: frozenset[int] | None
) -> list[FeedbackAppeal]:
    """The hall's appeals of a status (or ``all``), in the order they were filed."""
    stmt = (
        select(FeedbackAppeal)
        .join(Feedback, Feedback.id == FeedbackAppeal.feedback_id)  # type: ignore[arg-type]
        .where(FeedbackAppeal.hall_id == hall_id)  # type: ignore[arg-type]
    )
    if status != "all":
        stmt = stmt.where(FeedbackAppeal.status == status)  # type: ignore[arg-type]
    if departments is not None:
        stmt = stmt.where(Feedback.department_id.in_(list(departments)))  # type: ignore[attr-defined]
    return list((await session.execute(stmt.order_by(FeedbackAppeal.id))).scalars())  # type: ignore[arg-type]


async def load_appeal(session: AsyncSession, appeal_id: int, *, lock: bool) -> FeedbackAppeal:
    stmt = select(FeedbackAppeal).where(FeedbackAppeal.id == appeal_id)  # type: ignore[arg-type]
    if lock:
        stmt = stmt.with_for_update()
    appeal = (await session.execute(stmt)).scalar_one_or_none()
    if appeal is None:
        raise ApiError(404, "appeal_not_found", "没有这个申诉 (unknown appeal)")
    return appeal


async def rectifications(
    session: AsyncSession, hall_id: int, status: str, departments: frozenset[int] | None
) -> list[Rectification]:
    """The hall's rectifications of a status (or ``all``), the earliest due first."""
    stmt = select(Rectification).where(Rectification.hall_id == hall_id)  # type: ignore[arg-type]
    if status != "all":
        stmt = stmt.where(Rectification.status == status)  # type: ignore[arg-type]
    if departments is not None:
        stmt = stmt.where(Rectification.department_id.in_(list(departments)))  # type: ignore[attr-defined]
    stmt = stmt.order_by(Rectification.due, Rectification.id)  # type: ignore[arg-type]
    return list((await session.execute(stmt)).scalars())


async def callback_contact(session: AsyncSession, rect: Rectification) -> str:
    """The phone the citizen left with the rating of ``rect`` ("" when none, or erased)."""
    if rect.feedback_id is None:
        return ""
    fb = await session.get(Feedback, rect.feedback_id)
    return fb.contact if fb else ""
