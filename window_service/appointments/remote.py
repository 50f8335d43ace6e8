"""Remote tickets (网上取号): taking one on the phone and checking it in at the hall."""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import ApiError, conflict
from ..chain import snapshot
from ..halls.lookup import business_day
from ..halls.models import Hall, Service
from ..queue import issue as queue_issue
from ..queue import rules
from ..queue import service as queue_service
from ..queue.models import Ticket, TicketEvent
from ..queue.new_ticket import IssueRequest
from ..transaction import Tx
from . import citizens, slots
from .models import AppointmentPolicy, RemoteTicket


async def take(tx: Tx, hall: Hall, svc: Service, citizen: citizens.Citizen) -> int:
    """A ticket numbered like any other, kept out of the waiting line until checked in (the
    phone's throttle and one open remote ticket per phone and day hold): its id."""
    assert hall.id is not None
    session = tx.session
    day = business_day(hall, tx.now)
    policy = await slots.policy_of(session, hall.id)
    await remote_throttle(session, policy, citizen, tx.now)
    serial = await remote_serial(session, hall, day, citizen)
    # The general issuing path, in this transaction: numbered like any ticket (its commit is
    # not issuing-only, so every process counts the queue afresh).
    [result] = await queue_issue.issue_tickets(
        tx, hall, [IssueRequest(svc, actor=tx.actor, remote=True)]
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
    if await check_in_remote(tx, ticket):
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


# -- the rules of a remote ticket -----------------------------------------------------------

#: A remote ticket is open while the citizen can still be served with it.
OPEN_STATUSES = (rules.REMOTE, rules.WAITING, *rules.AT_WINDOW, rules.HELD)


async def remote_serial(
    session: AsyncSession, hall: Hall, day: date, citizen: citizens.Citizen
) -> int:
    """How many remote tickets this phone took today; 409 while one of them is open."""
    rows = (
        await session.execute(
            select(Ticket.status)
            .join(RemoteTicket, RemoteTicket.ticket_id == Ticket.id)  # type: ignore[arg-type]
            .where(
                RemoteTicket.hall_id == hall.id,  # type: ignore[arg-type]
                RemoteTicket.business_day == day,  # type: ignore[arg-type]
                RemoteTicket.phone_digest == citizen.phone_digest,  # type: ignore[arg-type]
            )
        )
    ).scalars()
    statuses = list(rows)
    if any(s in OPEN_STATUSES for s in statuses):
        raise conflict(
            "remote_ticket_open",
            "该手机号今天已有未办结的网上取号 (this phone already holds an open remote ticket)",
        )
    return len(statuses)


async def remote_throttle(
    session: AsyncSession, policy: AppointmentPolicy, citizen: citizens.Citizen, now: datetime
) -> None:
    if not citizen.address:
        return
    count = (
        await session.execute(
            select(func.count()).where(
                RemoteTicket.client_address == citizen.address,  # type: ignore[arg-type]
                RemoteTicket.created_at >= now - timedelta(hours=1),  # type: ignore[arg-type, operator]
            )
        )
    ).scalar_one()
    if count >= policy.bookings_per_address_hour:
        raise ApiError(
            429, "too_many_bookings", "取号过于频繁，请稍后再试 (too many requests, try later)"
        )


def poster_code(secret: str, hall: Hall, day: date) -> str:
    """The code on the hall's check-in poster (签到二维码) for ``day``: only someone who saw
    today's poster in the hall can check a remote ticket in from the phone."""
    text = f"poster:{hall.id}:{day.isoformat()}"
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()[:12]


async def check_in_remote(tx: Tx, ticket: Ticket) -> bool:
    """签到: a remote ticket joins the waiting line with its queue time kept. False when it
    already waits (or was called): checking in again changes nothing."""
    if ticket.status != rules.REMOTE:
        if ticket.status in (rules.WAITING, *rules.AT_WINDOW, rules.HELD, rules.DONE):
            return False
        label = rules.STATUS_LABELS.get(ticket.status, ticket.status)
        raise conflict(
            "invalid_state", f"号票当前状态为「{label}」，不能签到 (the ticket is {ticket.status})"
        )
    before = snapshot(ticket)
    ticket.status = rules.WAITING
    # its wait (statistics, wait-target flags, fair priority) counts from here; its place in
    # the line from its queue time
    ticket.waiting_since = tx.now
    tx.audit("ticket.check_in", ticket, before=before)
    remote = (
        await tx.session.execute(
            select(RemoteTicket).where(RemoteTicket.ticket_id == ticket.id)  # type: ignore[arg-type]
        )
    ).scalar_one_or_none()
    if remote is not None:
        before_remote = snapshot(remote)
        remote.checked_in_at = tx.now
        tx.audit("remote_ticket.check_in", remote, before=before_remote)
    return True
