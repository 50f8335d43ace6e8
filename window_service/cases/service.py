"""The rules of cases (办件): acceptance, correction notices, resuming, deciding, extending
(consultations are in ``consultations.py``).

Functions take a ``Tx`` (session, hall clock, actor) and plain values, change rows, keep the
case's own history (``CaseEvent``) and the audit record, and tell the office dashboard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import conflict, invalid, not_found
from ..chain import snapshot, to_jsonable
from ..halls.lookup import business_day
from ..halls.models import Hall, Service
from ..queue import rules as ticket_rules
from ..queue.models import Ticket, TicketEvent
from ..transaction import Tx
from . import deadlines as dl
from .calendar import WorkCalendar
from .models import Case, CaseEvent, CorrectionNotice
from .numbering import format_receipt_no, new_check_code, next_receipt_seq

MAX_MATERIALS = 50
RECEIPT_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_EXTENSION_DAYS = 30


@dataclass(frozen=True)
class Where:
    """The window (if any) the actor works at; recorded with every step."""

    window_id: int | None = None


def _event(tx: Tx, case: Case, action: str, where: Where, **detail: object) -> None:
    assert case.id is not None
    tx.session.add(
        CaseEvent(
            case_id=case.id,
            at=tx.now,
            action=action,
            staff_id=tx.actor.user_id,
            window_id=where.window_id,
            detail=to_jsonable(dict(detail)),
        )
    )


def _emit(tx: Tx, case: Case, action: str) -> None:
    tx.emit(
        "office.case",
        department_id=case.department_id,
        action=action,
        receipt_no=case.receipt_no,
        status=case.status,
        promised_due=case.promised_due,
    )


def is_receipt_no(text: str) -> bool:
    """Whether ``text`` can be a receipt number at all (checked before it reaches the database)."""
    return bool(RECEIPT_PATTERN.match(text))


async def get_case(session: AsyncSession, receipt_no: str, *, lock: bool = False) -> Case:
    if not is_receipt_no(receipt_no):
        raise not_found("case", "没有这个办件 (unknown case)")
    stmt = select(Case).where(Case.receipt_no == receipt_no)  # type: ignore[arg-type]
    if lock:
        stmt = stmt.with_for_update()
    case = (await session.execute(stmt)).scalar_one_or_none()
    if case is None:
        raise not_found("case", "没有这个办件 (unknown case)")
    return case


async def accept(
    tx: Tx,
    hall: Hall,
    service: Service,
    ticket: Ticket,
    cal: WorkCalendar,
    *,
    applicant_name: str,
    applicant_phone: str,
    where: Where,
) -> Case:
    """受理: open a case from the ticket being served at the actor's window."""
    assert hall.id is not None and service.id is not None and ticket.id is not None
    if ticket.status != ticket_rules.SERVING:
        label = ticket_rules.STATUS_LABELS.get(ticket.status, ticket.status)
        raise conflict(
            "invalid_state",
            f"号票 {ticket.number} 当前状态为「{label}」，只能为正在办理的号票受理办件 "
            "(only the ticket being served can open a case)",
        )
    problem = dl.check_time_limits(service.legal_days, service.promised_days)
    if problem is not None:
        raise conflict("invalid_time_limits", f"事项「{service.name}」时限配置有误：{problem}")
    day = business_day(hall, tx.now)
    seq = await next_receipt_seq(tx.session, hall.id, day)
    dues = dl.compute_dues(
        cal,
        hall,
        accepted_day=day,
        accepted_at=tx.now,
        legal_days=service.legal_days,
        promised_days=service.promised_days,
        shift=0,
    )
    case = Case(
        hall_id=hall.id,
        receipt_no=format_receipt_no(hall.code, day, seq),
        check_code=new_check_code(),
        ticket_id=ticket.id,
        service_id=service.id,
        department_id=service.department_id,
        window_id=where.window_id,
        accepted_by_id=tx.actor.user_id,
        first_responder_id=ticket.first_responder_id or tx.actor.user_id,
        applicant_name=applicant_name,
        applicant_phone=applicant_phone,
        accepted_at=tx.now,
        accepted_day=day,
        legal_days=service.legal_days,
        promised_days=service.promised_days,
        promised_due=dues.promised_due,
        legal_due=dues.legal_due,
        promised_due_at=dues.promised_due_at,
        legal_due_at=dues.legal_due_at,
        provisional=dues.provisional,
        status=dl.ACCEPTED,
    )
    tx.session.add(case)
    await tx.session.flush()
    _event(tx, case, "accepted", where, ticket=ticket.number)
    tx.session.add(
        TicketEvent(
            ticket_id=ticket.id,
            at=tx.now,
            action="case_accepted",
            staff_id=tx.actor.user_id,
            window_id=where.window_id,
            service_id=service.id,
            detail={"receipt_no": case.receipt_no},
        )
    )
    tx.audit("case.accept", case)
    _emit(tx, case, "accepted")
    return case


def _require_open(case: Case, *statuses: str, action: str) -> None:
    if case.status not in statuses:
        label = dl.STATUS_LABELS.get(case.status, case.status)
        raise conflict(
            "invalid_state",
            f"办件 {case.receipt_no} 当前状态为「{label}」，不能{action} "
            f"(not allowed while the case is {case.status})",
        )


def clean_materials(materials: list[str]) -> list[str]:
    """The missing materials, trimmed, blank ones dropped, duplicates once; at least one."""
    seen: list[str] = []
    for item in materials:
        text = item.strip()
        if text and text not in seen:
            seen.append(text)
    if not seen:
        raise invalid(
            "materials_required",
            "补正告知须一次性列明全部缺少的材料 (list every missing material)",
        )
    if len(seen) > MAX_MATERIALS:
        raise invalid("too_many_materials", f"材料最多 {MAX_MATERIALS} 项 (too many materials)")
    return seen


async def issue_correction(
    tx: Tx, hall: Hall, case: Case, materials: list[str], *, where: Where
) -> CorrectionNotice:
    """补正告知: list every missing material at once; the clock stops.

    A second notice on the same case is still recorded, and flagged as a breach of
    一次性告知 against the window and staff member who issued it.
    """
    assert case.id is not None
    _require_open(case, dl.ACCEPTED, action="发出补正告知")
    items = clean_materials(materials)
    earlier = int(
        (
            await tx.session.execute(
                select(func.count()).where(CorrectionNotice.case_id == case.id)  # type: ignore[arg-type]
            )
        ).scalar_one()
    )
    seq = earlier + 1
    breach = earlier > 0
    before = snapshot(case)
    day = business_day(hall, tx.now)
    notice = CorrectionNotice(
        case_id=case.id,
        hall_id=case.hall_id,
        seq=seq,
        notice_no=f"{case.receipt_no}-B{seq}",
        materials=items,
        issued_at=tx.now,
        issued_day=day,
        issued_by_id=tx.actor.user_id,
        window_id=where.window_id,
        breach=breach,
    )
    tx.session.add(notice)
    case.status = dl.CORRECTION
    case.stopped_since = day
    await tx.session.flush()
    _event(tx, case, "correction", where, notice_no=notice.notice_no, materials=items)
    tx.audit("correction.issue", notice)
    tx.audit("case.correction", case, before=before)
    if breach:
        _event(tx, case, "breach", where, notice_no=notice.notice_no, rule="一次性告知")
        tx.audit(
            "case.breach",
            notice,
            reason="违反一次性告知：同一办件第二次补正告知 (second correction notice)",
        )
        tx.emit(
            "office.case_breach",
            department_id=case.department_id,
            receipt_no=case.receipt_no,
            notice_no=notice.notice_no,
            window_id=where.window_id,
        )
    _emit(tx, case, "correction")
    return notice


async def resume(tx: Tx, hall: Hall, case: Case, cal: WorkCalendar, *, where: Where) -> Case:
    """材料补齐: the clock restarts the working day after today; deadlines move accordingly."""
    assert case.id is not None
    _require_open(case, dl.CORRECTION, action="恢复计时")
    notice = (
        await tx.session.execute(
            select(CorrectionNotice)
            .where(
                CorrectionNotice.case_id == case.id,  # type: ignore[arg-type]
                CorrectionNotice.resumed_at.is_(None),  # type: ignore[union-attr]
            )
            .order_by(CorrectionNotice.seq.desc())  # type: ignore[attr-defined]
            .limit(1)
        )
    ).scalar_one_or_none()
    today = business_day(hall, tx.now)
    stopped = dl.ongoing_stop(cal, case, today)
    before = snapshot(case)
    case.status = dl.ACCEPTED
    case.stopped_days += stopped
    case.stopped_since = None
    dl.apply_dues(case, dl.stored_dues(cal, hall, case))
    if notice is not None:
        notice_before = snapshot(notice)
        notice.resumed_at = tx.now
        notice.resumed_day = today
        notice.resumed_by_id = tx.actor.user_id
        notice.stopped_days = stopped
        tx.audit("correction.resume", notice, before=notice_before)
    _event(tx, case, "resumed", where, stopped_days=stopped, promised_due=case.promised_due)
    tx.audit("case.resume", case, before=before)
    _emit(tx, case, "resumed")
    return case


async def decide(
    tx: Tx, hall: Hall, case: Case, cal: WorkCalendar, outcome: str, reason: str, *, where: Where
) -> Case:
    """办结 (completed) or 不予受理 (rejected, with a reason)."""
    if outcome not in dl.DECIDED_STATUSES:
        raise invalid("invalid_outcome", "办理结果无效 (unknown outcome)")
    if outcome == dl.REJECTED and not reason:
        raise invalid("reason_required", "不予受理须说明理由 (a reason is required)")
    _require_open(case, *dl.OPEN_STATUSES, action="办结" if outcome == dl.COMPLETED else "不予受理")
    today = business_day(hall, tx.now)
    before = snapshot(case)
    if case.status == dl.CORRECTION:
        # Deciding during a correction closes the stop first (e.g. rejected for missing papers).
        stopped = dl.ongoing_stop(cal, case, today)
        case.stopped_days += stopped
        case.stopped_since = None
        dl.apply_dues(case, dl.stored_dues(cal, hall, case))
        await _close_open_notice(tx, case, today, stopped)
    case.status = outcome
    case.decided_at = tx.now
    case.decided_day = today
    case.decided_by_id = tx.actor.user_id
    case.decision_reason = reason
    _event(tx, case, outcome, where, reason=reason, on_time=dl.decided_on_time(case))
    tx.audit("case.complete" if outcome == dl.COMPLETED else "case.reject", case, before=before)
    _emit(tx, case, outcome)
    return case


async def _close_open_notice(tx: Tx, case: Case, today: date, stopped: int) -> None:
    rows = (
        await tx.session.execute(
            select(CorrectionNotice).where(
                CorrectionNotice.case_id == case.id,  # type: ignore[arg-type]
                CorrectionNotice.resumed_at.is_(None),  # type: ignore[union-attr]
            )
        )
    ).scalars()
    for notice in rows:
        before = snapshot(notice)
        notice.resumed_at = tx.now
        notice.resumed_day = today
        notice.resumed_by_id = tx.actor.user_id
        notice.stopped_days = stopped
        tx.audit("correction.close", notice, before=before, reason="办件已办结或不予受理")


async def extend(
    tx: Tx, hall: Hall, case: Case, cal: WorkCalendar, days: int, reason: str, *, where: Where
) -> Case:
    """延期: a department head approves more working days, with a reason."""
    if not 1 <= days <= MAX_EXTENSION_DAYS:
        raise invalid(
            "invalid_days", f"延期天数须为 1–{MAX_EXTENSION_DAYS} 个工作日 (invalid days)"
        )
    if not reason:
        raise invalid("reason_required", "延期须说明理由 (a reason is required)")
    _require_open(case, *dl.OPEN_STATUSES, action="延期")
    before = snapshot(case)
    case.extension_days += days
    # A running stop is left out; it is added when the clock restarts.
    dl.apply_dues(case, dl.stored_dues(cal, hall, case))
    _event(tx, case, "extended", where, days=days, reason=reason, promised_due=case.promised_due)
    tx.audit("case.extend", case, before=before, reason=reason)
    _emit(tx, case, "extended")
    return case


async def recompute_hall(tx: Tx, hall: Hall, cal: WorkCalendar, *, reason: str) -> int:
    """Recompute the deadlines of the hall's cases after the calendar changed.

    Open cases are recomputed, and so are decided ones whose deadlines were provisional.
    Returns how many cases changed.
    """
    rows = (
        await tx.session.execute(
            select(Case).where(
                Case.hall_id == hall.id,  # type: ignore[arg-type]
                Case.status.in_(dl.OPEN_STATUSES) | Case.provisional.is_(True),  # type: ignore[attr-defined]
            )
        )
    ).scalars()
    changed = 0
    for case in rows:
        before = snapshot(case)
        if dl.apply_dues(case, dl.stored_dues(cal, hall, case)):
            changed += 1
            _event(tx, case, "recomputed", Where(), promised_due=case.promised_due, reason=reason)
            tx.audit("case.recompute", case, before=before, reason=reason)
    if changed:
        tx.emit("office.case", action="recomputed", receipt_no=None, status=None, count=changed)
    return changed
