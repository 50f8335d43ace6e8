"""民主测评: the rules of the democratic evaluation of departments.

The office fixes a panel per year (about 100 people: 乡镇领导, 投资者, 企业, 人大代表, 政协委员,
监督员). Each quarter it opens a round; every member rates every department of the hall once on
the six dimensions (依法依规办事, 服务质量, 办事效率, 工作作风, 政令畅通, 廉政勤政) with one of four
marks (好 100, 较好 80, 一般 60, 差 40). A second ballot of the same member in the same round is
refused (409 ``already_voted``). Ballots are anonymous to the departments (see ``models``).
The office closes the round: the ranking (mean per dimension and total, the total being the mean
of the six) is computed, frozen in the round and published; the last place opens a
rectification (整改, kind ``evaluation``) for its department.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..accountability import config
from ..accountability.periods import Period, parse_period
from ..api.errors import ApiError, conflict, invalid, not_found
from ..auth.models import User
from ..auth.roles import SUPERVISOR
from ..cases.calendar import load_calendar
from ..chain import snapshot
from ..feedback.rectifications import open_for_evaluation
from ..halls.lookup import business_day
from ..halls.models import Department, Hall
from ..transaction import Tx
from .models import (
    EvaluationMember,
    EvaluationPanel,
    EvaluationParticipation,
    EvaluationRound,
    EvaluationScore,
)

#: The categories of a panel's members (测评代表类别), Chinese source text.
CATEGORIES: Final = {
    "township": "乡镇领导",
    "investor": "投资者",
    "enterprise": "企业",
    "deputy": "人大代表",
    "cppcc": "政协委员",
    "supervisor": "监督员",
}
#: The six dimensions of the domain page (测评内容), in the order of the ballot.
DIMENSIONS: Final = {
    "lawful": "依法依规办事",
    "quality": "服务质量",
    "efficiency": "办事效率",
    "conduct": "工作作风",
    "command": "政令畅通",
    "integrity": "廉政勤政",
}
#: The marks a member gives per dimension, best first.
MARKS: Final = {100: "好", 80: "较好", 60: "一般", 40: "差"}


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def quarter(code: str) -> Period:
    """A quarter ``YYYY-Qn`` in the hall's life, else 422 ``invalid_period``."""
    period = parse_period(code)
    if "Q" not in period.code:
        raise invalid("invalid_period", "民主测评按季度进行，请选择季度 (a quarter: YYYY-Qn)")
    return period


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


async def add_member(
    tx: Tx,
    hall: Hall,
    *,
    year: int,
    name: str,
    category: str,
    affiliation: str = "",
    username: str | None = None,
) -> tuple[EvaluationMember, str | None]:
    """Add a member to the year's panel (the panel is made with its first member). A member is
    a supervisor's account of the hall, or gets a personal ballot token (returned once)."""
    assert hall.id is not None
    if category not in CATEGORIES:
        raise invalid(
            "invalid_category", "测评代表类别无效 (category: " + ", ".join(CATEGORIES) + ")"
        )
    session = tx.session
    panel = await panel_of(session, hall.id, year)
    if panel is None:
        panel = EvaluationPanel(hall_id=hall.id, year=year, created_at=tx.now)
        session.add(panel)
        await session.flush()
        tx.audit("evaluation.panel", panel)
    assert panel.id is not None
    user_id, token = None, None
    if username is not None:
        user = (
            await session.execute(
                select(User).where(User.hall_id == hall.id, User.username == username)  # type: ignore[arg-type]
            )
        ).scalar_one_or_none()
        if user is None or user.role != SUPERVISOR:
            raise not_found(
                "supervisor", "本大厅没有这名特邀监督员账号 (no such supervisor account)"
            )
        taken = (
            await session.execute(
                select(EvaluationMember.id).where(  # type: ignore[call-overload]
                    EvaluationMember.panel_id == panel.id, EvaluationMember.user_id == user.id
                )
            )
        ).first()
        if taken is not None:
            raise conflict("already_member", "该账号已在本年度测评团中 (already on the panel)")
        user_id = user.id
    else:
        token = secrets.token_urlsafe(24)
    member = EvaluationMember(
        panel_id=panel.id,
        hall_id=hall.id,
        name=name,
        category=category,
        affiliation=affiliation,
        user_id=user_id,
        token_hash=token_hash(token) if token else None,
        created_at=tx.now,
    )
    session.add(member)
    await session.flush()
    tx.audit("evaluation.member", member)
    return member, token


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


async def open_round(tx: Tx, hall: Hall, period: Period) -> EvaluationRound:
    """开启测评: a quarter's round, for the panel of its year (409 if it exists or no panel)."""
    assert hall.id is not None
    session = tx.session
    exists = (
        await session.execute(
            select(EvaluationRound.id).where(  # type: ignore[call-overload]
                EvaluationRound.hall_id == hall.id, EvaluationRound.period == period.code
            )
        )
    ).first()
    if exists is not None:
        raise conflict("round_exists", "该季度的民主测评已开启 (this quarter already has a round)")
    panel = await panel_of(session, hall.id, period.first.year)
    members = (
        [m for m in await members_of(session, panel.id) if m.active] if panel and panel.id else []
    )
    if panel is None or panel.id is None or not members:
        raise conflict(
            "no_panel", "请先确定本年度测评团成员 (fix the year's panel before opening a round)"
        )
    row = EvaluationRound(hall_id=hall.id, panel_id=panel.id, period=period.code, opened_at=tx.now)
    session.add(row)
    await session.flush()
    tx.audit("evaluation.open", row)
    tx.emit("office.evaluation", id=row.id, change="opened", period=period.code)
    return row


async def member_by_token(session: AsyncSession, token: str) -> EvaluationMember:
    if not token or len(token) > 128:
        raise not_found("ballot", "测评链接无效 (unknown ballot link)")
    stmt = select(EvaluationMember).where(EvaluationMember.token_hash == token_hash(token))  # type: ignore[arg-type]
    member = (await session.execute(stmt)).scalar_one_or_none()
    if member is None or not member.active:
        raise not_found("ballot", "测评链接无效 (unknown ballot link)")
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


async def cast(
    tx: Tx,
    hall: Hall,
    row: EvaluationRound,
    member: EvaluationMember,
    marks: dict[str, dict[str, int]],
) -> None:
    """投票: a member's ballot, every department × every dimension; once per round."""
    assert hall.id is not None and row.id is not None and member.id is not None
    if row.status != "open":
        raise conflict("round_closed", "本轮民主测评已结束 (the round is closed)")
    if member.panel_id != row.panel_id or not member.active:
        raise ApiError(403, "not_on_panel", "您不是本轮测评团成员 (not on this round's panel)")
    session = tx.session
    if await has_voted(session, row.id, member.id):
        raise conflict("already_voted", "您已参加本季度民主测评，不能重复投票 (already voted)")
    departments = await departments_of(session, hall.id)
    codes = {d.code for d in departments}
    missing = sorted(codes - set(marks))
    unknown = sorted(set(marks) - codes)
    if unknown:
        raise invalid(
            "unknown_department", f"没有这些部门：{'、'.join(unknown)} (unknown departments)"
        )
    if missing:
        raise invalid(
            "incomplete_ballot",
            f"请为每个部门评分，尚缺 {len(missing)} 个部门 (every department must be rated)",
        )
    for code, given in marks.items():
        if set(given) != set(DIMENSIONS) or any(v not in MARKS for v in given.values()):
            raise invalid(
                "incomplete_ballot",
                f"部门 {code} 须在六个方面各选一项：好、较好、一般、差 "
                "(each of the six dimensions: 100, 80, 60 or 40)",
            )
    participation = EvaluationParticipation(round_id=row.id, member_id=member.id, voted_at=tx.now)
    session.add(participation)
    await session.flush()  # a concurrent second ballot fails here (primary key)
    ballot = secrets.token_hex(16)
    for dept in departments:
        session.add(
            EvaluationScore(
                round_id=row.id, ballot=ballot, department_id=dept.id or 0, **marks[dept.code]
            )
        )
    await session.flush()
    # Who took part is audited; what they gave is not tied to them anywhere.
    tx.audit("evaluation.vote", participation)
    tx.emit("office.evaluation", id=row.id, change="voted")


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


async def close(tx: Tx, hall: Hall, row: EvaluationRound) -> EvaluationRound:
    """结束测评: compute and freeze the ranking (published with the round); the last place
    opens a rectification for its department."""
    assert hall.id is not None and row.id is not None
    if row.status != "open":
        raise conflict("round_closed", "本轮民主测评已结束 (the round is already closed)")
    session = tx.session
    before = snapshot(row)
    rows, ballots = await ranking(session, hall.id, row.id)
    members = [m for m in await members_of(session, row.panel_id) if m.active]
    row.status = "closed"
    row.closed_at = tx.now
    row.results = {
        "ballots": ballots,
        "members": len(members),
        "rows": [
            {
                "department_id": r.department_id,
                "code": r.code,
                "name": r.name,
                "means": r.means,
                "total": r.total,
                "rank": r.rank,
            }
            for r in rows
        ],
    }
    tx.audit("evaluation.close", row, before=before)
    last = [r for r in rows if rows and r.rank == rows[-1].rank and len(rows) > 1]
    if ballots and last and last[0].rank > 1:
        settings, _ = await config.current(session, hall.id)
        calendar = await load_calendar(session, hall.id)
        due = calendar.add_working_days(business_day(hall, tx.now), settings.rectification_days)
        for r in last:
            await open_for_evaluation(tx, department_id=r.department_id, due=due)
    tx.emit("office.evaluation", id=row.id, change="closed", period=row.period)
    return row


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
