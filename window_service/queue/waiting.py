"""How many are waiting in a service's lanes, counted cheaply under the numbering lock.

A new ticket's place (前面还有几人) is the number of waiting tickets before it. Counting every
waiting ticket of a service while the hall's numbering lock is held made every issuer wait
for a count that grows with the queue. So the count is taken in two steps:

1. ``waiting_snapshot`` before the lock (any connection): the waiting tickets per service and
   lane, and each prefix's last issued number, in one statement (one snapshot of the data).
2. ``waiting_now`` under the lock: the snapshot plus the tickets issued since, found by their
   numbers (a short range of the numbering index, not the whole queue).

The result is exact but for tickets that left the queue, or were transferred into it, in the
few milliseconds between the two steps.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from ..halls.models import Service
from . import rules
from .models import Ticket, TicketCounter

#: (service id, green channel) → waiting tickets
Counts = dict[tuple[int, bool], int]


@dataclass(frozen=True)
class WaitingSnapshot:
    day: date
    counts: Counts
    #: prefix → its last number when the counts were taken
    issued: dict[str, int]


def _waiting_in(hall_id: int, day: date, service_ids: list[int]) -> list[object]:
    return [
        Ticket.hall_id == hall_id,  # type: ignore[list-item]
        Ticket.service_id.in_(service_ids),  # type: ignore[attr-defined]
        Ticket.status == rules.WAITING,  # type: ignore[list-item]
        Ticket.business_day == day,  # type: ignore[list-item]
    ]


async def waiting_snapshot(
    session: AsyncSession, hall_id: int, day: date, services: list[Service]
) -> WaitingSnapshot:
    ids = [s.id for s in services if s.id is not None]
    prefixes = sorted({s.prefix for s in services})
    # One count per service and lane, each an equality on every leading column of the queue
    # index (hall, service, status, day, green): the plan stays an index scan of that lane
    # even when the planner's statistics are behind a fast-growing table.
    c = Ticket.__table__.c  # type: ignore[attr-defined]
    lanes: list[Any] = [
        select(literal("w"), literal(sid), literal(green), null(), func.count()).where(
            c.hall_id == hall_id,
            c.service_id == sid,
            c.status == rules.WAITING,
            c.business_day == day,
            c.green == green,
        )
        for sid in ids
        for green in (False, True)
    ]
    issued = select(
        literal("c"),
        null(),
        null(),
        TicketCounter.prefix,
        TicketCounter.last_number,
    ).where(
        TicketCounter.hall_id == hall_id,  # type: ignore[arg-type]
        TicketCounter.business_day == day,  # type: ignore[arg-type]
        TicketCounter.prefix.in_(prefixes),  # type: ignore[attr-defined]
    )
    waiting: Counts = {}
    last: dict[str, int] = {}
    for kind, service_id, green, prefix, n in (
        await session.execute(union_all(*lanes, issued))
    ).all():
        if kind == "w":
            if n:
                waiting[(int(service_id), bool(green))] = int(n)
        else:
            last[str(prefix)] = int(n)
    return WaitingSnapshot(day, waiting, last)


async def waiting_now(
    session: AsyncSession,
    hall_id: int,
    day: date,
    services: list[Service],
    snapshot: WaitingSnapshot | None,
) -> Counts:
    """The waiting tickets per service and lane now (under the numbering lock)."""
    ids = [s.id for s in services if s.id is not None]
    if snapshot is None or snapshot.day != day:
        rows = await session.execute(
            select(Ticket.service_id, Ticket.green, func.count())  # type: ignore[call-overload]
            .where(*_waiting_in(hall_id, day, ids))
            .group_by(Ticket.service_id, Ticket.green)
        )
        return {(int(s), bool(g)): int(n) for s, g, n in rows.all()}
    # The tickets numbered since the snapshot: per prefix a range of the numbering index
    # (hall, prefix, day, number), whatever the length of the queue. Status and service are
    # checked here, not in SQL, so that no other index looks usable to a planner whose
    # statistics are behind (a cached generic plan once scanned the whole queue here).
    c = Ticket.__table__.c  # type: ignore[attr-defined]
    since: list[Any] = [
        select(c.service_id, c.green, c.status).where(
            c.hall_id == hall_id,
            c.prefix == prefix,
            c.business_day == day,
            c.seq_no > snapshot.issued.get(prefix, 0),
        )
        for prefix in sorted({s.prefix for s in services})
    ]
    counts = dict(snapshot.counts)
    wanted = set(ids)
    stmt: Any = since[0] if len(since) == 1 else union_all(*since)
    for service_id, green, status in (await session.execute(stmt)).all():
        if status == rules.WAITING and service_id in wanted:
            key = (int(service_id), bool(green))
            counts[key] = counts.get(key, 0) + 1
    return counts
