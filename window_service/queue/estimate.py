"""Where a citizen stands (前面还有几人) and how long they may wait (预计等候)."""

from __future__ import annotations

import math

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..halls.models import Service, Window, WindowService
from . import rules
from .models import Ticket

RECENT_SERVICES = 20


async def ahead_of(session: AsyncSession, ticket: Ticket) -> int:
    """Waiting tickets of the same service that will be called before this one (for a remote
    ticket not yet checked in: before it once it is)."""
    if ticket.status not in (rules.WAITING, rules.REMOTE):
        return 0
    same_lane_earlier = and_(
        Ticket.green == ticket.green,  # type: ignore[arg-type]
        or_(
            Ticket.queued_at < ticket.queued_at,  # type: ignore[arg-type, operator]
            and_(Ticket.queued_at == ticket.queued_at, Ticket.id < ticket.id),  # type: ignore[arg-type, operator]
        ),
    )
    # Green-channel tickets go first, whatever their queue time.
    before_me = (
        same_lane_earlier if ticket.green else or_(Ticket.green.is_(True), same_lane_earlier)  # type: ignore[attr-defined]
    )
    stmt = select(func.count()).where(
        Ticket.hall_id == ticket.hall_id,  # type: ignore[arg-type]
        Ticket.service_id == ticket.service_id,  # type: ignore[arg-type]
        Ticket.status == rules.WAITING,  # type: ignore[arg-type]
        Ticket.business_day == ticket.business_day,  # type: ignore[arg-type]
        before_me,
    )
    return int((await session.execute(stmt)).scalar_one())


async def average_service_minutes(session: AsyncSession, service: Service) -> float:
    """Mean service time of the service's last finished tickets, or its default."""
    stmt = (
        select(Ticket.started_at, Ticket.finished_at)
        .where(
            Ticket.service_id == service.id,  # type: ignore[arg-type]
            Ticket.status == rules.DONE,  # type: ignore[arg-type]
            Ticket.started_at.is_not(None),  # type: ignore[union-attr]
        )
        .order_by(Ticket.finished_at.desc())  # type: ignore[union-attr]
        .limit(RECENT_SERVICES)
    )
    durations = [
        (finished - started).total_seconds() / 60
        for started, finished in (await session.execute(stmt)).all()
        if started is not None and finished is not None
    ]
    if not durations:
        return float(service.default_service_minutes)
    return max(1.0, float(sum(durations)) / len(durations))


async def open_windows_for(session: AsyncSession, service_id: int) -> int:
    stmt = (
        select(func.count())
        .select_from(WindowService)
        .join(Window, Window.id == WindowService.window_id)  # type: ignore[arg-type]
        .where(WindowService.service_id == service_id, Window.status == "open")  # type: ignore[arg-type]
    )
    return int((await session.execute(stmt)).scalar_one())


def estimate_minutes(ahead: int, average_minutes: float, open_windows: int) -> int:
    """Minutes until called: the people ahead, shared among the open windows."""
    if ahead <= 0:
        return 0
    return math.ceil(ahead * average_minutes / max(1, open_windows))


async def estimate_for_service(session: AsyncSession, service: Service, ahead: int) -> int:
    assert service.id is not None
    if ahead <= 0:
        return 0
    average = await average_service_minutes(session, service)
    windows = await open_windows_for(session, service.id)
    return estimate_minutes(ahead, average, windows)


async def estimate_inputs(
    session: AsyncSession, services: list[Service]
) -> dict[int, tuple[float, int]]:
    """(average service minutes, open windows) of several services, in two queries."""
    ids = [s.id for s in services if s.id is not None]
    if not ids:
        return {}
    recent = (
        select(
            Ticket.service_id,
            Ticket.started_at,
            Ticket.finished_at,
            func.row_number()
            .over(partition_by=Ticket.service_id, order_by=Ticket.finished_at.desc())  # type: ignore[union-attr, arg-type]
            .label("rank"),
        )
        .where(
            Ticket.service_id.in_(ids),  # type: ignore[attr-defined]
            Ticket.status == rules.DONE,  # type: ignore[arg-type]
            Ticket.started_at.is_not(None),  # type: ignore[union-attr]
            Ticket.finished_at.is_not(None),  # type: ignore[union-attr]
        )
        .subquery()
    )
    durations: dict[int, list[float]] = {}
    rows = await session.execute(
        select(recent.c.service_id, recent.c.started_at, recent.c.finished_at).where(
            recent.c.rank <= RECENT_SERVICES
        )
    )
    for service_id, started, finished in rows.all():
        durations.setdefault(service_id, []).append((finished - started).total_seconds() / 60)
    windows: dict[int, int] = dict(
        (
            await session.execute(
                select(WindowService.service_id, func.count())
                .join(Window, Window.id == WindowService.window_id)  # type: ignore[arg-type]
                .where(WindowService.service_id.in_(ids), Window.status == "open")  # type: ignore[attr-defined, arg-type]
                .group_by(WindowService.service_id)  # type: ignore[arg-type]
            )
        ).all()
    )
    out = {}
    for svc in services:
        assert svc.id is not None
        spans = durations.get(svc.id)
        average = max(1.0, sum(spans) / len(spans)) if spans else float(svc.default_service_minutes)
        out[svc.id] = (average, int(windows.get(svc.id, 0)))
    return out
