"""Computing star ratings (星级评定) of windows, staff members and departments for a period.

The domain names five factors and four default weights (40/30/20/10). They map onto four
components, each scored 0–100:

=============  ======  ===========================================================  ===============
component      weight  raw score of a subject                                       sample size n
=============  ======  ===========================================================  ===============
satisfaction   40      mean feedback points ×10 (10/8/6/3/0 → 100/80/60/30/0);      ratings
                       voided ratings excluded
inspection     30      mean visit score as a percentage of the sheet's maximum      visits
time_limit     20      on-time share of the cases that count in the period ×100     cases
conduct        10      wait-target compliance ×100 (tickets called within the       tickets served
                       service's wait target) minus ``breach_penalty`` per           (or breaches,
                       first-responder failure or 一次性告知 breach (0 floor)          if no tickets)
=============  ======  ===========================================================  ===============

Each component is shrunk toward the hall mean by its sample size (Bayesian average):
``(n·mean + k·prior) / (n + k)``, where the prior is the hall mean (the sample-weighted mean of
all subjects of the same kind) but never more than ``prior_cap`` (default 80, the level of
"满意"): missing data are never worth more than "satisfied". So a handful of samples cannot make
a star, even in a hall whose mean is itself near the top (three 5s against three hundred
ratings averaging 4.8: 84.6 against 95.5 with only those two windows). A component nobody in
the hall has data for is left out and the remaining weights are rescaled. The score is the
weighted mean of the shrunk components; stars come from the thresholds (default 90/80/70/60).
Subjects with no data at all get no row. Settings come from ``ratings.config`` and are recorded
with each publication.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.models import User
from ..auth.roles import STAFF
from ..feedback.models import Feedback
from ..halls.models import Department, Hall, Window
from ..inspections.models import Inspection
from . import config
from .config import COMPONENTS
from .periods import Period
from .sources import case_figures

SUBJECTS = ("window", "staff", "department")


@dataclass
class Row:
    subject: str
    key: str
    name: str
    stars: int
    score: float
    components: dict[str, float | None]
    samples: dict[str, int]
    raw: dict[str, float | None]
    rank: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Acc:
    total: float = 0.0
    n: int = 0

    def add(self, value: float, n: int = 1) -> None:
        self.total += value * n
        self.n += n

    @property
    def mean(self) -> float | None:
        return self.total / self.n if self.n else None


async def _subjects(
    session: AsyncSession, hall_id: int, subject: str
) -> dict[int, tuple[str, str]]:
    """id → (key, name) of every window, staff member or department of the hall."""
    if subject == "window":
        rows = (await session.execute(select(Window).where(Window.hall_id == hall_id))).scalars()  # type: ignore[arg-type]
        return {w.id: (str(w.number), w.name or f"{w.number}号窗口") for w in rows if w.id}
    if subject == "staff":
        users = (
            await session.execute(
                select(User).where(User.hall_id == hall_id, User.role == STAFF)  # type: ignore[arg-type]
            )
        ).scalars()
        return {u.id: (u.username, u.display_name or u.username) for u in users if u.id}
    depts = (
        await session.execute(select(Department).where(Department.hall_id == hall_id))  # type: ignore[arg-type]
    ).scalars()
    return {d.id: (d.code, d.name) for d in depts if d.id}


def _subject_id(
    subject: str, window_id: int | None, staff_id: int | None, department_id: int | None
) -> int | None:
    return {"window": window_id, "staff": staff_id, "department": department_id}[subject]


async def compute(
    session: AsyncSession,
    hall: Hall,
    period: Period,
    subject: str,
    settings: config.Settings,
    now: datetime,
) -> list[Row]:
    """The live star ratings of ``subject`` in ``period``, best first."""
    assert hall.id is not None
    start, end = period.bounds(hall)
    subjects = await _subjects(session, hall.id, subject)
    by_key = {key: sid for sid, (key, _) in subjects.items()}
    acc: dict[str, dict[int, _Acc]] = {c: defaultdict(_Acc) for c in COMPONENTS}

    feedback = (
        await session.execute(
            select(Feedback).where(
                Feedback.hall_id == hall.id,  # type: ignore[arg-type]
                Feedback.voided.is_(False),  # type: ignore[attr-defined]
                Feedback.created_at >= start,  # type: ignore[arg-type, operator]
                Feedback.created_at < end,  # type: ignore[arg-type, operator]
            )
        )
    ).scalars()
    for fb in feedback:
        sid = _subject_id(subject, fb.window_id, fb.staff_id, fb.department_id)
        if sid in subjects:
            acc["satisfaction"][sid].add(fb.points * 10)

    inspections = (
        await session.execute(
            select(Inspection).where(
                Inspection.hall_id == hall.id,  # type: ignore[arg-type]
                Inspection.voided.is_(False),  # type: ignore[attr-defined]
                Inspection.visited_at >= start,  # type: ignore[arg-type, operator]
                Inspection.visited_at < end,  # type: ignore[arg-type, operator]
            )
        )
    ).scalars()
    for ins in inspections:
        sid = _subject_id(subject, ins.window_id, ins.staff_id, ins.department_id)
        if sid in subjects and ins.max_total:
            acc["inspection"][sid].add(ins.total / ins.max_total * 100)

    last_day = period.after - timedelta(days=1)
    figures = await case_figures(session, hall.id, period.first, last_day, subject, now)
    for key, fig in figures.items():
        sid = by_key.get(key)
        if sid is None:
            continue
        if fig.cases:
            acc["time_limit"][sid].add(fig.on_time / fig.cases * 100, fig.cases)
        if fig.tickets or fig.breaches:
            base = (fig.tickets - fig.wait_breaches) / fig.tickets * 100 if fig.tickets else 100.0
            value = max(0.0, base - settings.breach_penalty * fig.breaches)
            acc["conduct"][sid].add(value, fig.tickets or fig.breaches)

    hall_means: dict[str, float | None] = {}
    for component in COMPONENTS:
        pooled = _Acc()
        for a in acc[component].values():
            pooled.total += a.total
            pooled.n += a.n
        hall_means[component] = pooled.mean

    weights = settings.weights.model_dump()
    k = settings.shrink_k
    rows: list[Row] = []
    for sid, (key, name) in subjects.items():
        samples = {c: acc[c][sid].n if sid in acc[c] else 0 for c in COMPONENTS}
        if not any(samples.values()):
            continue
        components: dict[str, float | None] = {}
        raw: dict[str, float | None] = {}
        weighted = 0.0
        weight_sum = 0.0
        for c in COMPONENTS:
            hall_mean = hall_means[c]
            got = acc[c].get(sid)
            raw[c] = round(got.mean, 2) if got is not None and got.mean is not None else None
            if hall_mean is None:
                components[c] = None
                continue
            n = got.n if got is not None else 0
            total = got.total if got is not None else 0.0
            prior = min(hall_mean, settings.prior_cap)
            shrunk = (total + k * prior) / (n + k) if (n + k) > 0 else prior
            components[c] = round(shrunk, 2)
            weighted += weights[c] * shrunk
            weight_sum += weights[c]
        score = round(weighted / weight_sum, 2) if weight_sum else 0.0
        rows.append(
            Row(
                subject=subject,
                key=key,
                name=name,
                stars=settings.stars_for(score),
                score=score,
                components=components,
                samples=samples,
                raw=raw,
                extra={"hall_means": {c: _round(v) for c, v in hall_means.items()}},
            )
        )
    rows.sort(key=lambda r: (-r.score, -sum(r.samples.values()), r.key))
    for rank, row in enumerate(rows, start=1):
        row.rank = rank
    return rows


def _round(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None
