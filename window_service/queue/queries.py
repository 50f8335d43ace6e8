"""What the queue endpoints (and other domains' endpoints) read of tickets and windows."""

from __future__ import annotations

from collections.abc import Collection
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import not_found
from ..halls.models import Department, Service, Window
from . import rules
from .models import Ticket
from .priority import callable_at


async def load_ticket(session: AsyncSession, ticket_id: int, *, lock: bool = False) -> Ticket:
    """The ticket (locked for update with ``lock``), or 404 ``ticket_not_found``."""
    stmt = select(Ticket).where(Ticket.id == ticket_id)  # type: ignore[arg-type]
    if lock:
        stmt = stmt.with_for_update()
    ticket = (await session.execute(stmt)).scalar_one_or_none()
    if ticket is None:
        raise not_found("ticket", "没有这个号票 (unknown ticket)")
    return ticket


async def ticket_by_token(session: AsyncSession, token: str) -> Ticket:
    """The ticket of a tracking token (the citizen's QR link), or 404 ``ticket_not_found``."""
    ticket = None
    if 8 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum():
        stmt = select(Ticket).where(Ticket.track_token == token)  # type: ignore[arg-type]
        ticket = (await session.execute(stmt)).scalar_one_or_none()
    if ticket is None:
        raise not_found("ticket", "没有这个号票 (unknown ticket)")
    return ticket


async def active_services(session: AsyncSession, hall_id: int) -> list[tuple[Service, Department]]:
    """The hall's active services with their departments, in the kiosk's order."""
    rows = await session.execute(
        select(Service, Department)
        .join(Department, Department.id == Service.department_id)  # type: ignore[arg-type]
        .where(Service.hall_id == hall_id, Service.active.is_(True))  # type: ignore[arg-type, attr-defined]
        .order_by(Service.sort_order, Service.prefix)  # type: ignore[arg-type]
    )
    return [(svc, dept) for svc, dept in rows.all()]


async def waiting_by_service(session: AsyncSession, hall_id: int, day: date) -> dict[int, int]:
    """How many tickets of the business day wait, per service."""
    rows = await session.execute(
        select(Ticket.service_id, func.count())
        .where(
            Ticket.hall_id == hall_id,  # type: ignore[arg-type]
            Ticket.status == rules.WAITING,  # type: ignore[arg-type]
            Ticket.business_day == day,  # type: ignore[arg-type]
        )
        .group_by(Ticket.service_id)  # type: ignore[arg-type]
    )
    return {service_id: int(count) for service_id, count in rows.all()}


async def windows(session: AsyncSession, hall_id: int) -> list[Window]:
    stmt = select(Window).where(Window.hall_id == hall_id).order_by(Window.number)  # type: ignore[arg-type]
    return list((await session.execute(stmt)).scalars())


async def waiting_for(
    session: AsyncSession,
    hall_id: int,
    service_ids: Collection[int],
    day: date,
    *,
    window_id: int | None = None,
) -> list[Ticket]:
    """The business day's tickets waiting for these services, in call order (at most 200);
    with ``window_id``, only those that window may call (not transferred to another window)."""
    stmt = (
        select(Ticket)
        .where(
            Ticket.hall_id == hall_id,  # type: ignore[arg-type]
            Ticket.service_id.in_(list(service_ids)),  # type: ignore[attr-defined]
            Ticket.status == rules.WAITING,  # type: ignore[arg-type]
            Ticket.business_day == day,  # type: ignore[arg-type]
            *([callable_at(window_id)] if window_id is not None else []),
        )
        .order_by(Ticket.green.desc(), Ticket.queued_at, Ticket.id)  # type: ignore[attr-defined, arg-type]
        .limit(200)
    )
    return list((await session.execute(stmt)).scalars())


async def last_finished(session: AsyncSession, window_id: int, day: date) -> Ticket | None:
    """The window's ticket finished last on the business day."""
    stmt = (
        select(Ticket)
        .where(
            Ticket.window_id == window_id,  # type: ignore[arg-type]
            Ticket.status == rules.DONE,  # type: ignore[arg-type]
            Ticket.business_day == day,  # type: ignore[arg-type]
        )
        .order_by(Ticket.finished_at.desc(), Ticket.id.desc())  # type: ignore[union-attr]
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()
