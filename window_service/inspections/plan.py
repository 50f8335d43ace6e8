"""The weekly random visit plan (暗访计划): "定期或不定期", so no window can predict a visit.

``plan_visits`` is a pure function of the seed, the window weights, the days and the number of
visits, so a stored plan can be reproduced exactly from what is recorded with it. Weights lean
towards windows with recent bad ratings, overdue cases, breaches and failed visits:

    weight = 1 + 2·bad ratings + 2·overdue cases + 1·breaches (一次性告知, 首问)
               + 0.2·wait-target breaches + 3·(a visit below the threshold)     (capped at 20)

over the 30 days before the plan is made (the failed visit: 90 days).
"""

from __future__ import annotations

import random
import secrets
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accountability import config
from ..api.errors import invalid
from ..cases.calendar import load_calendar
from ..feedback.models import Feedback
from ..figures import case_figures
from ..halls.lookup import business_day
from ..halls.models import Hall, Window
from ..transaction import Tx
from .models import Inspection, VisitPlan

LOOKBACK_DAYS = 30
FAILED_VISIT_DAYS = 90
MAX_WEIGHT = 20.0
#: Visit times: every quarter hour of the morning and afternoon office hours.
SLOTS: tuple[time, ...] = tuple(
    time(h, m) for h in (9, 10, 11, 14, 15, 16) for m in (0, 15, 30, 45) if not (h == 11 and m > 30)
)


def plan_visits(
    seed: int, weights: dict[str, float], days: list[date], visits: int
) -> list[dict[str, Any]]:
    """``visits`` (window, day, time) picks; windows drawn by weight without repeating until
    every window has been drawn once. Same inputs, same plan."""
    rng = random.Random(seed)
    keys = sorted(weights, key=int)
    remaining: list[str] = []
    out = []
    for _ in range(visits):
        if not remaining:
            remaining = list(keys)
        pick = rng.choices(remaining, weights=[weights[k] for k in remaining])[0]
        remaining.remove(pick)
        day = rng.choice(days)
        slot = rng.choice(SLOTS)
        out.append({"window_id": int(pick), "day": day.isoformat(), "time": slot.strftime("%H:%M")})
    out.sort(key=lambda v: (v["day"], v["time"], v["window_id"]))
    return out


async def window_weights(
    session: AsyncSession, hall: Hall, now: datetime
) -> dict[str, dict[str, Any]]:
    """window id (text) → {"number", "weight", and the figures behind it}."""
    assert hall.id is not None
    settings, _ = await config.current(session, hall.id)
    today = business_day(hall, now)
    since = now - timedelta(days=LOOKBACK_DAYS)
    windows = list(
        (
            await session.execute(
                select(Window).where(Window.hall_id == hall.id).order_by(Window.number)  # type: ignore[arg-type]
            )
        ).scalars()
    )
    bad: dict[int, int] = dict(
        (
            await session.execute(
                select(Feedback.window_id, func.count())  # type: ignore[call-overload]
                .where(
                    Feedback.hall_id == hall.id,
                    Feedback.rating <= 2,
                    Feedback.voided.is_(False),  # type: ignore[attr-defined]
                    Feedback.created_at >= since,
                )
                .group_by(Feedback.window_id)
            )
        ).all()
    )
    failed: set[int] = set()
    for window_id, total, max_total in (
        await session.execute(
            select(Inspection.window_id, Inspection.total, Inspection.max_total).where(  # type: ignore[call-overload]
                Inspection.hall_id == hall.id,
                Inspection.voided.is_(False),  # type: ignore[attr-defined]
                Inspection.visited_at >= now - timedelta(days=FAILED_VISIT_DAYS),
            )
        )
    ).all():
        if max_total and total / max_total * 100 < settings.inspection_threshold:
            failed.add(window_id)
    figures = await case_figures(
        session, hall.id, today - timedelta(days=LOOKBACK_DAYS), today, "window", now
    )
    out: dict[str, dict[str, Any]] = {}
    for window in windows:
        assert window.id is not None
        fig = figures.get(str(window.number))
        bad_n = int(bad.get(window.id, 0))
        overdue = fig.overdue if fig else 0
        breaches = fig.breaches if fig else 0
        wait = fig.wait_breaches if fig else 0
        weight = 1 + 2 * bad_n + 2 * overdue + breaches + 0.2 * wait
        if window.id in failed:
            weight += 3
        out[str(window.id)] = {
            "number": window.number,
            "weight": round(min(weight, MAX_WEIGHT), 2),
            "bad_ratings": bad_n,
            "overdue_cases": overdue,
            "breaches": breaches,
            "wait_breaches": wait,
            "failed_visit": window.id in failed,
        }
    return out


async def make_plan(
    tx: Tx, hall: Hall, *, week_start: Any, visits: int, seed: int | None, user_id: int | None
) -> VisitPlan:
    session = tx.session
    assert hall.id is not None
    if week_start.weekday() != 0:
        raise invalid("not_a_monday", "计划周须从星期一开始 (week_start must be a Monday)")
    calendar = await load_calendar(session, hall.id)
    days = [
        week_start + timedelta(days=i)
        for i in range(7)
        if calendar.is_working_day(week_start + timedelta(days=i))
    ]
    if not days:
        raise invalid("no_working_days", "该周没有工作日 (no working days that week)")
    weights = await window_weights(session, hall, tx.now)
    if not weights:
        raise invalid("no_windows", "本大厅没有窗口 (no windows)")
    seed = seed if seed is not None else secrets.randbelow(2**31)
    picks = plan_visits(seed, {k: v["weight"] for k, v in weights.items()}, days, visits)
    plan = VisitPlan(
        hall_id=hall.id,
        week_start=week_start,
        seed=seed,
        visits=visits,
        weights=weights,
        days=[d.isoformat() for d in days],
        plan=picks,
        created_at=tx.now,
        created_by_id=user_id,
    )
    session.add(plan)
    await session.flush()
    tx.audit("visit_plan.create", plan)
    return plan
