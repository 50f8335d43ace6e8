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

import secrets

from sqlalchemy import select

from ..accountability import config
from ..accountability.periods import Period, parse_period
from ..api.errors import ApiError, conflict, invalid, not_found
from ..auth.models import User
from ..auth.roles import SUPERVISOR
from ..cases.calendar import load_calendar
from ..chain import snapshot
from ..feedback.rectifications import open_for_evaluation
from ..halls.lookup import business_day
from ..halls.models import Hall
from ..transaction import Tx
from .models import (
    CATEGORIES,
    DIMENSIONS,
    MARKS,
    EvaluationMember,
    EvaluationPanel,
    EvaluationParticipation,
    EvaluationRound,
    EvaluationScore,
)
from .queries import departments_of, has_voted, members_of, panel_of, token_hash
from .ranking import ranking


def quarter(code: str) -> Period:
    """A quarter ``YYYY-Qn`` in the hall's life, else 422 ``invalid_period``."""
    period = parse_period(code)
    if "Q" not in period.code:
        raise invalid("invalid_period", "民主测评按季度进行，请选择季度 (a quarter: YYYY-Qn)")
    return period


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


async def deactivate_member(tx: Tx, member: EvaluationMember) -> EvaluationMember:
    """移出测评团: the member no longer votes (their link stops working); the record and any
    ballot already cast stay (409 ``member_inactive`` when already out)."""
    if not member.active:
        raise conflict("member_inactive", "该测评代表已移出测评团 (already off the panel)")
    before = snapshot(member)
    member.active = False
    tx.session.add(member)
    await tx.session.flush()
    tx.audit("evaluation.member", member, before=before)
    return member


async def reissue_link(tx: Tx, member: EvaluationMember) -> str:
    """重发测评链接: a new personal ballot link for a member without an account; the old link
    stops working at once. The new token is returned once (409 for an account member or a
    member off the panel)."""
    if member.user_id is not None:
        raise conflict(
            "account_member", "该代表使用监督员账号参评，没有个人测评链接 (votes with an account)"
        )
    if not member.active:
        raise conflict("member_inactive", "该测评代表已移出测评团 (off the panel)")
    before = snapshot(member)
    token = secrets.token_urlsafe(24)
    member.token_hash = token_hash(token)
    tx.session.add(member)
    await tx.session.flush()
    tx.audit("evaluation.member", member, before=before)
    return token


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
