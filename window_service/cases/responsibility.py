"""首问负责制: who first dealt with a matter, everyone who touched it, and matters left
without an outcome.

- The first responder of a ticket is the staff member whose window first called it
  (``Ticket.first_responder_id``, kept through transfers); of a consultation, its registrar;
  of a case, the first responder of its ticket (or whoever accepted it).
- The chain is the ticket's history (``TicketEvent``) plus its cases' histories.
- A matter ends without an outcome when a ticket that was called ends cancelled or expired,
  is still at a window after its business day, or is finished as 受理 (accepted) without a
  case or as 咨询 (consulted) without a consultation record (nor a case). 办结, 不予受理 and
  补正 are outcomes; so is a referral (a consultation with ``referred_to``). A no-show
  (过号) is the citizen's doing and does not count.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import exists, func, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.models import User
from ..halls.lookup import local_time
from ..halls.models import Hall, Service, Window
from ..queue import rules as ticket_rules
from ..queue.models import Ticket, TicketEvent
from .models import Case, CaseEvent, Consultation

ACTION_LABELS = {
    "issued": "取号",
    "called": "叫号",
    "recalled": "重呼",
    "started": "开始办理",
    "finished": "办结",
    "no_show": "过号",
    "returned": "回队",
    "cancelled": "取消",
    "transferred": "转移",
    "expired": "过期",
    "case_accepted": "受理办件",
    "consultation": "咨询登记",
    "accepted": "受理",
    "correction": "补正告知",
    "breach": "违反一次性告知",
    "resumed": "材料补齐，恢复计时",
    "completed": "办结",
    "rejected": "不予受理",
    "extended": "延期",
    "recomputed": "重算期限",
}

NO_OUTCOME_REASONS = {
    "cancelled": "叫号后被取消 (cancelled after being called)",
    "expired": "叫号后未办理即过期 (expired after being called)",
    "left_open": "营业日结束仍未办结 (left open after the business day)",
    "accepted_without_case": "标记受理但未登记办件 (accepted without a case)",
    "consulted_without_record": "标记咨询但未登记咨询 (consulted without a record)",
}


async def usernames(session: AsyncSession, ids: set[int]) -> dict[int, User]:
    if not ids:
        return {}
    rows = await session.execute(select(User).where(User.id.in_(list(ids))))  # type: ignore[union-attr]
    return {u.id: u for u in rows.scalars() if u.id is not None}


async def window_numbers(session: AsyncSession, hall_id: int) -> dict[int, int]:
    rows = await session.execute(select(Window.id, Window.number).where(Window.hall_id == hall_id))  # type: ignore[call-overload]
    return {wid: num for wid, num in rows.all()}


async def service_codes(session: AsyncSession, hall_id: int) -> dict[int, Service]:
    rows = await session.execute(select(Service).where(Service.hall_id == hall_id))  # type: ignore[arg-type]
    return {s.id: s for s in rows.scalars() if s.id is not None}


def _staff_out(user: User | None) -> dict[str, str] | None:
    if user is None:
        return None
    return {"username": user.username, "name": user.display_name, "staff_no": user.staff_no}


@dataclass
class Chain:
    first_responder: dict[str, str] | None
    touched: list[dict[str, str]]
    steps: list[dict[str, Any]]


async def ticket_chain(session: AsyncSession, hall: Hall, ticket: Ticket) -> Chain:
    """Everyone who touched the ticket and its cases, in order, with the first responder."""
    assert hall.id is not None
    events = list(
        (
            await session.execute(
                select(TicketEvent)
                .where(TicketEvent.ticket_id == ticket.id)  # type: ignore[arg-type]
                .order_by(TicketEvent.at, TicketEvent.id)  # type: ignore[arg-type]
            )
        ).scalars()
    )
    cases = list(
        (await session.execute(select(Case).where(Case.ticket_id == ticket.id))).scalars()  # type: ignore[arg-type]
    )
    case_events: list[tuple[Case, CaseEvent]] = []
    for case in cases:
        rows = await session.execute(
            select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id)  # type: ignore[arg-type]
        )
        case_events.extend((case, ev) for ev in rows.scalars() if ev.action != "accepted")
    staff_ids = {e.staff_id for e in events if e.staff_id} | {
        e.staff_id for _, e in case_events if e.staff_id
    }
    if ticket.first_responder_id:
        staff_ids.add(ticket.first_responder_id)
    users = await usernames(session, staff_ids)
    windows = await window_numbers(session, hall.id)
    services = await service_codes(session, hall.id)
    steps: list[dict[str, Any]] = []
    for e in events:
        svc = services.get(e.service_id) if e.service_id else None
        steps.append(
            {
                "at": local_time(hall, e.at).isoformat(),
                "action": e.action,
                "label": ACTION_LABELS.get(e.action, e.action),
                "staff": _staff_out(users.get(e.staff_id)) if e.staff_id else None,
                "window": windows.get(e.window_id) if e.window_id else None,
                "service": svc.code if svc else None,
                "detail": e.detail,
            }
        )
    for case, ce in case_events:
        steps.append(
            {
                "at": local_time(hall, ce.at).isoformat(),
                "action": f"case.{ce.action}",
                "label": ACTION_LABELS.get(ce.action, ce.action),
                "staff": _staff_out(users.get(ce.staff_id)) if ce.staff_id else None,
                "window": windows.get(ce.window_id) if ce.window_id else None,
                "service": services[case.service_id].code,
                "detail": {"receipt_no": case.receipt_no, **ce.detail},
            }
        )
    steps.sort(key=lambda s: str(s["at"]))
    touched: list[dict[str, str]] = []
    seen: set[str] = set()
    for step in steps:
        staff = step["staff"]
        if staff and staff["username"] not in seen:
            seen.add(staff["username"])
            touched.append(staff)
    first = users.get(ticket.first_responder_id) if ticket.first_responder_id else None
    return Chain(_staff_out(first), touched, steps)


@dataclass
class Unresolved:
    ticket_id: int
    number: str
    business_day: date
    reason: str
    service: str


@dataclass
class ResponderFigures:
    """A staff member's matters as first responder and those left without an outcome."""

    username: str
    name: str
    tickets: int = 0
    consultations: int = 0
    cases: int = 0
    referrals: int = 0
    unresolved: list[Unresolved] = field(default_factory=list)

    @property
    def matters(self) -> int:
        return self.tickets + self.consultations

    @property
    def unresolved_count(self) -> int:
        return len(self.unresolved)


_TICKETS: Any = Ticket.__table__  # type: ignore[attr-defined]
#: The statuses of a matter still under way: without an outcome once its business day is over.
_OPEN = (ticket_rules.WAITING, *ticket_rules.AT_WINDOW, ticket_rules.HELD)


def no_outcome_reason(hall_id: int, today: date) -> Any:
    """SQL over ``ticket``: why a ticket's matter ended without an outcome (a key of
    ``NO_OUTCOME_REASONS``), or NULL (an outcome, a no-show, or still open today). The rule
    of the module's doc, written once: the lists and the counts both read it."""
    cols = _TICKETS.c
    has_case = exists().where(
        Case.ticket_id == cols.id,  # type: ignore[arg-type]
        Case.hall_id == hall_id,  # type: ignore[arg-type]
    )
    has_consultation = exists().where(
        Consultation.ticket_id == cols.id,  # type: ignore[arg-type]
        Consultation.hall_id == hall_id,  # type: ignore[arg-type]
    )
    done = cols.status == ticket_rules.DONE
    return sql_case(
        (cols.first_responder_id.is_(None), None),
        (cols.status.in_((ticket_rules.CANCELLED, ticket_rules.EXPIRED)), cols.status),
        (cols.status.in_(_OPEN) & (cols.business_day < today), literal("left_open")),
        (done & (cols.outcome == "accepted") & ~has_case, literal("accepted_without_case")),
        (
            done & (cols.outcome == "consulted") & ~has_case & ~has_consultation,
            literal("consulted_without_record"),
        ),
        else_=None,
    )


async def unresolved_counts(
    session: AsyncSession,
    hall: Hall,
    start: date,
    end: date,
    today: date,
    *,
    department_ids: frozenset[int] | None = None,
) -> dict[tuple[int, int], int]:
    """(first responder id, original service id) → how many of their matters of
    ``[start, end]`` ended without an outcome, counted in the database (what the figures
    and the stars read; ``first_responder_figures`` lists them)."""
    assert hall.id is not None
    allowed = _allowed(await service_codes(session, hall.id), department_ids)
    reason = no_outcome_reason(hall.id, today)
    return await _counted(session, hall.id, start, end, allowed, reason.is_not(None))


async def _counted(
    session: AsyncSession, hall_id: int, start: date, end: date, allowed: set[int], *where: Any
) -> dict[tuple[int, int], int]:
    """(first responder id, original service id) → the period's tickets (``where``: those
    only) counted in the database, of the services in ``allowed`` (a transferred ticket
    counts where it started or where it went)."""
    cols = _TICKETS.c
    rows = await session.execute(
        select(cols.first_responder_id, cols.original_service_id, cols.service_id, func.count())
        .where(*_of_period(hall_id, start, end), *where)
        .group_by(cols.first_responder_id, cols.original_service_id, cols.service_id)
    )
    out: dict[tuple[int, int], int] = defaultdict(int)
    for responder, original, current, n in rows.all():
        if original in allowed or current in allowed:
            out[responder, original] += n
    return dict(out)


def _allowed(services: dict[int, Service], department_ids: frozenset[int] | None) -> set[int]:
    """The services a caller sees (``department_ids``: a head's departments; None: all)."""
    return {
        sid
        for sid, s in services.items()
        if department_ids is None or s.department_id in department_ids
    }


def _of_period(hall_id: int, start: date, end: date) -> tuple[Any, ...]:
    cols = _TICKETS.c
    return (
        cols.hall_id == hall_id,
        cols.business_day >= start,
        cols.business_day <= end,
        cols.first_responder_id.is_not(None),
    )


async def first_responder_figures(
    session: AsyncSession,
    hall: Hall,
    start: date,
    end: date,
    today: date,
    *,
    department_ids: frozenset[int] | None = None,
) -> dict[str, ResponderFigures]:
    """Per staff username: matters they first responded to in ``[start, end]`` and the ones
    that ended without an outcome."""
    assert hall.id is not None
    services = await service_codes(session, hall.id)
    allowed = _allowed(services, department_ids)
    # Set-based: the period's tickets counted per first responder and service in the
    # database, and read one by one only where the rule finds no outcome (a hall-month
    # holds tens of thousands of tickets; bench/province.py).
    cols = _TICKETS.c
    of_period = _of_period(hall.id, start, end)

    def in_scope(original_service_id: int, service_id: int) -> bool:
        return original_service_id in allowed or service_id in allowed

    counted = await _counted(session, hall.id, start, end, allowed)
    reason = no_outcome_reason(hall.id, today).label("reason")
    inner = (
        select(
            cols.id,
            cols.number,
            cols.business_day,
            cols.first_responder_id,
            cols.original_service_id,
            cols.service_id,
            reason,
        )
        .where(*of_period)
        .subquery()
    )
    tickets: list[Any] = [
        t
        for t in (
            await session.execute(
                select(inner).where(inner.c.reason.is_not(None)).order_by(inner.c.id)
            )
        ).all()
        if in_scope(t.original_service_id, t.service_id)
    ]
    consultations = [
        c
        for c in (
            await session.execute(
                select(Consultation).where(
                    Consultation.hall_id == hall.id,  # type: ignore[arg-type]
                    Consultation.business_day >= start,  # type: ignore[arg-type]
                    Consultation.business_day <= end,  # type: ignore[arg-type]
                )
            )
        ).scalars()
        if c.service_id in allowed
    ]
    cases = [
        c
        for c in (
            await session.execute(
                select(Case.service_id, Case.first_responder_id).where(  # type: ignore[call-overload]
                    Case.hall_id == hall.id,  # type: ignore[arg-type]
                    Case.accepted_day >= start,  # type: ignore[arg-type]
                    Case.accepted_day <= end,  # type: ignore[arg-type]
                )
            )
        )
        if c.service_id in allowed
    ]
    staff_ids = {responder for responder, _ in counted}
    staff_ids |= {c.staff_id for c in consultations if c.staff_id}
    staff_ids |= {c.first_responder_id for c in cases if c.first_responder_id}
    users = await usernames(session, staff_ids)
    out: dict[str, ResponderFigures] = {}

    def figures_for(user_id: int) -> ResponderFigures | None:
        user = users.get(user_id)
        if user is None:
            return None
        if user.username not in out:
            out[user.username] = ResponderFigures(user.username, user.display_name)
        return out[user.username]

    for (responder, _), n in counted.items():
        fig = figures_for(responder)
        if fig is not None:
            fig.tickets += n
    for t in tickets:
        fig = figures_for(t.first_responder_id)
        if fig is not None:
            fig.unresolved.append(
                Unresolved(
                    t.id, t.number, t.business_day, t.reason, services[t.original_service_id].code
                )
            )
    for c in consultations:
        if c.staff_id is None or c.ticket_id is not None:
            continue  # a consultation on a ticket belongs to the ticket's matter
        fig = figures_for(c.staff_id)
        if fig is not None:
            fig.consultations += 1
            fig.referrals += 1 if c.referred_to else 0
    for case in cases:
        if case.first_responder_id is not None:
            fig = figures_for(case.first_responder_id)
            if fig is not None:
                fig.cases += 1
    return dict(sorted(out.items()))


def unresolved_by_staff(figures: dict[str, ResponderFigures]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for username, fig in figures.items():
        counts[username] += fig.unresolved_count
    return dict(counts)
