"""Publishing star ratings: compute every subject once, store the rows, never recompute."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import conflict
from ..halls.lookup import business_day
from ..halls.models import Hall
from ..transaction import Tx
from . import config
from .compute import SUBJECTS, Row, compute
from .models import RatingPublication, RatingRow
from .periods import Period


async def publication(session: AsyncSession, hall_id: int, period: str) -> RatingPublication | None:
    return (
        await session.execute(
            select(RatingPublication).where(
                RatingPublication.hall_id == hall_id,  # type: ignore[arg-type]
                RatingPublication.period == period,  # type: ignore[arg-type]
            )
        )
    ).scalar_one_or_none()


async def publish(
    tx: Tx, hall: Hall, period: Period, user_id: int | None
) -> tuple[RatingPublication, int]:
    """公示: freeze the period's ratings of windows, staff and departments (409 if done)."""
    session = tx.session
    assert hall.id is not None
    # The hall row lock orders two offices publishing the same period at once.
    # FOR NO KEY UPDATE: one at a time still, without blocking other transactions'
    # foreign-key checks on the hall row (their audit/event inserts, made while they
    # hold the hall ledger lock) — FOR UPDATE deadlocked with them under load.
    await session.execute(select(Hall.id).where(Hall.id == hall.id).with_for_update(key_share=True))  # type: ignore[call-overload]
    if await publication(session, hall.id, period.code) is not None:
        raise conflict(
            "already_published", f"{period.label}星级评定已公示，不再重新计算 (already published)"
        )
    settings, version = await config.current(session, hall.id)
    complete = business_day(hall, tx.now) >= period.after
    pub = RatingPublication(
        hall_id=hall.id,
        period=period.code,
        published_at=tx.now,
        published_by_id=user_id,
        config={"version": version, "complete": complete, **settings.model_dump(mode="json")},
    )
    session.add(pub)
    await session.flush()
    count = 0
    rows: list[RatingRow] = []
    for subject in SUBJECTS:
        for row in await compute(session, hall, period, subject, settings, tx.now):
            stored = RatingRow(
                publication_id=pub.id,  # type: ignore[arg-type]
                subject=subject,
                key=row.key,
                name=row.name,
                stars=row.stars,
                score=row.score,
                rank=row.rank,
                components={**row.components, "_raw": row.raw, **row.extra},
                samples=row.samples,
            )
            session.add(stored)
            rows.append(stored)
            count += 1
    await session.flush()
    tx.audit("rating.publish", pub)
    # Each frozen row is in the audit record, so a later change to it is detected (verify).
    for stored in rows:
        tx.audit("rating.row", stored)
    tx.emit("ratings", period=period.code, change="published")
    return pub, count


async def published_rows(session: AsyncSession, pub: RatingPublication, subject: str) -> list[Row]:
    rows = (
        await session.execute(
            select(RatingRow)
            .where(RatingRow.publication_id == pub.id, RatingRow.subject == subject)  # type: ignore[arg-type]
            .order_by(RatingRow.rank)  # type: ignore[arg-type]
        )
    ).scalars()
    out = []
    for r in rows:
        components = dict(r.components)
        raw = components.pop("_raw", {})
        hall_means = components.pop("hall_means", {})
        out.append(
            Row(
                subject=r.subject,
                key=r.key,
                name=r.name,
                stars=r.stars,
                score=r.score,
                components=components,
                samples=dict(r.samples),
                raw=raw,
                rank=r.rank,
                extra={"hall_means": hall_means},
            )
        )
    return out


async def latest_month(session: AsyncSession, hall_id: int) -> RatingPublication | None:
    """The most recent published month (for the notice board)."""
    pubs = (
        await session.execute(
            select(RatingPublication).where(RatingPublication.hall_id == hall_id)  # type: ignore[arg-type]
        )
    ).scalars()
    months = [p for p in pubs if "Q" not in p.period]
    return max(months, key=lambda p: p.period, default=None)


async def live_or_published(
    session: AsyncSession, hall: Hall, period: Period, subject: str, now: datetime
) -> tuple[list[Row], RatingPublication | None, int]:
    """The frozen rows of a published period, or live ones; and the settings version used."""
    assert hall.id is not None
    pub = await publication(session, hall.id, period.code)
    if pub is not None:
        return await published_rows(session, pub, subject), pub, int(pub.config.get("version", 0))
    settings, version = await config.current(session, hall.id)
    return await compute(session, hall, period, subject, settings, now), None, version
