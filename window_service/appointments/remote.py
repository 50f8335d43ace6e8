"""Remote tickets (网上取号): taking one on the phone and checking it in at the hall."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import ApiError
from ..halls.lookup import business_day
from ..halls.models import Hall, Service
from ..queue import issue as queue_issue
from ..queue import service as queue_service
from ..queue.models import Ticket, TicketEvent
from ..transaction import Tx
from . import service
from .models import RemoteTicket


async def take(tx: Tx, hall: Hall, svc: Service, citizen: service.Citizen) -> int:
    """A ticket numbered like any other, kept out of the waiting line until checked in (the
    phone's throttle and one open remote ticket per phone and day hold): its id."""
    assert hall.id is not None
    session = tx.session
    day = business_day(hall, tx.now)
    policy = await service.policy_of(session, hall.id)
    await service.remote_throttle(session, policy, citizen, tx.now)
    serial = await service.remote_serial(session, hall, day, citizen)
    # The general issuing path, in this transaction: numbered like any ticket (its commit is
    # not issuing-only, so every process counts the queue afresh).
    [result] = await queue_issue.issue_tickets(
        tx, hall, [queue_issue.IssueRequest(svc, actor=tx.actor, remote=True)]
    )
    if isinstance(result, ApiError):
        raise result
    ticket = result.ticket
    assert ticket.id is not None
    remote = RemoteTicket(
        hall_id=hall.id,
        ticket_id=ticket.id,
        business_day=day,
        phone_masked=citizen.phone_masked,
        phone_digest=citizen.phone_digest,
        serial=serial,
        client_address=citizen.address[:64],
        created_at=tx.now,
    )
    session.add(remote)
    await session.flush()
    tx.audit("remote_ticket.issue", remote)
    return ticket.id


async def check_in(tx: Tx, ticket: Ticket, svc: Service, *, by: str) -> None:
    """签到 of a (locked) remote ticket: it waits with its queue time, the event and the queue
    change are recorded; checking in again changes nothing."""
    if await service.check_in_remote(tx, ticket):
        assert ticket.id is not None
        tx.session.add(
            TicketEvent(
                ticket_id=ticket.id,
                at=tx.now,
                action="checked_in",
                service_id=ticket.service_id,
                detail={"by": by},
            )
        )
        await queue_service.emit_queue(
            tx, tx.hall_id, [svc], change="checked_in", ticket=ticket.number
        )


async def by_number(session: AsyncSession, hall: Hall, key: str, today: date) -> Ticket | None:
    """Today's remote ticket of the hall by its number (A012) or tracking token."""
    return (
        await session.execute(
            select(Ticket)
            .join(RemoteTicket, RemoteTicket.ticket_id == Ticket.id)  # type: ignore[arg-type]
            .where(
                Ticket.hall_id == hall.id,  # type: ignore[arg-type]
                Ticket.business_day == today,  # type: ignore[arg-type]
                (Ticket.number == key.upper()) | (Ticket.track_token == key),  # type: ignore[arg-type]
            )
        )
    ).scalar_one_or_none()


async def by_token(session: AsyncSession, token: str) -> Ticket | None:
    """The remote ticket with this tracking token."""
    return (
        await session.execute(
            select(Ticket)
            .join(RemoteTicket, RemoteTicket.ticket_id == Ticket.id)  # type: ignore[arg-type]
            .where(Ticket.track_token == token)  # type: ignore[arg-type]
        )
    ).scalar_one_or_none()
