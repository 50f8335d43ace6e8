"""How many are waiting in a service's lanes, counted cheaply under the numbering lock.

A new ticket's place (前面还有几人) is the number of waiting tickets before it. Counting every
waiting ticket of a service while the hall's numbering lock is held made every issuer wait
for a count that grows with the queue. So the count is taken in two steps:

1. ``waiting_snapshot`` before the lock (any connection): the waiting tickets per service and
   lane, and each prefix's last issued number, in one statement (one snapshot of the data).
2. ``waiting_now`` under the lock: the snapshot plus the tickets numbered since. Their count
   is the difference of the prefix's counter (read under the lock) and the snapshot's; only
   when a green-channel ticket needs its lane are they read (a short range of the numbering
   index, not the whole queue).

The result is exact but for tickets that left the queue, or were transferred into it, in the
few milliseconds between the two steps.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Integer, bindparam, func, literal, null, select, union_all
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
    #: Ticket ids reserved from the sequence by the same statement (PostgreSQL, ``reserve``).
    ticket_ids: tuple[int, ...] = ()


def _waiting_in(hall_id: int, day: date, service_ids: list[int]) -> list[object]:
    return [
        Ticket.hall_id == hall_id,  # type: ignore[list-item]
        Ticket.service_id.in_(service_ids),  # type: ignore[attr-defined]
        Ticket.status == rules.WAITING,  # type: ignore[list-item]
        Ticket.business_day == day,  # type: ignore[list-item]
    ]


async def waiting_snapshot(
    session: AsyncSession, hall_id: int, day: date, services: list[Service], *, reserve: int = 0
) -> WaitingSnapshot:
    """The counts before the lock. ``reserve`` (PostgreSQL): also take that many ticket ids
    from the table's sequence in the same round trip, so that the tickets can be written
    with the commit (unused ids leave gaps in ids, never in numbers)."""
    ids = tuple(sorted(s.id for s in services if s.id is not None))
    prefixes = tuple(sorted({s.prefix for s in services}))
    waiting: Counts = {}
    last: dict[str, int] = {}
    reserved: list[int] = []
    params: dict[str, Any] = {"hall_id": hall_id, "day": day}
    if reserve:
        params["reserve"] = reserve
    rows = await session.execute(_snapshot_statement(ids, prefixes, bool(reserve)), params)
    for kind, service_id, green, prefix, n in rows.all():
        if kind == "w":
            if n:
                waiting[(int(service_id), bool(green))] = int(n)
        elif kind == "c":
            last[str(prefix)] = int(n)
        else:
            reserved.append(int(n))
    return WaitingSnapshot(day, waiting, last, tuple(sorted(reserved)))


async def waiting_now(
    session: AsyncSession,
    hall_id: int,
    day: date,
    services: list[Service],
    snapshot: WaitingSnapshot | None,
    *,
    numbered_before: dict[str, int] | None = None,
    lanes_needed: bool = True,
) -> Counts:
    """The waiting tickets per service and lane now (under the numbering lock).

    ``numbered_before``: each prefix's last number before this batch's (the counter just
    read under the lock). A prefix belongs to one service of the hall, so the tickets
    numbered since the snapshot are that range; when no new ticket is green only the total
    per service matters (a plain ticket queues behind both lanes) and they are counted in
    the plain lane without reading them.
    """
    ids = [s.id for s in services if s.id is not None]
    if snapshot is None or snapshot.day != day:
        rows = await session.execute(
            select(Ticket.service_id, Ticket.green, func.count())  # type: ignore[call-overload]
            .where(*_waiting_in(hall_id, day, ids))
            .group_by(Ticket.service_id, Ticket.green)
        )
        return {(int(s), bool(g)): int(n) for s, g, n in rows.all()}
    if numbered_before is not None and not lanes_needed:
        counts = dict(snapshot.counts)
        for service in services:
            assert service.id is not None
            since = numbered_before[service.prefix] - snapshot.issued.get(service.prefix, 0)
            if since > 0:
                key = (service.id, False)
                counts[key] = counts.get(key, 0) + since
        return counts
    prefixes = tuple(sorted({s.prefix for s in services}))
    params: dict[str, Any] = {"hall_id": hall_id, "day": day}
    for k, prefix in enumerate(prefixes):
        params[f"after_{k}"] = snapshot.issued.get(prefix, 0)
    counts = dict(snapshot.counts)
    wanted = set(ids)
    for service_id, green, status in (
        await session.execute(_since_statement(prefixes), params)
    ).all():
        if status == rules.WAITING and service_id in wanted:
            key = (int(service_id), bool(green))
            counts[key] = counts.get(key, 0) + 1
    return counts


# Both statements are built once per set of services (or prefixes); only the hall, the day
# and the numbers are bound per batch.
_C = Ticket.__table__.c  # type: ignore[attr-defined]
_HALL = bindparam("hall_id", type_=_C.hall_id.type)
_DAY = bindparam("day", type_=_C.business_day.type)
_TICKET_ID_SEQUENCE = func.pg_get_serial_sequence("ticket", "id")


@functools.lru_cache(maxsize=256)
def _snapshot_statement(ids: tuple[int, ...], prefixes: tuple[str, ...], reserve: bool) -> Any:
    # One count per service and lane, each an equality on every leading column of the queue
    # index (hall, service, status, day, green): the plan stays an index scan of that lane
    # even when the planner's statistics are behind a fast-growing table.
    lanes: list[Any] = [
        select(literal("w"), literal(sid), literal(green), null(), func.count()).where(
            _C.hall_id == _HALL,
            _C.service_id == sid,
            _C.status == rules.WAITING,
            _C.business_day == _DAY,
            _C.green == green,
        )
        for sid in ids
        for green in (False, True)
    ]
    counter = TicketCounter.__table__.c  # type: ignore[attr-defined]
    issued = select(literal("c"), null(), null(), counter.prefix, counter.last_number).where(
        counter.hall_id == _HALL,
        counter.business_day == _DAY,
        counter.prefix.in_(prefixes),
    )
    parts = [*lanes, issued]
    if reserve:
        parts.append(
            select(
                literal("i"), null(), null(), null(), func.nextval(_TICKET_ID_SEQUENCE)
            ).select_from(func.generate_series(1, bindparam("reserve", type_=Integer)))
        )
    return union_all(*parts)


@functools.lru_cache(maxsize=256)
def _since_statement(prefixes: tuple[str, ...]) -> Any:
    # The tickets numbered since the snapshot: per prefix a range of the numbering index
    # (hall, prefix, day, number), whatever the length of the queue. Status and service are
    # checked in Python, not in SQL, so that no other index looks usable to a planner whose
    # statistics are behind (a cached generic plan once scanned the whole queue here).
    since: list[Any] = [
        select(_C.service_id, _C.green, _C.status).where(
            _C.hall_id == _HALL,
            _C.prefix == prefix,
            _C.business_day == _DAY,
            _C.seq_no > bindparam(f"after_{k}", type_=_C.seq_no.type),
        )
        for k, prefix in enumerate(prefixes)
    ]
    return since[0] if len(since) == 1 else union_all(*since)
