"""民主测评: the ranking of a round (mean per dimension and total, ties sharing a place), what
the stars read of it (a department's place as a score) and the notice board's excerpt."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from .models import DIMENSIONS, EvaluationRound, EvaluationScore
from .queries import departments_of, rounds_of


@dataclass
class RankRow:
    department_id: int
    code: str
    name: str
    means: dict[str, float]
    total: float
    ballots: int
    rank: int = 0


async def ranking(session: AsyncSession, hall_id: int, round_id: int) -> tuple[list[RankRow], int]:
    """The mean per dimension and total of every department, best first, and the ballot count
    (ties share a place: 1, 2, 2, 4)."""
    columns = [getattr(EvaluationScore, d) for d in DIMENSIONS]
    stmt = (
        select(
            EvaluationScore.department_id,  # type: ignore[call-overload]
            func.count(),
            *(func.avg(c) for c in columns),
        )
        .where(EvaluationScore.round_id == round_id)
        .group_by(EvaluationScore.department_id)
    )
    by_dept = {r[0]: r for r in (await session.execute(stmt)).all()}
    ballots = (
        await session.execute(
            select(func.count(func.distinct(EvaluationScore.ballot))).where(  # type: ignore[arg-type]
                EvaluationScore.round_id == round_id  # type: ignore[arg-type]
            )
        )
    ).scalar_one()
    rows = []
    for dept in await departments_of(session, hall_id):
        got = by_dept.get(dept.id)
        if got is None:
            continue
        means = {d: round(float(v), 2) for d, v in zip(DIMENSIONS, got[2:], strict=True)}
        total = round(sum(float(v) for v in got[2:]) / len(DIMENSIONS), 2)
        rows.append(RankRow(dept.id or 0, dept.code, dept.name, means, total, int(got[1])))
    rows.sort(key=lambda r: (-r.total, r.code))
    for i, r in enumerate(rows):
        r.rank = rows[i - 1].rank if i and rows[i - 1].total == r.total else i + 1
    return rows, int(ballots or 0)


def results_rows(row: EvaluationRound) -> list[dict[str, Any]]:
    return list(row.results.get("rows", [])) if row.status == "closed" else []


async def place_scores(
    session: AsyncSession, hall_id: int, period_code: str
) -> dict[int, tuple[float, int]]:
    """department id → (its place as a score, the ballots) in the closed round of the quarter
    that holds ``period_code`` (a month or a quarter): the first place 100, the last 0, evenly
    between (ties share their place's score). Nothing while that round is not closed."""
    year, rest = period_code[:4], period_code[5:]
    q = rest[1] if rest.startswith("Q") else str((int(rest) - 1) // 3 + 1)
    stmt = select(EvaluationRound).where(
        EvaluationRound.hall_id == hall_id,  # type: ignore[arg-type]
        EvaluationRound.period == f"{year}-Q{q}",  # type: ignore[arg-type]
        EvaluationRound.status == "closed",  # type: ignore[arg-type]
    )
    row = (await session.execute(stmt)).scalar_one_or_none()
    if row is None:
        return {}
    rows = results_rows(row)
    ballots = int(row.results.get("ballots", 0))
    if not rows or not ballots:
        return {}
    n = len(rows)
    return {
        int(r["department_id"]): (100.0 * (n - r["rank"]) / (n - 1) if n > 1 else 100.0, ballots)
        for r in rows
    }


async def latest_ranking(session: AsyncSession, hall_id: int) -> dict[str, Any] | None:
    """The notice board's 民主测评: the last closed round's period, its first five places and
    its last place (the whole ranking is in the API and the report)."""
    for row in await rounds_of(session, hall_id):
        rows = results_rows(row)
        if rows:
            last = [r for r in rows if r["rank"] == rows[-1]["rank"]] if len(rows) > 5 else []
            return {"period": row.period, "top": rows[:5], "last": last, "count": len(rows)}
    return None
