"""整改: rectifications, opened by a 差评 or an inspection notice, and their steps (the
department head verifies, fixes, calls back)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accountability import config
from ..api.errors import conflict, invalid, not_found
from ..cases.calendar import load_calendar
from ..chain import snapshot
from ..halls.lookup import business_day
from ..halls.models import Hall
from ..transaction import Tx
from . import listeners
from .models import Feedback, Rectification

#: The citizen's view of the fix, recorded at the callback (回访).
CITIZEN_VIEWS = {
    "satisfied": "满意",
    "basically_satisfied": "基本满意",
    "unsatisfied": "不满意",
}
STAGES = {
    "appeal": "待效能办认定",
    "verify": "待核实",
    "fix": "待整改",
    "callback": "待回访",
    "done": "已办结",
}
STATUSES = {"open": "办理中", "closed": "已办结", "voided": "已撤销"}


async def _open(tx: Tx, rect: Rectification) -> Rectification:
    """Store a new rectification, audited; its listeners and the office are told."""
    tx.session.add(rect)
    await tx.session.flush()
    tx.audit("rectification.open", rect)
    await listeners.rectification_changed(tx, rect, change="opened")
    tx.emit(
        "office.rectification",
        department_id=rect.department_id,
        id=rect.id,
        change="opened",
        due=rect.due.isoformat(),
    )
    return rect


async def void_open_rectification(
    tx: Tx, feedback: Feedback, *, user_id: int
) -> Rectification | None:
    """A voided rating's rectification, if still open, is voided with the rating's reason."""
    rect = (
        await tx.session.execute(
            select(Rectification).where(Rectification.feedback_id == feedback.id)  # type: ignore[arg-type]
        )
    ).scalar_one_or_none()
    if rect is None or rect.status != "open":
        return None
    before = snapshot(rect)
    rect.status = "voided"
    rect.closed_at = tx.now
    rect.closed_by_id = user_id
    tx.audit("rectification.void", rect, before=before, reason=feedback.void_reason)
    return rect


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
        ticket_id=feedback.ticket_id or feedback.subject_ticket_id,
        window_id=feedback.window_id,
        staff_id=feedback.staff_id,
        department_id=feedback.department_id,
        rating=feedback.rating,
        opened_at=tx.now,
        due=due,
    )
    return await _open(tx, rect)


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
    return await _open(tx, rect)


async def open_for_evaluation(tx: Tx, *, department_id: int, due: date) -> Rectification:
    """The last place of a democratic evaluation (民主测评) opens a rectification for the
    department, with the hall's rectification deadline (kind ``evaluation``)."""
    rect = Rectification(
        hall_id=tx.hall_id,
        kind="evaluation",
        department_id=department_id,
        opened_at=tx.now,
        due=due,
    )
    return await _open(tx, rect)


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


#: The classes of a 差评 at 核实 (GB/T 39734-2020 §9), with whether the complaint holds.
CATEGORIES = {
    "immediate": ("立行立改", True),
    "deadline": ("限期整改", True),
    "explain": ("解释说明", False),
    "mistaken": ("误评/恶意", False),
}


async def verify(
    tx: Tx,
    rect: Rectification,
    *,
    finding: str,
    substantiated: bool | None = None,
    category: str | None = None,
) -> None:
    """核实: what the head found, and the class of the complaint (GB/T 39734-2020 §9).

    立行立改 is due the next working day; 限期整改 keeps its due day; 解释说明 (the law allows
    no change) goes on to the explanation given to the citizen; 误评/恶意 is not the head's to
    decide: it files an appeal with the finding and waits for the office, which alone voids a
    rating (an appeal refused sends the work order back to 核实). Without a class, the old
    form (``substantiated``) means 限期整改 or 解释说明.
    """
    _require_stage(rect, "verify")
    if category is None:
        if substantiated is None:
            raise invalid("category_required", "请选择核实结论的分类 (category is required)")
        category = "deadline" if substantiated else "explain"
    if category not in CATEGORIES or (category == "mistaken" and rect.feedback_id is None):
        raise invalid(
            "invalid_category", "分类无效 (category: immediate, deadline, explain, mistaken)"
        )
    before = snapshot(rect)
    rect.finding = finding
    rect.category = category
    rect.substantiated = CATEGORIES[category][1]
    rect.verified_at = tx.now
    rect.stage = "fix"
    if category == "immediate":
        calendar = await load_calendar(tx.session, rect.hall_id)
        hall = await tx.session.get(Hall, rect.hall_id)
        assert hall is not None
        rect.due = min(rect.due, calendar.add_working_days(business_day(hall, tx.now), 1))
    if category == "mistaken":
        rect.stage = "appeal"
    tx.audit("rectification.verify", rect, before=before)
    await listeners.rectification_changed(tx, rect, change="verified")
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
    await listeners.rectification_changed(tx, rect, change="fixed")
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
    await listeners.rectification_changed(tx, rect, change="closed")
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
