"""民主测评: what the rules and pages read (panels, members, rounds, who has voted)."""

from __future__ import annotations

import hashlib

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.errors import ApiError, not_found
from ..halls.models import Department
from .models import EvaluationMember, EvaluationPanel, EvaluationParticipation, EvaluationRound


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def departments_of(session: AsyncSession, hall_id: int) -> list[Department]:
    """Every department of the hall, in the order of the ballot and the report."""
    stmt = select(Department).where(Department.hall_id == hall_id).order_by(Department.id)  # type: ignore[arg-type]
    return list((await session.execute(stmt)).scalars())


async def panel_of(session: AsyncSession, hall_id: int, year: int) -> EvaluationPanel | None:
    stmt = select(EvaluationPanel).where(
        EvaluationPanel.hall_id == hall_id,  # type: ignore[arg-type]
        EvaluationPanel.year == year,  # type: ignore[arg-type]
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def members_of(session: AsyncSession, panel_id: int) -> list[EvaluationMember]:
    stmt = (
        select(EvaluationMember)
        .where(EvaluationMember.panel_id == panel_id)  # type: ignore[arg-type]
        .order_by(EvaluationMember.id)  # type: ignore[arg-type]
    )
    return list((await session.execute(stmt)).scalars())


async def get_round(session: AsyncSession, round_id: int) -> EvaluationRound:
    row = await session.get(EvaluationRound, round_id) if 0 < round_id < 2**31 else None
    if row is None:
        raise not_found("evaluation_round", "没有这一轮民主测评 (no such evaluation round)")
    return row


async def rounds_of(session: AsyncSession, hall_id: int) -> list[EvaluationRound]:
    stmt = (
        select(EvaluationRound)
        .where(EvaluationRound.hall_id == hall_id)  # type: ignore[arg-type]
        .order_by(EvaluationRound.period.desc())  # type: ignore[attr-defined]
    )
    return list((await session.execute(stmt)).scalars())


async def member_by_token(session: AsyncSession, token: str) -> EvaluationMember:
    if not token or len(token) > 128:
        raise not_found("ballot", "测评链接无效 (unknown ballot link)")
    stmt = select(EvaluationMember).where(EvaluationMember.token_hash == token_hash(token))  # type: ignore[arg-type]
    member = (await session.execute(stmt)).scalar_one_or_none()
    if member is None or not member.active:
        raise not_found("ballot", "测评链接无效 (unknown ballot link)")
    return member


async def get_member(session: AsyncSession, member_id: int) -> EvaluationMember:
    member = await session.get(EvaluationMember, member_id) if 0 < member_id < 2**31 else None
    if member is None:
        raise not_found("evaluation_member", "没有这名测评代表 (no such panel member)")
    return member


async def member_by_user(session: AsyncSession, panel_id: int, user_id: int) -> EvaluationMember:
    stmt = select(EvaluationMember).where(
        EvaluationMember.panel_id == panel_id,  # type: ignore[arg-type]
        EvaluationMember.user_id == user_id,  # type: ignore[arg-type]
    )
    member = (await session.execute(stmt)).scalar_one_or_none()
    if member is None or not member.active:
        raise ApiError(403, "not_on_panel", "您不是本年度测评团成员 (not on this year's panel)")
    return member


async def current_round(session: AsyncSession, panel_id: int) -> EvaluationRound | None:
    """The round of the panel that is open now (the latest quarter's)."""
    stmt = (
        select(EvaluationRound)
        .where(EvaluationRound.panel_id == panel_id, EvaluationRound.status == "open")  # type: ignore[arg-type]
        .order_by(EvaluationRound.period.desc())  # type: ignore[attr-defined]
        .limit(1)
    )
    return (await session.execute(stmt)).scalar_one_or_none()


async def has_voted(session: AsyncSession, round_id: int, member_id: int) -> bool:
    return await session.get(EvaluationParticipation, (round_id, member_id)) is not None
