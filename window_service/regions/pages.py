"""The region office's pages (区域效能办): /region (its own region), /region/{code} (the halls side
by side for a month or quarter), /region/{code}/halls/{hall} (one hall's statistics, read-only).
Server-rendered tables and a plain GET form: no script of their own."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from ..api import dates
from ..api.errors import ApiError
from ..auth.principal import Principal
from ..auth.roles import REGION_INSPECTOR
from ..halls.lookup import business_day
from ..halls.regions import LEVEL_LABELS, Region
from ..state import app_state
from ..stats.period import parse_period
from ..stats.service import BY_LABELS, BY_VALUES, hall_stats
from ..web.pages import N_, NAV_LINKS, NavLink, error_page, render, require_page_user
from .queries import halls_in, subtree, visible_hall, visible_region
from .routes import comparison, region_today

ROLES = (REGION_INSPECTOR,)
NAV_LINKS.append(NavLink("/region", N_("区域比较"), roles=ROLES))
#: Region levels as the pages show them, marked for the catalogue.
LEVEL_TEXTS = (N_("省"), N_("市"), N_("县"))


def period_choices(today: date, months: int = 12, quarters: int = 8) -> list[tuple[str, str]]:
    """The period picker: this month and the ones before, then this quarter and the ones
    before (code, kind)."""
    out = []
    year, month = today.year, today.month
    for _ in range(months):
        out.append((f"{year:04d}-{month:02d}", "month"))
        year, month = (year - 1, 12) if month == 1 else (year, month - 1)
    year, quarter = today.year, (today.month - 1) // 3 + 1
    for _ in range(quarters):
        out.append((f"{year:04d}-Q{quarter}", "quarter"))
        year, quarter = (year - 1, 4) if quarter == 1 else (year, quarter - 1)
    return out


async def _user(request: Request) -> Principal | Response:
    return await require_page_user(request, roles=ROLES)


async def _region(request: Request, user: Principal, session: Any) -> Region | Response:
    try:
        return await visible_region(session, user, request.path_params["code"])
    except ApiError as exc:
        if exc.status == 404:
            return await error_page(request, 404, N_("没有这个区域"))
        return await error_page(request, 403, N_("无权查看该区域"))


async def region_home(request: Request) -> Response:
    user = await _user(request)
    if isinstance(user, Response):
        return user
    async with app_state(request).db.read() as session:
        own = await session.get(Region, user.region_id) if user.region_id is not None else None
    if own is None:
        return await error_page(request, 404, N_("没有这个区域"))
    return RedirectResponse(f"/region/{own.code}", status_code=303)


async def region_page(request: Request) -> Response:
    user = await _user(request)
    if isinstance(user, Response):
        return user
    state = app_state(request)
    now = state.clock.now()
    asked = (request.query_params.get("period") or "").strip()[:16]
    error = ""
    async with state.db.read() as session:
        region = await _region(request, user, session)
        if isinstance(region, Response):
            return region
        halls = await halls_in(session, await subtree(session, region))
        today = region_today(halls, now)
        try:
            period = dates.parse_period(asked, today=today).code if asked else None
        except ApiError:
            error = N_("统计期间无效（不能早于大厅启用或晚于今天），已改为显示本月。")
            period = None
        data = await comparison(session, region, period, now)
    return await render(
        request,
        "regions/region.html",
        {
            "data": data,
            "region": region,
            "level_labels": LEVEL_LABELS,
            "choices": period_choices(today),
            "error": error,
            "period_query": urlencode({"period": data["period"]}),
        },
    )


async def region_hall_page(request: Request) -> Response:
    user = await _user(request)
    if isinstance(user, Response):
        return user
    state = app_state(request)
    now = state.clock.now()
    by = request.query_params.get("by") or "department"
    if by not in BY_VALUES:
        by = "department"
    asked = (request.query_params.get("period") or "").strip()[:16]
    error = ""
    async with state.db.read() as session:
        region = await _region(request, user, session)
        if isinstance(region, Response):
            return region
        try:
            hall = await visible_hall(session, user, region, request.path_params["hall"])
        except ApiError:
            return await error_page(request, 404, N_("该区域没有这个服务大厅"))
        today = business_day(hall, now)
        try:
            period = parse_period(asked or f"{today.year:04d}-{today.month:02d}", today=today)
        except ApiError:
            error = N_("统计期间无效（不能早于大厅启用或晚于今天），已改为显示本月。")
            period = parse_period(f"{today.year:04d}-{today.month:02d}", today=today)
        stats = await hall_stats(session, hall, period, by, now=now)
    return await render(
        request,
        "regions/region_hall.html",
        {
            "region": region,
            "hall": hall,
            "stats": stats.as_dict(),
            "period": period,
            "by": by,
            "by_labels": {k: v for k, v in BY_LABELS.items() if k != "hall"},
            "choices": period_choices(today),
            "error": error,
        },
    )


routes = [
    Route("/region", region_home, methods=["GET"]),
    Route("/region/{code}", region_page, methods=["GET"]),
    Route("/region/{code}/halls/{hall}", region_hall_page, methods=["GET"]),
]
