"""Queue commitments (等候/办理时限承诺): each service's wait target and service-time target.

- Wait: from the start of the ticket's wait (``Ticket.waiting_since``: its queue time, or a
  remote ticket's check-in; a remote ticket never checked in never waited) to its first call (still waiting: until now; closed
  without a call: until it was closed). Longer than ``Service.wait_target_minutes`` is a breach.
- Service time: from the start of service to its end (still serving: until now). Longer than
  ``Service.service_target_minutes`` is a breach.

Counted at read time from the tickets themselves, per service and business day; the
housekeeping job additionally announces each live breach once (``QueueBreachNotice``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import and_, exists, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..halls.models import Hall, Service
from ..queue import rules as ticket_rules
from ..queue.models import Ticket
from ..transaction import Tx
from .models import QueueBreachNotice

WAIT = "wait"
SERVICE = "service"


class TimedTicket(Protocol):
    """What the commitments read of a ticket: a mapped ``Ticket`` or a row of these columns."""

    id: int | None
    number: str
    status: str
    business_day: date
    original_service_id: int
    window_id: int | None
    staff_id: int | None
    waiting_since: datetime | None
    first_called_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True)
class TicketTimes:
    ticket: TimedTicket
    waited_minutes: float
    wait_breach: bool
    served_minutes: float | None
    service_breach: bool


def _minutes(a: datetime, b: datetime) -> float:
    return max(0.0, (b - a).total_seconds() / 60)


def ticket_times(ticket: TimedTicket, service: Service, now: datetime) -> TicketTimes:
    if ticket.first_called_at is not None:
        waited_until = ticket.first_called_at
    elif ticket.status == ticket_rules.WAITING:
        waited_until = now
    else:
        waited_until = ticket.finished_at or now
    since = ticket.waiting_since
    waited = _minutes(since, waited_until) if since is not None else 0.0
    served: float | None = None
    if ticket.started_at is not None:
        if ticket.status == ticket_rules.SERVING:
            served = _minutes(ticket.started_at, now)
        elif ticket.finished_at is not None:
            served = _minutes(ticket.started_at, ticket.finished_at)
    return TicketTimes(
        ticket,
        waited,
        waited > service.wait_target_minutes,
        served,
        served is not None and served > service.service_target_minutes,
    )


_TICKETS: Any = Ticket.__table__  # type: ignore[attr-defined]


async def times_for(
    session: AsyncSession, hall: Hall, start: date, end: date, now: datetime
) -> list[TicketTimes]:
    """Wait and service times of the hall's tickets of business days ``[start, end]``.

    One statement of the columns the times need (the first call is the ticket's own
    ``first_called_at``): a hall-month holds tens of thousands of tickets, and mapped
    objects cost seconds of the office statistics (bench/province.py).
    """
    services = {
        s.id: s
        for s in (
            await session.execute(select(Service).where(Service.hall_id == hall.id))  # type: ignore[arg-type]
        ).scalars()
    }
    cols = _TICKETS.c
    rows = await session.execute(
        select(*(cols[name] for name in TimedTicket.__annotations__)).where(
            cols.hall_id == hall.id,
            cols.business_day >= start,
            cols.business_day <= end,
        )
    )
    return [ticket_times(t, services[t.original_service_id], now) for t in rows.all()]


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
        times = ticket_times(ticket, svc, tx.now)
        session.add(QueueBreachNotice(hall_id=hall.id, ticket_id=ticket.id, kind=WAIT, at=tx.now))
        tx.emit(
            "office.wait_breach",
            department_id=svc.department_id,
            ticket=ticket.number,
            service=svc.code,
            waited_minutes=int(times.waited_minutes),
            target_minutes=svc.wait_target_minutes,
        )
        count += 1
    for ticket in (await session.execute(serving)).scalars():
        assert ticket.id is not None
        svc = services[ticket.original_service_id]
        times = ticket_times(ticket, svc, tx.now)
        session.add(
            QueueBreachNotice(hall_id=hall.id, ticket_id=ticket.id, kind=SERVICE, at=tx.now)
        )
        tx.emit(
            "office.service_breach",
            department_id=svc.department_id,
            ticket=ticket.number,
            service=svc.code,
            served_minutes=int(times.served_minutes or 0),
            target_minutes=svc.service_target_minutes,
        )
        count += 1
    return count
