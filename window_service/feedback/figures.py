"""好差评 figures of a period: average, satisfaction rate (满意率) and callback rate (回访率)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import Feedback, Rectification, counted

#: A rating at or above this level counts as satisfied (基本满意 and better).
SATISFIED_FROM = 3


@dataclass(frozen=True)
class RatingFigures:
    ratings: int
    average: float | None
    #: Per cent of the counted ratings that are satisfied, to one decimal.
    satisfaction_rate: float | None


async def rating_figures(
    session: AsyncSession, hall_id: int, start: datetime, end: datetime
) -> RatingFigures:
    """The hall's counted ratings given in [start, end): how many, their average, 满意率."""
    row = (
        await session.execute(
            select(
                func.count(),
                func.avg(Feedback.rating),
                func.count().filter(Feedback.rating >= SATISFIED_FROM),  # type: ignore[arg-type, operator]
            ).where(
                Feedback.hall_id == hall_id,  # type: ignore[arg-type]
                counted(),
                Feedback.created_at >= start,  # type: ignore[arg-type, operator]
                Feedback.created_at < end,  # type: ignore[arg-type, operator]
            )
        )
    ).one()
    count = int(row[0])
    return RatingFigures(
        ratings=count,
        average=round(float(row[1]), 2) if count else None,
        satisfaction_rate=round(int(row[2]) / count * 100, 1) if count else None,
    )


async def callback_figures(
    session: AsyncSession, hall_id: int, start: datetime | None = None, end: datetime | None = None
) -> dict[str, Any]:
    """回访率: of the bad ratings' rectifications (not voided), how many reached the citizen."""
    conds: list[Any] = [
        Rectification.hall_id == hall_id,
        Rectification.kind == "feedback",
        Rectification.status != "voided",
    ]
    if start is not None:
        conds.append(Rectification.opened_at >= start)  # type: ignore[operator]
    if end is not None:
        conds.append(Rectification.opened_at < end)  # type: ignore[operator]
    rows = (
        await session.execute(
            select(
                func.count(),
                func.count().filter(Rectification.callback_reached.is_(True)),  # type: ignore[union-attr]
                func.count().filter(Rectification.status == "closed"),  # type: ignore[arg-type]
            ).where(*conds)
        )
    ).one()
    total, reached, closed = int(rows[0]), int(rows[1]), int(rows[2])
    return {
        "bad_ratings": total,
        "called_back": reached,
        "closed": closed,
        "callback_rate": round(reached / total * 100, 1) if total else None,
    }
