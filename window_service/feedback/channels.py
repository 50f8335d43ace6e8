"""Ratings from the other channels of 好差评 (GB/T 39734-2020), entered by the office.

Besides the citizen's own rating of a ticket (QR code, evaluator pad), the national standard
has complaints and praise reaching the hall by other ways: the 12345 hotline's work orders,
the suggestion box (意见箱), the invited supervisors' observations (特邀监督员) and the office's
on-site review (监督查评). The office enters them against what they concern: a ticket, a case
(办件), a window, a staff member or a department. Each becomes a rating like any other: it
counts in the figures and the stars of whom it names, a 差评 opens a rectification for the
department head, and it goes to the province's platform through the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accountability import config
from ..api.errors import invalid, not_found
from ..auth.models import User
from ..auth.roles import STAFF
from ..cases.models import Case
from ..halls.models import Department, Hall, Service, Window, WindowService
from ..queue.models import Ticket
from ..transaction import Tx
from . import listeners, policy
from .models import Feedback
from .policy import CHANNELS
from .rectifications import open_for_feedback


@dataclass(frozen=True)
class Subject:
    """What an entry concerns: exactly one of these is given."""

    ticket: str | None = None
    day: date | None = None
    receipt_no: str | None = None
    window: int | None = None
    staff: str | None = None
    #: 工号: the staff number worn at the window (亮证上岗), how an outsider names a person.
    staff_no: str | None = None
    department: str | None = None


@dataclass
class _Resolved:
    department_id: int
    service_id: int | None = None
    window_id: int | None = None
    staff_id: int | None = None
    ticket_id: int | None = None
    case_id: int | None = None


async def _ticket(session: AsyncSession, hall: Hall, number: str, day: date) -> Ticket:
    ticket = (
        await session.execute(
            select(Ticket).where(
                Ticket.hall_id == hall.id,  # type: ignore[arg-type]
                Ticket.business_day == day,  # type: ignore[arg-type]
                Ticket.number == number,  # type: ignore[arg-type]
            )
        )
    ).scalar_one_or_none()
    if ticket is None:
        raise not_found("ticket", f"{day} 没有 {number} 号 (no such ticket that day)")
    return ticket


async def _from_ticket(session: AsyncSession, ticket: Ticket) -> _Resolved:
    service = await session.get(Service, ticket.service_id)
    assert service is not None
    return _Resolved(
        department_id=service.department_id,
        service_id=service.id,
        window_id=ticket.window_id,
        staff_id=ticket.staff_id,
        ticket_id=ticket.id,
    )


async def _window_department(session: AsyncSession, window_id: int) -> int | None:
    """The department of the first service a window serves (its own, in a one-department
    window; the first listed in a comprehensive one, 综合窗口)."""
    row = (
        await session.execute(
            select(Service.department_id)  # type: ignore[call-overload]
            .join(WindowService, WindowService.service_id == Service.id)
            .where(WindowService.window_id == window_id)
            .order_by(WindowService.position)
            .limit(1)
        )
    ).first()
    return int(row[0]) if row else None


async def resolve(session: AsyncSession, hall: Hall, subject: Subject) -> _Resolved:
    """Whom an entry names, found in the hall (404 for what is not there)."""
    assert hall.id is not None
    given = [
        k
        for k in ("ticket", "receipt_no", "window", "staff", "staff_no", "department")
        if getattr(subject, k) is not None
    ]
    if len(given) != 1:
        raise invalid(
            "invalid_subject",
            "请指明一个评价对象：号票、办件、窗口、工作人员或部门 "
            "(name exactly one of ticket, receipt_no, window, staff, department)",
        )
    if subject.ticket is not None:
        if subject.day is None:
            raise invalid("invalid_subject", "号票须同时给出日期 (a ticket needs its day)")
        return await _from_ticket(
            session, await _ticket(session, hall, subject.ticket, subject.day)
        )
    if subject.receipt_no is not None:
        case = (
            await session.execute(
                select(Case).where(Case.hall_id == hall.id, Case.receipt_no == subject.receipt_no)  # type: ignore[arg-type]
            )
        ).scalar_one_or_none()
        if case is None:
            raise not_found("case", "没有这个办件 (no such case)")
        ticket = await session.get(Ticket, case.ticket_id) if case.ticket_id else None
        if ticket is not None:
            out = await _from_ticket(session, ticket)
        else:
            service = await session.get(Service, case.service_id)
            assert service is not None
            out = _Resolved(department_id=service.department_id, service_id=service.id)
        out.case_id = case.id
        return out
    if subject.window is not None:
        window = (
            await session.execute(
                select(Window).where(Window.hall_id == hall.id, Window.number == subject.window)  # type: ignore[arg-type]
            )
        ).scalar_one_or_none()
        if window is None or window.id is None:
            raise not_found("window", "没有这个窗口 (no such window)")
        dept = await _window_department(session, window.id)
        if dept is None:
            raise invalid(
                "window_without_service", "该窗口未设办理事项 (the window serves nothing)"
            )
        return _Resolved(department_id=dept, window_id=window.id)
    if subject.staff is not None or subject.staff_no is not None:
        conditions: list[Any] = [User.hall_id == hall.id, User.role == STAFF]
        if subject.staff is not None:
            conditions.append(User.username == subject.staff)
        else:  # a 工号 may have been worn before by someone who left: the one on duty now
            conditions += [User.staff_no == subject.staff_no, User.active]
        users = list((await session.execute(select(User).where(*conditions))).scalars())
        if len(users) != 1:
            raise not_found("staff", "没有这名窗口工作人员 (no such staff member)")
        user = users[0]
        dept = await _window_department(session, user.window_id) if user.window_id else None
        if dept is None:
            raise invalid(
                "staff_without_window",
                "该工作人员未分配窗口，请改为按窗口或部门登记 (the staff member has no window)",
            )
        return _Resolved(department_id=dept, window_id=user.window_id, staff_id=user.id)
    department = (
        await session.execute(
            select(Department).where(
                Department.hall_id == hall.id,  # type: ignore[arg-type]
                Department.code == subject.department,  # type: ignore[arg-type]
            )
        )
    ).scalar_one_or_none()
    if department is None or department.id is None:
        raise not_found("department", "没有这个部门 (no such department)")
    return _Resolved(department_id=department.id)


async def enter(
    tx: Tx,
    hall: Hall,
    subject: Subject,
    *,
    channel: str,
    rating: int,
    comment: str,
    contact: str = "",
    reference: str = "",
    tags: list[str] | None = None,
) -> Feedback:
    """登记: the office enters a rating of another channel; a 差评 opens a rectification."""
    assert hall.id is not None
    if channel not in CHANNELS:
        raise invalid(
            "invalid_channel",
            "评价渠道无效 (channel: hotline_12345, suggestion_box, supervisor, onsite_review)",
        )
    if rating not in policy.LEVELS:
        raise invalid("invalid_rating", "评价等级须为 1 至 5 (rating must be 1..5)")
    tags = list(dict.fromkeys(tags or []))
    unknown = [t for t in tags if t not in policy.TAGS]
    if unknown:
        raise invalid("unknown_tag", f"未知的评价标签：{'、'.join(unknown)} (unknown tags)")
    session = tx.session
    settings, _ = await config.current(session, hall.id)
    who = await resolve(session, hall, subject)
    feedback = Feedback(
        hall_id=hall.id,
        ticket_id=None,
        subject_ticket_id=who.ticket_id,
        case_id=who.case_id,
        window_id=who.window_id,
        staff_id=who.staff_id,
        service_id=who.service_id,
        department_id=who.department_id,
        rating=rating,
        points=settings.points_for(rating),
        tags=tags,
        comment=comment,
        contact=contact,
        channel=channel,
        reference=reference,
        entered_by_id=tx.actor.user_id,
        created_at=tx.now,
    )
    session.add(feedback)
    await session.flush()
    tx.audit("feedback.entered", feedback)
    await listeners.rated(tx, feedback)
    if policy.is_bad(rating):
        await open_for_feedback(tx, hall, feedback, settings)
    tx.emit(
        "office.feedback",
        department_id=feedback.department_id,
        id=feedback.id,
        ticket=None,
        rating=rating,
        label=policy.level_label(rating),
        flagged=False,
        channel=channel,
    )
    return feedback
