"""Where a citizen stands (前面还有几人) and how long they may wait (预计等候).

The people ahead of a ticket are the waiting tickets that will be called before it by the
windows that would call it: every waiting ticket of every service those windows also serve
(``Outlook.rivals``), green-channel tickets before plain ones, then queue time (the order of
call-next). The windows counted are the staffed ones (open, someone on duty); with nobody on
duty, those that will serve it once staffed, and the wait is unknown (None): the ticket says
「暂无窗口办理，请留意叫号」 instead of a number of minutes.

The estimate (``Outlook.wait_minutes``) comes from the recent time those windows spent per
ticket of each service (``outlook.py``). It is recorded on the ticket (``estimated_wait_seconds``)
so that the office can see how good the estimates were (``stats/estimates.py``).
"""

from __future__ import annotations

import math
from datetime import date
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..halls.models import Service
from . import rules
from .models import Ticket
from .outlook import Outlook
from .waiting import Counts, WaitingSnapshot, waiting_snapshot


def ahead_in(
    outlook: Outlook, counts: Counts, service_id: int, green: bool
) -> tuple[int, dict[int, int]]:
    """A new ticket's people ahead, in all and per service, from the waiting counts per
    service and lane (a new ticket queues last in its lane; green lanes go first)."""
    by_service: dict[int, int] = {}
    for other in outlook.rivals(service_id):
        n = counts.get((other, True), 0)
        if not green:
            n += counts.get((other, False), 0)
        if n:
            by_service[other] = n
    return sum(by_service.values()), by_service


def wait_seconds(outlook: Outlook, service_id: int, ahead: dict[int, int]) -> float | None:
    minutes = outlook.wait_minutes(service_id, ahead)
    return None if minutes is None else round(minutes * 60, 1)


def printed_minutes(seconds: float | None) -> int | None:
    """The minutes printed on the ticket: whole minutes, rounded up (None: unknown)."""
    if seconds is None:
        return None
    return math.ceil(seconds / 60 - 1e-9) if seconds > 0 else 0


async def ahead_of(session: AsyncSession, ticket: Ticket, outlook: Outlook) -> dict[int, int]:
    """The waiting tickets (per service) that will be called before this one (for a remote
    ticket not yet checked in: before it once it is)."""
    if ticket.status not in (rules.WAITING, rules.REMOTE):
        return {}
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
    stmt = (
        select(Ticket.service_id, func.count())  # type: ignore[call-overload]
        .where(
            Ticket.hall_id == ticket.hall_id,
            Ticket.service_id.in_(sorted(outlook.rivals(ticket.service_id))),  # type: ignore[attr-defined]
            Ticket.status == rules.WAITING,
            Ticket.business_day == ticket.business_day,
            before_me,
        )
        .group_by(Ticket.service_id)
    )
    return {int(s): int(n) for s, n in (await session.execute(stmt)).all()}


def service_outlook(
    outlook: Outlook, waiting: dict[int, int], service_id: int
) -> tuple[int, int | None]:
    """For the services list: the people ahead of a plain ticket taken now and its printed
    estimate (``waiting``: service id → its waiting tickets)."""
    ahead = {s: waiting[s] for s in outlook.rivals(service_id) if waiting.get(s)}
    return sum(ahead.values()), printed_minutes(wait_seconds(outlook, service_id, ahead))


def place_rows(
    outlook: Outlook,
    rows: list[dict[str, Any]],
    waiting: Counts,
    before: WaitingSnapshot | None,
) -> list[int]:
    """The people ahead of each new ticket (``rows``, in number order), its estimate
    written into its row (``estimated_wait_seconds``).

    ``waiting``: the counts under the numbering lock of the batch's services (exact);
    the other services' counts come from the snapshot taken before the lock (``before``),
    which is read by the same process a moment earlier. Neither is changed."""
    counts: Counts = dict(before.counts) if before is not None else {}
    counts.update(waiting)
    places = []
    for row in rows:
        service_id, green = int(row["service_id"]), bool(row["green"])
        ahead, by_service = ahead_in(outlook, counts, service_id, green)
        row["estimated_wait_seconds"] = wait_seconds(outlook, service_id, by_service)
        places.append(ahead)
        if row["status"] != rules.REMOTE:  # not in the waiting line until checked in
            counts[(service_id, green)] = counts.get((service_id, green), 0) + 1
    return places


async def rivals_snapshot(
    session: AsyncSession, hall_id: int, day: date, outlook: Outlook, service_ids: set[int]
) -> WaitingSnapshot:
    """The waiting counts of the services whose tickets stand before these services' (for an
    issue without the issuing queue's counts, e.g. a remote ticket)."""
    wanted: set[int] = set()
    for service_id in service_ids:
        wanted |= outlook.rivals(service_id)
    services = list(
        (await session.execute(select(Service).where(Service.id.in_(sorted(wanted))))).scalars()  # type: ignore[union-attr]
    )
    return await waiting_snapshot(session, hall_id, day, services)
