"""The rules of feedback (好差评): rating a finished service, staff who try to rate, bursts and
the office's review; rectifications are in ``rectifications.py``, appeals in ``appeals.py``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accountability import config
from ..api.errors import conflict, invalid, not_found
from ..chain import snapshot
from ..halls.models import Hall, Service, Window
from ..queue.models import Ticket
from ..queue.queries import ticket_by_token
from ..transaction import Tx
from . import listeners, policy
from .models import Feedback
from .rectifications import open_for_feedback, void_open_rectification


@dataclass(frozen=True)
class Source:
    """Where a rating comes from: the citizen's phone or a window's evaluator pad.

    ``rater_device`` is the rating page's random id of the citizen's browser (phone channel);
    the address is kept for the record but never judged: a hall's visitors share one Wi-Fi.
    """

    ip: str
    device_id: int | None = None
    rater_device: str = ""

    @property
    def channel(self) -> str:
        return "pad" if self.device_id is not None else "phone"


async def submit(
    tx: Tx,
    hall: Hall,
    ticket: Ticket,
    *,
    rating: int,
    tags: list[str],
    comment: str,
    contact: str,
    source: Source,
) -> Feedback:
    """Rate a finished service once; a 差评 opens a rectification; bursts are flagged."""
    session = tx.session
    assert hall.id is not None and ticket.id is not None
    settings, _ = await config.current(session, hall.id)
    if rating not in policy.LEVELS:
        raise invalid("invalid_rating", "评价等级须为 1 至 5 (rating must be 1..5)")
    unknown = [t for t in tags if t not in policy.TAGS]
    if unknown:
        raise invalid(
            "unknown_tag",
            f"未知的评价标签：{'、'.join(unknown)} (unknown tags)",
            details={"allowed": list(policy.TAGS)},
        )
    if len(comment) > settings.comment_max_chars:
        raise invalid(
            "comment_too_long",
            f"评价内容不超过 {settings.comment_max_chars} 字 (comment too long)",
        )
    state = await policy.rateability(session, hall, ticket, tx.now)
    if not state.can_rate:
        assert state.reason is not None
        raise conflict(state.reason, state.message)
    service = await session.get(Service, ticket.service_id)
    assert service is not None
    feedback = Feedback(
        hall_id=hall.id,
        ticket_id=ticket.id,
        window_id=ticket.window_id,
        staff_id=ticket.staff_id,
        service_id=service.id,  # type: ignore[arg-type]
        department_id=service.department_id,
        rating=rating,
        points=settings.points_for(rating),
        tags=list(dict.fromkeys(tags)),
        comment=comment,
        contact=contact,
        channel=source.channel,
        source_ip=source.ip[:64],
        device_id=source.device_id,
        rater_device="" if source.device_id is not None else source.rater_device[:64],
        created_at=tx.now,
    )
    session.add(feedback)
    await session.flush()
    tx.audit("feedback.create", feedback)
    await listeners.rated(tx, feedback)
    if rating == 5:
        await _flag_burst(tx, feedback, settings)
    if policy.is_bad(rating):
        await open_for_feedback(tx, hall, feedback, settings)
    tx.emit(
        "office.feedback",
        department_id=feedback.department_id,
        id=feedback.id,
        ticket=ticket.number,
        rating=rating,
        label=policy.level_label(rating),
        flagged=feedback.flagged,
    )
    return feedback


#: The audit action and event of a rating refused because staff sent it (工作人员代评).
STAFF_ATTEMPT = "feedback.staff_refused"
STAFF_ATTEMPT_EVENT = "office.staff_rating_refused"


async def record_staff_attempt(tx: Tx, ticket: Ticket, *, via: str) -> None:
    """Record for the office that staff tried to rate a service (refused, never stored as a
    rating): an audit record naming who, and an event for the ticket's department.

    ``via``: ``session`` (a browser holding a staff page session) or ``token`` (a bearer token).
    """
    service = await tx.session.get(Service, ticket.service_id)
    assert service is not None and ticket.id is not None
    window = await tx.session.get(Window, ticket.window_id) if ticket.window_id else None
    tx.audit_raw(
        STAFF_ATTEMPT,
        "ticket",
        str(ticket.id),
        after={"ticket": ticket.number, "window_id": ticket.window_id, "via": via},
        reason="工作人员试图代替群众评价，已拒绝 (staff tried to rate a service; refused)",
    )
    tx.emit(
        STAFF_ATTEMPT_EVENT,
        department_id=service.department_id,
        ticket=ticket.number,
        window=window.number if window is not None else None,
        by=tx.actor.label,
        via=via,
    )


async def _flag_burst(tx: Tx, feedback: Feedback, settings: config.Settings) -> None:
    """Flag a burst of top ratings from one device on one channel (刷好评嫌疑): one evaluator
    pad, or one citizen's browser on the phone channel. Never judged by network address (a
    hall's visitors share one Wi-Fi). Flagged ratings are kept, and held out of every figure
    until the office reviews them (``review``)."""
    if feedback.channel == "pad" and feedback.device_id is not None:
        same_device: Any = Feedback.device_id == feedback.device_id
        where = "同一评价器"
    elif feedback.channel == "phone" and feedback.rater_device:
        same_device = Feedback.rater_device == feedback.rater_device
        where = "同一手机"
    else:
        return
    since = tx.now - timedelta(minutes=settings.burst_minutes)
    rows = list(
        (
            await tx.session.execute(
                select(Feedback).where(
                    Feedback.hall_id == feedback.hall_id,  # type: ignore[arg-type]
                    Feedback.rating == 5,  # type: ignore[arg-type]
                    Feedback.created_at >= since,  # type: ignore[arg-type, operator]
                    Feedback.channel == feedback.channel,  # type: ignore[arg-type]
                    same_device,
                )
            )
        ).scalars()
    )
    if len(rows) < settings.burst_count:
        return
    reason = (
        f"{where}{settings.burst_minutes}分钟内{len(rows)}次“非常满意”，疑似刷好评"
        f" (burst of {len(rows)} top ratings from one device)"
    )
    for row in rows:
        if row.flagged:
            continue
        before = snapshot(row)
        row.flagged = True
        row.flag_reason = reason[:200]
        tx.audit("feedback.flag", row, before=before, reason=reason)


REVIEWS = {"confirm": "confirmed", "void": "voided"}


async def review(tx: Tx, feedback: Feedback, *, decision: str, reason: str, user_id: int) -> None:
    """效能办复核 of a flagged rating: confirmed, it counts again; voided, it never counts (kept,
    with the reason). Either way the decision and its reason are kept and audited."""
    if not feedback.flagged:
        raise conflict("not_flagged", "该评价未被标记为可疑，无需复核 (the rating is not flagged)")
    if feedback.review:
        raise conflict("already_reviewed", "该评价已复核 (the rating was already reviewed)")
    if feedback.voided:
        raise conflict("already_voided", "该评价已作废 (feedback already voided)")
    before = snapshot(feedback)
    feedback.review = REVIEWS[decision]
    feedback.review_reason = reason
    feedback.reviewed_at = tx.now
    feedback.reviewed_by_id = user_id
    if decision == "void":
        feedback.voided = True
        feedback.void_reason = f"效能办复核作废：{reason}"[:1000]
        feedback.voided_at = tx.now
        feedback.voided_by_id = user_id
    tx.audit("feedback.review", feedback, before=before, reason=reason)
    if decision == "void":
        await void_open_rectification(tx, feedback, user_id=user_id)
    tx.emit(
        "office.feedback",
        department_id=feedback.department_id,
        id=feedback.id,
        change=feedback.review,
    )


async def load_feedback(session: AsyncSession, feedback_id: int, *, lock: bool = False) -> Feedback:
    stmt = select(Feedback).where(Feedback.id == feedback_id)  # type: ignore[arg-type]
    if lock:
        stmt = stmt.with_for_update()
    feedback = (await session.execute(stmt)).scalar_one_or_none()
    if feedback is None:
        raise not_found("feedback", "没有这条评价 (unknown feedback)")
    return feedback


async def ticket_of(session: AsyncSession, token: str) -> Ticket:
    """The ticket a rating's QR token names (404 ``ticket_not_found``)."""
    return await ticket_by_token(session, token)
