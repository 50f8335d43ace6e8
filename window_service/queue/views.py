"""Turning tickets and windows into what the API shows."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.endpoint import ApiRequest
from ..halls.lookup import local_time
from ..halls.models import Hall, Service, Window
from . import rules
from .estimate import ahead_of, printed_minutes, wait_seconds
from .models import IssuedTicket, Ticket
from .outlook import Outlook, fresh_outlook
from .schemas import CurrentTicketOut, TicketOut


def track_url(base_url: str, token: str) -> str:
    return f"{base_url.rstrip('/')}/t/{token}"


def build_ticket_out(
    hall: Hall,
    ticket: Ticket | IssuedTicket,
    service: Service,
    *,
    ahead: int,
    estimate: int | None,
    window_number: int | None,
    base_url: str | None,
) -> TicketOut:
    """The ticket as the API shows it, from figures already known.

    ``base_url`` given: the answer includes the citizen's token and tracking link (only for
    the issuer and the citizen). ``estimate`` None: no staffed window serves the ticket now
    (the wait is unknown; see ``estimate.py``)."""
    assert ticket.id is not None
    return TicketOut(
        id=ticket.id,
        number=ticket.number,
        service=service.code,
        service_name=service.name,
        status=ticket.status,
        status_label=rules.STATUS_LABELS.get(ticket.status, ticket.status),
        priority=ticket.priority,
        queued_at=local_time(hall, ticket.queued_at).isoformat(),
        ahead=ahead,
        estimated_wait_minutes=estimate,
        window=window_number,
        outcome=ticket.outcome,
        called_at=local_time(hall, ticket.called_at).isoformat() if ticket.called_at else None,
        track_token=ticket.track_token if base_url is not None else None,
        track_url=track_url(base_url, ticket.track_token) if base_url is not None else None,
    )


async def ticket_out(
    session: AsyncSession,
    hall: Hall,
    ticket: Ticket,
    service: Service,
    *,
    window_number: int | None = None,
    base_url: str | None = None,
    outlook: Outlook | None = None,
) -> TicketOut:
    """The ticket as the API shows it, with its place and estimate read now (``outlook``:
    the hall's, when the caller has it; else read here)."""
    estimate: int | None = 0
    ahead = 0
    if ticket.status in (rules.WAITING, rules.REMOTE):
        if outlook is None:
            outlook = await fresh_outlook(session, hall.id or 0, ticket.business_day)
        by_service = await ahead_of(session, ticket, outlook)
        ahead = sum(by_service.values())
        estimate = printed_minutes(wait_seconds(outlook, ticket.service_id, by_service))
    if window_number is None and ticket.window_id is not None:
        window = await session.get(Window, ticket.window_id)
        window_number = window.number if window is not None else None
    return build_ticket_out(
        hall,
        ticket,
        service,
        ahead=ahead,
        estimate=estimate,
        window_number=window_number,
        base_url=base_url,
    )


def current_out(hall: Hall, ticket: Ticket, service: Service) -> CurrentTicketOut:
    assert ticket.id is not None
    return CurrentTicketOut(
        id=ticket.id,
        number=ticket.number,
        service=service.code,
        status=ticket.status,
        called_at=local_time(hall, ticket.called_at).isoformat() if ticket.called_at else None,
    )


async def current_by_window(session: AsyncSession, hall_id: int) -> dict[int, Ticket]:
    """Each window's called or serving ticket."""
    rows = await session.execute(
        select(Ticket)
        .where(Ticket.hall_id == hall_id, Ticket.status.in_(rules.AT_WINDOW))  # type: ignore[arg-type, attr-defined]
        .order_by(Ticket.called_at)  # type: ignore[arg-type]
    )
    return {t.window_id: t for t in rows.scalars() if t.window_id is not None}


def track_link_base(api: ApiRequest[Any, Any]) -> str | None:
    """Where the citizen's tracking link starts, for a caller that may hold it; None for a
    person's credential (staff, head, inspector, admin: bearer token or page session).

    The track token is the citizen's key to their place in the queue and to the one rating
    of the service (一次一评): only the devices that hand it to the citizen (the kiosk that
    prints the ticket, the window's evaluator pad that shows its QR) and the citizen get it.
    Staff holding it could rate themselves.
    """
    return None if api.principal.is_user else api.base_url()
