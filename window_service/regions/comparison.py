"""区域比较: the halls of a region side by side for a month or a quarter.

Per hall: tickets (served, no-shows), waiting time (queue time → first call: mean and p90 in
minutes), the case on-time rate (按时办结率: cases decided in the period by their promised
deadline, among those decided in it plus the open ones overdue in it — as the hall's own
statistics count them), satisfaction (满意度 0–100) and 差评 from the ratings that count, the
published stars of the period (the version in force), and rectifications (opened in the
period; open and overdue now, whatever period they come from).

Every figure is one grouped query over all the region's halls (``GROUP BY hall_id``), never a
query per hall, so the comparison costs what it reads: about ten statements for 2 halls or
200. The p90 comes from a histogram of waits in tenths of a minute, also grouped in the
database, so the rows read grow with the spread of waits, not with the tickets. What a hall's
row holds, and the region's total, is ``figures.py``.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Float, and_, case, cast, func, literal, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col

from ..api.dates import Span
from ..cases.models import Case
from ..db import minutes_between
from ..feedback.models import Feedback, Rectification, counted
from ..halls.lookup import business_day, hall_zone
from ..halls.models import Hall
from ..halls.regions import Region
from ..queue.models import Ticket
from ..ratings.models import RatingPublication, RatingRow
from .figures import BUCKET_MINUTES, POINTS, HallFigures, region_total


def _zones(halls: list[Hall]) -> dict[str, list[int]]:
    """Hall ids by time zone: a period's bounds are per zone, so queries take one range per
    zone (a deployment has one or two), not one per hall."""
    out: dict[str, list[int]] = defaultdict(list)
    for hall in halls:
        assert hall.id is not None
        out[hall_zone(hall).key].append(hall.id)
    return out


def _in_period(hall_id: Any, column: Any, halls: list[Hall], span: Span) -> ColumnElement[bool]:
    """``column`` (a moment) within the span in each hall's own time."""
    ranges = []
    for ids in _zones(halls).values():
        zone = hall_zone(next(h for h in halls if h.id == ids[0]))
        start = datetime.combine(span.first, time(0), tzinfo=zone)
        end = datetime.combine(span.last + timedelta(days=1), time(0), tzinfo=zone)
        ranges.append(and_(hall_id.in_(ids), column >= start, column < end))
    return or_(*ranges)


async def compare(
    session: AsyncSession,
    region: Region,
    regions: list[Region],
    halls: list[Hall],
    span: Span,
    *,
    now: datetime,
) -> dict[str, Any]:
    """The comparison of ``halls`` (those of ``regions``, ``region``'s subtree) over ``span``."""
    names = {r.code: r.name for r in regions}
    figures = {h.id: HallFigures(h, h.region) for h in halls if h.id is not None}
    ids = list(figures)
    if ids:
        dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
        await _tickets(session, figures, ids, span)
        await _waits(session, figures, ids, span, dialect)
        await _ratings(session, figures, halls, span)
        await _cases(session, figures, halls, span, now)
        await _stars(session, figures, ids, span)
        await _rectifications(session, figures, halls, span, now)
    rows = [f.as_dict() for f in figures.values()]
    for row in rows:
        row["region_name"] = names.get(row["region"], row["region"])
    total = region_total(region, list(figures.values())).as_dict()
    del total["stars"]  # stars are a hall's verdict on its own subjects: no region sum
    return {
        "region": region.code,
        "name": region.name,
        "level": region.level,
        "period": span.code,
        "kind": span.kind,
        "start": span.first.isoformat(),
        "end": span.last.isoformat(),
        "regions": [{"code": r.code, "name": r.name, "level": r.level} for r in regions],
        "halls": rows,
        "total": total,
    }


async def _tickets(
    session: AsyncSession, figures: dict[Any, HallFigures], ids: list[int], span: Span
) -> None:
    rows = await session.execute(
        select(
            col(Ticket.hall_id),
            func.count(),
            func.sum(case((col(Ticket.status) == "done", 1), else_=0)),
            func.sum(case((col(Ticket.status) == "no_show", 1), else_=0)),
        )
        .where(
            col(Ticket.hall_id).in_(ids),
            col(Ticket.business_day) >= span.first,
            col(Ticket.business_day) <= span.last,
        )
        .group_by(col(Ticket.hall_id))
    )
    for hall_id, tickets, served, no_shows in rows.all():
        f = figures[hall_id]
        f.tickets, f.served, f.no_shows = int(tickets), int(served or 0), int(no_shows or 0)


async def _waits(
    session: AsyncSession,
    figures: dict[Any, HallFigures],
    ids: list[int],
    span: Span,
    dialect: str,
) -> None:
    # The wait as the hall's statistics count it: from its start (the queue time, or a
    # remote ticket's check-in) to the first call.
    called = (
        select(
            col(Ticket.hall_id),
            col(Ticket.first_called_at).label("called"),
            func.coalesce(col(Ticket.waiting_since), col(Ticket.queued_at)).label("queued_at"),
        )
        .where(
            col(Ticket.hall_id).in_(ids),
            col(Ticket.business_day) >= span.first,
            col(Ticket.business_day) <= span.last,
            col(Ticket.first_called_at).is_not(None),
        )
        .subquery()
    )
    waited = minutes_between(called.c.queued_at, called.c.called, dialect)
    minutes = (
        func.max(cast(waited, Float), literal(0.0))
        if dialect == "sqlite"
        else func.greatest(cast(waited, Float), 0.0)
    )
    bucket = cast(func.floor(minutes / BUCKET_MINUTES + 0.5), Float)
    inner = select(
        called.c.hall_id.label("hall_id"), minutes.label("minutes"), bucket.label("bucket")
    ).subquery()
    rows = await session.execute(
        select(inner.c.hall_id, inner.c.bucket, func.count(), func.sum(inner.c.minutes)).group_by(
            inner.c.hall_id, inner.c.bucket
        )
    )
    for hall_id, b, count, total in rows.all():
        f = figures[hall_id]
        f.called += int(count)
        f.wait_total += float(total or 0.0)
        f.wait_histogram[int(b)] = f.wait_histogram.get(int(b), 0) + int(count)


async def _ratings(
    session: AsyncSession, figures: dict[Any, HallFigures], halls: list[Hall], span: Span
) -> None:
    rows = await session.execute(
        select(col(Feedback.hall_id), col(Feedback.rating), func.count())
        .where(counted(), _in_period(col(Feedback.hall_id), col(Feedback.created_at), halls, span))
        .group_by(col(Feedback.hall_id), col(Feedback.rating))
    )
    for hall_id, rating, count in rows.all():
        if rating in POINTS:
            figures[hall_id].ratings[int(rating)] = int(count)


async def _cases(
    session: AsyncSession,
    figures: dict[Any, HallFigures],
    halls: list[Hall],
    span: Span,
    now: datetime,
) -> None:
    ids = [h.id for h in halls]
    decided = and_(
        col(Case.status).in_(("completed", "rejected")),
        col(Case.decided_day) >= span.first,
        col(Case.decided_day) <= span.last,
    )
    on_time = and_(
        decided,
        or_(
            and_(
                col(Case.promised_due_at).is_not(None),
                col(Case.decided_at) <= col(Case.promised_due_at),
            ),
            and_(
                col(Case.promised_due_at).is_(None), col(Case.decided_day) <= col(Case.promised_due)
            ),
        ),
    )
    # Open (not in correction) cases whose promised deadline fell in the period and passed:
    # "passed" is by the moment for immediate cases, by the hall's today for the others.
    passed = []
    for zone_ids in _zones(halls).values():
        hall = next(h for h in halls if h.id == zone_ids[0])
        today = business_day(hall, now)
        passed.append(
            and_(
                col(Case.hall_id).in_(zone_ids),
                or_(
                    and_(col(Case.promised_due_at).is_not(None), col(Case.promised_due_at) < now),
                    and_(col(Case.promised_due_at).is_(None), col(Case.promised_due) < today),
                ),
            )
        )
    open_overdue = and_(
        col(Case.status) == "accepted",
        col(Case.promised_due) >= span.first,
        col(Case.promised_due) <= span.last,
        or_(*passed),
    )
    rows = await session.execute(
        select(
            col(Case.hall_id),
            func.sum(case((decided, 1), else_=0)),
            func.sum(case((on_time, 1), else_=0)),
            func.sum(case((open_overdue, 1), else_=0)),
        )
        .where(col(Case.hall_id).in_(ids), or_(decided, open_overdue))
        .group_by(col(Case.hall_id))
    )
    for hall_id, n_decided, n_on_time, n_open_overdue in rows.all():
        f = figures[hall_id]
        f.cases = int(n_decided or 0) + int(n_open_overdue or 0)
        f.cases_on_time = int(n_on_time or 0)
        f.cases_overdue = f.cases - f.cases_on_time


async def _stars(
    session: AsyncSession, figures: dict[Any, HallFigures], ids: list[int], span: Span
) -> None:
    pubs = (
        await session.execute(
            select(RatingPublication).where(
                col(RatingPublication.hall_id).in_(ids),
                col(RatingPublication.period) == span.code,
            )
        )
    ).scalars()
    in_force: dict[int, RatingPublication] = {}
    for pub in pubs:
        held = in_force.get(pub.hall_id)
        if held is None or pub.version > held.version:
            in_force[pub.hall_id] = pub
    if not in_force:
        return
    by_pub = {pub.id: hall_id for hall_id, pub in in_force.items()}
    for hall_id, pub in in_force.items():
        figures[hall_id].publication = pub
    rows = await session.execute(
        select(
            col(RatingRow.publication_id),
            col(RatingRow.subject),
            func.avg(col(RatingRow.stars)),
            func.count(col(RatingRow.stars)),
            func.count(),
        )
        .where(col(RatingRow.publication_id).in_(list(by_pub)))
        .group_by(col(RatingRow.publication_id), col(RatingRow.subject))
    )
    for pub_id, subject, mean, rated, count in rows.all():
        figures[by_pub[pub_id]].stars[subject] = {
            "mean": round(float(mean), 2) if mean is not None else None,
            "rated": int(rated),
            "rows": int(count),
        }


async def _rectifications(
    session: AsyncSession,
    figures: dict[Any, HallFigures],
    halls: list[Hall],
    span: Span,
    now: datetime,
) -> None:
    ids = [h.id for h in halls]
    late = []
    for zone_ids in _zones(halls).values():
        hall = next(h for h in halls if h.id == zone_ids[0])
        late.append(
            and_(
                col(Rectification.hall_id).in_(zone_ids),
                col(Rectification.due) < business_day(hall, now),
            )
        )
    is_open = col(Rectification.status) == "open"
    opened = _in_period(col(Rectification.hall_id), col(Rectification.opened_at), halls, span)
    rows = await session.execute(
        select(
            col(Rectification.hall_id),
            func.sum(case((opened, 1), else_=0)),
            func.sum(case((is_open, 1), else_=0)),
            func.sum(case((and_(is_open, or_(*late)), 1), else_=0)),
        )
        .where(col(Rectification.hall_id).in_(ids), or_(opened, is_open))
        .group_by(col(Rectification.hall_id))
    )
    for hall_id, n_opened, n_open, n_overdue in rows.all():
        f = figures[hall_id]
        f.rect_opened, f.rect_open, f.rect_overdue = (
            int(n_opened or 0),
            int(n_open or 0),
            int(n_overdue or 0),
        )
