"""Daily anchors (每日锚点): the chain head of each finished business day, published.

An anchor is written once, after the hall's business day is over (housekeeping), and shown
on the notice board and at ``GET /api/v1/halls/{hall}/audit/anchors``. Whoever writes one
down can later check that the record with that sequence number still has that hash; a
rewritten history (even one re-chained consistently) cannot keep the old hashes.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..halls.lookup import business_day, hall_zone
from ..halls.models import Hall
from ..realtime.models import HallLedger
from .models import AuditAnchor, AuditRecord

if TYPE_CHECKING:
    from ..state import AppState

log = logging.getLogger("window_service.audit")

#: How many past days one housekeeping round anchors at most (a long-idle system catches up
#: over a few rounds instead of in one long transaction).
MAX_DAYS_PER_ROUND = 366


@dataclass(frozen=True)
class Anchor:
    day: date
    seq: int
    hash: str
    record_at: datetime


def day_end(hall: Hall, day: date) -> datetime:
    """The first instant after ``day`` in the hall's time zone (as an aware datetime)."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=hall_zone(hall))


async def anchors_of(session: AsyncSession, hall_id: int, *, limit: int = 60) -> list[Anchor]:
    rows = await session.execute(
        select(AuditAnchor)
        .where(AuditAnchor.hall_id == hall_id)  # type: ignore[arg-type]
        .order_by(AuditAnchor.business_day.desc())  # type: ignore[attr-defined]
        .limit(limit)
    )
    return [Anchor(a.business_day, a.seq, a.hash, a.record_at) for a in rows.scalars()]


async def chain_head(session: AsyncSession, hall_id: int) -> tuple[int, str]:
    row = (
        await session.execute(
            select(HallLedger.audit_seq, HallLedger.audit_hash).where(  # type: ignore[call-overload]
                HallLedger.hall_id == hall_id
            )
        )
    ).first()
    if row is None:
        return 0, ""
    return int(row[0]), str(row[1] or "")


async def pending_anchors(session: AsyncSession, hall: Hall, now: datetime) -> list[Anchor]:
    """Anchors not yet written for business days that are over (days with records only)."""
    assert hall.id is not None
    today = business_day(hall, now)
    row = (
        await session.execute(
            select(AuditAnchor.business_day, AuditAnchor.seq)  # type: ignore[call-overload]
            .where(AuditAnchor.hall_id == hall.id)
            .order_by(AuditAnchor.business_day.desc())  # type: ignore[attr-defined]
            .limit(1)
        )
    ).first()
    last: tuple[date, int] | None = (row[0], int(row[1])) if row else None
    after_seq = last[1] if last else 0
    out: list[Anchor] = []
    while len(out) < MAX_DAYS_PER_ROUND:
        first = (
            await session.execute(
                select(AuditRecord.at).where(  # type: ignore[call-overload]
                    AuditRecord.hall_id == hall.id, AuditRecord.seq == after_seq + 1
                )
            )
        ).first()
        if first is None:
            break
        day = business_day(hall, first[0])
        if last is not None and day <= last[0]:
            # A record stamped on an anchored day but committed after its anchor: it belongs
            # to the next anchor.
            day = last[0] + timedelta(days=1)
        if day >= today:
            break
        end = day_end(hall, day)
        head_seq = (
            await session.execute(
                select(func.max(AuditRecord.seq)).where(
                    AuditRecord.hall_id == hall.id,  # type: ignore[arg-type]
                    AuditRecord.seq > after_seq,  # type: ignore[arg-type]
                    AuditRecord.at < end,  # type: ignore[arg-type]
                )
            )
        ).scalar_one()
        head_seq = int(head_seq or after_seq + 1)
        record = (
            await session.execute(
                select(AuditRecord).where(
                    AuditRecord.hall_id == hall.id,  # type: ignore[arg-type]
                    AuditRecord.seq == head_seq,  # type: ignore[arg-type]
                )
            )
        ).scalar_one()
        out.append(Anchor(day, record.seq, record.hash, record.at))
        last = (day, record.seq)
        after_seq = record.seq
    return out


async def write_anchors(session: AsyncSession, hall: Hall, now: datetime) -> int:
    """Write the pending anchors of ``hall``; returns how many. Idempotent."""
    assert hall.id is not None
    anchors = await pending_anchors(session, hall, now)
    for anchor in anchors:
        session.add(
            AuditAnchor(
                hall_id=hall.id,
                business_day=anchor.day,
                seq=anchor.seq,
                hash=anchor.hash,
                record_at=anchor.record_at,
                created_at=now,
            )
        )
    if anchors:
        await session.flush()
    return len(anchors)


async def anchor_job(state: AppState) -> None:
    """Housekeeping: anchor every hall's finished business days."""
    async with state.db.read() as session:
        halls = list((await session.execute(select(Hall))).scalars())
    for hall in halls:
        assert hall.id is not None
        async with state.db.read() as session:
            if not await pending_anchors(session, hall, state.clock.now()):
                continue  # the usual case: nothing to write, so no write lock taken
        try:
            async with state.db.write() as session:
                await write_anchors(session, hall, state.clock.now())
                await session.commit()
        except IntegrityError:
            # Another process wrote the same anchors first.
            log.debug("audit anchors of hall %s written elsewhere", hall.code)


async def board_context(session: AsyncSession, hall: Hall, *, limit: int = 7) -> dict[str, object]:
    """What the notice board (电子公示栏) needs to show the anchors.

    Render it with ``{% include "audit_anchors.html" %}`` and this dict in the context.
    """
    from ..halls.lookup import local_time

    assert hall.id is not None
    seq, digest = await chain_head(session, hall.id)
    return {
        "audit_head": {"seq": seq, "hash": digest},
        "audit_anchors": [
            {
                "day": a.day.isoformat(),
                "seq": a.seq,
                "hash": a.hash,
                "record_at": local_time(hall, a.record_at).strftime("%H:%M"),
            }
            for a in await anchors_of(session, hall.id, limit=limit)
        ],
        "audit_anchors_url": f"/api/v1/halls/{hall.code}/audit/anchors",
    }
