"""Pages of the democratic evaluation (民主测评) and of the invited supervisors:

- ``/ballot/{key}``: a panel member's ballot by their personal link (a phone page);
- ``/supervise``: the supervisor's page (observations and their progress, the public
  figures, the ballot when on the panel); ``/supervise/ballot`` their ballot;
- ``/office/evaluation``: the office's panel and rounds; ``/office/evaluation/{id}/print``:
  the printable 督查情况通报 of a closed round.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..accountability.periods import parse_period
from ..api.dates import ascii_int
from ..api.errors import ApiError
from ..auth.roles import ADMIN, INSPECTOR, SUPERVISOR
from ..feedback.supervision import observations_of, observations_out
from ..halls.lookup import business_day, local_time
from ..halls.models import Hall
from ..state import app_state
from ..web.pages import N_, OFFICE_LINKS, OfficeLink, error_page, render, require_page_user
from . import models, queries
from .models import EvaluationMember, EvaluationRound
from .views import ballot_out, member_out, round_detail

OFFICE_LINKS.append(
    OfficeLink(
        "/office/evaluation",
        N_("民主测评"),
        roles=(INSPECTOR, ADMIN),
        description=N_("确定年度测评团，按季度组织对各部门的民主测评，公布排名并通报"),
    )
)

#: The words of the service (categories, dimensions, marks), marked for the catalogue.
LABEL_TEXTS = (
    *(N_("乡镇领导"), N_("投资者"), N_("企业"), N_("人大代表"), N_("政协委员"), N_("监督员")),
    *(N_("依法依规办事"), N_("服务质量"), N_("办事效率"), N_("工作作风"), N_("政令畅通")),
    *(N_("廉政勤政"), N_("好"), N_("较好"), N_("一般"), N_("差")),
)


def _current_quarter(hall: Hall, request: Request) -> str:
    today = business_day(hall, app_state(request).clock.now())
    return f"{today.year:04d}-Q{(today.month - 1) // 3 + 1}"


async def _ballot_context(
    session: AsyncSession, hall: Hall, member: EvaluationMember, endpoint: str
) -> dict[str, Any]:
    row = await queries.current_round(session, member.panel_id)
    ballot = await ballot_out(session, hall, row, member) if row is not None else None
    return {"hall": hall, "ballot": ballot, "endpoint": endpoint}


async def ballot_page(request: Request) -> Response:
    """民主测评表 by a member's personal link (no account)."""
    token = str(request.path_params["key"])
    async with app_state(request).db.read() as session:
        try:
            member = await queries.member_by_token(session, token)
        except ApiError:
            return await error_page(request, 404, N_("测评链接无效"))
        hall = await session.get(Hall, member.hall_id)
        assert hall is not None
        ctx = await _ballot_context(session, hall, member, f"/api/v1/ballot/{token}")
    return await render(request, "evaluation/ballot.html", ctx)


async def supervise_page(request: Request) -> Response:
    """监督员工作台: what the supervisor has observed and what became of it."""
    user = await require_page_user(request, roles=(SUPERVISOR,))
    if isinstance(user, Response):
        return user
    async with app_state(request).db.read() as session:
        hall = await session.get(Hall, user.hall_id)
        assert hall is not None and hall.id is not None
        rows = await observations_out(
            session, hall, await observations_of(session, hall.id, user.user_id or 0)
        )
        year = business_day(hall, app_state(request).clock.now()).year
        panel = await queries.panel_of(session, hall.id, year)
        on_panel, row, voted = False, None, False
        if panel is not None and panel.id is not None:
            try:
                member = await queries.member_by_user(session, panel.id, user.user_id or 0)
            except ApiError:
                member = None
            if member is not None and member.id is not None:
                on_panel = True
                row = await queries.current_round(session, panel.id)
                if row is not None and row.id is not None:
                    voted = await queries.has_voted(session, row.id, member.id)
        departments = await queries.departments_of(session, hall.id)
    return await render(
        request,
        "evaluation/supervise.html",
        {
            "hall": hall,
            "rows": rows,
            "on_panel": on_panel,
            "round": row,
            "voted": voted,
            "departments": departments,
        },
    )


async def supervise_ballot_page(request: Request) -> Response:
    """民主测评表 of a supervisor on the panel (signed in)."""
    user = await require_page_user(request, roles=(SUPERVISOR,))
    if isinstance(user, Response):
        return user
    async with app_state(request).db.read() as session:
        hall = await session.get(Hall, user.hall_id)
        assert hall is not None and hall.id is not None
        year = business_day(hall, app_state(request).clock.now()).year
        panel = await queries.panel_of(session, hall.id, year)
        try:
            if panel is None or panel.id is None:
                raise ApiError(403, "not_on_panel", "")
            member = await queries.member_by_user(session, panel.id, user.user_id or 0)
        except ApiError:
            return await error_page(request, 403, N_("您不是本年度测评团成员"))
        endpoint = f"/api/v1/halls/{hall.code}/evaluation/ballot"
        ctx = await _ballot_context(session, hall, member, endpoint)
    return await render(request, "evaluation/ballot.html", ctx)


async def office_page(request: Request) -> Response:
    """民主测评 (office): the year's panel and the rounds."""
    user = await require_page_user(request, roles=(INSPECTOR, ADMIN))
    if isinstance(user, Response):
        return user
    async with app_state(request).db.read() as session:
        hall = await session.get(Hall, user.hall_id)
        assert hall is not None and hall.id is not None
        quarter = _current_quarter(hall, request)
        year = ascii_int(request.query_params.get("year", "")) or int(quarter[:4])
        if not 2000 <= year <= 2100:
            return await error_page(request, 422, N_("年度无效"))
        panel = await queries.panel_of(session, hall.id, year)
        members = (
            [await member_out(session, m) for m in await queries.members_of(session, panel.id)]
            if panel is not None and panel.id is not None
            else []
        )
        rounds = [
            await round_detail(session, hall, r) for r in await queries.rounds_of(session, hall.id)
        ]
    return await render(
        request,
        "evaluation/office.html",
        {
            "hall": hall,
            "year": year,
            "quarter": quarter,
            "members": members,
            "rounds": rounds,
            "categories": models.CATEGORIES,
            "can_edit": user.role == INSPECTOR,
        },
    )


async def print_page(request: Request) -> Response:
    """督查情况通报: a closed round's ranking, printable (A4)."""
    user = await require_page_user(request, roles=(INSPECTOR, ADMIN))
    if isinstance(user, Response):
        return user
    round_id = ascii_int(request.path_params["id"])
    async with app_state(request).db.read() as session:
        row: EvaluationRound | None = None
        if round_id is not None and 0 < round_id < 2**31:
            row = await session.get(EvaluationRound, round_id)
        if row is None or row.hall_id != user.hall_id or row.status != "closed":
            return await error_page(request, 404, N_("没有这份民主测评通报"))
        hall = await session.get(Hall, row.hall_id)
        assert hall is not None and row.closed_at is not None
        detail = await round_detail(session, hall, row)
        members = await queries.members_of(session, row.panel_id)
    by_category: dict[str, int] = {}
    for m in members:
        if m.active:
            by_category[m.category] = by_category.get(m.category, 0) + 1
    return await render(
        request,
        "evaluation/print.html",
        {
            "hall": hall,
            "r": detail,
            "period": parse_period(row.period),
            "closed": local_time(hall, row.closed_at),
            "dimensions": models.DIMENSIONS,
            "categories": models.CATEGORIES,
            "by_category": by_category,
        },
    )


routes = [
    Route("/ballot/{key}", ballot_page, methods=["GET"]),
    Route("/supervise", supervise_page, methods=["GET"]),
    Route("/supervise/ballot", supervise_ballot_page, methods=["GET"]),
    Route("/office/evaluation", office_page, methods=["GET"]),
    Route("/office/evaluation/{id}/print", print_page, methods=["GET"]),
]
