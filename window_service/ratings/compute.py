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

Each component is computed from the subject's own data only: a component the subject has no
data of its own for is left out and the remaining weights are re-normalised; it is never filled
with the hall mean or with another subject's inspection. A component with data is shrunk toward
the hall mean by its sample size (Bayesian average): ``(n·mean + k·prior) / (n + k)``, where the
prior is the hall mean (the sample-weighted mean of all subjects of the same kind) but never more
than ``prior_cap`` (default 80, the level of "满意"). So a handful of samples cannot make a star,
even in a hall whose mean is itself near the top (three 5s against three hundred ratings
averaging 4.8: 84.6 against 95.5 with only those two windows). The score is the weighted mean of
the subject's shrunk components; stars come from the thresholds (default 90/80/70/60).

Minimum evidence (domain page, "Fair verdicts"): a subject gets a score and stars only with
``min_services`` finished services and ``min_ratings`` ratings, or ``min_inspections`` inspections
of its own; below that the row has ``stars``/``score`` None, the reason 样本不足 and the counts
(``samples``: per component, plus ``services``, ``ratings``, ``inspections``).

Ratings that are voided, or flagged as suspicious and not yet confirmed by the office (held),
count nowhere. Each row also carries the evidence a black-list place needs (``evidence``):
substantiated 差评 (bad ratings neither voided nor held), failed inspections (below the
inspection threshold) and breaches (一次性告知 and first-responder failures).
Subjects with no data at all get no row. Settings come from ``accountability.config`` and are
recorded with each publication.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accountability import config
from ..accountability.config import COMPONENTS
from ..accountability.periods import Period
from ..auth.models import User
from ..auth.roles import STAFF
from ..evaluation.ranking import place_scores
from ..feedback.models import Feedback, counted
from ..figures import case_figures
from ..halls.models import Department, Hall, Service, Window
from ..inspections.models import Inspection
from ..queue.models import Ticket
from ..queue.rules import DONE

SUBJECTS = ("window", "staff", "department")
#: Why a subject has no star: too little evidence, or no data under a positive weight.
INSUFFICIENT = "样本不足"
NOTHING_WEIGHTED = "无计分数据"
EVIDENCE = ("bad_ratings", "failed_inspections", "breaches")


@dataclass
class Row:
    subject: str
    key: str
    name: str
    #: None: not enough evidence for a verdict (``reason`` says why).
    stars: int | None
    score: float | None
    components: dict[str, float | None]
    samples: dict[str, int]
    raw: dict[str, float | None]
    rank: int = 0
    reason: str = ""
    evidence: dict[str, int] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def has_evidence_against(self) -> bool:
        """A substantiated 差评, a failed inspection or a breach in the period (黑榜 needs one)."""
        return any(self.evidence.get(k, 0) > 0 for k in EVIDENCE)


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
    weights = settings.weights.model_dump()
    # 民主测评 counts for departments, once the office gives it a weight (default 0).
    used = (
        (*COMPONENTS, "evaluation")
        if subject == "department" and weights["evaluation"]
        else COMPONENTS
    )
    acc: dict[str, dict[int, _Acc]] = {c: defaultdict(_Acc) for c in used}
    evidence: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(EVIDENCE, 0))
    services: dict[int, int] = defaultdict(int)

    # The columns the ratings read, not whole rows: a hall-quarter holds tens of thousands
    # of ratings, and a mapped object each cost seconds of the stars (bench/province.py).
    feedback = (
        await session.execute(
            select(  # type: ignore[call-overload]
                Feedback.window_id,
                Feedback.staff_id,
                Feedback.department_id,
                Feedback.points,
                Feedback.rating,
            ).where(
                Feedback.hall_id == hall.id,
                counted(),
                Feedback.created_at >= start,
                Feedback.created_at < end,
            )
        )
    ).all()
    for fb in feedback:
        sid = _subject_id(subject, fb.window_id, fb.staff_id, fb.department_id)
        if sid in subjects:
            acc["satisfaction"][sid].add(fb.points * 10)
            if fb.rating <= 2:
                evidence[sid]["bad_ratings"] += 1

    # Finished services counted in the database per window · staff member · department.
    finished = (
        await session.execute(
            select(Ticket.window_id, Ticket.staff_id, Service.department_id, func.count())  # type: ignore[call-overload]
            .join(Service, Service.id == Ticket.service_id)
            .where(
                Ticket.hall_id == hall.id,
                Ticket.status == DONE,
                # Tickets of the period's hall days (as the cases figures count them).
                Ticket.business_day >= period.first,
                Ticket.business_day < period.after,
            )
            .group_by(Ticket.window_id, Ticket.staff_id, Service.department_id)
        )
    ).all()
    for window_id, staff_id, department_id, count in finished:
        sid = _subject_id(subject, window_id, staff_id, department_id)
        if sid in subjects:
            services[sid] += count

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
            percent = ins.total / ins.max_total * 100
            acc["inspection"][sid].add(percent)
            if percent < settings.inspection_threshold:
                evidence[sid]["failed_inspections"] += 1

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
        if fig.breaches:
            evidence[sid]["breaches"] += fig.breaches

    if "evaluation" in used:
        for sid, (place, ballots) in (await place_scores(session, hall.id, period.code)).items():
            if sid in subjects:
                acc["evaluation"][sid].add(place, ballots)

    hall_means: dict[str, float | None] = {}
    for component in used:
        pooled = _Acc()
        for a in acc[component].values():
            pooled.total += a.total
            pooled.n += a.n
        hall_means[component] = pooled.mean

    k = settings.shrink_k
    rows: list[Row] = []
    for sid, (key, name) in subjects.items():
        samples = {c: acc[c][sid].n if sid in acc[c] else 0 for c in used}
        if not any(samples.values()) and not services.get(sid):
            continue
        components: dict[str, float | None] = {}
        raw: dict[str, float | None] = {}
        weighted = 0.0
        weight_sum = 0.0
        for c in used:
            hall_mean = hall_means[c]
            got = acc[c].get(sid)
            if got is None or not got.n or hall_mean is None:
                # No data of its own: left out (weights re-normalised), never filled in.
                raw[c] = None
                components[c] = None
                continue
            raw[c] = round(got.total / got.n, 2)
            prior = min(hall_mean, settings.prior_cap)
            shrunk = (got.total + k * prior) / (got.n + k)
            components[c] = round(shrunk, 2)
            weighted += weights[c] * shrunk
            weight_sum += weights[c]
        counts = {
            "services": services.get(sid, 0),
            "ratings": samples["satisfaction"],
            "inspections": samples["inspection"],
        }
        enough = (
            counts["services"] >= settings.min_services
            and counts["ratings"] >= settings.min_ratings
        ) or counts["inspections"] >= settings.min_inspections
        score = round(weighted / weight_sum, 2) if enough and weight_sum else None
        rows.append(
            Row(
                subject=subject,
                key=key,
                name=name,
                stars=settings.stars_for(score) if score is not None else None,
                score=score,
                components=components,
                samples={**samples, **counts},
                raw=raw,
                reason=""
                if score is not None
                else INSUFFICIENT
                if not enough
                else NOTHING_WEIGHTED,
                evidence=dict(evidence[sid]) if sid in evidence else dict.fromkeys(EVIDENCE, 0),
                extra={"hall_means": {c: _round(v) for c, v in hall_means.items()}},
            )
        )
    rows.sort(
        key=lambda r: (
            r.score is None,
            -(r.score or 0.0),
            -sum(r.samples.get(c, 0) for c in COMPONENTS),
            r.key,
        )
    )
    rank = 0
    for row in rows:
        if row.score is not None:
            rank += 1
            row.rank = rank
    return rows


def _round(value: float | None) -> float | None:
    return round(value, 2) if value is not None else None
