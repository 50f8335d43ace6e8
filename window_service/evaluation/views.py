"""The answers of the democratic evaluation (民主测评), built from its rows."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accountability.periods import parse_period
from ..auth.models import User
from ..halls.lookup import local_time
from ..halls.models import Hall
from . import models, queries, ranking
from .models import EvaluationMember, EvaluationPanel, EvaluationParticipation, EvaluationRound
from .schemas import (
    BallotDepartment,
    BallotOut,
    MemberOut,
    RankOut,
    RoundDetailOut,
    RoundOut,
    VoterOut,
)


def iso(hall: Hall, at: datetime | None) -> str | None:
    return local_time(hall, at).isoformat() if at is not None else None


async def member_out(
    session: AsyncSession, member: EvaluationMember, token: str | None = None
) -> MemberOut:
    panel = await session.get(EvaluationPanel, member.panel_id)
    user = await session.get(User, member.user_id) if member.user_id else None
    assert panel is not None and member.id is not None
    return MemberOut(
        id=member.id,
        year=panel.year,
        name=member.name,
        category=member.category,
        category_label=models.CATEGORIES[member.category],
        affiliation=member.affiliation,
        username=user.username if user else None,
        active=member.active,
        ballot_url=f"/ballot/{token}" if token else None,
    )


def ranking_out(row: EvaluationRound) -> list[RankOut]:
    return [
        RankOut(
            rank=r["rank"],
            department=r["code"],
            department_name=r["name"],
            means=r["means"],
            total=r["total"],
        )
        for r in ranking.results_rows(row)
    ]


async def round_out(session: AsyncSession, hall: Hall, row: EvaluationRound) -> RoundOut:
    assert row.id is not None
    members = [m for m in await queries.members_of(session, row.panel_id) if m.active]
    voted = (
        await session.execute(
            select(func.count()).where(EvaluationParticipation.round_id == row.id)  # type: ignore[arg-type]
        )
    ).scalar_one()
    return RoundOut(
        id=row.id,
        period=row.period,
        status=row.status,
        opened_at=iso(hall, row.opened_at) or "",
        closed_at=iso(hall, row.closed_at),
        members=len(members),
        voted=int(voted),
        ballots=int(row.results.get("ballots", voted)),
        ranking=ranking_out(row),
    )


async def round_detail(session: AsyncSession, hall: Hall, row: EvaluationRound) -> RoundDetailOut:
    base = await round_out(session, hall, row)
    voted = set(
        (
            await session.execute(
                select(EvaluationParticipation.member_id).where(  # type: ignore[call-overload]
                    EvaluationParticipation.round_id == row.id
                )
            )
        ).scalars()
    )
    voters = [
        VoterOut(
            member=m.id or 0,
            name=m.name,
            category_label=models.CATEGORIES[m.category],
            voted=m.id in voted,
        )
        for m in await queries.members_of(session, row.panel_id)
        if m.active
    ]
    return RoundDetailOut(**base.model_dump(), voters=voters)


async def ballot_out(
    session: AsyncSession, hall: Hall, row: EvaluationRound, member: EvaluationMember
) -> BallotOut:
    assert hall.id is not None and row.id is not None and member.id is not None
    return BallotOut(
        hall=hall.name,
        period=row.period,
        period_label=parse_period(row.period).label,
        open=row.status == "open",
        voted=await queries.has_voted(session, row.id, member.id),
        member=member.name,
        departments=[
            BallotDepartment(code=d.code, name=d.name)
            for d in await queries.departments_of(session, hall.id)
        ],
        dimensions=dict(models.DIMENSIONS),
        marks={str(k): v for k, v in models.MARKS.items()},
    )
