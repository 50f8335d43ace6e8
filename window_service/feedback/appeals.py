"""申诉: a department head asks the efficiency office to void a malicious rating; the office
decides."""

from __future__ import annotations

from sqlalchemy import select

from ..api.errors import conflict
from ..chain import snapshot
from ..transaction import Tx
from . import listeners
from .models import Feedback, FeedbackAppeal, Rectification
from .rectifications import void_open_rectification
from .service import load_feedback


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


async def _back_to_verify(tx: Tx, feedback: Feedback) -> None:
    """A refused appeal sends a work order classed 误评/恶意 back to 核实: the head must class
    the complaint again (it holds, or needs an explanation)."""
    rect = (
        await tx.session.execute(
            select(Rectification).where(
                Rectification.feedback_id == feedback.id,  # type: ignore[arg-type]
                Rectification.status == "open",  # type: ignore[arg-type]
                Rectification.stage == "appeal",  # type: ignore[arg-type]
            )
        )
    ).scalar_one_or_none()
    if rect is None:
        return
    before = snapshot(rect)
    rect.stage = "verify"
    rect.category = ""
    rect.substantiated = None
    tx.audit("rectification.reverify", rect, before=before)
    await listeners.rectification_changed(tx, rect, change="reverify")


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
    if not accept:
        await _back_to_verify(tx, feedback)
    if accept:
        before_fb = snapshot(feedback)
        feedback.voided = True
        feedback.void_reason = f"申诉成立：{appeal.reason}；效能办意见：{reason}"[:1000]
        feedback.voided_at = tx.now
        feedback.voided_by_id = user_id
        tx.audit("feedback.void", feedback, before=before_fb, reason=feedback.void_reason)
        rect = await void_open_rectification(tx, feedback, user_id=user_id)
        if rect is not None:
            await listeners.rectification_changed(tx, rect, change="voided")
    tx.emit(
        "office.appeal",
        department_id=feedback.department_id,
        id=appeal.id,
        change=appeal.status,
    )
    return feedback
