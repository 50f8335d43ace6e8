"""HTTP endpoints of the democratic evaluation (民主测评): the office's panel and rounds, the
members' ballots (a supervisor's account or a personal link), the published ranking."""

from __future__ import annotations

from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..api.endpoint import PUBLIC, ApiRequest, ApiRouter
from ..api.errors import conflict, not_found
from ..api.scope import HALL, Scope
from ..auth.roles import ADMIN, INSPECTOR, SUPERVISOR
from ..halls.lookup import business_day, get_hall, own_hall
from ..halls.models import Hall
from ..transaction import Actor
from . import queries, service
from .models import EvaluationMember, EvaluationRound
from .schemas import (
    BallotIn,
    BallotOut,
    MemberIn,
    MemberOut,
    RoundDetailOut,
    RoundIn,
    RoundOut,
    VotedOut,
)
from .views import ballot_out, member_out, round_detail, round_out

router = ApiRouter("evaluation")
ROUND = Scope("hall", "民主测评", "evaluation round")
MEMBER = Scope("hall", "测评代表", "panel member")
OFFICE = (INSPECTOR, ADMIN)
ALREADY = ("already_voted", "您已参加本季度民主测评，不能重复投票 (already voted)")


@router.route(
    "POST",
    "/halls/{hall}/evaluation/members",
    roles=[INSPECTOR],
    body=MemberIn,
    response=MemberOut,
    status=201,
    extra_statuses=(404, 409, 422),
    scope=HALL,
)
async def add_member(api: ApiRequest[MemberIn]) -> MemberOut:
    """确定测评团: add a member to the year's panel (a supervisor's account, or a personal
    ballot link returned once in ``ballot_url``)."""
    body = api.body
    async with api.state.db.write() as session:
        hall = await own_hall(api, session)
        tx = api.tx(session, hall.id or 0)
        member, token = await service.add_member(
            tx,
            hall,
            year=body.year,
            name=body.name,
            category=body.category,
            affiliation=body.affiliation,
            username=body.username,
        )
        await tx.commit()
        return await member_out(session, member, token)


@router.route(
    "GET",
    "/halls/{hall}/evaluation/members/{year:int}",
    roles=OFFICE,
    response=list[MemberOut],
    extra_statuses=(404,),
    scope=HALL,
)
async def list_members(api: ApiRequest) -> list[MemberOut]:
    """The year's panel (测评团), by category."""
    async with api.state.db.read() as session:
        hall = await own_hall(api, session)
        panel = await queries.panel_of(session, hall.id or 0, int(api.path["year"]))
        if panel is None or panel.id is None:
            return []
        return [await member_out(session, m) for m in await queries.members_of(session, panel.id)]


async def _member_step(api: ApiRequest[Any, Any], step: str) -> MemberOut:
    async with api.state.db.write() as session:
        member = api.own(await queries.get_member(session, int(api.path["id"])))
        tx = api.tx(session, member.hall_id)
        token = None
        if step == "deactivate":
            await service.deactivate_member(tx, member)
        else:
            token = await service.reissue_link(tx, member)
        await tx.commit()
        return await member_out(session, member, token)


@router.route(
    "POST",
    "/evaluation/members/{id:int}/deactivate",
    roles=[INSPECTOR],
    response=MemberOut,
    extra_statuses=(404, 409),
    scope=MEMBER,
)
async def deactivate_member(api: ApiRequest) -> MemberOut:
    """移出测评团: the member no longer votes and their link stops working; the member and any
    ballot already cast stay (409 ``member_inactive`` once out)."""
    return await _member_step(api, "deactivate")


@router.route(
    "POST",
    "/evaluation/members/{id:int}/ballot-link",
    roles=[INSPECTOR],
    response=MemberOut,
    extra_statuses=(404, 409),
    scope=MEMBER,
)
async def reissue_ballot_link(api: ApiRequest) -> MemberOut:
    """重发测评链接: a new personal link in ``ballot_url`` (shown once); the old one stops
    working (409 ``account_member`` for a supervisor's account)."""
    return await _member_step(api, "reissue")


@router.route(
    "POST",
    "/halls/{hall}/evaluation/rounds",
    roles=[INSPECTOR],
    body=RoundIn,
    response=RoundOut,
    status=201,
    extra_statuses=(404, 409, 422),
    scope=HALL,
)
async def open_round(api: ApiRequest[RoundIn]) -> RoundOut:
    """开启测评: open a quarter's round for the year's panel (409 if it exists or no panel)."""
    async with api.state.db.write() as session:
        hall = await own_hall(api, session)
        tx = api.tx(session, hall.id or 0)
        try:
            row = await service.open_round(tx, hall, service.quarter(api.body.period))
            await tx.commit()
        except IntegrityError as exc:
            raise conflict("round_exists", "该季度的民主测评已开启 (round exists)") from exc
        return await round_out(session, hall, row)


@router.route(
    "GET",
    "/halls/{hall}/evaluation/rounds",
    roles=OFFICE,
    response=list[RoundOut],
    extra_statuses=(404,),
    scope=HALL,
)
async def list_rounds(api: ApiRequest) -> list[RoundOut]:
    """The hall's rounds, newest quarter first, with how many have voted."""
    async with api.state.db.read() as session:
        hall = await own_hall(api, session)
        return [
            await round_out(session, hall, r)
            for r in await queries.rounds_of(session, hall.id or 0)
        ]


async def _round(api: ApiRequest[Any, Any], session: AsyncSession) -> tuple[Hall, EvaluationRound]:
    row = api.own(await queries.get_round(session, int(api.path["id"])))
    hall = await session.get(Hall, row.hall_id)
    assert hall is not None
    return hall, row


@router.route(
    "GET",
    "/evaluation/rounds/{id:int}",
    roles=OFFICE,
    response=RoundDetailOut,
    extra_statuses=(404,),
    scope=ROUND,
)
async def get_round(api: ApiRequest) -> RoundDetailOut:
    """A round: who has voted (never what), and the ranking once closed."""
    async with api.state.db.read() as session:
        hall, row = await _round(api, session)
        return await round_detail(session, hall, row)


@router.route(
    "POST",
    "/evaluation/rounds/{id:int}/close",
    roles=[INSPECTOR],
    response=RoundDetailOut,
    extra_statuses=(404, 409),
    scope=ROUND,
)
async def close_round(api: ApiRequest) -> RoundDetailOut:
    """结束测评: close the round; the ranking is computed, frozen and published, and the last
    place opens a rectification (409 once closed)."""
    async with api.state.db.write() as session:
        hall, row = await _round(api, session)
        tx = api.tx(session, hall.id or 0)
        await service.close(tx, hall, row)
        await tx.commit()
        return await round_detail(session, hall, row)


@router.route(
    "GET",
    "/halls/{hall}/evaluation/results",
    roles=[PUBLIC],
    response=list[RoundOut],
    extra_statuses=(404,),
)
async def published(api: ApiRequest) -> list[RoundOut]:
    """民主测评结果 (public): the ranking of every closed round, newest quarter first."""
    async with api.state.db.read() as session:
        hall = await get_hall(session, api.path["hall"])
        rows = [r for r in await queries.rounds_of(session, hall.id or 0) if r.status == "closed"]
        return [await round_out(session, hall, r) for r in rows]


# -- ballots ----------------------------------------------------------------------------------


async def _member_round(
    session: AsyncSession, hall: Hall, member: EvaluationMember
) -> EvaluationRound:
    row = await queries.current_round(session, member.panel_id)
    if row is None:
        raise not_found("evaluation_round", "目前没有进行中的民主测评 (no round is open)")
    return row


async def _cast(
    api: ApiRequest[BallotIn],
    hall: Hall,
    member: EvaluationMember,
    session: AsyncSession,
    actor: Actor | None,
) -> VotedOut:
    row = await _member_round(session, hall, member)
    tx = api.tx(session, hall.id or 0, actor=actor)
    marks = {code: m.model_dump() for code, m in api.body.marks.items()}
    try:
        await service.cast(tx, hall, row, member, marks)
        await tx.commit()
    except IntegrityError as exc:  # the same member's ballot at the same moment
        raise conflict(*ALREADY) from exc
    return VotedOut(period=row.period, voted=True)


@router.route("GET", "/ballot/{key}", roles=[PUBLIC], response=BallotOut, extra_statuses=(404,))
async def ballot_by_link(api: ApiRequest) -> BallotOut:
    """A member's ballot by their personal link: the open round and every department."""
    async with api.state.db.read() as session:
        member = await queries.member_by_token(session, api.path["key"])
        hall = await session.get(Hall, member.hall_id)
        assert hall is not None
        return await ballot_out(session, hall, await _member_round(session, hall, member), member)


@router.route(
    "POST",
    "/ballot/{key}",
    roles=[PUBLIC],
    body=BallotIn,
    response=VotedOut,
    status=201,
    extra_statuses=(404, 409, 422),
)
async def vote_by_link(api: ApiRequest[BallotIn]) -> VotedOut:
    """投票 by the personal link: once per round (a second ballot is 409 ``already_voted``)."""
    async with api.state.db.write() as session:
        member = await queries.member_by_token(session, api.path["key"])
        hall = await session.get(Hall, member.hall_id)
        assert hall is not None
        return await _cast(api, hall, member, session, Actor(f"panel:{member.id}"))


async def _supervisor_member(
    api: ApiRequest[Any, Any], session: AsyncSession
) -> tuple[Hall, EvaluationMember]:
    hall = await own_hall(api, session)
    year = business_day(hall, api.state.clock.now()).year
    panel = await queries.panel_of(session, hall.id or 0, year)
    if panel is None or panel.id is None:
        raise not_found("evaluation_panel", "本年度尚未确定测评团 (no panel this year)")
    return hall, await queries.member_by_user(session, panel.id, api.principal.user_id or 0)


@router.route(
    "GET",
    "/halls/{hall}/evaluation/ballot",
    roles=[SUPERVISOR],
    response=BallotOut,
    extra_statuses=(404,),
    scope=HALL,
)
async def my_ballot(api: ApiRequest) -> BallotOut:
    """A supervisor's ballot, when they are on this year's panel."""
    async with api.state.db.read() as session:
        hall, member = await _supervisor_member(api, session)
        return await ballot_out(session, hall, await _member_round(session, hall, member), member)


@router.route(
    "POST",
    "/halls/{hall}/evaluation/ballot",
    roles=[SUPERVISOR],
    body=BallotIn,
    response=VotedOut,
    status=201,
    extra_statuses=(404, 409, 422),
    scope=HALL,
)
async def my_vote(api: ApiRequest[BallotIn]) -> VotedOut:
    """投票 as a supervisor on the panel: once per round (409 ``already_voted``)."""
    async with api.state.db.write() as session:
        hall, member = await _supervisor_member(api, session)
        return await _cast(api, hall, member, session, None)
