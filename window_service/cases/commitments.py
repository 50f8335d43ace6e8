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
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..halls.models import Hall, Service
from ..queue import rules as ticket_rules
from ..queue.models import Ticket, TicketEvent
from ..transaction import Tx
from .models import QueueBreachNotice

WAIT = "wait"
SERVICE = "service"


@dataclass(frozen=True)
class TicketTimes:
    ticket: Ticket
    waited_minutes: float
    wait_breach: bool
    served_minutes: float | None
    service_breach: bool


def _minutes(a: datetime, b: datetime) -> float:
    return max(0.0, (b - a).total_seconds() / 60)


def ticket_times(
    ticket: Ticket, service: Service, first_call: datetime | None, now: datetime
) -> TicketTimes:
    if first_call is not None:
        waited_until = first_call
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


async def first_calls(session: AsyncSession, ticket_ids: list[int]) -> dict[int, datetime]:
    if not ticket_ids:
        return {}
    out: dict[int, datetime] = {}
    for i in range(0, len(ticket_ids), 500):
        chunk = ticket_ids[i : i + 500]
        rows = await session.execute(
            select(TicketEvent.ticket_id, func.min(TicketEvent.at))  # type: ignore[call-overload]
            .where(TicketEvent.ticket_id.in_(chunk), TicketEvent.action == "called")  # type: ignore[attr-defined]
            .group_by(TicketEvent.ticket_id)
        )
        for tid, at in rows.all():
            if at is not None and at.tzinfo is None:
                at = at.replace(tzinfo=UTC)  # SQLite's MIN() bypasses TZDateTime
            out[tid] = at
    return out


async def times_for(
    session: AsyncSession, hall: Hall, start: date, end: date, now: datetime
) -> list[TicketTimes]:
    """Wait and service times of the hall's tickets of business days ``[start, end]``."""
    services = {
        s.id: s
        for s in (
            await session.execute(select(Service).where(Service.hall_id == hall.id))  # type: ignore[arg-type]
        ).scalars()
    }
    tickets = list(
        (
            await session.execute(
                select(Ticket).where(
                    Ticket.hall_id == hall.id,  # type: ignore[arg-type]
                    Ticket.business_day >= start,  # type: ignore[arg-type]
                    Ticket.business_day <= end,  # type: ignore[arg-type]
                )
            )
        ).scalars()
    )
    calls = await first_calls(session, [t.id for t in tickets if t.id is not None])
    return [
        ticket_times(t, services[t.original_service_id], calls.get(t.id or 0), now) for t in tickets
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

    never_called = ~exists().where(
        TicketEvent.ticket_id == t.id,  # type: ignore[arg-type]
        TicketEvent.action == "called",  # type: ignore[arg-type]
    )
    waiting = select(Ticket).where(
        t.hall_id == hall.id,
        t.status == ticket_rules.WAITING,
        past(t.waiting_since, lambda s: s.wait_target_minutes),
        never_called,
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
        times = ticket_times(ticket, svc, None, tx.now)
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
        times = ticket_times(ticket, svc, None, tx.now)
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
