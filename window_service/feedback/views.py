"""The feedback endpoints' answers: ratings, appeals and rectifications as the API shows them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ..accountability import config
from ..auth.models import User
from ..halls.lookup import local_time
from ..halls.models import Hall
from ..queue.models import Ticket
from . import policy, service
from .models import Feedback, FeedbackAppeal, Rectification
from .queries import Names
from .schemas import AppealOut, FeedbackOut, FeedbackStateOut, LevelOut, RatedOut, RectificationOut


def iso(hall: Hall, at: datetime | None) -> str | None:
    return local_time(hall, at).isoformat() if at is not None else None


async def feedback_state(
    session: AsyncSession, hall: Hall, ticket: Ticket, now: datetime
) -> FeedbackStateOut:
    assert hall.id is not None and ticket.id is not None
    settings, _ = await config.current(session, hall.id)
    state = await policy.rateability(session, hall, ticket, now)
    existing = await policy.existing_feedback(session, ticket.id)
    rated = None
    if existing is not None and existing.id is not None:
        rated = RatedOut(
            id=existing.id,
            ticket=ticket.number,
            rating=existing.rating,
            label=policy.level_label(existing.rating),
            tags=list(existing.tags),
            comment=existing.comment,
            created_at=iso(hall, existing.created_at) or "",
        )
    return FeedbackStateOut(
        ticket=ticket.number,
        can_rate=state.can_rate,
        reason=state.reason,
        message=state.message,
        deadline=state.deadline.isoformat() if state.deadline else None,
        levels=[
            LevelOut(rating=r, label=label, points=settings.points_for(r))
            for r, label in policy.LEVELS.items()
        ],
        tags=list(policy.TAGS),
        comment_max_chars=settings.comment_max_chars,
        feedback=rated,
    )


def feedback_out(
    hall: Hall,
    fb: Feedback,
    ticket_number: str,
    names: Names,
    *,
    rectification: int | None = None,
    appeal: str | None = None,
    private: bool = True,
) -> FeedbackOut:
    assert fb.id is not None
    window = names["windows"].get(fb.window_id or 0)
    staff = names["users"].get(fb.staff_id or 0)
    return FeedbackOut(
        id=fb.id,
        ticket=ticket_number,
        window=window.number if window else None,
        staff=staff.username if staff else None,
        service=names["services"][fb.service_id].code,
        department=names["departments"][fb.department_id].code,
        rating=fb.rating,
        label=policy.level_label(fb.rating),
        points=fb.points,
        tags=list(fb.tags),
        comment=fb.comment,
        has_contact=bool(fb.contact) and private,
        channel=fb.channel,
        created_at=iso(hall, fb.created_at) or "",
        flagged=fb.flagged,
        flag_reason=fb.flag_reason,
        review=(fb.review or "pending") if fb.flagged else None,
        review_reason=fb.review_reason,
        voided=fb.voided,
        void_reason=fb.void_reason,
        rectification=rectification,
        appeal=appeal,
    )


async def appeal_out(session: AsyncSession, hall: Hall, appeal: FeedbackAppeal) -> AppealOut:
    fb = await session.get(Feedback, appeal.feedback_id)
    assert fb is not None and appeal.id is not None
    ticket = await session.get(Ticket, fb.ticket_id)
    filed = await session.get(User, appeal.filed_by_id)
    decided = await session.get(User, appeal.decided_by_id) if appeal.decided_by_id else None
    return AppealOut(
        id=appeal.id,
        feedback=appeal.feedback_id,
        ticket=ticket.number if ticket else "",
        rating=fb.rating,
        reason=appeal.reason,
        status=appeal.status,
        filed_by=filed.username if filed else "",
        filed_at=iso(hall, appeal.filed_at) or "",
        decided_by=decided.username if decided else None,
        decided_at=iso(hall, appeal.decided_at),
        decision_reason=appeal.decision_reason,
    )


async def rectification_out(
    session: AsyncSession,
    hall: Hall,
    rect: Rectification,
    now: datetime,
    names: Names,
) -> RectificationOut:
    assert rect.id is not None
    ticket = await session.get(Ticket, rect.ticket_id) if rect.ticket_id else None
    fb = await session.get(Feedback, rect.feedback_id) if rect.feedback_id else None
    window = names["windows"].get(rect.window_id or 0)
    staff = names["users"].get(rect.staff_id or 0)
    dept = names["departments"][rect.department_id]
    return RectificationOut(
        id=rect.id,
        kind=rect.kind,
        ticket=ticket.number if ticket else None,
        window=window.number if window else None,
        rating=rect.rating,
        rating_label=policy.level_label(rect.rating) if rect.rating else None,
        due=rect.due.isoformat(),
        status=rect.status,
        status_label=service.STATUSES.get(rect.status, rect.status),
        stage=rect.stage,
        stage_label=service.STAGES.get(rect.stage, rect.stage),
        overdue=service.is_overdue(hall, rect, now),
        department=dept.code,
        department_name=dept.name,
        staff=staff.username if staff else None,
        staff_label=(
            f"{staff.display_name or staff.username}（{staff.staff_no}）"
            if staff and staff.staff_no
            else (staff.display_name or staff.username if staff else "")
        ),
        opened_at=iso(hall, rect.opened_at) or "",
        inspection=rect.inspection_id,
        feedback=rect.feedback_id,
        comment=fb.comment if fb else "",
        tags=list(fb.tags) if fb else [],
        has_contact=bool(fb and fb.contact),
        finding=rect.finding,
        substantiated=rect.substantiated,
        measures=rect.measures,
        callback_reached=rect.callback_reached,
        citizen_view=rect.citizen_view,
        callback_note=rect.callback_note,
        closed_at=iso(hall, rect.closed_at),
    )
