"""The rules of feedback (好差评): rating a finished service, bursts, appeals, rectifications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accountability import config
from ..api.errors import conflict, invalid, not_found
from ..cases.calendar import load_calendar
from ..chain import snapshot
from ..halls.lookup import business_day
from ..halls.models import Hall, Service, Window
from ..outbox import service as outbox
from ..queue.models import Ticket
from ..queue.queries import ticket_by_token
from ..transaction import Tx
from . import policy
from .models import Feedback, FeedbackAppeal, Rectification

#: The citizen's view of the fix, recorded at the callback (回访).
CITIZEN_VIEWS = {
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "unsatisfied": "不满意",
}
STAGES = {"verify": "待核实", "fix": "待整改", "callback": "待回访", "done": "已办结"}
STATUSES = {"open": "办理中", "closed": "已办结", "voided": "已撤销"}


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
    await outbox.rating(tx, feedback)
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
        rect = (
            await tx.session.execute(
                select(Rectification).where(Rectification.feedback_id == feedback.id)  # type: ignore[arg-type]
            )
        ).scalar_one_or_none()
        if rect is not None and rect.status == "open":
            before_rect = snapshot(rect)
            rect.status = "voided"
            rect.closed_at = tx.now
            rect.closed_by_id = user_id
            tx.audit("rectification.void", rect, before=before_rect, reason=feedback.void_reason)
    tx.emit(
        "office.feedback",
        department_id=feedback.department_id,
        id=feedback.id,
        change=feedback.review,
    )


async def open_for_feedback(
    tx: Tx, hall: Hall, feedback: Feedback, settings: config.Settings
) -> Rectification:
    """Every 差评 opens a rectification for the department head, due in working days."""
    assert hall.id is not None
    calendar = await load_calendar(tx.session, hall.id)
    due = calendar.add_working_days(business_day(hall, tx.now), settings.rectification_days)
    rect = Rectification(
        hall_id=hall.id,
        kind="feedback",
        feedback_id=feedback.id,
        ticket_id=feedback.ticket_id,
        window_id=feedback.window_id,
        staff_id=feedback.staff_id,
        department_id=feedback.department_id,
        rating=feedback.rating,
        opened_at=tx.now,
        due=due,
    )
    tx.session.add(rect)
    await tx.session.flush()
    tx.audit("rectification.open", rect)
    await outbox.rectification(tx, rect, change="opened")
    tx.emit(
        "office.rectification",
        department_id=rect.department_id,
        id=rect.id,
        change="opened",
        due=due.isoformat(),
    )
    return rect


async def open_for_inspection(
    tx: Tx,
    *,
    inspection_id: int,
    window_id: int,
    staff_id: int | None,
    department_id: int,
    due: date,
) -> Rectification:
    """An inspection notice (督查通知书) opens a rectification with the notice's deadline."""
    rect = Rectification(
        hall_id=tx.hall_id,
        kind="inspection",
        inspection_id=inspection_id,
        window_id=window_id,
        staff_id=staff_id,
        department_id=department_id,
        opened_at=tx.now,
        due=due,
    )
    tx.session.add(rect)
    await tx.session.flush()
    tx.audit("rectification.open", rect)
    tx.emit(
        "office.rectification",
        department_id=rect.department_id,
        id=rect.id,
        change="opened",
        due=due.isoformat(),
    )
    return rect


# -- rectification steps (the department head) ------------------------------------------------


def _require_stage(rect: Rectification, stage: str) -> None:
    if rect.status != "open":
        raise conflict(
            "rectification_not_open",
            f"该整改工单{STATUSES.get(rect.status, rect.status)}，不能再办理 (rectification is {rect.status})",
        )
    if rect.stage != stage:
        raise conflict(
            "wrong_stage",
            f"当前环节为“{STAGES.get(rect.stage, rect.stage)}” (the rectification is at stage {rect.stage})",
        )


async def verify(tx: Tx, rect: Rectification, *, finding: str, substantiated: bool) -> None:
    """核实: what the head found, and whether the complaint holds."""
    _require_stage(rect, "verify")
    before = snapshot(rect)
    rect.finding = finding
    rect.substantiated = substantiated
    rect.verified_at = tx.now
    rect.stage = "fix"
    tx.audit("rectification.verify", rect, before=before)
    await outbox.rectification(tx, rect, change="verified")
    tx.emit("office.rectification", department_id=rect.department_id, id=rect.id, change="verified")


async def fix(tx: Tx, rect: Rectification, *, measures: str) -> None:
    """整改: the measures taken. Inspection rectifications close here (no citizen to call)."""
    _require_stage(rect, "fix")
    before = snapshot(rect)
    rect.measures = measures
    rect.fixed_at = tx.now
    if rect.kind == "feedback":
        rect.stage = "callback"
    else:
        rect.stage = "done"
        rect.status = "closed"
        rect.closed_at = tx.now
        rect.closed_by_id = tx.actor.user_id
    tx.audit("rectification.fix", rect, before=before)
    await outbox.rectification(tx, rect, change="fixed")
    tx.emit("office.rectification", department_id=rect.department_id, id=rect.id, change=rect.stage)


async def callback(
    tx: Tx, rect: Rectification, *, reached: bool, citizen_view: str | None, note: str
) -> None:
    """回访: call the citizen back and record their view of the fix; closes the work order."""
    _require_stage(rect, "callback")
    if reached and citizen_view not in CITIZEN_VIEWS:
        raise invalid(
            "citizen_view_required",
            "回访联系上群众时须记录其对整改的评价 (citizen_view: satisfied|basically_satisfied|unsatisfied)",
        )
    if not reached and not note:
        raise invalid("note_required", "未联系上群众时须说明情况 (note required)")
    before = snapshot(rect)
    rect.callback_reached = reached
    rect.citizen_view = citizen_view if reached else None
    rect.callback_note = note
    rect.called_back_at = tx.now
    rect.stage = "done"
    rect.status = "closed"
    rect.closed_at = tx.now
    rect.closed_by_id = tx.actor.user_id
    tx.audit("rectification.callback", rect, before=before)
    await outbox.rectification(tx, rect, change="closed")
    tx.emit("office.rectification", department_id=rect.department_id, id=rect.id, change="closed")


def is_overdue(hall: Hall, rect: Rectification, now: datetime) -> bool:
    """Open past its due day (hall date), or closed after it."""
    if rect.status == "voided":
        return False
    if rect.status == "closed" and rect.closed_at is not None:
        return business_day(hall, rect.closed_at) > rect.due
    return business_day(hall, now) > rect.due


async def load_rectification(
    session: AsyncSession, rect_id: int, *, lock: bool = False
) -> Rectification:
    stmt = select(Rectification).where(Rectification.id == rect_id)  # type: ignore[arg-type]
    if lock:
        stmt = stmt.with_for_update()
    rect = (await session.execute(stmt)).scalar_one_or_none()
    if rect is None:
        raise not_found("rectification", "没有这个整改工单 (unknown rectification)")
    return rect


# -- appeals (申诉) ------------------------------------------------------------------------


async def load_feedback(session: AsyncSession, feedback_id: int, *, lock: bool = False) -> Feedback:
    stmt = select(Feedback).where(Feedback.id == feedback_id)  # type: ignore[arg-type]
    if lock:
        stmt = stmt.with_for_update()
    feedback = (await session.execute(stmt)).scalar_one_or_none()
    if feedback is None:
        raise not_found("feedback", "没有这条评价 (unknown feedback)")
    return feedback


async def file_appeal(tx: Tx, feedback: Feedback, *, reason: str, user_id: int) -> FeedbackAppeal:
    """申诉: a department head asks the office to void a malicious rating."""
    if feedback.voided:
        raise conflict("already_voided", "该评价已作废 (feedback already voided)")
    pending = (
        await tx.session.execute(
            select(FeedbackAppeal.id).where(  # type: ignore[call-overload]
                FeedbackAppeal.feedback_id == feedback.id,
                FeedbackAppeal.status == "pending",
            )
        )
    ).first()
    if pending is not None:
        raise conflict("appeal_pending", "该评价已有待处理的申诉 (an appeal is already pending)")
    appeal = FeedbackAppeal(
        hall_id=feedback.hall_id,
        feedback_id=feedback.id,  # type: ignore[arg-type]
        reason=reason,
        filed_by_id=user_id,
        filed_at=tx.now,
    )
    tx.session.add(appeal)
    await tx.session.flush()
    tx.audit("feedback.appeal", appeal, reason=reason)
    tx.emit("office.appeal", department_id=feedback.department_id, id=appeal.id, change="filed")
    return appeal


async def decide_appeal(
    tx: Tx, appeal: FeedbackAppeal, *, accept: bool, reason: str, user_id: int
) -> Feedback:
    """The office decides: an accepted appeal voids the rating (kept, with the reason)."""
    if appeal.status != "pending":
        raise conflict("appeal_decided", "该申诉已处理 (appeal already decided)")
    session = tx.session
    feedback = await load_feedback(session, appeal.feedback_id, lock=True)
    before = snapshot(appeal)
    appeal.status = "accepted" if accept else "rejected"
    appeal.decided_by_id = user_id
    appeal.decided_at = tx.now
    appeal.decision_reason = reason
    tx.audit("feedback.appeal_decide", appeal, before=before, reason=reason)
    if accept:
        before_fb = snapshot(feedback)
        feedback.voided = True
        feedback.void_reason = f"申诉成立：{appeal.reason}；效能办意见：{reason}"[:1000]
        feedback.voided_at = tx.now
        feedback.voided_by_id = user_id
        tx.audit("feedback.void", feedback, before=before_fb, reason=feedback.void_reason)
        rect = (
            await session.execute(
                select(Rectification).where(Rectification.feedback_id == feedback.id)  # type: ignore[arg-type]
            )
        ).scalar_one_or_none()
        if rect is not None and rect.status == "open":
            before_rect = snapshot(rect)
            rect.status = "voided"
            rect.closed_at = tx.now
            rect.closed_by_id = user_id
            tx.audit("rectification.void", rect, before=before_rect, reason=feedback.void_reason)
            await outbox.rectification(tx, rect, change="voided")
    tx.emit(
        "office.appeal",
        department_id=feedback.department_id,
        id=appeal.id,
        change=appeal.status,
    )
    return feedback


async def ticket_of(session: AsyncSession, token: str) -> Ticket:
    """The ticket a rating's QR token names (404 ``ticket_not_found``)."""
    return await ticket_by_token(session, token)
