"""The outbox's visible backlog: what waits, since when, and the last error (per hall)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from prometheus_client.core import GaugeMetricFamily, Metric
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col

from .models import PlatformDelivery


@dataclass(frozen=True)
class Backlog:
    pending: int
    delivered: int
    oldest_pending_at: datetime | None
    next_attempt_at: datetime | None
    last_error: str
    last_attempt_at: datetime | None


async def backlogs(
    session: AsyncSession, hall_id: int | None = None, *, count_delivered: bool = True
) -> dict[int, Backlog]:
    """hall id → its backlog (every hall with any message when ``hall_id`` is None).

    ``count_delivered=False`` reads the waiting messages only (through the pending index),
    for the metrics scraped every few seconds: the delivered ones only grow."""
    d = PlatformDelivery
    waiting = col(d.delivered_at).is_(None)
    stmt = select(
        d.hall_id,
        func.count().filter(waiting),
        func.count().filter(col(d.delivered_at).is_not(None)),
        func.min(d.created_at).filter(waiting),
        func.min(d.next_attempt_at).filter(waiting),
    ).group_by(d.hall_id)  # type: ignore[call-overload]
    if hall_id is not None:
        stmt = stmt.where(col(d.hall_id) == hall_id)
    if not count_delivered:
        stmt = stmt.where(waiting)
    out: dict[int, Backlog] = {}
    for hid, n_pending, n_delivered, oldest, next_at in (await session.execute(stmt)).all():
        failed = (
            await session.execute(
                select(d.last_error, d.last_attempt_at)  # type: ignore[call-overload]
                .where(col(d.hall_id) == hid, waiting, col(d.last_error) != "")
                .order_by(col(d.last_attempt_at).desc(), col(d.id).desc())
                .limit(1)
            )
        ).first()
        out[hid] = Backlog(
            int(n_pending),
            int(n_delivered),
            oldest,
            next_at,
            failed[0] if failed else "",
            failed[1] if failed else None,
        )
    return out


async def metric_families(
    session: AsyncSession, hall_codes: dict[int, str], now: datetime
) -> list[Metric]:
    """``window_service_platform_outbox_pending{hall}`` and
    ``window_service_platform_outbox_oldest_pending_seconds{hall}``, read at scrape time."""
    pending = GaugeMetricFamily(
        "window_service_platform_outbox_pending",
        "Messages waiting for the outside 好差评 platform, by hall",
        labels=["hall"],
    )
    oldest = GaugeMetricFamily(
        "window_service_platform_outbox_oldest_pending_seconds",
        "Age of the oldest message waiting for the outside platform, by hall",
        labels=["hall"],
    )
    found = await backlogs(session, count_delivered=False)
    for hall_id in sorted(set(hall_codes) | set(found)):
        code = hall_codes.get(hall_id, str(hall_id))
        b = found.get(hall_id)
        at = b.oldest_pending_at if b else None
        pending.add_metric([code], float(b.pending if b else 0))
        oldest.add_metric([code], max(0.0, (now - at).total_seconds()) if at else 0.0)
    return [pending, oldest]


async def pending(session: AsyncSession, hall_id: int, limit: int = 20) -> list[PlatformDelivery]:
    """The hall's first ``limit`` deliveries not yet delivered, in event order."""
    stmt = (
        select(PlatformDelivery)
        .where(
            col(PlatformDelivery.hall_id) == hall_id, col(PlatformDelivery.delivered_at).is_(None)
        )
        .order_by(col(PlatformDelivery.seq))
        .limit(limit)
    )
    return list((await session.execute(stmt)).scalars())
