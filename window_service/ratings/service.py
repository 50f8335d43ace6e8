"""Publishing star ratings: compute every subject once, store the rows, never recompute."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accountability import config
from ..accountability.periods import Period
from ..api.errors import conflict, invalid
from ..cases.calendar import load_calendar
from ..halls.lookup import business_day
from ..halls.models import Hall
from ..queue.models import Ticket
from ..transaction import Tx
from .compute import SUBJECTS, Row, compute
from .models import RatingPublication, RatingRow


async def publications_of(
    session: AsyncSession, hall_id: int, period: str
) -> list[RatingPublication]:
    """Every published version of ``period``, oldest first (the last one is in force)."""
    return list(
        (
            await session.execute(
                select(RatingPublication)
                .where(
                    RatingPublication.hall_id == hall_id,  # type: ignore[arg-type]
                    RatingPublication.period == period,  # type: ignore[arg-type]
                )
                .order_by(RatingPublication.version)  # type: ignore[arg-type]
            )
        ).scalars()
    )


async def publication(
    session: AsyncSession, hall_id: int, period: str, version: int | None = None
) -> RatingPublication | None:
    """The version of ``period`` in force (the latest), or the given ``version``."""
    versions = await publications_of(session, hall_id, period)
    if version is not None:
        return next((p for p in versions if p.version == version), None)
    return versions[-1] if versions else None


async def first_business_day(session: AsyncSession, hall: Hall) -> date:
    """The hall's first business day: the day it was set up or its first ticket, if earlier."""
    first_ticket = (
        await session.execute(
            select(func.min(Ticket.business_day)).where(Ticket.hall_id == hall.id)  # type: ignore[arg-type]
        )
    ).scalar_one_or_none()
    created = business_day(hall, hall.created_at)
    return min(created, first_ticket) if first_ticket is not None else created


async def appeal_window_end(session: AsyncSession, hall: Hall, period: Period, days: int) -> date:
    """The last day of the period's appeal window: ``days`` working days after its last day."""
    assert hall.id is not None
    calendar = await load_calendar(session, hall.id)
    return calendar.add_working_days(period.after - timedelta(days=1), days)


async def check_publishable(
    session: AsyncSession, hall: Hall, period: Period, settings: config.Settings, now: datetime
) -> None:
    """A period is published only within the hall's life, after it ended and its appeal window
    passed (409 ``period_not_over``); a period before the hall's first business day is 422."""
    if period.after <= await first_business_day(session, hall):
        raise invalid(
            "invalid_period",
            f"{period.label}早于本大厅开始办公的日期 (the period is before the hall's first business day)",
        )
    today = business_day(hall, now)
    window_end = await appeal_window_end(session, hall, period, settings.appeal_window_days)
    if today <= window_end:
        raise conflict(
            "period_not_over",
            f"{period.label}尚未结束或申诉期（至{window_end.isoformat()}）未满，不能公示"
            f" (the period and its appeal window end on {window_end.isoformat()})",
        )


async def _freeze(
    tx: Tx,
    hall: Hall,
    period: Period,
    user_id: int | None,
    *,
    version: int,
    reason: str,
) -> tuple[RatingPublication, list[RatingRow]]:
    """Compute every subject once and store the rows as ``version`` of the period."""
    session = tx.session
    assert hall.id is not None
    settings, config_version = await config.current(session, hall.id)
    await check_publishable(session, hall, period, settings, tx.now)
    computed = {
        subject: await compute(session, hall, period, subject, settings, tx.now)
        for subject in SUBJECTS
    }
    if not any(computed.values()):
        raise conflict(
            "no_records",
            f"{period.label}没有任何办件、评价或暗访记录，无可公示 (no records in the period)",
        )
    pub = RatingPublication(
        hall_id=hall.id,
        period=period.code,
        version=version,
        correction_reason=reason,
        published_at=tx.now,
        published_by_id=user_id,
        config={"version": config_version, "complete": True, **settings.model_dump(mode="json")},
    )
    session.add(pub)
    await session.flush()
    rows: list[RatingRow] = []
    for subject, computed_rows in computed.items():
        for row in computed_rows:
            stored = RatingRow(
                publication_id=pub.id,  # type: ignore[arg-type]
                subject=subject,
                key=row.key,
                name=row.name,
                stars=row.stars,
                score=row.score,
                rank=row.rank,
                reason=row.reason,
                components={**row.components, "_raw": row.raw, **row.extra},
                samples=row.samples,
                evidence=row.evidence,
            )
            session.add(stored)
            rows.append(stored)
    await session.flush()
    return pub, rows


async def _lock(tx: Tx, hall: Hall) -> None:
    # The hall row lock orders two offices publishing the same period at once.
    # FOR NO KEY UPDATE: one at a time still, without blocking other transactions'
    # foreign-key checks on the hall row (their audit/event inserts, made while they
    # hold the hall ledger lock) — FOR UPDATE deadlocked with them under load.
    await tx.session.execute(
        select(Hall.id).where(Hall.id == hall.id).with_for_update(key_share=True)  # type: ignore[call-overload]
    )


async def publish(
    tx: Tx, hall: Hall, period: Period, user_id: int | None
) -> tuple[RatingPublication, int]:
    """公示: freeze the period's ratings of windows, staff and departments (409 if done)."""
    assert hall.id is not None
    await _lock(tx, hall)
    if await publication(tx.session, hall.id, period.code) is not None:
        raise conflict(
            "already_published",
            f"{period.label}星级评定已公示，不再重新计算；错误须以更正公示 (already published;"
            " a proven error is corrected publicly)",
        )
    pub, rows = await _freeze(tx, hall, period, user_id, version=1, reason="")
    tx.audit("rating.publish", pub)
    # Each frozen row is in the audit record, so a later change to it is detected (verify).
    for stored in rows:
        tx.audit("rating.row", stored)
    tx.emit("ratings", period=period.code, change="published")
    return pub, len(rows)


async def correct(
    tx: Tx, hall: Hall, period: Period, reason: str, user_id: int | None
) -> tuple[RatingPublication, int]:
    """更正: a new version of a published period, computed now, superseding the one in force
    publicly with its reason. The earlier version is kept unchanged and stays visible."""
    assert hall.id is not None
    await _lock(tx, hall)
    current = await publication(tx.session, hall.id, period.code)
    if current is None:
        raise conflict(
            "not_published",
            f"{period.label}星级评定尚未公示，无需更正 (not published: nothing to correct)",
        )
    pub, rows = await _freeze(tx, hall, period, user_id, version=current.version + 1, reason=reason)
    tx.audit("rating.correct", pub, reason=reason)
    for stored in rows:
        tx.audit("rating.row", stored)
    tx.emit("ratings", period=period.code, change="corrected")
    return pub, len(rows)


async def published_rows(session: AsyncSession, pub: RatingPublication, subject: str) -> list[Row]:
    rows = (
        await session.execute(
            select(RatingRow)
            .where(RatingRow.publication_id == pub.id, RatingRow.subject == subject)  # type: ignore[arg-type]
            .order_by(RatingRow.id)  # type: ignore[arg-type]
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
                reason=r.reason,
                evidence=dict(r.evidence),
                extra={"hall_means": hall_means},
            )
        )
    return out


async def latest_month(session: AsyncSession, hall_id: int) -> RatingPublication | None:
    """The most recent published month, in the version in force (for the notice board)."""
    pubs = (
        await session.execute(
            select(RatingPublication).where(RatingPublication.hall_id == hall_id)  # type: ignore[arg-type]
        )
    ).scalars()
    months = [p for p in pubs if "Q" not in p.period]
    return max(months, key=lambda p: (p.period, p.version), default=None)


async def live_or_published(
    session: AsyncSession,
    hall: Hall,
    period: Period,
    subject: str,
    now: datetime,
    version: int | None = None,
) -> tuple[list[Row], RatingPublication | None, int]:
    """The frozen rows of a published period (the version in force, or ``version``), or live
    ones; and the settings version used."""
    assert hall.id is not None
    pub = await publication(session, hall.id, period.code, version)
    if pub is not None:
        return await published_rows(session, pub, subject), pub, int(pub.config.get("version", 0))
    settings, version = await config.current(session, hall.id)
    return await compute(session, hall, period, subject, settings, now), None, version
