"""Queue commitments (等候/办理时限承诺): each service's wait target and service-time target.

- Wait: from the start of the ticket's wait (``Ticket.waiting_since``: its queue time, or a
  remote ticket's check-in; a remote ticket never checked in never waited) to its first call
  (``first_called_at``; still waiting: until now; closed without a call: until it was
  closed). Longer than ``Service.wait_target_minutes`` is a breach.
- Service time: from the start of service to its end (still serving: until now). Longer than
  ``Service.service_target_minutes`` is a breach.

The rule is written once, in SQL (``_targets``): counted in the database per service · window
· staff member (``target_counts``, what the figures and the stars read of a quarter) or
given ticket by ticket (``times_for``). Counted at read time from the tickets themselves; the
housekeeping job additionally announces each live breach once (``QueueBreachNotice``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, case, exists, func, literal, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db import TZDateTime, minutes_between
from ..halls.models import Hall, Service
from ..queue import rules as ticket_rules
from ..queue.models import Ticket
from ..transaction import Tx
from .models import QueueBreachNotice

WAIT = "wait"
SERVICE = "service"


class TimedTicket(Protocol):
    """What the commitments read of a ticket: a row of these columns."""

    id: int | None
    number: str
    status: str
    business_day: date
    original_service_id: int
    window_id: int | None
    staff_id: int | None


@dataclass(frozen=True)
class TicketTimes:
    ticket: TimedTicket
    waited_minutes: float
    wait_breach: bool
    served_minutes: float | None
    service_breach: bool


_TICKETS: Any = Ticket.__table__  # type: ignore[attr-defined]
_SERVICES: Any = Service.__table__  # type: ignore[attr-defined]


def _minutes(a: datetime, b: datetime) -> float:
    return max(0.0, (b - a).total_seconds() / 60)


def _longer_than(start: Any, end: Any, minutes: Any, dialect: str) -> Any:
    """SQL: ``end`` is more than ``minutes`` after ``start`` (on PostgreSQL compared as
    times, not as numeric seconds: a quarter's tickets are counted with it)."""
    if dialect == "postgresql":
        return end > start + minutes * literal_column("interval '1 minute'")
    return minutes_between(start, end, dialect) > minutes


@dataclass(frozen=True)
class _Targets:
    """The rule above as SQL over ``ticket`` joined with its ``service`` (``targets``)."""

    waited_minutes: Any
    wait_breach: Any
    served_minutes: Any
    #: 1 where the ticket was served (or is being served), else 0
    served: Any
    service_breach: Any


def _targets(now: datetime, dialect: str) -> _Targets:
    t, s = _TICKETS.c, _SERVICES.c
    at_now = literal(now, TZDateTime())
    waited_until = case(
        (t.first_called_at.is_not(None), t.first_called_at),
        (t.status == ticket_rules.WAITING, at_now),
        else_=func.coalesce(t.finished_at, at_now),
    )
    served_until = case((t.status == ticket_rules.SERVING, at_now), else_=t.finished_at)
    served = t.started_at.is_not(None) & served_until.is_not(None)
    return _Targets(
        case(
            (t.waiting_since.is_(None), 0.0),
            else_=minutes_between(t.waiting_since, waited_until, dialect),
        ),
        case(
            (
                t.waiting_since.is_not(None)
                & _longer_than(t.waiting_since, waited_until, s.wait_target_minutes, dialect),
                1,
            ),
            else_=0,
        ),
        case((served, minutes_between(t.started_at, served_until, dialect)), else_=None),
        case((served, 1), else_=0),
        case(
            (
                served
                & _longer_than(t.started_at, served_until, s.service_target_minutes, dialect),
                1,
            ),
            else_=0,
        ),
    )


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def _of_period(hall: Hall, start: date, end: date) -> tuple[Any, ...]:
    t = _TICKETS.c
    return (t.hall_id == hall.id, t.business_day >= start, t.business_day <= end)


async def times_for(
    session: AsyncSession, hall: Hall, start: date, end: date, now: datetime
) -> list[TicketTimes]:
    """Wait and service times of the hall's tickets of business days ``[start, end]``,
    ticket by ticket (the dashboard's live breaches, a report's breach tickets)."""
    t = _TICKETS.c
    rule = _targets(now, _dialect(session))
    rows = await session.execute(
        select(
            *(t[name] for name in TimedTicket.__annotations__),
            rule.waited_minutes.label("waited"),
            rule.wait_breach.label("wait_breach"),
            rule.served_minutes.label("served"),
            rule.service_breach.label("service_breach"),
        )
        .join(_SERVICES, _SERVICES.c.id == t.original_service_id)
        .where(*_of_period(hall, start, end))
    )
    return [
        TicketTimes(
            r,
            max(0.0, float(r.waited)),
            bool(r.wait_breach),
            None if r.served is None else max(0.0, float(r.served)),
            bool(r.service_breach),
        )
        for r in rows.all()
    ]


@dataclass(frozen=True)
class TargetCounts:
    """The target figures of the tickets of one service · window · staff member."""

    service_id: int
    window_id: int | None
    staff_id: int | None
    tickets: int
    wait_breaches: int
    served: int
    service_breaches: int


async def target_counts(
    session: AsyncSession, hall: Hall, start: date, end: date, now: datetime
) -> list[TargetCounts]:
    """The same rule counted in the database per service · window · staff member: what the
    figures and the stars need of a quarter's tens of thousands of tickets."""
    t = _TICKETS.c
    rule = _targets(now, _dialect(session))
    rows = await session.execute(
        select(
            t.original_service_id,
            t.window_id,
            t.staff_id,
            func.count(),
            func.sum(rule.wait_breach),
            func.sum(rule.served),
            func.sum(rule.service_breach),
        )
        .join(_SERVICES, _SERVICES.c.id == t.original_service_id)
        .where(*_of_period(hall, start, end))
        .group_by(t.original_service_id, t.window_id, t.staff_id)
    )
    return [
        TargetCounts(sid, wid, staff, int(n), int(w or 0), int(served or 0), int(sb or 0))
        for sid, wid, staff, n, w, served, sb in rows.all()
    ]


@dataclass
class CommitmentCounts:
    service: str
    service_name: str
    day: date
    tickets: int = 0
    wait_breaches: int = 0
    served: int = 0
    service_breaches: int = 0
    wait_target_minutes: int = 0
    service_target_minutes: int = 0
    breach_tickets: list[str] = field(default_factory=list)


async def counts(
    session: AsyncSession, hall: Hall, start: date, end: date, now: datetime
) -> list[CommitmentCounts]:
    """Breaches of the wait and service-time targets per service and business day."""
    services = {
        s.id: s
        for s in (
            await session.execute(select(Service).where(Service.hall_id == hall.id))  # type: ignore[arg-type]
        ).scalars()
    }
    grouped: dict[tuple[int, date], CommitmentCounts] = {}
    for times in await times_for(session, hall, start, end, now):
        t = times.ticket
        svc = services[t.original_service_id]
        key = (t.original_service_id, t.business_day)
        row = grouped.get(key)
        if row is None:
            row = grouped[key] = CommitmentCounts(
                svc.code,
                svc.name,
                t.business_day,
                wait_target_minutes=svc.wait_target_minutes,
                service_target_minutes=svc.service_target_minutes,
            )
        row.tickets += 1
        if times.wait_breach:
            row.wait_breaches += 1
            row.breach_tickets.append(t.number)
        if times.served_minutes is not None:
            row.served += 1
            row.service_breaches += 1 if times.service_breach else 0
    return sorted(grouped.values(), key=lambda r: (r.day, r.service))


async def announce_breaches(tx: Tx, hall: Hall) -> int:
    """Tell the office's hall monitor about tickets that just broke a target (once each).

    Only the tickets that can be new breaches are read: still waiting and never called past
    their service's wait target, or serving past its service-time target, and not announced
    yet. The job runs in a write transaction, so it must not read the whole queue.
    """
    session = tx.session
    assert hall.id is not None
    services = {
        s.id: s
        for s in (
            await session.execute(select(Service).where(Service.hall_id == hall.id))  # type: ignore[arg-type]
        ).scalars()
    }
    if not services:
        return 0
    t = Ticket.__table__.c  # type: ignore[attr-defined]

    def not_announced(kind: str) -> Any:
        return ~exists().where(
            QueueBreachNotice.ticket_id == t.id,  # type: ignore[arg-type]
            QueueBreachNotice.kind == kind,  # type: ignore[arg-type]
        )

    def past(column: Any, minutes: Callable[[Service], int]) -> Any:
        return or_(
            *(
                and_(t.original_service_id == sid, column < tx.now - timedelta(minutes=minutes(s)))
                for sid, s in services.items()
            )
        )

    waiting = select(Ticket).where(
        t.hall_id == hall.id,
        t.status == ticket_rules.WAITING,
        past(t.waiting_since, lambda s: s.wait_target_minutes),
        t.first_called_at.is_(None),
        not_announced(WAIT),
    )
    serving = select(Ticket).where(
        t.hall_id == hall.id,
        t.status == ticket_rules.SERVING,
        past(t.started_at, lambda s: s.service_target_minutes),
        not_announced(SERVICE),
    )
    count = 0
    for ticket in (await session.execute(waiting)).scalars():
        assert ticket.id is not None
        svc = services[ticket.original_service_id]
        assert ticket.waiting_since is not None  # the query asks for it to be past the target
        session.add(QueueBreachNotice(hall_id=hall.id, ticket_id=ticket.id, kind=WAIT, at=tx.now))
        tx.emit(
            "office.wait_breach",
            department_id=svc.department_id,
            ticket=ticket.number,
            service=svc.code,
            waited_minutes=int(_minutes(ticket.waiting_since, tx.now)),
            target_minutes=svc.wait_target_minutes,
        )
        count += 1
    for ticket in (await session.execute(serving)).scalars():
        assert ticket.id is not None
        svc = services[ticket.original_service_id]
        assert ticket.started_at is not None
        session.add(
            QueueBreachNotice(hall_id=hall.id, ticket_id=ticket.id, kind=SERVICE, at=tx.now)
        )
        tx.emit(
            "office.service_breach",
            department_id=svc.department_id,
            ticket=ticket.number,
            service=svc.code,
            served_minutes=int(_minutes(ticket.started_at, tx.now)),
            target_minutes=svc.service_target_minutes,
        )
        count += 1
    return count
