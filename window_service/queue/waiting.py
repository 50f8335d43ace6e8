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

Between batches a process keeps the counts it ended with (``WaitingCache``): the next batch
starts from them instead of counting again. That is exact as long as nothing but issuing has
changed the queue since: every other commit that writes a queue table bumps the hall's
``queue_version`` (``queue_changes.py``), the kept counts carry the version they belong to, and the numbering
lock reads the current one. If they differ, the queue is counted again under the lock, so a
new ticket's place is always exact. Kept counts are recounted at least every
``KEEP_SECONDS``, and before a green-channel ticket when another process's tickets have
made the split between the lanes unknown.
Without this, every batch counted the whole queue, and a hall with thousands waiting
issued at two thirds of the rate (bench/issue.py on PostgreSQL).
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import Integer, bindparam, func, literal, null, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from ..halls.models import Service
from ..ledger import HallLedger
from . import rules
from .models import Ticket, TicketCounter

#: (service id, green channel) → waiting tickets
Counts = dict[tuple[int, bool], int]
#: Kept counts are recounted at least this often (a safety net: nothing but issuing should
#: change the queue without bumping its version).
KEEP_SECONDS = 30.0


@dataclass(frozen=True)
class WaitingSnapshot:
    day: date
    counts: Counts
    #: prefix → its last number when the counts were taken
    issued: dict[str, int]
    #: The hall's queue_version when the counts were taken.
    queue_version: int = 0
    #: The services counted (ids).
    services: frozenset[int] = frozenset()
    #: When the queue was last counted (monotonic seconds).
    counted_at: float = 0.0
    #: False when tickets numbered by another process were added to the plain lane unread:
    #: the totals are exact, the split between the lanes may not be.
    lanes_exact: bool = True
    #: Ticket ids reserved from the sequence by the same statement (PostgreSQL, ``reserve``).
    ticket_ids: tuple[int, ...] = ()


class WaitingCache:
    """A process's last exact waiting counts per hall, for its next issuing batch."""

    def __init__(self) -> None:
        self._by_hall: dict[int, WaitingSnapshot] = {}

    def get(self, hall_id: int, day: date, service_ids: set[int]) -> WaitingSnapshot | None:
        kept = self._by_hall.get(hall_id)
        if (
            kept is None
            or kept.day != day
            or time.monotonic() - kept.counted_at > KEEP_SECONDS
            or not service_ids <= kept.services
        ):
            return None
        return kept

    def keep(self, hall_id: int, snapshot: WaitingSnapshot) -> None:
        """After a batch has committed: the counts it ended with."""
        if len(self._by_hall) > 1000:
            self._by_hall.clear()
        self._by_hall[hall_id] = snapshot


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
    version = 0  # a hall without a ledger row yet: nothing has been committed
    rows = await session.execute(_snapshot_statement(ids, prefixes, bool(reserve)), params)
    for kind, service_id, green, prefix, n in rows.all():
        if kind == "w":
            if n:
                waiting[(int(service_id), bool(green))] = int(n)
        elif kind == "c":
            last[str(prefix)] = int(n)
        elif kind == "v":
            version = int(n)
        else:
            reserved.append(int(n))
    return WaitingSnapshot(
        day,
        waiting,
        last,
        version,
        frozenset(ids),
        time.monotonic(),
        ticket_ids=tuple(sorted(reserved)),
    )


async def reserve_ticket_ids(session: AsyncSession, hall_id: int, n: int) -> tuple[int, list[int]]:
    """PostgreSQL, when the kept counts are used: the hall's queue_version and ``n`` ticket
    ids from the sequence, in one round trip before the numbering lock."""
    version = 0
    ids: list[int] = []
    for kind, value in (
        await session.execute(_reserve_statement(), {"hall_id": hall_id, "reserve": n})
    ).all():
        if kind == "v":
            version = int(value)
        else:
            ids.append(int(value))
    return version, sorted(ids)


def counts_after(
    before: WaitingSnapshot | None,
    day: date,
    services: list[Service],
    counts: Counts,
    issued: dict[str, int],
    queue_version: int,
    *,
    lanes_exact: bool,
) -> WaitingSnapshot:
    """The snapshot a batch ends with (to keep once it has committed): ``counts`` and
    ``issued`` for ``services`` as of the numbering lock, the rest as before."""
    ids = frozenset(s.id for s in services if s.id is not None)
    if before is None or not usable(before, day, queue_version):
        return WaitingSnapshot(
            day, dict(counts), dict(issued), queue_version, ids, time.monotonic()
        )
    merged = {k: n for k, n in before.counts.items() if k[0] not in ids}
    merged.update(counts)
    return replace(
        before,
        counts=merged,
        issued={**before.issued, **issued},
        services=before.services | ids,
        lanes_exact=before.lanes_exact and lanes_exact,
        ticket_ids=(),
    )


def usable(snapshot: WaitingSnapshot | None, day: date, queue_version: int | None) -> bool:
    """Whether ``snapshot`` still describes the queue (``queue_version`` read under the lock)."""
    return (
        snapshot is not None
        and snapshot.day == day
        and (queue_version is None or snapshot.queue_version == queue_version)
    )


def counts_unread(
    snapshot: WaitingSnapshot,
    services: list[Service],
    numbered_before: dict[str, int],
    lanes_needed: bool,
) -> Counts | None:
    """``waiting_now`` without reading a ticket, when that is exact: the snapshot (usable,
    see ``usable``) plus the tickets numbered since in the plain lane, when no new ticket
    is green or none was numbered since. None when the tickets since must be read."""
    counts = dict(snapshot.counts)
    for service in services:
        assert service.id is not None
        since = numbered_before[service.prefix] - snapshot.issued.get(service.prefix, 0)
        if since > 0:
            if lanes_needed:
                return None
            key = (service.id, False)
            counts[key] = counts.get(key, 0) + since
    return counts


async def waiting_now(
    session: AsyncSession,
    hall_id: int,
    day: date,
    services: list[Service],
    snapshot: WaitingSnapshot | None,
    *,
    numbered_before: dict[str, int] | None = None,
    lanes_needed: bool = True,
    queue_version: int | None = None,
) -> Counts:
    """The waiting tickets per service and lane now (under the numbering lock).

    ``queue_version``: the hall's, read under the lock; a snapshot of another version is
    not used (the queue is counted).

    ``numbered_before``: each prefix's last number before this batch's (the counter just
    read under the lock). A prefix belongs to one service of the hall, so the tickets
    numbered since the snapshot are that range; when no new ticket is green only the total
    per service matters (a plain ticket queues behind both lanes) and they are counted in
    the plain lane without reading them.
    """
    ids = [s.id for s in services if s.id is not None]
    if (
        snapshot is None
        or not usable(snapshot, day, queue_version)
        or (lanes_needed and not snapshot.lanes_exact)
    ):
        rows = await session.execute(
            select(Ticket.service_id, Ticket.green, func.count())  # type: ignore[call-overload]
            .where(*_waiting_in(hall_id, day, ids))
            .group_by(Ticket.service_id, Ticket.green)
        )
        return {(int(s), bool(g)): int(n) for s, g, n in rows.all()}
    if numbered_before is not None:
        counts = counts_unread(snapshot, services, numbered_before, lanes_needed)
        if counts is not None:
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
    ledger = HallLedger.__table__.c  # type: ignore[attr-defined]
    version = select(literal("v"), null(), null(), null(), ledger.queue_version).where(
        ledger.hall_id == _HALL
    )
    parts = [*lanes, issued, version]
    if reserve:
        parts.append(_reserved_ids(5))
    return union_all(*parts)


def _reserved_ids(width: int) -> Any:
    nulls = [null()] * (width - 2)
    return select(literal("i"), *nulls, func.nextval(_TICKET_ID_SEQUENCE)).select_from(
        func.generate_series(1, bindparam("reserve", type_=Integer))
    )


@functools.lru_cache(maxsize=1)
def _reserve_statement() -> Any:
    ledger = HallLedger.__table__.c  # type: ignore[attr-defined]
    version = select(literal("v"), ledger.queue_version).where(ledger.hall_id == _HALL)
    return union_all(version, _reserved_ids(2))


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
